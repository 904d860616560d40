//! Payout runs and the ledger: the replay of the sample year, corrections after a payout,
//! the payment file, a killed `--buchen`, and a property test of the cumulative bookings.
//!
//! Expected amounts are independent of the code under test: the corpus's annex totals
//! (`samples/2023/expected/annex.csv`) and amounts computed by hand from the tariffs
//! (FALL_EG 200, DOLMETSCH_EG 160, FALL_IG 200, DOLMETSCH_IG 160, SOCKEL 7 CHF).

use crate::common;
use beitraege::domain::Chf;

use beitraege::domain::{ymd, FormKind, TariffCode};
use beitraege::ledger::{journal, Ledger, LedgerError, RunHeader};
use beitraege::workbook::{Limits, Value};
use beitraege::write::form_layout::{write_form_sheet, FormSheet};
use beitraege::zahlungslauf::pain001::{sps_char, sps_id_char};
use beitraege::zahlungslauf::plan::{self, Art, DueItem, Key, OpenClawback, Part};
use beitraege::zahlungslauf::{
    execute, freigeben, storno, FreigabeOptions, ReleaseOutcome, StornoOptions, ZahlungslaufError, ZahlungslaufOptions,
};
use chrono::NaiveDate;
use common::{read_csv, sample};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn dec(s: &str) -> Chf {
    Chf::from_str(s).unwrap()
}

fn opts(inbox: &Path, stammdaten: &Path, dir: &Path, stichtag: NaiveDate, book: bool) -> ZahlungslaufOptions {
    ZahlungslaufOptions {
        stichtag,
        inbox: inbox.to_path_buf(),
        stammdaten: stammdaten.to_path_buf(),
        // The output root: each booked run writes into `<JJJJ-MM-TT>[_n]` below it.
        out: dir.join("aus"),
        ledger: dir.join("buchhaltung.sqlite"),
        book,
        person: "anna".into(),
        first_year: Some(2023),
        // Replayed as if booked on the Stichtag.
        booked_on: stichtag,
        execution_date: None,
        extraordinary_reason: None,
        threads: Some(2),
        limits: Limits::default(),
    }
}

/// The release of the run `o` booked, by a second person («bruno») on its booking day.
fn release_as(o: &ZahlungslaufOptions, person: &str) -> Result<ReleaseOutcome, ZahlungslaufError> {
    freigeben(&FreigabeOptions {
        stichtag: o.stichtag,
        ledger: o.ledger.clone(),
        stammdaten: o.stammdaten.clone(),
        out: o.out.clone(),
        person: person.into(),
        released_on: o.booked_on,
        execution_date: None,
    })
}

fn release(o: &ZahlungslaufOptions) -> ReleaseOutcome {
    release_as(o, "bruno").expect("released by a second person")
}

/// SHA-256 of a file, hex (computed here, not by the crate).
fn sha256_file(p: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(p).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Ledger sums per municipality for `year`: contributions and clawbacks.
fn booked_per_bfs(ledger: &Ledger, year: i32) -> BTreeMap<u32, Chf> {
    let mut m = BTreeMap::new();
    for b in ledger.bookings().unwrap() {
        if b.periode.year == year && b.leistung.is_contribution() {
            let e = m.entry(b.bfs).or_insert(Chf::ZERO);
            *e = e.checked_add(b.betrag).unwrap();
        }
    }
    m
}

// ---------------------------------------------------------------------------
// pain.001 checks without outside tools
// ---------------------------------------------------------------------------

fn between<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

/// Structure, control sum and character set of a payment file; returns its total.
fn check_pain(xml: &str, expected_total: Chf, expected_txs: usize) {
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(xml.contains("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">"));
    let amounts: Vec<Chf> = between(xml, "<InstdAmt Ccy=\"CHF\">", "</InstdAmt>").into_iter().map(dec).collect();
    assert_eq!(amounts.len(), expected_txs);
    assert_eq!(between(xml, "<CdtTrfTxInf>", "</CdtTrfTxInf>").len(), expected_txs);
    assert!(amounts.iter().all(|a| a.is_positive() && a.decimal().scale() == 2));
    assert_eq!(Chf::checked_sum(amounts.iter().copied()), Some(expected_total));
    let ctrl = between(xml, "<CtrlSum>", "</CtrlSum>");
    assert_eq!(ctrl.len(), 2, "group header and payment block each carry the control sum");
    assert!(ctrl.iter().all(|c| dec(c) == expected_total));
    let n = between(xml, "<NbOfTxs>", "</NbOfTxs>");
    assert!(n.iter().all(|c| *c == expected_txs.to_string()));
    assert_eq!(between(xml, "<PmtMtd>", "</PmtMtd>"), vec!["TRF"]);
    // Every payee once.
    let e2e = between(xml, "<EndToEndId>", "</EndToEndId>");
    let mut uniq = e2e.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), e2e.len());
    for tag in ["MsgId", "PmtInfId", "EndToEndId", "InstrId"] {
        for id in between(xml, &format!("<{tag}>"), &format!("</{tag}>")) {
            assert!(!id.is_empty() && id.chars().count() <= 35 && id.chars().all(sps_id_char), "{tag} «{id}»");
        }
    }
    assert!(xml.chars().all(|c| c == '\n' || sps_char(c)), "text outside the SPS character set");
    for u in between(xml, "<Ustrd>", "</Ustrd>") {
        assert!(u.chars().count() <= 140);
    }
    // Structured creditor addresses: every creditor has street, postcode, town and country.
    for cdtr in between(xml, "<Cdtr>", "</Cdtr>") {
        for tag in ["<Nm>", "<StrtNm>", "<PstCd>", "<TwnNm>", "<Ctry>CH</Ctry>"] {
            assert!(cdtr.contains(tag), "creditor without {tag}");
        }
    }
    for iban in between(xml, "<IBAN>", "</IBAN>") {
        assert!(beitraege::zahlungsdaten::check_iban(iban).is_ok(), "invalid IBAN {iban}");
    }
    // The debtor agent is identified (banks reject files without it).
    assert!(xml.contains("<DbtrAgt>") && (xml.contains("<BICFI>") || xml.contains("<ClrSysMmbId>")));
}

// ---------------------------------------------------------------------------
// The replay of the sample year
// ---------------------------------------------------------------------------

const REPLAY: [(i32, u32, u32); 3] = [(2023, 3, 31), (2023, 9, 30), (2024, 3, 31)];

struct Replay {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    pains: Vec<PathBuf>,
}

fn replay() -> Replay {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let inbox = sample().join("inbox");
    let sd = sample().join("Stammdaten.xlsx");
    let mut pains = Vec::new();
    for (y, m, day) in REPLAY {
        let o = opts(&inbox, &sd, &d, ymd(y, m, day), true);
        let out = execute(&o).expect("the run books");
        assert!(out.booked);
        // Booked, not released: the run's folder holds its workbook, JSON and journal, and no
        // payment file; the next run waits for the release.
        let pain = out.out.join(format!("pain001_{}.xml", ymd(y, m, day)));
        assert_eq!(out.out, o.out.join(ymd(y, m, day).format("%Y-%m-%d").to_string()));
        assert!(out.out.join(format!("Zahlungslauf_{}.xlsx", ymd(y, m, day))).is_file());
        assert!(!pain.exists());
        // The booking person cannot release it; another can, and the file's SHA-256 is recorded.
        assert!(matches!(release_as(&o, "anna"), Err(ZahlungslaufError::Ledger(LedgerError::SamePerson { .. }))));
        assert!(!pain.exists());
        let rel = release(&o);
        assert_eq!(rel.folder, out.out);
        assert_eq!(rel.release.file_sha256.as_deref(), Some(sha256_file(&pain).as_str()));
        // The payment file's control sum equals the run's total, one transfer per payee.
        let xml = std::fs::read_to_string(&pain).expect("payment file written");
        let payees = out.plan.payees.iter().filter(|p| p.transfer > Chf::ZERO).count();
        check_pain(&xml, out.plan.total_transfer(), payees);
        pains.push(pain);
    }
    Replay { _dir: dir, dir: d, pains }
}

#[test]
fn replay_of_the_sample_year_pays_the_annex_to_the_rappen() {
    let r = replay();
    let ledger = Ledger::open_existing(&r.dir.join("buchhaltung.sqlite")).unwrap();
    let booked = booked_per_bfs(&ledger, 2023);
    let annex = read_csv(&sample().join("expected/annex.csv"));
    assert!(annex.len() > 100);
    let mut total = Chf::ZERO;
    for row in &annex {
        let bfs: u32 = row["bfs"].parse().unwrap();
        let expected = dec(&row["total"]);
        let got = booked.get(&bfs).copied().unwrap_or(Chf::ZERO);
        assert_eq!(got, expected, "BFS {bfs}: ledger {got}, annex {expected}");
        total = total.checked_add(expected).unwrap();
    }
    assert_eq!(total, dec("634409.00"));
    // Nothing booked for a municipality outside the annex.
    assert!(booked.keys().all(|b| annex.iter().any(|r| r["bfs"] == b.to_string())));

    // Booking 31.03.2024 again books nothing and says so.
    let before = ledger.bookings().unwrap().len();
    let again =
        execute(&opts(&sample().join("inbox"), &sample().join("Stammdaten.xlsx"), &r.dir, ymd(2024, 3, 31), true));
    match again {
        Err(ZahlungslaufError::Ledger(LedgerError::AlreadyBooked { stichtag, .. })) => {
            assert_eq!(stichtag, "31.03.2024")
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a Stichtag was booked twice"),
    }
    // An earlier Stichtag after a later one is refused too.
    let earlier =
        execute(&opts(&sample().join("inbox"), &sample().join("Stammdaten.xlsx"), &r.dir, ymd(2023, 9, 30), true));
    assert!(matches!(earlier, Err(ZahlungslaufError::Ledger(LedgerError::AlreadyBooked { .. }))));
    assert_eq!(Ledger::open_existing(&r.dir.join("buchhaltung.sqlite")).unwrap().bookings().unwrap().len(), before);

    // A preview after the last run has nothing to pay.
    let mut o = opts(&sample().join("inbox"), &sample().join("Stammdaten.xlsx"), &r.dir, ymd(2024, 3, 31), false);
    o.out = r.dir.join("preview");
    let p = execute(&o).unwrap();
    assert!(p.plan.bookings.is_empty());
    assert_eq!(p.out, o.out.join("2024-03-31_Entwurf"));
    assert!(!p.out.join("pain001_2024-03-31.xml").exists());
    assert!(p.out.join("Zahlungslauf_2024-03-31_Entwurf.xlsx").exists());

    // The clawback of 25'000 against Gunzgen (2578) decided 03.05.2023 exceeds its H1 payout
    // (2 × 200 + 2 × 160 + 1 × 200 + 1 × 160 = 1'080): invoice 23'920 due 30 days after 30.09.2023.
    let inv = ledger.invoices().unwrap();
    assert_eq!(inv.len(), 1);
    assert_eq!((inv[0].payee, inv[0].amount, inv[0].due_on), (2578, dec("23920"), ymd(2023, 10, 30)));

    // The journal export's hash chain holds and detects a changed row.
    let csv = std::fs::read_to_string(r.dir.join("aus/2024-03-31").join(journal::FILE_NAME)).unwrap();
    assert_eq!(journal::verify_csv(&csv), None);
    // The header, one row per booking, and the anchored head of the ledger's chain.
    assert_eq!(csv.lines().count(), before + 2);
    let tampered = csv.replacen(";23920.00;", ";239.20;", 1).replacen(";-23920.00;", ";-239.20;", 1);
    assert_ne!(tampered, csv);
    assert!(journal::verify_csv(&tampered).is_some());
    assert!(ledger.verify().is_ok());
}

/// The one invoice (4.7): what Gunzgen receives from the booked run of 30.09.2023 (the PDF,
/// its QR-bill, the e-mail draft) is the ledger's invoice; paying the PDF's amount with its
/// printed reference leaves nothing open; `konto` reprints the same bytes; and the annex's
/// projection of the year's runs is what the runs booked. Expectations by hand: the
/// clawback of 25'000 decided 03.05.2023 is offset at the first run on or after it
/// (30.09.2023) against that run's payout to Gunzgen, H1 2023: 2 × 200 + 2 × 160 + 1 × 200 +
/// 1 × 160 = 1'080; 23'920 is invoiced, dated on the booking day 30.09.2023, due 30.10.2023,
/// the ledger's first invoice of 2023; its RF reference RF81 2023 0001 (ISO 11649 check
/// digits of «20230001» computed by hand).
#[test]
fn the_invoice_a_municipality_receives_is_the_ledgers_invoice() {
    let r = replay();
    let path = r.dir.join("buchhaltung.sqlite");
    let mut ledger = Ledger::open_existing(&path).unwrap();
    let inv = ledger.invoices().unwrap();
    assert_eq!(inv.len(), 1);
    assert_eq!(
        (inv[0].id.as_str(), inv[0].payee, inv[0].amount, inv[0].date, inv[0].due_on),
        ("2023-0001", 2578, dec("23920"), ymd(2023, 9, 30), ymd(2023, 10, 30))
    );
    let out = r.dir.join("aus/2023-09-30");
    let pdf = std::fs::read(out.join("Rechnungen/2023-0001_2578_Gunzgen.pdf")).expect("the run wrote the invoice");
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    for shown in [
        "Rechnung Nr. 2023-0001",
        "CHF 25'000.00",
        "CHF 1'080.00",
        "CHF 23'920.00",
        "RF81 2023 0001",
        "30. Oktober 2023",
    ] {
        assert!(text.contains(shown), "the invoice shows «{shown}»");
    }
    // The e-mail draft attaches the invoice alone (never the annex).
    let eml = std::fs::read(out.join("Entwuerfe/Rechnung_2023-0001_2578_Gunzgen.eml")).expect("draft");
    let msg = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let atts: Vec<_> = msg.attachments().collect();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].contents(), pdf.as_slice());
    // The other runs issued no invoice.
    for o in ["aus/2023-03-31", "aus/2024-03-31"] {
        assert!(!r.dir.join(o).join("Rechnungen").exists(), "{o}");
    }
    // Reprinted from the ledger: the same bytes.
    let konto = beitraege::zahlungslauf::konto::KontoOptions {
        ledger: path.clone(),
        out: r.dir.join("konto"),
        bfs: Some(2578),
        stammdaten: Some(sample().join("Stammdaten.xlsx")),
        date: ymd(2023, 10, 1),
    };
    let (_, folder, _) = beitraege::zahlungslauf::konto::execute(&konto).unwrap();
    assert_eq!(folder, r.dir.join("konto/Stand_2023-10-01"));
    assert_eq!(std::fs::read(folder.join("Rechnungen/2023-0001_2578_Gunzgen.pdf")).unwrap(), pdf);
    // Paying the printed amount with the printed reference (spaces and all) settles it.
    let today = chrono::Local::now().date_naive();
    ledger.record_receipt("RF81 2023 0001", ymd(2023, 10, 20), dec("23920.00"), today, "t", "t").unwrap();
    assert_eq!(ledger.invoices().unwrap()[0].open(), Chf::ZERO);
    // The number alone, in any case, finds it too; an unknown one does not.
    assert_eq!(ledger.find_invoice(" 2023-0001 ").unwrap().id, "2023-0001");
    assert_eq!(ledger.find_invoice("rf8120230001").unwrap().id, "2023-0001");
    assert!(matches!(ledger.find_invoice("2023-0002"), Err(LedgerError::UnknownInvoice(_))));
    assert!(matches!(ledger.find_invoice("RF8220230001"), Err(LedgerError::UnknownInvoice(_))));

    // The annex's projection is what the runs booked: per run date and payee, the year's
    // payout and offset, and the invoice.
    let eval = beitraege::run::evaluate(&common::sample_options(&r.dir.join("annex"), Some(2))).unwrap();
    let mut booked: BTreeMap<(NaiveDate, u32), (Chf, Chf)> = BTreeMap::new();
    for run in ledger.runs().unwrap().iter().filter(|x| x.art == beitraege::ledger::RunKind::Zahlungslauf) {
        let rows: Vec<_> = ledger.bookings().unwrap().into_iter().filter(|b| b.run_id == run.run_id).collect();
        let mut per: BTreeMap<u32, (Chf, Chf)> = BTreeMap::new();
        for b in &rows {
            let e = per.entry(b.payee).or_default();
            if b.art != Art::Rechnung && b.betrag > Chf::ZERO && b.periode.year == 2023 {
                e.0 = e.0.checked_add(b.betrag).unwrap();
            } else if b.art == Art::Rueckforderung {
                e.1 = e.1.checked_sub(b.betrag).unwrap();
            }
        }
        for (payee, (gross, claims)) in per {
            let offset = claims.min(gross);
            if !gross.is_zero() || !offset.is_zero() {
                booked.insert((run.stichtag, payee), (gross, offset));
            }
        }
    }
    let projected: BTreeMap<(NaiveDate, u32), (Chf, Chf)> =
        eval.comp.payouts.iter().map(|p| ((p.date, p.payee), (p.gross, p.offset))).collect();
    assert_eq!(projected, booked);
    let invoices: Vec<(u32, Chf, NaiveDate)> = eval.comp.invoices.iter().map(|i| (i.bfs, i.amount, i.due_on)).collect();
    assert_eq!(invoices, vec![(2578, dec("23920"), ymd(2023, 10, 30))]);
}

#[test]
#[ignore = "needs xmllint (libxml2-utils)"]
fn replay_payment_files_validate_against_the_six_schema() {
    let r = replay();
    let xsd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/pain.001.001.09.ch.03.xsd");
    for p in &r.pains {
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .arg(p)
            .output()
            .expect("xmllint runs");
        assert!(out.status.success(), "{}: {}", p.display(), String::from_utf8_lossy(&out.stderr));
    }
}

// ---------------------------------------------------------------------------
// A small world built by the test: corrections after a payout
// ---------------------------------------------------------------------------

enum C {
    T(&'static str),
    S(String),
    N(f64),
}

fn write_xlsx(path: &Path, sheets: &[(&str, Vec<Vec<C>>)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                match v {
                    C::T(s) => ws.write_string(r as u32, c as u16, *s).map(|_| ()).unwrap(),
                    C::S(s) => ws.write_string(r as u32, c as u16, s).map(|_| ()).unwrap(),
                    C::N(n) => ws.write_number(r as u32, c as u16, *n).map(|_| ()).unwrap(),
                }
            }
        }
    }
    wb.save(path).unwrap();
}

fn iban(bban: &str) -> String {
    // ISO 7064 MOD 97-10, computed here independently of the crate under test.
    let digits: String = format!("{bban}CH00").chars().map(|c| c.to_digit(36).unwrap().to_string()).collect();
    let rem = digits.chars().fold(0u64, |acc, c| (acc * 10 + c.to_digit(10).unwrap() as u64) % 97);
    format!("CH{:02}{bban}", 98 - rem)
}

/// 2601 Aarstadt (100 foreign residents), 2605 Klein (10), 2610 Drittdorf (20); a clawback
/// of 5'000 against 2610 decided 01.08.2023.
fn world_master(path: &Path) {
    world_master_banked(path, "80808");
}

/// The world's master data with the payees' accounts at bank `bank` (5 digits).
fn world_master_banked(path: &Path, bank: &str) {
    use C::*;
    let muni = [(2601.0, "Aarstadt"), (2605.0, "Klein"), (2610.0, "Drittdorf")];
    let mut gem =
        vec![vec![T("BFS-Nr."), T("Gemeinde"), T("Bezirk"), T("Gültig ab"), T("Gültig bis"), T("Nachfolge BFS-Nr.")]];
    let mut pop = vec![vec![T("BFS-Nr."), T("Stichtag"), T("Ausländische Wohnbevölkerung"), T("Quelle")]];
    let mut acc =
        vec![vec![T("BFS-Nr."), T("Kontoinhaber"), T("IBAN"), T("Strasse"), T("Hausnummer"), T("PLZ"), T("Ort")]];
    for (b, n, p) in [(muni[0].0, muni[0].1, 100.0), (muni[1].0, muni[1].1, 10.0), (muni[2].0, muni[2].1, 20.0)] {
        gem.push(vec![N(b), T(n), T("Test"), T(""), T(""), T("")]);
        for st in ["31.12.2021", "31.12.2022"] {
            pop.push(vec![N(b), T(st), N(p), T("Test")]);
        }
        acc.push(vec![
            N(b),
            S(format!("Einwohnergemeinde {n}")),
            S(iban(&format!("{bank}{:012}", b as u32))),
            T("Dorfstrasse"),
            T("1"),
            T("4500"),
            T(n),
        ]);
    }
    write_xlsx(
        path,
        &[
            ("Gemeinden", gem),
            ("Wohnbevölkerung", pop),
            (
                "Leitgemeinden",
                vec![vec![
                    T("Vertrag"),
                    T("Leitgemeinde BFS-Nr."),
                    T("Mitglied BFS-Nr."),
                    T("Gültig ab"),
                    T("Gültig bis"),
                ]],
            ),
            (
                "Tarife",
                vec![
                    vec![T("Leistung"), T("Betrag CHF"), T("Gültig ab"), T("Gültig bis")],
                    vec![T("FALL_EG"), N(200.0), T("01.01.2017"), T("")],
                    vec![T("DOLMETSCH_EG"), N(160.0), T("01.07.2018"), T("")],
                    vec![T("SOCKEL"), N(7.0), T("01.01.2018"), T("")],
                    vec![T("FALL_IG"), N(200.0), T("01.01.2022"), T("")],
                    vec![T("DOLMETSCH_IG"), N(160.0), T("01.01.2022"), T("")],
                ],
            ),
            ("Kredit", vec![vec![T("Jahr"), T("Kredit CHF")], vec![N(2023.0), N(1_000_000.0)]]),
            (
                "Rückforderungen",
                vec![
                    vec![T("BFS-Nr."), T("Betrag CHF"), T("Grund"), T("Verfügt am")],
                    vec![N(2610.0), N(5000.0), T("Leistungen nicht erbracht"), T("01.08.2023")],
                ],
            ),
            ("Zahlungsverbindungen", acc),
            (
                "Kantonskonto",
                vec![
                    vec![
                        T("Kontoinhaber"),
                        T("IBAN"),
                        T("BIC"),
                        T("Clearing-Nr."),
                        T("Strasse"),
                        T("Hausnummer"),
                        T("PLZ"),
                        T("Ort"),
                    ],
                    vec![
                        T("Kanton Solothurn"),
                        S(iban("09000000045000001")),
                        T(""),
                        T("9000"),
                        T("Rathaus"),
                        T("1"),
                        T("4500"),
                        T("Solothurn"),
                    ],
                ],
            ),
        ],
    );
}

fn form(path: &Path, kind: FormKind, values: &[(&'static str, Value)]) {
    let sheet = match kind {
        FormKind::Reporting => "Reporting",
        FormKind::Selbstdeklaration => "Selbstdeklaration",
    };
    let mut f = FormSheet::new(kind, sheet);
    for (k, v) in values {
        let field = beitraege::fields::FormField::parse(k).unwrap_or_else(|| panic!("{k} is no field"));
        f.values.insert(field, v.clone());
    }
    let mut wb = rust_xlsxwriter::Workbook::new();
    write_form_sheet(wb.add_worksheet(), &f).unwrap();
    wb.save(path).unwrap();
}

fn sd_form(path: &Path, bfs: i64, name: &str) {
    let ja = || Value::Text("Ja".into());
    form(
        path,
        FormKind::Selbstdeklaration,
        &[
            ("SD_VERSION", Value::Int(2022)),
            ("SD_GEMEINDE", Value::Text(name.into())),
            ("SD_BFS_NR", Value::Int(bfs)),
            ("SD_JAHR", Value::Int(2023)),
            ("SD_BEAUFTRAGTE", Value::Text("Anna".into())),
            ("SD_Q_ORGANISATION", ja()),
            ("SD_Q_ANLAUFSTELLE", ja()),
            ("SD_Q_ERSTINFO", ja()),
            ("SD_Q_ANGEBOTE", ja()),
            ("SD_Q_INTEGRATIONSGESPRAECHE", ja()),
            ("SD_Q_VERNETZUNG", ja()),
            ("SD_DATUM", Value::Date(ymd(2023, 1, 10))),
        ],
    );
}

/// A report with (EG, Dolmetsch EG, IG, Dolmetsch IG).
fn report_form(path: &Path, bfs: i64, name: &str, half: i64, counts: (i64, i64, i64, i64), signed: NaiveDate) {
    let i = Value::Int;
    form(
        path,
        FormKind::Reporting,
        &[
            ("SI_VERSION", Value::Text("2022".into())),
            ("SI_GEMEINDE", Value::Text(name.into())),
            ("SI_BFS_NR", i(bfs)),
            ("SI_JAHR", i(2023)),
            ("SI_HALBJAHR", i(half)),
            ("SI_BEAUFTRAGTE", Value::Text("Anna".into())),
            ("SI_DATUM", Value::Date(signed)),
            ("SI_EG_ANZAHL", i(counts.0)),
            ("SI_EG_DOLMETSCH", i(counts.1)),
            ("SI_EG_DOLMETSCH_ANDERE", i(0)),
            ("SI_EG_PERSONEN", i(counts.0)),
            ("SI_INFOMAPPEN", i(counts.0)),
            ("SI_NEUZUZUEGE", i(counts.0 + counts.2 + 5)),
            ("SI_IG_ANZAHL", i(counts.2)),
            ("SI_IG_DOLMETSCH", i(counts.3)),
            ("SI_MELDUNGEN", i(0)),
        ],
    );
}

/// The inbox of the small world; the journal gives the receipt dates.
fn world_inbox(inbox: &Path) {
    std::fs::create_dir_all(inbox).unwrap();
    sd_form(&inbox.join("SD_2601.xlsx"), 2601, "Aarstadt");
    sd_form(&inbox.join("SD_2605.xlsx"), 2605, "Klein");
    sd_form(&inbox.join("SD_2610.xlsx"), 2610, "Drittdorf");
    report_form(&inbox.join("H1_2601.xlsx"), 2601, "Aarstadt", 1, (4, 2, 1, 1), ymd(2023, 7, 10));
    report_form(&inbox.join("H1_2605.xlsx"), 2605, "Klein", 1, (5, 0, 0, 0), ymd(2023, 7, 10));
    report_form(&inbox.join("H1_2610.xlsx"), 2610, "Drittdorf", 1, (3, 0, 0, 0), ymd(2023, 7, 10));
    // After the September payout: 2601 corrects H1 upwards (6 conversations instead of 4),
    // 2605 downwards (2 instead of 5); 2605 also reports H2 (4 conversations).
    report_form(&inbox.join("H1_2601_korrigiert.xlsx"), 2601, "Aarstadt", 1, (6, 2, 1, 1), ymd(2024, 1, 8));
    report_form(&inbox.join("H1_2605_korrigiert.xlsx"), 2605, "Klein", 1, (2, 0, 0, 0), ymd(2024, 1, 8));
    report_form(&inbox.join("H2_2605.xlsx"), 2605, "Klein", 2, (4, 0, 0, 0), ymd(2024, 1, 9));
    std::fs::write(
        inbox.join("Eingangsjournal.csv"),
        "Datei;Eingangsdatum\n\
         SD_2601.xlsx;12.01.2023\nSD_2605.xlsx;12.01.2023\nSD_2610.xlsx;12.01.2023\n\
         H1_2601.xlsx;12.07.2023\nH1_2605.xlsx;12.07.2023\nH1_2610.xlsx;12.07.2023\n\
         H1_2601_korrigiert.xlsx;10.01.2024\nH1_2605_korrigiert.xlsx;10.01.2024\nH2_2605.xlsx;11.01.2024\n",
    )
    .unwrap();
}

fn world() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    world_inbox(&inbox);
    let sd = dir.path().join("Stammdaten.xlsx");
    world_master(&sd);
    (dir, inbox, sd)
}

/// Each payment records the IBAN it is paid to; a payee whose IBAN changed since its last
/// payment is named in the next run's notes (and its workbook's sheet «Hinweise»).
#[test]
fn the_iban_paid_is_recorded_and_a_changed_one_is_flagged() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    execute(&opts(&inbox, &sd, d, ymd(2023, 3, 31), true)).unwrap();
    let ledger = Ledger::open_existing(&d.join("buchhaltung.sqlite")).unwrap();
    let paid: Vec<_> = ledger.bookings().unwrap().into_iter().filter(|b| b.art == Art::Auszahlung).collect();
    assert_eq!(paid.len(), 3);
    for b in &paid {
        assert_eq!(b.iban.as_deref(), Some(iban(&format!("80808{:012}", b.payee)).as_str()), "{}", b.payee);
    }
    assert!(ledger.verify().is_ok(), "the IBAN is covered by the chain");
    drop(ledger);
    // The same accounts: no note names an IBAN.
    let mut o = opts(&inbox, &sd, d, ymd(2023, 9, 30), false);
    o.out = d.join("same");
    let r = execute(&o).unwrap();
    assert!(!r.notes.iter().any(|n| n.contains(" 8080 ")), "{:?}", r.notes);
    // Every payee moved to bank 80809: each one paid on 30.09. is flagged, with the new IBAN.
    world_master_banked(&sd, "80809");
    let mut o = opts(&inbox, &sd, d, ymd(2023, 9, 30), false);
    o.out = d.join("moved");
    let r = execute(&o).unwrap();
    let paid_now: Vec<u32> = r.plan.payees.iter().filter(|p| p.transfer > Chf::ZERO).map(|p| p.payee).collect();
    assert!(!paid_now.is_empty());
    for payee in paid_now {
        let new = beitraege::documents::qrbill::grouped(&iban(&format!("80809{payee:012}")));
        assert_eq!(r.notes.iter().filter(|n| n.contains(&new)).count(), 1, "{payee}");
    }
}

fn sum_of(bookings: &[plan::PlannedBooking], payee: u32, art: Art) -> Chf {
    Chf::checked_sum(bookings.iter().filter(|b| b.payee == payee && b.art == art).map(|b| b.betrag)).unwrap()
}

#[test]
fn corrections_after_a_payout_are_paid_offset_or_invoiced() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    // The first booking needs the ledger's first year.
    let mut o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    o.first_year = None;
    assert!(matches!(execute(&o), Err(ZahlungslaufError::FirstYearNeeded(2023))));
    assert!(Ledger::open(&d.join("buchhaltung.sqlite")).unwrap().bookings().unwrap().is_empty());
    // 31.03.2023: the Sockelbeiträge 2023: 100 × 7 = 700, 10 × 7 = 70, 20 × 7 = 140.
    let r1 = execute(&opts(&inbox, &sd, d, ymd(2023, 3, 31), true)).unwrap();
    release(&opts(&inbox, &sd, d, ymd(2023, 3, 31), true));
    let transfers: BTreeMap<u32, Chf> = r1.plan.payees.iter().map(|p| (p.payee, p.transfer)).collect();
    assert_eq!(transfers, BTreeMap::from([(2601, dec("700")), (2605, dec("70")), (2610, dec("140"))]));

    // 30.09.2023: H1 as first reported. 2601: 4 × 200 + 2 × 160 + 1 × 200 + 1 × 160 = 1'480.
    // 2605: 5 × 200 = 1'000. 2610: 3 × 200 = 600 against the clawback of 5'000: nothing
    // paid, 600 offset, 4'400 invoiced, due 30 days after the run (30.10.2023).
    let r2 = execute(&opts(&inbox, &sd, d, ymd(2023, 9, 30), true)).unwrap();
    release(&opts(&inbox, &sd, d, ymd(2023, 9, 30), true));
    let p: BTreeMap<u32, &plan::PayeeResult> = r2.plan.payees.iter().map(|p| (p.payee, p)).collect();
    assert_eq!(p[&2601].transfer, dec("1480"));
    assert_eq!(p[&2605].transfer, dec("1000"));
    assert_eq!((p[&2610].transfer, p[&2610].offset, p[&2610].invoice), (dec("0"), dec("600"), dec("4400")));
    let inv: Vec<_> = r2.plan.bookings.iter().filter(|b| b.art == Art::Rechnung).collect();
    assert_eq!(inv.len(), 1);
    assert_eq!((inv[0].payee, inv[0].betrag, inv[0].due_on), (2610, dec("-4400"), Some(ymd(2023, 10, 30))));

    // 31.03.2024: 2601's corrected H1 is paid as the difference: (6 − 4) × 200 = 400.
    // 2605's lower H1 ((2 − 5) × 200 = −600) is offset against its H2 (4 × 200 = 800): 200 paid.
    let r3 = execute(&opts(&inbox, &sd, d, ymd(2024, 3, 31), true)).unwrap();
    release(&opts(&inbox, &sd, d, ymd(2024, 3, 31), true));
    let p: BTreeMap<u32, &plan::PayeeResult> = r3.plan.payees.iter().map(|p| (p.payee, p)).collect();
    assert_eq!(p[&2601].transfer, dec("400"));
    let nach: Vec<_> = r3.plan.bookings.iter().filter(|b| b.payee == 2601).collect();
    assert_eq!(nach.len(), 1);
    assert_eq!(
        (nach[0].periode.to_string().as_str(), nach[0].leistung.as_str(), nach[0].betrag),
        ("2023/H1", "FALL_EG", dec("400"))
    );
    assert_eq!((p[&2605].transfer, p[&2605].offset, p[&2605].invoice), (dec("200"), dec("600"), dec("0")));
    assert_eq!(sum_of(&r3.plan.bookings, 2605, Art::Korrektur), dec("-600"));
    assert!(!p.contains_key(&2610), "nothing new for 2610");
    // The September invoice is still open and overdue on 31.03.2024.
    let open: Vec<_> = r3.open_invoices.iter().filter(|i| i.open() > Chf::ZERO).collect();
    assert_eq!(open.len(), 1);
    assert!(open[0].due_on < ymd(2024, 3, 31));
    let xml = std::fs::read_to_string(d.join("aus/2024-03-31/pain001_2024-03-31.xml")).unwrap();
    check_pain(&xml, dec("600"), 2);

    // The workbook: per payee name, IBAN and payout; the total row's formulas carry their results.
    let bytes = std::fs::read(d.join("aus/2024-03-31/Zahlungslauf_2024-03-31.xlsx")).unwrap();
    let wb = beitraege::workbook::read_workbook(&bytes, &Limits::default()).unwrap();
    let z = wb.sheets.iter().find(|s| s.name == "Zahlungen").unwrap();
    let total_row = (0..20).find(|r| z.get(*r, 0).text() == "Total").expect("total row");
    let cell = |r: u32, c: u32| Chf::from_str(&z.get(r, c).text()).unwrap_or_else(|_| panic!("{:?}", z.get(r, c)));
    assert_eq!((cell(total_row, 4), cell(total_row, 5), cell(total_row, 6)), (dec("1200"), dec("-600"), dec("600")));
    let row_2605 = (0..20).find(|r| z.get(*r, 0).text() == "2605").unwrap();
    // The IBAN prints in groups of four.
    let shown = z.get(row_2605, 3).text();
    assert_eq!(shown.replace(' ', ""), iban("80808000000002605"));
    assert!(shown.split(' ').all(|g| (1..=4).contains(&g.len())) && shown.split(' ').count() == 6, "{shown}");
    assert_eq!(cell(row_2605, 6), dec("200"));

    // The JSON lists every booking with exactly the fixed keys.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("aus/2024-03-31/Zahlungslauf_2024-03-31.json")).unwrap()).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), r3.plan.bookings.len());
    for o in arr {
        let mut keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["art", "betrag", "bfs_nr", "jahr", "leistung", "periode", "zahlungsempfaenger"]);
    }
    let neg: Vec<_> = arr.iter().filter(|o| o["bfs_nr"] == 2605 && o["periode"] == "2023/H1").collect();
    assert_eq!(neg.len(), 1);
    assert_eq!((neg[0]["leistung"].as_str(), neg[0]["betrag"].as_str()), (Some("FALL_EG"), Some("-600.00")));

    // Receipt of the invoice, then it is settled; more than open is refused.
    let mut ledger = Ledger::open_existing(&d.join("buchhaltung.sqlite")).unwrap();
    let id = open[0].id.clone();
    assert!(matches!(
        ledger.record_receipt(&id, ymd(2023, 10, 20), dec("4400.05"), ymd(2024, 4, 1), "x", "t"),
        Err(LedgerError::Overpaid { .. })
    ));
    ledger.record_receipt(&id, ymd(2023, 10, 20), dec("4000"), ymd(2024, 4, 1), "x", "t").unwrap();
    ledger.record_receipt(&id, ymd(2023, 10, 25), dec("400"), ymd(2024, 4, 1), "x", "t").unwrap();
    assert!(ledger.invoices().unwrap().iter().all(|i| i.open().is_zero()));

    // Storno of the last run books its exact reversal, in a folder of its own; the original
    // run's files stay as they were.
    drop(ledger);
    let first_pain = d.join("aus/2024-03-31/pain001_2024-03-31.xml");
    let first_sha = sha256_file(&first_pain);
    let (n, folder) = storno(&StornoOptions {
        stichtag: ymd(2024, 3, 31),
        ledger: d.join("buchhaltung.sqlite"),
        out: d.join("aus"),
        reason: "Test".into(),
        person: "carla".into(),
    })
    .unwrap();
    assert_eq!(n, r3.plan.bookings.len());
    assert_eq!(folder, d.join("aus/2024-03-31_Storno"));
    assert!(folder.join(journal::FILE_NAME).is_file());
    // The Storno is final only once another person has released it: until then nothing is
    // booked; the one who booked it cannot release it.
    let o3 = opts(&inbox, &sd, d, ymd(2024, 3, 31), true);
    assert!(matches!(execute(&o3), Err(ZahlungslaufError::Ledger(LedgerError::NotReleased { .. }))));
    assert!(matches!(release_as(&o3, "carla"), Err(ZahlungslaufError::Ledger(LedgerError::SamePerson { .. }))));
    let rel = release_as(&o3, "anna").unwrap();
    assert_eq!((rel.run.art.as_str(), rel.release.file.as_deref()), ("Storno", None));
    // The same Stichtag booked again: run 2, in its own folder, with new payment ids.
    let r3b = execute(&o3).unwrap();
    assert_eq!(r3b.plan.total_transfer(), dec("600"));
    assert_eq!(r3b.out, d.join("aus/2024-03-31_2"));
    assert!(r3b.out.join("Zahlungslauf_2024-03-31_2.xlsx").is_file());
    let rel = release(&o3);
    let second_pain = r3b.out.join("pain001_2024-03-31_2.xml");
    assert_eq!(rel.release.file_sha256.as_deref(), Some(sha256_file(&second_pain).as_str()));
    assert_eq!(sha256_file(&first_pain), first_sha, "the first run's payment file is untouched");
    let (a, b) = (std::fs::read_to_string(&first_pain).unwrap(), std::fs::read_to_string(&second_pain).unwrap());
    let ids = |x: &str| -> Vec<String> {
        ["MsgId", "EndToEndId"]
            .iter()
            .flat_map(|t| between(x, &format!("<{t}>"), &format!("</{t}>")))
            .map(str::to_string)
            .collect()
    };
    let (ia, ib) = (ids(&a), ids(&b));
    assert_eq!((ia.len(), ib.len()), (3, 3), "one MsgId and two EndToEndIds each");
    assert!(ia.iter().all(|i| !ib.contains(i)), "a rebooked run's ids are new: {ia:?} {ib:?}");
    check_pain(&b, dec("600"), 2);
    // Cumulative: 2601's H1 FALL_EG booked = 6 × 200; 2605's = 2 × 200.
    let ledger = Ledger::open_existing(&d.join("buchhaltung.sqlite")).unwrap();
    let (sums, _) = ledger.component_sums().unwrap();
    let k = |bfs| Key { bfs, year: 2023, part: Part::H1, component: TariffCode::FallEg };
    assert_eq!(sums[&k(2601)], dec("1200"));
    assert_eq!(sums[&k(2605)], dec("400"));
    assert!(ledger.verify().is_ok());

    // The statement: 2605's last run paid 800, offset 600, transferred 200.
    let st = beitraege::zahlungslauf::konto::statement(&ledger, Some(2605), ymd(2024, 4, 15)).unwrap();
    let last = st.runs.last().unwrap();
    assert_eq!((last.gross, last.offset, last.transfer, last.invoiced), (dec("800"), dec("600"), dec("200"), dec("0")));
    // The reversed run shows negated, the rebooked run again: net over all runs 70 + 1'000 + 200.
    assert_eq!(Chf::checked_sum(st.runs.iter().map(|r| r.transfer)), Some(dec("1270")));

    // `run --buchhaltung`: the annex gains the sheet `Buchhaltung`; what is booked equals the
    // annex: 2601 = 700 + 6 × 200 + 2 × 160 + 200 + 160 = 2'580; 2610 = 140 + 600 − 5'000.
    let mut ro = common::sample_options(&d.join("annex"), Some(2));
    ro.inbox = inbox.clone();
    ro.stammdaten = sd.clone();
    ro.buchhaltung = Some(d.join("buchhaltung.sqlite"));
    beitraege::run::run(&ro).unwrap();
    let bytes = std::fs::read(d.join("annex/Anhang_1_Beitraege_2023.xlsx")).unwrap();
    let wb = beitraege::workbook::read_workbook(&bytes, &Limits::default()).unwrap();
    let sheet = wb.sheets.iter().find(|s| s.name == "Buchhaltung").expect("ledger sheet");
    let row_of = |bfs: i64| {
        (0..50)
            .find(|r| match sheet.get(*r, 0) {
                Value::Int(n) => *n == bfs,
                Value::Float(f) => *f == bfs as f64,
                _ => false,
            })
            .unwrap()
    };
    let num = |r: u32, c: u32| match sheet.get(r, c) {
        Value::Int(n) => Chf::from_int(*n),
        Value::Float(f) => Chf::new(Decimal::try_from(*f).unwrap()),
        v => panic!("not a number: {v:?}"),
    };
    for (bfs, expected) in [(2601, dec("2580")), (2605, dec("1270")), (2610, dec("-4260"))] {
        let r = row_of(bfs);
        assert_eq!((num(r, 2), num(r, 3), num(r, 4)), (expected, expected, dec("0")), "BFS {bfs}");
    }
}

#[test]
fn without_payment_details_the_run_books_but_writes_no_payment_file() {
    let (dir, inbox, _) = world();
    // The sample's master data without the two payment sheets is the original shape: build
    // the world again without them.
    let sd = dir.path().join("ohne.xlsx");
    world_master(&sd);
    let mut wb = beitraege::workbook::read_workbook(&std::fs::read(&sd).unwrap(), &Limits::default()).unwrap();
    wb.sheets.retain(|s| s.name != "Zahlungsverbindungen" && s.name != "Kantonskonto");
    let master = beitraege::stammdaten::Stammdaten::from_sheets(&wb.sheets).unwrap();
    assert!(master.zahlung.canton.is_none());
    // Write it back as xlsx.
    let rows = |name: &str| -> Vec<Vec<C>> {
        let s = wb.sheets.iter().find(|s| s.name == name).unwrap();
        let max_r = s.cells().map(|((r, _), _)| *r).max().unwrap_or(0);
        let max_c = s.cells().map(|((_, c), _)| *c).max().unwrap_or(0);
        (0..=max_r)
            .map(|r| {
                (0..=max_c)
                    .map(|c| match s.get(r, c) {
                        Value::Int(n) => C::N(*n as f64),
                        Value::Float(f) => C::N(*f),
                        v => C::S(v.text()),
                    })
                    .collect()
            })
            .collect()
    };
    let names = ["Gemeinden", "Wohnbevölkerung", "Leitgemeinden", "Tarife", "Kredit", "Rückforderungen"];
    let sheets: Vec<(&str, Vec<Vec<C>>)> = names.iter().map(|n| (*n, rows(n))).collect();
    write_xlsx(&sd, &sheets);
    let o = opts(&inbox, &sd, dir.path(), ymd(2023, 3, 31), true);
    let r = execute(&o).unwrap();
    assert!(r.booked);
    assert_eq!(r.plan.total_transfer(), dec("910"));
    // The release cannot make the payment file: refused, nothing released, no file.
    assert!(matches!(release_as(&o, "bruno"), Err(ZahlungslaufError::NoPaymentFile(_))));
    assert!(!r.out.join("pain001_2023-03-31.xml").exists());
    let ledger = Ledger::open_existing(&dir.path().join("buchhaltung.sqlite")).unwrap();
    assert_eq!(ledger.bookings().unwrap().len(), 3);
    assert!(ledger.releases().unwrap().is_empty());
}

#[test]
fn a_bad_iban_is_a_master_data_error() {
    let dir = tempfile::tempdir().unwrap();
    let sd = dir.path().join("s.xlsx");
    world_master(&sd);
    let mut wb = beitraege::workbook::read_workbook(&std::fs::read(&sd).unwrap(), &Limits::default()).unwrap();
    let acc = wb.sheets.iter_mut().find(|s| s.name == "Zahlungsverbindungen").unwrap();
    let good = acc.get(1, 2).text();
    // Swap two digits: the checksum fails.
    let mut chars: Vec<char> = good.chars().collect();
    chars.swap(10, 20);
    acc.set(1, 2, Value::Text(chars.into_iter().collect()));
    let e = beitraege::stammdaten::Stammdaten::from_sheets(&wb.sheets).unwrap_err();
    assert_eq!(e.kinds(), vec![beitraege::stammdaten::ProblemKind::BadValue]);
}

// ---------------------------------------------------------------------------
// A killed --buchen leaves the whole run or nothing
// ---------------------------------------------------------------------------

fn counts(path: &Path) -> (usize, usize) {
    if !path.exists() {
        return (0, 0);
    }
    let l = Ledger::open(path).unwrap();
    (l.runs().unwrap().len(), l.bookings().unwrap().len())
}

fn book_cmd(inbox: &Path, sd: &Path, ledger: &Path, out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_beitraege"));
    c.args(["zahlungslauf", "--stichtag", "31.03.2023", "--buchen", "--ab-jahr", "2023"])
        .arg("--eingang")
        .arg(inbox)
        .arg("--stammdaten")
        .arg(sd)
        .arg("--buchhaltung")
        .arg(ledger)
        .arg("--ausgabe")
        .arg(out)
        .stdout(std::process::Stdio::null());
    c
}

#[test]
fn a_killed_booking_leaves_all_or_nothing() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    // The full run, for the expected number of bookings.
    let reference = d.join("ref.sqlite");
    assert!(book_cmd(&inbox, &sd, &reference, &d.join("ref"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success());
    let full = counts(&reference);
    assert_eq!(full, (1, 3));

    // Killed while the transaction is open (the test hook pauses halfway through the
    // inserts; compiled only with the feature `test-hooks`).
    #[cfg(feature = "test-hooks")]
    {
        let ledger = d.join("kill.sqlite");
        let mut child = book_cmd(&inbox, &sd, &ledger, &d.join("k"))
            .env(beitraege::ledger::PAUSE_ENV, "1")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            let n = std::io::BufRead::read_line(&mut err, &mut line).unwrap();
            assert!(n > 0, "the hook was not reached");
            if line.starts_with("BUCHUNG-PAUSE") {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(counts(&ledger), (0, 0), "a killed transaction left part of a run");
    }

    // Killed at increasing delays anywhere in the run: after each kill all or nothing.
    let mut saw_nothing = false;
    for ms in [0u64, 20, 60, 120, 250, 400, 700, 1000, 1500] {
        let l = d.join(format!("k{ms}.sqlite"));
        let mut child =
            book_cmd(&inbox, &sd, &l, &d.join(format!("k{ms}"))).stderr(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        child.wait().unwrap();
        let c = counts(&l);
        assert!(c == (0, 0) || c == full, "after a kill at {ms} ms: {c:?}");
        saw_nothing |= c == (0, 0);
        // The run can then be booked (again) and ends complete.
        let ok =
            book_cmd(&inbox, &sd, &l, &d.join(format!("k{ms}b"))).stderr(std::process::Stdio::null()).status().unwrap();
        assert_eq!(ok.success(), c == (0, 0));
        assert_eq!(counts(&l), full);
    }
    assert!(saw_nothing);
    // Booking the same Stichtag again through the command line: refused, non-zero exit, nothing booked.
    let l = d.join("k0.sqlite");
    let again = book_cmd(&inbox, &sd, &l, &d.join("again")).stderr(std::process::Stdio::null()).status().unwrap();
    assert!(!again.success());
    assert_eq!(counts(&l), full);
}

// ---------------------------------------------------------------------------
// Property: cumulative bookings equal what the final evaluation pays
// ---------------------------------------------------------------------------

use proptest::prelude::*;

const COMPONENTS: [TariffCode; 3] = [TariffCode::Sockel, TariffCode::FallEg, TariffCode::DolmetschIg];

/// One evaluation: per (bfs, component) a count, and whether it is withheld.
type Eval = Vec<(u32, TariffCode, u64, bool)>;

fn items(e: &Eval) -> Vec<DueItem> {
    e.iter()
        .map(|(bfs, c, n, withheld)| {
            let rate = match c {
                TariffCode::Sockel => Decimal::from(7),
                TariffCode::FallEg | TariffCode::FallIg => Decimal::from(200),
                _ => Decimal::from(160),
            };
            let part = if *c == TariffCode::Sockel { Part::Year } else { Part::H1 };
            DueItem {
                key: Key { bfs: *bfs, year: 2023, part, component: *c },
                payee: if *bfs == 3 { 1 } else { *bfs },
                amount: if *withheld { Chf::ZERO } else { Chf::new(Decimal::from(*n) * rate) },
                withheld: withheld.then(|| "zurückbehalten".to_string()),
                count: Some(*n),
                tariff: String::new(),
                evidence: vec![],
            }
        })
        .collect()
}

fn eval_strategy() -> impl Strategy<Value = Eval> {
    proptest::collection::vec((0u64..60, proptest::bool::weighted(0.2)), 9).prop_map(|v| {
        v.into_iter().enumerate().map(|(i, (n, w))| ((i / 3) as u32 + 1, COMPONENTS[i % 3], n, w)).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn cumulative_bookings_equal_the_final_evaluation(
        evals in proptest::collection::vec(eval_strategy(), 1..6),
        claws in proptest::collection::vec((1u32..4, 1u64..2000), 0..3),
        last in proptest::collection::vec(0u64..60, 9),
    ) {
        let mut ledger = Ledger::in_memory().unwrap();
        let mut day = ymd(2023, 3, 31);
        let clawbacks: Vec<OpenClawback> = claws
            .iter()
            .enumerate()
            .map(|(i, (bfs, a))| OpenClawback {
                reference: format!("RF-{i}"),
                bfs: *bfs,
                payee: if *bfs == 3 { 1 } else { *bfs },
                amount: Chf::new(Decimal::from(*a)),
                reason: "x".into(),
                decided_on: ymd(2023, 2, 1),
            })
            .collect();
        // The final evaluation: nothing withheld.
        let final_eval: Eval = last
            .iter()
            .enumerate()
            .map(|(i, n)| ((i / 3) as u32 + 1, COMPONENTS[i % 3], *n, false))
            .collect();
        let mut all = evals.clone();
        all.push(final_eval.clone());
        // Per payee: money transferred minus money invoiced, over all runs.
        let mut net: BTreeMap<u32, Decimal> = BTreeMap::new();
        for e in &all {
            let (booked, payees) = ledger.component_sums().unwrap();
            let settled = ledger.settled_clawbacks().unwrap();
            let open: Vec<_> = clawbacks.iter().filter(|c| !settled.contains(&c.reference)).cloned().collect();
            let due = items(e);
            let evaluated = plan::evaluated_parts(&due);
            let p = plan::plan(&plan::RunInput {
                stichtag: day,
                booked_on: day,
                due: &due,
                evaluated: &evaluated,
                booked: &booked,
                booked_payee: &payees,
                gone_payee: &BTreeMap::new(),
                clawbacks: &open,
            })
            .unwrap();
            for r in &p.payees {
                // Offsets never exceed the payout; a payee either gets money or an invoice.
                prop_assert!(r.transfer >= Chf::ZERO && r.invoice >= Chf::ZERO);
                prop_assert!(r.transfer.is_zero() || r.invoice.is_zero());
                prop_assert_eq!(r.gross.decimal() - r.claims.decimal(), r.transfer.decimal() - r.invoice.decimal());
                *net.entry(r.payee).or_insert(Decimal::ZERO) += r.transfer.decimal() - r.invoice.decimal();
            }
            ledger.book_run(&header_on(day), &p.bookings).unwrap();
            day = day.succ_opt().unwrap();
        }
        let (booked, _) = ledger.component_sums().unwrap();
        for (bfs, c, n, _) in &final_eval {
            let rate = match c { TariffCode::Sockel => 7, TariffCode::FallEg => 200, _ => 160 };
            let part = if *c == TariffCode::Sockel { Part::Year } else { Part::H1 };
            let k = Key { bfs: *bfs, year: 2023, part, component: *c };
            prop_assert_eq!(booked.get(&k).copied().unwrap_or(Chf::ZERO), Chf::new(Decimal::from(*n * rate)));
        }
        // Money is conserved: per payee, transfers minus invoices equal the booked
        // contributions and clawbacks.
        let mut booked_net: BTreeMap<u32, Decimal> = BTreeMap::new();
        for b in ledger.bookings().unwrap() {
            if b.art != Art::Rechnung {
                *booked_net.entry(b.payee).or_insert(Decimal::ZERO) += b.betrag.decimal();
            }
        }
        for (payee, v) in &booked_net {
            prop_assert_eq!(net.get(payee).copied().unwrap_or(Decimal::ZERO), *v, "payee {}", payee);
        }
        // Every clawback booked exactly once.
        let claw_sum: Decimal = ledger
            .bookings()
            .unwrap()
            .iter()
            .filter(|b| b.art == Art::Rueckforderung)
            .map(|b| b.betrag.decimal())
            .sum();
        prop_assert_eq!(claw_sum, -clawbacks.iter().map(|c| c.amount.decimal()).sum::<Decimal>());
        prop_assert!(ledger.verify().is_ok());
    }
}

#[test]
fn a_withheld_amount_is_paid_by_the_run_after_the_corrected_form() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inbox = d.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let sd = d.join("Stammdaten.xlsx");
    world_master(&sd);
    sd_form(&inbox.join("SD_2601.xlsx"), 2601, "Aarstadt");
    // 3 interpreter deployments for 1 conversation: a Fehler; the Dolmetschpauschale is withheld.
    report_form(&inbox.join("H1_2601.xlsx"), 2601, "Aarstadt", 1, (1, 3, 0, 0), ymd(2023, 7, 10));
    // The corrected form, received after the September payout: 3 conversations, 3 deployments.
    report_form(&inbox.join("H1_2601_neu.xlsx"), 2601, "Aarstadt", 1, (3, 3, 0, 0), ymd(2024, 1, 8));
    std::fs::write(
        inbox.join("Eingangsjournal.csv"),
        "Datei;Eingangsdatum\nSD_2601.xlsx;12.01.2023\nH1_2601.xlsx;12.07.2023\nH1_2601_neu.xlsx;10.01.2024\n",
    )
    .unwrap();
    let mut o = opts(&inbox, &sd, d, ymd(2023, 9, 30), true);
    o.first_year = Some(2023);
    let r = execute(&o).unwrap();
    release(&o);
    let h1 = |p: &plan::Plan, c: TariffCode| {
        p.lines.iter().find(|l| l.key.bfs == 2601 && l.key.part == Part::H1 && l.key.component == c).cloned()
    };
    // 30.09.2023: the conversation is paid (200), the deployments are withheld, nothing booked for them.
    assert_eq!(h1(&r.plan, TariffCode::FallEg).unwrap().now, dec("200"));
    let w = h1(&r.plan, TariffCode::DolmetschEg).expect("withheld line shown");
    assert!(w.withheld.is_some());
    assert_eq!(w.now, Chf::ZERO);
    assert!(!r.plan.bookings.iter().any(|b| b.leistung.as_str() == "DOLMETSCH_EG"));
    // 31.03.2024: the corrected form pays the rest: (3 − 1) × 200 = 400 and 3 × 160 = 480.
    let r = execute(&opts(&inbox, &sd, d, ymd(2024, 3, 31), true)).unwrap();
    assert_eq!(h1(&r.plan, TariffCode::FallEg).unwrap().now, dec("400"));
    assert_eq!(h1(&r.plan, TariffCode::DolmetschEg).unwrap().now, dec("480"));
    assert_eq!(r.plan.total_transfer(), dec("880"));
}

// ---------------------------------------------------------------------------
// Dates a bank takes, plausible Stichtage, the ledger's first year
// ---------------------------------------------------------------------------

/// A dated option set for `check_dates` alone (nothing is read).
fn dated(stichtag: NaiveDate, booked_on: NaiveDate, book: bool) -> ZahlungslaufOptions {
    let mut o = opts(Path::new("in"), Path::new("s.xlsx"), Path::new("d"), stichtag, book);
    o.booked_on = booked_on;
    o
}

#[test]
fn the_booking_day_is_not_after_today_and_a_given_execution_date_is_a_future_business_day() {
    use beitraege::zahlungslauf::check_dates;
    let today = ymd(2023, 10, 11); // a Wednesday
                                   // The booking day: today yes, tomorrow no.
    assert_eq!(check_dates(&dated(ymd(2023, 9, 30), today, true), today).unwrap(), ymd(2023, 10, 11));
    assert!(matches!(
        check_dates(&dated(ymd(2023, 9, 30), ymd(2023, 10, 12), true), today),
        Err(ZahlungslaufError::BookedOnInFuture { .. })
    ));
    // Default: the first business day on or after the Stichtag and the booking day.
    assert_eq!(check_dates(&dated(ymd(2023, 9, 30), ymd(2023, 9, 30), true), today).unwrap(), ymd(2023, 10, 2));
    assert_eq!(
        check_dates(&dated(ymd(2024, 3, 31), ymd(2024, 3, 31), true), ymd(2024, 4, 5)).unwrap(),
        ymd(2024, 4, 2)
    );
    // A given execution date: on the booking day (a business day) yes, the day before no.
    let mut o = dated(ymd(2023, 9, 30), ymd(2023, 10, 2), true);
    o.execution_date = Some(ymd(2023, 10, 2));
    assert_eq!(check_dates(&o, today).unwrap(), ymd(2023, 10, 2));
    o.execution_date = Some(ymd(2023, 9, 29));
    assert!(matches!(check_dates(&o, today), Err(ZahlungslaufError::ExecutionInThePast { .. })));
    // A Saturday, Easter Monday or 26.12. is refused, the Friday before and Tuesday after not.
    for (bad, good) in [
        (ymd(2023, 10, 7), ymd(2023, 10, 6)),
        (ymd(2024, 4, 1), ymd(2024, 4, 2)),
        (ymd(2023, 12, 26), ymd(2023, 12, 27)),
    ] {
        o.execution_date = Some(bad);
        assert!(matches!(check_dates(&o, today), Err(ZahlungslaufError::NotABusinessDay { .. })), "{bad}");
        o.execution_date = Some(good);
        assert_eq!(check_dates(&o, today).unwrap(), good);
    }
}

#[test]
fn a_stichtag_other_than_end_of_march_or_september_or_after_the_booking_day_needs_a_reason() {
    use beitraege::zahlungslauf::check_dates;
    let today = ymd(2026, 1, 15);
    let refused =
        |o: &ZahlungslaufOptions| matches!(check_dates(o, today), Err(ZahlungslaufError::ImplausibleStichtag { .. }));
    // 31.03. and 30.09. are ordinary; the days beside them are not.
    for ok in [ymd(2023, 3, 31), ymd(2023, 9, 30), ymd(2024, 3, 31)] {
        assert!(check_dates(&dated(ok, ok, true), today).is_ok(), "{ok}");
    }
    for bad in [ymd(2023, 3, 30), ymd(2023, 4, 1), ymd(2023, 9, 29), ymd(2023, 10, 1), ymd(2023, 5, 15)] {
        assert!(refused(&dated(bad, today, true)), "{bad}");
    }
    // On the booking day yes, after it no: 30.09.2025 booked on 30.09. and on 29.09.2025.
    assert!(check_dates(&dated(ymd(2025, 9, 30), ymd(2025, 9, 30), true), today).is_ok());
    assert!(refused(&dated(ymd(2025, 9, 30), ymd(2025, 9, 29), true)));
    // After today (the booking day is today by default): 30.09.2026.
    assert!(refused(&dated(ymd(2026, 9, 30), today, true)));
    // With a reason both are booked; a blank reason is none.
    let mut o = dated(ymd(2023, 5, 15), today, true);
    o.extraordinary_reason = Some("  ".into());
    assert!(refused(&o));
    o.extraordinary_reason = Some("Nachzahlung nach Verfügung".into());
    assert!(check_dates(&o, today).is_ok());
    // A preview is not refused (it notes what booking would need).
    assert!(check_dates(&dated(ymd(2023, 5, 15), today, false), today).is_ok());
}

#[test]
fn the_payment_file_asks_for_a_bank_business_day() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    let reqd = |rel: &ReleaseOutcome| {
        let f = rel.release.file.as_deref().expect("a payment file");
        let xml = std::fs::read_to_string(rel.folder.join(f)).unwrap();
        let block = between(&xml, "<ReqdExctnDt>", "</ReqdExctnDt>");
        assert_eq!(block.len(), 1);
        between(block[0], "<Dt>", "</Dt>")[0].to_string()
    };
    // Stichtag Saturday 30.09.2023, booked and released that day: Monday 02.10.2023.
    let o = opts(&inbox, &sd, d, ymd(2023, 9, 30), true);
    let r = execute(&o).unwrap();
    assert_eq!(r.execution_date, ymd(2023, 10, 2));
    // The run's workbook names it under the title of its first sheet.
    let bytes = std::fs::read(r.out.join("Zahlungslauf_2023-09-30.xlsx")).unwrap();
    let wb = beitraege::workbook::read_workbook(&bytes, &Limits::default()).unwrap();
    assert!(wb.sheets[0].get(2, 0).text().contains("02.10.2023"), "{:?}", wb.sheets[0].get(2, 0));
    let rel = release(&o);
    assert_eq!(reqd(&rel), "2023-10-02");
    assert_eq!(rel.release.execution_date, Some(ymd(2023, 10, 2)));
    // Booked later (a replay on Wednesday 11.10.2023): the booking day wins.
    let mut o = opts(&inbox, &sd, &d.join("b"), ymd(2023, 9, 30), true);
    o.booked_on = ymd(2023, 10, 11);
    execute(&o).unwrap();
    assert_eq!(reqd(&release(&o)), "2023-10-11");
    // A date given when booking: Tuesday 03.10.2023, kept by the release that day.
    let mut o = opts(&inbox, &sd, &d.join("c"), ymd(2023, 9, 30), true);
    o.execution_date = Some(ymd(2023, 10, 3));
    execute(&o).unwrap();
    assert_eq!(reqd(&release(&o)), "2023-10-03");
    // Released after the proposed day (Thursday 05.10.2023): that day; a date given at the
    // release: a business day not before it (Friday 06.10. yes, Saturday 07.10. and
    // Wednesday 04.10. no).
    let mut o = opts(&inbox, &sd, &d.join("e"), ymd(2023, 9, 30), true);
    execute(&o).unwrap();
    let fo = |o: &ZahlungslaufOptions, released_on, execution_date| FreigabeOptions {
        stichtag: o.stichtag,
        ledger: o.ledger.clone(),
        stammdaten: o.stammdaten.clone(),
        out: o.out.clone(),
        person: "bruno".into(),
        released_on,
        execution_date,
    };
    assert!(matches!(
        freigeben(&fo(&o, ymd(2023, 10, 5), Some(ymd(2023, 10, 7)))),
        Err(ZahlungslaufError::NotABusinessDay { .. })
    ));
    assert!(matches!(
        freigeben(&fo(&o, ymd(2023, 10, 5), Some(ymd(2023, 10, 4)))),
        Err(ZahlungslaufError::ExecutionInThePast { .. })
    ));
    assert_eq!(reqd(&freigeben(&fo(&o, ymd(2023, 10, 5), Some(ymd(2023, 10, 6)))).unwrap()), "2023-10-06");
    o.out = d.join("f");
    o.ledger = d.join("f.sqlite");
    execute(&o).unwrap();
    assert_eq!(reqd(&freigeben(&fo(&o, ymd(2023, 10, 5), None)).unwrap()), "2023-10-05");
}

#[test]
fn an_extraordinary_run_keeps_its_reason_and_a_run_without_bookings_is_not_booked() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    let ledger_path = d.join("buchhaltung.sqlite");
    // 15.05.2023 without a reason: refused, nothing booked.
    let mut o = opts(&inbox, &sd, d, ymd(2023, 5, 15), true);
    assert!(matches!(execute(&o), Err(ZahlungslaufError::ImplausibleStichtag { .. })));
    assert!(!ledger_path.exists() || Ledger::open_existing(&ledger_path).unwrap().runs().unwrap().is_empty());
    // With a reason: the Sockelbeiträge 2023 (700 + 70 + 140), the reason in the run's row.
    o.extraordinary_reason = Some("Nachzahlung Sockelbeitrag".into());
    let r = execute(&o).unwrap();
    assert!(r.booked);
    assert_eq!(r.plan.total_transfer(), dec("910"));
    let runs = Ledger::open_existing(&ledger_path).unwrap().runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].reason, "Nachzahlung Sockelbeitrag");
    // The next day nothing new is due (no report received, the clawback decided 01.08.2023):
    // not booked, no run row, no payment file.
    let mut o = opts(&inbox, &sd, d, ymd(2023, 5, 16), true);
    o.extraordinary_reason = Some("Test".into());
    let r = execute(&o).unwrap();
    assert!(!r.booked);
    assert!(r.plan.bookings.is_empty());
    assert_eq!(Ledger::open_existing(&ledger_path).unwrap().runs().unwrap().len(), 1);
    assert!(!o.out.join("2023-05-16").exists());
    // The ledger's first year (2023) holds: --ab-jahr 2022 is refused, 2023 or none is used.
    let mut o = opts(&inbox, &sd, d, ymd(2023, 9, 30), false);
    o.first_year = Some(2022);
    assert!(matches!(execute(&o), Err(ZahlungslaufError::FirstYearDiffers { stored: 2023, given: 2022 })));
    o.first_year = Some(2024);
    assert!(matches!(execute(&o), Err(ZahlungslaufError::FirstYearDiffers { stored: 2023, given: 2024 })));
    o.first_year = None;
    assert_eq!(execute(&o).unwrap().years, vec![2023]);
    o.first_year = Some(2023);
    assert_eq!(execute(&o).unwrap().years, vec![2023]);
}

// ---------------------------------------------------------------------------
// Receipts: normalised, dated, reversible; no Storno of a run whose invoice was paid
// ---------------------------------------------------------------------------

/// The header of a run per `day` booked by «t».
fn header_on(day: NaiveDate) -> RunHeader {
    RunHeader {
        stichtag: day,
        booked_at: "t".into(),
        program_version: "t".into(),
        evidence: vec![],
        first_year: 2023,
        reason: String::new(),
        person: "t".into(),
        execution_date: None,
    }
}

/// A ledger with one run per 30.09.2023 that invoices 2610 CHF 4'400 (due 30.10.2023).
fn ledger_with_invoice() -> (Ledger, String) {
    let mut l = Ledger::in_memory().unwrap();
    let claw = plan::PlannedBooking {
        payee: 2610,
        bfs: 2610,
        periode: plan::Periode::year(2023),
        leistung: plan::Leistung::Rueckforderung,
        art: Art::Rueckforderung,
        betrag: dec("-4400"),
        count: None,
        tariff: String::new(),
        evidence: vec![],
        bezug: Some(plan::Bezug::Rueckforderung("RF-2610".into())),
        due_on: None,
        text: "Rückforderung".into(),
    };
    let invoice = plan::PlannedBooking {
        leistung: plan::Leistung::Rechnung,
        art: Art::Rechnung,
        betrag: dec("-4400"),
        bezug: Some(plan::Bezug::Rechnungsnummer("RF-2610".into())),
        due_on: Some(ymd(2023, 10, 30)),
        text: "Rechnung".into(),
        ..claw.clone()
    };
    let header = header_on(ymd(2023, 9, 30));
    l.book_run(&header, &[claw, invoice]).unwrap();
    let inv = l.invoices().unwrap();
    assert_eq!(inv.len(), 1);
    let id = inv[0].id.clone();
    (l, id)
}

fn open_of(l: &Ledger, id: &str) -> Chf {
    l.invoices().unwrap().into_iter().find(|i| i.id == id).unwrap().open()
}

#[test]
fn a_receipt_is_dated_between_the_invoice_and_today() {
    let (mut l, id) = ledger_with_invoice();
    let today = ymd(2023, 11, 15);
    // The invoice date is the run's Stichtag 30.09.2023: the day before is refused.
    assert!(matches!(
        l.record_receipt(&id, ymd(2023, 9, 29), dec("100"), today, "x", "t"),
        Err(LedgerError::ValueDateBeforeInvoice { .. })
    ));
    l.record_receipt(&id, ymd(2023, 9, 30), dec("100"), today, "x", "t").unwrap();
    // Tomorrow is refused, today is not.
    assert!(matches!(
        l.record_receipt(&id, ymd(2023, 11, 16), dec("200"), today, "x", "t"),
        Err(LedgerError::ValueDateInFuture { .. })
    ));
    l.record_receipt(&id, today, dec("200"), today, "x", "t").unwrap();
    assert_eq!(open_of(&l, &id), dec("4100"));
}

#[test]
fn the_same_receipt_in_another_notation_is_refused_and_a_reversal_restores_the_open_amount() {
    let (mut l, id) = ledger_with_invoice();
    let today = ymd(2023, 11, 15);
    let day = ymd(2023, 10, 20);
    let first = l.record_receipt(&id, day, dec("10"), today, "x", "t").unwrap();
    for again in ["10.00", "10.0", "10"] {
        assert!(
            matches!(l.record_receipt(&id, day, dec(again), today, "x", "t"), Err(LedgerError::ReceiptTwice { .. })),
            "{again}"
        );
    }
    // Another day or another amount is another receipt.
    l.record_receipt(&id, ymd(2023, 10, 21), dec("10.00"), today, "x", "t").unwrap();
    assert_eq!(open_of(&l, &id), dec("4380"));
    // More than is open is refused (the open amount is named in the error).
    match l.record_receipt(&id, day, dec("4380.05"), today, "x", "t") {
        Err(LedgerError::Overpaid { open, .. }) => assert_eq!(open, dec("4380")),
        other => panic!("{other:?}"),
    }
    // The reversal (by the first 8 characters of the receipt's id) restores CHF 10.
    assert!(matches!(l.reverse_receipt(&first.id[..8], " ", "y", "t"), Err(LedgerError::NoReason)));
    assert!(matches!(l.reverse_receipt(&first.id[..7], "falsch", "y", "t"), Err(LedgerError::UnknownReceipt(_))));
    let rev = l.reverse_receipt(&first.id[..8], "falsch erfasst", "y", "t").unwrap();
    assert_eq!(
        (rev.art, rev.betrag, rev.bezug),
        (Art::Storno, dec("-10"), Some(plan::Bezug::Storniert(first.id.clone())))
    );
    assert_eq!(open_of(&l, &id), dec("4390"));
    // Twice is refused, nothing booked.
    let n = l.bookings().unwrap().len();
    assert!(matches!(
        l.reverse_receipt(&first.id, "nochmals", "y", "t"),
        Err(LedgerError::ReceiptAlreadyReversed { .. })
    ));
    assert_eq!(l.bookings().unwrap().len(), n);
    // The reversed receipt may be recorded anew, once.
    l.record_receipt(&id, day, dec("10.00"), today, "x", "t").unwrap();
    assert!(matches!(l.record_receipt(&id, day, dec("10"), today, "x", "t"), Err(LedgerError::ReceiptTwice { .. })));
    assert_eq!(open_of(&l, &id), dec("4380"));
    assert!(l.verify().is_ok());
}

#[test]
fn a_run_whose_invoice_has_receipts_is_reversed_only_after_its_receipts() {
    let (mut l, id) = ledger_with_invoice();
    let r = l.record_receipt(&id, ymd(2023, 10, 20), dec("4400"), ymd(2023, 11, 15), "x", "t").unwrap();
    let n = l.bookings().unwrap().len();
    match l.storno(ymd(2023, 9, 30), "falsche Stammdaten", "y", "t") {
        Err(LedgerError::RunHasReceipts { received, .. }) => assert_eq!(received, dec("4400")),
        other => panic!("{other:?}"),
    }
    assert_eq!(l.bookings().unwrap().len(), n);
    l.reverse_receipt(&r.id, "auf die neue Rechnung", "y", "t").unwrap();
    let (_, rows) = l.storno(ymd(2023, 9, 30), "falsche Stammdaten", "y", "t").unwrap();
    assert_eq!(rows.len(), 2);
    assert!(l.invoices().unwrap().iter().all(|i| i.reversed && i.open().is_zero()));
}

// ---------------------------------------------------------------------------
// Four eyes, outputs from the ledger, sacred folders (issue 17, items 2, 3 and 5)
// ---------------------------------------------------------------------------

/// Every file below `dir` (relative, `/`-separated), hidden ones included.
fn tree(dir: &Path) -> std::collections::BTreeSet<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &rel, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(dir, "", &mut out);
    out
}

/// Every file below `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir).into_iter().map(|r| (r.clone(), std::fs::read(dir.join(&r)).unwrap())).collect()
}

#[cfg(feature = "test-hooks")]
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for rel in tree(from) {
        let dst = to.join(&rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dst).unwrap();
    }
}

#[cfg(feature = "test-hooks")]
/// The booked run per `stichtag` (the latest of the Stichtag) and its release, if any.
fn booked(
    ledger: &Path,
    stichtag: NaiveDate,
) -> Option<(beitraege::ledger::RunRow, Option<beitraege::ledger::Release>)> {
    if !ledger.exists() {
        return None;
    }
    let l = Ledger::open_existing(ledger).unwrap();
    let run = l
        .runs()
        .unwrap()
        .into_iter()
        .rfind(|r| r.art == beitraege::ledger::RunKind::Zahlungslauf && r.stichtag == stichtag)?;
    let rel = l.release_of(&run.run_id).unwrap();
    Some((run, rel))
}

#[cfg(feature = "test-hooks")]
/// The run's folder holds exactly its outputs as the ledger keeps them (byte for byte), the
/// journal as it stood when it was booked, and its marker; no temporary file; and the payment
/// file is the one whose SHA-256 the release recorded.
fn assert_exactly_its_outputs(ledger: &Path, root: &Path, run: &beitraege::ledger::RunRow, what: &str) {
    let l = Ledger::open_existing(ledger).unwrap();
    let folder = root.join(beitraege::zahlungslauf::run_folder_name(run));
    let mut expected: BTreeMap<String, Vec<u8>> =
        l.outputs(&run.run_id).unwrap().into_iter().map(|f| (f.rel, f.bytes)).collect();
    expected.insert(journal::FILE_NAME.to_string(), l.journal_until(&run.run_id).unwrap().into_bytes());
    let mut found = snapshot(&folder);
    assert!(found.remove(beitraege::write::commit::BOOKED_MARKER).is_some(), "{what}: marker");
    assert_eq!(found.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{what}: the files");
    assert!(found == expected, "{what}: the bytes are the ledger's");
    if let Some(rel) = l.release_of(&run.run_id).unwrap() {
        let f = rel.file.expect("a payment file");
        assert_eq!(rel.file_sha256.as_deref(), Some(sha256_file(&folder.join(&f)).as_str()), "{what}");
    }
}

#[cfg(feature = "test-hooks")]
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(feature = "test-hooks")]
fn ledger_cmd(args: &[&str], ledger: &Path, root: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_beitraege"));
    c.arg("zahlungslauf").args(args).arg("--buchhaltung").arg(ledger).arg("--ausgabe").arg(root);
    c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    c
}

/// 20 and more kills, each at a point of a booking, its outputs or its release where the
/// program stops as a kill would stop it (the test hook `BEITRAEGE_ABBRUCH_BEI`, synchronised
/// on that point, not on time), each followed by the next command (the same command again,
/// or `--ausgaben`): the run is booked and released with exactly its outputs and its payment
/// file, byte for byte what the ledger keeps, with the same MsgId every time; or nothing is
/// booked and nothing written. The hook exists only with the feature `test-hooks`.
#[cfg(feature = "test-hooks")]
#[test]
fn kills_during_a_booking_and_its_release_end_with_the_run_and_exactly_its_outputs() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    // The state before: 31.03.2023 booked by anna, released by bruno.
    let base = d.join("base");
    let o = opts(&inbox, &sd, &base, ymd(2023, 3, 31), true);
    execute(&o).unwrap();
    release(&o);
    let day = ymd(2023, 9, 30);
    let stichtag = "30.09.2023";
    let common = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend(["--stichtag", stichtag, "--buchungsdatum", stichtag].map(String::from));
        v
    };
    let book_args = {
        let mut v = common(&["--buchen"]);
        v.extend(["--eingang".to_string(), inbox.display().to_string()]);
        v.extend(["--stammdaten".to_string(), sd.display().to_string()]);
        v
    };
    let release_args = {
        let mut v = common(&["--freigeben"]);
        v.extend(["--stammdaten".to_string(), sd.display().to_string()]);
        v
    };
    let ausgaben_args = common(&["--ausgaben"]);

    // The points: inside and after the booking's transaction, and before and after each
    // file of the run's folder is linked into place (0: the marker); the same for the release.
    let mut points: Vec<(&str, String)> = vec![("buchen", "buchung-vor-commit".into()), ("buchen", "gebucht".into())];
    for n in 0..8 {
        points.push(("buchen", format!("ausgabe-{n}-geschrieben")));
        points.push(("buchen", format!("ausgabe-{n}")));
    }
    points.push(("freigeben", "freigabe-vor-commit".into()));
    points.push(("freigeben", "freigegeben".into()));
    for n in 0..10 {
        points.push(("freigeben", format!("ausgabe-{n}-geschrieben")));
        points.push(("freigeben", format!("ausgabe-{n}")));
    }
    let mut kills = 0;
    let mut msg_ids = std::collections::BTreeSet::new();
    for (i, (cmd, point)) in points.iter().enumerate() {
        let case = d.join(format!("k{i}"));
        copy_tree(&base, &case);
        let (ledger, root) = (case.join("buchhaltung.sqlite"), case.join("aus"));
        let mut o = opts(&inbox, &sd, &case, day, true);
        o.out = root.clone();
        if *cmd == "freigeben" {
            // Booked by another person (anna); the command line releases as this account.
            execute(&o).unwrap();
        }
        let args = if *cmd == "buchen" { &book_args } else { &release_args };
        let out = ledger_cmd(&strs(args), &ledger, &root)
            .env("BEITRAEGE_ABBRUCH_BEI", point)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        if out.status.success() {
            continue; // the point is not on this command's way (no such file)
        }
        // Stopped at the point (SIGABRT, as a kill: no clean-up runs), not refused.
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(out.status.signal(), Some(6), "{point}: {}", String::from_utf8_lossy(&out.stderr));
        }
        kills += 1;
        // Right after the kill: nothing booked and nothing written, or the run booked.
        match booked(&ledger, day) {
            None => assert!(!root.join("2023-09-30").exists(), "{point}: written without a booking"),
            Some((run, _)) => assert_eq!(run.lauf, 1, "{point}"),
        }
        // The next command: the same again (odd cases), or --ausgaben (even ones).
        let again = if i % 2 == 0 && booked(&ledger, day).is_some() { &ausgaben_args } else { args };
        ledger_cmd(&strs(again), &ledger, &root).status().unwrap();
        // Then on to the release, as far as not done.
        if booked(&ledger, day).is_none() {
            assert!(ledger_cmd(&strs(&book_args), &ledger, &root).status().unwrap().success(), "{point}");
        }
        let (run, rel) = booked(&ledger, day).expect("booked");
        if rel.is_none() {
            let person = if run.booked_by.as_deref() == Some("anna") { None } else { Some("bruno") };
            match person {
                Some(p) => {
                    release_as(&o, p).unwrap();
                }
                None => assert!(ledger_cmd(&strs(&release_args), &ledger, &root).status().unwrap().success()),
            }
        }
        let (run, rel) = booked(&ledger, day).unwrap();
        assert!(rel.is_some(), "{point}: released");
        assert_exactly_its_outputs(&ledger, &root, &run, point);
        let pain = std::fs::read_to_string(root.join("2023-09-30/pain001_2023-09-30.xml")).unwrap();
        msg_ids.insert(between(&pain, "<MsgId>", "</MsgId>")[0].to_string());
        // One run, one release, nothing booked twice.
        let l = Ledger::open_existing(&ledger).unwrap();
        assert_eq!(l.runs().unwrap().len(), 2, "{point}");
        assert_eq!(l.releases().unwrap().len(), 2, "{point}");
    }
    eprintln!("{kills} kills");
    assert!(kills >= 20, "only {kills} kills");
    assert_eq!(msg_ids.len(), 1, "the same MsgId every time: {msg_ids:?}");
}

/// The payment file written again from the ledger is the released one, byte for byte; a
/// preview writes only into its draft folder and completes the booked run's missing files;
/// nothing of a booked run's folder is ever replaced.
#[test]
fn missing_outputs_are_written_again_byte_for_byte_and_nothing_is_replaced() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    let o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    let r = execute(&o).unwrap();
    let rel = release(&o);
    let pain = rel.folder.join(rel.release.file.as_deref().unwrap());
    let before = snapshot(&r.out);
    // The payment file and the workbook lost: --ausgaben writes them again, identical.
    std::fs::remove_file(&pain).unwrap();
    std::fs::remove_file(r.out.join("Zahlungslauf_2023-03-31.xlsx")).unwrap();
    let done = beitraege::zahlungslauf::ausgaben(&beitraege::zahlungslauf::AusgabenOptions {
        stichtag: o.stichtag,
        ledger: o.ledger.clone(),
        out: o.out.clone(),
    })
    .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].added.written.len(), 2);
    assert_eq!(snapshot(&r.out), before);
    assert_eq!(rel.release.file_sha256.as_deref(), Some(sha256_file(&pain).as_str()));
    // A file changed by hand is not replaced (and is reported).
    std::fs::write(r.out.join("Zahlungslauf_2023-03-31.json"), b"[]").unwrap();
    std::fs::remove_file(&pain).unwrap();
    let mut p = opts(&inbox, &sd, d, ymd(2023, 3, 31), false);
    p.out = o.out.clone();
    let preview = execute(&p).unwrap();
    // The preview wrote its draft into its own folder, and the missing payment file.
    assert_eq!(preview.out, o.out.join("2023-03-31_Entwurf"));
    assert_eq!(preview.restored[0].added.written, vec![rel.release.file.clone().unwrap()]);
    assert_eq!(preview.restored[0].added.differing, vec!["Zahlungslauf_2023-03-31.json".to_string()]);
    assert_eq!(std::fs::read(r.out.join("Zahlungslauf_2023-03-31.json")).unwrap(), b"[]");
    assert_eq!(std::fs::read(&pain).unwrap(), before["pain001_2023-03-31.xml"]);
    // No command writes into a booked run's folder as its output folder.
    {
        let aus = r.out.clone();
        let mut ro = common::sample_options(&aus, Some(2));
        ro.inbox = inbox.clone();
        ro.stammdaten = sd.clone();
        assert!(beitraege::run::run(&ro).is_err(), "run into a booked folder");
        let mut p = opts(&inbox, &sd, d, ymd(2023, 9, 30), false);
        p.out = aus.clone();
        assert!(matches!(
            execute(&p),
            Err(ZahlungslaufError::Write(beitraege::write::WriteError::Place(
                beitraege::write::commit::PlaceError::BookedRun(_)
            )))
        ));
    }
    assert_eq!(std::fs::read(&pain).unwrap(), before["pain001_2023-03-31.xml"]);
}

/// An `--ausgabe` holding another command's outputs, a ledger in the inbox, in the output
/// folder or among another command's outputs: refused before anything is read or written.
#[test]
fn output_folders_and_ledger_places_that_would_lose_files_are_refused_before_anything_is_read() {
    use beitraege::write::commit::PlaceError;
    use beitraege::write::WriteError;
    let (dir, inbox, sd) = world();
    let d = dir.path();
    let place = |r: Result<beitraege::zahlungslauf::RunOutcome, ZahlungslaufError>| match r {
        Err(ZahlungslaufError::Write(WriteError::Place(p))) => p,
        Err(e) => panic!("wrong error: {e:?}"),
        Ok(_) => panic!("not refused"),
    };
    // A finished `run`'s folder (its manifest.json) as --ausgabe: refused, not one file touched.
    let run_out = d.join("anhang");
    let mut ro = common::sample_options(&run_out, Some(2));
    ro.inbox = inbox.clone();
    ro.stammdaten = sd.clone();
    beitraege::run::run(&ro).unwrap();
    let before = snapshot(&run_out);
    assert!(before.contains_key("manifest.json"));
    for book in [true, false] {
        let mut o = opts(&inbox, &sd, d, ymd(2023, 3, 31), book);
        o.out = run_out.clone();
        assert!(matches!(place(execute(&o)), PlaceError::HoldsRun(_)), "{book}");
        assert!(!o.ledger.exists(), "nothing read or created");
    }
    assert_eq!(snapshot(&run_out), before);
    // A folder a command committed into (not a run's): refused too.
    let konto_like = d.join("konto-alt");
    beitraege::write::OutputDir::open(&konto_like)
        .unwrap()
        .commit(&[beitraege::write::OutFile { rel: "Konto_alle_Gemeinden.xlsx".into(), bytes: b"x".to_vec() }])
        .unwrap();
    let mut o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    o.out = konto_like.clone();
    assert!(matches!(place(execute(&o)), PlaceError::HoldsOutputs(_)));
    // The ledger in the inbox, in the output root, and in a `run`'s folder.
    let mut o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    o.ledger = inbox.join("buchhaltung.sqlite");
    assert!(matches!(place(execute(&o)), PlaceError::LedgerInInbox { .. }));
    assert!(!o.ledger.exists());
    let mut o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    o.ledger = o.out.join("2023-03-31").join(journal::FILE_NAME);
    assert!(matches!(place(execute(&o)), PlaceError::LedgerInOutput { .. }));
    assert!(!o.out.exists());
    let mut o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    o.ledger = run_out.join("Anhang_1_Beitraege_2023.xlsx");
    assert!(matches!(place(execute(&o)), PlaceError::LedgerIsOutput { .. }));
    assert_eq!(snapshot(&run_out), before);
    // `run --buchhaltung` with the ledger among its own outputs: refused.
    let mut ro2 = ro.clone();
    ro2.buchhaltung = Some(run_out.join("buchhaltung.sqlite"));
    assert!(beitraege::run::run(&ro2).is_err());
    assert_eq!(snapshot(&run_out), before);
    // The ordinary places pass: ledger beside the output root.
    let o = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    assert!(execute(&o).unwrap().booked);
}

/// Who booked and who released: the run's workbook names who booked (the payment file comes
/// with the release), the release's workbook both, the statement and the annex's sheet
/// `Buchhaltung` both for each run; a run not released is reversed without a payment file.
#[test]
fn who_booked_and_who_released_is_shown_and_an_unreleased_run_is_reversed_without_a_payment_file() {
    let (dir, inbox, sd) = world();
    let d = dir.path();
    let o1 = opts(&inbox, &sd, d, ymd(2023, 3, 31), true);
    let r1 = execute(&o1).unwrap();
    let text = |p: &Path, sheet: &str, r: u32| {
        let wb = beitraege::workbook::read_workbook(&std::fs::read(p).unwrap(), &Limits::default()).unwrap();
        wb.sheets.iter().find(|s| s.name == sheet).unwrap().get(r, 0).text()
    };
    assert!(text(&r1.out.join("Zahlungslauf_2023-03-31.xlsx"), "Zahlungen", 2).contains("«anna»"));
    let rel = release(&o1);
    let header = text(&rel.folder.join("Freigabe_2023-03-31.xlsx"), "Zahlungen", 1);
    assert!(header.contains("«anna»") && header.contains("«bruno»"), "{header}");
    // 30.09.2023 booked by anna, reversed by carla before anyone released it: no payment
    // file ever; the Storno released by anna (not carla).
    let o2 = opts(&inbox, &sd, d, ymd(2023, 9, 30), true);
    let r2 = execute(&o2).unwrap();
    storno(&StornoOptions {
        stichtag: o2.stichtag,
        ledger: o2.ledger.clone(),
        out: o2.out.clone(),
        reason: "falsche Zahlen".into(),
        person: "carla".into(),
    })
    .unwrap();
    assert!(matches!(release_as(&o2, "bruno").map(|r| r.run.art), Ok(beitraege::ledger::RunKind::Storno)));
    assert!(!tree(&r2.out).iter().any(|f| f.starts_with("pain001")));
    assert!(!tree(&o2.out.join("2023-09-30_Storno")).iter().any(|f| f.starts_with("pain001")));
    // The statement: per run who booked and who released.
    let ledger = Ledger::open_existing(&o1.ledger).unwrap();
    let st = beitraege::zahlungslauf::konto::statement(&ledger, None, ymd(2023, 10, 1)).unwrap();
    let who: std::collections::BTreeSet<(String, String, String)> =
        st.runs.iter().map(|r| (r.art.clone(), r.booked_by.clone(), r.released_by.clone())).collect();
    let expect = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        who,
        [
            expect("Zahlungslauf", "anna", "bruno"),
            expect("Zahlungslauf", "anna", beitraege::zahlungslauf::konto::WITHDRAWN),
            expect("Storno", "carla", "bruno")
        ]
        .into_iter()
        .collect()
    );
    // The annex's sheet «Buchhaltung» lists the runs with both persons.
    let mut ro = common::sample_options(&d.join("annex"), Some(2));
    ro.inbox = inbox.clone();
    ro.stammdaten = sd.clone();
    ro.buchhaltung = Some(o1.ledger.clone());
    beitraege::run::run(&ro).unwrap();
    let bytes = std::fs::read(d.join("annex/Anhang_1_Beitraege_2023.xlsx")).unwrap();
    let wb = beitraege::workbook::read_workbook(&bytes, &Limits::default()).unwrap();
    let sheet = wb.sheets.iter().find(|s| s.name == "Buchhaltung").unwrap();
    let rows: Vec<Vec<String>> = (0..80).map(|r| (0..6).map(|c| sheet.get(r, c).text()).collect()).collect();
    for (art, by, rel) in [("Zahlungslauf", "anna", "bruno"), ("Storno", "carla", "bruno")] {
        assert!(rows.iter().any(|r| r[1] == art && r[2] == by && r[4] == rel), "{art} {by} {rel}");
    }
}

/// Two real operating-system accounts (created with `useradd`, the commands run with
/// `runuser`): the account that booked the run cannot release it; another account can, and
/// the ledger records both accounts and the SHA-256 of the payment file it wrote. Needs root
/// (CI runs `.ci/run` as root; the `--ignored` pass runs this test).
#[test]
#[ignore = "needs root: creates two OS accounts with useradd and runs the binary as them with runuser"]
fn two_real_accounts_book_and_release() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test needs root (useradd, runuser)");
    let (group, anna, bruno) = ("btrgtest", "btrg-anna", "btrg-bruno");
    let run = |c: &mut Command| c.status().expect("the tool runs");
    run(Command::new("groupadd").arg("-f").arg(group));
    for u in [anna, bruno] {
        // Exit 9: the account exists already (an earlier run).
        let s = run(Command::new("useradd").args(["-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", u]));
        assert!(s.success() || s.code() == Some(9), "useradd {u}: {s}");
    }
    // A world-readable folder under /tmp, group-owned and setgid: both accounts write the
    // ledger and the outputs (umask 002 in the commands).
    let shared = tempfile::Builder::new().prefix("beitraege-vier-augen-").tempdir_in("/tmp").unwrap();
    let d = shared.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o2775)).unwrap();
    assert!(run(Command::new("chgrp").arg(group).arg(d)).success());
    let bin = d.join("beitraege");
    std::fs::copy(env!("CARGO_BIN_EXE_beitraege"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (inbox, sd) = (d.join("inbox"), d.join("Stammdaten.xlsx"));
    world_inbox(&inbox);
    world_master(&sd);
    assert!(run(Command::new("chmod").args(["-R", "a+rX"]).arg(&inbox).arg(&sd)).success());
    let data = d.join("daten");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o2775)).unwrap();
    assert!(run(Command::new("chgrp").arg(group).arg(&data)).success());
    let (ledger, root) = (data.join("buchhaltung.sqlite"), data.join("aus"));
    let as_user = |user: &str, args: &[&str]| {
        Command::new("runuser")
            .args(["-u", user, "--", "sh", "-c", "umask 002 && exec \"$0\" \"$@\""])
            .arg(&bin)
            .arg("zahlungslauf")
            .args(args)
            .args(["--stichtag", "31.03.2023", "--buchungsdatum", "31.03.2023"])
            .arg("--stammdaten")
            .arg(&sd)
            .arg("--buchhaltung")
            .arg(&ledger)
            .arg("--ausgabe")
            .arg(&root)
            .current_dir(d)
            .output()
            .unwrap()
    };
    let o = as_user(anna, &["--buchen", "--ab-jahr", "2023", "--eingang", inbox.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pain = root.join("2023-03-31/pain001_2023-03-31.xml");
    assert!(!pain.exists());
    // The account that booked: refused (exit 2), nothing released.
    let o = as_user(anna, &["--freigeben"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(Ledger::open_existing(&ledger).unwrap().releases().unwrap().is_empty());
    assert!(!pain.exists());
    // Another account: released, the file written, its SHA-256 recorded.
    let o = as_user(bruno, &["--freigeben"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let l = Ledger::open_existing(&ledger).unwrap();
    let runs = l.runs().unwrap();
    assert_eq!(runs[0].booked_by.as_deref(), Some(anna));
    let rel = l.releases().unwrap();
    assert_eq!(rel.len(), 1);
    assert_eq!(rel[0].person, bruno);
    assert_eq!(rel[0].file_sha256.as_deref(), Some(sha256_file(&pain).as_str()));
    check_pain(&std::fs::read_to_string(&pain).unwrap(), dec("910"), 3);
    drop(l);
    for u in [anna, bruno] {
        let _ = run(Command::new("userdel").arg(u));
    }
    let _ = run(Command::new("groupdel").arg(group));
}

/// A booking whose master data are missing or unreadable is refused before the ledger is
/// opened: no ledger, key or anchor file is created.
#[test]
fn a_booking_with_faulty_master_data_creates_no_ledger() {
    let (dir, inbox, _sd) = world();
    let d = dir.path();
    let broken = d.join("Kaputt.xlsx");
    std::fs::write(&broken, b"kein Excel").unwrap();
    for sd in [d.join("fehlt.xlsx"), broken] {
        let r = execute(&opts(&inbox, &sd, d, ymd(2023, 3, 31), true));
        assert!(matches!(r, Err(ZahlungslaufError::Run(_))), "{sd:?}");
        let files = beitraege::ledger::LedgerFiles::beside(&d.join("buchhaltung.sqlite"));
        assert!(!d.join("buchhaltung.sqlite").exists());
        assert!(!files.key.exists() && !files.anchors.exists());
    }
}

#[test]
fn each_receipt_is_reversed_by_its_own_id_and_the_receipt_runs_are_numbered_in_order() {
    let (mut l, id) = ledger_with_invoice();
    let today = ymd(2023, 11, 15);
    let a = l.record_receipt(&id, ymd(2023, 10, 20), dec("100"), today, "x", "t").unwrap();
    let b = l.record_receipt(&id, ymd(2023, 10, 21), dec("200"), today, "x", "t").unwrap();
    // Eight characters or more that begin no receipt's id: unknown, not ambiguous (the
    // invoice's booking id is no receipt's).
    let invoice_booking = l.bookings().unwrap().into_iter().find(|b| b.art == Art::Rechnung).unwrap();
    for none in ["zzzzzzzz", &invoice_booking.id[..8]] {
        assert!(matches!(l.reverse_receipt(none, "falsch", "y", "t"), Err(LedgerError::UnknownReceipt(_))), "{none}");
    }
    // The first reversed, the second is still reversible (a reversal is found by the receipt
    // it reverses, not by being one).
    l.reverse_receipt(&a.id, "falsch erfasst", "y", "t").unwrap();
    assert_eq!(open_of(&l, &id), dec("4200"));
    let rev = l.reverse_receipt(&b.id[..8], "falsch erfasst", "y", "t").unwrap();
    assert_eq!(
        (rev.art, rev.betrag, rev.bezug),
        (Art::Storno, dec("-200"), Some(plan::Bezug::Storniert(b.id.clone())))
    );
    assert_eq!(open_of(&l, &id), dec("4400"));
    // Receipts and their reversals are runs of their own, numbered 1, 2, 3, 4 as booked.
    let lauf: Vec<i64> = l
        .runs()
        .unwrap()
        .iter()
        .filter(|r| r.art == beitraege::ledger::RunKind::Zahlungseingang)
        .map(|r| r.lauf)
        .collect();
    assert_eq!(lauf, [1, 2, 3, 4]);
}

/// A Storno of a run that offset a clawback against a payment shows the run negated in
/// `konto`'s rows per run: the clawback's reversal (whose reference is the clawback's, not a
/// booking id) counts like the clawback did.
#[test]
fn a_reversed_clawback_stays_in_the_rows_per_run() {
    let mut l = Ledger::in_memory().unwrap();
    let pay = plan::PlannedBooking {
        payee: 2610,
        bfs: 2610,
        periode: plan::Periode::parse("2023/H1").unwrap(),
        leistung: plan::Leistung::Tarif(TariffCode::FallEg),
        art: Art::Auszahlung,
        betrag: dec("1000"),
        count: Some(5),
        tariff: String::new(),
        evidence: vec![],
        bezug: None,
        due_on: None,
        text: "Auszahlung".into(),
    };
    let claw = plan::PlannedBooking {
        periode: plan::Periode::year(2023),
        leistung: plan::Leistung::Rueckforderung,
        art: Art::Rueckforderung,
        betrag: dec("-4400"),
        count: None,
        bezug: Some(plan::Bezug::Rueckforderung("RF-2610".into())),
        text: "Rückforderung".into(),
        ..pay.clone()
    };
    let invoice = plan::PlannedBooking {
        leistung: plan::Leistung::Rechnung,
        art: Art::Rechnung,
        betrag: dec("-3400"),
        bezug: None,
        due_on: Some(ymd(2023, 10, 30)),
        text: "Rechnung".into(),
        ..claw.clone()
    };
    let header = header_on(ymd(2023, 9, 30));
    l.book_run(&header, &[pay, claw, invoice]).unwrap();
    l.storno(ymd(2023, 9, 30), "falsch", "t2", "t").unwrap();
    let rows =
        beitraege::zahlungslauf::konto::run_rows(&l.runs().unwrap(), &l.bookings().unwrap(), Some(2610)).unwrap();
    let got: Vec<_> = rows.iter().map(|r| (r.gross, r.offset, r.transfer, r.invoiced)).collect();
    // Paid 1000, claimed 4400: offset 1000, transferred 0, invoiced 3400; the Storno the negation.
    assert_eq!(
        got,
        vec![(dec("1000"), dec("1000"), dec("0"), dec("3400")), (dec("-1000"), dec("-1000"), dec("0"), dec("-3400")),]
    );
    // The clawback counts as open again.
    assert!(l.settled_clawbacks().unwrap().is_empty());
}
