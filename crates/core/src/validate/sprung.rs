//! `WERT_SPRUNG`: a count of a Reportingformular compared with the same municipality's
//! counts of earlier half-years (its history). A value far above or below everything the
//! municipality reported in its last [`SPRUNG_PERIODEN`] half-years is a warning that shows
//! the history, so staff ask before paying. It never changes an amount.
//!
//! What it decides: the thresholds ([`SPRUNG_FAKTOR`], [`SPRUNG_MINDEST`]) and whose history
//! counts (the reporting municipality and its predecessors, mergers). What it must not know:
//! where the history comes from (the inbox's earlier years or the ledger; the app gathers
//! it into a [`History`]), and nothing of paying.

use super::ReportDoc;
use crate::catalogue::finding;
use crate::domain::{Bfs, CountField, Finding, FormVersion, Period};
use crate::extract::RawForm;
use crate::stammdaten::Stammdaten;
use crate::values::parse_count;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A value at least this many times the highest of the history (or at most the lowest
/// divided by it) is a jump: «a count that triples from one half-year to the next».
pub const SPRUNG_FAKTOR: u64 = 3;
/// … and differs from it by at least this much, so small counts (2 → 6) never trigger.
pub const SPRUNG_MINDEST: u64 = 10;
/// The history is the last this many earlier half-years with a value (two years).
pub const SPRUNG_PERIODEN: usize = 4;

/// Where a value of the history comes from, so that a form in the inbox wins over the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Ledger,
    Inbox,
}

/// The order of resubmissions, as in [`crate::resolve`]: receipt date, date on the form, path.
type Order = (Option<NaiveDate>, Option<NaiveDate>, String);

/// The counts of earlier half-years, by municipality, half-year and count field.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Counts of reports in the inbox: the reporting municipality's main-sheet values.
    inbox: BTreeMap<(Bfs, Period), (Order, BTreeMap<CountField, u64>)>,
    /// Counts the ledger booked (the paid counts), by the municipality booked.
    ledger: BTreeMap<(Bfs, Period, CountField), u64>,
}

/// The usable main-sheet counts of a Reportingformular (a blank counts 0; an unusable value
/// is left out), only of the fields its template version has.
pub fn form_counts(form: &RawForm, version: FormVersion) -> BTreeMap<CountField, u64> {
    CountField::ALL
        .into_iter()
        .filter(|cf| cf.in_version(version))
        .filter_map(|cf| parse_count(&form.field(cf.field()).value).usable().map(|n| (cf, n)))
        .collect()
}

impl History {
    /// Adds a valid report; of several for one municipality and half-year the latest counts
    /// (receipt date, then date on the form, then path), as the evaluation of that year does.
    pub fn add_report(&mut self, doc: &ReportDoc, form: &RawForm) {
        let order = (doc.received, doc.submitted, doc.rel.clone());
        let counts = form_counts(form, doc.version);
        let slot = self.inbox.entry((doc.bfs, doc.period));
        match slot {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert((order, counts));
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if order > o.get().0 {
                    o.insert((order, counts));
                }
            }
        }
    }

    /// Adds a count the ledger booked for a municipality (a contract member's own share).
    pub fn add_booked(&mut self, bfs: Bfs, period: Period, field: CountField, count: u64) {
        self.ledger.insert((bfs, period, field), count);
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.inbox.is_empty() && self.ledger.is_empty()
    }

    /// The value of `field` for the municipalities `units` in `period`: the sum of the inbox's
    /// reports where at least one of them reported, else the sum of the ledger's counts of
    /// `booked` (the units and their contract members), else nothing.
    fn value(&self, units: &[Bfs], booked: &[Bfs], period: Period, field: CountField) -> Option<(u64, Source)> {
        let sum = |vals: Vec<u64>| -> Option<u64> {
            if vals.is_empty() {
                return None;
            }
            vals.into_iter().try_fold(0u64, |a, v| a.checked_add(v))
        };
        let from_inbox: Vec<u64> = units
            .iter()
            .filter_map(|b| self.inbox.get(&(*b, period)))
            .filter_map(|(_, counts)| counts.get(&field).copied())
            .collect();
        if let Some(v) = sum(from_inbox) {
            return Some((v, Source::Inbox));
        }
        let from_ledger: Vec<u64> =
            booked.iter().filter_map(|b| self.ledger.get(&(*b, period, field)).copied()).collect();
        sum(from_ledger).map(|v| (v, Source::Ledger))
    }

    /// Every half-year before `before` that holds anything, latest first.
    fn periods_before(&self, before: Period) -> Vec<Period> {
        let mut ps: Vec<Period> = self
            .inbox
            .keys()
            .map(|(_, p)| *p)
            .chain(self.ledger.keys().map(|(_, p, _)| *p))
            .filter(|p| *p < before)
            .collect();
        ps.sort_unstable();
        ps.dedup();
        ps.reverse();
        ps
    }
}

/// Whether `value` is a jump against the history's lowest `lo` and highest `hi`.
pub fn is_jump(value: u64, lo: u64, hi: u64) -> bool {
    let up = value >= hi.saturating_mul(SPRUNG_FAKTOR) && value.saturating_sub(hi) >= SPRUNG_MINDEST;
    let down = lo >= value.saturating_mul(SPRUNG_FAKTOR) && lo.saturating_sub(value) >= SPRUNG_MINDEST;
    up || down
}

/// The `WERT_SPRUNG` findings of a valid report against the history: one per count field
/// whose value is a jump. The history of a municipality includes its predecessors' (a
/// successor is compared with what its predecessors reported together).
pub fn check(doc: &ReportDoc, form: &RawForm, master: &Stammdaten, history: &History) -> Vec<Finding> {
    let mut out = Vec::new();
    if history.is_empty() {
        return out;
    }
    let mut units = vec![doc.bfs];
    units.extend(master.predecessors_all(doc.bfs));
    let periods = history.periods_before(doc.period);
    for (field, value) in form_counts(form, doc.version) {
        let mut seen: Vec<(Period, u64, Source)> = Vec::new();
        for p in &periods {
            if seen.len() == SPRUNG_PERIODEN {
                break;
            }
            let mut booked: Vec<Bfs> = units.clone();
            for u in &units {
                booked.extend(master.members_of(*u, p.last_day()));
            }
            booked.sort_unstable();
            booked.dedup();
            if let Some((v, src)) = history.value(&units, &booked, *p, field) {
                seen.push((*p, v, src));
            }
        }
        let (Some(lo), Some(hi)) = (seen.iter().map(|s| s.1).min(), seen.iter().map(|s| s.1).max()) else {
            continue;
        };
        if !is_jump(value, lo, hi) {
            continue;
        }
        seen.reverse();
        let shown: Vec<String> = seen
            .iter()
            .map(|(p, v, src)| {
                let booked = if *src == Source::Ledger { " (gebucht)" } else { "" };
                format!("{}/H{}: {v}{booked}", p.year, p.half)
            })
            .collect();
        let with_preds = if units.len() > 1 { ", mit Vorgängergemeinden" } else { "" };
        let detail = format!("gemeldet {value}; bisher{with_preds} {}", shown.join(", "));
        let key = field.field();
        let f = form.field(key);
        out.push(
            finding()
                .file(&doc.rel)
                .bfs(Some(doc.bfs))
                .at(f.pos.as_ref())
                .value(f.value.display())
                .field(key.label())
                .detail(detail)
                .build(crate::domain::Code::WertSprung),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_up_needs_three_times_the_highest_and_ten_more() {
        // Triple: 15 against 5 is a jump (15 = 3 × 5, 10 more); 14 is not.
        assert!(is_jump(15, 5, 5));
        assert!(!is_jump(14, 5, 5));
        // Small counts: 12 against 4 is three times, but only 8 more.
        assert!(!is_jump(12, 4, 4));
        assert!(!is_jump(13, 4, 4));
        assert!(is_jump(14, 4, 4));
        // From nothing: 10 is a jump, 9 is not.
        assert!(is_jump(10, 0, 0));
        assert!(!is_jump(9, 0, 0));
        // The highest of the history counts: 30 against 4..12 is not three times 12.
        assert!(!is_jump(35, 4, 12));
        assert!(is_jump(36, 4, 12));
    }

    #[test]
    fn a_jump_down_needs_a_third_of_the_lowest_and_ten_less() {
        assert!(is_jump(10, 30, 40));
        assert!(!is_jump(11, 30, 40));
        assert!(is_jump(0, 10, 10));
        assert!(!is_jump(0, 9, 9));
        // 12 → 2: a sixth, and ten less; 12 → 3: a quarter, but only nine less.
        assert!(is_jump(2, 12, 12));
        assert!(!is_jump(3, 12, 12));
        // Steady values never jump.
        assert!(!is_jump(20, 20, 20));
        assert!(!is_jump(0, 0, 0));
    }
}
