//! A municipality's (or every) account in the ledger, as a statement: booked amounts per
//! period and per run, who booked and who released, open invoices. Decided here from the
//! ledger; `konto` writes it and `workbook` renders it (both use this module, neither the
//! other).

use crate::domain::InvoiceState;
use crate::domain::{Bfs, Chf};
use crate::ledger::{Booking, Ledger, LedgerError, RunRow};
use crate::zahlungslauf::plan::{Art, Leistung, Periode};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Booked amounts of one municipality, year and period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodRow {
    pub bfs: Bfs,
    pub year: i32,
    pub periode: Periode,
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
    /// The letters of the correspondence journal that concern the municipality (all years).
    pub letters: Vec<crate::ledger::Letter>,
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
pub(super) fn checked(a: Chf, v: Chf, seq: i64) -> Result<Chf, LedgerError> {
    a.checked_add(v).ok_or_else(|| overflow(seq))
}

fn concerns(b: &Booking, bfs: Option<Bfs>) -> bool {
    bfs.is_none_or(|n| b.bfs == n || b.payee == n)
}

/// Per run and payee: gross, offset, transfer, invoiced (a Storno shows the negated run).
pub fn run_rows(runs: &[RunRow], bookings: &[Booking], bfs: Option<Bfs>) -> Result<Vec<RunPayeeRow>, LedgerError> {
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.art != crate::ledger::RunKind::Zahlungseingang) {
        // A Storno shows the run it reverses negated.
        let storno = r.art == crate::ledger::RunKind::Storno;
        let signed = |a: Chf| if storno { -a } else { a };
        let mut per: BTreeMap<Bfs, (Chf, Chf, Chf)> = BTreeMap::new();
        for b in bookings.iter().filter(|b| b.run_id == r.run_id && bfs.is_none_or(|n| b.payee == n)) {
            // The original's kind and sign.
            // A Storno copies its original but for the kind and the sign; the kind follows
            // from the service (a payment or correction, a clawback, an invoice).
            let (art, amount) = if b.art == Art::Storno {
                let amount = -b.betrag;
                let art = match b.leistung {
                    Leistung::Rueckforderung => Art::Rueckforderung,
                    Leistung::Rechnung => Art::Rechnung,
                    Leistung::Tarif(_) if amount > Chf::ZERO => Art::Auszahlung,
                    Leistung::Tarif(_) => Art::Korrektur,
                };
                (art, amount)
            } else {
                (b.art, b.betrag)
            };
            let e = per.entry(b.payee).or_default();
            let slot = match art {
                Art::Rechnung => &mut e.2,
                _ if amount > Chf::ZERO => &mut e.0,
                _ => &mut e.1,
            };
            let v = if art == Art::Rechnung || amount <= Chf::ZERO { -amount } else { amount };
            *slot = checked(*slot, v, b.seq)?;
        }
        for (payee, (gross, claims, invoiced)) in per {
            // The offset the run made: the one rule of 4.7.
            let s = crate::payout::settle(gross, claims).map_err(|_| overflow(r.seq))?;
            let offset = s.offset;
            out.push(RunPayeeRow {
                run_id: r.run_id.clone(),
                stichtag: r.stichtag,
                art: r.art.to_string(),
                booked_at: r.booked_at.clone(),
                booked_by: r.booked_by.clone().unwrap_or_else(|| BEFORE_RULE.to_string()),
                released_by: if r.booked_by.is_some() { PENDING.to_string() } else { BEFORE_RULE.to_string() },
                released_at: String::new(),
                payee,
                gross: signed(gross),
                offset: signed(offset),
                transfer: signed(s.transfer),
                invoiced: signed(invoiced),
            });
        }
    }
    Ok(out)
}

/// Builds the statement from the ledger.
pub fn statement(ledger: &Ledger, bfs: Option<Bfs>, date: NaiveDate) -> Result<Statement, LedgerError> {
    let all = ledger.verify()?;
    let runs = ledger.runs()?;
    let mut periods: BTreeMap<(Bfs, i32, Periode), PeriodRow> = BTreeMap::new();
    for b in all.iter().filter(|b| concerns(b, bfs)) {
        let is_component = match b.leistung {
            Leistung::Tarif(_) => true,
            Leistung::Rueckforderung => false,
            Leistung::Rechnung => continue,
        };
        if bfs.is_some_and(|n| b.bfs != n) {
            continue;
        }
        let e = periods.entry((b.bfs, b.periode.year, b.periode)).or_insert_with(|| PeriodRow {
            bfs: b.bfs,
            year: b.periode.year,
            periode: b.periode,
            contributions: Chf::ZERO,
            clawbacks: Chf::ZERO,
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
        letters: ledger.correspondence(None)?.into_iter().filter(|l| bfs.is_none_or(|n| l.letter.bfs == n)).collect(),
    })
}

/// The reminders of the correspondence journal's `letters`, as the core reads them.
pub fn reminders_sent(letters: &[crate::ledger::Letter]) -> Vec<crate::mahnung::Sent> {
    letters
        .iter()
        .filter(|l| l.letter.kind == crate::ledger::LetterKind::Mahnung)
        .filter_map(|l| {
            Some(crate::mahnung::Sent {
                bfs: l.letter.bfs,
                form: crate::mahnung::Form::parse(&l.letter.form, &l.letter.period)?,
                date: l.letter.date,
                level: l.letter.level?,
                deadline: l.letter.deadline?,
            })
        })
        .collect()
}

/// The correspondence list: the journal's `letters` and the ledger's `invoices` of `year`
/// (an invoice by its run's Stichtag; `None`: all years), of municipality `bfs` (`None`: all),
/// by date; names, recipients of invoices and the invoices' files from `master`.
pub fn correspondence(
    letters: &[crate::ledger::Letter],
    invoices: &[InvoiceState],
    master: &crate::stammdaten::Stammdaten,
    year: Option<i32>,
    bfs: Option<Bfs>,
) -> Vec<crate::write::korrespondenz::Entry> {
    use crate::write::korrespondenz::Entry;
    use chrono::Datelike;
    let name = |b: Bfs| master.municipality(b).map(|m| m.name.clone()).unwrap_or_default();
    let mut out: Vec<Entry> = letters
        .iter()
        .filter(|l| year.is_none_or(|y| l.letter.year == y) && bfs.is_none_or(|b| l.letter.bfs == b))
        .map(|l| Entry {
            date: l.letter.date,
            art: l.letter.kind.as_str().to_string(),
            nr: l.nr.to_string(),
            bfs: l.letter.bfs,
            name: name(l.letter.bfs),
            recipient: l.letter.recipient.clone(),
            subject: l.letter.subject.clone(),
            file: l.letter.file.clone(),
        })
        .collect();
    out.extend(
        invoices
            .iter()
            .filter(|i| year.is_none_or(|y| i.stichtag.year() == y) && bfs.is_none_or(|b| i.payee == b))
            .map(|i| Entry {
                date: i.date,
                art: "Rechnung".to_string(),
                nr: i.id.clone(),
                bfs: i.payee,
                name: name(i.payee),
                recipient: crate::documents::recipient_of(master, i.payee).0.name,
                subject: format!("Rechnung Nr. {}: Rückforderung start.integration", i.id),
                file: format!("Rechnungen/{}_{}.pdf", i.id, crate::documents::stem_of(master, i.payee)),
            }),
    );
    out.sort_by(|a, b| (a.date, &a.art, &a.nr, a.bfs).cmp(&(b.date, &b.art, &b.nr, b.bfs)));
    out
}
