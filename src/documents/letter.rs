//! The feedback letter (PDF) to a municipality with findings, next to its workbook:
//! `Rueckmeldungen/<BFS>_<Gemeinde>.pdf`. It says in plain German what was found, where
//! (file, sheet, cell) and how to fix it (the catalogue's texts), which amounts are withheld,
//! by when to answer and whom to ask.

use super::pdf::{self, Meta, Page};
use super::{answer_by, doc_error, leading, letterhead, long_date, recipient_address, sender, Flow};
use crate::compute::{component_label, Item};
use crate::domain::chf_text;
use crate::domain::{Bfs, Finding, Severity};
use crate::write::{feedback, OutFile, RunData, WriteError};
use std::collections::BTreeSet;

/// The letter's path: the workbook's with `.pdf`.
pub fn file_name(d: &RunData<'_>, bfs: Bfs) -> String {
    let book = feedback::file_name(bfs, &d.name_of(Some(bfs)));
    format!("{}.pdf", book.strip_suffix(".xlsx").unwrap_or(&book))
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Fehler => 0,
        Severity::Warnung => 1,
        Severity::Hinweis => 2,
    }
}

/// Where a finding is: `Datei «…», Blatt «Reporting», Zelle B13`.
pub fn place(f: &Finding) -> String {
    let mut parts = Vec::new();
    match &f.file {
        Some(file) => parts.push(format!("Datei «{file}»")),
        None => parts.push("ganze Gemeinde".to_string()),
    }
    if let Some(s) = f.sheet() {
        parts.push(format!("Blatt «{s}»"));
    }
    if let Some(c) = f.cell() {
        parts.push(format!("Zelle {c}"));
    }
    parts.join(", ")
}

/// The amounts withheld by a Fehler of a report, of the municipalities the letter covers:
/// (label, amount), as compute's statement has them.
pub fn withheld(d: &RunData<'_>, covered: &BTreeSet<Bfs>) -> Vec<(String, rust_decimal::Decimal)> {
    let mut out = Vec::new();
    for row in d.comp.rows.iter().filter(|r| covered.contains(&r.bfs)) {
        for line in row.statement.iter().filter(|l| l.withheld_by_report()) {
            let (Item::Component { period, component }, Some(held)) = (&line.item, line.withheld) else { continue };
            if held > rust_decimal::Decimal::ZERO {
                out.push((
                    format!("{} ({}), {}, {}", row.name, row.bfs, component_label(*component), period.label()),
                    held,
                ));
            }
        }
    }
    out
}

/// Half-years without a usable report, as compute's statement has them:
/// `Büsserach (2614), 1. Halbjahr 2023`.
pub fn missing_reports(d: &RunData<'_>, covered: &BTreeSet<Bfs>) -> Vec<String> {
    let mut out = Vec::new();
    for row in d.comp.rows.iter().filter(|r| covered.contains(&r.bfs)) {
        for line in &row.statement {
            if let Item::NoReport { period } = &line.item {
                out.push(format!("{} ({}), {}", row.name, row.bfs, period.label()));
            }
        }
    }
    out
}

pub fn write(d: &RunData<'_>, bfs: Bfs, findings: &[&Finding]) -> Result<OutFile, WriteError> {
    let rel = file_name(d, bfs);
    let name = d.name_of(Some(bfs));
    let s = sender(d);
    let (to, contact) = recipient_address(d, bfs);
    let mut to_lines = to.lines();
    if let Some(c) = contact.filter(|c| !c.contact_person.is_empty()) {
        to_lines.insert(1, format!("z. Hd. {}", c.contact_person));
    }
    let mut sorted: Vec<&Finding> = findings.to_vec();
    sorted.sort_by_key(|f| rank(f.severity));
    let mut covered: BTreeSet<Bfs> = d.master.members_of(bfs, crate::domain::ymd(d.year, 12, 31));
    covered.insert(bfs);
    covered.extend(findings.iter().filter_map(|f| f.bfs));

    let mut first = Page::default();
    let subject = format!("Berichterstattung start.integration {}: Rückmeldung an {name} (BFS-Nr. {bfs})", d.year);
    let y = letterhead(&mut first, &s, &to_lines, d.run_date, &subject);
    let mut f = Flow::new(first, y, 270.0);
    let body = 10.0;
    f.para("Sehr geehrte Damen und Herren", body, false, 0.0, 3.0);
    let book = feedback::file_name(bfs, &name);
    let book = book.rsplit('/').next().unwrap_or(&book);
    f.para(
        &format!(
            "Wir haben die Formulare zur Berichterstattung start.integration {} geprüft, die Sie uns eingereicht \
             haben. Dabei haben wir die folgenden Punkte festgestellt. Bei einem Fehler wird der betroffene Betrag \
             zurückbehalten, bis ein korrigiertes Formular eingeht; eine Warnung bitten wir Sie zu prüfen; ein Hinweis \
             dient Ihrer Information. Die beiliegende Excel-Datei «{book}» enthält dieselben Punkte und Ihre \
             Formulare mit den markierten Zellen.",
            d.year
        ),
        body,
        false,
        0.0,
        3.0,
    );
    let others: Vec<String> =
        covered.iter().filter(|b| **b != bfs).map(|b| format!("{} ({b})", d.name_of(Some(*b)))).collect();
    if !others.is_empty() {
        f.para(&format!("Dieses Schreiben umfasst auch die Punkte zu: {}.", others.join(", ")), body, false, 0.0, 3.0);
    }
    let counts = crate::catalogue::severity_counts(sorted.iter().map(|x| x.severity));
    f.need(20.0);
    f.para(&format!("Festgestellte Punkte ({counts})"), 11.0, true, 0.0, 2.0);
    for (i, x) in sorted.iter().enumerate() {
        let concerns = x.bfs.filter(|b| *b != bfs).map(|b| format!(" – betrifft {} ({b})", d.name_of(Some(b))));
        f.need(leading(body) * 3.0);
        f.para(
            &format!("{}. {}: {}{}", i + 1, x.severity.label(), place(x), concerns.unwrap_or_default()),
            body,
            true,
            0.0,
            0.5,
        );
        let mut text = x.message.clone();
        if let Some(v) = x.value.as_deref().filter(|v| !v.is_empty()) {
            text.push_str(&format!(" Gefundener Wert: «{v}»."));
        }
        f.para(&text, body, false, 5.0, 0.5);
        f.para(&format!("Korrektur: {}", x.fix), body, false, 5.0, 2.5);
    }

    f.need(20.0);
    f.para("Zurückbehaltene Beträge", 11.0, true, 0.0, 2.0);
    let held = withheld(d, &covered);
    let missing = missing_reports(d, &covered);
    if held.is_empty() && missing.is_empty() {
        f.para("Aufgrund dieser Punkte werden keine Beträge zurückbehalten.", body, false, 0.0, 3.0);
    }
    if !held.is_empty() {
        for (label, a) in &held {
            f.amount_line(label, &format!("CHF {}", chf_text(*a)), body, false);
        }
        let total: rust_decimal::Decimal = held.iter().map(|(_, a)| *a).sum();
        f.amount_line("Total zurückbehalten", &format!("CHF {}", chf_text(total)), body, true);
        f.y += 3.0;
    }
    for m in &missing {
        f.para(
            &format!(
                "{m}: Es liegt kein gültiges Reportingformular vor; für dieses Halbjahr werden derzeit keine \
                 Fall- und Dolmetschpauschalen ausgerichtet (Ziffer 5.2)."
            ),
            body,
            false,
            0.0,
            2.0,
        );
    }
    for row in d.comp.rows.iter().filter(|r| covered.contains(&r.bfs)) {
        if !row.status.is_eligible() {
            f.para(&format!("{} ({}): {}", row.name, row.bfs, row.status), body, false, 0.0, 2.0);
        }
    }

    let due = answer_by(d);
    let mail = if s.email.is_empty() { String::new() } else { format!(" an {}", s.email) };
    let has_fehler = sorted.iter().any(|x| x.severity == Severity::Fehler);
    f.need(20.0);
    f.para("Frist und Kontakt", 11.0, true, 0.0, 2.0);
    if has_fehler {
        f.para(
            &format!(
                "Bitte senden Sie uns die korrigierten Formulare bis am {}{mail}, jedes Formular als eigene Datei. \
                 Zurückbehaltene Beträge richten wir nach Eingang eines korrekten Formulars mit der nächsten \
                 Auszahlung aus (Ziffer 4.5.2).",
                long_date(due)
            ),
            body,
            false,
            0.0,
            2.0,
        );
    } else {
        f.para(
            &format!(
                "Bitte prüfen Sie die Punkte bis am {}. Ein korrigiertes Formular ist nur nötig, wenn ein Wert \
                 falsch gemeldet wurde.",
                long_date(due)
            ),
            body,
            false,
            0.0,
            2.0,
        );
    }
    let mut who = Vec::new();
    if !s.contact_person.is_empty() {
        who.push(s.contact_person.clone());
    }
    if !s.phone.is_empty() {
        who.push(format!("Telefon {}", s.phone));
    }
    if !s.email.is_empty() {
        who.push(format!("E-Mail {}", s.email));
    }
    let contact_text = if who.is_empty() { d.contact.replace('\n', ", ") } else { who.join(", ") };
    f.para(&format!("Für Fragen sind wir gerne für Sie da: {contact_text}."), body, false, 0.0, 6.0);
    f.signature(&s);
    let label = format!("Rückmeldung start.integration {} – {name} ({bfs})", d.year);
    let pages = f.finish(&label);
    let meta = Meta { title: &label, author: &s.address.name, subject: &subject, date: d.run_date };
    let bytes = pdf::render(&pages, &meta).map_err(|e| doc_error(&rel, e))?;
    Ok(OutFile { rel, bytes })
}
