//! The application's integration tests, one binary (each file below was a test binary of
//! its own; one binary links the crate once). Run one group with
//! `cargo test --test it <module>::` (e.g. `cargo test --test it ledger_integrity::`).

mod common;

mod annex_pdf;
mod architecture;
mod boundaries;
mod cli;
mod codes;
mod corpus;
mod documents;
mod einstellungen;
mod feedback;
mod formats;
mod formats_real;
mod formulare;
mod hostile;
mod integrity_fs;
mod integrity_values;
mod jahresinformation;
mod kennzahlen;
mod ledger_integrity;
mod mahnen;
mod master_data_text;
mod money_rules;
mod plausibility;
mod print;
mod stichprobe;
mod web;
mod web_browser;
mod xlsb;
mod zahlungslauf;
