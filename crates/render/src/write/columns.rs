//! Typed column specs for the tables of the output sheets.
//!
//! A table is a list of [`Column`]s: each names its header label, its width, its kind (how
//! its cells are formatted), how its cell is taken from a row, and whether a total row sums
//! it. [`Table`] writes the header, the rows, the total row and the column widths from that
//! one list, so a column's label, width, format, value and total cannot drift apart (as
//! parallel arrays of labels, widths and column numbers could).

use super::style::{self, TextCells};
use crate::domain::{a1, Chf, Severity};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, Formula, Worksheet, XlsxError};

/// How a column's cells are formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text on one line, unformatted.
    Text,
    /// Text wrapped within the column; the row is made tall enough for it.
    Wrap,
    /// A whole number without thousands separator (BFS-Nr., year, number).
    Id,
    /// A count with thousands separator.
    Count,
    /// An amount in Swiss francs.
    Chf,
    Date,
}

/// What one cell of a row holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Nothing is written.
    None,
    /// Text: wrapped in a [`Kind::Wrap`] column, unformatted in any other (e.g. an empty or
    /// explaining text in a number column).
    Text(String),
    /// Text in a format of its own (e.g. a severity's fill).
    Styled(String, Format),
    /// A number in an [`Kind::Id`] column.
    Num(f64),
    /// A count in a [`Kind::Count`] column.
    Count(u64),
    /// An amount in a [`Kind::Chf`] column.
    Chf(Chf),
    /// A date in a [`Kind::Date`] column.
    Date(NaiveDate),
    /// A formula over cells of the same row, named by their columns' labels: the sum of
    /// `add` less the sum of `sub`, stored with its result (what compute decided).
    Calc { add: &'static [&'static str], sub: &'static [&'static str], result: Chf },
}

impl Val {
    pub fn num(n: impl Into<f64>) -> Val {
        Val::Num(n.into())
    }
    pub fn text(s: impl Into<String>) -> Val {
        Val::Text(s.into())
    }
    /// A severity's label on its fill.
    pub fn severity(s: Severity) -> Val {
        Val::Styled(s.label().to_string(), style::severity_fill(s))
    }
    /// Text, empty for `None`.
    pub fn opt_text(s: Option<&str>) -> Val {
        Val::Text(s.unwrap_or("").to_string())
    }
    /// The amount a total row adds up: an amount or a formula's result.
    fn amount(&self) -> Option<Chf> {
        match self {
            Val::Chf(d) | Val::Calc { result: d, .. } => Some(*d),
            _ => None,
        }
    }
    /// The text a wrapped cell shows.
    fn shown_text(&self) -> Option<&str> {
        match self {
            Val::Text(t) | Val::Styled(t, _) => Some(t),
            _ => None,
        }
    }
}

/// One column of a table: label, width, kind, how to get its cell from a row, and whether
/// a total row sums it.
pub struct Column<R> {
    pub label: &'static str,
    /// Width in characters of the default font.
    pub width: f64,
    pub kind: Kind,
    pub value: fn(&R) -> Val,
    /// Summed in the total row (amounts and counts).
    pub summed: bool,
}

impl<R> Column<R> {
    /// A column that is not summed.
    /// A column that is not summed. It is made at least as wide as its header's longest
    /// word ([`header_width`]): a header never breaks inside a word.
    pub const fn new(label: &'static str, width: f64, kind: Kind, value: fn(&R) -> Val) -> Self {
        Column { label, width: fit_header(label, width), kind, value, summed: false }
    }
    /// A column that the total row sums.
    pub const fn summed(label: &'static str, width: f64, kind: Kind, value: fn(&R) -> Val) -> Self {
        Column { label, width: fit_header(label, width), kind, value, summed: true }
    }
}

/// The width a header label needs so that its longest word shows on one line: a line
/// breaks at spaces and after `-` and `/`, never inside a word (as Excel and LibreOffice
/// wrap); one unit per character of bold 11 pt text (bold mixed case averages a little
/// under a digit's width) and one unit of cell padding.
pub const fn header_width(label: &str) -> f64 {
    let b = label.as_bytes();
    let (mut longest, mut run, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\n' {
            run = 0;
        } else if c & 0xC0 != 0x80 {
            // A character's first byte (UTF-8 continuation bytes are not counted).
            run += 1;
        }
        if run > longest {
            longest = run;
        }
        if c == b'-' || c == b'/' {
            run = 0;
        }
        i += 1;
    }
    longest as f64 + 1.0
}

const fn fit_header(label: &str, width: f64) -> f64 {
    let need = header_width(label);
    if need > width {
        need
    } else {
        width
    }
}

/// The labels of a table's columns, in order (for a `const` list of the header).
pub const fn labels<R, const N: usize>(columns: &[Column<R>; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = columns[i].label;
        i += 1;
    }
    out
}

/// The widths of a table's columns, in order (for a `const` list).
pub const fn widths<R, const N: usize>(columns: &[Column<R>; N]) -> [f64; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        out[i] = columns[i].width;
        i += 1;
    }
    out
}

/// The column letters of column `c` (zero-based): `A`, `B`, …, `AA`.
pub fn letter(c: u16) -> String {
    a1(0, c as u32).trim_end_matches('1').to_string()
}

/// A row with the name of its municipality or payee, for the tables that show both.
pub struct Named<'a, T> {
    pub row: &'a T,
    pub name: String,
}

impl<'a, T> Named<'a, T> {
    /// Each row with the name `name_of` gives it.
    pub fn all(rows: &'a [T], name_of: impl Fn(&T) -> String) -> Vec<Named<'a, T>> {
        rows.iter().map(|row| Named { row, name: name_of(row) }).collect()
    }
}

/// How far a total row's top rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Only under the label and the sums.
    Short,
    /// Across the whole row: every other column is a blank cell with the top border.
    Across,
}

/// How a table's total row looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotalRow<'a> {
    /// The column that holds the label.
    pub label_col: u16,
    pub label: &'a str,
    pub rule: Rule,
}

/// A table of rows of type `R`, laid out by its columns.
pub struct Table<'c, R> {
    pub columns: &'c [Column<R>],
    /// Every cell aligned to the top (tables whose wrapped text makes rows taller, so that
    /// a row's cells read as one line).
    pub top: bool,
}

impl<'c, R> Table<'c, R> {
    pub fn new(columns: &'c [Column<R>]) -> Self {
        Table { columns, top: false }
    }
    /// A table whose cells align to the top.
    pub fn top(columns: &'c [Column<R>]) -> Self {
        Table { columns, top: true }
    }

    pub fn labels(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.label).collect()
    }
    pub fn widths(&self) -> Vec<f64> {
        self.columns.iter().map(|c| c.width).collect()
    }
    /// The zero-based index of the column with this label.
    pub fn index(&self, label: &str) -> Option<u16> {
        self.columns.iter().position(|c| c.label == label).map(|i| i as u16)
    }
    /// The sum of the column's widths from `from` up to, not including, `to`.
    pub fn width_of(&self, from: usize, to: usize) -> f64 {
        self.columns.iter().take(to).skip(from).map(|c| c.width).sum()
    }

    /// Writes the header row, tall enough for every label.
    pub fn header(&self, ws: &mut Worksheet, row: u32) -> Result<(), XlsxError> {
        style::header_row_fit(ws, row, &self.labels(), &self.widths())
    }

    /// Sets the column widths.
    pub fn set_widths(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (c, col) in self.columns.iter().enumerate() {
            ws.set_column_width(c as u16, col.width)?;
        }
        Ok(())
    }

    fn aligned(&self, f: Format) -> Format {
        if self.top {
            f.set_align(FormatAlign::Top)
        } else {
            f
        }
    }

    fn format(&self, kind: Kind) -> Option<Format> {
        match kind {
            Kind::Text => None,
            Kind::Wrap => Some(style::wrap()),
            Kind::Id => Some(self.aligned(style::int())),
            Kind::Count => Some(self.aligned(style::count())),
            Kind::Chf => Some(self.aligned(style::chf())),
            Kind::Date => Some(self.aligned(style::date())),
        }
    }

    /// A formula's cell references in row `r`: `E5+F5-G5`.
    fn calc(&self, r: u32, add: &[&str], sub: &[&str]) -> Result<String, XlsxError> {
        let cell = |label: &&str| {
            self.index(label).map(|c| format!("{}{}", letter(c), r + 1)).ok_or_else(|| {
                XlsxError::ParameterError(format!("formula names a column «{label}» the table does not have"))
            })
        };
        let mut s = String::from("=");
        for (i, l) in add.iter().enumerate() {
            if i > 0 {
                s.push('+');
            }
            s.push_str(&cell(l)?);
        }
        for l in sub {
            s.push('-');
            s.push_str(&cell(l)?);
        }
        Ok(s)
    }

    /// Writes one row at `r` and makes it tall enough for its wrapped text.
    pub fn row(&self, ws: &mut Worksheet, r: u32, row: &R) -> Result<(), XlsxError> {
        let mut wrapped: Vec<(String, f64)> = Vec::new();
        for (c, col) in self.columns.iter().enumerate() {
            let c16 = c as u16;
            let v = (col.value)(row);
            if col.kind == Kind::Wrap {
                if let Some(t) = v.shown_text() {
                    wrapped.push((t.to_string(), col.width));
                }
            }
            let fmt = self.format(col.kind);
            match v {
                Val::None => {}
                Val::Text(t) => match (col.kind, &fmt) {
                    (Kind::Wrap, Some(f)) => {
                        ws.write_text_with_format(r, c16, t, f)?;
                    }
                    // Plain text in a top-aligned table sits at the top like its neighbours.
                    _ if self.top => {
                        ws.write_text_with_format(r, c16, t, &self.aligned(Format::new()))?;
                    }
                    _ => {
                        ws.write_text(r, c16, t)?;
                    }
                },
                Val::Styled(t, f) => {
                    ws.write_text_with_format(r, c16, t, &self.aligned(f))?;
                }
                Val::Num(n) => write_number(ws, r, c16, n, fmt.as_ref())?,
                Val::Count(n) => write_number(ws, r, c16, n as f64, fmt.as_ref())?,
                Val::Chf(d) => match &fmt {
                    Some(f) => {
                        ws.write_with_format(r, c16, d.decimal(), f)?;
                    }
                    None => {
                        ws.write(r, c16, d.decimal())?;
                    }
                },
                Val::Date(d) => match &fmt {
                    Some(f) => {
                        ws.write_datetime_with_format(r, c16, style::xl_date(d), f)?;
                    }
                    None => {
                        ws.write_datetime(r, c16, style::xl_date(d))?;
                    }
                },
                Val::Calc { add, sub, result } => {
                    let f = Formula::new(self.calc(r, add, sub)?).set_result(result.to_string());
                    match &fmt {
                        Some(x) => ws.write_formula_with_format(r, c16, f, x)?,
                        None => ws.write_formula(r, c16, f)?,
                    };
                }
            }
        }
        let cells: Vec<(&str, f64)> = wrapped.iter().map(|(t, w)| (t.as_str(), *w)).collect();
        style::fit_row(ws, r, &cells)
    }

    /// Writes the rows from row `first` on; returns the row after the last.
    pub fn rows<'r>(
        &self,
        ws: &mut Worksheet,
        first: u32,
        rows: impl IntoIterator<Item = &'r R>,
    ) -> Result<u32, XlsxError>
    where
        R: 'r,
    {
        let mut r = first;
        for row in rows {
            self.row(ws, r, row)?;
            r += 1;
        }
        Ok(r)
    }

    /// Writes the total row at `r` for the data rows from `first` up to `r` (zero-based):
    /// each summed column as `=SUM()` with its result stored (`=0` without rows). A sum
    /// that leaves the range of its type is stored without a result, for the spreadsheet
    /// to work out.
    pub fn total<'r>(
        &self,
        ws: &mut Worksheet,
        r: u32,
        first: u32,
        rows: impl IntoIterator<Item = &'r R> + Clone,
        t: TotalRow<'_>,
    ) -> Result<(), XlsxError>
    where
        R: 'r,
    {
        let bt = style::bold_top();
        for (c, col) in self.columns.iter().enumerate() {
            let c16 = c as u16;
            if c16 == t.label_col {
                ws.write_text_with_format(r, c16, t.label, &bt)?;
                continue;
            }
            if !col.summed {
                match t.rule {
                    Rule::Short => {}
                    Rule::Across => {
                        ws.write_blank(r, c16, &bt)?;
                    }
                }
                continue;
            }
            let (result, fmt) = match col.kind {
                Kind::Count => {
                    let sum = rows.clone().into_iter().try_fold(0u64, |a, row| match (col.value)(row) {
                        Val::Count(n) => a.checked_add(n),
                        _ => Some(a),
                    });
                    (sum.map(|s| s.to_string()), style::count_bold())
                }
                _ => {
                    let sum =
                        rows.clone().into_iter().try_fold(crate::domain::Chf::ZERO, |a, row| {
                            match (col.value)(row).amount() {
                                Some(d) => a.checked_add(d),
                                None => Some(a),
                            }
                        });
                    (sum.map(|s| s.to_string()), style::chf_bold())
                }
            };
            let f = if r > first {
                let l = letter(c16);
                let f = Formula::new(format!("=SUM({l}{}:{l}{})", first + 1, r));
                match result {
                    Some(x) => f.set_result(x),
                    None => f,
                }
            } else {
                Formula::new("=0").set_result("0")
            };
            ws.write_formula_with_format(r, c16, f, &fmt)?;
        }
        Ok(())
    }
}

fn write_number(ws: &mut Worksheet, r: u32, c: u16, n: f64, fmt: Option<&Format>) -> Result<(), XlsxError> {
    match fmt {
        Some(f) => ws.write_number_with_format(r, c, n, f)?,
        None => ws.write_number(r, c, n)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    struct R {
        n: u64,
        a: Chf,
        b: Chf,
    }

    const COLS: [Column<R>; 4] = [
        Column::new("Name", 10.0, Kind::Wrap, |_| Val::text("x")),
        Column::summed("Anzahl", 8.0, Kind::Count, |r| Val::Count(r.n)),
        Column::summed("A", 8.0, Kind::Chf, |r| Val::Chf(r.a)),
        Column::summed("A-B", 8.0, Kind::Chf, |r| Val::Calc {
            add: &["A"],
            sub: &["B"],
            result: r.a.saturating_sub(r.b),
        }),
    ];

    #[test]
    fn labels_and_widths_come_from_one_list() {
        assert_eq!(labels(&COLS), ["Name", "Anzahl", "A", "A-B"]);
        assert_eq!(widths(&COLS), [10.0, 8.0, 8.0, 8.0]);
        let t = Table::new(&COLS);
        assert_eq!(t.widths(), [10.0, 8.0, 8.0, 8.0]);
        assert_eq!(t.index("A"), Some(2));
        assert_eq!(t.width_of(1, 3), 16.0);
        assert_eq!(letter(0), "A");
        assert_eq!(letter(27), "AB");
    }

    #[test]
    fn a_formula_names_its_cells_and_an_unknown_column_is_an_error() {
        let t = Table::new(&COLS);
        assert_eq!(t.calc(4, &["A", "Anzahl"], &["A-B"]).unwrap(), "=C5+B5-D5");
        assert!(t.calc(4, &["B"], &[]).is_err(), "column B is not in the table");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let row = R { n: 2, a: Chf::new(Decimal::new(150, 2)), b: Chf::from_int(1) };
        assert!(t.row(ws, 1, &row).is_err(), "the formula names column B");
    }

    const SUMMED: [Column<R>; 5] = [
        Column::new("Name", 10.0, Kind::Wrap, |_| Val::text("ein Name, der umbricht")),
        Column::summed("Anzahl", 8.0, Kind::Count, |r| Val::Count(r.n)),
        Column::summed("A", 8.0, Kind::Chf, |r| Val::Chf(r.a)),
        Column::summed("B", 8.0, Kind::Chf, |r| Val::Chf(r.b)),
        Column::summed("A-B", 8.0, Kind::Chf, |r| Val::Calc {
            add: &["A"],
            sub: &["B"],
            result: r.a.saturating_sub(r.b),
        }),
    ];

    /// The sheet XML of a workbook with one sheet.
    fn sheet_xml(wb: &mut rust_xlsxwriter::Workbook) -> String {
        use std::io::Read;
        let bytes = wb.save_to_buffer().unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        z.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn rows_and_the_total_row_carry_formulas_with_their_results() {
        let rows = [
            R { n: 2, a: Chf::new(Decimal::new(150, 2)), b: Chf::from_int(1) },
            R { n: 3, a: Chf::new(Decimal::new(1000, 2)), b: Chf::new(Decimal::new(25, 1)) },
        ];
        let t = Table::new(&SUMMED);
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        t.header(ws, 0).unwrap();
        assert_eq!(t.rows(ws, 1, &rows).unwrap(), 3);
        t.total(ws, 3, 1, &rows, TotalRow { label_col: 0, label: "Total", rule: Rule::Short }).unwrap();
        let xml = sheet_xml(&mut wb);
        // Row formulas by label: A − B, with compute's result stored.
        assert!(xml.contains("<c r=\"E2\" s=\"4\"><f>C2-D2</f><v>0.50</v></c>"), "{xml}");
        assert!(xml.contains("<f>C3-D3</f><v>7.50</v>"), "{xml}");
        // Totals: counts and amounts summed over the rows, results from the rows' values.
        assert!(xml.contains("<f>SUM(B2:B3)</f><v>5</v>"), "{xml}");
        assert!(xml.contains("<f>SUM(C2:C3)</f><v>11.50</v>"), "{xml}");
        assert!(xml.contains("<f>SUM(D2:D3)</f><v>3.5</v>"), "{xml}");
        assert!(xml.contains("<f>SUM(E2:E3)</f><v>8.00</v>"), "{xml}");
        // The wrapped name (three lines in a column of 10) makes its rows taller.
        assert!(xml.contains("<row r=\"2\" spans=\"1:5\" ht=\"47.25\" customHeight=\"1\">"), "{xml}");
    }

    #[test]
    fn a_total_without_rows_is_zero_and_a_rule_across_fills_the_row() {
        let t = Table::new(&SUMMED);
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        t.total(ws, 1, 1, &[], TotalRow { label_col: 1, label: "Total", rule: Rule::Across }).unwrap();
        let xml = sheet_xml(&mut wb);
        // Column A holds the rule (a blank cell), column B the label instead of its sum.
        assert_eq!(xml.matches("<f>0</f><v>0</v>").count(), 3, "{xml}");
        assert!(!xml.contains("SUM("), "{xml}");
        assert!(xml.contains("<c r=\"A2\" s=\"1\"/><c r=\"B2\" s=\"1\" t=\"s\">"), "{xml}");
    }

    #[test]
    fn a_count_sum_that_overflows_is_stored_without_a_result() {
        let rows = [R { n: u64::MAX, a: Chf::ZERO, b: Chf::ZERO }, R { n: 1, a: Chf::ZERO, b: Chf::ZERO }];
        let t = Table::new(&SUMMED[..2]);
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        t.total(ws, 3, 1, &rows, TotalRow { label_col: 0, label: "Total", rule: Rule::Short }).unwrap();
        let xml = sheet_xml(&mut wb);
        assert!(xml.contains("<f>SUM(B2:B3)</f><v>0</v>") || xml.contains("<f>SUM(B2:B3)</f></c>"), "{xml}");
        assert!(!xml.contains(&u64::MAX.to_string()), "{xml}");
    }
}
