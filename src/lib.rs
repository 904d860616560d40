//! `beitraege`: contributions of the Canton of Solothurn to its municipalities under the
//! integration model start.integration (Kreisschreiben KRS-GEF-2017/01).
//!
//! The pipeline reads as its stages, one module each, with data flowing one way:
//! [`scan`] the inbox → [`workbook`] read → [`extract`] recognise the form → [`validate`]
//! each file → [`resolve`] across files → [`compute`] → [`write`]. [`domain`] holds the shared types, [`catalogue`] every
//! finding text, [`stammdaten`] the master data. [`run`] ties the stages together and
//! The command line (`src/cli/`, clap and the progress bar) belongs to the binary alone:
//! the library knows nothing of it. The synthetic-inbox generator [`synth`] (benchmarks,
//! `examples/generieren.rs`) is compiled only with the feature `synth`.

pub mod adressen;
pub mod catalogue;
pub mod compute;
pub mod documents;
pub mod domain;
pub mod extract;
pub mod formulare;
pub mod fsio;
pub mod ledger;
pub mod resolve;
pub mod run;
pub mod scan;
pub mod stammdaten;
#[cfg(feature = "synth")]
pub mod synth;
pub mod validate;
pub mod values;
pub mod workbook;
pub mod write;
pub mod zahlungsdaten;
pub mod zahlungslauf;
