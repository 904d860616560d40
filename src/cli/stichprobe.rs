//! `beitraege stichprobe`: draw the spot-check sample of a year (Kreisschreiben 6), or with
//! `--ergebnis` record the outcome of one municipality's check.

use crate::aufsicht::stichprobe::{execute as draw, record_outcome, StichprobeOptions};
use crate::cli::fehler::whole;
use crate::einstellungen::Setting;
use crate::ledger::Outcome;
use crate::workbook::Limits;
use anyhow::Context;
use clap::{Args, ValueEnum};
use rust_decimal::Decimal;
use std::path::PathBuf;

/// The outcome of a check as named on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Ergebnis {
    #[value(name = "in-ordnung")]
    InOrdnung,
    #[value(name = "maengel", alias = "mängel")]
    Maengel,
}

/// Options of `beitraege stichprobe`.
#[derive(Debug, Clone, Args)]
pub struct StichprobeArgs {
    /// Beitragsjahr (Standard: «jahr» der Einstellungen).
    #[arg(long = "jahr", value_name = "JAHR", value_parser = whole::<i32>)]
    pub year: Option<i32>,
    /// Eingangsordner (auch der Ordner mit einem Ordner je Jahr; Standard: «eingang» der Einstellungen).
    #[arg(long = "eingang", value_name = "ORDNER")]
    pub inbox: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe (Standard: «stammdaten» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner der Stichprobe (Standard: Stichproben/Stichprobe_<Jahr>_<Seed> im Ordner «ausgabe» der Einstellungen).
    #[arg(long = "ausgabe", value_name = "ORDNER")]
    pub out: Option<PathBuf>,
    /// Buchhaltung: Korrekturbuchungen, Kontoauszug und Buchungen je Gemeinde; die Stichprobe wird darin festgehalten (Standard: «buchhaltung» der Einstellungen, wenn die Datei besteht).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Jede Gemeinde mit einem Beitrag ab diesem Betrag wird kontrolliert (Standard: 100000).
    #[arg(long, value_name = "CHF", default_value = "100000", value_parser = parse_decimal)]
    pub schwelle: Decimal,
    /// Anteil der übrigen Gemeinden, der zufällig gezogen wird, in Prozent (Standard: 10).
    #[arg(long, value_name = "PROZENT", default_value = "10", value_parser = parse_decimal)]
    pub anteil: Decimal,
    /// Startwert der Zufallsauswahl (derselbe Seed ergibt dieselbe Auswahl; ohne: ein neuer, der ausgegeben wird).
    #[arg(long, value_name = "N", value_parser = whole::<u64>)]
    pub seed: Option<u64>,
    /// Ergebnis der Kontrolle einer Gemeinde erfassen (mit --bfs, --jahr, --notiz); nicht durch die Person, die gezogen hat.
    #[arg(long, value_enum, value_name = "in-ordnung|maengel", requires_all = ["bfs", "notiz"])]
    pub ergebnis: Option<Ergebnis>,
    /// BFS-Nr. der kontrollierten Gemeinde (mit --ergebnis).
    #[arg(long, value_name = "BFS-NR", value_parser = whole::<u32>)]
    pub bfs: Option<u32>,
    /// Notiz zum Ergebnis der Kontrolle (mit --ergebnis).
    #[arg(long, value_name = "TEXT")]
    pub notiz: Option<String>,
}

fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let t = s.trim().replace(['\'', '’'], "");
    t.parse::<Decimal>().map_err(|_| format!("«{s}» ist keine Zahl"))
}

/// A fresh seed from the operating system's random source.
fn fresh_seed() -> anyhow::Result<u64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("Zufallsquelle des Betriebssystems nicht lesbar: {e}"))?;
    Ok(u64::from_le_bytes(b))
}

pub fn execute(args: StichprobeArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let (y, _) = settings.year(args.year)?;
    let person = super::zahlungslauf::person()?;
    let at = chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string();
    let ledger = args.buchhaltung.clone().or_else(|| settings.werte.buchhaltung.clone().filter(|p| p.is_file()));
    if let Some(e) = args.ergebnis {
        let Some(ledger) = ledger else {
            anyhow::bail!("Das Ergebnis einer Stichprobenkontrolle wird in der Buchhaltung festgehalten; bitte --buchhaltung angeben.");
        };
        let outcome = match e {
            Ergebnis::InOrdnung => Outcome::InOrdnung,
            Ergebnis::Maengel => Outcome::Maengel,
        };
        let bfs = args.bfs.unwrap_or_default();
        let row = record_outcome(&ledger, y, bfs, outcome, args.notiz.as_deref().unwrap_or(""), &person, &at)
            .context("Das Ergebnis wurde nicht erfasst")?;
        println!(
            "Stichprobe {y}, Gemeinde {bfs}: Ergebnis «{}» erfasst (von {} am {}).",
            row.outcome.unwrap_or_default(),
            row.person,
            row.at
        );
        return Ok(());
    }
    let (seed, new_seed) = match args.seed {
        Some(s) => (s, false),
        None => (fresh_seed()?, true),
    };
    let samples = PathBuf::from("samples").join(y.to_string());
    let inbox = settings.plain(Setting::Eingang, args.inbox.as_deref(), || samples.join("inbox"))?;
    let stammdaten =
        settings.plain(Setting::Stammdaten, args.stammdaten.as_deref(), || samples.join("Stammdaten.xlsx"))?;
    let folder = format!("Stichprobe_{y}_{seed}");
    let out = settings.path(
        Setting::Ausgabe,
        args.out.as_deref(),
        |root| root.join("Stichproben").join(&folder),
        || PathBuf::from("out").join(&folder),
    )?;
    let today = chrono::Local::now().date_naive();
    let opts = StichprobeOptions {
        run: crate::evaluate::EvaluationOptions {
            year: y,
            inbox,
            stammdaten,
            out: out.clone(),
            threads: None,
            limits: Limits::default(),
            run_date: today,
            contact: None,
            progress: None,
            force: true,
            received_by: None,
            buchhaltung: ledger.clone(),
        },
        out,
        threshold: beitraege::domain::Chf::new(args.schwelle),
        share: args.anteil,
        seed,
        ledger,
        person,
        at,
        date: today,
    };
    if new_seed {
        println!("Neuer Seed: {seed} (mit «--seed {seed}» wird dieselbe Stichprobe erneut gezogen).");
    }
    let r = draw(&opts).with_context(|| format!("Die Stichprobe {y} konnte nicht gezogen werden"))?;
    println!("Stichprobe {y} (Seed {}): {} Gemeinden ausgewählt.", r.draw.seed, r.selected.len());
    for s in &r.selected {
        println!("  {} {}: {}", s.candidate.bfs, s.candidate.name, s.reason_text(&r.draw));
    }
    if r.recorded {
        println!("In der Buchhaltung festgehalten.");
    } else {
        println!(
            "Hinweis: ohne Buchhaltung ist die Stichprobe nicht festgehalten (keine Kontoauszüge, keine Buchungen)."
        );
    }
    println!("Ausgaben in {}: {} Dateien.", r.out.display(), r.written.len());
    Ok(())
}
