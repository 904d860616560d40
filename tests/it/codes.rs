//! Every finding code at unit level: a small master data set, forms built in memory (or tiny
//! files for the file-level codes), and assertions on code, position and withheld amounts.

use crate::common;
use beitraege::domain::Chf;

use beitraege::compute::{compute, RowStatus};
use beitraege::domain::{ymd, Code, Component, FileState, Period};
use beitraege::extract::extract;
use beitraege::resolve::resolve;
use beitraege::run::process_file;
use beitraege::scan::{EntryKind, InboxFile, ReceiptSource};
use beitraege::validate::{validate_form, Ctx, FileResult, Outcome};
use beitraege::workbook::{Format, Limits, Value, Workbook};
use common::forms::*;
use std::collections::BTreeSet;

#[test]
fn a_clean_report_has_no_findings() {
    let r = check(vec![report(2601, "Solothurn", 1, &[])], "a.xlsx", JUL);
    assert!(r.findings.is_empty(), "{:?}", codes(&r));
    let s = share(&r, 2601);
    assert_eq!((s.paid.eg, s.paid.d_eg, s.paid.ig, s.paid.d_ig), (4, 2, 1, 1));
}

#[test]
fn formular_version() {
    for v in [Value::Empty, Value::Text("2019".into()), Value::Text("neu".into())] {
        let r = check(vec![report(2601, "Solothurn", 1, &[("SI_VERSION", v)])], "a.xlsx", JUL);
        assert_eq!(codes(&r), vec![Code::FormularVersion]);
        assert_eq!(at(&r, Code::FormularVersion), (Some("Reporting".into()), Some("B2".into())));
        assert_eq!(r.outcome, Outcome::Rejected);
        assert_eq!(r.bfs(), Some(2601), "still attributed to its municipality");
    }
    // 2018 as a number is a known version
    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_VERSION", Value::Float(2018.0))])], "a.xlsx", JUL);
    assert!(!codes(&r).contains(&Code::FormularVersion));
}

#[test]
fn bfs_unbekannt() {
    for v in [Value::Int(9999), Value::Empty, Value::Text("Solothurn".into())] {
        let r = check(vec![report(2601, "Solothurn", 1, &[("SI_BFS_NR", v)])], "a.xlsx", JUL);
        assert_eq!(codes(&r), vec![Code::BfsUnbekannt]);
        assert_eq!(at(&r, Code::BfsUnbekannt).1.as_deref(), Some("B5"));
    }
    // A float and a text with spaces are fine.
    for v in [Value::Float(2601.0), Value::Text(" 2601 ".into())] {
        let r = check(vec![report(2601, "Solothurn", 1, &[("SI_BFS_NR", v)])], "a.xlsx", JUL);
        assert!(r.findings.is_empty(), "{:?}", codes(&r));
    }
}

#[test]
fn gemeinde_name_only_warns() {
    let r = check(vec![report(2601, "  SOLOTHURN ", 1, &[])], "a.xlsx", JUL);
    assert!(r.findings.is_empty(), "case and surrounding spaces are ignored");
    let r = check(vec![report(2601, "Solothurn SO", 1, &[])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::GemeindeName]);
    assert_eq!(at(&r, Code::GemeindeName).1.as_deref(), Some("B4"));
    assert!(matches!(r.outcome, Outcome::Report(_)));
}

#[test]
fn gemeinde_aufgeloest() {
    let r = check(vec![report(2604, "Alt", 1, &[])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::GemeindeAufgeloest]);
    assert_eq!(r.outcome, Outcome::Rejected);
}

#[test]
fn periode_ungueltig() {
    for (k, v, cell) in [
        ("SI_HALBJAHR", Value::Int(3), "B7"),
        ("SI_HALBJAHR", Value::Empty, "B7"),
        ("SI_JAHR", Value::Text("dieses Jahr".into()), "B6"),
    ] {
        let r = check(vec![report(2601, "Solothurn", 1, &[(k, v)])], "a.xlsx", JUL);
        assert_eq!(codes(&r), vec![Code::PeriodeUngueltig]);
        assert_eq!(at(&r, Code::PeriodeUngueltig).1.as_deref(), Some(cell));
        assert_eq!(r.outcome, Outcome::Rejected);
    }
    // "2. Halbjahr" is a valid half-year.
    let r =
        check(vec![report(2601, "Solothurn", 2, &[("SI_HALBJAHR", Value::Text("2. Halbjahr".into()))])], "a.xlsx", JAN);
    assert!(r.findings.is_empty(), "{:?}", codes(&r));
}

#[test]
fn periode_zukunft() {
    let r = check(vec![report(2601, "Solothurn", 2, &[])], "a.xlsx", ymd(2023, 11, 20));
    assert_eq!(codes(&r), vec![Code::PeriodeZukunft]);
    assert_eq!(r.outcome, Outcome::Rejected);
    // On the day after the period it is fine.
    let r = check(vec![report(2601, "Solothurn", 2, &[])], "a.xlsx", ymd(2024, 1, 1));
    assert!(r.findings.is_empty());
}

#[test]
fn anderes_jahr() {
    let r = check(vec![report(2601, "Solothurn", 2, &[("SI_JAHR", Value::Int(2022))])], "a.xlsx", ymd(2023, 1, 20));
    assert_eq!(codes(&r), vec![Code::AnderesJahr]);
    assert_eq!(r.outcome, Outcome::OtherYear);
}

#[test]
fn value_codes_and_what_they_withhold() {
    let cases: Vec<(Value, Code)> = vec![
        (Value::Empty, Code::WertLeer),
        (Value::Text("ca. 10".into()), Code::WertKeineZahl),
        (Value::Error("#DIV/0!".into()), Code::WertKeineZahl),
        (Value::Int(-2), Code::WertNegativ),
        (Value::Float(3.5), Code::WertNichtGanzzahlig),
        (Value::Text(" 2 ".into()), Code::WertTextzahl),
    ];
    for (v, code) in cases {
        let r = check(vec![report(2601, "Solothurn", 1, &[("SI_EG_DOLMETSCH", v.clone())])], "a.xlsx", JUL);
        assert!(codes(&r).contains(&code), "{v:?}: {:?}", codes(&r));
        assert_eq!(at(&r, code), (Some("Reporting".into()), Some("B14".into())));
        let s = share(&r, 2601);
        match code {
            Code::WertLeer => assert_eq!(s.paid.d_eg, 0),
            Code::WertTextzahl => assert_eq!(s.paid.d_eg, 2),
            _ => {
                assert!(s.withheld.contains(&Component::DolmetschEg), "{code}");
                assert!(!s.withheld.contains(&Component::FallEg), "only the field's own amount");
                assert_eq!(s.paid.eg, 4);
            }
        }
    }
    // An error in the conversations count withholds its interpreter amount too.
    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_EG_ANZAHL", Value::Text("zwölf".into()))])], "a.xlsx", JUL);
    let s = share(&r, 2601);
    assert_eq!(s.withheld, BTreeSet::from([Component::FallEg, Component::DolmetschEg]));
    assert_eq!((s.paid.ig, s.paid.d_ig), (1, 1), "IG is untouched");
    // An error in a count that is not paid withholds nothing.
    let r =
        check(vec![report(2601, "Solothurn", 1, &[("SI_EG_PERSONEN", Value::Text("viele".into()))])], "a.xlsx", JUL);
    assert!(codes(&r).contains(&Code::WertKeineZahl));
    assert!(share(&r, 2601).withheld.is_empty());
}

#[test]
fn wert_unplausibel() {
    // Klein has 5 foreign residents.
    let r = check(
        vec![report(
            2605,
            "Klein",
            1,
            &[("SI_EG_ANZAHL", Value::Int(8)), ("SI_EG_PERSONEN", Value::Int(8)), ("SI_NEUZUZUEGE", Value::Int(8))],
        )],
        "a.xlsx",
        JUL,
    );
    let cells: Vec<_> =
        r.findings.iter().filter(|f| f.code == Code::WertUnplausibel).map(|f| f.cell().unwrap()).collect();
    assert_eq!(cells, vec!["B13", "B16", "B18"]);
    assert_eq!(share(&r, 2605).paid.eg, 8, "a warning: still paid");
}

#[test]
fn consistency_codes() {
    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_EG_DOLMETSCH", Value::Int(9))])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::DolmetschUeberGespraeche]);
    assert_eq!(at(&r, Code::DolmetschUeberGespraeche).1.as_deref(), Some("B14"));
    let s = share(&r, 2601);
    assert_eq!((s.paid.eg, s.paid.d_eg), (4, 0));

    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_IG_DOLMETSCH", Value::Int(2))])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::DolmetschUeberGespraeche]);
    assert_eq!(share(&r, 2601).paid.d_ig, 0);

    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_EG_PERSONEN", Value::Int(3))])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::PersonenUnterGespraeche]);
    assert_eq!(at(&r, Code::PersonenUnterGespraeche).1.as_deref(), Some("B16"));

    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_NEUZUZUEGE", Value::Int(3))])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::GespraecheUeberZuzuege]);
}

#[test]
fn ig_vor_2022() {
    let m = master();
    let ctx = Ctx { year: 2021, master: &m };
    let wb = Workbook {
        format: Format::Xlsx,
        sheets: vec![report(2601, "Solothurn", 1, &[("SI_JAHR", Value::Int(2021))])],
        names: vec![],
    };
    let form = extract(&wb).unwrap();
    let r = validate_form(FileResult::new(&file("a.xlsx", ymd(2021, 7, 20))), form, &ctx);
    assert!(codes(&r).contains(&Code::IgVor2022), "{:?}", codes(&r));
    let s = share(&r, 2601);
    assert_eq!((s.paid.ig, s.paid.d_ig), (0, 0));
    assert_eq!(s.paid.eg, 4);
}

#[test]
fn frist_verpasst_only_warns() {
    let r = check(vec![report(2601, "Solothurn", 1, &[])], "a.xlsx", ymd(2023, 8, 15));
    assert_eq!(codes(&r), vec![Code::FristVerpasst]);
    assert!(matches!(r.outcome, Outcome::Report(_)));
    let r = check(vec![sd(2601, "Solothurn", &[])], "s.xlsx", ymd(2023, 2, 1));
    assert_eq!(codes(&r), vec![Code::FristVerpasst]);
}

#[test]
fn leit_mitglied_meldet_selbst() {
    let r = check(vec![report(2603, "Member", 1, &[])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::LeitMitgliedMeldetSelbst]);
    assert_eq!(r.outcome, Outcome::Rejected);
}

#[test]
fn lead_report_splits_by_member() {
    let main = report(2602, "Lead", 1, &[("SI_EG_ANZAHL", Value::Int(4)), ("SI_EG_DOLMETSCH", Value::Int(2))]);
    let t = table(&[(2602, "Lead", 3, 1, 1, 1), (2603, "Member", 1, 1, 0, 0)]);
    let r = check(vec![main, t], "a.xlsx", JUL);
    assert!(r.findings.is_empty(), "{:?}", codes(&r));
    assert_eq!(share(&r, 2602).paid.eg, 3);
    assert_eq!(share(&r, 2603).paid.eg, 1);
    assert_eq!(share(&r, 2603).paid.d_eg, 1);
}

#[test]
fn leit_fremde_gemeinde() {
    let main = report(2602, "Lead", 1, &[("SI_EG_ANZAHL", Value::Int(5))]);
    let t = table(&[(2602, "Lead", 3, 1, 1, 1), (2603, "Member", 1, 1, 0, 0), (2601, "Solothurn", 1, 0, 0, 0)]);
    let r = check(vec![main, t], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::LeitFremdeGemeinde]);
    assert_eq!(at(&r, Code::LeitFremdeGemeinde), (Some("Vertragsgemeinden".into()), Some("A4".into())));
    assert!(share(&r, 2601) == Default::default(), "the foreign row is not paid");
    assert_eq!(share(&r, 2602).paid.eg, 3);
}

#[test]
fn leit_mitglied_fehlt() {
    let main = report(2602, "Lead", 1, &[("SI_EG_ANZAHL", Value::Int(3)), ("SI_EG_DOLMETSCH", Value::Int(1))]);
    let r = check(vec![main.clone(), table(&[(2602, "Lead", 3, 1, 1, 1)])], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::LeitMitgliedFehlt]);
    assert_eq!(r.findings[0].bfs, Some(2603));
    assert_eq!(share(&r, 2603).paid.eg, 0);
    // Without the sheet the report counts wholly for the lead, and each member is warned.
    let r = check(vec![main], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::LeitMitgliedFehlt]);
    assert_eq!(share(&r, 2602).paid.eg, 3);
}

#[test]
fn leit_summe_withholds_the_whole_report() {
    let main = report(2602, "Lead", 1, &[("SI_EG_ANZAHL", Value::Int(8)), ("SI_EG_PERSONEN", Value::Int(9))]);
    let t = table(&[(2602, "Lead", 3, 1, 1, 1), (2603, "Member", 1, 1, 0, 0)]);
    let r = check(vec![main, t], "a.xlsx", JUL);
    assert_eq!(codes(&r), vec![Code::LeitSumme]);
    assert_eq!(at(&r, Code::LeitSumme).1.as_deref(), Some("B13"));
    assert!(matches!(r.outcome, Outcome::Report(_)), "withheld, not rejected");
    for b in [2602, 2603] {
        let s = share(&r, b);
        assert_eq!((s.paid.eg, s.paid.d_eg, s.paid.ig, s.paid.d_ig), (0, 0, 0, 0), "{b}");
    }
}

#[test]
fn selbstdeklaration_codes() {
    let r = check(vec![sd(2601, "Solothurn", &[])], "s.xlsx", ymd(2023, 1, 20));
    assert!(r.findings.is_empty(), "{:?}", codes(&r));

    let r = check(vec![sd(2601, "Solothurn", &[("SD_BEAUFTRAGTE", Value::Empty)])], "s.xlsx", ymd(2023, 1, 20));
    assert_eq!(codes(&r), vec![Code::NichtBerechtigt]);
    assert_eq!(at(&r, Code::NichtBerechtigt).1.as_deref(), Some("B7"));
    let r = check(vec![sd(2601, "Solothurn", &[("SD_Q_ERSTINFO", Value::Bool(false))])], "s.xlsx", ymd(2023, 1, 20));
    assert_eq!(codes(&r), vec![Code::NichtBerechtigt]);
    assert_eq!(at(&r, Code::NichtBerechtigt).1.as_deref(), Some("B14"));

    let r = check(
        vec![sd(2601, "Solothurn", &[("SD_Q_VERNETZUNG", Value::Text("NEIN".into()))])],
        "s.xlsx",
        ymd(2023, 1, 20),
    );
    assert_eq!(codes(&r), vec![Code::SdAntwortNein]);
    assert_eq!(at(&r, Code::SdAntwortNein).1.as_deref(), Some("B17"));

    let r = check(
        vec![sd(2601, "Solothurn", &[("SD_LEITGEMEINDE", Value::Text("Lead".into()))])],
        "s.xlsx",
        ymd(2023, 1, 20),
    );
    assert_eq!(codes(&r), vec![Code::LeitAngabeAbweichend]);
    assert_eq!(at(&r, Code::LeitAngabeAbweichend).1.as_deref(), Some("B10"));
    // The lead naming itself, by name or number, matches.
    for v in [Value::Text("Lead".into()), Value::Int(2602)] {
        let r = check(vec![sd(2602, "Lead", &[("SD_LEITGEMEINDE", v)])], "s.xlsx", ymd(2023, 1, 20));
        assert!(r.findings.is_empty(), "{:?}", codes(&r));
    }
}

#[test]
fn sd_fehlt_bericht_fehlt_and_eligibility() {
    let results = vec![
        check(vec![sd(2601, "Solothurn", &[])], "s1.xlsx", ymd(2023, 1, 20)),
        check(vec![report(2601, "Solothurn", 1, &[])], "r1.xlsx", JUL),
        check(
            vec![sd(2605, "Klein", &[("SD_Q_ORGANISATION", Value::Text("Nein".into()))])],
            "s5.xlsx",
            ymd(2023, 1, 20),
        ),
        check(
            vec![report(2605, "Klein", 1, &[("SI_EG_ANZAHL", Value::Int(1)), ("SI_EG_DOLMETSCH", Value::Int(0))])],
            "r5.xlsx",
            JUL,
        ),
    ];
    let (resolved, comp) = resolve_all(results);
    let muni: Vec<(Option<u32>, Code)> = resolved.municipality_findings.iter().map(|f| (f.bfs, f.code)).collect();
    // No SD from the lead: the lead and its member are both withheld.
    assert!(muni.contains(&(Some(2602), Code::SdFehlt)));
    assert!(muni.contains(&(Some(2603), Code::SdFehlt)));
    assert!(!muni.contains(&(Some(2601), Code::SdFehlt)));
    // Solothurn is eligible and misses H2.
    assert!(muni.contains(&(Some(2601), Code::BerichtFehlt)));
    assert!(
        !muni.iter().any(|(b, c)| *b == Some(2605) && *c == Code::BerichtFehlt),
        "only for eligible municipalities"
    );
    for f in &resolved.municipality_findings {
        assert!(f.file.is_none());
    }
    let so = row(&comp, 2601);
    assert_eq!(so.status, RowStatus::Eligible);
    assert_eq!(so.sockel, Chf::from_int(4000 * 7));
    assert_eq!(so.amounts.eg, Chf::from_int(800));
    let lead = row(&comp, 2602);
    assert_eq!(lead.status, RowStatus::SdMissing { year: 2023, lead: None });
    assert_eq!(lead.total, Chf::ZERO);
    let member = row(&comp, 2603);
    assert!(
        matches!(&member.status, RowStatus::SdMissing { year: 2023, lead: Some(l) } if l.bfs == 2602),
        "{:?}",
        member.status
    );
    assert_eq!(member.payee, 2602);
    let klein = row(&comp, 2605);
    assert!(matches!(&klein.status, RowStatus::NotEligible { lead: None, reasons } if !reasons.is_empty()));
    assert_eq!(Chf::checked_sum([klein.sockel].into_iter().chain(klein.amounts.values())), Some(Chf::ZERO));
    // The clawback stands even when nothing is paid: it is invoiced.
    assert_eq!(klein.clawback, Chf::from_int(-100));
    assert_eq!(klein.total, Chf::from_int(-100));
    assert!(comp.invoices.iter().any(|i| i.bfs == 2605 && i.amount == Chf::from_int(100)));
}

#[test]
fn ersetzt_and_duplicates() {
    let mut a =
        check(vec![report(2601, "Solothurn", 1, &[("SI_EG_ANZAHL", Value::Int(4))])], "a_alt.xlsx", ymd(2023, 7, 3));
    let b = check(
        vec![report(2601, "Solothurn", 1, &[("SI_EG_ANZAHL", Value::Int(5)), ("SI_EG_PERSONEN", Value::Int(9))])],
        "b.xlsx",
        ymd(2023, 7, 9),
    );
    let mut c = check(vec![report(2601, "Solothurn", 1, &[])], "c.xlsx", ymd(2023, 7, 9));
    c.file.sha256 = b.file.sha256.clone(); // byte-identical to b
    a.findings.push(beitraege::catalogue::finding().build(Code::WertTextzahl)); // dropped when superseded
    let (resolved, comp) = resolve_all(vec![a, b, c]);
    let state = |rel: &str| resolved.files.iter().find(|f| f.result.file.rel == rel).unwrap();
    assert_eq!(state("a_alt.xlsx").state, FileState::Ersetzt);
    assert_eq!(state("a_alt.xlsx").result.findings.iter().map(|f| f.code).collect::<Vec<_>>(), vec![Code::Ersetzt]);
    assert_eq!(state("b.xlsx").state, FileState::Verarbeitet);
    assert_eq!(state("c.xlsx").state, FileState::Ignoriert);
    assert_eq!(state("c.xlsx").result.findings[0].code, Code::DateiDuplikat);
    assert_eq!(row(&comp, 2601).halves[0].paid.eg, 0, "no SD for Solothurn in this test");
    assert_eq!(resolved.reports[&(2601, Period::new(2023, 1))].rel, "b.xlsx");
}

#[test]
fn ersetzt_ties_break_on_form_date_then_path() {
    let a = check(vec![report(2601, "Solothurn", 1, &[("SI_DATUM", Value::Date(ymd(2023, 7, 12)))])], "z.xlsx", JUL);
    let b = check(vec![report(2601, "Solothurn", 1, &[("SI_DATUM", Value::Date(ymd(2023, 7, 11)))])], "a.xlsx", JUL);
    let (resolved, _) = resolve_all(vec![b, a]);
    assert_eq!(resolved.reports[&(2601, Period::new(2023, 1))].rel, "z.xlsx", "later Eingereicht am wins");
    let a = check(vec![report(2601, "Solothurn", 1, &[])], "a.xlsx", JUL);
    let b = check(vec![report(2601, "Solothurn", 1, &[])], "b.xlsx", JUL);
    let (resolved, _) = resolve_all(vec![a, b]);
    assert_eq!(resolved.reports[&(2601, Period::new(2023, 1))].rel, "b.xlsx", "then path order");
}

#[test]
fn kredit_ueberschritten() {
    // Credit 1000 in this master data; Solothurn's Sockelbeitrag alone is 28'000.
    let results = vec![check(vec![sd(2601, "Solothurn", &[])], "s1.xlsx", ymd(2023, 1, 20))];
    let (_, comp) = resolve_all(results);
    assert_eq!(comp.findings.iter().map(|f| f.code).collect::<Vec<_>>(), vec![Code::KreditUeberschritten]);
}

// --- file-level codes, through the real reader ------------------------------------------

fn process(name: &str, bytes: &[u8]) -> FileResult {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let f = InboxFile {
        rel: name.into(),
        path,
        kind: beitraege::scan::classify(name),
        size: bytes.len() as u64,
        received: Some(JUL),
        received_from: Some(ReceiptSource::Aenderungsdatum),
    };
    let m = master();
    process_file(&f, &Ctx { year: Y, master: &m }, &Limits::default())
}

#[test]
fn file_level_codes() {
    assert_eq!(codes(&process("leer.xlsx", b"")), vec![Code::DateiUnlesbar]);
    assert_eq!(codes(&process("kaputt.xlsx", b"PK\x03\x04 not really a zip")), vec![Code::DateiUnlesbar]);
    assert_eq!(codes(&process("text.ods", b"hello, I am text")), vec![Code::DateiUnlesbar]);
    assert_eq!(codes(&process("scan.pdf", b"%PDF-1.7 ...")), vec![Code::DateiFormat]);
    assert_eq!(codes(&process("~$lock.xlsx", b"x")), vec![Code::DateiIgnoriert]);
    assert_eq!(process("Thumbs.db", b"x").outcome, Outcome::Ignored);
    let enc = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/2023/inbox/2023-07/Reporting_passwort.xlsx"),
    )
    .unwrap();
    assert_eq!(codes(&process("p.xlsx", &enc)), vec![Code::DateiVerschluesselt]);
    let big = vec![b'x'; 2048];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gross.xlsx");
    std::fs::write(&path, &big).unwrap();
    let f = InboxFile {
        rel: "gross.xlsx".into(),
        path,
        kind: EntryKind::Spreadsheet,
        size: big.len() as u64,
        received: None,
        received_from: None,
    };
    let m = master();
    let limits = Limits { max_file_bytes: 1024, ..Limits::default() };
    let r = process_file(&f, &Ctx { year: Y, master: &m }, &limits);
    assert_eq!(codes(&r), vec![Code::DateiZuGross]);
    assert!(r.file.sha256.is_some(), "listed in the manifest with its hash even when not read");
}

#[test]
fn datei_kein_formular() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Budget").unwrap();
    ws.write_string(0, 0, "Konto").unwrap();
    ws.write_number(1, 0, 3630).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let r = process("Budget.xlsx", &bytes);
    assert_eq!(codes(&r), vec![Code::DateiKeinFormular]);
    assert_eq!(r.outcome, Outcome::Rejected);
}

#[test]
fn datei_mehrere_formulare() {
    // A returned feedback workbook with two rebuilt forms: the first is read, the second is named.
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, bfs) in [("Formular 1", 2601.0), ("Formular 2", 2605.0)] {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        let sheet = report(0, "", 1, &[]);
        for ((r, c), v) in sheet.cells() {
            match v {
                Value::Text(t) => ws.write_string(*r, *c as u16, t).unwrap(),
                Value::Int(i) => ws.write_number(*r, *c as u16, *i as f64).unwrap(),
                _ => ws,
            };
        }
        ws.write_number(4, 1, bfs).unwrap();
        ws.write_string(3, 1, if bfs == 2601.0 { "Solothurn" } else { "Klein" }).unwrap();
    }
    let r = process("Rueckmeldung.xlsx", &wb.save_to_buffer().unwrap());
    assert_eq!(codes(&r), vec![Code::DateiMehrereFormulare]);
    assert_eq!(r.bfs(), Some(2601), "the first form is the one read");
    assert!(matches!(r.outcome, Outcome::Report(_)));
}

/// Entries that are never opened: a link (not followed) and a special file (a pipe).
#[test]
fn links_and_special_files_are_not_opened() {
    let m = master();
    let ctx = Ctx { year: Y, master: &m };
    for (kind, code) in [
        (EntryKind::Link("/dev/zero".into()), Code::DateiVerknuepfung),
        (EntryKind::Special("benannte Pipe (FIFO)"), Code::DateiSonderdatei),
        (EntryKind::UnreadableDir("Zugriff verweigert".into()), Code::DateiUnlesbar),
    ] {
        // The path does not exist: an attempt to open it would show as another code.
        let f = InboxFile {
            rel: "x.xlsx".into(),
            path: "/nonexistent/x.xlsx".into(),
            kind,
            size: 0,
            received: Some(JUL),
            received_from: Some(ReceiptSource::Aenderungsdatum),
        };
        let r = process_file(&f, &ctx, &Limits::default());
        assert_eq!(codes(&r), vec![code]);
        assert_eq!(r.outcome, Outcome::Rejected);
        assert!(r.file.sha256.is_none());
    }
}

/// The codes the contract (`docs/spec/RULES.md`, the project's copy of the spec) lists in its
/// tables of finding codes.
fn contract_codes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(common::root().join("docs/spec/RULES.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(code, _)| code.to_string()))
        .filter(|c| c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_' || ch.is_ascii_digit()))
        .collect()
}

/// The codes of the findings a run (`beitraege::run::evaluate`, what `befunde.json` lists) decides over an inbox that holds one
/// trigger for every rule (plus a second run for a year before 2022).
fn observed_codes() -> BTreeSet<String> {
    use common::forms::MasterSpec;
    use common::inbox::{evaluate_with, infile, write_inbox, write_master};
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("eingang");
    let mut spec = MasterSpec::default();
    let name = |b: i64| format!("G{b}");
    for b in 2611..=2640 {
        spec.municipalities.push((b, name(b), None, None, None));
        spec.population.push((b, ymd(2021, 12, 31), 10));
    }
    let v = |n: i64| Value::Int(n);
    let t = |s: &str| Value::Text(s.into());
    // Each trigger in a file of its own, for a municipality of its own where it matters.
    let r1 = |b: i64, o: &[(&str, Value)]| vec![report(b, &name(b), 1, o)];
    let jul = ymd(2023, 7, 20);
    let jan = ymd(2023, 1, 20);
    let mut files = vec![
        infile("version.xlsx", r1(2611, &[("SI_VERSION", t("neu"))]), jul),
        infile("bfs.xlsx", r1(2611, &[("SI_BFS_NR", v(9999))]), jul),
        infile("name.xlsx", vec![report(2612, "Anders", 1, &[])], jul),
        infile("aufgeloest.xlsx", vec![report(2604, "Alt", 1, &[])], jul),
        infile("periode.xlsx", r1(2613, &[("SI_HALBJAHR", v(3))]), jul),
        infile("zukunft.xlsx", vec![report(2613, &name(2613), 2, &[])], ymd(2023, 11, 20)),
        infile("jahr.xlsx", r1(2614, &[("SI_JAHR", v(2022))]), jul),
        infile("leer.xlsx", r1(2615, &[("SI_INFOMAPPEN", Value::Empty)]), jul),
        infile("gross.xlsx", r1(2616, &[("SI_EG_PERSONEN", v(1_000_001))]), jul),
        infile("keinezahl.xlsx", r1(2617, &[("SI_MELDUNGEN", t("ca. 3"))]), jul),
        infile("negativ.xlsx", r1(2618, &[("SI_INFOMAPPEN", v(-1))]), jul),
        infile("bruch.xlsx", r1(2619, &[("SI_INFOMAPPEN", Value::Float(1.5))]), jul),
        infile("textzahl.xlsx", r1(2620, &[("SI_INFOMAPPEN", t("1"))]), jul),
        infile("unplausibel.xlsx", r1(2621, &[("SI_NEUZUZUEGE", v(11))]), jul),
        infile("dolmetsch.xlsx", r1(2622, &[("SI_EG_DOLMETSCH", v(5))]), jul),
        infile("personen.xlsx", r1(2623, &[("SI_EG_PERSONEN", v(3))]), jul),
        infile("zuzuege.xlsx", r1(2624, &[("SI_NEUZUZUEGE", v(3))]), jul),
        infile("mitglied.xlsx", vec![report(2603, "Member", 1, &[])], jul),
        // H1: a row outside the contract, the member missing; H2: rows that do not add up.
        infile(
            "lead_h1.xlsx",
            vec![report(2602, "Lead", 1, &[]), table(&[(2602, "Lead", 4, 2, 1, 1), (2601, "Solothurn", 0, 0, 0, 0)])],
            jul,
        ),
        infile(
            "lead_h2.xlsx",
            vec![report(2602, "Lead", 2, &[]), table(&[(2602, "Lead", 4, 2, 1, 1), (2603, "Member", 1, 0, 0, 0)])],
            ymd(2024, 1, 20),
        ),
        infile("sd_abweichend.xlsx", vec![sd(2601, "Solothurn", &[("SD_LEITGEMEINDE", t("Lead"))])], jan),
        infile("sd_nicht.xlsx", vec![sd(2625, &name(2625), &[("SD_BEAUFTRAGTE", Value::Empty)])], jan),
        infile("sd_nein.xlsx", vec![sd(2626, &name(2626), &[("SD_Q_VERNETZUNG", t("Nein"))])], jan),
        infile("spaet.xlsx", r1(2627, &[]), ymd(2023, 8, 1)),
        infile("alt/ersetzt.xlsx", r1(2628, &[("SI_EG_PERSONEN", v(7))]), ymd(2023, 7, 3)),
        infile("neu/ersetzt.xlsx", r1(2628, &[]), jul),
        infile("sd_2629.xlsx", vec![sd(2629, &name(2629), &[])], jan),
        infile("Budget.xlsx", vec![beitraege::workbook::Sheet::new("Budget")], jul),
    ];
    let mut several = report(2630, &name(2630), 1, &[]);
    several.name = "Formular 1".into();
    let mut second = report(2631, &name(2631), 1, &[]);
    second.name = "Formular 2".into();
    files.push(infile("mehrere.xlsx", vec![several, second], jul));
    write_inbox(&inbox, &files);
    // Files that are no form: empty, a PDF, a system file, encrypted, too large, a byte copy.
    std::fs::write(inbox.join("kaputt.xlsx"), b"").unwrap();
    std::fs::write(inbox.join("scan.pdf"), b"%PDF-1.7 ...").unwrap();
    std::fs::write(inbox.join("Thumbs.db"), b"x").unwrap();
    std::fs::copy(common::sample().join("inbox/2023-07/Reporting_passwort.xlsx"), inbox.join("passwort.xlsx")).unwrap();
    std::fs::write(inbox.join("riesig.xlsx"), vec![b'x'; 400_000]).unwrap();
    std::fs::copy(inbox.join("sd_2629.xlsx"), inbox.join("sd_2629_kopie.xlsx")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/hostname", inbox.join("link.xlsx")).unwrap();
        let fifo = std::ffi::CString::new(inbox.join("pipe.xlsx").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    }
    let stammdaten = write_master(dir.path(), &spec);
    let out = dir.path().join("aus");
    let opts = beitraege::run::EvaluationOptions {
        inbox: inbox.clone(),
        stammdaten: stammdaten.clone(),
        force: true,
        limits: Limits { max_file_bytes: 200_000, ..Limits::default() },
        ..common::sample_options(&out, Some(2))
    };
    let mut seen: BTreeSet<String> = evaluate_with(&opts).findings.into_iter().map(|f| f.code).collect();
    // A year before 2022, for IG_VOR_2022.
    let before = dir.path().join("eingang2021");
    let r2021 = report(2601, "Solothurn", 1, &[("SI_JAHR", v(2021)), ("SI_DATUM", Value::Date(ymd(2021, 7, 10)))]);
    // And the year before in its folder, for WERT_SPRUNG: 40 conversations in 2020/H2, 4 in 2021/H1.
    let r2020 = report(
        2601,
        "Solothurn",
        2,
        &[("SI_JAHR", v(2020)), ("SI_DATUM", Value::Date(ymd(2021, 1, 10))), ("SI_EG_ANZAHL", v(40))],
    );
    write_inbox(
        &before,
        &[infile("r.xlsx", vec![r2021], ymd(2021, 7, 20)), infile("2020/r.xlsx", vec![r2020], ymd(2021, 1, 20))],
    );
    spec.population.push((2601, ymd(2019, 12, 31), 4000));
    for b in [2602, 2603, 2605] {
        spec.population.push((b, ymd(2019, 12, 31), 10));
    }
    for b in 2611..=2640 {
        spec.population.push((b, ymd(2019, 12, 31), 10));
    }
    let stammdaten = write_master(dir.path(), &spec);
    let out = dir.path().join("aus2021");
    let opts = beitraege::run::EvaluationOptions {
        year: 2021,
        inbox: before,
        stammdaten,
        force: true,
        ..common::sample_options(&out, Some(1))
    };
    seen.extend(evaluate_with(&opts).findings.into_iter().map(|f| f.code));
    seen
}

#[test]
fn every_code_of_the_catalogue_and_of_the_contract_is_observed_in_a_run() {
    let contract = contract_codes();
    assert!(contract.len() >= 35, "the contract's code tables are read: {contract:?}");
    let catalogue: BTreeSet<String> = Code::ALL.iter().map(|c| c.as_str().to_string()).collect();
    let unknown: Vec<_> = contract.difference(&catalogue).collect();
    assert!(unknown.is_empty(), "codes of the contract missing from the catalogue: {unknown:?}");
    let seen = observed_codes();
    let missing: Vec<_> = catalogue.union(&contract).filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "codes no run produced: {missing:?}");
}

#[test]
fn leaving_a_contract_mid_year_needs_the_leads_selbstdeklaration_for_the_first_half() {
    // Klein is a member of the lead's contract until 30.06.2023, then reports for itself. It
    // filed its own Selbstdeklaration; the lead filed none, so the first half-year is withheld.
    let m = master_with(&[("V", 2602, 2605, ymd(2019, 1, 1), ymd(2023, 6, 30))]);
    let ctx = Ctx { year: Y, master: &m };
    let wb = Workbook { format: Format::Xlsx, sheets: vec![sd(2605, "Klein", &[])], names: vec![] };
    let mut r = validate_form(FileResult::new(&file("s5.xlsx", ymd(2023, 1, 20))), extract(&wb).unwrap(), &ctx);
    r.file.sha256 = Some("s5".into());
    let resolved = resolve(vec![r], &ctx);
    let sd_fehlt: Vec<_> =
        resolved.municipality_findings.iter().filter(|f| f.code == Code::SdFehlt && f.bfs == Some(2605)).collect();
    assert_eq!(sd_fehlt.len(), 1, "the lead's missing Selbstdeklaration is reported for the first half-year");
    let comp = compute(&m, &resolved, Y);
    let klein = row(&comp, 2605);
    assert_eq!((klein.halves[0].payee, klein.halves[1].payee), (2602, 2605));
    assert_eq!(klein.payee, 2605);
    assert_eq!(klein.notes.len(), 1, "the annex says why the first half-year is withheld");
}

#[test]
fn wert_zu_gross_above_the_count_ceiling() {
    // One above beitraege::domain::MAX_COUNT (1'000'000): an error in its cell, never summed.
    let r = check(vec![report(2601, "Solothurn", 1, &[("SI_EG_ANZAHL", Value::Int(1_000_001))])], "a.xlsx", JUL);
    assert!(codes(&r).contains(&Code::WertZuGross), "{:?}", codes(&r));
    assert_eq!(at(&r, Code::WertZuGross).1.as_deref(), Some("B13"));
    assert_eq!((share(&r, 2601).paid.eg, share(&r, 2601).paid.d_eg), (0, 0));
}
