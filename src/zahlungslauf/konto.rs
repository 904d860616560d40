//! A municipality's account (`beitraege konto`): from the ledger alone, per year and period
//! what was booked as due, per payout run what was paid, offset and invoiced, per invoice
//! what was received and what is still open. Also the view `run --buchhaltung` adds to the
//! annex: per municipality what the ledger has booked for the year and what is still open.

use crate::domain::InvoiceState;
use crate::domain::{Bfs, Chf, TariffCode};
use crate::evaluate::Evaluation;
use crate::ledger::{journal, Booking, Ledger, LedgerError, RunRow};
use crate::stammdaten::Stammdaten;
pub use crate::write::annex_ledger::{AnnexLedgerRow, AnnexRunRow, AnnexView};
use crate::write::{self, OutFile, WriteError};
use crate::zahlungslauf::plan::{Art, LEISTUNG_RUECKFORDERUNG};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
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

/// Booked amounts of one municipality, year and period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodRow {
    pub bfs: Bfs,
    pub year: i32,
    pub periode: String,
    /// Contributions booked (payments and corrections, net of reversals).
    pub contributions: Chf,
    /// Clawbacks booked (negative).
    pub clawbacks: Chf,
}

/// One payee in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPayeeRow {
    pub run_id: String,
    pub stichtag: NaiveDate,
    pub art: String,
    pub booked_at: String,
    /// Who booked the run (four-eyes rule); «vor der Freigabepflicht» for older runs.
    pub booked_by: String,
    /// Who released it, and when; «ausstehend» while not released.
    pub released_by: String,
    pub released_at: String,
    pub payee: Bfs,
    pub gross: Chf,
    pub offset: Chf,
    pub transfer: Chf,
    pub invoiced: Chf,
}

/// The statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub bfs: Option<Bfs>,
    pub date: NaiveDate,
    pub periods: Vec<PeriodRow>,
    pub runs: Vec<RunPayeeRow>,
    pub invoices: Vec<InvoiceState>,
    pub bookings: Vec<Booking>,
}

/// Shown for who booked and who released a run booked before the four-eyes rule.
pub const BEFORE_RULE: &str = "(vor der Freigabepflicht)";
/// Shown for who released a run not yet released.
pub const PENDING: &str = "ausstehend";
/// Shown for who released a run reversed before its release (it has no payment file).
pub const WITHDRAWN: &str = "storniert vor der Freigabe";

fn overflow(seq: i64) -> LedgerError {
    LedgerError::BadRow { seq, what: "Betrag (Summe)".into() }
}

/// `a + v`, checked: a sum out of range names the booking.
fn checked(a: Chf, v: Chf, seq: i64) -> Result<Chf, LedgerError> {
    a.checked_add(v).ok_or_else(|| overflow(seq))
}

fn concerns(b: &Booking, bfs: Option<Bfs>) -> bool {
    bfs.is_none_or(|n| b.bfs == n || b.payee == n)
}

/// Per run and payee: gross, offset, transfer, invoiced (a Storno shows the negated run).
pub fn run_rows(runs: &[RunRow], bookings: &[Booking], bfs: Option<Bfs>) -> Result<Vec<RunPayeeRow>, LedgerError> {
    let by_id: BTreeMap<&str, &Booking> = bookings.iter().map(|b| (b.id.as_str(), b)).collect();
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.art != "Zahlungseingang") {
        let sign = if r.art == "Storno" { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
        let mut per: BTreeMap<Bfs, (Chf, Chf, Chf)> = BTreeMap::new();
        for b in bookings.iter().filter(|b| b.run_id == r.run_id && bfs.is_none_or(|n| b.payee == n)) {
            // The original's kind and sign.
            let (art, amount) = if b.art == Art::Storno {
                match b.bezug.as_deref().and_then(|o| by_id.get(o)) {
                    Some(o) => (o.art, o.betrag),
                    None => continue,
                }
            } else {
                (b.art, b.betrag)
            };
            let e = per.entry(b.payee).or_default();
            let slot = match art {
                Art::Rechnung => &mut e.2,
                _ if amount > Decimal::ZERO => &mut e.0,
                _ => &mut e.1,
            };
            let v = if art == Art::Rechnung || amount <= Decimal::ZERO { -amount } else { amount };
            *slot = checked(*slot, v, b.seq)?;
        }
        for (payee, (gross, claims, invoiced)) in per {
            // The offset the run made: the one rule of 4.7.
            let s = crate::payout::settle(gross, claims).map_err(|_| overflow(r.seq))?;
            let offset = s.offset;
            out.push(RunPayeeRow {
                run_id: r.run_id.clone(),
                stichtag: r.stichtag,
                art: r.art.clone(),
                booked_at: r.booked_at.clone(),
                booked_by: r.booked_by.clone().unwrap_or_else(|| BEFORE_RULE.to_string()),
                released_by: if r.booked_by.is_some() { PENDING.to_string() } else { BEFORE_RULE.to_string() },
                released_at: String::new(),
                payee,
                gross: sign * gross,
                offset: sign * offset,
                transfer: sign * s.transfer,
                invoiced: sign * invoiced,
            });
        }
    }
    Ok(out)
}

/// Builds the statement from the ledger.
pub fn statement(ledger: &Ledger, bfs: Option<Bfs>, date: NaiveDate) -> Result<Statement, LedgerError> {
    let all = ledger.verify()?;
    let runs = ledger.runs()?;
    let mut periods: BTreeMap<(Bfs, i32, String), PeriodRow> = BTreeMap::new();
    for b in all.iter().filter(|b| concerns(b, bfs)) {
        let is_component = TariffCode::parse(&b.leistung).is_some();
        let is_claw = b.leistung == LEISTUNG_RUECKFORDERUNG;
        if !is_component && !is_claw {
            continue;
        }
        if bfs.is_some_and(|n| b.bfs != n) {
            continue;
        }
        let e = periods.entry((b.bfs, b.year, b.periode.clone())).or_insert_with(|| PeriodRow {
            bfs: b.bfs,
            year: b.year,
            periode: b.periode.clone(),
            contributions: Decimal::ZERO,
            clawbacks: Decimal::ZERO,
        });
        if is_component {
            e.contributions = checked(e.contributions, b.betrag, b.seq)?;
        } else {
            e.clawbacks = checked(e.clawbacks, b.betrag, b.seq)?;
        }
    }
    let invoices = ledger.invoices()?.into_iter().filter(|i| bfs.is_none_or(|n| i.payee == n)).collect();
    let mut run_lines = run_rows(&runs, &all, bfs)?;
    // Who released each run, and when.
    let released: BTreeMap<String, crate::ledger::Release> =
        ledger.releases()?.into_iter().map(|r| (r.run_id.clone(), r)).collect();
    let withdrawn: std::collections::BTreeSet<String> = ledger
        .run_states()?
        .into_iter()
        .filter(|(_, s)| *s == crate::ledger::RunState::Withdrawn)
        .map(|(r, _)| r.run_id)
        .collect();
    for line in &mut run_lines {
        if withdrawn.contains(&line.run_id) {
            line.released_by = WITHDRAWN.to_string();
        }
        if let Some(rel) = released.get(&line.run_id) {
            line.released_by = rel.person.clone();
            line.released_at = rel.at.clone();
        }
    }
    Ok(Statement {
        bfs,
        date,
        periods: periods.into_values().collect(),
        runs: run_lines,
        invoices,
        bookings: all.into_iter().filter(|b| concerns(b, bfs)).collect(),
    })
}

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
        Some(p) if p.is_file() => Some(Stammdaten::load(p).map_err(crate::evaluate::RunError::from)?),
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
    for r in ledger.runs()?.iter().filter(|r| r.art == "Zahlungslauf") {
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
    for b in all.iter().filter(|b| b.year == eval.year) {
        if TariffCode::parse(&b.leistung).is_some() || b.leistung == LEISTUNG_RUECKFORDERUNG {
            let e = booked.entry(b.bfs).or_insert(Decimal::ZERO);
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
            booked: booked.get(&r.bfs).copied().unwrap_or(Decimal::ZERO),
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
        .filter(|r| r.art != "Zahlungseingang" && (eval.year..=eval.year + 1).contains(&r.stichtag.year()))
        .map(|r| {
            let rel = releases.get(&r.run_id);
            AnnexRunRow {
                stichtag: r.stichtag,
                art: r.art.clone(),
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
    Ok(AnnexView { year: eval.year, rows, invoices: ledger.invoices().map_err(err)?, last_run, runs })
}
