//! `WERT_SPRUNG`: a count against the municipality's own earlier half-years (the inbox
//! root's earlier year folders, the ledger). Both sides of each threshold (at least 3 times
//! the highest and at least 10 more; at most a third of the lowest and at least 10 less), no
//! history, a misfiled form of an earlier year, and a merger (the successor's history holds
//! its predecessors'). The warning changes no amount. Through `beitraege::run::evaluate`
//! on forms written as xlsx files; expectations worked out by hand.

use crate::common;

use beitraege::domain::ymd;
use beitraege::workbook::Value;
use common::forms::*;
use common::inbox::{evaluate_case, infile, InFile, Outcome as Run};

/// Master data with foreign residents for 2023 (Stichtag 31.12.2021): large enough that no
/// count here is `WERT_UNPLAUSIBEL`.
fn spec() -> MasterSpec {
    MasterSpec {
        population: [(2601, 4000), (2602, 300), (2603, 100), (2605, 4000)]
            .map(|(b, n)| (b, ymd(2021, 12, 31), n))
            .to_vec(),
        credit: vec![(2023, 10_000_000)],
        clawbacks: vec![],
        ..MasterSpec::default()
    }
}

/// A clean report of `year`/`half` with overrides, received after the half-year.
fn report_file(rel: &str, year: i32, bfs: i64, name: &str, half: i64, overrides: &[(&str, Value)]) -> InFile {
    let mut o = vec![("SI_JAHR", Value::Int(year as i64)), ("SI_DATUM", Value::Date(ymd(year, 7, 10)))];
    o.extend(overrides.iter().cloned());
    let received = if half == 1 { ymd(year, 7, 15) } else { ymd(year + 1, 1, 15) };
    infile(rel, vec![report(bfs, name, half, &o)], received)
}

fn sd_file(rel: &str, bfs: i64, name: &str) -> InFile {
    infile(rel, vec![sd(bfs, name, &[])], ymd(2023, 1, 15))
}

fn n(v: i64) -> Value {
    Value::Int(v)
}

/// (file, cell) of every `WERT_SPRUNG`.
fn jumps(r: &Run) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r
        .with("WERT_SPRUNG")
        .iter()
        .map(|f| (f.file.clone().unwrap_or_default(), f.cell.clone().unwrap_or_default()))
        .collect();
    v.sort();
    v
}

fn eg(v: i64) -> Vec<(&'static str, Value)> {
    // Persons and new arrivals follow the conversations, so only the conversations move.
    vec![("SI_EG_ANZAHL", n(v)), ("SI_EG_PERSONEN", n(20)), ("SI_NEUZUZUEGE", n(20)), ("SI_EG_DOLMETSCH", n(2))]
}

#[test]
fn a_count_three_times_its_history_and_ten_more_is_a_warning_one_less_is_not() {
    // Solothurn reported 5 conversations in both half-years of 2022 (history 5..5).
    // 2023/H1: 15 = 3 × 5 and 10 more → WERT_SPRUNG at B13. 2023/H2: 14 → nothing.
    // (The year's own H1 is no history of its H2 in the inbox: the ledger holds it once paid.)
    let files = vec![
        report_file("2022/so_h1.xlsx", 2022, 2601, "Solothurn", 1, &eg(5)),
        report_file("2022/so_h2.xlsx", 2022, 2601, "Solothurn", 2, &eg(5)),
        report_file("2023/so_h1.xlsx", 2023, 2601, "Solothurn", 1, &eg(15)),
        report_file("2023/so_h2.xlsx", 2023, 2601, "Solothurn", 2, &eg(14)),
        sd_file("2023/so_sd.xlsx", 2601, "Solothurn"),
    ];
    let r = evaluate_case(2023, &spec(), &files);
    assert_eq!(jumps(&r), vec![("2023/so_h1.xlsx".to_string(), "B13".to_string())]);
    // A warning: paid in full, 29 conversations × 200 + 4 interpreters × 160 + 2 IG × 200 + 2 × 160.
    let row = r.row(2601);
    assert_eq!(row.counts, [29, 4, 2, 2]);
    assert_eq!(row.amounts, [5800, 640, 400, 320].map(beitraege::domain::Chf::from_int));
}

#[test]
fn small_counts_need_ten_more_and_a_fall_needs_a_third_and_ten_less() {
    // Klein: history 4 conversations; 13 is three times and 9 more → nothing (H1);
    // 14 is three times and 10 more → WERT_SPRUNG (H2).
    // New arrivals: history 30 (Solothurn); 11 → nothing (H1), 10 = a third and 20 less → B18 (H2).
    let arrivals = |v: i64| vec![("SI_NEUZUZUEGE", n(v))];
    let files = vec![
        report_file("2022/kl_h2.xlsx", 2022, 2605, "Klein", 2, &eg(4)),
        report_file("2023/kl_h1.xlsx", 2023, 2605, "Klein", 1, &eg(13)),
        report_file("2023/kl_h2.xlsx", 2023, 2605, "Klein", 2, &eg(14)),
        report_file("2022/so_h2.xlsx", 2022, 2601, "Solothurn", 2, &arrivals(30)),
        report_file("2023/so_h1.xlsx", 2023, 2601, "Solothurn", 1, &arrivals(11)),
        report_file("2023/so_h2.xlsx", 2023, 2601, "Solothurn", 2, &arrivals(10)),
    ];
    let r = evaluate_case(2023, &spec(), &files);
    assert_eq!(
        jumps(&r),
        vec![("2023/kl_h2.xlsx".to_string(), "B13".to_string()), ("2023/so_h2.xlsx".to_string(), "B18".to_string())]
    );
}

#[test]
fn no_history_no_finding_and_a_misfiled_earlier_form_is_no_history() {
    // Solothurn's 2022 form lies in the 2023 folder (ANDERES_JAHR): it is no history, so 500
    // conversations in 2023 give no WERT_SPRUNG; neither does Klein without any earlier form.
    let files = vec![
        report_file("2023/so_2022.xlsx", 2022, 2601, "Solothurn", 2, &eg(5)),
        report_file("2023/so_h1.xlsx", 2023, 2601, "Solothurn", 1, &eg(500)),
        report_file("2023/kl_h1.xlsx", 2023, 2605, "Klein", 1, &eg(500)),
    ];
    let r = evaluate_case(2023, &spec(), &files);
    assert!(r.has("2023/so_2022.xlsx", "ANDERES_JAHR"));
    assert_eq!(jumps(&r), Vec::<(String, String)>::new());
}

#[test]
fn a_successor_is_compared_with_its_predecessors_together() {
    // Alt (2604) merged into Solothurn (2601) on 31.12.2020. In 2020/H2 Alt reported 10
    // conversations and Solothurn 5: Solothurn's history is 15. 44 < 45 → nothing (against
    // Solothurn's own 5 it would be a jump); 45 = 3 × 15 and 30 more → WERT_SPRUNG.
    let files = vec![
        report_file("2020/alt_h2.xlsx", 2020, 2604, "Alt", 2, &eg(10)),
        report_file("2020/so_h2.xlsx", 2020, 2601, "Solothurn", 2, &eg(5)),
        report_file("2023/so_h1.xlsx", 2023, 2601, "Solothurn", 1, &eg(44)),
        report_file("2023/so_h2.xlsx", 2023, 2601, "Solothurn", 2, &eg(45)),
    ];
    let r = evaluate_case(2023, &spec(), &files);
    assert_eq!(jumps(&r), vec![("2023/so_h2.xlsx".to_string(), "B13".to_string())]);
}

#[test]
fn only_the_last_four_half_years_count_and_the_latest_resubmission() {
    // 2020/H2: 100 (five half-years back, not history). 2021/H1..2022/H2: 5, 5, 5, and 2022/H2
    // resubmitted: 100 first, then 6 (the later receipt counts). History 5..6: 18 = 3 × 6 and
    // 12 more → WERT_SPRUNG; with 2020/H2 or the first 2022/H2 it would not be.
    let mut files = vec![
        report_file("2020/h2.xlsx", 2020, 2601, "Solothurn", 2, &eg(100)),
        report_file("2021/h1.xlsx", 2021, 2601, "Solothurn", 1, &eg(5)),
        report_file("2021/h2.xlsx", 2021, 2601, "Solothurn", 2, &eg(5)),
        report_file("2022/h1.xlsx", 2022, 2601, "Solothurn", 1, &eg(5)),
        report_file("2022/h2_a.xlsx", 2022, 2601, "Solothurn", 2, &eg(100)),
        report_file("2023/h1.xlsx", 2023, 2601, "Solothurn", 1, &eg(18)),
    ];
    let mut later = report_file("2022/h2_b.xlsx", 2022, 2601, "Solothurn", 2, &eg(6));
    later.received = ymd(2023, 1, 20);
    files.push(later);
    let r = evaluate_case(2023, &spec(), &files);
    assert_eq!(jumps(&r), vec![("2023/h1.xlsx".to_string(), "B13".to_string())]);
}

#[test]
fn the_ledgers_booked_counts_are_history_and_a_leads_members_add_up() {
    use beitraege::domain::{CountField, Period};
    use beitraege::validate::sprung::{check, History};
    use beitraege::validate::{validate_form, Ctx, FileResult, Outcome};
    use beitraege::workbook::{Format, Workbook};
    // Lead (2602) reports for itself and Member (2603) (contract V of the test master data).
    // The ledger booked 3 conversations for Lead and 2 for Member in 2022/H2: the lead's
    // history is 5.
    let m = master();
    let mut history = History::default();
    history.add_booked(2602, Period::new(2022, 2), CountField::EgAnzahl, 3);
    history.add_booked(2603, Period::new(2022, 2), CountField::EgAnzahl, 2);
    let cells_of = |conversations: i64| {
        let sheets = vec![
            report(2602, "Lead", 1, &[("SI_EG_ANZAHL", n(conversations))]),
            table(&[(2602, "Lead", conversations - 1, 2, 1, 1), (2603, "Member", 1, 0, 0, 0)]),
        ];
        let form = beitraege::extract::extract(&Workbook { format: Format::Xlsx, sheets, names: vec![] }).unwrap();
        let ctx = Ctx { year: 2023, master: &m };
        let r = validate_form(FileResult::new(&file("lead.xlsx", JUL)), form, &ctx);
        let Outcome::Report(doc) = &r.outcome else { panic!("a report: {:?}", r.findings) };
        let found = check(doc, r.submitted.as_ref().unwrap(), &m, &history);
        found.iter().map(|f| (f.code.as_str().to_string(), f.cell().unwrap_or_default())).collect::<Vec<_>>()
    };
    // 15 = 3 × 5 and 10 more; 14 is not.
    assert_eq!(cells_of(15), vec![("WERT_SPRUNG".to_string(), "B13".to_string())]);
    assert_eq!(cells_of(14), Vec::<(String, String)>::new());
    // No history at all: nothing.
    let empty = History::default();
    assert!(empty.is_empty());
}
