//! The sample year against `samples/2023/expected`, in full: every annex row, every expected
//! finding, every file state, the summary; plus the properties of the written outputs.

use crate::common;
use beitraege::domain::Chf;

use beitraege::domain::{FileState, Severity};
use beitraege::fields::{FormField, TableColumn};
use beitraege::run::{evaluate, render, run, Evaluation};
use calamine::{open_workbook, Data, Reader, Xlsx};
use common::{read_csv, sample, sample_options};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::OnceLock;

fn eval() -> &'static Evaluation {
    static E: OnceLock<Evaluation> = OnceLock::new();
    E.get_or_init(|| {
        evaluate(&sample_options(std::path::Path::new("/nonexistent"), None)).expect("sample year evaluates")
    })
}

fn dec(s: &str) -> Chf {
    if s.is_empty() {
        Chf::ZERO
    } else {
        Chf::from_str(s).unwrap()
    }
}

#[test]
fn every_annex_row_matches_expected() {
    let e = eval();
    let expected = read_csv(&sample().join("expected/annex.csv"));
    let got: BTreeMap<u32, _> = e.comp.rows.iter().map(|r| (r.bfs, r)).collect();
    assert_eq!(got.len(), expected.len(), "one row per municipality existing in 2023");
    for x in &expected {
        let bfs: u32 = x["bfs"].parse().unwrap();
        let r = got.get(&bfs).unwrap_or_else(|| panic!("row {bfs} missing"));
        let ctx = format!("{bfs} {}", x["name"]);
        assert_eq!(r.name, x["name"], "{ctx}");
        assert_eq!(r.payee.to_string(), x["payee"], "{ctx} payee");
        assert_eq!(r.base.to_string(), x["base"], "{ctx} base");
        assert_eq!(r.sockel, dec(&x["sockel"]), "{ctx} sockel");
        assert_eq!(r.paid.eg.to_string(), x["eg"], "{ctx} eg");
        assert_eq!(r.amounts.eg, dec(&x["fall_eg"]), "{ctx} fall_eg");
        assert_eq!(r.paid.d_eg.to_string(), x["d_eg"], "{ctx} d_eg");
        assert_eq!(r.amounts.d_eg, dec(&x["dolm_eg"]), "{ctx} dolm_eg");
        assert_eq!(r.paid.ig.to_string(), x["ig"], "{ctx} ig");
        assert_eq!(r.amounts.ig, dec(&x["fall_ig"]), "{ctx} fall_ig");
        assert_eq!(r.paid.d_ig.to_string(), x["d_ig"], "{ctx} d_ig");
        assert_eq!(r.amounts.d_ig, dec(&x["dolm_ig"]), "{ctx} dolm_ig");
        assert_eq!(r.clawback, dec(&x["rueck"]), "{ctx} rueck");
        assert_eq!(r.total, dec(&x["total"]), "{ctx} total");
        assert!(r.status.label().starts_with(&x["status"]), "{ctx}: status {:?} want {}", r.status, x["status"]);
    }
    let want_total = Chf::checked_sum(expected.iter().map(|x| dec(&x["total"]))).unwrap();
    assert_eq!(e.comp.total, want_total);
}

/// Findings the run reports beyond `expected/findings.csv`, each with why it is right:
/// (file or empty, BFS-Nr. for a finding about a municipality as a whole, code, reason).
const EXTRA_FINDINGS: &[(&str, Option<u32>, &str, &str)] = &[
    // RULES.md: BERICHT_FEHLT for a half-year of an eligible municipality without a valid
    // report. Each of these has its only report for the half-year rejected, and the annex of
    // expected/ pays that half-year nothing.
    ("", Some(2401), "BERICHT_FEHLT", "Egerkingen's H2 report is rejected (PERIODE_UNGUELTIG)"),
    ("", Some(2408), "BERICHT_FEHLT", "Wolfwil's H2 report is rejected (PERIODE_ZUKUNFT)"),
    ("", Some(2614), "BERICHT_FEHLT", "Büsserach's H1 report is rejected (FORMULAR_VERSION)"),
];

/// Values of `expected/files.json` that the file itself does not hold, and why: (file, key,
/// the value the file holds).
const NOT_AS_LISTED: &[(&str, &str, &str)] = &[
    // B16 holds the formula =1/0 with its cached #DIV/0!: files.json keeps the value from
    // before the error was put in; expected/findings.csv lists WERT_KEINE_ZAHL for the file.
    ("Reporting_2023_H1_Gerlafingen.xlsx", "persons", "#DIV/0!"),
];

/// Files of `expected/files.json` whose values cannot be read by design, and why.
const NOT_READABLE: &[(&str, &str)] =
    &[("2023-07/Reporting_passwort.xlsx", "password-protected: DATEI_VERSCHLUESSELT, never decrypted")];

/// A finding as `expected/findings.csv` names it: (file, BFS-Nr. where there is no file, code).
type Key = (String, Option<u32>, String);

#[test]
fn the_findings_are_exactly_the_expected_ones() {
    let e = eval();
    let got: BTreeSet<Key> = e
        .findings
        .iter()
        .map(|f| match &f.file {
            Some(file) => (file.clone(), None, f.code.as_str().to_string()),
            None => (String::new(), f.bfs, f.code.as_str().to_string()),
        })
        .collect();
    let mut want: BTreeSet<Key> = read_csv(&sample().join("expected/findings.csv"))
        .into_iter()
        .map(|w| {
            let bfs = if w["datei"].is_empty() { Some(w["bfs_nr"].parse().unwrap()) } else { None };
            (w["datei"].clone(), bfs, w["code"].clone())
        })
        .collect();
    for (file, bfs, code, why) in EXTRA_FINDINGS {
        assert!(!why.is_empty());
        assert!(want.insert((file.to_string(), *bfs, code.to_string())), "{file} {code} is expected already");
    }
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(missing.is_empty() && unexpected.is_empty(), "missing: {missing:#?}\nunexpected: {unexpected:#?}");
}

/// The form fields behind the keys of `expected/files.json`.
const REPORT_KEYS: &[(&str, FormField)] = &[
    ("version", FormField::SiVersion),
    ("name", FormField::SiGemeinde),
    ("bfs", FormField::SiBfsNr),
    ("year", FormField::SiJahr),
    ("half", FormField::SiHalbjahr),
    ("ib", FormField::SiBeauftragte),
    ("email", FormField::SiEmail),
    ("date", FormField::SiDatum),
    ("eg", FormField::SiEgAnzahl),
    ("d_eg", FormField::SiEgDolmetsch),
    ("d_other", FormField::SiEgDolmetschAndere),
    ("persons", FormField::SiEgPersonen),
    ("folders", FormField::SiInfomappen),
    ("arrivals", FormField::SiNeuzuzuege),
    ("ig", FormField::SiIgAnzahl),
    ("d_ig", FormField::SiIgDolmetsch),
    ("reports", FormField::SiMeldungen),
];
const SD_KEYS: &[(&str, FormField)] = &[
    ("version", FormField::SdVersion),
    ("name", FormField::SdGemeinde),
    ("bfs", FormField::SdBfsNr),
    ("year", FormField::SdJahr),
    ("ib", FormField::SdBeauftragte),
    ("function", FormField::SdFunktion),
    ("email", FormField::SdEmail),
    ("lead", FormField::SdLeitgemeinde),
    ("q_org", FormField::SdQOrganisation),
    ("q_stelle", FormField::SdQAnlaufstelle),
    ("q_ei", FormField::SdQErstinfo),
    ("q_ang", FormField::SdQAngebote),
    ("q_ig", FormField::SdQIntegrationsgespraeche),
    ("q_netz", FormField::SdQVernetzung),
    ("remarks", FormField::SdBemerkungen),
    ("date", FormField::SdDatum),
];

/// Whether a cell as read matches the value `expected/files.json` gives: a number as the
/// same number (an integer stored as a double included), a text as the same text, a date
/// as the date (or, where the form holds the date as text, its Swiss spelling), null as blank.
fn matches(got: &beitraege::workbook::Value, want: &serde_json::Value) -> bool {
    use beitraege::workbook::Value as V;
    use serde_json::Value as J;
    match (got, want) {
        (g, J::Null) => g.is_empty(),
        (V::Int(i), J::Number(n)) => n.as_i64() == Some(*i) || n.as_f64() == Some(*i as f64),
        (V::Float(f), J::Number(n)) => n.as_f64() == Some(*f),
        (V::Date(d), J::String(s)) => d.format("%Y-%m-%d").to_string() == *s,
        (V::Text(t), J::String(s)) => {
            t == s
                || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .is_ok_and(|d| t.trim() == d.format("%d.%m.%Y").to_string())
        }
        (V::Int(i), J::String(s)) => i.to_string() == *s,
        (V::Float(f), J::String(s)) => f.to_string() == *s,
        _ => false,
    }
}

#[test]
fn every_field_of_expected_files_json_is_read_as_written() {
    use beitraege::workbook::{read_workbook, Limits};
    let files: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(sample().join("expected/files.json")).unwrap()).unwrap();
    assert_eq!(files.len(), 255);
    let mut compared = 0;
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f["datei"].as_str().unwrap();
        let kind = f["kind"].as_str().unwrap();
        let bytes = std::fs::read(sample().join("inbox").join(rel)).unwrap();
        let read = read_workbook(&bytes, &Limits::default()).ok();
        let form = read.as_ref().and_then(beitraege::extract::extract);
        let keys = match kind {
            "rep" | "dup" => REPORT_KEYS,
            "sd" => SD_KEYS,
            "notform" => {
                assert!(read.is_some() && form.is_none(), "{rel}: a workbook, but no form");
                continue;
            }
            _ => {
                assert!(form.is_none(), "{rel}: not read as a form");
                continue;
            }
        };
        if NOT_READABLE.iter().any(|(f, _)| *f == rel) {
            assert!(read.is_none(), "{rel} is listed as not readable");
            continue;
        }
        let Some(form) = form else {
            wrong.push(format!("{rel}: no form recognised"));
            continue;
        };
        let values = f["values"].as_object().unwrap();
        assert_eq!(values.len(), keys.len(), "{rel}: every key of files.json is compared");
        for (key, field) in keys {
            let got = &form.field(*field).value;
            let want = &values[*key];
            compared += 1;
            if let Some((_, _, held)) = NOT_AS_LISTED.iter().find(|(f, k, _)| *f == rel && k == key) {
                let error = beitraege::workbook::Value::Error(held.to_string());
                assert_eq!(*got, error, "{rel}: {key}");
                continue;
            }
            if !matches(got, want) {
                wrong.push(format!("{rel}: {key} read {got:?}, expected {want}"));
            }
        }
        let table = form.table.as_ref().map(|t| t.rows.as_slice()).unwrap_or_default();
        match f["table"].as_array() {
            None => assert!(table.is_empty(), "{rel}: no table expected"),
            Some(rows) => {
                assert_eq!(table.len(), rows.len(), "{rel}: table rows");
                for (i, (got, want)) in table.iter().zip(rows).enumerate() {
                    let want = want.as_array().unwrap();
                    for (c, key) in TableColumn::ALL.into_iter().enumerate() {
                        compared += 1;
                        let v = got.get(key).value;
                        if !matches(&v, &want[c]) {
                            wrong.push(format!("{rel}: table row {i} {key:?} read {v:?}, expected {}", want[c]));
                        }
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {compared} values differ:\n{}", wrong.len(), wrong.join("\n"));
    assert!(compared > 4000, "{compared}");
}

#[test]
fn clean_files_carry_no_fehler() {
    let e = eval();
    let expected = read_csv(&sample().join("expected/findings.csv"));
    let flagged: BTreeSet<&str> = expected.iter().map(|w| w["datei"].as_str()).filter(|d| !d.is_empty()).collect();
    for f in &e.findings {
        if let Some(file) = &f.file {
            if f.severity == Severity::Fehler {
                assert!(flagged.contains(file.as_str()), "unexpected Fehler {} on {file}", f.code);
            }
        }
    }
}

#[test]
fn every_file_state_matches_expected() {
    let e = eval();
    let expected: BTreeMap<String, String> = read_csv(&sample().join("expected/states.csv"))
        .into_iter()
        .map(|r| (r["datei"].clone(), r["status"].clone()))
        .collect();
    let got: BTreeMap<String, String> =
        e.resolved.files.iter().map(|f| (f.result.file.rel.clone(), f.state.as_str().to_string())).collect();
    assert_eq!(got, expected);
}

#[test]
fn summary_counts_match() {
    let e = eval();
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample().join("expected/summary.json")).unwrap()).unwrap();
    assert_eq!(e.comp.rows.len() as u64, s["municipalities"].as_u64().unwrap());
    assert_eq!(e.resolved.files.len() as u64, s["files"].as_u64().unwrap());
    assert_eq!(e.comp.total, dec(s["total"].as_str().unwrap()));
    for st in FileState::ALL {
        assert_eq!(e.count_state(st) as u64, s["states"][st.as_str()].as_u64().unwrap(), "{st}");
    }
}

#[test]
fn no_file_is_rejected_or_ignored_without_a_finding() {
    for f in &eval().resolved.files {
        if matches!(f.state, FileState::Abgelehnt | FileState::Ignoriert | FileState::Ersetzt) {
            assert!(!f.result.findings.is_empty(), "{} is {} without a finding", f.result.file.rel, f.state);
        }
        if f.state == FileState::Abgelehnt {
            assert!(f.result.findings.iter().any(|x| x.severity == Severity::Fehler), "{}", f.result.file.rel);
        }
    }
}

#[test]
fn payouts_minus_invoices_equal_the_annex_total() {
    let e = eval();
    let paid = Chf::checked_sum(e.comp.payouts.iter().map(|p| p.net())).unwrap();
    let invoiced = Chf::checked_sum(e.comp.invoices.iter().map(|i| i.amount)).unwrap();
    assert_eq!(paid.checked_sub(invoiced), Some(e.comp.total));
    // Gunzgen's clawback of 25'000, decided 03.05.2023, is offset by the first payout run on
    // or after it (30.09.2023) against that run's payout, H1: 2 × 200 + 2 × 160 + 1 × 200 +
    // 1 × 160 = 1'080; the run invoices 23'920, due 30.10.2023. The Sockelbeitrag (paid
    // 31.03., before the decision) and H2 (paid 31.03.2024, after the invoice) are not offset.
    let gunzgen: Vec<_> = e.comp.invoices.iter().filter(|i| i.bfs == 2578).collect();
    assert_eq!(gunzgen.len(), 1);
    assert_eq!(gunzgen[0].amount, Chf::from_int(23920));
    assert_eq!(gunzgen[0].due_on, chrono::NaiveDate::from_ymd_opt(2023, 10, 30).unwrap());
}

fn cell_decimal(d: &Data) -> Decimal {
    match d {
        Data::Float(f) => Decimal::from_str(&format!("{f}")).unwrap().round_dp(2),
        Data::Int(i) => Decimal::from(*i),
        Data::Empty => Decimal::ZERO,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn written_annex_rows_add_up_to_total_kanton() {
    let dir = tempfile::tempdir().unwrap();
    let opts = sample_options(dir.path(), None);
    run(&opts).unwrap();
    let mut wb: Xlsx<_> = open_workbook(dir.path().join("Anhang_1_Beitraege_2023.xlsx")).unwrap();
    let range = wb.worksheet_range("Beiträge").unwrap();
    let formulas = wb.worksheet_formula("Beiträge").unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let (hi, header) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.iter().any(|c| c == &Data::String("BFS-Nr.".into())))
        .expect("header row");
    let col =
        |label: &str| header.iter().position(|c| c == &Data::String(label.into())).unwrap_or_else(|| panic!("{label}"));
    for label in beitraege::write::annex::COLUMNS {
        col(label);
    }
    let total_row =
        rows.iter().position(|r| r.get(col("Gemeinde")) == Some(&Data::String("Total Kanton".into()))).unwrap();
    let muni_rows = &rows[hi + 1..total_row];
    assert_eq!(muni_rows.len(), 107);
    let money = [
        "Sockelbeitrag",
        "Fallpauschale Erstinformation",
        "Dolmetschpauschale Erstinformation",
        "Fallpauschale Integrationsgespräche",
        "Dolmetschpauschale Integrationsgespräche",
        "Rückforderung",
        "Total",
    ];
    for label in money {
        let c = col(label);
        let sum: Decimal = muni_rows.iter().map(|r| cell_decimal(&r[c])).sum();
        assert_eq!(sum, cell_decimal(&rows[total_row][c]), "column {label}");
    }
    for r in muni_rows {
        let parts: Decimal = money[..6].iter().map(|l| cell_decimal(&r[col(l)])).sum();
        assert_eq!(parts, cell_decimal(&r[col("Total")]), "row {:?}", r[0]);
    }
    assert_eq!(cell_decimal(&rows[total_row][col("Total")]), eval().comp.total.decimal());
    // Totals are formulas (with the stored results checked above).
    let abs = (total_row as u32 + range.start().unwrap().0, col("Total") as u32 + range.start().unwrap().1);
    let f = formulas.get_value(abs).unwrap();
    assert!(f.to_uppercase().starts_with("SUM("), "{f}");
    // Rows are ordered by BFS-Nr.
    let bfs: Vec<Decimal> = muni_rows.iter().map(|r| cell_decimal(&r[col("BFS-Nr.")])).collect();
    assert!(bfs.windows(2).all(|w| w[0] < w[1]));
    for sheet in ["Beiträge", "Auszahlungen", "Tarife", "Kredit"] {
        assert!(wb.sheet_names().contains(&sheet.to_string()), "{sheet}");
    }
}

#[test]
fn written_report_and_json_cover_every_file_and_finding() {
    let dir = tempfile::tempdir().unwrap();
    run(&sample_options(dir.path(), None)).unwrap();
    let e = eval();
    let befunde: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("befunde.json")).unwrap()).unwrap();
    let arr = befunde.as_array().unwrap();
    assert_eq!(arr.len(), e.findings.len());
    for f in arr {
        for key in ["bfs_nr", "datei", "blatt", "zelle", "code", "schwere", "meldung"] {
            assert!(f.get(key).is_some(), "key {key} in {f}");
        }
    }
    let dateien: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("dateien.json")).unwrap()).unwrap();
    assert_eq!(dateien.as_array().unwrap().len(), 255);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["eingaben"].as_array().unwrap().len() >= 256, "inbox files, journal and master data");
    let outputs = manifest["ausgaben"].as_array().unwrap();
    for o in outputs {
        let rel = o["datei"].as_str().unwrap();
        let bytes = std::fs::read(dir.path().join(rel)).unwrap();
        let h = beitraege::write::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        assert_eq!(o["sha256"].as_str().unwrap(), h, "{rel}");
    }
    let mut wb: Xlsx<_> = open_workbook(dir.path().join("Befunde_2023.xlsx")).unwrap();
    let befunde_sheet = wb.worksheet_range("Befunde").unwrap();
    let header: Vec<String> = befunde_sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, beitraege::write::report::BEFUNDE_COLUMNS);
    assert_eq!(befunde_sheet.height(), e.findings.len() + 1);
    assert_eq!(wb.worksheet_range("Dateien").unwrap().height(), 256);
    // No staging folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|x| x.ok())
        .filter(|x| x.file_name().to_string_lossy().starts_with(".beitraege"))
        .filter(|x| x.file_name() != beitraege::write::commit::OWNED_INDEX)
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn same_figures_findings_and_files_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    type Snapshot = (String, String, Vec<(String, Vec<u8>)>);
    let mut reference: Option<Snapshot> = None;
    for threads in [1, 2, 4] {
        let opts = sample_options(dir.path(), Some(threads));
        let e = evaluate(&opts).unwrap();
        let files = render(&e, &opts).unwrap();
        let snapshot = (
            format!("{:?}", e.comp),
            format!("{:?}", e.findings),
            files.into_iter().map(|f| (f.rel, f.bytes)).collect::<Vec<_>>(),
        );
        match &reference {
            None => reference = Some(snapshot),
            Some(r) => {
                assert_eq!(r.0, snapshot.0, "figures differ with {threads} threads");
                assert_eq!(r.1, snapshot.1, "findings differ with {threads} threads");
                assert_eq!(r.2.len(), snapshot.2.len());
                for (a, b) in r.2.iter().zip(&snapshot.2) {
                    assert_eq!(a.0, b.0);
                    // Drafts differ in their random MIME boundary only; the manifest in their hashes.
                    if a.0.ends_with(".eml") {
                        assert!(
                            crate::common::eml_normalised(&a.1) == crate::common::eml_normalised(&b.1),
                            "{} differs with {threads} threads",
                            a.0
                        );
                    } else if a.0 != "manifest.json" {
                        assert!(a.1 == b.1, "{} differs with {threads} threads", a.0);
                    }
                }
            }
        }
    }
}

#[test]
fn input_files_are_never_modified() {
    let inbox = sample().join("inbox");
    let before = beitraege::scan::scan(&inbox).unwrap();
    let hashes = |s: &beitraege::scan::Inbox| -> Vec<(String, Vec<u8>)> {
        s.files.iter().map(|f| (f.rel.clone(), std::fs::read(&f.path).unwrap())).collect()
    };
    let h0 = hashes(&before);
    let dir = tempfile::tempdir().unwrap();
    run(&sample_options(dir.path(), Some(2))).unwrap();
    let after = beitraege::scan::scan(&inbox).unwrap();
    assert_eq!(h0, hashes(&after));
}
