//! `beitraege stichprobe` on the sample year: the draw reproduced from its seed (the
//! expected selections worked out by an independent implementation of SplitMix64 over the
//! BFS-Nrn. of `samples/2023/expected/annex.csv`), the threshold on both sides (amounts of
//! that file), the evidence's hashes against the inbox, the draw recorded in the ledger and
//! the outcome refused for the person who drew it.

use crate::common;
use beitraege::aufsicht::stichprobe::{execute, StichprobeOptions};
use beitraege::ledger::Ledger;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

fn options(out: &Path, threshold: Decimal, share: i64, seed: u64) -> StichprobeOptions {
    StichprobeOptions {
        run: common::sample_options(out, Some(1)),
        out: out.to_path_buf(),
        threshold: beitraege::domain::Chf::new(threshold),
        share: Decimal::from(share),
        seed,
        ledger: None,
        person: "anna".into(),
        at: "15.03.2024 10:00:00".into(),
        date: chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
    }
}

fn bfs_of(out: &Path, threshold: Decimal, share: i64, seed: u64) -> Vec<u32> {
    let r = execute(&options(out, threshold, share, seed)).unwrap();
    r.selected.iter().map(|s| s.candidate.bfs).collect()
}

#[test]
fn the_draw_is_reproduced_from_its_seed() {
    let dir = tempfile::tempdir().unwrap();
    // 107 municipalities, none above CHF 200'000, none with a WERT_SPRUNG or two corrections:
    // 10 % of 107 → 11 drawn.
    let seed42 = [2425, 2430, 2445, 2456, 2463, 2516, 2526, 2542, 2548, 2582, 2615];
    let seed7 = [2403, 2465, 2492, 2500, 2502, 2535, 2545, 2546, 2549, 2582, 2618];
    let t = Decimal::from(200_000);
    assert_eq!(bfs_of(&dir.path().join("a"), t, 10, 42), seed42);
    assert_eq!(bfs_of(&dir.path().join("b"), t, 10, 42), seed42);
    assert_eq!(bfs_of(&dir.path().join("c"), t, 10, 7), seed7);
    // The two folders of seed 42 hold the same workbook.
    let wb = |d: &str| std::fs::read(dir.path().join(d).join("Stichprobe_2023_42.xlsx")).unwrap();
    assert_eq!(wb("a"), wb("b"));
}

#[test]
fn the_threshold_selects_from_its_amount_on() {
    let dir = tempfile::tempdir().unwrap();
    // Grenchen (2546) has CHF 56'977.00, Härkingen (2402) CHF 160'644.00; no draw (0 %).
    assert_eq!(bfs_of(&dir.path().join("a"), Decimal::new(5_697_700, 2), 0, 1), [2402, 2546]);
    assert_eq!(bfs_of(&dir.path().join("b"), Decimal::new(5_697_701, 2), 0, 1), [2402]);
    assert_eq!(bfs_of(&dir.path().join("c"), Decimal::new(16_064_401, 2), 0, 1), Vec::<u32>::new());
    // 100 % draws every other municipality.
    assert_eq!(bfs_of(&dir.path().join("d"), Decimal::new(5_697_701, 2), 100, 1).len(), 107);
}

#[test]
fn the_evidence_holds_the_forms_as_received_with_their_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    // Solothurn (2601, CHF 40'382.00) by the threshold.
    execute(&options(&out, Decimal::from(40_382), 0, 1)).unwrap();
    let belege = out.join("Belege/2601_Solothurn");
    let sums = std::fs::read_to_string(belege.join("SHA256SUMS.txt")).unwrap();
    let lines: Vec<&str> = sums.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let (sha, rel) = line.split_once("  ").unwrap();
        let inbox_rel = rel.strip_prefix("Formulare/").unwrap();
        let inbox = std::fs::read(common::sample().join("inbox").join(inbox_rel)).unwrap();
        let copy = std::fs::read(belege.join(rel)).unwrap();
        let hex = |b: &[u8]| Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(hex(&inbox), sha, "{rel}");
        assert_eq!(copy, inbox, "{rel}");
    }
}

#[test]
fn the_draw_is_recorded_and_its_outcome_refused_for_the_person_who_drew_it() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("buchhaltung.sqlite");
    drop(Ledger::open(&ledger).unwrap());
    let out = dir.path().join("s");
    let bin = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_beitraege"));
        c.current_dir(common::root());
        c
    };
    let l = ledger.to_str().unwrap();
    let o = bin()
        .args(["stichprobe", "--jahr", "2023", "--seed", "42", "--schwelle", "160644", "--anteil", "0"])
        .args(["--buchhaltung", l, "--ausgabe", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The statement carries the municipality's correspondence (its sheet `Korrespondenz`).
    let konto = std::fs::read(out.join("Belege/2402_Härkingen/Kontoauszug.xlsx")).unwrap();
    let wb = beitraege::workbook::read_workbook(&konto, &beitraege::workbook::Limits::default()).unwrap();
    assert!(
        wb.sheets.iter().any(|s| s.name == "Korrespondenz"),
        "{:?}",
        wb.sheets.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert!(out.join("Belege/2402_Härkingen/Buchungen.csv").is_file());
    let rows = Ledger::open_read_only(&ledger).unwrap().samples().unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.art.as_str(), r.year, r.seed, r.bfs)).collect::<Vec<_>>(),
        [("Auswahl", 2023, 42, 2402)]
    );
    // The same account records the outcome: refused (exit 2), nothing recorded.
    let o = bin()
        .args(["stichprobe", "--jahr", "2023", "--ergebnis", "in-ordnung", "--bfs", "2402", "--notiz", "ok"])
        .args(["--buchhaltung", l])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(Ledger::open_read_only(&ledger).unwrap().samples().unwrap().len(), 1);
    // Another person (a second handle, as the ledger's own tests do) may.
    let mut h = Ledger::open(&ledger).unwrap();
    let r = h.record_outcome(2023, 2402, beitraege::ledger::Outcome::Maengel, "Beleg fehlt", "zz-andere", "x", "t");
    assert_eq!(r.unwrap().outcome.as_deref(), Some("Mängel"));
}
