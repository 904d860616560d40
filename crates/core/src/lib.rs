//! The core of `beitraege`: what the Kreisschreiben decides, from the inbox to the money.
//!
//! Stages, data flowing one way: [`scan`] the inbox → (read: the `sheets` crate) →
//! [`extract`] recognise the form → [`validate`] each file → [`resolve`] across files →
//! [`compute`] the money → [`payout`] the payout calendar, offsets and invoices (4.5.2, 4.7).
//! [`domain`] holds the shared types, [`fields`] the forms' fields, [`catalogue`] every finding text, [`stammdaten`] (with
//! [`adressen`] and [`zahlungsdaten`]) the master data, [`fsio`] bounded file reads and
//! [`commit`] the atomic output folder. It knows nothing of the ledger, the renderers, the
//! command line or the browser (the crates above it); `tests/it/architecture.rs` checks the
//! order of its modules.

pub mod brieftext;
pub mod catalogue;
pub mod commit;
pub mod compute;
pub mod domain;
pub mod extract;
pub mod fields;
pub mod fsio;
pub mod jahresinfo;
pub mod mahnung;
pub mod money;
pub mod payout;
pub mod resolve;
pub mod scan;
pub mod stammdaten;
pub mod validate;

/// The master data's sheet modules, under the names the code uses.
pub use stammdaten::{adressen, zahlungsdaten};

// The crates below the core, under the module names the code uses.
pub use sheets as workbook;
pub use sheets::values;
