//! The `run` command: evaluates a year ([`crate::evaluate`]), renders every output (the
//! writers, then the documents) and commits them atomically into the output folder.

use crate::domain::{chf_text, Code, FileState, Severity};
pub use crate::evaluate::{
    check_inbox_fits_year, check_out_apart, collect_findings, evaluate, forms_by_year, process_file, Evaluation,
    EvaluationError, EvaluationOptions, Progress,
};
use crate::evaluate::{evaluate_in_with, thread_pool};
use crate::write::{self, EvaluationData, OutFile, WriteError};
use std::path::PathBuf;

/// What a completed run wrote.
pub struct EvaluationReport {
    pub eval: Evaluation,
    pub out: PathBuf,
    pub written: Vec<String>,
}

/// Builds every output file in memory.
pub fn render(eval: &Evaluation, opts: &EvaluationOptions) -> Result<Vec<OutFile>, WriteError> {
    let contact = contact_of(opts.contact.as_deref(), &eval.master);
    let ledger = opts.buchhaltung.as_deref().map(|p| crate::zahlungslauf::konto::annex_view(p, eval)).transpose()?;
    let d = EvaluationData {
        year: eval.year,
        run_date: opts.run_date,
        master: &eval.master,
        resolved: &eval.resolved,
        comp: &eval.comp,
        findings: &eval.findings,
        contact: &contact,
        version: env!("CARGO_PKG_VERSION"),
        ledger: ledger.as_ref(),
    };
    let mut files = vec![
        write::annex::write(&d)?,
        crate::documents::annex_pdf::write(&d)?,
        write::report::write(&d)?,
        write::json::befunde(&d)?,
        write::json::dateien(&d)?,
    ];
    if let Some(view) = d.ledger {
        files.push(write::korrespondenz::json(&view.letters)?);
    }
    files.extend(write::feedback::write_all(&d)?);
    files.extend(crate::documents::write_all(&d, &files)?);
    let manifest = write::json::manifest(&d, eval.inputs.clone(), &files)?;
    files.push(manifest);
    Ok(files)
}

/// The AGS contact that the letters and the feedback workbooks print, one text for both:
/// `--kontakt`, else the contact person, phone and e-mail of the sheet `Absender`, else the
/// sheet `Kontakt`; empty when the master data name none (the program invents no contact).
pub fn contact_of(cli: Option<&str>, master: &crate::stammdaten::Stammdaten) -> String {
    cli.map(str::to_string)
        .or_else(|| master.adressen.sender.as_ref().map(|s| s.contact_text()).filter(|t| !t.is_empty()))
        .or_else(|| master.contact.clone())
        .unwrap_or_default()
}

/// Runs a year end to end and writes the outputs atomically. The output folder is locked
/// for the whole run: a second run into it is refused before it reads anything.
pub fn run(opts: &EvaluationOptions) -> Result<EvaluationReport, EvaluationError> {
    check_out_apart(&opts.inbox, &opts.out)?;
    // The ledger the annex reads lies neither in the inbox nor among the outputs.
    if let Some(ledger) = &opts.buchhaltung {
        write::commit::check_ledger_place(ledger, Some(&opts.inbox), &[&opts.out]).map_err(write::WriteError::from)?;
    }
    let out = write::OutputDir::open(&opts.out)?;
    let pool = thread_pool(opts)?;
    // The counts the ledger booked are the history of `WERT_SPRUNG` besides the earlier years.
    let booked = opts
        .buchhaltung
        .as_deref()
        .filter(|p| p.is_file())
        .map(crate::zahlungslauf::konto::booked_history)
        .unwrap_or_default();
    let eval = evaluate_in_with(&pool, opts, booked)?;
    if !opts.force {
        check_inbox_fits_year(&eval, &opts.inbox)?;
    }
    let started = std::time::Instant::now();
    let files = pool.install(|| render(&eval, opts))?;
    tracing::debug!(ms = started.elapsed().as_millis() as u64, dateien = files.len(), "Ausgaben erstellt");
    out.commit(&files)?;
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "Ausgaben geschrieben");
    let written = files.iter().map(|f| f.rel.clone()).collect();
    Ok(EvaluationReport { eval, out: opts.out.clone(), written })
}

/// The German summary printed at the end of a run.
pub fn summary(r: &EvaluationReport) -> String {
    let e = &r.eval;
    let mut s = String::new();
    s.push_str(&format!("Beiträge start.integration {}: Auswertung abgeschlossen.\n\n", e.year));
    s.push_str(&format!("Dateien im Eingang: {}\n", e.resolved.files.len()));
    for st in FileState::ALL {
        s.push_str(&format!("  {:<12} {:>5}\n", st.as_str(), e.count_state(st)));
    }
    s.push_str(&format!("\nBefunde: {}\n", e.findings.len()));
    for sev in Severity::ALL {
        s.push_str(&format!("  {:<12} {:>5}\n", sev.label(), e.count_severity(sev)));
    }
    let rows = e.comp.rows.len();
    s.push_str(&format!("\nGemeinden im Anhang: {rows}\nTotal Beiträge: CHF {}\n", chf_text(e.comp.total)));
    if let Some(c) = e.comp.credit {
        if e.comp.total > c {
            s.push_str(&format!("WARNUNG: Der Kredit von CHF {} ist überschritten.\n", chf_text(c)));
        } else {
            s.push_str(&format!(
                "Kredit: CHF {}, Restbetrag CHF {}\n",
                chf_text(c),
                chf_text(c.saturating_sub(e.comp.total))
            ));
        }
    }
    for n in e.journal_notes.iter().chain(&e.master.notes) {
        s.push_str(&format!("Hinweis: {n}\n"));
    }
    s.push_str(&format!("\nAusgaben in {}:\n", r.out.display()));
    // Files at the top one line each; a folder one line with what it holds.
    let mut folders: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for w in &r.written {
        match w.split_once('/') {
            Some((folder, _)) => *folders.entry(folder).or_default() += 1,
            None => s.push_str(&format!("  {w}\n")),
        }
    }
    for (folder, n) in &folders {
        let what = match *folder {
            "Rueckmeldungen" => ": Arbeitsmappen und Briefe an die Gemeinden",
            "Entwuerfe" => ": E-Mail-Entwürfe",
            _ => "",
        };
        s.push_str(&format!("  {folder}/ ({n} Dateien{what})\n"));
    }
    let feedback = r.written.iter().filter(|w| w.starts_with("Rueckmeldungen/") && w.ends_with(".xlsx")).count();
    s.push_str(&next_steps(e, feedback));
    s
}

/// The closing list of what staff do next: letters to send, forms to ask for again,
/// missing Selbstdeklarationen. Invoices are issued by the payout run that books them (4.7),
/// not here.
pub fn next_steps(e: &Evaluation, feedback: usize) -> String {
    let name = |b: Option<crate::domain::Bfs>| {
        b.map(|b| format!("{b} {}", e.master.municipality(b).map_or("", |m| m.name.as_str()))).unwrap_or_default()
    };
    let list = |mut names: Vec<String>| {
        names.sort();
        names.dedup();
        let n = names.len();
        let mut shown: Vec<String> = names.into_iter().take(8).collect();
        if n > 8 {
            shown.push(format!("und {} weitere", n - 8));
        }
        (n, shown.join(", "))
    };
    let mut steps = Vec::new();
    if feedback > 0 {
        steps.push(format!("{feedback} Rückmeldungen an die Gemeinden versenden (Ordner Rueckmeldungen/)."));
    }
    // A rejected file is asked for again only when a corrected one can come: not a contract
    // member's own report (its figures belong in the lead's form), not a file that is no
    // form, not a form of a municipality that no longer exists (its successor reports).
    let asked_again = |f: &crate::resolve::FileEntry| {
        !f.result.findings.iter().any(|x| {
            matches!(x.code, Code::LeitMitgliedMeldetSelbst | Code::DateiKeinFormular | Code::GemeindeAufgeloest)
        })
    };
    let rejected: Vec<String> = e
        .resolved
        .files
        .iter()
        .filter(|f| f.state == FileState::Abgelehnt && asked_again(f))
        .map(|f| if f.result.bfs().is_some() { name(f.result.bfs()) } else { f.result.file.rel.clone() })
        .collect();
    let (n, shown) = list(rejected);
    if n > 0 {
        steps.push(format!("Abgelehnte Dateien neu einfordern ({n}): {shown}."));
    }
    // A missing Selbstdeklaration is asked of the municipality that files it: a contract
    // member's is its lead's (compute's statement names the lead).
    let missing_sd: Vec<String> = e
        .comp
        .rows
        .iter()
        .flat_map(|r| r.statement.iter().flat_map(|l| &l.reasons).map(move |why| (r.bfs, why)))
        .filter_map(|(bfs, why)| match why {
            crate::compute::Reason::Status(crate::compute::RowStatus::SdMissing { lead, .. }) => {
                Some(name(Some(lead.as_ref().map_or(bfs, |l| l.bfs))))
            }
            _ => None,
        })
        .collect();
    let (n, shown) = list(missing_sd);
    if n > 0 {
        steps.push(format!("Fehlende Selbstdeklarationen einfordern ({n}): {shown}."));
    }
    if steps.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nNächste Schritte:\n");
    for (i, step) in steps.iter().enumerate() {
        s.push_str(&format!("  {}. {step}\n", i + 1));
    }
    s
}
