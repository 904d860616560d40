//! Stage 2: read a workbook's bytes into a small, bounded, format-independent model.
//!
//! The format is recognised from the bytes, not the file name. Every read is bounded:
//! the file size, the inflated size of a zip container and of each part in it, the window
//! of rows and columns kept, and the number of cells kept. No format is read densely:
//!
//! - xlsx and ods are zip containers ([`package`]): declared sizes are checked before
//!   anything is inflated, and no part inflates beyond its declared size;
//! - xlsx is read by our own streaming reader ([`xlsx`]), which takes only the parts a form
//!   needs and skips cells outside the window, so a stray cell in XFD1048576 costs nothing;
//! - ods is read by our own streaming reader ([`ods`]), which expands repeated rows and
//!   columns only inside the window;
//! - xlsb is read by calamine's streaming cell reader ([`xlsb`]), after our package layer
//!   has inflated and checked every part calamine will read;
//! - xls goes through a guard ([`xls_guard`]) that neutralises cell records outside the
//!   window and checks what calamine will allocate before calamine sees the file.
//!
//! calamine (carried in `vendor/calamine` with small fixes) is behind a panic boundary:
//! a panic inside any reader becomes [`ReadError::Unreadable`].
//!
//! Both own readers follow calamine 0.38's cell semantics; tests read every sample and
//! fixture both ways and compare cell by cell.

mod ods;
mod package;
mod xls_guard;
mod xlsb;
mod xlsx;
mod xml;

use crate::cellref::parse_a1;
use calamine::{Data, DataRef, Reader, SheetVisible};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::io::Cursor;
use thiserror::Error;

pub mod cellref;
pub mod values;

pub use crate::values::{round15, Value};

/// The container format, recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Xlsb => "xlsb",
            Format::Xls => "xls",
            Format::Ods => "ods",
        }
    }
}

/// One sheet: a sparse map of the non-empty cells inside the read window.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub visible: bool,
    cells: BTreeMap<(u32, u32), Value>,
}

impl Sheet {
    pub fn new(name: impl Into<String>) -> Self {
        Sheet { name: name.into(), visible: true, cells: BTreeMap::new() }
    }
    /// A sheet of texts, row by row from A1; an empty text leaves its cell empty. For
    /// building master-data sheets in code (tests, examples).
    pub fn from_texts(name: impl Into<String>, rows: &[&[&str]]) -> Self {
        let mut s = Sheet::new(name);
        for (r, row) in (0u32..).zip(rows) {
            for (c, v) in (0u32..).zip(row.iter()) {
                if !v.is_empty() {
                    s.set(r, c, Value::Text((*v).to_string()));
                }
            }
        }
        s
    }
    pub fn set(&mut self, row: u32, col: u32, v: Value) {
        if !v.is_empty() || matches!(v, Value::Text(_)) {
            self.cells.insert((row, col), v);
        }
    }
    pub fn get(&self, row: u32, col: u32) -> &Value {
        self.cells.get(&(row, col)).unwrap_or(&Value::Empty)
    }
    /// Non-empty cells in row-major order.
    pub fn cells(&self) -> impl Iterator<Item = (&(u32, u32), &Value)> {
        self.cells.iter().filter(|(_, v)| !v.is_empty())
    }
    /// Non-empty cells of one column, top to bottom.
    pub fn column(&self, col: u32) -> impl Iterator<Item = (u32, &Value)> + '_ {
        self.cells().filter(move |((_, c), _)| *c == col).map(|((r, _), v)| (*r, v))
    }
    pub fn len(&self) -> usize {
        self.cells.len()
    }
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// A defined name that points at one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCell {
    pub name: String,
    pub sheet: String,
    pub row: u32,
    pub col: u32,
}

/// A workbook as the extractor sees it.
#[derive(Debug, Clone)]
pub struct Workbook {
    pub format: Format,
    pub sheets: Vec<Sheet>,
    pub names: Vec<NamedCell>,
}

impl Workbook {
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets.iter().find(|s| s.name == name)
    }
}

/// Bounds on what one file may cost. Configurable from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read at all.
    pub max_file_bytes: u64,
    /// Largest total inflated size of a zip container (xlsx, ods).
    pub max_inflated_bytes: u64,
    /// Rows and columns kept per sheet (a form needs few); cells outside are skipped.
    pub max_rows: u32,
    pub max_cols: u32,
    /// Non-empty cells kept per workbook inside the window.
    pub max_cells: usize,
    /// Largest inflated size of one XML part of a zip container (sheet, shared strings,
    /// styles, `content.xml`): shared strings are loaded whole, so this bounds their memory.
    pub max_part_bytes: u64,
    /// xls only: the most cells calamine may hold in its dense sheet ranges at once.
    pub max_dense_cells: u64,
    /// xlsx and ods: the most bytes of cell text kept per file. Bounds memory by bytes, not
    /// only by cells: a shared string (or a repeated ods cell) is copied into every cell that
    /// uses it, so 99,000 cells of one 32,767-character text would otherwise hold 3.2 GB.
    pub max_text_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 20 * 1024 * 1024,
            max_inflated_bytes: 200 * 1024 * 1024,
            max_rows: 2_000,
            max_cols: 64,
            max_cells: 100_000,
            max_part_bytes: 32 * 1024 * 1024,
            max_dense_cells: 2_000_000,
            max_text_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a spreadsheet could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReadError {
    #[error("passwortgeschützt")]
    Encrypted,
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unreadable(String),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The message a panic was raised with (`panic!("…")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Recognises the container from the first bytes and reads it. A panic inside a reader
/// (calamine has some on malformed files) is caught here and makes the file unreadable.
pub fn read_workbook(bytes: &[u8], limits: &Limits) -> Result<Workbook, ReadError> {
    match std::panic::catch_unwind(|| read_any(bytes, limits)) {
        Ok(r) => r,
        Err(p) => {
            tracing::debug!("Absturz im Lesen der Tabelle abgefangen: {}", panic_message(p.as_ref()));
            Err(ReadError::Unreadable("die Datei ist beschädigt (interner Fehler beim Lesen)".into()))
        }
    }
}

/// Whether the bytes are, by their content, a container [`read_workbook`] reads (zip,
/// compound file): a spreadsheet under any name. Whether it really is a workbook only
/// reading tells.
pub fn looks_like_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(ZIP_EMPTY) || bytes.starts_with(CFB_MAGIC)
}

fn read_any(bytes: &[u8], limits: &Limits) -> Result<Workbook, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Unreadable("die Datei ist leer (0 Byte)".into()));
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ReadError::TooLarge(format!(
            "Dateigrösse {} MB, zulässig {} MB",
            bytes.len() / (1024 * 1024),
            limits.max_file_bytes / (1024 * 1024)
        )));
    }
    if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(ZIP_EMPTY) {
        read_zip(bytes, limits)
    } else if bytes.starts_with(CFB_MAGIC) {
        if contains_utf16(bytes, "EncryptedPackage") {
            return Err(ReadError::Encrypted);
        }
        read_xls(bytes, limits)
    } else {
        Err(ReadError::Unreadable("der Inhalt ist keine Excel- oder ODS-Tabelle".into()))
    }
}

fn contains_utf16(hay: &[u8], needle: &str) -> bool {
    let pat: Vec<u8> = needle.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    memchr::memmem::find(hay, &pat).is_some()
}

fn read_zip(bytes: &[u8], limits: &Limits) -> Result<Workbook, ReadError> {
    let mut pkg = package::Package::open(bytes, limits)?;
    match pkg.kind {
        package::Kind::Ods => ods::read_ods(&mut pkg, limits),
        package::Kind::Xlsx => {
            // xlsx and xlsb share the package: the workbook part's name tells them apart.
            let book = if pkg.contains("xl/workbook.bin") && !pkg.contains("xl/workbook.xml") {
                "xl/workbook.bin".to_string()
            } else {
                xlsx::office_document(&mut pkg)?
            };
            let wb = if book.to_ascii_lowercase().ends_with(".bin") {
                xlsb::read_xlsb(&mut pkg, &book, limits)?
            } else {
                xlsx::read_xlsx(&mut pkg, limits)?
            };
            // Another Office document (a .docx names its main part the same way).
            if wb.sheets.is_empty() {
                return Err(ReadError::Unreadable("ZIP-Archiv ohne Arbeitsmappe".into()));
            }
            Ok(wb)
        }
        package::Kind::Unknown => Err(ReadError::Unreadable("ZIP-Archiv ohne Arbeitsmappe".into())),
    }
}

struct Budget<'a> {
    limits: &'a Limits,
    kept: usize,
}

impl Budget<'_> {
    fn keep(&mut self, row: u32, col: u32) -> Result<bool, ReadError> {
        if row >= self.limits.max_rows || col >= self.limits.max_cols {
            return Ok(false);
        }
        self.kept += 1;
        if self.kept > self.limits.max_cells {
            return Err(ReadError::TooLarge(format!("mehr als {} gefüllte Zellen", self.limits.max_cells)));
        }
        Ok(true)
    }
}

fn visible(v: SheetVisible) -> bool {
    matches!(v, SheetVisible::Visible)
}

fn calamine_err(e: impl std::fmt::Display) -> ReadError {
    let text = e.to_string();
    if text.to_lowercase().contains("password") {
        ReadError::Encrypted
    } else {
        ReadError::Unreadable(text)
    }
}

fn read_xls(bytes: &[u8], limits: &Limits) -> Result<Workbook, ReadError> {
    let bytes = xls_guard::guard(bytes, limits)?;
    let mut xls: calamine::Xls<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.as_ref())).map_err(calamine_err)?;
    let names = parse_names(xls.defined_names());
    let meta: Vec<(String, bool)> =
        xls.sheets_metadata().iter().map(|s| (s.name.clone(), visible(s.visible))).collect();
    ranges_to_workbook(Format::Xls, meta, names, limits, |n| match xls.worksheet_range(n) {
        Ok(r) => Ok(r),
        // BoundSheet records for chart or macro sheets have no cells.
        Err(calamine::XlsError::WorksheetNotFound(_)) => Ok(calamine::Range::empty()),
        Err(e) => Err(calamine_err(e)),
    })
}

fn ranges_to_workbook(
    format: Format,
    meta: Vec<(String, bool)>,
    names: Vec<NamedCell>,
    limits: &Limits,
    mut range_of: impl FnMut(&str) -> Result<calamine::Range<Data>, ReadError>,
) -> Result<Workbook, ReadError> {
    let mut budget = Budget { limits, kept: 0 };
    let mut sheets = Vec::new();
    for (name, vis) in meta {
        let range = range_of(&name)?;
        let mut sheet = Sheet::new(&name);
        sheet.visible = vis;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for (r, c, d) in range.used_cells() {
            let (r, c) = (r0 + r as u32, c0 + c as u32);
            let v = from_data(d);
            if v.is_empty() {
                continue;
            }
            if budget.keep(r, c)? {
                sheet.set(r, c, v);
            }
        }
        sheets.push(sheet);
    }
    Ok(Workbook { format, sheets, names })
}

/// Excel's date range: serial 0 (1900) to 2958465 (31.12.9999), 1904 epoch included.
const EXCEL_SERIAL_MAX: f64 = 2_958_465.0 + 1_462.0;

fn date_of(dt: &calamine::ExcelDateTime) -> Value {
    let serial = dt.as_f64();
    // calamine's conversion panics (in chrono) far outside Excel's range: check first.
    if !dt.is_datetime() || !serial.is_finite() || !(-1_462.0..=EXCEL_SERIAL_MAX).contains(&serial) {
        return Value::Float(serial);
    }
    match dt.as_datetime() {
        Some(d) => Value::Date(d.date()),
        None => Value::Float(serial),
    }
}

fn iso_date(s: &str) -> Value {
    let head = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(head, "%Y-%m-%d").map(Value::Date).unwrap_or_else(|_| Value::Text(s.to_string()))
}

fn from_data_ref(d: &DataRef<'_>) -> Value {
    match d {
        DataRef::Int(i) => Value::Int(*i),
        DataRef::Float(f) => Value::Float(*f),
        DataRef::String(s) => Value::Text(s.clone()),
        DataRef::SharedString(s) => Value::Text((*s).to_string()),
        DataRef::Bool(b) => Value::Bool(*b),
        DataRef::DateTime(dt) => date_of(dt),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => Value::Text(s.clone()),
        DataRef::Error(e) => Value::Error(e.to_string()),
        DataRef::Empty => Value::Empty,
    }
}

fn from_data(d: &Data) -> Value {
    match d {
        Data::Int(i) => Value::Int(*i),
        Data::Float(f) => Value::Float(*f),
        Data::String(s) => Value::Text(s.clone()),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(dt) => date_of(dt),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Error(e.to_string()),
        Data::Empty => Value::Empty,
    }
}

/// Parses defined names that point at one cell (or the first cell of a range):
/// `Reporting!$B$8`, `'Tab 1'!$B$8` (xlsx, xls) and `$Reporting.$B$8` (ods).
fn parse_names(raw: &[(String, String)]) -> Vec<NamedCell> {
    raw.iter()
        .filter_map(|(n, f)| {
            parse_name_target(f).map(|(sheet, row, col)| NamedCell { name: n.trim().to_string(), sheet, row, col })
        })
        .collect()
}

pub(crate) fn parse_name_target(formula: &str) -> Option<(String, u32, u32)> {
    let f = formula.trim().trim_start_matches('=');
    if f.contains("#REF") {
        return None;
    }
    let first = f.split(':').next()?;
    let (sheet, cell) = if let Some(i) = first.rfind('!') {
        (&first[..i], &first[i + 1..])
    } else {
        let i = first.rfind('.')?;
        (&first[..i], &first[i + 1..])
    };
    let sheet = sheet.trim_start_matches('$');
    let sheet = if sheet.len() >= 2 && sheet.starts_with('\'') && sheet.ends_with('\'') {
        sheet[1..sheet.len() - 1].replace("''", "'")
    } else {
        sheet.to_string()
    };
    let (row, col) = parse_a1(cell)?;
    Some((sheet, row, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_targets_of_every_format() {
        assert_eq!(parse_name_target("Reporting!$B$8"), Some(("Reporting".into(), 7, 1)));
        assert_eq!(parse_name_target("'Mein Blatt'!$B$8"), Some(("Mein Blatt".into(), 7, 1)));
        assert_eq!(parse_name_target("$Reporting.$B$8"), Some(("Reporting".into(), 7, 1)));
        assert_eq!(parse_name_target("$'Tab 1'.$B$8:$B$9"), Some(("Tab 1".into(), 7, 1)));
        assert_eq!(parse_name_target("Reporting!#REF!"), None);
    }

    /// The reference for our xlsx reader: calamine's streaming cell reader.
    fn xlsx_via_calamine(bytes: &[u8], limits: &Limits) -> Result<Workbook, ReadError> {
        let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(calamine_err)?;
        let names = parse_names(xlsx.defined_names());
        let meta: Vec<(String, bool)> =
            xlsx.sheets_metadata().iter().map(|s| (s.name.clone(), visible(s.visible))).collect();
        let mut budget = Budget { limits, kept: 0 };
        let mut sheets = Vec::new();
        for (name, vis) in meta {
            let mut sheet = Sheet::new(&name);
            sheet.visible = vis;
            let mut reader = match xlsx.worksheet_cells_reader(&name) {
                Ok(r) => r,
                // Chart sheets and macro sheets have no cells to read.
                Err(calamine::XlsxError::WorksheetNotFound(_)) => continue,
                Err(e) => return Err(calamine_err(e)),
            };
            while let Some(cell) = reader.next_cell().map_err(calamine_err)? {
                let (r, c) = cell.get_position();
                let v = from_data_ref(cell.get_value());
                if v.is_empty() {
                    continue;
                }
                if budget.keep(r, c)? {
                    sheet.set(r, c, v);
                }
            }
            sheets.push(sheet);
        }
        Ok(Workbook { format: Format::Xlsx, sheets, names })
    }

    /// The old way: calamine's dense ods range, cells filtered to the window.
    fn ods_via_calamine(bytes: &[u8], limits: &Limits) -> Workbook {
        let mut ods: calamine::Ods<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let names = parse_names(ods.defined_names());
        let meta: Vec<(String, bool)> =
            ods.sheets_metadata().iter().map(|s| (s.name.clone(), visible(s.visible))).collect();
        ranges_to_workbook(Format::Ods, meta, names, limits, |n| Ok(ods.worksheet_range(n).unwrap())).unwrap()
    }

    #[test]
    fn own_ods_reader_reads_every_sample_like_calamine() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/2023/inbox");
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "ods") {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let l = Limits::default();
            let ours = read_workbook(&bytes, &l).unwrap();
            let theirs = ods_via_calamine(&bytes, &l);
            assert_eq!(ours.names, theirs.names, "{}", p.display());
            assert_eq!(ours.sheets.len(), theirs.sheets.len());
            for (a, b) in ours.sheets.iter().zip(&theirs.sheets) {
                assert_eq!((&a.name, a.visible), (&b.name, b.visible));
                assert_eq!(a.cells, b.cells, "{} / {}", p.display(), a.name);
            }
            n += 1;
        }
        assert!(n > 0);
    }

    fn files_with_extension(dirs: &[&str], exts: &[&str]) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let mut stack: Vec<std::path::PathBuf> =
            dirs.iter().map(|d| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(d)).collect();
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| exts.contains(&x)) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// Our xlsx reader against calamine's on every xlsx the project has: the sample year
    /// (with its traps), the master data, and the format and round-trip fixtures.
    #[test]
    fn own_xlsx_reader_reads_every_sample_like_calamine() {
        let files = files_with_extension(&["samples/2023", "tests/fixtures"], &["xlsx", "xlsm"]);
        let l = Limits::default();
        let mut compared = 0;
        for p in &files {
            let bytes = std::fs::read(p).unwrap();
            let Ok(theirs) = xlsx_via_calamine(&bytes, &l) else {
                // calamine gives up on this file; ours may read it or reject it, but not panic.
                let _ = read_workbook(&bytes, &l);
                continue;
            };
            let ours = read_workbook(&bytes, &l).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(ours.names, theirs.names, "{}", p.display());
            assert_eq!(ours.sheets.len(), theirs.sheets.len(), "{}", p.display());
            for (a, b) in ours.sheets.iter().zip(&theirs.sheets) {
                assert_eq!((&a.name, a.visible), (&b.name, b.visible), "{}", p.display());
                assert_eq!(a.cells, b.cells, "{} / {}", p.display(), a.name);
            }
            compared += 1;
        }
        assert!(compared > 200, "only {compared} of {} files compared", files.len());
    }

    #[test]
    fn unknown_bytes_are_unreadable_not_a_panic() {
        let l = Limits::default();
        assert!(matches!(read_workbook(b"", &l), Err(ReadError::Unreadable(_))));
        assert!(matches!(read_workbook(b"%PDF-1.4 hello", &l), Err(ReadError::Unreadable(_))));
        assert!(matches!(read_workbook(b"PK\x03\x04garbage", &l), Err(ReadError::Unreadable(_))));
    }
}
