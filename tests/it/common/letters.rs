//! The small year the letter tests (`mahnen`, `jahresinformation`) share: the sender sheet,
//! a sheet of text rows, and the inbox whose receipt dates sit on both sides of each
//! deadline (Selbstdeklarationen of 2601 and 2602 on 31.01.2023; the H1 report of 2601 on
//! 31.07.2023, of the lead 2602 on 10.08.2023; nothing of 2605).

use super::forms::{report, sd};
use super::inbox::{infile, InFile};
use beitraege::domain::ymd;
use beitraege::workbook::{Sheet, Value};

/// A sheet of text cells, row by row.
pub fn text_sheet(name: &str, rows: &[&[&str]]) -> Sheet {
    let mut s = Sheet::new(name);
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            s.set(r as u32, c as u32, Value::Text(v.to_string()));
        }
    }
    s
}

/// The master data's `Absender`: the AGS.
pub fn absender() -> Sheet {
    text_sheet(
        "Absender",
        &[
            &["Amt", "Strasse", "Hausnummer", "PLZ", "Ort", "Kontaktperson", "Telefon", "E-Mail"],
            &[
                "Amt für Gesellschaft und Soziales",
                "Riedholzplatz",
                "3",
                "4509",
                "Solothurn",
                "S. Muster",
                "",
                "ags@so.example",
            ],
        ],
    )
}

/// The inbox of the small year.
pub fn files() -> Vec<InFile> {
    vec![
        infile("sd_2601.xlsx", vec![sd(2601, "Solothurn", &[])], ymd(2023, 1, 31)),
        infile("sd_2602.xlsx", vec![sd(2602, "Lead", &[])], ymd(2023, 1, 31)),
        infile("h1_2601.xlsx", vec![report(2601, "Solothurn", 1, &[])], ymd(2023, 7, 31)),
        infile("h1_2602.xlsx", vec![report(2602, "Lead", 1, &[])], ymd(2023, 8, 10)),
    ]
}
