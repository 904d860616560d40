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
    /// Each cell format's XML (`<xf …>…</xf>`), for the attributes a test looks at.
    xfs: Vec<String>,
    /// Whether each cell format is a table header's (its fill `#D9E1F2`).
    header: Vec<bool>,
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
    let fills: Vec<bool> = elements(&styles, "fill").iter().map(|(_, inner)| inner.contains("D9E1F2")).collect();
    let header = elements(xfs, "xf")
        .iter()
        .map(|(tag, _)| {
            attr(tag, "fillId").and_then(|i| i.parse::<usize>().ok()).is_some_and(|i| fills.get(i) == Some(&true))
        })
        .collect();
    let xfs_xml = elements(xfs, "xf").iter().map(|(tag, inner)| format!("{tag}{inner}")).collect();
    Book { rel: rel.to_string(), sheets, strings, wraps, valign, xfs: xfs_xml, header }
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
    assert_eq!(statement.sheets.len(), 6);
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

// ---------------------------------------------------------------------------
// Documents as an office prints them (issue 20, item 5)
// ---------------------------------------------------------------------------

/// A written cell: column, row, cell format, its text (shared strings only).
struct Cell {
    c: u32,
    r: u32,
    style: usize,
    text: Option<String>,
}

fn cells(b: &Book, s: &Sheet) -> Vec<Cell> {
    let mut out = Vec::new();
    for (row_tag, inner) in elements(&s.xml, "row") {
        let r: u32 = attr(row_tag, "r").unwrap().parse().unwrap();
        for (c_tag, c_inner) in elements(inner, "c") {
            let style = attr(c_tag, "s").and_then(|v| v.parse().ok()).unwrap_or(0);
            let text = (attr(c_tag, "t").as_deref() == Some("s"))
                .then(|| elements(c_inner, "v").first().map(|(_, v)| b.strings[v.parse::<usize>().unwrap()].clone()))
                .flatten();
            out.push(Cell { c: col_index(&attr(c_tag, "r").unwrap()), r, style, text });
        }
    }
    out
}

/// The pieces a line may break between: at spaces, after `-` and `/`.
fn words(text: &str) -> Vec<&str> {
    text.split([' ', '\n']).flat_map(|w| w.split_inclusive(['-', '/'])).filter(|w| !w.is_empty()).collect()
}

/// Finding codes are capitals, digits and underscores; a capital is wider than a digit
/// (1.1 units, a lenient figure: Calibri's capitals average about that).
fn is_code(w: &str) -> bool {
    let w = w.trim_end_matches(',');
    w.len() >= 6 && w.contains('_') && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Header cells (and finding codes anywhere) whose longest word is wider than the cell:
/// such a word is broken inside («Eingangsdatu|m»). One unit of width per character of a
/// header (bold), 1.1 per capital of a code.
fn broken_words(b: &Book, s: &Sheet) -> Vec<String> {
    let widths = col_widths(&s.xml);
    let merged = merges(&s.xml);
    let mut problems = Vec::new();
    for cell in cells(b, s) {
        let Some(text) = &cell.text else { continue };
        let width = match merged.get(&(cell.c, cell.r)) {
            Some((a, z)) => (*a..=*z).map(|k| width_of(&widths, k)).sum(),
            None => width_of(&widths, cell.c),
        };
        let header = b.header.get(cell.style).copied().unwrap_or(false);
        for w in words(text) {
            let need = if is_code(w) {
                w.trim_end_matches(',').len() as f64 * 1.1
            } else if header {
                w.chars().count() as f64
            } else {
                continue;
            };
            if need > width {
                problems
                    .push(format!("{} / {} row {}: «{w}» needs {need:.1}, column {width:.1}", b.rel, s.name, cell.r));
            }
        }
    }
    problems
}

#[test]
fn no_header_and_no_code_breaks_inside_a_word() {
    let mut problems = Vec::new();
    let mut books: Vec<&OutFile> = outputs().iter().filter(|f| f.rel.ends_with(".xlsx")).collect();
    books.extend(payout_outputs().iter());
    let mut headers = 0;
    for f in books {
        let b = book(&f.rel, &f.bytes);
        for s in &b.sheets {
            headers += cells(&b, s).iter().filter(|c| b.header.get(c.style) == Some(&true)).count();
            problems.extend(broken_words(&b, s));
        }
    }
    assert!(headers > 100, "header cells were checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_finds_a_broken_header_and_a_broken_code() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header = rust_xlsxwriter::Format::new().set_background_color("#D9E1F2").set_text_wrap();
    // 13 characters in a column of 12; a code of 25 capitals in a column of 26.
    ws.write_string_with_format(0, 0, "Eingangsdatum", &header).unwrap();
    ws.write_string_with_format(0, 1, "Eingangs-datum", &header).unwrap();
    ws.write_string(1, 2, "PERSONEN_UNTER_GESPRAECHE").unwrap();
    ws.set_column_width(0, 12).unwrap();
    ws.set_column_width(1, 12).unwrap();
    ws.set_column_width(2, 26).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let b = book("t.xlsx", &bytes);
    let p = broken_words(&b, &b.sheets[0]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("«Eingangsdatum»") && p[1].contains("«PERSONEN_UNTER_GESPRAECHE»"), "{p:?}");
}

#[test]
fn the_befunde_sheet_repeats_bfs_nr_and_gemeinde_on_every_page_wide() {
    let f = output("Befunde_2023.xlsx");
    let b = book(&f.rel, &f.bytes);
    let titles = print_titles(&f.bytes);
    // Row 1 (the header) on every page, columns A:B (BFS-Nr., Gemeinde) on every page wide.
    assert_eq!(titles["Befunde"], "Befunde!$A:$B,Befunde!$1:$1");
    let xml = &b.sheets[0].xml;
    let setup = elements(xml, "pageSetup")[0].0;
    assert_eq!(attr(setup, "orientation").as_deref(), Some("landscape"));
    // Two pages wide: the ten columns do not fit one at a readable scale (checked above).
    assert_eq!(attr(setup, "fitToWidth").as_deref(), Some("2"));
    let widths = col_widths(xml);
    let header: Vec<String> = cells(&b, &b.sheets[0]).into_iter().filter(|c| c.r == 1).filter_map(|c| c.text).collect();
    assert_eq!(&header[..2], ["BFS-Nr.", "Gemeinde"]);
    assert_eq!(header[5], "Code");
    // The longest code, 27 capitals, fits its column.
    assert!(width_of(&widths, 6) >= 27.0 * 1.1, "{}", width_of(&widths, 6));
}

#[test]
fn in_the_overview_the_codes_keep_apart_from_the_counts() {
    // Sheet `Übersicht`, per municipality: Fehler, Warnungen, Hinweise (numbers, right-
    // aligned), then the codes: left-aligned with an indent (without a horizontal
    // alignment, the apps ignore the indent and «0» touches «SD_FEHLT»).
    let f = output("Befunde_2023.xlsx");
    let b = book(&f.rel, &f.bytes);
    let s = b.sheets.iter().find(|s| s.name == "Übersicht").unwrap();
    let all = cells(&b, s);
    let header = all.iter().find(|c| c.text.as_deref() == Some("Codes")).expect("header Codes");
    assert_eq!(header.c, 6);
    let codes: Vec<&Cell> = all.iter().filter(|c| c.c == 6 && c.r > header.r).collect();
    assert!(codes.len() > 20, "a row per municipality with findings");
    for c in codes {
        let xf = &b.xfs[c.style];
        let alignment = elements(xf, "alignment").first().map(|(t, _)| *t).expect("aligned");
        assert_eq!(attr(alignment, "horizontal").as_deref(), Some("left"), "row {}", c.r);
        assert!(attr(alignment, "indent").and_then(|i| i.parse::<u32>().ok()).unwrap_or(0) >= 1, "row {}", c.r);
    }
}

/// Text cells not wrapped whose text is wider than the room it has: its own column and,
/// when those cells are empty, the columns to its right up to the sheet's last (text runs
/// over empty cells, is cut at a filled one, and runs off the page after the last column).
/// 0.9 units per character (a lenient figure for 11 pt text); the title row is left out.
fn cut_texts(b: &Book, s: &Sheet) -> Vec<String> {
    let widths = col_widths(&s.xml);
    let merged = merges(&s.xml);
    let all = cells(b, s);
    let last = last_col(&s.xml);
    let filled: BTreeSet<(u32, u32)> = all.iter().map(|c| (c.c, c.r)).collect();
    let mut problems = Vec::new();
    for cell in &all {
        let Some(text) = &cell.text else { continue };
        if cell.r == 1 || b.wraps.get(cell.style).copied().unwrap_or(false) {
            continue;
        }
        let mut room = match merged.get(&(cell.c, cell.r)) {
            Some((a, z)) => (*a..=*z).map(|k| width_of(&widths, k)).sum(),
            None => width_of(&widths, cell.c),
        };
        let mut k = cell.c + 1;
        while !merged.contains_key(&(cell.c, cell.r)) && k <= last && !filled.contains(&(k, cell.r)) {
            room += width_of(&widths, k);
            k += 1;
        }
        let need = text.chars().count() as f64 * 0.9;
        if need > room {
            problems.push(format!("{} / {} {}{}: {need:.0} > {room:.0} ({text:.40})", b.rel, s.name, cell.c, cell.r));
        }
    }
    problems
}

#[test]
fn the_payout_run_prints_holders_whole_ibans_in_groups_and_subtitles_within_the_page() {
    let files = payout_outputs();
    let release = files.last().unwrap();
    let mut problems = Vec::new();
    for f in [&files[0], release] {
        let b = book(&f.rel, &f.bytes);
        for s in &b.sheets {
            problems.extend(cut_texts(&b, s));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for f in [&files[0], release] {
        let b = book(&f.rel, &f.bytes);
        let s = &b.sheets[0];
        let all = cells(&b, s);
        let col_of = |label: &str| all.iter().find(|c| c.r == 4 && c.text.as_deref() == Some(label)).unwrap().c;
        let (holder, iban) = (col_of("Kontoinhaber"), col_of("IBAN"));
        let mut ibans = 0;
        for c in all.iter().filter(|c| c.r > 4) {
            if c.c == holder {
                assert!(b.wraps[c.style], "{}: the holder wraps (row {})", f.rel, c.r);
            }
            if let (true, Some(t)) = (c.c == iban, c.text.as_ref().filter(|t| !t.is_empty())) {
                let groups: Vec<&str> = t.split(' ').collect();
                assert!(t.starts_with("CH") && groups.len() == 6, "{t}");
                assert!(groups[..5].iter().all(|g| g.len() == 4) && groups[5].len() == 1, "{t}");
                ibans += 1;
            }
        }
        assert!(ibans > 10, "{}: IBANs checked", f.rel);
    }
    // The subtitle of `Rechnungen` spans the table and wraps.
    let b = book(&files[0].rel, &files[0].bytes);
    let s = b.sheets.iter().find(|s| s.name == "Rechnungen").unwrap();
    assert_eq!(merges(&s.xml).get(&(1, 2)), Some(&(1, 4)), "A2:D2 merged");
}

#[test]
fn the_checker_finds_a_cut_text() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Titel").unwrap();
    // Runs over the empty B2 but not past the filled C2: 24 characters need 21.6 of 20.
    ws.write_string(1, 0, "x".repeat(24)).unwrap();
    ws.write_string(1, 2, "c").unwrap();
    // Cut by the filled B3.
    ws.write_string(2, 0, "y".repeat(12)).unwrap();
    ws.write_string(2, 1, "b").unwrap();
    // Fits: 10 characters need 9 of the 10 units.
    ws.write_string(3, 0, "z".repeat(10)).unwrap();
    ws.write_string(3, 1, "b").unwrap();
    for c in 0..3 {
        ws.set_column_width(c, 10.71).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let b = book("t.xlsx", &bytes);
    let p = cut_texts(&b, &b.sheets[0]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains(" 12:") && p[1].contains(" 13:"), "{p:?}");
}

/// The printable height of portrait A4 within the margins the outputs use (0.6 and 0.7
/// inches), in points.
const PAGE_PT: f64 = (297.0 / 25.4 - 1.3) * 72.0;

#[test]
fn every_rebuilt_form_prints_on_one_page() {
    let feedback: Vec<&OutFile> =
        outputs().iter().filter(|f| f.rel.starts_with("Rueckmeldungen/") && f.rel.ends_with(".xlsx")).collect();
    let mut forms = 0;
    let mut fitted = 0;
    for f in feedback {
        let b = book(&f.rel, &f.bytes);
        // The rebuilt forms are `Formular 1`, `Formular 2`, …; a lead's table of contract
        // municipalities (`Formular 1 – Vertragsgemeinden`) is a landscape table.
        for s in b.sheets.iter().filter(|s| s.name.starts_with("Formular ") && !s.name.contains("Vertragsgemeinden")) {
            forms += 1;
            let last = elements(&s.xml, "row").iter().map(|(t, _)| attr(t, "r").unwrap().parse::<u32>().unwrap()).max();
            let heights: BTreeMap<u32, f64> = elements(&s.xml, "row")
                .iter()
                .filter_map(|(t, _)| Some((attr(t, "r")?.parse().ok()?, attr(t, "ht")?.parse().ok()?)))
                .collect();
            let total: f64 = (1..=last.unwrap_or(1)).map(|r| heights.get(&r).copied().unwrap_or(15.0)).sum();
            if total <= PAGE_PT {
                continue;
            }
            let setup = elements(&s.xml, "pageSetup")[0].0;
            assert!(s.xml.contains("fitToPage=\"1\""), "{} / {}: {total} pt", f.rel, s.name);
            // fitToHeight defaults to 1 (the attribute is then left out).
            assert_eq!(attr(setup, "fitToHeight").as_deref().unwrap_or("1"), "1", "{} / {}", f.rel, s.name);
            assert!(PAGE_PT / total >= 0.8, "{} / {}: {total} pt prints at {:.2}", f.rel, s.name, PAGE_PT / total);
            fitted += 1;
        }
    }
    assert!(forms > 10, "rebuilt forms checked");
    assert!(fitted > 0, "some rebuilt forms are longer than a page");
}

/// The annex PDF's pages as drawn (text, lines and boxes in mm), for the sample year.
fn annex_pages() -> &'static Vec<beitraege::documents::pdf::Page> {
    static P: OnceLock<Vec<beitraege::documents::pdf::Page>> = OnceLock::new();
    P.get_or_init(|| {
        let opts = sample_options(std::path::Path::new("/nonexistent"), None);
        let e = evaluate(&opts).expect("sample year evaluates");
        let d = beitraege::write::EvaluationData {
            year: e.year,
            run_date: opts.run_date,
            master: &e.master,
            resolved: &e.resolved,
            comp: &e.comp,
            findings: &e.findings,
            contact: "AGS",
            version: "test",
            ledger: None,
        };
        beitraege::documents::annex_pdf::pages(&d)
    })
}

/// A page's texts: (x, y, width, bold, text).
fn texts(p: &beitraege::documents::pdf::Page) -> Vec<(f32, f32, f32, bool, String)> {
    use beitraege::documents::pdf::{width, Op};
    p.ops
        .iter()
        .filter_map(|o| match o {
            Op::Text { x, y, size, bold, text } => Some((*x, *y, width(text, *size, *bold), *bold, text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn in_the_annex_pdf_no_text_touches_the_next() {
    // Texts on one line keep at least 1 mm apart (a long name wraps instead of running
    // into the payee or the amounts).
    let mut problems = Vec::new();
    let mut pairs = 0;
    for (i, p) in annex_pages().iter().enumerate() {
        let mut t = texts(p);
        t.retain(|x| !x.4.is_empty());
        t.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
        for w in t.windows(2) {
            if (w[0].1 - w[1].1).abs() < 0.01 {
                pairs += 1;
                if w[0].0 + w[0].2 + 1.0 > w[1].0 {
                    problems.push(format!("page {}: «{}» touches «{}»", i + 1, w[0].4, w[1].4));
                }
            }
        }
    }
    assert!(pairs > 500, "{pairs}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn in_the_annex_pdf_a_district_total_never_opens_a_page() {
    // On every page of the table, the first line under the repeated header is a
    // municipality or a district's label, never a `Total Bezirk …`.
    let mut table_pages = 0;
    for (i, p) in annex_pages().iter().enumerate() {
        let t = texts(p);
        let Some(head) = t.iter().find(|x| x.3 && x.4 == "Gemeinde").map(|x| x.1) else { continue };
        table_pages += 1;
        // The header takes two lines; the first row is the next line below them.
        let first_y = t.iter().filter(|x| x.1 > head + 4.0).map(|x| x.1).fold(f32::MAX, f32::min);
        let first: Vec<&str> = t.iter().filter(|x| (x.1 - first_y).abs() < 0.01).map(|x| x.4.as_str()).collect();
        assert!(!first.iter().any(|s| s.starts_with("Total")), "page {}: {first:?}", i + 1);
    }
    assert!(table_pages >= 3, "{table_pages}");
}

#[test]
fn in_the_annex_pdf_the_per_head_chart_is_not_dominated_by_one_bar() {
    use beitraege::documents::pdf::Op;
    // The bars of the chart «Beitrag je Person …»: the median bar is at least a tenth of
    // the longest (one municipality far above the rest is drawn cut).
    let mut bars: Vec<f32> = Vec::new();
    for p in annex_pages() {
        if !texts(p).iter().any(|x| x.4.starts_with("Beitrag je Person")) {
            continue;
        }
        bars.extend(p.ops.iter().filter_map(|o| match o {
            Op::Rect { w, gray: 90, .. } => Some(*w),
            _ => None,
        }));
    }
    let expected = read_csv(&sample().join("expected/annex.csv"));
    assert_eq!(bars.len(), expected.iter().filter(|x| x["base"] != "0").count());
    bars.sort_by(f32::total_cmp);
    let (median, longest) = (bars[bars.len() / 2], bars[bars.len() - 1]);
    assert!(median >= longest / 10.0, "median {median} mm, longest {longest} mm");
}
