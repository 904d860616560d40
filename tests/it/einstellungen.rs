//! Settings (`beitraege.toml`, issue 20): the lookup order (beside the program, then the
//! user's profile), the missing-setting messages outside the project checkout (exit 2, the
//! setting named by its key), `einstellungen --neu`, and an inbox root with one folder per
//! year.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary run outside the checkout, with a profile of its own (`home`) and no other
/// settings in reach.
fn bin_in(exe: &Path, cwd: &Path, home: &Path) -> Command {
    let mut c = Command::new(exe);
    c.current_dir(cwd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("APPDATA", home.join("AppData"))
        .env_remove("BEITRAEGE_LOG");
    c
}

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_beitraege"))
}

fn profile_file(home: &Path) -> PathBuf {
    if cfg!(windows) {
        home.join("AppData").join("beitraege").join("beitraege.toml")
    } else {
        home.join(".config").join("beitraege").join("beitraege.toml")
    }
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The setting a missing-setting message names: its key in «».
fn names_setting(o: &Output, key: &str) -> bool {
    err(o).contains(&format!("«{key}»"))
}

/// A settings file with absolute paths as single-quoted TOML strings.
fn settings(pairs: &[(&str, &Path)], year: Option<i32>) -> String {
    let mut s = String::new();
    for (k, p) in pairs {
        s.push_str(&format!("{k} = '{}'\n", p.display()));
    }
    if let Some(y) = year {
        s.push_str(&format!("jahr = {y}\n"));
    }
    s
}

/// Outside the checkout and without settings every command stops with exit 2, names the
/// first setting it misses, and writes nothing; the options given on the command line are
/// not asked for again.
#[test]
fn without_settings_outside_the_checkout_the_missing_setting_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("arbeit");
    std::fs::create_dir(&cwd).unwrap();
    let home = tmp.path().join("home");
    let sample = common::sample();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (vec!["run".into()], "jahr"),
        (vec!["run".into(), "--jahr".into(), "2023".into()], "eingang"),
        (
            vec!["run".into(), "--jahr".into(), "2023".into(), "--eingang".into(), sample.join("inbox").into()],
            "stammdaten",
        ),
        (
            vec![
                "run".into(),
                "--jahr".into(),
                "2023".into(),
                "--eingang".into(),
                sample.join("inbox").into(),
                "--stammdaten".into(),
                sample.join("Stammdaten.xlsx").into(),
            ],
            "ausgabe",
        ),
        (vec!["formulare".into()], "jahr"),
        (vec!["formulare".into(), "--jahr".into(), "2024".into()], "stammdaten"),
        (vec!["zahlungslauf".into()], "eingang"),
        (vec!["konto".into()], "buchhaltung"),
        (vec!["mahnen".into()], "jahr"),
        (vec!["jahresinformation".into()], "jahr"),
        (
            vec![
                "zahlung-erfassen".into(),
                "--rechnung".into(),
                "2023-0001".into(),
                "--betrag".into(),
                "1.00".into(),
                "--datum".into(),
                "01.01.2024".into(),
            ],
            "buchhaltung",
        ),
    ];
    for (args, key) in cases {
        let o = bin_in(&exe(), &cwd, &home).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).starts_with("Fehler:"), "{args:?}: {}", err(&o));
        assert!(names_setting(&o, key), "{args:?} names «{key}»: {}", err(&o));
        assert!(err(&o).contains("--neu"), "{args:?} says how to create the file: {}", err(&o));
    }
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "nothing written");
    assert!(!home.exists(), "no settings file created by a command that failed");
}

/// `einstellungen --neu` creates the file in the profile (never over an existing one);
/// `einstellungen` then shows it; a command then misses only what the file leaves unset,
/// and the file's message names the file instead of the search.
#[test]
fn a_new_settings_file_is_found_in_the_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("arbeit");
    std::fs::create_dir(&cwd).unwrap();
    let home = tmp.path().join("home");
    let file = profile_file(&home);
    let o = bin_in(&exe(), &cwd, &home).args(["einstellungen", "--neu", "--jahr", "2023"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(file.is_file());
    let first = std::fs::read(&file).unwrap();
    let o = bin_in(&exe(), &cwd, &home).args(["einstellungen", "--neu", "--jahr", "2030"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "an existing file is not overwritten");
    assert_eq!(std::fs::read(&file).unwrap(), first);
    let o = bin_in(&exe(), &cwd, &home).arg("einstellungen").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&file.display().to_string()));
    // jahr comes from the file now: the next missing one is the inbox.
    let o = bin_in(&exe(), &cwd, &home).arg("run").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(names_setting(&o, "eingang"), "{}", err(&o));
    assert!(err(&o).contains(&file.display().to_string()), "names the file to complete: {}", err(&o));
    // A broken file stops every command (exit 2) and names its line.
    std::fs::write(&file, "jahr = 2023\neingang = \"C:\\Beitraege\"\n").unwrap();
    let o = bin_in(&exe(), &cwd, &home).arg("einstellungen").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("Zeile 2"), "{}", err(&o));
}

/// A settings file beside the program comes before the profile's; a run without options
/// reads the inbox, master data and year of the file used and writes into its output root.
#[test]
fn beside_the_program_comes_before_the_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = tmp.path().join("programm");
    std::fs::create_dir(&prog).unwrap();
    let exe_copy = prog.join(exe().file_name().unwrap());
    std::fs::copy(exe(), &exe_copy).unwrap();
    let cwd = tmp.path().join("arbeit");
    std::fs::create_dir(&cwd).unwrap();
    let home = tmp.path().join("home");
    let sample = common::sample();
    let beside_out = tmp.path().join("aus-programm");
    let profile_out = tmp.path().join("aus-profil");
    let common_pairs = |out: &Path| {
        settings(
            &[("eingang", &sample.join("inbox")), ("stammdaten", &sample.join("Stammdaten.xlsx")), ("ausgabe", out)],
            Some(2023),
        )
    };
    std::fs::create_dir_all(profile_file(&home).parent().unwrap()).unwrap();
    std::fs::write(profile_file(&home), common_pairs(&profile_out)).unwrap();
    // Only the profile's: it is used.
    let o = bin_in(&exe_copy, &cwd, &home).arg("einstellungen").output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains(&profile_file(&home).display().to_string()));
    // Beside the program too: that one wins.
    std::fs::write(prog.join("beitraege.toml"), common_pairs(&beside_out)).unwrap();
    let o =
        bin_in(&exe_copy, &cwd, &home).args(["run", "--datum", "15.03.2024", "--ohne-fortschritt"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(beside_out.join("Auswertung_2023").join("manifest.json").is_file());
    assert!(!profile_out.exists());
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "nothing written into the current folder");
}

/// Copies a folder tree (files and folders only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// One inbox root with a folder per year: `run --jahr Y` on the root evaluates Y although
/// the root holds more forms of another year (in that year's folder), and still stops for a
/// year with no form, or (almost) none, and for another year's forms outside their folder.
#[test]
fn an_inbox_root_with_a_folder_per_year() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Eingang");
    let sample = common::sample();
    // 2023: the sample inbox, its receipt journal at the root with the folder in the paths.
    copy_tree(&sample.join("inbox"), &root.join("2023"));
    let journal = std::fs::read_to_string(root.join("2023").join("Eingangsjournal.csv")).unwrap();
    std::fs::remove_file(root.join("2023").join("Eingangsjournal.csv")).unwrap();
    let mut lines = journal.lines();
    let mut root_journal = format!("{}\n", lines.next().unwrap());
    for l in lines {
        root_journal.push_str(&format!("2023/{l}\n"));
    }
    std::fs::write(root.join("Eingangsjournal.csv"), root_journal).unwrap();
    let forms_2023 = walk_count(&root.join("2023"));
    // 2024: the prefilled forms of 2024, more than the sample's forms of 2023.
    let o = Command::new(exe())
        .current_dir(common::root())
        .args(["formulare", "--jahr", "2024", "--datum", "01.01.2024", "--stammdaten"])
        .arg(sample.join("Stammdaten.xlsx"))
        .arg("--ausgabe")
        .arg(root.join("2024"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let forms_2024 = walk_count(&root.join("2024"));
    assert!(forms_2024 > forms_2023, "{forms_2024} > {forms_2023}: the guard of old would stop 2023");
    let run = |year: &str, inbox: &Path, out: &str| {
        Command::new(exe())
            .current_dir(common::root())
            .args(["run", "--ohne-fortschritt", "--datum", "15.03.2024", "--jahr", year, "--eingang"])
            .arg(inbox)
            .arg("--stammdaten")
            .arg(sample.join("Stammdaten.xlsx"))
            .arg("--ausgabe")
            .arg(tmp.path().join(out))
            .output()
            .unwrap()
    };
    let o = run("2023", &root, "aus2023");
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // The same total as the sample inbox on its own (the 2024 forms are another year's).
    assert!(String::from_utf8_lossy(&o.stdout).contains("634'409.00"), "{}", String::from_utf8_lossy(&o.stdout));
    // No form of 2025: stopped, nothing written.
    let o = run("2025", &root, "aus2025");
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(!tmp.path().join("aus2025").join("manifest.json").exists());
    // Forms of 2024 outside their folder (a folder named otherwise): stopped for 2023.
    std::fs::rename(root.join("2024"), root.join("Formulare_neu")).unwrap();
    let o = run("2023", &root, "aus2023b");
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    std::fs::rename(root.join("Formulare_neu"), root.join("2024")).unwrap();
    // Almost no form of 2023 beside a full 2024 folder: stopped.
    let keep = root.join("2023").join("2023-01");
    for d in std::fs::read_dir(root.join("2023")).unwrap() {
        let p = d.unwrap().path();
        if p != keep {
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else {
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
    let kept: Vec<PathBuf> = std::fs::read_dir(&keep).unwrap().map(|e| e.unwrap().path()).collect();
    for p in kept.iter().skip(1) {
        std::fs::remove_file(p).unwrap();
    }
    assert_eq!(walk_count(&root.join("2023")), 1);
    let o = run("2023", &root, "aus2023c");
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// A ledger on a network share (a UNC path) is refused with exit 2 before anything is
/// booked or written; the same command with a local ledger runs.
#[test]
fn a_ledger_on_a_network_share_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("aus");
    for ledger in [r"\\server\freigabe\buchhaltung.sqlite", "//server/freigabe/buchhaltung.sqlite"] {
        let o = Command::new(exe())
            .current_dir(tmp.path())
            .args(["konto", "--stammdaten"])
            .arg(common::sample().join("Stammdaten.xlsx"))
            .args(["--buchhaltung", ledger, "--ausgabe"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{ledger}: {}", err(&o));
        assert!(!out.exists());
        let o = Command::new(exe())
            .current_dir(tmp.path())
            .args(["zahlung-erfassen", "--rechnung", "2023-0001", "--betrag", "1.00", "--datum", "01.01.2024"])
            .args(["--buchhaltung", ledger])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{ledger}: {}", err(&o));
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing created");
}
