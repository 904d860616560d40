//! `beitraege generieren` (hidden): writes a large synthetic inbox with matching master data,
//! for benchmarks and scale tests.

use crate::synth::{generate, SynthOptions};
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege generieren`.
#[derive(Debug, Clone, Args)]
pub struct GenerierenArgs {
    /// Anzahl Formulare.
    #[arg(long, default_value_t = 10_000)]
    pub formulare: usize,
    /// Zielordner (erhält `inbox/` und `Stammdaten.xlsx`).
    #[arg(long, default_value = "out/synth")]
    pub ziel: PathBuf,
    /// Vorlage: Ordner des Beispieljahres (Stammdaten und xls-Formulare).
    #[arg(long, default_value = "samples/2023")]
    pub vorlage: PathBuf,
    /// Beitragsjahr.
    #[arg(long = "jahr", alias = "year", default_value_t = 2023)]
    pub year: i32,
    /// Startwert des Zufallsgenerators.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn execute(args: GenerierenArgs) -> anyhow::Result<()> {
    let opts = SynthOptions { forms: args.formulare, year: args.year, template: args.vorlage, seed: args.seed };
    let s = generate(&args.ziel, &opts)?;
    println!(
        "{} Dateien für {} Gemeinden geschrieben: {} (Stammdaten: {})",
        s.files,
        s.municipalities,
        s.inbox.display(),
        s.stammdaten.display()
    );
    Ok(())
}
