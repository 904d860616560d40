//! `beitraege run`: evaluate an inbox for one year and write the outputs.

use crate::cli::fehler::whole;
use crate::run::{run, summary, Progress, RunOptions};
use crate::workbook::Limits;
use anyhow::Context;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

const MB: u64 = 1024 * 1024;

/// Options of `beitraege run`. Without options it runs the sample year in `samples/`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Beitragsjahr (Standard: 2023).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", default_value_t = 2023, hide_default_value = true, value_parser = whole::<i32>)]
    pub year: i32,
    /// Eingangsordner mit den eingereichten Formularen (Standard: samples/<Jahr>/inbox).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: samples/<Jahr>/Stammdaten.xlsx).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner (Standard: out/<Jahr>).
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
    /// Buchhaltung (Datenbank der Zahlungsläufe): Anhang zeigt Bezahltes und Offenes.
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

impl RunArgs {
    pub fn options(&self) -> RunOptions {
        let y = self.year;
        let samples = PathBuf::from("samples").join(y.to_string());
        let defaults = Limits::default();
        RunOptions {
            year: y,
            inbox: self.inbox.clone().unwrap_or_else(|| samples.join("inbox")),
            stammdaten: self.stammdaten.clone().unwrap_or_else(|| samples.join("Stammdaten.xlsx")),
            out: self.out.clone().unwrap_or_else(|| PathBuf::from("out").join(y.to_string())),
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
            buchhaltung: self.buchhaltung.clone(),
        }
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

pub fn execute(args: RunArgs) -> anyhow::Result<()> {
    let opts = args.options();
    let report =
        run(&opts).with_context(|| format!("Die Auswertung {} konnte nicht durchgeführt werden", opts.year))?;
    print!("{}", summary(&report));
    Ok(())
}
