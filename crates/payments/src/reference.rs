//! The ISO 11649 creditor reference (RF) and how references, IBANs and amounts are printed.

use crate::iban::mod97;
use crate::Error as QrError;
use rust_decimal::Decimal;

/// The ISO 11649 creditor reference (`RF` + two check digits + at most 21 letters and
/// digits) for a body, e.g. an invoice number; characters other than letters and digits are
/// dropped.
pub fn rf_reference(body: &str) -> Result<String, QrError> {
    let body: String = body.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    if body.is_empty() || body.len() > 21 {
        return Err(QrError(format!("Referenz «{body}»: 1 bis 21 Buchstaben oder Ziffern")));
    }
    let rem = mod97(&format!("{body}RF00")).ok_or_else(|| QrError("Referenz".into()))?;
    Ok(format!("RF{:02}{body}", 98 - rem))
}

/// Whether a creditor reference is a valid ISO 11649 reference.
pub fn rf_valid(r: &str) -> bool {
    r.len() >= 5
        && r.len() <= 25
        && r.starts_with("RF")
        && r.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && r[2..4].chars().all(|c| c.is_ascii_digit())
        && mod97(&format!("{}{}", &r[4..], &r[..4])) == Some(1)
}

/// Groups of four for printing: `CH93 0076 2011 6238 5295 7`, `RF18 5390 0754 7034`.
pub fn grouped(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// The amount as the payment part prints it: `1 234.50` (space between thousands).
pub fn amount_text(a: Decimal) -> String {
    let s = format!("{:.2}", a.round_dp(2));
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    format!("{out}.{frac}")
}
