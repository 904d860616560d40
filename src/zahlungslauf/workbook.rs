//! The outputs of a payout run: `Zahlungslauf_<JJJJ-MM-TT>.xlsx` (payments by payee,
//! detail, offsets, invoices, open items; totals as formulas with stored results) and
//! `Zahlungslauf_<JJJJ-MM-TT>.json` (every booking with fixed keys), and the statement
//! workbook of `beitraege konto`. (The ledger sheet `run --buchhaltung` adds to the annex is
//! [`crate::write::annex_ledger`].)

use super::plan::{Art, Line, PayeeResult, Plan, PlannedBooking};
use super::statement::{PeriodRow, RunPayeeRow, Statement};
use crate::domain::{fmt_date, Bfs, Chf, InvoiceState};
use crate::ledger::Booking;
use crate::stammdaten::Stammdaten;
use crate::write::columns::widths;
use crate::write::columns::{Column, Kind, Named, Table, Val};
use crate::write::style::{self, TextCells};
use crate::write::table_sheet::{finish, subtitle, table_rows, HEADER, TOTAL};
use crate::write::{save, xl, OutFile, WriteError};
use crate::zahlungsdaten::Account;
use chrono::NaiveDate;
use rust_xlsxwriter::{Worksheet, XlsxError};

/// Everything the run's writers read.
pub struct RunDoc<'a> {
    pub stichtag: NaiveDate,
    /// The requested execution date of the payments (pain.001 `ReqdExctnDt`).
    pub execution_date: NaiveDate,
    /// A preview: marked `Entwurf`, nothing booked.
    pub draft: bool,
    pub plan: &'a Plan,
    pub master: &'a Stammdaten,
    /// Invoices in the ledger before this run.
    pub open_invoices: &'a [InvoiceState],
    pub version: &'a str,
    pub years: &'a [i32],
    /// Notes for staff (German): changed IBANs, withheld items, master-data Hinweise.
    pub notes: &'a [String],
    /// The run number of the Stichtag (1, or more after a Storno): part of the file names.
    pub lauf: i64,
    /// Who booked the run, and when (`None` for a preview).
    pub booked: Option<(&'a str, &'a str)>,
}

impl RunDoc<'_> {
    fn name(&self, b: Bfs) -> String {
        self.master.municipality(b).map(|m| m.name.clone()).unwrap_or_else(|| b.to_string())
    }
    fn title(&self, what: &str) -> String {
        let draft = if self.draft { "ENTWURF – " } else { "" };
        format!("{draft}{what}, Zahlungslauf per {}", fmt_date(self.stichtag))
    }
}

/// Writes `text` in the first column when a table has no rows; returns the row after it.
fn none_line(ws: &mut Worksheet, r: u32, empty: bool, text: &str) -> Result<u32, XlsxError> {
    if empty {
        ws.write_string(r, 0, text)?;
        Ok(r + 1)
    } else {
        Ok(r)
    }
}

/// The title, the subtitle and the execution date above a table of these column widths.
fn heading(ws: &mut Worksheet, doc: &RunDoc<'_>, what: &str, sub: &str, widths: &[f64]) -> Result<(), XlsxError> {
    let exec = format!("Ausführungsdatum der Zahlungen: {}", fmt_date(doc.execution_date));
    heading_with(ws, doc, what, sub, &exec, widths)
}

/// [`heading`] with its own third line.
fn heading_with(
    ws: &mut Worksheet,
    doc: &RunDoc<'_>,
    what: &str,
    sub: &str,
    third: &str,
    widths: &[f64],
) -> Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, doc.title(what), &style::title())?;
    subtitle(ws, 1, sub, widths)?;
    subtitle(ws, 2, third, widths)
}

/// An IBAN in groups of four, as on a payment slip: `CH93 0076 2011 6238 5295 7`.
fn iban_grouped(iban: &str) -> String {
    let chars: Vec<char> = iban.chars().filter(|c| !c.is_whitespace()).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// A payee's result with its name and account.
struct PayeeLine<'a> {
    p: &'a PayeeResult,
    name: String,
    account: Option<&'a Account>,
}

const fn zahlungen_columns<'a>() -> [Column<PayeeLine<'a>>; 8] {
    [
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |l| Val::num(l.p.payee)),
        Column::new("Gemeinde", 24.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Kontoinhaber", 32.0, Kind::Wrap, |l| {
            Val::text(l.account.map(|a| a.holder.as_str()).unwrap_or("(keine Zahlungsverbindung)"))
        }),
        // In groups of four, as printed on a payment slip (`CH93 0076 2011 6238 5295 7`).
        Column::new("IBAN", 30.0, Kind::Text, |l| {
            Val::Text(l.account.map(|a| iban_grouped(&a.iban)).unwrap_or_default())
        }),
        Column::summed("Beiträge", 16.0, Kind::Chf, |l| Val::Chf(l.p.gross)),
        Column::summed("Verrechnet", 16.0, Kind::Chf, |l| Val::Chf(-l.p.offset)),
        Column::summed("Auszahlung", 16.0, Kind::Chf, |l| Val::Calc {
            add: &["Beiträge", "Verrechnet"],
            sub: &[],
            result: l.p.transfer,
        }),
        Column::summed("In Rechnung gestellt", 16.0, Kind::Chf, |l| Val::Chf(l.p.invoice)),
    ]
}

fn zahlungen(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Zahlungen")?;
    let lines: Vec<PayeeLine<'_>> = doc
        .plan
        .payees
        .iter()
        .map(|p| PayeeLine { p, name: doc.name(p.payee), account: doc.master.zahlung.accounts.get(&p.payee) })
        .collect();
    // Who booked it; the payment file comes only with the release by a second person.
    let who = match doc.booked {
        Some((person, at)) => format!(
            "Gebucht von «{person}» am {at}; noch nicht freigegeben: die Zahlungsdatei entsteht erst mit der Freigabe durch eine zweite Person."
        ),
        None => "Entwurf: nicht gebucht, nicht freigegeben.".to_string(),
    };
    heading_with(
        ws,
        doc,
        "Auszahlungen nach Zahlungsempfänger",
        "Beiträge abzüglich verrechneter Korrekturen und Rückforderungen (Ziffern 4.5.2 und 4.7).",
        &format!("Ausführungsdatum der Zahlungen (vorgesehen): {}. {who}", fmt_date(doc.execution_date)),
        &widths(&zahlungen_columns()),
    )?;
    let columns = zahlungen_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &lines)?;
    table.total(ws, r, HEADER + 1, &lines, TOTAL)?;
    ws.set_freeze_panes(HEADER + 1, 0)?;
    finish(ws, &table, 0, doc.stichtag)
}

/// What the release of a run recorded, as its workbook shows it.
pub struct ReleaseView<'a> {
    pub booked_by: &'a str,
    pub booked_at: &'a str,
    pub released_by: &'a str,
    pub released_at: &'a str,
    pub execution_date: Option<NaiveDate>,
    /// The payment file's name and SHA-256, if the run transfers anything.
    pub file: Option<(&'a str, String)>,
    pub bookings_sha256: &'a str,
}

/// `Freigabe_<JJJJ-MM-TT>.xlsx`: the release of a booked run, from the ledger alone. Sheet
/// `Zahlungen`: its header names who booked and who released the run, when, the execution
/// date and the SHA-256 of the payment file and of the run's bookings; the rows are the
/// payment file's transfers per payee (with the IBAN paid) and what was offset and invoiced.
pub fn release_workbook(
    run: &crate::ledger::RunRow,
    rows: &[Booking],
    master: &Stammdaten,
    rel: &ReleaseView<'_>,
) -> Result<OutFile, WriteError> {
    let lauf = if run.lauf > 1 { format!("_{}", run.lauf) } else { String::new() };
    let name = format!("Freigabe_{}{lauf}.xlsx", run.stichtag.format("%Y-%m-%d"));
    let per = super::statement::run_rows(std::slice::from_ref(run), rows, None)
        .map_err(|e| WriteError::Document { name: name.clone(), reason: e.to_string() })?;
    let results: Vec<PayeeResult> = per
        .iter()
        .map(|p| PayeeResult {
            payee: p.payee,
            gross: p.gross,
            claims: p.offset.saturating_add(p.invoiced),
            offset: p.offset,
            transfer: p.transfer,
            invoice: p.invoiced,
        })
        .collect();
    // The account as paid: the IBAN recorded with the run's payments.
    let accounts: Vec<Option<Account>> = results
        .iter()
        .map(|p| {
            let recorded =
                rows.iter().filter(|b| b.payee == p.payee && b.betrag > Chf::ZERO).find_map(|b| b.iban.clone());
            let mut acc = master.zahlung.accounts.get(&p.payee).cloned();
            if let (Some(a), Some(iban)) = (acc.as_mut(), recorded) {
                a.iban = iban;
            }
            acc
        })
        .collect();
    let lines: Vec<PayeeLine<'_>> = results
        .iter()
        .zip(&accounts)
        .map(|(p, a)| PayeeLine {
            p,
            name: master.municipality(p.payee).map(|m| m.name.clone()).unwrap_or_else(|| p.payee.to_string()),
            account: a.as_ref(),
        })
        .collect();
    let title = format!("Freigabe, Zahlungslauf per {}", fmt_date(run.stichtag));
    let mut wb = style::workbook(&title, run.stichtag);
    let ws = wb.add_worksheet();
    (|| -> Result<(), XlsxError> {
        ws.set_name("Zahlungen")?;
        ws.write_string_with_format(0, 0, &title, &style::title())?;
        let w = widths(&zahlungen_columns());
        subtitle(
            ws,
            1,
            format!(
                "Gebucht von «{}» am {}; freigegeben von «{}» am {} (Vier-Augen-Prinzip).",
                rel.booked_by, rel.booked_at, rel.released_by, rel.released_at
            ),
            &w,
        )?;
        let file = match &rel.file {
            Some((f, sha)) => format!("Zahlungsdatei {f}, SHA-256 {sha}"),
            None => "Keine Zahlungsdatei: in diesem Zahlungslauf wird nichts ausbezahlt".to_string(),
        };
        let exec = rel.execution_date.map(|d| format!("Ausführungsdatum {}; ", fmt_date(d))).unwrap_or_default();
        subtitle(ws, 2, format!("{exec}{file}; SHA-256 der Buchungen {}.", rel.bookings_sha256), &w)?;
        let columns = zahlungen_columns();
        let table = Table::new(&columns);
        let r = table_rows(ws, &table, &lines)?;
        table.total(ws, r, HEADER + 1, &lines, TOTAL)?;
        ws.set_freeze_panes(HEADER + 1, 0)?;
        finish(ws, &table, 0, run.stichtag)
    })()
    .map_err(xl(&name))?;
    save(name, &mut wb)
}

/// What happens to a detail line now.
fn line_status(l: &Line) -> String {
    match (&l.withheld, l.now) {
        (Some(w), _) => w.clone(),
        (None, n) if n > Chf::ZERO => "Auszahlung".into(),
        (None, n) if n < Chf::ZERO => "Korrektur (verrechnet)".into(),
        _ => "bereits gebucht".into(),
    }
}

const fn detail_columns<'a>() -> [Column<Named<'a, Line>>; 12] {
    [
        Column::new("BFS-Nr.", 8.0, Kind::Id, |l| Val::num(l.row.key.bfs)),
        Column::new("Gemeinde", 22.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |l| Val::num(l.row.payee)),
        Column::new("Jahr", 7.0, Kind::Id, |l| Val::num(l.row.key.year)),
        Column::new("Periode", 10.0, Kind::Text, |l| Val::Text(l.row.key.periode().to_string())),
        Column::new("Leistung", 14.0, Kind::Text, |l| Val::text(l.row.key.component.as_str())),
        Column::new("Anzahl", 9.0, Kind::Count, |l| match l.row.count {
            Some(n) => Val::Count(n),
            None => Val::None,
        }),
        // `DOLMETSCH_EG 160.00 CHF (gültig ab 01.07.2019)` whole, not cut by the next column.
        Column::new("Tarif", 44.0, Kind::Text, |l| Val::text(&l.row.tariff)),
        Column::summed("Fällig", 14.0, Kind::Chf, |l| Val::Chf(l.row.due)),
        Column::summed("Bisher gebucht", 14.0, Kind::Chf, |l| Val::Chf(l.row.booked_before)),
        // A withheld amount is booked as it is, not as the difference.
        Column::summed("Jetzt", 14.0, Kind::Chf, |l| match l.row.withheld {
            Some(_) => Val::Chf(l.row.now),
            None => Val::Calc { add: &["Fällig"], sub: &["Bisher gebucht"], result: l.row.now },
        }),
        // A withheld line says why, at length: wrapped, not cut.
        Column::new("Status", 44.0, Kind::Wrap, |l| Val::Text(line_status(l.row))),
    ]
}

fn detail(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Detail")?;
    heading(
        ws,
        doc,
        "Detail nach Gemeinde, Jahr, Periode und Leistung",
        "Fällig: was die Auswertung per Stichtag ergibt; bisher gebucht: was die Buchhaltung schon enthält; jetzt: die Differenz.",
        &widths(&detail_columns()),
    )?;
    let lines = Named::all(&doc.plan.lines, |l| doc.name(l.key.bfs));
    let columns = detail_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &lines)?;
    table.total(ws, r, HEADER + 1, &lines, TOTAL)?;
    ws.set_freeze_panes(HEADER + 1, 0)?;
    ws.autofilter(HEADER, 0, r.saturating_sub(1).max(HEADER), (columns.len() - 1) as u16)?;
    finish(ws, &table, 2, doc.stichtag)
}

const fn verrechnungen_columns<'a>() -> [Column<Named<'a, PlannedBooking>>; 9] {
    [
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |l| Val::num(l.row.payee)),
        Column::new("BFS-Nr.", 8.0, Kind::Id, |l| Val::num(l.row.bfs)),
        Column::new("Gemeinde", 22.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Jahr", 7.0, Kind::Id, |l| Val::num(l.row.periode.year)),
        Column::new("Periode", 10.0, Kind::Text, |l| Val::text(l.row.periode.to_string())),
        Column::new("Leistung", 16.0, Kind::Text, |l| Val::text(l.row.leistung.as_str())),
        Column::new("Art", 14.0, Kind::Text, |l| Val::text(l.row.art.as_str())),
        Column::summed("Betrag", 14.0, Kind::Chf, |l| Val::Chf(l.row.betrag)),
        Column::new("Grund", 50.0, Kind::Wrap, |l| Val::text(&l.row.text)),
    ]
}

fn verrechnungen(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Verrechnungen")?;
    heading(
        ws,
        doc,
        "Verrechnete Forderungen",
        "Korrekturen (zu viel bezahlte Beiträge) und Rückforderungen (Ziffer 4.7), verrechnet mit der Auszahlung an den Zahlungsempfänger.",
        &widths(&verrechnungen_columns()),
    )?;
    let claims: Vec<Named<'_, PlannedBooking>> = doc
        .plan
        .bookings
        .iter()
        .filter(|b| b.betrag < Chf::ZERO && matches!(b.art, Art::Korrektur | Art::Rueckforderung))
        .map(|row| Named { row, name: doc.name(row.bfs) })
        .collect();
    let columns = verrechnungen_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &claims)?;
    let r = none_line(ws, r, claims.is_empty(), "Keine Verrechnungen.")?;
    table.total(ws, r, HEADER + 1, &claims, TOTAL)?;
    finish(ws, &table, 0, doc.stichtag)
}

const fn rechnungen_columns<'a>() -> [Column<Named<'a, PlannedBooking>>; 4] {
    [
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |l| Val::num(l.row.payee)),
        Column::new("Gemeinde", 24.0, Kind::Text, |l| Val::text(&l.name)),
        Column::summed("Betrag", 16.0, Kind::Chf, |l| Val::Chf(-l.row.betrag)),
        Column::new("Zahlbar bis", 14.0, Kind::Date, |l| match l.row.due_on {
            Some(d) => Val::Date(d),
            None => Val::None,
        }),
    ]
}

fn rechnungen(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Rechnungen")?;
    heading(
        ws,
        doc,
        "Rechnungen",
        "Ist die Forderung höher als das Guthaben, ist der Differenzbetrag innert 30 Tagen nach Rechnungsstellung zurückzuerstatten (Ziffer 4.7).",
        &widths(&rechnungen_columns()),
    )?;
    let inv: Vec<Named<'_, PlannedBooking>> = doc
        .plan
        .bookings
        .iter()
        .filter(|b| b.art == Art::Rechnung)
        .map(|row| Named { row, name: doc.name(row.payee) })
        .collect();
    let columns = rechnungen_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &inv)?;
    let r = none_line(ws, r, inv.is_empty(), "Keine Rechnungen.")?;
    table.total(ws, r, HEADER + 1, &inv, TOTAL)?;
    finish(ws, &table, 0, doc.stichtag)
}

/// An invoice of the ledger with its payee's name and the day that decides whether it is
/// overdue.
struct InvoiceLine<'a> {
    i: &'a InvoiceState,
    name: String,
    day: NaiveDate,
}

/// The state of an invoice on its line's day.
fn invoice_status(l: &InvoiceLine<'_>) -> &'static str {
    if l.i.reversed {
        "storniert"
    } else if l.i.open().is_zero() {
        "bezahlt"
    } else if l.i.due_on < l.day {
        "überfällig"
    } else {
        "offen"
    }
}

/// The columns of the ledger's invoices (open items of a run, all invoices of a statement).
const fn invoice_columns<'a>() -> [Column<InvoiceLine<'a>>; 9] {
    [
        Column::new("Rechnungs-ID", 18.0, Kind::Text, |l| Val::text(&l.i.id)),
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |l| Val::num(l.i.payee)),
        Column::new("Gemeinde", 22.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Zahlungslauf", 14.0, Kind::Date, |l| Val::Date(l.i.stichtag)),
        Column::summed("Betrag", 14.0, Kind::Chf, |l| Val::Chf(l.i.amount)),
        Column::summed("Eingegangen", 14.0, Kind::Chf, |l| Val::Chf(l.i.received)),
        // A reversed invoice is open by nothing, whatever came in.
        Column::summed("Offen", 14.0, Kind::Chf, |l| {
            if l.i.reversed {
                Val::Chf(l.i.open())
            } else {
                Val::Calc { add: &["Betrag"], sub: &["Eingegangen"], result: l.i.open() }
            }
        }),
        Column::new("Zahlbar bis", 14.0, Kind::Date, |l| Val::Date(l.i.due_on)),
        Column::new("Status", 12.0, Kind::Text, |l| Val::text(invoice_status(l))),
    ]
}

fn invoice_lines<'a>(
    invoices: impl IntoIterator<Item = &'a InvoiceState>,
    day: NaiveDate,
    name: &dyn Fn(Bfs) -> String,
) -> Vec<InvoiceLine<'a>> {
    invoices.into_iter().map(|i| InvoiceLine { i, name: name(i.payee), day }).collect()
}

/// Sheet of open invoices (shared by the run and the statement).
fn offene_posten(
    ws: &mut Worksheet,
    title: &str,
    invoices: &[InvoiceState],
    day: NaiveDate,
    name: &dyn Fn(Bfs) -> String,
) -> Result<(), XlsxError> {
    ws.set_name("Offene Posten")?;
    ws.write_string_with_format(0, 0, title, &style::title())?;
    subtitle(
        ws,
        1,
        format!("Rechnungen mit offenem Betrag; überfällig: Zahlungsfrist vor dem {}.", fmt_date(day)),
        &widths(&invoice_columns()),
    )?;
    let open = invoice_lines(invoices.iter().filter(|i| i.open() > Chf::ZERO), day, name);
    let columns = invoice_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &open)?;
    let r = none_line(ws, r, open.is_empty(), "Keine offenen Rechnungen.")?;
    table.total(ws, r, HEADER + 1, &open, TOTAL)?;
    finish(ws, &table, 0, day)
}

/// `Zahlungslauf_<JJJJ-MM-TT>.xlsx`.
pub fn workbook(doc: &RunDoc<'_>) -> Result<OutFile, WriteError> {
    let name = format!("{}.xlsx", crate::zahlungslauf::run_file_stem(doc.stichtag, doc.draft, doc.lauf));
    let mut wb = style::workbook(&doc.title("Zahlungslauf"), doc.stichtag);
    zahlungen(wb.add_worksheet(), doc).map_err(xl(&name))?;
    detail(wb.add_worksheet(), doc).map_err(xl(&name))?;
    verrechnungen(wb.add_worksheet(), doc).map_err(xl(&name))?;
    rechnungen(wb.add_worksheet(), doc).map_err(xl(&name))?;
    let title = doc.title("Offene Rechnungen");
    offene_posten(wb.add_worksheet(), &title, doc.open_invoices, doc.stichtag, &|b| doc.name(b)).map_err(xl(&name))?;
    hinweise(wb.add_worksheet(), doc).map_err(xl(&name))?;
    save(name, &mut wb)
}

/// Sheet `Hinweise`: what staff should know before the run is released (a changed IBAN,
/// withheld items, master-data Hinweise), one per row.
fn hinweise(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Hinweise")?;
    ws.write_text_with_format(0, 0, doc.title("Hinweise"), &style::title())?;
    let wrap = rust_xlsxwriter::Format::new().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top);
    ws.set_column_width(0, 110)?;
    ws.write_text_with_format(HEADER, 0, "Hinweis", &style::header())?;
    if doc.notes.is_empty() {
        ws.write_text(HEADER + 1, 0, "Keine Hinweise.")?;
    }
    for (i, n) in doc.notes.iter().enumerate() {
        let r = HEADER + 1 + i as u32;
        ws.write_text_with_format(r, 0, n, &wrap)?;
        style::fit_row(ws, r, &[(n, 110.0)])?;
    }
    style::print_layout(ws, Some((HEADER, HEADER)), &[110.0], style::Orientation::Portrait, 0, Some(doc.stichtag))
}

/// One booking of the JSON file; the key names are fixed (scripts rely on them).
#[derive(serde::Serialize)]
struct JsonBooking {
    bfs_nr: Bfs,
    zahlungsempfaenger: Bfs,
    jahr: i32,
    periode: String,
    leistung: String,
    betrag: String,
    art: &'static str,
}

/// `Zahlungslauf_<JJJJ-MM-TT>.json`: every booking of the run.
pub fn json(doc: &RunDoc<'_>) -> Result<OutFile, WriteError> {
    let name = format!("{}.json", crate::zahlungslauf::run_file_stem(doc.stichtag, doc.draft, doc.lauf));
    let rows: Vec<JsonBooking> = doc
        .plan
        .bookings
        .iter()
        .map(|b| JsonBooking {
            bfs_nr: b.bfs,
            zahlungsempfaenger: b.payee,
            jahr: b.periode.year,
            periode: b.periode.to_string(),
            leistung: b.leistung.as_str().to_string(),
            betrag: format!("{:.2}", b.betrag),
            art: b.art.as_str(),
        })
        .collect();
    let mut bytes =
        serde_json::to_vec_pretty(&rows).map_err(|source| WriteError::Json { name: name.clone(), source })?;
    bytes.push(b'\n');
    Ok(OutFile { rel: name, bytes })
}

/// The statement file name.
pub fn konto_name(bfs: Option<Bfs>) -> String {
    match bfs {
        Some(b) => format!("Konto_{b}.xlsx"),
        None => "Konto_alle_Gemeinden.xlsx".to_string(),
    }
}

/// The statement workbook of `beitraege konto`.
pub fn konto_workbook(st: &Statement, master: &Stammdaten, _version: &str) -> Result<OutFile, WriteError> {
    let name = konto_name(st.bfs);
    let who = match st.bfs {
        Some(b) => format!("Gemeinde {} ({b})", master.municipality(b).map(|m| m.name.clone()).unwrap_or_default()),
        None => "alle Gemeinden".to_string(),
    };
    let title = format!("Kontoauszug {who}, Stand {}", fmt_date(st.date));
    let names = |b: Bfs| master.municipality(b).map(|m| m.name.clone()).unwrap_or_default();
    let mut wb = style::workbook(&title, st.date);
    konto_perioden(wb.add_worksheet(), st, &title, &names).map_err(xl(&name))?;
    konto_laeufe(wb.add_worksheet(), st, &names).map_err(xl(&name))?;
    offene_posten(wb.add_worksheet(), &format!("Offene Rechnungen, {who}"), &st.invoices, st.date, &names)
        .map_err(xl(&name))?;
    konto_rechnungen(wb.add_worksheet(), st, &names).map_err(xl(&name))?;
    konto_buchungen(wb.add_worksheet(), st).map_err(xl(&name))?;
    let letters = super::statement::correspondence(&st.letters, &st.invoices, master, None, st.bfs);
    crate::write::korrespondenz::sheet(wb.add_worksheet(), &format!("Korrespondenz, {who}"), &letters, st.date)
        .map_err(xl(&name))?;
    save(name, &mut wb)
}

const fn perioden_columns<'a>() -> [Column<Named<'a, PeriodRow>>; 7] {
    [
        Column::new("BFS-Nr.", 8.0, Kind::Id, |l| Val::num(l.row.bfs)),
        Column::new("Gemeinde", 24.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Jahr", 8.0, Kind::Id, |l| Val::num(l.row.year)),
        Column::new("Periode", 10.0, Kind::Text, |l| Val::text(l.row.periode.to_string())),
        Column::summed("Beiträge", 16.0, Kind::Chf, |l| Val::Chf(l.row.contributions)),
        Column::summed("Rückforderungen", 16.0, Kind::Chf, |l| Val::Chf(l.row.clawbacks)),
        Column::summed("Total", 16.0, Kind::Chf, |l| Val::Calc {
            add: &["Beiträge", "Rückforderungen"],
            sub: &[],
            result: l.row.contributions.saturating_add(l.row.clawbacks),
        }),
    ]
}

fn konto_perioden(
    ws: &mut Worksheet,
    st: &Statement,
    title: &str,
    names: &dyn Fn(Bfs) -> String,
) -> Result<(), XlsxError> {
    ws.set_name("Perioden")?;
    ws.write_string_with_format(0, 0, title, &style::title())?;
    subtitle(
        ws,
        1,
        "Je Jahr und Periode: gebuchte Beiträge (fällig gewordene Beträge, nach Korrekturen und Stornos) und Rückforderungen.",
        &widths(&perioden_columns()),
    )?;
    let lines = Named::all(&st.periods, |p| names(p.bfs));
    let columns = perioden_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &lines)?;
    table.total(ws, r, HEADER + 1, &lines, TOTAL)?;
    finish(ws, &table, 0, st.date)
}

const fn laeufe_columns<'a>() -> [Column<Named<'a, RunPayeeRow>>; 12] {
    [
        Column::new("Stichtag", 12.0, Kind::Date, |l| Val::Date(l.row.stichtag)),
        Column::new("Art", 14.0, Kind::Text, |l| Val::text(&l.row.art)),
        Column::new("Gebucht am", 20.0, Kind::Text, |l| Val::text(&l.row.booked_at)),
        Column::new("Gebucht von", 16.0, Kind::Text, |l| Val::text(&l.row.booked_by)),
        Column::new("Freigegeben von", 16.0, Kind::Text, |l| Val::text(&l.row.released_by)),
        Column::new("Freigegeben am", 20.0, Kind::Text, |l| Val::text(&l.row.released_at)),
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |l| Val::num(l.row.payee)),
        Column::new("Gemeinde", 22.0, Kind::Text, |l| Val::text(&l.name)),
        Column::summed("Beiträge", 16.0, Kind::Chf, |l| Val::Chf(l.row.gross)),
        Column::summed("Verrechnet", 16.0, Kind::Chf, |l| Val::Chf(-l.row.offset)),
        Column::summed("Ausbezahlt", 16.0, Kind::Chf, |l| Val::Calc {
            add: &["Beiträge", "Verrechnet"],
            sub: &[],
            result: l.row.transfer,
        }),
        Column::summed("In Rechnung gestellt", 16.0, Kind::Chf, |l| Val::Chf(l.row.invoiced)),
    ]
}

fn konto_laeufe(ws: &mut Worksheet, st: &Statement, names: &dyn Fn(Bfs) -> String) -> Result<(), XlsxError> {
    ws.set_name("Zahlungsläufe")?;
    ws.write_string_with_format(0, 0, "Zahlungsläufe: bezahlt, verrechnet, in Rechnung gestellt", &style::title())?;
    let lines = Named::all(&st.runs, |x| names(x.payee));
    let columns = laeufe_columns();
    let table = Table::new(&columns);
    let r = table_rows(ws, &table, &lines)?;
    table.total(ws, r, HEADER + 1, &lines, TOTAL)?;
    finish(ws, &table, 0, st.date)
}

fn konto_rechnungen(ws: &mut Worksheet, st: &Statement, names: &dyn Fn(Bfs) -> String) -> Result<(), XlsxError> {
    ws.set_name("Rechnungen")?;
    ws.write_string_with_format(0, 0, "Alle Rechnungen mit Zahlungseingängen", &style::title())?;
    let lines = invoice_lines(&st.invoices, st.date, names);
    let columns = invoice_columns();
    let table = Table::new(&columns);
    table_rows(ws, &table, &lines)?;
    finish(ws, &table, 0, st.date)
}

const fn buchungen_columns() -> [Column<Booking>; 11] {
    [
        Column::new("Nr.", 7.0, Kind::Id, |b| Val::Num(b.seq as f64)),
        Column::new("Stichtag", 12.0, Kind::Date, |b| Val::Date(b.stichtag)),
        Column::new("Art", 14.0, Kind::Text, |b| Val::text(b.art.as_str())),
        Column::new("Zahlungsempfänger", 12.0, Kind::Id, |b| Val::num(b.payee)),
        Column::new("BFS-Nr.", 8.0, Kind::Id, |b| Val::num(b.bfs)),
        Column::new("Jahr", 7.0, Kind::Id, |b| Val::num(b.periode.year)),
        Column::new("Periode", 10.0, Kind::Text, |b| Val::text(b.periode.to_string())),
        Column::new("Leistung", 16.0, Kind::Text, |b| Val::text(b.leistung.as_str())),
        Column::new("Betrag", 14.0, Kind::Chf, |b| Val::Chf(b.betrag)),
        Column::new("Text", 40.0, Kind::Text, |b| Val::text(&b.text)),
        Column::new("Buchungs-ID", 20.0, Kind::Text, |b| Val::text(&b.id)),
    ]
}

fn konto_buchungen(ws: &mut Worksheet, st: &Statement) -> Result<(), XlsxError> {
    ws.set_name("Buchungen")?;
    ws.write_string_with_format(0, 0, "Buchungen", &style::title())?;
    let columns = buchungen_columns();
    let table = Table::new(&columns);
    table_rows(ws, &table, &st.bookings)?;
    ws.set_freeze_panes(HEADER + 1, 0)?;
    finish(ws, &table, 0, st.date)
}
