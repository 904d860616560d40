//! A municipality's account (`beitraege konto`): from the ledger alone, per year and period
//! what was booked as due, per payout run what was paid, offset and invoiced, per invoice
//! what was received and what is still open. Also the view `run --buchhaltung` adds to the
//! annex: per municipality what the ledger has booked for the year and what is still open.

use crate::domain::{Bfs, Chf};
use crate::evaluate::Evaluation;
use crate::ledger::{journal, Booking, Ledger, LedgerError};
use crate::stammdaten::Stammdaten;
pub use crate::write::annex_ledger::{AnnexLedgerRow, AnnexRunRow, AnnexView};
use crate::write::{self, OutFile, WriteError};
use crate::zahlungslauf::plan::Art;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `beitraege konto` needs.
#[derive(Debug, Clone)]
pub struct KontoOptions {
    pub ledger: PathBuf,
    pub out: PathBuf,
    /// One municipality (as municipality or as payee); `None`: all, into one workbook.
    pub bfs: Option<Bfs>,
    /// Master data for the names (optional).
    pub stammdaten: Option<PathBuf>,
    /// The day that decides what is overdue.
    pub date: NaiveDate,
}

use super::statement::checked;
pub use super::statement::{run_rows, statement, PeriodRow, RunPayeeRow, Statement, BEFORE_RULE, PENDING, WITHDRAWN};

/// The folder of a statement below the output folder: `Stand_<JJJJ-MM-TT>` of its date,
/// `_2`, `_3` … for a further statement of the same date. Each call writes a folder of its
/// own beside the earlier ones; none is emptied or replaced.
pub fn statement_folder(out: &Path, date: NaiveDate, n: u32) -> PathBuf {
    let day = date.format("%Y-%m-%d");
    if n <= 1 {
        out.join(format!("Stand_{day}"))
    } else {
        out.join(format!("Stand_{day}_{n}"))
    }
}

/// Writes the statement workbook, the journal and the invoices into a new folder below
/// `opts.out` ([`statement_folder`]); returns the statement, that folder and the files written.
pub fn execute(
    opts: &KontoOptions,
) -> Result<(Statement, PathBuf, Vec<String>), crate::zahlungslauf::ZahlungslaufError> {
    // Before anything is read: the output folder is no other command's, the ledger not in it.
    write::commit::check_output_root(&opts.out, false).map_err(WriteError::from)?;
    write::commit::check_ledger_place(&opts.ledger, None, &[&opts.out]).map_err(WriteError::from)?;
    let ledger = Ledger::open_read_only(&opts.ledger)?;
    let master = match &opts.stammdaten {
        Some(p) if p.is_file() => Some(Stammdaten::load(p).map_err(crate::evaluate::EvaluationError::from)?),
        _ => None,
    };
    // A BFS-Nr. must name a municipality of the master data (without master data: one the
    // ledger knows), before anything is written.
    if let Some(bfs) = opts.bfs {
        let known = match &master {
            Some(m) => m.municipality(bfs).is_some(),
            None => ledger.bookings()?.iter().any(|b| b.bfs == bfs || b.payee == bfs),
        };
        if !known {
            let why = if master.is_some() {
                "ist keine Gemeinde der Stammdaten (Blatt «Gemeinden»)"
            } else {
                "kommt in der Buchhaltung nicht vor (ohne Stammdaten)"
            };
            return Err(crate::zahlungslauf::ZahlungslaufError::UnknownMunicipality { bfs, why });
        }
    }
    let master = master.unwrap_or_default();
    let st = statement(&ledger, opts.bfs, opts.date)?;
    let all = ledger.verify()?;
    let mut files = vec![
        super::workbook::konto_workbook(&st, &master, env!("CARGO_PKG_VERSION"))?,
        OutFile { rel: journal::FILE_NAME.to_string(), bytes: ledger.journal()?.into_bytes() },
    ];
    // The invoices, printed again from the ledger: the same documents the runs wrote.
    for r in ledger.runs()?.iter().filter(|r| r.art == crate::ledger::RunKind::Zahlungslauf) {
        let rows: Vec<Booking> = all.iter().filter(|b| b.run_id == r.run_id).cloned().collect();
        if rows.iter().any(|b| b.art == Art::Rechnung && opts.bfs.is_none_or(|n| b.payee == n)) {
            files.extend(super::invoice_files(&master, r.stichtag, &rows, opts.bfs)?.0);
        }
    }
    // A folder of its own: the first free name, taken under its lock.
    let mut n = 1;
    let folder = loop {
        let candidate = statement_folder(&opts.out, opts.date, n);
        n += 1;
        if candidate.exists() {
            continue;
        }
        let dir = write::OutputDir::open(&candidate)?;
        if candidate.exists() {
            continue;
        }
        dir.commit(&files)?;
        break candidate;
    };
    Ok((st, folder, files.iter().map(|f| f.rel.clone()).collect()))
}

/// Reads the ledger for the annex of `eval`'s year.
pub fn annex_view(path: &Path, eval: &Evaluation) -> Result<AnnexView, WriteError> {
    let err = |e: LedgerError| WriteError::Ledger { path: path.to_path_buf(), message: e.to_string() };
    let ledger = Ledger::open_read_only(path).map_err(err)?;
    let all = ledger.verify().map_err(err)?;
    let mut booked: BTreeMap<Bfs, Chf> = BTreeMap::new();
    for b in all.iter().filter(|b| b.periode.year == eval.year) {
        if b.leistung.is_contribution() {
            let e = booked.entry(b.bfs).or_insert(Chf::ZERO);
            *e = checked(*e, b.betrag, b.seq).map_err(err)?;
        }
    }
    let rows = eval
        .comp
        .rows
        .iter()
        .map(|r| AnnexLedgerRow {
            bfs: r.bfs,
            name: r.name.clone(),
            annex_total: r.total,
            booked: booked.get(&r.bfs).copied().unwrap_or(Chf::ZERO),
        })
        .collect();
    let last_run = ledger.active_runs().map_err(err)?.iter().map(|r| r.stichtag).max();
    let releases: BTreeMap<String, crate::ledger::Release> =
        ledger.releases().map_err(err)?.into_iter().map(|r| (r.run_id.clone(), r)).collect();
    let withdrawn: std::collections::BTreeSet<String> = ledger
        .run_states()
        .map_err(err)?
        .into_iter()
        .filter(|(_, s)| *s == crate::ledger::RunState::Withdrawn)
        .map(|(r, _)| r.run_id)
        .collect();
    let runs = ledger
        .runs()
        .map_err(err)?
        .into_iter()
        .filter(|r| {
            r.art != crate::ledger::RunKind::Zahlungseingang && (eval.year..=eval.year + 1).contains(&r.stichtag.year())
        })
        .map(|r| {
            let rel = releases.get(&r.run_id);
            AnnexRunRow {
                stichtag: r.stichtag,
                art: r.art.to_string(),
                booked_by: r.booked_by.clone().unwrap_or_else(|| BEFORE_RULE.to_string()),
                booked_at: r.booked_at.clone(),
                released_by: match (rel, &r.booked_by) {
                    (Some(rel), _) => rel.person.clone(),
                    (None, Some(_)) if withdrawn.contains(&r.run_id) => WITHDRAWN.to_string(),
                    (None, Some(_)) => PENDING.to_string(),
                    (None, None) => BEFORE_RULE.to_string(),
                },
                released_at: rel.map(|x| x.at.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let invoices = ledger.invoices().map_err(err)?;
    let journal = ledger.correspondence(Some(eval.year)).map_err(err)?;
    let open_reminders =
        crate::mahnung::open(&eval.master, &eval.resolved, eval.year, &super::statement::reminders_sent(&journal));
    let letters = super::statement::correspondence(&journal, &invoices, &eval.master, Some(eval.year), None);
    Ok(AnnexView { year: eval.year, rows, invoices, last_run, runs, letters, open_reminders })
}

/// The counts the ledger booked, as history for `WERT_SPRUNG`: of the payments and
/// corrections of active runs, the latest booking of each municipality, half-year and
/// component. A ledger that cannot be read adds nothing (the annex reports it).
pub fn booked_history(path: &Path) -> crate::validate::sprung::History {
    let mut history = crate::validate::sprung::History::default();
    let read = || -> Result<Vec<Booking>, LedgerError> {
        let ledger = Ledger::open_read_only(path)?;
        let all = ledger.verify()?;
        let active: std::collections::BTreeSet<String> = ledger.active_runs()?.into_iter().map(|r| r.run_id).collect();
        let counted = |b: &Booking| matches!(b.art, Art::Auszahlung | Art::Korrektur) && active.contains(&b.run_id);
        Ok(all.into_iter().filter(counted).collect())
    };
    let bookings = match read() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("Buchhaltung für die Vorperioden nicht gelesen: {e}");
            return history;
        }
    };
    for b in bookings {
        let (Some(key), Some(count)) = (b.key(), b.count) else { continue };
        let Some(component) = key.component.component() else { continue };
        let half = match key.part {
            crate::payout::Part::H1 => 1,
            crate::payout::Part::H2 => 2,
            crate::payout::Part::Year => continue,
        };
        history.add_booked(key.bfs, crate::domain::Period::new(key.year, half), component.count_field(), count);
    }
    history
}
