//! Payment details in the master data: the optional sheets `Zahlungsverbindungen` (one
//! account per payee) and `Kantonskonto` (the canton's own account, the debtor of the
//! payment file). IBANs are checked (checksum and country structure) with `iban_validate`.

use crate::domain::{Bfs, Municipality};
use crate::extract::norm;
use crate::stammdaten::{Problem, ProblemKind};
use crate::values::parse_bfs;
use crate::workbook::{Sheet, Value};
use iban::IbanLike;
use std::collections::BTreeMap;

/// A structured postal address (SPS: street, number, postcode, town; country CH).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub street: String,
    pub number: String,
    pub postcode: String,
    pub town: String,
}

/// A payee's account (`Zahlungsverbindungen`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub bfs: Bfs,
    pub holder: String,
    /// Electronic form: no spaces, upper case.
    pub iban: String,
    pub address: Address,
}

/// The canton's own account (`Kantonskonto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CantonAccount {
    pub holder: String,
    pub iban: String,
    pub bic: Option<String>,
    pub clearing: Option<String>,
    pub address: Address,
}

/// The payment details of the master data. Both sheets are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zahlungsdaten {
    pub accounts: BTreeMap<Bfs, Account>,
    pub canton: Option<CantonAccount>,
}

pub const SHEET_ACCOUNTS: &str = "Zahlungsverbindungen";
pub const SHEET_CANTON: &str = "Kantonskonto";
const ACCOUNT_COLS: [&str; 7] = ["BFS-Nr.", "Kontoinhaber", "IBAN", "Strasse", "Hausnummer", "PLZ", "Ort"];
const CANTON_COLS: [&str; 8] = ["Kontoinhaber", "IBAN", "BIC", "Clearing-Nr.", "Strasse", "Hausnummer", "PLZ", "Ort"];

/// The characters a Swiss QR-bill permits (implementation guidelines 2.3, 4.1.1): Basic Latin,
/// Latin-1 Supplement, Latin Extended-A, Ș ș Ț ț and €. Checked here, where the addresses and
/// accounts are read, and again by the QR-bill writer.
pub fn allowed_char(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xFF | 0x100..=0x17F | 0x218..=0x21B | 0x20AC)
}

/// Checks an IBAN (checksum and the country's structure); returns its electronic form.
pub fn check_iban(text: &str) -> Result<String, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    match compact.parse::<iban::Iban>() {
        Ok(i) => Ok(i.electronic_str().to_string()),
        Err(e) => Err(match e {
            iban::ParseIbanError::InvalidBaseIban { .. } => "keine gültige IBAN (Zeichen oder Länge)".to_string(),
            iban::ParseIbanError::InvalidBban(_) => "die Kontonummer passt nicht zum Land".to_string(),
            iban::ParseIbanError::UnknownCountry(_) => "unbekanntes Land".to_string(),
        }),
    }
}

struct Cols<'a> {
    sheet: &'a Sheet,
    cols: BTreeMap<&'static str, u32>,
}

impl Cols<'_> {
    fn text(&self, r: u32, h: &str) -> String {
        self.cols.get(h).map(|c| self.sheet.get(r, *c).text().trim().to_string()).unwrap_or_default()
    }
    fn value(&self, r: u32, h: &str) -> &Value {
        self.cols.get(h).map(|c| self.sheet.get(r, *c)).unwrap_or(&Value::Empty)
    }
    fn rows(&self) -> Vec<u32> {
        let last = self.sheet.cells().map(|((r, _), _)| *r).max().unwrap_or(0);
        (1..=last).filter(|r| self.cols.values().any(|c| !self.sheet.get(*r, *c).is_empty())).collect()
    }
    fn at(&self, r: u32) -> String {
        format!("Blatt «{}», Zeile {}", self.sheet.name, r + 1)
    }
}

fn open<'a>(
    sheets: &'a [Sheet],
    name: &str,
    headers: &[&'static str],
    problems: &mut Vec<Problem>,
) -> Option<Cols<'a>> {
    let sheet = sheets.iter().find(|s| norm(&s.name) == norm(name))?;
    let mut cols = BTreeMap::new();
    for (&(r, c), v) in sheet.cells() {
        if r == 0 {
            if let Value::Text(t) = v {
                if let Some(h) = headers.iter().find(|h| norm(h) == norm(t)) {
                    cols.insert(*h, c);
                }
            }
        }
    }
    let mut ok = true;
    for h in headers {
        if !cols.contains_key(h) {
            ok = false;
            problems.push(Problem {
                kind: ProblemKind::MissingColumn,
                message: format!("Blatt «{name}»: Spalte «{h}» fehlt in Zeile 1."),
            });
        }
    }
    ok.then_some(Cols { sheet, cols })
}

fn address(t: &Cols<'_>, r: u32, problems: &mut Vec<Problem>) -> Address {
    let a = Address {
        street: t.text(r, "Strasse"),
        number: t.text(r, "Hausnummer"),
        postcode: t.text(r, "PLZ"),
        town: t.text(r, "Ort"),
    };
    for (label, v) in [("Strasse", &a.street), ("PLZ", &a.postcode), ("Ort", &a.town)] {
        if v.is_empty() {
            problems
                .push(Problem { kind: ProblemKind::BadValue, message: format!("{}: «{label}» ist leer.", t.at(r)) });
        }
    }
    for (label, v, max) in
        [("Strasse", &a.street, 70), ("Hausnummer", &a.number, 16), ("PLZ", &a.postcode, 16), ("Ort", &a.town, 35)]
    {
        if v.chars().count() > max {
            problems.push(Problem {
                kind: ProblemKind::BadValue,
                message: format!("{}: «{label}» ist länger als {max} Zeichen.", t.at(r)),
            });
        }
    }
    a
}

/// Reads both sheets. Problems are master-data errors (German).
pub fn read(sheets: &[Sheet], municipalities: &BTreeMap<Bfs, Municipality>) -> (Zahlungsdaten, Vec<Problem>) {
    let mut p = Vec::new();
    let mut z = Zahlungsdaten::default();
    let bad = |p: &mut Vec<Problem>, m: String| p.push(Problem { kind: ProblemKind::BadValue, message: m });
    if let Some(t) = open(sheets, SHEET_ACCOUNTS, &ACCOUNT_COLS, &mut p) {
        for r in t.rows() {
            let Some(bfs) = parse_bfs(t.value(r, "BFS-Nr.")) else {
                bad(&mut p, format!("{}: «BFS-Nr.» ist keine BFS-Nummer.", t.at(r)));
                continue;
            };
            if !municipalities.contains_key(&bfs) {
                p.push(Problem::unknown_municipality(t.at(r), bfs));
            }
            let holder = t.text(r, "Kontoinhaber");
            if holder.is_empty() {
                bad(&mut p, format!("{}: «Kontoinhaber» ist leer.", t.at(r)));
            } else if holder.chars().count() > 70 {
                bad(&mut p, format!("{}: «Kontoinhaber» ist länger als 70 Zeichen.", t.at(r)));
            }
            let raw = t.text(r, "IBAN");
            let iban = match check_iban(&raw) {
                Ok(i) => i,
                Err(why) => {
                    bad(&mut p, format!("{}: IBAN «{raw}» ist ungültig: {why}.", t.at(r)));
                    continue;
                }
            };
            let address = address(&t, r, &mut p);
            if z.accounts.insert(bfs, Account { bfs, holder, iban, address }).is_some() {
                p.push(Problem {
                    kind: ProblemKind::Duplicate,
                    message: format!("{}: BFS-Nr. {bfs} hat mehrere Zahlungsverbindungen.", t.at(r)),
                });
            }
        }
    }
    if let Some(t) = open(sheets, SHEET_CANTON, &CANTON_COLS, &mut p) {
        let rows = t.rows();
        if rows.len() > 1 {
            p.push(Problem {
                kind: ProblemKind::Duplicate,
                message: format!("Blatt «{SHEET_CANTON}»: nur eine Zeile ist erlaubt, gefunden {}.", rows.len()),
            });
        }
        if let Some(&r) = rows.first() {
            let holder = t.text(r, "Kontoinhaber");
            if holder.is_empty() {
                bad(&mut p, format!("{}: «Kontoinhaber» ist leer.", t.at(r)));
            }
            let raw = t.text(r, "IBAN");
            let bic = Some(t.text(r, "BIC")).filter(|s| !s.is_empty());
            let clearing = Some(t.text(r, "Clearing-Nr.")).filter(|s| !s.is_empty());
            if let Some(b) = &bic {
                let ok = (b.len() == 8 || b.len() == 11) && b.chars().all(|c| c.is_ascii_alphanumeric());
                if !ok {
                    bad(&mut p, format!("{}: BIC «{b}» ist ungültig (8 oder 11 Buchstaben und Ziffern).", t.at(r)));
                }
            }
            if let Some(c) = &clearing {
                let ok = (3..=5).contains(&c.len()) && c.chars().all(|c| c.is_ascii_digit());
                if !ok {
                    bad(&mut p, format!("{}: Clearing-Nr. «{c}» ist ungültig (3 bis 5 Ziffern).", t.at(r)));
                }
            }
            if bic.is_none() && clearing.is_none() {
                bad(&mut p, format!("{}: BIC oder Clearing-Nr. fehlt (die Bank verlangt eine davon).", t.at(r)));
            }
            let address = address(&t, r, &mut p);
            match check_iban(&raw) {
                Ok(iban) => {
                    z.canton =
                        Some(CantonAccount { holder, iban, bic: bic.map(|b| b.to_uppercase()), clearing, address })
                }
                Err(why) => bad(&mut p, format!("{}: IBAN «{raw}» ist ungültig: {why}.", t.at(r))),
            }
        }
    }
    (z, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        Sheet::from_texts(name, rows)
    }

    fn munis() -> BTreeMap<Bfs, Municipality> {
        let m = Municipality {
            bfs: 2401,
            name: "Egerkingen".into(),
            district: "Gäu".into(),
            validity: crate::domain::Validity::ALWAYS,
            successor: None,
        };
        BTreeMap::from([(2401, m)])
    }

    #[test]
    fn iban_checksum_and_country() {
        // CH93 0076 2011 6238 5295 7 is the standard Swiss example IBAN (valid).
        assert_eq!(check_iban("CH93 0076 2011 6238 5295 7").unwrap(), "CH9300762011623852957");
        // One digit changed: the checksum fails.
        assert!(check_iban("CH93 0076 2011 6238 5295 8").is_err());
        // A Swiss IBAN has 21 characters.
        assert!(check_iban("CH93 0076 2011 6238 5295").is_err());
        assert!(check_iban("").is_err());
    }

    #[test]
    fn sheets_are_optional_and_a_bad_iban_is_a_problem() {
        let (z, p) = read(&[], &munis());
        assert!(z.accounts.is_empty() && z.canton.is_none() && p.is_empty());
        let acc = sheet(
            SHEET_ACCOUNTS,
            &[
                &ACCOUNT_COLS,
                &[
                    "2401",
                    "Einwohnergemeinde Egerkingen",
                    "CH93 0076 2011 6238 5295 8",
                    "Dorf",
                    "1",
                    "4622",
                    "Egerkingen",
                ],
            ],
        );
        let (z, p) = read(&[acc], &munis());
        assert!(z.accounts.is_empty());
        assert_eq!(p.iter().map(|p| p.kind).collect::<Vec<_>>(), vec![ProblemKind::BadValue]);
        let acc = sheet(
            SHEET_ACCOUNTS,
            &[
                &ACCOUNT_COLS,
                &["2401", "Einwohnergemeinde Egerkingen", "CH9300762011623852957", "Dorf", "1", "4622", "Egerkingen"],
                &["2999", "X", "CH9300762011623852957", "Dorf", "1", "4622", "X"],
            ],
        );
        let canton = sheet(
            SHEET_CANTON,
            &[
                &CANTON_COLS,
                &["Kanton Solothurn", "CH9300762011623852957", "", "", "Rathaus", "1", "4500", "Solothurn"],
            ],
        );
        let (z, p) = read(&[acc, canton], &munis());
        assert_eq!(z.accounts[&2401].iban, "CH9300762011623852957");
        let kinds: Vec<_> = p.iter().map(|p| p.kind).collect();
        // Unknown BFS-Nr. 2999, and no BIC or clearing number for the canton.
        assert_eq!(kinds, vec![ProblemKind::UnknownReference, ProblemKind::BadValue]);
    }
}
