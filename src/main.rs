//! The `beitraege` binary: the command line (one file per subcommand in `cli/`), handing
//! parsed options to the library.

mod cli;

// The library's modules, as the command line's files name them (`crate::run`, …).
use beitraege::{
    aufsicht, domain, einstellungen, evaluate, formulare, jahresinformation, ledger, mahnen, mahnung, run, stammdaten,
    values, workbook, zahlungslauf,
};

fn main() -> std::process::ExitCode {
    match cli::parse() {
        Ok(cli) => cli::dispatch(cli),
        Err(code) => code,
    }
}
