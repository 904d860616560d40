//! Master data cannot write into a document (issue 16, items 8 and 10): every master-data
//! text that reaches a letter, a file name, an e-mail header, a QR-bill or the payment file
//! is checked when the master data are read, and a hostile one is refused with its sheet,
//! row and column. The e-mail drafts carry every body in base64 between boundaries no text
//! can contain. Tests assert kinds and positions, never wording.

use crate::common;

use beitraege::documents::eml;
use beitraege::documents::pdf::printable;
use beitraege::run::{evaluate, render};
use beitraege::stammdaten::{document_char, invisible_char, payment_char, ProblemKind, Stammdaten};
use beitraege::workbook::{read_workbook, Limits, Sheet, Value};
use beitraege::zahlungslauf::pain001::sps_char;
use mail_parser::MimeHeaders;
use std::path::Path;
use std::process::Command;

/// The sample master data, sheet by sheet.
fn sample_sheets() -> Vec<Sheet> {
    let bytes = std::fs::read(common::sample().join("Stammdaten.xlsx")).unwrap();
    read_workbook(&bytes, &Limits::default()).unwrap().sheets
}

fn sheet<'a>(sheets: &'a mut [Sheet], name: &str) -> &'a mut Sheet {
    sheets.iter_mut().find(|s| s.name == name).unwrap_or_else(|| panic!("sheet {name}"))
}

/// The 0-based column of header `h` and the 0-based row whose column `key` holds `bfs`.
fn cell(s: &Sheet, key_col: &str, bfs: i64, h: &str) -> (u32, u32) {
    let col = |name: &str| s.cells().find(|((r, _), v)| *r == 0 && v.text() == name).map(|((_, c), _)| *c).unwrap();
    let key = col(key_col);
    let row = s
        .cells()
        .find(|((r, c), v)| *c == key && *r > 0 && v.text() == bfs.to_string())
        .map(|((r, _), _)| *r)
        .unwrap_or_else(|| panic!("{} {bfs}", s.name));
    (row, col(h))
}

/// Sets column `h` of the row of `bfs` (or of the one data row when `bfs` is `None`) on
/// `sheet_name`; returns the spreadsheet row number (header = 1).
fn set(sheets: &mut [Sheet], sheet_name: &str, bfs: Option<i64>, h: &str, text: &str) -> u32 {
    let s = sheet(sheets, sheet_name);
    let (r, c) = match bfs {
        Some(b) => cell(s, "BFS-Nr.", b, h),
        None => (1, s.cells().find(|((r, _), v)| *r == 0 && v.text() == h).map(|((_, c), _)| *c).unwrap()),
    };
    s.set(r, c, Value::Text(text.to_string()));
    r + 1
}

/// The problems of the master data as (kind, sheet, row, column).
fn problems(sheets: &[Sheet]) -> Vec<(ProblemKind, String, u32, String)> {
    match Stammdaten::from_sheets(sheets) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .map(|p| {
                let at = p.at.clone().unwrap_or_else(|| panic!("a problem without position: {}", p.message));
                (p.kind, at.sheet, at.row, at.column)
            })
            .collect(),
    }
}

fn one(kind: ProblemKind, sheet: &str, row: u32, column: &str) -> Vec<(ProblemKind, String, u32, String)> {
    vec![(kind, sheet.to_string(), row, column.to_string())]
}

#[test]
fn the_sample_master_data_pass_every_check() {
    assert_eq!(problems(&sample_sheets()), vec![]);
}

/// Every character a letter may hold is in both weights of the embedded font (nothing
/// prints as a replacement); every character a payment may hold is one the payment file
/// and the QR-bill permit; bidirectional controls are neither.
#[test]
fn the_character_sets_are_what_font_qr_bill_and_payment_file_take() {
    let mut document = 0;
    for cp in 0..=0x10FFFFu32 {
        let Some(c) = char::from_u32(cp) else { continue };
        if document_char(c) {
            document += 1;
            let s = c.to_string();
            assert_eq!(printable(&s, false), s, "U+{cp:04X} not in the regular font");
            assert_eq!(printable(&s, true), s, "U+{cp:04X} not in the bold font");
            assert!(!c.is_control(), "U+{cp:04X}");
        }
        if payment_char(c) {
            assert!(document_char(c) && sps_char(c) && !c.is_control(), "U+{cp:04X}");
        }
    }
    assert!(document > 1000, "Latin, Greek and Cyrillic: {document}");
    for c in
        ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{FEFF}']
    {
        assert!(invisible_char(c) && !document_char(c) && !payment_char(c), "U+{:04X}", c as u32);
    }
    // Both sides of the ranges: Latin Extended-A ends at U+017F (payment set), Extended-B
    // at U+024F (letters only); an emoji is neither.
    assert!(payment_char('\u{17F}') && !payment_char('\u{180}') && document_char('\u{180}'));
    assert!(document_char('\u{24F}') && !document_char('\u{250}'));
    assert!(!document_char('😀') && !payment_char('😀'));
}

/// The hostile inputs of the issue, each refused at its cell.
#[test]
fn a_hostile_absender_line_is_refused_at_its_cell() {
    let mut s = sample_sheets();
    let row = set(
        &mut s,
        "Absender",
        None,
        "Kontaktperson",
        "Sandra Muster\r\n\r\n--beitraege-rueckmeldung-2023-2401\r\nContent-Type: text/html\r\n\r\n<p>Neue Bankverbindung: bitte alle Zahlungen an CH00 …</p>",
    );
    assert_eq!(problems(&s), one(ProblemKind::ControlCharacter, "Absender", row, "Kontaktperson"));
}

#[test]
fn a_contact_person_with_a_line_break_is_refused() {
    for text in ["A. Muster\r\nBcc: alle@example.org", "A. Muster\nX", "A.\tMuster", "A. Muster\u{2028}X"] {
        let mut s = sample_sheets();
        let row = set(&mut s, "Adressen", Some(2401), "Kontaktperson", text);
        assert_eq!(problems(&s), one(ProblemKind::ControlCharacter, "Adressen", row, "Kontaktperson"), "{text:?}");
    }
}

#[test]
fn a_name_with_a_direction_override_or_an_emoji_is_refused() {
    let mut s = sample_sheets();
    let row = set(&mut s, "Gemeinden", Some(2401), "Gemeinde", "Egerkingen\u{202E}fdp.exe");
    assert_eq!(problems(&s), one(ProblemKind::InvisibleCharacter, "Gemeinden", row, "Gemeinde"));
    for bidi in ['\u{202A}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}'] {
        let mut s = sample_sheets();
        let row = set(&mut s, "Gemeinden", Some(2401), "Gemeinde", &format!("Eger{bidi}kingen"));
        assert_eq!(problems(&s), one(ProblemKind::InvisibleCharacter, "Gemeinden", row, "Gemeinde"));
    }
    let mut s = sample_sheets();
    let row = set(&mut s, "Gemeinden", Some(2401), "Gemeinde", "Egerkingen 🎉");
    assert_eq!(problems(&s), one(ProblemKind::UnsupportedCharacter, "Gemeinden", row, "Gemeinde"));
    // Letters the font prints pass: Extended-B, Vietnamese, Greek, Cyrillic.
    let mut s = sample_sheets();
    set(&mut s, "Gemeinden", Some(2401), "Gemeinde", "Ǆerkingen Nguyễn Ωmega Жуков");
    assert_eq!(problems(&s), vec![]);
    // The payee's account holder goes to the bank: the payment set only.
    let mut s = sample_sheets();
    let row = set(&mut s, "Zahlungsverbindungen", Some(2401), "Kontoinhaber", "Einwohnergemeinde Ωmega");
    assert_eq!(problems(&s), one(ProblemKind::UnsupportedCharacter, "Zahlungsverbindungen", row, "Kontoinhaber"));
}

/// Lengths on both sides: a contact person fills at most one line of the address window
/// (50 characters; 3'000 is refused), a municipality name 60, a clawback's reason 200.
#[test]
fn texts_longer_than_their_place_are_refused() {
    let cases: [(&str, Option<i64>, &str, usize); 6] = [
        ("Adressen", Some(2401), "Kontaktperson", 50),
        ("Absender", None, "Kontaktperson", 50),
        ("Adressen", Some(2401), "Empfänger", 70),
        ("Adressen", Some(2401), "Ort", 35),
        ("Gemeinden", Some(2401), "Gemeinde", 60),
        ("Zahlungsverbindungen", Some(2401), "Kontoinhaber", 70),
    ];
    for (sheet_name, bfs, col, max) in cases {
        let mut s = sample_sheets();
        set(&mut s, sheet_name, bfs, col, &"x".repeat(max));
        assert_eq!(problems(&s), vec![], "{sheet_name} {col}: {max} characters pass");
        let mut s = sample_sheets();
        let row = set(&mut s, sheet_name, bfs, col, &"x".repeat(max + 1));
        assert_eq!(problems(&s), one(ProblemKind::TooLong, sheet_name, row, col), "{sheet_name} {col}");
    }
    let mut s = sample_sheets();
    let row = set(&mut s, "Adressen", Some(2401), "Kontaktperson", &"Muster ".repeat(428));
    assert_eq!(problems(&s), one(ProblemKind::TooLong, "Adressen", row, "Kontaktperson"));
    // The clawback of the sample's first row: 200 characters pass, 201 do not.
    for (n, expected) in [(200, 0), (201, 1)] {
        let mut s = sample_sheets();
        let claw = sheet(&mut s, "Rückforderungen");
        let c = claw.cells().find(|((r, _), v)| *r == 0 && v.text() == "Grund").map(|((_, c), _)| *c).unwrap();
        claw.set(1, c, Value::Text("y".repeat(n)));
        let p = problems(&s);
        assert_eq!(p.len(), expected, "{n}");
        assert!(p.iter().all(|p| p == &one(ProblemKind::TooLong, "Rückforderungen", 2, "Grund")[0]));
    }
}

// ---------------------------------------------------------------------------
// The payment master data stop a command before anything is read
// ---------------------------------------------------------------------------

/// Writes sheets as an .xlsx workbook (dates as `TT.MM.JJJJ` text, as the master data
/// accept them).
fn write_xlsx(path: &Path, sheets: &[Sheet]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name).unwrap();
        for (&(r, c), v) in s.cells() {
            let c = c as u16;
            match v {
                Value::Int(n) => ws.write_number(r, c, *n as f64).map(|_| ()),
                Value::Float(f) => ws.write_number(r, c, *f).map(|_| ()),
                Value::Bool(b) => ws.write_boolean(r, c, *b).map(|_| ()),
                Value::Date(d) => ws.write_string(r, c, d.format("%d.%m.%Y").to_string()).map(|_| ()),
                other => ws.write_string(r, c, other.text()).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(path).unwrap();
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_beitraege"));
    c.current_dir(common::root());
    c
}

fn is_empty_or_absent(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut r| r.next().is_none()).unwrap_or(true)
}

/// A `Kantonskonto` with a QR-IBAN (or a foreign IBAN) stops `run` and `zahlungslauf` with
/// the master-data exit code before a form is read, and nothing is written; the sample's
/// own account runs.
#[test]
fn a_bad_canton_account_stops_run_and_zahlungslauf_before_anything_is_written() {
    let inbox = common::sample().join("inbox");
    for iban in ["CH44 3199 9123 0008 8901 2", "DE89 3704 0044 0532 0130 00"] {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("Stammdaten.xlsx");
        let mut s = sample_sheets();
        set(&mut s, "Kantonskonto", None, "IBAN", iban);
        write_xlsx(&md, &s);
        let reloaded = Stammdaten::load(&md).unwrap_err();
        assert_eq!(reloaded.kinds().len(), 1, "{reloaded}");

        let out = dir.path().join("out");
        let o = bin()
            .args(["run", "--stammdaten"])
            .arg(&md)
            .arg("--eingang")
            .arg(&inbox)
            .arg("--ausgabe")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(is_empty_or_absent(&out));

        let out = dir.path().join("zl");
        let ledger = dir.path().join("buchhaltung.sqlite");
        let o = bin()
            .args(["zahlungslauf", "--stichtag", "31.03.2024", "--stammdaten"])
            .arg(&md)
            .arg("--eingang")
            .arg(&inbox)
            .arg("--ausgabe")
            .arg(&out)
            .arg("--buchhaltung")
            .arg(&ledger)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(is_empty_or_absent(&out));
        assert!(!ledger.exists(), "a preview creates no ledger");
    }
}

// ---------------------------------------------------------------------------
// E-mail drafts: base64 bodies, a boundary no text contains, one-line headers
// ---------------------------------------------------------------------------

/// An `Absender` contact that looks like a MIME part but is one line passes the master data;
/// in every draft it stays inside the base64 text body: each draft parses back into one
/// text/plain part and its attachments, with no HTML part and no header but the draft's own.
#[test]
fn a_boundary_like_sender_line_stays_inside_the_text_of_every_draft() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Stammdaten.xlsx");
    let hostile = "--beitraege-x Content-Type: text/html";
    let mut s = sample_sheets();
    set(&mut s, "Absender", None, "Kontaktperson", hostile);
    write_xlsx(&md, &s);
    let mut o = common::sample_options(&dir.path().join("out"), Some(2));
    o.stammdaten = md;
    let e = evaluate(&o).unwrap();
    let files = render(&e, &o).unwrap();
    let drafts: Vec<_> = files.iter().filter(|f| f.rel.starts_with(&format!("{}/", eml::FOLDER))).collect();
    assert!(drafts.len() > 20, "{}", drafts.len());
    let allowed_headers = ["Message-ID", "Date", "Subject", "X-Unsent", "From", "To", "MIME-Version", "Content-Type"]
        .map(str::to_lowercase);
    for dr in drafts {
        let raw = String::from_utf8(dr.bytes.clone()).expect("a draft is ASCII");
        assert!(raw.is_ascii(), "{}", dr.rel);
        assert!(!raw.contains("text/html") && !raw.contains(hostile), "{}: the text is encoded", dr.rel);
        assert!(raw.contains("Content-Transfer-Encoding: base64"));
        assert!(!raw.contains("quoted-printable") && !raw.contains("Content-Transfer-Encoding: 7bit"), "{}", dr.rel);
        let msg = mail_parser::MessageParser::default().parse(&dr.bytes).expect("parseable");
        let names: Vec<String> = msg.headers().iter().map(|h| h.name().to_lowercase()).collect();
        assert!(names.iter().all(|n| allowed_headers.contains(n)), "{}: {names:?}", dr.rel);
        let attachments = msg.attachments().count();
        assert!(attachments >= 1, "{}", dr.rel);
        // The multipart container, one text part, the attachments: nothing else.
        assert_eq!(msg.parts.len(), 2 + attachments, "{}", dr.rel);
        let text = msg.body_text(0).unwrap();
        assert!(text.contains(hostile), "{}: the contact line is in the text", dr.rel);
        let types: Vec<String> = msg
            .parts
            .iter()
            .filter_map(|p| p.content_type())
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
            .collect();
        assert_eq!(types.iter().filter(|t| *t == "text/plain").count(), 1, "{}: {types:?}", dr.rel);
        assert!(types.iter().all(|t| t != "text/html"), "{}: {types:?}", dr.rel);
        let boundary = msg.content_type().and_then(|c| c.attribute("boundary")).unwrap().to_string();
        assert!(boundary.len() >= 32 && boundary.starts_with("beitraege-"), "{boundary}");
        assert!(eml::boundary_only_as_delimiter(&dr.bytes, &boundary, 1 + attachments), "{}", dr.rel);
    }
}

/// The boundary is random: every draft has its own, and the same inputs rendered twice give
/// other boundaries (and otherwise the same bytes).
#[test]
fn every_draft_has_its_own_random_boundary() {
    let out = std::env::temp_dir().join("beitraege-master-data-text-unused");
    let o = common::sample_options(&out, Some(2));
    let e = evaluate(&o).unwrap();
    let boundaries = |files: &[beitraege::write::OutFile]| -> Vec<(String, String, Vec<u8>)> {
        files
            .iter()
            .filter(|f| f.rel.ends_with(".eml"))
            .map(|f| {
                let msg = mail_parser::MessageParser::default().parse(&f.bytes).unwrap();
                let b = msg.content_type().and_then(|c| c.attribute("boundary")).unwrap().to_string();
                (f.rel.clone(), b, common::eml_normalised(&f.bytes))
            })
            .collect()
    };
    let a = boundaries(&render(&e, &o).unwrap());
    let b = boundaries(&render(&e, &o).unwrap());
    assert!(!a.is_empty());
    assert!(a.iter().all(|x| x.1.len() == "beitraege-".len() + 32 && x.1.starts_with("beitraege-")));
    assert!(a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && x.1 != y.1 && x.2 == y.2), "another boundary, same draft");
    let mut distinct: Vec<&String> = a.iter().chain(&b).map(|x| &x.1).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 2 * a.len(), "every draft its own boundary");
}

#[test]
fn base64_lines_are_rfc_2045() {
    // RFC 4648 test vectors.
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let expected = if encoded.is_empty() { String::new() } else { format!("{encoded}\r\n") };
        assert_eq!(eml::base64_lines(plain.as_bytes()), expected);
    }
    // 57 bytes are one full line of 76 characters; 58 start a second line.
    let full = eml::base64_lines(&[0u8; 57]);
    assert_eq!(full.lines().map(str::len).collect::<Vec<_>>(), vec![76]);
    let more = eml::base64_lines(&[0u8; 58]);
    assert_eq!(more.lines().map(str::len).collect::<Vec<_>>(), vec![76, 4]);
    assert_eq!(eml::one_line("a\r\nb\u{202E}c"), "a  b c");
}
