//! The money after compute, decided in one place (4.5.2, 4.7): the payout calendar, what a
//! payout run pays, offsets and invoices, and the projection of a year's runs. Compute (the
//! annex's projection), the payout run (`zahlungslauf`), `konto` and the documents all call
//! this module; none of them decides an offset or an invoice of its own.
//!
//! The one rule of 4.7: a claim (a clawback decided on day D, or a correction of an amount
//! paid before) is offset at the first payout run on or after D, against everything that run
//! pays its payee (any year, any component). What the run cannot cover is invoiced by that
//! run, dated on the day the run is booked (never before its Stichtag), payable within 30
//! days. An invoice is settled only by money received; it is never offset later.
//!
//! Pure: no I/O. Every sum is checked ([`Overflow`]).

use crate::domain::{fmt_date, ymd, Bfs, Chf, Period, TariffCode};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};

/// An amount that left the range the program computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

fn add(a: Chf, b: Chf) -> Result<Chf, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

fn sub(a: Chf, b: Chf) -> Result<Chf, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

/// The checked sum of amounts.
pub fn checked_sum(it: impl IntoIterator<Item = Chf>) -> Result<Chf, Overflow> {
    it.into_iter().try_fold(Chf::ZERO, add)
}

/// Which part of a year a booking pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// The Sockelbeitrag of the year.
    Year,
    H1,
    H2,
}

impl Part {
    pub fn label(self, year: i32) -> String {
        match self {
            Part::Year => year.to_string(),
            Part::H1 => format!("{year}/H1"),
            Part::H2 => format!("{year}/H2"),
        }
    }
    pub fn parse(s: &str) -> Option<(i32, Part)> {
        match s.split_once('/') {
            None => Some((s.parse().ok()?, Part::Year)),
            Some((y, "H1")) => Some((y.parse().ok()?, Part::H1)),
            Some((y, "H2")) => Some((y.parse().ok()?, Part::H2)),
            _ => None,
        }
    }
    /// The part a reporting half-year is paid as.
    pub fn of(p: Period) -> Part {
        if p.half == 1 {
            Part::H1
        } else {
            Part::H2
        }
    }
    /// The payout calendar of 4.5.2, the only one: end of March for the Sockelbeitrag of the
    /// year and for H2 of the year before, end of September for H1.
    pub fn payout_date(self, year: i32) -> NaiveDate {
        match self {
            Part::Year => ymd(year, 3, 31),
            Part::H1 => ymd(year, 9, 30),
            Part::H2 => ymd(year + 1, 3, 31),
        }
    }
    /// What the part is, in German: «Sockelbeitrag 2023», «1. Halbjahr 2023».
    pub fn basis(self, year: i32) -> String {
        match self {
            Part::Year => format!("Sockelbeitrag {year}"),
            Part::H1 => Period::new(year, 1).label(),
            Part::H2 => Period::new(year, 2).label(),
        }
    }
}

/// The regular Stichtage of the payout calendar (4.5.2): 31.03. and 30.09.
pub fn is_regular_stichtag(d: NaiveDate) -> bool {
    (d.month(), d.day()) == (3, 31) || (d.month(), d.day()) == (9, 30)
}

/// The regular payout runs at which the amounts of year `y` fall due: the Sockelbeitrag on
/// 31.03.y, H1 on 30.09.y, H2 on 31.03.(y+1).
pub fn runs_of_year(y: i32) -> [NaiveDate; 3] {
    [Part::Year.payout_date(y), Part::H1.payout_date(y), Part::H2.payout_date(y)]
}

/// Days from an invoice's date to its due date (4.7).
pub const DAYS_TO_PAY: i64 = 30;

/// The date of a run's invoices: the day the run is booked, never before its Stichtag.
pub fn invoice_date(stichtag: NaiveDate, booked_on: NaiveDate) -> NaiveDate {
    stichtag.max(booked_on)
}

/// The due date of an invoice dated `date`: 30 days later (4.7).
pub fn invoice_due(date: NaiveDate) -> NaiveDate {
    date + Duration::days(DAYS_TO_PAY)
}

/// An invoice's date from its due date (the inverse of [`invoice_due`]).
pub fn invoice_date_of_due(due: NaiveDate) -> NaiveDate {
    due - Duration::days(DAYS_TO_PAY)
}

/// What a component booking pays for: municipality, year, part and component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub bfs: Bfs,
    pub year: i32,
    pub part: Part,
    pub component: TariffCode,
}

impl Key {
    pub fn periode(&self) -> Periode {
        Periode { year: self.year, part: self.part }
    }
}

/// A source file and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    pub datei: String,
    pub sha256: String,
}

/// What the evaluation says is due for one key.
#[derive(Debug, Clone, PartialEq)]
pub struct DueItem {
    pub key: Key,
    pub payee: Bfs,
    /// Amount the evaluation pays now (0 when not eligible).
    pub amount: Chf,
    /// Withheld (a Fehler, a missing Selbstdeklaration, `LEIT_SUMME`): not due now, nothing
    /// is booked; the German reason of compute's statement.
    pub withheld: Option<String>,
    pub count: Option<u64>,
    /// The tariff applied, e.g. `FALL_EG 200.00 CHF (gültig ab 01.01.2017)`.
    pub tariff: String,
    pub evidence: Vec<Evidence>,
}

/// A clawback (4.7) decided by the Stichtag and not yet booked.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenClawback {
    /// The decision's identity (the ledger's reference of the clawback).
    pub reference: String,
    pub bfs: Bfs,
    pub payee: Bfs,
    /// Positive amount the municipality owes.
    pub amount: Chf,
    pub reason: String,
    pub decided_on: NaiveDate,
}

/// The regular payout run at which a claim decided on `d` is offset: the first 31.03. or
/// 30.09. on or after `d`.
pub fn first_run_on_or_after(d: NaiveDate) -> NaiveDate {
    [ymd(d.year(), 3, 31), ymd(d.year(), 9, 30)].into_iter().find(|r| *r >= d).unwrap_or(ymd(d.year() + 1, 3, 31))
}

/// What a booking is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Art {
    /// A positive difference: paid now.
    Auszahlung,
    /// A negative difference: an overpayment, offset or invoiced.
    Korrektur,
    /// A clawback from the master data (4.7).
    Rueckforderung,
    /// The part of the claims that exceeds the payout (4.7).
    Rechnung,
    /// The reversal of a booking.
    Storno,
    /// Money received on an invoice.
    Zahlungseingang,
}

impl Art {
    pub fn as_str(self) -> &'static str {
        match self {
            Art::Auszahlung => "Auszahlung",
            Art::Korrektur => "Korrektur",
            Art::Rueckforderung => "Rückforderung",
            Art::Rechnung => "Rechnung",
            Art::Storno => "Storno",
            Art::Zahlungseingang => "Zahlungseingang",
        }
    }
    pub fn parse(s: &str) -> Option<Art> {
        [Art::Auszahlung, Art::Korrektur, Art::Rueckforderung, Art::Rechnung, Art::Storno, Art::Zahlungseingang]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// The period a booking belongs to (the ledger's `periode`): a year (the Sockelbeitrag, a
/// clawback, an invoice, a receipt) or one of its half-years. Stored as `2023`, `2023/H1`, `2023/H2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Periode {
    pub year: i32,
    pub part: Part,
}

impl Periode {
    /// The whole year.
    pub fn year(year: i32) -> Periode {
        Periode { year, part: Part::Year }
    }
    pub fn parse(s: &str) -> Option<Periode> {
        let (year, part) = Part::parse(s)?;
        Some(Periode { year, part })
    }
}

impl std::fmt::Display for Periode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.part.label(self.year))
    }
}

/// What a booking pays or claims for (the ledger's `leistung`): a component of the flat
/// rates (4.3), a clawback (4.7) or the invoice of what the offset did not cover (4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leistung {
    Tarif(TariffCode),
    Rueckforderung,
    Rechnung,
}

impl Leistung {
    /// The stored text: the tariff code, `RUECKFORDERUNG` or `RECHNUNG`.
    pub fn as_str(self) -> &'static str {
        match self {
            Leistung::Tarif(c) => c.as_str(),
            Leistung::Rueckforderung => "RUECKFORDERUNG",
            Leistung::Rechnung => "RECHNUNG",
        }
    }
    pub fn parse(s: &str) -> Option<Leistung> {
        match s {
            "RUECKFORDERUNG" => Some(Leistung::Rueckforderung),
            "RECHNUNG" => Some(Leistung::Rechnung),
            _ => TariffCode::parse(s).map(Leistung::Tarif),
        }
    }
    /// The component, for a booking of the flat rates.
    pub fn tariff(self) -> Option<TariffCode> {
        match self {
            Leistung::Tarif(c) => Some(c),
            _ => None,
        }
    }
    /// Whether the booking is part of what a municipality receives for a year (Anhang Nr. 1):
    /// the flat rates and the clawbacks; an invoice and its receipts only move that money.
    pub fn is_contribution(self) -> bool {
        !matches!(self, Leistung::Rechnung)
    }
}

impl std::fmt::Display for Leistung {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference that does not fit its booking's kind and service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BezugMismatch;

/// What a booking refers to (the ledger's `bezug`), one meaning per kind of booking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bezug {
    /// A clawback, and the Storno of one: the clawback's reference in the master data, so a
    /// reversed clawback counts as open again.
    Rueckforderung(String),
    /// An invoice: its number (`2024-0001`), given when it is booked.
    Rechnungsnummer(String),
    /// A receipt: the invoice it pays (its number, or the first 16 characters of its booking id
    /// for invoices booked before numbers were given).
    Rechnung(String),
    /// Any other Storno: the id of the booking it reverses.
    Storniert(String),
}

impl Bezug {
    /// The stored text.
    pub fn as_str(&self) -> &str {
        match self {
            Bezug::Rueckforderung(s) | Bezug::Rechnungsnummer(s) | Bezug::Rechnung(s) | Bezug::Storniert(s) => s,
        }
    }
    /// The reference as the booking's kind and service give it meaning (`None`: the kind has
    /// none); [`BezugMismatch`] when a reference is missing where one is required or present
    /// where none belongs.
    pub fn of(art: Art, leistung: Leistung, text: Option<String>) -> Result<Option<Bezug>, BezugMismatch> {
        match (art, leistung, text) {
            (Art::Auszahlung | Art::Korrektur, _, None) => Ok(None),
            (Art::Rueckforderung, Leistung::Rueckforderung, Some(t))
            | (Art::Storno, Leistung::Rueckforderung, Some(t)) => Ok(Some(Bezug::Rueckforderung(t))),
            // Invoices booked before numbers were given have none.
            (Art::Rechnung, Leistung::Rechnung, t) => Ok(t.map(Bezug::Rechnungsnummer)),
            (Art::Zahlungseingang, Leistung::Rechnung, Some(t)) => Ok(Some(Bezug::Rechnung(t))),
            (Art::Storno, _, Some(t)) => Ok(Some(Bezug::Storniert(t))),
            _ => Err(BezugMismatch),
        }
    }
    /// The clawback's reference.
    pub fn rueckforderung(b: Option<&Bezug>) -> Option<&str> {
        match b {
            Some(Bezug::Rueckforderung(s)) => Some(s),
            _ => None,
        }
    }
    /// The id of the booking a Storno reverses.
    pub fn storniert(b: Option<&Bezug>) -> Option<&str> {
        match b {
            Some(Bezug::Storniert(s)) => Some(s),
            _ => None,
        }
    }
}

/// A booking the run will make.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedBooking {
    pub payee: Bfs,
    pub bfs: Bfs,
    pub periode: Periode,
    pub leistung: Leistung,
    pub art: Art,
    /// CHF; positive raises the payout, negative is money back to the canton.
    pub betrag: Chf,
    pub count: Option<u64>,
    pub tariff: String,
    pub evidence: Vec<Evidence>,
    /// The clawback this books (Rückforderung); an invoice's number once it is booked.
    pub bezug: Option<Bezug>,
    /// Due date of an invoice.
    pub due_on: Option<NaiveDate>,
    pub text: String,
}

/// One line of the detail: a key, what is due, what was booked before, what happens now.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub key: Key,
    pub payee: Bfs,
    pub due: Chf,
    pub booked_before: Chf,
    /// Booked now (0 when withheld).
    pub now: Chf,
    pub withheld: Option<String>,
    pub count: Option<u64>,
    pub tariff: String,
}

/// How a payee's claims meet its payout in one run (4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settlement {
    /// Claims offset against the payout.
    pub offset: Chf,
    /// What is transferred: gross − offset.
    pub transfer: Chf,
    /// What exceeds the payout: invoiced.
    pub invoice: Chf,
}

/// The one offset rule: the claims (≥ 0) are offset against the payout (≥ 0) as far as it
/// goes; the rest is invoiced.
pub fn settle(gross: Chf, claims: Chf) -> Result<Settlement, Overflow> {
    let offset = claims.min(gross).max(Chf::ZERO);
    Ok(Settlement { offset, transfer: sub(gross, offset)?, invoice: sub(claims, offset)? })
}

/// The result of a run for one payee.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PayeeResult {
    pub payee: Bfs,
    /// Sum of positive differences.
    pub gross: Chf,
    /// Sum of negative differences and clawbacks, as a positive amount.
    pub claims: Chf,
    /// Claims offset against the gross payout.
    pub offset: Chf,
    /// What is transferred: gross − offset.
    pub transfer: Chf,
    /// What exceeds the payout: invoiced.
    pub invoice: Chf,
}

/// The whole run, computed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub lines: Vec<Line>,
    pub clawbacks: Vec<OpenClawback>,
    pub payees: Vec<PayeeResult>,
    pub bookings: Vec<PlannedBooking>,
    /// The date of the run's invoices (the booking day, never before the Stichtag).
    pub invoice_date: Option<NaiveDate>,
    pub invoice_due: Option<NaiveDate>,
    pub totals: Totals,
}

/// A plan's totals over its payees (checked when the plan is made).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    pub transfer: Chf,
    pub offset: Chf,
    pub invoiced: Chf,
}

impl Plan {
    /// What the run transfers (the pain.001's control sum).
    pub fn total_transfer(&self) -> Chf {
        self.totals.transfer
    }
    pub fn total_invoiced(&self) -> Chf {
        self.totals.invoiced
    }
    pub fn total_offset(&self) -> Chf {
        self.totals.offset
    }
}

/// What a run is planned from.
#[derive(Debug, Clone, Copy)]
pub struct RunInput<'a> {
    pub stichtag: NaiveDate,
    /// The day the run is booked (dates its invoices).
    pub booked_on: NaiveDate,
    /// What the evaluation says is due by the Stichtag.
    pub due: &'a [DueItem],
    /// The (year, part)s the evaluation covered: a key booked in one of them that the
    /// evaluation no longer names (a municipality merged away) is due 0.
    pub evaluated: &'a BTreeSet<(i32, Part)>,
    /// The ledger's net sum per key.
    pub booked: &'a BTreeMap<Key, Chf>,
    /// The payee of each key's latest booking: a withheld line stays with the payee that was paid;
    /// a correction goes to the payee the evaluation names now ([`RunInput::gone_payee`] for a
    /// municipality it no longer names).
    pub booked_payee: &'a BTreeMap<Key, Bfs>,
    /// Who answers now for a municipality the evaluation no longer names (its successor's
    /// payee); without an entry, the payee that was paid.
    pub gone_payee: &'a BTreeMap<Bfs, Bfs>,
    /// Clawbacks decided by the Stichtag and not yet booked.
    pub clawbacks: &'a [OpenClawback],
}

/// The (year, part)s of due items.
pub fn evaluated_parts(due: &[DueItem]) -> BTreeSet<(i32, Part)> {
    due.iter().map(|d| (d.key.year, d.key.part)).collect()
}

/// Computes a run: what is due now minus what was booked gives payments and corrections;
/// the claims are offset per payee and the rest is invoiced ([`settle`]).
pub fn plan(input: &RunInput<'_>) -> Result<Plan, Overflow> {
    let by_key: BTreeMap<Key, &DueItem> = input.due.iter().map(|d| (d.key, d)).collect();
    let keys: BTreeSet<Key> = by_key.keys().chain(input.booked.keys()).copied().collect();
    let mut lines = Vec::new();
    let mut bookings = Vec::new();
    for key in keys {
        let before = input.booked.get(&key).copied().unwrap_or(Chf::ZERO);
        let gone;
        let item = match by_key.get(&key) {
            Some(item) => *item,
            // Booked for a period the evaluation covers, but no longer named by it (a
            // municipality merged away since): nothing is due for it any more.
            None if input.evaluated.contains(&(key.year, key.part)) && !before.is_zero() => {
                let paid = input.booked_payee.get(&key).copied().unwrap_or(key.bfs);
                gone = DueItem {
                    key,
                    payee: input.gone_payee.get(&key.bfs).copied().unwrap_or(paid),
                    amount: Chf::ZERO,
                    withheld: None,
                    count: None,
                    tariff: String::new(),
                    evidence: Vec::new(),
                };
                &gone
            }
            // A period not evaluated stays as booked.
            None => continue,
        };
        let due_now = item.amount;
        if due_now.is_zero() && before.is_zero() && item.withheld.is_none() {
            continue;
        }
        let now = if item.withheld.is_some() { Chf::ZERO } else { sub(due_now, before)? };
        let payee = if item.withheld.is_none() || before.is_zero() {
            item.payee
        } else {
            input.booked_payee.get(&key).copied().unwrap_or(item.payee)
        };
        lines.push(Line {
            key,
            payee,
            due: due_now,
            booked_before: before,
            now,
            withheld: item.withheld.clone(),
            count: item.count,
            tariff: item.tariff.clone(),
        });
        if !now.is_zero() {
            let art = if now > Chf::ZERO { Art::Auszahlung } else { Art::Korrektur };
            let text = match art {
                Art::Auszahlung if before.is_zero() => "Auszahlung".to_string(),
                Art::Auszahlung => format!("Nachzahlung (bisher gebucht {before})"),
                _ => format!("Korrektur: bisher gebucht {before}, geschuldet {due_now}"),
            };
            bookings.push(PlannedBooking {
                payee,
                bfs: key.bfs,
                periode: key.periode(),
                leistung: Leistung::Tarif(key.component),
                art,
                betrag: now,
                count: item.count,
                tariff: item.tariff.clone(),
                evidence: item.evidence.clone(),
                bezug: None,
                due_on: None,
                text,
            });
        }
    }
    for c in input.clawbacks {
        bookings.push(PlannedBooking {
            payee: c.payee,
            bfs: c.bfs,
            periode: Periode::year(c.decided_on.year()),
            leistung: Leistung::Rueckforderung,
            art: Art::Rueckforderung,
            betrag: -c.amount,
            count: None,
            tariff: String::new(),
            evidence: Vec::new(),
            bezug: Some(Bezug::Rueckforderung(c.reference.clone())),
            due_on: None,
            text: format!("{} (verfügt am {})", c.reason, fmt_date(c.decided_on)),
        });
    }
    // Offsets per payee.
    let mut per: BTreeMap<Bfs, PayeeResult> = BTreeMap::new();
    for b in &bookings {
        let e = per.entry(b.payee).or_insert_with(|| PayeeResult { payee: b.payee, ..Default::default() });
        if b.betrag > Chf::ZERO {
            e.gross = add(e.gross, b.betrag)?;
        } else {
            e.claims = sub(e.claims, b.betrag)?;
        }
    }
    let date = invoice_date(input.stichtag, input.booked_on);
    let due_on = invoice_due(date);
    let mut any_invoice = false;
    for p in per.values_mut() {
        let s = settle(p.gross, p.claims)?;
        (p.offset, p.transfer, p.invoice) = (s.offset, s.transfer, s.invoice);
        if p.invoice > Chf::ZERO {
            any_invoice = true;
            bookings.push(PlannedBooking {
                payee: p.payee,
                bfs: p.payee,
                periode: Periode::year(date.year()),
                leistung: Leistung::Rechnung,
                art: Art::Rechnung,
                betrag: -p.invoice,
                count: None,
                tariff: String::new(),
                evidence: Vec::new(),
                bezug: None,
                due_on: Some(due_on),
                text: format!("Rechnung vom {}, zahlbar bis {}", fmt_date(date), fmt_date(due_on)),
            });
        }
    }
    let payees: Vec<PayeeResult> = per.into_values().collect();
    let totals = Totals {
        transfer: checked_sum(payees.iter().map(|p| p.transfer))?,
        offset: checked_sum(payees.iter().map(|p| p.offset))?,
        invoiced: checked_sum(payees.iter().map(|p| p.invoice))?,
    };
    Ok(Plan {
        lines,
        clawbacks: input.clawbacks.to_vec(),
        payees,
        totals,
        bookings,
        invoice_date: any_invoice.then_some(date),
        invoice_due: any_invoice.then_some(due_on),
    })
}

/// One regular run of a year's projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedRun {
    pub stichtag: NaiveDate,
    pub plan: Plan,
}

/// The payout runs of year `y` as they would book its amounts into an empty ledger: the
/// same [`plan`] at each regular Stichtag at which an amount of the year falls due
/// ([`runs_of_year`]), each run booking what the ones before did not. `clawbacks` are the
/// year's decisions, each with its payee at the run that offsets it.
pub fn project(y: i32, due: &[DueItem], clawbacks: &[OpenClawback]) -> Result<Vec<ProjectedRun>, Overflow> {
    let mut booked: BTreeMap<Key, Chf> = BTreeMap::new();
    let mut booked_payee: BTreeMap<Key, Bfs> = BTreeMap::new();
    let mut settled: BTreeSet<&str> = BTreeSet::new();
    let mut runs = Vec::new();
    for day in runs_of_year(y) {
        let items: Vec<DueItem> = due.iter().filter(|d| d.key.part.payout_date(d.key.year) <= day).cloned().collect();
        let open: Vec<OpenClawback> = clawbacks
            .iter()
            .filter(|c| c.decided_on <= day && !settled.contains(c.reference.as_str()))
            .cloned()
            .collect();
        let evaluated = evaluated_parts(&items);
        let p = plan(&RunInput {
            stichtag: day,
            booked_on: day,
            due: &items,
            evaluated: &evaluated,
            booked: &booked,
            booked_payee: &booked_payee,
            gone_payee: &BTreeMap::new(),
            clawbacks: &open,
        })?;
        for b in &p.bookings {
            if let Some(component) = b.leistung.tariff() {
                let k = Key { bfs: b.bfs, year: b.periode.year, part: b.periode.part, component };
                let e = booked.entry(k).or_insert(Chf::ZERO);
                *e = add(*e, b.betrag)?;
                booked_payee.insert(k, b.payee);
            }
        }
        settled.extend(
            clawbacks.iter().filter(|c| open.iter().any(|o| o.reference == c.reference)).map(|c| c.reference.as_str()),
        );
        runs.push(ProjectedRun { stichtag: day, plan: p });
    }
    Ok(runs)
}

/// A booking of a run as the invoice reads it (planned or stored).
#[derive(Debug, Clone, Copy)]
pub struct RunBooking<'a> {
    pub payee: Bfs,
    pub bfs: Bfs,
    pub periode: Periode,
    pub art: Art,
    pub betrag: Chf,
    pub text: &'a str,
    pub bezug: Option<&'a Bezug>,
    pub due_on: Option<NaiveDate>,
}

impl<'a> From<&'a PlannedBooking> for RunBooking<'a> {
    fn from(b: &'a PlannedBooking) -> Self {
        RunBooking {
            payee: b.payee,
            bfs: b.bfs,
            periode: b.periode,
            art: b.art,
            betrag: b.betrag,
            text: &b.text,
            bezug: b.bezug.as_ref(),
            due_on: b.due_on,
        }
    }
}

/// A claim an invoice lists: a clawback or a correction, as a positive amount.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub bfs: Bfs,
    pub art: Art,
    pub periode: String,
    pub text: String,
    /// The clawback decision (Rückforderung).
    pub reference: Option<String>,
    pub amount: Chf,
}

/// An invoice of a run with its calculation (4.7): the claims, what the run's payout
/// covered, the rest invoiced. Built from the run's bookings, so the booked run and a
/// reprint from the ledger render the same document.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceDoc {
    /// The invoice number (`2023-0007`); `None` in a preview (assigned when booked).
    pub number: Option<String>,
    pub payee: Bfs,
    pub stichtag: NaiveDate,
    pub date: NaiveDate,
    pub due_on: NaiveDate,
    pub claims: Vec<Claim>,
    /// What the run pays the payee before the offset.
    pub gross: Chf,
    /// Offset against that payout on the run's Stichtag.
    pub offset: Chf,
    /// Invoiced.
    pub amount: Chf,
}

/// The invoices of one run, from its bookings.
pub fn invoice_docs(stichtag: NaiveDate, rows: &[RunBooking<'_>]) -> Result<Vec<InvoiceDoc>, Overflow> {
    let mut out = Vec::new();
    for inv in rows.iter().filter(|b| b.art == Art::Rechnung) {
        let mine: Vec<&RunBooking<'_>> =
            rows.iter().filter(|b| b.payee == inv.payee && b.art != Art::Rechnung).collect();
        let gross = checked_sum(mine.iter().filter(|b| b.betrag > Chf::ZERO).map(|b| b.betrag))?;
        let claims: Vec<Claim> = mine
            .iter()
            .filter(|b| b.betrag < Chf::ZERO)
            .map(|b| Claim {
                bfs: b.bfs,
                art: b.art,
                periode: b.periode.to_string(),
                text: b.text.to_string(),
                reference: Bezug::rueckforderung(b.bezug).map(str::to_string),
                amount: -b.betrag,
            })
            .collect();
        let s = settle(gross, checked_sum(claims.iter().map(|c| c.amount))?)?;
        let due_on = inv.due_on.unwrap_or(invoice_due(stichtag));
        out.push(InvoiceDoc {
            number: inv.bezug.map(|b| b.as_str().to_string()),
            payee: inv.payee,
            stichtag,
            date: invoice_date_of_due(due_on),
            due_on,
            claims,
            gross,
            offset: s.offset,
            amount: -inv.betrag,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(bfs: Bfs, part: Part, c: TariffCode, amount: i64) -> DueItem {
        DueItem {
            key: Key { bfs, year: 2023, part, component: c },
            payee: bfs,
            amount: Chf::from_int(amount),
            withheld: None,
            count: None,
            tariff: String::new(),
            evidence: vec![],
        }
    }

    fn claw(bfs: Bfs, amount: i64, decided_on: NaiveDate) -> OpenClawback {
        OpenClawback {
            reference: format!("r{bfs}-{decided_on}"),
            bfs,
            payee: bfs,
            amount: Chf::from_int(amount),
            reason: "x".into(),
            decided_on,
        }
    }

    fn run(
        day: NaiveDate,
        booked_on: NaiveDate,
        due: &[DueItem],
        booked: &BTreeMap<Key, Chf>,
        claws: &[OpenClawback],
    ) -> Plan {
        let evaluated = evaluated_parts(due);
        plan(&RunInput {
            stichtag: day,
            booked_on,
            due,
            evaluated: &evaluated,
            booked,
            booked_payee: &BTreeMap::new(),
            gone_payee: &BTreeMap::from([(9, 1)]),
            clawbacks: claws,
        })
        .unwrap()
    }

    /// Municipality 1: due 600, booked 400 → +200, and a clawback of 500. Municipality 2: due
    /// 200, booked 600 → −400, and H2 1000.
    fn example_run() -> Plan {
        let k1 = Key { bfs: 1, year: 2023, part: Part::H1, component: TariffCode::FallEg };
        let k2 = Key { bfs: 2, year: 2023, part: Part::H1, component: TariffCode::FallEg };
        let due = vec![
            item(1, Part::H1, TariffCode::FallEg, 600),
            item(2, Part::H1, TariffCode::FallEg, 200),
            item(2, Part::H2, TariffCode::FallEg, 1000),
        ];
        let booked = BTreeMap::from([(k1, Chf::from_int(400)), (k2, Chf::from_int(600))]);
        run(ymd(2024, 3, 31), ymd(2024, 3, 31), &due, &booked, &[claw(1, 500, ymd(2024, 1, 10))])
    }

    #[test]
    fn differences_offsets_and_invoice() {
        let p = example_run();
        // Payee 1: gross 200, claims 500 → transfer 0, invoice 300.
        assert_eq!(p.payees[0].transfer, Chf::ZERO);
        assert_eq!(p.payees[0].invoice, Chf::from_int(300));
        // Payee 2: gross 1000, claims 400 → transfer 600.
        assert_eq!(p.payees[1].transfer, Chf::from_int(600));
        assert_eq!(p.payees[1].offset, Chf::from_int(400));
        assert_eq!(p.invoice_due, Some(ymd(2024, 4, 30)));
    }

    #[test]
    fn an_invoice_is_dated_on_the_booking_day_never_before_the_stichtag() {
        let due = vec![item(1, Part::H1, TariffCode::FallEg, 200)];
        let c = [claw(1, 500, ymd(2023, 9, 1))];
        let booked = BTreeMap::new();
        // Booked on 02.10.2023: dated 02.10., due 01.11.2023.
        let p = run(ymd(2023, 9, 30), ymd(2023, 10, 2), &due, &booked, &c);
        assert_eq!((p.invoice_date, p.invoice_due), (Some(ymd(2023, 10, 2)), Some(ymd(2023, 11, 1))));
        // Booked on the Stichtag: dated the Stichtag.
        let p = run(ymd(2023, 9, 30), ymd(2023, 9, 30), &due, &booked, &c);
        assert_eq!((p.invoice_date, p.invoice_due), (Some(ymd(2023, 9, 30)), Some(ymd(2023, 10, 30))));
        // A booking day before the Stichtag (a replay set wrong) still dates it on the Stichtag.
        let p = run(ymd(2023, 9, 30), ymd(2023, 9, 29), &due, &booked, &c);
        assert_eq!(p.invoice_date, Some(ymd(2023, 9, 30)));
    }

    #[test]
    fn settle_offsets_up_to_the_payout_and_invoices_the_rest() {
        let d = |n: i64| Chf::from_int(n);
        let s = |g, c| settle(d(g), d(c)).unwrap();
        assert_eq!(s(500, 499), Settlement { offset: d(499), transfer: d(1), invoice: d(0) });
        assert_eq!(s(500, 500), Settlement { offset: d(500), transfer: d(0), invoice: d(0) });
        assert_eq!(s(500, 501), Settlement { offset: d(500), transfer: d(0), invoice: d(1) });
        assert_eq!(s(0, 0), Settlement::default());
    }

    #[test]
    fn withheld_items_book_nothing() {
        let mut i = item(1, Part::H1, TariffCode::FallEg, 0);
        i.withheld = Some("Fehler".into());
        let k = i.key;
        let p = run(ymd(2024, 3, 31), ymd(2024, 3, 31), &[i], &BTreeMap::from([(k, Chf::from_int(400))]), &[]);
        assert!(p.bookings.is_empty());
        assert_eq!(p.lines[0].now, Chf::ZERO);
    }

    #[test]
    fn a_key_booked_in_an_evaluated_period_that_is_no_longer_due_is_corrected_to_zero() {
        // Municipality 9 was paid its Sockelbeitrag 2023 and has merged away since: the
        // evaluation of 2023 no longer names it.
        let gone = Key { bfs: 9, year: 2023, part: Part::Year, component: TariffCode::Sockel };
        let other_year = Key { bfs: 9, year: 2022, part: Part::Year, component: TariffCode::Sockel };
        let booked = BTreeMap::from([(gone, Chf::from_int(84)), (other_year, Chf::from_int(70))]);
        let due = vec![item(1, Part::Year, TariffCode::Sockel, 910)];
        let p = run(ymd(2023, 9, 30), ymd(2023, 9, 30), &due, &booked, &[]);
        let b: Vec<_> = p.bookings.iter().filter(|b| b.bfs == 9).collect();
        assert_eq!(b.len(), 1, "only 2023 is evaluated; 2022 stays as booked");
        assert_eq!(
            (b[0].art, b[0].betrag, b[0].periode.to_string()),
            (Art::Korrektur, Chf::from_int(-84), "2023".to_string())
        );
        // Offset against what its successor's payee (1) is paid now: 910 − 84.
        assert_eq!(b[0].payee, 1);
        assert_eq!((p.payees[0].payee, p.payees[0].transfer), (1, Chf::from_int(826)));
        assert!(p.bookings.iter().all(|b| b.art != Art::Rechnung));
    }

    #[test]
    fn the_first_run_on_or_after_a_decision() {
        assert_eq!(first_run_on_or_after(ymd(2023, 3, 31)), ymd(2023, 3, 31));
        assert_eq!(first_run_on_or_after(ymd(2023, 4, 1)), ymd(2023, 9, 30));
        assert_eq!(first_run_on_or_after(ymd(2023, 9, 30)), ymd(2023, 9, 30));
        assert_eq!(first_run_on_or_after(ymd(2023, 10, 1)), ymd(2024, 3, 31));
        assert_eq!(first_run_on_or_after(ymd(2023, 1, 1)), ymd(2023, 3, 31));
        assert!(is_regular_stichtag(ymd(2023, 3, 31)) && is_regular_stichtag(ymd(2023, 9, 30)));
        assert!(!is_regular_stichtag(ymd(2023, 4, 1)) && !is_regular_stichtag(ymd(2023, 3, 30)));
    }

    #[test]
    fn a_projection_offsets_a_clawback_at_the_first_run_on_or_after_its_decision() {
        // Sockel 700 on 31.03., H1 1000 on 30.09., H2 400 on 31.03. of the next year.
        let due = vec![
            item(1, Part::Year, TariffCode::Sockel, 700),
            item(1, Part::H1, TariffCode::FallEg, 1000),
            item(1, Part::H2, TariffCode::FallEg, 400),
        ];
        let gross = |runs: &[ProjectedRun]| -> Vec<(Chf, Chf, Chf)> {
            runs.iter()
                .map(|r| r.plan.payees.first().map(|p| (p.gross, p.offset, p.invoice)).unwrap_or_default())
                .collect()
        };
        let d = |n: i64| Chf::from_int(n);
        // Decided on the Stichtag 31.03.: offset at once against the Sockelbeitrag (700),
        // the rest (100) invoiced by that run; never offset later.
        let runs = project(2023, &due, &[claw(1, 800, ymd(2023, 3, 31))]).unwrap();
        assert_eq!(gross(&runs), vec![(d(700), d(700), d(100)), (d(1000), d(0), d(0)), (d(400), d(0), d(0))]);
        assert_eq!(runs[0].plan.invoice_due, Some(ymd(2023, 4, 30)));
        // Decided the day after: offset on 30.09. against H1.
        let runs = project(2023, &due, &[claw(1, 800, ymd(2023, 4, 1))]).unwrap();
        assert_eq!(gross(&runs), vec![(d(700), d(0), d(0)), (d(1000), d(800), d(0)), (d(400), d(0), d(0))]);
        // Decided on 01.10.: offset on 31.03. of the next year; 400 covered, 100 invoiced.
        let runs = project(2023, &due, &[claw(1, 500, ymd(2023, 10, 1))]).unwrap();
        assert_eq!(gross(&runs), vec![(d(700), d(0), d(0)), (d(1000), d(0), d(0)), (d(400), d(400), d(100))]);
        assert_eq!(runs[2].plan.invoice_due, Some(ymd(2024, 4, 30)));
    }

    #[test]
    fn an_invoice_document_shows_the_claims_the_offset_and_the_rest() {
        let due = vec![item(1, Part::H1, TariffCode::FallEg, 200)];
        let p = run(ymd(2023, 9, 30), ymd(2023, 10, 2), &due, &BTreeMap::new(), &[claw(1, 500, ymd(2023, 9, 1))]);
        let rows: Vec<RunBooking<'_>> = p.bookings.iter().map(RunBooking::from).collect();
        let docs = invoice_docs(ymd(2023, 9, 30), &rows).unwrap();
        assert_eq!(docs.len(), 1);
        let doc = &docs[0];
        assert_eq!((doc.gross, doc.offset, doc.amount), (Chf::from_int(200), Chf::from_int(200), Chf::from_int(300)));
        assert_eq!((doc.date, doc.due_on), (ymd(2023, 10, 2), ymd(2023, 11, 1)));
        assert_eq!(doc.claims.len(), 1);
        assert_eq!(doc.claims[0].amount, Chf::from_int(500));
    }

    #[test]
    fn a_plans_totals_sum_its_payees_and_each_difference_is_booked_as_what_it_is() {
        // The run of `differences_offsets_and_invoice`: payee 1 gross 200, claims 500 (offset
        // 200, transfer 0, invoice 300); payee 2 gross 1000, claims 400 (offset 400, transfer 600).
        let p = example_run();
        let d = |n: i64| Chf::from_int(n);
        assert_eq!((p.total_transfer(), p.total_offset(), p.total_invoiced()), (d(600), d(600), d(300)));
        let arts: Vec<(Bfs, String, Art, Chf)> =
            p.bookings.iter().map(|b| (b.bfs, b.periode.to_string(), b.art, b.betrag)).collect();
        assert_eq!(
            arts,
            vec![
                (1, "2023/H1".to_string(), Art::Auszahlung, d(200)),
                (2, "2023/H1".to_string(), Art::Korrektur, d(-400)),
                (2, "2023/H2".to_string(), Art::Auszahlung, d(1000)),
                (1, "2024".to_string(), Art::Rueckforderung, d(-500)),
                (1, "2024".to_string(), Art::Rechnung, d(-300)),
            ]
        );
    }

    #[test]
    fn a_difference_is_booked_to_the_payee_the_evaluation_names_a_withheld_line_names_the_one_paid() {
        // Municipality 3's 2023/H1 was paid (400) to payee 5; the evaluation now names payee 1.
        let k = Key { bfs: 3, year: 2023, part: Part::H1, component: TariffCode::FallEg };
        let booked = BTreeMap::from([(k, Chf::from_int(400))]);
        let booked_payee = BTreeMap::from([(k, 5)]);
        let mut i = item(3, Part::H1, TariffCode::FallEg, 600);
        i.payee = 1;
        let plan_of = |due: &[DueItem], booked: &BTreeMap<Key, Chf>| {
            plan(&RunInput {
                stichtag: ymd(2024, 3, 31),
                booked_on: ymd(2024, 3, 31),
                due,
                evaluated: &evaluated_parts(due),
                booked,
                booked_payee: &booked_payee,
                gone_payee: &BTreeMap::new(),
                clawbacks: &[],
            })
            .unwrap()
        };
        // Due 600, booked 400: the 200 go to payee 1, who is paid them.
        let p = plan_of(std::slice::from_ref(&i), &booked);
        assert_eq!((p.lines[0].payee, p.bookings.len()), (1, 1));
        assert_eq!((p.bookings[0].payee, p.bookings[0].betrag), (1, Chf::from_int(200)));
        assert_eq!((p.payees.len(), p.payees[0].payee, p.payees[0].transfer), (1, 1, Chf::from_int(200)));
        // Withheld now: nothing is booked, and the line names payee 5, which holds the 400.
        i.withheld = Some("Fehler".into());
        let p = plan_of(std::slice::from_ref(&i), &booked);
        assert_eq!((p.lines[0].payee, p.lines[0].now, p.bookings.len()), (5, Chf::ZERO, 0));
        // Withheld and nothing booked before: the line names payee 1.
        let p = plan_of(std::slice::from_ref(&i), &BTreeMap::new());
        assert_eq!((p.lines[0].payee, p.bookings.len()), (1, 0));
    }

    #[test]
    fn what_each_part_pays_for() {
        assert_eq!(Part::Year.basis(2023), "Sockelbeitrag 2023");
        assert_eq!(Part::H1.basis(2023), "1. Halbjahr 2023");
        assert_eq!(Part::H2.basis(2023), "2. Halbjahr 2023");
    }

    #[test]
    fn sums_that_leave_the_range_are_an_error_not_a_panic() {
        let mut a = item(1, Part::H1, TariffCode::FallEg, 0);
        a.amount = Chf::new(rust_decimal::Decimal::MAX);
        let b = item(1, Part::H2, TariffCode::FallEg, 1);
        let evaluated = evaluated_parts(&[a.clone(), b.clone()]);
        let due = [a, b];
        let r = plan(&RunInput {
            stichtag: ymd(2024, 3, 31),
            booked_on: ymd(2024, 3, 31),
            due: &due,
            evaluated: &evaluated,
            booked: &BTreeMap::new(),
            booked_payee: &BTreeMap::new(),
            gone_payee: &BTreeMap::new(),
            clawbacks: &[],
        });
        assert_eq!(r, Err(Overflow));
    }

    #[test]
    fn the_ledger_texts_of_service_and_period_read_back() {
        for (text, l) in [
            ("FALL_EG", Leistung::Tarif(TariffCode::FallEg)),
            ("SOCKEL", Leistung::Tarif(TariffCode::Sockel)),
            ("RUECKFORDERUNG", Leistung::Rueckforderung),
            ("RECHNUNG", Leistung::Rechnung),
        ] {
            assert_eq!((Leistung::parse(text), l.as_str()), (Some(l), text));
        }
        assert_eq!(Leistung::parse("rechnung"), None);
        assert!(!Leistung::Rechnung.is_contribution() && Leistung::Rueckforderung.is_contribution());
        for (text, y, part) in [("2023", 2023, Part::Year), ("2023/H1", 2023, Part::H1), ("2024/H2", 2024, Part::H2)] {
            let p = Periode::parse(text).unwrap();
            assert_eq!((p.year, p.part, p.to_string()), (y, part, text.to_string()));
        }
        assert_eq!(Periode::parse("2023/H3"), None);
        assert_eq!(Periode::parse("2023/"), None);
    }

    #[test]
    fn a_reference_has_the_meaning_its_booking_gives_it() {
        let t = |s: &str| Some(s.to_string());
        let tarif = Leistung::Tarif(TariffCode::FallEg);
        assert_eq!(Bezug::of(Art::Auszahlung, tarif, None), Ok(None));
        assert_eq!(Bezug::of(Art::Auszahlung, tarif, t("x")), Err(BezugMismatch));
        assert_eq!(Bezug::of(Art::Korrektur, tarif, t("x")), Err(BezugMismatch));
        assert_eq!(
            Bezug::of(Art::Rueckforderung, Leistung::Rueckforderung, t("RF-1")),
            Ok(Some(Bezug::Rueckforderung("RF-1".into())))
        );
        assert_eq!(Bezug::of(Art::Rueckforderung, Leistung::Rueckforderung, None), Err(BezugMismatch));
        assert_eq!(Bezug::of(Art::Rueckforderung, tarif, t("RF-1")), Err(BezugMismatch));
        assert_eq!(Bezug::of(Art::Rechnung, Leistung::Rechnung, None), Ok(None));
        assert_eq!(
            Bezug::of(Art::Rechnung, Leistung::Rechnung, t("2024-0001")),
            Ok(Some(Bezug::Rechnungsnummer("2024-0001".into())))
        );
        assert_eq!(
            Bezug::of(Art::Zahlungseingang, Leistung::Rechnung, t("2024-0001")),
            Ok(Some(Bezug::Rechnung("2024-0001".into())))
        );
        assert_eq!(Bezug::of(Art::Zahlungseingang, Leistung::Rechnung, None), Err(BezugMismatch));
        // A Storno: of a clawback, the clawback's reference; of anything else, the booking's id.
        assert_eq!(
            Bezug::of(Art::Storno, Leistung::Rueckforderung, t("RF-1")),
            Ok(Some(Bezug::Rueckforderung("RF-1".into())))
        );
        assert_eq!(Bezug::of(Art::Storno, tarif, t("ab12")), Ok(Some(Bezug::Storniert("ab12".into()))));
        assert_eq!(Bezug::of(Art::Storno, Leistung::Rechnung, t("ab12")), Ok(Some(Bezug::Storniert("ab12".into()))));
        assert_eq!(Bezug::of(Art::Storno, tarif, None), Err(BezugMismatch));
    }

    #[test]
    fn a_reference_reads_as_what_it_is_and_prints_as_stored() {
        let claw = Bezug::Rueckforderung("VF-12".into());
        let storno = Bezug::Storniert("ab12".into());
        let number = Bezug::Rechnungsnummer("2024-0001".into());
        assert_eq!((claw.as_str(), storno.as_str(), number.as_str()), ("VF-12", "ab12", "2024-0001"));
        assert_eq!(Bezug::Rechnung("2024-0002".into()).as_str(), "2024-0002");
        assert_eq!(Bezug::rueckforderung(Some(&claw)), Some("VF-12"));
        assert_eq!(Bezug::rueckforderung(Some(&storno)), None);
        assert_eq!(Bezug::rueckforderung(None), None);
        assert_eq!(Bezug::storniert(Some(&storno)), Some("ab12"));
        assert_eq!(Bezug::storniert(Some(&claw)), None);
        assert_eq!(Bezug::storniert(None), None);
        assert_eq!(format!("{}/{}", Leistung::Rechnung, Leistung::Tarif(TariffCode::FallIg)), "RECHNUNG/FALL_IG");
    }
}
