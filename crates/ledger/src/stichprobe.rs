//! Spot checks (Stichproben, Kreisschreiben 6) in the ledger: which municipalities a draw
//! selected for a year, why, with the draw's seed and the person who drew it; and the
//! outcome of each check, recorded by another person (the same-person rule of the
//! four-eyes release, `freigabe.rs`). Table `stichproben`, append-only and chained.
//!
//! It knows nothing of how a draw selects (the application's `aufsicht` module decides it).

use super::{Bfs, Ledger, LedgerError};
use rusqlite::{params, OptionalExtension};

/// The outcome of a spot check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    InOrdnung,
    Maengel,
}

impl Outcome {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InOrdnung => "in Ordnung",
            Outcome::Maengel => "Mängel",
        }
    }
}

/// A row of `stichproben`: a municipality selected (`art` «Auswahl») or a check's outcome
/// (`art` «Ergebnis», with `ergebnis` and `notiz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRow {
    pub id: String,
    pub seq: i64,
    pub art: String,
    pub year: i32,
    pub seed: u64,
    pub bfs: Bfs,
    pub reason: String,
    pub outcome: Option<String>,
    pub note: String,
    pub person: String,
    pub at: String,
    pub program_version: String,
}

fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Ledger {
    /// Every row of `stichproben`, in the order recorded.
    pub fn samples(&self) -> Result<Vec<SampleRow>, LedgerError> {
        let db = self.db();
        let mut st = self
            .conn
            .prepare(
                "SELECT id, seq, art, jahr, seed, bfs, grund, ergebnis, notiz, person, am, program_version
                 FROM stichproben ORDER BY seq",
            )
            .map_err(&db)?;
        let rows = st
            .query_map([], |r| {
                Ok(SampleRow {
                    id: r.get(0)?,
                    seq: r.get(1)?,
                    art: r.get(2)?,
                    year: r.get(3)?,
                    seed: r.get::<_, String>(4)?.parse().unwrap_or(0),
                    bfs: r.get(5)?,
                    reason: r.get(6)?,
                    outcome: r.get(7)?,
                    note: r.get(8)?,
                    person: r.get(9)?,
                    at: r.get(10)?,
                    program_version: r.get(11)?,
                })
            })
            .map_err(&db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&db)?;
        Ok(rows)
    }

    /// Records a draw: one row per selected municipality with why. A draw recorded before
    /// (same year, seed and municipality) is not recorded again. One transaction.
    pub fn record_sample(
        &mut self,
        year: i32,
        seed: u64,
        person: &str,
        at: &str,
        version: &str,
        selected: &[(Bfs, String)],
    ) -> Result<(), LedgerError> {
        if person.trim().is_empty() {
            return Err(LedgerError::NoPerson);
        }
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = super::begin(&self.conn, &path, self.read_only)?;
        for (bfs, reason) in selected {
            let id = format!("{year}/{seed}/{bfs}");
            let known: Option<i64> = tx
                .query_row("SELECT seq FROM stichproben WHERE id = ?1", params![id], |r| r.get(0))
                .optional()
                .map_err(db)?;
            if known.is_some() {
                continue;
            }
            let seq: i64 =
                tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM stichproben", [], |r| r.get(0)).map_err(db)?;
            tx.execute(
                "INSERT INTO stichproben (id, seq, art, jahr, seed, bfs, grund, person, am, program_version)
                 VALUES (?1, ?2, 'Auswahl', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![id, seq, year, seed.to_string(), bfs, reason, person.trim(), at, version],
            )
            .map_err(db)?;
        }
        super::seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Stichprobe");
        Ok(())
    }

    /// Records the outcome of the check of `bfs` in the latest draw of `year` that selected
    /// it, as `person`, who must not be the one who drew it. Once per selection.
    #[allow(clippy::too_many_arguments)]
    pub fn record_outcome(
        &mut self,
        year: i32,
        bfs: Bfs,
        outcome: Outcome,
        note: &str,
        person: &str,
        at: &str,
        version: &str,
    ) -> Result<SampleRow, LedgerError> {
        if person.trim().is_empty() {
            return Err(LedgerError::NoPerson);
        }
        if note.trim().is_empty() {
            return Err(LedgerError::SampleNoNote);
        }
        let rows = self.samples()?;
        let Some(sel) = rows.iter().rev().find(|r| r.art == "Auswahl" && r.year == year && r.bfs == bfs) else {
            return Err(LedgerError::NotSampled { bfs, jahr: year });
        };
        if same_person(&sel.person, person) {
            return Err(LedgerError::SampleSamePerson { bfs, jahr: year, person: sel.person.clone() });
        }
        let id = format!("{}/ergebnis", sel.id);
        if let Some(done) = rows.iter().find(|r| r.id == id) {
            return Err(LedgerError::SampleChecked { bfs, jahr: year, by: done.person.clone(), at: done.at.clone() });
        }
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = super::begin(&self.conn, &path, self.read_only)?;
        let seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM stichproben", [], |r| r.get(0)).map_err(db)?;
        let row = SampleRow {
            id,
            seq,
            art: "Ergebnis".into(),
            year,
            seed: sel.seed,
            bfs,
            reason: String::new(),
            outcome: Some(outcome.as_str().to_string()),
            note: note.trim().to_string(),
            person: person.trim().to_string(),
            at: at.to_string(),
            program_version: version.to_string(),
        };
        tx.execute(
            "INSERT INTO stichproben (id, seq, art, jahr, seed, bfs, ergebnis, notiz, person, am, program_version)
             VALUES (?1, ?2, 'Ergebnis', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![row.id, row.seq, year, row.seed.to_string(), bfs, row.outcome, row.note, row.person, at, version],
        )
        .map_err(db)?;
        super::seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Stichprobe");
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn() -> Ledger {
        let mut l = Ledger::in_memory().unwrap();
        let sel = vec![(2601, "Beitrag ≥ Schwelle".to_string()), (2403, "Zufall".to_string())];
        l.record_sample(2023, 42, "anna", "x", "t", &sel).unwrap();
        l
    }

    #[test]
    fn a_draw_is_recorded_once_and_chained() {
        let mut l = drawn();
        let sel = vec![(2601, "Beitrag ≥ Schwelle".to_string())];
        l.record_sample(2023, 42, "anna", "y", "t", &sel).unwrap();
        let rows = l.samples().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].id.as_str(), rows[0].seed, rows[0].bfs), ("2023/42/2601", 42, 2601));
        assert_eq!(rows[1].bfs, 2403);
        assert!(l.inspect().unwrap().chain.findings.is_empty());
        assert!(l.connection().execute("UPDATE stichproben SET grund = 'x'", []).is_err());
        assert!(l.connection().execute("DELETE FROM stichproben", []).is_err());
    }

    #[test]
    fn the_person_who_drew_cannot_record_the_outcome() {
        let mut l = drawn();
        let e = l.record_outcome(2023, 2601, Outcome::InOrdnung, "ok", " ANNA ", "x", "t").unwrap_err();
        assert!(matches!(e, LedgerError::SampleSamePerson { bfs: 2601, jahr: 2023, .. }), "{e:?}");
        let r = l.record_outcome(2023, 2601, Outcome::Maengel, "Belege fehlen", "bruno", "x", "t").unwrap();
        assert_eq!((r.id.as_str(), r.outcome.as_deref()), ("2023/42/2601/ergebnis", Some("Mängel")));
        // Once per selection; only a selected municipality; a note is required.
        let e = l.record_outcome(2023, 2601, Outcome::InOrdnung, "ok", "carla", "x", "t").unwrap_err();
        assert!(matches!(e, LedgerError::SampleChecked { .. }), "{e:?}");
        let e = l.record_outcome(2023, 2500, Outcome::InOrdnung, "ok", "bruno", "x", "t").unwrap_err();
        assert!(matches!(e, LedgerError::NotSampled { bfs: 2500, jahr: 2023 }), "{e:?}");
        let e = l.record_outcome(2022, 2601, Outcome::InOrdnung, "ok", "bruno", "x", "t").unwrap_err();
        assert!(matches!(e, LedgerError::NotSampled { .. }), "{e:?}");
        let e = l.record_outcome(2023, 2403, Outcome::InOrdnung, " ", "bruno", "x", "t").unwrap_err();
        assert!(matches!(e, LedgerError::SampleNoNote), "{e:?}");
        assert_eq!(l.samples().unwrap().len(), 3);
        assert!(l.inspect().unwrap().chain.findings.is_empty());
    }
}
