//! `pain001_<JJJJ-MM-TT>.xml`: the payment file of a booked run, ISO 20022
//! pain.001.001.09 in the Swiss Payment Standards profile (`.ch.03`). One payment block
//! from the canton's account, one credit transfer per payee with a payout, structured
//! creditor addresses, control sum = the run's total. Text is kept within the SPS
//! character set; identifiers within the SPS identifier set.

use super::workbook::RunDoc;
use crate::domain::{fmt_date, Bfs, Chf};
use crate::write::OutFile;
use crate::zahlungsdaten::Address;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// Whether a character is in the SPS text set (Basic Latin, Latin-1 Supplement, Latin
/// Extended-A, €, Ș ș Ț ț; no control characters).
pub fn sps_char(c: char) -> bool {
    let cp = c as u32;
    !c.is_control() && (cp <= 0x017F || matches!(c, '€' | 'Ș' | 'ș' | 'Ț' | 'ț'))
}

/// Whether a character may appear in an SPS identifier (`MsgId`, `PmtInfId`, `EndToEndId`).
pub fn sps_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " +?/-:().,'".contains(c)
}

/// Text mapped into the SPS set: letters outside it lose their accents (NFD without
/// combining marks), anything else becomes `.`; at most `max` characters, never empty.
pub fn sps_text(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.nfc() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if sps_char(c) {
            out.push(c);
        } else {
            let base: String = c.to_string().nfd().filter(|d| sps_char(*d) && !is_combining(*d)).collect();
            if base.is_empty() {
                out.push('.');
            } else {
                out.push_str(&base);
            }
        }
    }
    let t: String = out.trim().chars().take(max).collect();
    if t.trim().is_empty() {
        ".".to_string()
    } else {
        t.trim_end().to_string()
    }
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn sps_id(s: &str) -> String {
    s.chars().filter(|c| sps_id_char(*c)).take(35).collect()
}

type W = Writer<Vec<u8>>;

fn start(w: &mut W, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}
fn end(w: &mut W, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}
fn leaf(w: &mut W, name: &str, text: &str) -> std::io::Result<()> {
    start(w, name)?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    end(w, name)
}

fn address(w: &mut W, a: &Address) -> std::io::Result<()> {
    start(w, "PstlAdr")?;
    leaf(w, "StrtNm", &sps_text(&a.street, 70))?;
    if !a.number.trim().is_empty() {
        leaf(w, "BldgNb", &sps_text(&a.number, 16))?;
    }
    leaf(w, "PstCd", &sps_text(&a.postcode, 16))?;
    leaf(w, "TwnNm", &sps_text(&a.town, 35))?;
    leaf(w, "Ctry", "CH")?;
    end(w, "PstlAdr")
}

/// One credit transfer of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub payee: Bfs,
    pub amount: Chf,
    pub purpose: String,
}

/// The transfers of a run: payees with a payout, with the periods paid in the purpose.
pub fn transfers(doc: &RunDoc<'_>) -> Vec<Transfer> {
    doc.plan
        .payees
        .iter()
        .filter(|p| p.transfer > Decimal::ZERO)
        .map(|p| {
            let mut periods: Vec<String> = doc
                .plan
                .bookings
                .iter()
                .filter(|b| b.payee == p.payee && b.betrag > Decimal::ZERO)
                .map(|b| b.periode.clone())
                .collect();
            periods.sort();
            periods.dedup();
            let offset =
                if p.offset > Decimal::ZERO { format!(", verrechnet CHF {:.2}", p.offset) } else { String::new() };
            Transfer {
                payee: p.payee,
                amount: p.transfer,
                purpose: format!(
                    "Beitraege start.integration {}, Zahlungslauf {}{offset}",
                    periods.join(" "),
                    fmt_date(doc.stichtag)
                ),
            }
        })
        .collect()
}

/// Builds the file, or says (German) why none can be made.
pub fn write(doc: &RunDoc<'_>) -> Result<OutFile, String> {
    let z = &doc.master.zahlung;
    let Some(canton) = &z.canton else {
        return Err("Das Konto des Kantons fehlt in den Stammdaten (Blatt «Kantonskonto»).".into());
    };
    let txs = transfers(doc);
    if txs.is_empty() {
        return Err("In diesem Zahlungslauf wird nichts ausbezahlt.".into());
    }
    let missing: Vec<String> =
        txs.iter().filter(|t| !z.accounts.contains_key(&t.payee)).map(|t| t.payee.to_string()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "Für {} Zahlungsempfänger fehlt die Zahlungsverbindung (Blatt «Zahlungsverbindungen»): BFS-Nr. {}.",
            missing.len(),
            missing.join(", ")
        ));
    }
    let total: Chf = txs.iter().map(|t| t.amount).sum();
    let day = doc.stichtag.format("%Y%m%d").to_string();
    let mut h = Sha256::new();
    for t in &txs {
        h.update(format!("{}:{:.2};", t.payee, t.amount));
    }
    let digest = crate::fsio::hex(&h.finalize());
    let msg_id = sps_id(&format!("BTRG-{day}-{}", &digest[..16]));
    build(doc, canton, &txs, total, &msg_id).map_err(|e| format!("Die Zahlungsdatei kann nicht erstellt werden: {e}"))
}

fn build(
    doc: &RunDoc<'_>,
    canton: &crate::zahlungsdaten::CantonAccount,
    txs: &[Transfer],
    total: Chf,
    msg_id: &str,
) -> std::io::Result<OutFile> {
    let z = &doc.master.zahlung;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("Document");
    root.push_attribute(("xmlns", NAMESPACE));
    w.write_event(Event::Start(root))?;
    start(&mut w, "CstmrCdtTrfInitn")?;
    start(&mut w, "GrpHdr")?;
    leaf(&mut w, "MsgId", msg_id)?;
    leaf(&mut w, "CreDtTm", &chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string())?;
    leaf(&mut w, "NbOfTxs", &txs.len().to_string())?;
    leaf(&mut w, "CtrlSum", &format!("{total:.2}"))?;
    start(&mut w, "InitgPty")?;
    leaf(&mut w, "Nm", &sps_text(&canton.holder, 140))?;
    end(&mut w, "InitgPty")?;
    end(&mut w, "GrpHdr")?;

    start(&mut w, "PmtInf")?;
    leaf(&mut w, "PmtInfId", &sps_id(&format!("{msg_id}-1")))?;
    leaf(&mut w, "PmtMtd", "TRF")?;
    leaf(&mut w, "BtchBookg", "false")?;
    leaf(&mut w, "NbOfTxs", &txs.len().to_string())?;
    leaf(&mut w, "CtrlSum", &format!("{total:.2}"))?;
    start(&mut w, "ReqdExctnDt")?;
    leaf(&mut w, "Dt", &doc.execution_date.format("%Y-%m-%d").to_string())?;
    end(&mut w, "ReqdExctnDt")?;
    start(&mut w, "Dbtr")?;
    leaf(&mut w, "Nm", &sps_text(&canton.holder, 70))?;
    address(&mut w, &canton.address)?;
    end(&mut w, "Dbtr")?;
    start(&mut w, "DbtrAcct")?;
    start(&mut w, "Id")?;
    leaf(&mut w, "IBAN", &canton.iban)?;
    end(&mut w, "Id")?;
    end(&mut w, "DbtrAcct")?;
    start(&mut w, "DbtrAgt")?;
    start(&mut w, "FinInstnId")?;
    if let Some(bic) = &canton.bic {
        leaf(&mut w, "BICFI", bic)?;
    } else if let Some(c) = &canton.clearing {
        start(&mut w, "ClrSysMmbId")?;
        start(&mut w, "ClrSysId")?;
        leaf(&mut w, "Cd", "CHBCC")?;
        end(&mut w, "ClrSysId")?;
        leaf(&mut w, "MmbId", c)?;
        end(&mut w, "ClrSysMmbId")?;
    }
    end(&mut w, "FinInstnId")?;
    end(&mut w, "DbtrAgt")?;
    for t in txs {
        let Some(acc) = z.accounts.get(&t.payee) else { continue };
        start(&mut w, "CdtTrfTxInf")?;
        start(&mut w, "PmtId")?;
        let e2e = sps_id(&format!("BTRG-{}-{}", doc.stichtag.format("%Y%m%d"), t.payee));
        leaf(&mut w, "InstrId", &e2e)?;
        leaf(&mut w, "EndToEndId", &e2e)?;
        end(&mut w, "PmtId")?;
        start(&mut w, "Amt")?;
        let mut amt = BytesStart::new("InstdAmt");
        amt.push_attribute(("Ccy", "CHF"));
        w.write_event(Event::Start(amt))?;
        w.write_event(Event::Text(BytesText::new(&format!("{:.2}", t.amount))))?;
        end(&mut w, "InstdAmt")?;
        end(&mut w, "Amt")?;
        start(&mut w, "Cdtr")?;
        leaf(&mut w, "Nm", &sps_text(&acc.holder, 70))?;
        address(&mut w, &acc.address)?;
        end(&mut w, "Cdtr")?;
        start(&mut w, "CdtrAcct")?;
        start(&mut w, "Id")?;
        leaf(&mut w, "IBAN", &acc.iban)?;
        end(&mut w, "Id")?;
        end(&mut w, "CdtrAcct")?;
        start(&mut w, "RmtInf")?;
        leaf(&mut w, "Ustrd", &sps_text(&t.purpose, 140))?;
        end(&mut w, "RmtInf")?;
        end(&mut w, "CdtTrfTxInf")?;
    }
    end(&mut w, "PmtInf")?;
    end(&mut w, "CstmrCdtTrfInitn")?;
    end(&mut w, "Document")?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(OutFile { rel: crate::zahlungslauf::pain_name(doc.stichtag), bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_mapped_into_the_sps_set() {
        assert_eq!(sps_text("Büren (SO) – Gemeinde", 70), "Büren (SO) . Gemeinde");
        assert_eq!(sps_text("Ščedrin", 70), "Ščedrin");
        // Outside Latin Extended-A: the accent goes, the letter stays.
        assert_eq!(sps_text("Ǻ", 70), "A");
        assert_eq!(sps_text("a\u{7}b", 70), "a.b");
        assert_eq!(sps_text("", 70), ".");
        assert_eq!(sps_text(&"x".repeat(200), 140).chars().count(), 140);
        assert!(sps_text("日本", 70).chars().all(sps_char));
    }

    #[test]
    fn identifiers_keep_only_the_sps_identifier_set() {
        assert_eq!(sps_id("BTRG_2024-03-31#x"), "BTRG2024-03-31x");
        assert_eq!(sps_id(&"A".repeat(50)).len(), 35);
    }
}
