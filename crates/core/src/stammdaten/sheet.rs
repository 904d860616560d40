//! Reading a master-data sheet: one rule for every sheet of the master data. A sheet is
//! found by its name ([`find`]); sheets whose names differ only by case or spaces are ambiguous
//! master data (which accounts, which tariffs apply?): a problem, whether or not one of them is
//! spelt exactly; the exact spelling, else the first, is still read for the other checks. Its
//! columns are found by their headers in row 1 ([`Columns`]), in any order and spelling of
//! case and spaces. Decides nothing about what a cell means; knows no sheet by name.

use super::problem::{Position, Problem, ProblemKind};
use crate::extract::norm;
use crate::workbook::{Sheet, Value};
use std::collections::BTreeMap;

/// The columns of a sheet by their headers in row 1.
pub(crate) struct Columns<'a> {
    pub sheet: &'a Sheet,
    cols: BTreeMap<&'static str, u32>,
    last_row: u32,
}

impl<'a> Columns<'a> {
    /// The headers of `sheet`: `None` (and a [`ProblemKind::MissingColumn`] problem each) when
    /// a `required` one is missing; `optional` ones are read when present.
    pub fn open(
        sheet: &'a Sheet,
        required: &[&'static str],
        optional: &[&'static str],
        problems: &mut Vec<Problem>,
    ) -> Option<Columns<'a>> {
        let mut cols = BTreeMap::new();
        for (&(r, c), v) in sheet.cells() {
            if let (0, Value::Text(t)) = (r, v) {
                if let Some(h) = required.iter().chain(optional).find(|h| norm(h) == norm(t)) {
                    cols.insert(*h, c);
                }
            }
        }
        let missing: Vec<_> = required.iter().filter(|h| !cols.contains_key(*h)).collect();
        for h in &missing {
            problems.push(Problem::new(
                ProblemKind::MissingColumn,
                format!("Blatt «{}»: Spalte «{h}» fehlt in Zeile 1.", sheet.name),
            ));
        }
        if !missing.is_empty() {
            return None;
        }
        let last_row = sheet.cells().map(|((r, _), _)| *r).max().unwrap_or(0);
        Some(Columns { sheet, cols, last_row })
    }
    /// The rows below the headers with a value in one of the columns read.
    pub fn rows(&self) -> impl Iterator<Item = u32> + '_ {
        (1..=self.last_row).filter(|r| self.cols.values().any(|c| !self.sheet.get(*r, *c).is_empty()))
    }
    /// The value of column `h` in row `r` (empty when the sheet has no such column).
    pub fn value(&self, r: u32, h: &str) -> &'a Value {
        static EMPTY: Value = Value::Empty;
        self.cols.get(h).map(|c| self.sheet.get(r, *c)).unwrap_or(&EMPTY)
    }
    /// The text of column `h` in row `r`, as the cell shows it.
    pub fn text(&self, r: u32, h: &str) -> String {
        self.value(r, h).text()
    }
    /// Whether the sheet has column `h`.
    pub fn has(&self, h: &str) -> bool {
        self.cols.contains_key(h)
    }
    /// «Blatt «…», Zeile n» for messages.
    pub fn at(&self, r: u32) -> String {
        format!("Blatt «{}», Zeile {}", self.sheet.name, r + 1)
    }
    /// The place of column `h` in row `r`.
    pub fn pos(&self, r: u32, h: &str) -> Position {
        Position::new(&self.sheet.name, r, h)
    }
}

/// The sheet `name` (`None` when there is none); more than one candidate adds a
/// [`ProblemKind::SheetNameVariant`] problem.
pub(crate) fn find<'a>(sheets: &'a [Sheet], name: &str, problems: &mut Vec<Problem>) -> Option<&'a Sheet> {
    let key = |n: &str| norm(n).replace(' ', "");
    let candidates: Vec<&Sheet> = sheets.iter().filter(|s| key(&s.name) == key(name)).collect();
    if candidates.len() > 1 {
        let names: Vec<String> = candidates.iter().map(|s| format!("«{}»", s.name)).collect();
        problems.push(Problem::new(
            ProblemKind::SheetNameVariant,
            format!(
                "Das Blatt «{name}» kommt mehrfach vor ({}); die Namen unterscheiden sich nur in Gross-/Kleinschreibung oder Leerzeichen. Bitte nur ein Blatt «{name}» behalten.",
                names.join(", ")
            ),
        ));
    }
    candidates.iter().find(|s| s.name == name).or(candidates.first()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_their_headers_in_any_order() {
        let mut s = Sheet::new("Tarife");
        s.set(0, 0, Value::Text("gültig  AB".into()));
        s.set(0, 2, Value::Text("Leistung".into()));
        s.set(2, 2, Value::Text("SOCKEL".into()));
        let mut p = Vec::new();
        let t = Columns::open(&s, &["Leistung", "Gültig ab"], &["Gültig bis"], &mut p).unwrap();
        assert!(p.is_empty());
        assert_eq!(
            (t.has("Gültig bis"), t.text(2, "Leistung"), t.rows().collect::<Vec<_>>()),
            (false, "SOCKEL".into(), vec![2])
        );
        assert!(t.value(2, "Gültig bis").is_empty());
        assert!(Columns::open(&s, &["Leistung", "Betrag CHF"], &[], &mut p).is_none());
        assert_eq!(p.iter().map(|p| p.kind).collect::<Vec<_>>(), [ProblemKind::MissingColumn]);
    }

    fn named(names: &[&str]) -> Vec<Sheet> {
        names.iter().map(|n| Sheet::new(*n)).collect()
    }

    #[test]
    fn one_sheet_is_found_two_spellings_are_a_problem() {
        let mut p = Vec::new();
        assert!(find(&named(&["Gemeinden"]), "Zahlungsverbindungen", &mut p).is_none());
        assert!(p.is_empty());
        let one = named(&["Gemeinden", "Zahlungsverbindungen"]);
        assert_eq!(find(&one, "Zahlungsverbindungen", &mut p).map(|s| s.name.as_str()), Some("Zahlungsverbindungen"));
        assert!(p.is_empty());
        // Two spellings, the exact one second: it is the one read, and the problem is raised.
        let two = named(&["zahlungsverbindungen ", "Zahlungsverbindungen"]);
        assert_eq!(find(&two, "Zahlungsverbindungen", &mut p).map(|s| s.name.as_str()), Some("Zahlungsverbindungen"));
        assert_eq!(p.iter().map(|p| p.kind).collect::<Vec<_>>(), [ProblemKind::SheetNameVariant]);
    }
}
