//! `beitraege pruefen`: verifies a ledger, its key, its anchors and journals for an auditor
//! (the library's [`crate::ledger::verify`]); exit status 0 when everything holds, 1 on any
//! finding, 2 when the ledger cannot be checked at all (or a wrong command line).

use crate::ledger::verify::{check, restore};
use crate::ledger::{LedgerError, LedgerFiles};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `beitraege pruefen`.
#[derive(Debug, Clone, Args)]
pub struct PruefenArgs {
    /// Buchhaltung (Standard: out/buchhaltung.sqlite).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
    /// Buchungsjournal(e) (Buchungsjournal.csv eines Zahlungslaufs, Stornos oder Kontoauszugs), mit der Buchhaltung zu vergleichen.
    #[arg(long = "journal", value_name = "CSV", num_args = 1..)]
    pub journal: Vec<PathBuf>,
    /// Schlüsseldatei (Standard: neben der Buchhaltung, <DATEI>.schluessel).
    #[arg(long, value_name = "DATEI")]
    pub schluessel: Option<PathBuf>,
    /// Ankerdatei (Standard: neben der Buchhaltung, <DATEI>.anker).
    #[arg(long, value_name = "DATEI")]
    pub anker: Option<PathBuf>,
    /// Eine bewusst eingespielte Sicherung der Buchhaltung festhalten (verlangt --grund); nur wenn ihre Hash-Kette intakt ist.
    #[arg(long, requires = "grund", conflicts_with = "journal")]
    pub backup_wiederhergestellt: bool,
    /// Grund der Wiederherstellung (wird in der Ankerdatei festgehalten).
    #[arg(long, value_name = "TEXT", requires = "backup_wiederhergestellt")]
    pub grund: Option<String>,
}

pub fn execute(args: PruefenArgs) -> ExitCode {
    let ledger = args.buchhaltung.unwrap_or_else(|| PathBuf::from(super::zahlungslauf::DEFAULT_LEDGER));
    let mut files = LedgerFiles::beside(&ledger);
    if let Some(k) = args.schluessel {
        files.key = k;
    }
    if let Some(a) = args.anker {
        files.anchors = a;
    }
    let result = if args.backup_wiederhergestellt {
        restore(&files, args.grund.as_deref().unwrap_or_default()).inspect(|_| {
            println!("Die wiederhergestellte Sicherung ist mit ihrem Grund in der Ankerdatei festgehalten.\n");
        })
    } else {
        check(&files, &args.journal)
    };
    match result {
        Ok(report) => {
            print!("{}", report.text());
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("Fehler: {e}");
            match e {
                // The ledger was checked and something does not hold.
                LedgerError::Tampered { .. } | LedgerError::ChainBroken { .. } | LedgerError::BadRow { .. } => {
                    ExitCode::from(1)
                }
                _ => ExitCode::from(2),
            }
        }
    }
}
