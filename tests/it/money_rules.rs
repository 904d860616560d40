//! The money rules after the rows are computed, each on both sides of its boundary: a
//! clawback is offset only against payouts on or after its decision (4.7), the rest is
//! invoiced, and only the rest; empty payouts are not listed; the credit warning (4.3.4) from
//! one Rappen over; which tariffs the annex lists as applied; and which of several
//! resubmitted forms counts. Amounts are worked out by hand: CHF 200 per conversation, 160 per
//! interpreter, 7 per foreign resident (Klein, BFS 2605, has 5).

use crate::common;
use beitraege::domain::Chf;

use beitraege::compute::{compute, Computation};
use beitraege::domain::{ymd, Bfs, Clawback, Code, FileState, TariffCode};
use beitraege::resolve::resolve;
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::Ctx;
use beitraege::workbook::Value;
use chrono::NaiveDate;
use common::forms::*;

const KLEIN: Bfs = 2605;

fn chf(s: &str) -> Chf {
    s.parse().unwrap()
}

/// Klein's year: its Selbstdeklaration and a first-half report with one conversation and no
/// interpreter (CHF 200, paid 30.09.), evaluated with `m`.
fn klein_year(m: &Stammdaten) -> Computation {
    let one_talk = [
        ("SI_EG_ANZAHL", Value::Int(1)),
        ("SI_EG_DOLMETSCH", Value::Int(0)),
        ("SI_EG_PERSONEN", Value::Int(1)),
        ("SI_IG_ANZAHL", Value::Int(0)),
        ("SI_IG_DOLMETSCH", Value::Int(0)),
    ];
    let results = vec![
        check(vec![sd(KLEIN as i64, "Klein", &[])], "klein_sd.xlsx", ymd(2023, 1, 20)),
        check(vec![report(KLEIN as i64, "Klein", 1, &one_talk)], "klein_h1.xlsx", JUL),
    ];
    let ctx = Ctx { year: Y, master: m };
    let resolved = resolve(results, &ctx);
    compute(m, &resolved, Y)
}

fn with_clawbacks(claws: &[(&str, NaiveDate)]) -> Stammdaten {
    let mut m = master();
    m.clawbacks = claws
        .iter()
        .enumerate()
        .map(|(i, (amount, on))| Clawback {
            bfs: KLEIN,
            amount: chf(amount),
            reason: format!("R{i}"),
            decided_on: *on,
            decision: None,
        })
        .collect();
    m
}

/// (date, gross, offset) of Klein's payouts.
fn payouts(c: &Computation) -> Vec<(NaiveDate, Chf, Chf)> {
    c.payouts.iter().filter(|p| p.payee == KLEIN).map(|p| (p.date, p.gross, p.offset)).collect()
}

#[test]
fn the_year_without_clawbacks_pays_the_sockel_in_march_and_the_half_year_in_september() {
    let c = klein_year(&with_clawbacks(&[]));
    assert_eq!(
        payouts(&c),
        [(ymd(2023, 3, 31), chf("35"), chf("0")), (ymd(2023, 9, 30), chf("200"), chf("0"))],
        "the empty second half-year (31.03.2024) is not listed"
    );
    assert!(c.invoices.is_empty());
    let net: Vec<Chf> = c.payouts.iter().filter(|p| p.payee == KLEIN).map(|p| p.net()).collect();
    assert_eq!(net, [chf("35"), chf("200")]);
}

#[test]
fn a_clawback_is_offset_only_against_payouts_on_or_after_its_decision() {
    // Decided after the Sockel payout (31.03.): only the September payout is reduced.
    let c = klein_year(&with_clawbacks(&[("100", ymd(2023, 5, 1))]));
    assert_eq!(payouts(&c), [(ymd(2023, 3, 31), chf("35"), chf("0")), (ymd(2023, 9, 30), chf("200"), chf("100"))]);
    assert_eq!(c.payouts.iter().find(|p| p.payee == KLEIN && p.date == ymd(2023, 9, 30)).unwrap().net(), chf("100"));
    // Decided on the day of the Sockel payout: that run offsets it (35) and invoices the rest
    // (65, due 30 days later); the September payout is not reduced (4.7: one run offsets).
    let c = klein_year(&with_clawbacks(&[("100", ymd(2023, 3, 31))]));
    assert_eq!(payouts(&c), [(ymd(2023, 3, 31), chf("35"), chf("35")), (ymd(2023, 9, 30), chf("200"), chf("0"))]);
    assert_eq!(c.invoices.len(), 1);
    assert_eq!((c.invoices[0].amount, c.invoices[0].due_on), (chf("65"), ymd(2023, 4, 30)));
    // Decided the day after the September payout: nothing of the year is left to offset.
    let c = klein_year(&with_clawbacks(&[("100", ymd(2023, 10, 1))]));
    assert_eq!(payouts(&c), [(ymd(2023, 3, 31), chf("35"), chf("0")), (ymd(2023, 9, 30), chf("200"), chf("0"))]);
    assert_eq!(c.invoices.len(), 1);
    assert_eq!((c.invoices[0].bfs, c.invoices[0].amount), (KLEIN, chf("100")));
}

#[test]
fn only_the_rest_of_a_clawback_is_invoiced_and_a_fully_offset_one_is_not() {
    // Exactly what September pays: offset in full, no invoice.
    let c = klein_year(&with_clawbacks(&[("200", ymd(2023, 5, 1))]));
    assert_eq!(payouts(&c)[1], (ymd(2023, 9, 30), chf("200"), chf("200")));
    assert!(c.invoices.is_empty(), "{:?}", c.invoices);
    // One Rappen more: that Rappen is invoiced.
    let c = klein_year(&with_clawbacks(&[("200.01", ymd(2023, 5, 1))]));
    assert_eq!(c.invoices.len(), 1);
    assert_eq!(c.invoices[0].amount, chf("0.01"));
}

#[test]
fn an_invoice_names_only_the_clawbacks_it_invoices() {
    // R0 is offset in full against September; R1, decided later, is invoiced whole.
    let c = klein_year(&with_clawbacks(&[("50", ymd(2023, 5, 1)), ("80", ymd(2023, 11, 1))]));
    assert_eq!(payouts(&c)[1], (ymd(2023, 9, 30), chf("200"), chf("50")));
    assert_eq!(c.invoices.len(), 1);
    assert_eq!(c.invoices[0].amount, chf("80"));
    let decisions: Vec<&str> = c.invoices[0].decisions.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(decisions, vec!["R1"], "only the decision with a remainder is invoiced");
}

#[test]
fn the_credit_warning_starts_one_rappen_over_the_credit() {
    let mut m = with_clawbacks(&[]);
    let total = klein_year(&m).total;
    assert_eq!(total, chf("235"), "35 Sockelbeitrag + 200 Fallpauschale");
    m.credit.insert(Y, total);
    assert!(klein_year(&m).findings.iter().all(|f| f.code != Code::KreditUeberschritten), "total = credit");
    m.credit.insert(Y, total.checked_sub(chf("0.01")).unwrap());
    let codes: Vec<Code> = klein_year(&m).findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::KreditUeberschritten]);
}

#[test]
fn the_annex_lists_each_tariff_with_the_days_it_was_applied_on() {
    let c = klein_year(&with_clawbacks(&[]));
    let applied = |code: TariffCode| -> Vec<Vec<NaiveDate>> {
        c.tariffs.iter().filter(|a| a.tariff.code == code).map(|a| a.applied_on.clone()).collect()
    };
    // The Sockelbeitrag on 31.12. only; a per-half-year rate on both period ends, as one tariff.
    assert_eq!(applied(TariffCode::Sockel), [vec![ymd(2023, 12, 31)]]);
    assert_eq!(applied(TariffCode::FallEg), [vec![ymd(2023, 6, 30), ymd(2023, 12, 31)]]);

    // A new rate from 01.07.: two tariffs, each applied on one period end.
    let mut tariffs = default_tariffs();
    tariffs[0] = ("FALL_EG", 200, ymd(2017, 1, 1), Some(ymd(2023, 6, 30)));
    tariffs.push(("FALL_EG", 210, ymd(2023, 7, 1), None));
    let m = master_from(&[], &tariffs);
    let c = klein_year(&m);
    let fall: Vec<(Chf, Vec<NaiveDate>)> = c
        .tariffs
        .iter()
        .filter(|a| a.tariff.code == TariffCode::FallEg)
        .map(|a| (a.tariff.amount, a.applied_on.clone()))
        .collect();
    assert_eq!(fall, [(chf("200"), vec![ymd(2023, 6, 30)]), (chf("210"), vec![ymd(2023, 12, 31)])]);
}

// --- Resubmissions: the latest by receipt, then by the date on the form, then by path ----

fn states(files: Vec<(&str, NaiveDate, NaiveDate)>) -> Vec<(String, FileState)> {
    let m = master();
    let results = files
        .into_iter()
        .map(|(rel, received, dated)| {
            check(vec![report(2601, "Solothurn", 1, &[("SI_DATUM", Value::Date(dated))])], rel, received)
        })
        .collect();
    let resolved = resolve(results, &Ctx { year: Y, master: &m });
    let mut out: Vec<(String, FileState)> =
        resolved.files.iter().map(|e| (e.result.file.rel.clone(), e.state)).collect();
    out.sort();
    out
}

#[test]
fn the_later_receipt_wins_whatever_the_path_and_the_form_date() {
    let (early, late) = (ymd(2023, 7, 10), ymd(2023, 7, 20));
    let s = states(vec![("a.xlsx", late, ymd(2023, 7, 1)), ("b.xlsx", early, ymd(2023, 7, 9))]);
    assert_eq!(s, [("a.xlsx".into(), FileState::Verarbeitet), ("b.xlsx".into(), FileState::Ersetzt)]);
    let s = states(vec![("a.xlsx", early, ymd(2023, 7, 9)), ("b.xlsx", late, ymd(2023, 7, 1))]);
    assert_eq!(s, [("a.xlsx".into(), FileState::Ersetzt), ("b.xlsx".into(), FileState::Verarbeitet)]);
}

#[test]
fn on_the_same_receipt_day_the_later_form_date_wins_then_the_later_path() {
    let day = ymd(2023, 7, 10);
    let s = states(vec![("a.xlsx", day, ymd(2023, 7, 9)), ("b.xlsx", day, ymd(2023, 7, 8))]);
    assert_eq!(s, [("a.xlsx".into(), FileState::Verarbeitet), ("b.xlsx".into(), FileState::Ersetzt)]);
    let s = states(vec![("a.xlsx", day, ymd(2023, 7, 8)), ("b.xlsx", day, ymd(2023, 7, 8))]);
    assert_eq!(s, [("a.xlsx".into(), FileState::Ersetzt), ("b.xlsx".into(), FileState::Verarbeitet)]);
}

// --- The 2018 template has no Integrationsgespräche (4.3.1: paid from 2022) ---------------

#[test]
fn a_2018_form_is_read_without_integration_conversations() {
    let v2018 = |ig: Value| {
        let overrides = [
            ("SI_VERSION", Value::Text("2018".into())),
            ("SI_IG_ANZAHL", ig.clone()),
            ("SI_IG_DOLMETSCH", ig),
            ("SI_MELDUNGEN", Value::Empty),
        ];
        check(vec![report(2601, "Solothurn", 1, &overrides)], "a.xlsx", JUL)
    };
    // Without the 2022 rows: no finding, the Erstinformation counted, nothing for IG.
    let r = v2018(Value::Empty);
    assert_eq!(codes(&r), Vec::<Code>::new());
    let s = share(&r, 2601);
    assert_eq!((s.paid.eg, s.paid.d_eg, s.paid.ig, s.paid.d_ig), (4, 2, 0, 0));
    // The same form as a 2022 form lacks its IG values: each is a finding.
    let r = check(
        vec![report(2601, "Solothurn", 1, &[("SI_IG_ANZAHL", Value::Empty), ("SI_IG_DOLMETSCH", Value::Empty)])],
        "a.xlsx",
        JUL,
    );
    assert!(!codes(&r).is_empty(), "a 2022 form must carry the IG rows");
}

#[test]
fn of_two_selbstdeklarationen_received_the_same_day_the_later_dated_one_counts() {
    let m = master();
    let day = ymd(2023, 1, 20);
    let sd_dated =
        |rel: &str, dated: NaiveDate| check(vec![sd(2601, "Solothurn", &[("SD_DATUM", Value::Date(dated))])], rel, day);
    let results = vec![sd_dated("a.xlsx", ymd(2023, 1, 12)), sd_dated("b.xlsx", ymd(2023, 1, 11))];
    let resolved = resolve(results, &Ctx { year: Y, master: &m });
    let mut s: Vec<(String, FileState)> =
        resolved.files.iter().map(|e| (e.result.rel().to_string(), e.state)).collect();
    s.sort();
    assert_eq!(s, [("a.xlsx".into(), FileState::Verarbeitet), ("b.xlsx".into(), FileState::Ersetzt)]);
}

// --- BERICHT_FEHLT: only for who reports itself ------------------------------------------

#[test]
fn a_contract_member_with_its_own_selbstdeklaration_is_not_asked_for_a_report() {
    // 2603 is a member of 2602's contract; the lead reports both half-years for both.
    let jan = ymd(2023, 1, 20);
    let table_rows = table(&[(2602, "Lead", 2, 1, 0, 0), (2603, "Member", 2, 1, 0, 0)]);
    let lead_report = |half: i64, received: NaiveDate, rel: &str| {
        let overrides = [
            ("SI_EG_ANZAHL", Value::Int(4)),
            ("SI_EG_DOLMETSCH", Value::Int(2)),
            ("SI_IG_ANZAHL", Value::Int(0)),
            ("SI_IG_DOLMETSCH", Value::Int(0)),
        ];
        check(vec![report(2602, "Lead", half, &overrides), table_rows.clone()], rel, received)
    };
    let results = vec![
        check(vec![sd(2602, "Lead", &[])], "lead_sd.xlsx", jan),
        check(vec![sd(2603, "Member", &[])], "member_sd.xlsx", jan),
        lead_report(1, JUL, "lead_h1.xlsx"),
        lead_report(2, JAN, "lead_h2.xlsx"),
    ];
    let m = master();
    let resolved = resolve(results, &Ctx { year: Y, master: &m });
    let missing: Vec<Option<Bfs>> =
        resolved.municipality_findings.iter().filter(|f| f.code == Code::BerichtFehlt).map(|f| f.bfs).collect();
    assert!(!missing.contains(&Some(2603)), "the member reports through its lead: {missing:?}");
    assert!(!missing.contains(&Some(2602)), "{missing:?}");
    // Without the lead's second report, the lead is asked for it, the member still not.
    let results = vec![
        check(vec![sd(2602, "Lead", &[])], "lead_sd.xlsx", jan),
        check(vec![sd(2603, "Member", &[])], "member_sd.xlsx", jan),
        lead_report(1, JUL, "lead_h1.xlsx"),
    ];
    let resolved = resolve(results, &Ctx { year: Y, master: &m });
    let missing: Vec<Option<Bfs>> =
        resolved.municipality_findings.iter().filter(|f| f.code == Code::BerichtFehlt).map(|f| f.bfs).collect();
    assert_eq!(missing, [Some(2602)]);
}

#[test]
fn a_leads_report_without_the_members_table_names_each_member_not_the_lead() {
    let r = check(vec![report(2602, "Lead", 1, &[])], "lead_h1.xlsx", JUL);
    let about: Vec<Option<Bfs>> =
        r.findings.iter().filter(|f| f.code == Code::LeitMitgliedFehlt).map(|f| f.bfs).collect();
    assert_eq!(about, [Some(2603)]);
}

#[test]
fn a_members_row_is_implausible_from_one_over_its_foreign_residents() {
    // 2603 has 100 foreign residents (Stichtag 31.12.2021).
    let unplausibel_at = |n: i64| {
        let rows = table(&[(2602, "Lead", 0, 0, 0, 0), (2603, "Member", n, 0, 0, 0)]);
        let overrides = [
            ("SI_EG_ANZAHL", Value::Int(n)),
            ("SI_EG_DOLMETSCH", Value::Int(0)),
            ("SI_EG_PERSONEN", Value::Int(n)),
            ("SI_NEUZUZUEGE", Value::Int(n)),
            ("SI_IG_ANZAHL", Value::Int(0)),
            ("SI_IG_DOLMETSCH", Value::Int(0)),
        ];
        let r = check(vec![report(2602, "Lead", 1, &overrides), rows], "lead_h1.xlsx", JUL);
        r.findings
            .iter()
            .filter(|f| f.code == Code::WertUnplausibel && f.sheet() == Some("Vertragsgemeinden"))
            .map(|f| f.cell())
            .collect::<Vec<_>>()
    };
    assert_eq!(unplausibel_at(100), Vec::<Option<String>>::new());
    assert_eq!(unplausibel_at(101), [Some("C3".to_string())]);
}
