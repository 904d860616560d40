//! Stage 5: the money. Exact decimal CHF, the tariff valid on each period's last day,
//! eligibility, clawbacks, the payout calendar (4.5.2) and the credit (4.3.4).
//! Municipalities are computed in parallel; the result does not depend on the thread count.

use crate::catalogue::finding;
use crate::domain::{
    fmt_date, ymd, Bfs, Chf, Clawback, Code, Component, Components, Finding, PaidCounts, Period, Tariff, TariffCode,
    PERIOD_COMPONENTS,
};
use crate::resolve::{Eligibility, Resolved};
use crate::stammdaten::Stammdaten;
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One half-year of one municipality.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfYear {
    pub period: Period,
    pub payee: Bfs,
    /// Whether the municipality exists on the period's last day.
    pub exists: bool,
    /// The report the figures come from (the lead's for a contract member).
    pub source: Option<String>,
    /// Counts as reported (usable values), before withholding and eligibility.
    pub reported: PaidCounts,
    /// What the reported counts are worth.
    pub computed: Components<Chf>,
    /// Counts actually paid.
    pub paid: PaidCounts,
    /// Amounts paid.
    pub amounts: Components<Chf>,
    /// Components withheld by a finding of the report.
    pub withheld: BTreeSet<Component>,
    /// The whole half-year is withheld (`LEIT_SUMME`).
    pub withheld_whole: bool,
}

impl HalfYear {
    /// The amounts added up. Each is at most [`MAX_ROW_CHF`] (checked when the row is
    /// computed), so the sum of four cannot overflow; it saturates rather than panic.
    pub fn total(&self) -> Chf {
        self.amounts.values().into_iter().fold(Decimal::ZERO, |acc, a| acc.saturating_add(a))
    }
}

/// The most one municipality's row may hold in any amount (10^15 CHF). With the count
/// ceiling and the master-data ceilings no real row comes near; a row beyond it is withheld
/// as a whole, so that the sums over all rows are bounded far inside `Decimal`'s range
/// (10 000 BFS-Nr. × 10^15 = 10^19 < 7.9 × 10^28).
pub const MAX_ROW_CHF: i64 = 1_000_000_000_000_000;

/// The clawbacks of the year by BFS-Nr.
type Claws<'a> = BTreeMap<Bfs, Vec<&'a Clawback>>;

/// An amount that left the range the program computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

fn mul(n: u64, r: Chf) -> Result<Chf, Overflow> {
    Decimal::from(n).checked_mul(r).ok_or(Overflow)
}

fn add(a: Chf, b: Chf) -> Result<Chf, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

fn sum(it: impl IntoIterator<Item = Chf>) -> Result<Chf, Overflow> {
    it.into_iter().try_fold(Decimal::ZERO, add)
}

/// The amount, if it stays within [`MAX_ROW_CHF`].
fn bounded(a: Chf) -> Result<Chf, Overflow> {
    if a.abs() <= Decimal::from(MAX_ROW_CHF) {
        Ok(a)
    } else {
        Err(Overflow)
    }
}

/// One row of the annex.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnexRow {
    pub bfs: Bfs,
    pub name: String,
    pub district: String,
    /// Payee at 31.12. of the year.
    pub payee: Bfs,
    pub base: u64,
    pub sockel: Chf,
    pub halves: [HalfYear; 2],
    /// Paid counts, H1 + H2.
    pub paid: PaidCounts,
    /// Amounts, H1 + H2.
    pub amounts: Components<Chf>,
    /// Clawbacks dated in the year, as a negative amount.
    pub clawback: Chf,
    pub total: Chf,
    pub eligibility: Eligibility,
    pub status: RowStatus,
    /// Notes on withheld amounts.
    pub notes: Vec<String>,
    /// The row's amounts left the computable range: nothing is paid or offset.
    pub out_of_range: bool,
}

/// A payment to a payee on a payout date.
#[derive(Debug, Clone, PartialEq)]
pub struct Payout {
    pub payee: Bfs,
    pub date: NaiveDate,
    pub basis: String,
    pub gross: Chf,
    /// Clawbacks offset against this payout (≥ 0).
    pub offset: Chf,
}

impl Payout {
    pub fn net(&self) -> Chf {
        self.gross - self.offset
    }
}

/// A clawback remainder to be invoiced (4.7).
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub bfs: Bfs,
    pub amount: Chf,
    pub reason: String,
}

/// A tariff and the dates it was applied for.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedTariff {
    pub tariff: Tariff,
    pub applied_on: Vec<NaiveDate>,
}

/// Everything the writers need.
#[derive(Debug, Clone, PartialEq)]
pub struct Computation {
    pub year: i32,
    pub rows: Vec<AnnexRow>,
    pub total: Chf,
    pub payouts: Vec<Payout>,
    pub invoices: Vec<Invoice>,
    pub tariffs: Vec<AppliedTariff>,
    pub credit: Option<Chf>,
    pub findings: Vec<Finding>,
}

/// The period dates that apply in year `y`: 30.06. and 31.12. (Sockelbeitrag: 31.12.).
fn rate(master: &Stammdaten, code: TariffCode, d: NaiveDate) -> Option<Chf> {
    master.tariff(code, d).map(|t| t.amount)
}

pub fn component_label(c: Component) -> &'static str {
    c.label()
}

fn name_of(master: &Stammdaten, b: Bfs) -> String {
    master.municipality(b).map(|m| m.name.clone()).unwrap_or_else(|| b.to_string())
}

fn half_year(master: &Stammdaten, resolved: &Resolved, bfs: Bfs, p: Period) -> Result<HalfYear, Overflow> {
    let day = p.last_day();
    let exists = master.municipality(bfs).is_some_and(|m| m.exists_on(day));
    let payee = master.payee(bfs, day);
    let mut h = HalfYear {
        period: p,
        payee,
        exists,
        source: None,
        reported: PaidCounts::default(),
        computed: Components::default(),
        paid: PaidCounts::default(),
        amounts: Components::default(),
        withheld: BTreeSet::new(),
        withheld_whole: false,
    };
    if !exists {
        return Ok(h);
    }
    let Some(report) = resolved.reports.get(&(payee, p)) else { return Ok(h) };
    h.source = Some(report.rel.clone());
    h.withheld_whole = report.withheld_whole;
    let Some(share) = report.shares.get(&bfs) else { return Ok(h) };
    h.withheld = share.withheld.clone();
    h.reported = share.reported;
    let eligible = resolved.eligibility(payee) == Eligibility::Eligible;
    for c in PERIOD_COMPONENTS {
        if let Some(r) = rate(master, c.tariff(), day) {
            h.computed.set(c, bounded(mul(share.reported.get(c), r)?)?);
            if eligible {
                let n = share.paid.get(c);
                h.paid.set(c, n);
                h.amounts.set(c, bounded(mul(n, r)?)?);
            }
        }
    }
    Ok(h)
}

/// A lead municipality whose Selbstdeklaration decides a member's eligibility.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub bfs: Bfs,
    pub name: String,
}

/// The status of an annex row: what compute decided about paying it. The writers show
/// it through [`RowStatus::label`], the one German wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowStatus {
    /// Eligible (4.2): the computed amounts are paid.
    Eligible,
    /// Withheld: no Selbstdeklaration for `year`, the municipality's own or (`lead`) its lead's.
    SdMissing { year: i32, lead: Option<Lead> },
    /// Not eligible: the Selbstdeklaration (own or `lead`'s) fails conditions of 4.2.
    NotEligible { lead: Option<Lead>, reasons: Vec<String> },
    /// Withheld: an amount left the range the program computes in.
    OutOfRange,
}

impl RowStatus {
    /// The status of municipality `bfs` for year `y` with eligibility `e`.
    fn of(master: &Stammdaten, y: i32, bfs: Bfs, e: &Eligibility) -> RowStatus {
        let lead = |via: Bfs| (via != bfs).then(|| Lead { bfs: via, name: name_of(master, via) });
        match e {
            Eligibility::Eligible => RowStatus::Eligible,
            Eligibility::Missing { via } => RowStatus::SdMissing { year: y, lead: lead(*via) },
            Eligibility::NotEligible { via, reasons } => {
                RowStatus::NotEligible { lead: lead(*via), reasons: reasons.clone() }
            }
        }
    }

    /// Whether the row's amounts are paid.
    pub fn is_eligible(&self) -> bool {
        *self == RowStatus::Eligible
    }

    /// The German text of the status, as every document shows it.
    pub fn label(&self) -> String {
        match self {
            RowStatus::Eligible => "berechtigt".to_string(),
            RowStatus::SdMissing { year, lead: None } => format!("zurückbehalten: Selbstdeklaration {year} fehlt"),
            RowStatus::SdMissing { year, lead: Some(l) } => {
                format!("zurückbehalten: Selbstdeklaration {year} der Leitgemeinde {} ({}) fehlt", l.name, l.bfs)
            }
            RowStatus::NotEligible { lead: None, reasons } => format!("nicht berechtigt: {}", reasons.join("; ")),
            RowStatus::NotEligible { lead: Some(l), reasons } => format!(
                "nicht berechtigt: Selbstdeklaration der Leitgemeinde {} ({}): {}",
                l.name,
                l.bfs,
                reasons.join("; ")
            ),
            RowStatus::OutOfRange => OUT_OF_RANGE.to_string(),
        }
    }
}

impl fmt::Display for RowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn row(master: &Stammdaten, claws: &Claws<'_>, resolved: &Resolved, y: i32, bfs: Bfs) -> AnnexRow {
    try_row(master, claws, resolved, y, bfs).unwrap_or_else(|Overflow| out_of_range_row(master, resolved, y, bfs))
}

/// A row whose amounts left the range the program computes in: nothing is paid, and the
/// annex says why. The master-data and count ceilings keep every real row from getting here.
fn out_of_range_row(master: &Stammdaten, resolved: &Resolved, y: i32, bfs: Bfs) -> AnnexRow {
    let m = master.municipality(bfs);
    let payee = master.payee(bfs, ymd(y, 12, 31));
    let empty = |p: Period| HalfYear {
        period: p,
        payee: master.payee(bfs, p.last_day()),
        exists: m.is_some_and(|m| m.exists_on(p.last_day())),
        source: None,
        reported: PaidCounts::default(),
        computed: Components::default(),
        paid: PaidCounts::default(),
        amounts: Components::default(),
        withheld: PERIOD_COMPONENTS.into_iter().collect(),
        withheld_whole: true,
    };
    AnnexRow {
        bfs,
        name: m.map(|m| m.name.clone()).unwrap_or_default(),
        district: m.map(|m| m.district.clone()).unwrap_or_default(),
        payee,
        base: master.sockel_base(bfs, y).unwrap_or(0),
        sockel: Decimal::ZERO,
        halves: [empty(Period::new(y, 1)), empty(Period::new(y, 2))],
        paid: PaidCounts::default(),
        amounts: Components::default(),
        clawback: Decimal::ZERO,
        total: Decimal::ZERO,
        eligibility: resolved.eligibility(payee),
        status: RowStatus::OutOfRange,
        notes: vec![OUT_OF_RANGE.to_string()],
        out_of_range: true,
    }
}

/// Status of a row withheld because its amounts left the computable range.
pub const OUT_OF_RANGE: &str =
    "zurückbehalten: ein Betrag übersteigt den Rechenbereich (Stammdaten und Formular prüfen)";

fn try_row(
    master: &Stammdaten,
    claws: &Claws<'_>,
    resolved: &Resolved,
    y: i32,
    bfs: Bfs,
) -> Result<AnnexRow, Overflow> {
    let m = master.municipality(bfs).ok_or(Overflow)?;
    let year_end = ymd(y, 12, 31);
    let payee = master.payee(bfs, year_end);
    let eligibility = resolved.eligibility(payee);
    let base = master.sockel_base(bfs, y).unwrap_or(0);
    let sockel = match (&eligibility, rate(master, TariffCode::Sockel, year_end)) {
        (Eligibility::Eligible, Some(r)) => bounded(mul(base, r)?)?,
        _ => Decimal::ZERO,
    };
    let halves =
        [half_year(master, resolved, bfs, Period::new(y, 1))?, half_year(master, resolved, bfs, Period::new(y, 2))?];
    let mut paid = PaidCounts::default();
    let mut amounts = Components::<Chf>::default();
    let mut notes = Vec::new();
    for h in &halves {
        paid = paid.checked_add(&h.paid).ok_or(Overflow)?;
        for (c, a) in h.amounts.iter() {
            amounts.set(c, bounded(add(amounts.get(c), a)?)?);
        }
        let half_eligibility = resolved.eligibility(h.payee);
        if h.exists && h.payee != payee && half_eligibility != Eligibility::Eligible {
            notes.push(format!("{}: {}", h.period.label(), RowStatus::of(master, y, bfs, &half_eligibility)));
        } else if h.withheld_whole {
            notes.push(format!(
                "{}: zurückbehalten, Vertragsgemeinden ergeben nicht die Totale (LEIT_SUMME)",
                h.period.label()
            ));
        } else if !h.withheld.is_empty() {
            let parts: Vec<&str> = h.withheld.iter().map(|c| component_label(*c)).collect();
            notes.push(format!("{}: zurückbehalten: {}", h.period.label(), parts.join(", ")));
        }
    }
    let clawback = -bounded(sum(claws.get(&bfs).into_iter().flatten().map(|c| c.amount))?)?;
    let total = bounded(add(add(sockel, sum(amounts.values())?)?, clawback)?)?;
    Ok(AnnexRow {
        bfs,
        name: m.name.clone(),
        district: m.district.clone(),
        payee,
        base,
        sockel,
        halves,
        paid,
        amounts,
        clawback,
        total,
        status: RowStatus::of(master, y, bfs, &eligibility),
        eligibility,
        notes,
        out_of_range: false,
    })
}

/// Payouts of one municipality with its clawbacks offset, and the invoice remainder.
type Flows = (Vec<Payout>, Option<Invoice>);

fn flows(master: &Stammdaten, claws: &Claws<'_>, y: i32, r: &AnnexRow) -> Result<Flows, Overflow> {
    let mut payouts = vec![Payout {
        payee: master.payee(r.bfs, ymd(y, 12, 31)),
        date: ymd(y, 3, 31),
        basis: format!("Sockelbeitrag {y}"),
        gross: r.sockel,
        offset: Decimal::ZERO,
    }];
    for h in &r.halves {
        payouts.push(Payout {
            payee: h.payee,
            date: h.period.payout_date(),
            basis: h.period.label(),
            gross: sum(h.amounts.values())?,
            offset: Decimal::ZERO,
        });
    }
    if r.out_of_range {
        return Ok((payouts, None));
    }
    let mut claws: Vec<&Clawback> = claws.get(&r.bfs).cloned().unwrap_or_default();
    claws.sort_by_key(|c| c.decided_on);
    let mut remainder = Decimal::ZERO;
    let mut reasons = Vec::new();
    for c in claws {
        let mut open = c.amount;
        for p in payouts.iter_mut().filter(|p| p.date >= c.decided_on) {
            let room = p.gross.checked_sub(p.offset).ok_or(Overflow)?;
            let take = open.min(room).max(Decimal::ZERO);
            p.offset = add(p.offset, take)?;
            open = open.checked_sub(take).ok_or(Overflow)?;
        }
        if open > Decimal::ZERO {
            remainder = add(remainder, open)?;
            reasons.push(format!("{} (verfügt am {})", c.reason, fmt_date(c.decided_on)));
        }
    }
    let invoice =
        (remainder > Decimal::ZERO).then(|| Invoice { bfs: r.bfs, amount: remainder, reason: reasons.join("; ") });
    Ok((payouts, invoice))
}

/// The run total, the payouts by payee and date, and the invoices.
fn aggregate(
    master: &Stammdaten,
    claws: &Claws<'_>,
    y: i32,
    rows: &[AnnexRow],
) -> Result<(Chf, Vec<Payout>, Vec<Invoice>), Overflow> {
    let total = sum(rows.iter().map(|r| r.total))?;
    let mut by_key: BTreeMap<(NaiveDate, Bfs, String), Payout> = BTreeMap::new();
    let mut invoices = Vec::new();
    for r in rows {
        let (ps, inv) = flows(master, claws, y, r)?;
        for p in ps {
            let e = by_key.entry((p.date, p.payee, p.basis.clone())).or_insert(Payout {
                payee: p.payee,
                date: p.date,
                basis: p.basis.clone(),
                gross: Decimal::ZERO,
                offset: Decimal::ZERO,
            });
            e.gross = add(e.gross, p.gross)?;
            e.offset = add(e.offset, p.offset)?;
        }
        invoices.extend(inv);
    }
    let payouts: Vec<Payout> = by_key.into_values().filter(|p| !p.gross.is_zero() || !p.offset.is_zero()).collect();
    Ok((total, payouts, invoices))
}

/// Computes the annex for year `y`. Every sum is checked: a row whose amounts leave the
/// computable range is withheld (see [`MAX_ROW_CHF`]); the rows then add up within range.
pub fn compute(master: &Stammdaten, resolved: &Resolved, y: i32) -> Computation {
    let bfs_list: Vec<Bfs> = master.municipalities_in(y).map(|m| m.bfs).collect();
    // The clawbacks dated in `y`, by BFS-Nr. (one pass, not one per municipality).
    let mut claws: Claws<'_> = BTreeMap::new();
    for c in master.clawbacks.iter().filter(|c| c.decided_on.year() == y) {
        claws.entry(c.bfs).or_default().push(c);
    }
    let mut rows: Vec<AnnexRow> = bfs_list.par_iter().map(|b| row(master, &claws, resolved, y, *b)).collect();
    let (total, payouts, invoices) = match aggregate(master, &claws, y, &rows) {
        Ok(a) => a,
        Err(Overflow) => {
            // Unreachable with rows bounded by MAX_ROW_CHF; should it ever happen, nothing is
            // paid rather than a wrong amount.
            rows = bfs_list.iter().map(|b| out_of_range_row(master, resolved, y, *b)).collect();
            aggregate(master, &claws, y, &rows).unwrap_or_default()
        }
    };

    // Tariffs applied.
    let mut tariffs: Vec<AppliedTariff> = Vec::new();
    for code in TariffCode::ALL {
        let days: Vec<NaiveDate> =
            if code == TariffCode::Sockel { vec![ymd(y, 12, 31)] } else { vec![ymd(y, 6, 30), ymd(y, 12, 31)] };
        for d in days {
            if let Some(t) = master.tariff(code, d) {
                match tariffs.iter_mut().find(|a| a.tariff == *t) {
                    Some(a) => a.applied_on.push(d),
                    None => tariffs.push(AppliedTariff { tariff: t.clone(), applied_on: vec![d] }),
                }
            }
        }
    }

    let credit = master.credit.get(&y).copied();
    let mut findings = Vec::new();
    if let Some(c) = credit {
        if total > c {
            findings.push(
                finding()
                    .detail(match total.checked_sub(c) {
                        Some(over) => format!("Total {total} CHF, Kredit {c} CHF, Überschreitung {over} CHF"),
                        None => format!("Total {total} CHF, Kredit {c} CHF"),
                    })
                    .build(Code::KreditUeberschritten),
            );
        }
    }
    Computation { year: y, rows, total, payouts, invoices, tariffs, credit, findings }
}
