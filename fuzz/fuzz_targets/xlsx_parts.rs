//! Feeds arbitrary XML to our own xlsx reader, inside a well-formed zip container, so the
//! fuzzer works on the parts' XML instead of breaking the deflate streams and checksums.
//! The input is split at NUL bytes (which XML cannot contain) into `xl/workbook.xml`,
//! `xl/worksheets/sheet1.xml`, `xl/sharedStrings.xml`, `xl/styles.xml` and
//! `xl/_rels/workbook.xml.rels`; missing parts get a minimal default. The workbook then
//! goes through recognition and validation as in `read_form`. Any panic is a crash.
//! Seeds: `just fuzz-xlsx` writes them from the sample year's xlsx files.
#![no_main]

mod common;

use beitraege::workbook::{read_workbook, Limits};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

const NAMES: [&str; 5] =
    ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml", "xl/_rels/workbook.xml.rels"];
const DEFAULT_RELS: &str = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
const DEFAULT_BOOK: &str = r#"<workbook xmlns:r="r"><sheets><sheet name="Reporting" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

fn package(data: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    if parts[0].is_empty() {
        parts[0] = DEFAULT_BOOK.as_bytes();
    }
    if parts.len() < 5 {
        parts.resize(5, b"");
        parts[4] = DEFAULT_RELS.as_bytes();
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, part) in NAMES.iter().zip(&parts) {
        if !part.is_empty() {
            z.start_file(*name, opts).unwrap();
            z.write_all(part).unwrap();
        }
    }
    z.finish().unwrap();
    buf.into_inner()
}

fuzz_target!(|data: &[u8]| {
    let bytes = package(data);
    let Ok(wb) = read_workbook(&bytes, &Limits::default()) else { return };
    common::recognise_and_validate(&wb, bytes.len());
});
