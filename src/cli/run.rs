//! `beitraege run`: evaluate an inbox for one year and write the outputs.

use crate::cli::fehler::whole;
use crate::einstellungen::{Einstellungen, Setting};
use crate::run::{run, summary, EvaluationOptions, Progress};
use crate::workbook::Limits;
use anyhow::Context;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

const MB: u64 = 1024 * 1024;

/// Options of `beitraege run`. Without options it takes the settings (`beitraege.toml`),
/// inside the project checkout the sample year in `samples/` for what they do not set.
#[derive(Debug, Clone, Args)]
pub struct EvaluationArgs {
    /// Beitragsjahr (Standard: «jahr» der Einstellungen).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", value_parser = whole::<i32>)]
    pub year: Option<i32>,
    /// Eingangsordner mit den eingereichten Formularen, auch der Ordner mit einem Ordner je Jahr (Standard: «eingang» der Einstellungen).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner (Standard: Auswertung_<Jahr> im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Anzahl gleichzeitig arbeitender Threads (Standard: alle Kerne).
    #[arg(long = "parallel", alias = "threads", value_name = "ANZAHL", value_parser = whole::<usize>)]
    pub threads: Option<usize>,
    /// Datum auf den Dokumenten, TT.MM.JJJJ (Standard: heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = parse_date)]
    pub datum: Option<chrono::NaiveDate>,
    /// Kontaktstelle des AGS für Briefe und Rückmeldungen (Standard: Blatt «Absender», sonst «Kontakt» der Stammdaten).
    #[arg(long, value_name = "TEXT")]
    pub kontakt: Option<String>,
    /// Grösste Datei in MB, die gelesen wird (Standard: 20).
    #[arg(long, value_name = "MB", default_value_t = Limits::default().max_file_bytes / MB, hide_default_value = true, value_parser = whole::<u64>)]
    pub max_datei_mb: u64,
    /// Grösste entpackte Grösse einer xlsx/ods-Datei in MB (Standard: 200).
    #[arg(long, value_name = "MB", default_value_t = Limits::default().max_inflated_bytes / MB, hide_default_value = true, value_parser = whole::<u64>)]
    pub max_entpackt_mb: u64,
    /// Höchstzahl gefüllter Zellen je Datei im gelesenen Bereich (Standard: 100000).
    #[arg(long, value_name = "ANZAHL", default_value_t = Limits::default().max_cells, hide_default_value = true, value_parser = whole::<usize>)]
    pub max_zellen: usize,
    /// Grösste entpackte Grösse eines einzelnen XML-Teils (Blatt, Texte) in MB (Standard: 32).
    #[arg(long, value_name = "MB", default_value_t = Limits::default().max_part_bytes / MB, hide_default_value = true, value_parser = whole::<u64>)]
    pub max_teil_mb: u64,
    /// xls: Höchstzahl Zellen in den dicht gespeicherten Tabellenbereichen (Standard: 2000000).
    #[arg(long, value_name = "ANZAHL", default_value_t = Limits::default().max_dense_cells, hide_default_value = true, value_parser = whole::<u64>)]
    pub max_xls_zellen: u64,
    /// xlsx/ods: Höchstmenge Text in den Zellen einer Datei in MB (Standard: 64).
    #[arg(long, value_name = "MB", default_value_t = Limits::default().max_text_bytes / MB, hide_default_value = true, value_parser = whole::<u64>)]
    pub max_text_mb: u64,
    /// Buchhaltung (Datenbank der Zahlungsläufe): Anhang zeigt Bezahltes und Offenes (Standard: «buchhaltung» der Einstellungen, wenn die Datei besteht).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Keinen Fortschrittsbalken zeigen.
    #[arg(long)]
    pub ohne_fortschritt: bool,
    /// Auch auswerten, wenn der Eingang kein oder überwiegend Formulare anderer Jahre enthält.
    #[arg(long)]
    pub trotzdem: bool,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::values::parse_date_text(s).ok_or_else(|| format!("«{s}» ist kein Datum (TT.MM.JJJJ)"))
}

impl EvaluationArgs {
    pub fn options(&self, settings: &Einstellungen) -> anyhow::Result<EvaluationOptions> {
        let (y, _) = settings.year(self.year)?;
        let samples = PathBuf::from("samples").join(y.to_string());
        let defaults = Limits::default();
        // The inbox root as it stands: its folder per year holds the year's forms, and the
        // receipt journal at its top covers them all (as for the payout runs).
        let inbox = settings.plain(Setting::Eingang, self.inbox.as_deref(), || samples.join("inbox"))?;
        let stammdaten =
            settings.plain(Setting::Stammdaten, self.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?;
        let out = settings.path(
            Setting::Ausgabe,
            self.out.as_deref(),
            |root| root.join(format!("Auswertung_{y}")),
            || PathBuf::from("out").join(y.to_string()),
        )?;
        // The settings' ledger where it exists (a ledger not yet created has nothing to show).
        let buchhaltung =
            self.buchhaltung.clone().or_else(|| settings.werte.buchhaltung.clone().filter(|p| p.is_file()));
        Ok(EvaluationOptions {
            year: y,
            inbox,
            stammdaten,
            out,
            threads: self.threads,
            limits: Limits {
                max_file_bytes: self.max_datei_mb * MB,
                max_inflated_bytes: self.max_entpackt_mb * MB,
                max_cells: self.max_zellen,
                max_part_bytes: self.max_teil_mb * MB,
                max_dense_cells: self.max_xls_zellen,
                max_text_bytes: self.max_text_mb.saturating_mul(MB),
                ..defaults
            },
            run_date: self.datum.unwrap_or_else(|| chrono::Local::now().date_naive()),
            contact: self.kontakt.clone(),
            progress: (!self.ohne_fortschritt && std::io::stderr().is_terminal()).then(progress_bar),
            force: self.trotzdem,
            received_by: None,
            buchhaltung,
        })
    }
}

/// A progress bar on stderr for the reading of the inbox.
fn progress_bar() -> Progress {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} Dateien ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("Lese Formulare");
    Progress(std::sync::Arc::new(move |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        if done == total {
            bar.finish_and_clear();
        }
    }))
}

pub fn execute(args: EvaluationArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let opts = args.options(&settings)?;
    let report =
        run(&opts).with_context(|| format!("Die Auswertung {} konnte nicht durchgeführt werden", opts.year))?;
    print!("{}", summary(&report));
    Ok(())
}
