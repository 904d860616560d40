//! The correspondence list of a year (issue 21): every letter the program recorded in the
//! ledger's correspondence journal (reminders, yearly information) and every invoice of the
//! ledger, with date, municipality, recipient, subject and file: as the sheet `Korrespondenz`
//! (of the discrepancy report with `run --buchhaltung`, and of `konto`'s statement) and as
//! `korrespondenz.json`. The entries are read from the ledger by the application; this
//! module only renders them.

use super::columns::{Column, Kind, Table, Val};
use super::style;
use super::table_sheet::{finish, subtitle, table_rows};
use super::{OutFile, WriteError};
use crate::domain::{fmt_date, Bfs};
use chrono::NaiveDate;
use rust_xlsxwriter::{Worksheet, XlsxError};
use serde::Serialize;

/// The JSON file's name.
pub const JSON: &str = "korrespondenz.json";

/// One letter or invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub date: NaiveDate,
    /// `Mahnung`, `Jahresinformation`, `Rechnung`.
    pub art: String,
    /// The journal's number (`12`) or the invoice number (`2023-0001`).
    pub nr: String,
    pub bfs: Bfs,
    pub name: String,
    pub recipient: String,
    pub subject: String,
    /// The file, relative to the output folder that holds it.
    pub file: String,
}

const fn columns() -> [Column<Entry>; 8] {
    [
        Column::new("Datum", 12.0, Kind::Date, |x| Val::Date(x.date)),
        Column::new("Art", 18.0, Kind::Text, |x| Val::text(&x.art)),
        Column::new("Nr.", 11.0, Kind::Text, |x| Val::text(&x.nr)),
        Column::new("BFS-Nr.", 9.0, Kind::Id, |x| Val::num(x.bfs)),
        Column::new("Gemeinde", 20.0, Kind::Text, |x| Val::text(&x.name)),
        Column::new("Empfänger", 28.0, Kind::Text, |x| Val::text(&x.recipient)),
        Column::new("Betreff", 44.0, Kind::Text, |x| Val::text(&x.subject)),
        Column::new("Datei", 40.0, Kind::Text, |x| Val::text(&x.file)),
    ]
}

/// The sheet `Korrespondenz`: title, subtitle, one row per entry (date order), the file in
/// the last column.
pub fn sheet(ws: &mut Worksheet, title: &str, entries: &[Entry], date: NaiveDate) -> Result<(), XlsxError> {
    ws.set_name("Korrespondenz")?;
    ws.write_string_with_format(0, 0, title, &style::title())?;
    let cols = columns();
    let table = Table::new(&cols);
    subtitle(
        ws,
        1,
        "Gemäss Buchhaltung: Mahnungen und Jahresinformationen des Korrespondenzjournals, Rechnungen (Ziffer 4.7).",
        &table.widths(),
    )?;
    let r = table_rows(ws, &table, entries)?;
    if entries.is_empty() {
        ws.write_string(r, 0, "Keine Korrespondenz erfasst.")?;
    }
    finish(ws, &table, 0, date)
}

#[derive(Serialize)]
struct EntryJson<'a> {
    datum: String,
    art: &'a str,
    nr: &'a str,
    bfs_nr: Bfs,
    gemeinde: &'a str,
    empfaenger: &'a str,
    betreff: &'a str,
    datei: &'a str,
}

/// `korrespondenz.json`: the entries as a list.
pub fn json(entries: &[Entry]) -> Result<OutFile, WriteError> {
    let rows: Vec<EntryJson<'_>> = entries
        .iter()
        .map(|e| EntryJson {
            datum: fmt_date(e.date),
            art: &e.art,
            nr: &e.nr,
            bfs_nr: e.bfs,
            gemeinde: &e.name,
            empfaenger: &e.recipient,
            betreff: &e.subject,
            datei: &e.file,
        })
        .collect();
    let mut bytes =
        serde_json::to_vec_pretty(&rows).map_err(|source| WriteError::Json { name: JSON.to_string(), source })?;
    bytes.push(b'\n');
    Ok(OutFile { rel: JSON.to_string(), bytes })
}
