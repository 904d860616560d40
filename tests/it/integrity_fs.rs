//! Integrity of a run against the file system: what the inbox may hold (pipes, links,
//! unreadable folders, names that are not UTF-8), where the outputs may go, kills at every
//! point of the commit, and two runs into the same folder at once. Every test builds its own
//! inbox; none asserts on wording or timing. The tests that stop or hold the program at a
//! point of its commit use the test hooks, compiled only with the feature `test-hooks`
//! (`cargo test --features test-hooks`, as CI and `just test` run it).

use crate::common;

use beitraege::domain::FileState;
use beitraege::run::{evaluate, EvaluationOptions};
use common::{root, sample, sample_options};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_beitraege")
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A form of the sample inbox, by BFS-Nr. (`2403` Kestenholz, `2404` Neuendorf: plain
/// Reportingformulare that are read without a Fehler).
fn sample_file(bfs: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(sample().join("inbox"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().unwrap().to_string_lossy().starts_with(&format!("{bfs} ")))
        .collect();
    found.sort();
    found.into_iter().next().unwrap_or_else(|| panic!("sample file {bfs}"))
}

fn options(inbox: &Path, out: &Path) -> EvaluationOptions {
    EvaluationOptions { inbox: inbox.to_path_buf(), ..sample_options(out, Some(2)) }
}

/// Runs the binary with a deadline: a run that hangs is killed and fails the test.
fn run_bin(args: &[&std::ffi::OsStr], env: &[(&str, &str)], deadline: Duration) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("the run did not end within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_args<'a>(inbox: &'a Path, out: &'a Path, datum: &'a str) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> =
        ["run", "--year", "2023", "--ohne-fortschritt", "--datum", datum].iter().map(Into::into).collect();
    v.push("--inbox".into());
    v.push(inbox.into());
    v.push("--stammdaten".into());
    v.push(sample().join("Stammdaten.xlsx").into());
    v.push("--out".into());
    v.push(out.into());
    v
}

fn run_sample(out: &Path, datum: &str, env: &[(&str, &str)]) -> Output {
    let args = run_args(&sample().join("inbox"), out, datum);
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    run_bin(&refs, env, Duration::from_secs(300))
}

fn codes_of(eval: &beitraege::run::Evaluation, rel: &str) -> Vec<&'static str> {
    let e = eval.resolved.files.iter().find(|e| e.result.file.rel == rel).unwrap_or_else(|| {
        panic!(
            "{rel} is listed; listed: {:?}",
            eval.resolved.files.iter().map(|e| &e.result.file.rel).collect::<Vec<_>>()
        )
    });
    e.result.findings.iter().map(|f| f.code.as_str()).collect()
}

fn state_of(eval: &beitraege::run::Evaluation, rel: &str) -> FileState {
    eval.resolved.files.iter().find(|e| e.result.file.rel == rel).unwrap().state
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// A pipe in the inbox, visible or hidden, never blocks the run: the visible one is listed
/// as no regular file, the hidden one as ignored, and neither is opened.
#[cfg(unix)]
#[test]
fn a_pipe_in_the_inbox_does_not_block_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(sample_file("2403"), inbox.join("2403_form.xlsx")).unwrap();
    mkfifo(&inbox.join(".DS_Store"));
    mkfifo(&inbox.join("Reporting_2402.xlsx"));
    let out = tmp.path().join("out");
    let args = run_args(&inbox, &out, "15.03.2024");
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let o = run_bin(&refs, &[], Duration::from_secs(120));
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let eval = evaluate(&options(&inbox, &out)).unwrap();
    assert_eq!(codes_of(&eval, ".DS_Store"), ["DATEI_IGNORIERT"]);
    assert_eq!(state_of(&eval, ".DS_Store"), FileState::Ignoriert);
    assert_eq!(codes_of(&eval, "Reporting_2402.xlsx"), ["DATEI_SONDERDATEI"]);
    assert_eq!(state_of(&eval, "Reporting_2402.xlsx"), FileState::Abgelehnt);
}

/// Links are never followed: a link to a device, to a file outside the inbox and to a
/// folder each get `DATEI_VERKNUEPFUNG`, and nothing they point to is read or hashed.
#[cfg(unix)]
#[test]
fn links_are_listed_and_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let outside = tmp.path().join("geheim.txt");
    std::fs::write(&outside, b"outside the inbox").unwrap();
    let folder = tmp.path().join("anderswo");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(sample_file("2403"), folder.join("2403_form.xlsx")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", inbox.join("null.xlsx")).unwrap();
    std::os::unix::fs::symlink(&outside, inbox.join("geheim.xlsx")).unwrap();
    std::os::unix::fs::symlink(&folder, inbox.join("Unterordner")).unwrap();
    let out = tmp.path().join("out");
    let eval = evaluate(&options(&inbox, &out)).unwrap();
    for rel in ["null.xlsx", "geheim.xlsx", "Unterordner"] {
        assert_eq!(codes_of(&eval, rel), ["DATEI_VERKNUEPFUNG"], "{rel}");
        assert_eq!(state_of(&eval, rel), FileState::Abgelehnt, "{rel}");
    }
    // The linked folder's form is not read through the link.
    assert_eq!(eval.resolved.files.len(), 3);
    let outside_hash = sha(b"outside the inbox");
    assert!(eval.inputs.iter().all(|(_, h)| *h != outside_hash), "no hash of a file outside the inbox");
    assert!(eval.resolved.files.iter().all(|e| e.result.file.sha256.is_none()));
}

/// Two names that differ only in bytes that are not UTF-8 stay two files with two names,
/// each read as itself (a lossy name once made one municipality's feedback show another's form).
#[cfg(target_os = "linux")]
#[test]
fn names_that_are_not_utf8_keep_their_identity() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let a = inbox.join(std::ffi::OsStr::from_bytes(b"Reporting_\xfc.xlsx"));
    let b = inbox.join(std::ffi::OsStr::from_bytes(b"Reporting_\xfd.xlsx"));
    std::fs::copy(sample_file("2403"), &a).unwrap();
    std::fs::copy(sample_file("2404"), &b).unwrap();
    // A plain name that spells the escape of the first must not collide with it either.
    std::fs::copy(sample_file("2403"), inbox.join("Reporting_\\xFC.xlsx")).unwrap();
    let eval = evaluate(&options(&inbox, &tmp.path().join("out"))).unwrap();
    let rels: BTreeSet<&str> = eval.resolved.files.iter().map(|e| e.result.file.rel.as_str()).collect();
    assert_eq!(rels.len(), 3, "{rels:?}");
    let bfs_of = |rel: &str| eval.resolved.files.iter().find(|e| e.result.file.rel == rel).unwrap().result.bfs();
    assert_eq!(bfs_of("Reporting_\\xFC.xlsx"), Some(2403));
    assert_eq!(bfs_of("Reporting_\\xFD.xlsx"), Some(2404));
    assert_eq!(bfs_of("Reporting_\\\\xFC.xlsx"), Some(2403));
}

/// A sub-folder that cannot be listed is a finding on that folder; the rest is read.
#[cfg(unix)]
#[test]
fn an_unreadable_subfolder_is_a_finding_not_an_abort() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // The run is as another user (below), who may not reach this clone (a private home, a
    // `mktemp -d` folder): everything it runs and reads goes into a fresh folder under /tmp,
    // which that user may enter and write its outputs into.
    let tmp = tempfile::Builder::new().prefix("beitraege-test").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let program = tmp.path().join("beitraege");
    std::fs::copy(bin(), &program).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stammdaten = tmp.path().join("Stammdaten.xlsx");
    std::fs::copy(sample().join("Stammdaten.xlsx"), &stammdaten).unwrap();
    std::fs::set_permissions(&stammdaten, std::fs::Permissions::from_mode(0o644)).unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(sample_file("2403"), inbox.join("2403_form.xlsx")).unwrap();
    let locked = inbox.join("gesperrt");
    std::fs::create_dir(&locked).unwrap();
    std::fs::copy(sample_file("2404"), locked.join("2404_form.xlsx")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    for p in [&inbox, &inbox.join("2403_form.xlsx")] {
        let mode = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out = tmp.path().join("out");
    let mut args = run_args(&inbox, &out, "15.03.2024");
    let at = args.iter().position(|a| a == "--stammdaten").unwrap() + 1;
    args[at] = stammdaten.into();
    let mut cmd = Command::new(&program);
    cmd.args(&args).current_dir(tmp.path()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Root reads every folder: run as an ordinary user, as staff would.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let dateien: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("dateien.json")).unwrap()).unwrap();
    let states: BTreeMap<String, String> = dateien
        .iter()
        .map(|d| (d["datei"].as_str().unwrap().to_string(), d["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(states.get("gesperrt/").map(String::as_str), Some("abgelehnt"), "{states:?}");
    assert_eq!(states.get("2403_form.xlsx").map(String::as_str), Some("verarbeitet"), "{states:?}");
    let befunde: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("befunde.json")).unwrap()).unwrap();
    assert!(befunde.iter().any(|f| f["datei"] == "gesperrt/" && f["code"] == "DATEI_UNLESBAR"));
}

/// `--out` that is the inbox, lies inside it, or holds it is refused before anything is
/// read or written.
#[test]
fn an_output_folder_in_or_around_the_inbox_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(sample_file("2403"), inbox.join("2403_form.xlsx")).unwrap();
    let before: Vec<_> = std::fs::read_dir(&inbox).unwrap().flatten().map(|e| e.file_name()).collect();
    for out in [inbox.clone(), inbox.join("Auswertung"), tmp.path().to_path_buf()] {
        let args = run_args(&inbox, &out, "15.03.2024");
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = run_bin(&refs, &[], Duration::from_secs(60));
        assert_eq!(o.status.code(), Some(2), "{}", out.display());
        assert!(!inbox.join("Auswertung").exists());
        let after: Vec<_> = std::fs::read_dir(&inbox).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(before, after);
    }
}

/// The hash that identifies an output: an e-mail draft's with its MIME boundary (random for
/// every draft) normalised, the manifest's without the drafts' hashes, any other file's as it
/// is.
fn output_hash(rel: &str, bytes: &[u8]) -> String {
    if rel.ends_with(".eml") {
        format!("eml:{}", sha(&crate::common::eml_normalised(bytes)))
    } else if rel == "manifest.json" {
        let Ok(mut m) = serde_json::from_slice::<serde_json::Value>(bytes) else { return sha(bytes) };
        if let Some(a) = m["ausgaben"].as_array_mut() {
            for o in a.iter_mut().filter(|o| o["datei"].as_str().is_some_and(|d| d.ends_with(".eml"))) {
                o["sha256"] = serde_json::Value::Null;
            }
        }
        format!("manifest:{}", sha(&serde_json::to_vec(&m).unwrap()))
    } else {
        sha(bytes)
    }
}

/// The state of an output folder: its visible files with their hashes ([`output_hash`]).
fn folder_files(out: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &str, acc: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &rel, acc);
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                let h = output_hash(&rel, &bytes);
                acc.insert(rel, h);
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(out, "", &mut acc);
    acc
}

/// The outputs a manifest lists, with their hashes (a draft's: [`output_hash`] of the file
/// on disk when its raw hash is the one listed).
fn manifest_set(files: &BTreeMap<String, String>, out: &Path) -> BTreeMap<String, String> {
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let mut set: BTreeMap<String, String> = m["ausgaben"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let rel = o["datei"].as_str().unwrap().to_string();
            let listed = o["sha256"].as_str().unwrap().to_string();
            let h = match std::fs::read(out.join(&rel)) {
                Ok(bytes) if rel.ends_with(".eml") && sha(&bytes) == listed => output_hash(&rel, &bytes),
                _ => listed,
            };
            (rel, h)
        })
        .collect();
    set.insert("manifest.json".into(), files["manifest.json"].clone());
    set
}

/// After a kill: the folder is exactly one run's set (every file the manifest lists, with
/// its hash, and no other output), plus the foreign file, which is never lost.
fn assert_one_whole_set(out: &Path, sets: &[BTreeMap<String, String>], context: &str) {
    let mut files = folder_files(out);
    files.remove(".beitraege-inhalt.json");
    assert_eq!(
        files.remove("notiz.txt").as_deref(),
        Some(sha(b"meine Notiz").as_str()),
        "{context}: foreign file kept"
    );
    let listed = manifest_set(&files, out);
    assert_eq!(files, listed, "{context}: the folder holds exactly what its manifest lists");
    assert!(sets.contains(&files), "{context}: the set is one run's whole set");
}

fn leftovers_beside(out: &Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".beitraege-{name}.")) && !n.ends_with(".sperre"))
        .collect()
}

/// Aborts a real run (of a small year) at every step of its commit (and in the middle of staging): each time
/// the folder holds one whole run, and the next run leaves it clean.
#[cfg(feature = "test-hooks")]
#[test]
fn a_kill_at_any_point_of_the_commit_leaves_one_whole_output_set() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    let (inbox, stammdaten) = small_year(tmp.path());
    let run_sample = |out: &Path, datum: &str, env: &[(&str, &str)]| {
        let args = small_args(&inbox, &stammdaten, out, datum);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        run_bin(&refs, env, Duration::from_secs(300))
    };
    // Two different runs (other document date, so other bytes).
    let o = run_sample(&out, "15.03.2024", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out.join("notiz.txt"), b"meine Notiz").unwrap();
    let mut first = folder_files(&out);
    first.remove(".beitraege-inhalt.json");
    first.remove("notiz.txt");
    let reference = tmp.path().join("ref");
    assert_eq!(run_sample(&reference, "16.03.2024", &[]).status.code(), Some(0));
    let mut second = folder_files(&reference);
    second.remove(".beitraege-inhalt.json");
    assert_ne!(first, second);
    let sets = [first.clone(), second.clone()];
    let n_files = second.len() - 1; // the staged outputs, without the index
    let points: Vec<String> =
        ["datei-1".to_string(), "datei-2".into(), format!("datei-{}", n_files / 2), format!("datei-{n_files}")]
            .into_iter()
            .chain(["gestaged", "uebernommen", "bereit", "getauscht", "aufgeraeumt"].map(String::from))
            .collect();
    for point in &points {
        let o = run_sample(&out, "16.03.2024", &[("BEITRAEGE_ABBRUCH_BEI", point)]);
        assert!(!o.status.success(), "{point}: the run was aborted");
        assert_one_whole_set(&out, &sets, point);
        // The next run (back to the first date) repairs and completes.
        let o = run_sample(&out, "15.03.2024", &[]);
        assert_eq!(o.status.code(), Some(0), "{point}: {}", String::from_utf8_lossy(&o.stderr));
        assert_one_whole_set(&out, &sets, point);
        let mut now = folder_files(&out);
        now.remove(".beitraege-inhalt.json");
        now.remove("notiz.txt");
        assert_eq!(now, first, "{point}: the repeated run wrote the first set again");
        assert!(leftovers_beside(&out).is_empty(), "{point}: {:?}", leftovers_beside(&out));
    }
}

/// A small year (five municipalities, three forms) in `dir`, so that a debug run takes little
/// time: (inbox, master data).
fn small_year(dir: &Path) -> (PathBuf, PathBuf) {
    use common::forms::{report, sd, MasterSpec};
    use common::inbox::{infile, write_inbox, write_master};
    let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    let inbox = dir.join("eingang");
    write_inbox(
        &inbox,
        &[
            infile("sd.xlsx", vec![sd(2601, "Solothurn", &[])], d(2023, 1, 20)),
            infile("h1.xlsx", vec![report(2601, "Solothurn", 1, &[])], d(2023, 7, 20)),
            infile("klein.xlsx", vec![report(2605, "Klein", 1, &[])], d(2023, 7, 20)),
        ],
    );
    (inbox, write_master(dir, &MasterSpec::default()))
}

/// The arguments of a run over `small_year`.
fn small_args(inbox: &Path, stammdaten: &Path, out: &Path, datum: &str) -> Vec<std::ffi::OsString> {
    let mut args = run_args(inbox, out, datum);
    let i = args.iter().position(|a| a == "--stammdaten").unwrap();
    args[i + 1] = stammdaten.into();
    args
}

/// The staging folder of a run into `out` (`.beitraege-<name>.neu-…`), if there is one.
#[cfg(all(unix, feature = "test-hooks"))]
fn stage_of(out: &Path) -> Option<PathBuf> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&format!(".beitraege-{name}.neu-")))
        .map(|e| e.path())
}

/// Files below `dir`, counted.
#[cfg(all(unix, feature = "test-hooks"))]
fn count_files(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.flatten().map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum()
}

/// Waits until a child held by the test hook `BEITRAEGE_HALT_BEI` says it is at its point (a
/// line `HALT <point>` on its standard error; it then holds until its standard input is
/// closed or it is killed). The rest of its standard error is drained. `false` when it ended
/// without reaching the point.
#[cfg(feature = "test-hooks")]
fn halted(child: &mut std::process::Child) -> bool {
    use std::io::BufRead;
    let err = child.stderr.take().expect("standard error piped");
    let mut lines = std::io::BufReader::new(err).lines();
    let found = lines.by_ref().any(|l| l.is_ok_and(|l| l.starts_with("HALT ")));
    std::thread::spawn(move || lines.for_each(drop));
    found
}

/// SIGKILL from outside while the process is inside its commit: the run is held at each
/// point of the commit (`BEITRAEGE_HALT_BEI`), says so on its standard error, and the test
/// kills it there. The folder then holds exactly what its manifest lists, and that is
/// the old set before the swap and the new set after it.
#[cfg(all(unix, feature = "test-hooks"))]
#[test]
fn a_sigkill_inside_the_commit_leaves_the_folder_equal_to_its_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    let (inbox, stammdaten) = small_year(tmp.path());
    let args_for = |out: &Path, datum: &str| small_args(&inbox, &stammdaten, out, datum);
    let run = |out: &Path, datum: &str, env: &[(&str, &str)]| {
        let args = args_for(out, datum);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        run_bin(&refs, env, Duration::from_secs(300))
    };
    let dates = ["15.03.2024", "16.03.2024"];
    let mut sets = Vec::new();
    for d in dates {
        let reference = tmp.path().join(format!("ref-{d}"));
        let o = run(&reference, d, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let mut s = folder_files(&reference);
        s.remove(".beitraege-inhalt.json");
        sets.push(s);
    }
    assert_ne!(sets[0], sets[1]);
    let n_files = sets[0].len();
    assert!(n_files >= 4, "{n_files}");
    assert_eq!(run(&out, dates[0], &[]).status.code(), Some(0));
    std::fs::write(out.join("notiz.txt"), b"meine Notiz").unwrap();
    let mut current = 0; // the set the folder holds
    let manifest_of = |set: &BTreeMap<String, String>| set["manifest.json"].clone();
    let points: Vec<String> = [1, n_files / 2, n_files]
        .iter()
        .map(|n| format!("datei-{n}"))
        .chain(["gestaged", "uebernommen", "bereit", "getauscht", "aufgeraeumt"].map(String::from))
        .collect();
    for point in &points {
        let next = 1 - current;
        let after_swap = matches!(point.as_str(), "getauscht" | "aufgeraeumt");
        let mut killed_inside = false;
        for _attempt in 0..3 {
            let mut child = Command::new(bin())
                .args(args_for(&out, dates[next]))
                .env("BEITRAEGE_HALT_BEI", point)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // The run says when it is at the point and holds there until killed.
            let there = halted(&mut child);
            if there {
                // And the file system shows it there.
                let stage = stage_of(&out);
                let out_manifest =
                    std::fs::read(out.join("manifest.json")).ok().map(|b| output_hash("manifest.json", &b));
                let new_in_place = out_manifest.as_deref() == Some(manifest_of(&sets[next]).as_str());
                let reached = match point.as_str() {
                    p if p.starts_with("datei-") => {
                        let n: usize = p["datei-".len()..].parse().unwrap();
                        stage.as_deref().is_some_and(|s| count_files(s) >= n)
                    }
                    "gestaged" => stage.as_deref().is_some_and(|s| s.join(".beitraege-inhalt.json").exists()),
                    "uebernommen" => stage.as_deref().is_some_and(|s| s.join("notiz.txt").exists()),
                    "bereit" => leftovers_beside(&out).iter().any(|n| n.contains(".bereit-")),
                    "getauscht" => new_in_place && stage.is_some(),
                    _ => new_in_place && leftovers_beside(&out).is_empty(),
                };
                assert!(reached, "{point}: the file system does not show the run there");
            }
            if !there {
                continue; // ended without reaching the point: again
            }
            assert!(child.try_wait().unwrap().is_none(), "{point}: still running when killed");
            child.kill().unwrap(); // SIGKILL
            let status = child.wait().unwrap();
            assert!(!status.success(), "{point}: killed");
            killed_inside = true;
            break;
        }
        assert!(killed_inside, "{point}: the run was never caught inside its commit");
        assert_one_whole_set(&out, &sets, point);
        let mut now = folder_files(&out);
        now.remove(".beitraege-inhalt.json");
        now.remove("notiz.txt");
        let expected = if after_swap { next } else { current };
        assert!(now == sets[expected], "{point}: the {} set", if after_swap { "new" } else { "old" });
        current = expected;
    }
    // The next run repairs what the kills left and completes.
    let o = run(&out, dates[0], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_one_whole_set(&out, &sets, "after the kills");
    assert!(leftovers_beside(&out).is_empty(), "{:?}", leftovers_beside(&out));
}

/// Kills at moments spread over a whole run (reading, computing, rendering, committing).
#[test]
fn a_kill_at_random_moments_leaves_one_whole_output_set() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    let (inbox, stammdaten) = small_year(tmp.path());
    let run = |out: &Path, datum: &str| {
        let args = small_args(&inbox, &stammdaten, out, datum);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        run_bin(&refs, &[], Duration::from_secs(300))
    };
    assert_eq!(run(&out, "15.03.2024").status.code(), Some(0));
    std::fs::write(out.join("notiz.txt"), b"meine Notiz").unwrap();
    let mut first = folder_files(&out);
    first.remove(".beitraege-inhalt.json");
    first.remove("notiz.txt");
    let reference = tmp.path().join("ref");
    let started = Instant::now();
    assert_eq!(run(&reference, "16.03.2024").status.code(), Some(0));
    // The kills are spread over a whole run (a debug run takes seconds: kills within the
    // first second would all land before the commit).
    let run_ms = started.elapsed().as_millis() as u64;
    let mut second = folder_files(&reference);
    second.remove(".beitraege-inhalt.json");
    let sets = [first, second];
    let args = small_args(&inbox, &stammdaten, &out, "16.03.2024");
    let mut completed = 0;
    for percent in [0u64, 1, 5, 15, 30, 45, 60, 70, 80, 85, 90, 93, 96, 98, 99, 100, 102, 105] {
        let delay_ms = run_ms * percent / 100;
        let mut child = Command::new(bin()).args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_some() {
            completed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_one_whole_set(&out, &sets, &format!("kill after {delay_ms} ms ({percent} % of a run)"));
    }
    // How many kills hit a running process depends on the machine's load (the delays are
    // fractions of one measured run); the assertions above hold for any timing, so only a
    // loop that never hit a running process is an error of the test itself.
    assert!(completed < 18, "no kill hit a running process ({completed} runs had ended)");
    assert_eq!(run(&out, "16.03.2024").status.code(), Some(0));
    assert!(leftovers_beside(&out).is_empty());
}

/// Two runs into the same folder at once: the second is refused (exit 2) while the first
/// holds the folder; the folder ends as the first run's whole set.
#[cfg(feature = "test-hooks")]
#[test]
fn a_second_run_into_a_busy_output_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    let args = run_args(&sample().join("inbox"), &out, "15.03.2024");
    // The first run holds with its outputs staged, holding the folder, until released.
    let mut first = Command::new(bin())
        .args(&args)
        .env("BEITRAEGE_HALT_BEI", "gestaged")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(halted(&mut first), "the first run never staged");
    let second = run_sample(&out, "16.03.2024", &[]);
    assert_eq!(second.status.code(), Some(2), "the second run is refused");
    assert!(!second.stderr.is_empty());
    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
    let reference = tmp.path().join("ref");
    assert_eq!(run_sample(&reference, "15.03.2024", &[]).status.code(), Some(0));
    assert_eq!(folder_files(&out), folder_files(&reference), "only the first run's outputs");
}

/// Several runs started together: each either completes or is refused, and the folder holds
/// one whole set.
#[test]
fn runs_started_together_never_mix_their_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    let dates = ["15.03.2024", "16.03.2024", "17.03.2024"];
    let mut sets = Vec::new();
    for d in dates {
        let reference = tmp.path().join(format!("ref-{d}"));
        assert_eq!(run_sample(&reference, d, &[]).status.code(), Some(0));
        let mut s = folder_files(&reference);
        s.remove(".beitraege-inhalt.json");
        sets.push(s);
    }
    for _round in 0..3 {
        let children: Vec<_> = dates
            .iter()
            .map(|d| {
                Command::new(bin())
                    .args(run_args(&sample().join("inbox"), &out, d))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            let code = c.wait().unwrap().code();
            assert!(matches!(code, Some(0) | Some(2)), "{code:?}");
        }
        let mut now = folder_files(&out);
        now.remove(".beitraege-inhalt.json");
        assert!(sets.contains(&now), "one run's whole set");
    }
}

/// The manifest hashes exactly the master-data bytes the run used, even when the file is
/// replaced while the run goes on.
#[cfg(feature = "test-hooks")]
#[test]
fn the_manifest_hashes_the_master_data_bytes_that_were_used() {
    let tmp = tempfile::tempdir().unwrap();
    let stammdaten = tmp.path().join("Stammdaten.xlsx");
    let original = std::fs::read(sample().join("Stammdaten.xlsx")).unwrap();
    std::fs::write(&stammdaten, &original).unwrap();
    let out = tmp.path().join("aus");
    let mut args = run_args(&sample().join("inbox"), &out, "15.03.2024");
    let i = args.iter().position(|a| a == "--stammdaten").unwrap();
    args[i + 1] = stammdaten.clone().into();
    let mut child = Command::new(bin())
        .args(&args)
        .env("BEITRAEGE_HALT_BEI", "gestaged")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(halted(&mut child), "the run never staged");
    // Replaced while the run is paused with its outputs staged.
    std::fs::write(&stammdaten, b"changed afterwards").unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let hashes: Vec<&str> = m["eingaben"].as_array().unwrap().iter().map(|e| e["sha256"].as_str().unwrap()).collect();
    assert!(hashes.contains(&sha(&original).as_str()));
    assert!(!hashes.contains(&sha(b"changed afterwards").as_str()));
}

/// Leftovers of killed runs beside the folder, and an old version's staging folders inside
/// it, are cleaned up by the next run; files of others stay.
#[test]
fn leftovers_of_killed_runs_are_cleaned_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    assert_eq!(run_sample(&out, "15.03.2024", &[]).status.code(), Some(0));
    std::fs::create_dir_all(tmp.path().join(".beitraege-aus.neu-1-2/Rueckmeldungen")).unwrap();
    std::fs::write(tmp.path().join(".beitraege-aus.bereit-9-9"), b"").unwrap();
    std::fs::create_dir_all(out.join(".beitraege-tmp-4242/Rueckmeldungen")).unwrap();
    std::fs::create_dir_all(out.join("Rueckmeldungen")).unwrap();
    std::fs::write(out.join("Rueckmeldungen/eigene Notiz.txt"), b"x").unwrap();
    assert_eq!(run_sample(&out, "15.03.2024", &[]).status.code(), Some(0));
    assert!(leftovers_beside(&out).is_empty(), "{:?}", leftovers_beside(&out));
    assert!(!out.join(".beitraege-tmp-4242").exists());
    assert!(out.join("Rueckmeldungen/eigene Notiz.txt").is_file());
}

#[test]
fn the_sample_run_still_writes_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    let o = run_sample(&out, "15.03.2024", &[]);
    assert_eq!(o.status.code(), Some(0));
    let files = folder_files(&out);
    for f in ["Anhang_1_Beitraege_2023.xlsx", "Befunde_2023.xlsx", "befunde.json", "dateien.json", "manifest.json"] {
        assert!(files.contains_key(f), "{f}");
    }
    let _ = root();
}

/// A commit that fails after its outputs were staged (here: a pipe in the output folder,
/// which cannot be carried over) changes nothing: the previous set stays whole, the run
/// exits 2, and nothing is left beside the folder.
#[cfg(unix)]
#[test]
fn a_commit_that_fails_half_way_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    assert_eq!(run_sample(&out, "15.03.2024", &[]).status.code(), Some(0));
    std::fs::write(out.join("notiz.txt"), b"meine Notiz").unwrap();
    let before = folder_files(&out);
    mkfifo(&out.join("pipe"));
    let o = run_sample(&out, "16.03.2024", &[]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_file(out.join("pipe")).unwrap();
    assert_eq!(folder_files(&out), before, "the previous outputs are untouched");
    assert!(leftovers_beside(&out).is_empty());
}
