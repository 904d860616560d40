//! Shared cell formats and sheet helpers for every workbook the tool writes.

use chrono::NaiveDate;
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

/// Excel's limit for the text of one cell, in UTF-16 code units (what Excel counts).
pub const MAX_CELL_TEXT: usize = 32_767;
/// A note's limit: rust_xlsxwriter keeps 54 units for the author's name.
pub const MAX_NOTE_TEXT: usize = MAX_CELL_TEXT - 54;
/// Excel's highest row, in points.
pub const MAX_ROW_HEIGHT: f64 = 409.0;

/// `s` cut to at most `max_units` UTF-16 code units, ending in `…` when cut.
pub fn fit_text(s: &str, max_units: usize) -> std::borrow::Cow<'_, str> {
    // UTF-16 never needs more units than UTF-8 needs bytes.
    if s.len() <= max_units || s.encode_utf16().count() <= max_units {
        return s.into();
    }
    let mut units = 0;
    for (i, ch) in s.char_indices() {
        if units + ch.len_utf16() > max_units.saturating_sub(1) {
            return format!("{}…", &s[..i]).into();
        }
        units += ch.len_utf16();
    }
    s.into()
}

/// The one way every workbook this tool writes puts text into a cell: nothing longer than a
/// cell holds reaches rust_xlsxwriter, which would fail the whole run on it.
pub trait TextCells {
    fn write_text(&mut self, row: u32, col: u16, text: impl AsRef<str>) -> Result<&mut Worksheet, XlsxError>;
    fn write_text_with_format(
        &mut self,
        row: u32,
        col: u16,
        text: impl AsRef<str>,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError>;
    #[allow(clippy::too_many_arguments)]
    fn merge_text(
        &mut self,
        first_row: u32,
        first_col: u16,
        last_row: u32,
        last_col: u16,
        text: impl AsRef<str>,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError>;
}

impl TextCells for Worksheet {
    fn write_text(&mut self, row: u32, col: u16, text: impl AsRef<str>) -> Result<&mut Worksheet, XlsxError> {
        self.write_string(row, col, fit_text(text.as_ref(), MAX_CELL_TEXT))
    }
    fn write_text_with_format(
        &mut self,
        row: u32,
        col: u16,
        text: impl AsRef<str>,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.write_string_with_format(row, col, fit_text(text.as_ref(), MAX_CELL_TEXT), format)
    }
    fn merge_text(
        &mut self,
        first_row: u32,
        first_col: u16,
        last_row: u32,
        last_col: u16,
        text: impl AsRef<str>,
        format: &Format,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.merge_range(first_row, first_col, last_row, last_col, &fit_text(text.as_ref(), MAX_CELL_TEXT), format)
    }
}

/// A cell note's text, cut to what a note holds.
pub fn note_text(text: &str) -> String {
    fit_text(text, MAX_NOTE_TEXT).into_owned()
}

/// Swiss money format; Excel and LibreOffice show the locale's thousands separator.
pub const CHF: &str = "\"CHF\" #,##0.00;[Red]\"CHF\" -#,##0.00";

pub fn title() -> Format {
    Format::new().set_bold().set_font_size(14)
}
pub fn subtitle() -> Format {
    Format::new().set_italic().set_font_color("#555555")
}
pub fn header() -> Format {
    Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color("#D9E1F2")
        .set_border_bottom(FormatBorder::Thin)
}
pub fn chf() -> Format {
    Format::new().set_num_format(CHF)
}
pub fn chf_bold() -> Format {
    chf().set_bold().set_border_top(FormatBorder::Thin)
}
pub fn int() -> Format {
    Format::new().set_num_format("0")
}
pub fn count() -> Format {
    Format::new().set_num_format("#,##0")
}
pub fn count_bold() -> Format {
    count().set_bold().set_border_top(FormatBorder::Thin)
}
pub fn bold() -> Format {
    Format::new().set_bold()
}
pub fn bold_top() -> Format {
    Format::new().set_bold().set_border_top(FormatBorder::Thin)
}
pub fn date() -> Format {
    Format::new().set_num_format("dd.mm.yyyy").set_align(FormatAlign::Left)
}
pub fn wrap() -> Format {
    Format::new().set_text_wrap().set_align(FormatAlign::Top)
}
pub fn error_fill() -> Format {
    Format::new().set_background_color("#F8CBAD")
}
pub fn warn_fill() -> Format {
    Format::new().set_background_color("#FFE699")
}
pub fn note_fill() -> Format {
    Format::new().set_background_color("#DDEBF7")
}

/// The highlight of a cell with a finding of this severity.
pub fn severity_fill(s: crate::domain::Severity) -> Format {
    match s {
        crate::domain::Severity::Fehler => error_fill(),
        crate::domain::Severity::Warnung => warn_fill(),
        crate::domain::Severity::Hinweis => note_fill(),
    }
}

/// Background of the cells a municipality fills in (light yellow).
pub const INPUT_FILL: &str = "#FFF2CC";
/// Background of prefilled cells that cannot be changed (light grey).
pub const LOCKED_FILL: &str = "#EDEDED";

/// An input cell of a form: unlocked on a protected sheet, yellow, with a thin border.
pub fn input() -> Format {
    Format::new()
        .set_unlocked()
        .set_background_color(INPUT_FILL)
        .set_border(FormatBorder::Thin)
        .set_border_color("#BFBFBF")
        .set_align(FormatAlign::Left)
}
/// A prefilled, locked value cell of a form.
pub fn prefilled() -> Format {
    Format::new()
        .set_background_color(LOCKED_FILL)
        .set_border(FormatBorder::Thin)
        .set_border_color("#BFBFBF")
        .set_align(FormatAlign::Left)
}
/// A hint next to a form field.
pub fn hint() -> Format {
    Format::new().set_italic().set_font_color("#595959").set_text_wrap().set_align(FormatAlign::VerticalCenter)
}

/// The most bytes of a name in an output file name (file systems allow 255 per name; the
/// BFS-Nr., the form and the extension come on top).
pub const MAX_NAME_BYTES: usize = 80;

/// A file-system-safe name part: characters Windows forbids become `_`, and a long name is
/// cut at a character boundary to [`MAX_NAME_BYTES`] bytes (names stay unique by the BFS-Nr.
/// every output file name starts with).
pub fn safe_name(name: &str) -> String {
    let mut s = safe_chars(name);
    if s.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s = s.trim_end().to_string();
    }
    s
}

fn safe_chars(name: &str) -> String {
    name.trim()
        .chars()
        .map(
            |c| {
                if matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*') || c.is_control() {
                    '_'
                } else {
                    c
                }
            },
        )
        .collect()
}

/// Excel date from a calendar date.
pub fn xl_date(d: NaiveDate) -> ExcelDateTime {
    ExcelDateTime::from_ymd(d.year_u16(), d.month_u8(), d.day_u8())
        .unwrap_or_else(|_| ExcelDateTime::from_ymd(1900, 1, 1).expect("valid"))
}

trait Parts {
    fn year_u16(&self) -> u16;
    fn month_u8(&self) -> u8;
    fn day_u8(&self) -> u8;
}

impl Parts for NaiveDate {
    fn year_u16(&self) -> u16 {
        chrono::Datelike::year(self).clamp(1900, 9999) as u16
    }
    fn month_u8(&self) -> u8 {
        chrono::Datelike::month(self) as u8
    }
    fn day_u8(&self) -> u8 {
        chrono::Datelike::day(self) as u8
    }
}

/// A new workbook with fixed document properties, so equal inputs give equal files.
pub fn workbook(title: &str, run_date: NaiveDate) -> Workbook {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(run_date.year_u16(), run_date.month_u8(), run_date.day_u8())
        .unwrap_or_else(|_| ExcelDateTime::from_ymd(2000, 1, 1).expect("valid"));
    let props = DocProperties::new()
        .set_title(title)
        .set_author("Amt für Gesellschaft und Soziales (AGS), Kanton Solothurn")
        .set_company("Kanton Solothurn")
        .set_creation_datetime(&created);
    wb.set_properties(&props);
    wb
}

/// Writes a header row.
pub fn header_row(ws: &mut Worksheet, row: u32, labels: &[&str]) -> Result<(), XlsxError> {
    let h = header();
    for (c, l) in labels.iter().enumerate() {
        ws.write_text_with_format(row, c as u16, l, &h)?;
    }
    Ok(())
}

/// Page orientation of a printed sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Portrait,
    Landscape,
}

/// Page margins left and right, in inches (about 10 mm).
pub const MARGIN_SIDE_IN: f64 = 0.4;
/// Printable width of A4 within the side margins, in mm.
pub fn printable_mm(o: Orientation) -> f64 {
    let paper = match o {
        Orientation::Portrait => 210.0,
        Orientation::Landscape => 297.0,
    };
    paper - 2.0 * MARGIN_SIDE_IN * 25.4
}

/// The printed width of a column of width `w` (in characters of the default font, Calibri
/// 11 pt) at 100 %, in mm. Excel draws 7 pixels per character plus 5 pixels of padding at
/// 96 dpi (1.85 mm per character); LibreOffice prints the same column about 6 % wider
/// (measured with Carlito, Calibri's metric twin). The wider of the two counts.
pub fn column_mm(w: f64) -> f64 {
    w * 2.0 + 1.3
}

/// The smallest print scale the tool allows: body text (11 pt) stays at 8.8 pt or more.
pub const MIN_PRINT_SCALE: f64 = 0.8;

/// How many pages wide a sheet of these column widths is printed: the fewest that keep the
/// print scale at [`MIN_PRINT_SCALE`] or more (0: it fits one page at 100 %).
pub fn pages_wide(widths: &[f64], o: Orientation) -> u16 {
    pages_wide_repeating(widths, o, 0)
}

/// Portrait when the columns fit a portrait page at 100 %, else landscape.
pub fn orientation_for(widths: &[f64]) -> Orientation {
    if pages_wide(widths, Orientation::Portrait) == 0 {
        Orientation::Portrait
    } else {
        Orientation::Landscape
    }
}

/// [`pages_wide`] when the first `repeat_cols` columns are printed again on every page.
pub fn pages_wide_repeating(widths: &[f64], o: Orientation, repeat_cols: u16) -> u16 {
    let total: f64 = widths.iter().map(|w| column_mm(*w)).sum();
    let rep: f64 = widths.iter().take(repeat_cols as usize).map(|w| column_mm(*w)).sum();
    let page = printable_mm(o);
    if total <= page {
        return 0;
    }
    (1..=64u16)
        .find(|n| {
            let printed = total + f64::from(n - 1) * rep;
            f64::from(*n) * page / printed >= MIN_PRINT_SCALE
        })
        .unwrap_or(64)
}

/// The footer of every printed page: file name, date and page numbers. `date` is the run
/// date printed as the document's date; without it the print date (`&D`).
pub fn footer(date: Option<NaiveDate>) -> String {
    let when = match date {
        Some(d) => format!("Stand {}", crate::domain::fmt_date(d)),
        None => "&D".to_string(),
    };
    format!("&L&8&F&C&8Kanton Solothurn, AGS, {when}&R&8Seite &P von &N")
}

/// Print setup of a sheet: A4 in the given orientation, narrow side margins, the header
/// row(s) repeated on every page, a footer with file name, date and page numbers, and a
/// print scale that keeps the text readable: fit to the fewest pages wide that keep the
/// scale at [`MIN_PRINT_SCALE`] or more (with the first `repeat_cols` columns repeated on
/// every page when that is more than one), or 100 % when the sheet fits one page.
pub fn print_layout(
    ws: &mut Worksheet,
    repeat_rows: Option<(u32, u32)>,
    widths: &[f64],
    o: Orientation,
    repeat_cols: u16,
    date: Option<NaiveDate>,
) -> Result<(), XlsxError> {
    match o {
        Orientation::Portrait => ws.set_portrait(),
        Orientation::Landscape => ws.set_landscape(),
    };
    ws.set_paper_size(9);
    ws.set_margins(MARGIN_SIDE_IN, MARGIN_SIDE_IN, 0.6, 0.7, 0.3, 0.3);
    if let Some((first, last)) = repeat_rows {
        ws.set_repeat_rows(first, last)?;
    }
    let n = pages_wide_repeating(widths, o, repeat_cols);
    if n > 0 {
        ws.set_print_fit_to_pages(n, 0);
        if n > 1 && repeat_cols > 0 {
            ws.set_repeat_columns(0, repeat_cols - 1)?;
        }
    }
    ws.set_footer(footer(date));
    Ok(())
}

/// A row height within Excel's limit.
pub fn row_height(points: f64) -> f64 {
    points.min(MAX_ROW_HEIGHT)
}

/// The height of one line of 11 pt text, in points (with the line spacing LibreOffice uses).
pub const LINE_PT: f64 = 15.0;

/// Characters of proportional 11 pt text per unit of column width (a unit is the width of
/// a digit; text averages a little narrower).
const CHARS_PER_UNIT: f64 = 1.15;

/// Lines a text needs in a wrapped cell of the given column width: words are wrapped
/// whole, a word longer than a line is broken (as Excel and LibreOffice do).
pub fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = ((width * CHARS_PER_UNIT).floor() as usize).max(1);
    let mut lines = 0usize;
    for para in text.split('\n') {
        let mut used = 0usize;
        let mut n = 1usize;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let len = word.chars().count();
            let need = if used == 0 { len } else { used + 1 + len };
            if need <= per_line {
                used = need;
            } else if used == 0 {
                // A word longer than the line: broken over several lines.
                n += (len - 1) / per_line;
                used = len - (len - 1) / per_line * per_line;
            } else {
                n += 1 + (len.saturating_sub(1)) / per_line;
                used = len - (len.saturating_sub(1)) / per_line * per_line;
            }
        }
        lines = lines.saturating_add(n);
    }
    lines.max(1)
}

/// Sets a row's height so that its wrapped texts show whole: spreadsheet apps do not
/// auto-fit the rows of a generated file. `cells` are (text, column width) pairs.
pub fn fit_row(ws: &mut Worksheet, row: u32, cells: &[(&str, f64)]) -> Result<(), XlsxError> {
    let lines = cells.iter().map(|(t, w)| wrapped_lines(t, *w)).max().unwrap_or(1);
    if lines > 1 {
        ws.set_row_height(row, row_height(LINE_PT * lines as f64 + 2.0))?;
    }
    Ok(())
}

/// Bold text is wider: a header's line holds the characters of this share of its width.
const BOLD_NARROWING: f64 = 0.92;

/// Writes a header row from column `first_col` on and sets its height so that every label
/// shows whole.
pub fn header_row_fit_at(
    ws: &mut Worksheet,
    row: u32,
    first_col: u16,
    labels: &[&str],
    widths: &[f64],
) -> Result<(), XlsxError> {
    let h = header();
    for (c, l) in labels.iter().enumerate() {
        ws.write_text_with_format(row, first_col + c as u16, l, &h)?;
    }
    let cells: Vec<(&str, f64)> = labels.iter().zip(widths).map(|(l, w)| (*l, *w * BOLD_NARROWING)).collect();
    fit_row(ws, row, &cells)
}

/// Writes a header row and sets its height so that every label shows whole (bold text is
/// wider: a tenth of the width is kept free).
pub fn header_row_fit(ws: &mut Worksheet, row: u32, labels: &[&str], widths: &[f64]) -> Result<(), XlsxError> {
    header_row(ws, row, labels)?;
    let cells: Vec<(&str, f64)> = labels.iter().zip(widths).map(|(l, w)| (*l, *w * BOLD_NARROWING)).collect();
    fit_row(ws, row, &cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fits_a_cell() {
        let s = "x".repeat(MAX_CELL_TEXT);
        assert_eq!(fit_text(&s, MAX_CELL_TEXT).len(), MAX_CELL_TEXT, "at the limit: unchanged");
        let s = "x".repeat(MAX_CELL_TEXT + 1);
        let f = fit_text(&s, MAX_CELL_TEXT);
        assert_eq!(f.encode_utf16().count(), MAX_CELL_TEXT);
        assert!(f.ends_with('…'));
        // Characters outside the BMP take two UTF-16 units, as Excel counts them.
        let s = "😀".repeat(20_000);
        let f = fit_text(&s, MAX_CELL_TEXT);
        assert!(f.encode_utf16().count() <= MAX_CELL_TEXT && f.ends_with('…'));
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_text(0, 0, &s).unwrap();
        ws.merge_text(1, 0, 1, 3, &s, &Format::new()).unwrap();
        assert!(ws.write_string(2, 0, &s).is_err(), "rust_xlsxwriter refuses it unguarded");
    }

    #[test]
    fn long_names_make_short_file_names() {
        assert_eq!(safe_name(" Büren (SO) "), "Büren (SO)");
        assert_eq!(safe_name("a/b:c"), "a_b_c");
        let long = "Ä".repeat(300);
        let s = safe_name(&long);
        assert!(s.len() <= MAX_NAME_BYTES && s.len() >= MAX_NAME_BYTES - 1, "{}", s.len());
        assert!(long.starts_with(&s));
    }

    #[test]
    fn wrapped_line_estimate() {
        assert_eq!(wrapped_lines("", 10.0), 1);
        assert_eq!(wrapped_lines("kurz", 10.0), 1);
        // 11 characters fit a column of width 10.
        assert_eq!(wrapped_lines(&"x".repeat(22), 10.0), 2);
        assert_eq!(wrapped_lines(&"x".repeat(23), 10.0), 3);
        assert_eq!(wrapped_lines("a\nb\nc", 40.0), 3);
        // Words wrap whole: two words of 8 in a line of 11 take two lines.
        assert_eq!(wrapped_lines("abcdefgh abcdefgh", 10.0), 2);
        assert_eq!(wrapped_lines("abcde abcd", 10.0), 1);
    }

    #[test]
    fn print_scale_stays_readable() {
        // 277 mm of landscape A4 hold about 137 characters of column width at 100 %.
        assert_eq!(pages_wide(&[135.0], Orientation::Landscape), 0);
        assert_eq!(pages_wide(&[140.0], Orientation::Landscape), 1);
        let wide = [320.0];
        let n = pages_wide(&wide, Orientation::Landscape);
        let scale = n as f64 * printable_mm(Orientation::Landscape) / column_mm(320.0);
        assert!(scale >= MIN_PRINT_SCALE, "{n} pages at {scale}");
        let fewer = (n - 1) as f64 * printable_mm(Orientation::Landscape) / column_mm(320.0);
        assert!(fewer < MIN_PRINT_SCALE, "{n} is the fewest");
    }

    #[test]
    fn portrait_only_where_the_columns_fit_it() {
        // 189.7 mm of portrait A4 hold 93 characters of column width at 100 %, not 94.
        assert_eq!(orientation_for(&[93.0]), Orientation::Portrait);
        assert_eq!(orientation_for(&[90.0, 4.0]), Orientation::Landscape);
    }
}
