//! `beitraege einstellungen`: which settings file is used and what it says; `--neu` creates
//! one. The lookup and the defaults live in the library (`crate::einstellungen`).

use crate::einstellungen::{self as e, Werte};
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege einstellungen`.
#[derive(Debug, Clone, Args)]
pub struct EinstellungenArgs {
    /// Eine neue Einstellungsdatei anlegen (eine bestehende wird nie überschrieben).
    #[arg(long)]
    pub neu: bool,
    /// Wo die neue Datei angelegt wird (Standard: im Benutzerprofil; «--datei beim-programm»: neben dem Programm).
    #[arg(long, value_name = "DATEI", requires = "neu")]
    pub datei: Option<PathBuf>,
    /// Eingangsordner (darin ein Ordner je Jahr) für die neue Datei.
    #[arg(long = "eingang", value_name = "ORDNER", requires = "neu")]
    pub eingang: Option<PathBuf>,
    /// Stammdaten-Arbeitsmappe für die neue Datei.
    #[arg(long, value_name = "DATEI", requires = "neu")]
    pub stammdaten: Option<PathBuf>,
    /// Ausgabeordner für die neue Datei.
    #[arg(long = "ausgabe", value_name = "ORDNER", requires = "neu")]
    pub ausgabe: Option<PathBuf>,
    /// Buchhaltung (SQLite-Datei auf einer lokalen Festplatte) für die neue Datei.
    #[arg(long, value_name = "DATEI", requires = "neu")]
    pub buchhaltung: Option<PathBuf>,
    /// Beitragsjahr für die neue Datei.
    #[arg(long = "jahr", value_name = "JAHR", requires = "neu", value_parser = crate::cli::fehler::whole::<i32>)]
    pub jahr: Option<i32>,
}

/// A path given for the new file, made absolute (the file may be read from anywhere).
fn absolute(p: Option<PathBuf>) -> Option<PathBuf> {
    p.map(|p| std::path::absolute(&p).unwrap_or(p))
}

pub fn execute(args: EinstellungenArgs) -> anyhow::Result<()> {
    if !args.neu {
        let s = e::load()?;
        print!("{}", s.describe());
        return Ok(());
    }
    let target = match args.datei {
        Some(p) if p.as_os_str() == "beim-programm" => {
            std::env::current_exe().ok().and_then(|x| x.parent().map(|d| d.join(e::FILE_NAME))).ok_or_else(|| {
                anyhow::anyhow!("Der Ordner des Programms ist nicht bestimmbar; bitte --datei mit einem Pfad angeben.")
            })?
        }
        Some(p) => p,
        None => e::profile_dir(&|k| std::env::var_os(k)).map(|d| d.join(e::FILE_NAME)).ok_or_else(|| {
            anyhow::anyhow!("Das Benutzerprofil ist nicht bestimmbar; bitte --datei mit einem Pfad angeben.")
        })?,
    };
    // An existing settings file that would be found first is named, not shadowed silently.
    let found = e::default_candidates().into_iter().find(|p| p.is_file());
    let w = Werte {
        eingang: absolute(args.eingang),
        stammdaten: absolute(args.stammdaten),
        ausgabe: absolute(args.ausgabe),
        buchhaltung: absolute(args.buchhaltung),
        jahr: args.jahr,
    };
    e::create(&target, &w)?;
    println!("Einstellungsdatei angelegt: {}", target.display());
    if let Some(f) = found.filter(|f| *f != target) {
        println!("Achtung: Verwendet wird weiterhin «{}», weil sie zuerst gefunden wird.", f.display());
    }
    println!("Die Datei mit einem Texteditor öffnen und die fehlenden Einstellungen ergänzen; «beitraege einstellungen» zeigt sie.");
    Ok(())
}
