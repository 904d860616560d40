//! `beitraege konto`: a municipality's statement (or all municipalities') from the ledger.

use crate::einstellungen::Setting;
use crate::zahlungslauf::konto::{execute as run, KontoOptions};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege konto`.
#[derive(Debug, Clone, Args)]
pub struct KontoArgs {
    /// BFS-Nr. der Gemeinde (eine Nummer aus dem Blatt «Gemeinden»; ohne: alle Gemeinden in einer Arbeitsmappe).
    #[arg(long, value_name = "BFS-NR", value_parser = parse_bfs)]
    pub gemeinde: Option<u32>,
    /// Buchhaltung (Standard: «buchhaltung» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe für die Namen (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner; jeder Auszug erhält darin einen eigenen Ordner Stand_<JJJJ-MM-TT>[_n] (Standard: Kontoauszuege im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", alias = "out", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Stand des Auszugs, TT.MM.JJJJ: entscheidet, was überfällig ist (Standard: heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = super::zahlungslauf::parse_date)]
    pub datum: Option<chrono::NaiveDate>,
}

/// A BFS-Nr.: a whole number (a municipality's name is not accepted, it can be ambiguous).
fn parse_bfs(s: &str) -> Result<u32, String> {
    s.trim().parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        format!("«{s}» ist keine BFS-Nr.; bitte die Nummer der Gemeinde angeben (Blatt «Gemeinden», z. B. 2601)")
    })
}

pub fn execute(args: KontoArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let opts = KontoOptions {
        ledger: super::zahlungslauf::ledger_path(args.buchhaltung.as_deref(), &settings)?,
        out: settings.path(
            Setting::Ausgabe,
            args.out.as_deref(),
            |root| root.join("Kontoauszuege"),
            || PathBuf::from("out").join("konto"),
        )?,
        bfs: args.gemeinde,
        // Without master data the names come from the ledger.
        stammdaten: settings
            .plain(Setting::Stammdaten, args.stammdaten.as_deref(), || PathBuf::from("samples/2023/Stammdaten.xlsx"))
            .ok(),
        date: args.datum.unwrap_or_else(|| chrono::Local::now().date_naive()),
    };
    let (st, folder, written) = run(&opts).context("Der Kontoauszug konnte nicht erstellt werden")?;
    let open = beitraege::payout::checked_sum(st.invoices.iter().map(|i| i.open()))
        .map_err(|_| anyhow::anyhow!("Das Total der offenen Rechnungen übersteigt den Rechenbereich des Programms."))?;
    println!("Kontoauszug: {} Buchungen, {} Perioden.", st.bookings.len(), st.periods.len());
    println!("Offene Rechnungen: CHF {}", crate::domain::chf_text(open));
    println!("Ausgaben in {}:", folder.display());
    for w in written {
        println!("  {w}");
    }
    Ok(())
}
