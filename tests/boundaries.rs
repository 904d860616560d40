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

// ==========================================================================================
// Through the run: forms written as xlsx files into an inbox, master data as Stammdaten.xlsx,
// `beitraege::run::evaluate`, and the annex figures and findings it decides. Amounts are
// worked out by hand (counts of the clean report: 4 EG, 2 with interpreter, 1 IG, 1 with
// interpreter; Solothurn has 4000 foreign residents, Klein 5).
// ==========================================================================================

use common::forms::MasterSpec;
use common::inbox::{evaluate_case, infile, InFile, Outcome as Run};

fn sd_of(bfs: i64, name: &str) -> InFile {
    infile(&format!("sd_{bfs}.xlsx"), vec![sd(bfs, name, &[])], ymd(2023, 1, 20))
}

fn run23(spec: &MasterSpec, files: Vec<InFile>) -> Run {
    evaluate_case(2023, spec, &files)
}

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// All four period tariffs: `old` until `last_old` (inclusive), `new` from the next day.
fn period_tariffs(old: [i64; 4], new: [i64; 4], last_old: NaiveDate) -> Vec<TariffRow> {
    let next = last_old.succ_opt().unwrap();
    let mut t = vec![("SOCKEL", 7, ymd(2018, 1, 1), None)];
    for (i, code) in ["FALL_EG", "DOLMETSCH_EG", "FALL_IG", "DOLMETSCH_IG"].into_iter().enumerate() {
        t.push((code, old[i], ymd(2017, 1, 1), Some(last_old)));
        t.push((code, new[i], next, None));
    }
    t
}

#[test]
fn every_period_tariff_applies_with_the_rate_of_the_periods_last_day() {
    const OLD: [i64; 4] = [200, 160, 200, 160];
    const NEW: [i64; 4] = [250, 170, 210, 180];
    let at_old = [dec(4 * 200), dec(2 * 160), dec(200), dec(160)];
    let at_new = [dec(4 * 250), dec(2 * 170), dec(210), dec(180)];
    // (half-year reported, last day of the old rates, amounts expected)
    let cases = [
        (1, ymd(2023, 6, 30), at_old),  // the old rates' last day is H1's last day
        (1, ymd(2023, 6, 29), at_new),  // one day earlier: H1 under the new rates
        (1, ymd(2023, 3, 31), at_new),  // a change inside H1: the rate of 30.06. for all of H1
        (2, ymd(2023, 12, 31), at_old), // the old rates' last day is H2's last day
        (2, ymd(2023, 12, 30), at_new), // one day earlier
        (2, ymd(2023, 9, 30), at_new),  // a change inside H2
    ];
    for (half, last_old, want) in cases {
        let spec = MasterSpec { tariffs: period_tariffs(OLD, NEW, last_old), ..MasterSpec::default() };
        let received = if half == 1 { ymd(2023, 7, 20) } else { ymd(2024, 1, 20) };
        let r = run23(
            &spec,
            vec![sd_of(2601, "Solothurn"), infile("r.xlsx", vec![report(2601, "Solothurn", half, &[])], received)],
        );
        assert!(r.codes_of("r.xlsx").is_empty(), "{:?}", r.codes_of("r.xlsx"));
        let row = r.row(2601);
        assert_eq!(row.counts, [4, 2, 1, 1]);
        assert_eq!(row.amounts, want, "H{half}, old rates until {last_old}");
        assert_eq!(row.total, dec(4000 * 7) + want.iter().copied().sum::<Decimal>());
    }
}

#[test]
fn the_sockelbeitrag_applies_the_rate_of_the_31st_of_december() {
    let sockel_tariffs = |last_old: NaiveDate| -> Vec<TariffRow> {
        let mut t: Vec<TariffRow> = default_tariffs().into_iter().filter(|t| t.0 != "SOCKEL").collect();
        t.push(("SOCKEL", 7, ymd(2018, 1, 1), Some(last_old)));
        t.push(("SOCKEL", 8, last_old.succ_opt().unwrap(), None));
        t
    };
    for (last_old, per_resident) in
        [(ymd(2023, 12, 31), 7), (ymd(2023, 12, 30), 8), (ymd(2023, 6, 30), 8), (ymd(2022, 12, 31), 8)]
    {
        let spec = MasterSpec { tariffs: sockel_tariffs(last_old), clawbacks: vec![], ..MasterSpec::default() };
        let r = run23(&spec, vec![sd_of(2601, "Solothurn")]);
        let row = r.row(2601);
        assert_eq!(row.base, 4000);
        assert_eq!(row.sockel, dec(4000 * per_resident), "SOCKEL 7 until {last_old}");
        assert_eq!(r.total, dec(4000 * per_resident));
    }
}

#[test]
fn a_predecessor_counts_for_the_sockelbeitrag_if_it_existed_on_the_stichtag() {
    // 2607 merged into Solothurn; its last day on the Stichtag 31.12.2021 or the day before.
    for (last_day, base) in [(ymd(2021, 12, 31), 4050), (ymd(2021, 12, 30), 4000)] {
        let mut spec = MasterSpec {
            municipalities: vec![(2607, "Vorher".into(), None, Some(last_day), Some(2601))],
            clawbacks: vec![],
            ..MasterSpec::default()
        };
        if last_day == ymd(2021, 12, 31) {
            spec.population.push((2607, ymd(2021, 12, 31), 50));
        }
        let r = run23(&spec, vec![sd_of(2601, "Solothurn")]);
        assert_eq!(r.row(2601).base, base, "predecessor's last day {last_day}");
        assert_eq!(r.row(2601).sockel, dec(base as i64 * 7));
        assert!(!r.rows.contains_key(&2607), "no row: it did not exist in 2023");
    }
}

#[test]
fn a_municipality_reports_up_to_its_last_day_before_a_merger_mid_year() {
    // 2606 Mitte merges into Solothurn; its last day is 30.06.2023 (H1's last day) or 29.06.
    let spec_until = |last: NaiveDate| MasterSpec {
        municipalities: vec![(2606, "Mitte".into(), None, Some(last), Some(2601))],
        population: [MasterSpec::default().population, vec![(2606, ymd(2021, 12, 31), 20)]].concat(),
        ..MasterSpec::default()
    };
    let h1 = || infile("h1.xlsx", vec![report(2606, "Mitte", 1, &[])], ymd(2023, 7, 20));
    let h2 = || infile("h2.xlsx", vec![report(2606, "Mitte", 2, &[])], ymd(2024, 1, 20));
    let r = run23(&spec_until(ymd(2023, 6, 30)), vec![sd_of(2606, "Mitte"), h1(), h2()]);
    assert!(r.codes_of("h1.xlsx").is_empty(), "{:?}", r.codes_of("h1.xlsx"));
    assert_eq!(r.state("h1.xlsx"), "verarbeitet");
    assert_eq!(r.codes_of("h2.xlsx"), vec!["GEMEINDE_AUFGELOEST"]);
    assert_eq!(r.state("h2.xlsx"), "abgelehnt");
    assert_eq!(r.row(2606).counts, [4, 2, 1, 1], "H1 paid, H2 not");
    assert_eq!(r.row(2606).amounts, [dec(800), dec(320), dec(200), dec(160)]);
    let r = run23(&spec_until(ymd(2023, 6, 29)), vec![sd_of(2606, "Mitte"), h1()]);
    assert_eq!(r.codes_of("h1.xlsx"), vec!["GEMEINDE_AUFGELOEST"]);
    assert_eq!(r.state("h1.xlsx"), "abgelehnt");
    assert_eq!(r.row(2606).counts, [0, 0, 0, 0]);
}

#[test]
fn a_municipality_is_in_the_annex_of_every_year_it_exists_in() {
    for (last, in_annex) in [(ymd(2023, 1, 1), true), (ymd(2022, 12, 31), false)] {
        let spec = MasterSpec {
            municipalities: vec![(2606, "Mitte".into(), None, Some(last), Some(2601))],
            population: [MasterSpec::default().population, vec![(2606, ymd(2021, 12, 31), 20)]].concat(),
            ..MasterSpec::default()
        };
        let r = run23(&spec, vec![sd_of(2601, "Solothurn")]);
        assert_eq!(r.rows.contains_key(&2606), in_annex, "last day {last}");
    }
}

/// Lead 2602's report for `half` with a `Vertragsgemeinden` table that adds up and lists Klein.
fn lead_report_with_klein(half: i64) -> Vec<Sheet> {
    vec![
        report(2602, "Lead", half, &[]),
        table(&[(2602, "Lead", 2, 1, 1, 0), (2603, "Member", 1, 1, 0, 1), (2605, "Klein", 1, 0, 0, 0)]),
    ]
}

#[test]
fn a_contract_counts_in_the_leads_table_and_for_the_payee_from_its_first_to_its_last_day() {
    let with_klein = |from: NaiveDate, to: Option<NaiveDate>| MasterSpec {
        contracts: vec![("V".into(), 2602, 2605, from, to)],
        ..MasterSpec::default()
    };
    let files = || {
        vec![
            infile("h1.xlsx", lead_report_with_klein(1), ymd(2023, 7, 20)),
            infile("h2.xlsx", lead_report_with_klein(2), ymd(2024, 1, 20)),
        ]
    };
    // Klein joins on 01.07.2023: H1's table may not list it, H2's must.
    let r = run23(&with_klein(ymd(2023, 7, 1), None), files());
    assert_eq!(r.codes_of("h1.xlsx"), vec!["LEIT_FREMDE_GEMEINDE"]);
    let f = r.with("LEIT_FREMDE_GEMEINDE")[0];
    assert_eq!((f.sheet.as_deref(), f.cell.as_deref()), (Some("Vertragsgemeinden"), Some("A4")));
    assert!(r.codes_of("h2.xlsx").is_empty(), "{:?}", r.codes_of("h2.xlsx"));
    assert_eq!(r.row(2605).payee, 2602);
    // It joins on 30.06.2023, H1's last day: a member for H1 too.
    let r = run23(&with_klein(ymd(2023, 6, 30), None), files());
    assert!(r.codes_of("h1.xlsx").is_empty(), "{:?}", r.codes_of("h1.xlsx"));
    // Its membership ends on 31.12.2023 (the year's last day): paid through the lead.
    let r = run23(&with_klein(ymd(2019, 1, 1), Some(ymd(2023, 12, 31))), files());
    assert!(r.codes_of("h2.xlsx").is_empty(), "{:?}", r.codes_of("h2.xlsx"));
    assert_eq!(r.row(2605).payee, 2602);
    // It ends on 30.12.2023: on its own for H2 and for the year.
    let r = run23(&with_klein(ymd(2019, 1, 1), Some(ymd(2023, 12, 30))), files());
    assert_eq!(r.codes_of("h2.xlsx"), vec!["LEIT_FREMDE_GEMEINDE"]);
    assert!(r.codes_of("h1.xlsx").is_empty(), "{:?}", r.codes_of("h1.xlsx"));
    assert_eq!(r.row(2605).payee, 2605);
}

#[test]
fn clawbacks_count_in_their_year_and_offset_payouts_from_their_date() {
    // Dated just outside and just inside 2023: only 10 + 100 count.
    let spec = MasterSpec {
        clawbacks: vec![
            (2605, 1, ymd(2022, 12, 31)),
            (2605, 10, ymd(2023, 1, 1)),
            (2605, 100, ymd(2023, 12, 31)),
            (2605, 1000, ymd(2024, 1, 1)),
        ],
        ..MasterSpec::default()
    };
    let r = run23(&spec, vec![]);
    assert_eq!(r.row(2605).clawback, dec(-110));
    assert_eq!(r.invoices, vec![(2605, dec(110))], "nothing paid to Klein (no Selbstdeklaration)");
    // Klein is eligible: Sockelbeitrag 5 × 7 = 35, paid at the end of March.
    let klein = |amount: i64, day: NaiveDate| {
        let spec = MasterSpec { clawbacks: vec![(2605, amount, day)], ..MasterSpec::default() };
        run23(&spec, vec![sd_of(2605, "Klein")])
    };
    let r = klein(35, ymd(2023, 3, 31));
    assert_eq!((r.row(2605).sockel, r.row(2605).total), (dec(35), dec(0)));
    assert!(r.invoices.is_empty(), "offset in full against the March payout: {:?}", r.invoices);
    let r = klein(36, ymd(2023, 3, 31));
    assert_eq!(r.invoices, vec![(2605, dec(1))], "one franc more than the payout");
    let r = klein(35, ymd(2023, 4, 1));
    assert_eq!(r.invoices, vec![(2605, dec(35))], "decided after the March payout: invoiced");
}

#[test]
fn the_credit_is_overrun_only_above_it() {
    // Solothurn alone is paid: Sockelbeitrag 4000 × 7 = 28'000.
    for (credit, overrun) in [(28_000, false), (27_999, true)] {
        let spec = MasterSpec { credit: vec![(2023, credit)], clawbacks: vec![], ..MasterSpec::default() };
        let r = run23(&spec, vec![sd_of(2601, "Solothurn")]);
        assert_eq!(r.total, dec(28_000));
        assert_eq!(!r.with("KREDIT_UEBERSCHRITTEN").is_empty(), overrun, "credit {credit}");
    }
}

/// Municipalities 2611–2619 ("G2611" …), each alone with 10 foreign residents.
fn spec_with_ten_of_ten() -> MasterSpec {
    let mut spec = MasterSpec::default();
    for b in 2611..=2619 {
        spec.municipalities.push((b, NAMES[(b - 2611) as usize].into(), None, None, None));
        spec.population.push((b, ymd(2021, 12, 31), 10));
    }
    spec
}

const NAMES: [&str; 9] = ["G2611", "G2612", "G2613", "G2614", "G2615", "G2616", "G2617", "G2618", "G2619"];

/// One H1 report per municipality 2611…, with the given overrides; evaluated together.
fn value_cases(cases: &[&[(&str, Value)]]) -> Run {
    let files = cases
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            let b = 2611 + i as i64;
            [infile(&format!("{b}.xlsx"), vec![report(b, NAMES[i], 1, o)], ymd(2023, 7, 20)), sd_of(b, NAMES[i])]
        })
        .collect();
    run23(&spec_with_ten_of_ten(), files)
}

#[test]
fn value_and_consistency_rules_on_both_sides_of_their_boundary() {
    let n = |v: i64| Value::Int(v);
    // At the boundary: nothing to report.
    let at: Vec<Vec<(&str, Value)>> = vec![
        vec![("SI_EG_PERSONEN", n(1_000_000))], // the count ceiling itself (implausible, not too large)
        vec![("SI_EG_DOLMETSCH", n(0))],
        vec![("SI_EG_ANZAHL", n(10)), ("SI_EG_PERSONEN", n(10)), ("SI_NEUZUZUEGE", n(10))], // = population
        vec![("SI_EG_DOLMETSCH", n(4))],                                                    // = conversations
        vec![("SI_IG_ANZAHL", n(2)), ("SI_IG_DOLMETSCH", n(2))],
        vec![("SI_EG_PERSONEN", n(4))], // = conversations
        vec![("SI_NEUZUZUEGE", n(4))],  // = conversations
    ];
    let refs: Vec<&[(&str, Value)]> = at.iter().map(|v| v.as_slice()).collect();
    let r = value_cases(&refs);
    assert_eq!(r.codes_of("2611.xlsx"), vec!["WERT_UNPLAUSIBEL"]);
    for b in 2612..=2617 {
        assert!(r.codes_of(&format!("{b}.xlsx")).is_empty(), "{b}: {:?}", r.codes_of(&format!("{b}.xlsx")));
    }
    assert_eq!(r.row(2613).counts, [10, 2, 1, 1]);
    assert_eq!(r.row(2614).counts, [4, 4, 1, 1]);
    assert_eq!(r.row(2615).counts, [4, 2, 2, 2]);
    // One beyond: each rule fires, in its cell, withholding what it says.
    let beyond: Vec<Vec<(&str, Value)>> = vec![
        vec![("SI_EG_PERSONEN", n(1_000_001))],
        vec![("SI_EG_DOLMETSCH", n(-1))],
        vec![("SI_EG_ANZAHL", n(11)), ("SI_EG_PERSONEN", n(11)), ("SI_NEUZUZUEGE", n(11))],
        vec![("SI_EG_DOLMETSCH", n(5))],
        vec![("SI_IG_ANZAHL", n(2)), ("SI_IG_DOLMETSCH", n(3))],
        vec![("SI_EG_PERSONEN", n(3))],
        vec![("SI_NEUZUZUEGE", n(3))],
    ];
    let refs: Vec<&[(&str, Value)]> = beyond.iter().map(|v| v.as_slice()).collect();
    let r = value_cases(&refs);
    let at_cell = |b: u32| -> Vec<(String, Option<String>)> {
        r.findings
            .iter()
            .filter(|f| f.file.as_deref() == Some(&format!("{b}.xlsx")))
            .map(|f| (f.code.clone(), f.cell.clone()))
            .collect()
    };
    let one = |code: &str, cell: &str| vec![(code.to_string(), Some(cell.to_string()))];
    assert_eq!(at_cell(2611), one("WERT_ZU_GROSS", "B16"));
    assert_eq!(at_cell(2612), one("WERT_NEGATIV", "B14"));
    assert_eq!(r.row(2612).counts, [4, 0, 1, 1], "the interpreter amount is withheld");
    let mut unplausibel = at_cell(2613);
    unplausibel.sort();
    assert_eq!(
        unplausibel,
        ["B13", "B16", "B18"].map(|c| ("WERT_UNPLAUSIBEL".to_string(), Some(c.to_string()))).to_vec()
    );
    assert_eq!(r.row(2613).counts, [11, 2, 1, 1], "a warning: paid");
    assert_eq!(at_cell(2614), one("DOLMETSCH_UEBER_GESPRAECHE", "B14"));
    assert_eq!(r.row(2614).counts, [4, 0, 1, 1]);
    assert_eq!(r.row(2614).amounts, [dec(800), dec(0), dec(200), dec(160)]);
    assert_eq!(at_cell(2615).iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), vec!["DOLMETSCH_UEBER_GESPRAECHE"]);
    assert_eq!(r.row(2615).counts, [4, 2, 2, 0]);
    assert_eq!(at_cell(2616), one("PERSONEN_UNTER_GESPRAECHE", "B16"));
    assert_eq!(at_cell(2617), one("GESPRAECHE_UEBER_ZUZUEGE", "B13"));
    assert_eq!(r.row(2617).counts, [4, 2, 1, 1], "a warning: paid");
}

#[test]
fn no_integration_conversations_before_2022_is_no_finding() {
    // IG_VOR_2022 fires on a count above 0 only.
    let m = master();
    let zero = report(
        2601,
        "Solothurn",
        1,
        &[
            ("SI_JAHR", Value::Int(2021)),
            ("SI_DATUM", Value::Date(ymd(2021, 7, 10))),
            ("SI_IG_ANZAHL", Value::Int(0)),
            ("SI_IG_DOLMETSCH", Value::Int(0)),
        ],
    );
    let r = check_in(&m, 2021, vec![zero], ymd(2021, 7, 20));
    assert!(r.findings.is_empty(), "{:?}", codes(&r));
    let one = report(
        2601,
        "Solothurn",
        1,
        &[
            ("SI_JAHR", Value::Int(2021)),
            ("SI_DATUM", Value::Date(ymd(2021, 7, 10))),
            ("SI_IG_ANZAHL", Value::Int(1)),
            ("SI_IG_DOLMETSCH", Value::Int(0)),
        ],
    );
    let r = check_in(&m, 2021, vec![one], ymd(2021, 7, 20));
    assert_eq!(codes(&r), vec![Code::IgVor2022]);
    assert_eq!(r.findings[0].cell.as_deref(), Some("B21"));
}

#[test]
fn the_lead_sum_check_with_an_unusable_cell_fires_only_when_the_usable_rows_exceed_the_total() {
    // Main sheet: 4 EG. Lead's EG cell is text (counted 0); Member's EG is 3, 4 or 5.
    for (member_eg, fires) in [(3, false), (4, false), (5, true)] {
        let mut t = table(&[(2602, "Lead", 0, 1, 1, 0), (2603, "Member", member_eg, 1, 0, 1)]);
        t.set(1, 2, Value::Text("viele".into()));
        let r = check(vec![report(2602, "Lead", 1, &[]), t], "a.xlsx", JUL);
        assert!(has(&r, Code::WertKeineZahl), "{:?}", codes(&r));
        assert_eq!(has(&r, Code::LeitSumme), fires, "member EG {member_eg}: {:?}", codes(&r));
    }
}

#[test]
fn a_payout_stichtag_counts_the_files_received_on_that_day() {
    // `received_by` (the inbox as it stood on a Stichtag): a file received on the day counts.
    use common::inbox::{evaluate_with, write_inbox, write_master};
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("eingang");
    write_inbox(
        &inbox,
        &[
            infile("sd.xlsx", vec![sd(2601, "Solothurn", &[])], ymd(2023, 1, 20)),
            infile("h1.xlsx", vec![report(2601, "Solothurn", 1, &[])], ymd(2023, 7, 20)),
        ],
    );
    let stammdaten = write_master(dir.path(), &MasterSpec::default());
    for (day, listed) in [(ymd(2023, 7, 20), true), (ymd(2023, 7, 19), false)] {
        let opts = beitraege::run::RunOptions {
            inbox: inbox.clone(),
            stammdaten: stammdaten.clone(),
            received_by: Some(day),
            ..common::sample_options(&dir.path().join("aus"), Some(1))
        };
        let r = evaluate_with(&opts);
        assert_eq!(r.states.contains_key("h1.xlsx"), listed, "Stichtag {day}");
        assert_eq!(r.row(2601).counts[0], if listed { 4 } else { 0 });
    }
}

#[test]
fn the_sockelbeitrag_is_paid_from_2018() {
    // SOCKEL is valid from 01.01.2018: nothing for 2017, 5 × 7 for Klein in 2018.
    for (year, sockel) in [(2017, 0), (2018, 5 * 7)] {
        let stichtag = ymd(year - 2, 12, 31);
        let spec = MasterSpec {
            population: [(2601, 4000), (2602, 300), (2603, 100), (2604, 50), (2605, 5)]
                .map(|(b, n)| (b, stichtag, n))
                .to_vec(),
            credit: vec![(year as i64, 1_000_000)],
            clawbacks: vec![],
            ..MasterSpec::default()
        };
        let sd_year =
            sd(2605, "Klein", &[("SD_JAHR", Value::Int(year as i64)), ("SD_DATUM", Value::Date(ymd(year, 1, 10)))]);
        let r = evaluate_case(year, &spec, &[infile("sd.xlsx", vec![sd_year], ymd(year, 1, 20))]);
        assert!(r.codes_of("sd.xlsx").is_empty(), "{year}: {:?}", r.codes_of("sd.xlsx"));
        assert_eq!(r.row(2605).status, "berechtigt");
        assert_eq!(r.row(2605).sockel, dec(sockel), "{year}");
    }
}
