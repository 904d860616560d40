//! The command line: one file per subcommand, each handing a parsed options struct to the
//! library. Messages to AGS staff are German.

pub mod formulare;
pub mod generieren;
pub mod run;

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
    #[arg(short, long, global = true, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Version anzeigen.
    #[arg(short = 'V', long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
    /// Mehr Meldungen ausgeben (-v: Info, -vv: Debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// German help layout (clap's own headings are English).
const HELP: &str = "{about}\n\nAufruf: {usage}\n\n{all-args}";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Eingangsordner auswerten: Anhang Nr. 1, Befunde und Rückmeldungen schreiben.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege run [OPTIONEN]")]
    Run(run::RunArgs),
    /// Vorausgefüllte Formulare (Reportingformulare und Selbstdeklaration) für alle Gemeinden erstellen.
    #[command(help_template = HELP, next_help_heading = "Optionen", override_usage = "beitraege formulare [OPTIONEN]")]
    Formulare(formulare::FormulareArgs),
    /// Synthetischen Eingangsordner mit passenden Stammdaten erzeugen (für Benchmarks).
    #[command(hide = true)]
    Generieren(generieren::GenerierenArgs),
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

/// Runs a parsed command line; returns the process exit code.
pub fn dispatch(cli: Cli) -> ExitCode {
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Generieren(args) => generieren::execute(args),
        Command::Formulare(args) => formulare::execute(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler: {e:#}");
            ExitCode::from(2)
        }
    }
}
