//! Rule tests through the public entry point: an inbox written to disk (forms as real xlsx
//! files, receipt dates in `Eingangsjournal.csv`), master data written as `Stammdaten.xlsx`,
//! and `beitraege::run::evaluate`. The result is read into plain values (codes as their
//! contract strings, positions as sheet and A1 text, the annex's amounts) in this one place,
//! so the tests do not depend on the pipeline's internal types.

use super::forms::{master_sheets, MasterSpec};
use beitraege::domain::Chf;
use beitraege::run::{evaluate, EvaluationOptions};
use beitraege::workbook::{Sheet, Value};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A finding as the outputs show it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub code: String,
    pub bfs: Option<u32>,
    pub file: Option<String>,
    pub sheet: Option<String>,
    pub cell: Option<String>,
}

/// An annex row: paid counts and amounts for the year (H1 + H2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub payee: u32,
    pub base: u64,
    pub sockel: Chf,
    /// Paid counts: eg, d_eg, ig, d_ig.
    pub counts: [u64; 4],
    /// Amounts: Fallpauschale EG, Dolmetschpauschale EG, Fallpauschale IG, Dolmetschpauschale IG.
    pub amounts: [Chf; 4],
    pub clawback: Chf,
    pub total: Chf,
    /// The `Status` text's first word: `berechtigt`, `nicht`, `zurückbehalten`.
    pub status: String,
}

/// What a run decided.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Found>,
    /// File (relative to the inbox) → state (`verarbeitet`, `ersetzt`, `abgelehnt`, `ignoriert`).
    pub states: BTreeMap<String, String>,
    pub rows: BTreeMap<u32, Row>,
    /// Invoices (4.7): (BFS-Nr., CHF).
    pub invoices: Vec<(u32, Chf)>,
    pub total: Chf,
}

impl Outcome {
    /// The codes of one file, in order.
    pub fn codes_of(&self, file: &str) -> Vec<String> {
        self.findings.iter().filter(|f| f.file.as_deref() == Some(file)).map(|f| f.code.clone()).collect()
    }
    /// Whether a finding with `code` concerns `file`.
    pub fn has(&self, file: &str, code: &str) -> bool {
        self.findings.iter().any(|f| f.file.as_deref() == Some(file) && f.code == code)
    }
    /// The findings with `code`.
    pub fn with(&self, code: &str) -> Vec<&Found> {
        self.findings.iter().filter(|f| f.code == code).collect()
    }
    pub fn state(&self, file: &str) -> &str {
        self.states.get(file).unwrap_or_else(|| panic!("{file} not listed: {:?}", self.states))
    }
    pub fn row(&self, bfs: u32) -> &Row {
        self.rows.get(&bfs).unwrap_or_else(|| panic!("no annex row {bfs}"))
    }
}

/// One file of the inbox: its name, its sheets and its receipt date.
pub struct InFile {
    pub rel: String,
    pub sheets: Vec<Sheet>,
    pub received: NaiveDate,
}

pub fn infile(rel: &str, sheets: Vec<Sheet>, received: NaiveDate) -> InFile {
    InFile { rel: rel.to_string(), sheets, received }
}

/// Writes sheets to an xlsx (numbers, texts, booleans, dates; blanks left out).
pub fn xlsx(sheets: &[Sheet]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy");
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name).unwrap();
        let mut cells: Vec<_> = s.cells().collect();
        cells.sort_by_key(|(k, _)| **k);
        for (&(r, c), v) in cells {
            let c = c as u16;
            match v {
                Value::Empty => continue,
                Value::Int(i) => ws.write_number(r, c, *i as f64).unwrap(),
                Value::Float(f) => ws.write_number(r, c, *f).unwrap(),
                Value::Text(t) => ws.write_string(r, c, t).unwrap(),
                Value::Bool(b) => ws.write_boolean(r, c, *b).unwrap(),
                Value::Date(d) => ws
                    .write_datetime_with_format(
                        r,
                        c,
                        rust_xlsxwriter::ExcelDateTime::parse_from_str(&d.to_string()).unwrap(),
                        &date,
                    )
                    .unwrap(),
                Value::Error(e) => ws.write_formula(r, c, rust_xlsxwriter::Formula::new("=1/0").set_result(e)).unwrap(),
            };
        }
    }
    wb.save_to_buffer().unwrap()
}

/// Writes `files` into the folder `inbox` (created), with their receipt dates in
/// `Eingangsjournal.csv`.
pub fn write_inbox(inbox: &Path, files: &[InFile]) {
    std::fs::create_dir_all(inbox).unwrap();
    let mut journal = String::from("Datei;Eingangsdatum\n");
    for f in files {
        let path = inbox.join(&f.rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, xlsx(&f.sheets)).unwrap();
        journal.push_str(&format!("{};{}\n", f.rel, f.received.format("%d.%m.%Y")));
    }
    std::fs::write(inbox.join("Eingangsjournal.csv"), journal).unwrap();
}

/// Writes the master data `spec` as `dir/Stammdaten.xlsx`.
pub fn write_master(dir: &Path, spec: &MasterSpec) -> PathBuf {
    let stammdaten = dir.join("Stammdaten.xlsx");
    std::fs::write(&stammdaten, xlsx(&master_sheets(spec))).unwrap();
    stammdaten
}

/// Evaluates year `year` over `files` with the master data `spec`.
pub fn evaluate_case(year: i32, spec: &MasterSpec, files: &[InFile]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("eingang");
    write_inbox(&inbox, files);
    let stammdaten = write_master(dir.path(), spec);
    evaluate_paths(year, &inbox, &stammdaten, &dir.path().join("aus"))
}

/// Evaluates an inbox already on disk.
pub fn evaluate_paths(year: i32, inbox: &Path, stammdaten: &Path, out: &Path) -> Outcome {
    let opts = EvaluationOptions {
        year,
        inbox: inbox.to_path_buf(),
        stammdaten: stammdaten.to_path_buf(),
        ..super::sample_options(out, Some(1))
    };
    evaluate_with(&opts)
}

/// Evaluates with the given options.
pub fn evaluate_with(opts: &EvaluationOptions) -> Outcome {
    let e = evaluate(opts).expect("the run evaluates");
    let findings = e
        .findings
        .iter()
        .map(|f| Found {
            code: f.code.as_str().to_string(),
            bfs: f.bfs,
            file: f.file.clone(),
            sheet: f.sheet().map(str::to_string),
            cell: f.cell(),
        })
        .collect();
    let states = e.resolved.files.iter().map(|f| (f.result.file.rel.clone(), f.state.as_str().to_string())).collect();
    let rows = e
        .comp
        .rows
        .iter()
        .map(|r| {
            let label = r.status.label();
            let row = Row {
                payee: r.payee,
                base: r.base,
                sockel: r.sockel,
                counts: r.paid.values(),
                amounts: r.amounts.values(),
                clawback: r.clawback,
                total: r.total,
                status: label.split([' ', ':']).next().unwrap_or_default().to_string(),
            };
            (r.bfs, row)
        })
        .collect();
    let invoices = e.comp.invoices.iter().map(|i| (i.bfs, i.amount)).collect();
    Outcome { findings, states, rows, invoices, total: e.comp.total }
}
