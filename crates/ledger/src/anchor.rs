//! The anchor file (`<ledger>.anker`): after every command that writes the ledger, the head
//! of its chain is appended here, one line per head, outside the database. A ledger that
//! falls behind a line (truncated, or replaced by an older copy) or holds another entry at
//! an anchored position is refused.
//!
//! A line is `Nr.;Zeit;Art;Kette-Nr.;Kette-MAC;Buchungen;Läufe;Vermerk;Zeilen-MAC`; the line
//! MAC is an HMAC under the ledger's key over the previous line's MAC and the line up to it,
//! so no line can be edited, inserted or reordered without the key. The file is only ever
//! appended to (under an exclusive lock of the file `<ledger>.anker.sperre` beside it,
//! synced); a line `Wiederherstellung` records a
//! knowingly restored backup with its reason, and the lines before it no longer bind.

use super::chain::{ChainKey, Entry, Head, Tamper};
use super::GENESIS;
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The kind of the line that records a knowingly restored backup.
pub const RESTORE: &str = "Wiederherstellung";

/// One line of the anchor file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Line number (1, 2, …).
    pub nr: usize,
    pub time: String,
    /// What wrote it: `Anlage`, `Umstellung`, `Zahlungslauf`, `Storno`, `Zahlungseingang`,
    /// `Nachgetragen` (a head a killed command did not anchor), `Wiederherstellung`.
    pub art: String,
    pub head: Head,
    pub bookings: usize,
    pub runs: usize,
    /// The reason of a `Wiederherstellung`, or a note.
    pub note: String,
    pub line_mac: String,
}

/// The anchor file as read.
#[derive(Debug, Clone, Default)]
pub struct AnchorFile {
    pub exists: bool,
    pub anchors: Vec<Anchor>,
    /// The first line that is not intact (1-based), if any.
    pub broken: Option<usize>,
}

impl AnchorFile {
    /// The lines that bind the ledger: from the last `Wiederherstellung` on.
    pub fn binding(&self) -> &[Anchor] {
        let from = self.anchors.iter().rposition(|a| a.art == RESTORE).unwrap_or(0);
        &self.anchors[from..]
    }
}

fn line_mac(key: &ChainKey, prev: &str, body: &str) -> String {
    key.mac(&["anker/v1", prev, body])
}

fn clean(s: &str) -> String {
    s.chars().map(|c| if c == ';' || c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

fn parse_line(line: &str) -> Option<(Anchor, String)> {
    let (body, mac) = line.rsplit_once(';')?;
    let f: Vec<&str> = body.split(';').collect();
    if f.len() != 8 {
        return None;
    }
    let a = Anchor {
        nr: f[0].parse().ok()?,
        time: f[1].to_string(),
        art: f[2].to_string(),
        head: Head { pos: f[3].parse().ok()?, mac: f[4].to_string() },
        bookings: f[5].parse().ok()?,
        runs: f[6].parse().ok()?,
        note: f[7].to_string(),
        line_mac: mac.to_string(),
    };
    Some((a, format!("{body};")))
}

/// Parses and checks the text of an anchor file.
pub fn parse(text: &str, key: &ChainKey) -> AnchorFile {
    let mut out = AnchorFile { exists: true, ..AnchorFile::default() };
    let mut prev = GENESIS.to_string();
    let mut rest = text;
    let mut i = 0;
    while !rest.is_empty() {
        i += 1;
        let (line, complete) = match rest.find('\n') {
            Some(n) => (&rest[..n], true),
            None => (rest, false),
        };
        rest = if complete { &rest[line.len() + 1..] } else { "" };
        match parse_line(line) {
            Some((a, body)) if complete && a.nr == i && line_mac(key, &prev, &body) == a.line_mac => {
                prev = a.line_mac.clone();
                out.anchors.push(a);
            }
            _ => {
                out.broken = Some(i);
                break;
            }
        }
    }
    out
}

/// Reads the anchor file (a missing file is an empty one that does not exist).
pub fn read(path: &Path, key: &ChainKey) -> std::io::Result<AnchorFile> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse(&String::from_utf8_lossy(&bytes), key)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AnchorFile::default()),
        Err(e) => Err(e),
    }
}

/// The number of lines in an anchor file, read without the key (any line counts): whether a
/// ledger that is missing or not keyed had anchors.
pub fn line_count(path: &Path) -> usize {
    std::fs::read(path).map(|b| b.split(|c| *c == b'\n').filter(|l| !l.is_empty()).count()).unwrap_or(0)
}

/// The highest chain position any line names, read without the key (0 without lines):
/// whether a ledger that is missing or empty had been anchored.
pub fn anchored_pos(path: &Path) -> i64 {
    let text = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.split(';').nth(3).and_then(|p| p.parse::<i64>().ok()))
        .max()
        .unwrap_or(0)
}

/// Appends a line for `head` under an exclusive lock and syncs it. The file is created
/// with mode 0660 (the AGS group appends too).
#[allow(clippy::too_many_arguments)]
pub fn append(
    path: &Path,
    key: &ChainKey,
    art: &str,
    head: &Head,
    bookings: usize,
    runs: usize,
    note: &str,
) -> std::io::Result<Anchor> {
    // Appends are serialised by a lock on a file of its own beside the anchors
    // (`<anker>.sperre`), which is never written: on Windows a byte-range lock is mandatory,
    // so a lock on the anchor file itself would stand in the way of anyone reading it. Under
    // the lock nobody else writes, so seeking to the end appends.
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".sperre");
    let mut lo = std::fs::OpenOptions::new();
    lo.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut lo, 0o660);
    let lock_path = std::path::PathBuf::from(lock_path);
    let new_lock = !lock_path.exists();
    let lock = lo.open(&lock_path)?;
    // Made by this account: the group may lock it too (the umask would take that away).
    #[cfg(unix)]
    if new_lock {
        lock.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o660))?;
    }
    #[cfg(not(unix))]
    let _ = new_lock;
    lock.lock()?;
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o660);
    let mut f = o.open(path)?;
    let mut text = String::new();
    f.seek(std::io::SeekFrom::Start(0))?;
    f.read_to_string(&mut text)?;
    #[cfg(unix)]
    if text.is_empty() {
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o660))?;
    }
    let last = text.lines().rev().find_map(parse_line);
    let (nr, prev) = match last {
        Some((a, _)) => (a.nr + 1, a.line_mac),
        None => (1, GENESIS.to_string()),
    };
    let time = chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string();
    let body = format!("{nr};{time};{};{};{};{bookings};{runs};{};", clean(art), head.pos, head.mac, clean(note));
    let mac = line_mac(key, &prev, &body);
    let line = format!("{body}{mac}\n");
    let start = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
    f.seek(std::io::SeekFrom::End(0))?;
    f.write_all(format!("{start}{line}").as_bytes())?;
    f.sync_all()?;
    // Closing the lock file releases the lock on every system; the explicit unlock is a
    // courtesy whose error is not the append's: Wine 8 answers the standard library's
    // unlock with a lock violation (33) although this handle holds the lock (tried with a
    // minimal program under Wine; the append itself succeeds).
    let _ = lock.unlock();
    drop(lock);
    Ok(parse_line(line.trim_end()).map(|(a, _)| a).unwrap_or(Anchor {
        nr,
        time,
        art: art.to_string(),
        head: head.clone(),
        bookings,
        runs,
        note: note.to_string(),
        line_mac: mac,
    }))
}

/// What the anchors say about the chain.
#[derive(Debug, Clone, Default)]
pub struct AnchorCheck {
    pub findings: Vec<Tamper>,
    /// Entries after the last binding anchor (a command killed before it anchored; the next
    /// command that writes anchors them).
    pub unanchored: i64,
    pub last: Option<Anchor>,
}

/// Checks the chain `entries` against the anchors: every binding line's position is in the
/// chain and holds the anchored MAC. `booked`: the ledger has runs (then its anchor file
/// must exist).
pub fn check(file: &AnchorFile, path: &Path, entries: &[Entry], booked: bool) -> AnchorCheck {
    let head = entries.last().map(|e| e.pos).unwrap_or(0);
    let mut out = AnchorCheck::default();
    if let Some(line) = file.broken {
        out.findings.push(Tamper::AnchorForged { path: path.to_path_buf(), line });
    }
    let binding = file.binding();
    if binding.is_empty() && file.broken.is_none() {
        if booked {
            out.findings.push(Tamper::AnchorsMissing(path.to_path_buf()));
        }
        out.unanchored = head;
        return out;
    }
    let mut beyond: Option<&Anchor> = None;
    for a in binding {
        if a.head.pos > head {
            if beyond.is_none_or(|b| a.head.pos > b.head.pos) {
                beyond = Some(a);
            }
            continue;
        }
        let at = if a.head.pos == 0 {
            GENESIS
        } else {
            entries.get((a.head.pos - 1) as usize).map(|e| e.mac.as_str()).unwrap_or("")
        };
        if at != a.head.mac && !out.findings.iter().any(|f| matches!(f, Tamper::Diverged { .. })) {
            out.findings.push(Tamper::Diverged { pos: a.head.pos, line: a.nr });
        }
    }
    if let Some(b) = beyond {
        out.findings.push(Tamper::Truncated { head, anchored: b.head.pos, line: b.nr });
    }
    let max = binding.iter().map(|a| a.head.pos).max().unwrap_or(0);
    out.unanchored = (head - max).max(0);
    out.last = binding.last().cloned();
    out
}
