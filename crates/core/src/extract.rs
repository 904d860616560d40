//! Stage 3: recognise the form by its content and pull out every field with its position.
//!
//! A field is found by its defined name first, then by its label in column A (value in
//! column B), as FORMS.md says. Labels are compared ignoring case, spacing and a trailing
//! colon. Nothing is interpreted here: values stay raw, with their sheet and cell. The fields
//! and table columns, with their defined names, labels and rows, are [`crate::fields`]'s.

use crate::domain::{CellPos, FormKind};
pub use crate::fields::{fields_of, FieldSpec, FormField, TableColumn, REPORTING_FIELDS, SD_FIELDS};
use crate::workbook::{Sheet, Value, Workbook};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use unicode_normalization::UnicodeNormalization;

/// One field of a form: where it was found and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// `None` when neither the defined name nor the label was found.
    pub pos: Option<CellPos>,
    pub value: Value,
}

impl Field {
    pub fn missing() -> Self {
        Field { pos: None, value: Value::Empty }
    }
    pub fn found(&self) -> bool {
        self.pos.is_some()
    }
}

pub const REPORTING_TITLE: &str = "start.integration – Reportingformular";
pub const SD_TITLE: &str = "start.integration – Selbstdeklaration";
pub const REPORTING_SHEET: &str = "Reporting";
pub const SD_SHEET: &str = "Selbstdeklaration";
pub const TABLE_SHEET: &str = "Vertragsgemeinden";

/// Section headings of the Reportingformular (no value).
pub const REPORTING_HEADINGS: &[(&str, u32)] = &[("A. Erstinformation", 12), ("B. Integrationsgespräche", 20)];

/// One row of the `Vertragsgemeinden` sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Cells by column (a column whose header was not found is absent).
    pub cells: BTreeMap<TableColumn, Field>,
}

impl TableRow {
    pub fn get(&self, col: TableColumn) -> Field {
        self.cells.get(&col).cloned().unwrap_or_else(Field::missing)
    }
}

/// The `Vertragsgemeinden` sheet of a lead municipality's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sheet: String,
    pub rows: Vec<TableRow>,
}

/// A recognised form with raw values.
#[derive(Debug, Clone, PartialEq)]
pub struct RawForm {
    pub kind: FormKind,
    pub sheet: String,
    /// The form's fields (all of its kind, found or not).
    pub fields: BTreeMap<FormField, Field>,
    pub table: Option<Table>,
}

/// A field neither found by name nor by label.
static MISSING: Field = Field { pos: None, value: Value::Empty };

impl RawForm {
    /// A field of the form; a field of the other form kind is missing.
    pub fn field(&self, f: FormField) -> &Field {
        self.fields.get(&f).unwrap_or(&MISSING)
    }
}

/// Normalises a label: Unicode NFC, lower case, spaces collapsed (including no-break
/// spaces), trailing colon dropped. Built in one pass; NFC only when the text needs it.
pub fn norm(s: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    let nfc: Cow<'_, str> =
        if is_nfc_quick(s.chars()) == IsNormalized::Yes { Cow::Borrowed(s) } else { Cow::Owned(s.nfc().collect()) };
    let mut out = String::with_capacity(nfc.len());
    for word in nfc.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for ch in word.chars() {
            out.extend(ch.to_lowercase());
        }
    }
    let keep = out.trim_end_matches(':').trim_end().len();
    out.truncate(keep);
    out
}

/// Every label the templates know, normalised once (read-only afterwards, so no lock).
fn known() -> &'static std::collections::HashMap<&'static str, String> {
    use std::sync::OnceLock;
    static KNOWN: OnceLock<std::collections::HashMap<&'static str, String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        REPORTING_FIELDS
            .iter()
            .chain(SD_FIELDS)
            .map(|s| s.label)
            .chain(TableColumn::ALL.map(TableColumn::header))
            .chain(REPORTING_HEADINGS.iter().map(|(h, _)| *h))
            .chain([TABLE_SHEET, REPORTING_TITLE, SD_TITLE])
            .map(|l| (l, norm(l)))
            .collect()
    })
}

/// A template label, normalised.
fn normed(label: &'static str) -> &'static str {
    known().get(label).map(String::as_str).unwrap_or_else(|| panic!("label «{label}» is not a template label"))
}

/// Normalises a cell text, taking the fast path when it is a template label verbatim.
fn norm_cell(t: &str) -> Cow<'static, str> {
    match known().get(t) {
        Some(n) => Cow::Borrowed(n.as_str()),
        None => Cow::Owned(norm(t)),
    }
}

/// Normalised labels with the row they were first found in.
type Labels = BTreeMap<Cow<'static, str>, u32>;

/// Column-A labels of a sheet, normalised, with their first row.
fn labels_in_col_a(sheet: &Sheet) -> Labels {
    let mut m = BTreeMap::new();
    for (row, v) in sheet.column(0) {
        if let Value::Text(t) = v {
            m.entry(norm_cell(t)).or_insert(row);
        }
    }
    m
}

fn kind_of(labels: &Labels) -> Option<FormKind> {
    let has = |l: &'static str| labels.contains_key(normed(l));
    if has(FormField::SiBfsNr.label()) && has(FormField::SiHalbjahr.label()) {
        Some(FormKind::Reporting)
    } else if has(FormField::SdJahr.label()) && has(FormField::SdQOrganisation.label()) {
        Some(FormKind::Selbstdeklaration)
    } else {
        None
    }
}

/// Recognises the form in a workbook, or `None` when no sheet is a form.
pub fn extract(wb: &Workbook) -> Option<RawForm> {
    let (kind, sheet, labels) = wb.sheets.iter().find_map(|s| {
        let labels = labels_in_col_a(s);
        kind_of(&labels).map(|k| (k, s, labels))
    })?;
    let at: Arc<str> = Arc::from(sheet.name.as_str());
    let mut fields = BTreeMap::new();
    for spec in fields_of(kind) {
        fields.insert(spec.field, locate(wb, sheet, &at, &labels, spec));
    }
    let table = if kind == FormKind::Reporting { find_table(wb, &sheet.name) } else { None };
    Some(RawForm { kind, sheet: sheet.name.clone(), fields, table })
}

/// The sheets after the first form sheet that hold a form too (a workbook should hold one).
pub fn other_form_sheets(wb: &Workbook, first: &str) -> Vec<String> {
    wb.sheets
        .iter()
        .skip_while(|s| s.name != first)
        .skip(1)
        .filter(|s| kind_of(&labels_in_col_a(s)).is_some())
        .map(|s| s.name.clone())
        .collect()
}

fn locate(wb: &Workbook, form: &Sheet, at: &Arc<str>, labels: &Labels, spec: &FieldSpec) -> Field {
    // 1. The defined name, when it points into the form's own sheet (a stale name that
    //    points elsewhere, or to a sheet that no longer exists, is not trusted).
    if let Some(n) = wb.names.iter().find(|n| n.name.eq_ignore_ascii_case(spec.name) && n.sheet == form.name) {
        return Field { pos: Some(CellPos::new(at.clone(), n.row, n.col)), value: form.get(n.row, n.col).clone() };
    }
    // 2. The label in column A, value in column B.
    match labels.get(normed(spec.label)) {
        Some(&row) => Field { pos: Some(CellPos::new(at.clone(), row, 1)), value: form.get(row, 1).clone() },
        None => Field::missing(),
    }
}

fn find_table(wb: &Workbook, form_sheet: &str) -> Option<Table> {
    // Prefer the sheet named as in the template, then any other sheet with the header.
    let mut order: Vec<&Sheet> = wb.sheets.iter().filter(|s| s.name != form_sheet).collect();
    order.sort_by_key(|s| norm(&s.name) != normed(TABLE_SHEET));
    for sheet in order {
        if let Some(t) = table_in(sheet) {
            return Some(t);
        }
    }
    None
}

fn table_in(sheet: &Sheet) -> Option<Table> {
    let wanted: Vec<(TableColumn, &'static str)> = TableColumn::ALL.iter().map(|c| (*c, normed(c.header()))).collect();
    // The header row: a row holding `BFS-Nr.` and `Gemeinde` and the first count header.
    let mut header: Option<(u32, BTreeMap<TableColumn, u32>)> = None;
    let mut rows: BTreeMap<u32, Vec<(u32, &Value)>> = BTreeMap::new();
    for ((r, c), v) in sheet.cells() {
        rows.entry(*r).or_default().push((*c, v));
    }
    for (r, cells) in &rows {
        let mut cols = BTreeMap::new();
        for (c, v) in cells {
            if let Value::Text(t) = v {
                let n = norm_cell(t);
                if let Some((k, _)) = wanted.iter().find(|(_, h)| *h == n) {
                    cols.entry(*k).or_insert(*c);
                }
            }
        }
        if [TableColumn::Bfs, TableColumn::Name, TableColumn::Eg].iter().all(|c| cols.contains_key(c)) {
            header = Some((*r, cols));
            break;
        }
    }
    let (hr, cols) = header?;
    let at: Arc<str> = Arc::from(sheet.name.as_str());
    let mut out = Vec::new();
    let mut r = hr + 1;
    loop {
        let cells: BTreeMap<TableColumn, Field> = cols
            .iter()
            .map(|(k, &c)| (*k, Field { pos: Some(CellPos::new(at.clone(), r, c)), value: sheet.get(r, c).clone() }))
            .collect();
        if cells.values().all(|f| f.value.is_empty()) {
            break;
        }
        out.push(TableRow { cells });
        r += 1;
    }
    Some(Table { sheet: sheet.name.clone(), rows: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbook::{Format, NamedCell};

    fn form_sheet(name: &str, offset: u32, label_case: bool) -> Sheet {
        let mut s = Sheet::new(name);
        for f in REPORTING_FIELDS {
            let label = if label_case { format!("  {}: ", f.label.to_uppercase()) } else { f.label.to_string() };
            s.set(f.row - 1 + offset, 0, Value::Text(label));
        }
        s.set(4 + offset, 1, Value::Int(2601));
        s.set(12 + offset, 1, Value::Int(7));
        s
    }

    #[test]
    fn label_lookup_survives_shift_case_and_colon() {
        let wb = Workbook { format: Format::Xlsx, sheets: vec![form_sheet("Tabelle1", 3, true)], names: vec![] };
        let f = extract(&wb).unwrap();
        assert_eq!(f.kind, FormKind::Reporting);
        let bfs = f.field(FormField::SiBfsNr);
        assert_eq!(bfs.value, Value::Int(2601));
        assert_eq!(bfs.pos.as_ref().unwrap().a1(), "B8");
        assert_eq!(f.field(FormField::SiEgAnzahl).pos.as_ref().unwrap().a1(), "B16");
    }

    #[test]
    fn defined_name_wins_over_label() {
        let mut s = form_sheet("Reporting", 0, false);
        s.set(29, 3, Value::Int(42));
        let wb = Workbook {
            format: Format::Xlsx,
            sheets: vec![s],
            names: vec![NamedCell { name: "SI_EG_ANZAHL".into(), sheet: "Reporting".into(), row: 29, col: 3 }],
        };
        let f = extract(&wb).unwrap();
        assert_eq!(f.field(FormField::SiEgAnzahl).value, Value::Int(42));
        assert_eq!(f.field(FormField::SiEgAnzahl).pos.as_ref().unwrap().a1(), "D30");
    }

    #[test]
    fn a_defined_name_pointing_at_another_sheet_is_not_trusted() {
        let mut other = Sheet::new("Alt");
        other.set(29, 3, Value::Int(42));
        let mut form = form_sheet("Reporting", 0, false);
        form.set(12, 1, Value::Int(7));
        let wb = Workbook {
            format: Format::Xlsx,
            sheets: vec![other, form],
            names: vec![NamedCell { name: "SI_EG_ANZAHL".into(), sheet: "Alt".into(), row: 29, col: 3 }],
        };
        let f = extract(&wb).unwrap();
        assert_eq!(f.field(FormField::SiEgAnzahl).value, Value::Int(7));
        assert_eq!(f.field(FormField::SiEgAnzahl).pos.as_ref().unwrap().a1(), "B13");
    }

    #[test]
    fn form_on_second_sheet_and_table_found_by_header() {
        let mut intro = Sheet::new("Anleitung");
        intro.set(0, 0, Value::Text("Bitte ausfüllen".into()));
        let mut t = Sheet::new("Gemeinden");
        for (i, c) in TableColumn::ALL.iter().enumerate() {
            t.set(0, i as u32, Value::Text(c.header().to_string()));
        }
        t.set(1, 0, Value::Int(2601));
        t.set(1, 1, Value::Text("Solothurn".into()));
        t.set(1, 2, Value::Int(3));
        t.set(3, 0, Value::Int(9999)); // after the blank row: not part of the table
        let wb =
            Workbook { format: Format::Ods, sheets: vec![intro, form_sheet("Formular", 0, false), t], names: vec![] };
        let f = extract(&wb).unwrap();
        assert_eq!(f.sheet, "Formular");
        let table = f.table.unwrap();
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0].get(TableColumn::Eg).pos.as_ref().unwrap().a1(), "C2");
    }

    #[test]
    fn every_template_label_has_a_fast_normalised_form() {
        for spec in REPORTING_FIELDS.iter().chain(SD_FIELDS) {
            assert_eq!(normed(spec.label), norm(spec.label));
            assert_eq!(norm_cell(spec.label), norm(spec.label));
        }
        assert_eq!(normed(TABLE_SHEET), "vertragsgemeinden");
    }

    #[test]
    fn norm_folds_case_spacing_colon_and_unicode_forms() {
        assert_eq!(norm("  BFS-Nr.\u{a0}: "), "bfs-nr.");
        assert_eq!(norm("Integrations\u{a0}\u{a0}gespräche"), "integrations gespräche");
        assert_eq!(norm("Gespra\u{308}che"), norm("Gespräche"), "decomposed umlauts (NFD) match");
        assert_eq!(norm("HALBJAHR:"), "halbjahr");
    }

    #[test]
    fn a_budget_sheet_is_no_form() {
        let mut s = Sheet::new("Budget");
        s.set(0, 0, Value::Text("Konto".into()));
        s.set(1, 0, Value::Int(3630));
        let wb = Workbook { format: Format::Xlsx, sheets: vec![s], names: vec![] };
        assert!(extract(&wb).is_none());
    }
}
