//! Payment details in the master data: the optional sheets `Zahlungsverbindungen` (one
//! account per payee) and `Kantonskonto` (the canton's own account, the debtor of the
//! payment file). IBANs are checked (checksum and country structure) with `iban_validate`.

use super::problem::{Charset, Position, Problem, ProblemKind};
use crate::domain::{Bfs, Municipality};
use crate::values::parse_bfs;
use crate::workbook::Sheet;
use std::collections::BTreeMap;

pub use payments::charset::allowed_char;
pub use payments::iban::{check_iban, is_qr_iban};

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

/// The longest IBAN cell, spaces included (a Swiss IBAN is 21 characters, 26 in groups).
const MAX_IBAN_CHARS: usize = 42;
/// The longest BIC or clearing-number cell before its format is checked.
const MAX_CODE_CHARS: usize = 35;

/// A sheet of accounts, read by the one reader of every master-data sheet
/// ([`super::sheet::Columns`]); its texts are trimmed.
struct Cols<'a>(super::sheet::Columns<'a>);

impl<'a> std::ops::Deref for Cols<'a> {
    type Target = super::sheet::Columns<'a>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Cols<'_> {
    fn text(&self, r: u32, h: &str) -> String {
        self.0.text(r, h).trim().to_string()
    }
    /// Column `h`'s text in row `r` as a one-line text of at most `max` characters of the
    /// payment set; `None` (and a problem) when it is not one, and when it is empty but
    /// `required`.
    fn checked(&self, r: u32, h: &str, max: usize, required: bool, problems: &mut Vec<Problem>) -> Option<String> {
        let text = self.text(r, h);
        if let Some(p) = Problem::text(self.pos(r, h), &text, max, Charset::Payment) {
            problems.push(p);
            return None;
        }
        if required && text.is_empty() {
            problems.push(Problem::at(ProblemKind::BadValue, self.pos(r, h), "ist leer."));
            return None;
        }
        Some(text)
    }
}

fn open<'a>(
    sheets: &'a [Sheet],
    name: &str,
    headers: &[&'static str],
    problems: &mut Vec<Problem>,
) -> Option<Cols<'a>> {
    let sheet = super::sheet::find(sheets, name, problems)?;
    super::sheet::Columns::open(sheet, headers, &[], problems).map(Cols)
}

/// Row `r`'s address as the payment file and the QR-bill carry it: street, postcode and
/// town present, the QR-bill's lengths and character set.
fn address(t: &Cols<'_>, r: u32, problems: &mut Vec<Problem>) -> Address {
    use super::adressen::{MAX_NUMBER, MAX_POSTCODE, MAX_STREET, MAX_TOWN};
    let mut field = |h: &str, max: usize, required: bool| t.checked(r, h, max, required, problems).unwrap_or_default();
    Address {
        street: field("Strasse", MAX_STREET, true),
        number: field("Hausnummer", MAX_NUMBER, false),
        postcode: field("PLZ", MAX_POSTCODE, true),
        town: field("Ort", MAX_TOWN, true),
    }
}

/// Row `r`'s IBAN as a payment uses it: valid (checksum, country's structure), Swiss or
/// Liechtenstein, no QR-IBAN; its electronic form, or `None` and a problem.
fn payment_iban(t: &Cols<'_>, r: u32, problems: &mut Vec<Problem>) -> Option<String> {
    let raw = t.checked(r, "IBAN", MAX_IBAN_CHARS, false, problems)?;
    let at = t.pos(r, "IBAN");
    let iban = match check_iban(&raw) {
        Ok(i) => i,
        Err(why) => {
            problems.push(Problem::at(ProblemKind::BadValue, at, &format!("IBAN «{raw}» ist ungültig: {why}.")));
            return None;
        }
    };
    if !(iban.starts_with("CH") || iban.starts_with("LI")) {
        problems.push(Problem::at(
            ProblemKind::IbanCountry,
            at,
            &format!(
                "IBAN «{raw}» ist keine Schweizer oder Liechtensteiner IBAN; Zahlungsdatei und QR-Rechnung verwenden nur Konten mit CH- oder LI-IBAN."
            ),
        ));
        return None;
    }
    if is_qr_iban(&iban) {
        problems.push(Problem::at(
            ProblemKind::QrIban,
            at,
            &format!(
                "IBAN «{raw}» ist eine QR-IBAN (Bankennummer 30000–31999), die nur Zahlungen mit QR-Referenz annimmt; bitte die gewöhnliche IBAN des Kontos eintragen."
            ),
        ));
        return None;
    }
    Some(iban)
}

/// Whether `a` is a (transitive) successor of `b` in `Gemeinden`: a successor may carry on
/// its predecessor's account.
fn succeeds(a: Bfs, b: Bfs, municipalities: &BTreeMap<Bfs, Municipality>) -> bool {
    let mut cur = b;
    for _ in 0..municipalities.len() {
        match municipalities.get(&cur).and_then(|m| m.successor) {
            Some(next) if next == a => return true,
            Some(next) => cur = next,
            None => return false,
        }
    }
    false
}

/// Reads both sheets. Problems are master-data errors (German).
pub fn read(sheets: &[Sheet], municipalities: &BTreeMap<Bfs, Municipality>) -> (Zahlungsdaten, Vec<Problem>) {
    let mut p = Vec::new();
    let mut z = Zahlungsdaten::default();
    let bad = |p: &mut Vec<Problem>, m: String| p.push(Problem::new(ProblemKind::BadValue, m));
    // Position, payee and IBAN of every account, for the checks across rows.
    let mut payee_ibans: Vec<(Position, Bfs, String)> = Vec::new();
    if let Some(t) = open(sheets, SHEET_ACCOUNTS, &ACCOUNT_COLS, &mut p) {
        for r in t.rows() {
            let Some(bfs) = parse_bfs(t.value(r, "BFS-Nr.")) else {
                bad(&mut p, format!("{}: «BFS-Nr.» ist keine BFS-Nummer.", t.at(r)));
                continue;
            };
            if !municipalities.contains_key(&bfs) {
                p.push(Problem::unknown_municipality(t.at(r), bfs));
            }
            let holder = t.checked(r, "Kontoinhaber", super::adressen::MAX_NAME, true, &mut p).unwrap_or_default();
            let iban = payment_iban(&t, r, &mut p);
            let address = address(&t, r, &mut p);
            let Some(iban) = iban else { continue };
            payee_ibans.push((t.pos(r, "IBAN"), bfs, iban.clone()));
            if z.accounts.insert(bfs, Account { bfs, holder, iban, address }).is_some() {
                p.push(Problem::at(
                    ProblemKind::Duplicate,
                    t.pos(r, "BFS-Nr."),
                    &format!("BFS-Nr. {bfs} hat mehrere Zahlungsverbindungen."),
                ));
            }
        }
        // One account, one payee: the same IBAN for two municipalities pays one of them the
        // other's money, unless one carries on the other's account after a merger.
        let mut first: BTreeMap<&str, (u32, Bfs)> = BTreeMap::new();
        for (at, bfs, iban) in &payee_ibans {
            match first.get(iban.as_str()) {
                Some(&(row, b0))
                    if b0 != *bfs && !succeeds(*bfs, b0, municipalities) && !succeeds(b0, *bfs, municipalities) =>
                {
                    p.push(Problem::at(
                        ProblemKind::SharedIban,
                        at.clone(),
                        &format!(
                            "dieselbe IBAN wie Zeile {row} (BFS-Nr. {b0}); jede Gemeinde braucht ihr eigenes Konto (nur eine Nachfolgegemeinde darf das Konto ihrer Vorgängerin weiterführen)."
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    first.insert(iban, (at.row, *bfs));
                }
            }
        }
    }
    if let Some(t) = open(sheets, SHEET_CANTON, &CANTON_COLS, &mut p) {
        let rows: Vec<u32> = t.rows().collect();
        if rows.len() > 1 {
            p.push(Problem::new(
                ProblemKind::Duplicate,
                format!("Blatt «{SHEET_CANTON}»: nur eine Zeile ist erlaubt, gefunden {}.", rows.len()),
            ));
        }
        if let Some(&r) = rows.first() {
            let holder = t.checked(r, "Kontoinhaber", super::adressen::MAX_NAME, true, &mut p).unwrap_or_default();
            let iban = payment_iban(&t, r, &mut p);
            let bic = t.checked(r, "BIC", MAX_CODE_CHARS, false, &mut p).filter(|s| !s.is_empty());
            let clearing = t.checked(r, "Clearing-Nr.", MAX_CODE_CHARS, false, &mut p).filter(|s| !s.is_empty());
            if let Some(b) = &bic {
                let ok = (b.len() == 8 || b.len() == 11) && b.chars().all(|c| c.is_ascii_alphanumeric());
                if !ok {
                    p.push(Problem::at(
                        ProblemKind::BadValue,
                        t.pos(r, "BIC"),
                        &format!("BIC «{b}» ist ungültig (8 oder 11 Buchstaben und Ziffern)."),
                    ));
                }
            }
            if let Some(c) = &clearing {
                let ok = (3..=5).contains(&c.len()) && c.chars().all(|c| c.is_ascii_digit());
                if !ok {
                    p.push(Problem::at(
                        ProblemKind::BadValue,
                        t.pos(r, "Clearing-Nr."),
                        &format!("Clearing-Nr. «{c}» ist ungültig (3 bis 5 Ziffern)."),
                    ));
                }
            }
            let empty = |h: &str| t.text(r, h).is_empty();
            if empty("BIC") && empty("Clearing-Nr.") {
                bad(&mut p, format!("{}: BIC oder Clearing-Nr. fehlt (die Bank verlangt eine davon).", t.at(r)));
            }
            let address = address(&t, r, &mut p);
            if let Some(iban) = iban {
                // A payee paid from the canton's own account pays the canton.
                for (at, bfs, _) in payee_ibans.iter().filter(|(_, _, i)| *i == iban) {
                    p.push(Problem::at(
                        ProblemKind::SharedIban,
                        at.clone(),
                        &format!("BFS-Nr. {bfs} hat die IBAN des Kantons (Blatt «{SHEET_CANTON}»); eine Gemeinde braucht ihr eigenes Konto."),
                    ));
                }
                z.canton = Some(CantonAccount { holder, iban, bic: bic.map(|b| b.to_uppercase()), clearing, address });
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
                &["2999", "X", "CH6180808000000002401", "Dorf", "1", "4622", "X"],
            ],
        );
        let canton = sheet(
            SHEET_CANTON,
            &[
                &CANTON_COLS,
                &["Kanton Solothurn", "CH1609000000045000001", "", "", "Rathaus", "1", "4500", "Solothurn"],
            ],
        );
        let (z, p) = read(&[acc, canton], &munis());
        assert_eq!(z.accounts[&2401].iban, "CH9300762011623852957");
        let kinds: Vec<_> = p.iter().map(|p| p.kind).collect();
        // Unknown BFS-Nr. 2999, and no BIC or clearing number for the canton.
        assert_eq!(kinds, vec![ProblemKind::UnknownReference, ProblemKind::BadValue]);
    }

    /// Sheet, row, column.
    type Cell = Option<(String, u32, String)>;

    fn kinds_at(p: &[Problem]) -> Vec<(ProblemKind, Cell)> {
        p.iter().map(|p| (p.kind, p.at.as_ref().map(|a| (a.sheet.clone(), a.row, a.column.clone())))).collect()
    }

    fn at(sheet: &str, row: u32, column: &str) -> Cell {
        Some((sheet.to_string(), row, column.to_string()))
    }

    /// Three municipalities: Alt (2401) merged into Neu (2402); Dritt (2403) unrelated.
    fn three() -> BTreeMap<Bfs, Municipality> {
        let m = |bfs, name: &str, successor| Municipality {
            bfs,
            name: name.into(),
            district: "Gäu".into(),
            validity: crate::domain::Validity::ALWAYS,
            successor,
        };
        BTreeMap::from([
            (2401, m(2401, "Alt", Some(2402))),
            (2402, m(2402, "Neu", None)),
            (2403, m(2403, "Dritt", None)),
        ])
    }

    fn account(bfs: &'static str, iban: &'static str) -> [&'static str; 7] {
        [bfs, "Einwohnergemeinde X", iban, "Dorf", "1", "4622", "X"]
    }

    fn canton(iban: &str) -> Sheet {
        sheet(
            SHEET_CANTON,
            &[&CANTON_COLS, &["Kanton Solothurn", iban, "POFICHBEXXX", "", "Rathaus", "1", "4500", "Solothurn"]],
        )
    }

    /// A payee's IBAN: CH and LI are paid, any other country is not; a QR-IBAN (IID
    /// 30000–31999) is refused on both sides of its range. Each problem at row 2, «IBAN».
    #[test]
    fn a_payee_account_is_swiss_or_liechtenstein_and_no_qr_iban() {
        let one = |iban: &'static str| {
            let acc = sheet(SHEET_ACCOUNTS, &[&ACCOUNT_COLS, &account("2401", iban)]);
            let (z, p) = read(&[acc], &munis());
            (z.accounts.get(&2401).map(|a| a.iban.clone()), kinds_at(&p))
        };
        assert_eq!(one("CH93 0076 2011 6238 5295 7"), (Some("CH9300762011623852957".into()), vec![]));
        assert_eq!(one("LI21 0881 0000 2324 013A A"), (Some("LI21088100002324013AA".into()), vec![]));
        let refused = |k| (None, vec![(k, at(SHEET_ACCOUNTS, 2, "IBAN"))]);
        assert_eq!(one("DE89 3704 0044 0532 0130 00"), refused(ProblemKind::IbanCountry));
        assert_eq!(one("AT61 1904 3002 3457 3201"), refused(ProblemKind::IbanCountry));
        assert_eq!(one("CH23 2999 9000 0000 0000 1"), (Some("CH2329999000000000001".into()), vec![]));
        assert_eq!(one("CH31 3000 0000 0000 0000 1"), refused(ProblemKind::QrIban));
        assert_eq!(one("CH18 3199 9000 0000 0000 1"), refused(ProblemKind::QrIban));
        assert_eq!(one("CH26 3200 0000 0000 0000 1"), (Some("CH2632000000000000001".into()), vec![]));
        assert_eq!(one("CH44 3199 9123 0008 8901 2"), refused(ProblemKind::QrIban));
    }

    /// One IBAN for two payees is refused (at the second row), unless one is the other's
    /// successor; a payee on the canton's IBAN is refused at the payee's row.
    #[test]
    fn an_account_belongs_to_one_payee_and_never_to_the_canton() {
        let read3 = |rows: &[[&'static str; 7]], canton_iban: Option<&str>| {
            let mut all: Vec<&[&str]> = vec![&ACCOUNT_COLS];
            all.extend(rows.iter().map(|r| r.as_slice()));
            let mut sheets = vec![sheet(SHEET_ACCOUNTS, &all)];
            sheets.extend(canton_iban.map(canton));
            kinds_at(&read(&sheets, &three()).1)
        };
        let a = "CH6180808000000002401";
        let b = "CH3480808000000002402";
        let c = "CH0780808000000002403";
        assert_eq!(read3(&[account("2402", b), account("2403", c)], Some("CH1609000000045000001")), vec![]);
        // Two unrelated municipalities on one account.
        assert_eq!(
            read3(&[account("2402", b), account("2403", b)], None),
            vec![(ProblemKind::SharedIban, at(SHEET_ACCOUNTS, 3, "IBAN"))]
        );
        // The successor carries on its predecessor's account, in either row order.
        assert_eq!(read3(&[account("2401", a), account("2402", a)], None), vec![]);
        assert_eq!(read3(&[account("2402", a), account("2401", a)], None), vec![]);
        // A payee on the canton's own account.
        assert_eq!(
            read3(&[account("2402", b), account("2403", c)], Some(c)),
            vec![(ProblemKind::SharedIban, at(SHEET_ACCOUNTS, 3, "IBAN"))]
        );
    }

    /// The canton's account as QR-bill and payment file use it: CH/LI, no QR-IBAN, a holder
    /// of at most 70 characters of the payment set, a town of at most 35.
    #[test]
    fn the_canton_account_is_checked_as_qr_bill_and_payment_file_use_it() {
        let row = |holder: &str, iban: &str, town: &str| {
            let s =
                sheet(SHEET_CANTON, &[&CANTON_COLS, &[holder, iban, "POFICHBEXXX", "", "Rathaus", "1", "4500", town]]);
            let (z, p) = read(&[s], &munis());
            (z.canton.is_some(), kinds_at(&p))
        };
        let good = "CH1609000000045000001";
        assert_eq!(row("Kanton Solothurn", good, "Solothurn"), (true, vec![]));
        let refused = |k, col| (false, vec![(k, at(SHEET_CANTON, 2, col))]);
        assert_eq!(
            row("Kanton Solothurn", "CH44 3199 9123 0008 8901 2", "Solothurn"),
            refused(ProblemKind::QrIban, "IBAN")
        );
        assert_eq!(
            row("Kanton Solothurn", "DE89370400440532013000", "Solothurn"),
            refused(ProblemKind::IbanCountry, "IBAN")
        );
        assert_eq!(row(&"K".repeat(70), good, "Solothurn"), (true, vec![]));
        assert_eq!(row(&"K".repeat(71), good, "Solothurn").1, refused(ProblemKind::TooLong, "Kontoinhaber").1);
        assert_eq!(row("Kanton Solothurn", good, &"S".repeat(35)), (true, vec![]));
        assert_eq!(row("Kanton Solothurn", good, &"S".repeat(36)).1, refused(ProblemKind::TooLong, "Ort").1);
        // Ω is no character of the payment set; Ž (Latin Extended-A) is.
        assert_eq!(row("Kanton Žug", good, "Solothurn"), (true, vec![]));
        assert_eq!(
            row("Kanton Ωmega", good, "Solothurn").1,
            refused(ProblemKind::UnsupportedCharacter, "Kontoinhaber").1
        );
        assert_eq!(
            row("Kanton\nSolothurn", good, "Solothurn").1,
            refused(ProblemKind::ControlCharacter, "Kontoinhaber").1
        );
    }
}
