//! A municipality's account (`beitraege konto`): from the ledger alone, per year and period
//! what was booked as due, per payout run what was paid, offset and invoiced, per invoice
//! what was received and what is still open. Also the view `run --buchhaltung` adds to the
//! annex: per municipality what the ledger has booked for the year and what is still open.

use crate::domain::InvoiceState;
use crate::domain::{Bfs, Chf, TariffCode};
use crate::evaluate::Evaluation;
use crate::ledger::{journal, Booking, Ledger, LedgerError, RunRow};
use crate::stammdaten::Stammdaten;
pub use crate::write::annex_ledger::{AnnexLedgerRow, AnnexView};
use crate::write::{self, OutFile, WriteError};
use crate::zahlungslauf::plan::{Art, LEISTUNG_RUECKFORDERUNG};
use chrono::NaiveDate;
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
    pub stichtag: NaiveDate,
    pub art: String,
    pub booked_at: String,
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

fn concerns(b: &Booking, bfs: Option<Bfs>) -> bool {
    bfs.is_none_or(|n| b.bfs == n || b.payee == n)
}

/// Per run and payee: gross, offset, transfer, invoiced (a Storno shows the negated run).
pub fn run_rows(runs: &[RunRow], bookings: &[Booking], bfs: Option<Bfs>) -> Vec<RunPayeeRow> {
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
            match art {
                Art::Rechnung => e.2 -= amount,
                _ if amount > Decimal::ZERO => e.0 += amount,
                _ => e.1 -= amount,
            }
        }
        for (payee, (gross, claims, invoiced)) in per {
            // The offset the run made: the one rule of 4.7.
            let offset = crate::payout::settle(gross, claims).map(|s| s.offset).unwrap_or(Decimal::ZERO);
            out.push(RunPayeeRow {
                stichtag: r.stichtag,
                art: r.art.clone(),
                booked_at: r.booked_at.clone(),
                payee,
                gross: sign * gross,
                offset: sign * offset,
                transfer: sign * (gross - offset),
                invoiced: sign * invoiced,
            });
        }
    }
    out
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
            e.contributions += b.betrag;
        } else {
            e.clawbacks += b.betrag;
        }
    }
    let invoices = ledger.invoices()?.into_iter().filter(|i| bfs.is_none_or(|n| i.payee == n)).collect();
    Ok(Statement {
        bfs,
        date,
        periods: periods.into_values().collect(),
        runs: run_rows(&runs, &all, bfs),
        invoices,
        bookings: all.into_iter().filter(|b| concerns(b, bfs)).collect(),
    })
}

/// Writes the statement workbook and the journal; returns the files written.
pub fn execute(opts: &KontoOptions) -> Result<(Statement, Vec<String>), crate::zahlungslauf::ZahlungslaufError> {
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
    let out_dir = write::OutputDir::open(&opts.out)?;
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
    out_dir.commit(&files)?;
    Ok((st, files.iter().map(|f| f.rel.clone()).collect()))
}

/// Reads the ledger for the annex of `eval`'s year.
pub fn annex_view(path: &Path, eval: &Evaluation) -> Result<AnnexView, WriteError> {
    let err = |e: LedgerError| WriteError::Ledger { path: path.to_path_buf(), message: e.to_string() };
    let ledger = Ledger::open_read_only(path).map_err(err)?;
    let all = ledger.verify().map_err(err)?;
    let mut booked: BTreeMap<Bfs, Chf> = BTreeMap::new();
    for b in all.iter().filter(|b| b.year == eval.year) {
        if TariffCode::parse(&b.leistung).is_some() || b.leistung == LEISTUNG_RUECKFORDERUNG {
            *booked.entry(b.bfs).or_insert(Decimal::ZERO) += b.betrag;
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
    Ok(AnnexView { year: eval.year, rows, invoices: ledger.invoices().map_err(err)?, last_run })
}
