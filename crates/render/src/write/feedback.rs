//! `Rueckmeldungen/<BFS-Nr>_<Gemeinde>.xlsx`: one feedback workbook per municipality with
//! findings, in German, ready to send back:
//!
//! 1. `Rückmeldung`: the letter head (Gemeinde, BFS-Nr., Jahr, date, AGS contact), what to do,
//!    and the findings (Fehler first, then Warnungen, then Hinweise) with file, sheet, cell,
//!    value found, message and how to fix it;
//! 2. `Beiträge`: per municipality and component what was computed, what is paid and what is
//!    withheld with the reason, the totals and the payouts to the recipient: compute's
//!    statement ([`crate::compute::Line`]) rendered line by line, nothing recomputed here;
//! 3. `Formular n`: each returned form with findings, rebuilt in the layout of the 2022
//!    template with the values submitted, the offending cells highlighted and a note on each,
//!    ready to be corrected and sent back (shared layout: [`super::form_layout`]).
//!
//! A contract member's findings go to its lead's workbook (it is the lead that reports and is
//! paid), a merged municipality's to its successor's; the workbook says so.

use super::columns::{widths, Column, Kind, Table, Val};
use super::form_layout::{write_form_sheet, write_table_sheet, FormSheet, Mark, TableSheet};
use super::style::{self, header_row, TextCells};
use super::{save, EvaluationData, OutFile, WriteError};
use crate::compute::{component_label, AnnexRow, Item};
use crate::domain::{fmt_date, ymd, Bfs, CellPos, Finding, FormKind, Severity};
use crate::extract::{fields_of, RawForm};
use crate::fields::TableColumn;
use crate::resolve::FileEntry;
use rust_xlsxwriter::{Format, FormatAlign, Worksheet, XlsxError};
use std::collections::{BTreeMap, BTreeSet};

/// The municipality whose workbook receives findings about `bfs`: its lead when it is a
/// contract member, the successor's when it was merged away, else itself.
pub fn recipient(d: &EvaluationData<'_>, bfs: Bfs) -> Bfs {
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

/// The workbook's path in the output folder: `Rueckmeldungen/2422_Balsthal.xlsx`.
pub fn file_name(bfs: Bfs, name: &str) -> String {
    format!("Rueckmeldungen/{bfs}_{}.xlsx", style::safe_name(name))
}

/// Groups the findings that concern a municipality by the recipient of its workbook.
pub fn by_recipient<'a>(d: &EvaluationData<'a>) -> BTreeMap<Bfs, Vec<&'a Finding>> {
    let mut out: BTreeMap<Bfs, Vec<&'a Finding>> = BTreeMap::new();
    for f in d.findings {
        if let Some(b) = f.bfs {
            out.entry(recipient(d, b)).or_default().push(f);
        }
    }
    out
}

/// Writes one workbook per recipient with at least one finding.
pub fn write_all(d: &EvaluationData<'_>) -> Result<Vec<OutFile>, WriteError> {
    use rayon::prelude::*;
    // Built in parallel, collected in BFS-Nr. order: the same bytes for any thread count.
    let recipients: Vec<(Bfs, Vec<&Finding>)> = by_recipient(d).into_iter().collect();
    recipients.par_iter().map(|(b, fs)| write_one(d, *b, fs)).collect()
}

/// A finding in the letter's table: whom it concerns and the sheet its form is rebuilt on.
struct LetterLine<'a> {
    f: &'a Finding,
    concerns: String,
    rebuilt: &'a str,
}

/// The columns of the letter's findings table: one landscape page wide (at 81 %), so that
/// the paragraphs above it print whole.
const fn letter_columns<'a>() -> [Column<LetterLine<'a>>; 10] {
    [
        Column::new("Gemeinde", 14.0, Kind::Wrap, |l| Val::text(&l.concerns)),
        Column::new("Datei", 20.0, Kind::Wrap, |l| Val::text(l.f.file.as_deref().unwrap_or("(ganze Gemeinde)"))),
        Column::new("Blatt", 12.0, Kind::Wrap, |l| Val::opt_text(l.f.sheet())),
        Column::new("Zelle", 6.0, Kind::Wrap, |l| Val::text(l.f.cell().unwrap_or_default())),
        Column::new("Gefundener Wert", 12.0, Kind::Wrap, |l| Val::opt_text(l.f.value.as_deref())),
        Column::new("Schwere", 9.0, Kind::Text, |l| Val::severity(l.f.severity)),
        Column::new("Meldung", 30.0, Kind::Wrap, |l| Val::text(&l.f.message)),
        Column::new("Korrektur", 24.0, Kind::Wrap, |l| Val::text(&l.f.fix)),
        // The longest code on one line (27 capitals), never broken inside.
        Column::new("Code", 30.0, Kind::Wrap, |l| Val::text(l.f.code.as_str())),
        Column::new("Nachbau", 9.0, Kind::Wrap, |l| Val::text(l.rebuilt)),
    ]
}

/// The widths of the letter's columns.
const WIDTHS: [f64; 10] = widths(&letter_columns());

/// A paragraph of the letter across the findings table's width.
fn para(ws: &mut Worksheet, r: &mut u32, text: String, fmt: &Format) -> Result<(), XlsxError> {
    ws.merge_text(*r, 0, *r, 8, &text, fmt)?;
    style::fit_row(ws, *r, &[(&text, WIDTHS[..9].iter().sum())])?;
    *r += 1;
    Ok(())
}

fn sev_rank(s: Severity) -> u8 {
    match s {
        Severity::Fehler => 0,
        Severity::Warnung => 1,
        Severity::Hinweis => 2,
    }
}

fn who(d: &EvaluationData<'_>, b: Bfs) -> String {
    format!("{} ({b})", d.name_of(Some(b)))
}

fn write_one(d: &EvaluationData<'_>, bfs: Bfs, findings: &[&Finding]) -> Result<OutFile, WriteError> {
    let name = d.name_of(Some(bfs));
    let rel = file_name(bfs, &name);
    let xl = |source| WriteError::Xlsx { name: rel.clone(), source };
    // Fehler first, then Warnungen, then Hinweise; report order within a severity.
    let mut sorted: Vec<&Finding> = findings.to_vec();
    sorted.sort_by_key(|f| sev_rank(f.severity));
    // Municipalities covered: the recipient, its contract's members, and everyone whose
    // findings it receives.
    let year_end = ymd(d.year, 12, 31);
    let members: BTreeSet<Bfs> = d.master.members_of(bfs, year_end);
    let mut covered: BTreeSet<Bfs> = members.clone();
    covered.insert(bfs);
    covered.extend(findings.iter().filter_map(|f| f.bfs));

    // The returned forms with findings on them, in report order.
    let mut forms: Vec<(&FileEntry, &RawForm, Vec<&Finding>)> = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &sorted {
        let Some(file) = f.file.as_deref() else { continue };
        if f.place.is_none() || !seen.insert(file) {
            continue;
        }
        let Some(entry) = d.resolved.files.iter().find(|e| e.result.file.rel == file) else { continue };
        let Some(form) = &entry.result.submitted else { continue };
        let here = sorted.iter().copied().filter(|g| g.file.as_deref() == Some(file)).collect();
        forms.push((entry, form, here));
    }
    forms.sort_by(|a, b| a.0.result.file.rel.as_bytes().cmp(b.0.result.file.rel.as_bytes()));
    let sheet_names: Vec<String> = (1..=forms.len()).map(|n| format!("Formular {n}")).collect();

    let mut wb = style::workbook(&format!("Rückmeldung start.integration {} an {name}", d.year), d.run_date);
    let refs: BTreeMap<&str, &str> =
        forms.iter().zip(&sheet_names).map(|((e, _, _), s)| (e.result.file.rel.as_str(), s.as_str())).collect();
    letter(wb.add_worksheet(), d, bfs, &members, &covered, &sorted, &refs).map_err(xl)?;
    money(wb.add_worksheet(), d, bfs, &covered).map_err(xl)?;
    for ((entry, form, here), sheet) in forms.iter().zip(&sheet_names) {
        rebuilt(&mut wb, sheet, entry, form, here).map_err(xl)?;
    }
    save(rel, &mut wb)
}

#[allow(clippy::too_many_arguments)]
fn letter(
    ws: &mut Worksheet,
    d: &EvaluationData<'_>,
    bfs: Bfs,
    members: &BTreeSet<Bfs>,
    covered: &BTreeSet<Bfs>,
    findings: &[&Finding],
    refs: &BTreeMap<&str, &str>,
) -> Result<(), XlsxError> {
    ws.set_name("Rückmeldung")?;
    ws.write_text_with_format(
        0,
        0,
        format!("Rückmeldung zur Berichterstattung start.integration {}", d.year),
        &style::title(),
    )?;
    let b = style::bold();
    let top = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let mut head = vec![
        ("Gemeinde", d.name_of(Some(bfs))),
        ("BFS-Nr.", bfs.to_string()),
        ("Jahr", d.year.to_string()),
        ("Datum", fmt_date(d.run_date)),
    ];
    // The AGS as the letter names it: the sheet `Absender` and the run's contact; a line the
    // master data do not fill is left out (no built-in address).
    if let Some(s) = &d.master.adressen.sender {
        head.push(("Absender", s.address.lines().join(", ")));
    }
    if !d.contact.is_empty() {
        head.push(("Kontakt AGS", d.contact.replace('\n', ", ")));
    }
    for (i, (k, v)) in head.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_text_with_format(r, 0, *k, &b.clone().set_align(FormatAlign::Top))?;
        ws.merge_text(r, 1, r, 4, v, &top)?;
        style::fit_row(ws, r, &[(v, WIDTHS[1..5].iter().sum())])?;
    }
    let mut r = 3 + head.len() as u32;
    // Whose findings this workbook holds besides the recipient's.
    let contract = d.master.membership(bfs, ymd(d.year, 12, 31)).map(|m| m.contract.clone());
    let in_contract: Vec<String> = members.iter().filter(|m| **m != bfs).map(|m| who(d, *m)).collect();
    if !in_contract.is_empty() {
        para(
            ws,
            &mut r,
            format!(
                "Diese Rückmeldung geht an {} als Leitgemeinde des Vertrags «{}». Die Vertragsgemeinden melden über \
                 die Leitgemeinde und erhalten keine eigene Rückmeldung; ihre Befunde stehen hier (Spalte «Gemeinde»): {}.",
                d.name_of(Some(bfs)),
                contract.unwrap_or_default(),
                in_contract.join(", ")
            ),
            &top,
        )?;
    }
    let others: Vec<String> = covered
        .iter()
        .filter(|m| **m != bfs && !members.contains(m))
        .map(|m| {
            let muni = d.master.municipality(*m);
            match muni.and_then(|x| x.successor).filter(|_| muni.is_some_and(|x| !x.exists_in_year(d.year))) {
                Some(s) => format!("{} (aufgelöst, Nachfolgegemeinde {})", who(d, *m), who(d, s)),
                None => who(d, *m),
            }
        })
        .collect();
    if !others.is_empty() {
        para(ws, &mut r, format!("Ebenfalls aufgeführt sind die Befunde zu: {}.", others.join(", ")), &top)?;
    }
    para(
        ws,
        &mut r,
        "Sehr geehrte Damen und Herren. Bei der Prüfung Ihrer Formulare haben wir die folgenden Punkte festgestellt. \
         Bei einem Fehler wird der betroffene Betrag zurückbehalten, bis ein korrigiertes Formular eingeht. Eine \
         Warnung bitten wir Sie zu prüfen; ein Hinweis dient Ihrer Information."
            .to_string(),
        &top,
    )?;
    if !refs.is_empty() {
        para(
            ws,
            &mut r,
            "In den Blättern «Formular 1», «Formular 2» usw. sind Ihre Formulare mit den eingereichten Werten \
             nachgebaut. Die markierten Zellen tragen eine Notiz mit der Korrektur. Bitte korrigieren Sie die Werte \
             dort oder in Ihrer eigenen Datei und senden Sie jedes korrigierte Formular als eigene Datei an das AGS."
                .to_string(),
            &top,
        )?;
    }
    let counts = crate::catalogue::severity_counts(findings.iter().map(|f| f.severity));
    ws.write_text_with_format(r, 0, format!("Befunde: {counts}."), &b)?;
    r += 2;
    let columns = letter_columns();
    let table = Table::top(&columns);
    table.header(ws, r)?;
    let h = r;
    let lines: Vec<LetterLine<'_>> = findings
        .iter()
        .map(|f| LetterLine {
            f,
            concerns: f.bfs.map(|b| who(d, b)).unwrap_or_default(),
            rebuilt: f.file.as_deref().and_then(|x| refs.get(x)).copied().unwrap_or(""),
        })
        .collect();
    r = table.rows(ws, h + 1, &lines)? - 1;
    table.set_widths(ws)?;
    if r > h {
        ws.autofilter(h, 0, r, (columns.len() - 1) as u16)?;
    }
    style::print_layout(ws, Some((h, h)), &WIDTHS, style::Orientation::Landscape, 0, Some(d.run_date))?;
    Ok(())
}

fn money(ws: &mut Worksheet, d: &EvaluationData<'_>, bfs: Bfs, covered: &BTreeSet<Bfs>) -> Result<(), XlsxError> {
    ws.set_name("Beiträge")?;
    ws.write_text_with_format(
        0,
        0,
        format!("Beiträge {} (provisorisch, Stand {})", d.year, fmt_date(d.run_date)),
        &style::title(),
    )?;
    let intro = "Berechnet: was die gemeldeten Zahlen nach Tarif ergeben. Ausbezahlt: was nach der Prüfung \
                 ausgerichtet wird. Zurückbehalten: die Differenz, mit dem Grund; sie wird nach Eingang eines \
                 korrigierten Formulars ausgerichtet, bei fehlender oder ungenügender Selbstdeklaration nach \
                 Eingang einer Selbstdeklaration, welche die Voraussetzungen nach Ziffer 4.2 erfüllt.";
    ws.merge_text(1, 0, 1, 7, intro, &style::subtitle().set_text_wrap().set_align(FormatAlign::Top))?;
    style::fit_row(ws, 1, &[(intro, MONEY_WIDTHS.iter().sum())])?;
    let mut r = 3;
    let columns = [
        "Gemeinde",
        "Leistung",
        "Periode",
        "Anzahl",
        "Betrag berechnet",
        "Betrag ausbezahlt",
        "Zurückbehalten",
        "Grund",
    ];
    style::header_row_fit(ws, r, &columns, &MONEY_WIDTHS)?;
    let h = r;
    let top = Format::new().set_align(FormatAlign::Top);
    let (chf, cnt, wrap) =
        (style::chf().set_align(FormatAlign::Top), style::count().set_align(FormatAlign::Top), style::wrap());
    let mw = MONEY_WIDTHS;
    let stichtag = fmt_date(ymd(d.year - 2, 12, 31));
    let mut rows_shown = 0;
    for row in d.comp.rows.iter().filter(|x| covered.contains(&x.bfs)) {
        rows_shown += 1;
        let name = format!("{} ({})", row.name, row.bfs);
        for line in &row.statement {
            r += 1;
            let why = line.reason_text();
            let (what, period) = match &line.item {
                Item::Sockel => {
                    (format!("Sockelbeitrag (ausländische Wohnbevölkerung {stichtag})"), d.year.to_string())
                }
                Item::Component { period, component } => (component_label(*component).to_string(), period.label()),
                Item::NoReport { period } => ("Fall- und Dolmetschpauschalen".to_string(), period.label()),
                Item::Clawback => ("Rückforderung (Ziffer 4.7)".to_string(), d.year.to_string()),
            };
            ws.write_text_with_format(r, 0, &name, &wrap)?;
            // Short labels stay on one line, as the long ones wrap.
            let what_fmt = if matches!(line.item, Item::Clawback) { &top } else { &wrap };
            ws.write_text_with_format(r, 1, &what, what_fmt)?;
            ws.write_text_with_format(r, 2, &period, &top)?;
            if let Some(n) = line.count {
                ws.write_number_with_format(r, 3, n as f64, &cnt)?;
            }
            if let Some(c) = line.computed {
                ws.write_with_format(r, 4, c.decimal(), &chf)?;
            }
            ws.write_with_format(r, 5, line.paid.decimal(), &chf)?;
            if let Some(w) = line.withheld {
                ws.write_with_format(r, 6, w.decimal(), &chf)?;
            }
            if !why.is_empty() || !matches!(line.item, Item::Sockel) {
                ws.write_text_with_format(r, 7, &why, &wrap)?;
            }
            style::fit_row(ws, r, &[(&name, mw[0]), (&what, mw[1]), (&why, mw[7])])?;
        }
        r += 1;
        total_line(ws, r, &name, row)?;
        r += 1;
    }
    if rows_shown > 1 {
        r += 1;
        let b = style::bold_top();
        let total_to = format!("Total an {}", who(d, bfs));
        ws.write_text_with_format(r, 0, &total_to, &b.clone().set_text_wrap())?;
        style::fit_row(ws, r, &[(&total_to, mw[0])])?;
        for c in [1u16, 2, 3, 4, 6, 7] {
            ws.write_text_with_format(r, c, "", &b)?;
        }
        ws.write_with_format(r, 5, d.comp.total_to(bfs).decimal(), &style::chf_bold())?;
        r += 1;
    }
    // The payouts to this recipient (4.5.2).
    let payouts: Vec<_> = d.comp.payouts.iter().filter(|p| p.payee == bfs).collect();
    if !payouts.is_empty() {
        r += 1;
        let head = format!("Auszahlungen an {} (Ziffer 4.5.2)", who(d, bfs));
        ws.merge_text(r, 0, r, 7, &head, &style::bold().set_text_wrap())?;
        style::fit_row(ws, r, &[(&head, mw.iter().sum())])?;
        r += 1;
        header_row(ws, r, &["Datum", "Grundlage", "", "", "Brutto", "Verrechnet", "Netto", ""])?;
        for p in payouts {
            r += 1;
            ws.write_text_with_format(r, 0, fmt_date(p.date), &top)?;
            ws.write_text_with_format(r, 1, &p.basis, &wrap)?;
            style::fit_row(ws, r, &[(&p.basis, mw[1])])?;
            ws.write_with_format(r, 4, p.gross.decimal(), &chf)?;
            ws.write_with_format(r, 5, p.offset.decimal(), &chf)?;
            ws.write_with_format(r, 6, p.net().decimal(), &chf)?;
        }
    }
    for inv in d.comp.invoices.iter().filter(|i| covered.contains(&i.bfs)) {
        r += 2;
        let text =
            format!("Rechnung an {}: die Rückforderung übersteigt die Auszahlung ({})", who(d, inv.bfs), inv.reason());
        ws.merge_text(r, 0, r, 4, &text, &style::bold().set_text_wrap().set_align(FormatAlign::Top))?;
        style::fit_row(ws, r, &[(&text, mw[..5].iter().sum())])?;
        ws.write_with_format(r, 5, inv.amount.decimal(), &style::chf_bold())?;
    }
    for (c, w) in MONEY_WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    style::print_layout(ws, Some((h, h)), &MONEY_WIDTHS, style::Orientation::Landscape, 0, Some(d.run_date))?;
    Ok(())
}

/// Column widths of the `Beiträge` sheet: one landscape page wide.
const MONEY_WIDTHS: [f64; 8] = [22.0, 32.0, 14.0, 8.0, 15.0, 15.0, 15.0, 40.0];

fn total_line(ws: &mut Worksheet, r: u32, who: &str, row: &AnnexRow) -> Result<(), XlsxError> {
    let b = style::bold_top();
    ws.write_text_with_format(r, 0, who, &b.clone().set_text_wrap())?;
    let status = row.status.label();
    style::fit_row(ws, r, &[(who, MONEY_WIDTHS[0]), (&status, MONEY_WIDTHS[7])])?;
    ws.write_text_with_format(r, 1, "Total", &b)?;
    for c in [2u16, 3, 4, 6] {
        ws.write_text_with_format(r, c, "", &b)?;
    }
    ws.write_with_format(r, 5, row.total.decimal(), &style::chf_bold())?;
    ws.write_text_with_format(r, 7, row.status.label(), &b.set_text_wrap())?;
    Ok(())
}

fn findings_at<'a>(findings: &[&'a Finding], pos: &Option<CellPos>) -> Vec<&'a Finding> {
    let Some(p) = pos else { return vec![] };
    findings.iter().copied().filter(|f| f.pos() == Some(p)).collect()
}

/// The note on a highlighted cell: every finding there, with how to fix it.
fn mark_of(here: &[&Finding]) -> Option<Mark> {
    let worst = here.iter().map(|f| f.severity).min_by_key(|s| sev_rank(*s))?;
    let text: Vec<String> = here
        .iter()
        .map(|f| format!("{} ({}): {}\nKorrektur: {}", f.severity.label(), f.code.as_str(), f.message, f.fix))
        .collect();
    Some(Mark { severity: worst, note: text.join("\n\n") })
}

/// Rebuilds a returned form in the 2022 layout with the values submitted; the table of a
/// lead's report goes on its own sheet right after it, as in the template.
fn rebuilt(
    wb: &mut rust_xlsxwriter::Workbook,
    sheet: &str,
    entry: &FileEntry,
    form: &RawForm,
    here: &[&Finding],
) -> Result<(), XlsxError> {
    let mut placed: BTreeSet<*const Finding> = BTreeSet::new();
    let mut f = FormSheet::new(form.kind, sheet);
    for spec in fields_of(form.kind) {
        let field = form.field(spec.field);
        f.values.insert(spec.field, field.value.clone());
        let at = findings_at(here, &field.pos);
        placed.extend(at.iter().map(|x| *x as *const Finding));
        if let Some(m) = mark_of(&at) {
            f.marks.insert(spec.field, m);
        }
        let side = match &field.pos {
            Some(p) => format!("in Ihrer Datei: Blatt «{}», Zelle {}", p.sheet, p.a1()),
            None => "in Ihrer Datei nicht gefunden".to_string(),
        };
        f.side.insert(spec.field, side);
    }
    let kind = if form.kind == FormKind::Reporting { "Reportingformular" } else { "Selbstdeklaration" };
    f.intro = Some(format!(
        "Nachbau Ihrer Datei «{}» ({kind}, Blatt «{}», {}) mit den eingereichten Werten. Markierte Zellen tragen eine \
         Notiz mit der Korrektur.",
        entry.result.file.rel,
        form.sheet,
        entry.state.as_str()
    ));
    let table = form.table.as_ref().map(|t| {
        let mut marks = BTreeMap::new();
        let rows: Vec<Vec<crate::workbook::Value>> = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                TableColumn::ALL
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let cell = row.get(*col);
                        let at = findings_at(here, &cell.pos);
                        placed.extend(at.iter().map(|x| *x as *const Finding));
                        if let Some(m) = mark_of(&at) {
                            marks.insert((i, c), m);
                        }
                        cell.value
                    })
                    .collect()
            })
            .collect();
        let name = format!("{sheet} – Vertragsgemeinden");
        (t.sheet.clone(), TableSheet { sheet_name: name, rows, locked_cols: 0, marks, check_against: None })
    });
    // Findings without a cell of the rebuilt form are listed below it.
    let rest: Vec<&Finding> = here.iter().copied().filter(|x| !placed.contains(&(*x as *const Finding))).collect();
    if !rest.is_empty() {
        f.below.push((None, "Weitere Befunde zu dieser Datei".to_string()));
        for x in rest {
            let at = match (x.sheet(), x.cell()) {
                (Some(s), Some(c)) => format!(" [Blatt «{s}», Zelle {c}]"),
                (Some(s), None) => format!(" [Blatt «{s}»]"),
                _ => String::new(),
            };
            f.below.push((
                Some(x.severity),
                format!("{} ({}){at}: {} Korrektur: {}", x.severity.label(), x.code.as_str(), x.message, x.fix),
            ));
        }
    }
    write_form_sheet(wb.add_worksheet(), &f)?;
    if let Some((_, t)) = table {
        write_table_sheet(wb.add_worksheet(), &t)?;
    }
    Ok(())
}
