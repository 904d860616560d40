//! `cargo bench` (or `just bench`): per-file read + validation, whole runs, and the same
//! files read by plain calamine, then a report of the figures the README quotes.
//!
//! - criterion groups `datei` (one form per format: pipeline vs plain calamine),
//!   `lauf` (the sample year, a whole run with outputs) and `inbox` (the synthetic inbox:
//!   `evaluate` vs a plain parallel calamine read of the same files, and a whole run);
//! - then a report: wall time and peak resident memory of the release binary as a child
//!   process (sample year, synthetic inbox, hostile inbox), and the pipeline's overhead
//!   over plain calamine as a ratio.
//!
//! The synthetic inbox (`BEITRAEGE_BENCH_FORMS` forms, default 10,000) is generated once
//! into `<target>/bench-synth-<N>` by `beitraege::synth`. `BEITRAEGE_BENCH_BOMB_MB` sets
//! the inflated size of the hostile zip bombs (default 1024).

use beitraege::extract::extract;
use beitraege::run::{evaluate, run, EvaluationOptions};
use beitraege::scan::{EntryKind, InboxFile};
use beitraege::stammdaten::Stammdaten;
use beitraege::synth::{generate, write_hostile, SynthOptions};
use beitraege::validate::{validate_form, Ctx, FileResult};
use beitraege::workbook::{read_workbook, Limits};
use calamine::Reader;
use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion, SamplingMode};
use rayon::prelude::*;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

fn options(inbox: &Path, stammdaten: &Path, out: &Path) -> EvaluationOptions {
    EvaluationOptions {
        year: 2023,
        inbox: inbox.to_path_buf(),
        stammdaten: stammdaten.to_path_buf(),
        out: out.to_path_buf(),
        threads: None,
        limits: Limits::default(),
        run_date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: None,
        progress: None,
        force: false,
        received_by: None,
        buchhaltung: None,
    }
}

/// The synthetic inbox, generated once per size.
fn synthetic(forms: usize) -> (PathBuf, PathBuf) {
    let dir = target_dir().join(format!("bench-synth-{forms}"));
    let marker = dir.join(".fertig");
    if !marker.exists() {
        eprintln!("Erzeuge synthetischen Eingang mit {forms} Formularen in {} …", dir.display());
        let _ = std::fs::remove_dir_all(&dir);
        generate(&dir, &SynthOptions::new(forms, root().join("samples/2023"))).expect("generate");
        std::fs::write(&marker, b"").unwrap();
    }
    (dir.join("inbox"), dir.join("Stammdaten.xlsx"))
}

fn spreadsheet_files(inbox: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![inbox.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("xlsx" | "xlsm" | "xls" | "ods")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A plain calamine read: open the workbook and read every sheet's range.
fn calamine_read(bytes: &[u8]) -> usize {
    match calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)) {
        Ok(mut wb) => {
            let names = wb.sheet_names().to_vec();
            names.iter().filter_map(|n| wb.worksheet_range(n).ok()).map(|r| r.get_size().0).sum()
        }
        Err(_) => 0,
    }
}

fn calamine_inbox(files: &[PathBuf]) -> usize {
    files.par_iter().map(|p| calamine_read(&std::fs::read(p).unwrap())).sum()
}

fn pipeline_file(bytes: &[u8], ctx: &Ctx<'_>, f: &InboxFile) -> usize {
    let Ok(wb) = read_workbook(bytes, &Limits::default()) else { return 0 };
    let Some(form) = extract(&wb) else { return 0 };
    validate_form(FileResult::new(f), form, ctx).findings.len()
}

fn sample_form(ext: &str) -> (Vec<u8>, InboxFile) {
    let p = spreadsheet_files(&root().join("samples/2023/inbox"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == ext) && p.to_string_lossy().contains("Reporting"))
        .unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let f = InboxFile {
        rel: p.file_name().unwrap().to_string_lossy().to_string(),
        path: p.clone(),
        kind: EntryKind::Spreadsheet,
        size: bytes.len() as u64,
        received: NaiveDate::from_ymd_opt(2023, 7, 20),
        received_from: None,
    };
    (bytes, f)
}

fn median(mut f: impl FnMut() -> Duration, n: usize) -> Duration {
    let mut v: Vec<Duration> = (0..n).map(|_| f()).collect();
    v.sort();
    v[n / 2]
}

/// Runs the release binary as a child; returns (wall, peak RSS in MB, exit code).
// The child is reaped by `wait4` (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn child_run(args: &[&std::ffi::OsStr]) -> (Duration, f64, i32) {
    let t = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_beitraege"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn beitraege");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child and fills a zeroed rusage struct.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = t.elapsed();
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    (wall, usage.ru_maxrss as f64 / 1024.0, code)
}

fn run_args(inbox: &Path, stammdaten: &Path, out: &Path) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> =
        ["run", "--year", "2023", "--datum", "15.03.2024", "--ohne-fortschritt"].iter().map(|s| s.into()).collect();
    for (k, p) in [("--inbox", inbox), ("--stammdaten", stammdaten), ("--out", out)] {
        v.push(k.into());
        v.push(p.as_os_str().to_owned());
    }
    v
}

fn benches(c: &mut Criterion, forms: usize) {
    let master = Stammdaten::load(&root().join("samples/2023/Stammdaten.xlsx")).unwrap();
    let ctx = Ctx { year: 2023, master: &master };

    let mut g = c.benchmark_group("datei");
    for ext in ["xlsx", "xls", "ods"] {
        let (bytes, f) = sample_form(ext);
        g.bench_with_input(BenchmarkId::new("pipeline", ext), &bytes, |b, bytes| {
            b.iter(|| pipeline_file(black_box(bytes), &ctx, &f))
        });
        g.bench_with_input(BenchmarkId::new("calamine", ext), &bytes, |b, bytes| {
            b.iter(|| calamine_read(black_box(bytes)))
        });
    }
    g.finish();

    let tmp = tempfile::tempdir().unwrap();
    let sample = root().join("samples/2023");
    let mut g = c.benchmark_group("lauf");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    let o = options(&sample.join("inbox"), &sample.join("Stammdaten.xlsx"), &tmp.path().join("beispiel"));
    g.bench_function("beispieljahr", |b| b.iter(|| run(&o).unwrap().written.len()));
    g.finish();

    let (inbox, stammdaten) = synthetic(forms);
    let files = spreadsheet_files(&inbox);
    let o = options(&inbox, &stammdaten, &tmp.path().join("synth"));
    let mut g = c.benchmark_group("inbox");
    g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(30));
    g.bench_function(BenchmarkId::new("calamine_lesen", forms), |b| b.iter(|| calamine_inbox(&files)));
    g.bench_function(BenchmarkId::new("pipeline_auswerten", forms), |b| {
        b.iter(|| evaluate(&o).unwrap().findings.len())
    });
    g.bench_function(BenchmarkId::new("ganzer_lauf", forms), |b| b.iter(|| run(&o).unwrap().written.len()));
    g.finish();
}

fn report(forms: usize) {
    let master = Stammdaten::load(&root().join("samples/2023/Stammdaten.xlsx")).unwrap();
    let ctx = Ctx { year: 2023, master: &master };
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, stammdaten) = synthetic(forms);
    let files = spreadsheet_files(&inbox);

    println!("\n== Bericht ({} Kerne) ==", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    println!("{:<44} {:>12} {:>12} {:>8}", "Messung", "Pipeline", "calamine", "Faktor");
    for ext in ["xlsx", "xls", "ods"] {
        let (bytes, f) = sample_form(ext);
        let n = 300;
        let p = median(
            || {
                let t = Instant::now();
                for _ in 0..n {
                    black_box(pipeline_file(&bytes, &ctx, &f));
                }
                t.elapsed() / n
            },
            5,
        );
        let k = median(
            || {
                let t = Instant::now();
                for _ in 0..n {
                    black_box(calamine_read(&bytes));
                }
                t.elapsed() / n
            },
            5,
        );
        println!(
            "{:<44} {:>10.1}µs {:>10.1}µs {:>7.2}×",
            format!("eine Datei lesen + prüfen ({ext})"),
            p.as_secs_f64() * 1e6,
            k.as_secs_f64() * 1e6,
            p.as_secs_f64() / k.as_secs_f64()
        );
    }
    let o = options(&inbox, &stammdaten, &tmp.path().join("synth"));
    let p = median(
        || {
            let t = Instant::now();
            black_box(evaluate(&o).unwrap().findings.len());
            t.elapsed()
        },
        3,
    );
    let k = median(
        || {
            let t = Instant::now();
            black_box(calamine_inbox(&files));
            t.elapsed()
        },
        3,
    );
    println!(
        "{:<44} {:>11.2}s {:>11.2}s {:>7.2}×",
        format!("{forms} Formulare lesen + prüfen (parallel)"),
        p.as_secs_f64(),
        k.as_secs_f64(),
        p.as_secs_f64() / k.as_secs_f64()
    );
}

/// The bench process's own resident memory (MB). Linux carries the spawning process's
/// high-water mark into a child at exec, so a child's peak cannot read lower than this:
/// the children are measured first, while this process is still small.
fn own_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Whole runs of the release binary as child processes: wall time and peak memory.
fn report_children(forms: usize) -> String {
    use std::fmt::Write as _;
    let tmp = tempfile::tempdir().unwrap();
    let sample = root().join("samples/2023");
    let (inbox, stammdaten) = synthetic(forms);
    let floor = own_rss_mb();
    let mut r = String::new();
    macro_rules! println {
        ($($t:tt)*) => {{
            let _ = writeln!(r, $($t)*);
        }};
    }
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "Ganzer Lauf (Release-Binary als Kindprozess)", "Wandzeit", "Spitze RSS", "Exit"
    );
    let args = run_args(&sample.join("inbox"), &sample.join("Stammdaten.xlsx"), &tmp.path().join("b1"));
    let runs: Vec<_> = (0..5).map(|_| child_run(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>())).collect();
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    walls.sort();
    let rss = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    println!(
        "{:<44} {:>11.3}s {:>9.1} MB {:>8}",
        "Beispieljahr (≈255 Dateien, Median von 5)",
        walls[2].as_secs_f64(),
        rss,
        runs[0].2
    );
    let args = run_args(&inbox, &stammdaten, &tmp.path().join("b2"));
    let (wall, rss, code) = child_run(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    println!(
        "{:<44} {:>11.2}s {:>9.1} MB {:>8}",
        format!("synthetischer Eingang, {forms} Formulare"),
        wall.as_secs_f64(),
        rss,
        code
    );

    let bomb_mb: u64 = std::env::var("BEITRAEGE_BENCH_BOMB_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let hostile = target_dir().join(format!("bench-hostile-{bomb_mb}"));
    let expected = {
        let _ = std::fs::remove_dir_all(&hostile);
        write_hostile(&hostile.join("inbox"), bomb_mb * 1024 * 1024).expect("hostile inbox")
    };
    let out = tmp.path().join("b3");
    let args = run_args(&hostile.join("inbox"), &sample.join("Stammdaten.xlsx"), &out);
    let (wall, rss, code) = child_run(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    println!(
        "{:<44} {:>11.2}s {:>9.1} MB {:>8}",
        format!("feindliche Dateien (Bomben {bomb_mb} MB)"),
        wall.as_secs_f64(),
        rss,
        code
    );
    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("befunde.json")).unwrap_or_default()).unwrap_or_default();
    for (name, code) in expected {
        let got: Vec<String> = findings
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|f| f["datei"] == name.as_str())
                    .filter_map(|f| f["code"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let ok =
            if code.is_empty() { !got.iter().any(|c| c.starts_with("DATEI_")) } else { got.iter().any(|c| c == code) };
        println!(
            "  {:<42} {:<16} {}",
            name,
            if code.is_empty() { "gelesen" } else { code },
            if ok { "ok" } else { "FEHLT" }
        );
    }
    println!(
        "(Speicher des Benchmark-Prozesses beim Start der Kinder: {floor:.1} MB; keine Spitze kann tiefer erscheinen.)"
    );
    r
}

fn main() {
    let test_mode = std::env::args().any(|a| a == "--test" || a == "--list");
    let forms: usize = std::env::var("BEITRAEGE_BENCH_FORMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if test_mode { 200 } else { 10_000 });
    let heavy = !test_mode && std::env::var_os("BEITRAEGE_BENCH_OHNE_BERICHT").is_none();
    let children = if heavy { report_children(forms) } else { String::new() };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c, forms);
    c.final_summary();
    if heavy {
        report(forms);
        println!("\n{children}");
    }
}
