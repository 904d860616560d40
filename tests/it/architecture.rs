//! The architecture, checked on the source, so that it stays what README «Architecture» draws.
//!
//! 1. **Crates.** The workspace's crates are the layers: `sheets` (spreadsheet readers) and
//!    `payments` (Swiss payments) know nothing else; `core` (domain, master data, scan to
//!    compute, the payout plan) uses only them; `ledger` and `render` use the core; the
//!    application (`src/`: the commands, the command line, the browser) uses all of them.
//!    Cargo forbids a cycle between crates; this test forbids a dependency that skips the
//!    order, and any dependency of a lower crate on the command line, the web server or the
//!    renderers.
//! 2. **Stages.** Inside and across the crates no module imports from a module of a later
//!    stage (`ORDER`): the shared types and texts, then scan → workbook (read) → extract
//!    (recognise) → master data → validate → resolve → payout → compute → write → evaluate →
//!    documents → ledger and payout runs → the commands that drive them.
//! 3. **No cycles.** Inside each crate no file imports, through `use crate::…` or `super::…`,
//!    from a file that imports back from it, directly or in a ring; nor do the top-level
//!    modules they form.
//!
//! Unit tests (`#[cfg(test)] mod tests`) may use any module to build their inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Each crate of the workspace: its folder, and the workspace crates it may depend on.
const CRATES: &[(&str, &str, &[&str])] = &[
    ("beitraege-sheets", "crates/sheets", &[]),
    ("beitraege-payments", "crates/payments", &[]),
    ("beitraege-core", "crates/core", &["beitraege-sheets", "beitraege-payments"]),
    ("beitraege-ledger", "crates/ledger", &["beitraege-core", "beitraege-payments"]),
    ("beitraege-render", "crates/render", &["beitraege-core", "beitraege-sheets", "beitraege-payments"]),
];

/// What the fronts use and no library crate may: the command line, logging to the terminal,
/// the operating-system account, the web server.
const FRONT_ONLY: &[&str] = &["clap", "indicatif", "tracing-subscriber", "whoami", "tokio", "axum", "maud"];

/// Each module's place in the pipeline; a module may use its own and earlier places only.
/// Modules sharing a place may use each other (the cycle check below still forbids a ring).
const ORDER: &[(&str, u32)] = &[
    ("money", 0),
    ("domain", 0),
    // The forms' fields and table columns: names, labels, rows; uses only the domain.
    ("fields", 0),
    // Swiss payments (bank business days, IBAN, RF): pure, uses nothing of the rest.
    ("bankdays", 0),
    ("catalogue", 1),
    ("values", 2),
    ("fsio", 2),
    ("commit", 2),
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
    // Reminders: which form is missing after its deadline, at which level (5.2).
    ("mahnung", 10),
    // The letters' texts (reminders), one catalogue like the findings' texts.
    ("brieftext", 10),
    // The yearly information: what one municipality's letter states (4.5.3).
    ("jahresinfo", 10),
    ("write", 11),
    // scan → … → compute for a year, behind one call: used by `run` and by the payout runs.
    ("evaluate", 12),
    // Letters, invoices, e-mail drafts.
    ("documents", 13),
    ("ledger", 14),
    ("zahlungslauf", 14),
    ("run", 15),
    // The reminder command: evaluation, letters, drafts, the correspondence journal.
    ("mahnen", 15),
    // The yearly information command: evaluation, ledger, letters, drafts, the journal.
    ("jahresinformation", 15),
    ("formulare", 15),
    // Oversight (spot checks): evaluates a year, reads the ledger, records the draw.
    ("aufsicht", 15),
    ("synth", 16),
    // The settings file (`beitraege.toml`), read by the fronts before they call the library.
    ("einstellungen", 16),
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

/// A source folder: the application's `src/` or a crate's.
struct Source {
    krate: &'static str,
    src: PathBuf,
}

fn sources() -> Vec<Source> {
    let mut out = vec![Source { krate: "beitraege", src: root().join("src") }];
    out.extend(CRATES.iter().map(|(name, dir, _)| Source { krate: name, src: root().join(dir).join("src") }));
    out
}

/// The stage (a name of `ORDER`) a file belongs to; `None` for a crate root that only
/// declares modules, and for the fronts (`main`, `cli`).
fn stage_of(s: &Source, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(&s.src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
    match s.krate {
        "beitraege-sheets" if first == "values" || first == "cellref" => Some("values".into()),
        "beitraege-sheets" => Some("workbook".into()),
        "beitraege-payments" => Some("bankdays".into()),
        "beitraege-ledger" => Some("ledger".into()),
        _ if first == "lib" || first == "main" || first == "cli" => None,
        _ => Some(first),
    }
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

fn ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// Every path the code names after `prefix` (`crate::` or `super::`), as its segments:
/// `crate::write::commit::X` → `[write, commit, X]`; a group `crate::{a::b, c}` gives each.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        // `super::super::` is read as one path from the first `super::`.
        let before = &rest[..i];
        let after = &rest[i + prefix.len()..];
        rest = after;
        if prefix == "super::" && before.ends_with("super::") {
            continue;
        }
        let mut segs = Vec::new();
        let mut cur = after;
        loop {
            if let Some(inner) = cur.strip_prefix('{') {
                let end = inner.find('}').unwrap_or(inner.len());
                for part in inner[..end].split(',') {
                    let p: Vec<String> = part.trim().split("::").map(ident).take_while(|s| !s.is_empty()).collect();
                    let mut full = segs.clone();
                    full.extend(p);
                    if !full.is_empty() {
                        out.push(full);
                    }
                }
                segs.clear();
                break;
            }
            let name = ident(cur);
            if name.is_empty() {
                break;
            }
            cur = &cur[name.len()..];
            segs.push(name);
            match cur.strip_prefix("::") {
                Some(c) => cur = c,
                None => break,
            }
        }
        if !segs.is_empty() {
            out.push(segs);
        }
    }
    out
}

/// Every `crate::<module>` the code names.
fn crate_modules(code: &str) -> BTreeSet<String> {
    paths_after(code, "crate::").into_iter().filter_map(|p| p.into_iter().next()).collect()
}

/// The module folder a file's `super::` refers into: `src/a/b.rs` and `src/a/b/mod.rs` → `src/a`.
fn parent_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap().to_path_buf();
    if file.file_name().is_some_and(|n| n == "mod.rs") {
        dir.parent().unwrap().to_path_buf()
    } else {
        dir
    }
}

/// The file a module path names, starting in `dir`: the longest prefix that is a file.
fn resolve(dir: &Path, segs: &[String]) -> Option<PathBuf> {
    for n in (1..=segs.len()).rev() {
        let mut p = dir.to_path_buf();
        for s in &segs[..n - 1] {
            p.push(s);
        }
        let file = p.join(format!("{}.rs", segs[n - 1]));
        if file.is_file() {
            return Some(file);
        }
        let m = p.join(&segs[n - 1]).join("mod.rs");
        if m.is_file() {
            return Some(m);
        }
    }
    None
}

/// The file graph of one source folder: an edge from each file to each file of the same
/// folder its code names through `crate::` or `super::`.
fn file_graph(s: &Source) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut files = Vec::new();
    rust_files(&s.src, &mut files);
    let mut graph = BTreeMap::new();
    for f in &files {
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        let mut to = BTreeSet::new();
        for p in paths_after(&code, "crate::") {
            to.extend(resolve(&s.src, &p));
        }
        for p in paths_after(&code, "super::") {
            to.extend(resolve(&parent_dir(f), &p).or_else(|| {
                // `super::X` where X is an item of the parent module itself.
                let d = parent_dir(f);
                [d.with_extension("rs"), d.join("mod.rs"), d.join("lib.rs")].into_iter().find(|p| p.is_file())
            }));
        }
        to.remove(f);
        // A crate root that only declares and re-exports its modules is no import.
        to.retain(|t| !t.ends_with("lib.rs") || std::fs::read_to_string(t).unwrap().contains("fn "));
        graph.insert(f.clone(), to);
    }
    graph
}

/// The rings of a graph (its strongly connected components with more than one node).
fn rings<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    // Tarjan's algorithm, iterative enough for a few hundred files.
    struct St<N> {
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on: BTreeSet<N>,
        next: usize,
        out: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(n: &N, g: &BTreeMap<N, BTreeSet<N>>, st: &mut St<N>) {
        st.index.insert(n.clone(), st.next);
        st.low.insert(n.clone(), st.next);
        st.next += 1;
        st.stack.push(n.clone());
        st.on.insert(n.clone());
        for m in g.get(n).into_iter().flatten() {
            if !st.index.contains_key(m) {
                visit(m, g, st);
                let l = st.low[m].min(st.low[n]);
                st.low.insert(n.clone(), l);
            } else if st.on.contains(m) {
                let l = st.index[m].min(st.low[n]);
                st.low.insert(n.clone(), l);
            }
        }
        if st.low[n] == st.index[n] {
            let mut ring = Vec::new();
            while let Some(m) = st.stack.pop() {
                st.on.remove(&m);
                let done = m == *n;
                ring.push(m);
                if done {
                    break;
                }
            }
            if ring.len() > 1 {
                ring.sort();
                st.out.push(ring);
            }
        }
    }
    let mut st =
        St { index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), next: 0, out: vec![] };
    for n in graph.keys() {
        if !st.index.contains_key(n) {
            visit(n, graph, &mut st);
        }
    }
    st.out
}

/// The workspace crates a crate's manifest depends on (normal and target dependencies, not
/// dev-dependencies), by package name, and every other dependency by name.
fn manifest_deps(manifest: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(manifest).unwrap();
    let (mut ours, mut others) = (BTreeSet::new(), BTreeSet::new());
    let mut in_deps = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_deps = t == "[dependencies]" || (t.starts_with("[target.") && t.ends_with(".dependencies]"));
            continue;
        }
        if !in_deps || t.is_empty() || t.starts_with('#') {
            continue;
        }
        let name = t.split(['=', '.']).next().unwrap().trim().to_string();
        let package = t.split("package = \"").nth(1).and_then(|r| r.split('"').next()).map(str::to_string);
        let real = package.unwrap_or(name);
        if real.starts_with("beitraege") {
            ours.insert(real);
        } else {
            others.insert(real);
        }
    }
    (ours, others)
}

#[test]
fn the_crates_depend_only_on_the_crates_below_them_and_never_on_a_front() {
    let listed: BTreeSet<String> = CRATES.iter().map(|(_, d, _)| d.trim_start_matches("crates/").to_string()).collect();
    let present: BTreeSet<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(present, listed, "every crate has its place in CRATES");
    let mut wrong = Vec::new();
    for (name, dir, may) in CRATES {
        let (ours, others) = manifest_deps(&root().join(dir).join("Cargo.toml"));
        for d in ours.iter().filter(|d| !may.contains(&d.as_str())) {
            wrong.push(format!("{name} depends on {d}"));
        }
        for d in others.iter().filter(|d| FRONT_ONLY.contains(&d.as_str())) {
            wrong.push(format!("{name} depends on the front's {d}"));
        }
    }
    assert!(wrong.is_empty(), "dependencies against the layers:\n{}", wrong.join("\n"));
    // The application depends on every crate.
    let (app, _) = manifest_deps(&root().join("Cargo.toml"));
    assert_eq!(app, CRATES.iter().map(|(n, _, _)| n.to_string()).collect::<BTreeSet<_>>());
}

#[test]
fn no_module_imports_from_a_later_stage() {
    let mut violations = Vec::new();
    let mut unknown = BTreeSet::new();
    for s in sources() {
        let mut files = Vec::new();
        rust_files(&s.src, &mut files);
        for file in &files {
            let Some(module) = stage_of(&s, file) else { continue };
            let Some(own) = rank(&module) else {
                unknown.insert(module);
                continue;
            };
            let code = code_of(&std::fs::read_to_string(file).unwrap());
            for first in crate_modules(&code) {
                // A module of the same crate is named by its stage; a name the crate
                // re-exports from a crate below is its own stage.
                let used = match resolve(&s.src, std::slice::from_ref(&first)) {
                    Some(f) => match stage_of(&s, &f) {
                        Some(m) => m,
                        None => continue,
                    },
                    // An item of the crate root (`crate::Error`) is no module.
                    None if first.starts_with(|c: char| c.is_ascii_uppercase()) => continue,
                    None => first,
                };
                if used == module {
                    continue;
                }
                match rank(&used) {
                    Some(r) if r > own => violations.push(format!(
                        "{} ({module}, place {own}) uses crate::{used} (place {r})",
                        file.strip_prefix(root()).unwrap().display()
                    )),
                    Some(_) => {}
                    None => {
                        unknown.insert(used);
                    }
                }
            }
        }
    }
    assert!(unknown.is_empty(), "modules without a place in ORDER: {unknown:?}");
    assert!(violations.is_empty(), "imports against the pipeline's order:\n{}", violations.join("\n"));
}

#[test]
fn no_import_cycle_inside_a_crate_between_files_or_top_level_modules() {
    let mut found = Vec::new();
    for s in sources() {
        let graph = file_graph(&s);
        for ring in rings(&graph) {
            let names: Vec<String> =
                ring.iter().map(|f| f.strip_prefix(root()).unwrap().display().to_string()).collect();
            found.push(format!("files: {}", names.join(" ↔ ")));
        }
        // The top-level modules the files form.
        let top = |f: &Path| {
            let rel = f.strip_prefix(&s.src).unwrap();
            rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
        };
        let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (f, to) in &graph {
            let e = modules.entry(top(f)).or_default();
            e.extend(to.iter().map(|t| top(t)).filter(|t| *t != top(f)));
        }
        for ring in rings(&modules) {
            found.push(format!("modules of {}: {}", s.krate, ring.join(" ↔ ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The checkers themselves: a backward import is seen, not one in a comment or a unit test;
/// a ring is found, a chain is not.
#[test]
fn the_checkers_find_what_they_look_for() {
    let code = code_of(
        "//! See [`crate::write`].\nuse crate::{domain::Bfs, values};\nfn f() { crate::compute::x(); \
         let s = \"crate::run\"; }\n#[cfg(test)]\nmod tests {\n    use crate::documents;\n}\n",
    );
    let used = crate_modules(&code);
    assert_eq!(used, BTreeSet::from(["compute".to_string(), "domain".to_string(), "values".to_string()]));
    assert!(rank("compute") > rank("validate") && rank("write") < rank("documents"));
    assert_eq!(paths_after("use super::{a::B, c};", "super::"), vec![vec!["a", "B"], vec!["c"]]);
    let g = |edges: &[(u8, u8)]| {
        let mut m: BTreeMap<u8, BTreeSet<u8>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry(*a).or_default().insert(*b);
            m.entry(*b).or_default();
        }
        m
    };
    assert_eq!(rings(&g(&[(1, 2), (2, 3), (3, 1), (3, 4)])), vec![vec![1, 2, 3]]);
    assert!(rings(&g(&[(1, 2), (2, 3), (1, 3)])).is_empty());
}

/// No library crate names a front's crate in its code either.
#[test]
fn the_library_names_no_command_line_or_web_crate() {
    for s in sources() {
        let mut files = Vec::new();
        rust_files(&s.src, &mut files);
        for file in files {
            let rel = file.strip_prefix(&s.src).unwrap().to_string_lossy().to_string();
            if s.krate == "beitraege" && (rel.starts_with("main") || rel.starts_with("cli") || rel.starts_with("web")) {
                continue;
            }
            let code = code_of(&std::fs::read_to_string(&file).unwrap());
            for krate in ["clap::", "indicatif::", "tracing_subscriber::", "axum::", "tokio::", "maud::"] {
                assert!(!code.contains(krate), "{} uses {krate}", file.display());
            }
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
    let mut ungated = Vec::new();
    for s in sources() {
        let mut files = Vec::new();
        rust_files(&s.src, &mut files);
        for file in &files {
            let rel = file.strip_prefix(&s.src).unwrap().to_string_lossy().to_string();
            // The fronts, and the settings lookup (the user's profile folder: `APPDATA`,
            // `HOME`, `XDG_CONFIG_HOME`), read the environment by design.
            if s.krate == "beitraege"
                && (rel.starts_with("main") || rel.starts_with("cli") || rel.starts_with("einstellungen"))
            {
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
                let gated =
                    lines[i.saturating_sub(12)..i].iter().any(|l| l.contains("#[cfg(feature = \"test-hooks\")]"));
                if reads && !gated {
                    ungated.push(format!("{}:{}: {t}", file.strip_prefix(root()).unwrap().display(), i + 1));
                }
            }
        }
    }
    assert!(ungated.is_empty(), "environment read outside the test hooks:\n{}", ungated.join("\n"));
}
