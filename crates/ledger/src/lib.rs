//! The ledger (Buchhaltung): an embedded SQLite database that remembers what the canton has
//! paid, offset, invoiced and received. Rules in the manner of TigerBeetle:
//!
//! - one deterministic id per booking, derived from what it pays for (Stichtag, run number,
//!   payee, municipality, year, period, component, kind); `UNIQUE` makes a second booking of
//!   the same thing impossible;
//! - bookings are never changed: triggers abort UPDATE and DELETE; a run is corrected by its
//!   exact reversal (Storno) with a reason;
//! - a whole run is booked in one transaction: a killed process leaves all of it or none;
//! - every booking carries its evidence (files and SHA-256, tariff, program version);
//! - every row that decides money (bookings, runs, meta) is chained under a key kept outside
//!   the database ([`chain`]), and the chain's head after every write is appended to an
//!   anchor file beside it ([`anchor`]); every open checks both and refuses a changed,
//!   inserted or deleted row, a truncated ledger and an older copy ([`Tamper`]).
//!
//! The database belongs on a local disk: SQLite on network shares (SMB/NFS) is known to
//! corrupt or lock.

// The core, under the module names the code uses.
use beitraege_core::{catalogue, commit, compute, domain, fsio, payout};

pub mod anchor;
pub mod chain;
mod freigabe;
pub mod journal;
mod korrespondenz;
mod schema;
mod stichprobe;
pub mod verify;

pub use chain::{ChainKey, Head, LedgerFiles, Tamper};

pub use freigabe::{bookings_sha256, sha256_hex, Release, ReleaseDraft, ReleaseFiles, RunState};
pub use korrespondenz::{Letter, LetterKind, NewLetter};
pub use stichprobe::{Outcome, SampleRow};

/// An invoice with what has been received on it (a plain value, shared with the writers).
pub use crate::domain::InvoiceState;
use crate::domain::{fmt_date, Bfs, Chf};
use crate::fsio::hex;
use crate::payout::{Art, Bezug, Evidence, Key, Leistung, Periode, PlannedBooking};
use chain::KeyProblem;
use chrono::{Datelike, NaiveDate};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use thiserror::Error;

/// The largest amount a stored booking may have (10^15 CHF, as an annex row): with it, every
/// sum over a ledger stays far inside `Decimal`'s range; sums are checked all the same.
pub const MAX_BOOKING_CHF: i64 = crate::compute::MAX_ROW_CHF;

/// Adds `v` to `acc`, or the booking `seq` is out of range.
fn add_to(acc: &mut Chf, v: Chf, seq: i64) -> Result<(), LedgerError> {
    *acc = acc.checked_add(v).ok_or(LedgerError::BadRow { seq, what: "Betrag (Summe)".into() })?;
    Ok(())
}

/// The hash before the first booking.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Test hook: set, the booking transaction holds in its middle (it prints `BUCHUNG-PAUSE` on
/// standard error and waits until its standard input is closed; the kill test kills it
/// there). Only with the feature `test-hooks`, never in the shipped binary.
#[cfg(feature = "test-hooks")]
pub const PAUSE_ENV: &str = "BEITRAEGE_TEST_BUCHEN_PAUSE_MS";

/// Why a file is not a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotLedger {
    /// An empty file (0 bytes, or a database without tables).
    Empty,
    /// Not an SQLite database at all.
    NotSqlite,
    /// An SQLite database without the ledger's tables (another program's).
    Foreign,
}

impl std::fmt::Display for NotLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotLedger::Empty => "eine leere Datei",
            NotLedger::NotSqlite => "keine SQLite-Datenbank",
            NotLedger::Foreign => "eine Datenbank eines anderen Programms, ohne die Tabellen der Buchhaltung",
        })
    }
}

/// A database error in German (the SQL engine's own text is not shown to staff).
fn sqlite_text(e: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode::*;
    if let rusqlite::Error::SqliteFailure(f, _) = e {
        if f.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK {
            return "ein abgebrochener Befehl hat eine unvollständige Änderung hinterlassen, die nur mit Schreibrecht zurückgenommen werden kann (der nächste Befehl mit Schreibrecht tut es)";
        }
    }
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => "sie wird gerade von einem anderen Befehl verwendet",
        Some(ReadOnly) => "sie ist schreibgeschützt",
        Some(DatabaseCorrupt) => "die Datei ist beschädigt",
        Some(NotADatabase) => "die Datei ist keine SQLite-Datenbank",
        Some(DiskFull) => "der Datenträger ist voll",
        Some(CannotOpen) => "die Datei kann nicht geöffnet werden",
        Some(PermissionDenied) => "keine Berechtigung",
        Some(SystemIoFailure) => "Lese- oder Schreibfehler des Datenträgers",
        Some(ConstraintViolation) => "eine Regel der Datenbank wurde verletzt (z. B. dieselbe Buchung zweimal)",
        _ => "interner Fehler der Datenbank",
    }
}

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("Die Buchhaltung «{path}» kann nicht verwendet werden: {}.", sqlite_text(source))]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("Die Buchhaltung «{0}» existiert nicht.")]
    Missing(PathBuf),
    #[error("Die Buchhaltung «{}» liegt auf einem Netzwerk ({kind}). Dort ist die Datenbank nicht sicher vor Beschädigung (die Sperren von SQLite wirken nicht zuverlässig). Bitte die Buchhaltung auf eine lokale Festplatte legen (z. B. C:\\Beitraege\\Buchhaltung\\buchhaltung.sqlite) und mit der Datensicherung auf das Netzwerk kopieren; es wurde nichts gebucht.", .path.display())]
    NetworkShare { path: PathBuf, kind: &'static str },
    #[error("Die Buchhaltung «{path}» hat die Schemaversion {found}; dieses Programm kennt nur bis {known}. Bitte die neuere Programmversion verwenden; die Datei wurde nicht verändert.")]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
    #[error("Die Buchhaltung «{path}» hat die Schemaversion {found}, die es nie gegeben hat; sie wurde nicht verändert. Die Datei ist beschädigt oder von Hand verändert worden: Bitte die Buchhaltung aus der Sicherung zurückholen.")]
    UnknownSchema { path: PathBuf, found: i64 },
    #[error("Die Datei «{path}» ist keine Buchhaltung dieses Programms ({why}); sie wurde nicht verändert. Bitte mit «--buchhaltung» die Datei der Buchhaltung angeben.")]
    NotALedger { path: PathBuf, why: NotLedger },
    #[error("Die Buchhaltung «{path}» wurde nicht verwendet, es wurde nichts gelesen und nichts gebucht. {what} {}", what.advice(path))]
    Tampered { path: PathBuf, what: Tamper },
    #[error("Der Schlüssel der Buchhaltung «{key}» fehlt: Ohne ihn lässt sich die Buchhaltung nicht prüfen; es wurde nichts gelesen und nichts gebucht. Bitte die Schlüsseldatei aus der Sicherung zurückholen (sie liegt neben der Buchhaltung).")]
    KeyMissing { key: PathBuf },
    #[error("Der Schlüssel der Buchhaltung «{key}» kann nicht gelesen werden ({why}); es wurde nichts gelesen und nichts gebucht. Die Datei muss für alle lesbar sein, die buchen oder freigeben (Gruppe), und darf nicht verändert werden.")]
    KeyUnreadable { key: PathBuf, why: String },
    #[error("Die Datei «{path}» kann nicht geschrieben werden ({why}); es wurde nichts gebucht.")]
    Io { path: PathBuf, why: String },
    #[error("Die Datei «{path}» kann nicht gelesen werden ({why}); es wurde nichts gebucht.")]
    Unreadable { path: PathBuf, why: String },
    #[error("Die Buchhaltung «{0}» stimmt mit ihrer Ankerdatei überein; es gibt keine wiederhergestellte Sicherung festzuhalten.")]
    NothingToOverride(PathBuf),
    #[error("Der Zahlungslauf per {stichtag} wurde bereits am {booked_at} gebucht. Es wurde nichts gebucht. Eine Korrektur geht nur über «zahlungslauf --storno --stichtag {stichtag} --grund …».")]
    AlreadyBooked { stichtag: String, booked_at: String },
    #[error("Per {later} ist bereits ein späterer Zahlungslauf gebucht; der Zahlungslauf per {stichtag} kann nicht mehr gebucht werden.")]
    LaterBooked { stichtag: String, later: String },
    #[error("Per {0} ist kein Zahlungslauf gebucht, der storniert werden könnte.")]
    NothingToReverse(String),
    #[error("Zuerst muss der spätere Zahlungslauf per {later} storniert werden (Stornos gehen vom neusten Zahlungslauf rückwärts; betroffen: {stichtag}).")]
    NotLatest { stichtag: String, later: String },
    #[error("Eine Stornierung braucht einen Grund (--grund).")]
    NoReason,
    #[error("Die Rechnung «{0}» ist nicht bekannt (siehe «beitraege konto»: Spalte Rechnungs-ID).")]
    UnknownInvoice(String),
    #[error("Die Rechnung «{id}» ist noch mit CHF {open:.2} offen; CHF {amount:.2} wären zu viel.")]
    Overpaid { id: String, open: Chf, amount: Chf },
    #[error("Der Betrag muss grösser als 0 sein.")]
    BadAmount,
    #[error("Die Zahlung von CHF {amount:.2} am {date} auf Rechnung «{id}» ist bereits erfasst.")]
    ReceiptTwice { id: String, date: String, amount: Chf },
    #[error("{what} ist am {date} bereits im Korrespondenzjournal erfasst; es wurde nichts erfasst.")]
    LetterTwice { what: String, date: String },
    #[error("Das Valutadatum {date} liegt vor dem Datum der Rechnung «{id}» ({invoice_date}); eine Zahlung auf diese Rechnung kann nicht früher eingegangen sein.")]
    ValueDateBeforeInvoice { id: String, date: String, invoice_date: String },
    #[error("Das Valutadatum {date} liegt nach heute ({today}); erfasst werden nur eingegangene Zahlungen.")]
    ValueDateInFuture { date: String, today: String },
    #[error("Der Zahlungseingang «{0}» ist nicht bekannt (Buchungs-ID eines Zahlungseingangs, mindestens 8 Zeichen; siehe «beitraege konto», Blatt «Buchungen»).")]
    UnknownReceipt(String),
    #[error("«{0}» passt auf mehrere Zahlungseingänge; bitte die Buchungs-ID länger angeben.")]
    AmbiguousReceipt(String),
    #[error("Der Zahlungseingang «{id}» ist bereits storniert ({at}); es wurde nichts gebucht.")]
    ReceiptAlreadyReversed { id: String, at: String },
    #[error("Auf die Rechnung {invoices} des Zahlungslaufs per {stichtag} sind Zahlungen eingegangen (CHF {received:.2}); der Zahlungslauf wurde nicht storniert. Zuerst die Zahlungseingänge stornieren («beitraege zahlung-erfassen --storno <Buchungs-ID> --grund …»), dann den Zahlungslauf; die Zahlungen danach auf die Rechnung des neu gebuchten Zahlungslaufs erfassen.")]
    RunHasReceipts { stichtag: String, invoices: String, received: Chf },
    #[error("Während dieser Befehl lief, hat ein anderer Befehl in die Buchhaltung gebucht (Stand der Hash-Kette bisher {before}, jetzt {now}). Es wurde nichts gebucht. Bitte den Befehl erneut ausführen: er rechnet dann mit dem neuen Stand.")]
    Moved { before: i64, now: i64 },
    #[error("Die Buchhaltung ist verändert worden: Buchung Nr. {seq} passt nicht zur Hash-Kette. Sie wurde nicht umgestellt und nicht verwendet; bitte die Buchhaltung aus der Sicherung zurückholen.")]
    ChainBroken { seq: i64 },
    #[error("Die Buchhaltung enthält einen ungültigen Wert in Buchung Nr. {seq}: {what}")]
    BadRow { seq: i64, what: String },
    #[error("{what} per {stichtag} wurde von «{person}» gebucht; freigeben muss ihn eine andere Person (Vier-Augen-Prinzip). Es wurde nichts freigegeben.")]
    SamePerson { what: String, stichtag: String, person: String },
    #[error("Per {0} ist nichts freizugeben: kein gebuchter, noch nicht freigegebener Zahlungslauf und kein solcher Storno.")]
    NothingToRelease(String),
    #[error("{what} per {stichtag} ist bereits freigegeben (von «{by}» am {at}). Fehlende Ausgaben schreibt «zahlungslauf --stichtag {stichtag} --ausgaben».")]
    AlreadyReleased { what: String, stichtag: String, by: String, at: String },
    #[error("{what} per {stichtag} (gebucht von «{by}») ist noch nicht freigegeben. Zuerst muss eine andere Person ihn freigeben («zahlungslauf --freigeben --stichtag {stichtag}»){or_storno}; es wurde nichts gebucht.")]
    NotReleased { what: String, stichtag: String, by: String, or_storno: String },
    #[error("Die Person, die bucht oder freigibt, ist nicht bekannt (das Benutzerkonto des Betriebssystems fehlt); es wurde nichts gebucht.")]
    NoPerson,
    #[error("Die Gemeinde {bfs} ist für {jahr} in keiner Stichprobe ausgewählt; es wurde nichts erfasst.")]
    NotSampled { bfs: Bfs, jahr: i32 },
    #[error("Die Stichprobe {jahr} mit Gemeinde {bfs} hat «{person}» gezogen; das Ergebnis der Kontrolle muss eine andere Person erfassen (Vier-Augen-Prinzip). Es wurde nichts erfasst.")]
    SampleSamePerson { bfs: Bfs, jahr: i32, person: String },
    #[error("Das Ergebnis der Stichprobenkontrolle {jahr} der Gemeinde {bfs} ist bereits erfasst (von «{by}» am {at}); es wurde nichts erfasst.")]
    SampleChecked { bfs: Bfs, jahr: i32, by: String, at: String },
    #[error("Das Ergebnis einer Stichprobenkontrolle braucht eine Notiz (--notiz).")]
    SampleNoNote,
}

/// The date of an invoice: a receipt's value date may not be before it. (Today the Stichtag
/// of the run that issued it.)
pub fn invoice_date(inv: &InvoiceState) -> NaiveDate {
    inv.date
}

/// The id of a receipt: the invoice, the value date and the amount (normalised, so that
/// 10, 10.0 and 10.00 are the same receipt); `n` > 1 for the same receipt recorded again
/// after its reversal.
fn receipt_id(invoice: &str, date: NaiveDate, amount: Chf, n: u32) -> String {
    let amount = amount.decimal().normalize().to_string();
    if n <= 1 {
        sha(&["eingang/v1", invoice, &iso(date), &amount])
    } else {
        sha(&["eingang/v1", invoice, &iso(date), &amount, &n.to_string()])
    }
}

/// Refuses (inside the write lock `conn` holds) when the ledger no longer stands where a
/// command planned on it.
///
/// The head is the keyed chain's ([`chain::head`]): every row any write adds moves it.
fn refuse_moved(conn: &Connection, path: &Path, planned_on: Option<&Head>) -> Result<(), LedgerError> {
    let Some(before) = planned_on else { return Ok(()) };
    let now = chain::head(conn).map_err(|source| LedgerError::Db { path: path.to_path_buf(), source })?;
    if now != *before {
        return Err(LedgerError::Moved { before: before.pos, now: now.pos });
    }
    Ok(())
}

/// Net booked amount per component key, and the payee of each key's latest booking.
pub type ComponentSums = (BTreeMap<Key, Chf>, BTreeMap<Key, Bfs>);

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub run_id: String,
    pub seq: i64,
    pub art: RunKind,
    pub stichtag: NaiveDate,
    pub lauf: i64,
    pub booked_at: String,
    pub reason: String,
    pub reverses: Option<String>,
    pub program_version: String,
    /// The account that booked it (four-eyes rule); `None` for rows booked before the rule.
    pub booked_by: Option<String>,
    /// The execution date a payout run proposed when it was booked.
    pub execution_date: Option<NaiveDate>,
}

/// What a run of the ledger is (the column `runs.art`, which the schema limits to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum RunKind {
    /// A payout run per Stichtag.
    Zahlungslauf,
    /// The reversal of a payout run (or of an earlier Storno's run).
    Storno,
    /// A receipt on an invoice, or its reversal.
    Zahlungseingang,
}

impl RunKind {
    /// The text stored in the ledger (and chained): the German name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Zahlungslauf => "Zahlungslauf",
            RunKind::Storno => "Storno",
            RunKind::Zahlungseingang => "Zahlungseingang",
        }
    }

    pub fn parse(s: &str) -> Option<RunKind> {
        [RunKind::Zahlungslauf, RunKind::Storno, RunKind::Zahlungseingang].into_iter().find(|k| k.as_str() == s)
    }

    /// A payout run or its reversal: the runs that move money to the payees and need a release.
    pub fn pays(self) -> bool {
        matches!(self, RunKind::Zahlungslauf | RunKind::Storno)
    }
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::types::ToSql for RunKind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
    }
}

impl rusqlite::types::FromSql for RunKind {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = v.as_str()?;
        RunKind::parse(s).ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("Laufart «{s}»").into()))
    }
}

/// A booking as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub seq: i64,
    pub id: String,
    pub run_id: String,
    pub stichtag: NaiveDate,
    pub art: Art,
    pub payee: Bfs,
    pub bfs: Bfs,
    pub periode: Periode,
    pub leistung: Leistung,
    pub betrag: Chf,
    pub count: Option<u64>,
    pub tariff: String,
    pub evidence: Vec<Evidence>,
    pub due_on: Option<NaiveDate>,
    pub bezug: Option<Bezug>,
    pub text: String,
    pub program_version: String,
    pub booked_at: String,
    pub prev_hash: String,
    pub hash: String,
    /// The IBAN a payment (a positive amount) was made to, as the master data had it.
    pub iban: Option<String>,
}

impl Booking {
    /// The booking as an invoice reads it ([`crate::payout::invoice_docs`]).
    pub fn as_run_booking(&self) -> crate::payout::RunBooking<'_> {
        crate::payout::RunBooking {
            payee: self.payee,
            bfs: self.bfs,
            periode: self.periode,
            art: self.art,
            betrag: self.betrag,
            text: &self.text,
            bezug: self.bezug.as_ref(),
            due_on: self.due_on,
        }
    }
    /// The component key, for bookings of a tariff code.
    pub fn key(&self) -> Option<Key> {
        let component = self.leistung.tariff()?;
        Some(Key { bfs: self.bfs, year: self.periode.year, part: self.periode.part, component })
    }
}

/// What a run is about to book.
#[derive(Debug, Clone)]
pub struct RunHeader {
    pub stichtag: NaiveDate,
    pub booked_at: String,
    pub program_version: String,
    /// Input files of the run (master data, inbox files).
    pub evidence: Vec<Evidence>,
    /// The first year the ledger pays for (stored once, at its first run).
    pub first_year: i32,
    /// Why the run was booked although extraordinary (empty for an ordinary run); stored in
    /// the run's row.
    pub reason: String,
    /// The person booking it: the operating-system account that runs the command (four-eyes
    /// rule: another one releases it). Stored in the run's row.
    pub person: String,
    /// The execution date the run proposes for its payments (shown in its workbook; the
    /// release keeps it unless it lies before the release day).
    pub execution_date: Option<NaiveDate>,
}

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// The person on whose behalf this handle books a Storno or a receipt
    /// ([`Ledger::set_person`]); a payout run names its person in its [`RunHeader`].
    person: Option<String>,
    key: ChainKey,
    /// The database, its key and its anchors; `None` for a ledger in memory.
    files: Option<LedgerFiles>,
    read_only: bool,
    /// Chained in this open (created, or migrated from the unkeyed chain): no anchor file yet.
    chained_now: bool,
}

/// How a ledger is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// For writing; created (with its folder and key) on first use.
    Create,
    /// For writing; it must exist.
    Write,
    /// Read-only (`SQLITE_OPEN_READ_ONLY`); it must exist; nothing is ever written.
    ReadOnly,
}

/// A ledger's chain and anchors as checked ([`Ledger::inspect`]).
#[derive(Debug, Clone)]
pub struct Inspection {
    pub chain: chain::ChainAudit,
    pub anchor_file: anchor::AnchorFile,
    pub anchors: anchor::AnchorCheck,
}

fn runs_in(conn: &Connection, path: &Path) -> Result<Vec<RunRow>, LedgerError> {
    let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
    let mut st = conn
        .prepare(
            "SELECT run_id, seq, art, stichtag, lauf, booked_at, reason, reverses, program_version, gebucht_von, ausfuehrung
             FROM runs ORDER BY seq",
        )
        .map_err(db)?;
    let rows = st
        .query_map([], |r| {
            Ok(RunRow {
                run_id: r.get(0)?,
                seq: r.get(1)?,
                art: r.get(2)?,
                stichtag: parse_iso(&r.get::<_, String>(3)?).unwrap_or(NaiveDate::MIN),
                lauf: r.get(4)?,
                booked_at: r.get(5)?,
                reason: r.get(6)?,
                reverses: r.get(7)?,
                program_version: r.get(8)?,
                booked_by: r.get(9)?,
                execution_date: r.get::<_, Option<String>>(10)?.and_then(|d| parse_iso(&d)),
            })
        })
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

/// Payout runs not reversed.
fn active(runs: Vec<RunRow>) -> Vec<RunRow> {
    let reversed: BTreeSet<String> = runs.iter().filter_map(|r| r.reverses.clone()).collect();
    runs.into_iter().filter(|r| r.art == RunKind::Zahlungslauf && !reversed.contains(&r.run_id)).collect()
}

fn check_bookable_in(conn: &Connection, path: &Path, stichtag: NaiveDate) -> Result<i64, LedgerError> {
    let runs = runs_in(conn, path)?;
    let previous = runs.iter().filter(|r| r.art == RunKind::Zahlungslauf && r.stichtag == stichtag).count() as i64;
    let act = active(runs);
    if let Some(r) = act.iter().find(|r| r.stichtag == stichtag) {
        return Err(LedgerError::AlreadyBooked { stichtag: fmt_date(stichtag), booked_at: r.booked_at.clone() });
    }
    if let Some(r) = act.iter().filter(|r| r.stichtag > stichtag).max_by_key(|r| r.stichtag) {
        return Err(LedgerError::LaterBooked { stichtag: fmt_date(stichtag), later: fmt_date(r.stichtag) });
    }
    Ok(previous + 1)
}

/// The bookings (in order of their number) matching `filter` (an SQL `WHERE …` on the
/// bookings table, or empty), each parsed or with the name of its first invalid value (a
/// value of the wrong type, too: a row edited behind the program's back is named, not an
/// error of the query).
#[allow(clippy::type_complexity)]
pub(crate) fn booking_rows(conn: &Connection, filter: &str) -> rusqlite::Result<Vec<(i64, Result<Booking, String>)>> {
    use rusqlite::types::Value;
    let mut st = conn.prepare(&format!(
        "SELECT seq, id, run_id, stichtag, art, payee, bfs, jahr, periode, leistung, betrag, anzahl, tarif, belege,
                faellig_am, bezug, text, program_version, booked_at, prev_hash, hash, iban
         FROM bookings{filter} ORDER BY seq"
    ))?;
    let raw = st.query_map([], |r| (0..22).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<Value>>>())?;
    let mut out = Vec::new();
    for row in raw {
        let v = row?;
        let seq = match v[0] {
            Value::Integer(n) => n,
            _ => 0,
        };
        let text = |i: usize, what: &'static str| match &v[i] {
            Value::Text(t) => Ok(t.clone()),
            _ => Err(what),
        };
        let opt_text = |i: usize, what: &'static str| match &v[i] {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t.clone())),
            _ => Err(what),
        };
        let int = |i: usize, what: &'static str| match v[i] {
            Value::Integer(n) => Ok(n),
            _ => Err(what),
        };
        let parsed = (|| -> Result<Booking, &'static str> {
            let art = Art::parse(&text(4, "Art")?).ok_or("Art")?;
            let year = i32::try_from(int(7, "Jahr")?).map_err(|_| "Jahr")?;
            let periode = Periode::parse(&text(8, "Periode")?).filter(|p| p.year == year).ok_or("Periode")?;
            let leistung = Leistung::parse(&text(9, "Leistung")?).ok_or("Leistung")?;
            let bezug = Bezug::of(art, leistung, opt_text(15, "Bezug")?).map_err(|_| "Bezug")?;
            Ok(Booking {
                seq,
                id: text(1, "Buchungs-ID")?,
                run_id: text(2, "Lauf-ID")?,
                stichtag: parse_iso(&text(3, "Stichtag")?).ok_or("Stichtag")?,
                art,
                payee: u32::try_from(int(5, "Zahlungsempfänger")?).map_err(|_| "Zahlungsempfänger")?,
                bfs: u32::try_from(int(6, "BFS-Nr.")?).map_err(|_| "BFS-Nr.")?,
                periode,
                leistung,
                betrag: Chf::from_str(&text(10, "Betrag")?)
                    .ok()
                    .filter(|a| a.abs() <= Chf::from_int(MAX_BOOKING_CHF))
                    .ok_or("Betrag")?,
                count: match v[11] {
                    Value::Null => None,
                    Value::Integer(n) => Some(u64::try_from(n).map_err(|_| "Anzahl")?),
                    _ => return Err("Anzahl"),
                },
                tariff: text(12, "Tarif")?,
                evidence: serde_json::from_str(&text(13, "Belege")?).map_err(|_| "Belege")?,
                due_on: opt_text(14, "Fällig am")?.map(|d| parse_iso(&d).ok_or("Fällig am")).transpose()?,
                bezug,
                text: text(16, "Text")?,
                program_version: text(17, "Programmversion")?,
                booked_at: text(18, "Gebucht am")?,
                prev_hash: text(19, "Hash vorher")?,
                hash: text(20, "Hash")?,
                iban: opt_text(21, "IBAN")?,
            })
        })();
        out.push((seq, parsed.map_err(str::to_string)));
    }
    Ok(out)
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_iso(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn sha(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize())
}

/// The deterministic id of a booking: what it pays for, within which run.
pub fn booking_id(stichtag: NaiveDate, lauf: i64, b: &PlannedBooking) -> String {
    sha(&[
        "buchung/v1",
        &iso(stichtag),
        &lauf.to_string(),
        &b.payee.to_string(),
        &b.bfs.to_string(),
        &b.periode.year.to_string(),
        &b.periode.to_string(),
        b.leistung.as_str(),
        b.art.as_str(),
        b.bezug.as_ref().map(Bezug::as_str).unwrap_or(""),
    ])
}

fn run_id(art: &str, stichtag: NaiveDate, lauf: i64) -> String {
    sha(&["lauf/v1", art, &iso(stichtag), &lauf.to_string()])
}

/// The text a booking's hash covers (everything but the hashes themselves).
pub fn canonical(b: &Booking) -> String {
    let ev = serde_json::to_string(&b.evidence).unwrap_or_default();
    [
        b.seq.to_string(),
        b.id.clone(),
        b.run_id.clone(),
        iso(b.stichtag),
        b.art.as_str().to_string(),
        b.payee.to_string(),
        b.bfs.to_string(),
        b.periode.year.to_string(),
        b.periode.to_string(),
        b.leistung.as_str().to_string(),
        b.betrag.to_string(),
        b.count.map(|c| c.to_string()).unwrap_or_default(),
        b.tariff.clone(),
        ev,
        b.due_on.map(iso).unwrap_or_default(),
        b.bezug.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default(),
        b.text.clone(),
        b.program_version.clone(),
        b.booked_at.clone(),
    ]
    .into_iter()
    // The IBAN (schema 2) is covered where there is one; bookings without keep their hash.
    .chain(b.iban.clone())
    .collect::<Vec<_>>()
    .join("\u{1f}")
}

/// The hash of a booking given the previous one.
pub fn chain_hash(prev: &str, b: &Booking) -> String {
    sha(&[prev, &canonical(b)])
}

/// A new ledger is readable and writable by its owner and its group, by nobody else: the
/// two persons of the four-eyes rule (one books, the other releases) both write it, as
/// members of the group of the ledger's folder (SQLite itself creates files 0644, and gives
/// its journal files the database file's permissions). Its key file is readable by the group
/// (0640) and its anchor file group-writable (0660) for the same reason.
fn share_with_group(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A command killed in the middle of its commit can leave a hot rollback journal
/// (`<ledger>-journal`); a read-only connection cannot roll it back and would refuse the
/// ledger. SQLite's own recovery is run first through a short read-write connection: it puts
/// back the last committed state, exactly what any write would do first.
fn recover_interrupted_commit(path: &Path) {
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    let mut magic = [0u8; 8];
    let hot = std::fs::File::open(PathBuf::from(journal))
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|_| magic == [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
    if hot {
        if let Ok(c) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE) {
            let _ = c.busy_timeout(std::time::Duration::from_secs(10));
            let _ = c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
        }
    }
}

/// Starts a write transaction (SQLite's write lock, taken at once); refuses when a row is
/// not in the chain (slipped in behind the program's back: it would be chained with the
/// transaction's own rows).
///
/// Taken on a shared borrow (`Transaction::new_unchecked`): what a command decides on is read
/// through `&self` inside the transaction, under the lock.
fn begin<'c>(conn: &'c Connection, path: &Path, read_only: bool) -> Result<Transaction<'c>, LedgerError> {
    let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
    if read_only {
        return Err(db(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            None,
        )));
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(db)?;
    if let Some(what) = chain::unchained(&tx).map_err(db)? {
        return Err(LedgerError::Tampered { path: path.to_path_buf(), what });
    }
    Ok(tx)
}

/// Chains the rows the transaction inserted under the key, then commits.
fn seal_and_commit(tx: Transaction<'_>, key: &ChainKey, path: &Path) -> Result<(), LedgerError> {
    let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
    chain::seal(&tx, key).map_err(db)?;
    tx.commit().map_err(db)
}

impl Ledger {
    fn db(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        move |source| LedgerError::Db { path: self.path.clone(), source }
    }

    /// Opens the ledger for writing, creating it (and its folder, its key) on first use, and
    /// migrates it; checks its chain and anchors.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        Self::open_files(&LedgerFiles::beside(path), Access::Create)
    }

    /// Opens an existing ledger for writing (no creation); checks its chain and anchors.
    pub fn open_existing(path: &Path) -> Result<Ledger, LedgerError> {
        Self::open_files(&LedgerFiles::beside(path), Access::Write)
    }

    /// Opens an existing ledger read-only (`SQLITE_OPEN_READ_ONLY`): never creates, migrates or
    /// changes anything; an older schema is migrated in a copy in memory. Checks its chain and
    /// anchors.
    pub fn open_read_only(path: &Path) -> Result<Ledger, LedgerError> {
        Self::open_files(&LedgerFiles::beside(path), Access::ReadOnly)
    }

    /// The ledger a preview reads: an existing one read-only ([`Ledger::open_read_only`]); when
    /// there is none (and no anchors say there was one), an empty ledger in memory.
    pub fn open_for_preview(path: &Path) -> Result<Ledger, LedgerError> {
        match Self::open_read_only(path) {
            Err(LedgerError::Missing(_)) => Self::in_memory(),
            other => other,
        }
    }

    /// Opens a ledger whose key and anchors lie where `files` says.
    pub fn open_files(files: &LedgerFiles, access: Access) -> Result<Ledger, LedgerError> {
        let (ledger, _) = Self::open_inner(files, access, true)?;
        Ok(ledger)
    }

    /// A ledger in memory (tests, previews without a database), chained under a key of its
    /// own that lives as long as it does.
    pub fn in_memory() -> Result<Ledger, LedgerError> {
        let path = PathBuf::from(":memory:");
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let mut conn = Connection::open_in_memory().map_err(db)?;
        let key = ChainKey::random()
            .map_err(|e| LedgerError::Io { path: path.clone(), why: crate::catalogue::os_error(&e) })?;
        Self::configure(&conn, &path, false, None)?;
        Self::migrate(&mut conn, &key, &path)?;
        Ok(Ledger { conn, path, key, files: None, read_only: false, chained_now: true, person: None })
    }

    fn configure(
        conn: &Connection,
        path: &Path,
        read_only: bool,
        busy: Option<fn(i32) -> bool>,
    ) -> Result<(), LedgerError> {
        let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
        // A wait for the write lock lasts up to 10 s, or calls `busy` (tests observe the waits).
        match busy {
            Some(b) => conn.busy_handler(Some(b)).map_err(db)?,
            None => conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?,
        }
        if !read_only {
            conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
            conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        }
        Ok(())
    }

    /// Opens, checks the kind of file and the schema, loads (or creates) the key, migrates,
    /// and with `check` refuses a ledger whose chain or anchors do not hold. Returns the
    /// ledger and the version it was migrated from, if it was.
    fn open_inner(files: &LedgerFiles, access: Access, check: bool) -> Result<(Ledger, Option<i64>), LedgerError> {
        Self::open_with(files, access, check, None)
    }

    /// A ledger whose waits for the write lock call `busy` (tests observe them) instead of
    /// waiting up to 10 s.
    #[cfg(test)]
    fn open_observed(path: &Path, busy: fn(i32) -> bool) -> Result<Ledger, LedgerError> {
        Self::open_with(&LedgerFiles::beside(path), Access::Create, true, Some(busy)).map(|(l, _)| l)
    }

    fn open_with(
        files: &LedgerFiles,
        access: Access,
        check: bool,
        busy: Option<fn(i32) -> bool>,
    ) -> Result<(Ledger, Option<i64>), LedgerError> {
        let path = files.ledger.as_path();
        // A ledger that is written lies on a local disk: SQLite's locks do not hold on a share.
        if access != Access::ReadOnly {
            if let Some(kind) = crate::fsio::network_place(path) {
                return Err(LedgerError::NetworkShare { path: path.to_path_buf(), kind });
            }
        }
        let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
        let not_ledger = |why| LedgerError::NotALedger { path: path.to_path_buf(), why };
        let anchored = anchor::anchored_pos(&files.anchors);
        let gone = || LedgerError::Tampered {
            path: path.to_path_buf(),
            what: Tamper::LedgerGone { path: files.anchors.clone(), anchored },
        };
        // What the file is, before SQLite touches it.
        let size = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => Some(m.len()),
            Ok(_) => return Err(not_ledger(NotLedger::NotSqlite)),
            Err(_) => None,
        };
        match size {
            // A ledger that is gone where the anchors remember one is not created anew.
            None if check && anchored > 0 => return Err(gone()),
            None if access != Access::Create => return Err(LedgerError::Missing(path.to_path_buf())),
            Some(0) if access == Access::ReadOnly => return Err(not_ledger(NotLedger::Empty)),
            Some(n) if n > 0 => {
                let mut head = [0u8; 16];
                let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
                if read.is_err() || &head != b"SQLite format 3\0" {
                    return Err(not_ledger(NotLedger::NotSqlite));
                }
            }
            _ => {}
        }
        let read_only = access == Access::ReadOnly;
        if read_only {
            recover_interrupted_commit(path);
        }
        let mut conn = if read_only {
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(db)?
        } else {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                let _ = std::fs::create_dir_all(parent);
            }
            let existed = path.exists();
            let conn = Connection::open(path).map_err(db)?;
            if !existed {
                share_with_group(path);
            }
            conn
        };
        Self::configure(&conn, path, read_only, busy)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
        if version < 0 {
            return Err(LedgerError::UnknownSchema { path: path.to_path_buf(), found: version });
        }
        if version > schema::latest() {
            return Err(LedgerError::NewerSchema { path: path.to_path_buf(), found: version, known: schema::latest() });
        }
        let tables: BTreeSet<String> = {
            let mut st = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").map_err(db)?;
            let names = st.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
            names.collect::<Result<_, _>>().map_err(db)?
        };
        if version == 0 {
            if !tables.is_empty() {
                return Err(not_ledger(NotLedger::Foreign));
            }
            if read_only {
                return Err(not_ledger(NotLedger::Empty));
            }
            // A new ledger where the anchors remember one: the ledger was deleted or emptied.
            if check && anchored > 0 {
                return Err(gone());
            }
        } else {
            let mut needed = vec!["meta", "runs", "bookings"];
            if version >= schema::keyed() {
                needed.push("kette");
            }
            if needed.iter().any(|t| !tables.contains(*t)) {
                return Err(not_ledger(NotLedger::Foreign));
            }
        }
        let keyed = version >= schema::keyed();
        let key_err = |p: KeyProblem| match p {
            KeyProblem::Missing => LedgerError::KeyMissing { key: files.key.clone() },
            KeyProblem::Unreadable(why) => LedgerError::KeyUnreadable { key: files.key.clone(), why },
            KeyProblem::Malformed => LedgerError::KeyUnreadable {
                key: files.key.clone(),
                why: "sie enthält keinen gültigen Schlüssel".into(),
            },
        };
        let key = match chain::read_key(&files.key) {
            Ok(k) => k,
            Err(KeyProblem::Missing) if !keyed => {
                let io = |e: std::io::Error| LedgerError::Io {
                    path: files.key.clone(),
                    why: crate::catalogue::os_error(&e),
                };
                if read_only {
                    ChainKey::random().map_err(io)?
                } else {
                    chain::create_key(&files.key).map_err(io)?
                }
            }
            Err(p) => return Err(key_err(p)),
        };
        // An unkeyed ledger where anchors exist: an older copy from before the keyed chain.
        if version >= 1 && !keyed && check && anchor::line_count(&files.anchors) > 0 {
            return Err(LedgerError::Tampered {
                path: path.to_path_buf(),
                what: Tamper::UnkeyedCopy(files.anchors.clone()),
            });
        }
        let migrated = if read_only && version < schema::latest() {
            // Migrated in a copy in memory: the file stays as it is.
            let mut mem = Connection::open_in_memory().map_err(db)?;
            rusqlite::backup::Backup::new(&conn, &mut mem)
                .and_then(|b| b.run_to_completion(1024, std::time::Duration::ZERO, None))
                .map_err(db)?;
            conn = mem;
            Self::configure(&conn, path, false, None)?;
            Self::migrate(&mut conn, &key, path)?
        } else if read_only {
            None
        } else {
            Self::migrate(&mut conn, &key, path)?
        };
        // Chained in this open (a new ledger, or one migrated from the unkeyed chain): it has
        // no anchors yet.
        let chained_now = migrated.is_some_and(|v| v < schema::keyed());
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            key,
            files: Some(files.clone()),
            read_only,
            chained_now,
            person: None,
        };
        if check {
            let seen = ledger.ensure_sound()?;
            // A head not yet anchored (a new or migrated ledger, or a command killed between
            // its booking and its anchor) is anchored now, before anything else is written.
            if !read_only && seen.anchors.unanchored > 0 {
                let art = match migrated {
                    Some(0) => "Anlage",
                    Some(_) => "Umstellung",
                    None => "Nachgetragen",
                };
                ledger.append_anchor(art, "").map_err(|e| LedgerError::Io {
                    path: files.anchors.clone(),
                    why: crate::catalogue::os_error(&e),
                })?;
            }
        }
        Ok((ledger, migrated))
    }

    /// Runs the migrations the ledger lacks, all in one write transaction that reads the
    /// version inside the lock (two first uses at once: the second finds it done), so that
    /// a ledger is migrated whole or not at all (an unkeyed ledger whose old chain does not
    /// hold stays byte for byte as it was). Returns the version migrated from, if any ran.
    fn migrate(conn: &mut Connection, key: &ChainKey, path: &Path) -> Result<Option<i64>, LedgerError> {
        let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let from: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
        if from >= schema::latest() || from < 0 {
            tx.commit().map_err(db)?;
            return Ok(None);
        }
        for v in from..schema::latest() {
            tx.execute_batch(schema::MIGRATIONS[v as usize]).map_err(db)?;
            if v + 1 == schema::keyed() {
                Self::chain_existing(&tx, key, path)?;
            }
        }
        tx.pragma_update(None, "user_version", schema::latest()).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Some(from))
    }

    /// The migration to the keyed chain: the bookings' public SHA-256 chain must hold (so
    /// nothing forged is chained), then the key's name and the migration are recorded in
    /// `meta` and every row is chained under the key.
    fn chain_existing(tx: &Transaction<'_>, key: &ChainKey, path: &Path) -> Result<(), LedgerError> {
        let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
        let mut prev = GENESIS.to_string();
        let mut n = 0usize;
        for (seq, b) in booking_rows(tx, "").map_err(db)? {
            let b = b.map_err(|what| LedgerError::BadRow { seq, what })?;
            if b.prev_hash != prev || chain_hash(&prev, &b) != b.hash {
                return Err(LedgerError::ChainBroken { seq });
            }
            prev = b.hash.clone();
            n += 1;
        }
        let runs: i64 = tx.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0)).map_err(db)?;
        let record = format!(
            "HMAC-SHA256 seit {}; übernommen: {n} Buchungen, {runs} Läufe; deren SHA-256-Kette war intakt (Kopf {prev}); Programmversion {}",
            chrono::Local::now().format("%d.%m.%Y %H:%M:%S"),
            env!("CARGO_PKG_VERSION")
        );
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![chain::META_KEY_ID, key.id()])
            .map_err(db)?;
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![chain::META_CHAIN_SINCE, record])
            .map_err(db)?;
        chain::seal(tx, key).map_err(db)?;
        Ok(())
    }

    /// The chain and the anchors, checked: every finding collected.
    ///
    /// The anchor file is read before the database, and the database in one read transaction:
    /// a head is anchored only after its commit, so every anchor read first describes a state
    /// the snapshot taken afterwards already holds, whatever another command commits and
    /// anchors meanwhile (read the other way round, a commit in between looks like a
    /// truncated ledger).
    pub fn inspect(&self) -> Result<Inspection, LedgerError> {
        let db = self.db();
        let key_path = self.files.as_ref().map(|f| f.key.clone()).unwrap_or_default();
        let file = match &self.files {
            Some(files) => Some(anchor::read(&files.anchors, &self.key).map_err(|e| LedgerError::Unreadable {
                path: files.anchors.clone(),
                why: crate::catalogue::os_error(&e),
            })?),
            None => None,
        };
        let snapshot = self.snapshot()?;
        let chain = chain::audit(&self.conn, &self.key, &key_path).map_err(&db)?;
        if let Some(tx) = snapshot {
            tx.finish().map_err(&db)?;
        }
        let (file, anchors) = match (&self.files, file) {
            (Some(files), Some(file)) => {
                let booked = chain.count("runs") > 0 && !self.chained_now;
                let check = anchor::check(&file, &files.anchors, &chain.entries, booked);
                (file, check)
            }
            _ => (anchor::AnchorFile::default(), anchor::AnchorCheck::default()),
        };
        Ok(Inspection { chain, anchor_file: file, anchors })
    }

    /// A read transaction, so that several reads see one moment; `None` inside a transaction
    /// that is already open (it sees one moment already).
    fn snapshot(&self) -> Result<Option<Transaction<'_>>, LedgerError> {
        if self.conn.is_autocommit() {
            Ok(Some(self.conn.unchecked_transaction().map_err(self.db())?))
        } else {
            Ok(None)
        }
    }

    /// The chain and the anchors, checked; the first finding refuses the ledger.
    fn ensure_sound(&self) -> Result<Inspection, LedgerError> {
        let seen = self.inspect()?;
        let anchors = if self.files.is_some() { seen.anchors.findings.first() } else { None };
        if let Some(what) = seen.chain.findings.first().or(anchors) {
            return Err(LedgerError::Tampered { path: self.path.clone(), what: what.clone() });
        }
        Ok(seen)
    }

    /// Appends the chain's current head to the anchor file.
    fn append_anchor(&self, art: &str, note: &str) -> std::io::Result<()> {
        let Some(files) = &self.files else { return Ok(()) };
        let other = |e: rusqlite::Error| std::io::Error::other(e.to_string());
        let head = chain::head(&self.conn).map_err(other)?;
        let count = |t: &str| -> std::io::Result<usize> {
            self.conn
                .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(other)
        };
        anchor::append(&files.anchors, &self.key, art, &head, count("bookings")?, count("runs")?, note)?;
        Ok(())
    }

    /// After a write has committed: its head into the anchor file. Should that fail (a full
    /// disk), the booking stands and the next command that writes anchors it
    /// (`Nachgetragen`) before it writes anything else.
    fn anchor_after_commit(&self, art: &str) {
        if let Err(e) = self.append_anchor(art, "") {
            tracing::warn!("Ankerdatei nicht nachgeführt: {}", crate::catalogue::os_error(&e));
        }
    }

    /// The chain's head.
    pub fn head(&self) -> Result<Head, LedgerError> {
        chain::head(&self.conn).map_err(self.db())
    }

    /// The files of the ledger (`None` in memory).
    pub fn files(&self) -> Option<&LedgerFiles> {
        self.files.as_ref()
    }

    /// The journal export of every booking, with the chain's head as its last line
    /// ([`journal::export`]).
    pub fn journal(&self) -> Result<String, LedgerError> {
        // One read transaction: the bookings and the head of one moment.
        let snapshot = self.conn.unchecked_transaction().map_err(self.db())?;
        let all = self.verify()?;
        let head = self.head()?;
        snapshot.finish().map_err(self.db())?;
        Ok(journal::export(&all, Some(&head)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64, LedgerError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(self.db())
    }

    /// The first year the ledger pays for, if it has booked a run.
    pub fn first_year(&self) -> Result<Option<i32>, LedgerError> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'erstes_jahr'", [], |r| r.get(0))
            .optional()
            .map_err(self.db())?;
        Ok(v.and_then(|s| s.parse().ok()))
    }

    pub fn runs(&self) -> Result<Vec<RunRow>, LedgerError> {
        runs_in(&self.conn, &self.path)
    }

    /// Payout runs that are booked and not reversed.
    pub fn active_runs(&self) -> Result<Vec<RunRow>, LedgerError> {
        Ok(active(runs_in(&self.conn, &self.path)?))
    }

    /// Every booking in order.
    pub fn bookings(&self) -> Result<Vec<Booking>, LedgerError> {
        booking_rows(&self.conn, "")
            .map_err(self.db())?
            .into_iter()
            .map(|(seq, b)| b.map_err(|what| LedgerError::BadRow { seq, what }))
            .collect()
    }

    /// Checks the ledger (its keyed chain over every row, and its anchors) and returns every
    /// booking in order; the first finding refuses it ([`LedgerError::Tampered`]).
    pub fn verify(&self) -> Result<Vec<Booking>, LedgerError> {
        // One read transaction for the check and the bookings. A deferred transaction takes
        // its snapshot at its first read, which comes after the check has read the anchor
        // file ([`Ledger::inspect`]).
        let snapshot = self.snapshot()?;
        self.ensure_sound()?;
        let all = self.bookings()?;
        if let Some(tx) = snapshot {
            tx.finish().map_err(self.db())?;
        }
        Ok(all)
    }

    /// Net booked amount per component key, and the payee of each key's latest booking.
    pub fn component_sums(&self) -> Result<ComponentSums, LedgerError> {
        let mut sums = BTreeMap::new();
        let mut payees = BTreeMap::new();
        for b in self.bookings()? {
            if let Some(k) = b.key() {
                add_to(sums.entry(k).or_insert(Chf::ZERO), b.betrag, b.seq)?;
                payees.insert(k, b.payee);
            }
        }
        Ok((sums, payees))
    }

    /// The IBAN each payee was last paid to (payments only).
    pub fn last_ibans(&self) -> Result<BTreeMap<Bfs, String>, LedgerError> {
        let mut out = BTreeMap::new();
        for b in self.bookings()?.into_iter().filter(|b| b.art == Art::Auszahlung) {
            if let Some(iban) = b.iban {
                out.insert(b.payee, iban);
            }
        }
        Ok(out)
    }

    /// References of clawbacks that are booked (and not reversed).
    pub fn settled_clawbacks(&self) -> Result<BTreeSet<String>, LedgerError> {
        let mut sums: BTreeMap<String, Chf> = BTreeMap::new();
        for b in self.bookings()? {
            if let Some(r) = Bezug::rueckforderung(b.bezug.as_ref()) {
                add_to(sums.entry(r.to_string()).or_insert(Chf::ZERO), b.betrag, b.seq)?;
            }
        }
        Ok(sums.into_iter().filter(|(_, s)| !s.is_zero()).map(|(r, _)| r).collect())
    }

    /// Invoices with their receipts.
    pub fn invoices(&self) -> Result<Vec<InvoiceState>, LedgerError> {
        let all = self.bookings()?;
        let reversed: BTreeSet<&str> = all.iter().filter_map(|b| Bezug::storniert(b.bezug.as_ref())).collect();
        let mut out: Vec<InvoiceState> = all
            .iter()
            .filter(|b| b.art == Art::Rechnung)
            .map(|b| InvoiceState {
                // Invoices booked before numbers were given are known by their booking id.
                id: b.bezug.as_ref().map(|r| r.as_str().to_string()).unwrap_or_else(|| b.id[..16].to_string()),
                payee: b.payee,
                stichtag: b.stichtag,
                date: b.due_on.map(crate::payout::invoice_date_of_due).unwrap_or(b.stichtag),
                amount: -b.betrag,
                due_on: b.due_on.unwrap_or(b.stichtag),
                received: Chf::ZERO,
                reversed: reversed.contains(b.id.as_str()),
            })
            .collect();
        for b in all.iter().filter(|b| b.art == Art::Zahlungseingang && !reversed.contains(b.id.as_str())) {
            let Some(Bezug::Rechnung(number)) = &b.bezug else { continue };
            if let Some(inv) = out.iter_mut().find(|i| i.id == *number) {
                add_to(&mut inv.received, b.betrag, b.seq)?;
            }
        }
        Ok(out)
    }

    /// The invoice a person names: by its number (`2023-0007`), or by the QR-bill's creditor
    /// reference (`RF.. 2023 0007`), with or without spaces, in any case.
    pub fn find_invoice(&self, query: &str) -> Result<InvoiceState, LedgerError> {
        let q: String = query.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        self.invoices()?
            .into_iter()
            .find(|i| i.id.to_uppercase() == q || payments::reference::rf_reference(&i.id).is_ok_and(|rf| rf == q))
            .ok_or_else(|| LedgerError::UnknownInvoice(query.trim().to_string()))
    }

    fn next_seq(tx: &rusqlite::Transaction<'_>, table: &str) -> rusqlite::Result<i64> {
        tx.query_row(&format!("SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}"), [], |r| r.get(0))
    }

    fn last_hash(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<String> {
        Ok(tx
            .query_row("SELECT hash FROM bookings ORDER BY seq DESC LIMIT 1", [], |r| r.get::<_, String>(0))
            .optional()?
            .unwrap_or_else(|| GENESIS.to_string()))
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_run(
        tx: &rusqlite::Transaction<'_>,
        run_id: &str,
        art: RunKind,
        stichtag: NaiveDate,
        lauf: i64,
        booked_at: &str,
        reason: &str,
        reverses: Option<&str>,
        version: &str,
        evidence: &[Evidence],
        person: Option<&str>,
        execution: Option<NaiveDate>,
    ) -> rusqlite::Result<()> {
        let seq = Self::next_seq(tx, "runs")?;
        tx.execute(
            "INSERT INTO runs (run_id, seq, art, stichtag, lauf, booked_at, reason, reverses, program_version, evidence,
                               gebucht_von, ausfuehrung)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                run_id,
                seq,
                art,
                iso(stichtag),
                lauf,
                booked_at,
                reason,
                reverses,
                version,
                serde_json::to_string(evidence).unwrap_or_else(|_| "[]".into()),
                person,
                execution.map(iso),
            ],
        )?;
        Ok(())
    }

    /// Inserts bookings with their public chain hashes (the keyed chain is added by
    /// [`seal_and_commit`]). With the feature `test-hooks`, sleeps halfway when
    /// [`PAUSE_ENV`] asks.
    fn insert_bookings(tx: &rusqlite::Transaction<'_>, rows: &mut [Booking]) -> rusqlite::Result<()> {
        let mut prev = Self::last_hash(tx)?;
        let first = Self::next_seq(tx, "bookings")?;
        #[cfg(feature = "test-hooks")]
        let pause = std::env::var(PAUSE_ENV).ok();
        #[cfg(feature = "test-hooks")]
        let half = rows.len() / 2;
        #[cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]
        for (seq, (i, b)) in (first..).zip(rows.iter_mut().enumerate()) {
            #[cfg(feature = "test-hooks")]
            if i == half && pause.is_some() {
                // Says so, then holds until the test closes standard input or kills it.
                eprintln!("BUCHUNG-PAUSE");
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
            }
            b.seq = seq;
            b.prev_hash = prev.clone();
            b.hash = chain_hash(&prev, b);
            tx.execute(
                "INSERT INTO bookings (seq, id, run_id, stichtag, art, payee, bfs, jahr, periode, leistung, betrag, anzahl,
                     tarif, belege, faellig_am, bezug, text, program_version, booked_at, prev_hash, hash, iban)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
                params![
                    b.seq,
                    b.id,
                    b.run_id,
                    iso(b.stichtag),
                    b.art.as_str(),
                    b.payee,
                    b.bfs,
                    b.periode.year,
                    b.periode.to_string(),
                    b.leistung.as_str(),
                    b.betrag.to_string(),
                    b.count.map(|c| c as i64),
                    b.tariff,
                    serde_json::to_string(&b.evidence).unwrap_or_else(|_| "[]".into()),
                    b.due_on.map(iso),
                    b.bezug.as_ref().map(Bezug::as_str),
                    b.text,
                    b.program_version,
                    b.booked_at,
                    b.prev_hash,
                    b.hash,
                    b.iban,
                ],
            )?;
            prev = b.hash.clone();
        }
        Ok(())
    }

    /// Checks that a run per `stichtag` may be booked now; returns its run number.
    pub fn check_bookable(&self, stichtag: NaiveDate) -> Result<i64, LedgerError> {
        check_bookable_in(&self.conn, &self.path, stichtag)
    }

    /// Books a whole run in one transaction. Returns the stored bookings.
    pub fn book_run(&mut self, header: &RunHeader, planned: &[PlannedBooking]) -> Result<Vec<Booking>, LedgerError> {
        self.book_run_paying(header, planned, &BTreeMap::new())
    }

    /// Books a whole run in one transaction, recording with each payment the IBAN it is paid
    /// to (`ibans`: the payees' accounts of the master data). Returns the stored bookings.
    pub fn book_run_paying(
        &mut self,
        header: &RunHeader,
        planned: &[PlannedBooking],
        ibans: &BTreeMap<Bfs, String>,
    ) -> Result<Vec<Booking>, LedgerError> {
        self.book_planned(header, planned, ibans, None)
    }

    /// Books a run planned on the ledger as it stood at `planned_on`: inside the write lock the
    /// head is read again, and if another command booked meanwhile nothing is booked
    /// ([`LedgerError::Moved`]). So two runs planned at once never both book.
    pub fn book_planned(
        &mut self,
        header: &RunHeader,
        planned: &[PlannedBooking],
        ibans: &BTreeMap<Bfs, String>,
        planned_on: Option<&Head>,
    ) -> Result<Vec<Booking>, LedgerError> {
        let path = self.path.clone();
        // Checked inside the write lock: two processes cannot both pass.
        let tx = begin(&self.conn, &path, self.read_only)?;
        refuse_moved(&tx, &path, planned_on)?;
        let rows = Self::book_in(&tx, &path, header, planned, ibans)?;
        seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Zahlungslauf");
        Ok(rows)
    }

    /// Books a run inside the open write transaction `tx` (checked bookable there): the run's
    /// row, the first year, invoice numbers, the bookings. Returns the stored bookings.
    fn book_in(
        tx: &rusqlite::Transaction<'_>,
        path: &Path,
        header: &RunHeader,
        planned: &[PlannedBooking],
        ibans: &BTreeMap<Bfs, String>,
    ) -> Result<Vec<Booking>, LedgerError> {
        let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
        let lauf = check_bookable_in(tx, path, header.stichtag)?;
        let rid = run_id("Zahlungslauf", header.stichtag, lauf);
        Self::insert_run(
            tx,
            &rid,
            RunKind::Zahlungslauf,
            header.stichtag,
            lauf,
            &header.booked_at,
            &header.reason,
            None,
            &header.program_version,
            &header.evidence,
            Some(&header.person),
            header.execution_date,
        )
        .map_err(db)?;
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('erstes_jahr', ?1)",
            params![header.first_year.to_string()],
        )
        .map_err(db)?;
        // Invoice numbers, given inside the write lock: `<year of the invoice>-<nnnn>`,
        // counting on from the ledger's invoices of that year.
        let mut planned = planned.to_vec();
        let mut next_number: BTreeMap<i32, i64> = BTreeMap::new();
        for p in planned.iter_mut().filter(|p| p.art == Art::Rechnung && p.bezug.is_none()) {
            let year = p.due_on.map(crate::payout::invoice_date_of_due).unwrap_or(header.stichtag).year();
            let n = match next_number.get(&year) {
                Some(n) => *n,
                None => {
                    let prefix = format!("{year}-");
                    let mut st = tx.prepare("SELECT bezug FROM bookings WHERE art = 'Rechnung'").map_err(db)?;
                    let used: Vec<Option<String>> =
                        st.query_map([], |r| r.get(0)).map_err(db)?.collect::<Result<_, _>>().map_err(db)?;
                    used.iter()
                        .flatten()
                        .filter_map(|b| b.strip_prefix(&prefix).and_then(|n| n.parse::<i64>().ok()))
                        .max()
                        .unwrap_or(0)
                        + 1
                }
            };
            next_number.insert(year, n + 1);
            p.bezug = Some(Bezug::Rechnungsnummer(format!("{year}-{n:04}")));
        }
        let mut rows: Vec<Booking> = planned
            .iter()
            .map(|p| Booking {
                seq: 0,
                id: booking_id(header.stichtag, lauf, p),
                run_id: rid.clone(),
                stichtag: header.stichtag,
                art: p.art,
                payee: p.payee,
                bfs: p.bfs,
                periode: p.periode,
                leistung: p.leistung,
                betrag: p.betrag,
                count: p.count,
                tariff: p.tariff.clone(),
                evidence: p.evidence.clone(),
                due_on: p.due_on,
                bezug: p.bezug.clone(),
                text: p.text.clone(),
                program_version: header.program_version.clone(),
                booked_at: header.booked_at.clone(),
                prev_hash: String::new(),
                hash: String::new(),
                iban: (p.betrag > Chf::ZERO).then(|| ibans.get(&p.payee).cloned()).flatten(),
            })
            .collect();
        Self::insert_bookings(tx, &mut rows).map_err(db)?;
        Ok(rows)
    }

    /// Books the exact reversal of the latest payout run per `stichtag`, with a reason.
    pub fn storno(
        &mut self,
        stichtag: NaiveDate,
        reason: &str,
        booked_at: &str,
        version: &str,
    ) -> Result<(RunRow, Vec<Booking>), LedgerError> {
        if reason.trim().is_empty() {
            return Err(LedgerError::NoReason);
        }
        // What this command decides on is read inside the write lock: a second command at
        // once waits for it and then sees its booking.
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = begin(&self.conn, &path, self.read_only)?;
        let active = self.active_runs()?;
        let Some(target) = active.iter().find(|r| r.stichtag == stichtag).cloned() else {
            return Err(LedgerError::NothingToReverse(fmt_date(stichtag)));
        };
        if let Some(later) = active.iter().filter(|r| r.stichtag > stichtag).max_by_key(|r| r.stichtag) {
            return Err(LedgerError::NotLatest { stichtag: fmt_date(stichtag), later: fmt_date(later.stichtag) });
        }
        // Money received on the run's invoices would stay on a reversed invoice: the receipts
        // are reversed first (and recorded again on the rebooked run's invoice).
        let paid: Vec<InvoiceState> = self
            .invoices()?
            .into_iter()
            .filter(|i| i.stichtag == stichtag && !i.reversed && !i.received.is_zero())
            .collect();
        if !paid.is_empty() {
            return Err(LedgerError::RunHasReceipts {
                stichtag: fmt_date(stichtag),
                invoices: paid.iter().map(|i| format!("«{}»", i.id)).collect::<Vec<_>>().join(", "),
                received: crate::payout::checked_sum(paid.iter().map(|i| i.received)).unwrap_or(Chf::new(Decimal::MAX)),
            });
        }
        let originals: Vec<Booking> = self.bookings()?.into_iter().filter(|b| b.run_id == target.run_id).collect();
        // A Storno waits for the release of the one before it (four-eyes rule).
        freigabe::refuse_pending(&tx, &path, freigabe::Blocks::Storno)?;
        let rid = run_id("Storno", stichtag, target.lauf);
        Self::insert_run(
            &tx,
            &rid,
            RunKind::Storno,
            stichtag,
            target.lauf,
            booked_at,
            reason,
            Some(&target.run_id),
            version,
            &[],
            self.person.as_deref(),
            None,
        )
        .map_err(db)?;
        let mut rows: Vec<Booking> = originals
            .iter()
            .map(|o| Booking {
                seq: 0,
                id: sha(&["storno/v1", &o.id]),
                run_id: rid.clone(),
                art: Art::Storno,
                betrag: -o.betrag,
                // A reversed clawback must count as open again: its reversal carries the
                // clawback's reference (the original is the run's clawback of that reference).
                bezug: Some(match &o.bezug {
                    Some(Bezug::Rueckforderung(r)) => Bezug::Rueckforderung(r.clone()),
                    _ => Bezug::Storniert(o.id.clone()),
                }),
                text: format!("Storno von {}: {}", o.art.as_str(), reason.trim()),
                program_version: version.to_string(),
                booked_at: booked_at.to_string(),
                due_on: None,
                ..o.clone()
            })
            .collect();
        Self::insert_bookings(&tx, &mut rows).map_err(db)?;
        seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Storno");
        let run = self
            .runs()?
            .into_iter()
            .find(|r| r.run_id == rid)
            .ok_or(LedgerError::NothingToReverse(fmt_date(stichtag)))?;
        Ok((run, rows))
    }

    /// Records money received on an invoice. The value date `date` lies between the
    /// invoice's date ([`invoice_date`]) and `today`; the same receipt (invoice, value date,
    /// amount, whatever its notation) is refused a second time, as is more than is open.
    pub fn record_receipt(
        &mut self,
        invoice_id: &str,
        date: NaiveDate,
        amount: Chf,
        today: NaiveDate,
        booked_at: &str,
        version: &str,
    ) -> Result<Booking, LedgerError> {
        if amount <= Chf::ZERO {
            return Err(LedgerError::BadAmount);
        }
        // What this command decides on is read inside the write lock: a second command at
        // once waits for it and then sees its booking.
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = begin(&self.conn, &path, self.read_only)?;
        let inv = self.find_invoice(invoice_id)?;
        if date < invoice_date(&inv) {
            return Err(LedgerError::ValueDateBeforeInvoice {
                id: inv.id.clone(),
                date: fmt_date(date),
                invoice_date: fmt_date(invoice_date(&inv)),
            });
        }
        if date > today {
            return Err(LedgerError::ValueDateInFuture { date: fmt_date(date), today: fmt_date(today) });
        }
        // The same receipt again is refused, before the open amount is looked at; one that was
        // reversed may be recorded anew (under the next free id).
        let all = self.bookings()?;
        let reversed: BTreeSet<&str> = all.iter().filter_map(|b| Bezug::storniert(b.bezug.as_ref())).collect();
        let ids: BTreeSet<&str> = all.iter().map(|b| b.id.as_str()).collect();
        let mut n = 1;
        let id = loop {
            let id = receipt_id(&inv.id, date, amount, n);
            if !ids.contains(id.as_str()) {
                break id;
            }
            if !reversed.contains(id.as_str()) {
                return Err(LedgerError::ReceiptTwice { id: inv.id, date: fmt_date(date), amount });
            }
            n += 1;
        };
        let open = inv.open();
        if amount > open {
            return Err(LedgerError::Overpaid { id: inv.id.clone(), open, amount });
        }
        let n: i64 =
            tx.query_row("SELECT COUNT(*) FROM runs WHERE art = 'Zahlungseingang'", [], |r| r.get(0)).map_err(db)?;
        let rid = sha(&["eingang-lauf/v1", &id]);
        let person = self.person.clone();
        Self::insert_run(
            &tx,
            &rid,
            RunKind::Zahlungseingang,
            date,
            n + 1,
            booked_at,
            "",
            None,
            version,
            &[],
            person.as_deref(),
            None,
        )
        .map_err(db)?;
        let mut rows = vec![Booking {
            seq: 0,
            id,
            run_id: rid,
            stichtag: date,
            art: Art::Zahlungseingang,
            payee: inv.payee,
            bfs: inv.payee,
            periode: Periode::year(chrono::Datelike::year(&date)),
            leistung: Leistung::Rechnung,
            betrag: amount,
            count: None,
            tariff: String::new(),
            evidence: Vec::new(),
            due_on: None,
            bezug: Some(Bezug::Rechnung(inv.id.clone())),
            text: format!("Zahlungseingang auf Rechnung {}", inv.id),
            program_version: version.to_string(),
            booked_at: booked_at.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
            iban: None,
        }];
        Self::insert_bookings(&tx, &mut rows).map_err(db)?;
        seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Zahlungseingang");
        Ok(rows.remove(0))
    }

    /// The receipt a booking id (or its first 8 or more characters) names.
    pub fn receipt(&self, id: &str) -> Result<Booking, LedgerError> {
        let key = id.trim().to_ascii_lowercase();
        if key.len() < 8 {
            return Err(LedgerError::UnknownReceipt(id.trim().to_string()));
        }
        let mut found: Vec<Booking> =
            self.bookings()?.into_iter().filter(|b| b.art == Art::Zahlungseingang && b.id.starts_with(&key)).collect();
        match found.len() {
            0 => Err(LedgerError::UnknownReceipt(id.trim().to_string())),
            1 => Ok(found.remove(0)),
            _ => Err(LedgerError::AmbiguousReceipt(id.trim().to_string())),
        }
    }

    /// Books the reversal of a receipt (a wrongly recorded payment), with a reason: a
    /// `Storno` booking referring to it, in a run of its own that reverses the receipt's run.
    /// The receipt then no longer counts on its invoice; a receipt is reversed once.
    pub fn reverse_receipt(
        &mut self,
        receipt_id: &str,
        reason: &str,
        booked_at: &str,
        version: &str,
    ) -> Result<Booking, LedgerError> {
        if reason.trim().is_empty() {
            return Err(LedgerError::NoReason);
        }
        // What this command decides on is read inside the write lock: a second command at
        // once waits for it and then sees its booking.
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = begin(&self.conn, &path, self.read_only)?;
        let original = self.receipt(receipt_id)?;
        let reversal =
            self.bookings()?.into_iter().find(|b| Bezug::storniert(b.bezug.as_ref()) == Some(original.id.as_str()));
        if let Some(done) = reversal {
            let short = original.id.get(..16).unwrap_or(&original.id).to_string();
            return Err(LedgerError::ReceiptAlreadyReversed { id: short, at: done.booked_at });
        }
        let n: i64 =
            tx.query_row("SELECT COUNT(*) FROM runs WHERE art = 'Zahlungseingang'", [], |r| r.get(0)).map_err(db)?;
        let rid = sha(&["eingang-storno/v1", &original.id]);
        Self::insert_run(
            &tx,
            &rid,
            RunKind::Zahlungseingang,
            original.stichtag,
            n + 1,
            booked_at,
            reason.trim(),
            Some(&original.run_id),
            version,
            &[],
            self.person.as_deref(),
            None,
        )
        .map_err(db)?;
        let invoice = original.bezug.as_ref().map(Bezug::as_str).unwrap_or_default().to_string();
        let mut rows = vec![Booking {
            seq: 0,
            id: sha(&["storno/v1", &original.id]),
            run_id: rid,
            art: Art::Storno,
            betrag: -original.betrag,
            bezug: Some(Bezug::Storniert(original.id.clone())),
            text: format!("Storno des Zahlungseingangs auf Rechnung {invoice}: {}", reason.trim()),
            program_version: version.to_string(),
            booked_at: booked_at.to_string(),
            due_on: None,
            ..original.clone()
        }];
        Self::insert_bookings(&tx, &mut rows).map_err(db)?;
        seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Storno Zahlungseingang");
        Ok(rows.remove(0))
    }

    /// The person on whose behalf this handle books Stornos and receipts (the
    /// operating-system account running the command; four-eyes rule).
    pub fn set_person(&mut self, person: &str) {
        self.person = Some(person.to_string());
    }

    /// Raw access for tests that try to tamper with the ledger.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ymd;

    /// A planned payment of `amount` to `bfs` (also for the release's tests).
    pub(super) fn pb(bfs: Bfs, amount: i64) -> PlannedBooking {
        PlannedBooking {
            payee: bfs,
            bfs,
            periode: Periode::parse("2023/H1").unwrap(),
            leistung: Leistung::parse("FALL_EG").unwrap(),
            art: Art::Auszahlung,
            betrag: Chf::from_int(amount),
            count: Some(1),
            tariff: "FALL_EG 200".into(),
            evidence: vec![Evidence { datei: "a.xlsx".into(), sha256: "00".into() }],
            bezug: None,
            due_on: None,
            text: String::new(),
        }
    }

    fn header(d: NaiveDate) -> RunHeader {
        RunHeader {
            stichtag: d,
            booked_at: "01.01.2024 10:00".into(),
            program_version: "t".into(),
            evidence: vec![],
            first_year: 2023,
            reason: String::new(),
            person: "t".into(),
            execution_date: None,
        }
    }

    #[test]
    fn append_only_unique_and_chained() {
        let mut l = Ledger::in_memory().unwrap();
        let d = ymd(2023, 9, 30);
        l.book_run(&header(d), &[pb(1, 200), pb(2, 400)]).unwrap();
        assert!(matches!(l.book_run(&header(d), &[pb(1, 200)]), Err(LedgerError::AlreadyBooked { .. })));
        assert!(matches!(l.book_run(&header(ymd(2023, 3, 31)), &[]), Err(LedgerError::LaterBooked { .. })));
        // The database itself refuses changes.
        assert!(l.connection().execute("UPDATE bookings SET betrag = '1'", []).is_err());
        assert!(l.connection().execute("DELETE FROM bookings", []).is_err());
        assert!(l.connection().execute("DELETE FROM runs", []).is_err());
        assert_eq!(l.verify().unwrap().len(), 2);
        let (sums, _) = l.component_sums().unwrap();
        assert_eq!(Chf::checked_sum(sums.values().copied()), Some(Chf::from_int(600)));
        // Storno: exact reversal; then the Stichtag can be booked again (run 2).
        assert!(matches!(l.storno(d, " ", "x", "t"), Err(LedgerError::NoReason)));
        let (_, rev) = l.storno(d, "falsche Zahlen", "x", "t").unwrap();
        assert_eq!(Chf::checked_sum(rev.iter().map(|b| b.betrag)), Some(Chf::from_int(-600)));
        assert!(l.component_sums().unwrap().0.values().all(|v| v.is_zero()));
        assert!(matches!(l.storno(d, "nochmals", "x", "t"), Err(LedgerError::NothingToReverse(_))));
        l.book_run(&header(d), &[pb(1, 200)]).unwrap();
        assert_eq!(l.verify().unwrap().len(), 5);
        assert_eq!(l.runs().unwrap().len(), 3);
    }

    /// A ledger of schema 1 (before the IBAN) is migrated to 2 on opening; its bookings keep
    /// their hashes (no IBAN, nothing added to what they cover), and new payments carry one.
    #[test]
    fn a_schema_1_ledger_is_migrated_and_its_chain_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v1.sqlite");
        {
            let mut conn = Connection::open(&p).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            // Insert as schema 1 did: no iban column yet.
            let tx = conn.transaction().unwrap();
            tx.execute(
                "INSERT INTO runs (run_id, seq, art, stichtag, lauf, booked_at, program_version)
                 VALUES ('r1', 1, 'Zahlungslauf', '2023-03-31', 1, 'x', 't')",
                [],
            )
            .unwrap();
            let mut b = Booking {
                seq: 1,
                id: "b1".into(),
                run_id: "r1".into(),
                stichtag: ymd(2023, 3, 31),
                art: Art::Auszahlung,
                payee: 1,
                bfs: 1,
                periode: Periode::parse("2023").unwrap(),
                leistung: Leistung::parse("SOCKEL").unwrap(),
                betrag: Chf::from_int(70),
                count: Some(10),
                tariff: String::new(),
                evidence: vec![],
                due_on: None,
                bezug: None,
                text: String::new(),
                program_version: "t".into(),
                booked_at: "x".into(),
                prev_hash: GENESIS.into(),
                hash: String::new(),
                iban: None,
            };
            b.hash = chain_hash(GENESIS, &b);
            tx.execute(
                "INSERT INTO bookings (seq, id, run_id, stichtag, art, payee, bfs, jahr, periode, leistung, betrag,
                     anzahl, program_version, booked_at, prev_hash, hash)
                 VALUES (1, 'b1', 'r1', '2023-03-31', 'Auszahlung', 1, 1, 2023, '2023', 'SOCKEL', '70', 10, 't', 'x', ?1, ?2)",
                params![GENESIS, b.hash],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        // Opening migrates to the latest schema; the old booking verifies (its run counts as
        // booked before the four-eyes rule), a new payment records its IBAN.
        let mut l = Ledger::open_existing(&p).unwrap();
        assert_eq!(l.schema_version().unwrap(), schema::latest());
        assert_eq!(l.verify().unwrap().len(), 1);
        let ibans = BTreeMap::from([(1, "CH9300762011623852957".to_string())]);
        l.book_run_paying(&header(ymd(2023, 9, 30)), &[pb(1, 200)], &ibans).unwrap();
        let all = l.verify().unwrap();
        assert_eq!((all[0].iban.as_deref(), all[1].iban.as_deref()), (None, Some("CH9300762011623852957")));
        assert_eq!(l.last_ibans().unwrap(), ibans);
    }

    #[test]
    fn schema_version_is_kept_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("b.sqlite");
        {
            let mut l = Ledger::open(&p).unwrap();
            assert_eq!(l.schema_version().unwrap(), schema::latest());
            l.book_run(&header(ymd(2023, 3, 31)), &[pb(1, 200)]).unwrap();
        }
        // Reopening migrates nothing and keeps the bookings.
        let l = Ledger::open_existing(&p).unwrap();
        assert_eq!((l.schema_version().unwrap(), l.bookings().unwrap().len()), (schema::latest(), 1));
        assert_eq!(l.first_year().unwrap(), Some(2023));
        l.connection().pragma_update(None, "user_version", 99).unwrap();
        drop(l);
        assert!(matches!(Ledger::open(&p), Err(LedgerError::NewerSchema { found: 99, .. })));
        assert!(matches!(Ledger::open_existing(&dir.path().join("nichts.sqlite")), Err(LedgerError::Missing(_))));
    }

    #[test]
    fn a_row_changed_behind_the_triggers_breaks_the_chain() {
        let mut l = Ledger::in_memory().unwrap();
        l.book_run(&header(ymd(2023, 9, 30)), &[pb(1, 200), pb(2, 400)]).unwrap();
        let c = l.connection();
        c.execute_batch("DROP TRIGGER bookings_no_update; UPDATE bookings SET betrag = '2000' WHERE seq = 1;").unwrap();
        // Chain positions: 1, 2 the ledger's creation (meta), 3 the first year, 4 the run,
        // 5 and 6 the bookings.
        assert!(matches!(l.verify(), Err(LedgerError::Tampered { what: Tamper::Forged { pos: 5, .. }, .. })));
    }

    /// A receipt's id is what earlier versions stored, so that the same payment recorded
    /// again is recognised: SHA-256 over `eingang/v1`, the invoice, the value date and the
    /// normalised amount, each followed by a zero byte; the number only from the second
    /// recording on (after a reversal). Literals from `printf 'eingang/v1\0…' | sha256sum`.
    #[test]
    fn a_receipts_id_is_the_hash_of_invoice_value_date_and_amount() {
        let d = ymd(2023, 10, 20);
        let first = "9edd050bf1948c60a6d522bc77cf327b7ce18cc03e923f0c9f608cf8671650f9";
        assert_eq!(receipt_id("2023-0001", d, Chf::from_str("10.00").unwrap(), 1), first);
        assert_eq!(receipt_id("2023-0001", d, Chf::from_int(10), 1), first);
        assert_eq!(
            receipt_id("2023-0001", d, Chf::from_int(10), 2),
            "98261ecf3f6c9d32f516b5d60469e25fe2cc3fd83744ddd8740a57d3790cf44f"
        );
    }

    fn invoice_of(payee: Bfs, amount: i64, due_on: NaiveDate) -> PlannedBooking {
        PlannedBooking {
            periode: Periode::parse("2023").unwrap(),
            leistung: Leistung::Rechnung,
            art: Art::Rechnung,
            betrag: Chf::from_int(-amount),
            count: None,
            tariff: String::new(),
            evidence: vec![],
            due_on: Some(due_on),
            ..pb(payee, 0)
        }
    }

    #[test]
    fn invoices_are_numbered_on_per_year_of_their_date() {
        let mut l = Ledger::in_memory().unwrap();
        let numbers = |rows: &[Booking]| {
            rows.iter()
                .map(|b| b.bezug.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        // 30.09.2023: two invoices dated 30.09.2023 (due 30.10.2023).
        let rows = l.book_run(
            &header(ymd(2023, 9, 30)),
            &[invoice_of(1, 300, ymd(2023, 10, 30)), invoice_of(2, 50, ymd(2023, 10, 30))],
        );
        assert_eq!(numbers(&rows.unwrap()), ["2023-0001", "2023-0002"]);
        // Per 31.12.2023, booked on 02.01.2024 (due 01.02.2024): dated 2024, the first of 2024.
        let rows = l.book_run(&header(ymd(2023, 12, 31)), &[invoice_of(3, 10, ymd(2024, 2, 1))]);
        assert_eq!(numbers(&rows.unwrap()), ["2024-0001"]);
        // 31.03.2024 (due 30.04.2024): 2024 counts on.
        let rows = l.book_run(
            &header(ymd(2024, 3, 31)),
            &[invoice_of(1, 20, ymd(2024, 4, 30)), invoice_of(2, 30, ymd(2024, 4, 30))],
        );
        assert_eq!(numbers(&rows.unwrap()), ["2024-0002", "2024-0003"]);
        let ids: Vec<String> = l.invoices().unwrap().into_iter().map(|i| i.id).collect();
        assert_eq!(ids, ["2023-0001", "2023-0002", "2024-0001", "2024-0002", "2024-0003"]);
    }

    #[test]
    fn a_reversal_is_booked_when_and_by_the_version_that_reverses_and_is_due_on_no_day() {
        let mut l = Ledger::in_memory().unwrap();
        let d = ymd(2023, 9, 30);
        let booked = l.book_run(&header(d), &[pb(1, 200), invoice_of(2, 300, ymd(2023, 10, 30))]).unwrap();
        assert_eq!((booked[1].due_on, booked[1].booked_at.as_str()), (Some(ymd(2023, 10, 30)), "01.01.2024 10:00"));
        let (run, rev) = l.storno(d, "falsche Zahlen", "05.10.2023 08:00", "v2").unwrap();
        assert_eq!((run.booked_at.as_str(), run.program_version.as_str()), ("05.10.2023 08:00", "v2"));
        let expected = vec![
            (Art::Storno, Chf::from_int(-200), None, "05.10.2023 08:00".to_string(), "v2".to_string()),
            (Art::Storno, Chf::from_int(300), None, "05.10.2023 08:00".to_string(), "v2".to_string()),
        ];
        let seen = |rows: &[Booking]| -> Vec<(Art, Chf, Option<NaiveDate>, String, String)> {
            rows.iter().map(|b| (b.art, b.betrag, b.due_on, b.booked_at.clone(), b.program_version.clone())).collect()
        };
        assert_eq!(seen(&rev), expected);
        assert_eq!(seen(&l.verify().unwrap()[2..]), expected);
    }

    #[test]
    fn same_booking_cannot_be_inserted_twice() {
        let mut l = Ledger::in_memory().unwrap();
        // Two identical planned bookings in one run have the same id: the run fails whole.
        let r = l.book_run(&header(ymd(2023, 9, 30)), &[pb(1, 200), pb(1, 200)]);
        assert!(matches!(r, Err(LedgerError::Db { .. })));
        assert!(l.runs().unwrap().is_empty());
        assert!(l.bookings().unwrap().is_empty());
    }

    // -----------------------------------------------------------------------------------
    // Two commands at once: the interleavings forced by a transaction the test holds. Each
    // command is started while the lock is held and observed waiting for it (its busy
    // handler counts), then the lock is released: whichever goes first, nothing is booked
    // twice.
    // -----------------------------------------------------------------------------------

    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Holds the write lock of the ledger at `p` until dropped.
    fn hold(p: &Path) -> Connection {
        let c = Connection::open(p).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        c
    }

    /// Waits until `n` commands have been seen waiting (an event, not a time).
    fn wait_for(count: &AtomicUsize, n: usize) {
        while count.load(Ordering::SeqCst) < n {
            std::thread::yield_now();
        }
    }

    thread_local!(static WAITING_ON: std::cell::Cell<Option<&'static AtomicUsize>> = const { std::cell::Cell::new(None) });

    /// The busy handler of an observed command: counts its thread once as waiting, then
    /// lets SQLite retry.
    fn busy(_: i32) -> bool {
        if let Some(c) = WAITING_ON.with(|w| w.take()) {
            c.fetch_add(1, Ordering::SeqCst);
        }
        std::thread::yield_now();
        true
    }

    /// Runs `f` on a thread whose waits for the lock count in `count`.
    fn observed<T: Send + 'static>(
        count: &'static AtomicUsize,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        std::thread::spawn(move || {
            WAITING_ON.with(|w| w.set(Some(count)));
            f()
        })
    }

    #[test]
    fn two_runs_planned_on_the_same_ledger_book_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        let mut a = Ledger::open(&p).unwrap();
        let mut b = Ledger::open(&p).unwrap();
        // Both plan on the empty ledger; the first to book wins, the second is refused.
        let (ha, hb) = (a.head().unwrap(), b.head().unwrap());
        a.book_planned(&header(ymd(2023, 3, 31)), &[pb(1, 200)], &BTreeMap::new(), Some(&ha)).unwrap();
        let r = b.book_planned(&header(ymd(2023, 9, 30)), &[pb(1, 200)], &BTreeMap::new(), Some(&hb));
        // Chain positions: 1 and 2 the new ledger's key and setup (`meta`); the first run
        // adds `erstes_jahr` (3), its run (4) and its booking (5).
        assert!(matches!(r, Err(LedgerError::Moved { before: 2, now: 5 })), "{r:?}");
        assert_eq!(b.bookings().unwrap().len(), 1);
        // Planned again on the new head, it books.
        let hb = b.head().unwrap();
        b.book_planned(&header(ymd(2023, 9, 30)), &[pb(2, 200)], &BTreeMap::new(), Some(&hb)).unwrap();
        assert_eq!(b.verify().unwrap().len(), 2);
    }

    #[test]
    fn two_receipts_at_once_are_recorded_once() {
        static WAITING: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        let mut l = Ledger::open(&p).unwrap();
        let mut inv = pb(1, -100);
        (inv.art, inv.leistung, inv.due_on) = (Art::Rechnung, Leistung::Rechnung, Some(ymd(2023, 10, 30)));
        l.book_run(&header(ymd(2023, 9, 30)), &[inv]).unwrap();
        let id = l.invoices().unwrap()[0].id.clone();
        let lock = hold(&p);
        let mut threads = Vec::new();
        for day in [20, 21] {
            let (p, id) = (p.clone(), id.clone());
            threads.push(observed(&WAITING, move || {
                let mut l = Ledger::open_observed(&p, busy).unwrap();
                l.record_receipt(&id, ymd(2023, 10, day), Chf::from_int(100), ymd(2024, 1, 1), "x", "t")
            }));
        }
        // Both wait for the lock (each has begun before either could book), then it is freed.
        wait_for(&WAITING, 2);
        drop(lock);
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().any(|r| matches!(r, Err(LedgerError::Overpaid { .. }))));
        let inv = &Ledger::open(&p).unwrap().invoices().unwrap()[0];
        assert_eq!((inv.received, inv.open()), (Chf::from_int(100), Chf::ZERO));
    }

    #[test]
    fn a_storno_and_a_later_run_at_once_never_reverse_an_earlier_run_under_a_later_one() {
        static WAITING: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        Ledger::open(&p).unwrap().book_run(&header(ymd(2023, 9, 30)), &[pb(1, 200)]).unwrap();
        let lock = hold(&p);
        let p1 = p.clone();
        let storno = observed(&WAITING, move || {
            let mut l = Ledger::open_observed(&p1, busy).unwrap();
            l.storno(ymd(2023, 9, 30), "falsch", "x", "t").map(|_| ())
        });
        let p2 = p.clone();
        let run = observed(&WAITING, move || {
            let mut l = Ledger::open_observed(&p2, busy).unwrap();
            let mut later = pb(1, 300);
            later.periode = Periode::parse("2023/H2").unwrap();
            l.book_run(&header(ymd(2024, 3, 31)), &[later]).map(|_| ())
        });
        wait_for(&WAITING, 2);
        drop(lock);
        let (s, r) = (storno.join().unwrap(), run.join().unwrap());
        let l = Ledger::open(&p).unwrap();
        let runs = l.runs().unwrap();
        match (&s, &r) {
            // The storno first: then the later run books on top of it.
            (Ok(()), Ok(())) => assert_eq!(
                runs.iter().map(|x| x.art.as_str()).collect::<Vec<_>>(),
                ["Zahlungslauf", "Storno", "Zahlungslauf"]
            ),
            // The later run first: the storno of the earlier one is refused.
            (Err(LedgerError::NotLatest { .. }), Ok(())) => assert_eq!(runs.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(l.verify().is_ok());
    }

    #[test]
    fn two_first_uses_of_a_new_ledger_both_succeed() {
        static WAITING: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("neu.sqlite");
        let lock = hold(&p);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let p = p.clone();
                observed(&WAITING, move || Ledger::open_observed(&p, busy).map(|l| l.schema_version().unwrap()))
            })
            .collect();
        wait_for(&WAITING, 2);
        drop(lock);
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), schema::latest());
        }
    }
    /// A ledger of schema version 1 (before the keyed chain), as the version before wrote
    /// it: a run and two bookings with the public SHA-256 chain. With `forge`, the second
    /// booking's amount is changed afterwards (the chain no longer fits).
    fn v1_ledger(path: &Path, forge: bool) {
        let c = Connection::open(path).unwrap();
        c.execute_batch(schema::MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute("INSERT INTO meta (key, value) VALUES ('erstes_jahr', '2023')", []).unwrap();
        c.execute(
            "INSERT INTO runs (run_id, seq, art, stichtag, lauf, booked_at, program_version)
             VALUES ('r1', 1, 'Zahlungslauf', '2023-03-31', 1, '31.03.2023 10:00', 'alt')",
            [],
        )
        .unwrap();
        let mut prev = GENESIS.to_string();
        for (seq, amount) in [(1i64, 200i64), (2, 400)] {
            let mut b = Booking {
                seq,
                id: format!("b{seq}"),
                run_id: "r1".into(),
                stichtag: ymd(2023, 3, 31),
                art: Art::Auszahlung,
                payee: 2400 + seq as u32,
                bfs: 2400 + seq as u32,
                periode: Periode::parse("2023").unwrap(),
                leistung: Leistung::parse("SOCKEL").unwrap(),
                betrag: Chf::from_int(amount),
                count: Some(1),
                tariff: String::new(),
                evidence: vec![],
                due_on: None,
                bezug: None,
                text: String::new(),
                program_version: "alt".into(),
                booked_at: "31.03.2023 10:00".into(),
                prev_hash: prev.clone(),
                hash: String::new(),
                iban: None,
            };
            b.hash = chain_hash(&prev, &b);
            c.execute(
                "INSERT INTO bookings (seq, id, run_id, stichtag, art, payee, bfs, jahr, periode, leistung, betrag,
                     anzahl, tarif, belege, program_version, booked_at, prev_hash, hash)
                 VALUES (?1, ?2, 'r1', '2023-03-31', 'Auszahlung', ?3, ?3, 2023, '2023', 'SOCKEL', ?4, 1, '', '[]',
                     'alt', '31.03.2023 10:00', ?5, ?6)",
                params![seq, b.id, b.payee, amount.to_string(), b.prev_hash, b.hash],
            )
            .unwrap();
            prev = b.hash.clone();
        }
        if forge {
            c.execute_batch("DROP TRIGGER bookings_no_update; UPDATE bookings SET betrag = '40000' WHERE seq = 2;")
                .unwrap();
        }
    }

    fn file_bytes(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap()
    }

    #[test]
    fn an_unkeyed_ledger_is_migrated_after_its_old_chain_is_verified() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        let files = LedgerFiles::beside(&p);
        v1_ledger(&p, false);
        // A preview reads it (migrated in memory) and changes nothing: no key, no anchors.
        let before = file_bytes(&p);
        let ro = Ledger::open_read_only(&p).unwrap();
        assert_eq!(ro.bookings().unwrap().len(), 2);
        drop(ro);
        assert_eq!(file_bytes(&p), before);
        assert!(!files.key.exists() && !files.anchors.exists());
        // Opened for writing: migrated, keyed, recorded, anchored.
        let mut l = Ledger::open_existing(&p).unwrap();
        assert_eq!(l.schema_version().unwrap(), schema::latest());
        assert!(files.key.is_file());
        // meta: erstes_jahr, kette_eingerichtet, schluessel; the run; two bookings.
        assert_eq!(l.head().unwrap().pos, 6);
        let record: String = l
            .connection()
            .query_row("SELECT value FROM meta WHERE key = 'kette_eingerichtet'", [], |r| r.get(0))
            .unwrap();
        assert!(record.contains("2 Buchungen"), "{record}");
        let anchors = anchor::read(&files.anchors, &l.key).unwrap();
        assert_eq!(anchors.anchors.len(), 1);
        assert_eq!((anchors.anchors[0].art.as_str(), anchors.anchors[0].head.pos), ("Umstellung", 6));
        // It books on, under the key.
        l.book_run(&header(ymd(2023, 9, 30)), &[pb(1, 100)]).unwrap();
        assert_eq!(l.verify().unwrap().len(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777, 0o640);
            assert_eq!(std::fs::metadata(&files.anchors).unwrap().permissions().mode() & 0o777, 0o660);
        }
    }

    #[test]
    fn a_forged_unkeyed_ledger_is_not_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        v1_ledger(&p, true);
        let before = file_bytes(&p);
        assert!(matches!(Ledger::open_existing(&p), Err(LedgerError::ChainBroken { seq: 2 })));
        assert!(matches!(Ledger::open_read_only(&p), Err(LedgerError::ChainBroken { seq: 2 })));
        assert_eq!(file_bytes(&p), before, "the file stays as it was");
        let c = Connection::open(&p).unwrap();
        assert_eq!(c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 1);
    }

    #[test]
    fn an_unkeyed_copy_beside_anchors_is_an_older_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        v1_ledger(&p, false);
        let old = file_bytes(&p);
        Ledger::open_existing(&p).unwrap().book_run(&header(ymd(2023, 9, 30)), &[pb(1, 100)]).unwrap();
        // The pre-migration copy put back.
        std::fs::write(&p, &old).unwrap();
        for r in [Ledger::open_existing(&p), Ledger::open_read_only(&p)] {
            assert!(matches!(r, Err(LedgerError::Tampered { what: Tamper::UnkeyedCopy(_), .. })));
        }
        assert_eq!(file_bytes(&p), old);
        // Knowingly restored: recorded with its reason, then migrated and used.
        let rep = verify::restore(&LedgerFiles::beside(&p), "Sicherung vor der Umstellung").unwrap();
        assert!(rep.ok(), "{}", rep.text());
        assert_eq!(rep.restores.len(), 1);
        assert_eq!(Ledger::open_existing(&p).unwrap().bookings().unwrap().len(), 2);
    }

    #[test]
    fn files_that_are_not_a_ledger_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("leer.sqlite");
        std::fs::write(&empty, b"").unwrap();
        let text = dir.path().join("text.sqlite");
        std::fs::write(&text, b"Beitraege 2023\n").unwrap();
        let foreign = dir.path().join("fremd.sqlite");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE kunden (id INTEGER, name TEXT);").unwrap();
        let blank = dir.path().join("ohne-tabellen.sqlite");
        Connection::open(&blank).unwrap().pragma_update(None, "user_version", 0).unwrap();
        let cases = [(&empty, NotLedger::Empty), (&text, NotLedger::NotSqlite), (&foreign, NotLedger::Foreign)];
        for (p, why) in cases {
            let before = file_bytes(p);
            let r = Ledger::open_read_only(p);
            assert!(matches!(&r, Err(LedgerError::NotALedger { why: w, .. }) if *w == why), "{p:?}");
            assert!(matches!(Ledger::open_for_preview(p), Err(LedgerError::NotALedger { .. })), "{p:?}");
            assert_eq!(file_bytes(p), before, "{p:?}");
        }
        // Writing: another program's database and a text file are refused too, untouched.
        for p in [&text, &foreign] {
            let before = file_bytes(p);
            assert!(matches!(Ledger::open_existing(p), Err(LedgerError::NotALedger { .. })), "{p:?}");
            assert_eq!(file_bytes(p), before, "{p:?}");
        }
        // No key or anchors were created beside any of them.
        let made: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".schluessel") || n.ends_with(".anker"))
            .collect();
        assert!(made.is_empty(), "{made:?}");
        // A database without tables is no ledger to read; a preview of a missing file is an
        // empty ledger in memory, and creates nothing.
        assert!(matches!(Ledger::open_read_only(&blank), Err(LedgerError::NotALedger { why: NotLedger::Empty, .. })));
        let missing = dir.path().join("fehlt.sqlite");
        assert!(Ledger::open_for_preview(&missing).unwrap().bookings().unwrap().is_empty());
        assert!(matches!(Ledger::open_read_only(&missing), Err(LedgerError::Missing(_))));
        assert!(!missing.exists());
    }

    #[test]
    fn a_schema_version_this_program_does_not_know_is_refused_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        Ledger::open(&p).unwrap().book_run(&header(ymd(2023, 3, 31)), &[pb(1, 200)]).unwrap();
        let latest = schema::latest();
        for (version, ok) in [(-1, false), (0, false), (latest, true), (latest + 1, false)] {
            Connection::open(&p).unwrap().pragma_update(None, "user_version", version).unwrap();
            let before = file_bytes(&p);
            for r in [Ledger::open_read_only(&p), Ledger::open_existing(&p)] {
                match (version, r) {
                    (_, Ok(l)) => assert!(ok && l.bookings().unwrap().len() == 1, "{version}"),
                    (-1, Err(LedgerError::UnknownSchema { found: -1, .. })) => {}
                    // Version 0 with the ledger's tables: not this program's ledger.
                    (0, Err(LedgerError::NotALedger { why: NotLedger::Foreign, .. })) => {}
                    (v, Err(LedgerError::NewerSchema { found, .. })) if v == latest + 1 && found == v => {}
                    (v, Err(e)) => panic!("{v}: {e}"),
                }
            }
            if !ok {
                assert_eq!(file_bytes(&p), before, "{version}");
            }
        }
    }

    /// A ledger with every kind of row: a run, its Storno, a rebooking.
    /// A ledger with rows in every table: runs and a Storno, then a run booked under the
    /// four-eyes rule with an output, its execution date and an IBAN, and its release (the
    /// last row of every table has every nullable column set).
    fn full_ledger() -> Ledger {
        let mut l = Ledger::in_memory().unwrap();
        let d = ymd(2023, 9, 30);
        l.book_run(&header(d), &[pb(1, 200), pb(2, 400)]).unwrap();
        l.storno(d, "falsch", "x", "t").unwrap();
        l.book_run(&header(d), &[pb(1, 200)]).unwrap();
        let make = |_: &RunRow, _: &[Booking], _: &ReleaseDraft<'_>| -> Result<ReleaseFiles, LedgerError> {
            Ok(ReleaseFiles {
                execution_date: Some(ymd(2024, 4, 2)),
                payment: Some(crate::commit::OutFile { rel: "p.xml".into(), bytes: b"p".to_vec() }),
                others: vec![],
            })
        };
        l.release("bruno", d, "x", "t", make).unwrap();
        let mut h = header(ymd(2024, 3, 31));
        (h.person, h.execution_date) = ("anna".into(), Some(ymd(2024, 4, 2)));
        let ibans = BTreeMap::from([(1, "CH9300762011623852957".to_string())]);
        let mut p = pb(1, 300);
        (p.periode, p.due_on) = (Periode::parse("2024/H1").unwrap(), Some(ymd(2024, 4, 30)));
        // A clawback fills the column `bezug`.
        let claw = PlannedBooking {
            art: Art::Rueckforderung,
            leistung: Leistung::Rueckforderung,
            periode: Periode::year(2024),
            betrag: Chf::from_int(-50),
            bezug: Some(Bezug::Rueckforderung("x".into())),
            ..pb(1, 0)
        };
        let files = |_: &RunRow, _: &[Booking]| -> Result<Vec<crate::commit::OutFile>, LedgerError> {
            Ok(vec![crate::commit::OutFile { rel: "a.txt".into(), bytes: b"a".to_vec() }])
        };
        l.book_run_with_outputs(&h, &[p, claw], &ibans, None, files).unwrap();
        l.release("bruno", ymd(2024, 3, 31), "x", "t", make).unwrap();
        l.record_sample(2023, 7, "anna", "x", "t", &[(1, "Zufall".into())]).unwrap();
        l.record_outcome(2023, 1, Outcome::InOrdnung, "ok", "bruno", "x", "t").unwrap();
        let letter = NewLetter {
            year: 2023,
            kind: LetterKind::Mahnung,
            bfs: 1,
            form: "Reportingformular".into(),
            period: "2023-H2".into(),
            date: ymd(2024, 2, 14),
            level: Some(1),
            deadline: Some(ymd(2024, 2, 28)),
            recipient: "Gemeinde".into(),
            subject: "1. Mahnung".into(),
            file: "m.pdf".into(),
            sha256: "ab".repeat(32),
        };
        l.record_letters(&[letter], "t", "v").unwrap();
        l
    }

    /// A ledger written before the spot checks (schema of the release, before the keyed
    /// chain) is migrated through the chain and `stichproben` on opening; a draw is then
    /// recorded and chained.
    #[test]
    fn a_ledger_before_the_spot_checks_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v3.sqlite");
        let before = schema::MIGRATIONS.iter().position(|m| *m == schema::STICHPROBEN).unwrap();
        {
            let conn = Connection::open(&p).unwrap();
            for m in &schema::MIGRATIONS[..before] {
                if *m != schema::KETTE {
                    conn.execute_batch(m).unwrap();
                }
            }
            let v = schema::MIGRATIONS.iter().position(|m| *m == schema::KETTE).unwrap();
            conn.pragma_update(None, "user_version", v as i64).unwrap();
        }
        let mut l = Ledger::open(&p).unwrap();
        assert_eq!(l.schema_version().unwrap(), schema::latest());
        assert!(l.samples().unwrap().is_empty());
        l.record_sample(2023, 9, "anna", "x", "t", &[(2601, "Zufall".into())]).unwrap();
        drop(l);
        let l = Ledger::open(&p).unwrap();
        assert_eq!(l.samples().unwrap().len(), 1);
        assert!(l.inspect().unwrap().chain.findings.is_empty());
    }

    #[test]
    fn a_journal_extract_has_the_journals_columns_without_the_chain() {
        let mut l = Ledger::in_memory().unwrap();
        l.book_run(&header(ymd(2023, 9, 30)), &[pb(1, 200), pb(2, 400)]).unwrap();
        let all = l.bookings().unwrap();
        let csv = journal::extract(all.iter().filter(|b| b.payee == 2));
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").filter(|x| !x.is_empty()).collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert_eq!(lines[0].split(';').count(), 19);
        assert_eq!(lines[0].rsplit(';').next(), Some("Gebucht am"));
        let row: Vec<&str> = lines[1].split(';').collect();
        assert_eq!(
            (row.len(), row[0], row[6], row[8], row[9], row[10]),
            (19, "2", "2", "2023/H1", "FALL_EG", "400.00")
        );
    }

    #[test]
    fn a_ledger_of_the_previous_schema_gains_the_correspondence_journal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        Ledger::open(&p).unwrap().book_run(&header(ymd(2023, 9, 30)), &[pb(1, 200)]).unwrap();
        // The ledger as the schema before the journal left it.
        let previous = schema::MIGRATIONS.iter().position(|m| *m == schema::KORRESPONDENZ).unwrap() as i64;
        {
            let c = Connection::open(&p).unwrap();
            c.execute_batch(
                "DROP TRIGGER korrespondenz_no_update; DROP TRIGGER korrespondenz_no_delete;
                 DROP INDEX korrespondenz_einmal_am_tag; DROP TABLE korrespondenz;",
            )
            .unwrap();
            c.pragma_update(None, "user_version", previous).unwrap();
        }
        // Read-only: migrated in memory, the file stays at the previous version.
        let before = file_bytes(&p);
        let ro = Ledger::open_read_only(&p).unwrap();
        assert!(ro.correspondence(None).unwrap().is_empty());
        drop(ro);
        assert_eq!(file_bytes(&p), before);
        let mut l = Ledger::open_existing(&p).unwrap();
        assert_eq!(l.schema_version().unwrap(), schema::latest());
        assert_eq!(l.bookings().unwrap().len(), 1);
        assert!(l.inspect().unwrap().chain.findings.is_empty());
        let letter = NewLetter {
            year: 2023,
            kind: LetterKind::Mahnung,
            bfs: 1,
            form: "Selbstdeklaration".into(),
            period: "2023".into(),
            date: ymd(2023, 2, 1),
            level: Some(1),
            deadline: Some(ymd(2023, 2, 15)),
            recipient: "Gemeinde".into(),
            subject: "1. Mahnung".into(),
            file: "m.pdf".into(),
            sha256: "ab".repeat(32),
        };
        l.record_letters(&[letter], "t", "v").unwrap();
        drop(l);
        let l = Ledger::open_existing(&p).unwrap();
        assert_eq!(l.correspondence(Some(2023)).unwrap().len(), 1);
        let seen = l.inspect().unwrap();
        assert!(seen.chain.findings.is_empty() && seen.anchors.findings.is_empty());
    }

    #[test]
    fn every_table_and_column_is_chained() {
        let l = full_ledger();
        assert!(l.inspect().unwrap().chain.findings.is_empty());
        let names = |sql: &str| -> Vec<String> {
            let mut st = l.connection().prepare(sql).unwrap();
            let v = st.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
            v
        };
        // Every table but the chain itself is chained.
        for t in names("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
            assert!(t == "kette" || chain::TABLES.iter().any(|(n, _)| *n == t), "table {t} is not chained");
        }
        // Any change to any column of the last row of a chained table is found: another
        // value of the same type, and a value of another type or NULL (where the database
        // takes it).
        let changes = [
            "CASE typeof(COL) WHEN 'integer' THEN COL + 100 WHEN 'null' THEN 'x' ELSE COL || 'x' END",
            "CASE typeof(COL) WHEN 'integer' THEN 'x' WHEN 'null' THEN 7 ELSE NULL END",
        ];
        let (mut columns, mut applied) = (0, 0);
        for (table, _) in chain::TABLES {
            for col in names(&format!("SELECT name FROM pragma_table_info('{table}')")) {
                columns += 1;
                let mut changed = false;
                for change in changes {
                    let l = full_ledger();
                    let c = l.connection();
                    let change = change.replace("COL", &col);
                    let sql = format!(
                        "PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON;
                         DROP TRIGGER IF EXISTS {table}_no_update;
                         UPDATE {table} SET {col} = {change} WHERE rowid = (SELECT MAX(rowid) FROM {table});"
                    );
                    if c.execute_batch(&sql).is_err() {
                        continue; // the database refuses such a value (NOT NULL, a key's type)
                    }
                    applied += 1;
                    changed = true;
                    let findings = l.inspect().unwrap().chain.findings;
                    assert!(!findings.is_empty(), "{table}.{col} changed unnoticed: {sql}");
                }
                assert!(changed, "{table}.{col} was never changed");
            }
        }
        // Some columns also to a value of another type.
        assert!(applied > columns, "{applied} changes over {columns} columns");
    }

    #[test]
    fn a_wrong_or_missing_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
        Ledger::open(&a).unwrap().book_run(&header(ymd(2023, 3, 31)), &[pb(1, 200)]).unwrap();
        Ledger::open(&b).unwrap().book_run(&header(ymd(2023, 3, 31)), &[pb(1, 200)]).unwrap();
        let (ka, kb) = (LedgerFiles::beside(&a).key, LedgerFiles::beside(&b).key);
        std::fs::copy(&kb, &ka).unwrap();
        assert!(matches!(Ledger::open_read_only(&a), Err(LedgerError::Tampered { what: Tamper::WrongKey(_), .. })));
        std::fs::remove_file(&ka).unwrap();
        for r in [Ledger::open_read_only(&a), Ledger::open_existing(&a), Ledger::open(&a)] {
            assert!(matches!(r, Err(LedgerError::KeyMissing { .. })));
        }
        assert!(!ka.exists(), "no new key is made for a keyed ledger");
        std::fs::write(&ka, b"kein Schluessel").unwrap();
        assert!(matches!(Ledger::open_read_only(&a), Err(LedgerError::KeyUnreadable { .. })));
    }

    #[test]
    fn the_anchor_file_is_append_only_and_catches_up_a_missed_head() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        let files = LedgerFiles::beside(&p);
        let mut l = Ledger::open(&p).unwrap();
        l.book_run(&header(ymd(2023, 3, 31)), &[pb(1, 200)]).unwrap();
        l.book_run(&header(ymd(2023, 9, 30)), &[pb(1, 100)]).unwrap();
        drop(l);
        let text = std::fs::read_to_string(&files.anchors).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        // The last line lost (a command killed after its booking, before its anchor): the
        // ledger is ahead and valid under the key; a read passes, a write anchors it.
        std::fs::write(&files.anchors, format!("{}\n{}\n", lines[0], lines[1])).unwrap();
        assert!(Ledger::open_read_only(&p).is_ok());
        let l = Ledger::open_existing(&p).unwrap();
        let a = anchor::read(&files.anchors, &l.key).unwrap();
        assert_eq!(a.anchors.last().map(|a| a.art.as_str()), Some("Nachgetragen"));
        assert_eq!(a.anchors.last().map(|a| a.head.pos), Some(l.head().unwrap().pos));
        drop(l);
        // A line edited (its kind changed): refused.
        let text = std::fs::read_to_string(&files.anchors).unwrap();
        let edited = text.replacen(";Zahlungslauf;", ";Storno;", 1);
        assert_ne!(edited, text);
        std::fs::write(&files.anchors, &edited).unwrap();
        assert!(matches!(
            Ledger::open_read_only(&p),
            Err(LedgerError::Tampered { what: Tamper::AnchorForged { line: 2, .. }, .. })
        ));
        // The anchor file removed, with runs booked: refused.
        std::fs::remove_file(&files.anchors).unwrap();
        assert!(matches!(
            Ledger::open_existing(&p),
            Err(LedgerError::Tampered { what: Tamper::AnchorsMissing(_), .. })
        ));
        // The ledger removed while the anchors remember it: not created anew.
        std::fs::write(&files.anchors, &text).unwrap();
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(Ledger::open(&p), Err(LedgerError::Tampered { what: Tamper::LedgerGone { .. }, .. })));
        assert!(matches!(
            Ledger::open_for_preview(&p),
            Err(LedgerError::Tampered { what: Tamper::LedgerGone { .. }, .. })
        ));
        assert!(!p.exists());
    }

    /// Run as a child process by the next test (does nothing unless asked): starts a large
    /// write on the ledger and is killed (abort) in its middle, leaving a hot journal.
    #[test]
    fn a_hot_journal_child() {
        let Ok(p) = std::env::var("BEITRAEGE_TEST_HOT_JOURNAL") else { return };
        let c = Connection::open(p).unwrap();
        c.execute_batch("PRAGMA cache_size = 2; BEGIN IMMEDIATE; CREATE TABLE ballast (b);").unwrap();
        for _ in 0..500 {
            c.execute("INSERT INTO ballast VALUES (randomblob(2000))", []).unwrap();
        }
        std::process::abort();
    }

    #[test]
    fn a_ledger_left_in_the_middle_of_a_commit_is_read_at_its_last_committed_state() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.sqlite");
        Ledger::open(&p).unwrap().book_run(&header(ymd(2023, 3, 31)), &[pb(1, 200), pb(2, 400)]).unwrap();
        let o = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "tests::a_hot_journal_child", "--test-threads", "1"])
            .env("BEITRAEGE_TEST_HOT_JOURNAL", &p)
            .output()
            .unwrap();
        assert!(!o.status.success(), "the child was killed in its write");
        let journal = std::fs::read(dir.path().join("b.sqlite-journal")).unwrap();
        assert_eq!(journal[..8], [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7], "a hot journal");
        let l = Ledger::open_read_only(&p).unwrap();
        assert_eq!(l.verify().unwrap().len(), 2);
        assert!(l.connection().prepare("SELECT * FROM ballast").is_err(), "the interrupted write is gone");
    }

    #[test]
    fn the_ledger_refuses_a_network_share_before_touching_it() {
        let p = Path::new(r"\\server\freigabe\buchhaltung.sqlite");
        assert!(matches!(Ledger::open(p), Err(LedgerError::NetworkShare { .. })));
        assert!(matches!(Ledger::open_existing(p), Err(LedgerError::NetworkShare { .. })));
        assert!(!p.exists());
    }
}
