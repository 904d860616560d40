//! A generator for large synthetic inboxes, for benchmarks and scale tests.
//!
//! It writes an inbox of any size with every input format (xlsx, xlsm, xls, ods), plus the
//! noise a real inbox has (lock files, PDFs, a non-form workbook), a receipt journal, and
//! master data that matches: the sample year's `Stammdaten.xlsx` extended by as many
//! synthetic municipalities as needed (BFS-Nr. from 3001 on). The forms follow the
//! templates of FORMS.md (laid out from [`crate::extract`]'s field lists) and cover several
//! years, both half-years, Selbstdeklarationen and later corrections. xls files are copies
//! of the template folder's xls forms (made distinct by a trailer past the compound file).
//! Everything is deterministic for a given [`SynthOptions`].

use crate::extract::{
    REPORTING_FIELDS, REPORTING_HEADINGS, REPORTING_SHEET, REPORTING_TITLE, SD_FIELDS, SD_SHEET, SD_TITLE,
};
use crate::fields::FormField as F;
use crate::workbook::{read_workbook, Limits, Value};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook as XlsxBook};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Number of form files (the noise files come on top, about 1 %).
    pub forms: usize,
    /// The run year the inbox is for.
    pub year: i32,
    /// The sample year's folder (`samples/2023`): its `Stammdaten.xlsx` is extended and its
    /// inbox's `.xls` forms are the templates of the xls files.
    pub template: PathBuf,
    pub seed: u64,
}

impl SynthOptions {
    pub fn new(forms: usize, template: impl Into<PathBuf>) -> Self {
        SynthOptions { forms, year: 2023, template: template.into(), seed: 42 }
    }
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct SynthInbox {
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    /// Files in the inbox (forms and noise, the journal not counted).
    pub files: usize,
    pub municipalities: usize,
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

#[derive(Debug, Clone)]
enum Cell {
    Num(f64),
    Text(String),
    Date(NaiveDate),
}

/// A one-sheet form: cells by (row, col), zero-based, and defined names → (row, col).
struct Form {
    sheet: &'static str,
    cells: Vec<(u32, u32, Cell)>,
    names: Vec<(&'static str, u32)>,
}

struct Muni {
    bfs: u32,
    name: String,
    foreign: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Sd,
    Half(u8),
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn reporting(m: &Muni, year: i32, half: u8, rng: &mut Rng, received: NaiveDate) -> Form {
    let cap = (m.foreign / 20).max(3);
    let eg = rng.below(cap);
    let mut cells = vec![(0, 0, Cell::Text(REPORTING_TITLE.into()))];
    for (label, row) in REPORTING_HEADINGS {
        cells.push((row - 1, 0, Cell::Text((*label).into())));
    }
    let mut names = Vec::new();
    for f in REPORTING_FIELDS {
        let r = f.row - 1;
        cells.push((r, 0, Cell::Text(f.label.into())));
        let v = match f.field {
            F::SiVersion => Some(Cell::Num(2022.0)),
            F::SiGemeinde => Some(Cell::Text(m.name.clone())),
            F::SiBfsNr => Some(Cell::Num(m.bfs as f64)),
            F::SiJahr => Some(Cell::Num(year as f64)),
            F::SiHalbjahr => Some(Cell::Num(half as f64)),
            F::SiBeauftragte => Some(Cell::Text(format!("Integration {}", m.name))),
            F::SiEmail => Some(Cell::Text(format!("integration@gemeinde-{}.ch", m.bfs))),
            F::SiDatum => Some(Cell::Date(received)),
            F::SiEgAnzahl => Some(Cell::Num(eg as f64)),
            F::SiEgDolmetsch => Some(Cell::Num(rng.below(eg / 3 + 1) as f64)),
            F::SiEgDolmetschAndere => Some(Cell::Num(rng.below(3) as f64)),
            F::SiEgPersonen => Some(Cell::Num((eg + rng.below(eg + 1)) as f64)),
            F::SiInfomappen => Some(Cell::Num(rng.below(10) as f64)),
            F::SiNeuzuzuege => Some(Cell::Num((eg + rng.below(20)) as f64)),
            F::SiIgAnzahl => Some(Cell::Num(rng.below(cap / 2 + 1) as f64)),
            F::SiIgDolmetsch => Some(Cell::Num(0.0)),
            F::SiMeldungen => Some(Cell::Num(rng.below(2) as f64)),
            _ => None,
        };
        if let Some(v) = v {
            cells.push((r, 1, v));
        }
        names.push((f.name, r));
    }
    Form { sheet: REPORTING_SHEET, cells, names }
}

fn selbstdeklaration(m: &Muni, year: i32, received: NaiveDate) -> Form {
    let mut cells = vec![(0, 0, Cell::Text(SD_TITLE.into()))];
    let mut names = Vec::new();
    for f in SD_FIELDS {
        let r = f.row - 1;
        cells.push((r, 0, Cell::Text(f.label.into())));
        let v = match f.field {
            F::SdVersion => Some(Cell::Num(2022.0)),
            F::SdGemeinde => Some(Cell::Text(m.name.clone())),
            F::SdBfsNr => Some(Cell::Num(m.bfs as f64)),
            F::SdJahr => Some(Cell::Num(year as f64)),
            F::SdBeauftragte => Some(Cell::Text(format!("Integration {}", m.name))),
            F::SdFunktion => Some(Cell::Text("Gemeindeschreiber/in".into())),
            F::SdEmail => Some(Cell::Text(format!("integration@gemeinde-{}.ch", m.bfs))),
            F::SdDatum => Some(Cell::Date(received)),
            k if k.is_question() => Some(Cell::Text("Ja".into())),
            _ => None,
        };
        if let Some(v) = v {
            cells.push((r, 1, v));
        }
        names.push((f.name, r));
    }
    Form { sheet: SD_SHEET, cells, names }
}

fn xlsx_bytes(form: &Form) -> Result<Vec<u8>> {
    let mut wb = XlsxBook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let ws = wb.add_worksheet();
    ws.set_name(form.sheet)?;
    ws.set_column_width(0, 60)?;
    ws.set_column_width(1, 30)?;
    for (r, c, v) in &form.cells {
        match v {
            Cell::Num(n) => ws.write_number(*r, *c as u16, *n)?,
            Cell::Text(t) => ws.write_string(*r, *c as u16, t)?,
            Cell::Date(d) => ws.write_date_with_format(*r, *c as u16, *d, &date)?,
        };
    }
    for (name, r) in &form.names {
        wb.define_name(*name, &format!("={}!$B${}", form.sheet, r + 1))?;
    }
    Ok(wb.save_to_buffer()?)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A minimal but valid OpenDocument spreadsheet, written by hand.
fn ods_bytes(form: &Form) -> Result<Vec<u8>> {
    let mut x = String::with_capacity(8 * 1024);
    x.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content "#,
        r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
        r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" "#,
        r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">"#,
        r#"<office:body><office:spreadsheet>"#
    ));
    let _ = write!(x, r#"<table:table table:name="{}">"#, esc(form.sheet));
    let max_row = form.cells.iter().map(|c| c.0).max().unwrap_or(0);
    for r in 0..=max_row {
        x.push_str("<table:table-row>");
        for c in 0..2u32 {
            match form.cells.iter().find(|(rr, cc, _)| *rr == r && *cc == c).map(|t| &t.2) {
                None => x.push_str("<table:table-cell/>"),
                Some(Cell::Num(n)) => {
                    let _ = write!(
                        x,
                        r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                    );
                }
                Some(Cell::Text(t)) => {
                    let _ = write!(
                        x,
                        r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                        esc(t)
                    );
                }
                Some(Cell::Date(d)) => {
                    let _ = write!(
                        x,
                        r#"<table:table-cell office:value-type="date" office:date-value="{}"><text:p>{}</text:p></table:table-cell>"#,
                        d.format("%Y-%m-%d"),
                        d.format("%d.%m.%Y")
                    );
                }
            }
        }
        x.push_str("</table:table-row>");
    }
    x.push_str("</table:table><table:named-expressions>");
    for (name, r) in &form.names {
        let _ = write!(
            x,
            r#"<table:named-range table:name="{name}" table:base-cell-address="${s}.$A$1" table:cell-range-address="${s}.$B${}"/>"#,
            r + 1,
            s = esc(form.sheet)
        );
    }
    x.push_str("</table:named-expressions></office:spreadsheet></office:body></office:document-content>");
    let manifest = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">"#,
        r#"<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>"#,
        r#"<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file("mimetype", stored)?;
        z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
        z.start_file("META-INF/manifest.xml", deflated)?;
        z.write_all(manifest.as_bytes())?;
        z.start_file("content.xml", deflated)?;
        z.write_all(x.as_bytes())?;
        z.finish()?;
    }
    Ok(buf.into_inner())
}

fn value_cell(ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, v: &Value, date: &Format) -> Result<()> {
    match v {
        Value::Int(i) => ws.write_number(r, c, *i as f64).map(|_| ())?,
        Value::Float(f) => ws.write_number(r, c, *f).map(|_| ())?,
        Value::Text(t) => ws.write_string(r, c, t).map(|_| ())?,
        Value::Bool(b) => ws.write_boolean(r, c, *b).map(|_| ())?,
        Value::Date(d) => ws.write_date_with_format(r, c, *d, date).map(|_| ())?,
        Value::Empty | Value::Error(_) => {}
    }
    Ok(())
}

/// The template's master data with `extra` synthetic municipalities appended.
fn stammdaten(template: &Path, year: i32, extra: &[Muni]) -> Result<Vec<u8>> {
    let bytes = std::fs::read(template).with_context(|| format!("{}", template.display()))?;
    let limits = Limits { max_rows: 1_000_000, max_cells: 5_000_000, ..Limits::default() };
    let src = read_workbook(&bytes, &limits).map_err(|e| anyhow::anyhow!("{}: {e}", template.display()))?;
    let mut wb = XlsxBook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for sheet in &src.sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name)?;
        let mut last = 0;
        for ((r, c), v) in sheet.cells() {
            value_cell(ws, *r, *c as u16, v, &date)?;
            last = last.max(*r);
        }
        let mut r = last + 1;
        match sheet.name.as_str() {
            "Gemeinden" => {
                for m in extra {
                    ws.write_number(r, 0, m.bfs as f64)?;
                    ws.write_string(r, 1, &m.name)?;
                    ws.write_string(r, 2, "Synthetisch")?;
                    r += 1;
                }
            }
            "Wohnbevölkerung" => {
                for m in extra {
                    for y in [year - 3, year - 2] {
                        ws.write_number(r, 0, m.bfs as f64)?;
                        ws.write_date_with_format(r, 1, ymd(y, 12, 31), &date)?;
                        ws.write_number(r, 2, m.foreign as f64)?;
                        ws.write_string(r, 3, "synthetisch")?;
                        r += 1;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// Writes a synthetic inbox (`<dir>/inbox`) and its master data (`<dir>/Stammdaten.xlsx`).
pub fn generate(dir: &Path, opts: &SynthOptions) -> Result<SynthInbox> {
    let mut rng = Rng(opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let inbox = dir.join("inbox");
    if inbox.exists() {
        std::fs::remove_dir_all(&inbox).with_context(|| format!("{}", inbox.display()))?;
    }
    std::fs::create_dir_all(&inbox)?;
    // Six forms per municipality: SD, H1, H2 of the year and of the year before.
    let n_muni = opts.forms.div_ceil(6).clamp(100, 6_999);
    let munis: Vec<Muni> = (0..n_muni)
        .map(|i| Muni { bfs: 3001 + i as u32, name: format!("Synthdorf {}", i + 1), foreign: 50 + rng.below(3000) })
        .collect();
    let stammdaten_path = dir.join("Stammdaten.xlsx");
    std::fs::write(&stammdaten_path, stammdaten(&opts.template.join("Stammdaten.xlsx"), opts.year, &munis)?)?;

    let mut xls_templates = Vec::new();
    if let Ok(rd) = std::fs::read_dir(opts.template.join("inbox")) {
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xls")) {
                xls_templates.push(std::fs::read(&p)?);
            }
        }
    }

    let mut journal = String::from("Datei;Eingangsdatum\n");
    let mut files = 0usize;
    for k in 0..opts.forms {
        let m = &munis[k % n_muni];
        let slot = k / n_muni;
        let year = opts.year - (slot / 3 % 2) as i32;
        let correction = slot >= 6;
        let kind = match slot % 3 {
            0 => Kind::Sd,
            1 => Kind::Half(1),
            _ => Kind::Half(2),
        };
        let mut received = match kind {
            Kind::Sd => ymd(year, 1, 10 + (k % 15) as u32),
            Kind::Half(1) => ymd(year, 7, 1 + (k % 25) as u32),
            Kind::Half(_) => ymd(year + 1, 1, 5 + (k % 20) as u32),
        };
        if correction {
            received += chrono::Duration::days(3);
        }
        let form = match kind {
            Kind::Sd => selbstdeklaration(m, year, received),
            Kind::Half(h) => reporting(m, year, h, &mut rng, received),
        };
        let what = match kind {
            Kind::Sd => "Selbstdeklaration".to_string(),
            Kind::Half(h) => format!("Reporting_H{h}"),
        };
        let folder = format!("{year}-{:02}", received.format("%m"));
        let stem = format!("{folder}/{what}_{year}_{}_{}{}", m.bfs, k, if correction { "_korr" } else { "" });
        // Formats: 80 % xlsx, 5 % xlsm, 10 % ods, 5 % xls (copies of the template xls forms).
        let pick = k % 20;
        let (rel, bytes) = if pick == 7 && !xls_templates.is_empty() {
            let mut b = xls_templates[k % xls_templates.len()].clone();
            b.extend_from_slice(format!("synth-{k:08}").as_bytes());
            (format!("{stem}.xls"), b)
        } else if pick == 3 || pick == 13 {
            (format!("{stem}.ods"), ods_bytes(&form)?)
        } else if pick == 11 {
            (format!("{stem}.xlsm"), xlsx_bytes(&form)?)
        } else {
            (format!("{stem}.xlsx"), xlsx_bytes(&form)?)
        };
        let path = inbox.join(&rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(&path, bytes)?;
        let _ = writeln!(journal, "{rel};{}", received.format("%d.%m.%Y"));
        files += 1;
        // Noise, about 1 %: a lock file, a scan, a workbook that is no form.
        if k % 100 == 50 {
            let noise: [(String, Vec<u8>); 3] = [
                (format!("{folder}/~${what}_{k}.xlsx"), vec![0u8; 165]),
                (format!("{folder}/Scan_{k}.pdf"), b"%PDF-1.4\n% synthetisch\n".to_vec()),
                (format!("{folder}/Budget_{k}.xlsx"), {
                    let mut wb = XlsxBook::new();
                    let ws = wb.add_worksheet();
                    ws.write_string(0, 0, "Konto")?;
                    ws.write_number(1, 0, 3630.0)?;
                    wb.save_to_buffer()?
                }),
            ];
            for (rel, b) in noise {
                std::fs::write(inbox.join(&rel), b)?;
                files += 1;
            }
        }
    }
    std::fs::write(inbox.join(crate::scan::JOURNAL), journal)?;
    Ok(SynthInbox { inbox, stammdaten: stammdaten_path, files, municipalities: n_muni })
}

/// An ods with one sheet whose `<table:table>` body is `table` (raw XML).
pub fn ods_with_table(sheet: &str, table: &str) -> Result<Vec<u8>> {
    let bytes = ods_bytes(&Form { sheet: "x", cells: Vec::new(), names: Vec::new() })?;
    // Replace the (empty) generated table by the raw body.
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut content = String::new();
    std::io::Read::read_to_string(&mut z.by_name("content.xml")?, &mut content)?;
    let start = content.find("<table:table ").unwrap_or(0);
    let end = content.find("</table:table>").map(|i| i + "</table:table>".len()).unwrap_or(start);
    let content = format!(
        r#"{}<table:table table:name="{}">{table}</table:table>{}"#,
        &content[..start],
        esc(sheet),
        &content[end..]
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for i in 0..z.len() {
            let mut f = z.by_index(i)?;
            let name = f.name()?.to_string();
            let method =
                if name == "mimetype" { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
            w.start_file(name.as_str(), zip::write::SimpleFileOptions::default().compression_method(method))?;
            if name == "content.xml" {
                w.write_all(content.as_bytes())?;
            } else {
                std::io::copy(&mut f, &mut w)?;
            }
        }
        w.finish()?;
    }
    Ok(buf.into_inner())
}

/// An xlsx whose first worksheet inflates to `size` bytes of valid XML (a zip bomb);
/// with `declared`, every header claims that size instead (a lying bomb).
pub fn zip_bomb_xlsx(size: u64, declared: Option<u32>) -> Result<Vec<u8>> {
    let m = Muni { bfs: 2401, name: "Egerkingen".into(), foreign: 1000 };
    let base = xlsx_bytes(&reporting(&m, 2023, 1, &mut Rng(7), ymd(2023, 7, 10)))?;
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(base))?;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(size > u32::MAX as u64 / 2);
        for i in 0..src.len() {
            let mut f = src.by_index(i)?;
            let name = f.name()?.to_string();
            z.start_file(name.as_str(), opts)?;
            if name == "xl/worksheets/sheet1.xml" {
                let head = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
                z.write_all(head)?;
                let chunk = b"<row/>".repeat(1 << 18);
                let mut written = head.len() as u64;
                while written < size {
                    z.write_all(&chunk)?;
                    written += chunk.len() as u64;
                }
                z.write_all(b"</sheetData></worksheet>")?;
            } else {
                std::io::copy(&mut f, &mut z)?;
            }
        }
        z.finish()?;
    }
    let mut zip = buf.into_inner();
    if let Some(d) = declared {
        lie_about_size(&mut zip, "xl/worksheets/sheet1.xml", d);
    }
    Ok(zip)
}

// The tests' zip surgery, shared so that the bench's lying zip bomb is the tests' one.
#[path = "../tests/it/common/zip.rs"]
mod zip_surgery;
pub use zip_surgery::lie_about_size;

/// Writes an inbox of hostile files into `inbox`; returns their names with the code each
/// must get (`""`: read normally). The zip bombs inflate to `bomb_bytes`.
pub fn write_hostile(inbox: &Path, bomb_bytes: u64) -> Result<Vec<(String, &'static str)>> {
    std::fs::create_dir_all(inbox)?;
    let m = Muni { bfs: 2401, name: "Egerkingen".into(), foreign: 1000 };
    let mut stray = reporting(&m, 2023, 1, &mut Rng(7), ymd(2023, 7, 10));
    stray.cells.push((1_048_575, 16_383, Cell::Text("x".into())));
    let mut ods_stray = String::new();
    let plain = reporting(&m, 2023, 2, &mut Rng(9), ymd(2024, 1, 10));
    for r in 0..25u32 {
        ods_stray.push_str("<table:table-row>");
        for c in 0..2u32 {
            match plain.cells.iter().find(|(rr, cc, _)| *rr == r && *cc == c).map(|t| &t.2) {
                Some(Cell::Num(n)) => {
                    let _ = write!(ods_stray, r#"<table:table-cell office:value-type="float" office:value="{n}"/>"#);
                }
                Some(Cell::Text(t)) => {
                    let _ = write!(
                        ods_stray,
                        r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                        esc(t)
                    );
                }
                _ => ods_stray.push_str("<table:table-cell/>"),
            }
        }
        ods_stray.push_str("</table:table-row>");
    }
    ods_stray.push_str(r#"<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="16383"/><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>"#);
    let repeats = r#"<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>"#;
    let mut oversized = b"PK\x03\x04".to_vec();
    oversized.resize(25 * 1024 * 1024, b'x');
    let files: Vec<(String, &'static str, Vec<u8>)> = vec![
        ("Reporting_Streuzelle.xlsx".into(), "", xlsx_bytes(&stray)?),
        ("Reporting_Streuzelle.ods".into(), "", ods_with_table("Reporting", &ods_stray)?),
        ("Bombe.xlsx".into(), "DATEI_ZU_GROSS", zip_bomb_xlsx(bomb_bytes, None)?),
        ("Bombe_falsche_Groesse.xlsx".into(), "DATEI_ZU_GROSS", zip_bomb_xlsx(bomb_bytes, Some(4096))?),
        ("Wiederholungen.ods".into(), "DATEI_ZU_GROSS", ods_with_table("Reporting", repeats)?),
        ("Riesig.xlsx".into(), "DATEI_ZU_GROSS", oversized),
        ("Abfall.xls".into(), "DATEI_UNLESBAR", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 kein Verbunddokument".to_vec()),
    ];
    let mut out = Vec::new();
    for (name, code, bytes) in files {
        std::fs::write(inbox.join(&name), bytes)?;
        out.push((name, code));
    }
    Ok(out)
}
