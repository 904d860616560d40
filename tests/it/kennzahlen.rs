//! `beitraege kennzahlen`: the figures of the sample year recomputed by hand for two
//! municipalities (Egerkingen, Härkingen) and one district (Gäu) from
//! `samples/2023/expected/annex.csv` and the forms' values in `expected/files.json`; the
//! workbook read back with the project's reader equals the CSV and the JSON; an inbox root
//! with two year folders gives two years; shares on both sides of a zero denominator.

use crate::common;
use beitraege::aufsicht::kennzahlen::{execute, KennzahlenOptions, CSV, JSON, SHEET, WORKBOOK};
use beitraege::workbook::{read_workbook, Limits, Value};
use common::forms::MasterSpec;
use common::inbox::{infile, write_inbox, write_master, InFile};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;

fn options(inbox: &Path, stammdaten: &Path, years: &[i32], out: &Path) -> KennzahlenOptions {
    KennzahlenOptions {
        inbox: inbox.to_path_buf(),
        stammdaten: stammdaten.to_path_buf(),
        years: years.to_vec(),
        out: out.to_path_buf(),
        ledger: None,
        limits: Limits::default(),
        threads: Some(1),
        date: chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
    }
}

/// The CSV as header → value maps (the BOM dropped; no field of these tests is quoted).
fn csv_rows(out: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(out.join(CSV)).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("UTF-8 BOM");
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let head: Vec<String> = lines.next().unwrap().split(';').map(str::to_string).collect();
    let rows = lines.map(|l| l.split(';').map(str::to_string).collect()).collect();
    (head, rows)
}

/// The row of `level` named `name` in `year`, keyed by the CSV header.
fn row(out: &Path, year: &str, level: &str, name: &str) -> BTreeMap<String, String> {
    let (head, rows) = csv_rows(out);
    let r = rows.iter().find(|r| r[0] == year && r[1] == level && r[4] == name).unwrap_or_else(|| panic!("{name}"));
    head.into_iter().zip(r.iter().cloned()).collect()
}

/// The figures asserted, in column order: counts, then shares and amounts.
const KEYS: [&str; 24] = [
    "Gemeinden",
    "Erstinformationsgespräche",
    "davon mit Dolmetschenden (HEKS)",
    "Anteil mit Dolmetschenden %",
    "Integrationsgespräche",
    "Integrationsgespräche mit Dolmetschenden",
    "Erreichte Personen",
    "Neuzuzüge aus dem Ausland",
    "Ausländische Wohnbevölkerung",
    "Sockelbeitrag CHF",
    "Pauschalen Erstinformationsgespräche CHF",
    "Pauschalen Dolmetschende EG CHF",
    "Pauschalen Integrationsgespräche CHF",
    "Pauschalen Dolmetschende IG CHF",
    "Rückforderungen CHF",
    "Beitrag total CHF",
    "Beitrag je Person der ausländischen Wohnbevölkerung CHF",
    "Kredit CHF",
    "Anteil am Kredit %",
    "Verspätete Formulare (FRIST_VERPASST)",
    "Fehlende Berichte (BERICHT_FEHLT)",
    "Fehlende Selbstdeklarationen (SD_FEHLT)",
    "BFS-Nr.",
    "Bezirk",
];

fn assert_row(got: &BTreeMap<String, String>, want: [&str; 24]) {
    for (k, w) in KEYS.iter().zip(want) {
        assert_eq!(got[*k], w, "{k}");
    }
}

fn sample_out(dir: &Path, ledger: Option<&Path>) -> std::path::PathBuf {
    let out = dir.join("k");
    let mut o = options(&common::sample().join("inbox"), &common::sample().join("Stammdaten.xlsx"), &[2023], &out);
    o.ledger = ledger.map(Path::to_path_buf);
    execute(&o).unwrap();
    out
}

#[test]
fn the_sample_year_recomputed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let out = sample_out(dir.path(), None);
    // Egerkingen (2401): H1 report 2023-07/Reporting_2023_H1_Egerkingen.xlsx (EG 7, HEKS 2,
    // persons 10, arrivals 48, IG 1, IG interpreters 1); its H2 report is rejected
    // (half-year «3»), so BERICHT_FEHLT 1. Annex: base 1298, Sockel 9086.00, 1400.00 +
    // 320.00 + 200.00 + 160.00, total 11166.00.
    // Interpreters 2 / 7 = 28.571 % → 28.57; 11166 / 1298 = 8.6025 → 8.60 CHF;
    // credit 1'000'000 (Stammdaten, Kredit 2023): 11166 / 1000000 = 1.1166 % → 1.12.
    assert_row(
        &row(&out, "2023", "Gemeinde", "Egerkingen"),
        [
            "1", "7", "2", "28.57", "1", "1", "10", "48", "1298", "9086.00", "1400.00", "320.00", "200.00", "160.00",
            "0.00", "11166.00", "8.60", "", "1.12", "0", "1", "0", "2401", "Gäu",
        ],
    );
    // Härkingen (2402): H1 Reporting_2023_H1_Härkingen.xlsx (EG 1, persons 2, arrivals 7) and
    // H2 2024-01/Reporting_2023_H2_Härkingen.xlsx (EG 792, persons 792, arrivals 792):
    // EG 793, no interpreters → 0 / 793 = 0.00 %; persons 794, arrivals 799. Annex: base 292,
    // Sockel 2044.00, 793 × 200 = 158600.00, total 160644.00; 160644 / 292 = 550.1507 →
    // 550.15; 160644 / 1000000 = 16.0644 % → 16.06.
    assert_row(
        &row(&out, "2023", "Gemeinde", "Härkingen"),
        [
            "1",
            "793",
            "0",
            "0.00",
            "0",
            "0",
            "794",
            "799",
            "292",
            "2044.00",
            "158600.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "160644.00",
            "550.15",
            "",
            "16.06",
            "0",
            "0",
            "0",
            "2402",
            "Gäu",
        ],
    );
    // Oensingen (2407): no report, no Selbstdeklaration: 0 conversations → no interpreter
    // share (empty, not a division by zero); SD_FEHLT 1.
    let oensingen = row(&out, "2023", "Gemeinde", "Oensingen");
    assert_eq!(oensingen["Erstinformationsgespräche"], "0");
    assert_eq!(oensingen["Anteil mit Dolmetschenden %"], "");
    assert_eq!(oensingen["Fehlende Selbstdeklarationen (SD_FEHLT)"], "1");
    // District Gäu: the 8 municipalities 2401–2408 of annex.csv.
    // EG 7 + 793 + 1 + 2 + 8 + 7 + 0 + 1 = 819; HEKS 2 + 0 + 0 + 1 + 2 + 3 + 0 + 1 = 9;
    // 9 / 819 = 1.0989 % → 1.10; IG 1 (Egerkingen; Wolfwil's H2 with IG 1 is rejected), 1.
    // Persons (files.json, reports used): 10 + (2 + 792) + (0 + 2) + (0 + 3) + (2 + 3) + (8 + 5)
    // + 0 + 2 = 829; arrivals 48 + (7 + 792) + (1 + 6) + (10 + 12) + (7 + 8) + (29 + 24) + 0 + 8
    // = 952. Base 1298 + 292 + 146 + 332 + 191 + 634 + 2348 + 283 = 5524.
    // Sockel 9086 + 2044 + 1022 + 2324 + 1337 + 4438 + 0 + 1981 = 22232;
    // EG 1400 + 158600 + 200 + 400 + 1600 + 1400 + 0 + 200 = 163800;
    // HEKS 320 + 0 + 0 + 160 + 320 + 480 + 0 + 160 = 1440; IG 200, 160; no clawback;
    // total 11166 + 160644 + 1222 + 2884 + 3257 + 6318 + 0 + 2341 = 187832.
    // 187832 / 5524 = 34.0029 → 34.00; 187832 / 1000000 = 18.7832 % → 18.78.
    // BERICHT_FEHLT: Egerkingen H2, Wolfwil H2 → 2; SD_FEHLT: Oensingen → 1.
    assert_row(
        &row(&out, "2023", "Bezirk", "Gäu"),
        [
            "8",
            "819",
            "9",
            "1.10",
            "1",
            "1",
            "829",
            "952",
            "5524",
            "22232.00",
            "163800.00",
            "1440.00",
            "200.00",
            "160.00",
            "0.00",
            "187832.00",
            "34.00",
            "",
            "18.78",
            "0",
            "2",
            "1",
            "",
            "Gäu",
        ],
    );
    // The canton: 107 municipalities, total 634409.00 (summary.json), credit 1000000.00,
    // 634409 / 1000000 = 63.4409 % → 63.44.
    let canton = row(&out, "2023", "Kanton", "Kanton Solothurn");
    assert_eq!(canton["Gemeinden"], "107");
    assert_eq!(canton["Beitrag total CHF"], "634409.00");
    assert_eq!(canton["Kredit CHF"], "1000000.00");
    assert_eq!(canton["Anteil am Kredit %"], "63.44");
}

/// A workbook cell as the CSV writes it.
fn as_csv(v: &Value) -> String {
    match v {
        Value::Empty => String::new(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => {
            let d = Decimal::from_f64_retain(*f).unwrap().round_dp(2);
            if d.fract().is_zero() && !f.to_string().contains('.') {
                d.trunc().to_string()
            } else {
                format!("{d:.2}")
            }
        }
        Value::Text(s) => s.clone(),
        other => panic!("unexpected cell {other:?}"),
    }
}

#[test]
fn the_workbook_equals_the_csv_and_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("buchhaltung.sqlite");
    drop(beitraege::ledger::Ledger::open(&ledger).unwrap());
    let out = sample_out(dir.path(), Some(&ledger));
    let (head, rows) = csv_rows(&out);
    // With a ledger: the booked contributions as an extra column (nothing booked: 0.00).
    assert_eq!(head.last().unwrap(), "Gebuchte Beiträge CHF (Buchhaltung)");
    assert_eq!(rows.len(), 1 + 10 + 107);
    assert!(rows.iter().all(|r| r.last().unwrap() == "0.00"));
    let wb = read_workbook(&std::fs::read(out.join(WORKBOOK)).unwrap(), &Limits::default()).unwrap();
    let sheet = wb.sheet(SHEET).unwrap();
    for (c, h) in head.iter().enumerate() {
        assert_eq!(as_csv(sheet.get(0, c as u32)), *h);
    }
    for (r, line) in rows.iter().enumerate() {
        for (c, want) in line.iter().enumerate() {
            let got = as_csv(sheet.get(1 + r as u32, c as u32));
            // Counts are whole numbers in both; amounts and shares to the Rappen.
            let same =
                got == *want || (!want.is_empty() && want.parse::<Decimal>().ok() == got.parse::<Decimal>().ok());
            assert!(same, "row {r} «{}»: workbook {got}, CSV {want}", head[c]);
        }
    }
    assert!(sheet.get(1 + rows.len() as u32, 0).is_empty());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(JSON)).unwrap()).unwrap();
    let keys: Vec<&str> =
        json["spalten"].as_array().unwrap().iter().map(|c| c["schluessel"].as_str().unwrap()).collect();
    let labels: Vec<&str> =
        json["spalten"].as_array().unwrap().iter().map(|c| c["bezeichnung"].as_str().unwrap()).collect();
    assert_eq!(labels, head);
    let zeilen = json["zeilen"].as_array().unwrap();
    assert_eq!(zeilen.len(), rows.len());
    for (z, line) in zeilen.iter().zip(&rows) {
        for (k, want) in keys.iter().zip(line) {
            let got = match &z[*k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                other => panic!("{other}"),
            };
            assert_eq!(got, *want, "{k}");
        }
    }
    assert_eq!(json["jahre"], serde_json::json!([2023]));
}

/// Master data for 2022 and 2023: Solothurn (2601, district Solothurn) with 4000 foreign
/// residents, «Klein» (2605, district X) with none on the Stichtag of 2023 (the contract
/// 2602/2603 without forms); a credit for 2023 only.
fn two_year_spec() -> MasterSpec {
    MasterSpec {
        population: vec![
            (2601, beitraege::domain::ymd(2020, 12, 31), 4000),
            (2605, beitraege::domain::ymd(2020, 12, 31), 50),
            (2601, beitraege::domain::ymd(2021, 12, 31), 4000),
            (2605, beitraege::domain::ymd(2021, 12, 31), 0),
            (2602, beitraege::domain::ymd(2020, 12, 31), 300),
            (2603, beitraege::domain::ymd(2020, 12, 31), 100),
            (2602, beitraege::domain::ymd(2021, 12, 31), 300),
            (2603, beitraege::domain::ymd(2021, 12, 31), 100),
        ],
        credit: vec![(2023, 100_000)],
        clawbacks: vec![],
        ..MasterSpec::default()
    }
}

fn report_file(rel: &str, year: i32, bfs: i64, name: &str, half: i64, eg: i64, heks: i64) -> InFile {
    use beitraege::workbook::Value as V;
    let d = beitraege::domain::ymd;
    let o = vec![
        ("SI_JAHR", V::Int(year as i64)),
        ("SI_DATUM", V::Date(d(year, 7, 10))),
        ("SI_EG_ANZAHL", V::Int(eg)),
        ("SI_EG_DOLMETSCH", V::Int(heks)),
        ("SI_EG_PERSONEN", V::Int(eg)),
        ("SI_NEUZUZUEGE", V::Int(3)),
        ("SI_IG_ANZAHL", V::Int(0)),
        ("SI_IG_DOLMETSCH", V::Int(0)),
    ];
    infile(rel, vec![common::forms::report(bfs, name, half, &o)], d(year, 7, 15))
}

fn sd_file(rel: &str, year: i32, bfs: i64, name: &str) -> InFile {
    use beitraege::workbook::Value as V;
    let d = beitraege::domain::ymd;
    let o = [("SD_JAHR", V::Int(year as i64)), ("SD_DATUM", V::Date(d(year, 1, 10)))];
    infile(rel, vec![common::forms::sd(bfs, name, &o)], d(year, 1, 15))
}

#[test]
fn an_inbox_root_with_two_year_folders_gives_two_years_and_no_division_by_zero() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("eingang");
    let files = vec![
        sd_file("2022/so_sd.xlsx", 2022, 2601, "Solothurn"),
        sd_file("2022/kl_sd.xlsx", 2022, 2605, "Klein"),
        report_file("2022/so_h1.xlsx", 2022, 2601, "Solothurn", 1, 0, 0),
        report_file("2022/kl_h1.xlsx", 2022, 2605, "Klein", 1, 2, 1),
        sd_file("2023/so_sd.xlsx", 2023, 2601, "Solothurn"),
        sd_file("2023/kl_sd.xlsx", 2023, 2605, "Klein"),
        report_file("2023/so_h1.xlsx", 2023, 2601, "Solothurn", 1, 5, 2),
        report_file("2023/kl_h1.xlsx", 2023, 2605, "Klein", 1, 2, 1),
    ];
    write_inbox(&root, &files);
    let stammdaten = write_master(dir.path(), &two_year_spec());
    assert_eq!(beitraege::aufsicht::kennzahlen::year_folders(&root), [2022, 2023]);
    let out = dir.path().join("k");
    let r = execute(&options(&root, &stammdaten, &[2022, 2023], &out)).unwrap();
    let years: std::collections::BTreeSet<i32> = r.figures.iter().map(|k| k.year).collect();
    assert_eq!(years.into_iter().collect::<Vec<_>>(), [2022, 2023]);
    let get = |y: &str, level: &str, name: &str, key: &str| row(&out, y, level, name)[key].clone();
    let share = "Anteil mit Dolmetschenden %";
    // 2022: Solothurn 0 conversations → empty; Klein 1 / 2 = 50.00 %.
    assert_eq!(get("2022", "Gemeinde", "Solothurn", "Erstinformationsgespräche"), "0");
    assert_eq!(get("2022", "Gemeinde", "Solothurn", share), "");
    assert_eq!(get("2022", "Gemeinde", "Klein", share), "50.00");
    // 2023: Solothurn 2 / 5 = 40.00 %; the canton (2 + 1) / (5 + 2) = 42.857 → 42.86.
    assert_eq!(get("2023", "Gemeinde", "Solothurn", share), "40.00");
    assert_eq!(get("2023", "Kanton", "Kanton Solothurn", share), "42.86");
    // Credit: none for 2022 → empty; 2023's 100'000. Total 2023 (Sockel 7, EG 200, HEKS 160):
    // Solothurn 4000 × 7 + 5 × 200 + 2 × 160 = 29320, Klein 0 × 7 + 2 × 200 + 1 × 160 = 560
    // (the contract 2602/2603 has no Selbstdeklaration: nothing) → 29880 / 100000 = 29.88 %.
    let credit = "Anteil am Kredit %";
    assert_eq!(get("2022", "Kanton", "Kanton Solothurn", credit), "");
    assert_eq!(get("2022", "Kanton", "Kanton Solothurn", "Kredit CHF"), "");
    assert_eq!(get("2023", "Kanton", "Kanton Solothurn", "Kredit CHF"), "100000.00");
    assert_eq!(get("2023", "Kanton", "Kanton Solothurn", "Beitrag total CHF"), "29880.00");
    assert_eq!(get("2023", "Kanton", "Kanton Solothurn", credit), "29.88");
    assert_eq!(get("2023", "Gemeinde", "Klein", credit), "0.56");
    // Klein has no foreign residents on 2023's Stichtag → no contribution per resident;
    // 50 on 2022's: (50 × 7 + 2 × 200 + 1 × 160) / 50 = 910 / 50 = 18.20.
    let per = "Beitrag je Person der ausländischen Wohnbevölkerung CHF";
    assert_eq!(get("2023", "Gemeinde", "Klein", "Ausländische Wohnbevölkerung"), "0");
    assert_eq!(get("2023", "Gemeinde", "Klein", per), "");
    assert_eq!(get("2022", "Gemeinde", "Klein", "Ausländische Wohnbevölkerung"), "50");
    assert_eq!(get("2022", "Gemeinde", "Klein", per), "18.20");
}
