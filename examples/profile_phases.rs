//! Where the time of reading an inbox goes, phase by phase, single-threaded:
//! `cargo run --release --example profile_phases -- <inbox> <Stammdaten.xlsx>`.
use beitraege::extract::extract;
use beitraege::scan::{scan, EntryKind};
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::{validate_form, Ctx, FileResult};
use beitraege::workbook::{read_workbook, Limits};
use calamine::Reader;
use sha2::Digest;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t = Instant::now();
    let master = Stammdaten::load(std::path::Path::new(&args[2])).unwrap();
    println!("stammdaten  {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let inbox = scan(std::path::Path::new(&args[1])).unwrap();
    println!("scan        {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let files: Vec<_> = inbox.files.iter().filter(|f| f.kind == EntryKind::Spreadsheet).collect();
    let t = Instant::now();
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(&f.path).unwrap()).collect();
    println!("read bytes  {:>8.1} ms ({} files)", t.elapsed().as_secs_f64() * 1e3, files.len());
    let t = Instant::now();
    for b in &bytes {
        std::hint::black_box(sha2::Sha256::digest(b));
    }
    println!("sha256      {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let wbs: Vec<_> = bytes.iter().map(|b| read_workbook(b, &Limits::default())).collect();
    println!("workbook    {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let forms: Vec<_> = wbs.iter().map(|w| w.as_ref().ok().and_then(extract)).collect();
    println!("extract     {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let ctx = Ctx { year: 2023, master: &master };
    let t = Instant::now();
    for (f, form) in files.iter().zip(&forms) {
        if let Some(form) = form {
            std::hint::black_box(validate_form(FileResult::new(f), form, &ctx));
        }
    }
    println!("validate    {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    for b in &bytes {
        if let Ok(mut wb) = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(b)) {
            for n in wb.sheet_names().to_vec() {
                std::hint::black_box(wb.worksheet_range(&n).ok());
            }
        }
    }
    println!("calamine    {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
}
