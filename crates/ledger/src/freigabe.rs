//! The four-eyes rule (Vier-Augen-Prinzip) and the outputs of booked runs.
//!
//! - A payout run booked with [`Ledger::book_run_with_outputs`] is «gebucht, nicht
//!   freigegeben»: its bookings count, its outputs (workbook, JSON, invoices) are stored with
//!   it in the same transaction (table `ausgaben`), but it has no payment file yet.
//! - [`Ledger::release`] by another person than the one who booked it makes the payment file
//!   from the ledger (the caller renders it from the run's bookings), stores its bytes and
//!   records who released it, when, the file's SHA-256 and the SHA-256 of the run's bookings
//!   (table `freigaben`). The same person is refused ([`LedgerError::SamePerson`]).
//! - A Storno takes the same two steps: booked by one person, released by another. Until its
//!   release it is not final: no further payout run and no further Storno is booked
//!   ([`LedgerError::NotReleased`]); the run it reverses can no longer be released. A run not
//!   yet released can be reversed: no payment file ever exists for it.
//! - A new payout run is booked only when every earlier payout run and Storno is released (or
//!   reversed): a run never builds on a payment that a second person has not released.
//! - Rows booked before this rule (`gebucht_von` NULL) count as released: their payment file
//!   was written when they were booked.
//!
//! Persons are compared without regard to case (Windows account names ignore it).

use super::{journal, parse_iso, sha, Bfs, Booking, Ledger, LedgerError, RunHeader, RunKind, RunRow};
use crate::commit::OutFile;
use crate::domain::fmt_date;
use crate::payout::PlannedBooking;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// A recorded release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub run_id: String,
    pub seq: i64,
    /// Who released it (operating-system account).
    pub person: String,
    /// When (local time, `TT.MM.JJJJ hh:mm:ss`).
    pub at: String,
    /// The execution date in the payment file.
    pub execution_date: Option<NaiveDate>,
    /// The payment file's name, if the run transfers anything.
    pub file: Option<String>,
    pub file_sha256: Option<String>,
    /// SHA-256 over the run's bookings ([`bookings_sha256`]).
    pub bookings_sha256: String,
    pub program_version: String,
}

/// Where a payout run or a Storno stands under the four-eyes rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// Booked before the rule existed (its payment file was written when it was booked).
    BeforeRule,
    /// Booked by one person, not yet released by another.
    Pending,
    /// Released.
    Released(Release),
    /// A payout run reversed (Storno) before anyone released it: it never had a payment file
    /// and never will.
    Withdrawn,
}

impl RunState {
    /// Final: released, or booked before the rule.
    pub fn is_final(&self) -> bool {
        !matches!(self, RunState::Pending)
    }
}

/// What the release of a run writes, made by the caller from the run's bookings.
pub struct ReleaseFiles {
    /// The execution date of the payments (none when nothing is transferred).
    pub execution_date: Option<NaiveDate>,
    /// The payment file (pain.001), if the run transfers anything.
    pub payment: Option<OutFile>,
    /// Further outputs of the release (its workbook).
    pub others: Vec<OutFile>,
}

/// The release about to be recorded, as the caller's renderer sees it.
pub struct ReleaseDraft<'a> {
    pub person: &'a str,
    pub at: &'a str,
    pub bookings_sha256: &'a str,
}

/// SHA-256 over a run's bookings: each booking's canonical text (everything it says),
/// in booking order.
pub fn bookings_sha256(rows: &[Booking]) -> String {
    let canon: Vec<String> = rows.iter().map(super::canonical).collect();
    let mut parts: Vec<&str> = vec!["buchungen/v1"];
    parts.extend(canon.iter().map(String::as_str));
    sha(&parts)
}

fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What a pending item blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Blocks {
    /// A new payout run: blocked by any pending payout run or Storno.
    Run,
    /// A Storno: blocked by a pending Storno (a pending payout run may be reversed).
    Storno,
}

fn what(run: &RunRow) -> String {
    if run.art == RunKind::Storno {
        "Der Storno".to_string()
    } else {
        "Der Zahlungslauf".to_string()
    }
}

fn releases_in(conn: &Connection, path: &Path) -> Result<Vec<Release>, LedgerError> {
    let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
    let mut st = conn
        .prepare(
            "SELECT run_id, seq, freigegeben_von, freigegeben_am, ausfuehrung, datei, datei_sha256, buchungen_sha256,
                    program_version
             FROM freigaben ORDER BY seq",
        )
        .map_err(db)?;
    let rows = st
        .query_map([], |r| {
            Ok(Release {
                run_id: r.get(0)?,
                seq: r.get(1)?,
                person: r.get(2)?,
                at: r.get(3)?,
                execution_date: r.get::<_, Option<String>>(4)?.and_then(|d| parse_iso(&d)),
                file: r.get(5)?,
                file_sha256: r.get(6)?,
                bookings_sha256: r.get(7)?,
                program_version: r.get(8)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

/// The state of each payout run and Storno (receipts are not released), in booking order.
fn states_in(conn: &Connection, path: &Path) -> Result<Vec<(RunRow, RunState)>, LedgerError> {
    let runs = super::runs_in(conn, path)?;
    let released: BTreeMap<String, Release> =
        releases_in(conn, path)?.into_iter().map(|r| (r.run_id.clone(), r)).collect();
    let reversed: std::collections::BTreeSet<String> = runs.iter().filter_map(|r| r.reverses.clone()).collect();
    Ok(runs
        .into_iter()
        .filter(|r| r.art == RunKind::Zahlungslauf || r.art == RunKind::Storno)
        .map(|r| {
            let state = match (released.get(&r.run_id), &r.booked_by) {
                (Some(rel), _) => RunState::Released(rel.clone()),
                (None, None) => RunState::BeforeRule,
                (None, Some(_)) if r.art == RunKind::Zahlungslauf && reversed.contains(&r.run_id) => {
                    RunState::Withdrawn
                }
                (None, Some(_)) => RunState::Pending,
            };
            (r, state)
        })
        .collect())
}

/// Payout runs (not reversed) and Stornos booked but not released.
fn pending_in(conn: &Connection, path: &Path) -> Result<Vec<RunRow>, LedgerError> {
    Ok(states_in(conn, path)?.into_iter().filter(|(_, s)| *s == RunState::Pending).map(|(r, _)| r).collect())
}

/// Refuses (inside the write transaction) what a pending item blocks.
pub(super) fn refuse_pending(conn: &Connection, path: &Path, blocks: Blocks) -> Result<(), LedgerError> {
    let pending = pending_in(conn, path)?;
    let first = pending.iter().find(|r| blocks == Blocks::Run || r.art == RunKind::Storno);
    match first {
        None => Ok(()),
        Some(r) => Err(LedgerError::NotReleased {
            what: what(r),
            stichtag: fmt_date(r.stichtag),
            by: r.booked_by.clone().unwrap_or_default(),
            or_storno: if r.art == RunKind::Zahlungslauf {
                " oder ihn stornieren («zahlungslauf --storno»)".to_string()
            } else {
                String::new()
            },
        }),
    }
}

impl Ledger {
    /// Every release, in order.
    pub fn releases(&self) -> Result<Vec<Release>, LedgerError> {
        releases_in(&self.conn, &self.path)
    }

    /// Each payout run and Storno with its state under the four-eyes rule.
    pub fn run_states(&self) -> Result<Vec<(RunRow, RunState)>, LedgerError> {
        states_in(&self.conn, &self.path)
    }

    /// Payout runs (not reversed) and Stornos booked but not yet released.
    pub fn pending(&self) -> Result<Vec<RunRow>, LedgerError> {
        pending_in(&self.conn, &self.path)
    }

    /// Refuses a new payout run while an earlier one or a Storno awaits its release
    /// ([`LedgerError::NotReleased`]); checked again inside the booking's transaction.
    pub fn check_released(&self) -> Result<(), LedgerError> {
        refuse_pending(&self.conn, &self.path, Blocks::Run)
    }

    /// The outputs stored with a run (and with its release), in the order they were stored.
    pub fn outputs(&self, run_id: &str) -> Result<Vec<OutFile>, LedgerError> {
        let db = self.db();
        let mut st =
            self.conn.prepare("SELECT datei, inhalt FROM ausgaben WHERE run_id = ?1 ORDER BY rowid").map_err(&db)?;
        let rows = st
            .query_map(params![run_id], |r| Ok(OutFile { rel: r.get(0)?, bytes: r.get(1)? }))
            .map_err(&db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&db)?;
        Ok(rows)
    }

    /// The journal as it stood when `run_id` was booked: every booking up to the run's last,
    /// and as its head row the chain's entry of that last booking (not the head of the
    /// moment, which moves with every later write): the same bytes whenever it is made, so
    /// a run folder's journal is written again byte for byte, and `pruefen` checks it.
    pub fn journal_until(&self, run_id: &str) -> Result<String, LedgerError> {
        let all = self.verify()?;
        let last = all.iter().filter(|b| b.run_id == run_id).map(|b| b.seq).max().unwrap_or(0);
        let upto: Vec<Booking> = all.into_iter().filter(|b| b.seq <= last).collect();
        let head = self
            .conn
            .query_row(
                "SELECT pos, mac FROM kette WHERE tabelle = 'bookings' AND zeile = ?1",
                params![last.to_string()],
                |r| Ok(super::Head { pos: r.get(0)?, mac: r.get(1)? }),
            )
            .optional()
            .map_err(|source| LedgerError::Db { path: self.path.clone(), source })?;
        Ok(journal::export(&upto, head.as_ref()))
    }

    fn store_outputs(tx: &Transaction<'_>, run_id: &str, files: &[OutFile]) -> rusqlite::Result<()> {
        for f in files {
            tx.execute(
                "INSERT INTO ausgaben (id, run_id, datei, sha256, inhalt) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![format!("{run_id}/{}", f.rel), run_id, f.rel, f.sha256(), f.bytes],
            )?;
        }
        Ok(())
    }

    /// Books a payout run under the four-eyes rule, in one transaction with its outputs:
    /// refused while an earlier payout run or Storno awaits its release; the run's row names
    /// `header.person`; `render` makes the run's outputs from its stored bookings (invoice
    /// numbers given), and they are stored with it. If `render` fails, nothing is booked.
    pub fn book_run_with_outputs<E: From<LedgerError>>(
        &mut self,
        header: &RunHeader,
        planned: &[PlannedBooking],
        ibans: &BTreeMap<Bfs, String>,
        planned_on: Option<&super::Head>,
        render: impl FnOnce(&RunRow, &[Booking]) -> Result<Vec<OutFile>, E>,
    ) -> Result<(RunRow, Vec<Booking>, Vec<OutFile>), E> {
        if header.person.trim().is_empty() {
            return Err(LedgerError::NoPerson.into());
        }
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = super::begin(&self.conn, &path, self.read_only)?;
        // Planned on another head than the ledger's now: another command booked meanwhile.
        super::refuse_moved(&tx, &path, planned_on)?;
        refuse_pending(&tx, &path, Blocks::Run)?;
        let rows = Self::book_in(&tx, &path, header, planned, ibans)?;
        // The run just inserted is the last one.
        let run = super::runs_in(&tx, &path)?
            .pop()
            .ok_or_else(|| LedgerError::NothingToReverse(fmt_date(header.stichtag)))?;
        let files = render(&run, &rows)?;
        Self::store_outputs(&tx, &run.run_id, &files).map_err(db)?;
        crate::commit::crash_point("buchung-vor-commit");
        super::seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Zahlungslauf");
        crate::commit::crash_point("gebucht");
        Ok((run, rows, files))
    }

    /// Releases what awaits its release per `stichtag` (a payout run or a Storno), as
    /// `person`, who must not be the one who booked it. For a payout run `make` renders the
    /// payment file (and the release's other outputs) from the run's bookings; their bytes
    /// and SHA-256 are stored with the release. One transaction: released with its files,
    /// or not at all.
    pub fn release<E: From<LedgerError>>(
        &mut self,
        person: &str,
        stichtag: NaiveDate,
        at: &str,
        version: &str,
        make: impl FnOnce(&RunRow, &[Booking], &ReleaseDraft<'_>) -> Result<ReleaseFiles, E>,
    ) -> Result<(RunRow, Release, Vec<OutFile>), E> {
        if person.trim().is_empty() {
            return Err(LedgerError::NoPerson.into());
        }
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = super::begin(&self.conn, &path, self.read_only)?;
        let pending = pending_in(&tx, &path)?;
        let Some(run) = pending.into_iter().find(|r| r.stichtag == stichtag) else {
            // Released already? Name who and when.
            let states = states_in(&tx, &path)?;
            let done = states.iter().rev().find_map(|(r, s)| match s {
                RunState::Released(rel) if r.stichtag == stichtag => Some((what(r), rel.clone())),
                _ => None,
            });
            return Err(match done {
                Some((w, rel)) => {
                    LedgerError::AlreadyReleased { what: w, stichtag: fmt_date(stichtag), by: rel.person, at: rel.at }
                }
                None => LedgerError::NothingToRelease(fmt_date(stichtag)),
            }
            .into());
        };
        let booked_by = run.booked_by.clone().unwrap_or_default();
        if same_person(&booked_by, person) {
            return Err(
                LedgerError::SamePerson { what: what(&run), stichtag: fmt_date(stichtag), person: booked_by }.into()
            );
        }
        let rows: Vec<Booking> = self.bookings()?.into_iter().filter(|b| b.run_id == run.run_id).collect();
        let digest = bookings_sha256(&rows);
        let draft = ReleaseDraft { person, at, bookings_sha256: &digest };
        let made = if run.art == RunKind::Zahlungslauf {
            make(&run, &rows, &draft)?
        } else {
            ReleaseFiles { execution_date: None, payment: None, others: Vec::new() }
        };
        let seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM freigaben", [], |r| r.get(0)).map_err(db)?;
        let release = Release {
            run_id: run.run_id.clone(),
            seq,
            person: person.trim().to_string(),
            at: at.to_string(),
            execution_date: made.execution_date,
            file: made.payment.as_ref().map(|f| f.rel.clone()),
            file_sha256: made.payment.as_ref().map(OutFile::sha256),
            bookings_sha256: digest.clone(),
            program_version: version.to_string(),
        };
        tx.execute(
            "INSERT INTO freigaben (run_id, seq, freigegeben_von, freigegeben_am, ausfuehrung, datei, datei_sha256,
                                    buchungen_sha256, program_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                release.run_id,
                release.seq,
                release.person,
                release.at,
                release.execution_date.map(super::iso),
                release.file,
                release.file_sha256,
                release.bookings_sha256,
                release.program_version,
            ],
        )
        .map_err(db)?;
        let mut files: Vec<OutFile> = made.payment.into_iter().collect();
        files.extend(made.others);
        Self::store_outputs(&tx, &run.run_id, &files).map_err(db)?;
        crate::commit::crash_point("freigabe-vor-commit");
        super::seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Freigabe");
        crate::commit::crash_point("freigegeben");
        Ok((run, release, files))
    }

    /// The release of a run, if any.
    pub fn release_of(&self, run_id: &str) -> Result<Option<Release>, LedgerError> {
        let seq: Option<i64> = self
            .conn
            .query_row("SELECT seq FROM freigaben WHERE run_id = ?1", params![run_id], |r| r.get(0))
            .optional()
            .map_err(self.db())?;
        Ok(seq.and_then(|s| self.releases().ok()?.into_iter().find(|r| r.seq == s)))
    }
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::fsio::hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::super::tests::pb;
    use super::*;
    use crate::domain::ymd;

    fn header(d: NaiveDate, person: &str) -> RunHeader {
        RunHeader {
            stichtag: d,
            booked_at: "01.01.2024 10:00".into(),
            program_version: "t".into(),
            evidence: vec![],
            first_year: 2023,
            reason: String::new(),
            person: person.into(),
            execution_date: None,
        }
    }

    fn book(l: &mut Ledger, d: NaiveDate, person: &str) -> Result<RunRow, LedgerError> {
        let files = |_: &RunRow, _: &[Booking]| -> Result<Vec<OutFile>, LedgerError> {
            Ok(vec![OutFile { rel: "a.txt".into(), bytes: b"a".to_vec() }])
        };
        l.book_run_with_outputs(&header(d, person), &[pb(1, 200)], &BTreeMap::new(), None, files).map(|(r, _, _)| r)
    }

    fn release(l: &mut Ledger, d: NaiveDate, person: &str) -> Result<Release, LedgerError> {
        let make = |_: &RunRow, _: &[Booking], _: &ReleaseDraft<'_>| -> Result<ReleaseFiles, LedgerError> {
            Ok(ReleaseFiles {
                execution_date: Some(d),
                payment: Some(OutFile { rel: "p.xml".into(), bytes: b"<x/>".to_vec() }),
                others: vec![],
            })
        };
        l.release(person, d, "02.01.2024 09:00:00", "t", make).map(|(_, r, _)| r)
    }

    #[test]
    fn four_eyes_on_runs_and_stornos() {
        let mut l = Ledger::in_memory().unwrap();
        let (d1, d2) = (ymd(2023, 3, 31), ymd(2023, 9, 30));
        assert!(matches!(book(&mut l, d1, " "), Err(LedgerError::NoPerson)));
        let run = book(&mut l, d1, "anna").unwrap();
        assert_eq!(run.booked_by.as_deref(), Some("anna"));
        assert_eq!(l.outputs(&run.run_id).unwrap().len(), 1);
        // Pending: the next run is refused, nothing booked.
        assert!(matches!(book(&mut l, d2, "anna"), Err(LedgerError::NotReleased { .. })));
        assert_eq!(l.runs().unwrap().len(), 1);
        // The booking person cannot release (in any case); another can, once.
        assert!(matches!(release(&mut l, d1, "Anna"), Err(LedgerError::SamePerson { .. })));
        assert!(l.releases().unwrap().is_empty());
        let rel = release(&mut l, d1, "bruno").unwrap();
        assert_eq!((rel.person.as_str(), rel.file.as_deref()), ("bruno", Some("p.xml")));
        assert_eq!(rel.file_sha256.as_deref(), Some(sha256_hex(b"<x/>").as_str()));
        let rows: Vec<Booking> = l.bookings().unwrap().into_iter().filter(|b| b.run_id == run.run_id).collect();
        assert_eq!(rel.bookings_sha256, bookings_sha256(&rows));
        assert!(matches!(release(&mut l, d1, "carla"), Err(LedgerError::AlreadyReleased { .. })));
        assert!(matches!(release(&mut l, d2, "carla"), Err(LedgerError::NothingToRelease(_))));
        assert_eq!(l.outputs(&run.run_id).unwrap().len(), 2);
        // The release table is append-only.
        assert!(l.connection().execute("UPDATE freigaben SET freigegeben_von = 'anna'", []).is_err());
        assert!(l.connection().execute("DELETE FROM freigaben", []).is_err());
        assert!(l.connection().execute("DELETE FROM ausgaben", []).is_err());
        assert!(l.connection().execute("UPDATE ausgaben SET inhalt = x'00'", []).is_err());

        // A run not released is reversed; the Storno awaits its own release.
        book(&mut l, d2, "anna").unwrap();
        l.set_person("carla");
        l.storno(d2, "falsch", "x", "t").unwrap();
        assert!(matches!(release(&mut l, d2, "Carla"), Err(LedgerError::SamePerson { .. })));
        // Nothing is booked while the Storno is pending.
        assert!(matches!(book(&mut l, d2, "anna"), Err(LedgerError::NotReleased { .. })));
        let rel = release(&mut l, d2, "anna").unwrap();
        assert_eq!((rel.file, rel.file_sha256), (None, None), "a Storno has no payment file");
        // Now the Stichtag is booked again (run 2).
        let again = book(&mut l, d2, "anna").unwrap();
        assert_eq!(again.lauf, 2);
        let states: Vec<RunState> = l.run_states().unwrap().into_iter().map(|(_, s)| s).collect();
        assert_eq!(states.len(), 4);
        assert!(matches!(states[0], RunState::Released(_)));
        assert_eq!(states[1], RunState::Withdrawn, "reversed before its release");
        assert!(matches!(states[2], RunState::Released(_)), "the Storno");
        assert_eq!(states[3], RunState::Pending);
    }

    /// A run booked before the rule (no booking person) counts as released: it does not
    /// block the next run, and there is nothing to release.
    #[test]
    fn a_run_booked_before_the_rule_counts_as_released() {
        let mut l = Ledger::in_memory().unwrap();
        let d = ymd(2023, 3, 31);
        {
            // Chained like every row the program writes (a run of a ledger from before the
            // rule, migrated).
            let path = l.path.clone();
            let tx = l.conn.transaction().unwrap();
            Ledger::insert_run(&tx, "alt", RunKind::Zahlungslauf, d, 1, "x", "", None, "t", &[], None, None).unwrap();
            super::super::seal_and_commit(tx, &l.key, &path).unwrap();
        }
        let states = l.run_states().unwrap();
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].1, RunState::BeforeRule);
        assert!(states[0].1.is_final());
        assert!(l.check_released().is_ok());
        assert!(matches!(release(&mut l, d, "bruno"), Err(LedgerError::NothingToRelease(_))));
        book(&mut l, ymd(2023, 9, 30), "anna").unwrap();
        assert!(matches!(l.check_released(), Err(LedgerError::NotReleased { .. })));
    }

    #[test]
    fn a_failed_render_books_nothing() {
        let mut l = Ledger::in_memory().unwrap();
        let fail = |_: &RunRow, _: &[Booking]| -> Result<Vec<OutFile>, LedgerError> { Err(LedgerError::BadAmount) };
        let r = l.book_run_with_outputs(&header(ymd(2023, 3, 31), "anna"), &[pb(1, 200)], &BTreeMap::new(), None, fail);
        assert!(matches!(r, Err(LedgerError::BadAmount)));
        assert!(l.runs().unwrap().is_empty() && l.bookings().unwrap().is_empty());
    }
}
