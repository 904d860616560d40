//! The plain journal export for the finance department and the auditors: CSV, UTF-8 with
//! BOM (Excel opens it right), `;`-separated, one row per booking in booking order. Each row
//! carries the hash of the row before and its own hash, so a changed, inserted or removed
//! row breaks the chain: `verify_csv` recomputes it from the file alone.

use super::{Booking, GENESIS};
use crate::domain::fmt_date;
use crate::write::hex;
use sha2::{Digest, Sha256};

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
        b.year.to_string(),
        b.periode.clone(),
        b.leistung.clone(),
        format!("{:.2}", b.betrag),
        b.count.map(|c| c.to_string()).unwrap_or_default(),
        b.tariff.clone(),
        ev.join(" | "),
        b.due_on.map(fmt_date).unwrap_or_default(),
        b.bezug.clone().unwrap_or_default(),
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

/// The CSV text. The last column is the row's hash: SHA-256 of the previous row's hash, a
/// line feed, and the row's text up to and including the `;` before the hash.
pub fn export(bookings: &[Booking]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(";"));
    out.push_str(";Hash\r\n");
    let mut prev = GENESIS.to_string();
    for b in bookings {
        let mut line: String = row_fields(b).iter().map(|f| field(f)).collect::<Vec<_>>().join(";");
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
