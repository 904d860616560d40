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
            std::hint::black_box(validate_form(FileResult::new(f), form.clone(), &ctx));
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

    // The same comparison in parallel, as the benchmark reports it.
    use rayon::prelude::*;
    let opts = beitraege::run::EvaluationOptions {
        year: 2023,
        inbox: args[1].clone().into(),
        stammdaten: args[2].clone().into(),
        out: std::env::temp_dir().join("profile_phases_out"),
        threads: None,
        limits: Limits::default(),
        run_date: chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: None,
        progress: None,
        force: false,
        received_by: None,
        buchhaltung: None,
    };
    let paths: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
    for _ in 0..3 {
        let t = Instant::now();
        std::hint::black_box(beitraege::run::evaluate(&opts).unwrap().findings.len());
        let pipeline = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let n: usize = paths
            .par_iter()
            .map(|p| {
                let b = std::fs::read(p).unwrap();
                calamine::open_workbook_auto_from_rs(std::io::Cursor::new(b))
                    .map(|mut wb| {
                        let names = wb.sheet_names().to_vec();
                        names.iter().filter_map(|n| wb.worksheet_range(n).ok()).count()
                    })
                    .unwrap_or(0)
            })
            .sum();
        std::hint::black_box(n);
        let plain = t.elapsed().as_secs_f64();
        println!("parallel: evaluate {:.3} s, calamine {:.3} s, ratio {:.2}", pipeline, plain, pipeline / plain);
    }
}
