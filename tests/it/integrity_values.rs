//! Integrity of the values a run pays and writes, under hostile files: counts that would
//! wrap a sum, figures beyond any municipality, absurd master data, texts longer than a
//! spreadsheet cell holds, shared strings that would multiply in memory, master data at
//! scale. Every file is built here (rust_xlsxwriter or hand-written zip parts); the master
//! data is the sample year's, read and changed in memory where a test needs it.

use crate::common;
use beitraege::compute::compute;
use beitraege::domain::Chf;
/// The ceilings of `beitraege::domain` (MAX_COUNT, MAX_TARIFF_CHF, MAX_AMOUNT_CHF), repeated
/// here so that a change to them is a deliberate change to this test too.
const MAX_COUNT: u64 = 1_000_000;
const MAX_TARIFF_CHF: i64 = 100_000;
const MAX_AMOUNT_CHF: i64 = 1_000_000_000;
use beitraege::extract::{REPORTING_FIELDS, SD_FIELDS};
use beitraege::fields::{FormField, TableColumn};
use beitraege::run::{evaluate, Evaluation, EvaluationError, EvaluationOptions};
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::Outcome;
use beitraege::workbook::{read_workbook, Limits, Sheet, Value};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample_master() -> PathBuf {
    root().join("samples/2023/Stammdaten.xlsx")
}

/// Cells of a sheet: (row, column, value).
type Cells = Vec<(u32, u16, C)>;

/// A cell to write.
#[derive(Clone, Debug)]
enum C {
    T(String),
    N(f64),
    D(NaiveDate),
}

fn t(s: &str) -> C {
    C::T(s.to_string())
}

/// An xlsx with the given sheets of (row, col, cell).
fn xlsx(sheets: &[(&str, Cells)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, cells) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, c, v) in cells {
            match v {
                C::T(s) => ws.write_string(*r, *c, s).unwrap(),
                C::N(n) => ws.write_number(*r, *c, *n).unwrap(),
                C::D(d) => ws
                    .write_datetime_with_format(
                        *r,
                        *c,
                        rust_xlsxwriter::ExcelDateTime::parse_from_str(&d.to_string()).unwrap(),
                        &rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy"),
                    )
                    .unwrap(),
            };
        }
    }
    wb.save_to_buffer().unwrap()
}

/// Writes master-data sheets (as read) back to an xlsx.
fn sheets_to_xlsx(sheets: &[Sheet]) -> Vec<u8> {
    let owned: Vec<(String, Cells)> = sheets
        .iter()
        .map(|s| {
            let cells = s
                .cells()
                .filter_map(|(&(r, c), v)| {
                    let cell = match v {
                        Value::Text(x) => C::T(x.clone()),
                        Value::Int(i) => C::N(*i as f64),
                        Value::Float(f) => C::N(*f),
                        Value::Date(d) => C::D(*d),
                        _ => return None,
                    };
                    Some((r, c as u16, cell))
                })
                .collect();
            (s.name.clone(), cells)
        })
        .collect();
    let refs: Vec<(&str, Cells)> = owned.iter().map(|(n, c)| (n.as_str(), c.clone())).collect();
    xlsx(&refs)
}

fn sample_sheets() -> Vec<Sheet> {
    let bytes = std::fs::read(sample_master()).unwrap();
    let limits = Limits { max_rows: 1_000_000, max_cells: 5_000_000, ..Limits::default() };
    read_workbook(&bytes, &limits).unwrap().sheets
}

/// The main sheet of a Reportingformular 2023 (version 2022) with the given counts.
fn report_cells(bfs: u32, name: &str, half: u8, counts: &[(&str, C)]) -> Cells {
    let mut cells = Vec::new();
    for f in REPORTING_FIELDS {
        cells.push((f.row - 1, 0, t(f.label)));
        let v = match f.name {
            "SI_VERSION" => Some(C::N(2022.0)),
            "SI_GEMEINDE" => Some(t(name)),
            "SI_BFS_NR" => Some(C::N(bfs as f64)),
            "SI_JAHR" => Some(C::N(2023.0)),
            "SI_HALBJAHR" => Some(C::N(half as f64)),
            "SI_BEAUFTRAGTE" => Some(t("Anna Muster")),
            k => counts.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone()),
        };
        if let Some(v) = v {
            cells.push((f.row - 1, 1, v));
        }
    }
    cells
}

/// A `Vertragsgemeinden` sheet: (BFS-Nr., name, [eg, d_eg, ig, d_ig]).
fn table_cells(rows: &[(u32, &str, [C; 4])]) -> Cells {
    let mut cells = Vec::new();
    for (c, h) in TableColumn::ALL.map(TableColumn::header).iter().enumerate() {
        cells.push((0, c as u16, t(h)));
    }
    for (i, (bfs, name, counts)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        cells.push((r, 0, C::N(*bfs as f64)));
        cells.push((r, 1, t(name)));
        for (c, v) in counts.iter().enumerate() {
            cells.push((r, 2 + c as u16, v.clone()));
        }
    }
    cells
}

fn sd_cells(bfs: u32, name: &str) -> Cells {
    let mut cells = Vec::new();
    for f in SD_FIELDS {
        cells.push((f.row - 1, 0, t(f.label)));
        let v = match f.name {
            "SD_VERSION" => Some(C::N(2022.0)),
            "SD_GEMEINDE" => Some(t(name)),
            "SD_BFS_NR" => Some(C::N(bfs as f64)),
            "SD_JAHR" => Some(C::N(2023.0)),
            "SD_BEAUFTRAGTE" => Some(t("Anna Muster")),
            k if k.starts_with("SD_Q_") => Some(t("Ja")),
            _ => None,
        };
        if let Some(v) = v {
            cells.push((f.row - 1, 1, v));
        }
    }
    cells
}

/// An inbox folder with the given files and a receipt journal dating them all in time.
fn inbox(dir: &Path, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut journal = String::from("Datei;Eingangsdatum\n");
    for (name, bytes) in files {
        std::fs::write(inbox.join(name), bytes).unwrap();
        let date = if name.contains("Selbstdeklaration") { "20.01.2023" } else { "20.07.2023" };
        journal.push_str(&format!("{name};{date}\n"));
    }
    std::fs::write(inbox.join("Eingangsjournal.csv"), journal).unwrap();
    inbox
}

fn options(dir: &Path, inbox: PathBuf, stammdaten: PathBuf) -> EvaluationOptions {
    EvaluationOptions {
        year: 2023,
        inbox,
        stammdaten,
        out: dir.join("out"),
        threads: Some(1),
        limits: Limits::default(),
        run_date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: None,
        progress: None,
        // Small inboxes of few or no forms: run anyway (`--trotzdem`).
        force: true,
        received_by: None,
        buchhaltung: None,
    }
}

fn eval_files(files: &[(&str, Vec<u8>)]) -> Evaluation {
    let dir = tempfile::tempdir().unwrap();
    let ib = inbox(dir.path(), files);
    evaluate(&options(dir.path(), ib, sample_master())).unwrap()
}

/// The codes of a file's findings, as their stable code texts (the tests compile against the
/// code before the fix too, which had no `WERT_ZU_GROSS`).
fn file_codes(e: &Evaluation, rel: &str) -> Vec<&'static str> {
    let f =
        e.resolved.files.iter().find(|f| f.result.file.rel == rel).unwrap_or_else(|| panic!("{rel} not in the run"));
    f.result.findings.iter().map(|x| x.code.as_str()).collect()
}

fn cell_of(e: &Evaluation, rel: &str, code: &str) -> Vec<(Option<String>, Option<String>)> {
    let f = e.resolved.files.iter().find(|f| f.result.file.rel == rel).unwrap();
    f.result
        .findings
        .iter()
        .filter(|x| x.code.as_str() == code)
        .map(|x| (x.sheet().map(str::to_string), x.cell()))
        .collect()
}

fn annex_row(e: &Evaluation, bfs: u32) -> &beitraege::compute::AnnexRow {
    e.comp.rows.iter().find(|r| r.bfs == bfs).unwrap()
}

const HUBERSDORF: u32 = 2548; // lead of V-UNTERLEBERBERG (2541, 2544, 2545, 2547, 2554)
const BALM: u32 = 2541;
const EGERKINGEN: u32 = 2401; // outside that contract
const ZERO4: fn() -> [C; 4] = || [C::N(0.0), C::N(0.0), C::N(0.0), C::N(0.0)];

fn lead_report(main_eg: f64, rows: &[(u32, &str, [C; 4])]) -> Vec<u8> {
    let main = report_cells(
        HUBERSDORF,
        "Hubersdorf",
        1,
        &[
            ("SI_EG_ANZAHL", C::N(main_eg)),
            ("SI_EG_DOLMETSCH", C::N(0.0)),
            ("SI_EG_DOLMETSCH_ANDERE", C::N(0.0)),
            ("SI_EG_PERSONEN", C::N(main_eg)),
            ("SI_INFOMAPPEN", C::N(0.0)),
            ("SI_NEUZUZUEGE", C::N(main_eg)),
            ("SI_IG_ANZAHL", C::N(0.0)),
            ("SI_IG_DOLMETSCH", C::N(0.0)),
            ("SI_MELDUNGEN", C::N(0.0)),
        ],
    );
    xlsx(&[("Reporting", main), ("Vertragsgemeinden", table_cells(rows))])
}

fn members_zero() -> Vec<(u32, &'static str, [C; 4])> {
    [(2544, "Flumenthal"), (2545, "Hubersdorf?"), (2547, "Günsberg"), (2554, "Riedholz")]
        .into_iter()
        .map(|(b, n)| (b, n, ZERO4()))
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Money that a crafted file can inflate
// ---------------------------------------------------------------------------

#[test]
fn a_foreign_row_cannot_wrap_the_sum_check_and_inflate_the_members() {
    // 110 + 110 + 18446744073709551404 wraps to 8 in u64, the main sheet's total. Before, no
    // LEIT_SUMME fired and 220 conversations were paid instead of 8.
    let mut rows = vec![
        (HUBERSDORF, "Hubersdorf", [C::N(110.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
        (BALM, "Balm bei Günsberg", [C::N(110.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
        (EGERKINGEN, "Egerkingen", [t("18446744073709551404"), C::N(0.0), C::N(0.0), C::N(0.0)]),
    ];
    rows.extend(members_zero());
    let e = eval_files(&[
        ("lead.xlsx", lead_report(8.0, &rows)),
        ("2548 Selbstdeklaration.xlsx", xlsx(&[("Selbstdeklaration", sd_cells(HUBERSDORF, "Hubersdorf"))])),
    ]);
    let codes = file_codes(&e, "lead.xlsx");
    assert!(codes.contains(&"WERT_ZU_GROSS"), "{codes:?}");
    assert_eq!(cell_of(&e, "lead.xlsx", "WERT_ZU_GROSS"), vec![(Some("Vertragsgemeinden".into()), Some("C4".into()))]);
    assert!(codes.contains(&"LEIT_FREMDE_GEMEINDE"), "{codes:?}");
    assert!(codes.contains(&"LEIT_SUMME"), "the rows (220) exceed the total (8): {codes:?}");
    for b in [HUBERSDORF, BALM] {
        let r = annex_row(&e, b);
        assert_eq!(r.paid.eg, 0, "{b}: withheld by LEIT_SUMME");
        assert_eq!(r.amounts.eg, Chf::ZERO, "{b}");
    }
}

#[test]
fn an_unusable_cell_does_not_switch_off_the_sum_check() {
    // Text in a foreign row used to make the column "not summable", so the members' rows
    // (220) were paid against a total of 8.
    let mut rows = vec![
        (HUBERSDORF, "Hubersdorf", [C::N(110.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
        (BALM, "Balm bei Günsberg", [C::N(110.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
        (EGERKINGEN, "Egerkingen", [t("viele"), C::N(0.0), C::N(0.0), C::N(0.0)]),
    ];
    rows.extend(members_zero());
    let e = eval_files(&[("lead.xlsx", lead_report(8.0, &rows))]);
    let codes = file_codes(&e, "lead.xlsx");
    assert!(codes.contains(&"WERT_KEINE_ZAHL"), "{codes:?}");
    assert!(codes.contains(&"LEIT_SUMME"), "{codes:?}");
    // Below the total with an unusable cell: no LEIT_SUMME (the unusable value may hold the rest).
    let mut rows = vec![
        (HUBERSDORF, "Hubersdorf", [C::N(4.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
        (BALM, "Balm bei Günsberg", [t("vier"), C::N(0.0), C::N(0.0), C::N(0.0)]),
    ];
    rows.extend(members_zero());
    let e = eval_files(&[("lead.xlsx", lead_report(8.0, &rows))]);
    let codes = file_codes(&e, "lead.xlsx");
    assert!(codes.contains(&"WERT_KEINE_ZAHL") && !codes.contains(&"LEIT_SUMME"), "{codes:?}");
}

#[test]
fn the_count_ceiling_separates_a_warning_from_an_error() {
    let form = |n: f64| {
        let counts = [
            ("SI_EG_ANZAHL", C::N(n)),
            ("SI_EG_DOLMETSCH", C::N(0.0)),
            ("SI_EG_DOLMETSCH_ANDERE", C::N(0.0)),
            ("SI_EG_PERSONEN", C::N(MAX_COUNT as f64)),
            ("SI_INFOMAPPEN", C::N(0.0)),
            ("SI_NEUZUZUEGE", C::N(MAX_COUNT as f64)),
            ("SI_IG_ANZAHL", C::N(0.0)),
            ("SI_IG_DOLMETSCH", C::N(0.0)),
            ("SI_MELDUNGEN", C::N(0.0)),
        ];
        xlsx(&[("Reporting", report_cells(EGERKINGEN, "Egerkingen", 1, &counts))])
    };
    let sd = xlsx(&[("Selbstdeklaration", sd_cells(EGERKINGEN, "Egerkingen"))]);
    // At the ceiling: implausible (a warning), and paid as RULES.md says.
    let at = MAX_COUNT as f64;
    let e = eval_files(&[("a.xlsx", form(at)), ("2401 Selbstdeklaration.xlsx", sd.clone())]);
    let codes = file_codes(&e, "a.xlsx");
    assert!(codes.contains(&"WERT_UNPLAUSIBEL") && !codes.contains(&"WERT_ZU_GROSS"), "{codes:?}");
    assert_eq!(annex_row(&e, EGERKINGEN).paid.eg, MAX_COUNT);
    assert_eq!(annex_row(&e, EGERKINGEN).amounts.eg, Chf::from_int(200).checked_mul(Decimal::from(MAX_COUNT)).unwrap());
    // One above: an error in its cell, withheld with its interpreter amount, in no sum.
    let e = eval_files(&[("a.xlsx", form(at + 1.0)), ("2401 Selbstdeklaration.xlsx", sd)]);
    let eg_cell = format!("B{}", FormField::SiEgAnzahl.row());
    assert_eq!(cell_of(&e, "a.xlsx", "WERT_ZU_GROSS"), vec![(Some("Reporting".into()), Some(eg_cell))]);
    assert_eq!(e.findings.iter().find(|f| f.code.as_str() == "WERT_ZU_GROSS").unwrap().severity.label(), "Fehler");
    let row = annex_row(&e, EGERKINGEN);
    assert_eq!((row.paid.eg, row.amounts.eg, row.amounts.d_eg), (0, Chf::ZERO, Chf::ZERO));
    assert!(matches!(
        e.resolved.files.iter().find(|f| f.result.file.rel == "a.xlsx").unwrap().result.outcome,
        Outcome::Report(_)
    ));
}

#[test]
fn contract_members_rows_get_the_plausibility_check() {
    // Balm bei Günsberg has far fewer foreign residents than 5000: a warning at its cell, as
    // the same count on the main sheet would get.
    let mut rows = vec![
        (HUBERSDORF, "Hubersdorf", [C::N(0.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
        (BALM, "Balm bei Günsberg", [C::N(5000.0), C::N(0.0), C::N(0.0), C::N(0.0)]),
    ];
    rows.extend(members_zero());
    let e = eval_files(&[("lead.xlsx", lead_report(5000.0, &rows))]);
    let cells = cell_of(&e, "lead.xlsx", "WERT_UNPLAUSIBEL");
    assert!(cells.contains(&(Some("Vertragsgemeinden".into()), Some("C3".into()))), "{cells:?}");
}

/// Sample master data with one cell changed, written as an xlsx into `dir`.
fn master_with(dir: &Path, sheet: &str, header: &str, row: u32, v: Value) -> PathBuf {
    let mut sheets = sample_sheets();
    let s = sheets.iter_mut().find(|s| s.name == sheet).unwrap();
    let col = s.cells().find(|(&(r, _), x)| r == 0 && x.text() == header).map(|(&(_, c), _)| c).unwrap();
    s.set(row, col, v);
    let path = dir.join("Stammdaten.xlsx");
    std::fs::write(&path, sheets_to_xlsx(&sheets)).unwrap();
    path
}

fn run_with_master(path: PathBuf, dir: &Path) -> Result<Evaluation, EvaluationError> {
    let ib = inbox(dir, &[]);
    evaluate(&options(dir, ib, path))
}

#[test]
fn absurd_master_data_is_a_german_master_data_error_not_a_panic() {
    for (sheet, header, v) in [
        ("Tarife", "Betrag CHF", Value::Float(7e27)),
        ("Rückforderungen", "Betrag CHF", Value::Float(5e28)),
        ("Kredit", "Kredit CHF", Value::Float(1e28)),
        ("Wohnbevölkerung", "Ausländische Wohnbevölkerung", Value::Float(1e18)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = master_with(dir.path(), sheet, header, 1, v);
        match run_with_master(path, dir.path()) {
            Err(EvaluationError::Stammdaten(e)) => {
                assert!(e.kinds().iter().any(|k| format!("{k:?}") == "OutOfRange"), "{sheet}: {e}");
                assert!(e.to_string().contains("Obergrenze"), "German message: {e}");
            }
            Err(e) => panic!("{sheet}: {e}"),
            Ok(_) => panic!("{sheet}: accepted"),
        }
    }
}

#[test]
fn master_data_ceilings_hold_on_both_sides() {
    let cases: [(&str, &str, f64, f64); 3] = [
        ("Tarife", "Betrag CHF", MAX_TARIFF_CHF as f64, MAX_TARIFF_CHF as f64 + 0.01),
        ("Rückforderungen", "Betrag CHF", MAX_AMOUNT_CHF as f64, MAX_AMOUNT_CHF as f64 + 0.01),
        ("Wohnbevölkerung", "Ausländische Wohnbevölkerung", MAX_COUNT as f64, MAX_COUNT as f64 + 1.0),
    ];
    for (sheet, header, ok, bad) in cases {
        let mut sheets = sample_sheets();
        let set = |sheets: &mut Vec<Sheet>, v: f64| {
            let s = sheets.iter_mut().find(|s| s.name == sheet).unwrap();
            let col = s.cells().find(|(&(r, _), x)| r == 0 && x.text() == header).map(|(&(_, c), _)| c).unwrap();
            s.set(1, col, Value::Float(v));
        };
        set(&mut sheets, ok);
        assert!(Stammdaten::from_sheets(&sheets).is_ok(), "{sheet} {ok}");
        set(&mut sheets, bad);
        let err = Stammdaten::from_sheets(&sheets).unwrap_err();
        let kinds: Vec<String> = err.kinds().iter().map(|k| format!("{k:?}")).collect();
        assert_eq!(kinds, vec!["OutOfRange"], "{sheet} {bad}: {err}");
    }
}

#[test]
fn compute_never_panics_even_on_unchecked_master_data() {
    // Master data built in code skips the loader's ceilings: the arithmetic itself is checked,
    // and a row out of range is withheld, not paid and not a panic.
    let mut master = Stammdaten::load(&sample_master()).unwrap();
    let mut huge = master
        .clawbacks
        .iter()
        .find(|c| c.bfs == 2513 && c.decided_on.to_string().starts_with("2023"))
        .unwrap()
        .clone();
    huge.amount = Chf::new(Decimal::MAX);
    master.clawbacks.push(huge);
    let e = eval_files(&[]);
    let comp = compute(&master, &e.resolved, 2023);
    let r = comp.rows.iter().find(|r| r.bfs == 2513).unwrap();
    assert!(r.total.is_zero() && r.clawback.is_zero(), "{r:?}");
    assert!(comp.invoices.iter().all(|i| i.bfs != 2513), "no invoice from an amount out of range");
    // The other rows are computed as before: 2578's clawback of 25'000 stands.
    assert_eq!(comp.total, Chf::from_int(-25_000));
}

// ---------------------------------------------------------------------------
// 2. Any text that reaches an output is bounded
// ---------------------------------------------------------------------------

/// Runs the year end to end (outputs written) on the given inbox files.
fn run_files(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, beitraege::run::EvaluationReport) {
    let dir = tempfile::tempdir().unwrap();
    let ib = inbox(dir.path(), files);
    let report = beitraege::run::run(&options(dir.path(), ib, sample_master())).expect("the run writes its outputs");
    (dir, report)
}

fn egerkingen_form(name: &str) -> Vec<u8> {
    let counts = [
        ("SI_EG_ANZAHL", C::N(2.0)),
        ("SI_EG_DOLMETSCH", C::N(0.0)),
        ("SI_EG_DOLMETSCH_ANDERE", C::N(0.0)),
        ("SI_EG_PERSONEN", C::N(2.0)),
        ("SI_INFOMAPPEN", C::N(0.0)),
        ("SI_NEUZUZUEGE", C::N(2.0)),
        ("SI_IG_ANZAHL", C::N(0.0)),
        ("SI_IG_DOLMETSCH", C::N(0.0)),
        ("SI_MELDUNGEN", C::N(0.0)),
    ];
    xlsx(&[("Reporting", report_cells(EGERKINGEN, name, 1, &counts))])
}

#[test]
fn a_name_of_32700_characters_is_quoted_short_and_written() {
    let long = "Egerkingen ".repeat(2_973); // 32,703 characters
    let (dir, report) = run_files(&[("a.xlsx", egerkingen_form(&long))]);
    let f = report.eval.findings.iter().find(|f| f.code.as_str() == "GEMEINDE_NAME").expect("GEMEINDE_NAME");
    assert!(f.value.as_ref().unwrap().chars().count() <= 300, "the value quoted is bounded");
    assert!(f.value.as_ref().unwrap().ends_with('…'));
    assert!(f.message.chars().count() <= 1_200, "{}", f.message.chars().count());
    assert!(dir.path().join("out/Rueckmeldungen").read_dir().unwrap().count() >= 1);
}

#[test]
fn a_workbook_of_1200_sheets_is_listed_short() {
    let sheets: Vec<(String, Cells)> =
        (0..1200).map(|i| (format!("Blatt mit langem Namen {i:05}"), vec![(0, 0, t("x"))])).collect();
    let refs: Vec<(&str, Cells)> = sheets.iter().map(|(n, c)| (n.as_str(), c.clone())).collect();
    let (_dir, report) = run_files(&[("viele.xlsx", xlsx(&refs))]);
    let f = report.eval.findings.iter().find(|f| f.code.as_str() == "DATEI_KEIN_FORMULAR").unwrap();
    assert!(f.message.contains("1200"), "says how many sheets there are: {}", f.message);
    assert!(f.message.chars().count() <= 1_200, "{}", f.message.chars().count());
}

#[test]
fn a_lead_table_of_500_text_rows_does_not_stop_the_run() {
    let rows: Vec<(u32, String, [C; 4])> =
        (0..500).map(|i| (0, format!("Zeile {i} {}", "Text ".repeat(20)), [t("x"), t("y"), t("z"), t("w")])).collect();
    let mut cells = table_cells(&[]);
    for (i, (_, name, counts)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        cells.push((r, 0, t("keine Nummer")));
        cells.push((r, 1, t(name)));
        for (c, v) in counts.iter().enumerate() {
            cells.push((r, 2 + c as u16, v.clone()));
        }
    }
    let main = report_cells(HUBERSDORF, "Hubersdorf", 1, &[("SI_EG_ANZAHL", C::N(1.0))]);
    let book = xlsx(&[("Reporting", main), ("Vertragsgemeinden", cells)]);
    let (dir, report) = run_files(&[("lead.xlsx", book)]);
    let n = report.eval.findings.iter().filter(|f| f.file.as_deref() == Some("lead.xlsx")).count();
    assert!(n >= 2_000, "{n} findings");
    // The Dateien sheet lists the codes grouped, within one cell.
    let bytes = std::fs::read(dir.path().join("out/Befunde_2023.xlsx")).unwrap();
    let wb = read_workbook(&bytes, &Limits { max_cells: 1_000_000, max_rows: 100_000, ..Limits::default() }).unwrap();
    let dateien = wb.sheets.iter().find(|s| s.name == "Dateien").unwrap();
    let codes = (1..10).map(|r| dateien.get(r, 10).text()).find(|c| c.contains("WERT_KEINE_ZAHL")).unwrap();
    assert!(codes.contains("WERT_KEINE_ZAHL (2000×)"), "{codes}");
}

#[test]
fn every_string_cell_goes_through_the_one_guard() {
    // The writers put text into cells only through style::TextCells (which cuts at Excel's
    // limit): no direct rust_xlsxwriter string write is left in them.
    for (name, src) in [
        ("annex.rs", include_str!("../../crates/render/src/write/annex.rs")),
        ("report.rs", include_str!("../../crates/render/src/write/report.rs")),
        ("feedback.rs", include_str!("../../crates/render/src/write/feedback.rs")),
        ("formulare.rs", include_str!("../../src/formulare.rs")),
    ] {
        for bad in [".write_string(", ".write_string_with_format(", ".merge_range(", "Note::new(text)"] {
            assert!(!src.contains(bad), "{name} calls {bad} directly");
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Memory bounded by bytes, not only by cells
// ---------------------------------------------------------------------------

/// An xlsx written part by part: `cells` cells (50 a row) that all reference shared string 0,
/// a text of `len` characters.
fn shared_string_bomb(cells: usize, len: usize) -> Vec<u8> {
    const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let content_types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="{REL}"><sheets><sheet name="Reporting" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let wb_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    let sst = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#,
        "x".repeat(len)
    );
    let mut sheet = format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>"#);
    for r in 0..cells.div_ceil(50) {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for c in 0..50.min(cells - r * 50) {
            sheet.push_str(&format!(r#"<c r="{}" t="s"><v>0</v></c>"#, beitraege::domain::a1(r as u32, c as u32)));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    common::zip_of(&[
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", wb_rels.as_bytes()),
        ("xl/sharedStrings.xml", sst.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

/// An ods whose one text cell of `len` characters is repeated over `cols` × `rows` cells.
fn repeated_text_ods(len: usize, cols: u32, rows: u32) -> Vec<u8> {
    let table = format!(
        r#"<table:table-row table:number-rows-repeated="{rows}"><table:table-cell table:number-columns-repeated="{cols}" office:value-type="string"><text:p>{}</text:p></table:table-cell></table:table-row>"#,
        "x".repeat(len)
    );
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Reporting">{table}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#;
    common::zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

#[test]
fn one_shared_string_in_99000_cells_is_too_large_not_3_gigabytes() {
    let bytes = shared_string_bomb(99_000, 32_767);
    assert!(bytes.len() < 1024 * 1024, "a small file: {} bytes", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let ib = inbox(dir.path(), &[("bombe.xlsx", bytes)]);
    let e = evaluate(&options(dir.path(), ib, sample_master())).unwrap();
    assert_eq!(file_codes(&e, "bombe.xlsx"), vec!["DATEI_ZU_GROSS"]);
}

#[test]
fn text_beyond_the_default_budget_is_too_large() {
    // 3000 cells of 32,767 bytes (98 MB) exceed the default budget of 64 MB.
    let r = read_workbook(&shared_string_bomb(3_000, 32_767), &Limits::default());
    assert!(matches!(r, Err(beitraege::workbook::ReadError::TooLarge(_))), "{:?}", r.map(|w| w.sheets.len()));
}

#[test]
fn text_budget_boundary() {
    // A budget of exactly 10 cells × 1000 bytes holds 10 of them, not 11.
    let limits = Limits { max_text_bytes: 10_000, ..Limits::default() };
    let ok = read_workbook(&shared_string_bomb(10, 1_000), &limits).unwrap();
    assert_eq!(ok.sheets[0].cells().count(), 10);
    let r = read_workbook(&shared_string_bomb(11, 1_000), &limits);
    assert!(matches!(r, Err(beitraege::workbook::ReadError::TooLarge(_))));
    // The same for an ods text cell repeated over 2 × 5 cells and 11 cells.
    assert_eq!(read_workbook(&repeated_text_ods(1_000, 5, 2), &limits).unwrap().sheets[0].cells().count(), 10);
    let r = read_workbook(&repeated_text_ods(1_000, 11, 1), &limits);
    assert!(matches!(r, Err(beitraege::workbook::ReadError::TooLarge(_))));
}

#[test]
fn a_repeated_ods_text_cell_is_too_large_not_gigabytes() {
    let r = read_workbook(&repeated_text_ods(32_767, 64, 2_000), &Limits::default());
    assert!(matches!(r, Err(beitraege::workbook::ReadError::TooLarge(_))));
}

// ---------------------------------------------------------------------------
// 4. Master data at scale
// ---------------------------------------------------------------------------

/// The sample master data with `n` more `Leitgemeinden` rows: contracts of one day each
/// from 2030 on (Egerkingen 2401 leads, Kestenholz 2403 is a member), all consistent.
fn master_with_contract_rows(n: usize) -> Vec<Sheet> {
    let mut sheets = sample_sheets();
    let s = sheets.iter_mut().find(|s| s.name == "Leitgemeinden").unwrap();
    let first = s.cells().map(|(&(r, _), _)| r).max().unwrap() + 1;
    let day0 = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    for i in 0..n {
        let r = first + i as u32;
        let day = day0 + chrono::Days::new((i / 2) as u64);
        s.set(r, 0, Value::Text(format!("K{}", i / 2)));
        s.set(r, 1, Value::Int(2401));
        s.set(r, 2, Value::Int(if i % 2 == 0 { 2401 } else { 2403 }));
        s.set(r, 3, Value::Date(day));
        s.set(r, 4, Value::Date(day));
    }
    sheets
}

/// Runs `f` on its own thread; `None` when it takes longer than `secs` (the quadratic checks
/// took minutes on 100,000 rows; the near-linear ones take about a second).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs)).ok()
}

#[test]
fn master_data_with_100000_contract_rows_loads_in_near_linear_time() {
    let sheets = master_with_contract_rows(100_000);
    let sd = within(60, move || Stammdaten::from_sheets(&sheets).map(|s| s.memberships.len()))
        .expect("the master data checks finish within a minute");
    assert_eq!(sd.unwrap(), 100_000 + 20, "the 100,000 rows and the sample's 20");
    // An overlap among them is still found.
    let mut sheets = master_with_contract_rows(100_000);
    let s = sheets.iter_mut().find(|s| s.name == "Leitgemeinden").unwrap();
    let last = s.cells().map(|(&(r, _), _)| r).max().unwrap() + 1;
    let d = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    for (c, v) in [Value::Text("X".into()), Value::Int(2402), Value::Int(2403), Value::Date(d), Value::Date(d)]
        .into_iter()
        .enumerate()
    {
        s.set(last, c as u32, v);
    }
    s.set(last + 1, 0, Value::Text("X".into()));
    s.set(last + 1, 1, Value::Int(2402));
    s.set(last + 1, 2, Value::Int(2402));
    let err = within(60, move || Stammdaten::from_sheets(&sheets).err()).expect("in time").expect("an error");
    let kinds: Vec<String> = err.kinds().iter().map(|k| format!("{k:?}")).collect();
    assert_eq!(kinds, vec!["TwoContracts"], "{err}");
}

#[test]
fn a_300_character_name_is_refused_and_the_longest_allowed_gives_short_unique_file_names() {
    let dir = tempfile::tempdir().unwrap();
    // ~310 characters: refused when the master data are read (sheet, row, column).
    let long = format!("Egerkingen {}", "sehr langer Gemeindename ".repeat(12));
    let path = master_with(dir.path(), "Gemeinden", "Gemeinde", 1, Value::Text(long));
    let err = Stammdaten::load(&path).unwrap_err();
    let at: Vec<_> = err.problems.iter().map(|p| (p.kind, p.at.clone().map(|a| (a.sheet, a.row, a.column)))).collect();
    assert_eq!(
        at,
        vec![(beitraege::stammdaten::ProblemKind::TooLong, Some(("Gemeinden".into(), 2, "Gemeinde".into())))]
    );
    // The longest name allowed, 60 characters of two bytes each past the first eleven.
    let long = format!("Egerkingen {}", "ä".repeat(49));
    let path = master_with(dir.path(), "Gemeinden", "Gemeinde", 1, Value::Text(long.clone()));
    let sheets = sample_sheets();
    let first_bfs = sheets[0].get(1, 0).text();
    // The run: every municipality has a finding (SD_FEHLT), so each gets a feedback workbook.
    let ib = inbox(dir.path(), &[]);
    let report = beitraege::run::run(&options(dir.path(), ib, path.clone())).expect("run");
    let feedback: Vec<&String> = report.written.iter().filter(|w| w.starts_with("Rueckmeldungen/")).collect();
    let own = feedback.iter().find(|w| w.contains(&format!("/{first_bfs}_"))).expect("its workbook");
    let file = own.rsplit('/').next().unwrap();
    assert!(file.len() <= 120, "{} bytes: {file}", file.len());
    assert!(dir.path().join("out").join(own).is_file());
    let unique: std::collections::BTreeSet<&&String> = feedback.iter().collect();
    assert_eq!(unique.len(), feedback.len());
    // The templates.
    let opts = beitraege::formulare::FormulareOptions {
        year: 2023,
        stammdaten: path,
        out: dir.path().join("formulare"),
        run_date: NaiveDate::from_ymd_opt(2024, 1, 5).unwrap(),
    };
    beitraege::formulare::run(&opts).expect("formulare");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("formulare"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{first_bfs}_")))
        .collect();
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n.len() <= 160), "{names:?}");
}

#[test]
fn a_sheet_name_differing_only_by_case_or_spaces_is_reported() {
    for variant in ["tarife ", "TARIFE", " Tari fe"] {
        // Beside the exact «Tarife»: ambiguous, an error.
        let mut sheets = sample_sheets();
        let mut copy = sheets.iter().find(|s| s.name == "Tarife").unwrap().clone();
        copy.name = variant.to_string();
        sheets.push(copy);
        let err = Stammdaten::from_sheets(&sheets).unwrap_err();
        let kinds: Vec<String> = err.kinds().iter().map(|k| format!("{k:?}")).collect();
        assert_eq!(kinds, vec!["SheetNameVariant"], "{variant:?}: {err}");
    }
    // Only the variant, no exact spelling: read as before.
    let mut sheets = sample_sheets();
    sheets.iter_mut().find(|s| s.name == "Tarife").unwrap().name = "tarife ".into();
    assert!(Stammdaten::from_sheets(&sheets).is_ok());
}
