//! Tamper evidence of the ledger (issue 17): each edit a hostile tester made to the SQLite
//! file is refused by the next command with a typed error, and `beitraege pruefen` reports
//! it with exit status 1; a clean ledger and its journals verify (exit 0); a knowingly
//! restored backup is recorded with its reason and then used; a preview never touches a
//! file that is not a ledger.
//!
//! The ledger is the sample year's, booked per 31.03.2023 (97 bookings) and 30.09.2023 (119
//! bookings), each released by a second person. Its chain, worked out by hand: 1 and 2 the
//! ledger's creation (`meta` `kette_eingerichtet`, `schluessel`), 3 the first year (`meta`
//! `erstes_jahr`), 4 the first run, 5–101 its bookings 1–97, 102–103 the outputs stored with
//! it (JSON, workbook), 104 its release, 105–106 the release's outputs (release workbook,
//! pain.001); 107 the second run, 108–226 its bookings 98–216, 227–230 its outputs (the
//! invoice's e-mail draft and PDF, JSON, workbook), 231 its release, 232–233 the release's
//! outputs. The anchor file has five lines: `Anlage` (2), each run booked (103, 230) and
//! released (106, 233).
use crate::common;
use beitraege::domain::Chf;

use beitraege::domain::ymd;
use beitraege::ledger::{chain_hash, verify, Ledger, LedgerError, LedgerFiles, Tamper};
use beitraege::workbook::Limits;
use beitraege::zahlungslauf::konto::{self, KontoOptions};
use beitraege::zahlungslauf::{
    execute, freigeben, storno, FreigabeOptions, StornoOptions, ZahlungslaufError, ZahlungslaufOptions,
};
use chrono::NaiveDate;
use common::sample;
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The head after the first run was booked and released.
const FIRST_RUN_HEAD: i64 = 106;
/// The head after the second run was booked and released.
const SECOND_RUN_HEAD: i64 = 233;
/// The anchor file's lines after both runs (creation, two bookings, two releases).
const ANCHOR_LINES: usize = 5;
/// The chain position of the last booking of each run, which its journal names as its head.
const FIRST_JOURNAL_HEAD: i64 = 101;
const SECOND_JOURNAL_HEAD: i64 = 226;

fn opts(dir: &Path, stichtag: NaiveDate, book: bool) -> ZahlungslaufOptions {
    ZahlungslaufOptions {
        stichtag,
        inbox: sample().join("inbox"),
        stammdaten: sample().join("Stammdaten.xlsx"),
        out: dir.join(format!("out-{stichtag}{}", if book { "" } else { "-entwurf" })),
        ledger: dir.join("buchhaltung.sqlite"),
        book,
        first_year: None,
        booked_on: stichtag,
        execution_date: None,
        extraordinary_reason: None,
        threads: Some(2),
        limits: Limits::default(),
        person: "anna".into(),
    }
}

/// Books the run per `stichtag` (as «anna») and releases it (as «bruno», four-eyes rule).
fn book(dir: &Path, stichtag: NaiveDate) -> Result<beitraege::zahlungslauf::RunOutcome, ZahlungslaufError> {
    let mut o = opts(dir, stichtag, true);
    o.first_year = Some(2023);
    let outcome = execute(&o)?;
    freigeben(&FreigabeOptions {
        stichtag,
        ledger: o.ledger.clone(),
        stammdaten: o.stammdaten.clone(),
        out: o.out.clone(),
        person: "bruno".into(),
        released_on: stichtag,
        execution_date: None,
    })?;
    Ok(outcome)
}

/// The sample year booked per 31.03.2023 and 30.09.2023; with `copy`, the ledger file as it
/// was between the two runs (a backup of that day) is kept as `gestern.sqlite`.
fn booked(copy: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    book(d, ymd(2023, 3, 31)).unwrap();
    if copy {
        std::fs::copy(d.join("buchhaltung.sqlite"), d.join("gestern.sqlite")).unwrap();
    }
    book(d, ymd(2023, 9, 30)).unwrap();
    let ledger = d.join("buchhaltung.sqlite");
    (dir, ledger)
}

/// The journal in the (first) run folder below the output folder of `stichtag`.
fn journal_of(dir: &Path, stichtag: NaiveDate) -> PathBuf {
    let out = dir.join(format!("out-{stichtag}"));
    let mut found: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().join("Buchungsjournal.csv"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.remove(0)
}

/// The database file opened directly, as a tool would (not through the program).
fn raw(ledger: &Path) -> Connection {
    Connection::open(ledger).unwrap()
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_beitraege"));
    c.current_dir(common::root());
    c
}

/// `beitraege pruefen` through the command line: exit status and report.
fn pruefen(ledger: &Path, extra: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let o = bin().arg("pruefen").arg("--buchhaltung").arg(ledger).args(extra).output().unwrap();
    (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// The findings of the library's check.
fn findings(ledger: &Path) -> Vec<Tamper> {
    verify::check(&LedgerFiles::beside(ledger), &[]).unwrap().findings
}

fn tampered(r: Result<impl Sized, ZahlungslaufError>) -> Tamper {
    match r {
        Err(ZahlungslaufError::Ledger(LedgerError::Tampered { what, .. })) => what,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("the command ran on a tampered ledger"),
    }
}

fn bookings_in(ledger: &Path) -> i64 {
    raw(ledger).query_row("SELECT COUNT(*) FROM bookings", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_clean_ledger_and_its_journals_verify() {
    let (dir, ledger) = booked(false);
    let d = dir.path();
    let j1 = journal_of(d, ymd(2023, 3, 31));
    let j2 = journal_of(d, ymd(2023, 9, 30));
    let report = verify::check(&LedgerFiles::beside(&ledger), &[j1.clone(), j2.clone()]).unwrap();
    assert!(report.ok(), "{}", report.text());
    assert_eq!((report.bookings, report.runs, report.head.pos), (216, 2, SECOND_RUN_HEAD));
    assert_eq!(report.anchor_lines, ANCHOR_LINES);
    assert_eq!(report.unanchored, 0);
    // Each journal anchors the head of its run and holds exactly its bookings.
    let heads: Vec<(i64, usize)> =
        report.journals.iter().map(|(_, j)| (j.head.as_ref().unwrap().pos, j.rows)).collect();
    assert_eq!(heads, vec![(FIRST_JOURNAL_HEAD, 97), (SECOND_JOURNAL_HEAD, 216)]);
    let (code, text) = pruefen(&ledger, &["--journal".as_ref(), j1.as_os_str(), j2.as_os_str()]);
    assert_eq!(code, Some(0), "{text}");
    // A journal row changed (and its public chain recomputed by nobody): exit 1.
    let csv = std::fs::read_to_string(&j2).unwrap();
    let changed = d.join("geaendert.csv");
    std::fs::write(&changed, csv.replacen(";-23920.00;", ";-239.20;", 1)).unwrap();
    let (code, _) = pruefen(&ledger, &["--journal".as_ref(), changed.as_os_str()]);
    assert_eq!(code, Some(1));
    // Usage: a ledger that does not exist is exit 2.
    let (code, _) = pruefen(&d.join("fehlt.sqlite"), &[]);
    assert_eq!(code, Some(2));
}

/// An amount changed and the bookings' public SHA-256 chain recomputed (what 20 lines of
/// Python did): `konto` refuses the ledger instead of showing 99'999.
#[test]
fn a_changed_amount_with_a_recomputed_public_chain_is_refused() {
    let (dir, ledger) = booked(false);
    // The attacker reads the rows, changes the Sockelbeitrag of booking 1 (CHF 9'086) and
    // recomputes the public chain with the published algorithm.
    let mut rows = Ledger::open_read_only(&ledger).unwrap().bookings().unwrap();
    assert_eq!(rows[0].betrag, Chf::from_int(9086));
    rows[0].betrag = Chf::from_int(99_999);
    let c = raw(&ledger);
    c.execute_batch("DROP TRIGGER bookings_no_update; UPDATE bookings SET betrag = '99999' WHERE seq = 1;").unwrap();
    let mut prev = beitraege::ledger::GENESIS.to_string();
    for b in &mut rows {
        b.prev_hash = prev.clone();
        b.hash = chain_hash(&prev, b);
        c.execute("UPDATE bookings SET prev_hash = ?1, hash = ?2 WHERE seq = ?3", params![b.prev_hash, b.hash, b.seq])
            .unwrap();
        prev = b.hash.clone();
    }
    drop(c);
    let konto_opts = KontoOptions {
        ledger: ledger.clone(),
        out: dir.path().join("konto"),
        bfs: None,
        stammdaten: None,
        date: ymd(2023, 12, 31),
    };
    assert_eq!(tampered(konto::execute(&konto_opts)), Tamper::Forged { pos: 5, what: "Buchung Nr. 1".into() });
    assert!(!dir.path().join("konto").exists(), "nothing written");
    assert_eq!(findings(&ledger), vec![Tamper::Forged { pos: 5, what: "Buchung Nr. 1".into() }]);
    let (code, _) = pruefen(&ledger, &[]);
    assert_eq!(code, Some(1));
    // Receipts are not recorded on it either (exit 2, nothing booked).
    let before = bookings_in(&ledger);
    let o = bin()
        .args(["zahlung-erfassen", "--rechnung", "2023-0001", "--betrag", "100", "--datum", "31.10.2023"])
        .arg("--buchhaltung")
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(bookings_in(&ledger), before);
    // No restored backup explains a forged row: the override is refused (exit 1), nothing recorded.
    let anchors = std::fs::read(LedgerFiles::beside(&ledger).anchors).unwrap();
    let (code, _) =
        pruefen(&ledger, &["--backup-wiederhergestellt".as_ref(), "--grund".as_ref(), "Sicherung".as_ref()]);
    assert_eq!(code, Some(1));
    assert_eq!(std::fs::read(LedgerFiles::beside(&ledger).anchors).unwrap(), anchors);
}

/// A booking INSERTed with a valid public hash (no trigger blocks INSERT): the next run is
/// refused instead of paying Egerkingen CHF 50'000.
#[test]
fn a_booking_inserted_with_a_valid_hash_is_refused() {
    let (dir, ledger) = booked(false);
    let rows = Ledger::open_read_only(&ledger).unwrap().bookings().unwrap();
    let c = raw(&ledger);
    let (run_id, prev): (String, String) = c
        .query_row("SELECT run_id, hash FROM bookings ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let mut b = rows[0].clone();
    b.seq = 217;
    b.id = "eingefuegt".into();
    b.run_id = run_id;
    b.bfs = 2401;
    b.payee = 2401;
    b.betrag = Chf::from_int(50_000);
    b.prev_hash = prev.clone();
    b.hash = chain_hash(&prev, &b);
    c.execute(
        "INSERT INTO bookings (seq, id, run_id, stichtag, art, payee, bfs, jahr, periode, leistung, betrag, anzahl,
             tarif, belege, faellig_am, bezug, text, program_version, booked_at, prev_hash, hash, iban)
         SELECT 217, ?1, ?2, stichtag, art, 2401, 2401, jahr, periode, leistung, '50000', anzahl, tarif, belege,
             faellig_am, bezug, text, program_version, booked_at, ?3, ?4, iban FROM bookings WHERE seq = 1",
        params![b.id, b.run_id, b.prev_hash, b.hash],
    )
    .unwrap();
    drop(c);
    assert_eq!(bookings_in(&ledger), 217);
    let what = tampered(book(dir.path(), ymd(2024, 3, 31)));
    assert_eq!(what, Tamper::Unchained { what: "Buchung Nr. 217".into() });
    assert_eq!(bookings_in(&ledger), 217, "nothing booked");
    assert!(!dir.path().join("out-2024-03-31").exists());
    assert_eq!(findings(&ledger), vec![Tamper::Unchained { what: "Buchung Nr. 217".into() }]);
    assert_eq!(pruefen(&ledger, &[]).0, Some(1));
}

/// The last run deleted with the triggers dropped: refused instead of booking 30.09.2023
/// again — whether the chain's entries were deleted too (the ledger then ends before the
/// anchored head) or not (the chain names the deleted rows).
#[test]
fn a_truncated_ledger_is_refused() {
    for with_chain in [true, false] {
        let (dir, ledger) = booked(false);
        let c = raw(&ledger);
        c.execute_batch(
            "DROP TRIGGER bookings_no_delete; DROP TRIGGER runs_no_delete;
             DROP TRIGGER freigaben_no_delete; DROP TRIGGER ausgaben_no_delete;
             DELETE FROM ausgaben WHERE run_id = (SELECT run_id FROM runs WHERE seq = 2);
             DELETE FROM freigaben WHERE run_id = (SELECT run_id FROM runs WHERE seq = 2);
             DELETE FROM bookings WHERE seq > 97; DELETE FROM runs WHERE seq = 2;",
        )
        .unwrap();
        if with_chain {
            c.execute_batch("DROP TRIGGER kette_no_delete; DELETE FROM kette WHERE pos > 106;").unwrap();
        }
        drop(c);
        let what = tampered(book(dir.path(), ymd(2023, 9, 30)));
        if with_chain {
            let expected = Tamper::Truncated { head: FIRST_RUN_HEAD, anchored: SECOND_RUN_HEAD, line: ANCHOR_LINES };
            assert_eq!(what, expected);
            assert_eq!(findings(&ledger), vec![expected]);
        } else {
            assert!(matches!(what, Tamper::Removed { pos: 107, .. }), "{what:?}");
            let f = findings(&ledger);
            // The run, its 119 bookings, its 4 outputs, its release and the release's 2 outputs.
            assert_eq!(f.len(), 127, "{f:?}");
            assert!(f.iter().all(|t| matches!(t, Tamper::Removed { .. })));
        }
        assert_eq!(bookings_in(&ledger), 97, "nothing booked");
        assert_eq!(pruefen(&ledger, &[]).0, Some(1));
    }
}

/// Yesterday's copy of the ledger file put back: refused instead of booking 30.09.2023 a
/// second time; the second run's journal says the ledger is older than it. Knowingly
/// restored with a reason, the ledger is used again.
#[test]
fn an_older_copy_is_refused_until_its_restore_is_recorded() {
    let (dir, ledger) = booked(true);
    let d = dir.path();
    std::fs::copy(d.join("gestern.sqlite"), &ledger).unwrap();
    let truncated = Tamper::Truncated { head: FIRST_RUN_HEAD, anchored: SECOND_RUN_HEAD, line: ANCHOR_LINES };
    assert_eq!(tampered(book(d, ymd(2023, 9, 30))), truncated);
    // A preview too (it would plan 30.09.2023 again).
    assert_eq!(tampered(execute(&opts(d, ymd(2024, 3, 31), false))), truncated);
    assert_eq!(bookings_in(&ledger), 97);
    let j2 = journal_of(d, ymd(2023, 9, 30));
    let report = verify::check(&LedgerFiles::beside(&ledger), std::slice::from_ref(&j2)).unwrap();
    assert_eq!(
        report.findings,
        vec![truncated, Tamper::JournalAhead { path: j2.clone(), pos: SECOND_JOURNAL_HEAD, head: FIRST_RUN_HEAD }]
    );
    assert_eq!(pruefen(&ledger, &[]).0, Some(1));
    // The override needs a reason (a command-line error without), then records it.
    assert_eq!(pruefen(&ledger, &["--backup-wiederhergestellt".as_ref()]).0, Some(2));
    let (code, text) = pruefen(
        &ledger,
        &[
            "--backup-wiederhergestellt".as_ref(),
            "--grund".as_ref(),
            "Festplatte ersetzt, Sicherung vom Vortag".as_ref(),
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let anchors = std::fs::read_to_string(LedgerFiles::beside(&ledger).anchors).unwrap();
    let last = anchors.lines().last().unwrap();
    assert!(last.starts_with("6;"), "{last}");
    let fields: Vec<&str> = last.split(';').collect();
    assert_eq!((fields[2], fields[3]), ("Wiederherstellung", "106"));
    assert!(fields[7].starts_with("Festplatte ersetzt, Sicherung vom Vortag"), "{last}");
    // The ledger verifies again; the lost run's journal still says what was lost.
    let report = verify::check(&LedgerFiles::beside(&ledger), std::slice::from_ref(&j2)).unwrap();
    assert_eq!(report.restores.len(), 1);
    assert_eq!(
        report.findings,
        vec![Tamper::JournalAhead { path: j2, pos: SECOND_JOURNAL_HEAD, head: FIRST_RUN_HEAD }]
    );
    // Used again: the run per 30.09.2023 is booked (again), and everything verifies.
    assert!(book(d, ymd(2023, 9, 30)).unwrap().booked);
    assert_eq!(bookings_in(&ledger), 216);
    assert_eq!(pruefen(&ledger, &[]).0, Some(0));
    assert_eq!(pruefen(&ledger, &["--journal".as_ref(), journal_of(d, ymd(2023, 3, 31)).as_os_str()]).0, Some(0));
}

/// `meta` edited (the first year): refused instead of a run that pays CHF 1'442.
#[test]
fn an_edited_first_year_is_refused() {
    let (dir, ledger) = booked(false);
    raw(&ledger)
        .execute_batch("DROP TRIGGER meta_no_update; UPDATE meta SET value = '2024' WHERE key = 'erstes_jahr';")
        .unwrap();
    let forged = Tamper::Forged { pos: 3, what: "Die Angabe «erstes_jahr»".into() };
    assert_eq!(tampered(book(dir.path(), ymd(2024, 3, 31))), forged);
    assert_eq!(bookings_in(&ledger), 216);
    assert_eq!(findings(&ledger), vec![forged]);
    assert_eq!(pruefen(&ledger, &[]).0, Some(1));
}

/// A fake Storno row in `runs` (it made the run per 30.09.2023 look reversed): the Storno
/// of 31.03.2023 is refused instead of accepted.
#[test]
fn a_fake_storno_row_is_refused() {
    let (dir, ledger) = booked(false);
    let c = raw(&ledger);
    let second: String = c.query_row("SELECT run_id FROM runs WHERE seq = 2", [], |r| r.get(0)).unwrap();
    c.execute(
        "INSERT INTO runs (run_id, seq, art, stichtag, lauf, booked_at, reason, reverses, program_version)
         VALUES ('gefaelscht', 3, 'Storno', '2023-09-30', 1, '01.10.2023 08:00:00', 'x', ?1, '0.1.0')",
        params![second],
    )
    .unwrap();
    drop(c);
    let so = StornoOptions {
        stichtag: ymd(2023, 3, 31),
        ledger: ledger.clone(),
        out: dir.path().join("storno"),
        reason: "Test".into(),
        person: "carla".into(),
    };
    let fake = Tamper::Unchained { what: "Der Lauf «Storno» per 30.09.2023".into() };
    assert_eq!(tampered(storno(&so)), fake);
    assert_eq!(bookings_in(&ledger), 216);
    assert_eq!(findings(&ledger), vec![fake]);
    assert_eq!(pruefen(&ledger, &[]).0, Some(1));
}

/// A preview opens the ledger read-only: an empty file, another program's database and a
/// ledger with a schema version this program does not know (−1, or one above its own) are
/// refused in German (exit 2, no SQL in the message) and left byte for byte as they were;
/// no key or anchor file appears beside them.
#[test]
fn a_preview_never_writes_into_a_file_that_is_not_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("leer.sqlite");
    std::fs::write(&empty, b"").unwrap();
    let foreign = d.join("fremd.sqlite");
    raw(&foreign).execute_batch("CREATE TABLE adressen (id INTEGER PRIMARY KEY, name TEXT);").unwrap();
    let (_booked, ledger) = booked(false);
    let minus = d.join("minus.sqlite");
    let newer = d.join("neuer.sqlite");
    for (p, v) in [(&minus, -1), (&newer, 99)] {
        std::fs::copy(&ledger, p).unwrap();
        std::fs::copy(LedgerFiles::beside(&ledger).key, LedgerFiles::beside(p).key).unwrap();
        raw(p).pragma_update(None, "user_version", v).unwrap();
    }
    for p in [&empty, &foreign, &minus, &newer] {
        let before = std::fs::read(p).unwrap();
        let o = bin()
            .args(["zahlungslauf", "--stichtag", "31.03.2024", "--buchhaltung"])
            .arg(p)
            .arg("--ausgabe")
            .arg(d.join("entwurf"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{p:?}: {err}");
        assert!(err.starts_with("Fehler:"), "{err}");
        for sql in ["SELECT", "table", "sqlite_master", "no such"] {
            assert!(!err.contains(sql), "{sql} in {err}");
        }
        assert_eq!(std::fs::read(p).unwrap(), before, "{p:?} was changed");
        assert!(!LedgerFiles::beside(p).anchors.exists(), "{p:?}");
        assert!(!d.join("entwurf").exists());
    }
    for p in [&empty, &foreign] {
        assert!(!LedgerFiles::beside(p).key.exists(), "{p:?}");
    }
    // The library's kinds: the preview's ledger.
    let kinds: Vec<String> = [&empty, &foreign, &minus, &newer]
        .iter()
        .map(|p| match Ledger::open_for_preview(p) {
            Err(LedgerError::NotALedger { why, .. }) => format!("{why:?}"),
            Err(LedgerError::UnknownSchema { found, .. }) => format!("unbekannt {found}"),
            Err(LedgerError::NewerSchema { found, .. }) => format!("neuer {found}"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("{p:?} opened"),
        })
        .collect();
    assert_eq!(kinds, ["Empty", "Foreign", "unbekannt -1", "neuer 99"]);
}
