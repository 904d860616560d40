//! `beitraege zahlungslauf`: a payout run per Stichtag (preview, `--buchen`, `--storno`).

use crate::workbook::Limits;
use crate::zahlungslauf::{execute as run, storno, summary, StornoOptions, ZahlungslaufOptions};
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
    /// Ausgabeordner (Standard: out/zahlungslauf/<JJJJ-MM-TT>, beim Storno …_Storno).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung (SQLite-Datenbank auf einer lokalen Festplatte; Standard: out/buchhaltung.sqlite).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Den Zahlungslauf buchen (ohne diese Option: Entwurf, nichts wird gebucht).
    #[arg(long, conflicts_with = "storno")]
    pub buchen: bool,
    /// Den gebuchten Zahlungslauf per Stichtag stornieren (verlangt --grund).
    #[arg(long, requires = "grund")]
    pub storno: bool,
    /// Ausserordentlicher Zahlungslauf: ein anderer Stichtag als 31.03. oder 30.09. oder einer nach dem Buchungsdatum (verlangt --grund, der festgehalten wird).
    #[arg(long, requires = "grund", conflicts_with = "storno")]
    pub ausserordentlich: bool,
    /// Grund der Stornierung oder des ausserordentlichen Zahlungslaufs.
    #[arg(long, value_name = "TEXT")]
    pub grund: Option<String>,
    /// Buchungsdatum, TT.MM.JJJJ (Standard: heute; ein früheres nur zum Nachvollziehen alter Zahlungsläufe).
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
        // One folder per Stichtag: a run's outputs replace only those of the same Stichtag.
        let folder = format!("{}{}", stichtag.format("%Y-%m-%d"), if self.storno { "_Storno" } else { "" });
        ZahlungslaufOptions {
            stichtag,
            inbox: self.inbox.clone().unwrap_or_else(|| samples.join("inbox")),
            stammdaten: self.stammdaten.clone().unwrap_or_else(|| samples.join("Stammdaten.xlsx")),
            out: self.out.clone().unwrap_or_else(|| PathBuf::from("out").join("zahlungslauf").join(folder)),
            ledger: self.buchhaltung.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER)),
            book: self.buchen,
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

pub fn execute(args: ZahlungslaufArgs) -> anyhow::Result<()> {
    if args.stichtag.is_none() && (args.buchen || args.storno) {
        let what = if args.storno { "--storno" } else { "--buchen" };
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
    if args.storno {
        let so = StornoOptions {
            stichtag: opts.stichtag,
            ledger: opts.ledger.clone(),
            out: opts.out.clone(),
            reason: args.grund.clone().unwrap_or_default(),
        };
        let (n, _) =
            storno(&so).with_context(|| format!("Der Zahlungslauf per {day} konnte nicht storniert werden"))?;
        println!("Zahlungslauf per {day} storniert: {n} Gegenbuchungen gebucht.");
        println!("Buchungsjournal: {}", so.out.join(crate::ledger::journal::FILE_NAME).display());
        return Ok(());
    }
    let outcome = run(&opts).with_context(|| format!("Der Zahlungslauf per {day} konnte nicht durchgeführt werden"))?;
    print!("{}", summary(&outcome));
    Ok(())
}
