//! The command line: one file per subcommand, each handing a parsed options struct to the
//! library. Messages to AGS staff are German.

pub mod einstellungen;
pub mod fehler;
pub mod formulare;
pub mod jahresinformation;
pub mod kennzahlen;
pub mod konto;
pub mod mahnen;
pub mod pruefen;
pub mod run;
pub mod stichprobe;
#[cfg(feature = "web")]
pub mod web;
pub mod zahlung_erfassen;
pub mod zahlungslauf;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Beiträge start.integration: wertet die Formulare der Einwohnergemeinden aus und erstellt
/// den Anhang Nr. 1 (Kanton Solothurn, Amt für Gesellschaft und Soziales).
#[derive(Debug, Parser)]
#[command(
    name = "beitraege",
    version,
    override_usage = "beitraege [OPTIONEN] <BEFEHL>",
    long_about = None,
    help_template = HELP,
    next_help_heading = "Optionen",
    subcommand_help_heading = "Befehle",
    subcommand_value_name = "BEFEHL",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Hilfe anzeigen.
    #[arg(short = 'h', long = "hilfe", visible_alias = "help", global = true, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Version anzeigen.
    #[arg(short = 'V', long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
    /// Mehr Meldungen ausgeben (-v: Info, -vv: Debug).
    #[arg(short = 'v', long = "ausfuehrlich", alias = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// German help layout (clap's own headings are English).
const HELP: &str = "{about}\n\nAufruf: {usage}\n\n{all-args}";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Eingangsordner auswerten: Anhang Nr. 1, Befunde und Rückmeldungen schreiben.
    #[command(
        visible_alias = "auswerten",
        help_template = HELP,
        next_help_heading = "Optionen",
        override_usage = "beitraege run [OPTIONEN]"
    )]
    Run(run::EvaluationArgs),
    /// Vorausgefüllte Formulare (Reportingformulare und Selbstdeklaration) für alle Gemeinden erstellen.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege formulare [OPTIONEN]")]
    Formulare(formulare::FormulareArgs),
    /// Mahnungen für Formulare, die nach ihrer Frist fehlen (Briefe, E-Mail-Entwürfe, Korrespondenzjournal).
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege mahnen [OPTIONEN]")]
    Mahnen(mahnen::MahnenArgs),
    /// Jahresinformation an jede Gemeinde (Ziffer 4.5.3): Beiträge, Auszahlungen, Zurückbehaltenes, offene Rechnungen.
    #[command(
        help_template = HELP,
        next_help_heading = "Optionen",
        override_usage = "beitraege jahresinformation [OPTIONEN]"
    )]
    Jahresinformation(jahresinformation::JahresinformationArgs),
    /// Zahlungslauf per Stichtag: Entwurf, mit --buchen buchen, mit --storno stornieren.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege zahlungslauf [OPTIONEN]")]
    Zahlungslauf(zahlungslauf::ZahlungslaufArgs),
    /// Kontoauszug einer Gemeinde (oder aller Gemeinden) aus der Buchhaltung.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege konto [OPTIONEN]")]
    Konto(konto::KontoArgs),
    /// Zahlungseingang auf eine Rechnung (Rückforderung) erfassen.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege zahlung-erfassen [OPTIONEN]")]
    ZahlungErfassen(zahlung_erfassen::ZahlungErfassenArgs),
    /// Buchhaltung prüfen (für die Revision): Hash-Kette, Schlüssel, Ankerdatei und Journale; Exit-Status 1 bei jeder Abweichung.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege pruefen [OPTIONEN]")]
    Pruefen(pruefen::PruefenArgs),
    /// Stichprobe für die Aufsicht ziehen (Kreisschreiben 6) mit Belegen je Gemeinde; mit --ergebnis das Ergebnis einer Kontrolle erfassen.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege stichprobe [OPTIONEN]")]
    Stichprobe(stichprobe::StichprobeArgs),
    /// Kennzahlen je Jahr, Bezirk und Kanton über alle Jahresordner des Eingangs (Arbeitsmappe mit Diagrammen, CSV, JSON).
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege kennzahlen [OPTIONEN]")]
    Kennzahlen(kennzahlen::KennzahlenArgs),
    /// Die Arbeit im Browser: Übersicht, Eingang, Auswertung, Zahlungslauf, Konto (nur auf diesem Rechner).
    #[cfg(feature = "web")]
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege web [OPTIONEN]")]
    Web(web::WebArgs),
    /// Einstellungen (beitraege.toml) anzeigen; mit --neu eine Einstellungsdatei anlegen.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege einstellungen [OPTIONEN]")]
    Einstellungen(einstellungen::EinstellungenArgs),
}

/// Replaces the default panic message (with its stack trace) by one log line: a panic
/// inside a reader is caught and the file reported, and no run prints a stack trace.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let what = crate::workbook::panic_message(info.payload());
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!("interner Fehler: {what} ({at})");
    }));
}

/// Sets up logging on stderr (`BEITRAEGE_LOG` overrides the level).
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BEITRAEGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

/// Parses the command line; a wrong one is explained in German (exit status 2), help and
/// version are printed (exit status 0).
pub fn parse() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    match <Cli as Parser>::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprint!("{}", fehler::render(&e));
            Err(ExitCode::from(2))
        }
    }
}

/// An error with its causes, each said once: a cause whose text the message already holds
/// is not repeated.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        // The database engine's own text (English, sometimes SQL) is for the log only: the
        // ledger's message has said it in German.
        if let Some(db) = cause.downcast_ref::<rusqlite::Error>() {
            tracing::debug!("SQLite: {db}");
            continue;
        }
        let c = cause.to_string();
        if text.contains(c.as_str()) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&c);
    }
    text
}

/// Runs a parsed command line; returns the process exit code.
pub fn dispatch(cli: Cli) -> ExitCode {
    init_logging(cli.verbose);
    quiet_panics();
    let result = match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Formulare(args) => formulare::execute(args),
        Command::Mahnen(args) => mahnen::execute(args),
        Command::Jahresinformation(args) => jahresinformation::execute(args),
        Command::Zahlungslauf(args) => zahlungslauf::execute(args),
        Command::Konto(args) => konto::execute(args),
        Command::ZahlungErfassen(args) => zahlung_erfassen::execute(args),
        // Exit status 1 for a finding, 2 for a ledger that cannot be checked.
        Command::Pruefen(args) => return pruefen::execute(args),
        Command::Stichprobe(args) => stichprobe::execute(args),
        Command::Kennzahlen(args) => kennzahlen::execute(args),
        #[cfg(feature = "web")]
        Command::Web(args) => web::execute(args),
        Command::Einstellungen(args) => einstellungen::execute(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler: {}", error_text(&e));
            ExitCode::from(2)
        }
    }
}
