//! Shared helpers of the integration tests.
#![allow(dead_code)]

pub mod alloc;
pub mod forms;
pub mod inbox;
pub mod letters;
pub mod xlsb;
pub mod zip;

use beitraege::run::EvaluationOptions;
use beitraege::workbook::Limits;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample() -> PathBuf {
    root().join("samples/2023")
}

/// Run options for the sample year with a fixed document date.
pub fn sample_options(out: &Path, threads: Option<usize>) -> EvaluationOptions {
    EvaluationOptions {
        year: 2023,
        inbox: sample().join("inbox"),
        stammdaten: sample().join("Stammdaten.xlsx"),
        out: out.to_path_buf(),
        threads,
        limits: Limits::default(),
        run_date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: None,
        progress: None,
        force: false,
        received_by: None,
        buchhaltung: None,
    }
}

/// A minimal CSV reader (the expected files have no quoting): header → rows of maps.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect())
        .collect()
}

/// A zip package of the given entries (`mimetype` stored, as ODF wants it; the rest deflated).
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = ::zip::ZipWriter::new(&mut buf);
    for (name, data) in entries {
        let method =
            if *name == "mimetype" { ::zip::CompressionMethod::Stored } else { ::zip::CompressionMethod::Deflated };
        z.start_file(*name, ::zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

/// An e-mail draft with its MIME boundary (random for every draft) replaced by `BOUNDARY`:
/// two drafts of the same inputs are then the same bytes.
pub fn eml_normalised(bytes: &[u8]) -> Vec<u8> {
    use mail_parser::MimeHeaders;
    let msg = mail_parser::MessageParser::default().parse(bytes).expect("a draft parses");
    let boundary = msg.content_type().and_then(|c| c.attribute("boundary")).expect("a multipart draft").to_string();
    String::from_utf8_lossy(bytes).replace(&boundary, "BOUNDARY").into_bytes()
}
