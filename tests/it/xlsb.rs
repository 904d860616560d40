//! Hostile xlsb files stay within the limits an xlsx is held to: a stray far-away cell,
//! a zip bomb (honest and lying about its size), a huge shared-string table, and a record
//! that makes calamine panic. Each test builds its file with the writer in
//! tests/it/common/xlsb.rs and counts, with this binary's allocator, the most heap the read
//! held.

use crate::common;
use crate::common::alloc;
use crate::common::xlsb;

use alloc::peak_of;
use beitraege::extract::{extract, REPORTING_FIELDS};
use beitraege::fields::FormField;
use beitraege::workbook::{read_workbook, Limits, ReadError, Value};
use xlsb::{Book, Cell};

const MB: usize = 1024 * 1024;
const BFS: u32 = 2401; // Egerkingen, in the sample master data

/// A Reportingformular 2023/1 of Egerkingen with 7 Erstinformationsgespräche.
fn form() -> Book {
    let mut cells = Vec::new();
    for f in REPORTING_FIELDS {
        cells.push((f.row - 1, 0, Cell::Text(f.label.to_string())));
        let v = match f.name {
            "SI_VERSION" => Some(2022),
            "SI_BFS_NR" => Some(BFS as i32),
            "SI_JAHR" => Some(2023),
            "SI_HALBJAHR" => Some(1),
            k if k.starts_with("SI_EG") || k.starts_with("SI_IG") || k == "SI_NEUZUZUEGE" => Some(7),
            _ => None,
        };
        if let Some(v) = v {
            cells.push((f.row - 1, 1, Cell::Rk(v)));
        }
    }
    cells.push((3, 1, Cell::Text("Egerkingen".into())));
    Book { sheets: vec![("Reporting".into(), cells)], ..Default::default() }
}

#[test]
fn the_xlsb_form_is_read() {
    let wb = read_workbook(&form().to_bytes(), &Limits::default()).unwrap();
    let form = extract(&wb).expect("form recognised");
    assert_eq!(form.field(FormField::SiBfsNr).value, Value::Float(BFS as f64));
    assert_eq!(form.field(FormField::SiEgAnzahl).value, Value::Float(7.0));
}

#[test]
fn stray_far_away_cell_xlsb_form_is_still_read() {
    let mut book = form();
    book.sheets[0].1.push((1_048_575, 16_383, Cell::Text("x".into())));
    let bytes = book.to_bytes();
    let (wb, peak) = peak_of(|| read_workbook(&bytes, &Limits::default()));
    let wb = wb.expect("read");
    let form = extract(&wb).expect("form recognised");
    assert_eq!(form.field(FormField::SiBfsNr).value, Value::Float(BFS as f64));
    // the stray cell is outside the window: not kept, and no dense range was built
    assert!(wb.sheets[0].len() < 100);
    assert!(peak < 2 * MB, "peak {peak}");
}

#[test]
fn xlsb_zip_bomb_with_honest_size_is_too_large() {
    // 40 MB of records in well under a megabyte: over the per-part limit (32 MB).
    let book = Book { sheet_padding: 40 * MB, ..form() };
    let bytes = book.to_bytes();
    assert!(bytes.len() < MB);
    let (r, peak) = peak_of(|| read_workbook(&bytes, &Limits::default()));
    assert!(matches!(r, Err(ReadError::TooLarge(_))), "{r:?}");
    assert!(peak < 2 * MB, "nothing inflated: peak {peak}");
}

#[test]
fn xlsb_zip_bomb_lying_about_its_size_stops_at_the_declared_size() {
    let mut bytes = Book { sheet_padding: 8 * MB, ..form() }.to_bytes();
    common::zip::lie_about_size(&mut bytes, "xl/worksheets/sheet1.bin", 4096);
    let (r, peak) = peak_of(|| read_workbook(&bytes, &Limits::default()));
    assert!(matches!(r, Err(ReadError::TooLarge(_)) | Err(ReadError::Unreadable(_))), "{r:?}");
    assert!(peak < 2 * MB, "peak {peak}");
}

/// calamine keeps each shared string as a `String` of 24 bytes plus its text: the table
/// may cost at most twice the per-part limit. Tested on both sides with a 1 MB part limit
/// (2 MB for the table: 87,381 empty strings).
#[test]
fn xlsb_shared_string_table_is_bounded_on_both_sides() {
    let l = Limits { max_part_bytes: MB as u64, ..Limits::default() };
    let with = |n: usize| {
        let sheets = vec![("Tabelle1".to_string(), vec![(0, 0, Cell::Rk(1))])];
        Book { sheets, extra_strings: vec![String::new(); n], ..Default::default() }.to_bytes()
    };
    assert!(read_workbook(&with(87_381), &l).is_ok());
    assert!(matches!(read_workbook(&with(87_382), &l), Err(ReadError::TooLarge(_))));
}

#[test]
fn xlsb_with_huge_shared_strings_is_too_large() {
    // 3 million empty strings: a 21 MB part (inside the per-part limit) that calamine
    // would hold as 72 MB of `String`s.
    let bytes = Book { extra_strings: vec![String::new(); 3_000_000], ..form() }.to_bytes();
    let (r, peak) = peak_of(|| read_workbook(&bytes, &Limits::default()));
    assert!(matches!(r, Err(ReadError::TooLarge(_))), "{r:?}");
    assert!(peak < 64 * MB, "peak {peak}");
}

/// calamine indexes the shared strings without a check and panics; the reader contains it.
#[test]
fn xlsb_shared_string_index_out_of_range_is_unreadable_not_a_panic() {
    let mut book = form();
    book.sheets[0].1.push((30, 1, Cell::Isst(1_000_000)));
    let bytes = book.to_bytes();
    let r = std::panic::catch_unwind(|| read_workbook(&bytes, &Limits::default()));
    assert!(matches!(r, Ok(Err(ReadError::Unreadable(_)))), "{r:?}");
}

/// The workbook part elsewhere than `xl/` (named by the package relationships).
#[test]
fn xlsb_with_workbook_outside_xl_is_read() {
    let bytes = Book { elsewhere: true, ..form() }.to_bytes();
    let wb = read_workbook(&bytes, &Limits::default()).unwrap();
    assert_eq!(extract(&wb).expect("form").field(FormField::SiBfsNr).value, Value::Float(BFS as f64));
}

/// A whole run over xlsb files (one that panics inside calamine, the D1 xls) with
/// `RUST_BACKTRACE=1`: each file is reported, and stderr shows no panic message and no
/// stack trace.
#[test]
fn a_run_never_prints_a_stack_trace() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut panics = form();
    panics.sheets[0].1.push((30, 1, Cell::Isst(1_000_000)));
    std::fs::write(inbox.join("a_panik.xlsb"), panics.to_bytes()).unwrap();
    std::fs::write(inbox.join("b_form.xlsb"), form().to_bytes()).unwrap();
    let d1 =
        common::root().join("tests/realfiles/D1_panic/85afc4236a-Test_git_issue_467_empty_continue_leftoverbytes.xls");
    std::fs::copy(d1, inbox.join("c_d1.xls")).unwrap();
    let sample = common::sample();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_beitraege"))
        // --trotzdem: two of the three files are not forms
        .args(["run", "--year", "2023", "--datum", "15.03.2024", "--ohne-fortschritt", "--trotzdem"])
        .arg("--inbox")
        .arg(&inbox)
        .arg("--stammdaten")
        .arg(sample.join("Stammdaten.xlsx"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for bad in ["panicked", "stack backtrace", "RUST_BACKTRACE", "rust_begin_unwind"] {
        assert!(!stderr.contains(bad), "{bad} in stderr:\n{stderr}");
    }
    let files = std::fs::read_to_string(dir.path().join("out/dateien.json")).unwrap();
    let files: serde_json::Value = serde_json::from_str(&files).unwrap();
    let text = files.to_string();
    assert!(text.contains("a_panik.xlsb") && text.contains("b_form.xlsb") && text.contains("c_d1.xls"), "{text}");
    assert_eq!(text.matches("DATEI_UNLESBAR").count(), 2, "{text}");
}
