//! Reminders (Mahnungen, 5.2): which form is missing after its deadline on a given day, who is
//! reminded of it, and at which level.
//!
//! - A Reportingformular of a half-year is due on 31.07. (H1) or 31.01. of the next year (H2),
//!   the Selbstdeklaration of year Y on 31.01. of Y (FORMS.md). A form is missing on day D
//!   when D lies after its deadline and the inbox as it stood on D holds no valid form (the
//!   same rule as `BERICHT_FEHLT` and `SD_FEHLT`: the used form of [`Resolved`]).
//! - A contract member files nothing itself: its lead is reminded, for the member's row too
//!   ([`Missing::covers`]). The reports of a municipality whose Selbstdeklaration fails 4.2
//!   are not reminded (nothing is paid for them).
//! - The first reminder sets a new deadline; after it has passed and the form is still
//!   missing, a second reminder names the first one's date. No further reminder follows the
//!   second; none is sent twice on one day. A form received after a reminder closes it: it is
//!   no longer missing.
//!
//! It decides only; it knows nothing of the ledger that records the reminders sent (the
//! caller passes them as [`Sent`]), the letters or the command.

use crate::domain::{fmt_date, ymd, Bfs, FormKind, Period};
use crate::resolve::{Eligibility, Resolved};
use crate::stammdaten::Stammdaten;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Days from a reminder to its new deadline unless the command says otherwise (`--frist`).
pub const DEFAULT_DAYS: u32 = 14;

/// The highest level: after the second reminder no further one is written.
pub const LAST_LEVEL: u8 = 2;

/// A form that is due: a half-year's Reportingformular or a year's Selbstdeklaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Form {
    Report(Period),
    Selbstdeklaration(i32),
}

impl Form {
    /// Its deadline (5.2): 31.07. / 31.01. of the next year for a report, 31.01. of the
    /// year for the Selbstdeklaration.
    pub fn deadline(self) -> NaiveDate {
        match self {
            Form::Report(p) => p.deadline(),
            Form::Selbstdeklaration(y) => ymd(y, 1, 31),
        }
    }
    pub fn kind(self) -> FormKind {
        match self {
            Form::Report(_) => FormKind::Reporting,
            Form::Selbstdeklaration(_) => FormKind::Selbstdeklaration,
        }
    }
    pub fn year(self) -> i32 {
        match self {
            Form::Report(p) => p.year,
            Form::Selbstdeklaration(y) => y,
        }
    }
    /// The period as the correspondence journal stores it: `2023-H1`, `2023`.
    pub fn period_key(self) -> String {
        match self {
            Form::Report(p) => format!("{}-H{}", p.year, p.half),
            Form::Selbstdeklaration(y) => y.to_string(),
        }
    }
    /// The form back from the journal's `formular` ([`FormKind::label`]) and `periode`.
    pub fn parse(kind: &str, period: &str) -> Option<Form> {
        if kind == FormKind::Reporting.label() {
            let (y, h) = period.split_once("-H")?;
            let half: u8 = h.parse().ok().filter(|h| *h == 1 || *h == 2)?;
            Some(Form::Report(Period::new(y.parse().ok()?, half)))
        } else if kind == FormKind::Selbstdeklaration.label() {
            Some(Form::Selbstdeklaration(period.parse().ok()?))
        } else {
            None
        }
    }
    /// `Reportingformular 1. Halbjahr 2023`, `Selbstdeklaration 2023`.
    pub fn label(self) -> String {
        match self {
            Form::Report(p) => format!("{} {}", FormKind::Reporting.label(), p.label()),
            Form::Selbstdeklaration(y) => format!("{} {y}", FormKind::Selbstdeklaration.label()),
        }
    }
}

/// A form missing after its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// Who files it (and is reminded): the municipality itself or its contract's lead.
    pub filer: Bfs,
    pub form: Form,
    /// The municipalities whose contributions depend on it: the filer's own and its members'
    /// (a lead's report has their rows), by BFS-Nr.
    pub covers: BTreeSet<Bfs>,
}

/// Every form of year `y` missing on day `on`, by filer and form.
pub fn missing(master: &Stammdaten, resolved: &Resolved, y: i32, on: NaiveDate) -> Vec<Missing> {
    let mut out: BTreeMap<(Bfs, Form), BTreeSet<Bfs>> = BTreeMap::new();
    let sd = Form::Selbstdeklaration(y);
    for m in master.municipalities_in(y) {
        // The Selbstdeklaration of the payee on each half-year's last day (as `SD_FEHLT`).
        if on > sd.deadline() {
            for day in [ymd(y, 6, 30), ymd(y, 12, 31)] {
                if !m.exists_on(day) {
                    continue;
                }
                let payee = master.payee(m.bfs, day);
                if !resolved.sds.contains_key(&payee) {
                    out.entry((payee, sd)).or_default().insert(m.bfs);
                }
            }
        }
        for half in [1u8, 2] {
            let p = Period::new(y, half);
            let day = p.last_day();
            if !m.exists_on(day) || on <= p.deadline() {
                continue;
            }
            let filer = master.payee(m.bfs, day);
            if resolved.reports.contains_key(&(filer, p)) {
                continue;
            }
            if matches!(resolved.eligibility(filer), Eligibility::NotEligible { .. }) {
                continue;
            }
            out.entry((filer, Form::Report(p))).or_default().insert(m.bfs);
        }
    }
    let mut v: Vec<Missing> = out.into_iter().map(|((filer, form), covers)| Missing { filer, form, covers }).collect();
    v.sort_by_key(|m| (m.filer, m.form));
    v
}

/// A reminder sent before, as the correspondence journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub bfs: Bfs,
    pub form: Form,
    pub date: NaiveDate,
    pub level: u8,
    /// The new deadline it set.
    pub deadline: NaiveDate,
}

/// The reminders still open: of each form reminded, the last reminder (highest level, then
/// latest), while the form is still missing in `resolved` (a form received after it closes it).
pub fn open(master: &Stammdaten, resolved: &Resolved, y: i32, sent: &[Sent]) -> Vec<Sent> {
    let mut last: BTreeMap<(Bfs, Form), &Sent> = BTreeMap::new();
    for s in sent.iter().filter(|s| s.form.year() == y) {
        let e = last.entry((s.bfs, s.form)).or_insert(s);
        if (s.level, s.date) > (e.level, e.date) {
            *e = s;
        }
    }
    last.into_values()
        .filter(|s| missing(master, resolved, y, s.date).iter().any(|m| m.filer == s.bfs && m.form == s.form))
        .cloned()
        .collect()
}

/// A reminder to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub missing: Missing,
    /// 1 or 2.
    pub level: u8,
    /// The day it is written.
    pub date: NaiveDate,
    /// The form's deadline that has passed.
    pub passed: NaiveDate,
    /// The new deadline.
    pub deadline: NaiveDate,
    /// For a second reminder, the first one: its date and its deadline.
    pub first: Option<(NaiveDate, NaiveDate)>,
}

/// Why a missing form is not reminded on this day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A reminder for it was written on this very day.
    SentToday,
    /// The first reminder's deadline has not passed yet.
    Waiting { first: NaiveDate, until: NaiveDate },
    /// The second reminder was written on that day; no further reminder follows.
    Exhausted { second: NaiveDate },
}

impl Held {
    /// German, for the command's summary.
    pub fn text(&self) -> String {
        match self {
            Held::SentToday => "heute bereits gemahnt".to_string(),
            Held::Waiting { first, until } => {
                format!("1. Mahnung vom {}, Frist bis {} läuft noch", fmt_date(*first), fmt_date(*until))
            }
            Held::Exhausted { second } => format!("2. Mahnung vom {} bereits verschickt", fmt_date(*second)),
        }
    }
}

/// What [`plan`] decided for a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The reminders to write.
    pub todo: Vec<Reminder>,
    /// The missing forms not reminded on this day, with why.
    pub held: Vec<(Missing, Held)>,
}

/// The reminders to write on day `on` for the `missing` forms, given those `sent` before
/// (any year; only the same municipality and form count), with a new deadline `days` days
/// after `on`; and the forms held back, with why. `None` only if the new deadline leaves
/// the calendar.
pub fn plan(missing: Vec<Missing>, sent: &[Sent], on: NaiveDate, days: u32) -> Option<Plan> {
    let deadline = on.checked_add_days(chrono::Days::new(u64::from(days)))?;
    let mut todo = Vec::new();
    let mut held = Vec::new();
    for m in missing {
        let before: Vec<&Sent> = sent.iter().filter(|s| s.bfs == m.filer && s.form == m.form).collect();
        if before.iter().any(|s| s.date == on) {
            held.push((m, Held::SentToday));
            continue;
        }
        // The latest reminder written before this day decides.
        let last = before.iter().filter(|s| s.date < on).max_by_key(|s| (s.date, s.level));
        let (level, first) = match last {
            None => (1, None),
            Some(s) if s.level >= LAST_LEVEL => {
                held.push((m, Held::Exhausted { second: s.date }));
                continue;
            }
            Some(s) if on <= s.deadline => {
                held.push((m, Held::Waiting { first: s.date, until: s.deadline }));
                continue;
            }
            Some(s) => (s.level + 1, Some((s.date, s.deadline))),
        };
        let passed = m.form.deadline();
        todo.push(Reminder { missing: m, level, date: on, passed, deadline, first });
    }
    Some(Plan { todo, held })
}

/// Whether the form a reminder was about has arrived in `resolved` (the inbox as it stands):
/// its receipt date (`Some(None)`: used, its date unknown); `None` while it is missing.
pub fn received(resolved: &Resolved, bfs: Bfs, form: Form) -> Option<Option<NaiveDate>> {
    match form {
        Form::Report(p) => resolved.reports.get(&(bfs, p)).map(|d| d.received),
        Form::Selbstdeklaration(_) => resolved.sds.get(&bfs).map(|d| d.received),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        ymd(y, m, dd)
    }

    fn miss(bfs: Bfs, form: Form) -> Missing {
        Missing { filer: bfs, form, covers: [bfs].into() }
    }

    const H1: Form = Form::Report(Period { year: 2023, half: 1 });

    #[test]
    fn deadlines_and_keys() {
        assert_eq!(H1.deadline(), d(2023, 7, 31));
        assert_eq!(Form::Report(Period::new(2023, 2)).deadline(), d(2024, 1, 31));
        assert_eq!(Form::Selbstdeklaration(2023).deadline(), d(2023, 1, 31));
        assert_eq!(H1.period_key(), "2023-H1");
        assert_eq!(Form::parse("Reportingformular", "2023-H1"), Some(H1));
        assert_eq!(Form::parse("Reportingformular", "2023-H3"), None);
        assert_eq!(Form::parse("Selbstdeklaration", "2023"), Some(Form::Selbstdeklaration(2023)));
        assert_eq!(Form::parse("Brief", "2023"), None);
    }

    #[test]
    fn first_then_second_after_the_first_deadline() {
        let on = d(2023, 8, 1);
        let Plan { todo, held } = plan(vec![miss(2601, H1)], &[], on, 14).unwrap();
        assert!(held.is_empty());
        assert_eq!(
            (todo[0].level, todo[0].deadline, todo[0].passed, todo[0].first),
            (1, d(2023, 8, 15), d(2023, 7, 31), None)
        );
        let first = Sent { bfs: 2601, form: H1, date: on, level: 1, deadline: d(2023, 8, 15) };
        // The same day: not again.
        let Plan { todo, held } = plan(vec![miss(2601, H1)], std::slice::from_ref(&first), on, 14).unwrap();
        assert!(todo.is_empty());
        assert_eq!(held[0].1, Held::SentToday);
        // On the first one's deadline: still waiting; the day after: the second.
        let Plan { todo, held } = plan(vec![miss(2601, H1)], std::slice::from_ref(&first), d(2023, 8, 15), 14).unwrap();
        assert!(todo.is_empty());
        assert_eq!(held[0].1, Held::Waiting { first: on, until: d(2023, 8, 15) });
        let Plan { todo, .. } = plan(vec![miss(2601, H1)], std::slice::from_ref(&first), d(2023, 8, 16), 10).unwrap();
        assert_eq!((todo[0].level, todo[0].deadline, todo[0].first), (2, d(2023, 8, 26), Some((on, d(2023, 8, 15)))));
        // After the second: none.
        let second = Sent { bfs: 2601, form: H1, date: d(2023, 8, 16), level: 2, deadline: d(2023, 8, 26) };
        let Plan { todo, held } = plan(vec![miss(2601, H1)], &[first.clone(), second], d(2023, 9, 30), 14).unwrap();
        assert!(todo.is_empty());
        assert_eq!(held[0].1, Held::Exhausted { second: d(2023, 8, 16) });
        // Another municipality's or another form's reminder does not count.
        let Plan { todo, .. } =
            plan(vec![miss(2602, H1), miss(2601, Form::Selbstdeklaration(2023))], &[first], on, 14).unwrap();
        assert_eq!(todo.iter().map(|r| r.level).collect::<Vec<_>>(), vec![1, 1]);
    }
}
