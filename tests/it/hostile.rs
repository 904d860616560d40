//! Hostile input: every kind of file that could make a run allocate without limit, crash or
//! lose its outputs. Each test builds its files itself. No timed assertions.

use crate::common;

use beitraege::domain::FileState;
use beitraege::extract::{extract, REPORTING_FIELDS};
use beitraege::fields::FormField;
use beitraege::run::{evaluate, EvaluationOptions};
use beitraege::workbook::{read_workbook, Limits, ReadError, Value};
use chrono::NaiveDate;
use std::io::Write;
use std::path::{Path, PathBuf};

const BFS: u32 = 2401; // Egerkingen, in the sample master data

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Reportingformular 2023/1 of Egerkingen with 7 Erstinformationsgespräche, as xlsx;
/// `stray` adds one far-away cell (XFD1048576) so the used range is a million by 16,384.
fn form_xlsx(stray: bool) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Reporting").unwrap();
    for f in REPORTING_FIELDS {
        ws.write_string(f.row - 1, 0, f.label).unwrap();
        let v: Option<f64> = match f.name {
            "SI_VERSION" => Some(2022.0),
            "SI_BFS_NR" => Some(BFS as f64),
            "SI_JAHR" => Some(2023.0),
            "SI_HALBJAHR" => Some(1.0),
            "SI_EG_ANZAHL" => Some(7.0),
            k if k.starts_with("SI_EG") || k.starts_with("SI_IG") || k == "SI_NEUZUZUEGE" => Some(7.0),
            _ => None,
        };
        if let Some(v) = v {
            ws.write_number(f.row - 1, 1, v).unwrap();
        }
    }
    ws.write_string(4 - 1, 1, "Egerkingen").unwrap();
    if stray {
        ws.write_string(1_048_575, 16_383, "x").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// An ods with the given `<table:table>` body.
fn ods_of(table: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Reporting">{table}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#;
    common::zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

fn ods_row(label: &str, value: Option<f64>) -> String {
    let v = match value {
        Some(n) => format!(
            r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
        ),
        None => String::new(),
    };
    format!(
        r#"<table:table-row><table:table-cell office:value-type="string"><text:p>{label}</text:p></table:table-cell>{v}</table:table-row>"#
    )
}

/// The form as ods rows, rows 1..=25 of the template.
fn ods_form_rows() -> String {
    let mut rows = String::new();
    for r in 1..=25u32 {
        match REPORTING_FIELDS.iter().find(|f| f.row == r) {
            Some(f) => {
                let v = match f.name {
                    "SI_VERSION" => Some(2022.0),
                    "SI_BFS_NR" => Some(BFS as f64),
                    "SI_JAHR" => Some(2023.0),
                    "SI_HALBJAHR" => Some(1.0),
                    "SI_EG_ANZAHL" => Some(7.0),
                    _ => None,
                };
                rows.push_str(&ods_row(f.label, v));
            }
            None => rows.push_str("<table:table-row><table:table-cell/></table:table-row>"),
        }
    }
    rows
}

/// An xlsx whose worksheet inflates to `size` bytes of valid, highly compressible XML.
fn zip_bomb_xlsx(size: usize) -> Vec<u8> {
    let base = form_xlsx(false);
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(base)).unwrap();
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        z.start_file(name.as_str(), opts).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let head = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
            z.write_all(head).unwrap();
            let chunk = b"<row/>".repeat(64 * 1024 / 6);
            let mut written = head.len();
            while written < size {
                z.write_all(&chunk).unwrap();
                written += chunk.len();
            }
            z.write_all(b"</sheetData></worksheet>").unwrap();
        } else {
            std::io::copy(&mut f, &mut z).unwrap();
        }
    }
    z.finish().unwrap();
    buf.into_inner()
}

/// Rewrites every declared uncompressed size of the named entry to `declared`: a lying bomb.
fn lie_about_size(mut zip: Vec<u8>, name: &str, declared: u32) -> Vec<u8> {
    common::zip::lie_about_size(&mut zip, name, declared);
    zip
}

#[test]
fn stray_far_away_cell_xlsx_form_is_still_read() {
    let wb = read_workbook(&form_xlsx(true), &Limits::default()).expect("read");
    let form = extract(&wb).expect("form recognised");
    assert_eq!(form.field(FormField::SiBfsNr).value, Value::Float(BFS as f64));
    assert_eq!(form.field(FormField::SiEgAnzahl).value, Value::Float(7.0));
    // the stray cell is outside the window: not kept
    assert!(wb.sheets[0].len() < 100);
}

#[test]
fn stray_far_away_cell_ods_form_is_still_read() {
    // 1,048,000 empty rows, then a row whose value sits in column 16,000.
    let table = format!(
        r#"{}<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="16000"/><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>"#,
        ods_form_rows()
    );
    let wb = read_workbook(&ods_of(&table), &Limits::default()).expect("read");
    let form = extract(&wb).expect("form recognised");
    assert_eq!(form.field(FormField::SiBfsNr).value, Value::Float(BFS as f64));
    assert_eq!(form.field(FormField::SiEgAnzahl).pos.as_ref().map(|p| p.a1()), Some("B13".to_string()));
}

#[test]
fn ods_with_huge_repeats_is_too_large_not_allocated() {
    // A million rows of 16,384 filled cells: 17 billion cells if expanded.
    let table = r#"<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>"#;
    assert!(matches!(read_workbook(&ods_of(table), &Limits::default()), Err(ReadError::TooLarge(_))));
}

#[test]
fn zip_bomb_with_honest_size_is_too_large() {
    // 40 MB of XML in a few hundred KB: over the per-part limit (32 MB).
    let bomb = zip_bomb_xlsx(40 * 1024 * 1024);
    assert!(bomb.len() < 1024 * 1024);
    assert!(matches!(read_workbook(&bomb, &Limits::default()), Err(ReadError::TooLarge(_))));
}

#[test]
fn zip_bomb_lying_about_its_size_stops_at_the_declared_size() {
    let bomb = lie_about_size(zip_bomb_xlsx(8 * 1024 * 1024), "xl/worksheets/sheet1.xml", 4096);
    match read_workbook(&bomb, &Limits::default()) {
        Err(ReadError::TooLarge(_)) | Err(ReadError::Unreadable(_)) => {}
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn garbage_and_truncated_files_are_unreadable() {
    let l = Limits::default();
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!(matches!(read_workbook(&garbage, &l), Err(ReadError::Unreadable(_))));
    let form = form_xlsx(false);
    for cut in [10, 100, form.len() / 2, form.len() - 10] {
        assert!(read_workbook(&form[..cut], &l).is_err(), "cut at {cut}");
    }
    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.extend_from_slice(&garbage);
    assert!(matches!(read_workbook(&cfb, &l), Err(ReadError::Unreadable(_))));
}

fn options(inbox: &Path, limits: Limits) -> EvaluationOptions {
    let sample = root().join("samples/2023");
    EvaluationOptions {
        year: 2023,
        inbox: inbox.to_path_buf(),
        stammdaten: sample.join("Stammdaten.xlsx"),
        out: inbox.join("../out"),
        threads: Some(2),
        limits,
        run_date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: None,
        progress: None,
        force: false,
        received_by: None,
        buchhaltung: None,
    }
}

/// A whole run over an inbox of hostile files: each is reported, the run completes.
#[test]
fn a_run_over_hostile_files_reports_each_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let write = |name: &str, b: &[u8]| std::fs::write(inbox.join(name), b).unwrap();
    write("a_stray.xlsx", &form_xlsx(true));
    write("b_bomb.xlsx", &zip_bomb_xlsx(40 * 1024 * 1024));
    write("c_gross.xlsx", &vec![b'P'; 3 * 1024 * 1024]);
    write(
        "d_repeats.ods",
        &ods_of(
            r#"<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>"#,
        ),
    );
    write("e_garbage.xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 not really a compound file");
    let form = form_xlsx(false);
    write("f_truncated.xlsx", &form[..form.len() / 2]);
    write("g_lying.xlsx", &lie_about_size(zip_bomb_xlsx(4 * 1024 * 1024), "xl/worksheets/sheet1.xml", 2048));
    let limits = Limits { max_file_bytes: 2 * 1024 * 1024, ..Limits::default() };
    let eval = evaluate(&options(&inbox, limits)).expect("the run completes");
    let by_name =
        |n: &str| eval.resolved.files.iter().find(|e| e.result.file.rel == n).unwrap_or_else(|| panic!("{n} listed"));
    let codes = |n: &str| by_name(n).result.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>();

    assert_eq!(by_name("a_stray.xlsx").state, FileState::Verarbeitet, "{:?}", codes("a_stray.xlsx"));
    assert!(!codes("a_stray.xlsx").iter().any(|c| c.starts_with("DATEI_")));
    for (n, code) in [
        ("b_bomb.xlsx", "DATEI_ZU_GROSS"),
        ("c_gross.xlsx", "DATEI_ZU_GROSS"),
        ("d_repeats.ods", "DATEI_ZU_GROSS"),
        ("e_garbage.xls", "DATEI_UNLESBAR"),
        ("f_truncated.xlsx", "DATEI_UNLESBAR"),
    ] {
        assert_eq!(by_name(n).state, FileState::Abgelehnt, "{n}");
        assert!(codes(n).contains(&code), "{n}: {:?}", codes(n));
    }
    assert_eq!(by_name("g_lying.xlsx").state, FileState::Abgelehnt);
    assert!(codes("g_lying.xlsx").iter().any(|c| *c == "DATEI_ZU_GROSS" || *c == "DATEI_UNLESBAR"));
}

// Kills of a real run, at every step of the commit and at random moments: tests/it/integrity_fs.rs.

/// Found by `cargo fuzz` (read_form): a defined-name record shorter than its own length
/// fields made calamine slice out of bounds. The guard rejects it before calamine sees it.
#[test]
fn fuzz_crash_xls_short_name_record_is_unreadable_not_a_panic() {
    let bytes = std::fs::read(root().join("tests/hostile_inputs/xls_short_name_record.xls")).unwrap();
    let r = std::panic::catch_unwind(|| read_workbook(&bytes, &Limits::default()));
    assert!(matches!(r, Ok(Err(ReadError::Unreadable(_)))), "{r:?}");
}

/// Found by `cargo fuzz` (read_form): a number cell with a date format and a serial far
/// beyond Excel's range (31.12.9999) made calamine's date conversion panic inside chrono.
/// Such a cell is now read as the number it is; the file stays readable.
#[test]
fn fuzz_crash_xls_date_out_of_range_is_a_number_not_a_panic() {
    let bytes = std::fs::read(root().join("tests/hostile_inputs/xls_date_out_of_range.xls")).unwrap();
    let r = std::panic::catch_unwind(|| read_workbook(&bytes, &Limits::default()));
    assert!(r.is_ok(), "no panic");
}

/// Found by `cargo fuzz` (read_form): a 7 KB xls whose directory chain runs into the short
/// last sector and then cycles. calamine follows it without end and allocated 24 GB. The
/// guard rejects a chain that goes on past the end of the file.
#[test]
fn fuzz_oom_xls_chain_past_end_of_file_is_unreadable() {
    let bytes = std::fs::read(root().join("tests/hostile_inputs/xls_chain_past_end_of_file.xls")).unwrap();
    let r = read_workbook(&bytes, &Limits::default());
    assert!(matches!(r, Err(ReadError::Unreadable(_))), "{r:?}");
}

/// Found by `cargo fuzz` (read_form): a DIMENSIONS record whose column start is over 0xFF
/// made calamine reserve 343 GB for the sheet's cells, and the process aborted (no panic,
/// so no boundary could catch it). The guard computes the area as calamine does and
/// neutralises the record.
#[test]
fn fuzz_crash_xls_dimensions_record_does_not_abort() {
    let bytes = std::fs::read(root().join("tests/hostile_inputs/xls_dimensions_reserve.xls")).unwrap();
    let _ = std::panic::catch_unwind(|| read_workbook(&bytes, &Limits::default()));
}

/// A compound file (version 3, 512-byte sectors) holding one `Workbook` stream. The stream
/// is padded to 4,096 bytes, so it lives in ordinary sectors (no mini stream): sector 0 is
/// the FAT, sector 1 the directory, sectors 2 to 9 the stream.
fn xls_of(biff: &[u8]) -> Vec<u8> {
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    let mut stream = biff.to_vec();
    assert!(stream.len() <= 4096);
    stream.resize(4096, 0);
    let le32 = |v: u32| v.to_le_bytes();
    let mut header = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    header.extend([0; 16]); // CLSID
    header.extend([0x3E, 0x00, 0x03, 0x00, 0xFE, 0xFF, 0x09, 0x00, 0x06, 0x00]); // versions, byte order, shifts
    header.extend([0; 6]);
    header.extend(le32(0)); // directory sectors (0 in version 3)
    header.extend(le32(1)); // FAT sectors
    header.extend(le32(1)); // first directory sector
    header.extend(le32(0)); // transaction signature
    header.extend(le32(4096)); // mini stream cutoff
    header.extend(le32(END)); // first mini FAT sector
    header.extend(le32(0)); // mini FAT sectors
    header.extend(le32(END)); // first DIFAT sector
    header.extend(le32(0)); // DIFAT sectors
    header.extend(le32(0)); // DIFAT[0]: the FAT is sector 0
    (1..109).for_each(|_| header.extend(le32(FREE)));
    assert_eq!(header.len(), 512);
    let mut fat = Vec::new();
    fat.extend(le32(0xFFFF_FFFD)); // sector 0: FAT
    fat.extend(le32(END)); // sector 1: directory
    (3..10).for_each(|next| fat.extend(le32(next))); // sectors 2..8 of the stream
    fat.extend(le32(END)); // sector 9: its last
    fat.resize(512, 0xFF);
    let entry = |name: &str, typ: u8, child: u32, start: u32, size: u32| {
        let mut e: Vec<u8> = name.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
        let name_len = e.len() as u16;
        e.resize(64, 0);
        e.extend(name_len.to_le_bytes());
        e.extend([typ, 1]); // type, colour black
        e.extend(le32(FREE)); // left sibling
        e.extend(le32(FREE)); // right sibling
        e.extend(le32(child));
        e.extend([0; 16 + 4 + 16]); // CLSID, state bits, times
        e.extend(le32(start));
        e.extend(le32(size));
        e.extend(le32(0));
        e
    };
    let mut dir = entry("Root Entry", 5, 1, END, 0);
    dir.extend(entry("Workbook", 2, FREE, 2, 4096));
    dir.resize(512, 0);
    for unused in [256, 384] {
        dir[unused + 68..unused + 80].fill(0xFF); // no siblings, no child
    }
    [header, fat, dir, stream].concat()
}

/// A BIFF record: type, length, data.
fn biff_record(typ: u16, data: &[u8]) -> Vec<u8> {
    [&typ.to_le_bytes()[..], &(data.len() as u16).to_le_bytes(), data].concat()
}

/// Found by `cargo fuzz` (read_form): an EXTERNSHEET record shorter than its own count
/// field (here empty) made calamine read two bytes past its end (`parse_extern_sheet`, a
/// slice panic). The patched calamine returns an error; the file is `DATEI_UNLESBAR`. The
/// same holds for the other fixed-size records of the workbook globals that calamine read
/// unchecked: FILEPASS, CODEPAGE, DATEMODE (2 bytes) and BOUNDSHEET (6 bytes before the
/// name), each at every length below its minimum.
#[test]
fn fuzz_crash_xls_short_extern_sheet_record_is_unreadable_not_a_panic() {
    let bof = biff_record(0x0809, &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0]);
    let eof = biff_record(0x000A, &[]);
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let cases = [
        (0x0017, "extern_sheet", 2),
        (0x002F, "filepass", 2),
        (0x0042, "codepage", 2),
        (0x0022, "datemode", 2),
        (0x0085, "boundsheet", 6),
    ];
    for (typ, name, minimum) in cases {
        for len in 0..minimum {
            let bytes = xls_of(&[bof.clone(), biff_record(typ, &vec![0x01; len]), eof.clone()].concat());
            let read = std::panic::catch_unwind(|| {
                calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(std::io::Cursor::new(bytes.clone()))
            });
            let err = read.unwrap_or_else(|_| panic!("{name}/{len}: calamine panicked")).err();
            assert!(
                matches!(err, Some(calamine::XlsError::Len { expected, found, .. }) if expected == minimum && found == len),
                "{name}/{len}: {err:?}"
            );
            // The program's own guard rejects any FILEPASS as encrypted before calamine.
            if typ != 0x002F {
                std::fs::write(inbox.join(format!("{name}_{len}.xls")), &bytes).unwrap();
            }
        }
    }
    // Two bytes are enough for the two-byte records: with them the file is read (no sheets).
    for (typ, name) in [(0x0017, "extern_sheet"), (0x002F, "filepass"), (0x0042, "codepage"), (0x0022, "datemode")] {
        let data: &[u8] = if typ == 0x0042 { &[0xB0, 0x04] } else { &[0, 0] }; // codepage 1200
        let bytes = xls_of(&[bof.clone(), biff_record(typ, data), eof.clone()].concat());
        let read = calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(std::io::Cursor::new(bytes));
        assert!(read.is_ok(), "{name}: {:?}", read.err());
    }
    let eval = evaluate(&options(&inbox, Limits::default())).expect("the run completes");
    assert_eq!(eval.resolved.files.len(), 2 + 2 + 2 + 6);
    for e in &eval.resolved.files {
        let codes: Vec<&str> = e.result.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(e.state, FileState::Abgelehnt, "{}", e.result.file.rel);
        assert!(codes.contains(&"DATEI_UNLESBAR"), "{}: {codes:?}", e.result.file.rel);
    }
}

/// A BIFF8 workbook stream of globals (BOF, `globals`, one BOUNDSHEET «S», EOF) and one
/// sheet (BOF, `sheet`, EOF).
fn biff_with_sheet(globals: &[Vec<u8>], sheet: &[Vec<u8>]) -> Vec<u8> {
    let bof = |dt: u8| biff_record(0x0809, &[0x00, 0x06, dt, 0x00, 0, 0, 0, 0]);
    let boundsheet_len = 4 + 9;
    let pos = bof(5).len() + globals.iter().map(Vec::len).sum::<usize>() + boundsheet_len + 4;
    let mut s = bof(5);
    globals.iter().for_each(|r| s.extend(r));
    s.extend(biff_record(0x0085, &[&(pos as u32).to_le_bytes()[..], &[0, 0, 1, 0, b'S']].concat()));
    s.extend(biff_record(0x000A, &[]));
    assert_eq!(s.len(), pos);
    s.extend(bof(0x10));
    sheet.iter().for_each(|r| s.extend(r));
    s.extend(biff_record(0x000A, &[]));
    s
}

/// calamine opens the xls (it reads every sheet and formula on opening), without a panic.
fn calamine_xls(bytes: &[u8]) -> Result<calamine::Xls<std::io::Cursor<Vec<u8>>>, calamine::XlsError> {
    let bytes = bytes.to_vec();
    std::panic::catch_unwind(|| calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)))
        .unwrap_or_else(|_| panic!("calamine panicked"))
}

/// Found by `cargo fuzz` (read_form, contained by the program as `DATEI_UNLESBAR`): formula
/// tokens shorter than the bytes calamine reads after them (in a cell formula: PtgArea3d,
/// PtgAreaErr3d, PtgArray, a length beyond the record), a name index of 0, and a
/// PtgAttrChoose without its table made calamine slice out of bounds. Every fixed-size token,
/// at every length below its size, is now an error of that formula, which calamine keeps as
/// the cell's formula text: the file is read.
#[test]
fn fuzz_crash_xls_short_formula_tokens_are_errors_not_panics() {
    // The bytes each token reads after its first byte (BIFF8).
    let tokens: [(u8, usize); 20] = [
        (0x3a, 6),
        (0x3b, 10),
        (0x3c, 6),
        (0x3d, 10),
        (0x39, 6),
        (0x01, 4),
        (0x18, 5),
        (0x19, 3),
        (0x1C, 1),
        (0x1D, 1),
        (0x1E, 2),
        (0x1F, 8),
        (0x20, 7),
        (0x21, 2),
        (0x22, 3),
        (0x23, 4),
        (0x24, 4),
        (0x25, 8),
        (0x2A, 4),
        (0x2B, 8),
    ];
    let formula = |rgce: &[u8], cce: u16| {
        // row, column, format, value 1.0, flags, chn; then the formula's length and tokens.
        let head = [&[0u8; 6][..], &1.0f64.to_le_bytes(), &[0; 6], &cce.to_le_bytes()].concat();
        biff_record(0x0006, &[&head[..], rgce].concat())
    };
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (ptg, size) in tokens {
        for len in 0..size {
            let rgce = [&[ptg][..], &vec![0; len]].concat();
            cases.push((format!("ptg {ptg:#04x}, {len} of {size} bytes"), formula(&rgce, rgce.len() as u16)));
        }
    }
    cases.push(("a length beyond the record".into(), formula(&[0x1E, 1, 0], 868)));
    cases.push(("PtgAttrChoose without its table".into(), formula(&[0x19, 0x04, 5, 0], 4)));
    cases.push(("PtgName 0".into(), formula(&[0x23, 0, 0, 0, 0], 5)));
    for (what, record) in cases {
        let bytes = xls_of(&biff_with_sheet(&[], &[record]));
        assert!(calamine_xls(&bytes).is_ok(), "{what}");
        let wb = read_workbook(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert_eq!(wb.sheets[0].get(0, 0), &Value::Float(1.0), "{what}: the cached value is read");
    }
}

/// Found by `cargo fuzz` (read_form, contained as `DATEI_UNLESBAR`): records of the xls
/// reader shorter than calamine reads: a BOF record without its version, a MERGECELLS record
/// shorter than its count says, and a defined name whose PtgRef3d or PtgArea3d is cut short.
/// Each is now an error of calamine: the file is unreadable, and nothing panics.
#[test]
fn fuzz_crash_xls_short_records_are_unreadable_not_a_panic() {
    let eof = biff_record(0x000A, &[]);
    // A defined name «N» (BIFF8) whose formula is `rgce`.
    let name = |rgce: &[u8]| {
        let head = [0, 0, 0, 1, rgce.len() as u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'N'];
        biff_record(0x0018, &[&head[..], rgce].concat())
    };
    let cases: Vec<(&str, Vec<u8>, usize, usize)> = vec![
        ("BOF without version", [biff_record(0x0809, &[]), eof.clone()].concat(), 2, 0),
        ("MERGECELLS empty", biff_with_sheet(&[], &[biff_record(0x00E5, &[])]), 2, 0),
        ("MERGECELLS of 5 with none", biff_with_sheet(&[], &[biff_record(0x00E5, &[5, 0])]), 42, 2),
        (
            "MERGECELLS of 2 with one",
            biff_with_sheet(&[], &[biff_record(0x00E5, &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0])]),
            18,
            10,
        ),
        ("name PtgRef3d of 6 bytes", biff_with_sheet(&[name(&[0x3a, 0, 0, 0, 0, 0])], &[]), 7, 6),
        ("name PtgArea3d of 10 bytes", biff_with_sheet(&[name(&[0x3b, 0, 0, 0, 0, 0, 0, 0, 0, 0])], &[]), 11, 10),
        ("name PtgRefErr3d of 2 bytes", biff_with_sheet(&[name(&[0x3c, 0])], &[]), 3, 2),
    ];
    for (what, stream, expected_len, found_len) in cases {
        let bytes = xls_of(&stream);
        let err = calamine_xls(&bytes).err();
        assert!(
            matches!(err, Some(calamine::XlsError::Len { expected, found, .. }) if expected == expected_len && found == found_len),
            "{what}: {err:?}"
        );
        assert!(matches!(read_workbook(&bytes, &Limits::default()), Err(ReadError::Unreadable(_))), "{what}");
    }
    // The same records at their full length are read.
    for (what, stream) in [
        ("MERGECELLS of 1", biff_with_sheet(&[], &[biff_record(0x00E5, &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0])])),
        ("name PtgRef3d", biff_with_sheet(&[name(&[0x3a, 0, 0, 0, 0, 0, 0])], &[])),
        ("name PtgArea3d", biff_with_sheet(&[name(&[0x3b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])], &[])),
    ] {
        assert!(calamine_xls(&xls_of(&stream)).is_ok(), "{what}");
    }
}

/// Found by `cargo fuzz` (read_form): compound files whose last sector is cut short. One
/// chain asked for a sector past the end after a short one (calamine sliced backwards), one
/// FAT sector was not a whole number of entries (an assertion in calamine). Neither panics
/// now; the program reads both (they hold no form).
#[test]
fn fuzz_crash_xls_truncated_sectors_are_not_a_panic() {
    for name in ["xls_sector_past_end_of_file.xls", "xls_fat_sector_short.xls"] {
        let bytes = std::fs::read(root().join("tests/hostile_inputs").join(name)).unwrap();
        let _ = calamine_xls(&bytes);
        assert!(read_workbook(&bytes, &Limits::default()).is_ok(), "{name}");
    }
}

/// Found by `cargo fuzz` (read_form): an xlsb cell naming shared string 0 of a workbook
/// without shared strings made calamine index out of bounds. It is an error now, and the
/// file `DATEI_UNLESBAR`.
#[test]
fn fuzz_crash_xlsb_shared_string_out_of_range_is_unreadable_not_a_panic() {
    use calamine::Reader as _;
    let bytes = std::fs::read(root().join("tests/hostile_inputs/xlsb_shared_string_index.xlsb")).unwrap();
    let cells = std::panic::catch_unwind(|| {
        let mut xlsb: calamine::Xlsb<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone()))?;
        let names: Vec<String> = xlsb.sheet_names();
        for n in names {
            let mut cells = xlsb.worksheet_cells_reader(&n)?;
            while cells.next_cell()?.is_some() {}
        }
        Ok::<(), calamine::XlsbError>(())
    });
    let err = cells.unwrap_or_else(|_| panic!("calamine panicked")).err();
    assert!(matches!(err, Some(calamine::XlsbError::Unrecognized { typ: "shared string index", .. })), "{err:?}");
    assert!(matches!(read_workbook(&bytes, &Limits::default()), Err(ReadError::Unreadable(_))));
}
