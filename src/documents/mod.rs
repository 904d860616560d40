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
//! - `Anhang_1_Beitraege_<Y>.pdf`: the annex as a signed document ([`annex_pdf`]).
//!
//! All PDFs are PDF/A-2b with embedded fonts ([`pdf`]).

pub mod annex_pdf;
pub mod eml;
pub mod invoice;
pub mod letter;
pub mod pdf;
pub mod qrbill;

use crate::adressen::{Address, MunicipalityAddress, Sender};
use crate::domain::Bfs;
use crate::stammdaten::Stammdaten;
use crate::write::{feedback, style, OutFile, RunData, WriteError};
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

/// The sender printed on letters and invoices: the master data's `Absender`, else the AGS
/// with the contact text of the run.
pub fn sender(d: &RunData<'_>) -> Sender {
    sender_of(d.master)
}

/// The sender of the master data (see [`sender`]).
pub fn sender_of(master: &Stammdaten) -> Sender {
    if let Some(s) = &master.adressen.sender {
        return s.clone();
    }
    Sender {
        address: Address {
            name: "Amt für Gesellschaft und Soziales".into(),
            street: "Ambassadorenhof".into(),
            number: String::new(),
            postcode: "4509".into(),
            town: "Solothurn".into(),
            country: "CH".into(),
        },
        contact_person: String::new(),
        phone: String::new(),
        email: String::new(),
    }
}

/// The creditor for invoices: the canton's account of the master data (sheet
/// `Kantonskonto`: holder, IBAN, address), if there is one.
pub fn creditor(d: &RunData<'_>) -> Option<Creditor> {
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
pub fn recipient_address<'a>(d: &RunData<'a>, bfs: Bfs) -> (Address, Option<&'a MunicipalityAddress>) {
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
pub fn answer_by(d: &RunData<'_>) -> NaiveDate {
    d.run_date.checked_add_days(chrono::Days::new(DAYS_TO_ANSWER)).unwrap_or(d.run_date)
}

/// The stem of a municipality's files: `2403_Gunzgen`.
pub fn stem(d: &RunData<'_>, bfs: Bfs) -> String {
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
    page.text(LEFT, y, 10.0, false, format!("{}, {}", s.address.town, long_date(date)));
    y += 10.0;
    for l in pdf::wrap(subject, RIGHT - LEFT, 11.0, true) {
        page.text(LEFT, y, 11.0, true, l);
        y += leading(11.0);
    }
    y + 6.0
}

/// Flowing body text over as many pages as it needs.
pub struct Flow {
    pub pages: Vec<Page>,
    pub y: f32,
    /// Last usable baseline on the current page.
    pub bottom: f32,
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
            self.y = 25.0;
            self.bottom = 270.0;
        }
    }
    /// A paragraph at `indent` millimetres right of the margin, then `after` millimetres space.
    pub fn para(&mut self, text: &str, size: f32, bold: bool, indent: f32, after: f32) {
        let lines = pdf::wrap(text, RIGHT - LEFT - indent, size, bold);
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
        let lines = pdf::wrap(label, RIGHT - LEFT - 40.0, size, bold);
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
        self.need(40.0);
        self.para("Freundliche Grüsse", 10.0, false, 0.0, 2.0);
        self.para(&s.address.name, 10.0, true, 0.0, 16.0);
        if !s.contact_person.is_empty() {
            self.para(&s.contact_person, 10.0, false, 0.0, 0.0);
        }
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
pub fn write_all(d: &RunData<'_>, built: &[OutFile]) -> Result<Vec<OutFile>, WriteError> {
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
