//! Stage 5: the money. Exact decimal CHF, the tariff valid on each period's last day,
//! eligibility, clawbacks, the payout calendar (4.5.2) and the credit (4.3.4).
//! Each annex row carries its municipality's statement ([`Line`]): what was computed, paid and
//! withheld, and why ([`Reason`], typed: the status, `LEIT_SUMME`, the Fehler with their
//! codes and cells, no report, the clawback decisions). The writers render it and decide
//! nothing; each typed value has one German rendering here ([`Reason::text`], [`Note::text`],
//! [`RowStatus::label`]).
//! Municipalities are computed in parallel; the result does not depend on the thread count.

use crate::catalogue::{finding, unmet_text};
use crate::domain::{
    fmt_date, ymd, Bfs, Chf, Clawback, Code, Component, Components, Finding, PaidCounts, Period, Place, Severity,
    Tariff, TariffCode, Unmet, PERIOD_COMPONENTS,
};
use crate::payout::{first_run_on_or_after, DueItem, Evidence, Key, OpenClawback, Part};
use crate::resolve::{Eligibility, FileEntry, Resolved};
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

/// The most one municipality's row may hold in any amount (10^15 CHF). With the count
/// ceiling and the master-data ceilings no real row comes near; a row beyond it is withheld
/// as a whole, so that the sums over all rows are bounded far inside `Decimal`'s range
/// (10 000 BFS-Nr. × 10^15 = 10^19 < 7.9 × 10^28).
pub const MAX_ROW_CHF: i64 = 1_000_000_000_000_000;

/// The clawbacks of the year by BFS-Nr.
type Claws<'a> = BTreeMap<Bfs, Vec<&'a Clawback>>;

pub use crate::payout::Overflow;

fn mul(n: u64, r: Chf) -> Result<Chf, Overflow> {
    r.checked_mul(Decimal::from(n)).ok_or(Overflow)
}

fn add(a: Chf, b: Chf) -> Result<Chf, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

fn sum(it: impl IntoIterator<Item = Chf>) -> Result<Chf, Overflow> {
    it.into_iter().try_fold(Chf::ZERO, add)
}

/// The amount, if it stays within [`MAX_ROW_CHF`].
fn bounded(a: Chf) -> Result<Chf, Overflow> {
    if a.abs() <= Chf::from_int(MAX_ROW_CHF) {
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
    /// Notes on withheld amounts (the annex's `Bemerkungen`).
    pub notes: Vec<Note>,
    /// The row's amounts left the computable range: nothing is paid or offset.
    pub out_of_range: bool,
    /// What was computed, paid and withheld, line by line, and why.
    pub statement: Vec<Line>,
}

/// A note of the annex on a row's withheld amounts. The German text is [`Note::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A half-year paid to another payee than at year end, whose status withholds it.
    HalfStatus { period: Period, status: RowStatus },
    /// The half-year is withheld as a whole: the contract members' rows do not add up.
    LeitSumme { period: Period },
    /// Components of the half-year withheld by a Fehler of the report.
    Withheld { period: Period, components: Vec<Component> },
    /// The row left the range the program computes in.
    OutOfRange,
}

impl Note {
    /// The German text, as the annex shows it.
    pub fn text(&self) -> String {
        match self {
            Note::HalfStatus { period, status } => format!("{}: {}", period.label(), status.label()),
            Note::LeitSumme { period } => {
                format!("{}: zurückbehalten, Vertragsgemeinden ergeben nicht die Totale (LEIT_SUMME)", period.label())
            }
            Note::Withheld { period, components } => {
                let parts: Vec<&str> = components.iter().map(|c| component_label(*c)).collect();
                format!("{}: zurückbehalten: {}", period.label(), parts.join(", "))
            }
            Note::OutOfRange => OUT_OF_RANGE.to_string(),
        }
    }
}

/// What a line of a municipality's statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The Sockelbeitrag of the year; the count is the foreign resident population.
    Sockel,
    /// A flat rate of a half-year; the count is the one reported.
    Component { period: Period, component: Component },
    /// A half-year for which no valid Reportingformular was received.
    NoReport { period: Period },
    /// The clawbacks decided in the year (4.7), as a negative amount.
    Clawback,
}

/// One line of a municipality's statement: what it is about, the count, what the count is
/// worth by the tariff, what is paid, what is withheld, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub item: Item,
    /// The count the amount is for (`None`: no count, as for a clawback).
    pub count: Option<u64>,
    /// What the count is worth by the tariff (`None`: nothing is computed for the line).
    pub computed: Option<Chf>,
    /// What is paid (a clawback: negative).
    pub paid: Chf,
    /// `computed - paid` (`None` where nothing is computed).
    pub withheld: Option<Chf>,
    /// Why the line is not (fully) paid, the first one deciding; empty: paid as computed.
    pub reasons: Vec<Reason>,
}

impl Line {
    /// The deciding reason's German text; empty when nothing is withheld.
    pub fn reason_text(&self) -> String {
        self.reasons.first().map(Reason::text).unwrap_or_default()
    }
    /// Whether a Fehler of the report withholds the line (not the status of the municipality).
    pub fn withheld_by_report(&self) -> bool {
        self.reasons.iter().any(|r| matches!(r, Reason::LeitSumme { .. } | Reason::Fehler { .. }))
    }
}

/// Why an amount is not (fully) paid, or what a line stands for. The German text is
/// [`Reason::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The status of the payee for the year: no Selbstdeklaration, not eligible, out of range.
    Status(RowStatus),
    /// `LEIT_SUMME` in the report `file`: the whole half-year is withheld.
    LeitSumme { file: String },
    /// Fehler in the report `file` concerning the municipality: code and place of each
    /// (empty: a value that could not be used).
    Fehler { file: String, errors: Vec<(Code, Option<Place>)> },
    /// No valid Reportingformular was received for the half-year.
    NoReport,
    /// The clawback decisions of the year.
    Clawbacks(Vec<Clawback>),
}

/// Clawback decisions in German: «Doppelzahlung 2022 (verfügt am 15.03.2023); …».
fn decisions_text(cs: &[Clawback]) -> String {
    cs.iter().map(|c| format!("{} (verfügt am {})", c.reason, fmt_date(c.decided_on))).collect::<Vec<_>>().join("; ")
}

impl Reason {
    /// The German text, as the feedback workbook shows it.
    pub fn text(&self) -> String {
        match self {
            Reason::Status(s) => s.label(),
            Reason::LeitSumme { file } => {
                format!("Blatt «Vertragsgemeinden» ergibt nicht die Totale (LEIT_SUMME) in «{file}»")
            }
            Reason::Fehler { file, errors } if errors.is_empty() => format!("fehlerhafter Wert in «{file}»"),
            Reason::Fehler { file, errors } => {
                let shown: BTreeSet<String> = errors
                    .iter()
                    .map(|(code, place)| match place.as_ref().and_then(Place::pos) {
                        Some(p) => format!("{} in {}!{}", code.as_str(), p.sheet, p.a1()),
                        None => code.as_str().to_string(),
                    })
                    .collect();
                format!("Fehler in «{file}»: {}", shown.into_iter().collect::<Vec<_>>().join(", "))
            }
            Reason::NoReport => "kein gültiges Reportingformular eingegangen".to_string(),
            Reason::Clawbacks(cs) => decisions_text(cs),
        }
    }
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
    /// What is transferred (the offset never exceeds the gross amount, both bounded).
    pub fn net(&self) -> Chf {
        self.gross.saturating_sub(self.offset)
    }
}

/// A clawback remainder the projection invoices (4.7): the payee, the amount, the
/// decisions of the run that invoices it, and that run's dates. The real invoice (with its
/// number) is issued by the payout run that books it.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// The payee invoiced.
    pub bfs: Bfs,
    pub amount: Chf,
    /// The clawback decisions offset or invoiced by that run.
    pub decisions: Vec<Clawback>,
    /// The run's Stichtag (the invoice's date in the projection) and the due date.
    pub date: NaiveDate,
    pub due_on: NaiveDate,
}

impl Invoice {
    /// The German reason, as the annex, the feedback workbook and the invoice show it.
    pub fn reason(&self) -> String {
        decisions_text(&self.decisions)
    }
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
    /// The year's payout runs as [`crate::payout::project`] projects them (no ledger).
    pub payouts: Vec<Payout>,
    /// The invoices of that projection.
    pub invoices: Vec<Invoice>,
    pub tariffs: Vec<AppliedTariff>,
    pub credit: Option<Chf>,
    pub findings: Vec<Finding>,
}

impl Computation {
    /// What is paid to `payee` for the year: the totals of the rows it is the payee of at
    /// year end. Each row is bounded by [`MAX_ROW_CHF`], so the sum stays in range.
    pub fn total_to(&self, payee: Bfs) -> Chf {
        self.rows.iter().filter(|r| r.payee == payee).fold(Chf::ZERO, |acc, r| acc.saturating_add(r.total))
    }
}

impl AnnexRow {
    /// What the row's statement withholds: the sum of its lines' `withheld` (`None` only if
    /// the sum left `Decimal`'s range, which bounded rows cannot).
    pub fn withheld_total(&self) -> Option<Chf> {
        self.statement.iter().filter_map(|l| l.withheld).try_fold(Chf::ZERO, |a, w| a.checked_add(w))
    }
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
    NotEligible { lead: Option<Lead>, reasons: Vec<Unmet> },
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
            RowStatus::NotEligible { lead: None, reasons } => format!("nicht berechtigt: {}", unmet_list(reasons)),
            RowStatus::NotEligible { lead: Some(l), reasons } => format!(
                "nicht berechtigt: Selbstdeklaration der Leitgemeinde {} ({}): {}",
                l.name,
                l.bfs,
                unmet_list(reasons)
            ),
            RowStatus::OutOfRange => OUT_OF_RANGE.to_string(),
        }
    }
}

fn unmet_list(reasons: &[Unmet]) -> String {
    reasons.iter().map(unmet_text).collect::<Vec<_>>().join("; ")
}

impl fmt::Display for RowStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The inbox files by path, to look up the findings of a report.
type Files<'a> = BTreeMap<&'a str, &'a FileEntry>;

/// What a row is computed from.
struct Inputs<'a> {
    master: &'a Stammdaten,
    resolved: &'a Resolved,
    claws: &'a Claws<'a>,
    files: &'a Files<'a>,
    year: i32,
}

fn row(i: &Inputs<'_>, bfs: Bfs) -> AnnexRow {
    try_row(i, bfs).unwrap_or_else(|Overflow| out_of_range_row(i.master, i.resolved, i.year, bfs))
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
    let base = master.sockel_base(bfs, y).unwrap_or(0);
    let halves = [empty(Period::new(y, 1)), empty(Period::new(y, 2))];
    // Nothing is paid: each line says so, with what the Sockelbeitrag would have been if
    // that can be computed.
    let out = || vec![Reason::Status(RowStatus::OutOfRange)];
    let sockel = rate(master, TariffCode::Sockel, ymd(y, 12, 31)).and_then(|r| bounded(mul(base, r).ok()?).ok());
    let mut statement = vec![Line {
        item: Item::Sockel,
        count: Some(base),
        computed: sockel,
        paid: Chf::ZERO,
        withheld: sockel,
        reasons: out(),
    }];
    for h in halves.iter().filter(|h| h.exists) {
        for code in PERIOD_COMPONENTS {
            statement.push(Line {
                item: Item::Component { period: h.period, component: code },
                count: None,
                computed: None,
                paid: Chf::ZERO,
                withheld: None,
                reasons: out(),
            });
        }
    }
    AnnexRow {
        bfs,
        name: m.map(|m| m.name.clone()).unwrap_or_default(),
        district: m.map(|m| m.district.clone()).unwrap_or_default(),
        payee,
        base,
        sockel: Chf::ZERO,
        halves,
        paid: PaidCounts::default(),
        amounts: Components::default(),
        clawback: Chf::ZERO,
        total: Chf::ZERO,
        eligibility: resolved.eligibility(payee),
        status: RowStatus::OutOfRange,
        notes: vec![Note::OutOfRange],
        out_of_range: true,
        statement,
    }
}

/// Status of a row withheld because its amounts left the computable range.
pub const OUT_OF_RANGE: &str =
    "zurückbehalten: ein Betrag übersteigt den Rechenbereich (Stammdaten und Formular prüfen)";

fn try_row(i: &Inputs<'_>, bfs: Bfs) -> Result<AnnexRow, Overflow> {
    let (master, resolved, claws, y) = (i.master, i.resolved, i.claws, i.year);
    let m = master.municipality(bfs).ok_or(Overflow)?;
    let year_end = ymd(y, 12, 31);
    let payee = master.payee(bfs, year_end);
    let eligibility = resolved.eligibility(payee);
    let base = master.sockel_base(bfs, y).unwrap_or(0);
    let sockel = match (&eligibility, rate(master, TariffCode::Sockel, year_end)) {
        (Eligibility::Eligible, Some(r)) => bounded(mul(base, r)?)?,
        _ => Chf::ZERO,
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
            notes.push(Note::HalfStatus { period: h.period, status: RowStatus::of(master, y, bfs, &half_eligibility) });
        } else if h.withheld_whole {
            notes.push(Note::LeitSumme { period: h.period });
        } else if !h.withheld.is_empty() {
            notes.push(Note::Withheld { period: h.period, components: h.withheld.iter().copied().collect() });
        }
    }
    let clawback = -bounded(sum(claws.get(&bfs).into_iter().flatten().map(|c| c.amount))?)?;
    let total = bounded(add(add(sockel, sum(amounts.values())?)?, clawback)?)?;
    let status = RowStatus::of(master, y, bfs, &eligibility);
    let sockel_line = {
        let computed = match rate(master, TariffCode::Sockel, year_end) {
            Some(r) => bounded(mul(base, r)?)?,
            None => Chf::ZERO,
        };
        let reasons = if status.is_eligible() { vec![] } else { vec![Reason::Status(status.clone())] };
        Line {
            item: Item::Sockel,
            count: Some(base),
            computed: Some(computed),
            paid: sockel,
            withheld: Some(computed.checked_sub(sockel).ok_or(Overflow)?),
            reasons,
        }
    };
    let mut statement = vec![sockel_line];
    for h in &halves {
        statement.extend(half_lines(i, bfs, h)?);
    }
    if !clawback.is_zero() {
        let decisions = claws.get(&bfs).into_iter().flatten().map(|c| (*c).clone()).collect();
        statement.push(Line {
            item: Item::Clawback,
            count: None,
            computed: None,
            paid: clawback,
            withheld: None,
            reasons: vec![Reason::Clawbacks(decisions)],
        });
    }
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
        status,
        eligibility,
        notes,
        out_of_range: false,
        statement,
    })
}

/// The statement lines of a half-year: one per component computed, paid or withheld, or
/// one saying that no valid report was received.
fn half_lines(i: &Inputs<'_>, bfs: Bfs, h: &HalfYear) -> Result<Vec<Line>, Overflow> {
    let mut out = Vec::new();
    if !h.exists {
        return Ok(out);
    }
    // The status of the half-year's payee (a contract may change during the year).
    let eligibility = i.resolved.eligibility(h.payee);
    let status = (eligibility != Eligibility::Eligible).then(|| RowStatus::of(i.master, i.year, bfs, &eligibility));
    let Some(file) = h.source.as_deref() else {
        if status.is_none() {
            out.push(Line {
                item: Item::NoReport { period: h.period },
                count: None,
                computed: None,
                paid: Chf::ZERO,
                withheld: None,
                reasons: vec![Reason::NoReport],
            });
        }
        return Ok(out);
    };
    for code in PERIOD_COMPONENTS {
        let (computed, paid) = (h.computed.get(code), h.amounts.get(code));
        let held = h.withheld.contains(&code);
        if computed.is_zero() && paid.is_zero() && !held {
            continue;
        }
        let mut reasons: Vec<Reason> = status.iter().cloned().map(Reason::Status).collect();
        if h.withheld_whole {
            reasons.push(Reason::LeitSumme { file: file.to_string() });
        } else if held {
            reasons.push(Reason::Fehler { file: file.to_string(), errors: report_errors(i, file, bfs, h.payee) });
        }
        out.push(Line {
            item: Item::Component { period: h.period, component: code },
            count: Some(h.reported.get(code)),
            computed: Some(computed),
            paid,
            withheld: Some(computed.checked_sub(paid).ok_or(Overflow)?),
            reasons,
        });
    }
    Ok(out)
}

/// The Fehler of report `file` that concern municipality `bfs` or its payee.
fn report_errors(i: &Inputs<'_>, file: &str, bfs: Bfs, payee: Bfs) -> Vec<(Code, Option<Place>)> {
    let Some(entry) = i.files.get(file) else { return vec![] };
    entry
        .result
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Fehler && (f.bfs == Some(bfs) || f.bfs == Some(payee)))
        .map(|f| (f.code, f.place.clone()))
        .collect()
}

/// Whether a statement reason withholds an amount (nothing is booked for it, neither a
/// payment nor a correction, until it is resolved): a missing Selbstdeklaration, a row out
/// of range, `LEIT_SUMME`, a Fehler of the report. «nicht berechtigt» does not withhold: the
/// amount is 0, and what was paid before is corrected.
pub fn withholds(r: &Reason) -> bool {
    matches!(
        r,
        Reason::Status(RowStatus::SdMissing { .. } | RowStatus::OutOfRange)
            | Reason::LeitSumme { .. }
            | Reason::Fehler { .. }
    )
}

/// The withholding reason of a statement line, in German.
fn withheld_text(reasons: &[Reason]) -> Option<String> {
    reasons.iter().find(|r| withholds(r)).map(Reason::text)
}

/// The tariff as a booking records it: `FALL_EG 200.00 CHF (gültig ab 01.01.2017)`.
pub fn tariff_text(master: &Stammdaten, code: TariffCode, day: NaiveDate) -> String {
    match master.tariff(code, day) {
        Some(t) => format!(
            "{} {:.2} CHF (gültig ab {})",
            code.as_str(),
            t.amount,
            t.validity.from.map(fmt_date).unwrap_or_else(|| "jeher".into())
        ),
        None => format!("{}: kein Tarif am {}", code.as_str(), fmt_date(day)),
    }
}

/// What the rows of year `y` make due, per municipality, part and component, with the
/// withholding reason of the statement and the files it rests on (`Evidence::sha256`
/// empty: the caller knows the hashes). Every component of an existing half-year is
/// named, also at 0, so that an amount paid before is corrected.
pub fn due_items(master: &Stammdaten, resolved: &Resolved, y: i32, rows: &[AnnexRow]) -> Vec<DueItem> {
    let ev = |rel: &str| Evidence { datei: rel.to_string(), sha256: String::new() };
    let sd_ev = |payee: Bfs| resolved.sds.get(&payee).map(|s| ev(&s.rel));
    let mut out = Vec::new();
    for r in rows {
        let line = |item: &Item| r.statement.iter().find(|l| l.item == *item);
        let sockel = line(&Item::Sockel);
        out.push(DueItem {
            key: Key { bfs: r.bfs, year: y, part: Part::Year, component: TariffCode::Sockel },
            payee: r.payee,
            amount: r.sockel,
            withheld: sockel.and_then(|l| withheld_text(&l.reasons)),
            count: Some(r.base),
            tariff: tariff_text(master, TariffCode::Sockel, ymd(y, 12, 31)),
            evidence: sd_ev(r.payee).into_iter().collect(),
        });
        for h in r.halves.iter().filter(|h| h.exists) {
            // The status of the half-year's payee, for components without a line.
            let status = match resolved.eligibility(h.payee) {
                Eligibility::Eligible => None,
                e => Some(Reason::Status(if r.out_of_range {
                    RowStatus::OutOfRange
                } else {
                    RowStatus::of(master, y, r.bfs, &e)
                })),
            };
            for c in PERIOD_COMPONENTS {
                let withheld = match line(&Item::Component { period: h.period, component: c }) {
                    Some(l) => withheld_text(&l.reasons),
                    None => status.iter().find(|r| withholds(r)).map(Reason::text),
                };
                let withheld = withheld.or_else(|| r.out_of_range.then(|| RowStatus::OutOfRange.label()));
                let mut evidence: Vec<Evidence> = h.source.as_deref().map(ev).into_iter().collect();
                evidence.extend(sd_ev(h.payee));
                out.push(DueItem {
                    key: Key { bfs: r.bfs, year: y, part: Part::of(h.period), component: c.tariff() },
                    payee: h.payee,
                    amount: h.amounts.get(c),
                    withheld,
                    count: Some(h.paid.get(c)),
                    tariff: tariff_text(master, c.tariff(), h.period.last_day()),
                    evidence,
                });
            }
        }
    }
    out
}

/// The year's clawbacks as the run that offsets them sees them: each with its payee on the
/// first regular payout run on or after its decision.
pub fn open_clawbacks_of(master: &Stammdaten, claws: &[&Clawback]) -> Vec<OpenClawback> {
    claws
        .iter()
        .map(|c| OpenClawback {
            reference: c.reference(),
            bfs: c.bfs,
            payee: master.payee(c.bfs, first_run_on_or_after(c.decided_on)),
            amount: c.amount,
            reason: c.reason.clone(),
            decided_on: c.decided_on,
        })
        .collect()
}

/// The payouts and invoices of the year's projected runs ([`crate::payout::project`]).
fn projection(
    master: &Stammdaten,
    resolved: &Resolved,
    claws: &Claws<'_>,
    y: i32,
    rows: &[AnnexRow],
) -> Result<(Chf, Vec<Payout>, Vec<Invoice>), Overflow> {
    let total = sum(rows.iter().map(|r| r.total))?;
    let due = due_items(master, resolved, y, rows);
    // A row out of range offsets nothing (its amounts are withheld).
    let out: BTreeSet<Bfs> = rows.iter().filter(|r| r.out_of_range).map(|r| r.bfs).collect();
    let all: Vec<&Clawback> = claws.values().flatten().copied().filter(|c| !out.contains(&c.bfs)).collect();
    let open = open_clawbacks_of(master, &all);
    let runs = crate::payout::project(y, &due, &open)?;
    let mut payouts = Vec::new();
    let mut invoices = Vec::new();
    for run in &runs {
        for p in &run.plan.payees {
            let mut parts: Vec<(i32, Part)> = run
                .plan
                .bookings
                .iter()
                .filter(|b| b.payee == p.payee && b.betrag > Chf::ZERO)
                .map(|b| (b.periode.year, b.periode.part))
                .collect();
            parts.sort();
            parts.dedup();
            let basis: Vec<String> = parts.iter().map(|(year, part)| part.basis(*year)).collect();
            if !p.gross.is_zero() || !p.offset.is_zero() {
                payouts.push(Payout {
                    payee: p.payee,
                    date: run.stichtag,
                    basis: basis.join(", "),
                    gross: p.gross,
                    offset: p.offset,
                });
            }
            if p.invoice > Chf::ZERO {
                let decisions = all
                    .iter()
                    .filter(|c| run.plan.clawbacks.iter().any(|o| o.payee == p.payee && o.reference == c.reference()))
                    .map(|c| (*c).clone())
                    .collect();
                invoices.push(Invoice {
                    bfs: p.payee,
                    amount: p.invoice,
                    decisions,
                    date: run.plan.invoice_date.unwrap_or(run.stichtag),
                    due_on: run.plan.invoice_due.unwrap_or(run.stichtag),
                });
            }
        }
    }
    payouts.sort_by_key(|p| (p.date, p.payee));
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
    let files: Files<'_> = resolved.files.iter().map(|e| (e.result.file.rel.as_str(), e)).collect();
    let inputs = Inputs { master, resolved, claws: &claws, files: &files, year: y };
    let mut rows: Vec<AnnexRow> = bfs_list.par_iter().map(|b| row(&inputs, *b)).collect();
    let (total, payouts, invoices) = match projection(master, resolved, &claws, y, &rows) {
        Ok(a) => a,
        Err(Overflow) => {
            // Unreachable with rows bounded by MAX_ROW_CHF; should it ever happen, nothing is
            // paid rather than a wrong amount.
            rows = bfs_list.iter().map(|b| out_of_range_row(master, resolved, y, *b)).collect();
            projection(master, resolved, &claws, y, &rows).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    //! The statement lines and their reasons, on master data and resolved reports built here:
    //! amounts and codes, each condition on both sides.
    use super::*;
    use crate::domain::{CellPos, ContractMembership, FileState, FormVersion, Municipality, Validity};
    use crate::resolve::FileEntry;
    use crate::scan::{EntryKind, InboxFile};
    use crate::validate::{FileResult, ReportDoc, SdDoc, Share};

    const Y: i32 = 2023;
    /// Solo, eligible: a report with a Fehler in H1, none in H2; two clawbacks.
    const SOLO: Bfs = 2601;
    /// Lead of a contract with MEMBER: H1 withheld by LEIT_SUMME, H2 paid.
    const LEAD: Bfs = 2602;
    const MEMBER: Bfs = 2603;
    /// Not eligible: its Selbstdeklaration names no Integrationsbeauftragte/r.
    const NOT_ELIGIBLE: Bfs = 2604;
    /// No Selbstdeklaration; a clawback of the previous year only; lead of MOVER until 30.06.
    const NO_SD: Bfs = 2605;
    /// Member of NO_SD's contract in H1, on its own (and eligible) from 01.07.
    const MOVER: Bfs = 2606;

    fn d(m: u32, day: u32) -> NaiveDate {
        ymd(Y, m, day)
    }

    fn chf(n: i64) -> Chf {
        Chf::from_int(n)
    }

    fn master() -> Stammdaten {
        let mut m = Stammdaten::default();
        for (bfs, pop) in [(SOLO, 100), (LEAD, 50), (MEMBER, 30), (NOT_ELIGIBLE, 10), (NO_SD, 20), (MOVER, 5)] {
            let muni = Municipality {
                bfs,
                name: format!("G{bfs}"),
                district: "Bezirk".into(),
                validity: Validity::ALWAYS,
                successor: None,
            };
            m.municipalities.insert(bfs, muni);
            m.population.insert((bfs, ymd(Y - 2, 12, 31)), pop);
        }
        for member in [LEAD, MEMBER] {
            m.memberships.push(ContractMembership {
                contract: "K1".into(),
                lead: LEAD,
                member,
                validity: Validity::ALWAYS,
            });
        }
        m.memberships.push(ContractMembership {
            contract: "K2".into(),
            lead: NO_SD,
            member: MOVER,
            validity: Validity::new(None, Some(d(6, 30))),
        });
        for (code, amount) in [
            (TariffCode::Sockel, 2),
            (TariffCode::FallEg, 200),
            (TariffCode::DolmetschEg, 100),
            (TariffCode::FallIg, 300),
            (TariffCode::DolmetschIg, 50),
        ] {
            m.tariffs.push(Tariff { code, amount: chf(amount), validity: Validity::ALWAYS });
        }
        m.clawbacks = vec![
            Clawback { bfs: SOLO, amount: chf(500), reason: "dieses Jahr".into(), decided_on: d(1, 1), decision: None },
            Clawback {
                bfs: SOLO,
                amount: chf(700),
                reason: "Vorjahr".into(),
                decided_on: ymd(Y - 1, 12, 31),
                decision: None,
            },
            Clawback {
                bfs: NO_SD,
                amount: chf(900),
                reason: "Vorjahr".into(),
                decided_on: ymd(Y - 1, 12, 31),
                decision: None,
            },
            Clawback {
                bfs: NOT_ELIGIBLE,
                amount: chf(300),
                reason: "ohne Auszahlung".into(),
                decided_on: d(2, 1),
                decision: None,
            },
        ];
        m
    }

    fn counts(eg: u64, d_eg: u64, ig: u64, d_ig: u64) -> PaidCounts {
        PaidCounts { eg, d_eg, ig, d_ig }
    }

    fn report(rel: &str, bfs: Bfs, half: u8, shares: Vec<(Bfs, Share)>, withheld_whole: bool) -> ReportDoc {
        ReportDoc {
            rel: rel.into(),
            version: FormVersion::V2022,
            bfs,
            period: Period::new(Y, half),
            submitted: None,
            received: None,
            shares: shares.into_iter().collect(),
            withheld_whole,
        }
    }

    fn sd(bfs: Bfs, failed: Vec<Unmet>) -> SdDoc {
        SdDoc { rel: format!("sd_{bfs}.xlsx"), bfs, year: Y, submitted: None, received: None, failed }
    }

    fn entry(rel: &str, findings: Vec<Finding>) -> FileEntry {
        let f = InboxFile {
            rel: rel.into(),
            path: rel.into(),
            kind: EntryKind::Spreadsheet,
            size: 1,
            received: None,
            received_from: None,
        };
        let mut result = FileResult::new(&f);
        result.findings = findings;
        FileEntry { result, state: FileState::Verarbeitet }
    }

    /// The Fehler at `Reporting!B14` of the solo report.
    fn b14() -> CellPos {
        CellPos::new("Reporting", 13, 1)
    }

    fn resolved() -> Resolved {
        let mut r = Resolved::default();
        // SOLO H1: 10 conversations paid, 3 interpreters withheld by a Fehler.
        let solo = Share {
            reported: counts(10, 3, 0, 0),
            paid: counts(10, 0, 0, 0),
            withheld: BTreeSet::from([Component::DolmetschEg]),
        };
        r.reports.insert((SOLO, Period::new(Y, 1)), report("solo_h1.xlsx", SOLO, 1, vec![(SOLO, solo)], false));
        // LEAD H1: the rows do not add up; everything withheld.
        let held = |n| Share {
            reported: counts(n, 0, 0, 0),
            paid: PaidCounts::default(),
            withheld: PERIOD_COMPONENTS.into_iter().collect(),
        };
        r.reports.insert(
            (LEAD, Period::new(Y, 1)),
            report("lead_h1.xlsx", LEAD, 1, vec![(LEAD, held(4)), (MEMBER, held(2))], true),
        );
        // LEAD H2: paid.
        let paid = |n| Share { reported: counts(n, 0, 0, 0), paid: counts(n, 0, 0, 0), withheld: BTreeSet::new() };
        r.reports.insert(
            (LEAD, Period::new(Y, 2)),
            report("lead_h2.xlsx", LEAD, 2, vec![(LEAD, paid(1)), (MEMBER, paid(1))], false),
        );
        let ne = Share { reported: counts(5, 0, 0, 0), paid: counts(5, 0, 0, 0), withheld: BTreeSet::new() };
        r.reports.insert(
            (NOT_ELIGIBLE, Period::new(Y, 1)),
            report("ne_h1.xlsx", NOT_ELIGIBLE, 1, vec![(NOT_ELIGIBLE, ne)], false),
        );
        r.reports.insert(
            (NO_SD, Period::new(Y, 1)),
            report("nosd_h1.xlsx", NO_SD, 1, vec![(NO_SD, paid(0)), (MOVER, paid(1))], false),
        );
        r.sds.insert(MOVER, sd(MOVER, vec![]));
        r.sds.insert(SOLO, sd(SOLO, vec![]));
        r.sds.insert(LEAD, sd(LEAD, vec![]));
        r.sds.insert(NOT_ELIGIBLE, sd(NOT_ELIGIBLE, vec![Unmet::NoOfficer]));
        let fehler =
            finding().file("solo_h1.xlsx").bfs(Some(SOLO)).at(Some(&b14())).build(Code::DolmetschUeberGespraeche);
        let warnung = finding().file("solo_h1.xlsx").bfs(Some(SOLO)).build(Code::WertUnplausibel);
        let other = finding().file("solo_h1.xlsx").bfs(Some(NO_SD)).build(Code::WertLeer);
        r.files = vec![entry("solo_h1.xlsx", vec![fehler, warnung, other]), entry("lead_h1.xlsx", vec![])];
        r
    }

    fn computed() -> Computation {
        compute(&master(), &resolved(), Y)
    }

    fn row(c: &Computation, bfs: Bfs) -> &AnnexRow {
        c.rows.iter().find(|r| r.bfs == bfs).expect("a row")
    }

    fn line<'a>(r: &'a AnnexRow, item: &Item) -> Option<&'a Line> {
        r.statement.iter().find(|l| &l.item == item)
    }

    fn component(half: u8, component: Component) -> Item {
        Item::Component { period: Period::new(Y, half), component }
    }

    #[test]
    fn sockel_line_of_an_eligible_municipality_is_paid_in_full() {
        let c = computed();
        let l = line(row(&c, SOLO), &Item::Sockel).expect("Sockel line");
        assert_eq!((l.count, l.computed, l.paid, l.withheld), (Some(100), Some(chf(200)), chf(200), Some(chf(0))));
        assert!(l.reasons.is_empty());
    }

    #[test]
    fn sockel_line_of_a_municipality_not_eligible_is_withheld_with_its_conditions() {
        let c = computed();
        let l = line(row(&c, NOT_ELIGIBLE), &Item::Sockel).expect("Sockel line");
        assert_eq!((l.count, l.computed, l.paid, l.withheld), (Some(10), Some(chf(20)), chf(0), Some(chf(20))));
        assert_eq!(
            l.reasons,
            vec![Reason::Status(RowStatus::NotEligible { lead: None, reasons: vec![Unmet::NoOfficer] })]
        );
        assert!(!l.withheld_by_report(), "withheld by the status, not by a report");
        // Its report's amounts are computed and withheld for the same reason.
        let eg = line(row(&c, NOT_ELIGIBLE), &component(1, Component::FallEg)).expect("FallEg line");
        assert_eq!((eg.computed, eg.paid, eg.withheld), (Some(chf(1000)), chf(0), Some(chf(1000))));
        assert!(matches!(eg.reasons.as_slice(), [Reason::Status(RowStatus::NotEligible { .. })]));
    }

    #[test]
    fn sockel_line_without_selbstdeklaration_says_so() {
        let c = computed();
        let l = line(row(&c, NO_SD), &Item::Sockel).expect("Sockel line");
        assert_eq!((l.paid, l.withheld), (chf(0), Some(chf(40))));
        assert_eq!(l.reasons, vec![Reason::Status(RowStatus::SdMissing { year: Y, lead: None })]);
    }

    #[test]
    fn a_component_withheld_by_a_fehler_names_the_code_and_cell_and_the_others_are_paid() {
        let c = computed();
        let r = row(&c, SOLO);
        let paid = line(r, &component(1, Component::FallEg)).expect("FallEg line");
        assert_eq!(
            (paid.count, paid.computed, paid.paid, paid.withheld),
            (Some(10), Some(chf(2000)), chf(2000), Some(chf(0)))
        );
        assert!(paid.reasons.is_empty());
        let held = line(r, &component(1, Component::DolmetschEg)).expect("DolmetschEg line");
        assert_eq!(
            (held.count, held.computed, held.paid, held.withheld),
            (Some(3), Some(chf(300)), chf(0), Some(chf(300)))
        );
        // Only the Fehler concerning the municipality: not the Warnung, not another's Fehler.
        assert_eq!(
            held.reasons,
            vec![Reason::Fehler {
                file: "solo_h1.xlsx".into(),
                errors: vec![(Code::DolmetschUeberGespraeche, Some(Place::Cell(b14())))]
            }]
        );
        assert!(held.withheld_by_report());
        // Components neither computed nor withheld have no line.
        assert!(line(r, &component(1, Component::FallIg)).is_none());
        assert_eq!(
            r.notes,
            vec![Note::Withheld { period: Period::new(Y, 1), components: vec![Component::DolmetschEg] }]
        );
    }

    #[test]
    fn leit_summe_withholds_the_half_year_of_every_member_and_the_next_half_year_is_paid() {
        let c = computed();
        let m = row(&c, MEMBER);
        let h1 = line(m, &component(1, Component::FallEg)).expect("H1 line");
        assert_eq!((h1.count, h1.computed, h1.paid, h1.withheld), (Some(2), Some(chf(400)), chf(0), Some(chf(400))));
        assert_eq!(h1.reasons, vec![Reason::LeitSumme { file: "lead_h1.xlsx".into() }]);
        // The other components of the half-year are withheld too (count 0, nothing computed).
        let d_eg = line(m, &component(1, Component::DolmetschEg)).expect("withheld component has a line");
        assert_eq!((d_eg.computed, d_eg.withheld), (Some(chf(0)), Some(chf(0))));
        let h2 = line(m, &component(2, Component::FallEg)).expect("H2 line");
        assert_eq!((h2.computed, h2.paid, h2.withheld), (Some(chf(200)), chf(200), Some(chf(0))));
        assert!(h2.reasons.is_empty());
        assert_eq!(m.notes, vec![Note::LeitSumme { period: Period::new(Y, 1) }]);
        let lead = line(row(&c, LEAD), &component(1, Component::FallEg)).expect("lead H1 line");
        assert_eq!((lead.computed, lead.paid), (Some(chf(800)), chf(0)));
        assert!(lead.withheld_by_report());
    }

    #[test]
    fn a_half_year_without_a_report_has_one_line_when_eligible_and_none_otherwise() {
        let c = computed();
        let h2 = Item::NoReport { period: Period::new(Y, 2) };
        let l = line(row(&c, SOLO), &h2).expect("no report line");
        assert_eq!((l.count, l.computed, l.paid, l.withheld), (None, None, chf(0), None));
        assert_eq!(l.reasons, vec![Reason::NoReport]);
        assert!(line(row(&c, SOLO), &Item::NoReport { period: Period::new(Y, 1) }).is_none(), "H1 has a report");
        assert!(line(row(&c, NOT_ELIGIBLE), &h2).is_none(), "not eligible: nothing would be paid anyway");
        assert!(line(row(&c, NO_SD), &h2).is_none(), "no Selbstdeklaration: nothing would be paid anyway");
    }

    #[test]
    fn the_clawback_line_holds_the_decisions_of_the_year_only() {
        let c = computed();
        let l = line(row(&c, SOLO), &Item::Clawback).expect("clawback line");
        assert_eq!((l.count, l.computed, l.paid, l.withheld), (None, None, chf(-500), None));
        let Some(Reason::Clawbacks(decisions)) = l.reasons.first() else { panic!("{:?}", l.reasons) };
        assert_eq!(decisions.iter().map(|c| (c.amount, c.decided_on)).collect::<Vec<_>>(), vec![(chf(500), d(1, 1))]);
        assert_eq!(row(&c, SOLO).clawback, chf(-500));
        // A clawback decided in the previous year makes no line.
        assert!(line(row(&c, NO_SD), &Item::Clawback).is_none());
        assert_eq!(row(&c, NO_SD).clawback, chf(0));
    }

    #[test]
    fn a_half_year_paid_to_another_payee_is_withheld_by_that_payees_status() {
        let c = computed();
        let r = row(&c, MOVER);
        assert_eq!(r.status, RowStatus::Eligible, "eligible on its own at year end");
        let h1 = line(r, &component(1, Component::FallEg)).expect("H1 line");
        assert_eq!((h1.computed, h1.paid, h1.withheld), (Some(chf(200)), chf(0), Some(chf(200))));
        let lead = Some(Lead { bfs: NO_SD, name: format!("G{NO_SD}") });
        assert_eq!(h1.reasons, vec![Reason::Status(RowStatus::SdMissing { year: Y, lead: lead.clone() })]);
        assert_eq!(
            r.notes,
            vec![Note::HalfStatus { period: Period::new(Y, 1), status: RowStatus::SdMissing { year: Y, lead } }]
        );
        // H2 has no report of its own: eligible, so a line says so.
        assert!(line(r, &Item::NoReport { period: Period::new(Y, 2) }).is_some());
        assert!(line(r, &Item::Sockel).is_some_and(|l| l.reasons.is_empty() && l.paid == chf(10)));
    }

    #[test]
    fn a_clawback_without_a_payout_to_offset_it_is_invoiced_with_its_decision() {
        let c = computed();
        // SOLO's clawback of 500 decided 01.01. is offset at the first run on or after it,
        // 31.03., against that run's Sockelbeitrag (100 × 2 = 200); the rest, 300, is invoiced
        // by that run, due 30.04., and not offset against H1 on 30.09. (4.7).
        let solo: Vec<&Invoice> = c.invoices.iter().filter(|i| i.bfs == SOLO).collect();
        assert_eq!(solo.len(), 1);
        assert_eq!((solo[0].amount, solo[0].date, solo[0].due_on), (chf(300), d(3, 31), d(4, 30)));
        let march = c.payouts.iter().find(|p| p.payee == SOLO && p.date == d(3, 31)).expect("31.03.");
        assert_eq!((march.gross, march.offset), (chf(200), chf(200)));
        let sept = c.payouts.iter().find(|p| p.payee == SOLO && p.date == d(9, 30)).expect("30.09.");
        assert_eq!(sept.offset, chf(0));
        let inv: Vec<&Invoice> = c.invoices.iter().filter(|i| i.bfs == NOT_ELIGIBLE).collect();
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].amount, chf(300));
        assert_eq!(
            inv[0].decisions.iter().map(|c| (c.amount, c.decided_on)).collect::<Vec<_>>(),
            vec![(chf(300), d(2, 1))]
        );
    }

    #[test]
    fn the_lines_add_up_to_the_row_total() {
        let c = computed();
        for r in &c.rows {
            let paid = Chf::checked_sum(r.statement.iter().map(|l| l.paid)).unwrap();
            assert_eq!(paid, r.total, "{}", r.bfs);
        }
    }

    #[test]
    fn the_total_to_a_payee_adds_the_rows_it_is_paid_for() {
        let c = computed();
        let (lead, member) = (row(&c, LEAD).total, row(&c, MEMBER).total);
        assert!(lead > chf(0) && member > chf(0));
        assert_eq!(c.total_to(LEAD), lead.checked_add(member).unwrap());
        assert_eq!(c.total_to(SOLO), row(&c, SOLO).total);
        assert_eq!(c.total_to(MEMBER), chf(0), "a member is paid through its lead");
    }

    #[test]
    fn a_row_out_of_range_withholds_every_line() {
        let mut m = master();
        m.population.insert((SOLO, ymd(Y - 2, 12, 31)), 1);
        m.tariffs.retain(|t| t.code != TariffCode::Sockel);
        m.tariffs.push(Tariff {
            code: TariffCode::Sockel,
            amount: Chf::new(rust_decimal::Decimal::MAX),
            validity: Validity::ALWAYS,
        });
        let c = compute(&m, &resolved(), Y);
        let r = row(&c, SOLO);
        assert!(r.out_of_range);
        assert!(!r.statement.is_empty());
        for l in &r.statement {
            assert_eq!(l.paid, chf(0));
            assert_eq!(l.reasons, vec![Reason::Status(RowStatus::OutOfRange)], "{:?}", l.item);
        }
    }
}
