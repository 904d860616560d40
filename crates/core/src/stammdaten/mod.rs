//! Master data (Stammdaten, STAMMDATEN.md): loading and the consistency checks that stop a
//! run before anything is written. One module per group of sheets: this one reads the
//! municipalities, populations, contracts, tariffs, credit, clawbacks and contact;
//! [`adressen`] the addresses and texts of the letters, [`zahlungsdaten`] the accounts;
//! `problem` the problems all of them report. Imports go one way: `mod.rs` → the sheet
//! modules → `problem`.

use crate::domain::{
    fmt_date, swiss_int, ymd, Bfs, Chf, Clawback, ContractMembership, Municipality, Tariff, TariffCode, Validity,
    MAX_AMOUNT_CHF, MAX_COUNT, MAX_TARIFF_CHF,
};
use crate::extract::norm;
use crate::values::{parse_bfs, parse_date, parse_money, parse_whole};
use crate::workbook::{read_workbook, Limits, Sheet, Value};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use thiserror::Error;

pub mod adressen;
mod problem;
mod sheet;
pub mod zahlungsdaten;

pub use problem::{document_char, invisible_char, payment_char, text_flaw, Charset, Position, Problem, ProblemKind};

#[derive(Debug, Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, kind: ProblemKind, message: String) {
        self.0.push(Problem::new(kind, message));
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Master data that cannot be used; one German message per problem.
#[derive(Debug, Error)]
#[error("Die Stammdaten sind nicht verwendbar:\n{}", .problems.iter().map(|p| format!("  - {}", p.message)).collect::<Vec<_>>().join("\n"))]
pub struct StammdatenError {
    pub problems: Vec<Problem>,
}

impl StammdatenError {
    fn one(kind: ProblemKind, message: String) -> Self {
        StammdatenError { problems: vec![Problem::new(kind, message)] }
    }
    pub fn kinds(&self) -> Vec<ProblemKind> {
        self.problems.iter().map(|p| p.kind).collect()
    }
}

/// The AGS master data.
#[derive(Debug, Clone, Default)]
pub struct Stammdaten {
    pub municipalities: BTreeMap<Bfs, Municipality>,
    /// Foreign residents by (BFS-Nr., Stichtag).
    pub population: BTreeMap<(Bfs, NaiveDate), u64>,
    pub memberships: Vec<ContractMembership>,
    pub tariffs: Vec<Tariff>,
    pub credit: BTreeMap<i32, Chf>,
    pub clawbacks: Vec<Clawback>,
    /// The AGS contact for feedback letters (optional sheet `Kontakt`).
    pub contact: Option<String>,
    /// Hinweise on the master data: no error, but worth doing (German).
    pub notes: Vec<String>,
    /// Payment details (optional sheets `Zahlungsverbindungen` and `Kantonskonto`).
    pub zahlung: zahlungsdaten::Zahlungsdaten,
    /// Addresses and contacts for letters and invoices (optional sheets, [`crate::adressen`]).
    pub adressen: adressen::Adressen,
    /// Direct predecessors by successor (derived from `Nachfolge BFS-Nr.`).
    predecessors: BTreeMap<Bfs, Vec<Bfs>>,
    /// SHA-256 of exactly the bytes this master data was built from (empty if built from sheets).
    pub sha256: String,
    /// Rows of `memberships` by member and by lead (built on loading; with none built, the
    /// lookups scan `memberships`).
    by_member: BTreeMap<Bfs, Vec<usize>>,
    by_lead: BTreeMap<Bfs, Vec<usize>>,
}

/// The largest master-data workbook that is read.
pub const MAX_STAMMDATEN_BYTES: u64 = 256 * 1024 * 1024;

/// A sheet of the master data with its columns ([`sheet::Columns`], the one reader of every
/// master-data sheet).
struct Table<'a> {
    sheet: &'a Sheet,
    cols: sheet::Columns<'a>,
}

impl<'a> Table<'a> {
    /// Sheet `name` with its `headers` (all required) and `optional` ones; a missing sheet is a
    /// problem unless the sheet is `optional`.
    fn open(
        sheets: &'a [Sheet],
        name: &str,
        headers: &[&'static str],
        optional: bool,
        problems: &mut Problems,
    ) -> Option<Table<'a>> {
        Self::open_with(sheets, name, headers, &[], optional, problems)
    }
    fn open_with(
        sheets: &'a [Sheet],
        name: &str,
        headers: &[&'static str],
        optional_headers: &[&'static str],
        optional: bool,
        problems: &mut Problems,
    ) -> Option<Table<'a>> {
        let Some(sheet) = sheet::find(sheets, name, &mut problems.0) else {
            if !optional {
                problems.push(ProblemKind::MissingSheet, format!("Blatt «{name}» fehlt."));
            }
            return None;
        };
        let cols = sheet::Columns::open(sheet, headers, optional_headers, &mut problems.0)?;
        Some(Table { sheet, cols })
    }
    fn rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.cols.rows()
    }
    fn get(&self, row: u32, h: &str) -> &'a Value {
        self.cols.value(row, h)
    }
    fn at(&self, row: u32) -> String {
        self.cols.at(row)
    }
    /// Column `h`'s text in `row`, checked as a one-line text of at most `max` characters of
    /// `charset`; a problem is pushed when it is not one.
    fn checked_text(&self, row: u32, h: &str, max: usize, charset: Charset, p: &mut Problems) -> String {
        let text = self.get(row, h).text();
        if let Some(problem) = Problem::text(self.cols.pos(row, h), &text, max, charset) {
            p.0.push(problem);
        }
        text
    }
}

/// The longest municipality name, district and contract name: a line of a letter, a subject
/// and a file name.
pub const MAX_NAME_CHARS: usize = 60;
/// The longest reason of a clawback (printed in the invoice, the letter and the annex).
pub const MAX_REASON_CHARS: usize = 200;
/// The longest line of the sheet `Kontakt`, and the most lines it may have.
pub const MAX_CONTACT_LINE_CHARS: usize = 100;
pub const MAX_CONTACT_LINES: usize = 8;

fn opt_date(t: &Table<'_>, r: u32, h: &str, problems: &mut Problems) -> Option<NaiveDate> {
    let v = t.get(r, h);
    if v.is_empty() {
        return None;
    }
    let d = parse_date(v);
    if d.is_none() {
        problems.push(
            ProblemKind::BadValue,
            format!(
                "{}: «{h}» ist kein Datum («{}»).",
                t.at(r),
                crate::domain::shorten(&v.display(), crate::domain::MAX_QUOTED_CHARS)
            ),
        );
    }
    d
}

fn req_bfs(t: &Table<'_>, r: u32, h: &str, problems: &mut Problems) -> Option<Bfs> {
    let v = t.get(r, h);
    let b = parse_bfs(v);
    if b.is_none() {
        problems.push(
            ProblemKind::BadValue,
            format!(
                "{}: «{h}» ist keine BFS-Nr. («{}»).",
                t.at(r),
                crate::domain::shorten(&v.display(), crate::domain::MAX_QUOTED_CHARS)
            ),
        );
    }
    b
}

/// A validity period with what it belongs to; `None` is open.
struct Period<'a, T> {
    validity: Validity,
    item: &'a T,
}

/// Pairs of overlapping periods: after sorting by start, each period is checked against the
/// earlier one that reaches furthest. Every period that overlaps an earlier one is reported
/// once (with that one); O(n log n).
fn overlapping<'a, T>(mut ps: Vec<Period<'a, T>>) -> Vec<(&'a T, &'a T)> {
    ps.sort_by_key(|p| p.validity.start());
    let mut out = Vec::new();
    let mut furthest: Option<(NaiveDate, &'a T)> = None;
    for p in ps {
        let (from, to) = (p.validity.start(), p.validity.end());
        if let Some((end, item)) = furthest {
            if from <= end {
                out.push((item, p.item));
            }
        }
        if furthest.is_none_or(|(end, _)| to > end) {
            furthest = Some((to, p.item));
        }
    }
    out
}

/// The contract checks of `Leitgemeinden`, near-linear in the number of rows: a member in two
/// contracts at once, a contract with two leads, a lead that is not a member of its own
/// contract for the whole membership of another.
fn check_memberships(ms: &[ContractMembership], p: &mut Problems) {
    let start = |m: &ContractMembership| m.validity.start();
    let end = |m: &ContractMembership| m.validity.end();
    let mut by_member: BTreeMap<Bfs, Vec<&ContractMembership>> = BTreeMap::new();
    let mut leads: BTreeMap<&str, BTreeSet<Bfs>> = BTreeMap::new();
    // Periods of each (contract, member), sorted by start, with the furthest end so far.
    let mut own: BTreeMap<(&str, Bfs), Vec<(NaiveDate, NaiveDate)>> = BTreeMap::new();
    for m in ms {
        by_member.entry(m.member).or_default().push(m);
        leads.entry(m.contract.as_str()).or_default().insert(m.lead);
        own.entry((m.contract.as_str(), m.member)).or_default().push((start(m), end(m)));
    }
    for (member, rows) in by_member {
        let periods = rows.into_iter().map(|m| Period { validity: m.validity, item: m }).collect();
        for (a, b) in overlapping(periods) {
            p.push(
                ProblemKind::TwoContracts,
                format!(
                    "Blatt «Leitgemeinden»: Gemeinde {member} ist zur gleichen Zeit in zwei Verträgen ({} und {}).",
                    a.contract, b.contract
                ),
            );
        }
    }
    for (contract, l) in &leads {
        if l.len() > 1 {
            let list: Vec<String> = l.iter().map(|b| b.to_string()).collect();
            p.push(
                ProblemKind::TwoLeads,
                format!(
                    "Blatt «Leitgemeinden»: Vertrag {contract} nennt mehrere Leitgemeinden ({}).",
                    list.join(" und ")
                ),
            );
        }
    }
    for v in own.values_mut() {
        v.sort_unstable();
        let mut furthest = NaiveDate::MIN;
        for x in v.iter_mut() {
            furthest = furthest.max(x.1);
            x.1 = furthest;
        }
    }
    // The lead must be a member of its own contract whenever the contract has members: some
    // row of the lead starting no later than the membership must reach at least as far.
    for a in ms {
        let covered = own.get(&(a.contract.as_str(), a.lead)).is_some_and(|v| {
            let n = v.partition_point(|(from, _)| *from <= start(a));
            n > 0 && v[n - 1].1 >= end(a)
        });
        if !covered {
            p.push(ProblemKind::LeadNotMember, format!(
                "Blatt «Leitgemeinden»: Die Leitgemeinde {} ist nicht Mitglied ihres eigenen Vertrags {} (während der Mitgliedschaft von {}).",
                a.lead, a.contract, a.member
            ));
        }
    }
}

/// Sheet `Gemeinden`: the municipalities, their validity and successors (mergers).
fn read_gemeinden(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let Some(t) = Table::open(
        sheets,
        "Gemeinden",
        &["BFS-Nr.", "Gemeinde", "Bezirk", "Gültig ab", "Gültig bis", "Nachfolge BFS-Nr."],
        false,
        p,
    ) else {
        return;
    };
    for r in t.rows() {
        let Some(bfs) = req_bfs(&t, r, "BFS-Nr.", p) else { continue };
        let name = t.checked_text(r, "Gemeinde", MAX_NAME_CHARS, Charset::Document, p);
        let district = t.checked_text(r, "Bezirk", MAX_NAME_CHARS, Charset::Document, p);
        if name.is_empty() {
            p.push(ProblemKind::BadValue, format!("{}: «Gemeinde» ist leer.", t.at(r)));
        }
        let valid_from = opt_date(&t, r, "Gültig ab", p);
        let valid_to = opt_date(&t, r, "Gültig bis", p);
        if let (Some(f), Some(to)) = (valid_from, valid_to) {
            if f > to {
                p.push(
                    ProblemKind::BadValue,
                    format!("{}: «Gültig ab» {} liegt nach «Gültig bis» {}.", t.at(r), fmt_date(f), fmt_date(to)),
                );
            }
        }
        let succ_v = t.get(r, "Nachfolge BFS-Nr.");
        let successor = if succ_v.is_empty() {
            None
        } else {
            let s = parse_bfs(succ_v);
            if s.is_none() {
                p.push(
                    ProblemKind::BadValue,
                    format!("{}: «Nachfolge BFS-Nr.» ist keine BFS-Nr. («{}»).", t.at(r), succ_v.display()),
                );
            }
            s
        };
        let m = Municipality { bfs, name, district, validity: Validity::new(valid_from, valid_to), successor };
        if sd.municipalities.insert(bfs, m).is_some() {
            p.push(ProblemKind::Duplicate, format!("{}: BFS-Nr. {bfs} kommt mehrfach vor.", t.at(r)));
        }
    }
    for m in sd.municipalities.values() {
        if let Some(s) = m.successor {
            sd.predecessors.entry(s).or_default().push(m.bfs);
            // Follow the chain: it must end, not come back.
            let mut cur = s;
            let steps = if s == m.bfs { 0 } else { sd.municipalities.len() };
            for _ in 0..steps {
                match sd.municipalities.get(&cur).and_then(|x| x.successor) {
                    Some(next) if next == m.bfs => {
                        p.push(
                            ProblemKind::SuccessorCycle,
                            format!("Blatt «Gemeinden»: Die Nachfolge von {} ({}) führt im Kreis.", m.name, m.bfs),
                        );
                        break;
                    }
                    Some(next) => cur = next,
                    None => break,
                }
            }
            if !sd.municipalities.contains_key(&s) {
                p.push(
                    ProblemKind::UnknownReference,
                    format!("Blatt «Gemeinden»: Nachfolge BFS-Nr. {s} von {} ({}) existiert nicht.", m.name, m.bfs),
                );
            } else if s == m.bfs {
                p.push(
                    ProblemKind::UnknownReference,
                    format!("Blatt «Gemeinden»: {} ({}) ist ihre eigene Nachfolgerin.", m.name, m.bfs),
                );
            }
            if m.validity.to.is_none() {
                p.push(
                    ProblemKind::BadValue,
                    format!("Blatt «Gemeinden»: {} ({}) hat eine Nachfolgerin, aber kein «Gültig bis».", m.name, m.bfs),
                );
            }
        }
    }
}

/// Sheet `Wohnbevölkerung`: foreign residents by BFS-Nr. and Stichtag.
fn read_wohnbevoelkerung(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let Some(t) =
        Table::open(sheets, "Wohnbevölkerung", &["BFS-Nr.", "Stichtag", "Ausländische Wohnbevölkerung"], false, p)
    else {
        return;
    };
    for r in t.rows() {
        let Some(bfs) = req_bfs(&t, r, "BFS-Nr.", p) else { continue };
        if !sd.municipalities.contains_key(&bfs) {
            p.0.push(Problem::unknown_municipality(t.at(r), bfs));
        }
        let Some(day) = opt_date(&t, r, "Stichtag", p) else {
            p.push(ProblemKind::BadValue, format!("{}: «Stichtag» fehlt.", t.at(r)));
            continue;
        };
        let v = t.get(r, "Ausländische Wohnbevölkerung");
        match parse_whole(v) {
            Some(n) if n > MAX_COUNT as i64 => p.push(
                ProblemKind::OutOfRange,
                format!(
                    "{}: «Ausländische Wohnbevölkerung» {} ist grösser als die Obergrenze {} (mehr als die Wohnbevölkerung des ganzen Kantons).",
                    t.at(r),
                    v.display(),
                    swiss_int(MAX_COUNT)
                ),
            ),
            Some(n) if n >= 0 => {
                if sd.population.insert((bfs, day), n as u64).is_some() {
                    p.push(
                        ProblemKind::Duplicate,
                        format!("{}: BFS-Nr. {bfs} per {} kommt mehrfach vor.", t.at(r), fmt_date(day)),
                    );
                }
            }
            _ => p.push(
                ProblemKind::BadValue,
                format!(
                    "{}: «Ausländische Wohnbevölkerung» ist keine ganze Zahl ≥ 0 («{}»).",
                    t.at(r),
                    v.display()
                ),
            ),
        }
    }
}

/// Sheet `Leitgemeinden`: the lead-municipality contracts and their checks.
fn read_leitgemeinden(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let Some(t) = Table::open(
        sheets,
        "Leitgemeinden",
        &["Vertrag", "Leitgemeinde BFS-Nr.", "Mitglied BFS-Nr.", "Gültig ab", "Gültig bis"],
        false,
        p,
    ) else {
        return;
    };
    for r in t.rows() {
        let contract = t.checked_text(r, "Vertrag", MAX_NAME_CHARS, Charset::Document, p);
        let lead = req_bfs(&t, r, "Leitgemeinde BFS-Nr.", p);
        let member = req_bfs(&t, r, "Mitglied BFS-Nr.", p);
        let valid_from = opt_date(&t, r, "Gültig ab", p);
        let valid_to = opt_date(&t, r, "Gültig bis", p);
        let (Some(lead), Some(member)) = (lead, member) else { continue };
        for b in [lead, member] {
            if !sd.municipalities.contains_key(&b) {
                p.0.push(Problem::unknown_municipality(t.at(r), b));
            }
        }
        if contract.is_empty() {
            p.push(ProblemKind::BadValue, format!("{}: «Vertrag» ist leer.", t.at(r)));
        }
        sd.memberships.push(ContractMembership {
            contract,
            lead,
            member,
            validity: Validity::new(valid_from, valid_to),
        });
    }
    check_memberships(&sd.memberships, p);
}

/// Sheet `Tarife`: the rates with their validity; no two of a code may overlap.
fn read_tarife(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let Some(t) = Table::open(sheets, "Tarife", &["Leistung", "Betrag CHF", "Gültig ab", "Gültig bis"], false, p)
    else {
        return;
    };
    for r in t.rows() {
        let code_v = t.get(r, "Leistung");
        let Some(code) = TariffCode::parse(&code_v.text()) else {
            p.push(
                ProblemKind::BadValue,
                format!(
                    "{}: Leistung «{}» ist unbekannt (erlaubt: FALL_EG, DOLMETSCH_EG, SOCKEL, FALL_IG, DOLMETSCH_IG).",
                    t.at(r),
                    code_v.display()
                ),
            );
            continue;
        };
        let Some(amount) = amount_cell(&t, r, Lowest::Zero, (MAX_TARIFF_CHF, " für einen Tarif"), p) else {
            continue;
        };
        let valid_from = opt_date(&t, r, "Gültig ab", p);
        let valid_to = opt_date(&t, r, "Gültig bis", p);
        sd.tariffs.push(Tariff { code, amount, validity: Validity::new(valid_from, valid_to) });
    }
    // Overlaps per code: sorted by start, each period is compared with the one that
    // reaches furthest among those before it (n log n, not every pair).
    let mut by_code: BTreeMap<TariffCode, Vec<&Tariff>> = BTreeMap::new();
    for t in &sd.tariffs {
        by_code.entry(t.code).or_default().push(t);
    }
    for (code, list) in by_code {
        let periods: Vec<Period<'_, Tariff>> =
            list.into_iter().map(|t| Period { validity: t.validity, item: t }).collect();
        for (a, b) in overlapping(periods) {
            p.push(
                ProblemKind::TariffOverlap,
                format!(
                    "Blatt «Tarife»: Zwei Tarife für {} überschneiden sich ({} CHF und {} CHF).",
                    code.as_str(),
                    a.amount,
                    b.amount
                ),
            );
        }
    }
}

/// The smallest amount a master-data column accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lowest {
    /// 0 and more (a tariff may be 0).
    Zero,
    /// More than 0 (a clawback of 0 is no clawback).
    AboveZero,
}

/// The `Betrag CHF` of row `r`: a problem (and `None`) when it is no amount, below `lowest`
/// or above `ceiling` (the ceiling and the words naming it: " für einen Tarif").
fn amount_cell(t: &Table<'_>, r: u32, lowest: Lowest, ceiling: (i64, &str), p: &mut Problems) -> Option<Chf> {
    let v = t.get(r, "Betrag CHF");
    let (min_text, ok): (&str, fn(&Chf) -> bool) = match lowest {
        Lowest::Zero => ("≥ 0", |a| !a.is_negative()),
        Lowest::AboveZero => ("> 0", |a| a.is_positive()),
    };
    let Some(amount) = parse_money(v).map(Chf::new).filter(ok) else {
        p.push(
            ProblemKind::BadValue,
            format!("{}: «Betrag CHF» ist kein Betrag {min_text} («{}»).", t.at(r), v.display()),
        );
        return None;
    };
    let (max, what) = ceiling;
    if amount > Chf::from_int(max) {
        p.push(
            ProblemKind::OutOfRange,
            format!(
                "{}: «Betrag CHF» {} ist grösser als die Obergrenze{what} von {} CHF.",
                t.at(r),
                v.display(),
                swiss_int(max.unsigned_abs())
            ),
        );
        return None;
    }
    Some(amount)
}

/// Sheet `Kredit`: the credit of each year (4.3.4).
fn read_kredit(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let Some(t) = Table::open(sheets, "Kredit", &["Jahr", "Kredit CHF"], false, p) else {
        return;
    };
    for r in t.rows() {
        let y = parse_whole(t.get(r, "Jahr"));
        let a = parse_money(t.get(r, "Kredit CHF")).map(Chf::new);
        match (y, a) {
            (Some(y), Some(a)) if !(1900..=9999).contains(&y) || a.is_negative() => {
                p.push(ProblemKind::BadValue, format!("{}: «Jahr» oder «Kredit CHF» ist ungültig.", t.at(r)))
            }
            (Some(_), Some(a)) if a > Chf::from_int(MAX_AMOUNT_CHF) => p.push(
                ProblemKind::OutOfRange,
                format!(
                    "{}: «Kredit CHF» {a} ist grösser als die Obergrenze von {} CHF.",
                    t.at(r),
                    swiss_int(MAX_AMOUNT_CHF as u64)
                ),
            ),
            (Some(y), Some(a)) => {
                if sd.credit.insert(y as i32, a).is_some() {
                    p.push(ProblemKind::Duplicate, format!("{}: Kredit für {y} kommt mehrfach vor.", t.at(r)));
                }
            }
            _ => p.push(ProblemKind::BadValue, format!("{}: «Jahr» oder «Kredit CHF» ist ungültig.", t.at(r))),
        }
    }
}

/// Sheet `Rückforderungen`: clawbacks (4.7), each a decision: its number (optional column
/// `Verfügung`) is its identity in the ledger; without the column, municipality, amount and
/// decision date are (never the reason), and a Hinweis asks for the column.
fn read_rueckforderungen(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let headers = ["BFS-Nr.", "Betrag CHF", "Grund", "Verfügt am"];
    let Some(t) = Table::open_with(sheets, "Rückforderungen", &headers, &["Verfügung"], false, p) else {
        return;
    };
    let has_decision = t.cols.has("Verfügung");
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for r in t.rows() {
        let Some(bfs) = req_bfs(&t, r, "BFS-Nr.", p) else { continue };
        if !sd.municipalities.contains_key(&bfs) {
            p.0.push(Problem::unknown_municipality(t.at(r), bfs));
        }
        let Some(amount) = amount_cell(&t, r, Lowest::AboveZero, (MAX_AMOUNT_CHF, ""), p) else {
            continue;
        };
        let Some(decided_on) = opt_date(&t, r, "Verfügt am", p) else {
            p.push(ProblemKind::BadValue, format!("{}: «Verfügt am» fehlt.", t.at(r)));
            continue;
        };
        let decision = match has_decision {
            true => {
                let n = t.get(r, "Verfügung").text().trim().to_string();
                if n.is_empty() {
                    p.push(ProblemKind::BadValue, format!("{}: «Verfügung» (Nummer der Verfügung) fehlt.", t.at(r)));
                    continue;
                }
                // Printed on documents and the ledger's identity: one line of at most 40.
                if let Some(problem) =
                    Problem::text(Position::new(&t.sheet.name, r, "Verfügung"), &n, 40, Charset::Document)
                {
                    p.0.push(problem);
                    continue;
                }
                Some(n)
            }
            false => None,
        };
        let reason = t.checked_text(r, "Grund", MAX_REASON_CHARS, Charset::Document, p);
        let c = Clawback { bfs, amount, reason, decided_on, decision };
        let id = c.reference();
        if let Some(first) = seen.insert(id, r) {
            let what = match &c.decision {
                Some(n) => format!("die Verfügung «{n}»"),
                None => {
                    format!("dieselbe Rückforderung (BFS-Nr. {bfs}, CHF {amount}, verfügt am {})", fmt_date(decided_on))
                }
            };
            p.push(
                ProblemKind::Duplicate,
                format!(
                    "Blatt «{}», Zeilen {} und {}: {what} kommt zweimal vor. Jede Rückforderung ist eine Verfügung und darf nur einmal erfasst sein.",
                    t.sheet.name,
                    first + 1,
                    r + 1
                ),
            );
            continue;
        }
        sd.clawbacks.push(c);
    }
    if !has_decision && !sd.clawbacks.is_empty() {
        sd.notes.push(
            "Blatt «Rückforderungen»: Die Spalte «Verfügung» (Nummer der Verfügung) fehlt. Die Rückforderungen werden an Gemeinde, Betrag und Verfügungsdatum erkannt; bitte die Spalte ergänzen.".to_string(),
        );
    }
}

/// Optional sheet `Kontakt`: the AGS contact for the feedback letters.
fn read_kontakt(sheets: &[Sheet], sd: &mut Stammdaten, p: &mut Problems) {
    let Some(t) = Table::open(sheets, "Kontakt", &["Kontakt"], true, p) else {
        return;
    };
    let lines: Vec<String> = t
        .rows()
        .map(|r| t.checked_text(r, "Kontakt", MAX_CONTACT_LINE_CHARS, Charset::Document, p))
        .filter(|s| !s.is_empty())
        .collect();
    if lines.len() > MAX_CONTACT_LINES {
        p.push(
            ProblemKind::TooLong,
            format!("Blatt «{}»: {} Zeilen, erlaubt sind höchstens {MAX_CONTACT_LINES}.", t.sheet.name, lines.len()),
        );
    }
    if !lines.is_empty() {
        sd.contact = Some(lines.join("\n"));
    }
}

impl Stammdaten {
    /// Reads and checks the master data workbook.
    pub fn load(path: &Path) -> Result<Stammdaten, StammdatenError> {
        let one = |p: String| StammdatenError::one(ProblemKind::Unreadable, p);
        let bytes = crate::fsio::read_regular_file(path, MAX_STAMMDATEN_BYTES).map_err(|e| match e {
            crate::fsio::OpenError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
                one(format!("Die Stammdaten-Datei «{}» existiert nicht.", path.display()))
            }
            e => one(format!("Die Stammdaten-Datei «{}» kann nicht gelesen werden: {e}", path.display())),
        })?;
        let sha256 = crate::fsio::sha256_hex(&bytes);
        let limits = Limits { max_rows: 1_000_000, max_cols: 64, max_cells: 5_000_000, ..Limits::default() };
        let wb = read_workbook(&bytes, &limits)
            .map_err(|e| one(format!("Die Stammdaten-Datei «{}» ist keine lesbare Tabelle: {e}", path.display())))?;
        let mut sd = Self::from_sheets(&wb.sheets)?;
        sd.sha256 = sha256;
        Ok(sd)
    }

    /// Builds master data from sheets, collecting every problem.
    pub fn from_sheets(sheets: &[Sheet]) -> Result<Stammdaten, StammdatenError> {
        let mut p = Problems::default();
        let mut sd = Stammdaten::default();
        read_gemeinden(sheets, &mut sd, &mut p);
        read_wohnbevoelkerung(sheets, &mut sd, &mut p);
        read_leitgemeinden(sheets, &mut sd, &mut p);
        read_tarife(sheets, &mut sd, &mut p);
        read_kredit(sheets, &mut sd, &mut p);
        read_rueckforderungen(sheets, &mut sd, &mut p);
        read_kontakt(sheets, &mut sd, &mut p);
        let (adressen, problems) = adressen::parse(sheets, &|b| sd.municipalities.contains_key(&b));
        p.0.extend(problems);
        sd.adressen = adressen;

        let (zahlung, problems) = zahlungsdaten::read(sheets, &sd.municipalities);
        sd.zahlung = zahlung;
        p.0.extend(problems);

        if p.is_empty() {
            sd.index();
            Ok(sd)
        } else {
            Err(StammdatenError { problems: p.0 })
        }
    }

    /// Checks what a run for year `y` needs: tariffs on every date that applies, and the
    /// population at the Stichtag for every municipality that exists in `y`.
    pub fn check_year(&self, y: i32) -> Result<(), StammdatenError> {
        let mut p = Problems::default();
        for d in [ymd(y, 6, 30), ymd(y, 12, 31)] {
            for code in TariffCode::ALL {
                let rows: Vec<_> = self.tariffs.iter().filter(|t| t.code == code).collect();
                let valid = rows.iter().filter(|t| t.valid_on(d)).count();
                let started = rows.iter().any(|t| t.validity.start() <= d);
                if valid == 0 && started {
                    p.push(
                        ProblemKind::TariffGap,
                        format!("Blatt «Tarife»: Für {} gilt am {} kein Tarif.", code.as_str(), fmt_date(d)),
                    );
                }
            }
        }
        let missing: Vec<(&Municipality, String)> = self
            .municipalities
            .values()
            .filter(|m| m.exists_in_year(y))
            .filter_map(|m| self.sockel_base(m.bfs, y).err().map(|e| (m, e)))
            .collect();
        if missing.len() > 5 {
            // A whole Stichtag is missing: one message, not one per municipality.
            let some: Vec<String> = missing.iter().take(5).map(|(m, _)| format!("{} ({})", m.name, m.bfs)).collect();
            p.push(
                ProblemKind::PopulationMissing,
                format!(
                    "Blatt «Wohnbevölkerung»: Per {} fehlt die ausländische Wohnbevölkerung von {} Gemeinden ({} …).",
                    fmt_date(ymd(y - 2, 12, 31)),
                    missing.len(),
                    some.join(", ")
                ),
            );
        } else {
            for (_, e) in missing {
                p.push(ProblemKind::PopulationMissing, e);
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(StammdatenError { problems: p.0 })
        }
    }

    pub fn municipality(&self, bfs: Bfs) -> Option<&Municipality> {
        self.municipalities.get(&bfs)
    }

    /// Municipalities that exist in year `y`, by BFS-Nr.
    pub fn municipalities_in(&self, y: i32) -> impl Iterator<Item = &Municipality> {
        self.municipalities.values().filter(move |m| m.exists_in_year(y))
    }

    fn index(&mut self) {
        self.by_member.clear();
        self.by_lead.clear();
        for (i, m) in self.memberships.iter().enumerate() {
            self.by_member.entry(m.member).or_default().push(i);
            self.by_lead.entry(m.lead).or_default().push(i);
        }
    }

    /// The rows whose `key` is `bfs`, through the index when it is built.
    fn rows_by<'a>(
        &'a self,
        index: &'a BTreeMap<Bfs, Vec<usize>>,
        bfs: Bfs,
        key: fn(&ContractMembership) -> Bfs,
    ) -> Box<dyn Iterator<Item = &'a ContractMembership> + 'a> {
        if index.is_empty() {
            Box::new(self.memberships.iter().filter(move |m| key(m) == bfs))
        } else {
            Box::new(index.get(&bfs).into_iter().flatten().filter_map(|i| self.memberships.get(*i)))
        }
    }

    /// The contract membership of `bfs` on day `d`, if any.
    pub fn membership(&self, bfs: Bfs, d: NaiveDate) -> Option<&ContractMembership> {
        self.rows_by(&self.by_member, bfs, |m| m.member).find(|m| m.member == bfs && m.active_on(d))
    }

    /// The payee on day `d`: the lead municipality of its contract, or itself.
    pub fn payee(&self, bfs: Bfs, d: NaiveDate) -> Bfs {
        self.membership(bfs, d).map_or(bfs, |m| m.lead)
    }

    /// Whether `bfs` is a member (not the lead) of a contract on day `d`.
    pub fn is_member_not_lead(&self, bfs: Bfs, d: NaiveDate) -> bool {
        self.membership(bfs, d).is_some_and(|m| m.lead != bfs)
    }

    /// Members of the contract led by `lead` on day `d` (the lead included), by BFS-Nr.
    pub fn members_of(&self, lead: Bfs, d: NaiveDate) -> BTreeSet<Bfs> {
        self.rows_by(&self.by_lead, lead, |m| m.lead)
            .filter(|m| m.lead == lead && m.active_on(d))
            .map(|m| m.member)
            .collect()
    }

    /// The rate for `code` valid on `d`, or `None` when the component was not yet in force.
    pub fn tariff(&self, code: TariffCode, d: NaiveDate) -> Option<&Tariff> {
        self.tariffs.iter().find(|t| t.code == code && t.valid_on(d))
    }

    /// Every predecessor of `bfs`, transitively (mergers over several steps), sorted.
    pub fn predecessors_all(&self, bfs: Bfs) -> Vec<Bfs> {
        let mut seen = BTreeSet::from([bfs]);
        let mut stack = vec![bfs];
        while let Some(b) = stack.pop() {
            for p in self.predecessors.get(&b).into_iter().flatten() {
                if seen.insert(*p) {
                    stack.push(*p);
                }
            }
        }
        seen.remove(&bfs);
        seen.into_iter().collect()
    }

    /// The predecessors whose residents count in the Sockelbeitrag base of `bfs` for year `y`
    /// (transitively): those that existed on the Stichtag `stichtag` and no longer exist in
    /// `y`. A predecessor that still exists in `y` has a row of its own (see
    /// [`Stammdaten::municipalities_in`]) and is paid its own Sockelbeitrag; neither it nor its
    /// own predecessors (counted in its base) are added here, so nobody is counted twice.
    pub fn predecessors_absorbed(&self, bfs: Bfs, y: i32, stichtag: NaiveDate) -> Vec<Bfs> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::from([bfs]);
        let mut stack = vec![bfs];
        while let Some(b) = stack.pop() {
            for p in self.predecessors.get(&b).into_iter().flatten() {
                if !seen.insert(*p) {
                    continue;
                }
                let Some(m) = self.municipalities.get(p) else { continue };
                if m.exists_in_year(y) {
                    continue;
                }
                if m.exists_on(stichtag) {
                    out.push(*p);
                }
                stack.push(*p);
            }
        }
        out.sort_unstable();
        out
    }

    /// The Sockelbeitrag base for year `y`: foreign residents at 31.12.(y−2), with the figures
    /// of predecessors that existed on that Stichtag and no longer exist in `y` added.
    pub fn sockel_base(&self, bfs: Bfs, y: i32) -> Result<u64, String> {
        let stichtag = ymd(y - 2, 12, 31);
        let name = self.municipality(bfs).map(|m| m.name.as_str()).unwrap_or("?");
        let own = self.population.get(&(bfs, stichtag)).copied();
        let preds = self.predecessors_absorbed(bfs, y, stichtag);
        let mut total = 0u64;
        let mut found = false;
        // Each figure is at most MAX_COUNT (checked on loading); the sum is checked anyway.
        let overflow = || format!("Blatt «Wohnbevölkerung»: Die Summe für {name} ({bfs}) ist zu gross.");
        if let Some(n) = own {
            total = total.checked_add(n).ok_or_else(overflow)?;
            found = true;
        }
        for p in &preds {
            if let Some(n) = self.population.get(&(*p, stichtag)) {
                total = total.checked_add(*n).ok_or_else(overflow)?;
                found = true;
            }
        }
        let exists_then = self.municipality(bfs).is_some_and(|m| m.exists_on(stichtag));
        if (exists_then && own.is_none()) || !found {
            return Err(format!(
                "Blatt «Wohnbevölkerung»: Für {name} ({bfs}) fehlt die ausländische Wohnbevölkerung per {}.",
                fmt_date(stichtag)
            ));
        }
        Ok(total)
    }

    /// Finds a municipality by BFS-Nr. text or by name (ignoring case and spacing).
    pub fn resolve(&self, v: &Value) -> Option<Bfs> {
        if let Some(b) = parse_bfs(v) {
            return self.municipalities.contains_key(&b).then_some(b);
        }
        let n = norm(&v.text());
        self.municipalities.values().find(|m| norm(&m.name) == n).map(|m| m.bfs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(name: &str, rows: &[&[Value]]) -> Sheet {
        let mut s = Sheet::new(name);
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                s.set(r as u32, c as u32, v.clone());
            }
        }
        s
    }
    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }
    fn i(n: i64) -> Value {
        Value::Int(n)
    }
    fn d(y: i32, m: u32, dd: u32) -> Value {
        Value::Date(ymd(y, m, dd))
    }
    const E: Value = Value::Empty;

    fn base() -> Vec<Sheet> {
        vec![
            sheet(
                "Gemeinden",
                &[
                    &[
                        t("BFS-Nr."),
                        t("Gemeinde"),
                        t("Bezirk"),
                        t("Gültig ab"),
                        t("Gültig bis"),
                        t("Nachfolge BFS-Nr."),
                    ],
                    &[i(1), t("Alt"), t("X"), E, d(2020, 12, 31), i(2)],
                    &[i(2), t("Neu"), t("X"), E, E, E],
                    &[i(3), t("Dritt"), t("X"), E, E, E],
                ],
            ),
            sheet(
                "Wohnbevölkerung",
                &[
                    &[t("BFS-Nr."), t("Stichtag"), t("Ausländische Wohnbevölkerung"), t("Quelle")],
                    &[i(1), d(2020, 12, 31), i(10), E],
                    &[i(2), d(2020, 12, 31), i(100), E],
                    &[i(3), d(2020, 12, 31), i(5), E],
                ],
            ),
            sheet(
                "Leitgemeinden",
                &[
                    &[t("Vertrag"), t("Leitgemeinde BFS-Nr."), t("Mitglied BFS-Nr."), t("Gültig ab"), t("Gültig bis")],
                    &[t("V"), i(2), i(2), E, E],
                    &[t("V"), i(2), i(3), E, E],
                ],
            ),
            sheet(
                "Tarife",
                &[
                    &[t("Leistung"), t("Betrag CHF"), t("Gültig ab"), t("Gültig bis")],
                    &[t("FALL_EG"), i(200), d(2017, 1, 1), E],
                    &[t("SOCKEL"), i(7), d(2018, 1, 1), E],
                ],
            ),
            sheet("Kredit", &[&[t("Jahr"), t("Kredit CHF")], &[i(2022), i(1000)]]),
            sheet("Rückforderungen", &[&[t("BFS-Nr."), t("Betrag CHF"), t("Grund"), t("Verfügt am")]]),
        ]
    }

    #[test]
    fn a_consistent_workbook_loads_and_merges_add_predecessors() {
        let sd = Stammdaten::from_sheets(&base()).unwrap();
        // The merger took effect 31.12.2020, the Stichtag of 2022: the predecessor's residents count.
        assert_eq!(sd.sockel_base(2, 2022).unwrap(), 110);
        assert_eq!(sd.payee(3, ymd(2022, 6, 30)), 2);
        assert!(sd.is_member_not_lead(3, ymd(2022, 6, 30)));
        assert!(!sd.is_member_not_lead(2, ymd(2022, 6, 30)));
    }

    /// `Gemeinden` with Alt (1) merged into Neu (2) after `alt_last_day`, and Dritt (3)
    /// merged into Alt after `dritt_last_day` (when given).
    fn merger(alt_last_day: NaiveDate, dritt_last_day: Option<NaiveDate>) -> Vec<Sheet> {
        let mut s = base();
        let dritt: Vec<Value> = match dritt_last_day {
            Some(l) => vec![i(3), t("Dritt"), t("X"), E, Value::Date(l), i(1)],
            None => vec![i(3), t("Dritt"), t("X"), E, E, E],
        };
        s[0] = sheet(
            "Gemeinden",
            &[
                &[t("BFS-Nr."), t("Gemeinde"), t("Bezirk"), t("Gültig ab"), t("Gültig bis"), t("Nachfolge BFS-Nr.")],
                &[i(1), t("Alt"), t("X"), E, Value::Date(alt_last_day), i(2)],
                &[i(2), t("Neu"), t("X"), E, E, E],
                &dritt,
            ],
        );
        s[2] = sheet(
            "Leitgemeinden",
            &[&[t("Vertrag"), t("Leitgemeinde BFS-Nr."), t("Mitglied BFS-Nr."), t("Gültig ab"), t("Gültig bis")]],
        );
        s
    }

    /// The bases of every municipality with a row in `y`, by BFS-Nr.
    fn bases(sd: &Stammdaten, y: i32) -> Vec<(Bfs, u64)> {
        sd.municipalities_in(y).map(|m| (m.bfs, sd.sockel_base(m.bfs, y).unwrap())).collect()
    }

    /// 4.3.2 and RULES.md: a predecessor counts in its successor's Sockelbeitrag only when it
    /// no longer exists in the year paid; a predecessor that still has a row of its own is
    /// paid its own Sockelbeitrag and is not counted again. Year 2022, Stichtag 31.12.2020;
    /// residents Alt 10, Neu 100, Dritt 5.
    #[test]
    fn a_predecessor_counts_once_on_both_sides_of_the_merger_date() {
        let load = |last: NaiveDate| Stammdaten::from_sheets(&merger(last, None)).unwrap();
        // Last day 31.12.2021: gone in 2022, added to Neu; no row of its own.
        let sd = load(ymd(2021, 12, 31));
        assert_eq!(bases(&sd, 2022), vec![(2, 110), (3, 5)]);
        // Last day 01.01.2022: still exists in 2022 (its own row), not added.
        let sd = load(ymd(2022, 1, 1));
        assert_eq!(bases(&sd, 2022), vec![(1, 10), (2, 100), (3, 5)]);
        // Absorbed mid-year 2022 (last day 30.06.2022): its own row, not added.
        let sd = load(ymd(2022, 6, 30));
        assert_eq!(bases(&sd, 2022), vec![(1, 10), (2, 100), (3, 5)]);
        // Last day 31.12.2022: the same, and in 2023 (Stichtag 31.12.2021, no figures) it is
        // counted in Neu, which is then missing figures for the Stichtag, as before.
        let sd = load(ymd(2022, 12, 31));
        assert_eq!(bases(&sd, 2022), vec![(1, 10), (2, 100), (3, 5)]);
        assert_eq!(sd.predecessors_absorbed(2, 2023, ymd(2021, 12, 31)), vec![1]);
        assert_eq!(sd.predecessors_absorbed(2, 2022, ymd(2020, 12, 31)), Vec::<Bfs>::new());
        // The Stichtag itself: a last day of 31.12.2020 is on the Stichtag (added), of
        // 30.12.2020 before it (its residents are already in Neu's figure).
        let sd = load(ymd(2020, 12, 31));
        assert_eq!(bases(&sd, 2022), vec![(2, 110), (3, 5)]);
        let sd = load(ymd(2020, 12, 30));
        assert_eq!(bases(&sd, 2022), vec![(2, 100), (3, 5)]);
    }

    /// A chain Dritt → Alt → Neu: Dritt's residents count where the chain first has a row in
    /// the year paid, and only there. Total residents 115 on the Stichtag, paid once.
    #[test]
    fn a_chain_of_mergers_counts_each_resident_once() {
        // Both gone before 2022: everything in Neu.
        let sd = Stammdaten::from_sheets(&merger(ymd(2021, 12, 31), Some(ymd(2021, 6, 30)))).unwrap();
        assert_eq!(bases(&sd, 2022), vec![(2, 115)]);
        // Dritt gone, Alt absorbed mid-2022: Alt carries Dritt, Neu only its own.
        let sd = Stammdaten::from_sheets(&merger(ymd(2022, 6, 30), Some(ymd(2021, 12, 31)))).unwrap();
        assert_eq!(bases(&sd, 2022), vec![(1, 15), (2, 100)]);
        // Both still there in 2022: each its own.
        let sd = Stammdaten::from_sheets(&merger(ymd(2022, 12, 31), Some(ymd(2022, 6, 30)))).unwrap();
        assert_eq!(bases(&sd, 2022), vec![(1, 10), (2, 100), (3, 5)]);
    }

    /// The texts of `Gemeinden`, `Leitgemeinden` and `Kontakt` are checked where they are read:
    /// a tab in a district, a bidirectional control in a contract name, a ninth contact line.
    #[test]
    fn texts_of_the_core_sheets_are_checked_at_their_cell() {
        let at = |s: &[Sheet]| match Stammdaten::from_sheets(s) {
            Ok(_) => vec![],
            Err(e) => e.problems.iter().map(|p| (p.kind, p.at.clone().map(|a| (a.sheet, a.row, a.column)))).collect(),
        };
        let pos = |sheet: &str, row: u32, col: &str| Some((sheet.to_string(), row, col.to_string()));
        let mut s = base();
        s[0].set(2, 2, t("Bezirk\tX"));
        assert_eq!(at(&s), vec![(ProblemKind::ControlCharacter, pos("Gemeinden", 3, "Bezirk"))]);
        let mut s = base();
        s[2].set(1, 0, t("V\u{202E}"));
        s[2].set(2, 0, t("V\u{202E}"));
        assert_eq!(
            at(&s),
            vec![
                (ProblemKind::InvisibleCharacter, pos("Leitgemeinden", 2, "Vertrag")),
                (ProblemKind::InvisibleCharacter, pos("Leitgemeinden", 3, "Vertrag"))
            ]
        );
        let kontakt = |n: usize| {
            let rows: Vec<Vec<Value>> =
                std::iter::once(vec![t("Kontakt")]).chain((0..n).map(|i| vec![t(&format!("Zeile {i}"))])).collect();
            let refs: Vec<&[Value]> = rows.iter().map(|r| r.as_slice()).collect();
            let mut s = base();
            s.push(sheet("Kontakt", &refs));
            Stammdaten::from_sheets(&s).map(|_| ()).map_err(|e| e.kinds())
        };
        assert_eq!(kontakt(8), Ok(()));
        assert_eq!(kontakt(9), Err(vec![ProblemKind::TooLong]));
    }

    /// A tariff's `Betrag CHF` and a clawback's, each on both sides of its lowest and its
    /// highest accepted value (tariff: 0 to MAX_TARIFF_CHF; clawback: above 0 to MAX_AMOUNT_CHF).
    #[test]
    fn amounts_are_checked_on_both_sides_of_each_bound() {
        let tariff = |amount: &str| {
            let mut s = base();
            s[3] = sheet(
                "Tarife",
                &[&[t("Leistung"), t("Betrag CHF"), t("Gültig ab"), t("Gültig bis")], &[t("FALL_EG"), t(amount), E, E]],
            );
            Stammdaten::from_sheets(&s).map(|sd| sd.tariffs[0].amount).map_err(|e| e.kinds())
        };
        let claw = |amount: &str| {
            let mut s = base();
            s[5] = sheet(
                "Rückforderungen",
                &[
                    &[t("BFS-Nr."), t("Betrag CHF"), t("Grund"), t("Verfügt am")],
                    &[i(2), t(amount), t("R"), d(2022, 5, 1)],
                ],
            );
            Stammdaten::from_sheets(&s).map(|sd| sd.clawbacks[0].amount).map_err(|e| e.kinds())
        };
        let chf = |s: &str| s.parse::<Chf>().unwrap();
        assert_eq!(tariff("0"), Ok(chf("0")));
        assert_eq!(tariff("-0.01"), Err(vec![ProblemKind::BadValue]));
        assert_eq!(tariff("100000"), Ok(chf("100000")));
        assert_eq!(tariff("100000.01"), Err(vec![ProblemKind::OutOfRange]));
        assert_eq!(claw("0"), Err(vec![ProblemKind::BadValue]));
        assert_eq!(claw("0.01"), Ok(chf("0.01")));
        assert_eq!(claw("1000000000"), Ok(chf("1000000000")));
        assert_eq!(claw("1000000000.01"), Err(vec![ProblemKind::OutOfRange]));
    }

    #[test]
    fn contradictions_are_each_reported() {
        let mut s = base();
        // duplicate BFS-Nr., unknown successor
        s[0] = sheet(
            "Gemeinden",
            &[
                &[t("BFS-Nr."), t("Gemeinde"), t("Bezirk"), t("Gültig ab"), t("Gültig bis"), t("Nachfolge BFS-Nr.")],
                &[i(1), t("Alt"), t("X"), E, d(2020, 12, 31), i(77)],
                &[i(2), t("Neu"), t("X"), E, E, E],
                &[i(2), t("Neu"), t("X"), E, E, E],
                &[i(3), t("Dritt"), t("X"), E, E, E],
            ],
        );
        // member in two contracts; lead not a member of its own contract
        s[2] = sheet(
            "Leitgemeinden",
            &[
                &[t("Vertrag"), t("Leitgemeinde BFS-Nr."), t("Mitglied BFS-Nr."), t("Gültig ab"), t("Gültig bis")],
                &[t("V"), i(2), i(2), E, E],
                &[t("V"), i(2), i(3), E, E],
                &[t("W"), i(1), i(3), E, E],
            ],
        );
        // overlapping tariffs
        s[3] = sheet(
            "Tarife",
            &[
                &[t("Leistung"), t("Betrag CHF"), t("Gültig ab"), t("Gültig bis")],
                &[t("FALL_EG"), i(200), d(2017, 1, 1), E],
                &[t("FALL_EG"), i(210), d(2022, 1, 1), E],
            ],
        );
        let err = Stammdaten::from_sheets(&s).unwrap_err();
        let kinds = err.kinds();
        for k in [
            ProblemKind::Duplicate,
            ProblemKind::UnknownReference,
            ProblemKind::TwoContracts,
            ProblemKind::LeadNotMember,
            ProblemKind::TariffOverlap,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing in {err}");
        }
    }

    #[test]
    fn a_successor_cycle_is_reported_not_followed_forever() {
        let mut s = base();
        s[0] = sheet(
            "Gemeinden",
            &[
                &[t("BFS-Nr."), t("Gemeinde"), t("Bezirk"), t("Gültig ab"), t("Gültig bis"), t("Nachfolge BFS-Nr.")],
                &[i(1), t("Alt"), t("X"), E, d(2020, 12, 31), i(2)],
                &[i(2), t("Neu"), t("X"), E, d(2021, 12, 31), i(1)],
                &[i(3), t("Dritt"), t("X"), E, E, E],
            ],
        );
        let err = Stammdaten::from_sheets(&s).unwrap_err();
        assert!(err.kinds().contains(&ProblemKind::SuccessorCycle), "{err}");
    }

    proptest::proptest! {
        /// The sweep finds an overlap exactly when some pair of periods overlaps.
        #[test]
        fn the_sweep_finds_an_overlap_iff_a_pair_overlaps(
            raw in proptest::collection::vec((proptest::option::of(0i64..40), proptest::option::of(0i64..40)), 0..12)
        ) {
            let day = |n: i64| ymd(2020, 1, 1) + chrono::Days::new(n as u64);
            let ps: Vec<(Option<NaiveDate>, Option<NaiveDate>)> = raw
                .into_iter()
                .map(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) if a > b => (Some(day(b)), Some(day(a))),
                    (a, b) => (a.map(day), b.map(day)),
                })
                .collect();
            let lo = |p: &(Option<NaiveDate>, Option<NaiveDate>)| p.0.unwrap_or(NaiveDate::MIN);
            let hi = |p: &(Option<NaiveDate>, Option<NaiveDate>)| p.1.unwrap_or(NaiveDate::MAX);
            let brute = (0..ps.len()).any(|i| (i + 1..ps.len()).any(|j| lo(&ps[i]) <= hi(&ps[j]) && lo(&ps[j]) <= hi(&ps[i])));
            let items: Vec<usize> = (0..ps.len()).collect();
            let periods = ps.iter().zip(&items).map(|(p, i)| Period { validity: Validity::new(p.0, p.1), item: i }).collect();
            let found = overlapping(periods);
            proptest::prop_assert_eq!(brute, !found.is_empty());
            for (a, b) in found {
                let (a, b) = (&ps[*a], &ps[*b]);
                proptest::prop_assert!(lo(a) <= hi(b) && lo(b) <= hi(a), "a reported pair overlaps");
            }
        }
    }

    #[test]
    fn missing_population_stops_the_year() {
        let sd = Stammdaten::from_sheets(&base()).unwrap();
        assert!(sd.check_year(2022).is_ok());
        assert_eq!(sd.check_year(2023).unwrap_err().kinds()[0], ProblemKind::PopulationMissing);
    }

    /// A clawback is a decision: its `Verfügung` number is its identity, else municipality,
    /// amount and date; the same decision twice is an error naming both rows; without the
    /// column, a Hinweis asks for it; an empty number is an error.
    #[test]
    fn a_clawback_is_identified_by_its_decision_and_a_repeated_one_is_an_error() {
        let with = |header: &[Value], rows: &[&[Value]]| {
            let mut s = base();
            let mut all: Vec<&[Value]> = vec![header];
            all.extend_from_slice(rows);
            s[5] = sheet("Rückforderungen", &all);
            Stammdaten::from_sheets(&s)
        };
        let old = [t("BFS-Nr."), t("Betrag CHF"), t("Grund"), t("Verfügt am")];
        let new = [t("BFS-Nr."), t("Betrag CHF"), t("Grund"), t("Verfügt am"), t("Verfügung")];
        // With numbers: two rows of the same municipality, amount and date are two decisions.
        let sd = with(
            &new,
            &[&[i(2), i(100), t("A"), d(2022, 5, 1), t("V-1")], &[i(2), i(100), t("A"), d(2022, 5, 1), t("V-2")]],
        )
        .unwrap();
        let refs: Vec<String> = sd.clawbacks.iter().map(Clawback::reference).collect();
        assert_eq!(refs, vec!["VF-V-1", "VF-V-2"]);
        assert!(sd.notes.is_empty());
        // The same number twice.
        let e = with(
            &new,
            &[&[i(2), i(100), t("A"), d(2022, 5, 1), t("V-1")], &[i(3), i(5), t("B"), d(2022, 6, 1), t("V-1")]],
        )
        .unwrap_err();
        assert_eq!(e.kinds(), vec![ProblemKind::Duplicate]);
        // An empty number.
        let e = with(&new, &[&[i(2), i(100), t("A"), d(2022, 5, 1), E]]).unwrap_err();
        assert_eq!(e.kinds(), vec![ProblemKind::BadValue]);
        // Without the column: municipality, amount and date (never the reason) identify it.
        let sd = with(&old, &[&[i(2), i(100), t("A"), d(2022, 5, 1)], &[i(2), i(100), t("A"), d(2022, 5, 2)]]).unwrap();
        let refs: Vec<String> = sd.clawbacks.iter().map(Clawback::reference).collect();
        assert_eq!(refs, vec!["RF-2-20220501-100", "RF-2-20220502-100"]);
        assert_eq!(sd.notes.len(), 1, "a Hinweis asks for the column");
        let e =
            with(&old, &[&[i(2), i(100), t("A"), d(2022, 5, 1)], &[i(2), i(100), t("B"), d(2022, 5, 1)]]).unwrap_err();
        assert_eq!(e.kinds(), vec![ProblemKind::Duplicate], "another reason does not make it another decision");
        // Without clawbacks, no Hinweis.
        assert!(with(&old, &[]).unwrap().notes.is_empty());
    }
}
