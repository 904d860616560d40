//! `beitraege mahnen`: the reminders of a year on a day (Stichtag). Evaluates the inbox as it
//! stood on that day ([`crate::evaluate`]), lets the core decide which forms are missing
//! after their deadline and at which level they are reminded ([`crate::mahnung`], given the
//! reminders the ledger's correspondence journal holds), renders each letter with its e-mail
//! draft and the prefilled blank form ([`crate::documents::mahnung`], [`crate::formulare`]),
//! records them in the journal in one transaction, and writes them into a folder of their
//! own (`<Ausgabe>/<JJJJ-MM-TT>[_n]`). A second call on the same day writes nothing anew.

use crate::documents::mahnung as letters;
use crate::domain::fmt_date;
use crate::evaluate::{evaluate, EvaluationError, EvaluationOptions};
use crate::ledger::{Ledger, LedgerError, LetterKind, NewLetter};
use crate::mahnung::{self, Held, Missing, Reminder, Sent};
use crate::workbook::Limits;
use crate::write::{self, OutFile, WriteError};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What `beitraege mahnen` needs.
#[derive(Debug, Clone)]
pub struct MahnenOptions {
    pub year: i32,
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    /// The output root: each call writes a folder of its own below it.
    pub out: PathBuf,
    /// The ledger whose correspondence journal records the reminders.
    pub ledger: PathBuf,
    /// The day: forms received by it count; the reminders bear its date.
    pub stichtag: NaiveDate,
    /// Days to the new deadline.
    pub days: u32,
    /// The AGS contact (`--kontakt`); else the master data's.
    pub contact: Option<String>,
    pub threads: Option<usize>,
    pub limits: Limits,
}

/// A reminder written and recorded.
#[derive(Debug, Clone)]
pub struct Written {
    pub reminder: Reminder,
    pub nr: i64,
    pub letter: String,
    pub draft: String,
}

/// What a call did.
pub struct MahnenReport {
    pub written: Vec<Written>,
    /// Missing forms not reminded on this day, with why.
    pub held: Vec<(Missing, Held)>,
    /// The folder written (none when nothing was due).
    pub folder: Option<PathBuf>,
    pub files: Vec<String>,
}

/// Why a command that writes and records letters (`mahnen`, `jahresinformation`) stopped.
#[derive(Debug, Error)]
pub enum LetterError {
    #[error(transparent)]
    Run(#[from] EvaluationError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("Die neue Frist von {days} Tagen ab {date} liegt ausserhalb des Kalenders.")]
    Deadline { days: u32, date: String },
    #[error("Die Beträge von {name} ({bfs}) liegen ausserhalb des berechenbaren Bereichs.")]
    Overflow { bfs: u32, name: String },
    /// The letters (`what`: «Mahnungen», «Jahresinformationen») are recorded, their folder
    /// could not be written.
    #[error(
        "Die {what} sind im Korrespondenzjournal erfasst, der Ordner «{}» konnte aber nicht geschrieben werden: {why}",
        folder.display()
    )]
    Folder { what: &'static str, folder: PathBuf, why: String },
}

pub type MahnenError = LetterError;

/// The reminders the journal holds, as the core reads them.
pub fn sent(ledger: &Ledger, year: i32) -> Result<Vec<Sent>, LedgerError> {
    Ok(crate::zahlungslauf::statement::reminders_sent(&ledger.correspondence(Some(year))?))
}

/// The folder of a call below the output root: `<JJJJ-MM-TT>`, `_2`, `_3` … beside earlier
/// ones of the same day.
pub fn folder_name(out: &Path, date: NaiveDate, n: u32) -> PathBuf {
    let day = date.format("%Y-%m-%d");
    if n <= 1 {
        out.join(day.to_string())
    } else {
        out.join(format!("{day}_{n}"))
    }
}

/// Writes recorded letters (`what`: «Mahnungen», «Jahresinformationen») into a folder of their
/// own below `out`: the first free `<JJJJ-MM-TT>[_n]`, taken under its lock, committed whole.
pub fn commit_letters(
    out: &Path,
    date: NaiveDate,
    what: &'static str,
    files: &[OutFile],
) -> Result<PathBuf, LetterError> {
    let mut n = 1;
    loop {
        let candidate = folder_name(out, date, n);
        n += 1;
        if candidate.exists() {
            continue;
        }
        let failed = |e: WriteError| LetterError::Folder { what, folder: candidate.clone(), why: e.to_string() };
        let dir = write::OutputDir::open(&candidate).map_err(|e| failed(e.into()))?;
        if candidate.exists() {
            continue;
        }
        dir.commit(files).map_err(|e| failed(e.into()))?;
        return Ok(candidate);
    }
}

/// The blank form of `formulare` for a reminder, if the master data plan one.
fn blank_form(
    master: &crate::stammdaten::Stammdaten,
    r: &Reminder,
    date: NaiveDate,
) -> Result<Option<OutFile>, WriteError> {
    use crate::formulare::TemplateKind;
    let kind = match r.missing.form {
        mahnung::Form::Report(p) => TemplateKind::Reporting { half: p.half },
        mahnung::Form::Selbstdeklaration(_) => TemplateKind::Selbstdeklaration,
    };
    let planned = crate::formulare::plan(master, r.missing.form.year());
    let Some(p) = planned.iter().find(|p| p.bfs == r.missing.filer && p.kind == kind) else { return Ok(None) };
    let mut f = crate::formulare::template(p, date)?;
    f.rel = format!("Formulare/{}", f.rel);
    Ok(Some(f))
}

/// Runs the reminders of `opts.year` on `opts.stichtag`.
pub fn run(opts: &MahnenOptions) -> Result<MahnenReport, MahnenError> {
    write::commit::check_output_root(&opts.out, false).map_err(WriteError::from)?;
    write::commit::check_ledger_place(&opts.ledger, Some(&opts.inbox), &[&opts.out]).map_err(WriteError::from)?;
    let ro = EvaluationOptions {
        year: opts.year,
        inbox: opts.inbox.clone(),
        stammdaten: opts.stammdaten.clone(),
        out: opts.out.clone(),
        threads: opts.threads,
        limits: opts.limits,
        run_date: opts.stichtag,
        contact: opts.contact.clone(),
        progress: None,
        force: true,
        received_by: Some(opts.stichtag),
        buchhaltung: None,
    };
    let eval = evaluate(&ro)?;
    let mut ledger = Ledger::open(&opts.ledger)?;
    let before = sent(&ledger, opts.year)?;
    let missing = mahnung::missing(&eval.master, &eval.resolved, opts.year, opts.stichtag);
    let mahnung::Plan { todo, held } = mahnung::plan(missing, &before, opts.stichtag, opts.days)
        .ok_or(MahnenError::Deadline { days: opts.days, date: fmt_date(opts.stichtag) })?;
    if todo.is_empty() {
        return Ok(MahnenReport { written: vec![], held, folder: None, files: vec![] });
    }
    let contact = crate::run::contact_of(opts.contact.as_deref(), &eval.master);
    let mut files: Vec<OutFile> = Vec::new();
    let mut records = Vec::new();
    let mut names = Vec::new();
    for r in &todo {
        let form = blank_form(&eval.master, r, opts.stichtag)?;
        let w = letters::write(&eval.master, r, form.as_ref(), &contact)?;
        records.push(NewLetter {
            year: opts.year,
            kind: LetterKind::Mahnung,
            bfs: r.missing.filer,
            form: r.missing.form.kind().label().to_string(),
            period: r.missing.form.period_key(),
            date: r.date,
            level: Some(r.level),
            deadline: Some(r.deadline),
            recipient: w.recipient.clone(),
            subject: w.subject.clone(),
            file: w.letter.rel.clone(),
            sha256: crate::ledger::sha256_hex(&w.letter.bytes),
        });
        names.push((w.letter.rel.clone(), w.draft.rel.clone()));
        files.push(w.letter);
        files.push(w.draft);
        if let Some(f) = form {
            if !files.iter().any(|o| o.rel == f.rel) {
                files.push(f);
            }
        }
    }
    let now = chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string();
    let recorded = ledger.record_letters(&records, &now, env!("CARGO_PKG_VERSION"))?;
    let folder = commit_letters(&opts.out, opts.stichtag, "Mahnungen", &files)?;
    let written = todo
        .into_iter()
        .zip(recorded)
        .zip(names)
        .map(|((reminder, rec), (letter, draft))| Written { reminder, nr: rec.nr, letter, draft })
        .collect();
    Ok(MahnenReport { written, held, folder: Some(folder), files: files.iter().map(|f| f.rel.clone()).collect() })
}

/// The German summary printed after a call.
pub fn summary(r: &MahnenReport, master_name: &dyn Fn(u32) -> String) -> String {
    let mut s = String::new();
    if r.written.is_empty() {
        s.push_str("Keine Mahnung fällig.\n");
    } else {
        s.push_str(&format!("Mahnungen geschrieben: {}\n", r.written.len()));
        for w in &r.written {
            s.push_str(&format!(
                "  Nr. {}: {}. Mahnung an {} ({}), {}, neue Frist {}\n",
                w.nr,
                w.reminder.level,
                master_name(w.reminder.missing.filer),
                w.reminder.missing.filer,
                w.reminder.missing.form.label(),
                fmt_date(w.reminder.deadline)
            ));
        }
    }
    if !r.held.is_empty() {
        s.push_str(&format!("Nicht gemahnt: {}\n", r.held.len()));
        for (m, h) in &r.held {
            s.push_str(&format!("  {} ({}), {}: {}\n", master_name(m.filer), m.filer, m.form.label(), h.text()));
        }
    }
    if let Some(f) = &r.folder {
        s.push_str(&format!("Ausgaben in {}\n", f.display()));
    }
    s
}
