//! `Befunde_<Y>.xlsx`: the discrepancy report: every finding, every file with its state,
//! and counts per code and per municipality.

use super::style::{self, header_row, print_setup, xl_date, TextCells};
use super::{save, OutFile, RunData, WriteError};
use crate::domain::{Bfs, Code, FileState, Severity};
use rust_xlsxwriter::{Worksheet, XlsxError};
use std::collections::BTreeMap;

pub const BEFUNDE_COLUMNS: [&str; 10] =
    ["BFS-Nr.", "Gemeinde", "Datei", "Blatt", "Zelle", "Code", "Schwere", "Meldung", "Gefundener Wert", "Korrektur"];

pub fn file_name(year: i32) -> String {
    format!("Befunde_{year}.xlsx")
}

pub fn write(d: &RunData<'_>) -> Result<OutFile, WriteError> {
    let name = file_name(d.year);
    let xl = |source| WriteError::Xlsx { name: name.clone(), source };
    let mut wb = style::workbook(&format!("Befunde {}", d.year), d.run_date);
    befunde(wb.add_worksheet(), d).map_err(xl)?;
    dateien(wb.add_worksheet(), d).map_err(xl)?;
    uebersicht(wb.add_worksheet(), d).map_err(xl)?;
    save(name, &mut wb)
}

fn severity_format(s: Severity) -> rust_xlsxwriter::Format {
    match s {
        Severity::Fehler => style::error_fill(),
        Severity::Warnung => style::warn_fill(),
        Severity::Hinweis => style::note_fill(),
    }
}

/// Column widths of the `Befunde` sheet.
const WIDTHS: [f64; 10] = [8.0, 22.0, 44.0, 16.0, 7.0, 28.0, 9.0, 70.0, 18.0, 60.0];

fn befunde(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Befunde")?;
    header_row(ws, 0, &BEFUNDE_COLUMNS)?;
    let int = style::int();
    let wrap = style::wrap();
    for (i, f) in d.findings.iter().enumerate() {
        let r = i as u32 + 1;
        match f.bfs {
            Some(b) => ws.write_number_with_format(r, 0, b, &int)?,
            None => ws.write_text(r, 0, "")?,
        };
        ws.write_text(r, 1, d.name_of(f.bfs))?;
        ws.write_text(r, 2, f.file.as_deref().unwrap_or(""))?;
        ws.write_text(r, 3, f.sheet.as_deref().unwrap_or(""))?;
        ws.write_text(r, 4, f.cell.as_deref().unwrap_or(""))?;
        ws.write_text(r, 5, f.code.as_str())?;
        ws.write_text_with_format(r, 6, f.severity.label(), &severity_format(f.severity))?;
        ws.write_text_with_format(r, 7, &f.message, &wrap)?;
        ws.write_text(r, 8, f.value.as_deref().unwrap_or(""))?;
        ws.write_text_with_format(r, 9, &f.fix, &wrap)?;
        style::fit_row(ws, r, &[(&f.message, WIDTHS[7]), (&f.fix, WIDTHS[9])])?;
    }
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, d.findings.len().max(1) as u32, 9)?;
    print_setup(ws, 0)
}

fn dateien(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Dateien")?;
    header_row(
        ws,
        0,
        &[
            "Datei",
            "Status",
            "Formular",
            "BFS-Nr.",
            "Gemeinde",
            "Periode",
            "Eingangsdatum",
            "Quelle Eingangsdatum",
            "Format",
            "Grösse (Byte)",
            "Befunde",
            "SHA-256",
        ],
    )?;
    let (int, date) = (style::int(), style::date());
    for (i, e) in d.resolved.files.iter().enumerate() {
        let r = i as u32 + 1;
        let res = &e.result;
        ws.write_text(r, 0, &res.rel)?;
        let fmt = match e.state {
            FileState::Abgelehnt => style::error_fill(),
            FileState::Verarbeitet => rust_xlsxwriter::Format::new(),
            _ => style::note_fill(),
        };
        ws.write_text_with_format(r, 1, e.state.as_str(), &fmt)?;
        ws.write_text(r, 2, res.kind.map(|k| k.label()).unwrap_or(""))?;
        match res.bfs {
            Some(b) => ws.write_number_with_format(r, 3, b, &int)?,
            None => ws.write_text(r, 3, "")?,
        };
        ws.write_text(r, 4, d.name_of(res.bfs))?;
        ws.write_text(r, 5, res.period.map(|p| p.to_string()).unwrap_or_default())?;
        match res.received {
            Some(day) => ws.write_datetime_with_format(r, 6, xl_date(day), &date)?,
            None => ws.write_text(r, 6, "")?,
        };
        ws.write_text(r, 7, res.received_from.map(|s| s.label()).unwrap_or(""))?;
        ws.write_text(r, 8, res.format.map(|f| f.label()).unwrap_or(""))?;
        ws.write_number(r, 9, res.size as f64)?;
        let codes: Vec<&str> = res.findings.iter().map(|f| f.code.as_str()).collect();
        ws.write_text(r, 10, code_list(&codes))?;
        ws.write_text(r, 11, res.sha256.as_deref().unwrap_or(""))?;
    }
    for (c, w) in [52.0, 12.0, 18.0, 8.0, 22.0, 9.0, 13.0, 22.0, 7.0, 12.0, 40.0, 20.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, d.resolved.files.len().max(1) as u32, 11)?;
    print_setup(ws, 0)
}

/// A file's codes, each finding's in order; a long list (a table of hundreds of rows) is
/// grouped by code with its count, in order of first appearance.
fn code_list(codes: &[&str]) -> String {
    const MAX_LISTED: usize = 20;
    if codes.len() <= MAX_LISTED {
        return codes.join(", ");
    }
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for c in codes {
        match groups.iter_mut().find(|(g, _)| g == c) {
            Some(g) => g.1 += 1,
            None => groups.push((c, 1)),
        }
    }
    groups
        .iter()
        .map(|(c, n)| if *n > 1 { format!("{c} ({n}×)") } else { c.to_string() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn uebersicht(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Übersicht")?;
    ws.write_text_with_format(0, 0, format!("Übersicht der Befunde {}", d.year), &style::title())?;
    // Files per state.
    header_row(ws, 2, &["Status", "Dateien"])?;
    let mut r = 3;
    for s in FileState::ALL {
        ws.write_text(r, 0, s.as_str())?;
        ws.write_number(r, 1, d.resolved.files.iter().filter(|e| e.state == s).count() as f64)?;
        r += 1;
    }
    // Findings per code.
    r += 1;
    header_row(ws, r, &["Code", "Schwere", "Anzahl"])?;
    r += 1;
    let mut per_code: BTreeMap<Code, usize> = BTreeMap::new();
    for f in d.findings {
        *per_code.entry(f.code).or_default() += 1;
    }
    for (code, n) in &per_code {
        ws.write_text(r, 0, code.as_str())?;
        ws.write_text_with_format(r, 1, code.severity().label(), &severity_format(code.severity()))?;
        ws.write_number(r, 2, *n as f64)?;
        r += 1;
    }
    // Findings per municipality.
    r += 1;
    header_row(ws, r, &["BFS-Nr.", "Gemeinde", "Fehler", "Warnungen", "Hinweise", "Codes"])?;
    r += 1;
    let mut per_muni: BTreeMap<Option<Bfs>, ([usize; 3], Vec<&'static str>)> = BTreeMap::new();
    for f in d.findings {
        let e = per_muni.entry(f.bfs).or_default();
        e.0[Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(0)] += 1;
        if !e.1.contains(&f.code.as_str()) {
            e.1.push(f.code.as_str());
        }
    }
    let int = style::int();
    for (bfs, (n, codes)) in &per_muni {
        match bfs {
            Some(b) => ws.write_number_with_format(r, 0, *b, &int)?,
            None => ws.write_text(r, 0, "ohne")?,
        };
        ws.write_text(r, 1, if bfs.is_some() { d.name_of(*bfs) } else { "Datei ohne erkannte Gemeinde".into() })?;
        for (i, c) in n.iter().enumerate() {
            ws.write_number(r, 2 + i as u16, *c as f64)?;
        }
        ws.write_text(r, 5, codes.join(", "))?;
        r += 1;
    }
    for (c, w) in [30.0, 26.0, 10.0, 10.0, 10.0, 60.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_code_list_is_grouped() {
        assert_eq!(code_list(&["WERT_LEER", "WERT_LEER"]), "WERT_LEER, WERT_LEER");
        let many: Vec<&str> = std::iter::repeat_n("WERT_KEINE_ZAHL", 500).chain(["LEIT_SUMME"]).collect();
        assert_eq!(code_list(&many), "WERT_KEINE_ZAHL (500×), LEIT_SUMME");
    }
}
