//! Feeds arbitrary bytes to the form reader, the extractor and the per-file validation,
//! exactly as `beitraege run` does for one inbox file. Run from `fuzz/`:
//! `cargo fuzz run --sanitizer none -O read_form corpus/read_form -- -rss_limit_mb=1024`.
//!
//! A panic in our own code is a crash. A panic inside calamine is contained as in a run:
//! the program's own boundary in `read_workbook` catches it and makes the file unreadable
//! (`DATEI_UNLESBAR`). libFuzzer's panic hook would abort before that boundary is reached,
//! so the hook here lets a calamine panic unwind to it, and the target then checks that the
//! program did report the file unreadable. "Inside calamine" means a calamine frame is on
//! the panicking thread's stack (so the vendored copy and a crates.io one alike, and a panic
//! in std or chrono called by calamine); without symbols, the panic's own source file.
//! Each contained panic is printed once per place, and the smallest input that hit the place
//! is kept in `artifacts/read_form/contained/` (or `$CONTAINED_DIR`), so a run shows what is
//! left to guard in the vendored reader, with a file to write its regression test from.
//! Aborts, out-of-memory (`-rss_limit_mb`) and hangs (`-timeout`) are always findings.
#![no_main]

mod common;

use beitraege::workbook::{read_workbook, Limits, ReadError};
use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::sync::{Mutex, Once};

thread_local! {
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
    /// The place of a contained panic of the current input.
    static PLACE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Whether a source file belongs to calamine: the vendored copy or a registry one.
fn calamine_file(file: &str) -> bool {
    file.contains("vendor/calamine/src/") || file.contains("/calamine-")
}

/// Whether a calamine function is on the current stack (a frame line of
/// `std::backtrace::Backtrace`: `  12: calamine::xls::…` or `  12: <calamine::…>::…`).
fn calamine_on_stack() -> bool {
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    bt.lines().any(|l| {
        let l = l.trim_start();
        let name = l.split_once(": ").map_or("", |(n, f)| if n.bytes().all(|b| b.is_ascii_digit()) { f } else { "" });
        name.starts_with("calamine::")
            || name.starts_with("<calamine::")
            || l.strip_prefix("at ").is_some_and(calamine_file)
    })
}

/// Keeps the smallest input that hit a place (`utils.rs:48` → `utils.rs_48`).
fn keep(at: &str, data: &[u8]) {
    let dir = std::env::var("CONTAINED_DIR").unwrap_or_else(|_| "artifacts/read_form/contained".into());
    let name: String = at.rsplit('/').next().unwrap_or(at).replace(':', "_");
    let path = std::path::Path::new(&dir).join(name);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() <= data.len() as u64) {
        return;
    }
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, data));
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let contained = calamine_file(&at) || calamine_on_stack();
            if !contained {
                return previous(info);
            }
            CONTAINED.with(|c| c.set(true));
            static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
            let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
            if seen.get_or_insert_with(HashSet::new).insert(at.clone()) {
                let what = beitraege::workbook::panic_message(info.payload()).replace('\n', " ");
                eprintln!("contained calamine panic (DATEI_UNLESBAR in a run): {what} at {at}");
            }
            PLACE.with(|p| *p.borrow_mut() = Some(at));
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    CONTAINED.with(|c| c.set(false));
    let read = read_workbook(data, &Limits::default());
    if let Some(at) = PLACE.with(|p| p.borrow_mut().take()) {
        keep(&at, data);
    }
    if CONTAINED.with(|c| c.replace(false)) {
        // The program's boundary caught it: the file must be unreadable, nothing else.
        assert!(matches!(read, Err(ReadError::Unreadable(_))), "a contained panic must make the file unreadable");
        return;
    }
    let Ok(wb) = read else { return };
    common::recognise_and_validate(&wb, data.len());
});
