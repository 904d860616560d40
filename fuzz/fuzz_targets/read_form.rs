//! Feeds arbitrary bytes to the form reader, the extractor and the per-file validation,
//! exactly as `beitraege run` does for one inbox file. Run from `fuzz/`:
//! `cargo fuzz run --sanitizer none -O read_form corpus/read_form -- -rss_limit_mb=1024`.
//!
//! A panic in our own code is a crash. A panic inside calamine is contained in a run by
//! the per-file panic boundary (it becomes `DATEI_UNLESBAR`), so here it is contained too;
//! aborts, out-of-memory (`-rss_limit_mb`) and hangs (`-timeout`) are always findings.
#![no_main]

mod common;

use beitraege::workbook::{read_workbook, Limits};
use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static IN_CALAMINE: Cell<bool> = const { Cell::new(false) };
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let calamine = info.location().is_some_and(|l| l.file().contains("/calamine-"));
            IN_CALAMINE.with(|c| c.set(calamine));
            if !calamine {
                previous(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    let limits = Limits::default();
    let read = std::panic::catch_unwind(|| read_workbook(data, &limits));
    let wb = match read {
        Ok(Ok(wb)) => wb,
        Ok(Err(_)) => return,
        Err(p) if IN_CALAMINE.with(|c| c.replace(false)) => {
            drop(p);
            return;
        }
        Err(p) => std::panic::resume_unwind(p),
    };
    common::recognise_and_validate(&wb, data.len());
});
