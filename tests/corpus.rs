//! The sample year against `samples/2023/expected`, in full: every annex row, every expected
//! finding, every file state, the summary; plus the properties of the written outputs.

mod common;

use beitraege::domain::{FileState, Severity};
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

fn dec(s: &str) -> Decimal {
    if s.is_empty() {
        Decimal::ZERO
    } else {
        Decimal::from_str(s).unwrap()
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
    let want_total: Decimal = expected.iter().map(|x| dec(&x["total"])).sum();
    assert_eq!(e.comp.total, want_total);
}

#[test]
fn every_expected_finding_is_reported() {
    let e = eval();
    let by_file: BTreeSet<(String, String)> =
        e.findings.iter().map(|f| (f.file.clone().unwrap_or_default(), f.code.as_str().to_string())).collect();
    let by_muni: BTreeSet<(Option<u32>, String)> =
        e.findings.iter().map(|f| (f.bfs, f.code.as_str().to_string())).collect();
    for w in read_csv(&sample().join("expected/findings.csv")) {
        if w["datei"].is_empty() {
            let b: u32 = w["bfs_nr"].parse().unwrap();
            assert!(by_muni.contains(&(Some(b), w["code"].clone())), "missing {} for {b}", w["code"]);
        } else {
            assert!(
                by_file.contains(&(w["datei"].clone(), w["code"].clone())),
                "missing {} on {}",
                w["code"],
                w["datei"]
            );
        }
    }
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
        e.resolved.files.iter().map(|f| (f.result.rel.clone(), f.state.as_str().to_string())).collect();
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
            assert!(!f.result.findings.is_empty(), "{} is {} without a finding", f.result.rel, f.state);
        }
        if f.state == FileState::Abgelehnt {
            assert!(f.result.findings.iter().any(|x| x.severity == Severity::Fehler), "{}", f.result.rel);
        }
    }
}

#[test]
fn payouts_minus_invoices_equal_the_annex_total() {
    let e = eval();
    let paid: Decimal = e.comp.payouts.iter().map(|p| p.net()).sum();
    let invoiced: Decimal = e.comp.invoices.iter().map(|i| i.amount).sum();
    assert_eq!(paid - invoiced, e.comp.total);
    // Gunzgen's clawback of 25'000 exceeds its payouts: the rest is invoiced.
    let gunzgen = e.comp.invoices.iter().find(|i| i.bfs == 2578).expect("invoice for 2578");
    let row = e.comp.rows.iter().find(|r| r.bfs == 2578).unwrap();
    assert_eq!(gunzgen.amount, -row.total + row.sockel, "the Sockelbeitrag was paid in March, before the clawback");
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
    assert_eq!(cell_decimal(&rows[total_row][col("Total")]), eval().comp.total);
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
                    assert!(a.1 == b.1, "{} differs with {threads} threads", a.0);
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
