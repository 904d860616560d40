//! The pure computation of a payout run (4.5.2, 4.7): what is due now minus what the ledger
//! has booked gives payments (positive differences) and corrections (negative ones);
//! corrections and open clawbacks are offset against the payee's payments in this run, and
//! what remains is invoiced, payable within 30 days.
//!
//! No I/O here: the input is the due items of the evaluation and the ledger's sums.

use crate::domain::{Bfs, Chf, TariffCode};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

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
    /// The payout date of 4.5.2: end of March for the Sockelbeitrag of the year and for H2
    /// of the year before, end of September for H1.
    pub fn payout_date(self, year: i32) -> NaiveDate {
        use crate::domain::ymd;
        match self {
            Part::Year => ymd(year, 3, 31),
            Part::H1 => ymd(year, 9, 30),
            Part::H2 => ymd(year + 1, 3, 31),
        }
    }
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
    pub fn periode(&self) -> String {
        self.part.label(self.year)
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
    /// Withheld by a Fehler or a missing Selbstdeklaration: not due now, nothing is booked.
    pub withheld: Option<String>,
    pub count: Option<u64>,
    /// The tariff applied, e.g. `FALL_EG 200.00 CHF (gültig ab 01.01.2017)`.
    pub tariff: String,
    pub evidence: Vec<Evidence>,
}

/// A clawback (4.7) decided by the Stichtag and not yet settled.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenClawback {
    /// Stable identity of the master-data row (the ledger's `bezug`).
    pub reference: String,
    pub bfs: Bfs,
    pub payee: Bfs,
    /// Positive amount the municipality owes.
    pub amount: Chf,
    pub reason: String,
    pub decided_on: NaiveDate,
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

pub const LEISTUNG_RUECKFORDERUNG: &str = "RUECKFORDERUNG";
pub const LEISTUNG_RECHNUNG: &str = "RECHNUNG";

/// A booking the run will make.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedBooking {
    pub payee: Bfs,
    pub bfs: Bfs,
    pub year: i32,
    /// `2023`, `2023/H1`, `2023/H2`.
    pub periode: String,
    /// Tariff code, `RUECKFORDERUNG` or `RECHNUNG`.
    pub leistung: String,
    pub art: Art,
    /// CHF; positive raises the payout, negative is money back to the canton.
    pub betrag: Chf,
    pub count: Option<u64>,
    pub tariff: String,
    pub evidence: Vec<Evidence>,
    /// The clawback row this settles (Rückforderung).
    pub bezug: Option<String>,
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
    pub invoice_due: Option<NaiveDate>,
}

impl Plan {
    pub fn total_transfer(&self) -> Chf {
        self.payees.iter().map(|p| p.transfer).sum()
    }
    pub fn total_invoiced(&self) -> Chf {
        self.payees.iter().map(|p| p.invoice).sum()
    }
}

/// The invoice's due date: 30 days after the run (4.7).
pub fn invoice_due(run_date: NaiveDate) -> NaiveDate {
    run_date + Duration::days(30)
}

/// Computes a run. `booked` holds the ledger's net sum per key; `booked_payee` the payee of
/// keys that are booked but no longer due (so a correction goes to the payee that was paid).
pub fn plan(
    run_date: NaiveDate,
    due: &[DueItem],
    booked: &BTreeMap<Key, Chf>,
    booked_payee: &BTreeMap<Key, Bfs>,
    clawbacks: &[OpenClawback],
) -> Plan {
    let by_key: BTreeMap<Key, &DueItem> = due.iter().map(|d| (d.key, d)).collect();
    let keys: BTreeSet<Key> = by_key.keys().chain(booked.keys()).copied().collect();
    let mut lines = Vec::new();
    let mut bookings = Vec::new();
    for key in keys {
        let before = booked.get(&key).copied().unwrap_or(Decimal::ZERO);
        let item = by_key.get(&key);
        // A key booked before but not in the evaluation (a period not evaluated) stays as is.
        let Some(item) = item else { continue };
        let due_now = item.amount;
        if due_now.is_zero() && before.is_zero() && item.withheld.is_none() {
            continue;
        }
        let now = if item.withheld.is_some() { Decimal::ZERO } else { due_now - before };
        let payee = if item.withheld.is_none() || before.is_zero() {
            item.payee
        } else {
            booked_payee.get(&key).copied().unwrap_or(item.payee)
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
            let art = if now > Decimal::ZERO { Art::Auszahlung } else { Art::Korrektur };
            let text = match art {
                Art::Auszahlung if before.is_zero() => "Auszahlung".to_string(),
                Art::Auszahlung => format!("Nachzahlung (bisher gebucht {before})"),
                _ => format!("Korrektur: bisher gebucht {before}, geschuldet {due_now}"),
            };
            bookings.push(PlannedBooking {
                payee,
                bfs: key.bfs,
                year: key.year,
                periode: key.periode(),
                leistung: key.component.as_str().to_string(),
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
    for c in clawbacks {
        bookings.push(PlannedBooking {
            payee: c.payee,
            bfs: c.bfs,
            year: chrono::Datelike::year(&c.decided_on),
            periode: chrono::Datelike::year(&c.decided_on).to_string(),
            leistung: LEISTUNG_RUECKFORDERUNG.to_string(),
            art: Art::Rueckforderung,
            betrag: -c.amount,
            count: None,
            tariff: String::new(),
            evidence: Vec::new(),
            bezug: Some(c.reference.clone()),
            due_on: None,
            text: format!("{} (verfügt am {})", c.reason, crate::domain::fmt_date(c.decided_on)),
        });
    }
    // Offsets per payee.
    let mut per: BTreeMap<Bfs, PayeeResult> = BTreeMap::new();
    for b in &bookings {
        let e = per.entry(b.payee).or_insert_with(|| PayeeResult { payee: b.payee, ..Default::default() });
        if b.betrag > Decimal::ZERO {
            e.gross += b.betrag;
        } else {
            e.claims -= b.betrag;
        }
    }
    let due_on = invoice_due(run_date);
    let mut any_invoice = false;
    for p in per.values_mut() {
        p.offset = p.claims.min(p.gross);
        p.transfer = p.gross - p.offset;
        p.invoice = p.claims - p.offset;
        if p.invoice > Decimal::ZERO {
            any_invoice = true;
            bookings.push(PlannedBooking {
                payee: p.payee,
                bfs: p.payee,
                year: chrono::Datelike::year(&run_date),
                periode: chrono::Datelike::year(&run_date).to_string(),
                leistung: LEISTUNG_RECHNUNG.to_string(),
                art: Art::Rechnung,
                betrag: -p.invoice,
                count: None,
                tariff: String::new(),
                evidence: Vec::new(),
                bezug: None,
                due_on: Some(due_on),
                text: format!("Rechnung, zahlbar bis {}", crate::domain::fmt_date(due_on)),
            });
        }
    }
    Plan {
        lines,
        clawbacks: clawbacks.to_vec(),
        payees: per.into_values().collect(),
        bookings,
        invoice_due: any_invoice.then_some(due_on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ymd;

    fn item(bfs: Bfs, part: Part, c: TariffCode, amount: i64) -> DueItem {
        DueItem {
            key: Key { bfs, year: 2023, part, component: c },
            payee: bfs,
            amount: Decimal::from(amount),
            withheld: None,
            count: None,
            tariff: String::new(),
            evidence: vec![],
        }
    }

    #[test]
    fn differences_offsets_and_invoice() {
        let k1 = Key { bfs: 1, year: 2023, part: Part::H1, component: TariffCode::FallEg };
        let k2 = Key { bfs: 2, year: 2023, part: Part::H1, component: TariffCode::FallEg };
        // Municipality 1: due 600, booked 400 → +200. Municipality 2: due 200, booked 600 → −400.
        let due = vec![
            item(1, Part::H1, TariffCode::FallEg, 600),
            item(2, Part::H1, TariffCode::FallEg, 200),
            item(2, Part::H2, TariffCode::FallEg, 1000),
        ];
        let booked = BTreeMap::from([(k1, Decimal::from(400)), (k2, Decimal::from(600))]);
        let claw = OpenClawback {
            reference: "r".into(),
            bfs: 1,
            payee: 1,
            amount: Decimal::from(500),
            reason: "x".into(),
            decided_on: ymd(2024, 1, 10),
        };
        let p = plan(ymd(2024, 3, 31), &due, &booked, &BTreeMap::new(), &[claw]);
        // Payee 1: gross 200, claims 500 → transfer 0, invoice 300.
        assert_eq!(p.payees[0].transfer, Decimal::ZERO);
        assert_eq!(p.payees[0].invoice, Decimal::from(300));
        // Payee 2: gross 1000, claims 400 → transfer 600.
        assert_eq!(p.payees[1].transfer, Decimal::from(600));
        assert_eq!(p.payees[1].offset, Decimal::from(400));
        assert_eq!(p.invoice_due, Some(ymd(2024, 4, 30)));
    }

    #[test]
    fn withheld_items_book_nothing() {
        let mut i = item(1, Part::H1, TariffCode::FallEg, 0);
        i.withheld = Some("Fehler".into());
        let k = i.key;
        let p = plan(ymd(2024, 3, 31), &[i], &BTreeMap::from([(k, Decimal::from(400))]), &BTreeMap::new(), &[]);
        assert!(p.bookings.is_empty());
        assert_eq!(p.lines[0].now, Decimal::ZERO);
    }
}
