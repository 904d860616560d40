//! The annex sheet `Buchhaltung` (`run --buchhaltung`): what the ledger has booked for the
//! year beside the annex's totals, and the open invoices. The ledger is read before the
//! annex is written ((`zahlungslauf::konto::annex_view` of the application)); this module only renders
//! the view it gets.

use super::columns::{Column, Kind, Named, Table, Val};
use super::style;
use super::table_sheet::{finish, table_rows, HEADER, TOTAL};
use super::EvaluationData;
use crate::domain::{fmt_date, Bfs, Chf, InvoiceState};
use chrono::NaiveDate;
use rust_xlsxwriter::{Worksheet, XlsxError};

/// One municipality's line in the annex's ledger sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnexLedgerRow {
    pub bfs: Bfs,
    pub name: String,
    /// The annex's total for the year.
    pub annex_total: Chf,
    /// Booked in the ledger for the year (contributions and clawbacks).
    pub booked: Chf,
}

/// A payout run or Storno of the ledger with who booked and who released it (four-eyes
/// rule).
#[derive(Debug, Clone, PartialEq)]
pub struct AnnexRunRow {
    pub stichtag: NaiveDate,
    pub art: String,
    pub booked_by: String,
    pub booked_at: String,
    pub released_by: String,
    pub released_at: String,
}

/// What `run --buchhaltung` adds to the annex.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnexView {
    pub year: i32,
    pub rows: Vec<AnnexLedgerRow>,
    pub invoices: Vec<InvoiceState>,
    pub last_run: Option<NaiveDate>,
    /// The payout runs and Stornos of the year and the next (those that pay the year).
    pub runs: Vec<AnnexRunRow>,
    /// The correspondence of the year (letters of the journal, invoices), by date.
    pub letters: Vec<super::korrespondenz::Entry>,
    /// The reminders of the year still open (their form still missing).
    pub open_reminders: Vec<crate::mahnung::Sent>,
}

/// The runs below the open invoices, in the same sheet columns.
const fn ledger_run_columns() -> [Column<AnnexRunRow>; 6] {
    [
        Column::new("Stichtag", 18.0, Kind::Date, |x| Val::Date(x.stichtag)),
        Column::new("Art", 26.0, Kind::Text, |x| Val::text(&x.art)),
        Column::new("Gebucht von", 18.0, Kind::Text, |x| Val::text(&x.booked_by)),
        Column::new("Gebucht am", 16.0, Kind::Text, |x| Val::text(&x.booked_at)),
        Column::new("Freigegeben von", 16.0, Kind::Text, |x| Val::text(&x.released_by)),
        Column::new("Freigegeben am", 14.0, Kind::Text, |x| Val::text(&x.released_at)),
    ]
}

const fn ledger_columns() -> [Column<AnnexLedgerRow>; 5] {
    [
        Column::new("BFS-Nr.", 18.0, Kind::Id, |x| Val::num(x.bfs)),
        Column::new("Gemeinde", 26.0, Kind::Text, |x| Val::text(&x.name)),
        Column::summed("Total gemäss Anhang", 18.0, Kind::Chf, |x| Val::Chf(x.annex_total)),
        Column::summed("Bisher gebucht", 16.0, Kind::Chf, |x| Val::Chf(x.booked)),
        Column::summed("Noch offen", 16.0, Kind::Chf, |x| Val::Calc {
            add: &["Total gemäss Anhang"],
            sub: &["Bisher gebucht"],
            result: x.annex_total.saturating_sub(x.booked),
        }),
    ]
}

/// The open invoices below the ledger rows, in the same sheet columns.
const fn ledger_invoice_columns<'a>() -> [Column<Named<'a, InvoiceState>>; 6] {
    [
        Column::new("Rechnungs-ID", 18.0, Kind::Text, |l| Val::text(&l.row.id)),
        Column::new("Zahlungsempfänger", 26.0, Kind::Text, |l| Val::Text(format!("{} {}", l.row.payee, l.name))),
        Column::new("Betrag", 18.0, Kind::Chf, |l| Val::Chf(l.row.amount)),
        Column::new("Eingegangen", 16.0, Kind::Chf, |l| Val::Chf(l.row.received)),
        Column::new("Offen", 16.0, Kind::Chf, |l| Val::Chf(l.row.open())),
        Column::new("Zahlbar bis", 14.0, Kind::Date, |l| Val::Date(l.row.due_on)),
    ]
}

/// The annex sheet `Buchhaltung` (`run --buchhaltung`): per municipality the annex total,
/// what the ledger has booked for the year, and what is still open; then open invoices.
pub fn sheet(ws: &mut Worksheet, d: &EvaluationData<'_>, view: &AnnexView) -> Result<(), XlsxError> {
    ws.set_name("Buchhaltung")?;
    ws.write_string_with_format(0, 0, format!("Bezahlt und offen, Beiträge {}", view.year), &style::title())?;
    let last = view.last_run.map(fmt_date).unwrap_or_else(|| "noch keiner".into());
    ws.write_string_with_format(
        1,
        0,
        format!("Gemäss Buchhaltung (letzter gebuchter Zahlungslauf: {last}). Gebucht: Beiträge und Rückforderungen des Jahres."),
        &style::subtitle(),
    )?;
    let columns = ledger_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &view.rows)?;
    table.total(ws, r, HEADER + 1, &view.rows, TOTAL)?;
    let mut r = r + 3;
    ws.write_string_with_format(r, 0, "Offene Rechnungen (Ziffer 4.7)", &style::bold())?;
    r += 1;
    let invoice_columns = ledger_invoice_columns();
    let invoices = Table::new(&invoice_columns);
    invoices.header(ws, r)?;
    r += 1;
    let open: Vec<Named<'_, InvoiceState>> = view
        .invoices
        .iter()
        .filter(|i| i.open() > Chf::ZERO)
        .map(|row| Named { row, name: d.name_of(Some(row.payee)) })
        .collect();
    if open.is_empty() {
        ws.write_string(r, 0, "Keine offenen Rechnungen.")?;
    }
    invoices.rows(ws, r, &open)?;
    // Who booked and who released each run (four-eyes rule).
    let mut r = r + open.len().max(1) as u32 + 2;
    ws.write_string_with_format(r, 0, "Zahlungsläufe: gebucht und freigegeben (Vier-Augen-Prinzip)", &style::bold())?;
    r += 1;
    let run_columns = ledger_run_columns();
    let runs = Table::new(&run_columns);
    runs.header(ws, r)?;
    r += 1;
    if view.runs.is_empty() {
        ws.write_string(r, 0, "Keine Zahlungsläufe.")?;
    }
    runs.rows(ws, r, &view.runs)?;
    // The invoices span the sheet's columns.
    finish(ws, &invoices, 0, d.run_date)
}
