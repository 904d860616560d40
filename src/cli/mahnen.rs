//! `beitraege mahnen`: reminders for forms missing after their deadline.

use crate::einstellungen::{Einstellungen, Setting};
use crate::mahnen::{run, summary, MahnenOptions};
use crate::workbook::Limits;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege mahnen`. Without options it takes the settings (`beitraege.toml`).
#[derive(Debug, Clone, Args)]
pub struct MahnenArgs {
    /// Berichtsjahr (Standard: «jahr» der Einstellungen).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", value_parser = crate::cli::fehler::whole::<i32>)]
    pub year: Option<i32>,
    /// Stichtag, TT.MM.JJJJ: Formulare, die bis zu diesem Tag eingegangen sind, zählen; die Mahnungen tragen dieses Datum (Standard: heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = super::zahlungslauf::parse_date)]
    pub stichtag: Option<chrono::NaiveDate>,
    /// Neue Frist in Tagen ab dem Stichtag (Standard: 14).
    #[arg(long, value_name = "TAGE", value_parser = crate::cli::fehler::whole::<u32>)]
    pub frist: Option<u32>,
    /// Eingangsordner (Standard: «eingang» der Einstellungen).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner; jeder Aufruf erhält darin einen eigenen Ordner <JJJJ-MM-TT>[_n] (Standard: Mahnungen_<Jahr> im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung mit dem Korrespondenzjournal (Standard: «buchhaltung» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Kontaktangabe des AGS für die Briefe (Standard: aus den Stammdaten).
    #[arg(long, value_name = "TEXT")]
    pub kontakt: Option<String>,
}

impl MahnenArgs {
    pub fn options(&self, settings: &Einstellungen) -> anyhow::Result<MahnenOptions> {
        let (y, _) = settings.year(self.year)?;
        let samples = PathBuf::from("samples").join("2023");
        Ok(MahnenOptions {
            year: y,
            inbox: settings.plain(Setting::Eingang, self.inbox.as_deref(), || samples.join("inbox"))?,
            stammdaten: settings
                .plain(Setting::Stammdaten, self.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?,
            out: settings.path(
                Setting::Ausgabe,
                self.out.as_deref(),
                |root| root.join(format!("Mahnungen_{y}")),
                || PathBuf::from("out").join(format!("mahnungen_{y}")),
            )?,
            ledger: super::zahlungslauf::ledger_path(self.buchhaltung.as_deref(), settings)?,
            stichtag: self.stichtag.unwrap_or_else(|| chrono::Local::now().date_naive()),
            days: self.frist.unwrap_or(crate::mahnung::DEFAULT_DAYS),
            contact: self.kontakt.clone(),
            threads: None,
            limits: Limits::default(),
        })
    }
}

pub fn execute(args: MahnenArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let opts = args.options(&settings)?;
    let report = run(&opts).with_context(|| format!("Die Mahnungen {} konnten nicht erstellt werden", opts.year))?;
    let master = crate::stammdaten::Stammdaten::load(&opts.stammdaten).ok();
    let name = |b: u32| {
        master.as_ref().and_then(|m| m.municipality(b)).map(|m| m.name.clone()).unwrap_or_else(|| "?".to_string())
    };
    print!("{}", summary(&report, &name));
    Ok(())
}
