//! Stage 6: the outputs. Everything is built in memory, then [`commit::OutputDir`] replaces
//! the previous outputs by the new ones in one atomic step: outputs appear whole or not at
//! all, and files the program did not write are never touched.

pub mod annex;
pub mod annex_doc;
pub mod annex_ledger;
pub mod columns;
pub mod commit;
pub mod feedback;
pub mod form_layout;
pub mod json;
pub mod report;
pub mod style;
pub mod table_sheet;

pub use commit::OutputDir;

use crate::compute::Computation;
use crate::domain::{Bfs, Finding};
use crate::resolve::Resolved;
use crate::stammdaten::Stammdaten;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use thiserror::Error;

/// Everything a writer may read.
pub struct RunData<'a> {
    pub year: i32,
    /// The date printed on the documents (and their creation date, for reproducible files).
    pub run_date: NaiveDate,
    pub master: &'a Stammdaten,
    pub resolved: &'a Resolved,
    pub comp: &'a Computation,
    /// All findings in report order.
    pub findings: &'a [Finding],
    /// The AGS contact printed on the letters and the feedback workbooks, one text for both
    /// (`--kontakt`, else `Absender`, else `Kontakt`: [`crate::run::contact_of`]); empty: none.
    pub contact: &'a str,
    /// The program version.
    pub version: &'a str,
    /// What the ledger has paid and what is open (`run --buchhaltung`).
    pub ledger: Option<&'a annex_ledger::AnnexView>,
}

impl RunData<'_> {
    pub fn name_of(&self, bfs: Option<Bfs>) -> String {
        bfs.and_then(|b| self.master.municipality(b)).map(|m| m.name.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("Der Ausgabeordner «{}» kann nicht beschrieben werden: {}", path.display(), crate::catalogue::os_error(err))]
    Io { path: PathBuf, err: std::io::Error },
    #[error("Die Excel-Datei «{name}» kann nicht erstellt werden: {source}")]
    Xlsx { name: String, source: rust_xlsxwriter::XlsxError },
    #[error(
        "Der Ausgabeordner «{path}» wird gerade von einem anderen Lauf verwendet ({holder}). \
         Bitte warten, bis dieser beendet ist, und dann erneut starten."
    )]
    Locked { path: PathBuf, holder: String },
    #[error("{0}")]
    Refused(String),
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

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// A file to be written: its path relative to the output folder and its bytes.
#[derive(Debug, Clone)]
pub struct OutFile {
    pub rel: String,
    pub bytes: Vec<u8>,
}

impl OutFile {
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(&self.bytes))
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
    let bytes = wb.save_to_buffer().map_err(|source| WriteError::Xlsx { name: rel.clone(), source })?;
    Ok(OutFile { rel, bytes })
}
