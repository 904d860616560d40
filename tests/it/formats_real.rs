//! Real-world files that the readers once got wrong (tests/realfiles, see its README for
//! where each comes from). Each test is named after what it guards.

use crate::common;
use crate::common::alloc;

use alloc::peak_of;
use beitraege::workbook::{read_workbook, Limits, ReadError, Value};
use std::path::PathBuf;

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/realfiles").join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn file(dir: &str, name: &str) -> Vec<u8> {
    let p = files(dir).into_iter().find(|p| p.to_string_lossy().ends_with(name)).unwrap();
    std::fs::read(p).unwrap()
}

fn read(dir: &str, name: &str) -> Result<beitraege::workbook::Workbook, ReadError> {
    read_workbook(&file(dir, name), &Limits::default())
}

fn date(y: i32, m: u32, d: u32) -> Value {
    Value::Date(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// D1: an empty CONTINUE record after a shared string split over two records made calamine
/// index out of bounds (and xlrd raise IndexError). The guard rejects it, calamine itself
/// now returns an error, and `read_workbook` contains any panic.
#[test]
fn xls_empty_continue_record_is_unreadable_not_a_panic() {
    let bytes = file("D1_panic", "Test_git_issue_467_empty_continue_leftoverbytes.xls");
    let r = std::panic::catch_unwind(|| read_workbook(&bytes, &Limits::default()));
    assert!(matches!(r, Ok(Err(ReadError::Unreadable(_)))), "{r:?}");
}

/// D2: ten xls of 109 KB to 2.6 MB were rejected as too large on a worst-case estimate
/// (every text cell times the whole shared-string table: "219 MB" for 29942.xls). The
/// guard now counts the characters of the string each text cell names. Each file is
/// read, and what the read really holds at its peak (counted by this test's allocator,
/// 0.9-21 MB) is far below the memory limit.
#[test]
fn xls_size_estimate_follows_what_calamine_allocates() {
    let l = Limits::default();
    for p in files("D2_xls_false_toolarge") {
        let bytes = std::fs::read(&p).unwrap();
        let (r, peak) = peak_of(|| read_workbook(&bytes, &l));
        let wb = r.unwrap_or_else(|e| panic!("{}: {e:?}", p.display()));
        assert!(wb.sheets.iter().map(|s| s.len()).sum::<usize>() > 1000, "{}", p.display());
        assert!((peak as u64) < l.max_inflated_bytes / 4, "{}: peak {peak}", p.display());
    }
}

/// D2, POI's StringContinueRecords.xls: a formula's text result of 24,732 characters goes
/// on in CONTINUE records; calamine cut it after the first record (8,224 bytes).
#[test]
fn xls_long_formula_text_goes_on_in_continue_records() {
    let wb = read("D2_xls_false_toolarge", "StringContinueRecords.xls").unwrap();
    let s = wb.sheet("file load sequence").unwrap();
    let Value::Text(t) = s.get(142, 40) else { panic!("{:?}", s.get(142, 40)) };
    assert_eq!(t.chars().count(), 24_732);
    assert!(t.trim_end().ends_with("END OF THE TEST PASK RESULTS ***** ]"));
}

/// D3: valid packages whose workbook part is not `xl/workbook.xml` (the package
/// relationships name it) were "ZIP-Archiv ohne Arbeitsmappe". calamine's cell counts.
#[test]
fn ooxml_package_with_workbook_outside_xl_is_read() {
    for (name, cells) in
        [("minimal_package.xlsx", 5082), ("wtf_path.xlsx", 31), ("wtf_path.xlsb", 31), ("Test_git_issue_629.xlsx", 54)]
    {
        let wb = read("D3_workbook_not_in_xl", name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(wb.sheets.iter().map(|s| s.len()).sum::<usize>(), cells, "{name}");
    }
    // The same workbook as xlsx and as xlsb (SheetJS): the same cells.
    let (a, b) = (
        read("D3_workbook_not_in_xl", "wtf_path.xlsx").unwrap(),
        read("D3_workbook_not_in_xl", "wtf_path.xlsb").unwrap(),
    );
    assert_eq!(a.sheets.len(), b.sheets.len());
    for (x, y) in a.sheets.iter().zip(&b.sheets) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.cells().collect::<Vec<_>>(), y.cells().collect::<Vec<_>>(), "{}", x.name);
    }
}

/// D4: a FILEPASS record of any kind, XOR obfuscation (type 0, Excel 2002's "weak
/// encryption") included, is a password-protected file; for 60284.xls (BIFF5) the guard
/// used to reject a garbled name record behind it first.
#[test]
fn xls_filepass_of_any_kind_is_encrypted() {
    for name in ["xor-encryption-abc.xls", "password_2002_40_xor.xls", "60284.xls"] {
        let r = read("D4_xor_not_encrypted", name);
        assert!(matches!(r, Err(ReadError::Encrypted)), "{name}: {r:?}");
    }
}

/// D5: an Excel 95 file (root stream `Book`) with an embedded workbook object (its own
/// `Workbook` stream) was read as the embedded object: three empty sheets. xlrd: sheet
/// "Sheet1" with the data.
#[test]
fn xls_root_workbook_stream_is_read_not_an_embedded_one() {
    let wb = read("D5_embedded_workbook_read", "Test_git_issue_411.xls").unwrap();
    assert_eq!(wb.sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["Sheet1"]);
    let s = &wb.sheets[0];
    assert_eq!(s.get(1, 30), &Value::Text("AM-0007130".into()));
    assert_eq!(s.len(), 104, "the cells inside the read window");
}

/// D6: custom FORMAT records with ids outside calamine's accepted ranges were dropped and
/// the built-in table used: Crystal Reports' ids 50-53 are CJK dates there, so amounts
/// became dates. xlrd: numbers, format '#,##0.00_);-#,##0.00'.
#[test]
fn xls_format_records_with_any_id_are_used() {
    let wb = read("D6_format_id_and_formula_record", "Test_git_issue_609.xls").unwrap();
    let s = &wb.sheets[0];
    for (c, v) in [(14, 17.0), (25, 21_333.0), (27, 31_323.0), (28, 39_998.0), (29, 39_385.0)] {
        assert_eq!(s.get(16, c), &Value::Float(v), "column {c}");
    }
    // The date of printing keeps its date format.
    assert_eq!(s.get(1, 2), &date(2022, 9, 15));
}

/// D6: FORMULA records of type 0x0406 (written by "Schemasoft") were ignored, so their
/// cells were missing; and the custom date format has id 59. xlrd: 3.0, 2.0, 2009-01-02
/// (1904 dates).
#[test]
fn xls_formula_records_of_biff4_type_are_read() {
    let wb = read("D6_format_id_and_formula_record", "WrongFormulaRecordType.xls").unwrap();
    let s = &wb.sheets[0];
    assert_eq!((s.get(3, 0), s.get(3, 1), s.get(3, 2)), (&Value::Float(3.0), &Value::Float(2.0), &date(2009, 1, 2)));
    assert_eq!((s.get(1, 2), s.get(2, 2)), (&date(2009, 1, 1), &date(2009, 1, 2)));
}

/// D7: BIFF8 files whose CODEPAGE record says 1252 came back with a NUL after every
/// character. BIFF8 strings are UTF-16 (compressed: ISO-8859-1) whatever the codepage.
#[test]
fn xls_biff8_strings_are_unicode_whatever_the_codepage() {
    for (name, sheet, (r, c), text) in [
        ("sheet_name_parsing.xls", "Sheet1", (0, 2), "År"),
        ("ex41187-19267.xls", "Sheet1", (0, 0), "Hi Excel!"),
        ("CRLFR9.XLS", "A", (0, 1), "abc\r\ndef"),
        ("Test_git_issue_111_NoRowRecords.xls", "Sheet1", (0, 5), "Barclay UCITS Index Historical Data"),
    ] {
        let wb = read("D7_biff8_codepage1252_nul", name).unwrap();
        let s = wb.sheet(sheet).unwrap_or_else(|| panic!("{name}: sheet {sheet}"));
        assert_eq!(s.get(r, c), &Value::Text(text.into()), "{name}");
        assert!(wb.sheets.iter().all(|s| s.cells().all(|(_, v)| !v.display().contains('\0'))), "{name}");
    }
}

/// D8: BIFF5 FORMAT strings have an 8-bit length; read as 16-bit, the first character was
/// lost ("[Red][<=-25]General;…" became "Red]…", a date format), so every number here was
/// a date. xlrd: 24 numbers (and 8 texts).
#[test]
fn xls_biff5_format_strings_keep_their_first_character() {
    let wb = read("D8_biff5_format_offset", "NumberFormatCondition.xls").unwrap();
    let s = &wb.sheets[0];
    assert_eq!(s.len(), 32);
    assert_eq!(s.cells().filter(|(_, v)| matches!(v, Value::Float(_))).count(), 24);
    assert!(s.cells().all(|(_, v)| !matches!(v, Value::Date(_))), "{:?}", s.cells().collect::<Vec<_>>());
    assert_eq!((s.get(0, 0), s.get(1, 2)), (&Value::Float(50.0), &Value::Float(51.0)));
}

/// N1: a sheet part declared `encoding="ISO-8859-1"` (umya-spreadsheet's tdf76115.xlsx,
/// zip paths with backslashes) was unreadable ("cannot decode input using UTF-8"); calamine
/// and openpyxl fail on it too. The package turns such a part into UTF-8.
#[test]
fn xlsx_part_declared_as_latin1_is_read() {
    let wb = read("N1_iso8859_xml_both_fail", "tdf76115.xlsx").unwrap();
    let s = wb.sheet("Plan1").unwrap();
    assert_eq!((s.get(0, 1), s.get(0, 4)), (&Value::Text("Série".into()), &Value::Text("Emissão".into())));
}

/// The same workbooks as xlsb and as xlsx (calamine's test files, Excel-written): our
/// xlsb path (calamine's cell reader behind our package bounds) and our own xlsx reader
/// give the same sheets, names and cells.
#[test]
fn xlsb_reads_cell_by_cell_like_its_xlsx_twin() {
    let dir = common::root().join("tests/realfiles/xlsb_calamine");
    let mut compared = 0;
    for stem in ["any_sheets", "date", "date_1904", "issue127", "issues", "issue_419", "picture"] {
        let read = |ext: &str| {
            let p = dir.join(format!("{stem}.{ext}"));
            p.exists().then(|| read_workbook(&std::fs::read(&p).unwrap(), &Limits::default()))
        };
        let b = read("xlsb").unwrap().unwrap_or_else(|e| panic!("{stem}.xlsb: {e:?}"));
        let x = read("xlsx").unwrap().unwrap_or_else(|e| panic!("{stem}.xlsx: {e:?}"));
        assert_eq!(b.names, x.names, "{stem}");
        let sheets = |wb: &beitraege::workbook::Workbook| {
            let mut v = wb
                .sheets
                .iter()
                .map(|s| (s.name.clone(), s.visible, s.cells().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()))
                .collect::<Vec<_>>();
            // issues.xlsx and issues.xlsb list two sheets in another order
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(sheets(&b), sheets(&x), "{stem}");
        compared += sheets(&b).iter().map(|s| s.2.len()).sum::<usize>();
    }
    assert!(compared > 40, "{compared}");
}

/// calamine's other xlsb test files: read or cleanly rejected, never a panic; the
/// password-protected one is encrypted.
#[test]
fn xlsb_test_files_of_calamine_are_read_or_rejected() {
    let dir = common::root().join("tests/realfiles/xlsb_calamine");
    let read =
        |n: &str| std::panic::catch_unwind(|| read_workbook(&std::fs::read(dir.join(n)).unwrap(), &Limits::default()));
    assert!(matches!(read("pass_protected.xlsb"), Ok(Err(ReadError::Encrypted))));
    for n in ["issue_182.xlsb", "issue_186.xlsb", "issue_666_lost_sheets.xlsb", "issue_666_panic.xlsb"] {
        assert!(read(n).is_ok(), "{n}");
    }
}
