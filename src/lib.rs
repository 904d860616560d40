//! `beitraege`: contributions of the Canton of Solothurn to its municipalities under the
//! integration model start.integration (Kreisschreiben KRS-GEF-2017/01).
//!
//! The pipeline reads as its stages, one module each, with data flowing one way:
//! [`scan`] the inbox → [`workbook`] read → [`extract`] recognise the form → [`validate`]
//! each file → [`resolve`] across files → [`compute`] the money → [`write`] the outputs →
//! book the payout runs ([`zahlungslauf`] into the [`ledger`]) → [`documents`] (letters,
//! invoices, e-mail drafts, the annex PDF). [`evaluate`] runs scan to compute for a year
//! behind one call; [`run`], [`formulare`], [`mahnen`] (reminders, decided by [`mahnung`]) and [`jahresinformation`] (the yearly information, stated by [`jahresinfo`]) are the commands that drive the stages.
//! [`domain`] holds the shared types, [`catalogue`] every finding text, [`values`] the cell
//! values and their conventions, [`stammdaten`] (with [`adressen`] and [`zahlungsdaten`]) the
//! master data, [`bankdays`] the Swiss bank business days (pure, for the payment file). No module uses a later one (`tests/it/architecture.rs` checks it).
//!
//! The command line (`src/cli/`, clap and the progress bar) belongs to the binary alone:
//! the library knows nothing of it. The synthetic-inbox generator [`synth`] (benchmarks,
//! `examples/generieren.rs`) is compiled only with the feature `synth`. The web front
//! [`web`] (`beitraege web`, feature `web`) uses the library like the command line does; no
//! other module uses it.

pub mod aufsicht;
pub mod einstellungen;
pub mod evaluate;
pub mod formulare;
pub mod jahresinformation;
pub mod mahnen;
pub mod run;
#[cfg(feature = "synth")]
pub mod synth;
#[cfg(feature = "web")]
pub mod web;
pub mod zahlungslauf;

// The crates below the application, under the module names the code has always used.
pub use beitraege_core::{
    adressen, brieftext, catalogue, compute, domain, extract, fields, fsio, jahresinfo, mahnung, payout, resolve, scan,
    stammdaten, validate, zahlungsdaten,
};
pub use beitraege_ledger as ledger;
pub use beitraege_render::{documents, write};
pub use payments::bankdays;
pub use sheets as workbook;
pub use sheets::values;
