//! `beitraege zahlungslauf`: a payout run per Stichtag (preview, `--buchen`, `--freigeben`,
//! `--storno`, `--ausgaben`). The person of the four-eyes rule is the operating-system
//! account running the command ([`person`]), never an environment variable.

use crate::einstellungen::{Einstellungen, Setting};
use crate::workbook::Limits;
use crate::zahlungslauf::{
    ausgaben, execute as run, freigeben, storno, summary, AusgabenOptions, FreigabeOptions, StornoOptions,
    ZahlungslaufOptions,
};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Standard ledger path inside the project checkout (a local disk: SQLite on network shares
/// can corrupt); elsewhere the settings name it.
pub const DEFAULT_LEDGER: &str = "out/buchhaltung.sqlite";

/// The ledger: `--buchhaltung`, else the settings', else (inside the checkout) the sample's.
pub fn ledger_path(cli: Option<&std::path::Path>, settings: &Einstellungen) -> anyhow::Result<PathBuf> {
    Ok(settings.plain(Setting::Buchhaltung, cli, || PathBuf::from(DEFAULT_LEDGER))?)
}

/// Options of `beitraege zahlungslauf`. Without options it takes the settings
/// (`beitraege.toml`) and previews the latest ordinary Stichtag; inside the project checkout,
/// without settings, the sample year's last run (31.03.2024) with the ledger
/// `out/buchhaltung.sqlite`. `--buchen` and `--storno` need the Stichtag named.
#[derive(Debug, Clone, Args)]
pub struct ZahlungslaufArgs {
    /// Stichtag des Zahlungslaufs, TT.MM.JJJJ (31.03. oder 30.09.; für --buchen und --storno nötig; Entwurf ohne: der letzte Stichtag bis heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = parse_date)]
    pub stichtag: Option<chrono::NaiveDate>,
    /// Eingangsordner mit einem Ordner je Jahr (Standard: «eingang» der Einstellungen).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner, in dem jeder gebuchte Zahlungslauf einen eigenen Ordner erhält (<JJJJ-MM-TT>, nach einem Storno <JJJJ-MM-TT>_2, der Storno <JJJJ-MM-TT>_Storno, der Entwurf <JJJJ-MM-TT>_Entwurf; Standard: Zahlungslaeufe im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung (SQLite-Datenbank auf einer lokalen Festplatte; Standard: «buchhaltung» der Einstellungen).
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

/// The latest ordinary Stichtag (31.03. or 30.09.) on or before `today`.
pub fn latest_stichtag(today: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    let y = today.year();
    [crate::domain::ymd(y, 9, 30), crate::domain::ymd(y, 3, 31), crate::domain::ymd(y - 1, 9, 30)]
        .into_iter()
        .find(|d| *d <= today)
        .unwrap_or(today)
}

impl ZahlungslaufArgs {
    /// Inside the checkout without settings for the inbox: the sample year.
    fn sample(&self, settings: &Einstellungen) -> bool {
        settings.uses_sample(Setting::Eingang, self.inbox.is_some())
    }

    pub fn options(&self, settings: &Einstellungen) -> anyhow::Result<ZahlungslaufOptions> {
        let samples = PathBuf::from("samples").join("2023");
        let stichtag = self.stichtag.unwrap_or_else(|| {
            if self.sample(settings) {
                crate::domain::ymd(2024, 3, 31)
            } else {
                latest_stichtag(chrono::Local::now().date_naive())
            }
        });
        // The output root: each booked run, Storno and preview writes into a folder of its own.
        Ok(ZahlungslaufOptions {
            stichtag,
            // The release, a Storno and the missing outputs come from the ledger alone: they
            // need no inbox (a second person may have none set up).
            inbox: if self.freigeben || self.storno || self.ausgaben {
                self.inbox.clone().unwrap_or_default()
            } else {
                settings.plain(Setting::Eingang, self.inbox.as_deref(), || samples.join("inbox"))?
            },
            stammdaten: settings
                .plain(Setting::Stammdaten, self.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?,
            out: settings.path(
                Setting::Ausgabe,
                self.out.as_deref(),
                |root| root.join("Zahlungslaeufe"),
                || PathBuf::from("out").join("zahlungslauf"),
            )?,
            ledger: ledger_path(self.buchhaltung.as_deref(), settings)?,
            book: self.buchen,
            person: String::new(),
            first_year: self.ab_jahr,
            booked_on: self.buchungsdatum.unwrap_or_else(|| chrono::Local::now().date_naive()),
            execution_date: self.ausfuehrungsdatum,
            extraordinary_reason: if self.ausserordentlich { self.grund.clone() } else { None },
            threads: self.threads,
            limits: Limits::default(),
        })
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
    let settings = crate::einstellungen::load()?;
    let mut opts = args.options(&settings)?;
    // The sample inbox's ledger starts in 2023 (a ledger that has booked keeps its own year).
    if opts.first_year.is_none() && args.sample(&settings) && stored_first_year(&opts.ledger).is_none() {
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
        let what = if r.run.art == crate::ledger::RunKind::Storno { "Storno" } else { "Zahlungslauf" };
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
