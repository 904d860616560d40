//! `beitraege web`: the options, handed to the web front (`beitraege::web`).

use crate::cli::fehler::whole;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege web`: the data options of `run` and `zahlungslauf`, the port.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Beitragsjahr (Standard: 2023).
    #[arg(long = "jahr", alias = "year", value_name = "JAHR", default_value_t = 2023, hide_default_value = true, value_parser = whole::<i32>)]
    pub year: i32,
    /// Eingangsordner mit den eingereichten Formularen (Standard: samples/<Jahr>/inbox).
    #[arg(long = "eingang", alias = "inbox", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: samples/<Jahr>/Stammdaten.xlsx).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner: die Auswertung in <ORDNER>/<Jahr>, die Zahlungsläufe in <ORDNER>/zahlungslauf, die Kontoauszüge in <ORDNER>/konto (Standard: out).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung (Standard: <Ausgabeordner>/buchhaltung.sqlite); angegeben, zeigt der Anhang auch das Blatt «Buchhaltung».
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
    let y = args.year;
    let samples = PathBuf::from("samples").join(y.to_string());
    let out = args.out.unwrap_or_else(|| PathBuf::from("out"));
    let opts = beitraege::web::WebOptions {
        year: y,
        inbox: args.inbox.unwrap_or_else(|| samples.join("inbox")),
        stammdaten: args.stammdaten.unwrap_or_else(|| samples.join("Stammdaten.xlsx")),
        ledger: args.buchhaltung.clone().unwrap_or_else(|| out.join("buchhaltung.sqlite")),
        ledger_given: args.buchhaltung.is_some(),
        out,
        port: args.port,
        person: super::zahlungslauf::person().map_err(|e| e.to_string()),
    };
    beitraege::web::serve(opts, !args.kein_browser).map_err(anyhow::Error::msg)
}
