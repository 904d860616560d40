//! The annex as a PDF (`Anhang_1_Beitraege_<Y>.pdf`): PDF/A with embedded fonts; with the
//! tools (qpdf, poppler-utils, `cargo test -- --include-ignored`): a valid file whose text
//! holds every municipality, every district subtotal, the canton total and the
//! reconciliation, with body text at 8 pt or more.

use crate::common;
use beitraege::domain::Chf;

use beitraege::run::{evaluate, render};
use beitraege::write::OutFile;
use common::{read_csv, sample, sample_options};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;

fn pdf() -> &'static OutFile {
    static O: OnceLock<OutFile> = OnceLock::new();
    O.get_or_init(|| {
        let opts = sample_options(std::path::Path::new("/nonexistent"), None);
        let e = evaluate(&opts).expect("sample year evaluates");
        render(&e, &opts)
            .expect("outputs render")
            .into_iter()
            .find(|f| f.rel == "Anhang_1_Beitraege_2023.pdf")
            .expect("the annex PDF is written")
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_annex_pdf_is_pdf_a_with_embedded_fonts() {
    let b = &pdf().bytes;
    assert!(b.starts_with(b"%PDF-"));
    assert!(contains(b, b"pdfaid:part"), "PDF/A identification");
    assert!(contains(b, b"FontFile2"), "embedded TrueType fonts");
}

/// `1234.5` as the annex PDF prints it: `1'234.50`.
fn chf(d: Decimal) -> String {
    beitraege::domain::chf_text(Chf::new(d))
}

fn dec(s: &str) -> Chf {
    if s.is_empty() {
        Chf::ZERO
    } else {
        Chf::from_str(s).unwrap()
    }
}

fn tool(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
#[ignore = "needs qpdf and poppler-utils"]
fn the_annex_pdf_holds_the_annex() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdf");
    std::fs::write(&path, &pdf().bytes).unwrap();
    let p = path.to_str().unwrap();
    let (ok, _) = tool("qpdf", &["--check", p]);
    assert!(ok, "qpdf --check");
    let (_, fonts) = tool("pdffonts", &[p]);
    for line in fonts.lines().skip(2) {
        assert!(line.contains(" yes "), "font not embedded: {line}");
    }
    let (_, text) = tool("pdftotext", &["-raw", p, "-"]);
    let expected = read_csv(&sample().join("expected/annex.csv"));
    let master = beitraege::stammdaten::Stammdaten::load(&sample().join("Stammdaten.xlsx")).unwrap();
    let flat = text.replace('\n', " ");
    let mut districts: BTreeMap<String, Decimal> = BTreeMap::new();
    for x in &expected {
        let bfs: u32 = x["bfs"].parse().unwrap();
        assert!(flat.contains(&format!("{bfs} ")), "{bfs} missing");
        let first_word = x["name"].split(['-', ' ']).next().unwrap();
        assert!(flat.contains(first_word), "{} missing", x["name"]);
        assert!(flat.contains(&chf(dec(&x["total"]).decimal())), "{bfs}: total {} missing", x["total"]);
        let d = master.municipality(bfs).unwrap().district.clone();
        *districts.entry(d).or_default() += dec(&x["total"]).decimal();
    }
    for (d, total) in &districts {
        assert!(flat.contains(&format!("Total Bezirk {d}")), "subtotal {d} missing");
        assert!(flat.contains(&chf(*total)), "subtotal {d} {total} missing");
    }
    let total: Decimal = expected.iter().map(|x| dec(&x["total"]).decimal()).sum();
    assert!(flat.contains(&chf(total)), "Total Kanton");
    for want in ["Abstimmung", "Total Auszahlungen", "Gunzgen (2578)", "Geprüft", "Genehmigt", "Unterschrift"] {
        assert!(flat.contains(want), "{want} missing");
    }
    // Body text at 8 pt or more: the smallest font size on any page.
    let (_, bbox) = tool("pdftotext", &["-bbox", p, "-"]);
    let min_h = bbox
        .lines()
        .filter(|l| l.trim_start().starts_with("<word"))
        .filter_map(|l| {
            let y = |k: &str| -> Option<f64> {
                let i = l.find(k)? + k.len();
                l[i..].split('"').next()?.parse().ok()
            };
            Some(y("yMax=\"")? - y("yMin=\"")?)
        })
        .fold(f64::MAX, f64::min);
    // pdftotext's word box of Liberation Sans is 0.94 em tall (measured: 8 pt text, 7.51 pt;
    // 8.5 pt, 7.97 pt): 7.5 pt text would give 7.04 pt.
    assert!(min_h >= 8.0 * 0.93, "smallest text box {min_h} pt");
}
