//! The feedback workbooks of the sample year: one per municipality with findings, every
//! finding code in it, contract members routed to their lead, value findings marked in the
//! rebuilt form; and a snapshot of one workbook's content.

use beitraege::domain::{a1, Code, Severity};
use beitraege::run::{evaluate, render, Evaluation, EvaluationOptions};
use beitraege::workbook::{read_workbook, Limits, Value, Workbook};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn opts() -> EvaluationOptions {
    EvaluationOptions {
        year: 2023,
        inbox: root().join("samples/2023/inbox"),
        stammdaten: root().join("samples/2023/Stammdaten.xlsx"),
        out: std::env::temp_dir().join("beitraege-feedback-test-unused"),
        threads: Some(2),
        limits: Limits::default(),
        run_date: NaiveDate::from_ymd_opt(2024, 3, 15).unwrap(),
        contact: Some("AGS, Fachstelle Integration, Telefon 032 627 00 00".to_string()),
        progress: None,
        force: false,
        received_by: None,
        buchhaltung: None,
    }
}

struct Sample {
    eval: Evaluation,
    /// Feedback workbooks by BFS-Nr. of the recipient: (path, bytes).
    books: BTreeMap<u32, (String, Vec<u8>)>,
}

fn sample() -> &'static Sample {
    static S: OnceLock<Sample> = OnceLock::new();
    S.get_or_init(|| {
        let o = opts();
        let eval = evaluate(&o).expect("sample year");
        let files = render(&eval, &o).expect("outputs");
        let books = files
            .into_iter()
            .filter_map(|f| {
                let name = f.rel.strip_prefix("Rueckmeldungen/")?.strip_suffix(".xlsx")?.to_string();
                let bfs: u32 = name.split('_').next()?.parse().ok()?;
                Some((bfs, (f.rel, f.bytes)))
            })
            .collect();
        Sample { eval, books }
    })
}

fn read(bytes: &[u8]) -> Workbook {
    read_workbook(bytes, &Limits::default()).expect("readable feedback workbook")
}

/// Rows of the findings table of the letter: header name → value.
fn finding_rows(wb: &Workbook) -> Vec<BTreeMap<String, String>> {
    let s = &wb.sheets[0];
    let header = s.column(8).find(|(_, v)| **v == Value::Text("Code".into())).map(|(r, _)| r).expect("findings table");
    let names: BTreeMap<u32, String> = (0..12)
        .filter_map(|c| match s.get(header, c) {
            Value::Text(t) => Some((c, t.clone())),
            _ => None,
        })
        .collect();
    let mut rows = Vec::new();
    let mut r = header + 1;
    while !s.get(r, 8).is_empty() {
        rows.push(names.iter().map(|(c, n)| (n.clone(), s.get(r, *c).text())).collect());
        r += 1;
    }
    rows
}

#[test]
fn every_municipality_with_findings_has_a_workbook_with_all_its_codes() {
    let s = sample();
    let with_findings: BTreeSet<u32> = s.eval.findings.iter().filter_map(|f| f.bfs).collect();
    assert!(!with_findings.is_empty());
    // All findings of a municipality sit in exactly one workbook: rows naming it "(BFS)".
    let mut seen: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    for (recipient, (_, bytes)) in &s.books {
        let wb = read(bytes);
        for row in finding_rows(&wb) {
            let who = &row["Gemeinde"];
            let bfs: u32 = who.rsplit_once('(').and_then(|(_, b)| b.trim_end_matches(')').parse().ok()).expect(who);
            seen.entry(bfs).or_default().push((*recipient, row["Code"].clone()));
        }
    }
    for b in &with_findings {
        let expected: BTreeSet<&str> =
            s.eval.findings.iter().filter(|f| f.bfs == Some(*b)).map(|f| f.code.as_str()).collect();
        let rows = seen.get(b).unwrap_or_else(|| panic!("{b} has findings but no feedback rows"));
        let got: BTreeSet<&str> = rows.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(got, expected, "codes of {b}");
        let n = s.eval.findings.iter().filter(|f| f.bfs == Some(*b)).count();
        assert_eq!(rows.len(), n, "every finding of {b} once");
        let books: BTreeSet<u32> = rows.iter().map(|(r, _)| *r).collect();
        assert_eq!(books.len(), 1, "{b}'s findings in one workbook");
    }
    // Every workbook belongs to a municipality with findings (itself or one it receives for).
    for recipient in s.books.keys() {
        assert!(seen.values().flatten().any(|(r, _)| r == recipient), "empty workbook {recipient}");
    }
}

/// Findings routed to another municipality's workbook, worked out by hand from the sample
/// master data (`Leitgemeinden` and `Gemeinden` of samples/2023/Stammdaten.xlsx):
/// (BFS-Nr. of the finding, recipient, code, why).
const ROUTED: &[(u32, u32, &str, &str)] = &[
    (2423, 2422, "GEMEINDE_AUFGELOEST", "Gänsbrunnen merged into 2430 (2021), a member of V-THAL led by Balsthal"),
    (2424, 2422, "LEIT_MITGLIED_FEHLT", "Herbetswil is a member of V-THAL, led by Balsthal"),
    (2457, 2465, "LEIT_MITGLIED_MELDET_SELBST", "Messen is a member of V-BUCHEGGBERG, led by Buchegg"),
];

/// The workbooks of the sample year: every municipality with a finding, the routed ones
/// replaced by their recipients.
const WORKBOOKS: &[u32] = &[
    2401, 2402, 2405, 2407, 2408, 2422, 2464, 2465, 2473, 2474, 2476, 2480, 2481, 2493, 2497, 2500, 2503, 2519, 2525,
    2527, 2530, 2532, 2534, 2542, 2546, 2548, 2573, 2580, 2581, 2582, 2584, 2586, 2613, 2614, 2620,
];

/// The recipient of the findings about `bfs`, from the hand-made table above.
fn recipient_of(bfs: u32) -> u32 {
    ROUTED.iter().find(|r| r.0 == bfs).map_or(bfs, |r| r.1)
}

#[test]
fn the_workbooks_are_the_expected_ones_and_routed_findings_sit_with_their_recipient() {
    let s = sample();
    let got: Vec<u32> = s.books.keys().copied().collect();
    assert_eq!(got, WORKBOOKS, "one workbook per recipient");
    for (bfs, (path, _)) in &s.books {
        let name = &s.eval.master.municipality(*bfs).unwrap().name;
        assert_eq!(*path, format!("Rueckmeldungen/{bfs}_{name}.xlsx"));
    }
    for (member, recipient, code, why) in ROUTED {
        assert!(!s.books.contains_key(member), "{member} has no workbook of its own ({why})");
        let wb = read(&s.books[recipient].1);
        let rows = finding_rows(&wb);
        assert!(
            rows.iter().any(|r| r["Code"] == *code && r["Gemeinde"].ends_with(&format!("({member})"))),
            "{code} of {member} in {recipient}'s workbook ({why})"
        );
    }
    // The letters of the leads say that they hold the members' findings, naming each member.
    for (member, lead) in [(2424, 2422), (2457, 2465)] {
        let wb = read(&s.books[&lead].1);
        let letter: Vec<String> = wb.sheets[0].column(0).map(|(_, v)| v.text()).collect();
        assert!(
            letter.iter().any(|t| t.contains("Leitgemeinde") && t.contains(&format!("({member})"))),
            "the letter of {lead} names member {member}"
        );
    }
}

#[test]
fn letter_head_and_severity_order() {
    let s = sample();
    for (bfs, (path, bytes)) in &s.books {
        let wb = read(bytes);
        assert_eq!(wb.sheets[0].name, "Rückmeldung", "{path}");
        let head: BTreeMap<String, String> =
            (2..8).map(|r| (wb.sheets[0].get(r, 0).text(), wb.sheets[0].get(r, 1).text())).collect();
        assert_eq!(head["BFS-Nr."], bfs.to_string());
        assert_eq!(head["Gemeinde"], s.eval.master.municipality(*bfs).unwrap().name);
        assert_eq!(head["Jahr"], "2023");
        assert_eq!(head["Datum"], "15.03.2024");
        assert_eq!(head["Kontakt AGS"], opts().contact.unwrap());
        // The AGS address is the sheet `Absender`'s, as on the letter (no built-in one).
        let sender = s.eval.master.adressen.sender.as_ref().expect("the sample has an Absender");
        assert_eq!(head["Absender"], sender.address.lines().join(", "));
        let ranks: Vec<u8> = finding_rows(&wb)
            .iter()
            .map(|r| Severity::ALL.iter().position(|s| s.label() == r["Schwere"]).expect("severity") as u8)
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{path}: Fehler, then Warnungen, then Hinweise");
        assert!(wb.sheets.iter().any(|s| s.name == "Beiträge"), "{path}: money sheet");
    }
}

fn comments(bytes: &[u8]) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = (0..z.len())
        .filter_map(|i| z.by_index(i).ok().and_then(|f| f.name().ok().map(|n| n.to_string())))
        .filter(|n| n.starts_with("xl/comments"))
        .collect();
    names
        .iter()
        .map(|n| {
            let mut s = String::new();
            z.by_name(n).unwrap().read_to_string(&mut s).unwrap();
            s
        })
        .collect()
}

#[test]
fn value_findings_are_marked_in_the_rebuilt_form() {
    let s = sample();
    let value_codes =
        [Code::WertKeineZahl, Code::WertNegativ, Code::WertNichtGanzzahlig, Code::DolmetschUeberGespraeche];
    let mut checked = 0;
    for f in s.eval.findings.iter().filter(|f| value_codes.contains(&f.code)) {
        let rel = f.file.as_deref().unwrap();
        // The field the finding is about, found by reading the file again.
        let bytes = std::fs::read(root().join("samples/2023/inbox").join(rel)).unwrap();
        let form = beitraege::extract::extract(&read(&bytes)).expect("a form");
        let spec = beitraege::extract::fields_of(form.kind)
            .iter()
            .find(|sp| {
                form.field(sp.field)
                    .pos
                    .as_ref()
                    .is_some_and(|p| Some(p.a1()) == f.cell() && f.sheet() == Some(&*p.sheet))
            })
            .expect("a field of the form");
        let (_, bytes) = &s.books[&recipient_of(f.bfs.unwrap())];
        let wb = read(bytes);
        let rebuilt = wb
            .sheets
            .iter()
            .filter(|sh| sh.name.starts_with("Formular"))
            .find(|sh| sh.get(0, 2).text().contains(rel))
            .expect("rebuilt form of the file");
        // The submitted value is in the template's cell.
        assert_eq!(rebuilt.get(spec.row - 1, 1).display(), form.field(spec.field).value.display());
        // A note on that cell names the code.
        let cell = a1(spec.row - 1, 1);
        assert!(
            comments(bytes).iter().any(|c| c
                .split("<comment ")
                .any(|x| x.contains(&format!("ref=\"{cell}\"")) && x.contains(f.code.as_str()))),
            "note on {cell} with {}",
            f.code
        );
        checked += 1;
    }
    assert!(checked >= 3, "the sample year has value findings");
}

/// The content of a workbook as stable text.
fn dump(wb: &Workbook) -> String {
    let mut out = String::new();
    for sheet in &wb.sheets {
        out.push_str(&format!("== {}\n", sheet.name));
        for ((r, c), v) in sheet.cells() {
            out.push_str(&format!("{}: {}\n", a1(*r, *c), v.display()));
        }
    }
    out
}

#[test]
fn snapshot_of_a_lead_feedback_workbook() {
    // Buchegg: a lead whose member filed its own report, with a LEIT_SUMME in its own.
    let s = sample();
    let (_, bytes) = &s.books[&2465];
    let mut text = dump(&read(bytes));
    for c in comments(bytes) {
        for x in c.split("<comment ").skip(1) {
            let cell = x.split("ref=\"").nth(1).unwrap().split('"').next().unwrap();
            let codes: Vec<&str> =
                Code::ALL.iter().map(|c| c.as_str()).filter(|k| x.contains(&format!("({k})"))).collect();
            text.push_str(&format!("note {cell}: {}\n", codes.join(", ")));
        }
    }
    insta::assert_snapshot!("feedback_2465_buchegg", text);
}
