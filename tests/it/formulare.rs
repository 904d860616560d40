//! `beitraege formulare`: the templates, their protection and validation, the round trip
//! through outside programs, and a snapshot of one template's content.
//!
//! The round-trip fixtures in tests/fixtures/roundtrip/ were made once: templates from
//! `formulare`, filled by openpyxl (fill.py) into inbox/ and re-saved by LibreOffice into
//! inbox_libreoffice/. The entered values live in values.json, read here and by fill.py.

use beitraege::domain::PaidCounts;
use beitraege::extract::{REPORTING_FIELDS, SD_FIELDS, TABLE_SHEET};
use beitraege::fields::{Common, FormField, TableColumn};
use beitraege::formulare::{self, plan, template, Planned, TemplateKind, IDENTITY_FIELDS};
use beitraege::run::{evaluate, Evaluation, EvaluationOptions};
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::{Outcome, ReportDoc};
use beitraege::values::{parse_bfs, parse_count, parse_date, parse_ja_nein, parse_whole, CountValue};
use beitraege::workbook::{read_workbook, Limits, Value, Workbook};
use beitraege::write::form_layout::{cell_kind, CellKind};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn master() -> Stammdaten {
    Stammdaten::load(&root().join("samples/2023/Stammdaten.xlsx")).expect("sample master data")
}

fn created() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 12, 1).unwrap()
}

fn planned(m: &Stammdaten, bfs: u32, kind: TemplateKind) -> Planned {
    plan(m, 2023).into_iter().find(|p| p.bfs == bfs && p.kind == kind).expect("planned template")
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut s = String::new();
    z.by_name(name).expect(name).read_to_string(&mut s).expect("utf-8");
    s
}

// ---------------------------------------------------------------------------
// Who gets which templates
// ---------------------------------------------------------------------------

#[test]
fn members_get_no_forms_and_leads_cover_their_contract() {
    let m = master();
    let p = plan(&m, 2023);
    let d = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap();
    let with_forms: BTreeSet<u32> = p.iter().map(|x| x.bfs).collect();
    let mut members = 0;
    for muni in m.municipalities_in(2023) {
        if m.is_member_not_lead(muni.bfs, d) {
            members += 1;
            assert!(!with_forms.contains(&muni.bfs), "contract member {} got its own forms", muni.bfs);
        } else if muni.exists_on(d) && muni.exists_on(NaiveDate::from_ymd_opt(2023, 6, 30).unwrap()) {
            let kinds: BTreeSet<TemplateKind> = p.iter().filter(|x| x.bfs == muni.bfs).map(|x| x.kind).collect();
            assert_eq!(
                kinds,
                BTreeSet::from([
                    TemplateKind::Reporting { half: 1 },
                    TemplateKind::Reporting { half: 2 },
                    TemplateKind::Selbstdeklaration
                ]),
                "{}",
                muni.bfs
            );
        }
    }
    assert!(members > 0, "the sample year has contract members");
    // A lead's Reporting covers exactly its contract's members, the lead first.
    for x in p.iter().filter(|x| matches!(x.kind, TemplateKind::Reporting { .. })) {
        let day = match x.kind {
            TemplateKind::Reporting { half: 1 } => NaiveDate::from_ymd_opt(2023, 6, 30).unwrap(),
            _ => d,
        };
        let expected = m.members_of(x.bfs, day);
        match &x.contract {
            Some((_, list)) => {
                assert_eq!(list[0].0, x.bfs);
                assert_eq!(list.iter().map(|(b, _)| *b).collect::<BTreeSet<_>>(), expected);
            }
            None => assert!(expected.is_empty()),
        }
    }
    // File names carry BFS-Nr., name, year and period, and are unique.
    let names: BTreeSet<&str> = p.iter().map(|x| x.rel.as_str()).collect();
    assert_eq!(names.len(), p.len());
    for x in &p {
        assert!(x.rel.starts_with(&format!("{}_", x.bfs)), "{}", x.rel);
        assert!(x.rel.contains("2023"), "{}", x.rel);
        if let TemplateKind::Reporting { half } = x.kind {
            assert!(x.rel.ends_with(&format!("_H{half}.xlsx")), "{}", x.rel);
        }
    }
}

// ---------------------------------------------------------------------------
// Layout, protection and validation
// ---------------------------------------------------------------------------

fn read(bytes: &[u8]) -> Workbook {
    read_workbook(bytes, &Limits::default()).expect("readable template")
}

#[test]
fn template_layout_is_the_2022_form_with_prefilled_identity() {
    let m = master();
    for (bfs, kind) in [
        (2422, TemplateKind::Reporting { half: 1 }),
        (2401, TemplateKind::Reporting { half: 2 }),
        (2401, TemplateKind::Selbstdeklaration),
    ] {
        let p = planned(&m, bfs, kind);
        let file = template(&p, created()).unwrap();
        let wb = read(&file.bytes);
        let (sheet, fields) = match kind {
            TemplateKind::Reporting { .. } => ("Reporting", REPORTING_FIELDS),
            TemplateKind::Selbstdeklaration => ("Selbstdeklaration", SD_FIELDS),
        };
        assert_eq!(wb.sheets[0].name, sheet);
        let s = &wb.sheets[0];
        for f in fields {
            assert_eq!(s.get(f.row - 1, 0), &Value::Text(f.label.to_string()), "label of {}", f.name);
            let n = wb.names.iter().find(|n| n.name == f.name).unwrap_or_else(|| panic!("defined name {}", f.name));
            assert_eq!((n.sheet.as_str(), n.row, n.col), (sheet, f.row - 1, 1), "{}", f.name);
        }
        // Column A holds nothing but the title, the labels and the section headings.
        let col_a: Vec<u32> = s.column(0).map(|(r, _)| r + 1).collect();
        let mut expected: Vec<u32> = fields.iter().map(|f| f.row).collect();
        expected.push(1);
        if sheet == "Reporting" {
            expected.extend(beitraege::extract::REPORTING_HEADINGS.iter().map(|(_, r)| *r));
        }
        expected.sort_unstable();
        assert_eq!(col_a, expected);
        // Prefilled identity, read back through the real extractor.
        let form = beitraege::extract::extract(&wb).expect("recognised as a form");
        let field = |c: Common| form.field(c.of(form.kind));
        assert_eq!(parse_bfs(&field(Common::BfsNr).value), Some(bfs));
        assert_eq!(parse_whole(&field(Common::Jahr).value), Some(2023));
        assert_eq!(parse_whole(&field(Common::Version).value), Some(2022));
        assert_eq!(field(Common::Gemeinde).value.text(), m.municipality(bfs).unwrap().name);
        if let TemplateKind::Reporting { half } = kind {
            assert_eq!(parse_whole(&form.field(FormField::SiHalbjahr).value), Some(half as i64));
        }
        // The lead's report has the members' sheet, prefilled from the master data.
        if let (TemplateKind::Reporting { .. }, Some((_, members))) = (kind, &p.contract) {
            let t = form.table.as_ref().expect("Vertragsgemeinden sheet");
            assert_eq!(t.sheet, TABLE_SHEET);
            let got: Vec<u32> = t.rows.iter().map(|r| parse_bfs(&r.get(TableColumn::Bfs).value).unwrap()).collect();
            assert_eq!(got, members.iter().map(|(b, _)| *b).collect::<Vec<_>>());
        } else {
            assert!(wb.sheets.iter().all(|s| s.name != TABLE_SHEET));
        }
    }
}

/// The style index of a cell in a sheet's XML, and whether that style is unlocked.
fn unlocked(sheet_xml: &str, styles_xml: &str, cell: &str) -> bool {
    let tag = format!("<c r=\"{cell}\"");
    let at = sheet_xml.find(&tag).unwrap_or_else(|| panic!("cell {cell} written"));
    let rest = &sheet_xml[at..];
    let end = rest.find('>').unwrap();
    let s: usize =
        rest[..end].split(" s=\"").nth(1).map(|x| x.split('"').next().unwrap().parse().unwrap()).unwrap_or(0);
    let xfs = styles_xml.split("<cellXfs").nth(1).unwrap().split("</cellXfs>").next().unwrap();
    let xf = xfs.split("<xf ").nth(s + 1).unwrap_or_else(|| panic!("style {s}"));
    let xf = xf.split("</xf>").next().unwrap();
    xf.contains("locked=\"0\"")
}

/// The data validation covering a cell (listed by itself in `sqref`), as XML text.
fn dv_for<'a>(sheet_xml: &'a str, cell: &str) -> Option<&'a str> {
    sheet_xml.split("<dataValidation ").skip(1).find(|d| {
        d.split("sqref=\"").nth(1).is_some_and(|s| s.split('"').next().unwrap().split(' ').any(|r| r == cell))
    })
}

#[test]
fn template_sheets_are_protected_with_unlocked_validated_inputs() {
    let m = master();
    let p = planned(&m, 2422, TemplateKind::Reporting { half: 1 });
    let bytes = template(&p, created()).unwrap().bytes;
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    let table = zip_entry(&bytes, "xl/worksheets/sheet2.xml");
    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(sheet.contains("<sheetProtection"), "main sheet protected");
    assert!(table.contains("<sheetProtection"), "members sheet protected");
    for f in REPORTING_FIELDS {
        let cell = format!("B{}", f.row);
        let is_identity = IDENTITY_FIELDS.contains(&f.field);
        assert_eq!(unlocked(&sheet, &styles, &cell), !is_identity, "{} ({cell}) unlocked", f.name);
        let kind = cell_kind(f.field);
        let dv = dv_for(&sheet, &cell);
        match (kind, is_identity) {
            (_, true) | (CellKind::Text, _) => assert!(dv.is_none(), "{} has no validation", f.name),
            (CellKind::Count, _) => {
                let dv = dv.unwrap_or_else(|| panic!("{} validated", f.name));
                assert!(dv.starts_with("type=\"whole\""), "{}: {dv}", f.name);
                assert!(dv.contains("operator=\"greaterThanOrEqual\""));
                assert!(dv.contains("<formula1>0</formula1>"));
                assert!(dv.contains("errorTitle=") && dv.contains("promptTitle="), "German messages");
            }
            (CellKind::Date, _) => assert!(dv.unwrap().starts_with("type=\"date\""), "{}", f.name),
            (CellKind::JaNein, _) => unreachable!(),
        }
    }
    // The members sheet: BFS-Nr. and name locked, counts unlocked and whole-number validated.
    assert!(!unlocked(&table, &styles, "A2"));
    assert!(!unlocked(&table, &styles, "B2"));
    for c in ["C2", "D2", "E2", "F2"] {
        assert!(unlocked(&table, &styles, c), "{c}");
    }
    assert!(table.contains("<dataValidation type=\"whole\""));

    // Selbstdeklaration: a Ja/Nein list on the questions, a date on the date cell.
    let sd = template(&planned(&m, 2401, TemplateKind::Selbstdeklaration), created()).unwrap().bytes;
    let xml = zip_entry(&sd, "xl/worksheets/sheet1.xml");
    assert!(xml.contains("<sheetProtection"));
    for f in SD_FIELDS.iter().filter(|f| f.field.is_question()) {
        let dv = dv_for(&xml, &format!("B{}", f.row)).unwrap_or_else(|| panic!("{} validated", f.name));
        assert!(dv.starts_with("type=\"list\""), "{}: {dv}", f.name);
        assert!(dv.contains("<formula1>\"Ja,Nein\"</formula1>"), "{dv}");
    }
    assert!(xml.contains("<dataValidation type=\"date\""));
}

#[test]
fn committed_templates_match_what_formulare_writes() {
    // The round-trip fixtures must stay in step with the generator: same cell content.
    let m = master();
    let values = values_json();
    for spec in values["files"].as_array().unwrap() {
        let name = spec["template"].as_str().unwrap();
        let p = plan(&m, 2023).into_iter().find(|p| p.rel == name).expect("fixture is a planned template");
        let fresh = read(&template(&p, created()).unwrap().bytes);
        let committed = read(&std::fs::read(root().join("tests/fixtures/roundtrip/templates").join(name)).unwrap());
        assert_eq!(dump(&fresh), dump(&committed), "{name}: regenerate the fixtures (see fill.py)");
    }
}

// ---------------------------------------------------------------------------
// Round trip: filled by openpyxl and LibreOffice, read by `run`
// ---------------------------------------------------------------------------

fn values_json() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/roundtrip/values.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn evaluate_inbox(inbox: &Path) -> Evaluation {
    let out = tempfile::tempdir().unwrap();
    let opts = EvaluationOptions {
        year: 2023,
        inbox: inbox.to_path_buf(),
        stammdaten: root().join("samples/2023/Stammdaten.xlsx"),
        out: out.path().to_path_buf(),
        threads: Some(1),
        limits: Limits::default(),
        run_date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: None,
        progress: None,
        force: false,
        received_by: None,
        buchhaltung: None,
    };
    evaluate(&opts).expect("evaluation")
}

fn stem(p: &str) -> &str {
    p.rsplit_once('.').map_or(p, |(s, _)| s)
}

fn check_round_trip(inbox: &str) {
    let values = values_json();
    let eval = evaluate_inbox(&root().join("tests/fixtures/roundtrip").join(inbox));
    let files = values["files"].as_array().unwrap();
    assert_eq!(eval.resolved.files.len(), files.len(), "every filled form is one inbox file");
    let mut reporters = BTreeSet::new();
    for spec in files {
        let name = stem(spec["template"].as_str().unwrap());
        let e =
            eval.resolved.files.iter().find(|e| stem(&e.result.file.rel) == name).unwrap_or_else(|| panic!("{name}"));
        let codes: Vec<&str> = e.result.findings.iter().map(|f| f.code.as_str()).collect();
        let expected: Vec<&str> =
            spec["expected_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(codes, expected, "{inbox}/{name}: findings");
        assert_eq!(e.state, beitraege::domain::FileState::Verarbeitet, "{name}");
        let form = e.result.submitted.as_ref().expect("recognised");
        // Exactly the values entered.
        for (key, v) in spec["cells"].as_object().unwrap() {
            let field = FormField::parse(key).unwrap_or_else(|| panic!("{name}: {key} is no field"));
            let got = &form.field(field).value;
            match cell_kind(field) {
                CellKind::Count => {
                    assert_eq!(parse_count(got), CountValue::Number(v.as_u64().unwrap()), "{name} {key}: {got:?}")
                }
                CellKind::Date => {
                    assert!(matches!(got, Value::Date(_)), "{name} {key} is a date: {got:?}");
                    let want = NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap();
                    assert_eq!(parse_date(got), Some(want), "{name} {key}");
                }
                CellKind::JaNein => {
                    assert_eq!(parse_ja_nein(got), Some(v.as_str().unwrap() == "Ja"), "{name} {key}")
                }
                CellKind::Text => assert_eq!(*got, Value::Text(v.as_str().unwrap().to_string()), "{name} {key}"),
            }
        }
        let bfs = parse_bfs(&form.field(Common::BfsNr.of(form.kind)).value).unwrap();
        reporters.insert(bfs);
        // The Vertragsgemeinden split, as entered, becomes each member's share.
        if let Some(rows) = spec.get("table").and_then(|t| t.as_array()) {
            let Outcome::Report(doc) = &e.result.outcome else { panic!("{name} is a report") };
            let doc: &ReportDoc = doc;
            let table = form.table.as_ref().expect("table");
            assert_eq!(table.rows.len(), rows.len());
            for (row, counts) in table.rows.iter().zip(rows) {
                let member = parse_bfs(&row.get(TableColumn::Bfs).value).unwrap();
                let c: Vec<u64> = counts.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
                let want = PaidCounts { eg: c[0], d_eg: c[1], ig: c[2], d_ig: c[3] };
                assert_eq!(doc.shares[&member].reported, want, "{name}: share of {member}");
                assert_eq!(doc.shares[&member].paid, want, "{name}: paid to {member}");
            }
        }
    }
    // No finding about these municipalities or their contract members as a whole: every
    // report and Selbstdeklaration arrived and was read.
    let d = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap();
    let mut area: BTreeSet<u32> = reporters.clone();
    for r in &reporters {
        area.extend(eval.master.members_of(*r, d));
    }
    let about: Vec<String> = eval
        .resolved
        .municipality_findings
        .iter()
        .filter(|f| f.bfs.is_some_and(|b| area.contains(&b)))
        .map(|f| format!("{} {}", f.bfs.unwrap(), f.code.as_str()))
        .collect();
    assert!(about.is_empty(), "{inbox}: unexpected findings {about:?}");
    // The money follows from the values: Egerkingen's paid conversations are H1 + H2.
    let sum = |key: &str, prefix: &str| -> u64 {
        files
            .iter()
            .filter(|s| s["template"].as_str().unwrap().starts_with(prefix))
            .filter_map(|s| s["cells"].get(key).and_then(|v| v.as_u64()))
            .sum()
    };
    let row = eval.comp.rows.iter().find(|r| r.bfs == 2401).unwrap();
    assert_eq!(row.paid.eg, sum("SI_EG_ANZAHL", "2401_"));
    assert_eq!(row.paid.d_eg, sum("SI_EG_DOLMETSCH", "2401_"));
    assert_eq!(row.paid.ig, sum("SI_IG_ANZAHL", "2401_"));
    assert_eq!(row.paid.d_ig, sum("SI_IG_DOLMETSCH", "2401_"));
}

#[test]
fn round_trip_filled_by_openpyxl() {
    check_round_trip("inbox");
}

#[test]
fn round_trip_saved_by_libreoffice() {
    check_round_trip("inbox_libreoffice");
}

// ---------------------------------------------------------------------------
// Writing to disk, and the snapshot
// ---------------------------------------------------------------------------

#[test]
fn formulare_writes_every_planned_file() {
    let out = tempfile::tempdir().unwrap();
    let opts = formulare::FormulareOptions {
        year: 2023,
        stammdaten: root().join("samples/2023/Stammdaten.xlsx"),
        out: out.path().join("Formulare"),
        run_date: created(),
    };
    let report = formulare::run(&opts).unwrap();
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(&opts.out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let mut planned: BTreeSet<String> = report.planned.iter().map(|p| p.rel.clone()).collect();
    // The hidden list of what the program wrote, so that a later run replaces only that.
    planned.insert(beitraege::write::commit::OWNED_INDEX.to_string());
    assert_eq!(on_disk, planned, "exactly the planned files, no staging leftovers");
    let beside: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".beitraege-") && !n.ends_with(".sperre"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
    // Same inputs, same bytes.
    let again = formulare::render(&master(), 2023, created()).unwrap().1;
    let first = std::fs::read(opts.out.join(&again[0].rel)).unwrap();
    assert_eq!(first, again[0].bytes);
}

#[test]
fn missing_master_data_is_an_error_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let opts = formulare::FormulareOptions {
        year: 2023,
        stammdaten: out.path().join("fehlt.xlsx"),
        out: out.path().join("Formulare"),
        run_date: created(),
    };
    assert!(formulare::run(&opts).is_err());
    assert!(!opts.out.exists());
}

/// The content of a workbook as stable text: sheets, non-empty cells, defined names.
pub fn dump(wb: &Workbook) -> String {
    let mut s = String::new();
    for sheet in &wb.sheets {
        s.push_str(&format!("== {}\n", sheet.name));
        for ((r, c), v) in sheet.cells() {
            s.push_str(&format!("{}: {v:?}\n", beitraege::domain::a1(*r, *c)));
        }
    }
    let names: BTreeMap<&str, String> = wb
        .names
        .iter()
        .map(|n| (n.name.as_str(), format!("{}!{}", n.sheet, beitraege::domain::a1(n.row, n.col))))
        .collect();
    for (k, v) in names {
        s.push_str(&format!("name {k} = {v}\n"));
    }
    s
}

#[test]
fn snapshot_of_a_lead_template() {
    let m = master();
    let p = planned(&m, 2422, TemplateKind::Reporting { half: 1 });
    let wb = read(&template(&p, created()).unwrap().bytes);
    insta::assert_snapshot!("template_2422_reporting_h1", dump(&wb));
}
