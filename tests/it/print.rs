//! How the outputs print: every worksheet of the annex, the Befunde report, the feedback
//! workbooks, a lead's templates, a payout run's workbook, the account statement and the
//! annex's ledger sheet has an A4 page setup with an orientation, a footer with
//! page numbers, a print scale that keeps 11 pt text at 8 pt or more, and rows tall enough
//! for their wrapped text. Read from the xlsx XML, with estimates made here, independently
//! of the writer's own. Plus the compact annex sheet `Anhang` read back with calamine: one
//! row per municipality, district subtotals, the reconciliation and the approval block.

use crate::common;

use beitraege::formulare::{plan, template, TemplateKind};
use beitraege::run::{evaluate, render};
use beitraege::stammdaten::Stammdaten;
use beitraege::write::OutFile;
use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use common::{read_csv, sample, sample_options};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::str::FromStr;
use std::sync::OnceLock;

fn outputs() -> &'static Vec<OutFile> {
    static O: OnceLock<Vec<OutFile>> = OnceLock::new();
    O.get_or_init(|| {
        let opts = sample_options(std::path::Path::new("/nonexistent"), None);
        let e = evaluate(&opts).expect("sample year evaluates");
        render(&e, &opts).expect("outputs render")
    })
}

fn output(rel: &str) -> &'static OutFile {
    outputs().iter().find(|f| f.rel == rel).unwrap_or_else(|| panic!("{rel} not written"))
}

fn master() -> Stammdaten {
    Stammdaten::load(&sample().join("Stammdaten.xlsx")).expect("sample master data")
}

// ---------------------------------------------------------------------------
// A small reader of the xlsx parts this test looks at
// ---------------------------------------------------------------------------

fn zip_entry(bytes: &[u8], name: &str) -> Option<String> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut f = z.by_name(name).ok()?;
    let mut s = String::new();
    f.read_to_string(&mut s).expect("utf-8");
    Some(s)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The value of attribute `name` in the start tag `tag`.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    Some(unescape(&tag[i..j]))
}

/// Every element `<name …>…</name>` or `<name …/>`: (start tag, inner text).
fn elements<'a>(xml: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = xml[pos..].find(&open).map(|i| i + pos) {
        let after = xml.as_bytes().get(i + open.len()).copied();
        if !matches!(after, Some(b' ') | Some(b'>') | Some(b'/')) {
            pos = i + open.len();
            continue;
        }
        let end_tag = xml[i..].find('>').map(|j| j + i).expect("tag end");
        let tag = &xml[i..=end_tag];
        if tag.ends_with("/>") {
            out.push((tag, ""));
            pos = end_tag + 1;
        } else {
            let end = xml[end_tag..].find(&close).map(|j| j + end_tag).expect("element end");
            out.push((tag, &xml[end_tag + 1..end]));
            pos = end + close.len();
        }
    }
    out
}

fn col_index(cell_ref: &str) -> u32 {
    cell_ref.chars().take_while(|c| c.is_ascii_alphabetic()).fold(0, |acc, c| acc * 26 + (c as u32 - 'A' as u32 + 1))
}

fn row_index(cell_ref: &str) -> u32 {
    cell_ref.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse().expect("row number")
}

struct Sheet {
    name: String,
    xml: String,
}

struct Book {
    rel: String,
    sheets: Vec<Sheet>,
    strings: Vec<String>,
    /// Whether each cell format (by index) wraps text.
    wraps: Vec<bool>,
    /// Each cell format's vertical alignment (`None`: the default, bottom).
    valign: Vec<Option<String>>,
}

fn book(rel: &str, bytes: &[u8]) -> Book {
    let wb = zip_entry(bytes, "xl/workbook.xml").expect("workbook.xml");
    let sheets = elements(&wb, "sheet")
        .iter()
        .enumerate()
        .map(|(i, (tag, _))| Sheet {
            name: attr(tag, "name").expect("sheet name"),
            xml: zip_entry(bytes, &format!("xl/worksheets/sheet{}.xml", i + 1)).expect("sheet xml"),
        })
        .collect();
    let strings = zip_entry(bytes, "xl/sharedStrings.xml")
        .map(|s| {
            elements(&s, "si")
                .iter()
                .map(|(_, inner)| elements(inner, "t").iter().map(|(_, t)| unescape(t)).collect::<String>())
                .collect()
        })
        .unwrap_or_default();
    let styles = zip_entry(bytes, "xl/styles.xml").expect("styles.xml");
    let xfs = elements(&styles, "cellXfs").first().map(|(_, inner)| *inner).unwrap_or("");
    let wraps = elements(xfs, "xf").iter().map(|(_, inner)| inner.contains("wrapText=\"1\"")).collect();
    let valign = elements(xfs, "xf")
        .iter()
        .map(|(_, inner)| elements(inner, "alignment").first().and_then(|(tag, _)| attr(tag, "vertical")))
        .collect();
    Book { rel: rel.to_string(), sheets, strings, wraps, valign }
}

/// Column widths in characters, by 1-based column (what the file stores, less Excel's
/// padding of 0.71); columns without an entry have the default 8.43.
fn col_widths(xml: &str) -> BTreeMap<u32, f64> {
    let mut out = BTreeMap::new();
    for (tag, _) in elements(xml, "col") {
        let min: u32 = attr(tag, "min").unwrap().parse().unwrap();
        let max: u32 = attr(tag, "max").unwrap().parse().unwrap();
        let w: f64 = attr(tag, "width").unwrap().parse().unwrap();
        for c in min..=max.min(16_384) {
            out.insert(c, (w - 0.71).max(0.0));
        }
    }
    out
}

fn width_of(widths: &BTreeMap<u32, f64>, c: u32) -> f64 {
    widths.get(&c).copied().unwrap_or(8.43)
}

/// The last used column of a sheet (from its dimension).
fn last_col(xml: &str) -> u32 {
    let dim = elements(xml, "dimension").first().and_then(|(t, _)| attr(t, "ref")).unwrap_or("A1".into());
    col_index(dim.split(':').next_back().unwrap())
}

/// Lines a text needs in a wrapped cell: at most 1.2 characters of 11 pt text per unit of
/// width (a lenient figure: the real text needs at least this many lines).
fn min_lines(text: &str, width: f64) -> usize {
    let per_line = ((width * 1.2).floor() as usize).max(1);
    text.split('\n').map(|l| l.chars().count().max(1).div_ceil(per_line)).sum::<usize>().max(1)
}

/// Merged ranges: the top-left cell (col, row) → the columns it spans.
fn merges(xml: &str) -> BTreeMap<(u32, u32), (u32, u32)> {
    elements(xml, "mergeCell")
        .iter()
        .filter_map(|(t, _)| attr(t, "ref"))
        .map(|r| {
            let (a, b) = r.split_once(':').unwrap();
            ((col_index(a), row_index(a)), (col_index(a), col_index(b)))
        })
        .collect()
}

/// Wrapped cells of more than one line checked (so a test sees that it checked some).
static MULTILINE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Checks one worksheet's print setup and row heights; returns the problems found.
fn check_sheet(b: &Book, s: &Sheet) -> Vec<String> {
    let mut problems = Vec::new();
    let at = format!("{} / {}", b.rel, s.name);
    let xml = &s.xml;
    let Some((setup, _)) = elements(xml, "pageSetup").first().copied() else {
        return vec![format!("{at}: no pageSetup")];
    };
    if attr(setup, "paperSize").as_deref() != Some("9") {
        problems.push(format!("{at}: paper size is not A4"));
    }
    let orientation = attr(setup, "orientation");
    let printable_mm = match orientation.as_deref() {
        Some("landscape") => 297.0,
        Some("portrait") => 210.0,
        _ => {
            problems.push(format!("{at}: no orientation"));
            210.0
        }
    };
    let margins = elements(xml, "pageMargins").first().map(|(t, _)| *t).unwrap_or("");
    let side_in: f64 =
        ["left", "right"].iter().map(|k| attr(margins, k).and_then(|v| v.parse().ok()).unwrap_or(0.7)).sum();
    let printable_mm = printable_mm - side_in * 25.4;
    let footer = elements(xml, "oddFooter").first().map(|(_, t)| unescape(t)).unwrap_or_default();
    if !footer.contains("&P") {
        problems.push(format!("{at}: footer without page number"));
    }
    if !footer.contains("&F") {
        problems.push(format!("{at}: footer without file name"));
    }
    let widths = col_widths(xml);
    // The print scale: fit to pages wide, or 100 % (or a fixed scale).
    let fit = xml.contains("fitToPage=\"1\"");
    let scale = if fit {
        let pages: f64 = attr(setup, "fitToWidth").and_then(|v| v.parse().ok()).unwrap_or(1.0);
        if pages == 0.0 {
            1.0
        } else {
            let total_mm: f64 = (1..=last_col(xml)).map(|c| width_of(&widths, c) * 1.9).sum();
            (pages * printable_mm / total_mm).min(1.0)
        }
    } else {
        attr(setup, "scale").and_then(|v| v.parse::<f64>().ok()).unwrap_or(100.0) / 100.0
    };
    if 11.0 * scale < 8.0 {
        problems.push(format!("{at}: body text prints at {:.1} pt", 11.0 * scale));
    }
    // Rows with wrapped text are tall enough.
    let merged = merges(xml);
    for (row_tag, inner) in elements(xml, "row") {
        let r: u32 = attr(row_tag, "r").unwrap().parse().unwrap();
        let ht: Option<f64> = if attr(row_tag, "customHeight").as_deref() == Some("1") {
            attr(row_tag, "ht").and_then(|v| v.parse().ok())
        } else {
            None
        };
        for (c_tag, c_inner) in elements(inner, "c") {
            let style: usize = attr(c_tag, "s").and_then(|v| v.parse().ok()).unwrap_or(0);
            if !b.wraps.get(style).copied().unwrap_or(false) || attr(c_tag, "t").as_deref() != Some("s") {
                continue;
            }
            let idx: usize = elements(c_inner, "v").first().map(|(_, v)| v.parse().unwrap()).unwrap();
            let text = &b.strings[idx];
            let cref = attr(c_tag, "r").unwrap();
            let c = col_index(&cref);
            let width = match merged.get(&(c, r)) {
                Some((a, z)) => (*a..=*z).map(|k| width_of(&widths, k)).sum(),
                None => width_of(&widths, c),
            };
            let lines = min_lines(text, width);
            if lines > 1 {
                MULTILINE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let need = (lines as f64 * 12.75).min(409.0);
                match ht {
                    Some(h) if h >= need => {}
                    _ => problems.push(format!(
                        "{at} {cref}: {lines} lines need {need} pt, row height {ht:?} ({:?})",
                        text.chars().take(40).collect::<String>()
                    )),
                }
            }
        }
    }
    problems
}

fn check_book(rel: &str, bytes: &[u8]) -> Vec<String> {
    let b = book(rel, bytes);
    assert!(!b.sheets.is_empty(), "{rel}: no sheets");
    b.sheets.iter().flat_map(|s| check_sheet(&b, s)).collect()
}

// ---------------------------------------------------------------------------
// Print setup and row heights of every output
// ---------------------------------------------------------------------------

#[test]
fn the_annex_prints_well() {
    let f = output("Anhang_1_Beitraege_2023.xlsx");
    let problems = check_book(&f.rel, &f.bytes);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(MULTILINE.load(std::sync::atomic::Ordering::Relaxed) > 0, "wrapped cells were checked");
}

#[test]
fn every_cell_of_a_municipality_row_of_the_annex_is_top_aligned() {
    // Sheet `Beiträge`: header in row 4, a row per municipality, then `Total Kanton`. A tall
    // row (a wrapped status or notes) must not show its status at the top and its amounts
    // at the bottom: every written cell of those rows has the same vertical alignment, top.
    let f = output("Anhang_1_Beitraege_2023.xlsx");
    let b = book(&f.rel, &f.bytes);
    let sheet = b.sheets.iter().find(|s| s.name == "Beiträge").expect("sheet Beiträge");
    let mut rows = 0;
    let mut cells = 0;
    for (row_tag, inner) in elements(&sheet.xml, "row") {
        let r: u32 = attr(row_tag, "r").unwrap().parse().unwrap();
        let texts: Vec<String> = elements(inner, "c")
            .iter()
            .filter(|(tag, _)| attr(tag, "t").as_deref() == Some("s"))
            .filter_map(|(_, c)| elements(c, "v").first().map(|(_, v)| b.strings[v.parse::<usize>().unwrap()].clone()))
            .collect();
        if r <= 4 || texts.iter().any(|t| t == "Total Kanton") {
            continue;
        }
        rows += 1;
        let mut aligned = BTreeSet::new();
        for (c_tag, _) in elements(inner, "c") {
            let style: usize = attr(c_tag, "s").and_then(|v| v.parse().ok()).unwrap_or(0);
            aligned.insert(b.valign.get(style).cloned().flatten());
            cells += 1;
        }
        assert_eq!(aligned, BTreeSet::from([Some("top".to_string())]), "row {r}");
    }
    // 107 municipalities of 18 columns each.
    assert_eq!((rows, cells), (107, 107 * 18));
}

#[test]
fn the_befunde_report_prints_well() {
    let f = output("Befunde_2023.xlsx");
    let problems = check_book(&f.rel, &f.bytes);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let b = book(&f.rel, &f.bytes);
    let names: Vec<&str> = b.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Befunde", "Dateien", "Übersicht"]);
}

#[test]
fn every_feedback_workbook_prints_well() {
    let feedback: Vec<&OutFile> =
        outputs().iter().filter(|f| f.rel.starts_with("Rueckmeldungen/") && f.rel.ends_with(".xlsx")).collect();
    assert!(feedback.len() > 10, "the sample year has feedback workbooks");
    let problems: Vec<String> = feedback.iter().flat_map(|f| check_book(&f.rel, &f.bytes)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn templates_print_well() {
    let m = master();
    let created = NaiveDate::from_ymd_opt(2022, 12, 1).unwrap();
    let all = plan(&m, 2023);
    // A lead's Reportingformular (with `Vertragsgemeinden`), its Selbstdeklaration, and a
    // municipality's own forms.
    let lead = all.iter().find(|p| p.contract.is_some() && matches!(p.kind, TemplateKind::Reporting { .. })).unwrap();
    let single = all.iter().find(|p| p.contract.is_none()).unwrap();
    let picked: Vec<_> = all.iter().filter(|p| p.bfs == lead.bfs || p.bfs == single.bfs).collect();
    assert!(picked.len() >= 5, "two municipalities' forms");
    let mut problems = Vec::new();
    for p in picked {
        let f = template(p, created).unwrap();
        problems.extend(check_book(&f.rel, &f.bytes));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A booked payout run of the sample year per 31.03.2024 (everything due, the clawback
/// invoiced), the statement of all municipalities after it, and the annex with the ledger
/// sheet (`run --buchhaltung`).
fn payout_outputs() -> &'static Vec<OutFile> {
    static O: OnceLock<Vec<OutFile>> = OnceLock::new();
    O.get_or_init(|| {
        use beitraege::zahlungslauf::{execute, freigeben, konto, FreigabeOptions, ZahlungslaufOptions};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let day = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        let o = ZahlungslaufOptions {
            stichtag: day,
            inbox: sample().join("inbox"),
            stammdaten: sample().join("Stammdaten.xlsx"),
            out: d.join("lauf"),
            ledger: d.join("buchhaltung.sqlite"),
            book: true,
            person: "anna".into(),
            first_year: Some(2023),
            booked_on: day,
            execution_date: None,
            extraordinary_reason: None,
            threads: None,
            limits: beitraege::workbook::Limits::default(),
        };
        let run = execute(&o).expect("the run books");
        // Released by a second person: the release's workbook, and who released it in the
        // statement and the annex.
        let rel = freigeben(&FreigabeOptions {
            stichtag: day,
            ledger: o.ledger.clone(),
            stammdaten: o.stammdaten.clone(),
            out: o.out.clone(),
            person: "bruno".into(),
            released_on: day,
            execution_date: None,
        })
        .expect("the run is released");
        let k = konto::KontoOptions {
            ledger: o.ledger.clone(),
            out: d.join("konto"),
            bfs: None,
            stammdaten: Some(o.stammdaten.clone()),
            date: NaiveDate::from_ymd_opt(2024, 4, 2).unwrap(),
        };
        let (_, konto_folder, _) = konto::execute(&k).expect("the statement");
        let read = |p: std::path::PathBuf| OutFile {
            rel: p.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        };
        let mut out = vec![
            read(run.out.join("Zahlungslauf_2024-03-31.xlsx")),
            read(konto_folder.join("Konto_alle_Gemeinden.xlsx")),
        ];
        let mut opts = sample_options(std::path::Path::new("/nonexistent"), None);
        opts.buchhaltung = Some(o.ledger.clone());
        let e = evaluate(&opts).expect("sample year evaluates");
        out.extend(
            render(&e, &opts)
                .expect("outputs render")
                .into_iter()
                .filter(|f| f.rel.starts_with("Anhang_1") && f.rel.ends_with(".xlsx")),
        );
        // Last: the release's workbook.
        out.push(read(rel.folder.join("Freigabe_2024-03-31.xlsx")));
        out
    })
}

/// The rows each sheet repeats on every printed page, by sheet name.
fn print_titles(bytes: &[u8]) -> BTreeMap<String, String> {
    let wb = zip_entry(bytes, "xl/workbook.xml").expect("workbook.xml");
    let names: Vec<String> = elements(&wb, "sheet").iter().map(|(t, _)| attr(t, "name").unwrap()).collect();
    elements(&wb, "definedName")
        .iter()
        .filter(|(t, _)| attr(t, "name").as_deref() == Some("_xlnm.Print_Titles"))
        .map(|(t, inner)| {
            let i: usize = attr(t, "localSheetId").unwrap().parse().unwrap();
            (names[i].clone(), unescape(inner))
        })
        .collect()
}

#[test]
fn the_payout_run_the_statement_and_the_ledger_sheet_print_well() {
    let files = payout_outputs();
    let problems: Vec<String> = files.iter().flat_map(|f| check_book(&f.rel, &f.bytes)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let run = &files[0];
    let b = book(&run.rel, &run.bytes);
    let names: Vec<&str> = b.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Zahlungen", "Detail", "Verrechnungen", "Rechnungen", "Offene Posten", "Hinweise"]);
    let statement = book(&files[1].rel, &files[1].bytes);
    assert_eq!(statement.sheets.len(), 5);
    let annex = book(&files[2].rel, &files[2].bytes);
    assert!(annex.sheets.iter().any(|s| s.name == "Buchhaltung"), "the annex has the ledger sheet");
    let release = files.last().unwrap();
    assert_eq!(book(&release.rel, &release.bytes).sheets.len(), 1);
    // Every sheet of the run, the statement and the release repeats its header row (row 4),
    // and its footer carries the document's date.
    for f in [&files[0], &files[1], release] {
        let titles = print_titles(&f.bytes);
        for s in &book(&f.rel, &f.bytes).sheets {
            let t = titles.get(&s.name).unwrap_or_else(|| panic!("{} / {}: no repeated rows", f.rel, s.name));
            assert!(t.ends_with("!$4:$4"), "{} / {}: repeats {t}", f.rel, s.name);
            let footer = elements(&s.xml, "oddFooter").first().map(|(_, t)| unescape(t)).unwrap_or_default();
            assert!(footer.contains("Stand "), "{} / {}: footer {footer}", f.rel, s.name);
        }
    }
    // The detail prints two pages wide with BFS-Nr. and Gemeinde repeated.
    let titles = print_titles(&run.bytes);
    assert!(titles["Detail"].starts_with("Detail!$A:$B,"), "{}", titles["Detail"]);
    let detail = &b.sheets[1].xml;
    let setup = elements(detail, "pageSetup")[0].0;
    assert_eq!(attr(setup, "orientation").as_deref(), Some("landscape"));
    assert_eq!(attr(setup, "fitToWidth").as_deref(), Some("2"));
    // A narrow sheet prints portrait at 100 %.
    let rechnungen = &b.sheets[3].xml;
    let setup = elements(rechnungen, "pageSetup")[0].0;
    assert_eq!(attr(setup, "orientation").as_deref(), Some("portrait"));
    assert!(!rechnungen.contains("fitToPage=\"1\""), "no shrinking");
}

#[test]
fn the_checker_finds_what_it_looks_for() {
    // A sheet without print setup, with a clipped wrapped cell, and fit to one page at 40 %.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let wrap = rust_xlsxwriter::Format::new().set_text_wrap();
    ws.write_string_with_format(0, 0, "ein langer Text ".repeat(10), &wrap).unwrap();
    ws.set_column_width(0, 10).unwrap();
    ws.set_column_width(1, 300).unwrap();
    ws.write_string(0, 1, "x").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let p = check_book("t.xlsx", &bytes);
    assert!(p.iter().any(|x| x.contains("no pageSetup")), "{p:?}");

    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string_with_format(0, 0, "ein langer Text ".repeat(10), &wrap).unwrap();
    ws.write_string(0, 1, "x").unwrap();
    ws.set_column_width(0, 10).unwrap();
    ws.set_column_width(1, 300).unwrap();
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_footer("&LSeite &P");
    let bytes = wb.save_to_buffer().unwrap();
    let p = check_book("t.xlsx", &bytes);
    assert!(p.iter().any(|x| x.contains("prints at")), "{p:?}");
    assert!(p.iter().any(|x| x.contains("A1: ")), "{p:?}");
    assert!(p.iter().any(|x| x.contains("file name")), "{p:?}");
}

// ---------------------------------------------------------------------------
// The compact annex sheet
// ---------------------------------------------------------------------------

fn dec(s: &str) -> Decimal {
    if s.is_empty() {
        Decimal::ZERO
    } else {
        Decimal::from_str(s).unwrap()
    }
}

fn money(d: &Data) -> Decimal {
    match d {
        Data::Float(f) => Decimal::from_f64_retain(*f).unwrap().round_dp(2),
        Data::Int(i) => Decimal::from(*i),
        other => panic!("not an amount: {other:?}"),
    }
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn anhang() -> calamine::Range<Data> {
    let f = output("Anhang_1_Beitraege_2023.xlsx");
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(f.bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names()[0], "Anhang", "the compact annex is the first sheet");
    assert!(wb.sheet_names().contains(&"Beiträge".to_string()));
    wb.worksheet_range("Anhang").unwrap()
}

#[test]
fn the_compact_annex_has_every_municipality_and_district_subtotals() {
    let range = anhang();
    let rows: Vec<&[Data]> = range.rows().collect();
    let hi = rows.iter().position(|r| text(&r[0]) == "BFS-Nr." && text(&r[6]) == "Total").expect("header");
    let header: Vec<String> = rows[hi].iter().map(text).collect();
    assert_eq!(
        header,
        ["BFS-Nr.", "Gemeinde", "Zahlungsempfänger", "Sockelbeitrag", "Pauschalen", "Rückforderung", "Total", "Status"]
    );
    let expected = read_csv(&sample().join("expected/annex.csv"));
    let by_bfs: BTreeMap<u32, &BTreeMap<String, String>> =
        expected.iter().map(|x| (x["bfs"].parse().unwrap(), x)).collect();
    let m = master();
    let mut seen = BTreeSet::new();
    let mut district: Option<String> = None;
    let mut group_sums = [Decimal::ZERO; 4];
    let mut subtotals = 0;
    let mut kanton = None;
    for r in &rows[hi + 1..] {
        let first = text(&r[0]);
        let label = text(&r[1]);
        if let Some(d) = first.strip_prefix("Bezirk ") {
            district = Some(d.to_string());
            group_sums = [Decimal::ZERO; 4];
            continue;
        }
        if let Data::Float(b) = r[0] {
            let bfs = b as u32;
            assert!(seen.insert(bfs), "{bfs} twice");
            let x = by_bfs.get(&bfs).unwrap_or_else(|| panic!("{bfs} not expected"));
            assert_eq!(label, x["name"]);
            let muni = m.municipality(bfs).unwrap();
            assert_eq!(Some(&muni.district), district.as_ref(), "{bfs} under its district");
            // Payee by name.
            let payee: u32 = x["payee"].parse().unwrap();
            let payee_name = &by_bfs[&payee]["name"];
            let cell = text(&r[2]);
            if payee == bfs {
                assert_eq!(&cell, payee_name);
            } else {
                assert!(cell.contains(payee_name.as_str()) && cell.contains(&payee.to_string()), "{bfs}: {cell}");
            }
            let pauschalen = dec(&x["fall_eg"]) + dec(&x["dolm_eg"]) + dec(&x["fall_ig"]) + dec(&x["dolm_ig"]);
            let want = [dec(&x["sockel"]), pauschalen, dec(&x["rueck"]), dec(&x["total"])];
            for (i, w) in want.iter().enumerate() {
                assert_eq!(money(&r[3 + i]), *w, "{bfs} column {}", header[3 + i]);
                group_sums[i] += *w;
            }
            assert!(text(&r[7]).starts_with(&x["status"]), "{bfs} status");
            continue;
        }
        if let Some(d) = label.strip_prefix("Total Bezirk ") {
            assert_eq!(Some(d), district.as_deref());
            for (i, s) in group_sums.iter().enumerate() {
                assert_eq!(money(&r[3 + i]), *s, "subtotal {d} column {}", header[3 + i]);
            }
            subtotals += 1;
            continue;
        }
        if label == "Total Kanton" {
            kanton = Some(money(&r[6]));
            break;
        }
    }
    assert_eq!(seen.len(), expected.len(), "one row per municipality of the year");
    let districts: BTreeSet<&str> =
        expected.iter().map(|x| m.municipality(x["bfs"].parse().unwrap()).unwrap().district.as_str()).collect();
    assert_eq!(subtotals, districts.len());
    let want_total: Decimal = expected.iter().map(|x| dec(&x["total"])).sum();
    assert_eq!(kanton, Some(want_total));
}

#[test]
fn the_reconciliation_adds_up_to_the_annex_total() {
    let range = anhang();
    let rows: Vec<&[Data]> = range.rows().collect();
    let start = rows.iter().position(|r| text(&r[0]).starts_with("Abstimmung")).expect("reconciliation block");
    let expected = read_csv(&sample().join("expected/annex.csv"));
    let annex_total: Decimal = expected.iter().map(|x| dec(&x["total"])).sum();
    let mut payouts = Decimal::ZERO;
    let mut payout_lines = 0;
    let mut total_payouts = None;
    let mut invoices = Decimal::ZERO;
    let mut result = None;
    let mut difference = None;
    for r in &rows[start + 1..] {
        let label = text(&r[1]);
        if label.is_empty() {
            break;
        }
        let amount = money(&r[6]);
        if label.starts_with("Auszahlung vom") {
            payouts += amount;
            payout_lines += 1;
        } else if label == "Total Auszahlungen" {
            total_payouts = Some(amount);
        } else if label.contains("Rechnung") {
            invoices += amount;
        } else if label.starts_with("Ergibt") {
            result = Some(amount);
        } else if label.starts_with("Differenz") {
            difference = Some(amount);
        }
    }
    assert!(payout_lines >= 2, "payouts by date");
    assert_eq!(total_payouts, Some(payouts));
    // The sample year has one invoice (4.7): Gunzgen's clawback exceeds its payout.
    assert!(invoices < Decimal::ZERO, "the invoice is listed");
    assert_eq!(result, Some(payouts + invoices));
    assert_eq!(result, Some(annex_total));
    assert_eq!(difference, Some(Decimal::ZERO));
    // The approval block follows.
    let all: Vec<String> = rows[start..].iter().flat_map(|r| r.iter().map(text)).collect();
    for want in ["Geprüft", "Genehmigt", "Name und Funktion", "Ort und Datum", "Unterschrift"] {
        assert!(all.iter().any(|t| t == want), "{want} missing");
    }
}

#[test]
fn the_charts_are_native_and_sorted() {
    let f = output("Anhang_1_Beitraege_2023.xlsx");
    let expected = read_csv(&sample().join("expected/annex.csv"));
    let with_base = expected.iter().filter(|x| x["base"] != "0").count();
    let n_charts = (1..50).take_while(|i| zip_entry(&f.bytes, &format!("xl/charts/chart{i}.xml")).is_some()).count();
    assert_eq!(n_charts, 1 + with_base.div_ceil(40), "one district chart, per-head charts of 40");
    let first = zip_entry(&f.bytes, "xl/charts/chart1.xml").unwrap();
    assert!(first.contains("<c:barDir val=\"col\"/>"), "districts: column chart");
    let second = zip_entry(&f.bytes, "xl/charts/chart2.xml").unwrap();
    assert!(second.contains("<c:barDir val=\"bar\"/>"), "per head: bar chart");
    // The per-head data: total / foreign residents, descending.
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(f.bytes.clone())).unwrap();
    let data = wb.worksheet_range("Grafikdaten").unwrap();
    let values: Vec<(u32, Decimal)> = data
        .rows()
        .skip(3)
        .filter_map(|r| match (&r.get(3)?, &r.get(7)?) {
            (Data::Float(b), v @ Data::Float(_)) => Some((*b as u32, money(v))),
            _ => None,
        })
        .collect();
    assert_eq!(values.len(), with_base);
    for w in values.windows(2) {
        assert!(w[0].1 >= w[1].1, "sorted descending");
    }
    for x in &expected {
        if x["base"] == "0" {
            continue;
        }
        let bfs: u32 = x["bfs"].parse().unwrap();
        let want = (dec(&x["total"]) / dec(&x["base"])).round_dp(2);
        let got = values.iter().find(|v| v.0 == bfs).unwrap().1;
        assert_eq!(got, want, "{bfs}");
    }
}
