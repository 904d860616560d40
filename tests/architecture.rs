//! The pipeline's one-way data flow, checked on the source: no module of the library imports
//! from a module of a later stage. The order is the one `lib.rs` and the README promise:
//! the shared types and texts, then scan → workbook (read) → extract (recognise) → master data
//! → validate → resolve → compute → write → book (ledger, payout runs) → documents, with the
//! commands that drive them (`run`, `formulare`) last. `evaluate` (scan to compute for a year,
//! behind one call) comes after `write`, whose output folder and errors it uses, and before the
//! payout runs, which start from an evaluation. The library knows nothing of the
//! command line (`src/cli`, `src/main.rs`), and unit tests (`#[cfg(test)] mod tests`) may use
//! any module to build their inputs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each module's place in the pipeline; a module may use its own and earlier places only.
/// Modules sharing a place (the three master-data sheets' readers; the ledger and the payout
/// runs that book into it) may use each other.
const ORDER: &[(&str, u32)] = &[
    ("domain", 0),
    // Swiss bank business days: pure, uses nothing of the crate.
    ("bankdays", 0),
    ("catalogue", 1),
    ("values", 2),
    ("fsio", 2),
    ("scan", 3),
    ("workbook", 4),
    ("extract", 5),
    ("stammdaten", 6),
    ("adressen", 6),
    ("zahlungsdaten", 6),
    ("validate", 7),
    ("resolve", 8),
    // The money after compute, decided once: the payout calendar, offsets and invoices (4.7).
    ("payout", 9),
    ("compute", 10),
    ("write", 11),
    // scan → … → compute for a year, behind one call: used by `run` and by the payout runs.
    ("evaluate", 12),
    // Letters, invoices, e-mail drafts: rendered by `run` and by the payout run that books
    // an invoice.
    ("documents", 13),
    ("ledger", 14),
    ("zahlungslauf", 14),
    ("run", 15),
    ("formulare", 15),
    ("synth", 16),
    // The settings file (`beitraege.toml`): read by the fronts (command line, browser) before
    // they call the library; it uses only the texts.
    ("einstellungen", 16),
    // The web front (`beitraege web`): a second front beside the command line, last.
    ("web", 17),
];

fn rank(module: &str) -> Option<u32> {
    ORDER.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file of `src/` belongs to: `src/write/annex.rs` → `write`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without comments, string literals and its unit-test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        // Drop string literals (a message may name a module), crudely but enough here.
        let mut in_str = false;
        let mut prev = ' ';
        for ch in line.chars() {
            if ch == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(ch);
            }
            prev = ch;
        }
        out.push('\n');
    }
    out
}

/// Every `crate::<module>` the code names.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        // `crate::{a, b}` groups: take every name in the braces.
        if name.is_empty() && after.starts_with('{') {
            let end = after.find('}').unwrap_or(after.len());
            for part in after[1..end].split(',') {
                let n: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !n.is_empty() {
                    out.insert(n);
                }
            }
        }
        let skip = name.len().max(1).min(after.len());
        if !name.is_empty() {
            out.insert(name);
        }
        rest = &after[skip..];
    }
    out
}

#[test]
fn no_module_imports_from_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut unknown = BTreeSet::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "main" || module == "cli" || module == "lib" {
            continue;
        }
        let Some(own) = rank(&module) else {
            unknown.insert(module);
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for used in crate_modules(&code) {
            if used == module {
                continue;
            }
            match rank(&used) {
                Some(r) if r > own => violations.push(format!(
                    "{} ({module}, place {own}) uses crate::{used} (place {r})",
                    file.strip_prefix(&src).unwrap().display()
                )),
                Some(_) => {}
                None => {
                    unknown.insert(used);
                }
            }
        }
    }
    assert!(unknown.is_empty(), "modules without a place in ORDER: {unknown:?}");
    assert!(violations.is_empty(), "imports against the pipeline's order:\n{}", violations.join("\n"));
}

/// The checker itself: it sees a backward import, and not one in a comment or a unit test.
#[test]
fn the_checker_finds_a_backward_import_and_ignores_comments_and_tests() {
    let code = code_of(
        "//! See [`crate::write`].\nuse crate::{domain::Bfs, values};\nfn f() { crate::compute::x(); \
         let s = \"crate::run\"; }\n#[cfg(test)]\nmod tests {\n    use crate::documents;\n}\n",
    );
    let used = crate_modules(&code);
    assert_eq!(used, BTreeSet::from(["compute".to_string(), "domain".to_string(), "values".to_string()]));
    assert!(rank("compute") > rank("validate") && rank("write") < rank("documents"));
}

/// The library builds without the command line: clap and indicatif are the binary's alone.
#[test]
fn the_library_names_no_command_line_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let module = module_of(&src, &file);
        // The fronts, and the settings lookup (the user's profile folder: `APPDATA`, `HOME`,
        // `XDG_CONFIG_HOME`), read the environment by design.
        if module == "main" || module == "cli" || module == "einstellungen" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for krate in ["clap::", "indicatif::", "tracing_subscriber::"] {
            assert!(!code.contains(krate), "{} uses {krate}", file.display());
        }
    }
}

/// The test hooks (environment variables that abort or hold the program inside a booking or
/// a commit) exist only with the feature `test-hooks`: every place in the library that reads
/// the environment, and every hook variable's name, sits in an item behind
/// `#[cfg(feature = "test-hooks")]` (at most 12 lines above it). `.ci/run` also checks the
/// release binary for the names.
#[test]
fn the_library_reads_the_environment_only_behind_the_test_hooks_feature() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut ungated = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        // The fronts, and the settings lookup (the user's profile folder: `APPDATA`, `HOME`,
        // `XDG_CONFIG_HOME`), read the environment by design.
        if module == "main" || module == "cli" || module == "einstellungen" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => &text[..i],
            None => &text,
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if t.starts_with("//") {
                continue;
            }
            let reads = ["env::var", "env::vars", "BEITRAEGE_TEST", "BEITRAEGE_ABBRUCH", "BEITRAEGE_HALT"]
                .iter()
                .any(|n| t.contains(n));
            let gated = lines[i.saturating_sub(12)..i].iter().any(|l| l.contains("#[cfg(feature = \"test-hooks\")]"));
            if reads && !gated {
                ungated.push(format!("{}:{}: {t}", file.strip_prefix(&src).unwrap().display(), i + 1));
            }
        }
    }
    assert!(ungated.is_empty(), "environment read outside the test hooks:\n{}", ungated.join("\n"));
}
