//! The `beitraege` binary: parses the command line and hands it to the library.

fn main() -> std::process::ExitCode {
    match beitraege::cli::parse() {
        Ok(cli) => beitraege::cli::dispatch(cli),
        Err(code) => code,
    }
}
