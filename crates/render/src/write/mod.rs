//! Stage 6: the outputs. Everything is built in memory, then [`commit::OutputDir`] replaces
//! the previous outputs by the new ones in one atomic step: outputs appear whole or not at
//! all, and files the program did not write are never touched.

pub mod annex;
pub mod annex_doc;
pub mod annex_ledger;
pub mod columns;
/// The atomic output folder (in the core, which the ledger uses too).
pub use beitraege_core::commit;
pub mod feedback;
pub mod form_layout;
pub mod json;
pub mod korrespondenz;
pub mod report;
pub mod style;
pub mod table_sheet;

pub use commit::OutputDir;

use crate::compute::Computation;
use crate::domain::{Bfs, Finding};
use crate::resolve::Resolved;
use crate::stammdaten::Stammdaten;
use chrono::NaiveDate;
use std::path::PathBuf;
use thiserror::Error;

/// Everything a writer may read.
pub struct EvaluationData<'a> {
    pub year: i32,
    /// The date printed on the documents (and their creation date, for reproducible files).
    pub run_date: NaiveDate,
    pub master: &'a Stammdaten,
    pub resolved: &'a Resolved,
    pub comp: &'a Computation,
    /// All findings in report order.
    pub findings: &'a [Finding],
    /// The AGS contact printed on the letters and the feedback workbooks, one text for both
    /// (`--kontakt`, else `Absender`, else `Kontakt`: `run::contact_of` of the application); empty: none.
    pub contact: &'a str,
    /// The program version.
    pub version: &'a str,
    /// What the ledger has paid and what is open (`run --buchhaltung`).
    pub ledger: Option<&'a annex_ledger::AnnexView>,
}

impl EvaluationData<'_> {
    pub fn name_of(&self, bfs: Option<Bfs>) -> String {
        bfs.and_then(|b| self.master.municipality(b)).map(|m| m.name.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Error)]
pub enum WriteError {
    /// The output folder: cannot be written, locked by another run, or refused.
    #[error(transparent)]
    Commit(commit::CommitError),
    #[error("Die Excel-Datei «{name}» kann nicht erstellt werden: {source}")]
    Xlsx { name: String, source: rust_xlsxwriter::XlsxError },
    #[error("Die Buchhaltung «{path}» kann nicht gelesen werden: {message}")]
    Ledger { path: PathBuf, message: String },
    #[error("Das Dokument «{name}» kann nicht erstellt werden: {reason}")]
    Document { name: String, reason: String },
    #[error("Die JSON-Datei «{name}» kann nicht erstellt werden: {source}")]
    Json { name: String, source: serde_json::Error },
    /// An output folder or a ledger in a place that would let a command replace what it must
    /// not (refused before anything is read).
    #[error(transparent)]
    Place(#[from] commit::PlaceError),
}

pub use commit::{OutFile, MANIFEST};

impl From<commit::CommitError> for WriteError {
    /// A refused place stays [`WriteError::Place`], whichever layer found it.
    fn from(e: commit::CommitError) -> Self {
        match e {
            commit::CommitError::Place(p) => WriteError::Place(p),
            e => WriteError::Commit(e),
        }
    }
}
pub use crate::fsio::hex;

/// Turns a spreadsheet writer's error into the error of the file `name`.
pub fn xl(name: &str) -> impl FnOnce(rust_xlsxwriter::XlsxError) -> WriteError + '_ {
    move |source| WriteError::Xlsx { name: name.to_string(), source }
}

/// Saves a workbook into an output file.
pub fn save(rel: impl Into<String>, wb: &mut rust_xlsxwriter::Workbook) -> Result<OutFile, WriteError> {
    let rel = rel.into();
    let mut bytes = wb.save_to_buffer().map_err(|source| WriteError::Xlsx { name: rel.clone(), source })?;
    made_by_unix(&mut bytes);
    Ok(OutFile { rel, bytes })
}

/// The zip writer records the system that made each entry (Unix on Linux, FAT on Windows):
/// set to Unix everywhere, so a workbook has the same bytes on every system (the Windows
/// build's outputs equal the Linux build's, tools/wine-check.sh). A zip that does not parse
/// is left as it is.
pub fn made_by_unix(zip: &mut [u8]) {
    let Some(eocd) = zip.len().checked_sub(22).filter(|&i| zip[i..i + 4] == *b"PK\x05\x06") else { return };
    let u16_at = |z: &[u8], i: usize| z.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let (Some(entries), Some(offset)) = (
        u16_at(zip, eocd + 10),
        zip.get(eocd + 16..eocd + 20).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
    ) else {
        return;
    };
    let mut at = offset;
    let mut headers = Vec::with_capacity(entries);
    for _ in 0..entries {
        if zip.get(at..at + 4) != Some(b"PK\x01\x02".as_slice()) {
            return;
        }
        let (Some(n), Some(x), Some(c)) = (u16_at(zip, at + 28), u16_at(zip, at + 30), u16_at(zip, at + 32)) else {
            return;
        };
        headers.push(at);
        at += 46 + n + x + c;
    }
    for h in headers {
        zip[h + 5] = 3;
    }
}

#[cfg(test)]
mod made_by_tests {
    #[test]
    fn every_entry_is_made_by_unix_and_the_zip_still_reads() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().write_string(0, 0, "Gemeinde Ä").unwrap();
        let mut bytes = wb.save_to_buffer().unwrap();
        // As the Windows build writes them: made by FAT (0).
        let cd: Vec<usize> =
            bytes.windows(4).enumerate().filter(|(_, w)| *w == b"PK\x01\x02").map(|(i, _)| i).collect();
        assert!(cd.len() >= 5);
        for &h in &cd {
            bytes[h + 5] = 0;
        }
        super::made_by_unix(&mut bytes);
        assert!(cd.iter().all(|&h| bytes[h + 5] == 3));
        let z = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(z.len(), cd.len());
        // A buffer that is no zip is left alone.
        let mut junk = b"kein zip".to_vec();
        super::made_by_unix(&mut junk);
        assert_eq!(junk, b"kein zip");
    }
}
