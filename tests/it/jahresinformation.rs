//! `beitraege jahresinformation` (issue 21, 4.5.3) through its library entry point, on the
//! small year of `common::forms` (Solothurn 2601; the contract «V» of the lead 2602 with its
//! member 2603; Klein 2605) with an `Adressen` sheet that has roles:
//!
//! - 2601: Koordinationsstelle, Präsidium and Finanzverwaltung;
//! - 2602: one row with the role cell empty (the Koordinationsstelle);
//! - 2603: no row (a draft without recipient);
//! - 2605: Koordinationsstelle and Finanzverwaltung.
//!
//! Expected, worked out by hand: one letter for each of 2601, 2602, 2603, 2605; drafts
//! 3 + 1 + 1 + 2 = 7. Solothurn's Sockelbeitrag is 4000 × CHF 7 = CHF 28'000.00, paid on
//! 31.03.2023 (no booking in the ledger: the projection); its H1 report's flat rates are
//! 4 × 200 + 2 × 160 + 1 × 200 + 1 × 160 = CHF 1'480.00 on 30.09.2023 (total CHF 29'480.00);
//! its H2 without report is not paid. Klein has no Selbstdeklaration: its Sockelbeitrag
//! 5 × CHF 7 = CHF 35.00 is withheld, the clawback of CHF 100.00 (01.05.2023) stands, its total
//! is CHF -100.00.

use crate::common::forms::{master_sheets, MasterSpec};
use crate::common::inbox::{write_inbox, xlsx};
use crate::common::letters::{absender, files, text_sheet};
use beitraege::domain::ymd;
use beitraege::jahresinfo::{self, Source};
use beitraege::jahresinformation::{run, JahresinfoOptions, JahresinfoReport};
use beitraege::ledger::{Ledger, LetterKind};
use beitraege::workbook::Sheet;
use chrono::NaiveDate;
use std::path::PathBuf;

fn adressen() -> Sheet {
    text_sheet(
        "Adressen",
        &[
            &["BFS-Nr.", "Empfänger", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "E-Mail", "Rolle"],
            &[
                "2601",
                "Stadt Solothurn",
                "Baseltor",
                "1",
                "4500",
                "Solothurn",
                "",
                "si@solothurn.example",
                "Koordinationsstelle",
            ],
            &[
                "2601",
                "Stadtpräsidium Solothurn",
                "Baseltor",
                "1",
                "4500",
                "Solothurn",
                "",
                "sp@solothurn.example",
                "Präsidium",
            ],
            &[
                "2601",
                "Finanzverwaltung Solothurn",
                "Baseltor",
                "1",
                "4500",
                "Solothurn",
                "",
                "fv@solothurn.example",
                "Finanzverwaltung",
            ],
            &["2602", "Gemeinde Lead", "Dorfstrasse", "2", "4600", "Lead", "B. Müller", "si@lead.example", ""],
            &["2605", "Gemeinde Klein", "Weg", "3", "4700", "Klein", "", "si@klein.example", "Koordinationsstelle"],
            &["2605", "Finanzen Klein", "Weg", "3", "4700", "Klein", "", "fv@klein.example", "Finanzverwaltung"],
        ],
    )
}

struct Case {
    _dir: tempfile::TempDir,
    opts: JahresinfoOptions,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("eingang");
    write_inbox(&inbox, &files());
    let mut sheets = master_sheets(&MasterSpec::default());
    sheets.push(adressen());
    sheets.push(absender());
    let stammdaten = dir.path().join("Stammdaten.xlsx");
    std::fs::write(&stammdaten, xlsx(&sheets)).unwrap();
    let opts = JahresinfoOptions {
        year: 2023,
        inbox,
        stammdaten,
        out: dir.path().join("info"),
        ledger: dir.path().join("buchhaltung").join("b.sqlite"),
        date: ymd(2024, 1, 15),
        contact: None,
        threads: Some(1),
        limits: Default::default(),
    };
    Case { opts, _dir: dir }
}

fn on(c: &Case, date: NaiveDate) -> JahresinfoReport {
    run(&JahresinfoOptions { date, ..c.opts.clone() }).unwrap()
}

fn chf(s: &str) -> beitraege::domain::Chf {
    s.parse().unwrap()
}

#[test]
fn what_a_letter_states_from_the_annex_row_and_the_projection() {
    let c = case();
    let ro = beitraege::evaluate::EvaluationOptions {
        year: 2023,
        inbox: c.opts.inbox.clone(),
        stammdaten: c.opts.stammdaten.clone(),
        out: c.opts.out.clone(),
        threads: Some(1),
        limits: Default::default(),
        run_date: c.opts.date,
        contact: None,
        progress: None,
        force: true,
        received_by: None,
        buchhaltung: None,
    };
    let e = beitraege::evaluate::evaluate(&ro).unwrap();
    let row = |b| e.comp.rows.iter().find(|r| r.bfs == b).unwrap();
    let so = jahresinfo::info(&e.comp, row(2601), Some((&[], &[]))).unwrap();
    assert_eq!(so.source, Source::Projection);
    assert_eq!(
        so.amounts.iter().map(|a| (a.label.as_str(), a.count, a.amount)).collect::<Vec<_>>(),
        vec![
            ("Sockelbeitrag 2023", Some(4000), chf("28000.00")),
            ("Fallpauschale Erstinformation, 1. Halbjahr 2023", Some(4), chf("800.00")),
            ("Dolmetschpauschale Erstinformation, 1. Halbjahr 2023", Some(2), chf("320.00")),
            ("Fallpauschale Integrationsgespräche, 1. Halbjahr 2023", Some(1), chf("200.00")),
            ("Dolmetschpauschale Integrationsgespräche, 1. Halbjahr 2023", Some(1), chf("160.00")),
        ]
    );
    assert_eq!(so.total, chf("29480.00"));
    assert_eq!(
        so.payouts.iter().map(|p| (p.date, p.amount, p.offset)).collect::<Vec<_>>(),
        vec![
            (ymd(2023, 3, 31), chf("28000.00"), beitraege::domain::Chf::ZERO),
            (ymd(2023, 9, 30), chf("1480.00"), beitraege::domain::Chf::ZERO)
        ]
    );
    assert_eq!(
        so.withheld.iter().map(|w| (w.label.as_str(), w.amount)).collect::<Vec<_>>(),
        vec![("Fall- und Dolmetschpauschalen, 2. Halbjahr 2023", None)]
    );
    let klein = jahresinfo::info(&e.comp, row(2605), Some((&[], &[]))).unwrap();
    assert_eq!(klein.total, chf("-100.00"));
    assert_eq!(
        klein.amounts.iter().map(|a| (a.label.as_str(), a.amount)).collect::<Vec<_>>(),
        vec![("Rückforderung 2023", chf("-100.00"))]
    );
    assert!(klein.withheld.iter().any(|w| w.label == "Sockelbeitrag 2023" && w.amount == Some(chf("35.00"))));
}

#[test]
fn one_letter_per_municipality_one_draft_per_recipient_recorded_once_a_day() {
    use mail_parser::MimeHeaders;
    let c = case();
    let r = on(&c, ymd(2024, 1, 15));
    let folder = r.folder.clone().unwrap();
    assert_eq!(r.written.iter().map(|w| w.bfs).collect::<Vec<_>>(), vec![2601, 2602, 2603, 2605]);
    let mut to: Vec<(String, Option<String>)> = Vec::new();
    for w in &r.written {
        assert!(folder.join(&w.letter).is_file());
        let letter = w.letter.rsplit('/').next().unwrap().to_string();
        for d in &w.drafts {
            let bytes = std::fs::read(folder.join(d)).unwrap();
            let msg = mail_parser::MessageParser::default().parse(&bytes).unwrap();
            assert_eq!(msg.header_raw("X-Unsent").map(str::trim), Some("1"));
            let names: Vec<String> = msg.attachments().map(|a| a.attachment_name().unwrap().to_string()).collect();
            assert_eq!(names, vec![letter.clone(), "Anhang_1_Beitraege_2023.pdf".to_string()], "{d}");
            for line in crate::mahnen::header_block(&bytes).split("\r\n") {
                assert!(line.starts_with([' ', '\t']) || line.contains(':'), "{line:?}");
            }
            let b = msg.content_type().unwrap().attribute("boundary").unwrap().to_string();
            assert!(beitraege::documents::eml::boundary_only_as_delimiter(&bytes, &b, 3));
            let addr = msg.to().and_then(|t| t.first()).and_then(|a| a.address()).map(str::to_string);
            to.push((d.rsplit('/').next().unwrap().to_string(), addr));
        }
    }
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        to,
        vec![
            ("2601_Solothurn_Jahresinformation_2023_Koordinationsstelle.eml".into(), s("si@solothurn.example")),
            ("2601_Solothurn_Jahresinformation_2023_Praesidium.eml".into(), s("sp@solothurn.example")),
            ("2601_Solothurn_Jahresinformation_2023_Finanzverwaltung.eml".into(), s("fv@solothurn.example")),
            ("2602_Lead_Jahresinformation_2023_Koordinationsstelle.eml".into(), s("si@lead.example")),
            ("2603_Member_Jahresinformation_2023_Koordinationsstelle.eml".into(), None),
            ("2605_Klein_Jahresinformation_2023_Koordinationsstelle.eml".into(), s("si@klein.example")),
            ("2605_Klein_Jahresinformation_2023_Finanzverwaltung.eml".into(), s("fv@klein.example")),
        ]
    );
    assert!(folder.join("Anhang_1_Beitraege_2023.pdf").is_file());
    // Recorded: four letters of the kind Jahresinformation, numbered 1 to 4.
    let journal = |c: &Case| {
        Ledger::open(&c.opts.ledger)
            .unwrap()
            .correspondence(Some(2023))
            .unwrap()
            .into_iter()
            .map(|l| (l.nr, l.letter.kind, l.letter.bfs, l.letter.date))
            .collect::<Vec<_>>()
    };
    let day = ymd(2024, 1, 15);
    let k = LetterKind::Jahresinformation;
    assert_eq!(journal(&c), vec![(1, k, 2601, day), (2, k, 2602, day), (3, k, 2603, day), (4, k, 2605, day)]);
    // The same day again: nothing written, nothing recorded.
    let again = on(&c, day);
    assert!(again.written.is_empty() && again.folder.is_none());
    assert_eq!(again.already, vec![2601, 2602, 2603, 2605]);
    assert_eq!(journal(&c).len(), 4);
    // The next day: written anew, into a folder of its own.
    let next = on(&c, ymd(2024, 1, 16));
    assert_eq!(next.written.len(), 4);
    assert_ne!(next.folder, Some(folder));
    assert_eq!(journal(&c).len(), 8);
}

/// Rendered to PNG, every yearly information has its address in the window, nothing beside it,
/// and its closing on a page with a paragraph before it.
#[test]
#[ignore = "needs poppler-utils"]
fn every_yearly_information_fits_its_window_and_keeps_its_closing() {
    let c = case();
    let r = on(&c, ymd(2024, 1, 15));
    let folder = r.folder.unwrap();
    let letters: Vec<PathBuf> = r.written.iter().map(|w| folder.join(&w.letter)).collect();
    assert_eq!(letters.len(), 4);
    crate::mahnen::assert_fits_window(&letters);
}

/// The correspondence list: after the yearly information, `run --buchhaltung` lists the four
/// letters in `korrespondenz.json` and in the sheet `Korrespondenz` of the discrepancy report;
/// `konto` for 2601 lists its one letter. Without a ledger neither is written.
#[test]
fn the_correspondence_list_in_the_report_the_json_and_the_statement() {
    let c = case();
    let r = on(&c, ymd(2024, 1, 15));
    let mut ro = beitraege::evaluate::EvaluationOptions {
        year: 2023,
        inbox: c.opts.inbox.clone(),
        stammdaten: c.opts.stammdaten.clone(),
        out: c.opts.out.join("run"),
        threads: Some(1),
        limits: Default::default(),
        run_date: ymd(2024, 1, 20),
        contact: None,
        progress: None,
        force: true,
        received_by: None,
        buchhaltung: None,
    };
    let e = beitraege::evaluate::evaluate(&ro).unwrap();
    let without = beitraege::run::render(&e, &ro).unwrap();
    assert!(!without.iter().any(|f| f.rel == "korrespondenz.json"));
    ro.buchhaltung = Some(c.opts.ledger.clone());
    let files = beitraege::run::render(&e, &ro).unwrap();
    let json = files.iter().find(|f| f.rel == "korrespondenz.json").expect("korrespondenz.json");
    let v: serde_json::Value = serde_json::from_slice(&json.bytes).unwrap();
    let rows: Vec<(String, String, u64, String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["datum"].as_str().unwrap().to_string(),
                x["art"].as_str().unwrap().to_string(),
                x["bfs_nr"].as_u64().unwrap(),
                x["empfaenger"].as_str().unwrap().to_string(),
                x["datei"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |b: u64, to: &str, file: &str| {
        ("15.01.2024".to_string(), "Jahresinformation".to_string(), b, to.to_string(), file.to_string())
    };
    assert_eq!(
        rows,
        vec![
            row(2601, "Stadt Solothurn", "Jahresinformation/2601_Solothurn_Jahresinformation_2023.pdf"),
            row(2602, "Gemeinde Lead", "Jahresinformation/2602_Lead_Jahresinformation_2023.pdf"),
            row(2603, "Gemeinde Member", "Jahresinformation/2603_Member_Jahresinformation_2023.pdf"),
            row(2605, "Gemeinde Klein", "Jahresinformation/2605_Klein_Jahresinformation_2023.pdf"),
        ]
    );
    assert_eq!(
        r.written.iter().map(|w| w.letter.clone()).collect::<Vec<_>>(),
        rows.iter().map(|x| x.4.clone()).collect::<Vec<_>>()
    );
    let report = files.iter().find(|f| f.rel == "Befunde_2023.xlsx").unwrap();
    let wb = beitraege::workbook::read_workbook(&report.bytes, &Default::default()).unwrap();
    let sheet = wb.sheets.iter().find(|s| s.name == "Korrespondenz").expect("sheet Korrespondenz");
    // Title, subtitle, a blank row, the header on row 4, then one row per letter.
    assert_eq!(sheet.get(3, 0).text(), "Datum");
    assert_eq!((4..8).map(|r| sheet.get(r, 3).text()).collect::<Vec<_>>(), vec!["2601", "2602", "2603", "2605"]);
    assert!(sheet.get(8, 3).is_empty());
    // konto for 2601: its one letter.
    let (_, folder, _) = beitraege::zahlungslauf::konto::execute(&beitraege::zahlungslauf::konto::KontoOptions {
        ledger: c.opts.ledger.clone(),
        out: c.opts.out.join("konto"),
        bfs: Some(2601),
        stammdaten: Some(c.opts.stammdaten.clone()),
        date: ymd(2024, 1, 20),
    })
    .unwrap();
    let wb = beitraege::workbook::read_workbook(
        &std::fs::read(folder.join("Konto_2601.xlsx")).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let sheet = wb.sheets.iter().find(|s| s.name == "Korrespondenz").expect("sheet Korrespondenz");
    assert_eq!(sheet.get(4, 1).text(), "Jahresinformation");
    assert_eq!(sheet.get(4, 7).text(), "Jahresinformation/2601_Solothurn_Jahresinformation_2023.pdf");
    assert!(sheet.get(5, 0).is_empty());
}
