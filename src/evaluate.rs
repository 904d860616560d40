//! A year's evaluation, everything but writing: master data → scan → (read → extract →
//! validate, per file, in parallel) → resolve across files → compute. Each file is read
//! behind its own boundary: an error or a panic becomes `DATEI_UNLESBAR` on that file, and
//! the evaluation goes on. Used by the `run` command ([`crate::run`]) and by the payout runs
//! ([`crate::zahlungslauf`]), which start from an evaluation of the year.

use crate::catalogue::finding;
use crate::compute::{compute, Computation};
use crate::domain::{Code, FileState, Finding, Severity};
use crate::extract::extract;
use crate::fsio::OpenError;
use crate::resolve::{resolve, Resolved};
use crate::scan::{scan, EntryKind, InboxFile, ScanError};
use crate::stammdaten::{Stammdaten, StammdatenError};
use crate::validate::sprung::History;
use crate::validate::{validate_form, Ctx, FileResult, FormPeriod, Outcome};
use crate::workbook::{looks_like_spreadsheet, read_workbook, Limits, ReadError};
use crate::write::{self, WriteError};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What `beitraege run` needs.
#[derive(Debug, Clone)]
pub struct EvaluationOptions {
    pub year: i32,
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    pub out: PathBuf,
    /// Worker threads; `None`: all cores.
    pub threads: Option<usize>,
    pub limits: Limits,
    /// The date printed on the documents.
    pub run_date: NaiveDate,
    /// The AGS contact for feedback letters; overrides the master data's `Kontakt` sheet.
    pub contact: Option<String>,
    /// Told how far the reading of the inbox is (the command line draws a progress bar).
    pub progress: Option<Progress>,
    /// Write the outputs even when the inbox holds no form, or mostly forms, of the year
    /// (`--trotzdem`); otherwise such a run stops before writing.
    pub force: bool,
    /// Only files received by this day count (the inbox as it stood on a payout's Stichtag).
    pub received_by: Option<NaiveDate>,
    /// The ledger whose payments and open items the annex shows (`--buchhaltung`).
    pub buchhaltung: Option<PathBuf>,
}

/// A progress report: called with (files read, files in the inbox) after every file, from
/// the worker threads.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Why a run could not be carried out (nothing was written).
#[derive(Debug, Error)]
pub enum EvaluationError {
    #[error(transparent)]
    Stammdaten(#[from] StammdatenError),
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(
        "Der Ausgabeordner «{}» liegt im Eingangsordner «{}»: die Ausgaben würden als Formulare gelesen. \
         Bitte einen Ausgabeordner ausserhalb des Eingangs angeben.",
        out.display(),
        inbox.display()
    )]
    OutInInbox { out: PathBuf, inbox: PathBuf },
    #[error(
        "Der Eingangsordner «{}» liegt im Ausgabeordner «{}». Bitte Eingang und Ausgabe in getrennten Ordnern führen.",
        inbox.display(),
        out.display()
    )]
    InboxInOut { out: PathBuf, inbox: PathBuf },
    #[error("{0}")]
    WrongInbox(String),
    #[error("Der Thread-Pool kann nicht gestartet werden: {0}")]
    Threads(String),
}

/// The in-memory result of a run, before anything is written.
pub struct Evaluation {
    pub year: i32,
    pub master: Stammdaten,
    pub resolved: Resolved,
    pub comp: Computation,
    pub findings: Vec<Finding>,
    /// Notes about the receipt journal.
    pub journal_notes: Vec<String>,
    /// Input files with their SHA-256 (master data, journal, inbox files).
    pub inputs: Vec<(String, String)>,
}

impl Evaluation {
    pub fn count_state(&self, s: FileState) -> usize {
        self.resolved.files.iter().filter(|e| e.state == s).count()
    }
    pub fn count_severity(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// What the first bytes say a non-spreadsheet file is, for the finding.
fn sniff(bytes: &[u8], rel: &str) -> String {
    let ext = rel.rsplit_once('.').map(|(_, e)| e.to_lowercase()).unwrap_or_default();
    if bytes.starts_with(b"%PDF") {
        "PDF-Dokument".into()
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
    {
        "Bild".into()
    } else if ext == "msg" || ext == "eml" {
        "E-Mail".into()
    } else if ext.is_empty() {
        "Datei ohne Endung".into()
    } else {
        format!("Dateiendung .{ext}")
    }
}

/// Reads, recognises and validates one file. Never panics: a panic inside becomes a finding.
pub fn process_file(f: &InboxFile, ctx: &Ctx<'_>, limits: &Limits) -> FileResult {
    let base = FileResult::new(f);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process_inner(base.clone(), f, ctx, limits))) {
        Ok(r) => r,
        Err(p) => {
            let what = crate::workbook::panic_message(p.as_ref());
            tracing::error!(datei = %f.rel, "Absturz beim Lesen abgefangen: {what}");
            let mut r = base;
            r.file.sha256 = crate::fsio::sha256_regular_file(&f.path).ok();
            r.reject(Code::DateiUnlesbar, "interner Fehler beim Lesen der Datei")
        }
    }
}

fn process_inner(mut res: FileResult, f: &InboxFile, ctx: &Ctx<'_>, limits: &Limits) -> FileResult {
    // Entries that are listed but never opened.
    match &f.kind {
        EntryKind::Ignored(reason) => {
            res.findings.push(finding().file(&f.rel).detail(*reason).build(Code::DateiIgnoriert));
            res.outcome = Outcome::Ignored;
            return res;
        }
        EntryKind::Link(target) => {
            let detail = if target.is_empty() { "Ziel unbekannt".to_string() } else { format!("Ziel: {target}") };
            return res.reject(Code::DateiVerknuepfung, detail);
        }
        EntryKind::Special(what) => return res.reject(Code::DateiSonderdatei, *what),
        EntryKind::UnreadableDir(why) => {
            return res.reject(Code::DateiUnlesbar, format!("der Ordner kann nicht gelesen werden: {why}"))
        }
        EntryKind::Spreadsheet | EntryKind::Other => {}
    }
    let too_large = |size: u64| {
        format!("Dateigrösse {} MB, zulässig {} MB", size / (1024 * 1024), limits.max_file_bytes / (1024 * 1024))
    };
    if f.size > limits.max_file_bytes {
        res.file.sha256 = crate::fsio::sha256_regular_file(&f.path).ok();
        return res.reject(Code::DateiZuGross, too_large(f.size));
    }
    let bytes = match crate::fsio::read_regular_file(&f.path, limits.max_file_bytes) {
        Ok(b) => b,
        Err(OpenError::NotRegular) => return res.reject(Code::DateiSonderdatei, "keine gewöhnliche Datei"),
        Err(OpenError::TooLarge { .. }) => {
            res.file.sha256 = crate::fsio::sha256_regular_file(&f.path).ok();
            return res.reject(Code::DateiZuGross, too_large(limits.max_file_bytes + 1));
        }
        Err(OpenError::Io(e)) => {
            return res.reject(
                Code::DateiUnlesbar,
                format!("die Datei kann nicht geöffnet werden: {}", crate::catalogue::os_error(&e)),
            )
        }
    };
    res.file.sha256 = Some(crate::fsio::sha256_hex(&bytes));
    // A spreadsheet is read whatever its name (`Reporting.XLS `, no extension); under
    // another name, only a file that reads as a workbook is one.
    if f.kind == EntryKind::Other && !looks_like_spreadsheet(&bytes) {
        let what = sniff(&bytes, &f.rel);
        return res.reject(Code::DateiFormat, what);
    }
    let wb = match read_workbook(&bytes, limits) {
        Ok(wb) => wb,
        Err(_) if f.kind == EntryKind::Other => return res.reject(Code::DateiFormat, sniff(&bytes, &f.rel)),
        Err(ReadError::Encrypted) => return res.reject(Code::DateiVerschluesselt, ""),
        Err(ReadError::TooLarge(d)) => return res.reject(Code::DateiZuGross, d),
        Err(ReadError::Unreadable(d)) => return res.reject(Code::DateiUnlesbar, d),
    };
    drop(bytes);
    res.file.format = Some(wb.format);
    let Some(form) = extract(&wb) else {
        let names: Vec<&str> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
        let detail = format!("Blätter: {}", crate::catalogue::name_list(&names, 20));
        return res.reject(Code::DateiKeinFormular, detail);
    };
    let others = crate::extract::other_form_sheets(&wb, &form.sheet);
    let several = (!others.is_empty())
        .then(|| format!("gelesen: Blatt «{}», nicht gelesen: «{}»", form.sheet, others.join("», «")));
    let mut res = validate_form(res, form, ctx);
    if let Some(detail) = several {
        res.findings.push(finding().file(&f.rel).bfs(res.bfs()).detail(detail).build(Code::DateiMehrereFormulare));
    }
    res
}

/// Orders all findings: files in path order (each file's in the order found), then
/// municipalities by BFS-Nr., then the run as a whole.
pub fn collect_findings(resolved: &Resolved, comp: &Computation) -> Vec<Finding> {
    let mut out: Vec<Finding> = resolved.files.iter().flat_map(|e| e.result.findings.iter().cloned()).collect();
    let mut muni = resolved.municipality_findings.clone();
    muni.sort_by_key(|f| (f.bfs, f.code));
    out.extend(muni);
    out.extend(comp.findings.iter().cloned());
    out
}

/// Evaluates a year: everything but writing. Deterministic for any thread count.
pub fn evaluate(opts: &EvaluationOptions) -> Result<Evaluation, EvaluationError> {
    evaluate_in(&thread_pool(opts)?, opts)
}

pub fn evaluate_in(pool: &rayon::ThreadPool, opts: &EvaluationOptions) -> Result<Evaluation, EvaluationError> {
    evaluate_in_with(pool, opts, History::default())
}

/// [`evaluate_in`] with the counts a ledger booked as history for `WERT_SPRUNG` (the
/// inbox root's earlier years are added here).
pub fn evaluate_in_with(
    pool: &rayon::ThreadPool,
    opts: &EvaluationOptions,
    booked: History,
) -> Result<Evaluation, EvaluationError> {
    let started = std::time::Instant::now();
    // The master data and the inbox listing do not depend on each other.
    let (master, inbox) = pool.install(|| {
        rayon::join(
            || -> Result<Stammdaten, EvaluationError> {
                let master = Stammdaten::load(&opts.stammdaten)?;
                master.check_year(opts.year)?;
                Ok(master)
            },
            || scan(&opts.inbox),
        )
    });
    let (master, mut inbox) = (master?, inbox?);
    if let Some(day) = opts.received_by {
        inbox.files.retain(|f| f.received.is_some_and(|r| r <= day));
    }
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        dateien = inbox.files.len(),
        "Stammdaten und Eingang gelesen"
    );
    let ctx = Ctx { year: opts.year, master: &master };
    let total = inbox.files.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let (resolved, comp) = pool.install(|| {
        let results: Vec<FileResult> = inbox
            .files
            .par_iter()
            .map(|f| {
                let r = process_file(f, &ctx, &opts.limits);
                if let Some(p) = &opts.progress {
                    (p.0)(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
                }
                r
            })
            .collect();
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "Formulare gelesen und geprüft");
        let mut history = booked;
        earlier_years(&results, &master, opts.year, &mut history);
        let mut resolved = resolve(results, &ctx);
        check_history(&mut resolved, &master, &history);
        let comp = compute(&master, &resolved, opts.year);
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "Beiträge berechnet");
        (resolved, comp)
    });
    let findings = collect_findings(&resolved, &comp);
    // Exactly the bytes the run used, hashed when they were read.
    let mut inputs = vec![(opts.stammdaten.display().to_string(), master.sha256.clone())];
    if let Some(h) = &inbox.journal_sha256 {
        inputs.push((crate::scan::JOURNAL.to_string(), h.clone()));
    }
    for e in &resolved.files {
        inputs.push((e.result.file.rel.clone(), e.result.file.sha256.clone().unwrap_or_default()));
    }
    for n in &inbox.journal_notes {
        tracing::warn!("{n}");
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, befunde = findings.len(), "Auswertung fertig");
    Ok(Evaluation { year: opts.year, master, resolved, comp, findings, journal_notes: inbox.journal_notes, inputs })
}

/// The history of earlier years in the inbox root: each valid report of an earlier year in
/// that year's folder (`2022/…`), validated as that year's run validates it. A form of
/// another year outside its year's folder is not history (it is misfiled, `ANDERES_JAHR`).
pub fn earlier_years(results: &[FileResult], master: &Stammdaten, year: i32, history: &mut History) {
    for r in results.iter().filter(|r| matches!(r.outcome, Outcome::OtherYear)) {
        let (Some(form), Some(FormPeriod::Half(p))) = (&r.submitted, r.period()) else { continue };
        if form.kind != crate::domain::FormKind::Reporting || p.year >= year || !in_year_folder(&r.file.rel, p.year) {
            continue;
        }
        let ctx = Ctx { year: p.year, master };
        let mut base = r.clone();
        base.findings.clear();
        let again = validate_form(base, form.clone(), &ctx);
        if let Outcome::Report(doc) = &again.outcome {
            history.add_report(doc, form);
        }
    }
}

/// `WERT_SPRUNG` on the reports the run uses: their counts against the earlier half-years
/// of the history (the inbox root's earlier years and the ledger's booked counts, which hold
/// the run's first half-year once it is paid).
pub fn check_history(resolved: &mut Resolved, master: &Stammdaten, history: &History) {
    for e in resolved.files.iter_mut().filter(|e| e.state == FileState::Verarbeitet) {
        if let (Outcome::Report(doc), Some(form)) = (&e.result.outcome, &e.result.submitted) {
            let found = crate::validate::sprung::check(doc, form, master, history);
            e.result.findings.extend(found);
        }
    }
}

/// The worker threads of a run: `--threads`, or one per core.
pub fn thread_pool(opts: &EvaluationOptions) -> Result<rayon::ThreadPool, EvaluationError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = opts.threads {
        builder = builder.num_threads(n.max(1));
    }
    builder.build().map_err(|e| EvaluationError::Threads(e.to_string()))
}

/// Refuses an output folder that is the inbox, lies inside it, or holds it: a run would read
/// its own outputs as forms, or carry the inbox through its commit.
pub fn check_out_apart(inbox: &Path, out: &Path) -> Result<(), EvaluationError> {
    let Ok(inbox_real) = std::fs::canonicalize(inbox) else { return Ok(()) };
    let out_real = write::commit::resolve_out(out)?;
    if out_real.starts_with(&inbox_real) {
        return Err(EvaluationError::OutInInbox { out: out.to_path_buf(), inbox: inbox.to_path_buf() });
    }
    if inbox_real.starts_with(&out_real) {
        return Err(EvaluationError::InboxInOut { out: out.to_path_buf(), inbox: inbox.to_path_buf() });
    }
    Ok(())
}

/// How many forms of the inbox are for the run's year, and for which other years.
pub fn forms_by_year(eval: &Evaluation) -> (usize, std::collections::BTreeMap<i32, usize>) {
    let (this, other, _) = forms_by_year_and_place(eval);
    (this, other)
}

/// A form of `year` lies in that year's folder of an inbox root (`2022/…`, at any depth
/// below the root's first level only).
pub fn in_year_folder(rel: &str, year: i32) -> bool {
    rel.split_once('/').is_some_and(|(first, _)| first == year.to_string())
}

/// [`forms_by_year`], and how many forms of other years lie outside their own year's folder
/// (in an inbox root with one folder per year, the other years' forms are where they belong).
pub fn forms_by_year_and_place(eval: &Evaluation) -> (usize, std::collections::BTreeMap<i32, usize>, usize) {
    let mut this = 0;
    let mut other = std::collections::BTreeMap::new();
    let mut misplaced = 0;
    for e in &eval.resolved.files {
        let r = &e.result;
        if r.kind().is_none() {
            continue;
        }
        let year = r.period().map(|p| p.year());
        let other_year = matches!(r.outcome, Outcome::OtherYear) || year.is_some_and(|y| y != eval.year);
        if other_year {
            let y = year.unwrap_or(0);
            *other.entry(y).or_insert(0) += 1;
            if !in_year_folder(&r.file.rel, y) {
                misplaced += 1;
            }
        } else {
            this += 1;
        }
    }
    (this, other, misplaced)
}

/// Whether an inbox fits the run's year: it holds forms of the year, no more forms of other
/// years outside their own year's folders than of this one, and not (almost) none: at least
/// one twentieth of the forms of the fullest other year.
pub fn year_fits(this: usize, misplaced: usize, largest_other: usize) -> bool {
    this > 0 && misplaced <= this && this.saturating_mul(20) >= largest_other
}

/// Stops a run whose inbox is clearly not the year's (a wrong folder, or the wrong year
/// given): no form of the year, more forms of other years than of this one (other years'
/// forms in their own year's folder of an inbox root do not count), or almost none.
pub fn check_inbox_fits_year(eval: &Evaluation, inbox: &Path) -> Result<(), EvaluationError> {
    let (this, other, misplaced) = forms_by_year_and_place(eval);
    let largest = other.values().copied().max().unwrap_or(0);
    if year_fits(this, misplaced, largest) {
        return Ok(());
    }
    let files = eval.resolved.files.len();
    let mut found = format!("{files} Dateien, davon {this} Formulare für {}", eval.year);
    if !other.is_empty() {
        let list: Vec<String> = other.iter().map(|(y, n)| format!("{n} für {y}")).collect();
        found.push_str(&format!(" und {}", list.join(", ")));
    }
    let hint = match other.iter().max_by_key(|(_, n)| **n) {
        Some((y, n)) if this < *n => format!(" Ist vielleicht das Jahr {y} gemeint («--jahr {y}»)?"),
        _ => String::new(),
    };
    Err(EvaluationError::WrongInbox(format!(
        "Der Eingangsordner «{}» passt nicht zum Jahr {}: {found}. Bitte Eingangsordner und Jahr prüfen.{hint} \
         Wer trotzdem auswerten will, ergänzt «--trotzdem».",
        inbox.display(),
        eval.year
    )))
}

/// The output folder's errors, as [`crate::write::WriteError`]s.
impl From<crate::write::commit::CommitError> for EvaluationError {
    fn from(e: crate::write::commit::CommitError) -> Self {
        crate::write::WriteError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_in_its_year_folder_only_at_the_first_level() {
        assert!(in_year_folder("2022/Olten.xlsx", 2022));
        assert!(in_year_folder("2022/Korrekturen/Olten.xlsx", 2022));
        assert!(!in_year_folder("2022.xlsx", 2022));
        assert!(!in_year_folder("Olten.xlsx", 2022));
        assert!(!in_year_folder("2023/Olten.xlsx", 2022));
        assert!(!in_year_folder("alt/2022/Olten.xlsx", 2022));
        assert!(!in_year_folder("20220/Olten.xlsx", 2022));
    }

    #[test]
    fn the_year_fits_with_forms_of_its_own_and_not_almost_none() {
        // No form of the year.
        assert!(!year_fits(0, 0, 0));
        assert!(!year_fits(0, 0, 321));
        // Misplaced forms of other years: up to as many as of this year.
        assert!(year_fits(10, 10, 10));
        assert!(!year_fits(10, 11, 11));
        // An inbox root: other years in their folders, this year's at least 1/20 of the fullest.
        assert!(year_fits(16, 0, 320));
        assert!(!year_fits(15, 0, 301));
        assert!(year_fits(15, 0, 300));
        assert!(year_fits(1, 0, 20));
        assert!(!year_fits(1, 0, 21));
    }
}
