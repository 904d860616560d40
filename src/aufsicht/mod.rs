//! The canton's oversight (Kreisschreiben 6; issue 22): the spot-check sample
//! ([`stichprobe`]: who is checked, and the evidence for it) and the figures for the yearly
//! review of the flat rates and the credit ([`kennzahlen`], 4.3.3, 4.3.4, 5.3). It decides from a year's
//! evaluation ([`crate::evaluate`]) and the ledger what to select, and renders its own small
//! outputs through the commit module; it decides no amount and books nothing but the draw
//! and the check's outcome. The command line and the web front know nothing of it but
//! its options.

pub mod kennzahlen;
pub mod stichprobe;
