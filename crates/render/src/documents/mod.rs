//! Documents the office signs and sends, rendered from what compute decided:
//!
//! - `Rueckmeldungen/<BFS>_<Gemeinde>.pdf`: the feedback letter next to its workbook
//!   ([`letter`]);
//! - `Rechnungen/<Nummer>_<BFS>_<Gemeinde>.pdf`: an invoice with a Swiss QR-bill, written by
//!   the payout run that books it, and reprinted identically from the ledger (4.7,
//!   [`invoice`], [`qrbill`]);
//! - `Entwuerfe/*.eml`: an e-mail draft for each letter (with its workbook) and each invoice
//!   (with the invoice alone) ([`eml`]).
//!
//! - `Mahnungen/*.pdf`: a reminder for a form missing after its deadline, written by
//!   `beitraege mahnen` with its e-mail draft ([`mahnung`]).
//!
//! - `Anhang_1_Beitraege_<Y>.pdf`: the annex as a signed document ([`annex_pdf`]).
//!
//! All PDFs are PDF/A-2b with embedded fonts ([`pdf`]).

pub mod annex_pdf;
pub mod eml;
pub mod invoice;
pub mod jahresinformation;
pub mod letter;
pub mod mahnung;
pub mod pdf;
pub mod qrbill;

use crate::adressen::{Address, MunicipalityAddress, Sender};
use crate::domain::Bfs;
use crate::stammdaten::Stammdaten;
use crate::write::{feedback, style, EvaluationData, OutFile, WriteError};
use chrono::{Datelike, NaiveDate};
use pdf::{Page, MIN_SIZE, PT};

/// Days until the correction deadline of a letter and the due date of an invoice.
pub const DAYS_TO_ANSWER: u64 = 30;

/// The canton as creditor of an invoice: its structured address and IBAN. A plain value so
/// that the caller decides where it comes from ([`creditor`]: the sheet `Kantonskonto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    pub address: Address,
    pub iban: String,
}

/// The sender printed on letters and invoices: the master data's `Absender`. Without that
/// sheet the office is named and no address is printed: the program invents none (the
/// letterhead and the return address then hold the office's name only).
pub fn sender(d: &EvaluationData<'_>) -> Sender {
    sender_of(d.master)
}

/// The sender of the master data (see [`sender`]).
pub fn sender_of(master: &Stammdaten) -> Sender {
    if let Some(s) = &master.adressen.sender {
        return s.clone();
    }
    Sender {
        address: Address { name: OFFICE.into(), country: "CH".into(), ..Default::default() },
        contact_person: String::new(),
        phone: String::new(),
        email: String::new(),
    }
}

/// The office's name when the master data have no `Absender`.
pub const OFFICE: &str = "Amt für Gesellschaft und Soziales";

/// The creditor for invoices: the canton's account of the master data (sheet
/// `Kantonskonto`: holder, IBAN, address), if there is one.
pub fn creditor(d: &EvaluationData<'_>) -> Option<Creditor> {
    creditor_of(d.master)
}

/// The creditor of the master data (see [`creditor`]).
pub fn creditor_of(master: &Stammdaten) -> Option<Creditor> {
    let k = master.zahlung.canton.as_ref()?;
    Some(Creditor {
        address: Address {
            name: k.holder.clone(),
            street: k.address.street.clone(),
            number: k.address.number.clone(),
            postcode: k.address.postcode.clone(),
            town: k.address.town.clone(),
            country: "CH".into(),
        },
        iban: k.iban.clone(),
    })
}

/// A municipality's address, or its name alone when the master data have none.
pub fn recipient_address<'a>(d: &EvaluationData<'a>, bfs: Bfs) -> (Address, Option<&'a MunicipalityAddress>) {
    recipient_of(d.master, bfs)
}

/// A municipality's address of the master data (see [`recipient_address`]).
pub fn recipient_of(master: &Stammdaten, bfs: Bfs) -> (Address, Option<&MunicipalityAddress>) {
    match master.adressen.municipalities.get(&bfs) {
        Some(m) => (m.address.clone(), Some(m)),
        None => {
            let name = master.municipality(bfs).map(|m| m.name.clone()).unwrap_or_default();
            (Address { name: format!("Gemeinde {name}"), country: "CH".into(), ..Default::default() }, None)
        }
    }
}

/// `15. März 2024`.
pub fn long_date(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    format!("{}. {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The date `DAYS_TO_ANSWER` days after the run date.
pub fn answer_by(d: &EvaluationData<'_>) -> NaiveDate {
    d.run_date.checked_add_days(chrono::Days::new(DAYS_TO_ANSWER)).unwrap_or(d.run_date)
}

/// The stem of a municipality's files: `2403_Gunzgen`.
pub fn stem(d: &EvaluationData<'_>, bfs: Bfs) -> String {
    stem_of(d.master, bfs)
}

/// The stem of a municipality's files (see [`stem`]).
pub fn stem_of(master: &Stammdaten, bfs: Bfs) -> String {
    format!("{bfs}_{}", style::safe_name(&master.municipality(bfs).map(|m| m.name.clone()).unwrap_or_default()))
}

// ---------------------------------------------------------------------------
// Layout shared by letter and invoice
// ---------------------------------------------------------------------------

/// Left margin, text width and the last baseline of body text, in millimetres.
pub const LEFT: f32 = 25.0;
pub const RIGHT: f32 = 190.0;
/// Address window on the right (SN 010130, window envelope C5/C4 right): 118 mm from the
/// left edge, from 50 mm below the top edge, 80 × 40 mm.
pub const WINDOW_X: f32 = 118.0;
pub const WINDOW_Y: f32 = 50.0;
pub const WINDOW_W: f32 = 80.0;

/// Line height in millimetres of text of `size` points.
pub fn leading(size: f32) -> f32 {
    size * 1.35 / PT
}

/// The first page's head: sender block top left, address window right, place and date,
/// subject. Returns the baseline where the body starts.
pub fn letterhead(page: &mut Page, s: &Sender, to: &[String], date: NaiveDate, subject: &str) -> f32 {
    let mut y = 20.0;
    page.text(LEFT, y, 9.0, false, "Kanton Solothurn");
    y += leading(9.0) + 1.0;
    page.text(LEFT, y, 10.0, true, &s.address.name);
    y += leading(10.0);
    for l in s.address.lines().into_iter().skip(1) {
        page.text(LEFT, y, 9.0, false, l);
        y += leading(9.0);
    }
    for (k, v) in [("Telefon", &s.phone), ("E-Mail", &s.email)] {
        if !v.is_empty() {
            page.text(LEFT, y, 9.0, false, format!("{k} {v}"));
            y += leading(9.0);
        }
    }
    // Address window: the return address (at most two lines), then the recipient.
    let ret = s.address.lines().join(", ");
    let mut ya = WINDOW_Y + 4.0;
    for l in pdf::wrap(&ret, WINDOW_W, MIN_SIZE, false).into_iter().take(2) {
        page.text(WINDOW_X, ya, MIN_SIZE, false, l);
        ya += leading(MIN_SIZE);
    }
    page.line(WINDOW_X, ya - 1.5, WINDOW_X + WINDOW_W, ya - 1.5, 0.15);
    ya += 4.0;
    for l in to.iter().take(6) {
        for w in pdf::wrap(l, WINDOW_W, 10.0, false) {
            page.text(WINDOW_X, ya, 10.0, false, w);
            ya += leading(10.0);
        }
    }
    let mut y = 95.0_f32.max(ya + 6.0);
    let dated = match s.address.town.as_str() {
        "" => long_date(date),
        town => format!("{town}, {}", long_date(date)),
    };
    page.text(LEFT, y, 10.0, false, dated);
    y += 10.0;
    for l in pdf::wrap(subject, RIGHT - LEFT, 11.0, true) {
        page.text(LEFT, y, 11.0, true, l);
        y += leading(11.0);
    }
    y + 6.0
}

/// First and last baseline of body text on a follow-on page, in millimetres.
pub const TOP: f32 = 25.0;
pub const BOTTOM: f32 = 270.0;

/// Text size of a letter's body and closing, in points.
pub const BODY: f32 = 10.0;
/// Space between the last paragraph and the closing, in millimetres.
pub const CLOSING_AFTER: f32 = 6.0;

/// Flowing body text over as many pages as it needs. A paragraph moves whole to the next
/// page when it does not fit (only one taller than a page is split), and the closing is kept
/// with the paragraph before it ([`Flow::closing`]): what a page break would leave alone is
/// measured before anything is drawn.
pub struct Flow {
    pub pages: Vec<Page>,
    pub y: f32,
    /// Last usable baseline on the current page.
    pub bottom: f32,
}

/// The height of a paragraph: its lines and the space after it.
pub fn para_height(text: &str, size: f32, bold: bool, indent: f32, after: f32) -> f32 {
    pdf::wrap(text, RIGHT - LEFT - indent, size, bold).len() as f32 * leading(size) + after
}

/// The height of an [`Flow::amount_line`]: its label's lines.
pub fn amount_line_height(label: &str, size: f32, bold: bool) -> f32 {
    pdf::wrap(label, RIGHT - LEFT - AMOUNT_WIDTH, size, bold).len() as f32 * leading(size)
}

/// The room an amount takes right of its label, in millimetres.
const AMOUNT_WIDTH: f32 = 40.0;

/// The height of the closing ([`Flow::signature`]): greeting, office, room to sign, signer.
pub fn signature_height(s: &Sender) -> f32 {
    let l = leading(BODY);
    if s.contact_person.is_empty() {
        2.0 * l + 2.0
    } else {
        3.0 * l + 18.0
    }
}

impl Flow {
    pub fn new(first: Page, y: f32, bottom: f32) -> Flow {
        Flow { pages: vec![first], y, bottom }
    }
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let n = self.pages.len() - 1;
        &mut self.pages[n]
    }
    /// Starts a new page when less than `h` millimetres are left.
    pub fn need(&mut self, h: f32) {
        if self.y + h > self.bottom {
            self.pages.push(Page::default());
            self.y = TOP;
            self.bottom = BOTTOM;
        }
    }
    /// Keeps `h` millimetres together: a new page when they do not fit here but would on a
    /// fresh page (a block taller than a page starts where it is).
    pub fn keep(&mut self, h: f32) {
        if h <= BOTTOM - TOP {
            self.need(h);
        }
    }
    /// A paragraph at `indent` millimetres right of the margin, then `after` millimetres
    /// space; the whole paragraph on one page.
    pub fn para(&mut self, text: &str, size: f32, bold: bool, indent: f32, after: f32) {
        let lines = pdf::wrap(text, RIGHT - LEFT - indent, size, bold);
        self.keep(lines.len() as f32 * leading(size));
        for l in lines {
            self.need(leading(size));
            let y = self.y;
            self.page().text(LEFT + indent, y, size, bold, l);
            self.y += leading(size);
        }
        self.y += after;
    }
    /// A label and an amount on one line, the amount right-aligned.
    pub fn amount_line(&mut self, label: &str, amount: &str, size: f32, bold: bool) {
        let lines = pdf::wrap(label, RIGHT - LEFT - AMOUNT_WIDTH, size, bold);
        self.need(leading(size) * lines.len() as f32);
        let y0 = self.y;
        for l in lines {
            let y = self.y;
            self.page().text(LEFT, y, size, bold, l);
            self.y += leading(size);
        }
        self.page().text_right(RIGHT, y0, size, bold, amount);
    }
    /// The closing: greeting, office, room to sign, the signer.
    pub fn signature(&mut self, s: &Sender) {
        self.keep(signature_height(s));
        self.para("Freundliche Grüsse", BODY, false, 0.0, 2.0);
        self.para(&s.address.name, BODY, true, 0.0, 16.0);
        if !s.contact_person.is_empty() {
            self.para(&s.contact_person, BODY, false, 0.0, 0.0);
        }
    }
    /// The letter's last paragraph and its closing, on one page: when both do not fit here,
    /// both move to the next page, so that the closing never stands alone there.
    pub fn closing(&mut self, last: &str, s: &Sender) {
        self.keep(para_height(last, BODY, false, 0.0, CLOSING_AFTER) + signature_height(s));
        self.para(last, BODY, false, 0.0, CLOSING_AFTER);
        self.signature(s);
    }
    /// The pages with a footer: `label`, page n of m.
    pub fn finish(mut self, label: &str) -> Vec<Page> {
        let n = self.pages.len();
        for (i, p) in self.pages.iter_mut().enumerate() {
            p.text(LEFT, 287.0, MIN_SIZE, false, label);
            p.text_right(RIGHT, 287.0, MIN_SIZE, false, &format!("Seite {} von {n}", i + 1));
        }
        self.pages
    }
}

/// Renders every document of `run`: letters next to the feedback workbooks and their e-mail
/// drafts; `built` are the outputs already rendered (the workbooks the drafts attach).
/// Invoices are not among them: the payout run that books an invoice writes it (4.7).
pub fn write_all(d: &EvaluationData<'_>, built: &[OutFile]) -> Result<Vec<OutFile>, WriteError> {
    use rayon::prelude::*;
    let recipients: Vec<_> = feedback::by_recipient(d).into_iter().collect();
    let letters: Vec<OutFile> =
        recipients.par_iter().map(|(b, fs)| letter::write(d, *b, fs)).collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (l, (b, _)) in letters.iter().zip(&recipients) {
        let book = built.iter().find(|f| f.rel == feedback::file_name(*b, &d.name_of(Some(*b))));
        out.push(eml::letter_draft(d, *b, l, book)?);
    }
    out.extend(letters);
    Ok(out)
}

/// A document error as a write error.
pub fn doc_error(rel: &str, reason: impl std::fmt::Display) -> WriteError {
    WriteError::Document { name: rel.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    //! The page-break rules of [`Flow`], on both sides of each boundary. A body line of 10 pt
    //! is 10 × 1.35 pt = 13.5 pt = 4.7625 mm high; pages hold baselines from 25 to 270 mm.
    use super::*;

    fn signer() -> Sender {
        Sender {
            address: Address { name: "Amt".into(), ..Default::default() },
            contact_person: "A. Muster".into(),
            ..Default::default()
        }
    }

    /// The texts of each page, in drawing order (the footer is not drawn here).
    fn texts(pages: &[Page]) -> Vec<Vec<String>> {
        pages
            .iter()
            .map(|p| {
                p.ops
                    .iter()
                    .filter_map(|op| match op {
                        pdf::Op::Text { text, .. } => Some(text.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// The baseline of the first text of page `i`.
    fn first_y(pages: &[Page], i: usize) -> f32 {
        pages[i]
            .ops
            .iter()
            .find_map(|op| match op {
                pdf::Op::Text { y, .. } => Some(*y),
                _ => None,
            })
            .expect("a text")
    }

    /// `n` one-line paragraphs from the top of a page, then the last paragraph and the closing.
    fn letter_with(n: usize) -> Vec<Page> {
        let mut f = Flow::new(Page::default(), TOP, BOTTOM);
        for i in 1..=n {
            f.para(&format!("Zeile {i}"), BODY, false, 0.0, 0.0);
        }
        f.closing("Für Fragen.", &signer());
        f.pages
    }

    #[test]
    fn heights_are_the_lines_and_the_space_after() {
        // One line of 4.7625 mm and 6 mm after; the closing with a signer: three lines, 2 mm
        // after the greeting, 16 mm to sign; without a signer: two lines and 2 mm.
        assert!((para_height("Für Fragen.", BODY, false, 0.0, 6.0) - 10.7625).abs() < 1e-3);
        assert!((signature_height(&signer()) - 32.2875).abs() < 1e-3);
        let unsigned = Sender { contact_person: String::new(), ..signer() };
        assert!((signature_height(&unsigned) - 11.525).abs() < 1e-3);
    }

    #[test]
    fn the_closing_stays_with_the_last_paragraph_on_both_sides_of_the_page_end() {
        // Last paragraph and closing: 10.7625 + 32.2875 = 43.05 mm. After 42 lines the body
        // stands at 25 + 42 × 4.7625 = 225.025 mm: 268.075 ≤ 270, everything fits.
        let fits = letter_with(42);
        assert_eq!(fits.len(), 1);
        let t = texts(&fits);
        assert_eq!(&t[0][41..], ["Zeile 42", "Für Fragen.", "Freundliche Grüsse", "Amt", "A. Muster"]);
        // One line more: 229.7875 + 43.05 = 272.8375 > 270. Line 43 still fits on page 1
        // (229.7875 ≤ 270 − 4.7625), the last paragraph moves with the closing.
        let moved = letter_with(43);
        assert_eq!(moved.len(), 2);
        let t = texts(&moved);
        assert_eq!(t[0].last().map(String::as_str), Some("Zeile 43"));
        assert_eq!(t[1], ["Für Fragen.", "Freundliche Grüsse", "Amt", "A. Muster"]);
        assert_eq!(first_y(&moved, 1), TOP);
    }

    #[test]
    fn a_paragraph_moves_whole_to_the_next_page() {
        // Three lines need 14.2875 mm. After 48 lines (25 + 48 × 4.7625 = 253.6 mm) they fit:
        // 267.8875 ≤ 270; after 49 (258.3625 mm) they would end at 272.65: all three move,
        // though two of them would still fit on page 1.
        for (n, pages) in [(48, 1), (49, 2)] {
            let mut f = Flow::new(Page::default(), TOP, BOTTOM);
            for i in 1..=n {
                f.para(&format!("Zeile {i}"), BODY, false, 0.0, 0.0);
            }
            f.para("a\nb\nc", BODY, false, 0.0, 0.0);
            let t = texts(&f.pages);
            assert_eq!(t.len(), pages, "after {n} lines");
            assert_eq!(t[pages - 1][t[pages - 1].len() - 3..], ["a", "b", "c"], "after {n} lines");
            if pages == 2 {
                assert_eq!(t[1].len(), 3, "nothing of the paragraph stays on page 1");
            }
        }
    }

    #[test]
    fn a_block_taller_than_a_page_starts_where_it_is() {
        // 60 lines (285.75 mm) cannot fit any page: no empty page before them.
        let mut f = Flow::new(Page::default(), TOP, BOTTOM);
        f.para("Anfang", BODY, false, 0.0, 0.0);
        let long: Vec<String> = (1..=60).map(|i| format!("L{i}")).collect();
        f.para(&long.join("\n"), BODY, false, 0.0, 0.0);
        let t = texts(&f.pages);
        assert_eq!(t[0][..2], ["Anfang", "L1"]);
    }
}
