//! Stage 1: list every file of the inbox (sub-folders included), classify it by name, and
//! find its receipt date in `Eingangsjournal.csv` or, failing that, its modification time.
//!
//! Nothing is opened for content here, and nothing is ever written to the inbox.

use crate::domain::fmt_date;
use crate::values::parse_date_text;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// The receipt journal's file name, at the top of the inbox.
pub const JOURNAL: &str = "Eingangsjournal.csv";

/// What the file name and the directory entry say a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// `.xlsx`, `.xlsm`, `.xlsb`, `.xls` or `.ods`: to be read.
    Spreadsheet,
    /// Lock file, hidden file or system file: ignored and listed, never opened.
    Ignored(&'static str),
    /// Anything else (a PDF scan, an e-mail, a picture).
    Other,
    /// A symbolic link (to a file or a folder): never followed, so nothing outside the inbox
    /// is ever read. The text says what it points to.
    Link(String),
    /// Not a regular file: a named pipe, a socket or a device. Never opened (a pipe would
    /// block the run forever, a device never ends).
    Special(&'static str),
    /// A sub-folder that cannot be listed; the text is the system's reason.
    UnreadableDir(String),
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
    /// Path relative to the inbox with `/` between folders: the file's identity in every
    /// output. Never lossy: a name that is not UTF-8 is escaped injectively (see [`rel_name`]),
    /// so two different files never share it. A folder that cannot be listed ends in `/`.
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
    /// SHA-256 of exactly the journal bytes that were used.
    pub journal_sha256: Option<String>,
}

/// The largest receipt journal that is read (a journal of 100,000 lines is about 5 MB).
pub const MAX_JOURNAL_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum ScanError {
    #[error("Der Eingangsordner «{}» existiert nicht oder ist kein Ordner.", .0.display())]
    NoInbox(PathBuf),
    #[error("Der Eingangsordner «{}» kann nicht gelesen werden: {}", path.display(), crate::catalogue::os_error(err))]
    Io { path: PathBuf, err: std::io::Error },
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
            Some("xlsx" | "xlsm" | "xlsb" | "xls" | "ods") => EntryKind::Spreadsheet,
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
    let journal = match std::fs::symlink_metadata(&journal_path) {
        Err(_) => BTreeMap::new(),
        Ok(_) => {
            out.journal_path = Some(journal_path.clone());
            match crate::fsio::read_regular_file(&journal_path, MAX_JOURNAL_BYTES) {
                Ok(bytes) => {
                    out.journal_sha256 = Some(crate::fsio::sha256_hex(&bytes));
                    parse_journal(&bytes, &mut out.journal_notes)
                }
                Err(e) => {
                    out.journal_notes.push(format!("Das Eingangsjournal wird nicht verwendet: {e}"));
                    BTreeMap::new()
                }
            }
        }
    };
    let mut found = Vec::new();
    let root = std::fs::read_dir(inbox).map_err(|e| ScanError::Io { path: inbox.to_path_buf(), err: e })?;
    walk(inbox, root, &mut found);
    found.sort_by(|a: &Found, b: &Found| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    // One stat per file, in parallel; the order stays the path order.
    let files: Vec<(InboxFile, String)> = found
        .into_par_iter()
        .map(|f| {
            // The link itself, never what it points to: nothing outside the inbox is touched.
            let meta = std::fs::symlink_metadata(&f.path).ok();
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
                size: meta.filter(|m| m.is_file()).map_or(0, |m| m.len()),
                received,
                received_from,
            };
            (file, key)
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
}

/// A path component as text: unchanged when it is UTF-8 without a backslash; otherwise every
/// backslash becomes `\\` and every byte that is not UTF-8 becomes `\xNN`. The mapping is
/// injective (a plain name holds no backslash, an escaped one always does), so two different
/// files never get the same name in the outputs, as they would with a lossy `�`.
pub fn rel_name(name: &std::ffi::OsStr) -> String {
    if let Some(s) = name.to_str() {
        if !s.contains('\\') {
            return s.to_string();
        }
    }
    let bytes = os_bytes(name);
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if ch == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(ch);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(unix)]
fn os_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(name.as_bytes())
}

#[cfg(not(unix))]
fn os_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    // Windows names are UTF-16; unpaired surrogates are the only non-UTF-8 case.
    std::borrow::Cow::Owned(name.as_encoded_bytes().to_vec())
}

/// What kind of special file a file type is, for the finding.
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "benannte Pipe (FIFO)";
        }
        if ft.is_socket() {
            return "Socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "Gerätedatei";
        }
    }
    let _ = ft;
    "keine gewöhnliche Datei"
}

/// Walks one folder. A sub-folder that cannot be listed becomes an entry of its own (and a
/// finding), never an abort: the rest of the inbox is still read.
fn walk(root: &Path, entries: std::fs::ReadDir, out: &mut Vec<Found>) {
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("Eintrag im Eingang nicht lesbar: {}", crate::catalogue::os_error(&e));
                continue;
            }
        };
        let path = entry.path();
        let rel: String = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| rel_name(c.as_os_str()))
            .collect::<Vec<_>>()
            .join("/");
        let parent_is_root = path.parent() == Some(root);
        if parent_is_root && rel.eq_ignore_ascii_case(JOURNAL) {
            continue;
        }
        let file_name = rel_name(&entry.file_name());
        let hidden_dir = rel.split('/').rev().skip(1).any(|c| c.starts_with('.'));
        // `file_type` does not follow links.
        let ft = match entry.file_type() {
            Ok(ft) => ft,
            Err(e) => {
                out.push(Found { rel, path, kind: EntryKind::UnreadableDir(e.to_string()) });
                continue;
            }
        };
        if ft.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(sub) => walk(root, sub, out),
                Err(e) => {
                    out.push(Found { rel: format!("{rel}/"), path, kind: EntryKind::UnreadableDir(e.to_string()) })
                }
            }
            continue;
        }
        let kind = if hidden_dir {
            EntryKind::Ignored("in einem versteckten Ordner")
        } else {
            match classify(&file_name) {
                // Ignored names are listed whatever they are, and never opened.
                k @ EntryKind::Ignored(_) => k,
                _ if ft.is_symlink() => {
                    let target = std::fs::read_link(&path)
                        .map(|t| t.display().to_string().chars().take(200).collect())
                        .unwrap_or_default();
                    EntryKind::Link(target)
                }
                _ if !ft.is_file() => EntryKind::Special(special_kind(&ft)),
                k => k,
            }
        };
        out.push(Found { rel, path, kind });
    }
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

/// The local date and time in Switzerland (`Europe/Zurich`: CET, and CEST from the last
/// Sunday of March to the last Sunday of October, switching at 01:00 UTC).
fn swiss_local(utc: DateTime<Utc>) -> NaiveDateTime {
    utc.with_timezone(&chrono_tz::Europe::Zurich).naive_local()
}

/// The calendar date in Swiss local time.
pub fn swiss_date_of(utc: DateTime<Utc>) -> NaiveDate {
    swiss_local(utc).date()
}

fn swiss_date(t: std::time::SystemTime) -> NaiveDate {
    swiss_date_of(DateTime::<Utc>::from(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ymd;
    use chrono::TimeZone;

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

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        ymd(y, mo, d).and_hms_opt(h, mi, s).unwrap()
    }

    /// The switches are at 01:00 UTC on the last Sundays of March (31.03.2024, 26.03.2023)
    /// and October (27.10.2024, 29.10.2023): one second before and at each.
    #[test]
    fn swiss_local_time_on_both_sides_of_each_switch() {
        let utc = |y, mo, d, h, mi, s| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap();
        // March: 01:59:59 CET, then 03:00:00 CEST.
        assert_eq!(swiss_local(utc(2024, 3, 31, 0, 59, 59)), local(2024, 3, 31, 1, 59, 59));
        assert_eq!(swiss_local(utc(2024, 3, 31, 1, 0, 0)), local(2024, 3, 31, 3, 0, 0));
        assert_eq!(swiss_local(utc(2023, 3, 26, 0, 59, 59)), local(2023, 3, 26, 1, 59, 59));
        assert_eq!(swiss_local(utc(2023, 3, 26, 1, 0, 0)), local(2023, 3, 26, 3, 0, 0));
        // October: 02:59:59 CEST, then 02:00:00 CET.
        assert_eq!(swiss_local(utc(2024, 10, 27, 0, 59, 59)), local(2024, 10, 27, 2, 59, 59));
        assert_eq!(swiss_local(utc(2024, 10, 27, 1, 0, 0)), local(2024, 10, 27, 2, 0, 0));
        assert_eq!(swiss_local(utc(2023, 10, 29, 0, 59, 59)), local(2023, 10, 29, 2, 59, 59));
        assert_eq!(swiss_local(utc(2023, 10, 29, 1, 0, 0)), local(2023, 10, 29, 2, 0, 0));
        // Dates: 22:30 UTC is 23:30 the same day in CET, 00:30 the next day in CEST. The
        // Saturday before the March switch is still CET, its Sunday already CEST.
        assert_eq!(swiss_date_of(utc(2024, 3, 30, 22, 30, 0)), ymd(2024, 3, 30));
        assert_eq!(swiss_date_of(utc(2024, 3, 31, 22, 30, 0)), ymd(2024, 4, 1));
        // The Saturday before the October switch is still CEST, its Sunday already CET.
        assert_eq!(swiss_date_of(utc(2024, 10, 26, 22, 30, 0)), ymd(2024, 10, 27));
        assert_eq!(swiss_date_of(utc(2024, 10, 27, 22, 30, 0)), ymd(2024, 10, 27));
    }
}
