//! The Swiss QR-bill payload (SIX, Swiss Implementation Guidelines for the QR-bill, version
//! 2.3) and its QR code.
//!
//! Written here rather than taken from the `qrbill` crate: that crate predates version 2.3
//! (it still writes combined addresses, type `K`) and holds amounts as `f64`. The payload is
//! 31 lines; what the guidelines require is checked before a payload is returned, so no
//! invoice leaves with a code a bank would reject.

use crate::adressen::Address;
use crate::zahlungsdaten::allowed_char;
pub use payments::iban::{is_qr_iban, normalize_iban};
pub use payments::reference::{amount_text, grouped, rf_reference, rf_valid};
/// Why a QR-bill cannot be built (a German message).
pub use payments::Error as QrError;
use rust_decimal::Decimal;

/// A QR-bill with an RF creditor reference (reference type `SCOR`).
#[derive(Debug, Clone, PartialEq)]
pub struct QrBill {
    pub iban: String,
    pub creditor: Address,
    /// `None`: the debtor fills in the amount.
    pub amount: Option<Decimal>,
    /// `None`: the debtor fills in name and address.
    pub debtor: Option<Address>,
    /// An ISO 11649 reference (`RF…`).
    pub reference: String,
    /// Unstructured message (at most 140 characters).
    pub message: String,
}

fn address_lines(a: Option<&Address>, what: &str) -> Result<[String; 7], QrError> {
    let Some(a) = a else { return Ok(Default::default()) };
    let fields = [
        ("Name", &a.name, 70),
        ("Strasse", &a.street, 70),
        ("Hausnummer", &a.number, 16),
        ("PLZ", &a.postcode, 16),
        ("Ort", &a.town, 35),
    ];
    for (label, v, max) in fields {
        if v.chars().count() > max {
            return Err(QrError(format!("{what}: «{label}» länger als {max} Zeichen")));
        }
    }
    if a.name.is_empty() || a.postcode.is_empty() || a.town.is_empty() {
        return Err(QrError(format!("{what}: Name, PLZ und Ort sind nötig")));
    }
    if a.country.len() != 2 || !a.country.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(QrError(format!("{what}: Land «{}» ist kein ISO-Code", a.country)));
    }
    Ok([
        "S".into(),
        a.name.clone(),
        a.street.clone(),
        a.number.clone(),
        a.postcode.clone(),
        a.town.clone(),
        a.country.clone(),
    ])
}

impl QrBill {
    /// The payload: 31 lines separated by LF, ending with the trailer `EPD`.
    pub fn payload(&self) -> Result<String, QrError> {
        let iban = normalize_iban(&self.iban).map_err(|e| QrError(format!("IBAN: {e}")))?;
        if is_qr_iban(&iban) {
            return Err(QrError("QR-IBAN verlangt eine QR-Referenz, keine RF-Referenz".into()));
        }
        if !rf_valid(&self.reference) {
            return Err(QrError(format!("Referenz «{}» ist keine gültige RF-Referenz", self.reference)));
        }
        let amount = match self.amount {
            Some(a) => {
                let a = a.round_dp(2);
                if a < Decimal::new(1, 2) || a > Decimal::new(99_999_999_999, 2) {
                    return Err(QrError(format!("Betrag {a} ausserhalb 0.01 bis 999999999.99")));
                }
                format!("{a:.2}")
            }
            None => String::new(),
        };
        if self.message.chars().count() > 140 {
            return Err(QrError("Mitteilung länger als 140 Zeichen".into()));
        }
        let mut lines: Vec<String> = vec!["SPC".into(), "0200".into(), "1".into(), iban];
        lines.extend(address_lines(Some(&self.creditor), "Zahlungsempfänger")?);
        lines.extend(std::iter::repeat_n(String::new(), 7));
        lines.push(amount);
        lines.push("CHF".into());
        lines.extend(address_lines(self.debtor.as_ref(), "Zahlungspflichtiger")?);
        lines.push("SCOR".into());
        lines.push(self.reference.clone());
        lines.push(self.message.clone());
        lines.push("EPD".into());
        let payload = lines.join("\n");
        if let Some(c) = payload.chars().find(|c| *c != '\n' && !allowed_char(*c)) {
            return Err(QrError(format!("Zeichen «{c}» ist in der QR-Rechnung nicht zulässig")));
        }
        if payload.chars().count() > 997 {
            return Err(QrError("Nutzdaten länger als 997 Zeichen".into()));
        }
        Ok(payload)
    }
}

/// The QR code's modules (row-major, `true` = dark) and its width in modules: error
/// correction level M, as the guidelines require.
pub fn matrix(payload: &str) -> Result<(Vec<bool>, usize), QrError> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| QrError(format!("QR-Code: {e}")))?;
    let w = code.width();
    let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    Ok((dark, w))
}

/// Checks a payload against the guidelines' rules independently of how it was built;
/// returns every rule broken. Used by the tests and before an invoice is written.
pub fn check_payload(p: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if p.contains('\r') && !p.contains("\r\n") {
        errs.push("Zeilentrenner: nur CR+LF oder LF".into());
    }
    let lines: Vec<&str> = p.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    if lines.len() != 31 {
        errs.push(format!("{} Zeilen statt 31", lines.len()));
        return errs;
    }
    if lines[..3] != ["SPC", "0200", "1"] {
        errs.push("Kopf SPC/0200/1".into());
    }
    if normalize_iban(lines[3]).as_deref() != Ok(lines[3]) {
        errs.push("IBAN".into());
    }
    let check_addr = |a: &[&str], who: &str, required: bool, errs: &mut Vec<String>| {
        if a.iter().all(|f| f.is_empty()) && !required {
            return;
        }
        if a[0] != "S" {
            errs.push(format!("{who}: Adresstyp S"));
        }
        for (i, max) in [(1usize, 70usize), (2, 70), (3, 16), (4, 16), (5, 35)] {
            if a[i].chars().count() > max {
                errs.push(format!("{who}: Feld {i} zu lang"));
            }
        }
        if a[1].is_empty() || a[4].is_empty() || a[5].is_empty() {
            errs.push(format!("{who}: Name, PLZ, Ort"));
        }
        if a[6].len() != 2 || !a[6].chars().all(|c| c.is_ascii_uppercase()) {
            errs.push(format!("{who}: Land"));
        }
    };
    check_addr(&lines[4..11], "Zahlungsempfänger", true, &mut errs);
    if lines[11..18].iter().any(|l| !l.is_empty()) {
        errs.push("Endgültiger Zahlungsempfänger muss leer sein".into());
    }
    let amt = lines[18];
    if !amt.is_empty() {
        let ok_format = amt.split_once('.').is_some_and(|(i, f)| {
            !i.is_empty()
                && i.len() <= 9
                && i.chars().all(|c| c.is_ascii_digit())
                && f.len() == 2
                && f.chars().all(|c| c.is_ascii_digit())
        });
        let ok_range = amt.parse::<Decimal>().is_ok_and(|a| a >= Decimal::new(1, 2));
        if !(ok_format && ok_range) {
            errs.push(format!("Betrag «{amt}»"));
        }
    }
    if lines[19] != "CHF" && lines[19] != "EUR" {
        errs.push("Währung".into());
    }
    check_addr(&lines[20..27], "Zahlungspflichtiger", false, &mut errs);
    match lines[27] {
        "SCOR" => {
            if !rf_valid(lines[28]) {
                errs.push("RF-Referenz".into());
            }
            if is_qr_iban(lines[3]) {
                errs.push("QR-IBAN mit SCOR".into());
            }
        }
        "NON" => {
            if !lines[28].is_empty() {
                errs.push("Referenz bei NON".into());
            }
        }
        "QRR" => {
            if !is_qr_iban(lines[3]) || lines[28].len() != 27 {
                errs.push("QR-Referenz".into());
            }
        }
        other => errs.push(format!("Referenztyp «{other}»")),
    }
    if lines[29].chars().count() > 140 {
        errs.push("Mitteilung zu lang".into());
    }
    if lines[30] != "EPD" {
        errs.push("Trailer EPD".into());
    }
    if p.chars().count() > 997 {
        errs.push("mehr als 997 Zeichen".into());
    }
    if p.chars().any(|c| c != '\n' && c != '\r' && !allowed_char(c)) {
        errs.push("Zeichensatz".into());
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(name: &str, town: &str) -> Address {
        Address {
            name: name.into(),
            street: "Ambassadorenhof".into(),
            number: "1".into(),
            postcode: "4509".into(),
            town: town.into(),
            country: "CH".into(),
        }
    }

    fn bill() -> QrBill {
        QrBill {
            iban: "CH93 0076 2011 6238 5295 7".into(),
            creditor: addr("Amt für Gesellschaft und Soziales", "Solothurn"),
            amount: Some(Decimal::new(123450, 2)),
            debtor: Some(addr("Einwohnergemeinde Gunzgen", "Gunzgen")),
            reference: rf_reference("2023-2403").unwrap(),
            message: "Rechnung 2023-2403".into(),
        }
    }

    #[test]
    fn published_examples_check() {
        // The IBAN and RF examples published with the standards.
        assert_eq!(normalize_iban("CH93 0076 2011 6238 5295 7").as_deref(), Ok("CH9300762011623852957"));
        assert!(normalize_iban("CH94 0076 2011 6238 5295 7").is_err());
        assert!(normalize_iban("DE89 3704 0044 0532 0130 00").is_err());
        assert!(rf_valid("RF18539007547034"));
        assert!(!rf_valid("RF19539007547034"));
        assert_eq!(rf_reference("539007547034").unwrap(), "RF18539007547034");
        assert!(is_qr_iban("CH4431999123000889012"));
        assert!(!is_qr_iban("CH9300762011623852957"));
    }

    #[test]
    fn the_reference_is_derived_deterministically() {
        let a = rf_reference("2023-2403").unwrap();
        assert_eq!(a, rf_reference("2023-2403").unwrap());
        assert!(rf_valid(&a));
        assert!(a.ends_with("20232403"));
        assert_ne!(a, rf_reference("2023-2404").unwrap());
        // 21 characters is the longest body.
        assert!(rf_reference(&"1".repeat(21)).is_ok());
        assert!(rf_reference(&"1".repeat(22)).is_err());
    }

    #[test]
    fn payload_follows_the_guidelines() {
        let p = bill().payload().unwrap();
        assert_eq!(check_payload(&p), Vec::<String>::new());
        let lines: Vec<&str> = p.split('\n').collect();
        assert_eq!(lines.len(), 31);
        assert_eq!(lines[3], "CH9300762011623852957");
        assert_eq!(lines[4], "S");
        assert_eq!(lines[18], "1234.50");
        assert_eq!(lines[19], "CHF");
        assert_eq!(lines[20], "S");
        assert_eq!(lines[27], "SCOR");
        assert_eq!(lines[30], "EPD");
        assert!(!p.ends_with('\n'));
    }

    #[test]
    fn amount_bounds() {
        let mut b = bill();
        b.amount = Some(Decimal::new(1, 2));
        assert!(b.payload().is_ok());
        b.amount = Some(Decimal::ZERO);
        assert!(b.payload().is_err());
        b.amount = Some(Decimal::new(99_999_999_999, 2));
        assert!(b.payload().is_ok());
        b.amount = Some(Decimal::new(100_000_000_000, 2));
        assert!(b.payload().is_err());
    }

    #[test]
    fn field_limits_and_character_set() {
        let mut b = bill();
        b.creditor.town = "X".repeat(35);
        assert!(b.payload().is_ok());
        b.creditor.town = "X".repeat(36);
        assert!(b.payload().is_err());
        let mut b = bill();
        b.message = "x".repeat(140);
        assert!(b.payload().is_ok());
        b.message = "x".repeat(141);
        assert!(b.payload().is_err());
        let mut b = bill();
        b.message = "Ș€ äöü".into();
        assert!(b.payload().is_ok());
        b.message = "Ω".into();
        assert!(b.payload().is_err());
        let mut b = bill();
        b.iban = "CH44 3199 9123 0008 8901 2".into();
        assert!(b.payload().is_err(), "a QR-IBAN takes no RF reference");
    }

    #[test]
    fn the_checker_catches_broken_payloads() {
        let p = bill().payload().unwrap();
        let broken = [
            p.replacen("SPC", "SPX", 1),
            p.replacen("1234.50", "1234.5", 1),
            p.replacen("1234.50", "1'234.50", 1),
            p.replacen("\nEPD", "\nEND", 1),
            p.replacen("CH9300762011623852957", "CH9400762011623852957", 1),
            p.replacen("SCOR", "QRR", 1),
            format!("{p}\nextra\nmore"),
        ];
        for b in &broken {
            assert!(!check_payload(b).is_empty(), "{b}");
        }
        let mut lines: Vec<&str> = p.split('\n').collect();
        lines[12] = "X";
        assert!(!check_payload(&lines.join("\n")).is_empty(), "ultimate creditor must be empty");
        assert!(check_payload(&p.replace('\n', "\r\n")).is_empty(), "CR+LF is allowed too");
    }

    #[test]
    fn printed_forms() {
        assert_eq!(grouped("CH9300762011623852957"), "CH93 0076 2011 6238 5295 7");
        assert_eq!(amount_text(Decimal::new(123450, 2)), "1 234.50");
        assert_eq!(amount_text(Decimal::new(5, 0)), "5.00");
        assert_eq!(amount_text(Decimal::new(100000000, 2)), "1 000 000.00");
    }
}

#[cfg(test)]
mod decode_tests {
    use super::*;

    /// Rasterises the matrix (`scale` pixels per module, 4 modules quiet zone) with the
    /// Swiss cross drawn over the middle as on paper (7 mm of 46 mm), and decodes it.
    pub fn decode(payload: &str, scale: usize) -> Vec<String> {
        let (dark, w) = matrix(payload).unwrap();
        let size = (w + 8) * scale;
        let px_per_mm = (w * scale) as f32 / 46.0;
        let centre = size as f32 / 2.0;
        let cross = |x: f32, y: f32| -> Option<bool> {
            let (dx, dy) = ((x - centre) / px_per_mm, (y - centre) / px_per_mm);
            if dx.abs() > 3.5 || dy.abs() > 3.5 {
                return None;
            }
            if dx.abs() > 3.0 || dy.abs() > 3.0 {
                return Some(false);
            }
            let arm = |a: f32, b: f32| a.abs() <= 1.17 / 2.0 && b.abs() <= 3.9 / 2.0;
            Some(!(arm(dx, dy) || arm(dy, dx)))
        };
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
            let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
            let is_dark = cross(cx, cy).unwrap_or_else(|| {
                let (mx, my) = (x / scale, y / scale);
                (4..w + 4).contains(&mx) && (4..w + 4).contains(&my) && dark[(my - 4) * w + (mx - 4)]
            });
            if is_dark {
                0
            } else {
                255
            }
        });
        img.detect_grids().iter().filter_map(|g| g.decode().ok().map(|(_, s)| s)).collect()
    }

    #[test]
    fn the_code_decodes_with_the_swiss_cross() {
        let b = QrBill {
            iban: "CH9300762011623852957".into(),
            creditor: Address {
                name: "Amt für Gesellschaft und Soziales".into(),
                street: "Riedholzplatz".into(),
                number: "3".into(),
                postcode: "4509".into(),
                town: "Solothurn".into(),
                country: "CH".into(),
            },
            amount: Some(Decimal::new(2372000, 2)),
            debtor: None,
            reference: rf_reference("2023-2578").unwrap(),
            message: "Rechnung 2023-2578, Rückforderung start.integration 2023".into(),
        };
        let p = b.payload().unwrap();
        assert_eq!(decode(&p, 6), vec![p]);
    }
}
