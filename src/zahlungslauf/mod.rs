//! Payout runs (Zahlungslauf, 4.5.2 and 4.7): evaluate every year that has a period due by
//! the Stichtag from the inbox as it stood on that day, compare with the ledger, and pay the
//! differences, offset the claims, invoice the rest. A preview books nothing; `--buchen`
//! books the whole run in one transaction; a booked run is only ever reversed (Storno).
//!
//! Four eyes ([`crate::ledger`]'s `freigabe`): `--buchen` books the run «gebucht, nicht
//! freigegeben» and writes its workbook, JSON, invoices and journal, but no payment file;
//! [`freigeben`] by another person writes the payment file from the ledger. Every output of
//! a booked run is stored in the ledger with it and written into a folder of its own below
//! the output root ([`run_folder_name`]); files there are only ever added, never replaced,
//! and missing ones are written again from the ledger by the next command for the Stichtag
//! ([`restore`], `--ausgaben`). A preview writes only into its draft folder.

pub mod konto;
pub mod pain001;
pub mod statement;
pub mod workbook;

/// The payout plan: [`crate::payout`], where the one rule of 4.7 is decided.
pub use crate::payout as plan;

use crate::domain::InvoiceState;
use crate::domain::{fmt_date, Bfs};
use crate::evaluate::{evaluate, Evaluation, EvaluationError, EvaluationOptions};
use crate::ledger::{journal, Ledger, LedgerError, RunHeader};
use crate::stammdaten::Stammdaten;
use crate::workbook::Limits;
use crate::write::{self, OutFile, WriteError};
use chrono::{Datelike, NaiveDate};
use plan::{DueItem, Evidence, OpenClawback, Part, Plan};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What `beitraege zahlungslauf` needs.
#[derive(Debug, Clone)]
pub struct ZahlungslaufOptions {
    pub stichtag: NaiveDate,
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    /// The output root: a booked run writes into a folder of its own below it
    /// ([`run_folder_name`]), a preview into `<JJJJ-MM-TT>_Entwurf`.
    pub out: PathBuf,
    pub ledger: PathBuf,
    /// Book the run (otherwise a preview, marked `Entwurf`).
    pub book: bool,
    /// The person running the command (the operating-system account): recorded as the one
    /// who booked the run; another person releases it.
    pub person: String,
    /// The first year the ledger pays for, needed for its first run; afterwards the ledger's
    /// stored first year is used and a different one is refused.
    pub first_year: Option<i32>,
    /// The day the run is booked (today; an earlier day replays an old run). Never after today.
    pub booked_on: NaiveDate,
    /// The requested execution date of the payments; default: the first bank business day on
    /// or after the Stichtag and the booking day. A bank business day, not before `booked_on`.
    pub execution_date: Option<NaiveDate>,
    /// The reason for an extraordinary run (a Stichtag other than 31.03. or 30.09., or after
    /// the booking day); recorded with the run. Without it such a Stichtag is not booked.
    pub extraordinary_reason: Option<String>,
    pub threads: Option<usize>,
    pub limits: Limits,
}

/// What `beitraege zahlungslauf --storno` needs.
#[derive(Debug, Clone)]
pub struct StornoOptions {
    pub stichtag: NaiveDate,
    pub ledger: PathBuf,
    /// The output root: the Storno writes into `<JJJJ-MM-TT>[_n]_Storno` below it.
    pub out: PathBuf,
    pub reason: String,
    /// The person booking the Storno (another one releases it).
    pub person: String,
}

/// What `beitraege zahlungslauf --freigeben` needs.
#[derive(Debug, Clone)]
pub struct FreigabeOptions {
    pub stichtag: NaiveDate,
    pub ledger: PathBuf,
    /// Master data: the creditors' names and addresses and the canton's account.
    pub stammdaten: PathBuf,
    /// The output root (as for the run).
    pub out: PathBuf,
    /// The person releasing (not the one who booked).
    pub person: String,
    /// The day of the release (today; an earlier day replays an old release).
    pub released_on: NaiveDate,
    /// The execution date of the payments; default: the one the run proposed, or the first
    /// bank business day on or after the release day if that is later.
    pub execution_date: Option<NaiveDate>,
}

/// What `beitraege zahlungslauf --ausgaben` needs.
#[derive(Debug, Clone)]
pub struct AusgabenOptions {
    pub stichtag: NaiveDate,
    pub ledger: PathBuf,
    pub out: PathBuf,
}

#[derive(Debug, Error)]
pub enum ZahlungslaufError {
    #[error(transparent)]
    Run(#[from] EvaluationError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("Die Buchhaltung ist leer. Für die erste Buchung bitte mit «--ab-jahr» angeben, ab welchem Jahr sie die Beiträge bezahlt (z. B. «--ab-jahr {0}»); frühere Jahre gelten als ausserhalb der Buchhaltung bezahlt.")]
    FirstYearNeeded(i32),
    #[error("Die Beträge dieses Zahlungslaufs übersteigen den Rechenbereich des Programms. Bitte Stammdaten und Formulare prüfen; es wurde nichts gebucht.")]
    Overflow,
    #[error("Per {0} ist noch keine Auszahlung fällig (die erste ist Ende März des ersten Jahres).")]
    NothingDue(String),
    #[error("Die Buchung ist gemacht, aber die Ausgaben konnten nicht geschrieben werden ({0}). Die Buchhaltung enthält sie: «beitraege zahlungslauf --stichtag … --ausgaben» schreibt sie in den Ordner des Zahlungslaufs.")]
    BookedButNotWritten(WriteError),
    #[error("Es wurde nichts freigegeben: Die Zahlungsdatei kann nicht erstellt werden. {0}")]
    NoPaymentFile(String),
    #[error("Per {0} ist kein Zahlungslauf gebucht, dessen Ausgaben die Buchhaltung enthält.")]
    NothingBooked(String),
    #[error("Die Buchhaltung bezahlt die Beiträge ab dem Jahr {stored} (bei ihrer ersten Buchung festgehalten); «--ab-jahr {given}» widerspricht dem. Bitte «--ab-jahr» weglassen.")]
    FirstYearDiffers { stored: i32, given: i32 },
    #[error(
        "Das Buchungsdatum {booked_on} liegt nach heute ({today}); ein Zahlungslauf wird höchstens per heute gebucht."
    )]
    BookedOnInFuture { booked_on: String, today: String },
    #[error("Das Ausführungsdatum {date} ist kein Bankwerktag (Samstag, Sonntag oder Bankfeiertag); der nächste Bankwerktag ist der {next}.")]
    NotABusinessDay { date: String, next: String },
    #[error("Das Ausführungsdatum {date} liegt in der Vergangenheit (vor dem Buchungsdatum {booked_on}); die Bank führt keine Zahlung rückwirkend aus.")]
    ExecutionInThePast { date: String, booked_on: String },
    #[error("Der Stichtag {stichtag} {why}. Ein solcher Zahlungslauf wird nur als ausserordentlicher gebucht: «--ausserordentlich --grund \"…\"» (der Grund wird mit dem Zahlungslauf festgehalten).")]
    ImplausibleStichtag { stichtag: String, why: String },
    #[error("Die BFS-Nr. {bfs} {why}; es wurde kein Kontoauszug erstellt.")]
    UnknownMunicipality { bfs: Bfs, why: &'static str },
}

/// Why a Stichtag is not that of an ordinary run (31.03. or 30.09., not after the booking
/// day), in German; `None` for an ordinary one.
pub fn extraordinary_why(stichtag: NaiveDate, booked_on: NaiveDate) -> Option<String> {
    let ordinary_day = matches!((stichtag.month(), stichtag.day()), (3, 31) | (9, 30));
    if !ordinary_day {
        Some("ist kein ordentlicher Stichtag (31.03. oder 30.09.)".to_string())
    } else if stichtag > booked_on {
        Some(format!("liegt nach dem Buchungsdatum {}", fmt_date(booked_on)))
    } else {
        None
    }
}

/// Checks the dates of a run against `today` and returns the execution date of its
/// payments: the booking day not after today; a given execution date a bank business day
/// and not before the booking day; a booked run on an ordinary Stichtag or with a reason.
/// An amount in CHF as a person enters it for a receipt (`zahlung-erfassen --betrag`, the
/// browser's form): at most two decimals, `'` as thousands separator allowed.
pub fn parse_amount(s: &str) -> Result<crate::domain::Chf, String> {
    let t = s.trim().replace('\'', "");
    t.parse::<crate::domain::Chf>()
        .ok()
        .filter(|d| d.decimal().scale() <= 2)
        .ok_or_else(|| format!("«{s}» ist kein Betrag in CHF (höchstens 2 Nachkommastellen)"))
}

pub fn check_dates(opts: &ZahlungslaufOptions, today: NaiveDate) -> Result<NaiveDate, ZahlungslaufError> {
    if opts.booked_on > today {
        return Err(ZahlungslaufError::BookedOnInFuture {
            booked_on: fmt_date(opts.booked_on),
            today: fmt_date(today),
        });
    }
    let reason_given = opts.extraordinary_reason.as_deref().is_some_and(|r| !r.trim().is_empty());
    if opts.book && !reason_given {
        if let Some(why) = extraordinary_why(opts.stichtag, opts.booked_on) {
            return Err(ZahlungslaufError::ImplausibleStichtag { stichtag: fmt_date(opts.stichtag), why });
        }
    }
    match opts.execution_date {
        None => Ok(crate::bankdays::execution_date(opts.stichtag, opts.booked_on)),
        Some(d) if d < opts.booked_on => {
            Err(ZahlungslaufError::ExecutionInThePast { date: fmt_date(d), booked_on: fmt_date(opts.booked_on) })
        }
        Some(d) if !crate::bankdays::is_bank_business_day(d) => Err(ZahlungslaufError::NotABusinessDay {
            date: fmt_date(d),
            next: fmt_date(crate::bankdays::next_business_day(d)),
        }),
        Some(d) => Ok(d),
    }
}

/// What a payout run did.
pub struct RunOutcome {
    pub stichtag: NaiveDate,
    pub booked: bool,
    /// The requested execution date of the payments.
    pub execution_date: NaiveDate,
    pub years: Vec<i32>,
    pub plan: Plan,
    pub open_invoices: Vec<InvoiceState>,
    pub written: Vec<String>,
    /// Notes for staff (German): why no payment file, withheld amounts, journal notes.
    pub notes: Vec<String>,
    /// The folder written: the booked run's own folder, or the draft folder.
    pub out: PathBuf,
    /// The booked run's row (who booked it, its run number).
    pub run: Option<crate::ledger::RunRow>,
    /// Outputs of earlier booked runs of the Stichtag that were missing and written again.
    pub restored: Vec<Restored>,
}

/// The years a run per `stichtag` evaluates: from the first year on, each whose
/// Sockelbeitrag (end of March) is due by the Stichtag.
pub fn years_due(first_year: i32, stichtag: NaiveDate) -> Vec<i32> {
    (first_year..=stichtag.year()).filter(|y| Part::Year.payout_date(*y) <= stichtag).collect()
}

/// Due items of one year's evaluation for the periods due by the Stichtag: compute's
/// [`crate::compute::due_items`], with the master data and the files' SHA-256 as evidence.
pub fn due_items(eval: &Evaluation, stichtag: NaiveDate, stammdaten_label: &str) -> Vec<DueItem> {
    let sha: BTreeMap<&str, &str> = eval.inputs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let ev = |rel: &str| Evidence { datei: rel.to_string(), sha256: sha.get(rel).copied().unwrap_or("").to_string() };
    crate::compute::due_items(&eval.master, &eval.resolved, eval.year, &eval.comp.rows)
        .into_iter()
        .filter(|d| d.key.part.payout_date(d.key.year) <= stichtag)
        .map(|mut d| {
            let mut evidence = vec![ev(stammdaten_label)];
            evidence.extend(d.evidence.iter().map(|e| ev(&e.datei)));
            d.evidence = evidence;
            d
        })
        .collect()
}

/// The reference an earlier version gave a clawback (a hash that included the reason):
/// a clawback booked under it counts as booked while its row is unchanged.
pub fn legacy_clawback_reference(c: &crate::domain::Clawback) -> String {
    let h = sha2::Sha256::digest(format!("{}|{}|{}|{}", c.bfs, c.decided_on, c.amount.decimal().normalize(), c.reason));
    format!("RF-{}-{}", c.bfs, &write::hex(&h)[..12])
}

use sha2::Digest;

/// Clawbacks decided by the Stichtag (from the first year on) and not yet booked, each with
/// its payee on the Stichtag.
pub fn open_clawbacks(
    master: &Stammdaten,
    stichtag: NaiveDate,
    first_year: i32,
    settled: &std::collections::BTreeSet<String>,
) -> Vec<OpenClawback> {
    let mut v: Vec<OpenClawback> = master
        .clawbacks
        .iter()
        .filter(|c| c.decided_on <= stichtag && c.decided_on.year() >= first_year)
        .filter(|c| !settled.contains(&c.reference()) && !settled.contains(&legacy_clawback_reference(c)))
        .map(|c| OpenClawback {
            reference: c.reference(),
            bfs: c.bfs,
            payee: master.payee(c.bfs, stichtag),
            amount: c.amount,
            reason: c.reason.clone(),
            decided_on: c.decided_on,
        })
        .collect();
    v.sort_by(|a, b| (a.decided_on, a.bfs, &a.reference).cmp(&(b.decided_on, b.bfs, &b.reference)));
    v
}

/// For each municipality with bookings that the evaluation no longer names (merged away
/// since): the payee that answers for it on the Stichtag, its successor's.
fn gone_payees(
    master: &Stammdaten,
    due: &[DueItem],
    booked: &BTreeMap<plan::Key, crate::domain::Chf>,
    stichtag: NaiveDate,
) -> BTreeMap<crate::domain::Bfs, crate::domain::Bfs> {
    let named: std::collections::BTreeSet<crate::domain::Bfs> = due.iter().map(|d| d.key.bfs).collect();
    let mut out = BTreeMap::new();
    for bfs in booked.keys().map(|k| k.bfs).filter(|b| !named.contains(b)) {
        let mut now = bfs;
        // Follow the successors (bounded: a cycle in the master data ends the walk).
        for _ in 0..16 {
            match master.municipality(now) {
                Some(m) if !m.exists_on(stichtag) => match m.successor {
                    Some(s) => now = s,
                    None => break,
                },
                _ => break,
            }
        }
        out.insert(bfs, master.payee(now, stichtag));
    }
    out
}

/// Booked clawbacks whose row is no longer in the master data (German notes).
pub fn vanished_clawbacks(master: &Stammdaten, settled: &std::collections::BTreeSet<String>) -> Vec<String> {
    let known: std::collections::BTreeSet<String> =
        master.clawbacks.iter().flat_map(|c| [c.reference(), legacy_clawback_reference(c)]).collect();
    settled
        .iter()
        .filter(|r| !known.contains(*r))
        .map(|r| {
            format!(
                "Die gebuchte Rückforderung «{r}» steht nicht mehr im Blatt «Rückforderungen» der Stammdaten. Sie bleibt gebucht; ist sie aufgehoben, braucht es eine Korrektur (Storno des Zahlungslaufs oder eine neue Verfügung)."
            )
        })
        .collect()
}

/// File names of a run's outputs.
pub fn file_stem(stichtag: NaiveDate, draft: bool) -> String {
    run_file_stem(stichtag, draft, 1)
}

/// File names of a run's outputs: `Zahlungslauf_<JJJJ-MM-TT>`, `_<n>` for the n-th run of a
/// Stichtag (after a Storno), `_Entwurf` for a preview.
pub fn run_file_stem(stichtag: NaiveDate, draft: bool, lauf: i64) -> String {
    let n = if lauf > 1 && !draft { format!("_{lauf}") } else { String::new() };
    format!("Zahlungslauf_{}{n}{}", stichtag.format("%Y-%m-%d"), if draft { "_Entwurf" } else { "" })
}

/// The folder of a booked run below the output root: `<JJJJ-MM-TT>` for the first run of a
/// Stichtag, `<JJJJ-MM-TT>_<n>` for the n-th (after a Storno), `…_Storno` for a Storno.
pub fn run_folder_name(run: &crate::ledger::RunRow) -> String {
    let day = run.stichtag.format("%Y-%m-%d");
    let n = if run.lauf > 1 { format!("_{}", run.lauf) } else { String::new() };
    if run.art == crate::ledger::RunKind::Storno {
        format!("{day}{n}_Storno")
    } else {
        format!("{day}{n}")
    }
}

/// The folder of a preview below the output root: `<JJJJ-MM-TT>_Entwurf`.
pub fn draft_folder_name(stichtag: NaiveDate) -> String {
    format!("{}_Entwurf", stichtag.format("%Y-%m-%d"))
}

/// The marker of a booked run's folder: which run it holds.
fn marker(run: &crate::ledger::RunRow) -> Vec<u8> {
    let v = serde_json::json!({
        "art": run.art,
        "stichtag": run.stichtag.format("%Y-%m-%d").to_string(),
        "lauf": run.lauf,
        "lauf_id": run.run_id,
        "hinweis": "Ausgaben eines gebuchten Zahlungslaufs: nie ersetzen oder löschen.",
    });
    let mut b = serde_json::to_vec_pretty(&v).unwrap_or_default();
    b.push(b'\n');
    b
}

/// Missing outputs of a booked run written again into its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub folder: PathBuf,
    pub added: write::commit::Added,
}

/// The outputs of a booked run or Storno as the ledger holds them: what was stored with
/// the run and its release, and the journal as it stood when the run was booked.
pub fn run_outputs(ledger: &Ledger, run: &crate::ledger::RunRow) -> Result<Vec<OutFile>, ZahlungslaufError> {
    let mut files = ledger.outputs(&run.run_id)?;
    files.push(OutFile { rel: journal::FILE_NAME.to_string(), bytes: ledger.journal_until(&run.run_id)?.into_bytes() });
    Ok(files)
}

/// Writes what is missing of a booked run's outputs into its folder below `root`, from the
/// ledger; nothing there is replaced.
pub fn write_run_outputs(
    ledger: &Ledger,
    root: &Path,
    run: &crate::ledger::RunRow,
) -> Result<Restored, ZahlungslaufError> {
    let folder = root.join(run_folder_name(run));
    let files = run_outputs(ledger, run)?;
    let added = write::commit::add_files(&folder, &marker(run), &files)?;
    if !added.differing.is_empty() {
        tracing::warn!(
            "Im Ordner {} weichen Dateien von der Buchhaltung ab (nicht ersetzt): {}",
            folder.display(),
            added.differing.join(", ")
        );
    }
    Ok(Restored { folder, added })
}

/// Writes the missing outputs of every booked payout run and Storno per `stichtag` (those
/// booked under the four-eyes rule: the ledger holds their outputs) into their folders.
pub fn restore(ledger: &Ledger, root: &Path, stichtag: NaiveDate) -> Result<Vec<Restored>, ZahlungslaufError> {
    let mut out = Vec::new();
    for run in ledger.runs()?.iter().filter(|r| r.stichtag == stichtag && r.booked_by.is_some()) {
        if run.art != crate::ledger::RunKind::Zahlungslauf && run.art != crate::ledger::RunKind::Storno {
            continue;
        }
        out.push(write_run_outputs(ledger, root, run)?);
    }
    Ok(out)
}

/// The checks of the output root and the ledger's place, before anything is read.
fn check_places(root: &Path, ledger: &Path, inbox: Option<&Path>) -> Result<(), ZahlungslaufError> {
    if let Some(inbox) = inbox {
        crate::evaluate::check_out_apart(inbox, root)?;
    }
    write::commit::check_output_root(root, true).map_err(WriteError::from)?;
    write::commit::check_ledger_place(ledger, inbox, &[root]).map_err(WriteError::from)?;
    Ok(())
}

fn now_text() -> String {
    chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string()
}

/// Runs a payout run: evaluate, plan, write, and with `book` book it.
pub fn execute(opts: &ZahlungslaufOptions) -> Result<RunOutcome, ZahlungslaufError> {
    let execution_date = check_dates(opts, chrono::Local::now().date_naive())?;
    check_places(&opts.out, &opts.ledger, Some(&opts.inbox))?;
    if opts.book && opts.person.trim().is_empty() {
        return Err(LedgerError::NoPerson.into());
    }
    // The master data are read before a booking opens (and on first use creates) the ledger:
    // missing or faulty master data leave no new ledger, key or anchor file behind.
    if opts.book {
        Stammdaten::load(&opts.stammdaten).map_err(EvaluationError::from)?;
    }
    // A preview opens an existing ledger read-only and never creates one.
    let mut ledger = if opts.book { Ledger::open(&opts.ledger)? } else { Ledger::open_for_preview(&opts.ledger)? };
    let mut notes = Vec::new();
    if !opts.book {
        if let Some(why) = extraordinary_why(opts.stichtag, opts.booked_on) {
            notes.push(format!(
                "Entwurf: Der Stichtag {} {why}; gebucht wird er nur mit «--ausserordentlich --grund …».",
                fmt_date(opts.stichtag)
            ));
        }
    }
    // A ledger whose hash chain is broken (changed outside the program) is not booked on.
    ledger.verify()?;
    // Outputs of booked runs of this Stichtag that a kill or a full disk left missing.
    let restored = restore(&ledger, &opts.out, opts.stichtag)?;
    for r in restored.iter().filter(|r| !r.added.written.is_empty()) {
        tracing::info!("Fehlende Ausgaben aus der Buchhaltung geschrieben: {}", r.folder.display());
    }
    // What the run is planned on: it books only if no other command booked meanwhile.
    let planned_on = ledger.head()?;
    if opts.book {
        ledger.check_bookable(opts.stichtag)?;
    } else if let Err(e @ (LedgerError::AlreadyBooked { .. } | LedgerError::LaterBooked { .. })) =
        ledger.check_bookable(opts.stichtag)
    {
        notes.push(format!("Entwurf: {e}"));
    }
    let first_year = match (opts.first_year, ledger.first_year()?) {
        (Some(given), Some(stored)) if given != stored => {
            return Err(ZahlungslaufError::FirstYearDiffers { stored, given })
        }
        (_, Some(y)) | (Some(y), None) => y,
        (None, None) if opts.book => return Err(ZahlungslaufError::FirstYearNeeded(opts.stichtag.year())),
        (None, None) => {
            notes.push(format!(
                "Die Buchhaltung ist leer: Sie beginnt mit dem Jahr {}. Frühere Jahre gelten als ausserhalb bezahlt (sonst --ab-jahr).",
                opts.stichtag.year()
            ));
            opts.stichtag.year()
        }
    };
    let years = years_due(first_year, opts.stichtag);
    if years.is_empty() {
        return Err(ZahlungslaufError::NothingDue(fmt_date(opts.stichtag)));
    }
    let mut due = Vec::new();
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    let mut master = None;
    for y in &years {
        let ro = EvaluationOptions {
            year: *y,
            inbox: opts.inbox.clone(),
            stammdaten: opts.stammdaten.clone(),
            out: opts.out.clone(),
            threads: opts.threads,
            limits: opts.limits,
            run_date: opts.stichtag,
            contact: None,
            progress: None,
            received_by: Some(opts.stichtag),
            buchhaltung: None,
            force: true,
        };
        let eval = evaluate(&ro)?;
        let label = opts.stammdaten.display().to_string();
        due.extend(due_items(&eval, opts.stichtag, &label));
        for n in &eval.journal_notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
        inputs.extend(eval.inputs.iter().cloned());
        master = Some(eval.master);
    }
    let master = master.unwrap_or_default();
    let (booked, booked_payee) = ledger.component_sums()?;
    let settled = ledger.settled_clawbacks()?;
    let claws = open_clawbacks(&master, opts.stichtag, first_year, &settled);
    notes.extend(master.notes.iter().cloned());
    notes.extend(vanished_clawbacks(&master, &settled));
    let booked_on = opts.booked_on;
    let evaluated: std::collections::BTreeSet<(i32, Part)> = years
        .iter()
        .flat_map(|y| [(*y, Part::Year), (*y, Part::H1), (*y, Part::H2)])
        .filter(|(y, p)| p.payout_date(*y) <= opts.stichtag)
        .collect();
    let plan = plan::plan(&plan::RunInput {
        stichtag: opts.stichtag,
        booked_on,
        due: &due,
        evaluated: &evaluated,
        booked: &booked,
        booked_payee: &booked_payee,
        gone_payee: &gone_payees(&master, &due, &booked, opts.stichtag),
        clawbacks: &claws,
    })
    .map_err(|_| ZahlungslaufError::Overflow)?;
    let withheld = plan.lines.iter().filter(|l| l.withheld.is_some()).count();
    if withheld > 0 {
        notes.push(format!(
            "{withheld} Positionen sind zurückbehalten und werden bezahlt, sobald ein korrigiertes Formular eingeht."
        ));
    }
    // The accounts paid now, and every payee paid to another IBAN than last time.
    let ibans: BTreeMap<Bfs, String> = master.zahlung.accounts.iter().map(|(b, a)| (*b, a.iban.clone())).collect();
    let last = ledger.last_ibans()?;
    for p in plan.payees.iter().filter(|p| p.transfer > crate::domain::Chf::ZERO) {
        if let (Some(before), Some(now)) = (last.get(&p.payee), ibans.get(&p.payee)) {
            if before != now {
                notes.push(format!(
                    "Die IBAN von {} ({}) hat seit der letzten Zahlung geändert: bisher {}, jetzt {}. Bitte die Änderung belegen, bevor die Zahlung freigegeben wird.",
                    master.municipality(p.payee).map(|m| m.name.as_str()).unwrap_or(""),
                    p.payee,
                    crate::documents::qrbill::grouped(before),
                    crate::documents::qrbill::grouped(now)
                ));
            }
        }
    }
    let open_before = ledger.invoices()?;
    let version = env!("CARGO_PKG_VERSION");
    // A run with nothing to book is not booked (no run without bookings in the ledger).
    let book = opts.book && !plan.bookings.is_empty();
    let draft = !book;
    let mut plan = plan;
    let (files, folder, run) = if book {
        // Four eyes: no run builds on a payment not yet released (checked again inside the
        // booking's transaction).
        ledger.check_released()?;
        let header = RunHeader {
            stichtag: opts.stichtag,
            booked_at: now_text(),
            program_version: version.to_string(),
            evidence: inputs.into_iter().map(|(datei, sha256)| Evidence { datei, sha256 }).collect(),
            first_year,
            reason: opts.extraordinary_reason.as_deref().map(str::trim).unwrap_or_default().to_string(),
            person: opts.person.trim().to_string(),
            execution_date: Some(execution_date),
        };
        let planned = plan.bookings.clone();
        // The outputs are made from the stored bookings (with the invoice numbers the ledger
        // gave) inside the booking's transaction and stored with it: booked with them, or not
        // at all.
        let (run, _, files) =
            ledger.book_run_with_outputs(&header, &planned, &ibans, Some(&planned_on), |run, rows| {
                for (p, b) in plan.bookings.iter_mut().zip(rows) {
                    p.bezug = b.bezug.clone();
                }
                let doc = workbook::RunDoc {
                    stichtag: opts.stichtag,
                    execution_date,
                    draft: false,
                    plan: &plan,
                    master: &master,
                    open_invoices: &open_before,
                    version,
                    years: &years,
                    notes: &notes,
                    lauf: run.lauf,
                    booked: Some((header.person.as_str(), run.booked_at.as_str())),
                };
                let mut files = vec![workbook::workbook(&doc)?, workbook::json(&doc)?];
                let (invoices, why) = invoice_files(&master, opts.stichtag, rows, None)?;
                files.extend(invoices);
                notes.extend(why);
                Ok::<_, ZahlungslaufError>(files)
            })?;
        notes.push(format!(
            "Gebucht von «{}», noch nicht freigegeben: Die Zahlungsdatei (pain.001) schreibt erst die Freigabe durch eine andere Person («beitraege zahlungslauf --freigeben --stichtag {}»).",
            header.person,
            fmt_date(opts.stichtag)
        ));
        // Into the run's own folder, from the ledger: a kill from here on leaves files
        // missing that the next command for the Stichtag writes.
        let written = write_run_outputs(&ledger, &opts.out, &run).map_err(|e| match e {
            ZahlungslaufError::Write(w) => ZahlungslaufError::BookedButNotWritten(w),
            other => other,
        })?;
        let mut names: Vec<String> = files.iter().map(|f| f.rel.clone()).collect();
        names.push(journal::FILE_NAME.to_string());
        (names, written.folder, Some(run))
    } else {
        let doc = workbook::RunDoc {
            stichtag: opts.stichtag,
            execution_date,
            draft: true,
            plan: &plan,
            master: &master,
            open_invoices: &open_before,
            version,
            years: &years,
            notes: &notes,
            lauf: 1,
            booked: None,
        };
        let files = vec![workbook::workbook(&doc)?, workbook::json(&doc)?];
        let folder = opts.out.join(draft_folder_name(opts.stichtag));
        write::OutputDir::open(&folder)?.commit(&files)?;
        if opts.book {
            notes.push(
                "Es gibt nichts zu buchen: Es wurde kein Zahlungslauf gebucht und keine Zahlungsdatei erstellt.".into(),
            );
        } else {
            notes.push("Entwurf: Es wurde nichts gebucht und keine Zahlungsdatei erstellt (dafür --buchen).".into());
        }
        (files.iter().map(|f| f.rel.clone()).collect(), folder, None)
    };
    let _ = draft;
    let open_invoices = ledger.invoices()?;
    Ok(RunOutcome {
        stichtag: opts.stichtag,
        booked: book,
        execution_date,
        years,
        plan,
        open_invoices,
        written: files,
        notes,
        out: folder,
        run,
        restored,
    })
}

/// The invoices of a booked run, from its stored bookings: each invoice's PDF with its
/// QR-bill and its e-mail draft (the invoice alone attached). An invoice that cannot carry a
/// payment part gets no draft, and a German note says why. The same bookings give the same
/// bytes, so `konto` reprints them identically.
pub fn invoice_files(
    master: &Stammdaten,
    stichtag: NaiveDate,
    rows: &[crate::ledger::Booking],
    only: Option<crate::domain::Bfs>,
) -> Result<(Vec<OutFile>, Vec<String>), WriteError> {
    let view: Vec<plan::RunBooking<'_>> = rows.iter().map(crate::ledger::Booking::as_run_booking).collect();
    let docs = plan::invoice_docs(stichtag, &view).map_err(|_| WriteError::Document {
        name: "Rechnungen".into(),
        reason: "Die Beträge übersteigen den Rechenbereich des Programms.".into(),
    })?;
    let mut files = Vec::new();
    let mut notes = Vec::new();
    for inv in docs.iter().filter(|i| only.is_none_or(|b| b == i.payee)) {
        let pdf = crate::documents::invoice::write(master, inv)?;
        match crate::documents::invoice::no_payment_part(master, inv) {
            None => files.push(crate::documents::eml::invoice_draft(master, inv, &pdf)?),
            Some(why) => notes.push(format!(
                "Rechnung {} an {}: ohne Zahlteil und ohne E-Mail-Entwurf. {why}",
                crate::documents::invoice::number(inv),
                inv.payee
            )),
        }
        files.push(pdf);
    }
    Ok((files, notes))
}

/// The ledger a command of `person` works on for `stichtag`: the places checked before
/// anything is read, the ledger verified, and outputs of booked runs of that Stichtag that a
/// kill left missing written first.
fn open_as(out: &Path, ledger: &Path, person: &str, stichtag: NaiveDate) -> Result<Ledger, ZahlungslaufError> {
    check_places(out, ledger, None)?;
    if person.trim().is_empty() {
        return Err(LedgerError::NoPerson.into());
    }
    let ledger = Ledger::open_existing(ledger)?;
    ledger.verify()?;
    restore(&ledger, out, stichtag)?;
    Ok(ledger)
}

/// Books the reversal of a run (as `opts.person`; another person releases it) and writes the
/// journal into the Storno's own folder. Returns the number of reversing bookings and that
/// folder.
pub fn storno(opts: &StornoOptions) -> Result<(usize, PathBuf), ZahlungslaufError> {
    let mut ledger = open_as(&opts.out, &opts.ledger, &opts.person, opts.stichtag)?;
    ledger.set_person(opts.person.trim());
    let (run, rows) = ledger.storno(opts.stichtag, &opts.reason, &now_text(), env!("CARGO_PKG_VERSION"))?;
    let written = write_run_outputs(&ledger, &opts.out, &run).map_err(|e| match e {
        ZahlungslaufError::Write(w) => ZahlungslaufError::BookedButNotWritten(w),
        other => other,
    })?;
    Ok((rows.len(), written.folder))
}

/// What a release did.
#[derive(Debug, Clone)]
pub struct ReleaseOutcome {
    /// The run (or Storno) released.
    pub run: crate::ledger::RunRow,
    pub release: crate::ledger::Release,
    /// The run's folder, where the payment file was written.
    pub folder: PathBuf,
    pub written: Vec<String>,
    /// The payment file's transfers and their total.
    pub transfers: usize,
    pub total: crate::domain::Chf,
}

/// The execution date a release writes: the given one (a bank business day, not before the
/// release day), else the one the run proposed when booked, unless that lies before the
/// release day: then the first bank business day on or after the Stichtag and the release day.
pub fn release_execution_date(
    stichtag: NaiveDate,
    proposed: Option<NaiveDate>,
    released_on: NaiveDate,
    given: Option<NaiveDate>,
) -> Result<NaiveDate, ZahlungslaufError> {
    match given {
        Some(d) if d < released_on => {
            Err(ZahlungslaufError::ExecutionInThePast { date: fmt_date(d), booked_on: fmt_date(released_on) })
        }
        Some(d) if !crate::bankdays::is_bank_business_day(d) => Err(ZahlungslaufError::NotABusinessDay {
            date: fmt_date(d),
            next: fmt_date(crate::bankdays::next_business_day(d)),
        }),
        Some(d) => Ok(d),
        None => match proposed {
            Some(p) if p >= released_on && crate::bankdays::is_bank_business_day(p) => Ok(p),
            _ => Ok(crate::bankdays::execution_date(stichtag, released_on)),
        },
    }
}

/// Releases the booked payout run (or Storno) per the Stichtag, as `opts.person`, who must
/// not be the one who booked it: writes the payment file from the ledger (the run's bookings,
/// the IBANs recorded with them, the master data's names, addresses and canton account) and
/// the release's workbook into the run's folder; the ledger records who released it, when,
/// and the SHA-256 of the file and of the run's bookings, and keeps the file's bytes.
pub fn freigeben(opts: &FreigabeOptions) -> Result<ReleaseOutcome, ZahlungslaufError> {
    let today = chrono::Local::now().date_naive();
    if opts.released_on > today {
        return Err(ZahlungslaufError::BookedOnInFuture {
            booked_on: fmt_date(opts.released_on),
            today: fmt_date(today),
        });
    }
    if let Some(d) = opts.execution_date {
        release_execution_date(opts.stichtag, None, opts.released_on, Some(d))?;
    }
    let mut ledger = open_as(&opts.out, &opts.ledger, &opts.person, opts.stichtag)?;
    let master = Stammdaten::load(&opts.stammdaten).map_err(EvaluationError::from)?;
    let now = chrono::Local::now().naive_local();
    let at = now.format("%d.%m.%Y %H:%M:%S").to_string();
    let mut summary = (0usize, crate::domain::Chf::ZERO);
    let (run, release, _) =
        ledger.release(opts.person.trim(), opts.stichtag, &at, env!("CARGO_PKG_VERSION"), |run, rows, draft| {
            let exec =
                release_execution_date(opts.stichtag, run.execution_date, opts.released_on, opts.execution_date)?;
            let txs = pain001::ledger_transfers(run, rows).map_err(ZahlungslaufError::NoPaymentFile)?;
            summary = (
                txs.len(),
                crate::payout::checked_sum(txs.iter().map(|t| t.amount)).map_err(|_| ZahlungslaufError::Overflow)?,
            );
            let pain = pain001::from_ledger(run, rows, &master, exec, now).map_err(ZahlungslaufError::NoPaymentFile)?;
            let view = workbook::ReleaseView {
                booked_by: run.booked_by.as_deref().unwrap_or_default(),
                booked_at: &run.booked_at,
                released_by: draft.person,
                released_at: draft.at,
                execution_date: pain.as_ref().map(|_| exec),
                file: pain.as_ref().map(|p| (p.rel.as_str(), p.sha256())),
                bookings_sha256: draft.bookings_sha256,
            };
            let wb = workbook::release_workbook(run, rows, &master, &view)?;
            Ok::<_, ZahlungslaufError>(crate::ledger::ReleaseFiles {
                execution_date: pain.as_ref().map(|_| exec),
                payment: pain,
                others: vec![wb],
            })
        })?;
    let written = write_run_outputs(&ledger, &opts.out, &run).map_err(|e| match e {
        ZahlungslaufError::Write(w) => ZahlungslaufError::BookedButNotWritten(w),
        other => other,
    })?;
    Ok(ReleaseOutcome {
        run,
        release,
        folder: written.folder,
        written: written.added.written,
        transfers: summary.0,
        total: summary.1,
    })
}

/// Writes the missing outputs of every booked run and Storno per the Stichtag from the
/// ledger into their folders (nothing there is replaced).
pub fn ausgaben(opts: &AusgabenOptions) -> Result<Vec<Restored>, ZahlungslaufError> {
    check_places(&opts.out, &opts.ledger, None)?;
    let ledger = Ledger::open_existing(&opts.ledger)?;
    ledger.verify()?;
    let r = restore(&ledger, &opts.out, opts.stichtag)?;
    if r.is_empty() {
        return Err(ZahlungslaufError::NothingBooked(fmt_date(opts.stichtag)));
    }
    Ok(r)
}

/// The German summary of a run.
pub fn summary(o: &RunOutcome) -> String {
    use crate::domain::chf_text;
    let mut s = String::new();
    let kind = match (o.booked, o.plan.bookings.is_empty()) {
        (true, _) => "gebucht",
        (false, true) => "nichts gebucht",
        (false, false) => "Entwurf, nichts gebucht",
    };
    s.push_str(&format!("Zahlungslauf per {} ({kind}).\n", fmt_date(o.stichtag)));
    let years: Vec<String> = o.years.iter().map(|y| y.to_string()).collect();
    s.push_str(&format!("Ausgewertete Jahre: {}\n", years.join(", ")));
    if o.plan.total_transfer() > crate::domain::Chf::ZERO {
        s.push_str(&format!("Ausführungsdatum der Zahlungen: {}\n", fmt_date(o.execution_date)));
    }
    let p = &o.plan;
    if p.bookings.is_empty() {
        s.push_str("Nichts zu buchen: Alles Fällige ist bereits gebucht.\n");
    }
    s.push_str(&format!("Buchungen: {}\n", p.bookings.len()));
    s.push_str(&format!(
        "Zahlungsempfänger mit Auszahlung: {}\n",
        p.payees.iter().filter(|x| !x.transfer.is_zero()).count()
    ));
    s.push_str(&format!("Total Auszahlung: CHF {}\n", chf_text(p.total_transfer())));
    s.push_str(&format!("Verrechnet: CHF {}\n", chf_text(p.total_offset())));
    if let Some(d) = p.invoice_due {
        s.push_str(&format!(
            "In Rechnung gestellt: CHF {}, zahlbar bis {}\n",
            chf_text(p.total_invoiced()),
            fmt_date(d)
        ));
    }
    let open: Vec<_> = o.open_invoices.iter().filter(|i| i.open() > crate::domain::Chf::ZERO).collect();
    if !open.is_empty() {
        let overdue = open.iter().filter(|i| i.due_on < o.stichtag).count();
        s.push_str(&format!("Offene Rechnungen: {} (davon überfällig: {overdue})\n", open.len()));
    }
    for n in &o.notes {
        s.push_str(&format!("Hinweis: {n}\n"));
    }
    s.push_str(&format!("\nAusgaben in {}:\n", o.out.display()));
    for w in &o.written {
        s.push_str(&format!("  {w}\n"));
    }
    s
}

/// The output folder's errors, as [`crate::write::WriteError`]s.
impl From<crate::write::commit::CommitError> for ZahlungslaufError {
    fn from(e: crate::write::commit::CommitError) -> Self {
        crate::write::WriteError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ymd, Chf, Clawback};

    use std::collections::BTreeSet;

    fn claw(reason: &str, decision: Option<&str>) -> Clawback {
        Clawback {
            bfs: 2578,
            amount: Chf::from_int(25000),
            reason: reason.into(),
            decided_on: ymd(2023, 5, 3),
            decision: decision.map(str::to_string),
        }
    }

    fn master(c: Vec<Clawback>) -> Stammdaten {
        let mut m = Stammdaten::default();
        m.clawbacks = c;
        m
    }

    #[test]
    fn a_booked_clawback_stays_booked_when_its_reason_is_corrected() {
        for decision in [None, Some("AGS-2023-031")] {
            let booked = master(vec![claw("Sockelbeitrag ohne Leistungserbrigung", decision)]);
            let settled: BTreeSet<String> = booked.clawbacks.iter().map(Clawback::reference).collect();
            // The typo in «Grund» corrected: nothing is open, nothing has vanished.
            let fixed = master(vec![claw("Sockelbeitrag ohne Leistungserbringung", decision)]);
            assert!(open_clawbacks(&fixed, ymd(2023, 9, 30), 2023, &settled).is_empty(), "{decision:?}");
            assert!(vanished_clawbacks(&fixed, &settled).is_empty());
            // Decided the day after the Stichtag: not yet open; on it: open.
            let none = BTreeSet::new();
            assert!(open_clawbacks(&fixed, ymd(2023, 5, 2), 2023, &none).is_empty());
            assert_eq!(open_clawbacks(&fixed, ymd(2023, 5, 3), 2023, &none).len(), 1);
        }
    }

    #[test]
    fn a_clawback_booked_under_the_old_reference_is_still_booked() {
        let c = claw("Sockelbeitrag ohne Leistungserbringung", None);
        let settled = BTreeSet::from([legacy_clawback_reference(&c)]);
        let m = master(vec![c]);
        assert!(open_clawbacks(&m, ymd(2023, 9, 30), 2023, &settled).is_empty());
        assert!(vanished_clawbacks(&m, &settled).is_empty());
    }

    #[test]
    fn a_booked_clawback_whose_row_disappeared_is_reported() {
        let settled = BTreeSet::from(["VF-AGS-2023-031".to_string()]);
        assert_eq!(vanished_clawbacks(&master(vec![]), &settled).len(), 1);
        assert!(vanished_clawbacks(&master(vec![claw("x", Some("AGS-2023-031"))]), &settled).is_empty());
    }
}
