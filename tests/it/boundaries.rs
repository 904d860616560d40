//! Every rule with a boundary, tested on both sides of it, in every place it applies:
//! deadlines, the end of a period, the first year of Integrationsgespräche, tariff changes and
//! a tariff's last day (every component, and the Sockelbeitrag), a municipality's last day
//! before a merger, a contract's first and last day, the sum check of a lead's table in both
//! directions and in every column, the value limits and consistency checks, clawback dates,
//! the credit. Every test goes through the public entry point: forms written as xlsx files
//! into an inbox, master data as `Stammdaten.xlsx`, `beitraege::run::evaluate`, and the
//! findings (code, file, cell) and annex figures it decides (tests/it/common/inbox.rs). Expected
//! amounts are worked out by hand: the clean report has 4 Erstinformationsgespräche (2 with an
//! interpreter) and 1 Integrationsgespräch (with an interpreter); CHF 200 per conversation, 160
//! per interpreter, 7 per foreign resident; Solothurn has 4000 foreign residents, Klein 5.

use crate::common;
use beitraege::domain::Chf;

use beitraege::domain::ymd;
use beitraege::workbook::{Sheet, Value};
use chrono::NaiveDate;
use common::forms::*;
use common::inbox::{evaluate_case, infile, InFile, Outcome as Run};

/// The master data for `year`: the five municipalities with their foreign residents on the
/// Stichtag 31.12.(year − 2), a large credit, no clawbacks.
fn spec_for(year: i32) -> MasterSpec {
    let stichtag = ymd(year - 2, 12, 31);
    MasterSpec {
        population: [(2601, 4000), (2602, 300), (2603, 100), (2604, 50), (2605, 5)]
            .map(|(b, n)| (b, stichtag, n))
            .to_vec(),
        credit: vec![(year as i64, 10_000_000)],
        clawbacks: vec![],
        ..MasterSpec::default()
    }
}

/// A clean report of `year` (submitted 10.07.) with overrides.
fn report_in(year: i32, bfs: i64, name: &str, half: i64, overrides: &[(&str, Value)]) -> Sheet {
    let mut o = vec![("SI_JAHR", Value::Int(year as i64)), ("SI_DATUM", Value::Date(ymd(year, 7, 10)))];
    o.extend(overrides.iter().cloned());
    report(bfs, name, half, &o)
}

/// A clean Selbstdeklaration of `year`.
fn sd_in(year: i32, bfs: i64, name: &str) -> Sheet {
    sd(bfs, name, &[("SD_JAHR", Value::Int(year as i64)), ("SD_DATUM", Value::Date(ymd(year, 1, 10)))])
}

/// Klein has 5 foreign residents: its clean report names 4 persons and 4 new residents.
const KLEIN_PLAUSIBLE: [(&str, Value); 2] = [("SI_EG_PERSONEN", Value::Int(4)), ("SI_NEUZUZUEGE", Value::Int(4))];

/// No Integrationsgespräche (before 2022).
const NO_IG: [(&str, Value); 2] = [("SI_IG_ANZAHL", Value::Int(0)), ("SI_IG_DOLMETSCH", Value::Int(0))];

/// Codes and cells of the findings about one file.
fn cells(r: &Run, file: &str) -> Vec<(String, Option<String>)> {
    r.findings.iter().filter(|f| f.file.as_deref() == Some(file)).map(|f| (f.code.clone(), f.cell.clone())).collect()
}

// --- deadlines: 31.07. (1st half-year), 31.01. (2nd half-year and Selbstdeklaration) ------

#[test]
fn the_report_deadlines_are_the_31st_of_july_and_the_31st_of_january() {
    for (half, on, after) in [(1, ymd(2023, 7, 31), ymd(2023, 8, 1)), (2, ymd(2024, 1, 31), ymd(2024, 2, 1))] {
        let r = run23(
            &MasterSpec::default(),
            vec![
                sd_of(2601, "Solothurn"),
                infile("on.xlsx", vec![report(2601, "Solothurn", half, &[])], on),
                infile("after.xlsx", vec![report(2605, "Klein", half, &KLEIN_PLAUSIBLE)], after),
            ],
        );
        assert!(r.codes_of("on.xlsx").is_empty(), "H{half} on {on}: {:?}", r.codes_of("on.xlsx"));
        assert_eq!(cells(&r, "after.xlsx"), vec![("FRIST_VERPASST".to_string(), Some("B10".to_string()))]);
        assert_eq!(r.state("after.xlsx"), "verarbeitet", "a warning: still used");
        assert_eq!(r.row(2601).counts, [4, 2, 1, 1]);
    }
}

#[test]
fn the_selbstdeklaration_deadline_is_the_31st_of_january_of_the_year() {
    let r = run23(
        &MasterSpec::default(),
        vec![
            infile("before.xlsx", vec![sd(2601, "Solothurn", &[])], ymd(2023, 1, 30)),
            infile("on.xlsx", vec![sd(2602, "Lead", &[])], ymd(2023, 1, 31)),
            infile("after.xlsx", vec![sd(2605, "Klein", &[])], ymd(2023, 2, 1)),
        ],
    );
    assert!(r.codes_of("before.xlsx").is_empty(), "{:?}", r.codes_of("before.xlsx"));
    assert!(r.codes_of("on.xlsx").is_empty(), "{:?}", r.codes_of("on.xlsx"));
    assert_eq!(cells(&r, "after.xlsx"), vec![("FRIST_VERPASST".to_string(), Some("B20".to_string()))]);
    assert_eq!(r.row(2605).status, "berechtigt", "late, but it counts");
}

// --- PERIODE_ZUKUNFT: the half-year must have ended when the file arrives ---------------

#[test]
fn a_report_received_on_the_periods_last_day_is_too_early() {
    for (half, last, next) in [(1, ymd(2023, 6, 30), ymd(2023, 7, 1)), (2, ymd(2023, 12, 31), ymd(2024, 1, 1))] {
        let r = run23(
            &MasterSpec::default(),
            vec![
                sd_of(2601, "Solothurn"),
                sd_of(2605, "Klein"),
                infile("last.xlsx", vec![report(2605, "Klein", half, &[])], last),
                infile("next.xlsx", vec![report(2601, "Solothurn", half, &[])], next),
            ],
        );
        assert_eq!(cells(&r, "last.xlsx"), vec![("PERIODE_ZUKUNFT".to_string(), Some("B7".to_string()))]);
        assert_eq!(r.state("last.xlsx"), "abgelehnt");
        assert_eq!(r.row(2605).counts, [0, 0, 0, 0]);
        assert!(r.codes_of("next.xlsx").is_empty(), "H{half} on {next}: {:?}", r.codes_of("next.xlsx"));
        assert_eq!(r.state("next.xlsx"), "verarbeitet");
        assert_eq!(r.row(2601).counts, [4, 2, 1, 1]);
    }
}

// --- IG_VOR_2022: Integrationsgespräche are paid from 2022 on (4.3.1) --------------------

#[test]
fn integration_conversations_are_paid_from_2022_not_in_2021() {
    for (year, flagged) in [(2021, true), (2022, false)] {
        let r = evaluate_case(
            year,
            &spec_for(year),
            &[
                infile("sd.xlsx", vec![sd_in(year, 2601, "Solothurn")], ymd(year, 1, 20)),
                infile("r.xlsx", vec![report_in(year, 2601, "Solothurn", 1, &[])], ymd(year, 7, 20)),
                // No Integrationsgespräche reported: nothing to flag, also in 2021.
                infile("sd5.xlsx", vec![sd_in(year, 2605, "Klein")], ymd(year, 1, 20)),
                infile(
                    "null.xlsx",
                    vec![report_in(
                        year,
                        2605,
                        "Klein",
                        1,
                        &[
                            ("SI_IG_ANZAHL", Value::Int(0)),
                            ("SI_IG_DOLMETSCH", Value::Int(0)),
                            KLEIN_PLAUSIBLE[0].clone(),
                            KLEIN_PLAUSIBLE[1].clone(),
                        ],
                    )],
                    ymd(year, 7, 20),
                ),
            ],
        );
        assert!(r.codes_of("null.xlsx").is_empty(), "{year}: {:?}", r.codes_of("null.xlsx"));
        assert_eq!(r.row(2605).counts, [4, 2, 0, 0]);
        if flagged {
            let ig = |c: &str| ("IG_VOR_2022".to_string(), Some(c.to_string()));
            assert_eq!(cells(&r, "r.xlsx"), vec![ig("B21"), ig("B22")]);
            assert_eq!(r.row(2601).counts, [4, 2, 0, 0], "IG withheld, EG paid");
            assert_eq!(r.row(2601).amounts, [dec(800), dec(320), dec(0), dec(0)]);
        } else {
            assert!(r.codes_of("r.xlsx").is_empty(), "{year}: {:?}", r.codes_of("r.xlsx"));
            assert_eq!(r.row(2601).counts, [4, 2, 1, 1]);
            assert_eq!(r.row(2601).amounts, [dec(800), dec(320), dec(200), dec(160)]);
        }
    }
}

// --- mergers: a municipality exists up to and including its last day --------------------

#[test]
fn a_municipality_reports_for_the_half_year_that_ends_on_its_last_day() {
    // 2604 Alt exists until 31.12.2020, then merged into 2601.
    let r = evaluate_case(
        2020,
        &spec_for(2020),
        &[
            infile("sd.xlsx", vec![sd_in(2020, 2604, "Alt")], ymd(2020, 1, 20)),
            infile("h2.xlsx", vec![report_in(2020, 2604, "Alt", 2, &NO_IG)], ymd(2021, 1, 20)),
        ],
    );
    assert!(r.codes_of("h2.xlsx").is_empty(), "{:?}", r.codes_of("h2.xlsx"));
    assert_eq!(r.row(2604).counts, [4, 2, 0, 0], "paid to Alt itself");
    assert_eq!(r.row(2604).payee, 2604);
    let r = evaluate_case(
        2021,
        &spec_for(2021),
        &[infile("h1.xlsx", vec![report_in(2021, 2604, "Alt", 1, &NO_IG)], ymd(2021, 7, 20))],
    );
    assert_eq!(r.codes_of("h1.xlsx"), vec!["GEMEINDE_AUFGELOEST"]);
    assert_eq!(r.state("h1.xlsx"), "abgelehnt");
    assert!(!r.rows.contains_key(&2604), "no annex row in 2021");
}

// --- contracts: membership on the period's last day -------------------------------------

#[test]
fn a_contract_applies_from_its_first_to_its_last_day() {
    let klein_in_v = |from: NaiveDate, to: Option<NaiveDate>| MasterSpec {
        contracts: vec![("V".into(), 2602, 2605, from, to)],
        ..MasterSpec::default()
    };
    let own = || {
        vec![
            infile("h1.xlsx", vec![report(2605, "Klein", 1, &[])], ymd(2023, 7, 20)),
            infile("h2.xlsx", vec![report(2605, "Klein", 2, &[])], ymd(2024, 1, 20)),
        ]
    };
    let selbst = |r: &Run, f: &str| r.has(f, "LEIT_MITGLIED_MELDET_SELBST");
    // (from, to, H1 flagged, H2 flagged)
    for (from, to, h1, h2) in [
        (ymd(2023, 7, 1), None, false, true),                    // joins after H1
        (ymd(2023, 6, 30), None, true, true),                    // joins on H1's last day
        (ymd(2019, 1, 1), Some(ymd(2023, 6, 30)), true, false),  // leaves on H1's last day
        (ymd(2019, 1, 1), Some(ymd(2023, 6, 29)), false, false), // leaves the day before
    ] {
        let r = run23(&klein_in_v(from, to), own());
        assert_eq!((selbst(&r, "h1.xlsx"), selbst(&r, "h2.xlsx")), (h1, h2), "contract {from} – {to:?}");
        for (f, flagged) in [("h1.xlsx", h1), ("h2.xlsx", h2)] {
            let want = if flagged { "abgelehnt" } else { "verarbeitet" };
            assert_eq!(r.state(f), want, "{f}, contract {from} – {to:?}");
        }
    }
}

// --- LEIT_SUMME: the table must add up to the main sheet, in every column, both ways ----

/// Leads 2611, 2613, … each with one member (2612, 2614, …) in a contract of their own.
fn spec_with_leads(n: i64) -> MasterSpec {
    let mut spec = MasterSpec::default();
    for i in 0..n {
        let (lead, member) = (2611 + 2 * i, 2612 + 2 * i);
        for b in [lead, member] {
            spec.municipalities.push((b, format!("G{b}"), None, None, None));
            spec.population.push((b, ymd(2021, 12, 31), 100));
        }
        for b in [lead, member] {
            spec.contracts.push((format!("V{lead}"), lead, b, ymd(2019, 1, 1), None));
        }
    }
    spec
}

/// A lead's report (main sheet: 4, 2, 1, 1) with the table rows (lead, member) of counts.
fn lead_file(lead: i64, rows: [[Value; 4]; 2]) -> InFile {
    let member = lead + 1;
    let mut t = table(&[(lead, &format!("G{lead}"), 0, 0, 0, 0), (member, &format!("G{member}"), 0, 0, 0, 0)]);
    for (r, row) in rows.into_iter().enumerate() {
        for (c, v) in row.into_iter().enumerate() {
            t.set(r as u32 + 1, 2 + c as u32, v);
        }
    }
    infile(&format!("{lead}.xlsx"), vec![report(lead, &format!("G{lead}"), 1, &[]), t], ymd(2023, 7, 20))
}

#[test]
fn the_lead_sum_check_fires_in_both_directions_in_every_column() {
    // Rows that add up exactly: lead 3, 1, 1, 0 and member 1, 1, 0, 1 (main sheet 4, 2, 1, 1).
    let exact = [[3, 1, 1, 0], [1, 1, 0, 1]];
    let int = |rows: [[i64; 4]; 2]| rows.map(|r| r.map(Value::Int));
    let mut cases = vec![(exact, None)];
    for column in 0..4 {
        for delta in [-1i64, 1] {
            let mut rows = exact;
            // One below 0 is no count: the difference goes to the member's cell then.
            let who = if rows[0][column] + delta < 0 { 1 } else { 0 };
            rows[who][column] += delta;
            cases.push((rows, Some(column)));
        }
    }
    let spec = spec_with_leads(cases.len() as i64);
    let mut files = Vec::new();
    for (i, (rows, _)) in cases.iter().enumerate() {
        let lead = 2611 + 2 * i as i64;
        files.push(lead_file(lead, int(*rows)));
        files.push(infile(&format!("sd{lead}.xlsx"), vec![sd(lead, &format!("G{lead}"), &[])], ymd(2023, 1, 20)));
    }
    let r = run23(&spec, files);
    let main_cells = ["B13", "B14", "B21", "B22"];
    for (i, (rows, column)) in cases.iter().enumerate() {
        let lead = 2611 + 2 * i as u32;
        let file = format!("{lead}.xlsx");
        match column {
            None => {
                assert!(r.codes_of(&file).is_empty(), "{:?}", r.codes_of(&file));
                assert_eq!(r.row(lead).counts, [3, 1, 1, 0]);
                assert_eq!(r.row(lead + 1).counts, [1, 1, 0, 1]);
            }
            Some(c) => {
                assert_eq!(
                    cells(&r, &file),
                    vec![("LEIT_SUMME".to_string(), Some(main_cells[*c].to_string()))],
                    "column {c}: {rows:?}"
                );
                assert_eq!(r.state(&file), "verarbeitet", "withheld, not rejected");
                for b in [lead, lead + 1] {
                    assert_eq!(r.row(b).counts, [0, 0, 0, 0], "{b}: withheld");
                    assert_eq!(r.row(b).amounts, [dec(0); 4]);
                }
            }
        }
    }
}

#[test]
fn the_lead_sum_check_with_an_unusable_cell_fires_only_when_the_usable_rows_exceed_the_total() {
    // Main sheet: 4 EG. The lead's EG cell is text (counted 0); the member's EG is 3, 4 or 5.
    let cases = [(3, false), (4, false), (5, true)];
    let spec = spec_with_leads(cases.len() as i64);
    let files = cases
        .iter()
        .enumerate()
        .map(|(i, (member_eg, _))| {
            let v = Value::Int;
            lead_file(
                2611 + 2 * i as i64,
                [[Value::Text("viele".into()), v(1), v(1), v(0)], [v(*member_eg), v(1), v(0), v(1)]],
            )
        })
        .collect();
    let r = run23(&spec, files);
    for (i, (member_eg, fires)) in cases.iter().enumerate() {
        let file = format!("{}.xlsx", 2611 + 2 * i);
        assert!(r.has(&file, "WERT_KEINE_ZAHL"), "{:?}", r.codes_of(&file));
        assert_eq!(r.has(&file, "LEIT_SUMME"), *fires, "member EG {member_eg}: {:?}", r.codes_of(&file));
    }
}

// --- through the master data: tariffs, mergers, contracts, clawbacks, credit -------------

fn sd_of(bfs: i64, name: &str) -> InFile {
    infile(&format!("sd_{bfs}.xlsx"), vec![sd(bfs, name, &[])], ymd(2023, 1, 20))
}

fn run23(spec: &MasterSpec, files: Vec<InFile>) -> Run {
    evaluate_case(2023, spec, &files)
}

fn dec(n: i64) -> Chf {
    Chf::from_int(n)
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
        assert_eq!(Some(row.total), Chf::checked_sum([dec(4000 * 7)].into_iter().chain(want)));
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
    // Nothing is paid to Klein (no Selbstdeklaration): each decision is invoiced by the first
    // payout run on or after it, 10 by 31.03.2023, 100 by 31.03.2024 (4.7).
    assert_eq!(r.invoices, vec![(2605, dec(10)), (2605, dec(100))], "nothing paid to Klein (no Selbstdeklaration)");
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
        let opts = beitraege::run::EvaluationOptions {
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

#[test]
fn without_a_journal_entry_the_receipt_date_is_the_swiss_date_of_the_modification_time() {
    // 31.07.2023 21:30 UTC is 23:30 in Solothurn (summer time): on time. 22:30 UTC is
    // 00:30 on 01.08.: late.
    use common::inbox::{evaluate_with, write_inbox, write_master, xlsx};
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("eingang");
    write_inbox(&inbox, &[infile("sd.xlsx", vec![sd(2601, "Solothurn", &[])], ymd(2023, 1, 20))]);
    let utc = |h: u32| {
        let t = ymd(2023, 7, 31).and_hms_opt(h, 30, 0).unwrap().and_utc();
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.timestamp() as u64)
    };
    let forms = [
        ("rechtzeitig.xlsx", 21, report(2601, "Solothurn", 1, &[])),
        ("spaet.xlsx", 22, report(2605, "Klein", 1, &KLEIN_PLAUSIBLE)),
    ];
    for (name, hour, form) in forms {
        let path = inbox.join(name);
        std::fs::write(&path, xlsx(&[form])).unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(utc(hour)).unwrap();
    }
    let stammdaten = write_master(dir.path(), &MasterSpec::default());
    let opts = beitraege::run::EvaluationOptions {
        inbox,
        stammdaten,
        ..common::sample_options(&dir.path().join("aus"), Some(1))
    };
    let r = evaluate_with(&opts);
    assert!(r.codes_of("rechtzeitig.xlsx").is_empty(), "{:?}", r.codes_of("rechtzeitig.xlsx"));
    assert_eq!(r.codes_of("spaet.xlsx"), vec!["FRIST_VERPASST"]);
}
