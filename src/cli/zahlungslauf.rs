//! `beitraege zahlungslauf`: a payout run per Stichtag (preview, `--buchen`, `--freigeben`,
//! `--storno`, `--ausgaben`). The person of the four-eyes rule is the operating-system
//! account running the command ([`person`]), never an environment variable.

use crate::workbook::Limits;
use crate::zahlungslauf::{
    ausgaben, execute as run, freigeben, storno, summary, AusgabenOptions, FreigabeOptions, StornoOptions,
    ZahlungslaufOptions,
};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Standard ledger path (a local disk: SQLite on network shares can corrupt).
pub const DEFAULT_LEDGER: &str = "out/buchhaltung.sqlite";

/// Options of `beitraege zahlungslauf`. Without options it previews the sample year's last
/// run (31.03.2024) with the ledger `out/buchhaltung.sqlite`; `--buchen` and `--storno`
/// need the Stichtag named.
#[derive(Debug, Clone, Args)]
pub struct ZahlungslaufArgs {
    /// Stichtag des Zahlungslaufs, TT.MM.JJJJ (31.03. oder 30.09.; für --buchen und --storno nötig; Entwurf ohne: 31.03.2024).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = parse_date)]
    pub stichtag: Option<chrono::NaiveDate>,
    /// Eingangsordner mit den eingereichten Formularen (Standard: samples/2023/inbox).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: samples/2023/Stammdaten.xlsx).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner, in dem jeder gebuchte Zahlungslauf einen eigenen Ordner erhält (<JJJJ-MM-TT>, nach einem Storno <JJJJ-MM-TT>_2, der Storno <JJJJ-MM-TT>_Storno, der Entwurf <JJJJ-MM-TT>_Entwurf; Standard: out/zahlungslauf).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung (SQLite-Datenbank auf einer lokalen Festplatte; Standard: out/buchhaltung.sqlite).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Den Zahlungslauf buchen (ohne diese Option: Entwurf, nichts wird gebucht). Die Zahlungsdatei entsteht erst mit der Freigabe durch eine andere Person.
    #[arg(long, conflicts_with_all = ["storno", "freigeben", "ausgaben"])]
    pub buchen: bool,
    /// Den gebuchten Zahlungslauf (oder Storno) per Stichtag freigeben und die Zahlungsdatei (pain.001) schreiben; nur durch eine andere Person als die, die gebucht hat (Vier-Augen-Prinzip).
    #[arg(long, conflicts_with_all = ["storno", "ausgaben"])]
    pub freigeben: bool,
    /// Fehlende Ausgaben der gebuchten Zahlungsläufe per Stichtag aus der Buchhaltung in ihre Ordner schreiben (nichts wird ersetzt).
    #[arg(long, conflicts_with = "storno")]
    pub ausgaben: bool,
    /// Den gebuchten Zahlungslauf per Stichtag stornieren (verlangt --grund; eine andere Person gibt den Storno frei).
    #[arg(long, requires = "grund")]
    pub storno: bool,
    /// Ausserordentlicher Zahlungslauf: ein anderer Stichtag als 31.03. oder 30.09. oder einer nach dem Buchungsdatum (verlangt --grund, der festgehalten wird).
    #[arg(long, requires = "grund", conflicts_with = "storno")]
    pub ausserordentlich: bool,
    /// Grund der Stornierung oder des ausserordentlichen Zahlungslaufs.
    #[arg(long, value_name = "TEXT")]
    pub grund: Option<String>,
    /// Buchungs- bzw. Freigabedatum, TT.MM.JJJJ (Standard: heute; ein früheres nur zum Nachvollziehen alter Zahlungsläufe).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = parse_date)]
    pub buchungsdatum: Option<chrono::NaiveDate>,
    /// Ausführungsdatum der Zahlungen, TT.MM.JJJJ (ein Bankwerktag, nicht vor dem Buchungsdatum; Standard: der erste Bankwerktag ab Stichtag und Buchungsdatum).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = parse_date)]
    pub ausfuehrungsdatum: Option<chrono::NaiveDate>,
    /// Erstes Jahr, das die Buchhaltung bezahlt; nötig für die erste Buchung (danach aus der Buchhaltung; Beispieldaten: 2023).
    #[arg(long, value_name = "JAHR")]
    pub ab_jahr: Option<i32>,
    /// Anzahl Threads (Standard: alle Kerne).
    #[arg(long = "parallel", alias = "threads", value_name = "ANZAHL")]
    pub threads: Option<usize>,
}

pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::values::parse_date_text(s).ok_or_else(|| format!("«{s}» ist kein Datum (TT.MM.JJJJ)"))
}

impl ZahlungslaufArgs {
    pub fn options(&self) -> ZahlungslaufOptions {
        let samples = PathBuf::from("samples").join("2023");
        let stichtag = self.stichtag.unwrap_or_else(|| crate::domain::ymd(2024, 3, 31));
        // The output root: each booked run, Storno and preview writes into a folder of its own.
        ZahlungslaufOptions {
            stichtag,
            inbox: self.inbox.clone().unwrap_or_else(|| samples.join("inbox")),
            stammdaten: self.stammdaten.clone().unwrap_or_else(|| samples.join("Stammdaten.xlsx")),
            out: self.out.clone().unwrap_or_else(|| PathBuf::from("out").join("zahlungslauf")),
            ledger: self.buchhaltung.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER)),
            book: self.buchen,
            person: String::new(),
            first_year: self.ab_jahr,
            booked_on: self.buchungsdatum.unwrap_or_else(|| chrono::Local::now().date_naive()),
            execution_date: self.ausfuehrungsdatum,
            extraordinary_reason: if self.ausserordentlich { self.grund.clone() } else { None },
            threads: self.threads,
            limits: Limits::default(),
        }
    }
}

/// The first year stored in a ledger, if it exists and has booked a run.
fn stored_first_year(path: &std::path::Path) -> Option<i32> {
    if !path.is_file() {
        return None;
    }
    crate::ledger::Ledger::open_read_only(path).ok()?.first_year().ok()?
}

/// The person running the command: the operating-system account (on Unix the effective
/// user's name, on Windows the account name), read from the system, never from an
/// environment variable.
pub fn person() -> anyhow::Result<String> {
    match whoami::fallible::username() {
        Ok(name) if !name.trim().is_empty() => Ok(name),
        _ => anyhow::bail!(
            "Das Benutzerkonto, unter dem das Programm läuft, ist nicht bestimmbar; ohne Person wird nichts gebucht und nichts freigegeben (Vier-Augen-Prinzip)."
        ),
    }
}

pub fn execute(args: ZahlungslaufArgs) -> anyhow::Result<()> {
    if args.stichtag.is_none() && (args.buchen || args.storno || args.freigeben || args.ausgaben) {
        let what = if args.storno {
            "--storno"
        } else if args.freigeben {
            "--freigeben"
        } else if args.ausgaben {
            "--ausgaben"
        } else {
            "--buchen"
        };
        anyhow::bail!(
            "Mit {what} muss der Stichtag angegeben werden (--stichtag TT.MM.JJJJ, z. B. «--stichtag 30.09.2023»); es wurde nichts gebucht."
        );
    }
    let mut opts = args.options();
    // The sample inbox's ledger starts in 2023 (a ledger that has booked keeps its own year).
    if opts.first_year.is_none() && args.inbox.is_none() && stored_first_year(&opts.ledger).is_none() {
        opts.first_year = Some(2023);
    }
    let day = crate::domain::fmt_date(opts.stichtag);
    if args.ausgaben {
        let ao = AusgabenOptions { stichtag: opts.stichtag, ledger: opts.ledger.clone(), out: opts.out.clone() };
        let done = ausgaben(&ao).with_context(|| format!("Die Ausgaben per {day} konnten nicht geschrieben werden"))?;
        for r in done {
            println!("{}:", r.folder.display());
            for w in &r.added.written {
                println!("  geschrieben: {w}");
            }
            println!("  bereits vorhanden: {} Dateien", r.added.present.len());
            for d in &r.added.differing {
                println!("  weicht von der Buchhaltung ab (nicht ersetzt): {d}");
            }
        }
        return Ok(());
    }
    if args.storno {
        let so = StornoOptions {
            stichtag: opts.stichtag,
            ledger: opts.ledger.clone(),
            out: opts.out.clone(),
            reason: args.grund.clone().unwrap_or_default(),
            person: person()?,
        };
        let (n, folder) =
            storno(&so).with_context(|| format!("Der Zahlungslauf per {day} konnte nicht storniert werden"))?;
        println!("Zahlungslauf per {day} storniert: {n} Gegenbuchungen gebucht von «{}».", so.person);
        println!("Der Storno ist noch nicht freigegeben: Eine andere Person gibt ihn frei mit «beitraege zahlungslauf --freigeben --stichtag {day}».");
        println!("Buchungsjournal: {}", folder.join(crate::ledger::journal::FILE_NAME).display());
        return Ok(());
    }
    if args.freigeben {
        let fo = FreigabeOptions {
            stichtag: opts.stichtag,
            ledger: opts.ledger.clone(),
            stammdaten: opts.stammdaten.clone(),
            out: opts.out.clone(),
            person: person()?,
            released_on: opts.booked_on,
            execution_date: opts.execution_date,
        };
        let r =
            freigeben(&fo).with_context(|| format!("Der Zahlungslauf per {day} konnte nicht freigegeben werden"))?;
        let what = if r.run.art == "Storno" { "Storno" } else { "Zahlungslauf" };
        println!(
            "{what} per {day} freigegeben von «{}» (gebucht von «{}»).",
            r.release.person,
            r.run.booked_by.clone().unwrap_or_default()
        );
        if let (Some(f), Some(sha)) = (&r.release.file, &r.release.file_sha256) {
            println!(
                "Zahlungsdatei: {} ({} Zahlungen, Total CHF {}, SHA-256 {sha})",
                r.folder.join(f).display(),
                r.transfers,
                crate::domain::chf_text(r.total)
            );
        } else if what == "Zahlungslauf" {
            println!("Keine Zahlungsdatei: In diesem Zahlungslauf wird nichts ausbezahlt.");
        }
        if let Some(d) = r.release.execution_date {
            println!("Ausführungsdatum: {}", crate::domain::fmt_date(d));
        }
        println!("SHA-256 der Buchungen: {}", r.release.bookings_sha256);
        return Ok(());
    }
    if opts.book {
        opts.person = person()?;
    }
    let outcome = run(&opts).with_context(|| format!("Der Zahlungslauf per {day} konnte nicht durchgeführt werden"))?;
    print!("{}", summary(&outcome));
    Ok(())
}
