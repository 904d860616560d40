//! Stage 1: list every file of the inbox (sub-folders included), classify it by name, and
//! find its receipt date in `Eingangsjournal.csv` or, failing that, its modification time.
//!
//! Nothing is opened for content here, and nothing is ever written to the inbox.

use crate::domain::fmt_date;
use crate::values::parse_date_text;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// The receipt journal's file name, at the top of the inbox.
pub const JOURNAL: &str = "Eingangsjournal.csv";

/// What the file name says a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// `.xlsx`, `.xlsm`, `.xls` or `.ods`: to be read.
    Spreadsheet,
    /// Lock file, hidden file or system file: ignored and listed.
    Ignored(&'static str),
    /// Anything else (a PDF scan, an e-mail, a picture).
    Other,
}

/// Where a receipt date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ReceiptSource {
    Eingangsjournal,
    Aenderungsdatum,
}

impl ReceiptSource {
    pub fn label(self) -> &'static str {
        match self {
            ReceiptSource::Eingangsjournal => "Eingangsjournal",
            ReceiptSource::Aenderungsdatum => "Änderungsdatum der Datei",
        }
    }
}

/// A file of the inbox.
#[derive(Debug, Clone)]
pub struct InboxFile {
    /// Path relative to the inbox with `/` between folders.
    pub rel: String,
    pub path: PathBuf,
    pub kind: EntryKind,
    pub size: u64,
    pub received: Option<NaiveDate>,
    pub received_from: Option<ReceiptSource>,
}

/// The whole inbox, in path order (sorted by UTF-8 bytes).
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    pub files: Vec<InboxFile>,
    /// Problems with the receipt journal, for the run's log (German).
    pub journal_notes: Vec<String>,
    pub journal_path: Option<PathBuf>,
}

#[derive(Debug, Error)]
pub enum ScanError {
    #[error("Der Eingangsordner «{0}» existiert nicht oder ist kein Ordner.")]
    NoInbox(PathBuf),
    #[error("Der Eingangsordner «{path}» kann nicht gelesen werden: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Classifies a file by its name.
pub fn classify(file_name: &str) -> EntryKind {
    let lower = file_name.to_lowercase();
    if file_name.starts_with("~$") {
        EntryKind::Ignored("Sperrdatei von Excel")
    } else if file_name.starts_with('.') {
        EntryKind::Ignored("versteckte Datei")
    } else if matches!(lower.as_str(), "thumbs.db" | "desktop.ini" | "ehthumbs.db") {
        EntryKind::Ignored("Systemdatei")
    } else if file_name.starts_with(".~lock.") {
        EntryKind::Ignored("Sperrdatei von LibreOffice")
    } else {
        match lower.rsplit_once('.').map(|(_, e)| e) {
            Some("xlsx" | "xlsm" | "xls" | "ods") => EntryKind::Spreadsheet,
            _ => EntryKind::Other,
        }
    }
}

fn nfc(s: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    if is_nfc_quick(s.chars()) == IsNormalized::Yes {
        s.to_string()
    } else {
        s.nfc().collect()
    }
}

/// Lists the inbox.
pub fn scan(inbox: &Path) -> Result<Inbox, ScanError> {
    use rayon::prelude::*;
    if !inbox.is_dir() {
        return Err(ScanError::NoInbox(inbox.to_path_buf()));
    }
    let mut out = Inbox::default();
    let journal_path = inbox.join(JOURNAL);
    let journal = if journal_path.is_file() {
        out.journal_path = Some(journal_path.clone());
        match std::fs::read(&journal_path) {
            Ok(bytes) => parse_journal(&bytes, &mut out.journal_notes),
            Err(e) => {
                out.journal_notes.push(format!("Das Eingangsjournal kann nicht gelesen werden: {e}"));
                BTreeMap::new()
            }
        }
    } else {
        BTreeMap::new()
    };
    let mut found = Vec::new();
    walk(inbox, inbox, &mut found)?;
    found.sort_by(|a: &Found, b: &Found| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    // One stat per file, in parallel; the order stays the path order.
    let files: Vec<(InboxFile, String)> = found
        .into_par_iter()
        .filter_map(|f| {
            let meta = std::fs::metadata(&f.path).ok();
            // Follow a link to a file, never one to a folder (no cycles).
            if f.symlink && meta.as_ref().is_some_and(|m| m.is_dir()) {
                return None;
            }
            let key = nfc(&f.rel);
            let (received, received_from) = match journal.get(&key) {
                Some(d) => (Some(*d), Some(ReceiptSource::Eingangsjournal)),
                None => match meta.as_ref().and_then(|m| m.modified().ok()) {
                    Some(t) => (Some(swiss_date(t)), Some(ReceiptSource::Aenderungsdatum)),
                    None => (None, None),
                },
            };
            let file = InboxFile {
                rel: f.rel,
                path: f.path,
                kind: f.kind,
                size: meta.map_or(0, |m| m.len()),
                received,
                received_from,
            };
            Some((file, key))
        })
        .collect();
    let known: std::collections::BTreeSet<&str> = files.iter().map(|(_, k)| k.as_str()).collect();
    for name in journal.keys() {
        if !known.contains(name.as_str()) {
            out.journal_notes.push(format!("Eingangsjournal: Die Datei «{name}» liegt nicht im Eingang."));
        }
    }
    out.files = files.into_iter().map(|(f, _)| f).collect();
    Ok(out)
}

/// A directory entry found by the walk, before its metadata is read.
struct Found {
    rel: String,
    path: PathBuf,
    kind: EntryKind,
    symlink: bool,
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Found>) -> Result<(), ScanError> {
    let io = |e, p: &Path| ScanError::Io { path: p.to_path_buf(), source: e };
    for entry in std::fs::read_dir(dir).map_err(|e| io(e, dir))? {
        let entry = entry.map_err(|e| io(e, dir))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| io(e, &path))?;
        let rel: String = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if ft.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        if dir == root && rel.eq_ignore_ascii_case(JOURNAL) {
            continue;
        }
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let hidden_dir = rel.split('/').rev().skip(1).any(|c| c.starts_with('.'));
        let kind = if hidden_dir { EntryKind::Ignored("in einem versteckten Ordner") } else { classify(&file_name) };
        out.push(Found { rel, path, kind, symlink: ft.is_symlink() });
    }
    Ok(())
}

/// Parses the journal: UTF-8, `;`-separated, header `Datei;Eingangsdatum`, dates `TT.MM.JJJJ`.
pub fn parse_journal(bytes: &[u8], notes: &mut Vec<String>) -> BTreeMap<String, NaiveDate> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.to_lowercase().starts_with("datei")) {
            continue;
        }
        let Some((name, date)) = line.rsplit_once(';') else {
            notes.push(format!("Eingangsjournal, Zeile {}: kein «;» gefunden.", i + 1));
            continue;
        };
        let name = nfc(name.trim().trim_matches('"').replace('\\', "/").trim_start_matches("./"));
        match parse_date_text(date.trim().trim_matches('"')) {
            Some(d) => {
                if let Some(prev) = out.insert(name.clone(), d) {
                    if prev != d {
                        notes.push(format!(
                            "Eingangsjournal, Zeile {}: «{name}» steht mehrfach; es gilt {}.",
                            i + 1,
                            fmt_date(d)
                        ));
                    }
                }
            }
            None => notes.push(format!("Eingangsjournal, Zeile {}: «{}» ist kein Datum.", i + 1, date.trim())),
        }
    }
    out
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    let mut d = next.unwrap_or(NaiveDate::MIN) - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// The calendar date in Swiss local time (CET, CEST from the last Sunday of March to the
/// last Sunday of October, switching at 01:00 UTC).
pub fn swiss_date_of(utc: DateTime<Utc>) -> NaiveDate {
    let y = utc.year();
    let start =
        Utc.from_utc_datetime(&NaiveDateTime::new(last_sunday(y, 3), chrono::NaiveTime::MIN)) + Duration::hours(1);
    let end =
        Utc.from_utc_datetime(&NaiveDateTime::new(last_sunday(y, 10), chrono::NaiveTime::MIN)) + Duration::hours(1);
    let offset = if utc >= start && utc < end { 2 } else { 1 };
    (utc + Duration::hours(offset)).date_naive()
}

fn swiss_date(t: std::time::SystemTime) -> NaiveDate {
    swiss_date_of(DateTime::<Utc>::from(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ymd;

    #[test]
    fn names_are_classified() {
        assert_eq!(classify("~$Reporting.xlsx"), EntryKind::Ignored("Sperrdatei von Excel"));
        assert!(matches!(classify("Thumbs.db"), EntryKind::Ignored(_)));
        assert!(matches!(classify("desktop.ini"), EntryKind::Ignored(_)));
        assert!(matches!(classify(".DS_Store"), EntryKind::Ignored(_)));
        assert_eq!(classify("Reporting.XLSX"), EntryKind::Spreadsheet);
        assert_eq!(classify("a.ods"), EntryKind::Spreadsheet);
        assert_eq!(classify("a.xls"), EntryKind::Spreadsheet);
        assert_eq!(classify("a.xlsm"), EntryKind::Spreadsheet);
        assert_eq!(classify("scan.pdf"), EntryKind::Other);
        assert_eq!(classify("ohne_endung"), EntryKind::Other);
    }

    #[test]
    fn journal_lines() {
        let mut notes = vec![];
        let j = parse_journal(
            "\u{feff}Datei;Eingangsdatum\r\nsub\\a.xlsx;28.07.2023\nb.xlsx;kaputt\nc.xlsx;2023-01-05\n".as_bytes(),
            &mut notes,
        );
        assert_eq!(j.get("sub/a.xlsx"), Some(&ymd(2023, 7, 28)));
        assert_eq!(j.get("c.xlsx"), Some(&ymd(2023, 1, 5)));
        assert_eq!(j.len(), 2);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn swiss_local_dates_across_midnight_and_dst() {
        // 23:30 UTC in winter is 00:30 CET the next day.
        let t = Utc.with_ymd_and_hms(2024, 1, 31, 23, 30, 0).unwrap();
        assert_eq!(swiss_date_of(t), ymd(2024, 2, 1));
        // 22:30 UTC in summer is 00:30 CEST the next day.
        let t = Utc.with_ymd_and_hms(2023, 7, 31, 22, 30, 0).unwrap();
        assert_eq!(swiss_date_of(t), ymd(2023, 8, 1));
        // 22:30 UTC in winter is still the same day.
        let t = Utc.with_ymd_and_hms(2023, 12, 31, 22, 30, 0).unwrap();
        assert_eq!(swiss_date_of(t), ymd(2023, 12, 31));
    }
}
