//! IBANs: the check of any country's IBAN (the `iban_validate` crate), the Swiss and
//! Liechtenstein IBAN a QR-bill needs, and the QR-IBAN.

use iban::IbanLike;

/// Letters count as 10 (A) to 35 (Z); the result mod 97 (ISO 7064, as in IBAN and RF).
pub(crate) fn mod97(s: &str) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    Some(rem)
}

/// An IBAN in electronic form (no spaces, upper case) if it is a valid Swiss or
/// Liechtenstein IBAN; else why not (German).
pub fn normalize_iban(raw: &str) -> Result<String, String> {
    let iban: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    if !(iban.starts_with("CH") || iban.starts_with("LI")) {
        return Err("nur Schweizer oder Liechtensteiner IBAN (CH…, LI…)".into());
    }
    if iban.len() != 21 || !iban.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("eine CH-IBAN hat 21 Stellen".into());
    }
    let rotated = format!("{}{}", &iban[4..], &iban[..4]);
    if mod97(&rotated) != Some(1) {
        return Err("Prüfziffer falsch".into());
    }
    Ok(iban)
}

/// Checks an IBAN (checksum and the country's structure); returns its electronic form.
pub fn check_iban(text: &str) -> Result<String, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    match compact.parse::<iban::Iban>() {
        Ok(i) => Ok(i.electronic_str().to_string()),
        Err(e) => Err(match e {
            iban::ParseIbanError::InvalidBaseIban { .. } => "keine gültige IBAN (Zeichen oder Länge)".to_string(),
            iban::ParseIbanError::InvalidBban(_) => "die Kontonummer passt nicht zum Land".to_string(),
            iban::ParseIbanError::UnknownCountry(_) => "unbekanntes Land".to_string(),
        }),
    }
}

/// Whether an IBAN (electronic form) is a QR-IBAN: its bank number (IID, characters 5–9)
/// lies in 30000–31999. A QR-IBAN takes only payments with a QR reference: neither a credit
/// transfer of the payment file nor a QR-bill with an RF reference can use it.
pub fn is_qr_iban(iban: &str) -> bool {
    iban.get(4..9).and_then(|s| s.parse::<u32>().ok()).is_some_and(|iid| (30000..=31999).contains(&iid))
}
