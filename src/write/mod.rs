//! Stage 6: the outputs. Everything is built in memory, staged in a temporary folder inside
//! the output folder, and renamed into place only when every file was written: outputs
//! appear whole or not at all.

pub mod annex;
pub mod feedback;
pub mod json;
pub mod report;
pub mod style;

use crate::compute::Computation;
use crate::domain::{Bfs, Finding};
use crate::stammdaten::Stammdaten;
use crate::validate::Resolved;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
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
    /// The AGS contact printed on feedback letters.
    pub contact: &'a str,
    /// The program version.
    pub version: &'a str,
}

impl RunData<'_> {
    pub fn name_of(&self, bfs: Option<Bfs>) -> String {
        bfs.and_then(|b| self.master.municipality(b)).map(|m| m.name.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("Der Ausgabeordner «{path}» kann nicht beschrieben werden: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Die Excel-Datei «{name}» kann nicht erstellt werden: {source}")]
    Xlsx {
        name: String,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("Die JSON-Datei «{name}» kann nicht erstellt werden: {source}")]
    Json {
        name: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The manifest's file name; it is renamed into place last.
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

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(path: &Path, source: std::io::Error) -> WriteError {
    WriteError::Io { path: path.to_path_buf(), source }
}

/// Checks early that the output folder can be created and written to.
pub fn check_writable(out: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let probe = out.join(format!(".beitraege-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| io(out, e))?;
    std::fs::remove_file(&probe).map_err(|e| io(out, e))
}

/// Writes all files atomically: first into a staging folder, then renamed into place.
/// Top-level folders among the outputs (e.g. `Rueckmeldungen/`) are replaced whole.
pub fn commit(out: &Path, files: &[OutFile]) -> Result<(), WriteError> {
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let stage = out.join(format!(".beitraege-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    let guard = StageGuard(stage.clone());
    for f in files {
        let p = stage.join(&f.rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&p, &f.bytes).map_err(|e| io(&p, e))?;
        std::fs::File::open(&p).and_then(|h| h.sync_all()).map_err(|e| io(&p, e))?;
    }
    // Everything is staged: move it into place.
    let mut tops: Vec<&str> = files.iter().map(|f| f.rel.split('/').next().unwrap_or(&f.rel)).collect();
    tops.sort_unstable();
    tops.dedup();
    // The manifest goes last: its presence with matching hashes marks a complete run.
    tops.sort_by_key(|t| *t == MANIFEST);
    for top in tops {
        let from = stage.join(top);
        let to = out.join(top);
        if from.is_dir() {
            let old = out.join(format!(".beitraege-old-{}-{top}", std::process::id()));
            if to.exists() {
                std::fs::rename(&to, &old).map_err(|e| io(&to, e))?;
            }
            std::fs::rename(&from, &to).map_err(|e| io(&to, e))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&from, &to).map_err(|e| io(&to, e))?;
        }
    }
    drop(guard);
    Ok(())
}

/// Removes the staging folder on every exit path.
struct StageGuard(PathBuf);

impl Drop for StageGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Saves a workbook into an output file.
pub fn save(rel: impl Into<String>, wb: &mut rust_xlsxwriter::Workbook) -> Result<OutFile, WriteError> {
    let rel = rel.into();
    let bytes = wb.save_to_buffer().map_err(|source| WriteError::Xlsx { name: rel.clone(), source })?;
    Ok(OutFile { rel, bytes })
}
