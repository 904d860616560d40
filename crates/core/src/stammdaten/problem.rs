//! The problems master data can have: their kinds, positions and texts, and the character
//! sets a text must keep to. Used by every sheet reader of the master data.

use crate::domain::Bfs;

/// What kind of contradiction a master data problem is (tests assert on this, not on text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Unreadable,
    MissingSheet,
    MissingColumn,
    BadValue,
    Duplicate,
    UnknownReference,
    SuccessorCycle,
    TwoContracts,
    TwoLeads,
    LeadNotMember,
    TariffOverlap,
    TariffGap,
    PopulationMissing,
    /// A figure beyond the hard ceilings (`MAX_COUNT`, `MAX_TARIFF_CHF`, `MAX_AMOUNT_CHF`).
    OutOfRange,
    /// A sheet whose name differs from a master-data sheet only by case or spaces.
    SheetNameVariant,
    /// A text with a control character: a line break, a tab or another (one line only).
    ControlCharacter,
    /// A text with a bidirectional control (U+202E …) or another invisible format character.
    InvisibleCharacter,
    /// A character outside what the text's use allows: the QR-bill and payment file set, or
    /// what the letters' font can print (an emoji, a rare script).
    UnsupportedCharacter,
    /// A text longer than its use allows (address window, QR-bill, letter line).
    TooLong,
    /// An IBAN of a country other than CH or LI.
    IbanCountry,
    /// A QR-IBAN (bank number 30000–31999): no credit transfer or RF reference can use it.
    QrIban,
    /// One IBAN for two payees, or a payee on the canton's own account.
    SharedIban,
}

/// One master data problem with its German message and, where one cell is at fault, its
/// position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub at: Option<Position>,
}

/// A cell of the master data: sheet, row as the spreadsheet numbers it (the header is row 1),
/// column by its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub sheet: String,
    pub row: u32,
    pub column: String,
}

impl Position {
    /// The cell of `column` in the 0-based `row` of `sheet`.
    pub(crate) fn new(sheet: &str, row: u32, column: &str) -> Position {
        Position { sheet: sheet.to_string(), row: row + 1, column: column.to_string() }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blatt «{}», Zeile {}, Spalte «{}»", self.sheet, self.row, self.column)
    }
}

/// Which characters a master-data text may hold, by where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Into a QR-bill or the payment file (pain.001): the set both permit, [`payment_char`].
    Payment,
    /// Into letters, workbooks, file names and e-mail headers: [`document_char`].
    Document,
}

/// The characters a Swiss QR-bill and the Swiss Payment Standards both permit: Basic Latin,
/// Latin-1 Supplement, Latin Extended-A, Ș ș Ț ț and € (no control characters).
pub fn payment_char(c: char) -> bool {
    payments::charset::allowed_char(c)
}

/// The characters a master-data text printed in a letter may hold: the payment set, Latin
/// Extended-B and Additional, Greek and Cyrillic letters and typographic punctuation; every
/// one of them is in the embedded font (tests/it/stammdaten_text.rs checks each), so nothing
/// prints as a replacement. No emoji, no combining marks, no other scripts.
pub fn document_char(c: char) -> bool {
    payment_char(c)
        || matches!(c as u32,
            0x180..=0x24F
            | 0x386 | 0x388..=0x38A | 0x38C | 0x38E..=0x3A1 | 0x3A3..=0x3CE
            | 0x400..=0x482 | 0x48A..=0x4FF
            | 0x1E00..=0x1E9B | 0x1E9E | 0x1EA0..=0x1EF9
            | 0x2010 | 0x2012..=0x2015 | 0x2018..=0x201E | 0x2020..=0x2022 | 0x2026 | 0x2030
            | 0x2032 | 0x2033 | 0x2039 | 0x203A)
}

/// Bidirectional controls and the other characters that change or hide what a text shows
/// without being seen: zero-width characters, joiners, the soft hyphen, variation selectors,
/// tags, fillers.
pub fn invisible_char(c: char) -> bool {
    matches!(c as u32,
        0xAD | 0x34F | 0x61C | 0x115F | 0x1160 | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB
        | 0xE0000..=0xE007F | 0xE0100..=0xE01EF)
}

/// What is wrong with a one-line master-data text that may hold `max` characters of
/// `charset`: its kind and the German reason; `None` when it is fine. The reason names
/// characters by code point and never repeats the text.
pub fn text_flaw(text: &str, max: usize, charset: Charset) -> Option<(ProblemKind, String)> {
    for c in text.chars() {
        let code = format!("U+{:04X}", c as u32);
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            let what = match c {
                '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => "einen Zeilenumbruch",
                '\t' => "einen Tabulator",
                _ => "ein Steuerzeichen",
            };
            return Some((
                ProblemKind::ControlCharacter,
                format!("enthält {what} ({code}); erlaubt ist eine Zeile ohne Steuerzeichen."),
            ));
        }
        if invisible_char(c) {
            return Some((
                ProblemKind::InvisibleCharacter,
                format!(
                    "enthält ein unsichtbares Steuerzeichen ({code}, z. B. eine Umkehr der Schreibrichtung); bitte den Text neu eintippen."
                ),
            ));
        }
        let (ok, why) = match charset {
            Charset::Payment => (
                payment_char(c),
                "ist in QR-Rechnung und Zahlungsdatei nicht zulässig (erlaubt: lateinische Buchstaben mit Akzenten, Ziffern, übliche Satzzeichen)",
            ),
            Charset::Document => (
                document_char(c),
                "kann in Briefen und Dateinamen nicht verwendet werden (erlaubt: lateinische, griechische und kyrillische Buchstaben, Ziffern, übliche Satzzeichen; keine Emojis)",
            ),
        };
        if !ok {
            return Some((ProblemKind::UnsupportedCharacter, format!("Das Zeichen «{c}» ({code}) {why}.")));
        }
    }
    let n = text.chars().count();
    (n > max).then(|| (ProblemKind::TooLong, format!("ist {n} Zeichen lang, erlaubt sind höchstens {max}.")))
}

impl Problem {
    pub(crate) fn new(kind: ProblemKind, message: String) -> Problem {
        Problem { kind, message, at: None }
    }

    /// A problem of one cell: its position leads the message.
    pub(crate) fn at(kind: ProblemKind, at: Position, reason: &str) -> Problem {
        Problem { kind, message: format!("{at}: {reason}"), at: Some(at) }
    }

    /// The problem of the one-line text `text` in cell `at`, if it has one ([`text_flaw`]).
    pub(crate) fn text(at: Position, text: &str, max: usize, charset: Charset) -> Option<Problem> {
        text_flaw(text, max, charset).map(|(kind, reason)| Problem::at(kind, at, &reason))
    }

    /// A BFS-Nr. that a sheet names but the sheet `Gemeinden` does not hold (`at`: the sheet
    /// and row, as `Table::at` gives them). One wording for every master-data sheet.
    pub(crate) fn unknown_municipality(at: String, bfs: Bfs) -> Problem {
        Problem::new(ProblemKind::UnknownReference, format!("{at}: BFS-Nr. {bfs} fehlt im Blatt «Gemeinden»."))
    }
}
