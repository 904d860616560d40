//! Forms, master data and files built in memory for the rule tests (tests/it/codes.rs,
//! tests/it/boundaries.rs): a small master data set, clean forms with overrides, and the
//! `Vertragsgemeinden` table.

use beitraege::compute::compute;
use beitraege::domain::{ymd, Code};
use beitraege::extract::{extract, REPORTING_FIELDS, SD_FIELDS};
use beitraege::fields::TableColumn;
use beitraege::resolve::resolve;
use beitraege::scan::{EntryKind, InboxFile, ReceiptSource};
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::{validate_form, Ctx, FileResult, Outcome};
use beitraege::workbook::{Format, Sheet, Value, Workbook};
use chrono::NaiveDate;

pub const Y: i32 = 2023;
// 2601 Solothurn (alone), 2602 Lead (lead of V with 2603 Member), 2604 Alt (merged into 2601 in 2020),
// 2605 Klein (alone; population 5).
pub fn master() -> Stammdaten {
    master_with(&[])
}

/// The master data with extra `Leitgemeinden` rows (contract, lead, member, from, to).
pub fn master_with(extra: &[(&str, i64, i64, NaiveDate, NaiveDate)]) -> Stammdaten {
    master_from(extra, &default_tariffs())
}

/// A tariff row: (Leistung, Betrag CHF, Gültig ab, Gültig bis).
pub type TariffRow = (&'static str, i64, NaiveDate, Option<NaiveDate>);

/// The tariffs of the Kreisschreiben: CHF 200 per conversation, 160 per interpreter, 7 per
/// foreign resident.
pub fn default_tariffs() -> Vec<TariffRow> {
    vec![
        ("FALL_EG", 200, ymd(2017, 1, 1), None),
        ("DOLMETSCH_EG", 160, ymd(2018, 7, 1), None),
        ("SOCKEL", 7, ymd(2018, 1, 1), None),
        ("FALL_IG", 200, ymd(2022, 1, 1), None),
        ("DOLMETSCH_IG", 160, ymd(2022, 1, 1), None),
    ]
}

/// The master data with extra contract rows and the given tariffs.
pub fn master_from(extra: &[(&str, i64, i64, NaiveDate, NaiveDate)], tariffs: &[TariffRow]) -> Stammdaten {
    let spec = MasterSpec {
        contracts: extra.iter().map(|(c, l, m, f, t)| (c.to_string(), *l, *m, *f, Some(*t))).collect(),
        tariffs: tariffs.to_vec(),
        ..MasterSpec::default()
    };
    Stammdaten::from_sheets(&master_sheets(&spec)).expect("consistent master data")
}

/// An extra `Gemeinden` row: (BFS-Nr., name, Gültig ab, Gültig bis, Nachfolge BFS-Nr.).
pub type MunicipalityRow = (i64, String, Option<NaiveDate>, Option<NaiveDate>, Option<i64>);

/// A master data set to build: the five municipalities above plus what a test adds.
#[derive(Clone, Debug)]
pub struct MasterSpec {
    pub municipalities: Vec<MunicipalityRow>,
    /// `Wohnbevölkerung` rows: (BFS-Nr., Stichtag, foreign residents).
    pub population: Vec<(i64, NaiveDate, i64)>,
    /// Extra `Leitgemeinden` rows: (contract, lead, member, from, to).
    pub contracts: Vec<(String, i64, i64, NaiveDate, Option<NaiveDate>)>,
    pub tariffs: Vec<TariffRow>,
    /// `Kredit` rows: (year, CHF).
    pub credit: Vec<(i64, i64)>,
    /// `Rückforderungen` rows: (BFS-Nr., CHF, Verfügt am).
    pub clawbacks: Vec<(i64, i64, NaiveDate)>,
}

impl Default for MasterSpec {
    fn default() -> Self {
        MasterSpec {
            municipalities: vec![],
            population: vec![
                (2601, ymd(2021, 12, 31), 4000),
                (2602, ymd(2021, 12, 31), 300),
                (2603, ymd(2021, 12, 31), 100),
                (2605, ymd(2021, 12, 31), 5),
            ],
            contracts: vec![],
            tariffs: default_tariffs(),
            credit: vec![(2023, 1000)],
            clawbacks: vec![(2605, 100, ymd(2023, 5, 1))],
        }
    }
}

/// The sheets of the master data described by `spec`.
pub fn master_sheets(spec: &MasterSpec) -> Vec<Sheet> {
    fn s(name: &str, rows: Vec<Vec<Value>>) -> Sheet {
        let mut sh = Sheet::new(name);
        for (r, row) in rows.into_iter().enumerate() {
            for (c, v) in row.into_iter().enumerate() {
                sh.set(r as u32, c as u32, v);
            }
        }
        sh
    }
    let t = |x: &str| Value::Text(x.into());
    let i = |n: i64| Value::Int(n);
    let d = |y, m, dd| Value::Date(ymd(y, m, dd));
    let od = |x: Option<NaiveDate>| x.map_or(Value::Empty, Value::Date);
    let e = Value::Empty;
    vec![
        s(
            "Gemeinden",
            vec![
                vec![t("BFS-Nr."), t("Gemeinde"), t("Bezirk"), t("Gültig ab"), t("Gültig bis"), t("Nachfolge BFS-Nr.")],
                vec![i(2601), t("Solothurn"), t("Solothurn"), e.clone(), e.clone(), e.clone()],
                vec![i(2602), t("Lead"), t("X"), e.clone(), e.clone(), e.clone()],
                vec![i(2603), t("Member"), t("X"), e.clone(), e.clone(), e.clone()],
                vec![i(2604), t("Alt"), t("X"), e.clone(), d(2020, 12, 31), i(2601)],
                vec![i(2605), t("Klein"), t("X"), e.clone(), e.clone(), e.clone()],
            ]
            .into_iter()
            .chain(spec.municipalities.iter().map(|(b, name, from, to, succ)| {
                vec![i(*b), t(name), t("X"), od(*from), od(*to), succ.map_or(Value::Empty, i)]
            }))
            .collect(),
        ),
        s(
            "Wohnbevölkerung",
            vec![vec![t("BFS-Nr."), t("Stichtag"), t("Ausländische Wohnbevölkerung"), t("Quelle")]]
                .into_iter()
                .chain(spec.population.iter().map(|(b, day, n)| vec![i(*b), Value::Date(*day), i(*n), e.clone()]))
                .collect(),
        ),
        s(
            "Leitgemeinden",
            vec![
                vec![t("Vertrag"), t("Leitgemeinde BFS-Nr."), t("Mitglied BFS-Nr."), t("Gültig ab"), t("Gültig bis")],
                vec![t("V"), i(2602), i(2602), d(2019, 1, 1), e.clone()],
                vec![t("V"), i(2602), i(2603), d(2019, 1, 1), e.clone()],
            ]
            .into_iter()
            .chain(
                spec.contracts
                    .iter()
                    .map(|(c, lead, member, from, to)| vec![t(c), i(*lead), i(*member), Value::Date(*from), od(*to)]),
            )
            .collect(),
        ),
        s(
            "Tarife",
            vec![vec![t("Leistung"), t("Betrag CHF"), t("Gültig ab"), t("Gültig bis")]]
                .into_iter()
                .chain(
                    spec.tariffs
                        .iter()
                        .map(|(code, amount, from, to)| vec![t(code), i(*amount), Value::Date(*from), od(*to)]),
                )
                .collect(),
        ),
        s(
            "Kredit",
            vec![vec![t("Jahr"), t("Kredit CHF")]]
                .into_iter()
                .chain(spec.credit.iter().map(|(y, chf)| vec![i(*y), i(*chf)]))
                .collect(),
        ),
        s(
            "Rückforderungen",
            vec![vec![t("BFS-Nr."), t("Betrag CHF"), t("Grund"), t("Verfügt am")]]
                .into_iter()
                .chain(spec.clawbacks.iter().map(|(b, chf, day)| vec![i(*b), i(*chf), t("Test"), Value::Date(*day)]))
                .collect(),
        ),
    ]
}

/// A clean Reportingformular (version 2022) for `bfs`, period (2023, half), with overrides.
pub fn report(bfs: i64, name: &str, half: i64, overrides: &[(&str, Value)]) -> Sheet {
    let values: Vec<(&str, Value)> = vec![
        ("SI_VERSION", Value::Text("2022".into())),
        ("SI_GEMEINDE", Value::Text(name.into())),
        ("SI_BFS_NR", Value::Int(bfs)),
        ("SI_JAHR", Value::Int(Y as i64)),
        ("SI_HALBJAHR", Value::Int(half)),
        ("SI_BEAUFTRAGTE", Value::Text("Anna".into())),
        ("SI_DATUM", Value::Date(ymd(2023, 7, 10))),
        ("SI_EG_ANZAHL", Value::Int(4)),
        ("SI_EG_DOLMETSCH", Value::Int(2)),
        ("SI_EG_DOLMETSCH_ANDERE", Value::Int(0)),
        ("SI_EG_PERSONEN", Value::Int(6)),
        ("SI_INFOMAPPEN", Value::Int(1)),
        ("SI_NEUZUZUEGE", Value::Int(9)),
        ("SI_IG_ANZAHL", Value::Int(1)),
        ("SI_IG_DOLMETSCH", Value::Int(1)),
        ("SI_MELDUNGEN", Value::Int(0)),
    ];
    form_sheet("Reporting", REPORTING_FIELDS, values, overrides)
}

pub fn sd(bfs: i64, name: &str, overrides: &[(&str, Value)]) -> Sheet {
    let ja = || Value::Text("Ja".into());
    let values: Vec<(&str, Value)> = vec![
        ("SD_VERSION", Value::Int(2022)),
        ("SD_GEMEINDE", Value::Text(name.into())),
        ("SD_BFS_NR", Value::Int(bfs)),
        ("SD_JAHR", Value::Int(Y as i64)),
        ("SD_BEAUFTRAGTE", Value::Text("Anna".into())),
        ("SD_Q_ORGANISATION", ja()),
        ("SD_Q_ANLAUFSTELLE", ja()),
        ("SD_Q_ERSTINFO", ja()),
        ("SD_Q_ANGEBOTE", ja()),
        ("SD_Q_INTEGRATIONSGESPRAECHE", ja()),
        ("SD_Q_VERNETZUNG", ja()),
        ("SD_DATUM", Value::Date(ymd(2023, 1, 10))),
    ];
    form_sheet("Selbstdeklaration", SD_FIELDS, values, overrides)
}

/// Lays out a form in template rows: labels in column A, the values (defaults replaced by
/// `overrides`) in column B.
pub fn form_sheet<'a>(
    name: &str,
    fields: &[beitraege::extract::FieldSpec],
    mut values: Vec<(&'a str, Value)>,
    overrides: &[(&'a str, Value)],
) -> Sheet {
    let mut sh = Sheet::new(name);
    for (k, v) in overrides {
        match values.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => values.push((k, v.clone())),
        }
    }
    for spec in fields {
        sh.set(spec.row - 1, 0, Value::Text(spec.label.into()));
        if let Some((_, v)) = values.iter().find(|(k, _)| *k == spec.name) {
            sh.set(spec.row - 1, 1, v.clone());
        }
    }
    sh
}

/// The `Vertragsgemeinden` sheet: rows of (bfs, name, eg, d_eg, ig, d_ig).
pub fn table(rows: &[(i64, &str, i64, i64, i64, i64)]) -> Sheet {
    let mut sh = Sheet::new("Vertragsgemeinden");
    for (c, h) in TableColumn::ALL.map(TableColumn::header).iter().enumerate() {
        sh.set(0, c as u32, Value::Text((*h).into()));
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sh.set(r, 0, Value::Int(row.0));
        sh.set(r, 1, Value::Text(row.1.into()));
        for (c, v) in [row.2, row.3, row.4, row.5].into_iter().enumerate() {
            sh.set(r, 2 + c as u32, Value::Int(v));
        }
    }
    sh
}

pub fn file(rel: &str, received: NaiveDate) -> InboxFile {
    InboxFile {
        rel: rel.into(),
        path: rel.into(),
        kind: EntryKind::Spreadsheet,
        size: 1,
        received: Some(received),
        received_from: Some(ReceiptSource::Eingangsjournal),
    }
}

pub fn check(sheets: Vec<Sheet>, rel: &str, received: NaiveDate) -> FileResult {
    let m = master();
    let ctx = Ctx { year: Y, master: &m };
    let wb = Workbook { format: Format::Xlsx, sheets, names: vec![] };
    let form = extract(&wb).expect("a form");
    let mut r = validate_form(FileResult::new(&file(rel, received)), form, &ctx);
    r.file.sha256 = Some(format!("hash-{rel}"));
    r
}

pub fn codes(r: &FileResult) -> Vec<Code> {
    r.findings.iter().map(|f| f.code).collect()
}

pub fn at(r: &FileResult, code: Code) -> (Option<String>, Option<String>) {
    let f = r.findings.iter().find(|f| f.code == code).unwrap_or_else(|| panic!("{code} missing in {:?}", codes(r)));
    (f.sheet().map(str::to_string), f.cell())
}

pub fn share(r: &FileResult, bfs: u32) -> beitraege::validate::Share {
    match &r.outcome {
        Outcome::Report(d) => d.shares.get(&bfs).cloned().unwrap_or_default(),
        o => panic!("not a report: {o:?}"),
    }
}

pub const JAN: NaiveDate = match NaiveDate::from_ymd_opt(2024, 1, 10) {
    Some(d) => d,
    None => panic!(),
};
pub const JUL: NaiveDate = match NaiveDate::from_ymd_opt(2023, 7, 20) {
    Some(d) => d,
    None => panic!(),
};

/// Runs resolve + compute over in-memory results.
pub fn resolve_all(results: Vec<FileResult>) -> (beitraege::resolve::Resolved, beitraege::compute::Computation) {
    let m = master();
    let ctx = Ctx { year: Y, master: &m };
    let resolved = resolve(results, &ctx);
    let comp = compute(&m, &resolved, Y);
    (resolved, comp)
}

pub fn row(c: &beitraege::compute::Computation, b: u32) -> &beitraege::compute::AnnexRow {
    c.rows.iter().find(|r| r.bfs == b).unwrap()
}
