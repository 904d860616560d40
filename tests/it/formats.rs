//! The same small form in xlsx, xlsb, xls and ods (tests/fixtures/form, written by openpyxl,
//! xlwt and odfpy; the xlsb by the test writer in tests/it/common/xlsb.rs, since LibreOffice
//! reads xlsb but cannot write it): every format must give the same values, positions and
//! findings.

use crate::common;
use crate::common::xlsb;

use beitraege::domain::{Code, Component};
use beitraege::extract::extract;
use beitraege::fields::FormField;
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

/// The rows of tests/fixtures/form/make_fixtures.py (`ROWS`), as an xlsb, with whole
/// numbers stored as Excel stores them (RK) and 3.5 as a double.
fn reporting_xlsb() -> Vec<u8> {
    use xlsb::Cell::{Num, Rk, Styled, Text};
    let rows: [(u32, &str, Option<xlsb::Cell>); 21] = [
        (1, "start.integration – Reportingformular", None),
        (2, "Formularversion", Some(Text("2022".into()))),
        (4, "Gemeinde", Some(Text("Solothurn".into()))),
        (5, "BFS-Nr.", Some(Rk(2601))),
        (6, "Berichtsjahr", Some(Rk(2023))),
        (7, "Halbjahr", Some(Text("2. Halbjahr".into()))),
        (8, "Integrationsbeauftragte/r", Some(Text("Anna Muster".into()))),
        (9, "E-Mail", Some(Text("integration@solothurn.example.ch".into()))),
        // 15.01.2024 (Excel serial 45306) in the custom format dd.mm.yyyy
        (10, "Eingereicht am", Some(Styled(45306.0, 1))),
        (12, "A. Erstinformation", None),
        (13, "Erstinformationsgespräche", Some(Text("1'200".into()))),
        (14, "Erstinformationsgespräche mit Dolmetschenden (HEKS Linguadukt)", Some(Rk(4))),
        (15, "Erstinformationsgespräche mit anderen Dolmetschenden", None),
        (16, "Informierte Personen", Some(Rk(1500))),
        (17, "Abgegebene Infomappen ohne Gespräch", Some(Rk(3))),
        (18, "Neuzugezogene aus dem Ausland", Some(Rk(2000))),
        (20, "B. Integrationsgespräche", None),
        (21, "Integrationsgespräche", Some(Num(3.5))),
        (22, "Integrationsgespräche mit Dolmetschenden (HEKS Linguadukt)", Some(Rk(1))),
        (23, "Meldungen an den Kanton", Some(Rk(0))),
        (25, "Bemerkungen", Some(Text("Fixture".into()))),
    ];
    let mut cells = Vec::new();
    for (r, label, value) in rows {
        cells.push((r - 1, 0, Text(label.into())));
        if let Some(v) = value {
            cells.push((r - 1, 1, v));
        }
    }
    xlsb::Book {
        sheets: vec![("Reporting".into(), cells)],
        names: vec![("SI_BFS_NR".into(), 0, 4, 1)],
        formats: vec!["dd.mm.yyyy".into()],
        ..Default::default()
    }
    .to_bytes()
}

/// The committed reporting.xlsb is what the writer writes (`BEITRAEGE_FIXTURES=schreiben`
/// rewrites it after a change).
#[test]
fn the_xlsb_fixture_is_the_writers() {
    let bytes = reporting_xlsb();
    if std::env::var("BEITRAEGE_FIXTURES").as_deref() == Ok("schreiben") {
        std::fs::write(fixture("xlsb"), &bytes).unwrap();
    }
    // Compared part by part, inflated: a new deflate implementation may pack differently.
    let parts = |zip: Vec<u8>| {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        (0..z.len())
            .map(|i| {
                let mut f = z.by_index(i).unwrap();
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut data).unwrap();
                (f.name().unwrap().to_string(), data)
            })
            .collect::<Vec<_>>()
    };
    assert!(parts(std::fs::read(fixture("xlsb")).unwrap()) == parts(bytes), "reporting.xlsb is out of date");
}

#[test]
fn the_fixture_reads_the_same_in_every_format() {
    let mut seen = Vec::new();
    for (ext, format) in [("xlsx", Format::Xlsx), ("xlsb", Format::Xlsb), ("xls", Format::Xls), ("ods", Format::Ods)] {
        let bytes = std::fs::read(fixture(ext)).unwrap();
        let wb = read_workbook(&bytes, &Limits::default()).unwrap();
        assert_eq!(wb.format, format, "recognised by content");
        let form = extract(&wb).unwrap();
        let f = |k: FormField| form.field(k);
        let summary = (
            f(FormField::SiVersion).value.text(),
            parse_bfs(&f(FormField::SiBfsNr).value),
            parse_half(&f(FormField::SiHalbjahr).value),
            parse_date(&f(FormField::SiDatum).value),
            parse_count(&f(FormField::SiEgAnzahl).value),
            parse_count(&f(FormField::SiEgDolmetsch).value),
            parse_count(&f(FormField::SiEgDolmetschAndere).value),
            parse_count(&f(FormField::SiIgAnzahl).value),
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
    for ext in ["xlsx", "xlsb", "xls", "ods"] {
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
        let found: Vec<(Code, Option<String>)> = r.findings.iter().map(|x| (x.code, x.cell())).collect();
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
        assert!(s.withheld.contains(&Component::FallIg) && s.withheld.contains(&Component::DolmetschIg));
    }
}

/// xlsb against xlsx, cell by cell: the same form gives the same cells, names and sheets.
#[test]
fn the_xlsb_fixture_reads_cell_by_cell_like_the_xlsx() {
    let read = |ext: &str| read_workbook(&std::fs::read(fixture(ext)).unwrap(), &Limits::default()).unwrap();
    let (a, b) = (read("xlsx"), read("xlsb"));
    assert_eq!(a.names, b.names);
    assert_eq!(a.sheets.len(), b.sheets.len());
    for (x, y) in a.sheets.iter().zip(&b.sheets) {
        assert_eq!((&x.name, x.visible), (&y.name, y.visible));
        assert_eq!(x.cells().collect::<Vec<_>>(), y.cells().collect::<Vec<_>>());
    }
}

fn process_named(name: &str, bytes: &[u8]) -> Vec<Code> {
    let master = Stammdaten::load(&common::sample().join("Stammdaten.xlsx")).unwrap();
    let ctx = Ctx { year: 2023, master: &master };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let f = InboxFile {
        rel: name.to_string(),
        size: bytes.len() as u64,
        path,
        kind: beitraege::scan::classify(name),
        received: NaiveDate::from_ymd_opt(2024, 1, 20),
        received_from: Some(ReceiptSource::Eingangsjournal),
    };
    process_file(&f, &ctx, &Limits::default()).findings.iter().map(|x| x.code).collect()
}

/// A form is read by its content whatever its name (RULES.md: DATEI_UNLESBAR for a
/// spreadsheet name with other content, DATEI_FORMAT for anything else).
#[test]
fn a_spreadsheet_is_read_whatever_its_name() {
    let fixture_findings = vec![Code::WertTextzahl, Code::WertLeer, Code::WertNichtGanzzahlig];
    for (name, ext) in
        [("Reporting.XLS ", "xls"), ("Reporting", "xlsx"), ("Reporting.dat", "ods"), ("Formular", "xlsb")]
    {
        let bytes = std::fs::read(fixture(ext)).unwrap();
        assert_eq!(process_named(name, &bytes), fixture_findings, "{name}");
    }
    // The xlsb extension is a spreadsheet name.
    assert_eq!(process_named("Reporting.xlsb", &std::fs::read(fixture("xlsb")).unwrap()), fixture_findings);
    // Not a spreadsheet: under a spreadsheet name unreadable, otherwise the wrong format.
    let pdf = b"%PDF-1.4 scan".to_vec();
    assert_eq!(process_named("Reporting.xlsx", &pdf), vec![Code::DateiUnlesbar]);
    assert_eq!(process_named("Reporting", &pdf), vec![Code::DateiFormat]);
    // A zip or compound file that is no workbook (a Word document, an Outlook message)
    // under another name is the wrong format, not an unreadable spreadsheet.
    let docx = {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        let rel = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;
        z.start_file("_rels/.rels", o).unwrap();
        std::io::Write::write_all(&mut z, rel.as_bytes()).unwrap();
        z.start_file("word/document.xml", o).unwrap();
        std::io::Write::write_all(&mut z, b"<w:document xmlns:w=\"x\"><w:body/></w:document>").unwrap();
        z.start_file("word/_rels/document.xml.rels", o).unwrap();
        std::io::Write::write_all(&mut z, b"<Relationships/>").unwrap();
        z.finish().unwrap();
        buf.into_inner()
    };
    assert_eq!(process_named("Brief.docx", &docx), vec![Code::DateiFormat]);
    assert_eq!(process_named("Brief.xlsx", &docx), vec![Code::DateiUnlesbar]);
    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.extend([0u8; 1024]);
    assert_eq!(process_named("Mail.msg", &cfb), vec![Code::DateiFormat]);
}
