//! `beitraege formulare`: write the prefilled form templates for one year.

use crate::einstellungen::{Einstellungen, Setting};
use crate::formulare::{run, summary, FormulareOptions};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege formulare`. Without options it takes the settings (`beitraege.toml`),
/// inside the project checkout the sample year's master data for what they do not set.
#[derive(Debug, Clone, Args)]
pub struct FormulareArgs {
    /// Berichtsjahr, für das die Formulare gelten (Standard: «jahr» der Einstellungen).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", value_parser = crate::cli::fehler::whole::<i32>)]
    pub year: Option<i32>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner (Standard: Formulare_<Jahr> im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Erstellungsdatum der Dateien, TT.MM.JJJJ (Standard: heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = parse_date)]
    pub datum: Option<chrono::NaiveDate>,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::values::parse_date_text(s).ok_or_else(|| format!("«{s}» ist kein Datum (TT.MM.JJJJ)"))
}

impl FormulareArgs {
    pub fn options(&self, settings: &Einstellungen) -> anyhow::Result<FormulareOptions> {
        let (y, _) = settings.year(self.year)?;
        Ok(FormulareOptions {
            year: y,
            stammdaten: settings.plain(Setting::Stammdaten, self.stammdaten.as_deref(), || {
                PathBuf::from("samples").join(y.to_string()).join("Stammdaten.xlsx")
            })?,
            out: settings.path(
                Setting::Ausgabe,
                self.out.as_deref(),
                |root| root.join(format!("Formulare_{y}")),
                || PathBuf::from("out").join(y.to_string()).join("Formulare"),
            )?,
            run_date: self.datum.unwrap_or_else(|| chrono::Local::now().date_naive()),
        })
    }
}

pub fn execute(args: FormulareArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let opts = args.options(&settings)?;
    let report = run(&opts).with_context(|| format!("Die Formulare {} konnten nicht erstellt werden", opts.year))?;
    print!("{}", summary(&report));
    Ok(())
}
