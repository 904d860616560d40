//! The renderers of `beitraege`: the workbooks ([`write`]: the annex, the discrepancy
//! report, feedback, the manifest) and the documents ([`documents`]: letters, invoices with
//! their QR-bill, the annex PDF, e-mail drafts). They render what the core and the ledger
//! decided and decide nothing themselves; they know nothing of the commands, the command
//! line or the browser.

pub mod documents;
pub mod write;

// The crates below, under the module names the code uses.
use beitraege_core::{
    adressen, brieftext, catalogue, compute, domain, extract, fields, fsio, mahnung, payout, resolve, stammdaten,
    zahlungsdaten,
};
use sheets as workbook;
