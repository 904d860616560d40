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
pub const MIGRATIONS: &[&str] = &[V1, IBAN, FREIGABE, KETTE, STICHPROBEN, KORRESPONDENZ];

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

/// Version 2: the IBAN a payment was made to (item 8 of «One truth for the money»); NULL for
/// bookings that pay nothing and for payments booked before.
const IBAN: &str = r#"
ALTER TABLE bookings ADD COLUMN iban TEXT;
"#;

/// The four-eyes release and the stored outputs of booked runs (issue 17, items 2, 3 and 5).
/// Found by content (`MIGRATIONS.iter().position(..)`), so that it can be renumbered when
/// other migrations are merged before it.
///
/// - `runs.gebucht_von`: the operating-system account that booked a payout run, a Storno or
///   a receipt; NULL for rows booked before this migration (they count as released: their
///   payment file was written when they were booked).
/// - `runs.ausfuehrung`: the execution date a payout run proposed when it was booked.
/// - `freigaben`: one row per released payout run or Storno: who released it, when, the
///   execution date and the payment file's name and SHA-256 (none for a run that transfers
///   nothing, and for a Storno), and the SHA-256 over the run's bookings.
/// - `ausgaben`: the bytes of each output a booked run or a release wrote (workbook, JSON,
///   invoices, drafts, payment file), so that missing files are written again byte for byte;
///   `id` is `<run_id>/<datei>` (one column that names the row, for the keyed chain).
///
/// New columns are nullable without default: rows written before keep their canonical text.
pub const FREIGABE: &str = r#"
ALTER TABLE runs ADD COLUMN gebucht_von TEXT;
ALTER TABLE runs ADD COLUMN ausfuehrung TEXT;
CREATE TABLE freigaben (
    run_id           TEXT PRIMARY KEY REFERENCES runs(run_id),
    seq              INTEGER NOT NULL UNIQUE,
    freigegeben_von  TEXT NOT NULL,
    freigegeben_am   TEXT NOT NULL,
    ausfuehrung      TEXT,
    datei            TEXT,
    datei_sha256     TEXT,
    buchungen_sha256 TEXT NOT NULL,
    program_version  TEXT NOT NULL
);
CREATE TABLE ausgaben (
    id     TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    datei  TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    inhalt BLOB NOT NULL,
    UNIQUE (run_id, datei)
);
CREATE TRIGGER freigaben_no_update BEFORE UPDATE ON freigaben
BEGIN SELECT RAISE(ABORT, 'Freigaben sind unveränderlich'); END;
CREATE TRIGGER freigaben_no_delete BEFORE DELETE ON freigaben
BEGIN SELECT RAISE(ABORT, 'Freigaben sind unveränderlich'); END;
CREATE TRIGGER ausgaben_no_update BEFORE UPDATE ON ausgaben
BEGIN SELECT RAISE(ABORT, 'Die Ausgaben gebuchter Zahlungsläufe sind unveränderlich'); END;
CREATE TRIGGER ausgaben_no_delete BEFORE DELETE ON ausgaben
BEGIN SELECT RAISE(ABORT, 'Die Ausgaben gebuchter Zahlungsläufe sind unveränderlich'); END;
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

/// Spot checks (Kreisschreiben 6, issue 22): each municipality a draw selected, with why and
/// the draw's seed and person (`art` 'Auswahl', `id` `<jahr>/<seed>/<bfs>`), and the
/// outcome of its check (`art` 'Ergebnis', `id` `<jahr>/<seed>/<bfs>/ergebnis`), recorded
/// by another person. Append-only and chained (a new table: no older row changes). The seed
/// is decimal text (a u64 does not fit SQLite's integer).
pub const STICHPROBEN: &str = r#"
CREATE TABLE stichproben (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    art             TEXT NOT NULL CHECK (art IN ('Auswahl', 'Ergebnis')),
    jahr            INTEGER NOT NULL,
    seed            TEXT NOT NULL,
    bfs             INTEGER NOT NULL,
    grund           TEXT NOT NULL DEFAULT '',
    ergebnis        TEXT CHECK (ergebnis IN ('in Ordnung', 'Mängel')),
    notiz           TEXT NOT NULL DEFAULT '',
    person          TEXT NOT NULL,
    am              TEXT NOT NULL,
    program_version TEXT NOT NULL
);
CREATE TRIGGER stichproben_no_update BEFORE UPDATE ON stichproben
BEGIN SELECT RAISE(ABORT, 'Stichproben sind unveränderlich'); END;
CREATE TRIGGER stichproben_no_delete BEFORE DELETE ON stichproben
BEGIN SELECT RAISE(ABORT, 'Stichproben sind unveränderlich'); END;
"#;

/// The correspondence journal (issue 21): one row per letter the program wrote and recorded
/// (reminders, the yearly information): its number, year, kind, municipality, form and
/// period, date, level, new deadline, recipient, subject, file and the file's SHA-256.
/// Append-only and chained like every other table; one letter of a kind to one recipient
/// about one form and period per day at most (the unique index). An older ledger gains the
/// empty table.
pub const KORRESPONDENZ: &str = r#"
CREATE TABLE korrespondenz (
    nr              INTEGER PRIMARY KEY,
    jahr            INTEGER NOT NULL,
    art             TEXT NOT NULL CHECK (art IN ('Mahnung', 'Jahresinformation')),
    bfs             INTEGER NOT NULL,
    formular        TEXT NOT NULL DEFAULT '',
    periode         TEXT NOT NULL DEFAULT '',
    datum           TEXT NOT NULL,
    stufe           INTEGER,
    frist           TEXT,
    empfaenger      TEXT NOT NULL,
    betreff         TEXT NOT NULL,
    datei           TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    erfasst_am      TEXT NOT NULL,
    program_version TEXT NOT NULL
);
CREATE UNIQUE INDEX korrespondenz_einmal_am_tag ON korrespondenz(art, bfs, formular, periode, datum, empfaenger);
CREATE TRIGGER korrespondenz_no_update BEFORE UPDATE ON korrespondenz
BEGIN SELECT RAISE(ABORT, 'Das Korrespondenzjournal ist unveränderlich'); END;
CREATE TRIGGER korrespondenz_no_delete BEFORE DELETE ON korrespondenz
BEGIN SELECT RAISE(ABORT, 'Das Korrespondenzjournal ist unveränderlich'); END;
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
