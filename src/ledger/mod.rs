//! The ledger (Buchhaltung): an embedded SQLite database that remembers what the canton has
//! paid, offset, invoiced and received. Rules in the manner of TigerBeetle:
//!
//! - one deterministic id per booking, derived from what it pays for (Stichtag, run number,
//!   payee, municipality, year, period, component, kind); `UNIQUE` makes a second booking of
//!   the same thing impossible;
//! - bookings are never changed: triggers abort UPDATE and DELETE; a run is corrected by its
//!   exact reversal (Storno) with a reason;
//! - a whole run is booked in one transaction: a killed process leaves all of it or none;
//! - every booking carries its evidence (files and SHA-256, tariff, program version) and a
//!   hash chained over all bookings, so a changed row is detectable.
//!
//! The database belongs on a local disk: SQLite on network shares (SMB/NFS) is known to
//! corrupt or lock.

mod freigabe;
pub mod journal;
mod schema;

pub use freigabe::{bookings_sha256, sha256_hex, Release, ReleaseDraft, ReleaseFiles, RunState};

/// An invoice with what has been received on it (a plain value, shared with the writers).
pub use crate::domain::InvoiceState;
use crate::domain::{fmt_date, Bfs, Chf, TariffCode};
use crate::payout::{Art, Evidence, Key, Part, PlannedBooking};
use crate::write::hex;
use chrono::{Datelike, NaiveDate};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
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

/// Test hook: milliseconds to sleep in the middle of a booking transaction (kill test).
pub const PAUSE_ENV: &str = "BEITRAEGE_TEST_BUCHEN_PAUSE_MS";

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("Die Buchhaltung «{path}» kann nicht verwendet werden: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("Die Buchhaltung «{0}» existiert nicht.")]
    Missing(PathBuf),
    #[error("Die Buchhaltung «{}» liegt auf einem Netzwerk ({kind}). Dort ist die Datenbank nicht sicher vor Beschädigung (die Sperren von SQLite wirken nicht zuverlässig). Bitte die Buchhaltung auf eine lokale Festplatte legen (z. B. C:\\Beitraege\\Buchhaltung\\buchhaltung.sqlite) und mit der Datensicherung auf das Netzwerk kopieren; es wurde nichts gebucht.", .path.display())]
    NetworkShare { path: PathBuf, kind: &'static str },
    #[error("Die Buchhaltung «{path}» hat die Schemaversion {found}; dieses Programm kennt nur bis {known}. Bitte die neuere Programmversion verwenden.")]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
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
    #[error("Während dieser Befehl lief, hat ein anderer Befehl in die Buchhaltung gebucht (bisher {before} Buchungen, jetzt {now}). Es wurde nichts gebucht. Bitte den Befehl erneut ausführen: er rechnet dann mit dem neuen Stand.")]
    Moved { before: i64, now: i64 },
    #[error("Die Buchhaltung ist verändert worden: Buchung Nr. {seq} passt nicht zur Hash-Kette.")]
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
    let amount = amount.normalize().to_string();
    if n <= 1 {
        sha(&["eingang/v1", invoice, &iso(date), &amount])
    } else {
        sha(&["eingang/v1", invoice, &iso(date), &amount, &n.to_string()])
    }
}

/// Where the ledger stands: its last booking, its number of runs and of `meta` rows. A
/// command that planned on one head books only if the ledger still stands there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub bookings: i64,
    pub last_hash: String,
    pub runs: i64,
    pub meta: i64,
}

fn head_in(conn: &Connection) -> rusqlite::Result<Head> {
    let (bookings, last_hash): (i64, Option<String>) = conn.query_row(
        "SELECT COUNT(*), (SELECT hash FROM bookings ORDER BY seq DESC LIMIT 1) FROM bookings",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let runs: i64 = conn.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))?;
    let meta: i64 = conn.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0))?;
    Ok(Head { bookings, last_hash: last_hash.unwrap_or_else(|| GENESIS.to_string()), runs, meta })
}

/// Refuses (inside the write lock `conn` holds) when the ledger no longer stands where a
/// command planned on it.
fn refuse_moved(conn: &Connection, path: &Path, planned_on: Option<&Head>) -> Result<(), LedgerError> {
    let Some(before) = planned_on else { return Ok(()) };
    let now = head_in(conn).map_err(|source| LedgerError::Db { path: path.to_path_buf(), source })?;
    if now != *before {
        return Err(LedgerError::Moved { before: before.bookings, now: now.bookings });
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
    pub art: String,
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
    pub year: i32,
    pub periode: String,
    pub leistung: String,
    pub betrag: Chf,
    pub count: Option<u64>,
    pub tariff: String,
    pub evidence: Vec<Evidence>,
    pub due_on: Option<NaiveDate>,
    pub bezug: Option<String>,
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
            periode: &self.periode,
            art: self.art,
            betrag: self.betrag,
            text: &self.text,
            bezug: self.bezug.as_deref(),
            due_on: self.due_on,
        }
    }
    /// The component key, for bookings of a tariff code.
    pub fn key(&self) -> Option<Key> {
        let component = TariffCode::parse(&self.leistung)?;
        let (year, part) = Part::parse(&self.periode)?;
        Some(Key { bfs: self.bfs, year, part, component })
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
    runs.into_iter().filter(|r| r.art == "Zahlungslauf" && !reversed.contains(&r.run_id)).collect()
}

fn check_bookable_in(conn: &Connection, path: &Path, stichtag: NaiveDate) -> Result<i64, LedgerError> {
    let runs = runs_in(conn, path)?;
    let previous = runs.iter().filter(|r| r.art == "Zahlungslauf" && r.stichtag == stichtag).count() as i64;
    let act = active(runs);
    if let Some(r) = act.iter().find(|r| r.stichtag == stichtag) {
        return Err(LedgerError::AlreadyBooked { stichtag: fmt_date(stichtag), booked_at: r.booked_at.clone() });
    }
    if let Some(r) = act.iter().filter(|r| r.stichtag > stichtag).max_by_key(|r| r.stichtag) {
        return Err(LedgerError::LaterBooked { stichtag: fmt_date(stichtag), later: fmt_date(r.stichtag) });
    }
    Ok(previous + 1)
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
        &b.year.to_string(),
        &b.periode,
        &b.leistung,
        b.art.as_str(),
        b.bezug.as_deref().unwrap_or(""),
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
        b.year.to_string(),
        b.periode.clone(),
        b.leistung.clone(),
        b.betrag.to_string(),
        b.count.map(|c| c.to_string()).unwrap_or_default(),
        b.tariff.clone(),
        ev,
        b.due_on.map(iso).unwrap_or_default(),
        b.bezug.clone().unwrap_or_default(),
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
/// its journal files the database file's permissions).
fn share_with_group(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660));
    }
    #[cfg(not(unix))]
    let _ = path;
}

impl Ledger {
    fn db(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        move |source| LedgerError::Db { path: self.path.clone(), source }
    }

    /// Opens the ledger, creating it (and its folder) on first use, and migrates it.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        if let Some(kind) = crate::fsio::network_place(path) {
            return Err(LedgerError::NetworkShare { path: path.to_path_buf(), kind });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        let existed = path.exists();
        let conn = Connection::open(path).map_err(|source| LedgerError::Db { path: path.to_path_buf(), source })?;
        if !existed {
            share_with_group(path);
        }
        Self::init(conn, path)
    }

    /// Opens an existing ledger (no creation).
    pub fn open_existing(path: &Path) -> Result<Ledger, LedgerError> {
        if let Some(kind) = crate::fsio::network_place(path) {
            return Err(LedgerError::NetworkShare { path: path.to_path_buf(), kind });
        }
        if !path.is_file() {
            return Err(LedgerError::Missing(path.to_path_buf()));
        }
        Self::open(path)
    }

    /// A ledger in memory (tests, previews without a database).
    pub fn in_memory() -> Result<Ledger, LedgerError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| LedgerError::Db { path: path.clone(), source })?;
        Self::init(conn, &path)
    }

    fn init(conn: Connection, path: &Path) -> Result<Ledger, LedgerError> {
        Self::init_with(conn, path, None)
    }

    /// A ledger whose waits for the write lock call `busy` (tests observe them) instead of
    /// waiting up to 10 s.
    #[cfg(test)]
    fn open_observed(path: &Path, busy: fn(i32) -> bool) -> Result<Ledger, LedgerError> {
        let conn = Connection::open(path).map_err(|source| LedgerError::Db { path: path.to_path_buf(), source })?;
        Self::init_with(conn, path, Some(busy))
    }

    fn init_with(mut conn: Connection, path: &Path, busy: Option<fn(i32) -> bool>) -> Result<Ledger, LedgerError> {
        let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
        match busy {
            Some(b) => conn.busy_handler(Some(b)).map_err(db)?,
            None => conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?,
        }
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
        if version > schema::latest() {
            return Err(LedgerError::NewerSchema { path: path.to_path_buf(), found: version, known: schema::latest() });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            // The version is read again inside the write lock: of two first uses at once, the
            // second finds the migration done and skips it.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
            if now > i as i64 {
                tx.commit().map_err(db)?;
                continue;
            }
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(Ledger { conn, path: path.to_path_buf(), person: None })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the ledger stands now (see [`Head`]).
    pub fn head(&self) -> Result<Head, LedgerError> {
        head_in(&self.conn).map_err(self.db())
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
        let mut st = self
            .conn
            .prepare(
                "SELECT seq, id, run_id, stichtag, art, payee, bfs, jahr, periode, leistung, betrag, anzahl, tarif, belege,
                        faellig_am, bezug, text, program_version, booked_at, prev_hash, hash, iban
                 FROM bookings ORDER BY seq",
            )
            .map_err(self.db())?;
        let raw = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                    r.get::<_, Option<i64>>(11)?,
                    r.get::<_, String>(12)?,
                    r.get::<_, String>(13)?,
                    (
                        r.get::<_, Option<String>>(14)?,
                        r.get::<_, Option<String>>(15)?,
                        r.get::<_, String>(16)?,
                        r.get::<_, String>(17)?,
                        r.get::<_, String>(18)?,
                        r.get::<_, String>(19)?,
                        r.get::<_, String>(20)?,
                        r.get::<_, Option<String>>(21)?,
                    ),
                ))
            })
            .map_err(self.db())?;
        let mut out = Vec::new();
        for row in raw {
            let (seq, id, run_id, st, art, payee, bfs, jahr, periode, leistung, betrag, anzahl, tarif, belege, rest) =
                row.map_err(self.db())?;
            let (due, bezug, text, pv, booked_at, prev_hash, hash, iban) = rest;
            let bad = |what: &str| LedgerError::BadRow { seq, what: what.to_string() };
            out.push(Booking {
                seq,
                id,
                run_id,
                stichtag: parse_iso(&st).ok_or_else(|| bad("Stichtag"))?,
                art: Art::parse(&art).ok_or_else(|| bad("Art"))?,
                payee: u32::try_from(payee).map_err(|_| bad("Zahlungsempfänger"))?,
                bfs: u32::try_from(bfs).map_err(|_| bad("BFS-Nr."))?,
                year: i32::try_from(jahr).map_err(|_| bad("Jahr"))?,
                periode,
                leistung,
                betrag: Decimal::from_str(&betrag)
                    .ok()
                    .filter(|a| a.abs() <= Decimal::from(MAX_BOOKING_CHF))
                    .ok_or_else(|| bad("Betrag"))?,
                count: anzahl.map(|a| u64::try_from(a).map_err(|_| bad("Anzahl"))).transpose()?,
                tariff: tarif,
                evidence: serde_json::from_str(&belege).map_err(|_| bad("Belege"))?,
                due_on: due.map(|d| parse_iso(&d).ok_or_else(|| bad("Fällig am"))).transpose()?,
                bezug,
                text,
                program_version: pv,
                booked_at,
                prev_hash,
                hash,
                iban,
            });
        }
        Ok(out)
    }

    /// Checks the hash chain over all bookings.
    pub fn verify(&self) -> Result<Vec<Booking>, LedgerError> {
        let all = self.bookings()?;
        let mut prev = GENESIS.to_string();
        for b in &all {
            if b.prev_hash != prev || chain_hash(&prev, b) != b.hash {
                return Err(LedgerError::ChainBroken { seq: b.seq });
            }
            prev = b.hash.clone();
        }
        Ok(all)
    }

    /// Net booked amount per component key, and the payee of each key's latest booking.
    pub fn component_sums(&self) -> Result<ComponentSums, LedgerError> {
        let mut sums = BTreeMap::new();
        let mut payees = BTreeMap::new();
        for b in self.bookings()? {
            if let Some(k) = b.key() {
                add_to(sums.entry(k).or_insert(Decimal::ZERO), b.betrag, b.seq)?;
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
            if b.leistung == crate::payout::LEISTUNG_RUECKFORDERUNG {
                if let Some(r) = &b.bezug {
                    add_to(sums.entry(r.clone()).or_insert(Decimal::ZERO), b.betrag, b.seq)?;
                }
            }
        }
        Ok(sums.into_iter().filter(|(_, s)| !s.is_zero()).map(|(r, _)| r).collect())
    }

    /// Invoices with their receipts.
    pub fn invoices(&self) -> Result<Vec<InvoiceState>, LedgerError> {
        let all = self.bookings()?;
        let reversed: BTreeSet<&str> =
            all.iter().filter(|b| b.art == Art::Storno).filter_map(|b| b.bezug.as_deref()).collect();
        let mut out: Vec<InvoiceState> = all
            .iter()
            .filter(|b| b.art == Art::Rechnung)
            .map(|b| InvoiceState {
                // Invoices booked before numbers were given are known by their booking id.
                id: b.bezug.clone().unwrap_or_else(|| b.id[..16].to_string()),
                payee: b.payee,
                stichtag: b.stichtag,
                date: b.due_on.map(crate::payout::invoice_date_of_due).unwrap_or(b.stichtag),
                amount: -b.betrag,
                due_on: b.due_on.unwrap_or(b.stichtag),
                received: Decimal::ZERO,
                reversed: reversed.contains(b.id.as_str()),
            })
            .collect();
        for b in all.iter().filter(|b| b.art == Art::Zahlungseingang && !reversed.contains(b.id.as_str())) {
            if let Some(inv) = out.iter_mut().find(|i| Some(i.id.as_str()) == b.bezug.as_deref()) {
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
            .find(|i| i.id.to_uppercase() == q || crate::documents::qrbill::rf_reference(&i.id).is_ok_and(|rf| rf == q))
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
        art: &str,
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

    /// Inserts bookings with their chain hashes. Sleeps halfway when the test hook asks.
    fn insert_bookings(tx: &rusqlite::Transaction<'_>, rows: &mut [Booking]) -> rusqlite::Result<()> {
        let mut prev = Self::last_hash(tx)?;
        let first = Self::next_seq(tx, "bookings")?;
        let pause = std::env::var(PAUSE_ENV).ok().and_then(|v| v.parse::<u64>().ok());
        let half = rows.len() / 2;
        for (seq, (i, b)) in (first..).zip(rows.iter_mut().enumerate()) {
            if i == half {
                if let Some(ms) = pause {
                    eprintln!("BUCHUNG-PAUSE {ms}");
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
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
                    b.year,
                    b.periode,
                    b.leistung,
                    b.betrag.to_string(),
                    b.count.map(|c| c as i64),
                    b.tariff,
                    serde_json::to_string(&b.evidence).unwrap_or_else(|_| "[]".into()),
                    b.due_on.map(iso),
                    b.bezug,
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
        let db = |source| LedgerError::Db { path: path.clone(), source };
        // Checked inside the write lock: two processes cannot both pass.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        refuse_moved(&tx, &path, planned_on)?;
        let rows = Self::book_in(&tx, &path, header, planned, ibans)?;
        tx.commit().map_err(db)?;
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
            "Zahlungslauf",
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
            p.bezug = Some(format!("{year}-{n:04}"));
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
                year: p.year,
                periode: p.periode.clone(),
                leistung: p.leistung.clone(),
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
                iban: (p.betrag > Decimal::ZERO).then(|| ibans.get(&p.payee).cloned()).flatten(),
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
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(db)?;
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
                received: crate::payout::checked_sum(paid.iter().map(|i| i.received)).unwrap_or(Decimal::MAX),
            });
        }
        let originals: Vec<Booking> = self.bookings()?.into_iter().filter(|b| b.run_id == target.run_id).collect();
        // A Storno waits for the release of the one before it (four-eyes rule).
        freigabe::refuse_pending(&tx, &path, freigabe::Blocks::Storno)?;
        let rid = run_id("Storno", stichtag, target.lauf);
        Self::insert_run(
            &tx,
            &rid,
            "Storno",
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
                bezug: Some(o.id.clone()),
                text: format!("Storno von {}: {}", o.art.as_str(), reason.trim()),
                program_version: version.to_string(),
                booked_at: booked_at.to_string(),
                due_on: None,
                ..o.clone()
            })
            .collect();
        // A reversed clawback must count as open again: its reversal carries the clawback's reference.
        for (r, o) in rows.iter_mut().zip(&originals) {
            if o.art == Art::Rueckforderung {
                r.bezug = o.bezug.clone();
            }
        }
        Self::insert_bookings(&tx, &mut rows).map_err(db)?;
        tx.commit().map_err(db)?;
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
        if amount <= Decimal::ZERO {
            return Err(LedgerError::BadAmount);
        }
        // What this command decides on is read inside the write lock: a second command at
        // once waits for it and then sees its booking.
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(db)?;
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
        let reversed: BTreeSet<&str> =
            all.iter().filter(|b| b.art == Art::Storno).filter_map(|b| b.bezug.as_deref()).collect();
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
        if amount > inv.open() {
            return Err(LedgerError::Overpaid { id: inv.id.clone(), open: inv.open(), amount });
        }
        let n: i64 =
            tx.query_row("SELECT COUNT(*) FROM runs WHERE art = 'Zahlungseingang'", [], |r| r.get(0)).map_err(db)?;
        let rid = sha(&["eingang-lauf/v1", &id]);
        let person = self.person.clone();
        Self::insert_run(
            &tx,
            &rid,
            "Zahlungseingang",
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
            year: chrono::Datelike::year(&date),
            periode: chrono::Datelike::year(&date).to_string(),
            leistung: crate::payout::LEISTUNG_RECHNUNG.to_string(),
            betrag: amount,
            count: None,
            tariff: String::new(),
            evidence: Vec::new(),
            due_on: None,
            bezug: Some(inv.id.clone()),
            text: format!("Zahlungseingang auf Rechnung {}", inv.id),
            program_version: version.to_string(),
            booked_at: booked_at.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
            iban: None,
        }];
        Self::insert_bookings(&tx, &mut rows).map_err(db)?;
        tx.commit().map_err(db)?;
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
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(db)?;
        let original = self.receipt(receipt_id)?;
        let reversal = self
            .bookings()?
            .into_iter()
            .find(|b| b.art == Art::Storno && b.bezug.as_deref() == Some(original.id.as_str()));
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
            "Zahlungseingang",
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
        let invoice = original.bezug.clone().unwrap_or_default();
        let mut rows = vec![Booking {
            seq: 0,
            id: sha(&["storno/v1", &original.id]),
            run_id: rid,
            art: Art::Storno,
            betrag: -original.betrag,
            bezug: Some(original.id.clone()),
            text: format!("Storno des Zahlungseingangs auf Rechnung {invoice}: {}", reason.trim()),
            program_version: version.to_string(),
            booked_at: booked_at.to_string(),
            due_on: None,
            ..original.clone()
        }];
        Self::insert_bookings(&tx, &mut rows).map_err(db)?;
        tx.commit().map_err(db)?;
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
            year: 2023,
            periode: "2023/H1".into(),
            leistung: "FALL_EG".into(),
            art: Art::Auszahlung,
            betrag: Decimal::from(amount),
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
        assert_eq!(sums.values().copied().sum::<Decimal>(), Decimal::from(600));
        // Storno: exact reversal; then the Stichtag can be booked again (run 2).
        assert!(matches!(l.storno(d, " ", "x", "t"), Err(LedgerError::NoReason)));
        let (_, rev) = l.storno(d, "falsche Zahlen", "x", "t").unwrap();
        assert_eq!(rev.iter().map(|b| b.betrag).sum::<Decimal>(), Decimal::from(-600));
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
            let conn = Connection::open(&p).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let mut l = Ledger { conn, path: p.clone(), person: None };
            // Insert as schema 1 did: no iban column yet.
            let tx = l.conn.transaction().unwrap();
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
                year: 2023,
                periode: "2023".into(),
                leistung: "SOCKEL".into(),
                betrag: Decimal::from(70),
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
        assert!(matches!(l.verify(), Err(LedgerError::ChainBroken { seq: 1 })));
    }

    /// A receipt's id is what earlier versions stored, so that the same payment recorded
    /// again is recognised: SHA-256 over `eingang/v1`, the invoice, the value date and the
    /// normalised amount, each followed by a zero byte; the number only from the second
    /// recording on (after a reversal). Literals from `printf 'eingang/v1\0…' | sha256sum`.
    #[test]
    fn a_receipts_id_is_the_hash_of_invoice_value_date_and_amount() {
        let d = ymd(2023, 10, 20);
        let first = "9edd050bf1948c60a6d522bc77cf327b7ce18cc03e923f0c9f608cf8671650f9";
        assert_eq!(receipt_id("2023-0001", d, Decimal::from_str("10.00").unwrap(), 1), first);
        assert_eq!(receipt_id("2023-0001", d, Decimal::from(10), 1), first);
        assert_eq!(
            receipt_id("2023-0001", d, Decimal::from(10), 2),
            "98261ecf3f6c9d32f516b5d60469e25fe2cc3fd83744ddd8740a57d3790cf44f"
        );
    }

    fn invoice_of(payee: Bfs, amount: i64, due_on: NaiveDate) -> PlannedBooking {
        PlannedBooking {
            periode: "2023".into(),
            leistung: crate::payout::LEISTUNG_RECHNUNG.into(),
            art: Art::Rechnung,
            betrag: Decimal::from(-amount),
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
        let numbers = |rows: &[Booking]| rows.iter().map(|b| b.bezug.clone().unwrap_or_default()).collect::<Vec<_>>();
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
            (Art::Storno, Decimal::from(-200), None, "05.10.2023 08:00".to_string(), "v2".to_string()),
            (Art::Storno, Decimal::from(300), None, "05.10.2023 08:00".to_string(), "v2".to_string()),
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
        assert!(matches!(r, Err(LedgerError::Moved { before: 0, now: 1 })), "{r:?}");
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
        (inv.art, inv.leistung, inv.due_on) =
            (Art::Rechnung, crate::payout::LEISTUNG_RECHNUNG.into(), Some(ymd(2023, 10, 30)));
        l.book_run(&header(ymd(2023, 9, 30)), &[inv]).unwrap();
        let id = l.invoices().unwrap()[0].id.clone();
        let lock = hold(&p);
        let mut threads = Vec::new();
        for day in [20, 21] {
            let (p, id) = (p.clone(), id.clone());
            threads.push(observed(&WAITING, move || {
                let mut l = Ledger::open_observed(&p, busy).unwrap();
                l.record_receipt(&id, ymd(2023, 10, day), Decimal::from(100), ymd(2024, 1, 1), "x", "t")
            }));
        }
        // Both wait for the lock (each has begun before either could book), then it is freed.
        wait_for(&WAITING, 2);
        drop(lock);
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().any(|r| matches!(r, Err(LedgerError::Overpaid { .. }))));
        let inv = &Ledger::open(&p).unwrap().invoices().unwrap()[0];
        assert_eq!((inv.received, inv.open()), (Decimal::from(100), Decimal::ZERO));
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
            later.periode = "2023/H2".into();
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
}
