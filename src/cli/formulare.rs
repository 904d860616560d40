//! `beitraege formulare`: write the prefilled form templates for one year.

use crate::formulare::{run, summary, FormulareOptions};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege formulare`. Without options it writes the sample year's forms.
#[derive(Debug, Clone, Args)]
pub struct FormulareArgs {
    /// Berichtsjahr, für das die Formulare gelten (Standard: 2023).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", default_value_t = 2023, hide_default_value = true, value_parser = crate::cli::fehler::whole::<i32>)]
    pub year: i32,
    /// Stammdaten-Arbeitsmappe (Standard: samples/<Jahr>/Stammdaten.xlsx).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner (Standard: out/<Jahr>/Formulare).
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
    pub fn options(&self) -> FormulareOptions {
        let y = self.year;
        FormulareOptions {
            year: y,
            stammdaten: self
                .stammdaten
                .clone()
                .unwrap_or_else(|| PathBuf::from("samples").join(y.to_string()).join("Stammdaten.xlsx")),
            out: self.out.clone().unwrap_or_else(|| PathBuf::from("out").join(y.to_string()).join("Formulare")),
            run_date: self.datum.unwrap_or_else(|| chrono::Local::now().date_naive()),
        }
    }
}

pub fn execute(args: FormulareArgs) -> anyhow::Result<()> {
    let opts = args.options();
    let report = run(&opts).with_context(|| format!("Die Formulare {} konnten nicht erstellt werden", opts.year))?;
    print!("{}", summary(&report));
    Ok(())
}
