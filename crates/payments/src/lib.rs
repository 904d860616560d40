//! Swiss payments: the bank business days a payment is executed on, IBAN checks, the RF
//! creditor reference and the character set of QR-bills. Knows nothing of start.integration,
//! forms or the ledger; the QR-bill payload and the pain.001 file are written by the
//! application from these pieces (they take the master data's addresses).

pub mod bankdays;
pub mod charset;
pub mod iban;
pub mod reference;

/// Why a reference or a QR-bill cannot be built (a German message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
