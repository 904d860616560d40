//! `Befunde_<Y>.xlsx`: the discrepancy report: every finding, every file with its state,
//! and counts per code and per municipality.

use super::style::{self, header_row_fit, print_layout, xl_date, Orientation, TextCells};
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
const WIDTHS: [f64; 10] = [8.0, 22.0, 40.0, 16.0, 7.0, 26.0, 9.0, 60.0, 18.0, 54.0];

fn befunde(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Befunde")?;
    header_row_fit(ws, 0, &BEFUNDE_COLUMNS, &WIDTHS)?;
    let int = style::int().set_align(rust_xlsxwriter::FormatAlign::Top);
    let wrap = style::wrap();
    for (i, f) in d.findings.iter().enumerate() {
        let r = i as u32 + 1;
        match f.bfs {
            Some(b) => ws.write_number_with_format(r, 0, b, &int)?,
            None => ws.write_text(r, 0, "")?,
        };
        let name = d.name_of(f.bfs);
        let (file, sheet, value) =
            (f.file.as_deref().unwrap_or(""), f.sheet().unwrap_or(""), f.value.as_deref().unwrap_or(""));
        ws.write_text_with_format(r, 1, &name, &wrap)?;
        ws.write_text_with_format(r, 2, file, &wrap)?;
        ws.write_text_with_format(r, 3, sheet, &wrap)?;
        ws.write_text_with_format(r, 4, f.cell().unwrap_or_default(), &wrap)?;
        ws.write_text_with_format(r, 5, f.code.as_str(), &wrap)?;
        ws.write_text_with_format(
            r,
            6,
            f.severity.label(),
            &severity_format(f.severity).set_align(rust_xlsxwriter::FormatAlign::Top),
        )?;
        ws.write_text_with_format(r, 7, &f.message, &wrap)?;
        ws.write_text_with_format(r, 8, value, &wrap)?;
        ws.write_text_with_format(r, 9, &f.fix, &wrap)?;
        style::fit_row(
            ws,
            r,
            &[
                (&name, WIDTHS[1]),
                (file, WIDTHS[2]),
                (sheet, WIDTHS[3]),
                (f.code.as_str(), WIDTHS[5]),
                (&f.message, WIDTHS[7]),
                (value, WIDTHS[8]),
                (&f.fix, WIDTHS[9]),
            ],
        )?;
    }
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, d.findings.len().max(1) as u32, 9)?;
    print_layout(ws, Some((0, 0)), &WIDTHS, Orientation::Landscape, 0, Some(d.run_date))
}

/// Column widths of the `Dateien` sheet.
const FILE_WIDTHS: [f64; 12] = [40.0, 11.0, 17.0, 8.0, 20.0, 9.0, 12.0, 20.0, 7.0, 10.0, 34.0, 34.0];

fn dateien(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Dateien")?;
    header_row_fit(
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
        &FILE_WIDTHS,
    )?;
    let top = rust_xlsxwriter::FormatAlign::Top;
    let (int, date, wrap) = (style::int().set_align(top), style::date().set_align(top), style::wrap());
    for (i, e) in d.resolved.files.iter().enumerate() {
        let r = i as u32 + 1;
        let (res, file) = (&e.result, &e.result.file);
        ws.write_text_with_format(r, 0, &file.rel, &wrap)?;
        let fmt = match e.state {
            FileState::Abgelehnt => style::error_fill(),
            FileState::Verarbeitet => rust_xlsxwriter::Format::new(),
            _ => style::note_fill(),
        };
        ws.write_text_with_format(r, 1, e.state.as_str(), &fmt.set_align(top))?;
        let kind = res.kind().map(|k| k.label()).unwrap_or("");
        ws.write_text_with_format(r, 2, kind, &wrap)?;
        match res.bfs() {
            Some(b) => ws.write_number_with_format(r, 3, b, &int)?,
            None => ws.write_text(r, 3, "")?,
        };
        let name = d.name_of(res.bfs());
        ws.write_text_with_format(r, 4, &name, &wrap)?;
        ws.write_text_with_format(r, 5, res.period().map(|p| p.to_string()).unwrap_or_default(), &wrap)?;
        match file.received {
            Some(day) => ws.write_datetime_with_format(r, 6, xl_date(day), &date)?,
            None => ws.write_text(r, 6, "")?,
        };
        let from = file.received_from.map(|s| s.label()).unwrap_or("");
        ws.write_text_with_format(r, 7, from, &wrap)?;
        ws.write_text_with_format(r, 8, file.format.map(|f| f.label()).unwrap_or(""), &wrap)?;
        ws.write_number_with_format(r, 9, file.size as f64, &style::count().set_align(top))?;
        let codes: Vec<&str> = res.findings.iter().map(|f| f.code.as_str()).collect();
        let codes = code_list(&codes);
        ws.write_text_with_format(r, 10, &codes, &wrap)?;
        // A hash is one word: broken over two lines of 32 characters.
        let sha = file.sha256.as_deref().unwrap_or("");
        ws.write_text_with_format(r, 11, sha, &wrap)?;
        style::fit_row(
            ws,
            r,
            &[
                (&file.rel, FILE_WIDTHS[0]),
                (kind, FILE_WIDTHS[2]),
                (&name, FILE_WIDTHS[4]),
                (from, FILE_WIDTHS[7]),
                (&codes, FILE_WIDTHS[10]),
                (sha, FILE_WIDTHS[11]),
            ],
        )?;
    }
    for (c, w) in FILE_WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, d.resolved.files.len().max(1) as u32, 11)?;
    print_layout(ws, Some((0, 0)), &FILE_WIDTHS, Orientation::Landscape, 0, Some(d.run_date))
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
    header_row_fit(ws, 2, &["Status", "Dateien"], &OVERVIEW_WIDTHS)?;
    let mut r = 3;
    let mut breaks = Vec::new();
    for s in FileState::ALL {
        ws.write_text(r, 0, s.as_str())?;
        ws.write_number(r, 1, d.resolved.files.iter().filter(|e| e.state == s).count() as f64)?;
        r += 1;
    }
    // Findings per code.
    r += 1;
    let mut per_code: BTreeMap<Code, usize> = BTreeMap::new();
    for f in d.findings {
        *per_code.entry(f.code).or_default() += 1;
    }
    keep_together(&mut breaks, r, per_code.len() as u32 + 1);
    header_row_fit(ws, r, &["Code", "Schwere", "Anzahl"], &OVERVIEW_WIDTHS)?;
    r += 1;
    for (code, n) in &per_code {
        ws.write_text(r, 0, code.as_str())?;
        ws.write_text_with_format(r, 1, code.severity().label(), &severity_format(code.severity()))?;
        ws.write_number(r, 2, *n as f64)?;
        r += 1;
    }
    // Findings per municipality.
    r += 1;
    let muni_header = r;
    let mut per_muni: BTreeMap<Option<Bfs>, ([usize; 3], Vec<&'static str>)> = BTreeMap::new();
    for f in d.findings {
        let e = per_muni.entry(f.bfs).or_default();
        e.0[Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(0)] += 1;
        if !e.1.contains(&f.code.as_str()) {
            e.1.push(f.code.as_str());
        }
    }
    keep_together(&mut breaks, r, per_muni.len() as u32 + 1);
    header_row_fit(
        ws,
        muni_header,
        &["BFS-Nr.", "Gemeinde", "Fehler", "Warnungen", "Hinweise", "Codes"],
        &OVERVIEW_WIDTHS,
    )?;
    r += 1;
    let int = style::int().set_align(rust_xlsxwriter::FormatAlign::Top);
    let bfs_fmt = int.clone().set_align(rust_xlsxwriter::FormatAlign::Left);
    let wrap = style::wrap();
    for (bfs, (n, codes)) in &per_muni {
        match bfs {
            Some(b) => ws.write_number_with_format(r, 0, *b, &bfs_fmt)?,
            None => ws.write_text(r, 0, "ohne")?,
        };
        let name = if bfs.is_some() { d.name_of(*bfs) } else { "Datei ohne erkannte Gemeinde".into() };
        ws.write_text_with_format(r, 1, &name, &wrap)?;
        for (i, c) in n.iter().enumerate() {
            ws.write_number_with_format(r, 2 + i as u16, *c as f64, &int)?;
        }
        let codes = codes.join(", ");
        ws.write_text_with_format(r, 5, &codes, &wrap.clone().set_indent(1))?;
        style::fit_row(ws, r, &[(&name, OVERVIEW_WIDTHS[1]), (&codes, OVERVIEW_WIDTHS[5] - 1.0)])?;
        r += 1;
    }
    for (c, w) in OVERVIEW_WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    if !breaks.is_empty() {
        ws.set_page_breaks(&breaks)?;
    }
    // The per-municipality table's header repeats on the pages it runs over.
    print_layout(ws, Some((muni_header, muni_header)), &OVERVIEW_WIDTHS, Orientation::Landscape, 0, Some(d.run_date))
}

/// Column widths of the `Übersicht` sheet: one landscape page wide at 100 %.
const OVERVIEW_WIDTHS: [f64; 6] = [29.0, 24.0, 8.0, 11.0, 9.0, 53.0];

/// Rows of 15 pt that fit a landscape A4 page within the margins.
const ROWS_PER_PAGE: u32 = 30;

/// Starts a table of `rows` rows beginning at `first` on a new page when it would otherwise
/// be split, and fits one page.
fn keep_together(breaks: &mut Vec<u32>, first: u32, rows: u32) {
    let page_start = breaks.last().copied().unwrap_or(0);
    let used = first - page_start;
    if rows <= ROWS_PER_PAGE && used + rows > ROWS_PER_PAGE {
        breaks.push(first);
    }
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
