//! `beitraege zahlung-erfassen`: record money received on an invoice (4.7), or reverse a
//! receipt recorded by mistake (`--storno`).

use crate::ledger::Ledger;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `beitraege zahlung-erfassen`.
#[derive(Debug, Clone, Args)]
pub struct ZahlungErfassenArgs {
    /// Rechnungsnummer (z. B. 2023-0007) oder die QR-Referenz der Rechnung (RF…), mit oder ohne Leerzeichen.
    #[arg(long, value_name = "NUMMER", required_unless_present = "storno")]
    pub rechnung: Option<String>,
    /// Eingegangener Betrag in CHF, z. B. 1250.00 (höchstens der offene Betrag).
    #[arg(long, value_name = "CHF", value_parser = crate::zahlungslauf::parse_amount, required_unless_present = "storno")]
    pub betrag: Option<crate::domain::Chf>,
    /// Valutadatum des Zahlungseingangs, TT.MM.JJJJ (nicht vor dem Rechnungsdatum, nicht nach heute).
    #[arg(long, value_name = "TT.MM.JJJJ", value_parser = super::zahlungslauf::parse_date, required_unless_present = "storno")]
    pub datum: Option<chrono::NaiveDate>,
    /// Einen falsch erfassten Zahlungseingang stornieren: seine Buchungs-ID (mindestens 8 Zeichen; verlangt --grund).
    #[arg(long, value_name = "BUCHUNGS-ID", requires = "grund", conflicts_with_all = ["rechnung", "betrag", "datum"])]
    pub storno: Option<String>,
    /// Grund der Stornierung.
    #[arg(long, value_name = "TEXT", requires = "storno")]
    pub grund: Option<String>,
    /// Buchhaltung (Standard: «buchhaltung» der Einstellungen).
    #[arg(long, value_name = "DATEI")]
    pub buchhaltung: Option<PathBuf>,
}

/// The first 16 characters of a booking id (as the statement shows ids).
fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

pub fn execute(args: ZahlungErfassenArgs) -> anyhow::Result<()> {
    let settings = crate::einstellungen::load()?;
    let path = super::zahlungslauf::ledger_path(args.buchhaltung.as_deref(), &settings)?;
    let now = chrono::Local::now();
    let booked_at = now.format("%d.%m.%Y %H:%M:%S").to_string();
    let version = env!("CARGO_PKG_VERSION");
    if let Some(receipt) = args.storno {
        let mut ledger = Ledger::open_existing(&path).context("Der Zahlungseingang konnte nicht storniert werden")?;
        ledger.set_person(&super::zahlungslauf::person()?);
        let reason = args.grund.unwrap_or_default();
        let b = ledger
            .reverse_receipt(&receipt, &reason, &booked_at, version)
            .context("Der Zahlungseingang konnte nicht storniert werden")?;
        use crate::zahlungslauf::plan::Bezug;
        let reversed = Bezug::storniert(b.bezug.as_ref()).unwrap_or_default();
        let invoice = ledger.receipt(reversed).ok().and_then(|r| r.bezug).map(|i| i.as_str().to_string());
        println!(
            "Zahlungseingang {} storniert: CHF {} wieder offen{}.",
            short(reversed),
            crate::domain::chf_text(-b.betrag),
            invoice.as_deref().map(|i| format!(" auf Rechnung {i}")).unwrap_or_default()
        );
        if let Some(i) = invoice.and_then(|i| ledger.invoices().ok()?.into_iter().find(|x| x.id == i)) {
            println!("Noch offen: CHF {}", crate::domain::chf_text(i.open()));
        }
        return Ok(());
    }
    // clap has made sure the three are there without --storno.
    let (Some(rechnung), Some(betrag), Some(datum)) = (args.rechnung, args.betrag, args.datum) else {
        anyhow::bail!("Es fehlen Angaben: --rechnung, --betrag und --datum (oder --storno mit --grund).");
    };
    let mut ledger = Ledger::open_existing(&path).context("Der Zahlungseingang konnte nicht erfasst werden")?;
    ledger.set_person(&super::zahlungslauf::person()?);
    let b = ledger
        .record_receipt(&rechnung, datum, betrag, now.date_naive(), &booked_at, version)
        .context("Der Zahlungseingang konnte nicht erfasst werden")?;
    let inv = ledger.find_invoice(&rechnung)?;
    println!(
        "Zahlungseingang erfasst: CHF {} auf Rechnung {} (Buchungs-ID {}).",
        crate::domain::chf_text(betrag),
        inv.id,
        short(&b.id)
    );
    println!("Noch offen: CHF {}", crate::domain::chf_text(inv.open()));
    Ok(())
}
