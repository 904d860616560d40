//! Payout runs (Zahlungslauf, 4.5.2 and 4.7): evaluate every year that has a period due by
//! the Stichtag from the inbox as it stood on that day, compare with the ledger, and pay the
//! differences, offset the claims, invoice the rest. A preview books nothing; `--buchen`
//! books the whole run in one transaction; a booked run is only ever reversed (Storno).

pub mod konto;
pub mod pain001;
pub mod plan;
pub mod workbook;

use crate::domain::InvoiceState;
use crate::domain::{fmt_date, ymd, Bfs, TariffCode, PERIOD_COMPONENTS};
use crate::evaluate::{evaluate, Evaluation, RunError, RunOptions};
use crate::ledger::{journal, Ledger, LedgerError, RunHeader};
use crate::resolve::Eligibility;
use crate::stammdaten::Stammdaten;
use crate::workbook::Limits;
use crate::write::{self, OutFile, WriteError};
use chrono::{Datelike, NaiveDate};
use plan::{DueItem, Evidence, Key, OpenClawback, Part, Plan};
use std::collections::BTreeMap;
use std::path::PathBuf;
use thiserror::Error;

/// What `beitraege zahlungslauf` needs.
#[derive(Debug, Clone)]
pub struct ZahlungslaufOptions {
    pub stichtag: NaiveDate,
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    pub out: PathBuf,
    pub ledger: PathBuf,
    /// Book the run (otherwise a preview, marked `Entwurf`).
    pub book: bool,
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
    pub out: PathBuf,
    pub reason: String,
}

#[derive(Debug, Error)]
pub enum ZahlungslaufError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("Die Buchhaltung ist leer. Für die erste Buchung bitte mit «--ab-jahr» angeben, ab welchem Jahr sie die Beiträge bezahlt (z. B. «--ab-jahr {0}»); frühere Jahre gelten als ausserhalb der Buchhaltung bezahlt.")]
    FirstYearNeeded(i32),
    #[error("Per {0} ist noch keine Auszahlung fällig (die erste ist Ende März des ersten Jahres).")]
    NothingDue(String),
    #[error("Die Buchung ist gemacht, aber die Ausgaben konnten nicht geschrieben werden ({0}). Sie lassen sich mit «beitraege konto» aus der Buchhaltung erneut erstellen.")]
    BookedButNotWritten(WriteError),
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
    pub out: PathBuf,
}

/// The years a run per `stichtag` evaluates: from the first year on, each whose
/// Sockelbeitrag (end of March) is due by the Stichtag.
pub fn years_due(first_year: i32, stichtag: NaiveDate) -> Vec<i32> {
    (first_year..=stichtag.year()).filter(|y| Part::Year.payout_date(*y) <= stichtag).collect()
}

fn tariff_text(master: &Stammdaten, code: TariffCode, day: NaiveDate) -> String {
    match master.tariff(code, day) {
        Some(t) => format!(
            "{} {:.2} CHF (gültig ab {})",
            code.as_str(),
            t.amount,
            t.validity.from.map(fmt_date).unwrap_or_else(|| "jeher".into())
        ),
        None => format!("{}: kein Tarif am {}", code.as_str(), fmt_date(day)),
    }
}

fn withheld_reason(e: &Eligibility, payee: Bfs) -> Option<String> {
    match e {
        Eligibility::Missing { via } if *via == payee => Some("zurückbehalten: Selbstdeklaration fehlt".into()),
        Eligibility::Missing { via } => Some(format!("zurückbehalten: Selbstdeklaration der Leitgemeinde {via} fehlt")),
        _ => None,
    }
}

/// Due items of one year's evaluation for the periods due by the Stichtag.
pub fn due_items(eval: &Evaluation, stichtag_: NaiveDate, stammdaten_label: &str) -> Vec<DueItem> {
    let y = eval.year;
    let sha: BTreeMap<&str, &str> = eval.inputs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let ev = |rel: &str| Evidence { datei: rel.to_string(), sha256: sha.get(rel).copied().unwrap_or("").to_string() };
    let master_ev = ev(stammdaten_label);
    let sd_ev = |payee: Bfs| eval.resolved.sds.get(&payee).map(|s| ev(&s.rel));
    let mut out = Vec::new();
    for r in &eval.comp.rows {
        if Part::Year.payout_date(y) <= stichtag_ {
            let mut evidence = vec![master_ev.clone()];
            evidence.extend(sd_ev(r.payee));
            out.push(DueItem {
                key: Key { bfs: r.bfs, year: y, part: Part::Year, component: TariffCode::Sockel },
                payee: r.payee,
                amount: r.sockel,
                withheld: withheld_reason(&eval.resolved.eligibility(r.payee), r.payee),
                count: Some(r.base),
                tariff: tariff_text(&eval.master, TariffCode::Sockel, ymd(y, 12, 31)),
                evidence,
            });
        }
        for h in &r.halves {
            let part = if h.period.half == 1 { Part::H1 } else { Part::H2 };
            if part.payout_date(y) > stichtag_ || !h.exists {
                continue;
            }
            let eligibility = withheld_reason(&eval.resolved.eligibility(h.payee), h.payee);
            for c in PERIOD_COMPONENTS.iter() {
                let withheld = if h.withheld_whole {
                    Some("zurückbehalten: Vertragsgemeinden ergeben nicht die Totale (LEIT_SUMME)".to_string())
                } else if h.withheld.contains(c) {
                    Some("zurückbehalten: Fehler im Reportingformular".to_string())
                } else {
                    eligibility.clone()
                };
                let mut evidence = vec![master_ev.clone()];
                evidence.extend(h.source.as_deref().map(ev));
                evidence.extend(sd_ev(h.payee));
                out.push(DueItem {
                    key: Key { bfs: r.bfs, year: y, part, component: c.tariff() },
                    payee: h.payee,
                    amount: h.amounts.get(*c),
                    withheld,
                    count: Some(h.paid.get(*c)),
                    tariff: tariff_text(&eval.master, c.tariff(), h.period.last_day()),
                    evidence,
                });
            }
        }
    }
    out
}

/// The stable reference of a clawback row of the master data.
pub fn clawback_reference(c: &crate::domain::Clawback) -> String {
    let h = sha2::Sha256::digest(format!("{}|{}|{}|{}", c.bfs, c.decided_on, c.amount.normalize(), c.reason));
    format!("RF-{}-{}", c.bfs, &write::hex(&h)[..12])
}

use sha2::Digest;

/// Clawbacks decided by the Stichtag (from the first year on) and not yet booked.
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
        .map(|c| OpenClawback {
            reference: clawback_reference(c),
            bfs: c.bfs,
            payee: master.payee(c.bfs, stichtag),
            amount: c.amount,
            reason: c.reason.clone(),
            decided_on: c.decided_on,
        })
        .filter(|c| !settled.contains(&c.reference))
        .collect();
    v.sort_by(|a, b| (a.decided_on, a.bfs, &a.reference).cmp(&(b.decided_on, b.bfs, &b.reference)));
    v
}

/// File names of a run's outputs.
pub fn file_stem(stichtag: NaiveDate, draft: bool) -> String {
    format!("Zahlungslauf_{}{}", stichtag.format("%Y-%m-%d"), if draft { "_Entwurf" } else { "" })
}

pub fn pain_name(stichtag: NaiveDate) -> String {
    format!("pain001_{}.xml", stichtag.format("%Y-%m-%d"))
}

fn now_text() -> String {
    chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string()
}

/// Runs a payout run: evaluate, plan, write, and with `book` book it.
pub fn execute(opts: &ZahlungslaufOptions) -> Result<RunOutcome, ZahlungslaufError> {
    let execution_date = check_dates(opts, chrono::Local::now().date_naive())?;
    crate::evaluate::check_out_apart(&opts.inbox, &opts.out)?;
    let out_dir = write::OutputDir::open(&opts.out)?;
    // A preview reads an existing ledger and never creates one.
    let mut ledger =
        if opts.book || opts.ledger.is_file() { Ledger::open(&opts.ledger)? } else { Ledger::in_memory()? };
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
        let ro = RunOptions {
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
    let plan = plan::plan(opts.stichtag, &due, &booked, &booked_payee, &claws);
    let withheld = plan.lines.iter().filter(|l| l.withheld.is_some()).count();
    if withheld > 0 {
        notes.push(format!(
            "{withheld} Positionen sind zurückbehalten und werden bezahlt, sobald ein korrigiertes Formular eingeht."
        ));
    }
    let open_before = ledger.invoices()?;
    let version = env!("CARGO_PKG_VERSION");
    // A run with nothing to book is not booked (no run without bookings in the ledger).
    let book = opts.book && !plan.bookings.is_empty();
    let draft = !book;
    let doc = workbook::RunDoc {
        stichtag: opts.stichtag,
        execution_date,
        draft,
        plan: &plan,
        master: &master,
        open_invoices: &open_before,
        version,
        years: &years,
    };
    let mut files = vec![workbook::workbook(&doc)?, workbook::json(&doc)?];
    if opts.book && draft {
        notes.push(
            "Es gibt nichts zu buchen: Es wurde kein Zahlungslauf gebucht und keine Zahlungsdatei erstellt.".into(),
        );
    } else if draft {
        notes.push("Entwurf: Es wurde nichts gebucht und keine Zahlungsdatei erstellt (dafür --buchen).".into());
    } else {
        match pain001::write(&doc) {
            Ok(f) => files.push(f),
            Err(why) => notes.push(format!("Keine Zahlungsdatei (pain.001) erstellt: {why}")),
        }
    }
    if book {
        let header = RunHeader {
            stichtag: opts.stichtag,
            booked_at: now_text(),
            program_version: version.to_string(),
            evidence: inputs.into_iter().map(|(datei, sha256)| Evidence { datei, sha256 }).collect(),
            first_year,
            reason: opts.extraordinary_reason.as_deref().map(str::trim).unwrap_or_default().to_string(),
        };
        ledger.book_run(&header, &plan.bookings)?;
        let all = ledger.verify()?;
        files.push(OutFile { rel: journal::FILE_NAME.to_string(), bytes: journal::export(&all).into_bytes() });
        out_dir.commit(&files).map_err(ZahlungslaufError::BookedButNotWritten)?;
    } else {
        out_dir.commit(&files)?;
    }
    let open_invoices = ledger.invoices()?;
    Ok(RunOutcome {
        stichtag: opts.stichtag,
        booked: book,
        execution_date,
        years,
        plan,
        open_invoices,
        written: files.iter().map(|f| f.rel.clone()).collect(),
        notes,
        out: opts.out.clone(),
    })
}

/// Books the reversal of a run and writes the journal.
pub fn storno(opts: &StornoOptions) -> Result<(usize, chrono::NaiveDate), ZahlungslaufError> {
    let out_dir = write::OutputDir::open(&opts.out)?;
    let mut ledger = Ledger::open_existing(&opts.ledger)?;
    ledger.verify()?;
    let (_, rows) = ledger.storno(opts.stichtag, &opts.reason, &now_text(), env!("CARGO_PKG_VERSION"))?;
    let all = ledger.verify()?;
    let files = vec![OutFile { rel: journal::FILE_NAME.to_string(), bytes: journal::export(&all).into_bytes() }];
    out_dir.commit(&files).map_err(ZahlungslaufError::BookedButNotWritten)?;
    Ok((rows.len(), opts.stichtag))
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
    if o.plan.total_transfer() > rust_decimal::Decimal::ZERO {
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
    let offset: rust_decimal::Decimal = p.payees.iter().map(|x| x.offset).sum();
    s.push_str(&format!("Verrechnet: CHF {}\n", chf_text(offset)));
    if let Some(d) = p.invoice_due {
        s.push_str(&format!(
            "In Rechnung gestellt: CHF {}, zahlbar bis {}\n",
            chf_text(p.total_invoiced()),
            fmt_date(d)
        ));
    }
    let open: Vec<_> = o.open_invoices.iter().filter(|i| i.open() > rust_decimal::Decimal::ZERO).collect();
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
