//! `beitraege jahresinformation`: the yearly information to every municipality (4.5.3).

use crate::einstellungen::{Einstellungen, Setting};
use crate::jahresinformation::{run, summary, JahresinfoOptions};
use crate::workbook::Limits;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege jahresinformation`. Without options it takes the settings (`beitraege.toml`).
#[derive(Debug, Clone, Args)]
pub struct JahresinformationArgs {
    /// Beitragsjahr (Standard: «jahr» der Einstellungen).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", value_parser = crate::cli::fehler::whole::<i32>)]
    pub year: Option<i32>,
    /// Datum der Briefe, TT.MM.JJJJ (Standard: heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = super::zahlungslauf::parse_date)]
    pub datum: Option<chrono::NaiveDate>,
    /// Eingangsordner (Standard: «eingang» der Einstellungen).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner; jeder Aufruf erhält darin einen eigenen Ordner <JJJJ-MM-TT>[_n] (Standard: Jahresinformation_<Jahr> im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung: gebuchte Auszahlungen, offene Rechnungen und das Korrespondenzjournal (Standard: «buchhaltung» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Kontaktangabe des AGS für die Briefe (Standard: aus den Stammdaten).
    #[arg(long, value_name = "TEXT")]
    pub kontakt: Option<String>,
}

impl JahresinformationArgs {
    pub fn options(&self, settings: &Einstellungen) -> anyhow::Result<JahresinfoOptions> {
        let (y, _) = settings.year(self.year)?;
        let samples = PathBuf::from("samples").join("2023");
        Ok(JahresinfoOptions {
            year: y,
            inbox: settings.plain(Setting::Eingang, self.inbox.as_deref(), || samples.join("inbox"))?,
            stammdaten: settings
                .plain(Setting::Stammdaten, self.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?,
            out: settings.path(
                Setting::Ausgabe,
                self.out.as_deref(),
                |root| root.join(format!("Jahresinformation_{y}")),
                || PathBuf::from("out").join(format!("jahresinformation_{y}")),
            )?,
            ledger: super::zahlungslauf::ledger_path(self.buchhaltung.as_deref(), settings)?,
            date: self.datum.unwrap_or_else(|| chrono::Local::now().date_naive()),
            contact: self.kontakt.clone(),
            threads: None,
            limits: Limits::default(),
        })
    }
}

pub fn execute(args: JahresinformationArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let opts = args.options(&settings)?;
    let report =
        run(&opts).with_context(|| format!("Die Jahresinformationen {} konnten nicht erstellt werden", opts.year))?;
    print!("{}", summary(&report, opts.date));
    Ok(())
}
