//! The layout of the form sheets in version 2022 (FORMS.md): a Reportingformular or
//! Selbstdeklaration sheet ([`FormSheet`]) and a `Vertragsgemeinden` sheet ([`TableSheet`]),
//! with their cell kinds, data validations, highlights and column widths.
//!
//! One layout for two users: `beitraege formulare` writes the blank templates with it
//! (the `formulare` module), and the feedback workbooks rebuild a returned form in it
//! ([`super::feedback`]). The labels, rows, sheet names and defined names come from
//! [`crate::extract`], the one source of truth the reader uses too.

use super::style::{self, TextCells};
use crate::domain::{FormKind, Severity};
use crate::extract::{fields_of, REPORTING_HEADINGS, REPORTING_TITLE, SD_TITLE};
use crate::fields::{Common, FormField, TableColumn};
use crate::workbook::Value;
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, ExcelDateTime, Format, FormatAlign, Formula, Note, Worksheet, XlsxError,
};
use std::collections::{BTreeMap, BTreeSet};

/// How a field's value cell is typed and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// A whole number ≥ 0.
    Count,
    Date,
    /// `Ja` or `Nein`.
    JaNein,
    /// Free text (names, e-mail, remarks).
    Text,
}

/// The kind of a field's value cell.
pub fn cell_kind(field: FormField) -> CellKind {
    if field.count().is_some() {
        CellKind::Count
    } else if field.common() == Some(Common::Datum) {
        CellKind::Date
    } else if field.is_question() {
        CellKind::JaNein
    } else {
        CellKind::Text
    }
}

/// A highlighted cell with a note (used by the feedback workbooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub severity: Severity,
    pub note: String,
}

/// The content of one form sheet in the layout of version 2022.
#[derive(Debug, Clone)]
pub struct FormSheet {
    pub kind: FormKind,
    pub sheet_name: String,
    /// Values by field (missing: blank).
    pub values: BTreeMap<FormField, Value>,
    /// Fields whose value cell stays locked (prefilled identity).
    pub locked: BTreeSet<FormField>,
    /// Highlighted value cells with a note.
    pub marks: BTreeMap<FormField, Mark>,
    /// Column C next to a field: a hint, or where the value sat in a returned file.
    pub side: BTreeMap<FormField, String>,
    /// A text in C1, next to the title.
    pub intro: Option<String>,
    /// Lines below the form (from row 28), e.g. findings without a cell.
    pub below: Vec<(Option<Severity>, String)>,
}

impl FormSheet {
    pub fn new(kind: FormKind, sheet_name: impl Into<String>) -> Self {
        FormSheet {
            kind,
            sheet_name: sheet_name.into(),
            values: BTreeMap::new(),
            locked: BTreeSet::new(),
            marks: BTreeMap::new(),
            side: BTreeMap::new(),
            intro: None,
            below: Vec::new(),
        }
    }
}

fn title_of(kind: FormKind) -> &'static str {
    match kind {
        FormKind::Reporting => REPORTING_TITLE,
        FormKind::Selbstdeklaration => SD_TITLE,
    }
}

/// Data validation for a value cell of this kind, with German messages.
pub fn validation(kind: CellKind) -> Result<Option<DataValidation>, XlsxError> {
    Ok(Some(match kind {
        CellKind::Count => DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
            .set_input_title("Anzahl")?
            .set_input_message("Bitte eine ganze Zahl ab 0 eingeben (0, wenn keine).")?
            .set_error_title("Ungültige Anzahl")?
            .set_error_message(
                "Erlaubt sind nur ganze Zahlen ab 0: ohne Text, ohne Dezimalstellen, ohne Minuszeichen.",
            )?,
        CellKind::Date => DataValidation::new()
            .allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(2000, 1, 1)?,
                ExcelDateTime::from_ymd(2099, 12, 31)?,
            ))
            .set_input_title("Datum")?
            .set_input_message("Bitte ein Datum im Format TT.MM.JJJJ eingeben, z. B. 28.07.2023.")?
            .set_error_title("Ungültiges Datum")?
            .set_error_message("Bitte ein gültiges Datum im Format TT.MM.JJJJ eingeben.")?,
        CellKind::JaNein => DataValidation::new()
            .allow_list_strings(&["Ja", "Nein"])?
            .set_input_title("Ja oder Nein")?
            .set_input_message("Bitte «Ja» oder «Nein» aus der Liste wählen.")?
            .set_error_title("Ungültige Antwort")?
            .set_error_message("Bitte «Ja» oder «Nein» aus der Liste wählen.")?,
        CellKind::Text => return Ok(None),
    }))
}

/// Writes a value as the user entered it: numbers as numbers, dates as dates, text as text.
pub fn write_value(ws: &mut Worksheet, r: u32, c: u16, v: &Value, fmt: &Format) -> Result<(), XlsxError> {
    match v {
        Value::Empty => ws.write_blank(r, c, fmt)?,
        Value::Int(i) => ws.write_number_with_format(r, c, *i as f64, fmt)?,
        Value::Float(f) => ws.write_number_with_format(r, c, *f, fmt)?,
        Value::Date(dt) => {
            ws.write_datetime_with_format(r, c, style::xl_date(*dt), &fmt.clone().set_num_format("dd.mm.yyyy"))?
        }
        Value::Bool(b) => ws.write_boolean_with_format(r, c, *b, fmt)?,
        Value::Text(t) => ws.write_text_with_format(r, c, t, fmt)?,
        Value::Error(e) => ws.write_text_with_format(r, c, e, fmt)?,
    };
    Ok(())
}

fn cell_format(kind: CellKind, locked: bool, mark: Option<&Mark>) -> Format {
    let mut f = if locked { style::prefilled() } else { style::input() };
    if let Some(m) = mark {
        f = f.set_background_color(match m.severity {
            Severity::Fehler => "#F8CBAD",
            Severity::Warnung => "#FFE699",
            Severity::Hinweis => "#DDEBF7",
        });
    }
    match kind {
        CellKind::Date => f.set_num_format("dd.mm.yyyy"),
        CellKind::Text => f.set_text_wrap().set_align(FormatAlign::Top),
        _ => f,
    }
}

fn note(text: &str) -> Note {
    Note::new(style::note_text(text)).set_author("AGS").set_width(420).set_height(180)
}

/// Writes one form sheet (Reportingformular or Selbstdeklaration) in the 2022 layout and
/// protects it: only the unlocked value cells can be edited. No password, so staff can
/// lift the protection.
pub fn write_form_sheet(ws: &mut Worksheet, f: &FormSheet) -> Result<(), XlsxError> {
    ws.set_name(&f.sheet_name)?;
    ws.write_text_with_format(0, 0, title_of(f.kind), &style::title())?;
    // Each row's height in points (what is set below; 15 the default), to fit the page.
    let mut heights: BTreeMap<u32, f64> = BTreeMap::new();
    if let Some(intro) = &f.intro {
        ws.write_text_with_format(0, 2, intro, &style::hint())?;
        // At least the title's height (14 pt); more for a long instruction.
        ws.set_row_height(0, 21)?;
        style::fit_row(ws, 0, &[(intro, FORM_WIDTHS[2])])?;
        heights.insert(0, fitted_height(&[(intro, FORM_WIDTHS[2])]).max(21.0));
    }
    let heading = style::bold();
    if f.kind == FormKind::Reporting {
        for (label, row) in REPORTING_HEADINGS {
            ws.write_text_with_format(row - 1, 0, *label, &heading)?;
        }
    }
    let label_fmt = Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter);
    let side_fmt = style::hint();
    for spec in fields_of(f.kind) {
        let r = spec.row - 1;
        let kind = cell_kind(spec.field);
        let locked = f.locked.contains(&spec.field);
        let mark = f.marks.get(&spec.field);
        ws.write_text_with_format(r, 0, spec.label, &label_fmt)?;
        let v = f.values.get(&spec.field).cloned().unwrap_or(Value::Empty);
        write_value(ws, r, 1, &v, &cell_format(kind, locked, mark))?;
        if !locked {
            if let Some(dv) = validation(kind)? {
                ws.add_data_validation(r, 1, r, 1, &dv)?;
            }
        }
        if let Some(m) = mark {
            ws.insert_note(r, 1, &note(&m.note))?;
        }
        if let Some(s) = f.side.get(&spec.field) {
            ws.write_text_with_format(r, 2, s, &side_fmt)?;
        }
        let value_text = match (&v, kind) {
            (Value::Text(t), CellKind::Text) => t.as_str(),
            _ => "",
        };
        let side = f.side.get(&spec.field).map(String::as_str).unwrap_or("");
        // Wrapped label, hint and text value show whole; a remarks field has room for
        // four lines.
        let lines = [(spec.label, FORM_WIDTHS[0]), (side, FORM_WIDTHS[2]), (value_text, FORM_WIDTHS[1])]
            .iter()
            .map(|(t, w)| style::wrapped_lines(t, *w))
            .max()
            .unwrap_or(1);
        let lines = if spec.field.common() == Some(Common::Bemerkungen) { lines.max(4) } else { lines };
        if lines > 1 {
            let h = style::row_height(style::LINE_PT * lines as f64 + 2.0);
            ws.set_row_height(r, h)?;
            heights.insert(r, h);
        }
    }
    let first = fields_of(f.kind).iter().map(|s| s.row).max().unwrap_or(25) + 2;
    for ((sev, line), r) in f.below.iter().zip(first..) {
        let fmt = match sev {
            Some(s) => style::severity_fill(*s).set_text_wrap().set_align(FormatAlign::Top),
            None => style::bold(),
        };
        ws.merge_text(r, 0, r, 2, line, &fmt)?;
        if sev.is_some() {
            style::fit_row(ws, r, &[(line, FORM_WIDTHS.iter().sum())])?;
            heights.insert(r, fitted_height(&[(line, FORM_WIDTHS.iter().sum())]));
        }
    }
    let last_row = if f.below.is_empty() { first - 3 } else { first - 1 + f.below.len() as u32 };
    for (c, w) in FORM_WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.protect();
    style::print_layout(ws, None, &FORM_WIDTHS, style::Orientation::Portrait, 0, None)?;
    // A form prints on one page when it can at a readable scale (a rebuilt form with long
    // notes beside its fields would otherwise put only its last rows on a second page).
    let total: f64 = (0..=last_row).map(|r| heights.get(&r).copied().unwrap_or(DEFAULT_ROW_PT)).sum();
    // (Fit to one page never enlarges: a form shorter than the page prints at 100 %.)
    if total * style::MIN_PRINT_SCALE <= PAGE_HEIGHT_PT {
        ws.set_print_fit_to_pages(1, 1);
    }
    Ok(())
}

/// A row's default height, in points.
const DEFAULT_ROW_PT: f64 = 15.0;
/// The printable height of portrait A4 within the margins of [`style::print_layout`]
/// (0.6 and 0.7 inches), in points.
const PAGE_HEIGHT_PT: f64 = (297.0 / 25.4 - 1.3) * 72.0;

/// The height [`style::fit_row`] gives a row of these cells.
fn fitted_height(cells: &[(&str, f64)]) -> f64 {
    let lines = cells.iter().map(|(t, w)| style::wrapped_lines(t, *w)).max().unwrap_or(1);
    if lines > 1 {
        style::row_height(style::LINE_PT * lines as f64 + 2.0)
    } else {
        DEFAULT_ROW_PT
    }
}

/// Column widths of a form sheet (label, value, hint): one portrait A4 page wide at 100 %.
pub const FORM_WIDTHS: [f64; 3] = [43.0, 18.0, 32.0];

/// Column widths of a `Vertragsgemeinden` sheet.
/// (`Erstinformationsgespräche`, 25 letters, on one line.)
pub const TABLE_WIDTHS: [f64; 6] = [10.0, 28.0, 26.0, 26.0, 22.0, 26.0];

/// The content of a `Vertragsgemeinden` sheet.
#[derive(Debug, Clone)]
pub struct TableSheet {
    pub sheet_name: String,
    /// One row per member, six cells in [`TableColumn::ALL`] order.
    pub rows: Vec<Vec<Value>>,
    /// The first `locked_cols` columns are prefilled and locked (BFS-Nr., Gemeinde).
    pub locked_cols: usize,
    /// Highlighted cells by (row index, column index), with a note.
    pub marks: BTreeMap<(usize, usize), Mark>,
    /// When set: check rows below the table (sum, the main sheet's totals, difference),
    /// with formulas referring to this main sheet. Only for blank templates, whose stored
    /// formula results (0) are right.
    pub check_against: Option<String>,
}

/// The cells of the main sheet that the `Vertragsgemeinden` columns C–F add up to.
const TABLE_TOTAL_FIELDS: [FormField; 4] =
    [FormField::SiEgAnzahl, FormField::SiEgDolmetsch, FormField::SiIgAnzahl, FormField::SiIgDolmetsch];

/// Writes a `Vertragsgemeinden` sheet: header in row 1, one row per member; the first blank
/// row ends the table (FORMS.md), so the check rows sit below a blank row.
pub fn write_table_sheet(ws: &mut Worksheet, t: &TableSheet) -> Result<(), XlsxError> {
    ws.set_name(&t.sheet_name)?;
    let labels: Vec<&str> = TableColumn::ALL.iter().map(|c| c.header()).collect();
    style::header_row_fit(ws, 0, &labels, &TABLE_WIDTHS)?;
    for (i, row) in t.rows.iter().enumerate() {
        let r = 1 + i as u32;
        for (c, v) in row.iter().enumerate().take(TableColumn::ALL.len()) {
            let locked = c < t.locked_cols;
            let mark = t.marks.get(&(i, c));
            let fmt = cell_format(CellKind::Count, locked, mark);
            write_value(ws, r, c as u16, v, &fmt)?;
            if let Some(m) = mark {
                ws.insert_note(r, c as u16, &note(&m.note))?;
            }
        }
    }
    let n = t.rows.len() as u32;
    if n > 0 {
        if t.locked_cols < 2 {
            ws.add_data_validation(1, 0, n, 0, &validation(CellKind::Count)?.expect("count validation"))?;
        }
        ws.add_data_validation(1, 2, n, 5, &validation(CellKind::Count)?.expect("count validation"))?;
    }
    if let Some(main) = &t.check_against {
        let quoted = format!("'{}'", main.replace('\'', "''"));
        let (sum, tot, diff) = (n + 2, n + 3, n + 4);
        let b = style::bold_top();
        ws.write_text_with_format(sum, 1, "Summe der Vertragsgemeinden", &b)?;
        ws.write_text_with_format(tot, 1, format!("Total im Blatt «{main}»"), &Format::new())?;
        ws.write_text_with_format(diff, 1, "Differenz (muss 0 sein)", &style::bold())?;
        ws.write_text_with_format(sum, 0, "", &b)?;
        for (i, field) in TABLE_TOTAL_FIELDS.iter().enumerate() {
            let c = 2 + i as u16;
            let col = crate::domain::a1(0, c as u32).trim_end_matches('1').to_string();
            let f_sum = if n > 0 { format!("=SUM({col}2:{col}{})", n + 1) } else { "=0".to_string() };
            ws.write_formula_with_format(sum, c, Formula::new(f_sum).set_result("0"), &b)?;
            let f_tot = format!("=N({quoted}!$B${})", field.row());
            ws.write_formula(tot, c, Formula::new(f_tot).set_result("0"))?;
            let f_diff = format!("={col}{}-{col}{}", sum + 1, tot + 1);
            ws.write_formula_with_format(diff, c, Formula::new(f_diff).set_result("0"), &style::bold())?;
        }
        let text = "Bitte für jede Vertragsgemeinde eine Zeile ausfüllen (auch mit 0). Die Summen müssen den Totalen \
                    im Blatt «Reporting» entsprechen, sonst wird der Bericht zurückbehalten.";
        ws.merge_text(diff + 2, 0, diff + 2, 5, text, &style::hint())?;
        style::fit_row(ws, diff + 2, &[(text, TABLE_WIDTHS.iter().sum())])?;
    }
    for (c, w) in TABLE_WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.protect();
    style::print_layout(ws, Some((0, 0)), &TABLE_WIDTHS, style::Orientation::Landscape, 0, None)?;
    Ok(())
}
