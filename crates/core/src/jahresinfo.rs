//! The yearly information (4.5.3: «Der Kanton informiert die Koordinationsstellen, die
//! Präsidien der Einwohnergemeinden sowie die Finanzverwaltungen jährlich über die
//! auszurichtenden Beiträge»): what one municipality's letter states, decided from its row of
//! Anhang Nr. 1 (compute), the payouts by date (the ledger's bookings of the year when there
//! are any, else compute's projection), what is withheld and why, and its open invoices.
//!
//! Every amount comes from compute or from the bookings and invoices the caller read from the
//! ledger; sums are checked. It knows nothing of the ledger's storage, of layout or of files.

use crate::compute::{component_label, AnnexRow, Computation, Item, Line, Overflow};
use crate::domain::{Bfs, Chf, InvoiceState};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A booking of the ledger for the year, as the caller read it: a contribution or a
/// clawback of `bfs` in the run of `stichtag`.
#[derive(Debug, Clone, PartialEq)]
pub struct Booked {
    pub bfs: Bfs,
    pub year: i32,
    pub stichtag: NaiveDate,
    pub amount: Chf,
}

/// One amount of the annex row: `Sockelbeitrag 2023`, `Fallpauschale Erstinformation,
/// 1. Halbjahr 2023`, `Rückforderung 2023`.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount {
    pub label: String,
    pub count: Option<u64>,
    pub amount: Chf,
}

/// A payout on a date: booked in the ledger, or projected.
#[derive(Debug, Clone, PartialEq)]
pub struct Payout {
    pub date: NaiveDate,
    /// What it pays (projection: `Sockelbeitrag 2023`, `1. Halbjahr 2023`); empty for a
    /// booked run (its bookings may pay several parts).
    pub basis: String,
    /// The contributions (projection: gross, before offsetting clawbacks).
    pub amount: Chf,
    /// Clawbacks offset against it (projection only, ≥ 0).
    pub offset: Chf,
}

/// Where the payouts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The ledger's bookings of the year.
    Ledger,
    /// The payout calendar (4.5.2) as compute projects it: nothing of the year is booked.
    Projection,
}

/// An amount not paid, and why (the statement's deciding reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Withheld {
    pub label: String,
    /// `None`: nothing is computed for the line (no report of the half-year).
    pub amount: Option<Chf>,
    pub reason: String,
}

/// An invoice still open: the ledger's, or (projection) the one the projection would issue.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenInvoice {
    /// The invoice number; empty for a projected one.
    pub id: String,
    pub date: NaiveDate,
    pub due_on: NaiveDate,
    pub open: Chf,
}

/// What one municipality's yearly information states.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    pub bfs: Bfs,
    pub name: String,
    pub year: i32,
    /// The payee at year end (a merged municipality's successor); the payouts are its.
    pub payee: Bfs,
    /// The row's amounts paid, in the statement's order (Sockelbeitrag, flat rates per
    /// half-year, clawbacks); lines paying nothing are left out.
    pub amounts: Vec<Amount>,
    /// The row's total (Anhang Nr. 1).
    pub total: Chf,
    pub source: Source,
    pub payouts: Vec<Payout>,
    /// Ledger: the total less what is booked (may be negative: booked more than the total).
    pub not_yet_paid: Option<Chf>,
    pub withheld: Vec<Withheld>,
    pub invoices: Vec<OpenInvoice>,
}

/// A statement line's label.
pub fn line_label(year: i32, line: &Line) -> String {
    match &line.item {
        Item::Sockel => format!("Sockelbeitrag {year}"),
        Item::Component { period, component } => format!("{}, {}", component_label(*component), period.label()),
        Item::NoReport { period } => format!("Fall- und Dolmetschpauschalen, {}", period.label()),
        Item::Clawback => format!("Rückforderung {year}"),
    }
}

/// `a + b`, checked.
fn add(a: Chf, b: Chf) -> Result<Chf, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

/// `a - b`, checked.
fn sub(a: Chf, b: Chf) -> Result<Chf, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

/// The information of `row` of `comp`; `ledger` are the year's bookings and the ledger's
/// invoices (`None`: no ledger read). With no booking of the row's municipality in the year
/// the payouts are the projection's.
pub fn info(
    comp: &Computation,
    row: &AnnexRow,
    ledger: Option<(&[Booked], &[InvoiceState])>,
) -> Result<Info, Overflow> {
    let y = comp.year;
    let amounts = row
        .statement
        .iter()
        .filter(|l| !l.paid.is_zero())
        .map(|l| Amount { label: line_label(y, l), count: l.count, amount: l.paid })
        .collect();
    let withheld = row
        .statement
        .iter()
        .filter_map(|l| {
            let w = l.withheld.filter(|w| *w > Chf::ZERO);
            let uncomputed = l.computed.is_none() && l.paid.is_zero() && !l.reasons.is_empty();
            (w.is_some() || uncomputed).then(|| Withheld {
                label: line_label(y, l),
                amount: w,
                reason: l.reason_text(),
            })
        })
        .collect();
    let booked: Vec<&Booked> =
        ledger.map(|(b, _)| b.iter().filter(|b| b.bfs == row.bfs && b.year == y).collect()).unwrap_or_default();
    let (source, payouts, not_yet_paid) = if booked.is_empty() {
        let p = comp
            .payouts
            .iter()
            .filter(|p| p.payee == row.bfs)
            .map(|p| Payout { date: p.date, basis: p.basis.clone(), amount: p.gross, offset: p.offset })
            .collect();
        (Source::Projection, p, None)
    } else {
        let mut by_date: BTreeMap<NaiveDate, Chf> = BTreeMap::new();
        let mut all = Chf::ZERO;
        for b in &booked {
            let e = by_date.entry(b.stichtag).or_insert(Chf::ZERO);
            *e = add(*e, b.amount)?;
            all = add(all, b.amount)?;
        }
        let p = by_date
            .into_iter()
            .map(|(date, amount)| Payout { date, basis: String::new(), amount, offset: Chf::ZERO })
            .collect();
        (Source::Ledger, p, Some(sub(row.total, all)?))
    };
    let invoices = match ledger {
        Some((_, inv)) => inv
            .iter()
            .filter(|i| i.payee == row.bfs && i.open() > Chf::ZERO)
            .map(|i| OpenInvoice { id: i.id.clone(), date: i.date, due_on: i.due_on, open: i.open() })
            .collect(),
        None => vec![],
    };
    let invoices = if source == Source::Projection && invoices.is_empty() {
        comp.invoices
            .iter()
            .filter(|i| i.bfs == row.bfs)
            .map(|i| OpenInvoice { id: String::new(), date: i.date, due_on: i.due_on, open: i.amount })
            .collect()
    } else {
        invoices
    };
    Ok(Info {
        bfs: row.bfs,
        name: row.name.clone(),
        year: y,
        payee: row.payee,
        amounts,
        total: row.total,
        source,
        payouts,
        not_yet_paid,
        withheld,
        invoices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::{Reason, RowStatus};
    use crate::domain::{ymd, Period};
    use crate::resolve::Eligibility;

    fn dec(s: &str) -> Chf {
        s.parse().unwrap()
    }

    fn half(half: u8) -> crate::compute::HalfYear {
        crate::compute::HalfYear {
            period: Period::new(2023, half),
            payee: 2578,
            exists: true,
            source: None,
            reported: Default::default(),
            computed: Default::default(),
            paid: Default::default(),
            amounts: Default::default(),
            withheld: Default::default(),
            withheld_whole: false,
        }
    }

    fn line(item: Item, paid: Chf, withheld: Option<Chf>, reasons: Vec<Reason>) -> Line {
        Line { item, count: None, computed: withheld.and_then(|w| paid.checked_add(w)), paid, withheld, reasons }
    }

    fn comp() -> Computation {
        let row = AnnexRow {
            bfs: 2578,
            name: "Gunzgen".into(),
            district: String::new(),
            payee: 2578,
            base: 0,
            sockel: dec("5000.00"),
            halves: [half(1), half(2)],
            paid: Default::default(),
            amounts: Default::default(),
            clawback: dec("-100.00"),
            total: dec("4900.00"),
            eligibility: Eligibility::Eligible,
            status: RowStatus::Eligible,
            notes: vec![],
            out_of_range: false,
            statement: vec![
                line(Item::Sockel, dec("5000.00"), Some(dec("0")), vec![]),
                line(Item::NoReport { period: Period::new(2023, 2) }, dec("0"), None, vec![Reason::NoReport]),
                line(
                    Item::Component { period: Period::new(2023, 1), component: crate::domain::Component::FallEg },
                    dec("0"),
                    Some(dec("300.00")),
                    vec![Reason::Status(RowStatus::Eligible)],
                ),
                line(Item::Clawback, dec("-100.00"), None, vec![]),
            ],
        };
        Computation {
            year: 2023,
            rows: vec![row],
            total: dec("4900.00"),
            payouts: vec![crate::compute::Payout {
                payee: 2578,
                date: ymd(2023, 3, 31),
                basis: "Sockelbeitrag 2023".into(),
                gross: dec("5000.00"),
                offset: dec("100.00"),
            }],
            invoices: vec![],
            tariffs: vec![],
            credit: None,
            findings: vec![],
        }
    }

    #[test]
    fn without_bookings_the_projection_with_bookings_the_ledger() {
        let c = comp();
        let i = info(&c, &c.rows[0], None).unwrap();
        assert_eq!(i.source, Source::Projection);
        assert_eq!(
            i.amounts.iter().map(|a| (a.label.as_str(), a.amount)).collect::<Vec<_>>(),
            vec![("Sockelbeitrag 2023", dec("5000.00")), ("Rückforderung 2023", dec("-100.00"))]
        );
        assert_eq!(
            i.withheld.iter().map(|w| (w.label.as_str(), w.amount)).collect::<Vec<_>>(),
            vec![
                ("Fall- und Dolmetschpauschalen, 2. Halbjahr 2023", None),
                ("Fallpauschale Erstinformation, 1. Halbjahr 2023", Some(dec("300.00")))
            ]
        );
        assert_eq!(i.payouts.len(), 1);
        assert_eq!((i.payouts[0].amount, i.payouts[0].offset), (dec("5000.00"), dec("100.00")));
        assert_eq!(i.not_yet_paid, None);
        // Booked: two bookings of the run of 31.03., one of another municipality, one of 2022.
        let booked = [
            Booked { bfs: 2578, year: 2023, stichtag: ymd(2023, 3, 31), amount: dec("5000.00") },
            Booked { bfs: 2578, year: 2023, stichtag: ymd(2023, 3, 31), amount: dec("-100.00") },
            Booked { bfs: 2579, year: 2023, stichtag: ymd(2023, 3, 31), amount: dec("7.00") },
            Booked { bfs: 2578, year: 2022, stichtag: ymd(2023, 3, 31), amount: dec("9.00") },
        ];
        let i = info(&c, &c.rows[0], Some((&booked, &[]))).unwrap();
        assert_eq!(i.source, Source::Ledger);
        assert_eq!(
            i.payouts.iter().map(|p| (p.date, p.amount)).collect::<Vec<_>>(),
            vec![(ymd(2023, 3, 31), dec("4900.00"))]
        );
        assert_eq!(i.not_yet_paid, Some(dec("0.00")));
        // Nothing of the municipality booked: the projection again.
        let i = info(&c, &c.rows[0], Some((&booked[2..], &[]))).unwrap();
        assert_eq!(i.source, Source::Projection);
    }

    #[test]
    fn open_invoices_of_the_ledger_only_while_open() {
        let c = comp();
        let inv = |id: &str, payee, received, reversed| InvoiceState {
            id: id.into(),
            payee,
            stichtag: ymd(2023, 9, 30),
            date: ymd(2023, 10, 2),
            amount: dec("250.00"),
            due_on: ymd(2023, 11, 1),
            received,
            reversed,
        };
        let all = [
            inv("2023-0001", 2578, dec("0"), false),
            inv("2023-0002", 2578, dec("250.00"), false),
            inv("2023-0003", 2578, dec("0"), true),
            inv("2023-0004", 2579, dec("0"), false),
            inv("2023-0005", 2578, dec("249.99"), false),
        ];
        let i = info(&c, &c.rows[0], Some((&[], &all))).unwrap();
        assert_eq!(
            i.invoices.iter().map(|i| (i.id.as_str(), i.open)).collect::<Vec<_>>(),
            vec![("2023-0001", dec("250.00")), ("2023-0005", dec("0.01"))]
        );
    }
}
