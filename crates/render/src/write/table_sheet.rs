//! A sheet that holds tables below a title and a subtitle, as the payout run's workbook,
//! the statement of `beitraege konto` and the annex's `Buchhaltung` sheet lay them out: the
//! first table's header on row 4, a `Total` row under each, and the print setup of every
//! other output.

use super::columns::{Rule, Table, TotalRow};
use super::style::{self, orientation_for, print_layout, TextCells};
use chrono::NaiveDate;
use rust_xlsxwriter::{Worksheet, XlsxError};

/// The total row of every such table: `Total` under the first column.
pub const TOTAL: TotalRow<'static> = TotalRow { label_col: 0, label: "Total", rule: Rule::Short };

/// The row of the header in every sheet (below the title and the subtitle).
pub const HEADER: u32 = 3;

/// Writes a table's header at [`HEADER`] and its rows below; returns the row after the last.
pub fn table_rows<'r, R: 'r>(
    ws: &mut Worksheet,
    table: &Table<'_, R>,
    rows: impl IntoIterator<Item = &'r R>,
) -> Result<u32, XlsxError> {
    table.header(ws, HEADER)?;
    table.rows(ws, HEADER + 1, rows)
}

/// Sets the column widths and the print setup of a sheet as for every other output: A4,
/// landscape where the columns do not fit a portrait page, the header row repeated on every
/// page, a readable print scale (with the first `repeat_cols` columns repeated when the
/// sheet prints more than one page wide) and a footer with the date and page numbers.
pub fn finish<R>(ws: &mut Worksheet, table: &Table<'_, R>, repeat_cols: u16, date: NaiveDate) -> Result<(), XlsxError> {
    table.set_widths(ws)?;
    let widths = table.widths();
    print_layout(ws, Some((HEADER, HEADER)), &widths, orientation_for(&widths), repeat_cols, Some(date))
}

/// A line below the title (row 1 or 2): merged across the table's columns and wrapped, its
/// row tall enough, so that a long subtitle prints within the page instead of running off
/// its right edge.
pub fn subtitle(ws: &mut Worksheet, row: u32, text: impl AsRef<str>, widths: &[f64]) -> Result<(), XlsxError> {
    let text = text.as_ref();
    let fmt = style::subtitle().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top);
    let last = widths.len().saturating_sub(1) as u16;
    if last == 0 {
        ws.write_text_with_format(row, 0, text, &fmt)?;
    } else {
        ws.merge_text(row, 0, row, last, text, &fmt)?;
    }
    style::fit_row(ws, row, &[(text, widths.iter().sum())])
}
