//! `Befunde_<Y>.xlsx`: the discrepancy report: every finding, every file with its state,
//! and counts per code and per municipality.

use super::columns::{labels, Column, Kind, Named, Table, Val};
use super::style::{self, header_row_fit, print_layout, Orientation, TextCells};
use super::{save, EvaluationData, OutFile, WriteError};
use crate::domain::{Bfs, Code, FileState, Finding, Severity};
use crate::resolve::FileEntry;
use rust_xlsxwriter::{Worksheet, XlsxError};
use std::collections::BTreeMap;

/// The columns of sheet `Befunde`.
const fn befunde_columns<'a>() -> [Column<Named<'a, Finding>>; 10] {
    [
        Column::new("BFS-Nr.", 8.0, Kind::Id, |l| match l.row.bfs {
            Some(b) => Val::num(b),
            None => Val::text(""),
        }),
        Column::new("Gemeinde", 22.0, Kind::Wrap, |l| Val::text(&l.name)),
        Column::new("Datei", 40.0, Kind::Wrap, |l| Val::opt_text(l.row.file.as_deref())),
        Column::new("Blatt", 16.0, Kind::Wrap, |l| Val::opt_text(l.row.sheet())),
        Column::new("Zelle", 7.0, Kind::Wrap, |l| Val::text(l.row.cell().unwrap_or_default())),
        Column::new("Code", CODE_WIDTH, Kind::Wrap, |l| Val::text(l.row.code.as_str())),
        Column::new("Schwere", 9.0, Kind::Text, |l| Val::severity(l.row.severity)),
        Column::new("Meldung", 60.0, Kind::Wrap, |l| Val::text(&l.row.message)),
        Column::new("Gefundener Wert", 18.0, Kind::Wrap, |l| Val::opt_text(l.row.value.as_deref())),
        Column::new("Korrektur", 54.0, Kind::Wrap, |l| Val::text(&l.row.fix)),
    ]
}

/// The width of a column of finding codes: the longest code (27 capitals and underscores)
/// on one line, never broken inside the code (capitals are wider than a digit: 1.1 units
/// each, and one of padding).
pub const CODE_WIDTH: f64 = 32.0;

/// The labels of sheet `Befunde`, in order.
pub const BEFUNDE_COLUMNS: [&str; 10] = labels(&befunde_columns());

pub fn file_name(year: i32) -> String {
    format!("Befunde_{year}.xlsx")
}

pub fn write(d: &EvaluationData<'_>) -> Result<OutFile, WriteError> {
    let name = file_name(d.year);
    let xl = |source| WriteError::Xlsx { name: name.clone(), source };
    let mut wb = style::workbook(&format!("Befunde {}", d.year), d.run_date);
    befunde(wb.add_worksheet(), d).map_err(xl)?;
    dateien(wb.add_worksheet(), d).map_err(xl)?;
    uebersicht(wb.add_worksheet(), d).map_err(xl)?;
    if let Some(view) = d.ledger {
        super::korrespondenz::sheet(
            wb.add_worksheet(),
            &format!("Korrespondenz {}", d.year),
            &view.letters,
            d.run_date,
        )
        .map_err(xl)?;
    }
    save(name, &mut wb)
}

fn befunde(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Befunde")?;
    let columns = befunde_columns();
    let table = Table::top(&columns);
    table.header(ws, 0)?;
    let lines = Named::all(d.findings, |f| d.name_of(f.bfs));
    table.rows(ws, 1, &lines)?;
    table.set_widths(ws)?;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, d.findings.len().max(1) as u32, 9)?;
    // Ten columns do not fit one page wide at a readable scale: the pages that follow the
    // first repeat BFS-Nr. and Gemeinde, so every printed row names its municipality.
    print_layout(ws, Some((0, 0)), &table.widths(), Orientation::Landscape, 2, Some(d.run_date))
}

/// An inbox file with its municipality's name and its findings' codes.
struct FileLine<'a> {
    e: &'a FileEntry,
    name: String,
    codes: String,
}

/// The columns of sheet `Dateien`. A hash is one word: broken over two lines of 32
/// characters.
const fn dateien_columns<'a>() -> [Column<FileLine<'a>>; 12] {
    [
        Column::new("Datei", 40.0, Kind::Wrap, |l| Val::text(l.e.result.rel())),
        Column::new("Status", 11.0, Kind::Text, |l| {
            let fill = match l.e.state {
                FileState::Abgelehnt => style::error_fill(),
                FileState::Verarbeitet => rust_xlsxwriter::Format::new(),
                _ => style::note_fill(),
            };
            Val::Styled(l.e.state.as_str().to_string(), fill)
        }),
        Column::new("Formular", 17.0, Kind::Wrap, |l| Val::text(l.e.result.kind().map(|k| k.label()).unwrap_or(""))),
        Column::new("BFS-Nr.", 8.0, Kind::Id, |l| match l.e.result.bfs() {
            Some(b) => Val::num(b),
            None => Val::text(""),
        }),
        Column::new("Gemeinde", 20.0, Kind::Wrap, |l| Val::text(&l.name)),
        Column::new("Periode", 9.0, Kind::Wrap, |l| {
            Val::Text(l.e.result.period().map(|p| p.to_string()).unwrap_or_default())
        }),
        Column::new("Eingangsdatum", 12.0, Kind::Date, |l| match l.e.result.file.received {
            Some(day) => Val::Date(day),
            None => Val::text(""),
        }),
        Column::new("Quelle Eingangsdatum", 20.0, Kind::Wrap, |l| {
            Val::text(l.e.result.file.received_from.map(|s| s.label()).unwrap_or(""))
        }),
        Column::new("Format", 7.0, Kind::Wrap, |l| Val::text(l.e.result.file.format.map(|f| f.label()).unwrap_or(""))),
        Column::new("Grösse (Byte)", 10.0, Kind::Count, |l| Val::Count(l.e.result.file.size)),
        Column::new("Befunde", 34.0, Kind::Wrap, |l| Val::text(&l.codes)),
        Column::new("SHA-256", 34.0, Kind::Wrap, |l| Val::opt_text(l.e.result.file.sha256.as_deref())),
    ]
}

fn dateien(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Dateien")?;
    let columns = dateien_columns();
    let table = Table::top(&columns);
    table.header(ws, 0)?;
    let lines: Vec<FileLine<'_>> = d
        .resolved
        .files
        .iter()
        .map(|e| {
            let codes: Vec<&str> = e.result.findings.iter().map(|f| f.code.as_str()).collect();
            FileLine { e, name: d.name_of(e.result.bfs()), codes: code_list(&codes) }
        })
        .collect();
    table.rows(ws, 1, &lines)?;
    table.set_widths(ws)?;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, d.resolved.files.len().max(1) as u32, 11)?;
    print_layout(ws, Some((0, 0)), &table.widths(), Orientation::Landscape, 0, Some(d.run_date))
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

fn uebersicht(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
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
        ws.write_text_with_format(r, 1, code.severity().label(), &style::severity_fill(code.severity()))?;
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
        let mut codes = codes.join(", ");
        // An open reminder of the municipality: «1. Mahnung 14.02.2024» (with the ledger).
        let marks: Vec<String> = d
            .ledger
            .iter()
            .flat_map(|v| &v.open_reminders)
            .filter(|s| Some(s.bfs) == *bfs)
            .map(|s| crate::brieftext::reminder_mark(s.level, s.date))
            .collect();
        if !marks.is_empty() {
            codes = format!("{codes} ({})", marks.join(", "));
        }
        // Left-aligned with an indent, so the codes keep a gap to the right-aligned count
        // beside them (an indent without a horizontal alignment is ignored by the apps).
        let codes_fmt = wrap.clone().set_align(rust_xlsxwriter::FormatAlign::Left).set_indent(1);
        ws.write_text_with_format(r, 5, &codes, &codes_fmt)?;
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
const OVERVIEW_WIDTHS: [f64; 6] = [CODE_WIDTH, 21.0, 8.0, 11.0, 9.0, 53.0];

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
    fn every_code_fits_the_code_column() {
        let longest = Code::ALL.iter().map(|c| c.as_str().chars().count()).max().unwrap();
        assert!(longest as f64 * 1.1 + 1.0 <= CODE_WIDTH, "{longest}");
    }

    #[test]
    fn a_long_code_list_is_grouped() {
        assert_eq!(code_list(&["WERT_LEER", "WERT_LEER"]), "WERT_LEER, WERT_LEER");
        let many: Vec<&str> = std::iter::repeat_n("WERT_KEINE_ZAHL", 500).chain(["LEIT_SUMME"]).collect();
        assert_eq!(code_list(&many), "WERT_KEINE_ZAHL (500×), LEIT_SUMME");
    }
}
