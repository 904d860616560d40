//! The correspondence journal (table `korrespondenz`): every reminder and yearly information
//! the program wrote and recorded, with its number, municipality, form, period, date, level,
//! new deadline, recipient, subject, file and the file's SHA-256. Append-only and chained
//! like the bookings; a letter of one kind about the same form and period to the same
//! recipient is recorded at most once a day (checked inside the write lock, and by a unique
//! index), so a repeated command does not remind twice on the same day.
//!
//! It records and lists; what to write is decided by the core (`mahnung`).

use super::{begin, iso, parse_iso, seal_and_commit, Bfs, Ledger, LedgerError};
use crate::domain::fmt_date;
use chrono::NaiveDate;
use rusqlite::{params, Connection};
use std::path::Path;

/// The kind of a recorded letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LetterKind {
    Mahnung,
    Jahresinformation,
}

impl LetterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Mahnung => "Mahnung",
            LetterKind::Jahresinformation => "Jahresinformation",
        }
    }
    pub fn parse(s: &str) -> Option<LetterKind> {
        [LetterKind::Mahnung, LetterKind::Jahresinformation].into_iter().find(|k| k.as_str() == s)
    }
}

/// A letter to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLetter {
    pub year: i32,
    pub kind: LetterKind,
    /// The municipality written to.
    pub bfs: Bfs,
    /// `Reportingformular`, `Selbstdeklaration`; empty for a letter about no form.
    pub form: String,
    /// `2023-H1`, `2023`.
    pub period: String,
    pub date: NaiveDate,
    /// The reminder's level (1, 2).
    pub level: Option<u8>,
    /// The new deadline it sets.
    pub deadline: Option<NaiveDate>,
    pub recipient: String,
    pub subject: String,
    /// The letter's file, relative to its output folder.
    pub file: String,
    pub sha256: String,
}

/// A recorded letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Its number in the journal (1, 2, 3 …).
    pub nr: i64,
    pub letter: NewLetter,
    /// When it was recorded (local time, `TT.MM.JJJJ hh:mm:ss`).
    pub recorded_at: String,
    pub program_version: String,
}

fn letters_in(conn: &Connection, path: &Path, year: Option<i32>) -> Result<Vec<Letter>, LedgerError> {
    let db = |source| LedgerError::Db { path: path.to_path_buf(), source };
    let mut st = conn
        .prepare(
            "SELECT nr, jahr, art, bfs, formular, periode, datum, stufe, frist, empfaenger, betreff, datei, sha256,
                    erfasst_am, program_version
             FROM korrespondenz WHERE ?1 IS NULL OR jahr = ?1 ORDER BY nr",
        )
        .map_err(db)?;
    let rows = st
        .query_map(params![year], |r| {
            let nr: i64 = r.get(0)?;
            let art: String = r.get(2)?;
            let datum: String = r.get(6)?;
            let bad = |what: &str| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    format!("Korrespondenz Nr. {nr}: {what}").into(),
                )
            };
            Ok(Letter {
                nr,
                letter: NewLetter {
                    year: r.get(1)?,
                    kind: LetterKind::parse(&art).ok_or_else(|| bad("unbekannte Art"))?,
                    bfs: r.get(3)?,
                    form: r.get(4)?,
                    period: r.get(5)?,
                    date: parse_iso(&datum).ok_or_else(|| bad("ungültiges Datum"))?,
                    level: r.get(7)?,
                    deadline: r.get::<_, Option<String>>(8)?.as_deref().and_then(parse_iso),
                    recipient: r.get(9)?,
                    subject: r.get(10)?,
                    file: r.get(11)?,
                    sha256: r.get(12)?,
                },
                recorded_at: r.get(13)?,
                program_version: r.get(14)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

fn same(a: &NewLetter, b: &NewLetter) -> bool {
    (a.kind, a.bfs, &a.form, &a.period, a.date, &a.recipient)
        == (b.kind, b.bfs, &b.form, &b.period, b.date, &b.recipient)
}

impl Ledger {
    /// The recorded letters of year `year` (all years: `None`), by number.
    pub fn correspondence(&self, year: Option<i32>) -> Result<Vec<Letter>, LedgerError> {
        letters_in(&self.conn, &self.path, year)
    }

    /// Records `letters` in one transaction, numbered on. A letter recorded already (the same
    /// kind, municipality, form, period, date and recipient) refuses them all
    /// ([`LedgerError::LetterTwice`]): nothing is recorded.
    pub fn record_letters(
        &mut self,
        letters: &[NewLetter],
        recorded_at: &str,
        version: &str,
    ) -> Result<Vec<Letter>, LedgerError> {
        let path = self.path.clone();
        let db = |source| LedgerError::Db { path: path.clone(), source };
        let tx = begin(&self.conn, &path, self.read_only)?;
        let before = letters_in(&tx, &path, None)?;
        for (i, l) in letters.iter().enumerate() {
            if before.iter().any(|b| same(&b.letter, l)) || letters[..i].iter().any(|o| same(o, l)) {
                return Err(LedgerError::LetterTwice {
                    what: format!("{} an BFS-Nr. {} ({} {})", l.kind.as_str(), l.bfs, l.form, l.period)
                        .replace(" ()", ""),
                    date: fmt_date(l.date),
                });
            }
        }
        let mut nr = before.last().map_or(0, |b| b.nr);
        let mut out = Vec::new();
        for l in letters {
            nr += 1;
            tx.execute(
                "INSERT INTO korrespondenz (nr, jahr, art, bfs, formular, periode, datum, stufe, frist, empfaenger,
                     betreff, datei, sha256, erfasst_am, program_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    nr,
                    l.year,
                    l.kind.as_str(),
                    l.bfs,
                    l.form,
                    l.period,
                    iso(l.date),
                    l.level,
                    l.deadline.map(iso),
                    l.recipient,
                    l.subject,
                    l.file,
                    l.sha256,
                    recorded_at,
                    version
                ],
            )
            .map_err(db)?;
            out.push(Letter {
                nr,
                letter: l.clone(),
                recorded_at: recorded_at.to_string(),
                program_version: version.to_string(),
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        seal_and_commit(tx, &self.key, &path)?;
        self.anchor_after_commit("Korrespondenz");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ymd;

    fn letter(bfs: Bfs, date: NaiveDate) -> NewLetter {
        NewLetter {
            year: 2023,
            kind: LetterKind::Mahnung,
            bfs,
            form: "Reportingformular".into(),
            period: "2023-H1".into(),
            date,
            level: Some(1),
            deadline: Some(ymd(2023, 8, 15)),
            recipient: "Gemeinde X".into(),
            subject: "1. Mahnung".into(),
            file: "Mahnungen/x.pdf".into(),
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn recorded_numbered_chained_once_a_day_and_unchangeable() {
        let mut l = Ledger::in_memory().unwrap();
        let a = l.record_letters(&[letter(2601, ymd(2023, 8, 1)), letter(2602, ymd(2023, 8, 1))], "t", "v").unwrap();
        assert_eq!(a.iter().map(|x| x.nr).collect::<Vec<_>>(), vec![1, 2]);
        // The same letter on the same day is refused, with the others of the call.
        let e = l.record_letters(&[letter(2605, ymd(2023, 8, 1)), letter(2601, ymd(2023, 8, 1))], "t", "v");
        assert!(matches!(e, Err(LedgerError::LetterTwice { .. })), "{e:?}");
        // The next day it is recorded.
        let b = l.record_letters(&[letter(2601, ymd(2023, 8, 2))], "t", "v").unwrap();
        assert_eq!(b[0].nr, 3);
        let all = l.correspondence(Some(2023)).unwrap();
        assert_eq!(all.iter().map(|x| (x.nr, x.letter.bfs)).collect::<Vec<_>>(), vec![(1, 2601), (2, 2602), (3, 2601)]);
        assert_eq!(all[0].letter, letter(2601, ymd(2023, 8, 1)));
        assert!(l.correspondence(Some(2024)).unwrap().is_empty());
        assert!(l.inspect().unwrap().chain.findings.is_empty());
        assert!(l.connection().execute("UPDATE korrespondenz SET bfs = 1", []).is_err());
        assert!(l.connection().execute("DELETE FROM korrespondenz", []).is_err());
        // A row changed behind the program's back breaks the chain.
        l.connection().execute_batch("DROP TRIGGER korrespondenz_no_update").unwrap();
        l.connection().execute("UPDATE korrespondenz SET datum = '2023-08-03' WHERE nr = 3", []).unwrap();
        assert!(!l.inspect().unwrap().chain.findings.is_empty());
    }
}
