//! `beitraege zahlung-erfassen`: record money received on an invoice (4.7).

use crate::ledger::Ledger;
use anyhow::Context;
use clap::Args;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

/// Options of `beitraege zahlung-erfassen`.
#[derive(Debug, Clone, Args)]
pub struct ZahlungErfassenArgs {
    /// Rechnungsnummer (z. B. 2023-0007) oder die QR-Referenz der Rechnung (RF…), mit oder ohne Leerzeichen.
    #[arg(long, value_name = "NUMMER")]
    pub rechnung: String,
    /// Eingegangener Betrag in CHF, z. B. 1250.00.
    #[arg(long, value_name = "CHF", value_parser = parse_amount)]
    pub betrag: Decimal,
    /// Valutadatum des Zahlungseingangs, TT.MM.JJJJ.
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = super::zahlungslauf::parse_date)]
    pub datum: chrono::NaiveDate,
    /// Buchhaltung (Standard: out/buchhaltung.sqlite).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
}

fn parse_amount(s: &str) -> Result<Decimal, String> {
    let t = s.trim().replace('\'', "");
    Decimal::from_str(&t)
        .ok()
        .filter(|d| d.scale() <= 2)
        .ok_or_else(|| format!("«{s}» ist kein Betrag in CHF (höchstens 2 Nachkommastellen)"))
}

pub fn execute(args: ZahlungErfassenArgs) -> anyhow::Result<()> {
    let path = args.buchhaltung.unwrap_or_else(|| PathBuf::from(super::zahlungslauf::DEFAULT_LEDGER));
    let mut ledger = Ledger::open_existing(&path).context("Der Zahlungseingang konnte nicht erfasst werden")?;
    let now = chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string();
    ledger
        .record_receipt(&args.rechnung, args.datum, args.betrag, &now, env!("CARGO_PKG_VERSION"))
        .context("Der Zahlungseingang konnte nicht erfasst werden")?;
    let inv = ledger.find_invoice(&args.rechnung)?;
    println!("Zahlungseingang erfasst: CHF {} auf Rechnung {}.", crate::domain::chf_text(args.betrag), inv.id);
    println!("Noch offen: CHF {}", crate::domain::chf_text(inv.open()));
    Ok(())
}
