//! The plain journal export for the finance department and the auditors: CSV, UTF-8 with
//! BOM (Excel opens it right), `;`-separated, one row per booking in booking order. Each row
//! carries the hash of the row before and its own hash, so a changed, inserted or removed
//! row breaks the chain: `verify_csv` recomputes it from the file alone.
//!
//! The last row (`Kettenkopf;<Nr.>;<MAC>;<Buchungen>;…`) anchors the ledger's keyed chain as
//! it stood when the journal was written: `beitraege pruefen --journal` compares every row
//! with the ledger and the anchored head with the ledger's chain ([`check`]).

use super::chain::{Entry, Head, Tamper};
use super::{Booking, GENESIS};
use crate::domain::fmt_date;
use crate::fsio::hex;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The first field of the journal's last row, the anchored head of the ledger's chain.
pub const HEAD_ROW: &str = "Kettenkopf";

pub const FILE_NAME: &str = "Buchungsjournal.csv";

pub const HEADER: [&str; 20] = [
    "Nr.",
    "Buchungs-ID",
    "Lauf-ID",
    "Stichtag",
    "Art",
    "Zahlungsempfänger",
    "BFS-Nr.",
    "Jahr",
    "Periode",
    "Leistung",
    "Betrag CHF",
    "Anzahl",
    "Tarif",
    "Belege (Datei SHA-256)",
    "Fällig am",
    "Bezug",
    "Text",
    "Programmversion",
    "Gebucht am",
    "Hash vorher",
];

fn field(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn row_fields(b: &Booking) -> Vec<String> {
    let ev: Vec<String> = b.evidence.iter().map(|e| format!("{} {}", e.datei, e.sha256)).collect();
    vec![
        b.seq.to_string(),
        b.id.clone(),
        b.run_id.clone(),
        fmt_date(b.stichtag),
        b.art.as_str().to_string(),
        b.payee.to_string(),
        b.bfs.to_string(),
        b.periode.year.to_string(),
        b.periode.to_string(),
        b.leistung.as_str().to_string(),
        format!("{:.2}", b.betrag),
        b.count.map(|c| c.to_string()).unwrap_or_default(),
        b.tariff.clone(),
        ev.join(" | "),
        b.due_on.map(fmt_date).unwrap_or_default(),
        b.bezug.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default(),
        b.text.clone(),
        b.program_version.clone(),
        b.booked_at.clone(),
    ]
}

fn line_hash(prev: &str, line: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(line.as_bytes());
    hex(&h.finalize())
}

/// A booking's row as the journal writes it, without the two hash columns.
fn row_text(b: &Booking) -> String {
    row_fields(b).iter().map(|f| field(f)).collect::<Vec<_>>().join(";")
}

/// An extract of the journal (some of its bookings, e.g. one municipality's, for a spot
/// check's evidence): the same columns and rows as [`export`], without the two hash columns
/// (a chain over a selection would prove nothing; the full journal carries it).
pub fn extract<'a>(bookings: impl IntoIterator<Item = &'a Booking>) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER[..HEADER.len() - 1].join(";"));
    out.push_str("\r\n");
    for b in bookings {
        out.push_str(&row_text(b));
        out.push_str("\r\n");
    }
    out
}

/// The CSV text. The last column is the row's hash: SHA-256 of the previous row's hash, a
/// line feed, and the row's text up to and including the `;` before the hash. With `head`,
/// a last row anchors the ledger's chain (`Kettenkopf;<Nr.>;<MAC>;<Buchungen>`), chained
/// like the others.
pub fn export(bookings: &[Booking], head: Option<&Head>) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(";"));
    out.push_str(";Hash\r\n");
    let mut prev = GENESIS.to_string();
    let head_row = head.map(|h| format!("{HEAD_ROW};{};{};{}", h.pos, h.mac, bookings.len()));
    for mut line in bookings.iter().map(row_text).chain(head_row) {
        line.push(';');
        line.push_str(&prev);
        line.push(';');
        let h = line_hash(&prev, &line);
        out.push_str(&line);
        out.push_str(&h);
        out.push_str("\r\n");
        prev = h;
    }
    out
}

/// Checks the chain of an exported journal; returns the first broken line number (1-based,
/// counting the header) or `None` when the whole file is intact.
pub fn verify_csv(text: &str) -> Option<usize> {
    let text = text.trim_start_matches('\u{feff}');
    let mut prev = GENESIS.to_string();
    for (i, line) in text.split("\r\n").enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let Some((body, hash)) = line.rsplit_once(';') else { return Some(i + 1) };
        let body = format!("{body};");
        if !body.ends_with(&format!(";{prev};")) || line_hash(&prev, &body) != hash {
            return Some(i + 1);
        }
        prev = hash.to_string();
    }
    None
}

/// What a journal says, compared with the ledger.
#[derive(Debug, Clone, Default)]
pub struct JournalCheck {
    /// Booking rows.
    pub rows: usize,
    /// The head its last row anchors (`None`: a journal written before heads were anchored).
    pub head: Option<Head>,
    pub findings: Vec<Tamper>,
}

/// Checks a journal's text against the ledger's bookings and chain `entries`: its own hash
/// chain, every row equal to the ledger's booking of that number (the first that is not is
/// named), and its anchored head in the chain with exactly the bookings chained up to it.
pub fn check(path: &Path, text: &str, bookings: &[Booking], entries: &[Entry]) -> JournalCheck {
    let mut out = JournalCheck::default();
    let path = path.to_path_buf();
    if let Some(line) = verify_csv(text) {
        out.findings.push(Tamper::JournalBroken { path, line });
        return out;
    }
    let by_seq: std::collections::BTreeMap<i64, &Booking> = bookings.iter().map(|b| (b.seq, b)).collect();
    // Rows that differ from the ledger (line, number, whether the ledger has that number).
    let mut differ: Vec<(usize, i64, bool)> = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').split("\r\n").enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        // The row without its two hash columns (the chain above has checked them).
        let body = line.rsplitn(3, ';').nth(2).unwrap_or_default();
        if let Some(h) = body.strip_prefix(&format!("{HEAD_ROW};")) {
            let f: Vec<&str> = h.split(';').collect();
            match (f.first().and_then(|p| p.parse::<i64>().ok()), f.get(1)) {
                (Some(pos), Some(mac)) => out.head = Some(Head { pos, mac: mac.to_string() }),
                _ => out.findings.push(Tamper::JournalBroken { path: path.clone(), line: i + 1 }),
            }
            continue;
        }
        out.rows += 1;
        let seq = body.split(';').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
        match by_seq.get(&seq) {
            Some(b) if row_text(b) == body => {}
            known => differ.push((i + 1, seq, known.is_some())),
        }
    }
    let ahead = out.head.as_ref().is_some_and(|h| h.pos > entries.last().map(|e| e.pos).unwrap_or(0));
    // The first row that differs (a journal newer than the ledger has rows the ledger lacks:
    // that is said once, below).
    if let Some((line, seq, _)) = differ.iter().find(|(_, _, known)| *known || !ahead) {
        out.findings.push(Tamper::JournalDiffers { path: path.clone(), line: *line, seq: *seq });
    }
    if let Some(h) = &out.head {
        let head = entries.last().map(|e| e.pos).unwrap_or(0);
        let at = if h.pos == 0 { Some(GENESIS) } else { entries.get((h.pos - 1) as usize).map(|e| e.mac.as_str()) };
        if h.pos > head {
            out.findings.push(Tamper::JournalAhead { path: path.clone(), pos: h.pos, head });
        } else if at != Some(h.mac.as_str()) {
            out.findings.push(Tamper::JournalDiverged { path: path.clone(), pos: h.pos });
        } else {
            let expected = entries.iter().filter(|e| e.pos <= h.pos && e.table == "bookings").count();
            if expected != out.rows {
                out.findings.push(Tamper::JournalIncomplete { path, pos: h.pos, found: out.rows, expected });
            }
        }
    }
    out
}
