//! The yearly information (4.5.3, PDF/A, the letter layout with the address window):
//! `Jahresinformation/<BFS>_<Gemeinde>_Jahresinformation_<Jahr>.pdf`, addressed to the
//! Koordinationsstelle with «Kopie an» the Präsidium and the Finanzverwaltung of the master
//! data, and one e-mail draft per recipient with the letter and the annex PDF attached. Its
//! texts come from the letter catalogue (`brieftext`); what it states was decided by the core
//! (`jahresinfo`): this module only lays it out.

use super::pdf::{self, Meta, Page};
use super::{
    amount_line_height, doc_error, eml, letterhead, para_height, recipient_of, sender_of, signature_height, stem_of,
    Flow, BODY, BOTTOM, CLOSING_AFTER,
};
use crate::adressen::Role;
use crate::domain::chf_text;
use crate::stammdaten::Stammdaten;
use crate::write::{OutFile, WriteError};
use beitraege_core::brieftext;
use beitraege_core::jahresinfo::Info;
use chrono::NaiveDate;

/// The folder of the letters.
pub const FOLDER: &str = "Jahresinformation";

/// A written yearly information: the letter, one draft per recipient, and what the journal
/// records.
pub struct Written {
    pub letter: OutFile,
    pub drafts: Vec<OutFile>,
    pub subject: String,
    /// The first line of the address window.
    pub recipient: String,
}

/// The letter's path.
pub fn file_name(master: &Stammdaten, i: &Info) -> String {
    format!("{FOLDER}/{}_Jahresinformation_{}.pdf", stem_of(master, i.bfs), i.year)
}

fn chf(a: crate::domain::Chf) -> String {
    format!("CHF {}", chf_text(a))
}

/// Writes the letter of `i` dated `date` and its drafts; `annex` is the annex PDF they attach,
/// `contact` the AGS contact text.
pub fn write(
    master: &Stammdaten,
    i: &Info,
    date: NaiveDate,
    annex: &OutFile,
    contact: &str,
) -> Result<Written, WriteError> {
    let rel = file_name(master, i);
    let s = sender_of(master);
    let subject = brieftext::info_subject(i);
    let annex_name = annex.rel.rsplit('/').next().unwrap_or(&annex.rel).to_string();
    let (to, person) = recipient_of(master, i.bfs);
    let mut to_lines = to.lines();
    if let Some(c) = person.filter(|c| !c.contact_person.is_empty()) {
        to_lines.insert(1, format!("z. Hd. {}", c.contact_person));
    }
    let recipients = master.adressen.recipients(i.bfs);
    let copies: Vec<String> = recipients
        .iter()
        .filter(|(r, _)| *r != Role::Koordinationsstelle)
        .map(|(_, m)| m.address.name.clone())
        .collect();
    let payee_name = master.municipality(i.payee).map(|m| m.name.clone()).unwrap_or_default();

    let mut first = Page::default();
    let y = letterhead(&mut first, &s, &to_lines, date, &subject);
    let mut f = Flow::new(first, y, BOTTOM);
    f.para("Sehr geehrte Damen und Herren", BODY, false, 0.0, 3.0);
    f.para(&brieftext::info_opening(i, &annex_name), BODY, false, 0.0, 3.0);
    f.para(&brieftext::info_amounts_heading(i), BODY, true, 0.0, 1.0);
    for a in &i.amounts {
        f.amount_line(&brieftext::info_amount_label(&a.label, a.count), &chf(a.amount), BODY, false);
    }
    f.amount_line(brieftext::INFO_TOTAL, &chf(i.total), BODY, true);
    f.y += 3.0;
    if let Some((head, intro)) = brieftext::info_payouts_heading(i, &payee_name) {
        f.para(&head, BODY, true, 0.0, 1.0);
        f.para(&intro, BODY, false, 0.0, 1.0);
        for p in &i.payouts {
            f.amount_line(&brieftext::info_payout_label(p.date, &p.basis, p.offset), &chf(p.amount), BODY, false);
        }
        if let Some(rest) = i.not_yet_paid.filter(|r| !r.is_zero()) {
            f.amount_line(brieftext::INFO_NOT_YET_PAID, &chf(rest), BODY, false);
        }
        f.y += 3.0;
    }
    if let Some((head, intro)) = brieftext::info_withheld_heading(i) {
        f.para(&head, BODY, true, 0.0, 1.0);
        f.para(&intro, BODY, false, 0.0, 1.0);
        for w in &i.withheld {
            f.keep(amount_line_height(&w.label, BODY, false) + para_height(&w.reason, BODY, false, 5.0, 1.0));
            f.amount_line(&w.label, &w.amount.map(chf).unwrap_or_default(), BODY, false);
            f.para(&w.reason, BODY, false, 5.0, 1.0);
        }
        f.y += 2.0;
    }
    if let Some((head, intro)) = brieftext::info_invoices_heading(i) {
        f.para(&head, BODY, true, 0.0, 1.0);
        f.para(&intro, BODY, false, 0.0, 1.0);
        for v in &i.invoices {
            f.amount_line(&brieftext::info_invoice_label(&v.id, v.date, v.due_on), &chf(v.open), BODY, false);
        }
        f.y += 3.0;
    }
    let last = brieftext::info_last(contact);
    let copy_line = brieftext::info_copies(&copies);
    if let Some(c) = &copy_line {
        // The copies stay on the page of the closing.
        f.keep(
            para_height(&last, BODY, false, 0.0, CLOSING_AFTER)
                + signature_height(&s)
                + 4.0
                + para_height(c, BODY, false, 0.0, 0.0),
        );
    }
    f.closing(&last, &s);
    if let Some(c) = &copy_line {
        f.y += 4.0;
        f.para(c, BODY, false, 0.0, 0.0);
    }
    let pages = f.finish(&subject);
    let meta = Meta { title: &subject, author: &s.address.name, subject: &subject, date };
    let bytes = pdf::render(&pages, &meta).map_err(|e| doc_error(&rel, e))?;
    let letter = OutFile { rel, bytes };
    let base = letter.rel.rsplit('/').next().unwrap_or(&letter.rel).to_string();
    let text = brieftext::info_mail(i, &base, &annex_name);
    let mut drafts = Vec::new();
    if recipients.is_empty() {
        drafts.push(eml::info_draft(
            master,
            i.bfs,
            None,
            Role::Koordinationsstelle,
            date,
            &subject,
            &text,
            &letter,
            annex,
        )?);
    }
    for (role, m) in &recipients {
        drafts.push(eml::info_draft(master, i.bfs, Some(m), *role, date, &subject, &text, &letter, annex)?);
    }
    Ok(Written { letter, drafts, subject, recipient: to.name })
}
