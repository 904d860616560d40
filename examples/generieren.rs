//! Writes a large synthetic inbox with matching master data, for benchmarks and scale
//! tests (the generator of `benches/pipeline.rs`; not part of the shipped binary):
//!
//! `cargo run --release --features synth --example generieren -- --formulare 10000 --ziel out/synth`
//!
//! Options: `--formulare N` (10000), `--ziel DIR` (`out/synth`), `--vorlage DIR`
//! (`samples/2023`), `--jahr Y` (2023), `--seed N` (42).

use anyhow::{bail, Context, Result};
use beitraege::synth::{generate, SynthOptions};
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut opts = SynthOptions { forms: 10_000, year: 2023, template: PathBuf::from("samples/2023"), seed: 42 };
    let mut target = PathBuf::from("out/synth");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag}: Wert fehlt"))?;
        match flag.as_str() {
            "--formulare" => opts.forms = value.parse().context("--formulare: keine Zahl")?,
            "--ziel" => target = PathBuf::from(value),
            "--vorlage" => opts.template = PathBuf::from(value),
            "--jahr" => opts.year = value.parse().context("--jahr: keine Zahl")?,
            "--seed" => opts.seed = value.parse().context("--seed: keine Zahl")?,
            other => bail!("unbekannte Option {other}"),
        }
    }
    let s = generate(&target, &opts)?;
    println!(
        "{} Dateien für {} Gemeinden geschrieben: {} (Stammdaten: {})",
        s.files,
        s.municipalities,
        s.inbox.display(),
        s.stammdaten.display()
    );
    Ok(())
}
