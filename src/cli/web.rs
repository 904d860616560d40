//! `beitraege web`: the options, handed to the web front (`beitraege::web`).

use crate::cli::fehler::whole;
use beitraege::einstellungen::Setting;
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `beitraege web`: the data options of `run` and `zahlungslauf`, the port.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Beitragsjahr (Standard: «jahr» der Einstellungen).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", value_parser = whole::<i32>)]
    pub year: Option<i32>,
    /// Eingangsordner mit einem Ordner je Jahr (Standard: «eingang» der Einstellungen).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner: die Auswertung in <ORDNER>/<Jahr>, die Zahlungsläufe in <ORDNER>/zahlungslauf, die Kontoauszüge in <ORDNER>/konto (Standard: «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung (Standard: «buchhaltung» der Einstellungen); angegeben, zeigt der Anhang auch das Blatt «Buchhaltung».
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Port auf 127.0.0.1 (0: ein freier Port; Standard: 0).
    #[arg(long, value_name = "PORT", default_value_t = 0, hide_default_value = true, value_parser = whole::<u16>)]
    pub port: u16,
    /// Den Browser nicht öffnen (die Adresse steht in der ersten Zeile der Ausgabe).
    #[arg(long)]
    pub kein_browser: bool,
}

pub fn execute(args: WebArgs) -> anyhow::Result<()> {
    // The same settings as every command (`beitraege.toml`); the sample year only inside the
    // checkout.
    let settings = beitraege::einstellungen::load()?;
    let (y, _) = settings.year(args.year)?;
    let samples = PathBuf::from("samples").join(y.to_string());
    let inbox = settings.plain(Setting::Eingang, args.inbox.as_deref(), || samples.join("inbox"))?;
    let stammdaten =
        settings.plain(Setting::Stammdaten, args.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?;
    let out = settings.path(Setting::Ausgabe, args.out.as_deref(), Path::to_path_buf, || PathBuf::from("out"))?;
    let ledger_given = args.buchhaltung.is_some() || settings.werte.buchhaltung.is_some();
    let ledger =
        settings.plain(Setting::Buchhaltung, args.buchhaltung.as_deref(), || out.join("buchhaltung.sqlite"))?;
    let opts = beitraege::web::WebOptions {
        year: y,
        inbox,
        stammdaten,
        ledger,
        ledger_given,
        out,
        port: args.port,
        person: super::zahlungslauf::person().map_err(|e| e.to_string()),
    };
    beitraege::web::serve(opts, !args.kein_browser).map_err(anyhow::Error::msg)
}
