//! `pain001_<JJJJ-MM-TT>.xml`: the payment file of a released run, ISO 20022
//! pain.001.001.09 in the Swiss Payment Standards profile (`.ch.03`). One payment block
//! from the canton's account, one credit transfer per payee with a payout, structured
//! creditor addresses, control sum = the run's total. Text is kept within the SPS
//! character set; identifiers within the SPS identifier set.

use crate::domain::{fmt_date, Bfs, Chf};
use crate::ledger::{Booking, RunRow};
use crate::stammdaten::Stammdaten;
use crate::write::OutFile;
use crate::zahlungsdaten::Address;
use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
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

/// The transfers of a booked run, from its bookings alone: per payee the payout after
/// offsetting its claims (the one rule of 4.7, [`crate::payout::settle`]), with the periods
/// paid in the purpose; payees with nothing to transfer are left out.
pub fn ledger_transfers(run: &RunRow, rows: &[Booking]) -> Result<Vec<Transfer>, String> {
    let per = super::konto::run_rows(std::slice::from_ref(run), rows, None)
        .map_err(|_| "Die Beträge übersteigen den Rechenbereich des Programms.".to_string())?;
    Ok(per
        .into_iter()
        .filter(|p| p.transfer > Chf::ZERO)
        .map(|p| {
            let mut periods: Vec<crate::payout::Periode> = rows
                .iter()
                .filter(|b| b.payee == p.payee && b.betrag > Chf::ZERO && b.art != crate::payout::Art::Rechnung)
                .map(|b| b.periode)
                .collect();
            periods.sort();
            periods.dedup();
            let offset = if p.offset > Chf::ZERO { format!(", verrechnet CHF {:.2}", p.offset) } else { String::new() };
            Transfer {
                payee: p.payee,
                amount: p.transfer,
                purpose: format!(
                    "Beitraege start.integration {}, Zahlungslauf {}{offset}",
                    periods.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
                    fmt_date(run.stichtag)
                ),
            }
        })
        .collect())
}

/// The identifiers of a run's payment file, derived from the run's id (which includes its
/// Stichtag and its run number) and the payee, never from the clock: the same run gives the
/// same ids every time, a run booked again after a Storno gets new ones (a bank's duplicate
/// check does not reject it).
pub fn msg_id(run: &RunRow) -> String {
    let h = crate::fsio::hex(&Sha256::digest(format!("msgid/v1|{}", run.run_id)));
    sps_id(&format!("BTRG-{}-{}", run.stichtag.format("%Y%m%d"), &h[..16]))
}

/// The end-to-end id of the transfer to `payee` in the run.
pub fn end_to_end_id(run: &RunRow, payee: Bfs) -> String {
    let h = crate::fsio::hex(&Sha256::digest(format!("e2e/v1|{}|{payee}", run.run_id)));
    sps_id(&format!("BTRG-{}-{payee}", &h[..16]))
}

/// The payment file of a released run, from the ledger alone: the run's bookings, the IBAN
/// recorded with each payment (the master data's account where none was recorded), the
/// creditors' names and addresses and the canton's account from the master data. `created`
/// is the release's moment (`CreDtTm`); nothing else depends on the clock. Or says (German)
/// why none can be made.
pub fn from_ledger(
    run: &RunRow,
    rows: &[Booking],
    master: &Stammdaten,
    execution_date: NaiveDate,
    created: NaiveDateTime,
) -> Result<Option<OutFile>, String> {
    let z = &master.zahlung;
    let txs = ledger_transfers(run, rows)?;
    if txs.is_empty() {
        return Ok(None);
    }
    let Some(canton) = &z.canton else {
        return Err("Das Konto des Kantons fehlt in den Stammdaten (Blatt «Kantonskonto»).".into());
    };
    let missing: Vec<String> =
        txs.iter().filter(|t| !z.accounts.contains_key(&t.payee)).map(|t| t.payee.to_string()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "Für {} Zahlungsempfänger fehlt die Zahlungsverbindung (Blatt «Zahlungsverbindungen»): BFS-Nr. {}.",
            missing.len(),
            missing.join(", ")
        ));
    }
    let total: Chf = crate::payout::checked_sum(txs.iter().map(|t| t.amount))
        .map_err(|_| "Das Total der Zahlungen übersteigt den Rechenbereich des Programms.".to_string())?;
    let mut credits = Vec::new();
    for t in txs {
        let Some(acc) = z.accounts.get(&t.payee) else { continue };
        // The IBAN recorded with the run's payments to the payee (what was booked and
        // shown in the run's workbook), else the master data's.
        let recorded = rows.iter().filter(|b| b.payee == t.payee && b.betrag > Chf::ZERO).find_map(|b| b.iban.clone());
        credits.push(Credit {
            e2e: end_to_end_id(run, t.payee),
            iban: recorded.unwrap_or_else(|| acc.iban.clone()),
            holder: &acc.holder,
            address: &acc.address,
            transfer: t,
        });
    }
    let file = PainFile {
        rel: pain_file_name(run),
        msg_id: msg_id(run),
        created: created.format("%Y-%m-%dT%H:%M:%S").to_string(),
        execution_date,
        total,
    };
    build(&file, canton, &credits).map(Some).map_err(|e| format!("Die Zahlungsdatei kann nicht erstellt werden: {e}"))
}

/// The payment file's name: `pain001_<JJJJ-MM-TT>.xml`, with `_<n>` for the n-th run of a
/// Stichtag (after a Storno).
pub fn pain_file_name(run: &RunRow) -> String {
    let lauf = if run.lauf > 1 { format!("_{}", run.lauf) } else { String::new() };
    format!("pain001_{}{lauf}.xml", run.stichtag.format("%Y-%m-%d"))
}

/// One credit transfer with its creditor.
struct Credit<'a> {
    transfer: Transfer,
    holder: &'a str,
    address: &'a Address,
    iban: String,
    e2e: String,
}

/// The group header's and payment block's values.
struct PainFile {
    rel: String,
    msg_id: String,
    created: String,
    execution_date: NaiveDate,
    total: Chf,
}

fn build(
    file: &PainFile,
    canton: &crate::zahlungsdaten::CantonAccount,
    credits: &[Credit<'_>],
) -> std::io::Result<OutFile> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("Document");
    root.push_attribute(("xmlns", NAMESPACE));
    w.write_event(Event::Start(root))?;
    start(&mut w, "CstmrCdtTrfInitn")?;
    start(&mut w, "GrpHdr")?;
    leaf(&mut w, "MsgId", &file.msg_id)?;
    leaf(&mut w, "CreDtTm", &file.created)?;
    leaf(&mut w, "NbOfTxs", &credits.len().to_string())?;
    leaf(&mut w, "CtrlSum", &format!("{:.2}", file.total))?;
    start(&mut w, "InitgPty")?;
    leaf(&mut w, "Nm", &sps_text(&canton.holder, 140))?;
    end(&mut w, "InitgPty")?;
    end(&mut w, "GrpHdr")?;

    start(&mut w, "PmtInf")?;
    leaf(&mut w, "PmtInfId", &sps_id(&format!("{}-1", file.msg_id)))?;
    leaf(&mut w, "PmtMtd", "TRF")?;
    leaf(&mut w, "BtchBookg", "false")?;
    leaf(&mut w, "NbOfTxs", &credits.len().to_string())?;
    leaf(&mut w, "CtrlSum", &format!("{:.2}", file.total))?;
    start(&mut w, "ReqdExctnDt")?;
    leaf(&mut w, "Dt", &file.execution_date.format("%Y-%m-%d").to_string())?;
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
    for c in credits {
        let t = &c.transfer;
        start(&mut w, "CdtTrfTxInf")?;
        start(&mut w, "PmtId")?;
        leaf(&mut w, "InstrId", &c.e2e)?;
        leaf(&mut w, "EndToEndId", &c.e2e)?;
        end(&mut w, "PmtId")?;
        start(&mut w, "Amt")?;
        let mut amt = BytesStart::new("InstdAmt");
        amt.push_attribute(("Ccy", "CHF"));
        w.write_event(Event::Start(amt))?;
        w.write_event(Event::Text(BytesText::new(&format!("{:.2}", t.amount))))?;
        end(&mut w, "InstdAmt")?;
        end(&mut w, "Amt")?;
        start(&mut w, "Cdtr")?;
        leaf(&mut w, "Nm", &sps_text(c.holder, 70))?;
        address(&mut w, c.address)?;
        end(&mut w, "Cdtr")?;
        start(&mut w, "CdtrAcct")?;
        start(&mut w, "Id")?;
        leaf(&mut w, "IBAN", &c.iban)?;
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
    Ok(OutFile { rel: file.rel.clone(), bytes })
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
