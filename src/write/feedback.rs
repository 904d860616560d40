//! `Rueckmeldungen/<BFS-Nr>_<Gemeinde>.xlsx`: one feedback workbook per municipality with
//! findings, in German, ready to send back: the letter head, the findings (Fehler first),
//! the money computed, paid and withheld, and each returned form rebuilt with the offending
//! cells highlighted and a note on each. A contract member's findings go to its lead.

use super::style::{self, header_row};
use super::{save, OutFile, RunData, WriteError};
use crate::compute::{component_label, AnnexRow};
use crate::domain::{fmt_date, ymd, Bfs, CellPos, Finding, FormKind, Severity, PERIOD_COMPONENTS};
use crate::extract::{fields_of, RawForm, REPORTING_HEADINGS, REPORTING_TITLE, SD_TITLE, TABLE_COLUMNS};
use crate::validate::FileEntry;
use crate::workbook::Value;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Note, Worksheet, XlsxError};
use std::collections::{BTreeMap, BTreeSet};

/// Used when neither the master data nor the command line names a contact.
pub const DEFAULT_CONTACT: &str =
    "Amt für Gesellschaft und Soziales (AGS), Fachstelle Integration, Ambassadorenhof, 4509 Solothurn";

/// The municipality whose workbook receives findings about `bfs`: its lead when it is a
/// contract member, the successor's when it was merged away, else itself.
pub fn recipient(d: &RunData<'_>, bfs: Bfs) -> Bfs {
    let year_end = ymd(d.year, 12, 31);
    let mut b = bfs;
    for _ in 0..16 {
        match d.master.municipality(b) {
            Some(m) if m.exists_in_year(d.year) => return d.master.payee(b, year_end),
            Some(m) => match m.successor {
                Some(s) => b = s,
                None => return b,
            },
            None => return b,
        }
    }
    b
}

/// A file-system-safe name: `2422_Balsthal.xlsx`.
pub fn file_name(bfs: Bfs, name: &str) -> String {
    let clean: String =
        name.chars().map(|c| if matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*') { '_' } else { c }).collect();
    format!("Rueckmeldungen/{bfs}_{}.xlsx", clean.trim())
}

/// Writes one workbook per recipient with at least one finding.
pub fn write_all(d: &RunData<'_>) -> Result<Vec<OutFile>, WriteError> {
    let mut by_recipient: BTreeMap<Bfs, Vec<&Finding>> = BTreeMap::new();
    for f in d.findings {
        if let Some(b) = f.bfs {
            by_recipient.entry(recipient(d, b)).or_default().push(f);
        }
    }
    by_recipient.into_iter().map(|(b, fs)| write_one(d, b, &fs)).collect()
}

fn sev_rank(s: Severity) -> u8 {
    match s {
        Severity::Fehler => 0,
        Severity::Warnung => 1,
        Severity::Hinweis => 2,
    }
}

fn fill(s: Severity) -> Format {
    match s {
        Severity::Fehler => style::error_fill(),
        Severity::Warnung => style::warn_fill(),
        Severity::Hinweis => style::note_fill(),
    }
}

fn write_one(d: &RunData<'_>, bfs: Bfs, findings: &[&Finding]) -> Result<OutFile, WriteError> {
    let name = d.name_of(Some(bfs));
    let rel = file_name(bfs, &name);
    let xl = |source| WriteError::Xlsx { name: rel.clone(), source };
    let mut sorted: Vec<&Finding> = findings.to_vec();
    sorted.sort_by_key(|f| sev_rank(f.severity));
    // Municipalities covered: the recipient and everyone whose findings or money it receives.
    let year_end = ymd(d.year, 12, 31);
    let mut covered: BTreeSet<Bfs> = d.master.members_of(bfs, year_end);
    covered.insert(bfs);
    covered.extend(findings.iter().filter_map(|f| f.bfs));
    let mut wb = style::workbook(&format!("Rückmeldung start.integration {} an {name}", d.year), d.run_date);
    letter(wb.add_worksheet(), d, bfs, &covered, &sorted).map_err(xl)?;
    money(wb.add_worksheet(), d, &covered).map_err(xl)?;
    // The returned forms with cell findings, rebuilt.
    let files: BTreeSet<&str> = sorted.iter().filter(|f| f.cell.is_some()).filter_map(|f| f.file.as_deref()).collect();
    let mut n = 0;
    for rel_file in files {
        let Some(entry) = d.resolved.files.iter().find(|e| e.result.rel == rel_file) else { continue };
        let Some(form) = &entry.result.form else { continue };
        n += 1;
        let here: Vec<&Finding> = sorted.iter().copied().filter(|f| f.file.as_deref() == Some(rel_file)).collect();
        rebuilt(wb.add_worksheet(), n, entry, form, &here).map_err(xl)?;
    }
    save(rel, &mut wb)
}

fn letter(ws: &mut Worksheet, d: &RunData<'_>, bfs: Bfs, covered: &BTreeSet<Bfs>, findings: &[&Finding]) -> Result<(), XlsxError> {
    ws.set_name("Rückmeldung")?;
    ws.write_string_with_format(0, 0, format!("Rückmeldung zur Berichterstattung start.integration {}", d.year), &style::title())?;
    let b = style::bold();
    let rows = [
        ("Gemeinde", d.name_of(Some(bfs))),
        ("BFS-Nr.", bfs.to_string()),
        ("Jahr", d.year.to_string()),
        ("Datum", fmt_date(d.run_date)),
        ("Kontakt AGS", d.contact.to_string()),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        ws.write_string_with_format(2 + i as u32, 0, *k, &b)?;
        ws.write_string(2 + i as u32, 1, v)?;
    }
    let mut r = 8;
    let others: Vec<String> = covered
        .iter()
        .filter(|m| **m != bfs)
        .map(|m| format!("{} ({m})", d.name_of(Some(*m))))
        .collect();
    if !others.is_empty() {
        ws.write_string_with_format(
            r,
            0,
            format!(
                "Als Leitgemeinde erhalten Sie auch die Rückmeldungen zu Ihren Vertragsgemeinden: {}.",
                others.join(", ")
            ),
            &style::wrap(),
        )?;
        r += 1;
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", findings.iter().filter(|f| f.severity == *s).count(), s.label()))
        .collect();
    ws.write_string(
        r,
        0,
        "Sehr geehrte Damen und Herren. Bei der Prüfung Ihrer Formulare haben wir folgende Punkte festgestellt. \
         Bei einem Fehler wird der betroffene Betrag zurückbehalten, bis ein korrigiertes Formular eingeht. \
         Eine Warnung bitten wir Sie zu prüfen; ein Hinweis dient Ihrer Information.",
    )?;
    r += 1;
    ws.write_string(r, 0, format!("Befunde: {}.", counts.join(", ")))?;
    r += 2;
    header_row(ws, r, &["Gemeinde", "Datei", "Blatt", "Zelle", "Gefundener Wert", "Schwere", "Meldung", "Korrektur", "Code"])?;
    let h = r;
    let wrap = style::wrap();
    for f in findings {
        r += 1;
        let who = f.bfs.map(|b| format!("{} ({b})", d.name_of(Some(b)))).unwrap_or_default();
        ws.write_string(r, 0, who)?;
        ws.write_string_with_format(r, 1, f.file.as_deref().unwrap_or("(Gemeinde)"), &wrap)?;
        ws.write_string(r, 2, f.sheet.as_deref().unwrap_or(""))?;
        ws.write_string(r, 3, f.cell.as_deref().unwrap_or(""))?;
        ws.write_string(r, 4, f.value.as_deref().unwrap_or(""))?;
        ws.write_string_with_format(r, 5, f.severity.label(), &fill(f.severity))?;
        ws.write_string_with_format(r, 6, &f.message, &wrap)?;
        ws.write_string_with_format(r, 7, &f.fix, &wrap)?;
        ws.write_string(r, 8, f.code.as_str())?;
    }
    for (c, w) in [26.0, 36.0, 14.0, 7.0, 16.0, 9.0, 60.0, 50.0, 26.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(h, h)?;
    Ok(())
}

fn money(ws: &mut Worksheet, d: &RunData<'_>, covered: &BTreeSet<Bfs>) -> Result<(), XlsxError> {
    ws.set_name("Beiträge")?;
    ws.write_string_with_format(0, 0, format!("Beiträge {} (provisorisch, Stand {})", d.year, fmt_date(d.run_date)), &style::title())?;
    let mut r = 2;
    header_row(
        ws,
        r,
        &["Gemeinde", "Leistung", "Periode", "Anzahl gemeldet", "Betrag berechnet", "Betrag ausbezahlt", "Zurückbehalten", "Grund"],
    )?;
    let (chf, cnt, wrap) = (style::chf(), style::count(), style::wrap());
    for row in d.comp.rows.iter().filter(|x| covered.contains(&x.bfs)) {
        let who = format!("{} ({})", row.name, row.bfs);
        let not_eligible = !matches!(row.eligibility, crate::validate::Eligibility::Eligible);
        // Sockelbeitrag
        r += 1;
        let sockel_computed = d
            .master
            .tariff(crate::domain::TariffCode::Sockel, ymd(d.year, 12, 31))
            .map(|t| Decimal::from(row.base) * t.amount)
            .unwrap_or_default();
        ws.write_string(r, 0, &who)?;
        ws.write_string(r, 1, "Sockelbeitrag")?;
        ws.write_string(r, 2, d.year.to_string())?;
        ws.write_number_with_format(r, 3, row.base as f64, &cnt)?;
        ws.write_with_format(r, 4, sockel_computed, &chf)?;
        ws.write_with_format(r, 5, row.sockel, &chf)?;
        ws.write_with_format(r, 6, sockel_computed - row.sockel, &chf)?;
        if not_eligible {
            ws.write_string_with_format(r, 7, &row.status, &wrap)?;
        }
        for h in &row.halves {
            for (i, c) in PERIOD_COMPONENTS.iter().enumerate() {
                if h.computed[i].is_zero() && h.amounts[i].is_zero() && !h.withheld.contains(c) {
                    continue;
                }
                r += 1;
                ws.write_string(r, 0, &who)?;
                ws.write_string(r, 1, component_label(*c))?;
                ws.write_string(r, 2, h.period.label())?;
                ws.write_number_with_format(r, 3, h.reported.get(*c) as f64, &cnt)?;
                ws.write_with_format(r, 4, h.computed[i], &chf)?;
                ws.write_with_format(r, 5, h.amounts[i], &chf)?;
                ws.write_with_format(r, 6, h.computed[i] - h.amounts[i], &chf)?;
                let reason = if not_eligible {
                    row.status.clone()
                } else if h.withheld_whole {
                    "Vertragsgemeinden ergeben nicht die Totale (LEIT_SUMME)".to_string()
                } else if h.withheld.contains(c) {
                    "Wert fehlerhaft, siehe Befunde".to_string()
                } else {
                    String::new()
                };
                ws.write_string_with_format(r, 7, reason, &wrap)?;
            }
        }
        if !row.clawback.is_zero() {
            r += 1;
            ws.write_string(r, 0, &who)?;
            ws.write_string(r, 1, "Rückforderung (Ziffer 4.7)")?;
            ws.write_string(r, 2, d.year.to_string())?;
            ws.write_with_format(r, 5, row.clawback, &chf)?;
        }
        r += 1;
        total_line(ws, r, &who, row)?;
        r += 1;
    }
    for (c, w) in [26.0, 40.0, 20.0, 14.0, 16.0, 16.0, 16.0, 50.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

fn total_line(ws: &mut Worksheet, r: u32, who: &str, row: &AnnexRow) -> Result<(), XlsxError> {
    let b = style::bold_top();
    ws.write_string_with_format(r, 0, who, &b)?;
    ws.write_string_with_format(r, 1, "Total", &b)?;
    for c in [2u16, 3, 4, 6] {
        ws.write_string_with_format(r, c, "", &b)?;
    }
    ws.write_with_format(r, 5, row.total, &style::chf_bold())?;
    ws.write_string_with_format(r, 7, &row.status, &b)?;
    Ok(())
}

/// Writes a raw value as the user entered it: numbers as numbers, dates as dates.
fn write_value(ws: &mut Worksheet, r: u32, c: u16, v: &Value, fmt: &Format) -> Result<(), XlsxError> {
    match v {
        Value::Int(i) => ws.write_number_with_format(r, c, *i as f64, fmt)?,
        Value::Float(f) => ws.write_number_with_format(r, c, *f, fmt)?,
        Value::Date(dt) => ws.write_datetime_with_format(r, c, style::xl_date(*dt), &fmt.clone().set_num_format("dd.mm.yyyy"))?,
        Value::Bool(b) => ws.write_boolean_with_format(r, c, *b, fmt)?,
        other => ws.write_string_with_format(r, c, other.display(), fmt)?,
    };
    Ok(())
}

fn findings_at<'a>(findings: &[&'a Finding], pos: &Option<CellPos>) -> Vec<&'a Finding> {
    let Some(p) = pos else { return vec![] };
    let a1 = p.a1();
    findings
        .iter()
        .copied()
        .filter(|f| f.sheet.as_deref() == Some(p.sheet.as_str()) && f.cell.as_deref() == Some(a1.as_str()))
        .collect()
}

fn mark(ws: &mut Worksheet, r: u32, c: u16, v: &Value, here: &[&Finding]) -> Result<(), XlsxError> {
    let worst = here.iter().map(|f| f.severity).min_by_key(|s| sev_rank(*s));
    let fmt = worst.map(fill).unwrap_or_default();
    write_value(ws, r, c, v, &fmt)?;
    if !here.is_empty() {
        let text: Vec<String> = here
            .iter()
            .map(|f| format!("{} ({}): {} Korrektur: {}", f.severity.label(), f.code.as_str(), f.message, f.fix))
            .collect();
        ws.insert_note(r, c, &Note::new(text.join("\n\n")).set_author("AGS").set_width(420).set_height(160))?;
    }
    Ok(())
}

fn rebuilt(ws: &mut Worksheet, n: usize, entry: &FileEntry, form: &RawForm, here: &[&Finding]) -> Result<(), XlsxError> {
    ws.set_name(format!("Formular {n}"))?;
    let b = style::bold();
    ws.write_string_with_format(0, 0, if form.kind == FormKind::Reporting { REPORTING_TITLE } else { SD_TITLE }, &style::title())?;
    ws.write_string_with_format(
        0,
        3,
        format!(
            "Nachbau Ihrer Datei «{}» (Blatt «{}») mit den eingereichten Werten. Markierte Zellen enthalten eine Notiz mit der Korrektur.",
            entry.result.rel, form.sheet
        ),
        &style::wrap(),
    )?;
    for spec in fields_of(form.kind) {
        let r = spec.row - 1;
        ws.write_string_with_format(r, 0, spec.label, &b)?;
        let f = form.field(spec.key);
        mark(ws, r, 1, &f.value, &findings_at(here, &f.pos))?;
        if let Some(p) = &f.pos {
            ws.write_string_with_format(r, 2, format!("Ihre Datei: {}!{}", p.sheet, p.a1()), &style::subtitle())?;
        } else {
            ws.write_string_with_format(r, 2, "in Ihrer Datei nicht gefunden", &style::subtitle())?;
        }
    }
    if form.kind == FormKind::Reporting {
        for (label, row) in REPORTING_HEADINGS {
            ws.write_string_with_format(row - 1, 0, *label, &b)?;
        }
    }
    // The Vertragsgemeinden table, below the form.
    if let Some(t) = &form.table {
        let top = 28;
        ws.write_string_with_format(top, 0, format!("Blatt «{}»", t.sheet), &b)?;
        let labels: Vec<&str> = TABLE_COLUMNS.iter().map(|(_, h)| *h).collect();
        header_row(ws, top + 1, &labels)?;
        for (i, row) in t.rows.iter().enumerate() {
            let r = top + 2 + i as u32;
            for (c, (key, _)) in TABLE_COLUMNS.iter().enumerate() {
                let f = row.get(key);
                mark(ws, r, c as u16, &f.value, &findings_at(here, &f.pos))?;
            }
        }
    }
    ws.set_column_width(0, 62)?;
    ws.set_column_width(1, 26)?;
    ws.set_column_width(2, 24)?;
    ws.set_column_width(3, 60)?;
    Ok(())
}
