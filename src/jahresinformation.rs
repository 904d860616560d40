//! `beitraege jahresinformation`: the yearly information of 4.5.3 to every municipality.
//! Evaluates the year ([`crate::evaluate`]), reads the ledger's bookings and invoices of the
//! year, lets the core state each municipality's contributions ([`crate::jahresinfo`]),
//! renders the letters with their drafts and the annex PDF they attach
//! ([`crate::documents::jahresinformation`]), records them in the correspondence journal in
//! one transaction, and writes them into a folder of their own (`<Ausgabe>/<JJJJ-MM-TT>[_n]`).
//! A letter recorded already on that day is not written again.

use crate::domain::fmt_date;
use crate::evaluate::{evaluate, EvaluationOptions};
use crate::jahresinfo::{self, Booked};
use crate::ledger::{Ledger, LedgerError, LetterKind, NewLetter};
use crate::workbook::Limits;
use crate::write::{self, EvaluationData, OutFile, WriteError};
use chrono::NaiveDate;
use std::path::PathBuf;

/// What `beitraege jahresinformation` needs.
#[derive(Debug, Clone)]
pub struct JahresinfoOptions {
    pub year: i32,
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    /// The output root: each call writes a folder of its own below it.
    pub out: PathBuf,
    /// The ledger: its bookings and invoices of the year, and the correspondence journal.
    pub ledger: PathBuf,
    /// The letters' date.
    pub date: NaiveDate,
    /// The AGS contact (`--kontakt`); else the master data's.
    pub contact: Option<String>,
    pub threads: Option<usize>,
    pub limits: Limits,
}

/// A letter written and recorded.
#[derive(Debug, Clone)]
pub struct Written {
    pub bfs: u32,
    pub nr: i64,
    pub letter: String,
    pub drafts: Vec<String>,
    pub source: jahresinfo::Source,
}

/// What a call did.
pub struct JahresinfoReport {
    pub written: Vec<Written>,
    /// Municipalities whose letter of the day is recorded already.
    pub already: Vec<u32>,
    pub folder: Option<PathBuf>,
    pub files: Vec<String>,
}

pub use crate::mahnen::LetterError as JahresinfoError;

/// The ledger's contributions and clawbacks of `year`, as the core reads them.
pub fn booked(ledger: &Ledger, year: i32) -> Result<Vec<Booked>, LedgerError> {
    Ok(ledger
        .verify()?
        .into_iter()
        .filter(|b| b.periode.year == year && b.leistung.is_contribution())
        .map(|b| Booked { bfs: b.bfs, year: b.periode.year, stichtag: b.stichtag, amount: b.betrag })
        .collect())
}

/// Writes the yearly information of `opts.year`.
pub fn run(opts: &JahresinfoOptions) -> Result<JahresinfoReport, JahresinfoError> {
    write::commit::check_output_root(&opts.out, false).map_err(WriteError::from)?;
    write::commit::check_ledger_place(&opts.ledger, Some(&opts.inbox), &[&opts.out]).map_err(WriteError::from)?;
    let ro = EvaluationOptions {
        year: opts.year,
        inbox: opts.inbox.clone(),
        stammdaten: opts.stammdaten.clone(),
        out: opts.out.clone(),
        threads: opts.threads,
        limits: opts.limits,
        run_date: opts.date,
        contact: opts.contact.clone(),
        progress: None,
        force: true,
        received_by: None,
        buchhaltung: None,
    };
    let eval = evaluate(&ro)?;
    let mut ledger = Ledger::open(&opts.ledger)?;
    let bookings = booked(&ledger, opts.year)?;
    let invoices = ledger.invoices()?;
    let before = ledger.correspondence(Some(opts.year))?;
    let contact = crate::run::contact_of(opts.contact.as_deref(), &eval.master);
    let d = EvaluationData {
        year: eval.year,
        run_date: opts.date,
        master: &eval.master,
        resolved: &eval.resolved,
        comp: &eval.comp,
        findings: &eval.findings,
        contact: &contact,
        version: env!("CARGO_PKG_VERSION"),
        ledger: None,
    };
    let mut already = Vec::new();
    let mut infos = Vec::new();
    for row in &eval.comp.rows {
        let recorded = before.iter().any(|l| {
            l.letter.kind == LetterKind::Jahresinformation && l.letter.bfs == row.bfs && l.letter.date == opts.date
        });
        if recorded {
            already.push(row.bfs);
            continue;
        }
        let i = jahresinfo::info(&eval.comp, row, Some((&bookings, &invoices)))
            .map_err(|_| JahresinfoError::Overflow { bfs: row.bfs, name: row.name.clone() })?;
        infos.push(i);
    }
    if infos.is_empty() {
        return Ok(JahresinfoReport { written: vec![], already, folder: None, files: vec![] });
    }
    let annex = crate::documents::annex_pdf::write(&d)?;
    let mut files: Vec<OutFile> = Vec::new();
    let mut records = Vec::new();
    let mut names = Vec::new();
    for i in &infos {
        let w = crate::documents::jahresinformation::write(&eval.master, i, opts.date, &annex, &contact)?;
        records.push(NewLetter {
            year: opts.year,
            kind: LetterKind::Jahresinformation,
            bfs: i.bfs,
            form: String::new(),
            period: opts.year.to_string(),
            date: opts.date,
            level: None,
            deadline: None,
            recipient: w.recipient.clone(),
            subject: w.subject.clone(),
            file: w.letter.rel.clone(),
            sha256: crate::ledger::sha256_hex(&w.letter.bytes),
        });
        names.push((w.letter.rel.clone(), w.drafts.iter().map(|d| d.rel.clone()).collect::<Vec<_>>()));
        files.push(w.letter);
        files.extend(w.drafts);
    }
    files.push(annex);
    let now = chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string();
    let recorded = ledger.record_letters(&records, &now, env!("CARGO_PKG_VERSION"))?;
    let folder = crate::mahnen::commit_letters(&opts.out, opts.date, "Jahresinformationen", &files)?;
    let written = infos
        .iter()
        .zip(recorded)
        .zip(names)
        .map(|((i, rec), (letter, drafts))| Written { bfs: i.bfs, nr: rec.nr, letter, drafts, source: i.source })
        .collect();
    Ok(JahresinfoReport {
        written,
        already,
        folder: Some(folder),
        files: files.iter().map(|f| f.rel.clone()).collect(),
    })
}

/// The German summary printed after a call.
pub fn summary(r: &JahresinfoReport, date: NaiveDate) -> String {
    let mut s = String::new();
    if r.written.is_empty() {
        s.push_str("Keine Jahresinformation zu schreiben.\n");
    } else {
        let booked = r.written.iter().filter(|w| w.source == jahresinfo::Source::Ledger).count();
        s.push_str(&format!(
            "Jahresinformationen geschrieben: {} (Auszahlungen gemäss Buchhaltung: {booked}, voraussichtlich: {})\n",
            r.written.len(),
            r.written.len() - booked
        ));
    }
    if !r.already.is_empty() {
        s.push_str(&format!("Bereits am {} erfasst: {}\n", fmt_date(date), r.already.len()));
    }
    if let Some(f) = &r.folder {
        s.push_str(&format!("Ausgaben in {}\n", f.display()));
    }
    s
}
