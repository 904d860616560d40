//! The binary as staff use it: defaults, exit codes, and nothing written when it cannot run.

use crate::common;
use beitraege::domain::Chf;

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_beitraege"));
    c.current_dir(common::root());
    c
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn run_with_defaults_uses_the_sample_year() {
    let out = tempfile::tempdir().unwrap();
    // Only --out is given: inbox and master data default to samples/2023.
    let o = bin().args(["run", "--datum", "15.03.2024", "--out"]).arg(out.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = entries(out.path());
    for f in [
        "Anhang_1_Beitraege_2023.xlsx",
        "Befunde_2023.xlsx",
        "Rueckmeldungen",
        "befunde.json",
        "dateien.json",
        "manifest.json",
    ] {
        assert!(files.contains(&f.to_string()), "{f} in {files:?}");
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("634'409.00"), "the summary names the total: {stdout}");
}

#[test]
fn missing_master_data_stops_with_exit_2_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let o = bin().args(["run", "--stammdaten", "gibt-es-nicht.xlsx", "--out"]).arg(out.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!o.stderr.is_empty());
    assert!(entries(out.path()).is_empty(), "{:?}", entries(out.path()));
}

#[test]
fn contradictory_master_data_stops_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Stammdaten.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Gemeinden").unwrap();
    for (c, h) in ["BFS-Nr.", "Gemeinde", "Bezirk", "Gültig ab", "Gültig bis", "Nachfolge BFS-Nr."].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..3 {
        ws.write_number(r, 0, 2601).unwrap(); // duplicate BFS-Nr.
        ws.write_string(r, 1, "Solothurn").unwrap();
    }
    wb.save(&md).unwrap();
    let out = dir.path().join("out");
    let o = bin().args(["run", "--stammdaten"]).arg(&md).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.lines().count() >= 3, "one line per problem: {err}");
    assert!(entries(&out).is_empty());
}

#[test]
fn unwritable_output_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("datei");
    std::fs::write(&blocker, b"x").unwrap();
    let o = bin().args(["run", "--out"]).arg(blocker.join("unter")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_inbox_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let o = bin().args(["run", "--inbox", "kein-ordner", "--out"]).arg(out.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(entries(out.path()).is_empty());
}

/// The help is German throughout (clap's own words are replaced), and the defaults it
/// names are the limits the run really uses.
#[test]
fn help_is_german_and_names_the_real_defaults() {
    for cmd in [
        &["--help"][..],
        &["run", "--help"],
        &["formulare", "--help"],
        &["mahnen", "--help"],
        &["jahresinformation", "--help"],
    ] {
        let o = bin().args(cmd).output().unwrap();
        assert!(o.status.success());
        let help = String::from_utf8_lossy(&o.stdout);
        for english in ["[OPTIONS]", "[default:", "Usage:", "Options:", "Commands:", "<YEAR>", "<OUT>"] {
            assert!(!help.contains(english), "{cmd:?} shows «{english}»:\n{help}");
        }
    }
    let o = bin().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    let l = beitraege::workbook::Limits::default();
    let mb = 1024 * 1024;
    for (option, default) in [
        ("--max-datei-mb", l.max_file_bytes / mb),
        ("--max-entpackt-mb", l.max_inflated_bytes / mb),
        ("--max-zellen", l.max_cells as u64),
        ("--max-teil-mb", l.max_part_bytes / mb),
        ("--max-xls-zellen", l.max_dense_cells),
    ] {
        // The help text stands on the option's line or, in the long layout, on the next.
        let line: String = help.lines().skip_while(|l| !l.contains(option)).take(2).collect();
        assert!(line.contains(&format!("(Standard: {default})")), "{option}: {line}");
    }
}

/// clap's own errors are German: no English word of clap reaches staff, and the exit
/// status is 2.
#[test]
fn wrong_arguments_are_explained_in_german() {
    for args in [
        &["run", "--gibt-es-nicht"][..],
        &["run", "--parallel", "abc"],
        &["run", "--max-datei-mb", "viel"],
        &["lauf"],
        &["run", "--jahr"],
        &[],
    ] {
        let o = bin().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("Fehler:"), "{args:?}: {err}");
        for english in ["error:", "Usage:", "For more information", "invalid digit", "unexpected argument", "found"] {
            assert!(!err.contains(english), "{args:?} shows «{english}»: {err}");
        }
    }
}

/// The options are German; the earlier English names still work for existing scripts.
#[test]
fn old_option_names_are_aliases_of_the_german_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (i, names) in [["--jahr", "--eingang", "--ausgabe", "--parallel"], ["--year", "--inbox", "--out", "--threads"]]
        .iter()
        .enumerate()
    {
        let out = dir.path().join(format!("aus{i}"));
        let o = bin()
            .args(["run", "--datum", "15.03.2024", names[0], "2023", names[1], "samples/2023/inbox", names[3], "2"])
            .arg(names[2])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{names:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(out.join("manifest.json").is_file());
    }
}

/// A wrong folder (no form at all) and a wrong year (mostly forms of another year) stop
/// with exit 2 and write nothing; `--trotzdem` runs anyway.
#[test]
fn an_empty_inbox_or_the_wrong_year_stops_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("leer");
    std::fs::create_dir(&empty).unwrap();
    let out = dir.path().join("aus");
    let o = bin().args(["run", "--eingang"]).arg(&empty).arg("--ausgabe").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists() || entries(&out).is_empty());
    let o = bin()
        .args([
            "run",
            "--jahr",
            "2024",
            "--eingang",
            "samples/2023/inbox",
            "--stammdaten",
            "samples/2023/Stammdaten.xlsx",
        ])
        .arg("--ausgabe")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2023") && err.contains("2024"), "says what it found: {err}");
    assert!(!out.exists() || entries(&out).is_empty());
    let o = bin().args(["run", "--trotzdem", "--eingang"]).arg(&empty).arg("--ausgabe").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("manifest.json").is_file());
}

/// A system error is said once, in German.
#[test]
fn system_errors_are_german_and_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("datei");
    std::fs::write(&blocker, b"x").unwrap();
    let o = bin().args(["run", "--ausgabe"]).arg(blocker.join("unter/aus")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("os error"), "{err}");
    assert_eq!(err.matches("Systemfehler").count(), 1, "{err}");
}

/// No English word of clap or Rust in a German message.
fn assert_german(err: &str) {
    assert!(err.starts_with("Fehler:"), "{err}");
    for english in ["error:", "Usage:", "invalid digit", "unexpected argument", "found in string"] {
        assert!(!err.contains(english), "«{english}» in {err}");
    }
}

/// Releases the run per `stichtag` through the library as a second person («pruefer»): the
/// command line's person is the account running the tests, which booked the run.
fn release_as_second_person(ledger: &Path, out: &Path, stichtag: &str) -> beitraege::zahlungslauf::ReleaseOutcome {
    let day = chrono::NaiveDate::parse_from_str(stichtag, "%d.%m.%Y").unwrap();
    beitraege::zahlungslauf::freigeben(&beitraege::zahlungslauf::FreigabeOptions {
        stichtag: day,
        ledger: ledger.to_path_buf(),
        stammdaten: Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/2023/Stammdaten.xlsx"),
        out: out.to_path_buf(),
        person: "pruefer".into(),
        released_on: day,
        execution_date: None,
    })
    .expect("released by a second person")
}

fn bookings_of(ledger: &Path) -> (usize, usize) {
    let l = beitraege::ledger::Ledger::open_existing(ledger).unwrap();
    (l.runs().unwrap().len(), l.bookings().unwrap().len())
}

/// `--buchen` and `--storno` need the Stichtag named; an implausible Stichtag, a booking day
/// after today, an execution date on a Saturday and a different first year are refused with
/// exit 2 before anything is booked; a run with nothing to book is not booked (exit 0);
/// `konto --gemeinde` takes BFS-Nrn. of the master data only.
#[test]
fn payout_commands_are_explicit_and_plausible() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("buchhaltung.sqlite");
    let out = dir.path().join("aus");
    let lauf = |args: &[&str]| {
        bin()
            .arg("zahlungslauf")
            .args(args)
            .arg("--buchhaltung")
            .arg(&ledger)
            .arg("--ausgabe")
            .arg(&out)
            .output()
            .unwrap()
    };
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Days::new(1)).format("%d.%m.%Y").to_string();
    for args in [
        &["--buchen", "--ab-jahr", "2023"][..],
        &["--storno", "--grund", "falsch"],
        &["--buchen", "--ab-jahr", "2023", "--stichtag", "15.05.2023"],
        &["--buchen", "--ab-jahr", "2023", "--stichtag", "01.04.2023"],
        &[
            "--buchen",
            "--ab-jahr",
            "2023",
            "--stichtag",
            "31.03.2023",
            "--buchungsdatum",
            "31.03.2023",
            "--ausfuehrungsdatum",
            "01.04.2023",
        ],
        &["--buchen", "--ab-jahr", "2023", "--stichtag", "31.03.2023", "--buchungsdatum", &tomorrow],
        &["--buchen", "--ab-jahr", "2023", "--stichtag", "31.03.2023", "--ausserordentlich"],
    ] {
        let o = lauf(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_german(&String::from_utf8_lossy(&o.stderr));
        assert!(!ledger.exists(), "{args:?} created the ledger");
        assert!(!out.exists(), "{args:?} wrote outputs");
    }
    // The other side: 31.03.2023 booked on that day, executed on Monday 03.04.2023.
    let o = lauf(&[
        "--buchen",
        "--ab-jahr",
        "2023",
        "--stichtag",
        "31.03.2023",
        "--buchungsdatum",
        "31.03.2023",
        "--ausfuehrungsdatum",
        "03.04.2023",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let booked = bookings_of(&ledger);
    assert_eq!(booked.0, 1);
    // Booked, not released: no payment file. The account that booked cannot release it
    // (exit 2, nothing recorded); a second person can.
    assert!(!out.join("2023-03-31/pain001_2023-03-31.xml").exists());
    let o = lauf(&["--freigeben", "--stichtag", "31.03.2023", "--buchungsdatum", "31.03.2023"]);
    assert_eq!(o.status.code(), Some(2));
    assert_german(&String::from_utf8_lossy(&o.stderr));
    assert!(beitraege::ledger::Ledger::open_existing(&ledger).unwrap().releases().unwrap().is_empty());
    release_as_second_person(&ledger, &out, "31.03.2023");
    let pain = std::fs::read_to_string(out.join("2023-03-31/pain001_2023-03-31.xml")).unwrap();
    let reqd = pain.split("<ReqdExctnDt>").nth(1).and_then(|r| r.split("</ReqdExctnDt>").next()).unwrap();
    assert!(reqd.contains("<Dt>2023-04-03</Dt>"), "{reqd}");
    // An extraordinary run the day after has nothing to book: exit 0, no run row.
    let o = lauf(&["--buchen", "--stichtag", "01.04.2023", "--ausserordentlich", "--grund", "Test"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(bookings_of(&ledger), booked);
    // A first year other than the ledger's is refused, in the preview too.
    for args in [
        &["--stichtag", "30.09.2023", "--ab-jahr", "2022"][..],
        &["--buchen", "--stichtag", "30.09.2023", "--ab-jahr", "2024"],
    ] {
        let o = lauf(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_german(&String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(bookings_of(&ledger), booked);

    // konto: a name or an unknown BFS-Nr. is refused and writes nothing; Gunzgen (2578) is known.
    let konto = dir.path().join("konto");
    for gemeinde in ["Gunzgen", "9999", "0"] {
        let o = bin()
            .args(["konto", "--gemeinde", gemeinde, "--buchhaltung"])
            .arg(&ledger)
            .arg("--ausgabe")
            .arg(&konto)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{gemeinde}");
        assert_german(&String::from_utf8_lossy(&o.stderr));
        assert!(!konto.exists(), "{gemeinde}");
    }
    // Each statement goes into a folder of its own beside the earlier ones (Stand_<date>,
    // then Stand_<date>_2): the first is left as it was.
    let statement = || {
        let o = bin()
            .args(["konto", "--gemeinde", "2578", "--datum", "01.10.2023", "--buchhaltung"])
            .arg(&ledger)
            .arg("--ausgabe")
            .arg(&konto)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    statement();
    let first = konto.join("Stand_2023-10-01/Konto_2578.xlsx");
    let bytes = std::fs::read(&first).unwrap();
    statement();
    assert!(konto.join("Stand_2023-10-01_2/Konto_2578.xlsx").is_file());
    assert_eq!(std::fs::read(&first).unwrap(), bytes);
}

/// Receipts through the command line: dated between the invoice and today, 10 = 10.00,
/// reversible once; the run whose invoice they pay is reversed only after them.
#[test]
fn receipts_are_dated_normalised_and_reversible() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("buchhaltung.sqlite");
    for (stichtag, aus) in [("31.03.2023", "a"), ("30.09.2023", "b")] {
        let o = bin()
            .args([
                "zahlungslauf",
                "--buchen",
                "--ab-jahr",
                "2023",
                "--stichtag",
                stichtag,
                "--buchungsdatum",
                stichtag,
            ])
            .arg("--buchhaltung")
            .arg(&ledger)
            .arg("--ausgabe")
            .arg(dir.path().join(aus))
            .output()
            .unwrap();
        assert!(o.status.success(), "{stichtag}: {}", String::from_utf8_lossy(&o.stderr));
        release_as_second_person(&ledger, &dir.path().join(aus), stichtag);
    }
    // The clawback against Gunzgen (2578) is invoiced by the run per 30.09.2023.
    let invoices = beitraege::ledger::Ledger::open_existing(&ledger).unwrap().invoices().unwrap();
    assert_eq!(invoices.len(), 1);
    let id = invoices[0].id.clone();
    let erfassen =
        |args: &[&str]| bin().arg("zahlung-erfassen").args(args).arg("--buchhaltung").arg(&ledger).output().unwrap();
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Days::new(1)).format("%d.%m.%Y").to_string();
    for (betrag, datum, ok) in [
        ("10", "29.09.2023", false), // before the invoice
        ("10", tomorrow.as_str(), false),
        ("10", "30.09.2023", true),
        ("10.00", "30.09.2023", false), // the same receipt again
        ("10.0", "30.09.2023", false),
    ] {
        let o = erfassen(&["--rechnung", &id, "--betrag", betrag, "--datum", datum]);
        assert_eq!(o.status.success(), ok, "{betrag} {datum}: {}", String::from_utf8_lossy(&o.stderr));
        if !ok {
            assert_eq!(o.status.code(), Some(2));
            assert_german(&String::from_utf8_lossy(&o.stderr));
        }
    }
    let open = |l: &Path| beitraege::ledger::Ledger::open_existing(l).unwrap().invoices().unwrap()[0].open();
    let full = invoices[0].amount;
    assert_eq!(open(&ledger), full.saturating_sub(Chf::from_int(10)));
    // The run cannot be reversed while its invoice has a receipt.
    let storno = || {
        bin()
            .args(["zahlungslauf", "--storno", "--stichtag", "30.09.2023", "--grund", "Test", "--buchhaltung"])
            .arg(&ledger)
            .arg("--ausgabe")
            .arg(dir.path().join("storno"))
            .output()
            .unwrap()
    };
    let before = bookings_of(&ledger);
    let o = storno();
    assert_eq!(o.status.code(), Some(2));
    assert_german(&String::from_utf8_lossy(&o.stderr));
    assert_eq!(bookings_of(&ledger), before);
    // The receipt is reversed (by its id's first 16 characters), once; the invoice is open in full again.
    let receipt = beitraege::ledger::Ledger::open_existing(&ledger)
        .unwrap()
        .bookings()
        .unwrap()
        .into_iter()
        .find(|b| b.art == beitraege::zahlungslauf::plan::Art::Zahlungseingang)
        .unwrap()
        .id;
    let o = erfassen(&["--storno", &receipt[..16], "--grund", "falsch erfasst"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(open(&ledger), full);
    let o = erfassen(&["--storno", &receipt[..16], "--grund", "nochmals"]);
    assert_eq!(o.status.code(), Some(2));
    assert_german(&String::from_utf8_lossy(&o.stderr));
    // --storno without --grund is a command-line error.
    assert_eq!(erfassen(&["--storno", &receipt[..16]]).status.code(), Some(2));
    // Now the run is reversed.
    let o = storno();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
