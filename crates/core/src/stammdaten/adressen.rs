//! Optional master-data sheets for the documents the office sends (letters, invoices, e-mail
//! drafts):
//!
//! - `Adressen`: one row per municipality and role: `BFS-Nr.`, `Empfänger`, `Strasse`,
//!   `Hausnummer`, `PLZ`, `Ort`, `Kontaktperson`, `E-Mail` (optional columns `Telefon` and
//!   `Rolle`: `Koordinationsstelle`, `Präsidium`, `Finanzverwaltung`; without the column, or
//!   with the cell empty, a row is the Koordinationsstelle's). Letters go to the
//!   Koordinationsstelle; the yearly information (4.5.3) also to the other two;
//! - `Absender`: one row for the AGS: `Amt`, `Strasse`, `Hausnummer`, `PLZ`, `Ort`,
//!   `Kontaktperson`, `Telefon`, `E-Mail`.
//!
//! The canton's account for invoices (4.7) is the `Kantonskonto` of [`crate::zahlungsdaten`].
//!
//! Both sheets are optional. A sheet that is there must be usable: a missing column, a
//! duplicate or unknown BFS-Nr., an address too long for a QR-bill, or a text that could
//! write into a document or an e-mail header (a line break, a bidirectional control, an emoji,
//! a contact person longer than a line of the address window) stops the run like any other
//! master-data problem.

use super::problem::{Charset, Problem, ProblemKind};
use crate::domain::Bfs;
use crate::extract::norm;
use crate::values::parse_bfs;
use crate::workbook::Sheet;
use std::collections::BTreeMap;

/// A postal address in structured form (QR-bill address type `S`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Name of the person or office (at most 70 characters).
    pub name: String,
    /// Street without the house number (at most 70).
    pub street: String,
    /// House number (at most 16).
    pub number: String,
    /// Postcode without country prefix (at most 16).
    pub postcode: String,
    /// Town (at most 35).
    pub town: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

impl Address {
    /// The address lines as printed: name, street and number, postcode and town.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![self.name.clone()];
        let street = format!("{} {}", self.street, self.number).trim().to_string();
        if !street.is_empty() {
            out.push(street);
        }
        out.push(format!("{} {}", self.postcode, self.town).trim().to_string());
        out.retain(|l| !l.is_empty());
        out
    }
}

/// A municipality's postal address and contact for letters and e-mail drafts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MunicipalityAddress {
    pub bfs: Bfs,
    pub address: Address,
    pub contact_person: String,
    pub email: String,
    pub phone: String,
}

/// Whom a municipality's address row reaches (4.5.3: «die Koordinationsstellen, die Präsidien
/// der Einwohnergemeinden sowie die Finanzverwaltungen»), in the order of the letters' copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Koordinationsstelle,
    Praesidium,
    Finanzverwaltung,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Koordinationsstelle, Role::Praesidium, Role::Finanzverwaltung];

    /// The term of the master data's column `Rolle`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Koordinationsstelle => "Koordinationsstelle",
            Role::Praesidium => "Präsidium",
            Role::Finanzverwaltung => "Finanzverwaltung",
        }
    }

    /// The role a cell names (case, spaces and the spelling `Praesidium` aside); an empty cell
    /// is the Koordinationsstelle's.
    pub fn parse(text: &str) -> Option<Role> {
        let n = norm(text);
        if n.is_empty() {
            return Some(Role::Koordinationsstelle);
        }
        Role::ALL.into_iter().find(|r| norm(r.label()) == n || (*r == Role::Praesidium && n == norm("Praesidium")))
    }
}

/// The AGS as sender of letters and creditor of invoices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub address: Address,
    pub contact_person: String,
    pub phone: String,
    pub email: String,
}

impl Sender {
    /// Whom to ask: `Sandra Muster, Telefon 032 627 00 00, E-Mail integration@…`; empty when
    /// the sheet names no contact person, phone or e-mail.
    pub fn contact_text(&self) -> String {
        let mut who = Vec::new();
        if !self.contact_person.is_empty() {
            who.push(self.contact_person.clone());
        }
        if !self.phone.is_empty() {
            who.push(format!("Telefon {}", self.phone));
        }
        if !self.email.is_empty() {
            who.push(format!("E-Mail {}", self.email));
        }
        who.join(", ")
    }
}

/// The contents of the optional sheets `Adressen` and `Absender`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adressen {
    /// The Koordinationsstelle of each municipality: the recipient of every letter.
    pub municipalities: BTreeMap<Bfs, MunicipalityAddress>,
    /// The other roles' rows (Präsidium, Finanzverwaltung): copies of the yearly information.
    pub copies: BTreeMap<(Bfs, Role), MunicipalityAddress>,
    pub sender: Option<Sender>,
}

impl Adressen {
    /// A municipality's recipients by role: the Koordinationsstelle first, then Präsidium and
    /// Finanzverwaltung, each that the master data have.
    pub fn recipients(&self, bfs: Bfs) -> Vec<(Role, &MunicipalityAddress)> {
        Role::ALL
            .into_iter()
            .filter_map(|r| {
                match r {
                    Role::Koordinationsstelle => self.municipalities.get(&bfs),
                    _ => self.copies.get(&(bfs, r)),
                }
                .map(|m| (r, m))
            })
            .collect()
    }
}

/// Field limits of the QR-bill's structured address (SIX IG 2.3, section 4.3.3), which the
/// payment file (SPS, pain.001) shares: name, street, house number, postcode, town.
pub const MAX_NAME: usize = 70;
pub const MAX_STREET: usize = 70;
pub const MAX_NUMBER: usize = 16;
pub const MAX_POSTCODE: usize = 16;
pub const MAX_TOWN: usize = 35;

/// The longest contact person: with «z. Hd. » one line of the letter's address window
/// (80 mm at 10 pt), also the signature line of the sender.
pub const MAX_PERSON_CHARS: usize = 50;
/// The longest telephone number (a line of the letterhead).
pub const MAX_PHONE_CHARS: usize = 30;
/// The longest e-mail address (a line of the letterhead, an e-mail header).
pub const MAX_EMAIL_CHARS: usize = 64;

/// A sheet of addresses, read by the one reader of every master-data sheet
/// ([`super::sheet::Columns`]).
struct Table<'a>(super::sheet::Columns<'a>);

impl<'a> std::ops::Deref for Table<'a> {
    type Target = super::sheet::Columns<'a>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> Table<'a> {
    fn open(
        sheets: &'a [Sheet],
        name: &str,
        required: &[&'static str],
        optional: &[&'static str],
        problems: &mut Vec<Problem>,
    ) -> Option<Table<'a>> {
        let sheet = super::sheet::find(sheets, name, problems)?;
        super::sheet::Columns::open(sheet, required, optional, problems).map(Table)
    }
    /// Column `h`'s text in `row`, checked as a one-line text of at most `max` characters of
    /// `charset`; `None` (and a problem) when it is not one.
    fn checked(&self, row: u32, h: &str, max: usize, charset: Charset, problems: &mut Vec<Problem>) -> Option<String> {
        let text = self.text(row, h);
        match Problem::text(self.pos(row, h), &text, max, charset) {
            Some(p) => {
                problems.push(p);
                None
            }
            None => Some(text),
        }
    }
}

fn bad(problems: &mut Vec<Problem>, message: String) {
    problems.push(Problem::new(ProblemKind::BadValue, message));
}

/// Whether `email` is a plain address `local@domain` in ASCII, as an e-mail header takes it.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local.chars().all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let domain_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn check_email(t: &Table<'_>, r: u32, problems: &mut Vec<Problem>) -> String {
    let Some(email) = t.checked(r, "E-Mail", MAX_EMAIL_CHARS, Charset::Payment, problems) else {
        return String::new();
    };
    if !email.is_empty() && !is_email(&email) {
        problems.push(Problem::at(
            ProblemKind::BadValue,
            t.pos(r, "E-Mail"),
            &format!("«{email}» ist keine E-Mail-Adresse (Form name@gemeinde.ch, ohne Umlaute und Leerzeichen)."),
        ));
    }
    email
}

/// Reads the optional sheets `Adressen` and `Absender`; `known` are the BFS-Nr. of the sheet
/// `Gemeinden`.
pub fn parse(sheets: &[Sheet], known: &dyn Fn(Bfs) -> bool) -> (Adressen, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut out = Adressen::default();
    if let Some(t) = Table::open(
        sheets,
        "Adressen",
        &["BFS-Nr.", "Empfänger", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "E-Mail"],
        &["Telefon", "Rolle"],
        &mut problems,
    ) {
        for r in t.rows() {
            let v = t.value(r, "BFS-Nr.");
            let Some(bfs) = parse_bfs(v) else {
                bad(&mut problems, format!("{}: «BFS-Nr.» ist keine BFS-Nr. («{}»).", t.at(r), v.display()));
                continue;
            };
            if !known(bfs) {
                problems.push(Problem::unknown_municipality(t.at(r), bfs));
            }
            let (address, email) = address_and_email(&t, r, "Empfänger", &mut problems);
            let contact_person =
                t.checked(r, "Kontaktperson", MAX_PERSON_CHARS, Charset::Document, &mut problems).unwrap_or_default();
            let phone = t.checked(r, "Telefon", MAX_PHONE_CHARS, Charset::Document, &mut problems).unwrap_or_default();
            let role_text = t.text(r, "Rolle");
            let Some(role) = Role::parse(&role_text) else {
                problems.push(Problem::at(
                    ProblemKind::BadValue,
                    t.pos(r, "Rolle"),
                    &format!("«{role_text}» ist keine Rolle (Koordinationsstelle, Präsidium oder Finanzverwaltung)."),
                ));
                continue;
            };
            let m = MunicipalityAddress { bfs, address, contact_person, email, phone };
            let twice = match role {
                Role::Koordinationsstelle => out.municipalities.insert(bfs, m).is_some(),
                _ => out.copies.insert((bfs, role), m).is_some(),
            };
            if twice {
                problems.push(Problem::new(
                    ProblemKind::Duplicate,
                    format!("{}: BFS-Nr. {bfs} mit der Rolle «{}» kommt mehrfach vor.", t.at(r), role.label()),
                ));
            }
        }
    }
    if let Some(t) = Table::open(
        sheets,
        "Absender",
        &["Amt", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "Telefon", "E-Mail"],
        &[],
        &mut problems,
    ) {
        let rows: Vec<u32> = t.rows().collect();
        if rows.len() > 1 {
            problems.push(Problem::new(
                ProblemKind::Duplicate,
                format!("Blatt «Absender»: {} Zeilen, erwartet wird genau eine.", rows.len()),
            ));
        }
        if let Some(&r) = rows.first() {
            let (address, email) = address_and_email(&t, r, "Amt", &mut problems);
            let contact_person =
                t.checked(r, "Kontaktperson", MAX_PERSON_CHARS, Charset::Document, &mut problems).unwrap_or_default();
            let phone = t.checked(r, "Telefon", MAX_PHONE_CHARS, Charset::Document, &mut problems).unwrap_or_default();
            out.sender = Some(Sender { address, contact_person, phone, email });
        }
    }
    (out, problems)
}

/// Row `r`'s postal address (its name from column `name_col`) and e-mail address, each
/// checked: one line each, the QR-bill's character set and lengths, name, postcode and town
/// present.
fn address_and_email(t: &Table<'_>, r: u32, name_col: &'static str, problems: &mut Vec<Problem>) -> (Address, String) {
    let mut field = |col: &str, max: usize, required: bool| -> String {
        let text = t.checked(r, col, max, Charset::Payment, problems);
        if required && text.as_deref() == Some("") {
            problems.push(Problem::at(ProblemKind::BadValue, t.pos(r, col), "ist leer."));
        }
        text.unwrap_or_default()
    };
    let address = Address {
        name: field(name_col, MAX_NAME, true),
        street: field("Strasse", MAX_STREET, false),
        number: field("Hausnummer", MAX_NUMBER, false),
        postcode: field("PLZ", MAX_POSTCODE, true),
        town: field("Ort", MAX_TOWN, true),
        country: "CH".into(),
    };
    let email = check_email(t, r, problems);
    (address, email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        Sheet::from_texts(name, rows)
    }

    const HEAD: &[&str] = &["BFS-Nr.", "Empfänger", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "E-Mail"];
    const SENDER: &[&str] = &["Amt", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "Telefon", "E-Mail"];

    fn kinds(p: &[Problem]) -> Vec<ProblemKind> {
        p.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn both_sheets_are_optional() {
        let (a, p) = parse(&[], &|_| true);
        assert!(p.is_empty());
        assert!(a.municipalities.is_empty() && a.sender.is_none());
    }

    #[test]
    fn reads_a_municipality_and_the_sender() {
        let s = [
            sheet(
                "Adressen",
                &[
                    HEAD,
                    &[
                        "2403",
                        "Gemeindeverwaltung Gunzgen",
                        "Dorfstrasse",
                        "12",
                        "4617",
                        "Gunzgen",
                        "A. Muster",
                        "a@gunzgen.ch",
                    ],
                ],
            ),
            sheet(
                "Absender",
                &[
                    SENDER,
                    &[
                        "Amt für Gesellschaft und Soziales",
                        "Ambassadorenhof",
                        "1",
                        "4509",
                        "Solothurn",
                        "B. Beispiel",
                        "032 627 00 00",
                        "b@so.ch",
                    ],
                ],
            ),
        ];
        let (a, p) = parse(&s, &|b| b == 2403);
        assert!(p.is_empty(), "{p:?}");
        let m = &a.municipalities[&2403];
        assert_eq!((m.address.postcode.as_str(), m.address.town.as_str()), ("4617", "Gunzgen"));
        assert_eq!(a.sender.unwrap().phone, "032 627 00 00");
    }

    #[test]
    fn unknown_duplicate_and_bad_values_are_problems() {
        let long_town = "X".repeat(36);
        let ok_town = "X".repeat(35);
        let s = [sheet(
            "Adressen",
            &[
                HEAD,
                &["2403", "G", "S", "1", "4617", &ok_town, "", "a@b.ch"],
                &["2403", "G", "S", "1", "4617", "Gunzgen", "", ""],
                &["9999", "G", "S", "1", "4617", &long_town, "", "kein-mail"],
            ],
        )];
        let (_, p) = parse(&s, &|b| b == 2403);
        let k = kinds(&p);
        assert_eq!(k.iter().filter(|k| **k == ProblemKind::Duplicate).count(), 1);
        assert_eq!(k.iter().filter(|k| **k == ProblemKind::UnknownReference).count(), 1);
        // Town of 36 characters and the e-mail; 35 characters pass.
        let at =
            |k| p.iter().filter(|p| p.kind == k).map(|p| p.at.clone().map(|a| (a.row, a.column))).collect::<Vec<_>>();
        assert_eq!(at(ProblemKind::TooLong), vec![Some((4, "Ort".to_string()))]);
        assert_eq!(at(ProblemKind::BadValue), vec![Some((4, "E-Mail".to_string()))]);
    }

    #[test]
    fn one_row_per_role_an_unknown_role_and_a_role_twice() {
        let mut head = HEAD.to_vec();
        head.push("Rolle");
        let row = |role: &'static str| -> Vec<&'static str> {
            vec!["2403", "G", "S", "1", "4617", "Gunzgen", "", "a@b.ch", role]
        };
        let rows = [row(""), row("Präsidium"), row("finanzverwaltung"), row("Praesidium"), row("Gemeinderat")];
        let all: Vec<&[&str]> = std::iter::once(head.as_slice()).chain(rows.iter().map(|r| r.as_slice())).collect();
        let (a, p) = parse(&[sheet("Adressen", &all)], &|b| b == 2403);
        let at = p.iter().map(|p| (p.kind, p.at.clone().map(|a| (a.row, a.column)))).collect::<Vec<_>>();
        // Row 5 names the Präsidium a second time; row 6 no role.
        assert_eq!(at, vec![(ProblemKind::Duplicate, None), (ProblemKind::BadValue, Some((6, "Rolle".to_string())))]);
        let roles: Vec<Role> = a.recipients(2403).into_iter().map(|(r, _)| r).collect();
        assert_eq!(roles, vec![Role::Koordinationsstelle, Role::Praesidium, Role::Finanzverwaltung]);
        assert!(a.recipients(2401).is_empty());
    }

    #[test]
    fn the_old_form_without_roles_is_the_koordinationsstelle() {
        let s = [sheet("Adressen", &[HEAD, &["2403", "G", "S", "1", "4617", "Gunzgen", "", "a@b.ch"]])];
        let (a, p) = parse(&s, &|_| true);
        assert!(p.is_empty());
        assert_eq!(a.recipients(2403).into_iter().map(|(r, _)| r).collect::<Vec<_>>(), vec![Role::Koordinationsstelle]);
        assert!(a.copies.is_empty());
    }

    #[test]
    fn the_sender_has_exactly_one_row() {
        let row: &[&str] = &["AGS", "Ambassadorenhof", "1", "4509", "Solothurn", "", "", ""];
        let (_, p) = parse(&[sheet("Absender", &[SENDER, row])], &|_| true);
        assert!(p.is_empty());
        let (_, p) = parse(&[sheet("Absender", &[SENDER, row, row])], &|_| true);
        assert_eq!(kinds(&p), vec![ProblemKind::Duplicate]);
    }

    #[test]
    fn a_missing_column_is_named() {
        let s = [sheet("Adressen", &[&["BFS-Nr.", "Empfänger"]])];
        let (_, p) = parse(&s, &|_| true);
        assert!(p.iter().all(|p| p.kind == ProblemKind::MissingColumn));
        assert_eq!(p.len(), 6);
    }
}
