//! The ledger's schema and its migrations. `PRAGMA user_version` holds the schema version;
//! each migration runs once, in order, inside a transaction.
//!
//! Bookings and runs are append-only: triggers abort every UPDATE and DELETE, so not even
//! a hand-written SQL statement can change the history. Amounts are decimal text (exact),
//! never floating point; sums are taken in Rust.
//!
//! Every row of `meta`, `runs` and `bookings` is chained under the ledger's key (table
//! `kette`, [`KETTE`], see `chain.rs`). A migration that adds a column to a chained table
//! adds it NULL-able without a default (a row's canonical text leaves NULLs out, so the
//! older rows keep their MAC), or it re-chains under the key after verifying the chain.

/// Migrations, index + 1 = the version they lead to.
pub const MIGRATIONS: &[&str] = &[V1, KETTE];

/// Version 1: the tables, append-only.
const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    run_id          TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    art             TEXT NOT NULL CHECK (art IN ('Zahlungslauf', 'Storno', 'Zahlungseingang')),
    stichtag        TEXT NOT NULL,
    lauf            INTEGER NOT NULL,
    booked_at       TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    reverses        TEXT REFERENCES runs(run_id),
    program_version TEXT NOT NULL,
    evidence        TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX runs_reversed_once ON runs(reverses) WHERE reverses IS NOT NULL;
CREATE TABLE bookings (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    run_id          TEXT NOT NULL REFERENCES runs(run_id),
    stichtag        TEXT NOT NULL,
    art             TEXT NOT NULL,
    payee           INTEGER NOT NULL,
    bfs             INTEGER NOT NULL,
    jahr            INTEGER NOT NULL,
    periode         TEXT NOT NULL,
    leistung        TEXT NOT NULL,
    betrag          TEXT NOT NULL,
    anzahl          INTEGER,
    tarif           TEXT NOT NULL DEFAULT '',
    belege          TEXT NOT NULL DEFAULT '[]',
    faellig_am      TEXT,
    bezug           TEXT,
    text            TEXT NOT NULL DEFAULT '',
    program_version TEXT NOT NULL,
    booked_at       TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL UNIQUE
);
CREATE INDEX bookings_key ON bookings(bfs, jahr, periode, leistung);
CREATE INDEX bookings_bezug ON bookings(bezug);
CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
BEGIN SELECT RAISE(ABORT, 'Zahlungsläufe sind unveränderlich (nur Storno)'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'Zahlungsläufe sind unveränderlich (nur Storno)'); END;
CREATE TRIGGER bookings_no_update BEFORE UPDATE ON bookings
BEGIN SELECT RAISE(ABORT, 'Buchungen sind unveränderlich (nur Storno)'); END;
CREATE TRIGGER bookings_no_delete BEFORE DELETE ON bookings
BEGIN SELECT RAISE(ABORT, 'Buchungen sind unveränderlich (nur Storno)'); END;
CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta
BEGIN SELECT RAISE(ABORT, 'Die Angaben der Buchhaltung sind unveränderlich'); END;
CREATE TRIGGER meta_no_update BEFORE UPDATE ON meta
BEGIN SELECT RAISE(ABORT, 'Die Angaben der Buchhaltung sind unveränderlich'); END;
"#;

/// The keyed chain over every row that decides money. After this SQL the migration verifies
/// the bookings' old public SHA-256 chain, records the key's name and the migration in
/// `meta`, and chains every row under the key (`Ledger::migrate`).
pub const KETTE: &str = r#"
CREATE TABLE kette (
    pos     INTEGER PRIMARY KEY,
    tabelle TEXT NOT NULL,
    zeile   TEXT NOT NULL,
    prev    TEXT NOT NULL,
    mac     TEXT NOT NULL UNIQUE,
    UNIQUE (tabelle, zeile)
);
CREATE TRIGGER kette_no_update BEFORE UPDATE ON kette
BEGIN SELECT RAISE(ABORT, 'Die Hash-Kette ist unveränderlich'); END;
CREATE TRIGGER kette_no_delete BEFORE DELETE ON kette
BEGIN SELECT RAISE(ABORT, 'Die Hash-Kette ist unveränderlich'); END;
"#;

/// The schema version this program writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// The version that introduced the keyed chain (found by content, so that the migrations
/// can be renumbered when others are merged before it).
pub fn keyed() -> i64 {
    MIGRATIONS.iter().position(|m| *m == KETTE).map(|i| i as i64 + 1).unwrap_or(i64::MAX)
}
