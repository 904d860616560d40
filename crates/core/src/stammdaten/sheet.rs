//! Finding a master-data sheet by its name: one rule for every sheet of the master data.
//! Sheets whose names differ only by case or spaces are ambiguous master data (which
//! accounts, which tariffs apply?): a problem, whether or not one of them is spelt exactly;
//! the exact spelling, else the first, is still read for the other checks.

use super::problem::{Problem, ProblemKind};
use crate::extract::norm;
use crate::workbook::Sheet;

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
