//! Every rule with a boundary, tested on both sides of it: deadlines, the end of a period,
//! the first year of Integrationsgespräche, tariff changes and a tariff's last day, the last
//! day of a municipality before a merger, a contract's first and last day, and the sum check
//! of a lead's table in both directions and in every column. Expected amounts are worked out
//! by hand from the tariffs (CHF 200 per conversation, 160 per interpreter).

mod common;

use beitraege::compute::compute;
use beitraege::domain::{ymd, Code};
use beitraege::extract::extract;
use beitraege::resolve::resolve;
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::{validate_form, Ctx, FileResult, Outcome};
use beitraege::workbook::{Format, Sheet, Value, Workbook};
use chrono::NaiveDate;
use common::forms::*;
use rust_decimal::Decimal;

/// Validates a form for `year` with `m`, received on `received`.
fn check_in(m: &Stammdaten, year: i32, sheets: Vec<Sheet>, received: NaiveDate) -> FileResult {
    let ctx = Ctx { year, master: m };
    let wb = Workbook { format: Format::Xlsx, sheets, names: vec![] };
    let mut r = validate_form(FileResult::new(&file("a.xlsx", received)), extract(&wb).expect("a form"), &ctx);
    r.sha256 = Some(format!("hash-{received}"));
    r
}

fn has(r: &FileResult, code: Code) -> bool {
    r.findings.iter().any(|f| f.code == code)
}

fn chf(n: i64) -> Decimal {
    Decimal::from(n)
}

// --- deadlines: 31.07. (1st half-year), 31.01. (2nd half-year and Selbstdeklaration) ------

#[test]
fn first_half_year_deadline_is_the_31st_of_july() {
    let on = check(vec![report(2601, "Solothurn", 1, &[])], "a.xlsx", ymd(2023, 7, 31));
    assert!(!has(&on, Code::FristVerpasst), "on the deadline: {:?}", codes(&on));
    let after = check(vec![report(2601, "Solothurn", 1, &[])], "a.xlsx", ymd(2023, 8, 1));
    assert_eq!(codes(&after), vec![Code::FristVerpasst]);
}

#[test]
fn second_half_year_deadline_is_the_31st_of_january() {
    let on = check(vec![report(2601, "Solothurn", 2, &[])], "a.xlsx", ymd(2024, 1, 31));
    assert!(on.findings.is_empty(), "{:?}", codes(&on));
    let after = check(vec![report(2601, "Solothurn", 2, &[])], "a.xlsx", ymd(2024, 2, 1));
    assert_eq!(codes(&after), vec![Code::FristVerpasst]);
}

#[test]
fn selbstdeklaration_deadline_is_the_31st_of_january_of_the_year() {
    let on = check(vec![sd(2601, "Solothurn", &[])], "s.xlsx", ymd(2023, 1, 31));
    assert!(on.findings.is_empty(), "{:?}", codes(&on));
    let day_before = check(vec![sd(2601, "Solothurn", &[])], "s.xlsx", ymd(2023, 1, 30));
    assert!(day_before.findings.is_empty());
    let after = check(vec![sd(2601, "Solothurn", &[])], "s.xlsx", ymd(2023, 2, 1));
    assert_eq!(codes(&after), vec![Code::FristVerpasst]);
}

// --- PERIODE_ZUKUNFT: the half-year must have ended when the file arrives ---------------

#[test]
fn a_report_received_on_the_periods_last_day_is_too_early() {
    for (half, last, next) in [(1, ymd(2023, 6, 30), ymd(2023, 7, 1)), (2, ymd(2023, 12, 31), ymd(2024, 1, 1))] {
        let r = check(vec![report(2601, "Solothurn", half, &[])], "a.xlsx", last);
        assert_eq!(codes(&r), vec![Code::PeriodeZukunft], "H{half} on {last}");
        assert_eq!(r.outcome, Outcome::Rejected);
        let r = check(vec![report(2601, "Solothurn", half, &[])], "a.xlsx", next);
        assert!(!has(&r, Code::PeriodeZukunft), "H{half} on {next}: {:?}", codes(&r));
        assert!(matches!(r.outcome, Outcome::Report(_)));
    }
}

// --- IG_VOR_2022: Integrationsgespräche are paid from 2022 on (4.3.1) --------------------

fn report_of_year(year: i32) -> Sheet {
    report(2601, "Solothurn", 1, &[("SI_JAHR", Value::Int(year as i64)), ("SI_DATUM", Value::Date(ymd(year, 7, 10)))])
}

#[test]
fn integration_conversations_are_paid_from_2022_not_in_2021() {
    let m = master();
    let r2021 = check_in(&m, 2021, vec![report_of_year(2021)], ymd(2021, 7, 20));
    assert!(has(&r2021, Code::IgVor2022), "{:?}", codes(&r2021));
    let s = share(&r2021, 2601);
    assert_eq!((s.paid.eg, s.paid.ig, s.paid.d_ig), (4, 0, 0));
    let r2022 = check_in(&m, 2022, vec![report_of_year(2022)], ymd(2022, 7, 20));
    assert!(!has(&r2022, Code::IgVor2022), "{:?}", codes(&r2022));
    let s = share(&r2022, 2601);
    assert_eq!((s.paid.eg, s.paid.ig, s.paid.d_ig), (4, 1, 1));
}

// --- tariffs: the rate of the period's last day applies ---------------------------------

/// Evaluates Solothurn's two half-years of 2023 (each 4 Erstinformationsgespräche, 2 with an
/// interpreter) with the given tariffs; returns the Fallpauschale EG of H1 and H2.
fn fall_eg_amounts(tariffs: &[TariffRow]) -> (Decimal, Decimal) {
    let m = master_from(&[], tariffs);
    let ctx = Ctx { year: 2023, master: &m };
    let results = vec![
        check_in(&m, 2023, vec![sd(2601, "Solothurn", &[])], ymd(2023, 1, 20)),
        check_in(&m, 2023, vec![report(2601, "Solothurn", 1, &[])], ymd(2023, 7, 20)),
        check_in(&m, 2023, vec![report(2601, "Solothurn", 2, &[])], ymd(2024, 1, 20)),
    ];
    let resolved = resolve(results, &ctx);
    let comp = compute(&m, &resolved, 2023);
    let row = comp.rows.iter().find(|r| r.bfs == 2601).unwrap();
    (row.halves[0].amounts.eg, row.halves[1].amounts.eg)
}

fn with_fall_eg(rows: Vec<TariffRow>) -> Vec<TariffRow> {
    let mut t: Vec<TariffRow> = default_tariffs().into_iter().filter(|t| t.0 != "FALL_EG").collect();
    t.extend(rows);
    t
}

#[test]
fn a_tariff_change_inside_the_half_year_applies_to_the_whole_half_year() {
    // 200 until 31.03.2023, 250 from 01.04.2023: H1 ends on 30.06. under the new rate.
    let (h1, h2) = fall_eg_amounts(&with_fall_eg(vec![
        ("FALL_EG", 200, ymd(2017, 1, 1), Some(ymd(2023, 3, 31))),
        ("FALL_EG", 250, ymd(2023, 4, 1), None),
    ]));
    assert_eq!(h1, chf(4 * 250));
    assert_eq!(h2, chf(4 * 250));
}

#[test]
fn a_tariffs_last_valid_day_is_the_periods_last_day() {
    // 200 until 30.06.2023 (its last valid day is H1's last day), 250 from 01.07.2023.
    let (h1, h2) = fall_eg_amounts(&with_fall_eg(vec![
        ("FALL_EG", 200, ymd(2017, 1, 1), Some(ymd(2023, 6, 30))),
        ("FALL_EG", 250, ymd(2023, 7, 1), None),
    ]));
    assert_eq!((h1, h2), (chf(4 * 200), chf(4 * 250)));
    // One day earlier: H1 is already under the new rate.
    let (h1, h2) = fall_eg_amounts(&with_fall_eg(vec![
        ("FALL_EG", 200, ymd(2017, 1, 1), Some(ymd(2023, 6, 29))),
        ("FALL_EG", 250, ymd(2023, 6, 30), None),
    ]));
    assert_eq!((h1, h2), (chf(4 * 250), chf(4 * 250)));
}

// --- mergers: a municipality exists up to and including its last day --------------------

#[test]
fn a_municipality_reports_for_the_half_year_that_ends_on_its_last_day() {
    // 2604 Alt exists until 31.12.2020, then merged into 2601.
    let m = master();
    let alt = |year: i64, half: i64| {
        report(2604, "Alt", half, &[("SI_JAHR", Value::Int(year)), ("SI_DATUM", Value::Date(ymd(year as i32, 7, 10)))])
    };
    let last = check_in(&m, 2020, vec![alt(2020, 2)], ymd(2021, 1, 20));
    assert!(matches!(last.outcome, Outcome::Report(_)), "{:?}", codes(&last));
    assert_eq!(share(&last, 2604).paid.eg, 4, "paid to Alt itself");
    let after = check_in(&m, 2021, vec![alt(2021, 1)], ymd(2021, 7, 20));
    assert!(has(&after, Code::GemeindeAufgeloest), "{:?}", codes(&after));
    assert_eq!(after.outcome, Outcome::Rejected);
}

// --- contracts: membership on the period's last day -------------------------------------

#[test]
fn a_contract_applies_from_its_first_to_its_last_day() {
    // Klein (2605) joins the lead's contract V on 01.07.2023: H1 it reports itself, H2 not.
    let joins = master_with(&[("V", 2602, 2605, ymd(2023, 7, 1), ymd(2099, 12, 31))]);
    let h1 = check_in(&joins, 2023, vec![report(2605, "Klein", 1, &[])], ymd(2023, 7, 20));
    assert!(!has(&h1, Code::LeitMitgliedMeldetSelbst), "{:?}", codes(&h1));
    let h2 = check_in(&joins, 2023, vec![report(2605, "Klein", 2, &[])], ymd(2024, 1, 20));
    assert!(has(&h2, Code::LeitMitgliedMeldetSelbst), "{:?}", codes(&h2));
    // It joins on 30.06.2023, H1's last day: a member for H1 already.
    let joins_early = master_with(&[("V", 2602, 2605, ymd(2023, 6, 30), ymd(2099, 12, 31))]);
    let h1 = check_in(&joins_early, 2023, vec![report(2605, "Klein", 1, &[])], ymd(2023, 7, 20));
    assert!(has(&h1, Code::LeitMitgliedMeldetSelbst), "{:?}", codes(&h1));
    // It leaves after 30.06.2023 (last day): a member for H1, on its own for H2.
    let leaves = master_with(&[("V", 2602, 2605, ymd(2019, 1, 1), ymd(2023, 6, 30))]);
    let h1 = check_in(&leaves, 2023, vec![report(2605, "Klein", 1, &[])], ymd(2023, 7, 20));
    assert!(has(&h1, Code::LeitMitgliedMeldetSelbst), "{:?}", codes(&h1));
    let h2 = check_in(&leaves, 2023, vec![report(2605, "Klein", 2, &[])], ymd(2024, 1, 20));
    assert!(!has(&h2, Code::LeitMitgliedMeldetSelbst), "{:?}", codes(&h2));
    // It leaves on 29.06.2023: on its own for H1 already.
    let leaves_early = master_with(&[("V", 2602, 2605, ymd(2019, 1, 1), ymd(2023, 6, 29))]);
    let h1 = check_in(&leaves_early, 2023, vec![report(2605, "Klein", 1, &[])], ymd(2023, 7, 20));
    assert!(!has(&h1, Code::LeitMitgliedMeldetSelbst), "{:?}", codes(&h1));
}

// --- LEIT_SUMME: the table must add up to the main sheet, in every column, both ways ----

#[test]
fn the_lead_sum_check_fires_in_both_directions_in_every_column() {
    // Main sheet: eg 4, d_eg 2, ig 1, d_ig 1. The table below adds up exactly.
    let main = || report(2602, "Lead", 1, &[]);
    let exact = [(2602, "Lead", 3, 1, 1, 0), (2603, "Member", 1, 1, 0, 1)];
    let r = check(vec![main(), table(&exact)], "a.xlsx", JUL);
    assert!(r.findings.is_empty(), "{:?}", codes(&r));
    assert_eq!(share(&r, 2602).paid.eg, 3);
    for column in 0..4 {
        for delta in [-1i64, 1] {
            let mut rows = exact;
            let lead = &mut rows[0];
            match column {
                0 => lead.2 += delta,
                1 => lead.3 += delta,
                2 => lead.4 += delta,
                _ => lead.5 += delta,
            }
            if [lead.2, lead.3, lead.4, lead.5].iter().any(|n| *n < 0) {
                // One below 0 is not a count: move the difference to the member instead.
                let member = &mut rows[1];
                match column {
                    0 => member.2 += delta,
                    1 => member.3 += delta,
                    2 => member.4 += delta,
                    _ => member.5 += delta,
                }
                let lead = &mut rows[0];
                match column {
                    0 => lead.2 -= delta,
                    1 => lead.3 -= delta,
                    2 => lead.4 -= delta,
                    _ => lead.5 -= delta,
                }
            }
            let r = check(vec![main(), table(&rows)], "a.xlsx", JUL);
            assert_eq!(codes(&r), vec![Code::LeitSumme], "column {column}, {delta:+}");
            for b in [2602, 2603] {
                let s = share(&r, b);
                assert_eq!((s.paid.eg, s.paid.d_eg, s.paid.ig, s.paid.d_ig), (0, 0, 0, 0), "{b}: withheld");
            }
        }
    }
}
