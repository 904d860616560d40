//! The same small form in xlsx, xls and ods (tests/fixtures/form, written by openpyxl, xlwt
//! and odfpy): every format must give the same values, positions and findings.

mod common;

use beitraege::domain::{Code, TariffCode};
use beitraege::extract::extract;
use beitraege::run::process_file;
use beitraege::scan::{EntryKind, InboxFile, ReceiptSource};
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::{Ctx, Outcome};
use beitraege::values::{parse_bfs, parse_count, parse_date, parse_half, CountValue};
use beitraege::workbook::{read_workbook, Format, Limits};
use chrono::NaiveDate;

fn fixture(ext: &str) -> std::path::PathBuf {
    common::root().join("tests/fixtures/form").join(format!("reporting.{ext}"))
}

#[test]
fn the_fixture_reads_the_same_in_every_format() {
    let mut seen = Vec::new();
    for (ext, format) in [("xlsx", Format::Xlsx), ("xls", Format::Xls), ("ods", Format::Ods)] {
        let bytes = std::fs::read(fixture(ext)).unwrap();
        let wb = read_workbook(&bytes, &Limits::default()).unwrap();
        assert_eq!(wb.format, format, "recognised by content");
        let form = extract(&wb).unwrap();
        let f = |k: &str| form.field(k);
        let summary = (
            f("SI_VERSION").value.text(),
            parse_bfs(&f("SI_BFS_NR").value),
            parse_half(&f("SI_HALBJAHR").value),
            parse_date(&f("SI_DATUM").value),
            parse_count(&f("SI_EG_ANZAHL").value),
            parse_count(&f("SI_EG_DOLMETSCH").value),
            parse_count(&f("SI_EG_DOLMETSCH_ANDERE").value),
            parse_count(&f("SI_IG_ANZAHL").value),
            form.fields.iter().map(|(k, v)| (*k, v.pos.as_ref().map(|p| p.a1()))).collect::<Vec<_>>(),
        );
        assert_eq!(summary.0, "2022");
        assert_eq!(summary.1, Some(2601));
        assert_eq!(summary.2, Some(2));
        assert_eq!(summary.3, NaiveDate::from_ymd_opt(2024, 1, 15));
        assert_eq!(summary.4, CountValue::TextNumber(1200));
        assert_eq!(summary.5, CountValue::Number(4));
        assert_eq!(summary.6, CountValue::Blank);
        assert_eq!(summary.7, CountValue::Fraction);
        seen.push(summary);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "formats differ: {seen:#?}");
}

#[test]
fn the_fixture_gives_the_same_findings_in_every_format() {
    let master = Stammdaten::load(&common::sample().join("Stammdaten.xlsx")).unwrap();
    let ctx = Ctx { year: 2023, master: &master };
    for ext in ["xlsx", "xls", "ods"] {
        let path = fixture(ext);
        let f = InboxFile {
            rel: format!("reporting.{ext}"),
            size: std::fs::metadata(&path).unwrap().len(),
            path,
            kind: EntryKind::Spreadsheet,
            received: NaiveDate::from_ymd_opt(2024, 1, 20),
            received_from: Some(ReceiptSource::Eingangsjournal),
        };
        let r = process_file(&f, &ctx, &Limits::default());
        let found: Vec<(Code, Option<String>)> = r.findings.iter().map(|x| (x.code, x.cell.clone())).collect();
        assert_eq!(
            found,
            vec![
                (Code::WertTextzahl, Some("B13".into())),
                (Code::WertLeer, Some("B15".into())),
                (Code::WertNichtGanzzahlig, Some("B21".into())),
            ],
            "{ext}"
        );
        let Outcome::Report(doc) = &r.outcome else { panic!("{ext}: {:?}", r.outcome) };
        let s = &doc.shares[&2601];
        assert_eq!((s.paid.eg, s.paid.d_eg, s.paid.ig, s.paid.d_ig), (1200, 4, 0, 0), "{ext}");
        assert!(s.withheld.contains(&TariffCode::FallIg) && s.withheld.contains(&TariffCode::DolmetschIg));
    }
}
