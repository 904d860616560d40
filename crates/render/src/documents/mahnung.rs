//! The reminder letter (PDF/A, the feedback letter's layout with the address window):
//! `Mahnungen/<BFS>_<Gemeinde>_<Formular>_<Periode>_Mahnung<Stufe>.pdf`, and its e-mail draft
//! with the letter and the prefilled blank form attached. Its texts come from the letter
//! catalogue (`brieftext`); what it says was decided by the core (`mahnung`).

use super::pdf::{self, Meta, Page};
use super::{doc_error, eml, letterhead, recipient_of, sender_of, stem_of, Flow, BODY, BOTTOM};
use crate::domain::Bfs;
use crate::mahnung::{Form, Reminder};
use crate::stammdaten::Stammdaten;
use crate::write::{OutFile, WriteError};
use beitraege_core::brieftext::{self, ReminderFacts};

/// The folder of the reminder letters.
pub const FOLDER: &str = "Mahnungen";

/// A written reminder: the letter, its draft, and what the journal records.
pub struct Written {
    pub letter: OutFile,
    pub draft: OutFile,
    pub subject: String,
    /// The first line of the address window.
    pub recipient: String,
}

/// `2023-H1`, `SD-2023`: the form's part of the file name.
fn form_part(form: Form) -> String {
    match form {
        Form::Report(p) => format!("Reportingformular_{}_H{}", p.year, p.half),
        Form::Selbstdeklaration(y) => format!("Selbstdeklaration_{y}"),
    }
}

/// The letter's path.
pub fn file_name(master: &Stammdaten, r: &Reminder) -> String {
    format!("{FOLDER}/{}_{}_Mahnung{}.pdf", stem_of(master, r.missing.filer), form_part(r.missing.form), r.level)
}

fn name_bfs(master: &Stammdaten, bfs: Bfs) -> String {
    brieftext::name_bfs(&master.municipality(bfs).map(|m| m.name.clone()).unwrap_or_default(), bfs)
}

/// Writes the letter and its draft for reminder `r`; `form` is the prefilled blank form it
/// attaches (if the master data give one), `contact` the AGS contact text.
pub fn write(master: &Stammdaten, r: &Reminder, form: Option<&OutFile>, contact: &str) -> Result<Written, WriteError> {
    let rel = file_name(master, r);
    let s = sender_of(master);
    let bfs = r.missing.filer;
    let recipient = name_bfs(master, bfs);
    let members: Vec<String> = r.missing.covers.iter().filter(|b| **b != bfs).map(|b| name_bfs(master, *b)).collect();
    let attachment = form.map(|f| f.rel.rsplit('/').next().unwrap_or(&f.rel).to_string());
    let facts = ReminderFacts {
        recipient: &recipient,
        form: r.missing.form,
        level: r.level,
        passed: r.passed,
        deadline: r.deadline,
        first: r.first,
        members,
        attachment: attachment.as_deref(),
        email: &s.email,
        contact,
    };
    let subject = brieftext::reminder_subject(&facts);
    let (to, person) = recipient_of(master, bfs);
    let mut to_lines = to.lines();
    if let Some(c) = person.filter(|c| !c.contact_person.is_empty()) {
        to_lines.insert(1, format!("z. Hd. {}", c.contact_person));
    }
    let mut first = Page::default();
    let y = letterhead(&mut first, &s, &to_lines, r.date, &subject);
    let mut f = Flow::new(first, y, BOTTOM);
    f.para("Sehr geehrte Damen und Herren", BODY, false, 0.0, 3.0);
    for p in brieftext::reminder_paragraphs(&facts) {
        f.para(&p, BODY, false, 0.0, 3.0);
    }
    f.closing(&brieftext::reminder_last(&facts), &s);
    let pages = f.finish(&subject);
    let meta = Meta { title: &subject, author: &s.address.name, subject: &subject, date: r.date };
    let bytes = pdf::render(&pages, &meta).map_err(|e| doc_error(&rel, e))?;
    let letter = OutFile { rel, bytes };
    let base = letter.rel.rsplit('/').next().unwrap_or(&letter.rel).to_string();
    let text = brieftext::reminder_mail(&facts, &base);
    let draft = eml::reminder_draft(master, r, &subject, &text, &letter, form)?;
    Ok(Written { letter, draft, subject, recipient: to.name })
}
