//! The `beitraege` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    beitraege::cli::dispatch(beitraege::cli::Cli::parse())
}
