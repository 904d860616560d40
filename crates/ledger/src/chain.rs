//! The keyed hash chain (Kette) over every row that decides money, and its key.
//!
//! Every row of the chained tables ([`TABLES`]: `meta`, `runs`, `bookings`, `freigaben`,
//! `ausgaben`, `stichproben`, `korrespondenz`) has exactly one
//! entry in the table `kette`: its position (1, 2, 3 … without gaps), the MAC of the entry
//! before it and its own MAC, an HMAC-SHA256 under the ledger's key over the position, the
//! previous MAC, the table, the row's key and the row's canonical text (a booking's
//! [`super::canonical`], any other row's columns by name). Whoever has only the database file
//! cannot make a changed, inserted or deleted row fit the chain: the key lives outside it, in
//! the key file beside the ledger ([`LedgerFiles`]).
//!
//! A write transaction chains the rows it inserted just before it commits ([`seal`]); it
//! starts only when every row is chained ([`unchained`]), so a row slipped in behind the
//! program's back is never chained by it.

use super::{booking_rows, canonical, fmt_date, parse_iso, GENESIS};
use crate::fsio::hex;
use hmac::{Hmac, Mac};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The chained tables and the column that names a row (stable: not the rowid, which VACUUM
/// may renumber). A table added to the schema that decides money belongs here; the unit test
/// `every_table_and_column_is_chained` fails until it is.
pub const TABLES: &[(&str, &str)] = &[
    ("meta", "key"),
    ("runs", "run_id"),
    ("bookings", "seq"),
    ("freigaben", "run_id"),
    ("ausgaben", "id"),
    ("stichproben", "id"),
    ("korrespondenz", "nr"),
];

/// The `meta` row that names the key a ledger is chained under ([`ChainKey::id`]).
pub const META_KEY_ID: &str = "schluessel";
/// The `meta` row that records when the keyed chain was set up, and over what.
pub const META_CHAIN_SINCE: &str = "kette_eingerichtet";

/// The files of a ledger: the database, its key and its anchors. By default the key and the
/// anchors lie beside the database (`<ledger>.schluessel`, `<ledger>.anker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerFiles {
    pub ledger: PathBuf,
    pub key: PathBuf,
    pub anchors: PathBuf,
}

impl LedgerFiles {
    /// The ledger `path` with its key and anchor files beside it.
    pub fn beside(path: &Path) -> LedgerFiles {
        LedgerFiles {
            ledger: path.to_path_buf(),
            key: suffixed(path, ".schluessel"),
            anchors: suffixed(path, ".anker"),
        }
    }
}

fn suffixed(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The ledger's secret: 32 random bytes, created on first use.
#[derive(Clone)]
pub struct ChainKey([u8; 32]);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainKey({})", self.id())
    }
}

type HmacSha256 = Hmac<Sha256>;

impl ChainKey {
    /// A fresh key from the operating system's random source.
    pub fn random() -> std::io::Result<ChainKey> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(ChainKey(k))
    }

    /// HMAC-SHA256 over the parts, each followed by a NUL byte, as lowercase hex.
    pub fn mac(&self, parts: &[&str]) -> String {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for p in parts {
            m.update(p.as_bytes());
            m.update(&[0u8]);
        }
        hex(&m.finalize().into_bytes())
    }

    /// The key's public name (16 hex digits), stored in the ledger: a wrong key file is
    /// recognised as such.
    pub fn id(&self) -> String {
        self.mac(&["beitraege/schluessel-kennung"])[..16].to_string()
    }

    fn text(&self) -> String {
        format!("{}\n", hex(&self.0))
    }

    fn parse(text: &str) -> Option<ChainKey> {
        let t = text.trim();
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, byte) in k.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(ChainKey(k))
    }
}

/// Why a key file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    Missing,
    Unreadable(String),
    Malformed,
}

/// Reads the key file.
pub fn read_key(path: &Path) -> Result<ChainKey, KeyProblem> {
    match std::fs::read_to_string(path) {
        Ok(t) => ChainKey::parse(&t).ok_or(KeyProblem::Malformed),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(KeyProblem::Missing),
        Err(e) => Err(KeyProblem::Unreadable(crate::catalogue::os_error(&e))),
    }
}

/// Creates the key file with a fresh key, or reads the one another process created at the
/// same moment. Written whole into a temporary file and linked into place (never replaces
/// an existing key). Mode 0640: the owner writes nothing after; the group (the AGS staff who
/// book and release) reads.
pub fn create_key(path: &Path) -> std::io::Result<ChainKey> {
    use std::io::Write;
    let key = ChainKey::random()?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // The temporary name is this key's own (two threads of one process create at once too),
    // and never an existing file: linked into place, it is the key file itself.
    let tmp = dir.join(format!(
        ".{}.neu-{}-{}",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id(),
        key.id()
    ));
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o640);
        let mut f = o.open(&tmp)?;
        f.write_all(key.text().as_bytes())?;
        f.sync_all()?;
        #[cfg(unix)]
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o640))?;
    }
    let linked = match std::fs::hard_link(&tmp, path) {
        // A file system without hard links: renamed into place when still free.
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !path.exists() => std::fs::rename(&tmp, path),
        other => other,
    };
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(path).map_err(|_| std::io::Error::other("Schlüsseldatei unlesbar"))
        }
        Err(e) => Err(e),
    }
}

/// The head of the chain: its last position and that entry's MAC (position 0 and
/// [`GENESIS`] for an empty chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub pos: i64,
    pub mac: String,
}

impl Head {
    pub fn empty() -> Head {
        Head { pos: 0, mac: GENESIS.to_string() }
    }
}

/// One entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub pos: i64,
    pub table: String,
    pub row: String,
    pub prev: String,
    pub mac: String,
}

/// What was found wrong with a ledger, its anchors or a journal (German, for staff and the
/// auditor). Every kind refuses the ledger; `beitraege pruefen` lists them all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Tamper {
    #[error("Die Schlüsseldatei «{0}» gehört nicht zu dieser Buchhaltung (andere Schlüsselkennung).")]
    WrongKey(PathBuf),
    #[error("{what} (Eintrag Nr. {pos} der Hash-Kette) passt nicht zu seiner Prüfsumme: Die Zeile wurde ausserhalb des Programms verändert.")]
    Forged { pos: i64, what: String },
    #[error("{what} steht in der Buchhaltung, aber nicht in ihrer Hash-Kette: Die Zeile wurde ausserhalb des Programms eingefügt.")]
    Unchained { what: String },
    #[error("{what} (Eintrag Nr. {pos} der Hash-Kette) fehlt: Die Zeile wurde ausserhalb des Programms gelöscht.")]
    Removed { pos: i64, what: String },
    #[error(
        "Die Hash-Kette ist bei Eintrag Nr. {pos} unterbrochen: Einträge wurden entfernt, eingefügt oder umgestellt."
    )]
    ChainBroken { pos: i64 },
    #[error("Die Buchhaltung endet bei Eintrag Nr. {head} ihrer Hash-Kette, die Ankerdatei hält aber schon Eintrag Nr. {anchored} fest (Zeile {line}): Es fehlen Einträge (eine gekürzte Datei oder eine ältere Sicherung).")]
    Truncated { head: i64, anchored: i64, line: usize },
    #[error("Eintrag Nr. {pos} der Hash-Kette ist nicht der, den die Ankerdatei festhält (Zeile {line}): Die Buchhaltung ist eine andere oder eine ältere Fassung.")]
    Diverged { pos: i64, line: usize },
    #[error("Die Ankerdatei «{path}» ist in Zeile {line} verändert worden oder unvollständig.")]
    AnchorForged { path: PathBuf, line: usize },
    #[error("Die Ankerdatei «{0}» fehlt, obwohl in der Buchhaltung schon gebucht ist.")]
    AnchorsMissing(PathBuf),
    #[error("Die Buchhaltung fehlt oder ist leer, die Ankerdatei «{path}» hält aber schon {anchored} Einträge fest.")]
    LedgerGone { path: PathBuf, anchored: i64 },
    #[error("Die Buchhaltung hat noch das alte Format ohne Schlüssel, die Ankerdatei «{0}» stammt aber von einer umgestellten Buchhaltung: Es ist eine ältere Sicherung.")]
    UnkeyedCopy(PathBuf),
    #[error("Das Journal «{path}» ist in Zeile {line} verändert worden (seine Hash-Kette bricht dort).")]
    JournalBroken { path: PathBuf, line: usize },
    #[error("Zeile {line} des Journals «{path}» (Buchung Nr. {seq}) stimmt nicht mit der Buchhaltung überein.")]
    JournalDiffers { path: PathBuf, line: usize, seq: i64 },
    #[error("Das Journal «{path}» hält Eintrag Nr. {pos} der Hash-Kette fest, die Buchhaltung reicht nur bis Nr. {head}: Die Buchhaltung ist älter als das Journal.")]
    JournalAhead { path: PathBuf, pos: i64, head: i64 },
    #[error("Das Journal «{path}» hält bei Eintrag Nr. {pos} einen anderen Stand fest als die Buchhaltung.")]
    JournalDiverged { path: PathBuf, pos: i64 },
    #[error("Das Journal «{path}» enthält {found} Buchungen; zum festgehaltenen Stand (Eintrag Nr. {pos}) gehören {expected}.")]
    JournalIncomplete { path: PathBuf, pos: i64, found: usize, expected: usize },
}

impl Tamper {
    /// A finding that a knowingly restored backup explains (the ledger is genuine, only
    /// older than its anchors say); such a finding can be overridden with a recorded reason.
    pub fn is_restore(&self) -> bool {
        matches!(
            self,
            Tamper::Truncated { .. }
                | Tamper::Diverged { .. }
                | Tamper::AnchorsMissing(_)
                | Tamper::LedgerGone { .. }
                | Tamper::UnkeyedCopy(_)
        )
    }

    /// A finding about a journal (not about the ledger itself).
    pub fn is_journal(&self) -> bool {
        matches!(
            self,
            Tamper::JournalBroken { .. }
                | Tamper::JournalDiffers { .. }
                | Tamper::JournalAhead { .. }
                | Tamper::JournalDiverged { .. }
                | Tamper::JournalIncomplete { .. }
        )
    }

    /// What staff should do about the ledger `path` (German).
    pub fn advice(&self, path: &Path) -> String {
        match self {
            t if t.is_restore() => format!(
                "Bitte die aktuelle Buchhaltung mit ihrer Schlüssel- und Ankerdatei zurückholen. Wurde bewusst eine Sicherung eingespielt, hält «beitraege pruefen --buchhaltung \"{}\" --backup-wiederhergestellt --grund \"…\"» das mit dem Grund fest; danach kann weitergearbeitet werden (was seit der Sicherung gebucht war, ist neu zu buchen).",
                path.display()
            ),
            Tamper::WrongKey(_) => "Bitte die Schlüsseldatei dieser Buchhaltung aus der Sicherung zurückholen.".into(),
            Tamper::AnchorForged { .. } => {
                "Bitte die Ankerdatei aus der Sicherung zurückholen und den Vorfall abklären («beitraege pruefen» zeigt alle Befunde).".into()
            }
            t if t.is_journal() => {
                "Das Journal stammt nicht aus dieser Fassung der Buchhaltung oder ist verändert worden: bitte abklären.".into()
            }
            _ => "Die Buchhaltung muss aus der letzten Sicherung zurückgeholt und der Vorfall abgeklärt werden («beitraege pruefen» zeigt alle Befunde); eine wiederhergestellte Sicherung ist danach mit «beitraege pruefen --backup-wiederhergestellt --grund \"…\"» festzuhalten.".into(),
        }
    }
}

/// The canonical text of a row that is not a booking: every column by name (sorted), NULLs
/// left out (so a column added later as NULL leaves older rows' text unchanged), each value
/// typed and length-prefixed.
fn generic_canonical(row: &rusqlite::Row<'_>, names: &[String]) -> rusqlite::Result<String> {
    let mut cols: Vec<(&str, String)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let v = match row.get_ref(i)? {
            ValueRef::Null => continue,
            ValueRef::Integer(n) => format!("i:{n}"),
            ValueRef::Real(r) => format!("r:{}", r.to_bits()),
            ValueRef::Text(t) => {
                let t = String::from_utf8_lossy(t);
                format!("t{}:{t}", t.len())
            }
            ValueRef::Blob(b) => format!("b:{}", hex(b)),
        };
        cols.push((name, v));
    }
    cols.sort();
    Ok(cols.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("\u{1f}"))
}

fn key_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}

/// A chained row as read for the chain: its canonical text (or why it cannot be read) and a
/// German description.
struct RowText {
    canonical: Result<String, String>,
    what: String,
}

/// The rows of a chained table by key, optionally only those not yet in the chain.
fn rows_of(
    conn: &Connection,
    table: &str,
    key_col: &str,
    only_unchained: bool,
) -> rusqlite::Result<BTreeMap<String, RowText>> {
    // A table a later migration adds (the keyed chain is set up before it exists): no rows.
    // Its chain entries, once it has rows, are still checked: a dropped table's rows are
    // missing from the chain's point of view.
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        params![table],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(BTreeMap::new());
    }
    let filter = if only_unchained {
        format!(" WHERE CAST({key_col} AS TEXT) NOT IN (SELECT zeile FROM kette WHERE tabelle = '{table}')")
    } else {
        String::new()
    };
    let mut out = BTreeMap::new();
    if table == "bookings" {
        for (seq, b) in booking_rows(conn, &filter)? {
            let what = format!("Buchung Nr. {seq}");
            out.insert(seq.to_string(), RowText { canonical: b.map(|b| canonical(&b)), what });
        }
        return Ok(out);
    }
    let mut st = conn.prepare(&format!("SELECT * FROM {table}{filter}"))?;
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    let key_i = names.iter().position(|n| n == key_col).unwrap_or(0);
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        let key = key_text(row.get_ref(key_i)?);
        let what = describe(table, &key, Some(row), &names);
        out.insert(key, RowText { canonical: Ok(generic_canonical(row, &names)?), what });
    }
    Ok(out)
}

/// A German description of a chained row.
fn describe(table: &str, key: &str, row: Option<&rusqlite::Row<'_>>, names: &[String]) -> String {
    match table {
        "bookings" => format!("Buchung Nr. {key}"),
        "meta" => format!("Die Angabe «{key}»"),
        "runs" => {
            let col = |name: &str| -> Option<String> {
                let i = names.iter().position(|n| n == name)?;
                row?.get::<_, String>(i).ok()
            };
            match (col("art"), col("stichtag").as_deref().and_then(parse_iso)) {
                (Some(art), Some(d)) => format!("Der Lauf «{art}» per {}", fmt_date(d)),
                _ => format!("Der Lauf «{}»", key.get(..16).unwrap_or(key)),
            }
        }
        other => format!("Die Zeile «{key}» der Tabelle «{other}»"),
    }
}

/// The entries of the chain in order.
pub fn entries(conn: &Connection) -> rusqlite::Result<Vec<Entry>> {
    let mut st = conn.prepare("SELECT pos, tabelle, zeile, prev, mac FROM kette ORDER BY pos")?;
    let rows = st.query_map([], |r| {
        Ok(Entry { pos: r.get(0)?, table: r.get(1)?, row: r.get(2)?, prev: r.get(3)?, mac: r.get(4)? })
    })?;
    rows.collect()
}

/// The chain's head.
pub fn head(conn: &Connection) -> rusqlite::Result<Head> {
    Ok(conn
        .query_row("SELECT pos, mac FROM kette ORDER BY pos DESC LIMIT 1", [], |r| {
            Ok(Head { pos: r.get(0)?, mac: r.get(1)? })
        })
        .optional()?
        .unwrap_or_else(Head::empty))
}

fn entry_mac(key: &ChainKey, pos: i64, prev: &str, table: &str, row: &str, canonical: &str) -> String {
    key.mac(&["kette/v1", &pos.to_string(), prev, table, row, canonical])
}

/// What the chain holds, and what is wrong with it.
#[derive(Debug, Clone)]
pub struct ChainAudit {
    pub entries: Vec<Entry>,
    pub head: Head,
    /// Rows per chained table.
    pub rows: BTreeMap<String, usize>,
    pub findings: Vec<Tamper>,
}

impl ChainAudit {
    pub fn count(&self, table: &str) -> usize {
        self.rows.get(table).copied().unwrap_or(0)
    }
}

/// Checks every entry against its row and the key, every link, every row's entry, the key's
/// name and the bookings' public SHA-256 chain. Every finding is collected.
pub fn audit(conn: &Connection, key: &ChainKey, key_path: &Path) -> rusqlite::Result<ChainAudit> {
    let entries = entries(conn)?;
    let head = entries.last().map(|e| Head { pos: e.pos, mac: e.mac.clone() }).unwrap_or_else(Head::empty);
    let mut findings = Vec::new();
    let mut rows = BTreeMap::new();
    let mut tables: BTreeMap<&str, BTreeMap<String, RowText>> = BTreeMap::new();
    for (table, key_col) in TABLES {
        let r = rows_of(conn, table, key_col, false)?;
        rows.insert(table.to_string(), r.len());
        tables.insert(table, r);
    }
    let stored_id: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", params![META_KEY_ID], |r| r.get(0)).optional()?;
    if stored_id.as_deref() != Some(key.id().as_str()) && stored_id.is_some() {
        findings.push(Tamper::WrongKey(key_path.to_path_buf()));
        return Ok(ChainAudit { entries, head, rows, findings });
    }
    let mut prev = GENESIS.to_string();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        if e.pos != i as i64 + 1 || e.prev != prev {
            findings.push(Tamper::ChainBroken { pos: e.pos });
            // The rest is still checked entry by entry against its own MAC.
        }
        prev = e.mac.clone();
        seen.insert((e.table.clone(), e.row.clone()));
        let Some(row) = tables.get(e.table.as_str()).and_then(|t| t.get(&e.row)) else {
            let what = describe(&e.table, &e.row, None, &[]);
            findings.push(Tamper::Removed { pos: e.pos, what });
            continue;
        };
        let ok = match &row.canonical {
            Ok(c) => entry_mac(key, e.pos, &e.prev, &e.table, &e.row, c) == e.mac,
            Err(_) => false,
        };
        if !ok {
            findings.push(Tamper::Forged { pos: e.pos, what: row.what.clone() });
        }
    }
    for (table, rows) in &tables {
        for (k, row) in rows {
            if !seen.contains(&(table.to_string(), k.clone())) {
                findings.push(Tamper::Unchained { what: row.what.clone() });
            }
        }
    }
    // The bookings' own public chain (a changed row that kept its MAC entry is already
    // found above; this names a broken public link too).
    let mut public_prev = GENESIS.to_string();
    let at: BTreeMap<&str, i64> =
        entries.iter().filter(|e| e.table == "bookings").map(|e| (e.row.as_str(), e.pos)).collect();
    for (seq, b) in booking_rows(conn, "")? {
        if let Ok(b) = b {
            if b.prev_hash != public_prev || super::chain_hash(&public_prev, &b) != b.hash {
                let pos = at.get(seq.to_string().as_str()).copied().unwrap_or(0);
                let f = Tamper::Forged { pos, what: format!("Buchung Nr. {seq}") };
                if !findings.contains(&f) {
                    findings.push(f);
                }
            }
            public_prev = b.hash.clone();
        }
    }
    Ok(ChainAudit { entries, head, rows, findings })
}

/// The first row that is not in the chain, if any (checked at the start of every write).
pub fn unchained(conn: &Connection) -> rusqlite::Result<Option<Tamper>> {
    for (table, key_col) in TABLES {
        if let Some((_, row)) = rows_of(conn, table, key_col, true)?.into_iter().next() {
            return Ok(Some(Tamper::Unchained { what: row.what }));
        }
    }
    Ok(None)
}

/// Chains every row not yet in the chain (the rows the current transaction inserted), table
/// by table in [`TABLES`] order, each table's rows by key (bookings by number).
pub fn seal(conn: &Connection, key: &ChainKey) -> rusqlite::Result<Head> {
    let mut h = head(conn)?;
    for (table, key_col) in TABLES {
        let mut rows: Vec<(String, RowText)> = rows_of(conn, table, key_col, true)?.into_iter().collect();
        if *table == "bookings" {
            rows.sort_by_key(|(k, _)| k.parse::<i64>().unwrap_or(i64::MAX));
        }
        for (k, row) in rows {
            // A row the program just wrote always reads back; should one not, it is chained
            // as unreadable and every later check names it.
            let c = row.canonical.unwrap_or_default();
            let pos = h.pos + 1;
            let mac = entry_mac(key, pos, &h.mac, table, &k, &c);
            conn.execute(
                "INSERT INTO kette (pos, tabelle, zeile, prev, mac) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![pos, table, k, h.mac, mac],
            )?;
            h = Head { pos, mac };
        }
    }
    Ok(h)
}
