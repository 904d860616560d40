//! `beitraege kennzahlen`: the figures per year, district and canton over every year folder
//! of the inbox root (Kreisschreiben 4.3.3, 4.3.4, 5.3).

use crate::aufsicht::kennzahlen::{execute as compute, folder_name, year_folders, KennzahlenOptions};
use crate::cli::fehler::whole;
use crate::einstellungen::Setting;
use crate::workbook::Limits;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege kennzahlen`.
#[derive(Debug, Clone, Args)]
pub struct KennzahlenArgs {
    /// Eingangsordner mit einem Ordner je Jahr (Standard: «eingang» der Einstellungen); jedes Jahr mit Jahresordner wird ausgewertet.
    #[arg(long = "eingang", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Nur dieses Jahr (Standard: jeder Jahresordner; ohne Jahresordner das «jahr» der Einstellungen).
    #[arg(long = "jahr", value_name = "JAHR", value_parser = whole::<i32>)]
    pub year: Option<i32>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Buchhaltung: die gebuchten Beiträge je Jahr als zusätzliche Spalte (Standard: «buchhaltung» der Einstellungen, wenn die Datei besteht).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Ausgabeordner (Standard: Kennzahlen_<JJJJ-MM-TT> im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
}

pub fn execute(args: KennzahlenArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let fallback = settings.year(args.year);
    let samples = PathBuf::from("samples").join(fallback.as_ref().map(|(y, _)| *y).unwrap_or(2023).to_string());
    let inbox = settings.plain(Setting::Eingang, args.inbox.as_deref(), || samples.join("inbox"))?;
    let stammdaten =
        settings.plain(Setting::Stammdaten, args.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?;
    let years = match args.year {
        Some(y) => vec![y],
        None => {
            let found = year_folders(&inbox);
            if found.is_empty() {
                vec![fallback?.0]
            } else {
                found
            }
        }
    };
    let today = chrono::Local::now().date_naive();
    let folder = folder_name(today);
    let out = settings.path(
        Setting::Ausgabe,
        args.out.as_deref(),
        |root| root.join(&folder),
        || PathBuf::from("out").join(&folder),
    )?;
    let ledger = args.buchhaltung.clone().or_else(|| settings.werte.buchhaltung.clone().filter(|p| p.is_file()));
    let opts = KennzahlenOptions {
        inbox,
        stammdaten,
        years: years.clone(),
        out,
        ledger,
        limits: Limits::default(),
        threads: None,
        date: today,
    };
    let list: Vec<String> = years.iter().map(i32::to_string).collect();
    let r = compute(&opts)
        .with_context(|| format!("Die Kennzahlen ({}) konnten nicht erstellt werden", list.join(", ")))?;
    println!("Kennzahlen {}: {} Zeilen (Kanton, Bezirke, Gemeinden).", list.join(", "), r.figures.len());
    println!("Ausgaben in {}: {}.", r.out.display(), r.written.join(", "));
    Ok(())
}
