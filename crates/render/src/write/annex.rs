//! `Anhang_1_Beitraege_<Y>.xlsx`: the contribution annex (4.5.3, Anhang Nr. 1).

use super::columns::{labels, Column, Kind, Named, Rule, Table, TotalRow, Val};
use super::style::{self, print_layout, Orientation, TextCells};
use super::{save, xl, EvaluationData, OutFile, WriteError};
use crate::compute::{AnnexRow, AppliedTariff, Invoice, Payout};
use crate::domain::Component::{DolmetschEg, DolmetschIg, FallEg, FallIg};
use crate::domain::{a1, fmt_date, TariffCode};
use rust_xlsxwriter::{Formula, Worksheet, XlsxError};

/// The amounts that add up to a row's `Total`.
const TOTAL_TERMS: &[&str] = &[
    "Sockelbeitrag",
    "Fallpauschale Erstinformation",
    "Dolmetschpauschale Erstinformation",
    "Fallpauschale Integrationsgespräche",
    "Dolmetschpauschale Integrationsgespräche",
    "Rückforderung",
];

/// The columns of sheet `Beiträge` (OUTPUTS.md), in order. Every header word fits its
/// column whole (no word broken mid-way); printed two pages wide with `BFS-Nr.` and
/// `Gemeinde` repeated. The total row sums the counts and amounts.
pub const BEITRAEGE: [Column<AnnexRow>; 18] = [
    Column::new("BFS-Nr.", 8.0, Kind::Id, |r| Val::num(r.bfs)),
    Column::new("Gemeinde", 22.0, Kind::Text, |r| Val::text(&r.name)),
    Column::new("Bezirk", 12.0, Kind::Text, |r| Val::text(&r.district)),
    Column::new("Zahlungsempfänger", 18.0, Kind::Id, |r| Val::num(r.payee)),
    Column::summed("Ausländische Wohnbevölkerung", 16.0, Kind::Count, |r| Val::Count(r.base)),
    Column::summed("Sockelbeitrag", 15.0, Kind::Chf, |r| Val::Chf(r.sockel)),
    Column::summed("Erstinformationsgespräche", 25.0, Kind::Count, |r| Val::Count(r.paid.get(FallEg))),
    Column::summed("Fallpauschale Erstinformation", 16.0, Kind::Chf, |r| Val::Chf(r.amounts.get(FallEg))),
    Column::summed("Dolmetscheinsätze Erstinformation", 18.0, Kind::Count, |r| Val::Count(r.paid.get(DolmetschEg))),
    Column::summed("Dolmetschpauschale Erstinformation", 19.0, Kind::Chf, |r| Val::Chf(r.amounts.get(DolmetschEg))),
    Column::summed("Integrationsgespräche", 22.0, Kind::Count, |r| Val::Count(r.paid.get(FallIg))),
    Column::summed("Fallpauschale Integrationsgespräche", 22.0, Kind::Chf, |r| Val::Chf(r.amounts.get(FallIg))),
    Column::summed("Dolmetscheinsätze Integrationsgespräche", 22.0, Kind::Count, |r| {
        Val::Count(r.paid.get(DolmetschIg))
    }),
    Column::summed("Dolmetschpauschale Integrationsgespräche", 22.0, Kind::Chf, |r| {
        Val::Chf(r.amounts.get(DolmetschIg))
    }),
    Column::summed("Rückforderung", 15.0, Kind::Chf, |r| Val::Chf(r.clawback)),
    Column::summed("Total", 15.0, Kind::Chf, |r| Val::Calc { add: TOTAL_TERMS, sub: &[], result: r.total }),
    Column::new("Status", 34.0, Kind::Wrap, |r| Val::Text(r.status.label())),
    Column::new("Bemerkungen", 42.0, Kind::Wrap, |r| {
        Val::Text(r.notes.iter().map(|n| n.text()).collect::<Vec<_>>().join("\n"))
    }),
];

/// The annex's column labels (OUTPUTS.md), in order.
pub const COLUMNS: [&str; 18] = labels(&BEITRAEGE);

/// Row of the header (zero-based) in sheet `Beiträge`.
pub const HEADER_ROW: u32 = 3;

pub fn file_name(year: i32) -> String {
    format!("Anhang_1_Beitraege_{year}.xlsx")
}

pub fn write(d: &EvaluationData<'_>) -> Result<OutFile, WriteError> {
    let name = file_name(d.year);
    let mut wb = style::workbook(&format!("Anhang Nr. 1: Beiträge an die Einwohnergemeinden {}", d.year), d.run_date);
    super::annex_doc::sheet(wb.add_worksheet(), d).map_err(xl(&name))?;
    let total_row = beitraege(wb.add_worksheet(), d).map_err(xl(&name))?;
    payouts(wb.add_worksheet(), d).map_err(xl(&name))?;
    tariffs(wb.add_worksheet(), d).map_err(xl(&name))?;
    credit(wb.add_worksheet(), d, total_row).map_err(xl(&name))?;
    if let Some(view) = d.ledger {
        super::annex_ledger::sheet(wb.add_worksheet(), d, view).map_err(xl(&name))?;
    }
    super::annex_doc::charts(&mut wb, d).map_err(xl(&name))?;
    save(name, &mut wb)
}

/// Sheet `Beiträge`; returns the zero-based row of `Total Kanton`.
fn beitraege(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<u32, XlsxError> {
    ws.set_name("Beiträge")?;
    super::annex_doc::heading(
        ws,
        d,
        &format!(
            "start.integration, Kreisschreiben Integration KRS-GEF-2017/01 (Ziffern 4.3 und 4.5). Stand: {}",
            fmt_date(d.run_date)
        ),
    )?;
    // One vertical alignment for every cell of a row: a tall row (wrapped status or notes)
    // keeps its amounts level with its status.
    let table = Table::top(&BEITRAEGE);
    table.header(ws, HEADER_ROW)?;
    let first = HEADER_ROW + 1;
    let total_row = table.rows(ws, first, &d.comp.rows)?;
    table.total(
        ws,
        total_row,
        first,
        &d.comp.rows,
        TotalRow { label_col: 1, label: "Total Kanton", rule: Rule::Across },
    )?;
    table.set_widths(ws)?;
    ws.set_freeze_panes(HEADER_ROW + 1, 2)?;
    ws.autofilter(HEADER_ROW, 0, total_row - 1, (BEITRAEGE.len() - 1) as u16)?;
    let widths = table.widths();
    print_layout(ws, Some((HEADER_ROW, HEADER_ROW)), &widths, Orientation::Landscape, 2, Some(d.run_date))?;
    ws.set_header(format!("&L&8Anhang Nr. 1: Beiträge {}&R&8Kanton Solothurn, AGS", d.year));
    Ok(total_row)
}

/// The columns of sheet `Auszahlungen`.
const fn payouts_columns<'a>() -> [Column<Named<'a, Payout>>; 7] {
    [
        Column::new("Auszahlungsdatum", 16.0, Kind::Date, |l| Val::Date(l.row.date)),
        Column::new("Zahlungsempfänger", 16.0, Kind::Id, |l| Val::num(l.row.payee)),
        Column::new("Gemeinde", 26.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Grundlage", 30.0, Kind::Text, |l| Val::text(&l.row.basis)),
        Column::summed("Beiträge", 16.0, Kind::Chf, |l| Val::Chf(l.row.gross)),
        Column::summed("Verrechnete Rückforderungen", 18.0, Kind::Chf, |l| Val::Chf(-l.row.offset)),
        Column::summed("Auszahlung", 16.0, Kind::Chf, |l| Val::Calc {
            add: &["Beiträge", "Verrechnete Rückforderungen"],
            sub: &[],
            result: l.row.net(),
        }),
    ]
}

/// The columns of the invoices below the payouts, in the same sheet columns.
const fn invoices_columns<'a>() -> [Column<Named<'a, Invoice>>; 5] {
    [
        Column::new("BFS-Nr.", 16.0, Kind::Id, |l| Val::num(l.row.bfs)),
        Column::new("Gemeinde", 16.0, Kind::Text, |l| Val::text(&l.name)),
        Column::new("Betrag", 26.0, Kind::Chf, |l| Val::Chf(l.row.amount)),
        Column::new("Grund", 30.0, Kind::Wrap, |l| Val::text(l.row.reason())),
        Column::new("Zahlungsfrist", 16.0, Kind::Wrap, |_| Val::text("innert 30 Tagen nach Rechnungsstellung")),
    ]
}

/// Sheet `Auszahlungen`: payout by payee and date (4.5.2), invoices for clawbacks (4.7).
fn payouts(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Auszahlungen")?;
    ws.write_text_with_format(
        0,
        0,
        format!("Auszahlungen nach Zahlungsempfänger und Datum, Beiträge {}", d.year),
        &style::title(),
    )?;
    let h = 3;
    let columns = payouts_columns();
    let table = Table::new(&columns);
    let intro = crate::write::annex_doc::projection_note(d);
    let intro = intro.as_str();
    ws.merge_text(1, 0, 1, 6, intro, &style::subtitle().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top))?;
    style::fit_row(ws, 1, &[(intro, table.width_of(0, 7))])?;
    table.header(ws, h)?;
    let lines = Named::all(&d.comp.payouts, |p| d.name_of(Some(p.payee)));
    let total = table.rows(ws, h + 1, &lines)?;
    table.total(ws, total, h + 1, &lines, TotalRow { label_col: 0, label: "Total", rule: Rule::Across })?;
    let mut r = total + 3;
    ws.write_text_with_format(
        r,
        0,
        "Rechnungen: Rückforderungen, die höher sind als das Guthaben (Ziffer 4.7)",
        &style::bold(),
    )?;
    r += 1;
    let invoice_columns = invoices_columns();
    let invoices = Table::new(&invoice_columns);
    invoices.header(ws, r)?;
    r += 1;
    if d.comp.invoices.is_empty() {
        ws.write_text(r, 0, "Keine Rechnungen.")?;
    }
    let lines = Named::all(&d.comp.invoices, |inv| d.name_of(Some(inv.bfs)));
    invoices.rows(ws, r, &lines)?;
    table.set_widths(ws)?;
    ws.set_freeze_panes(h + 1, 0)?;
    ws.autofilter(h, 0, total.saturating_sub(1).max(h), 6)?;
    print_layout(ws, Some((h, h)), &table.widths(), Orientation::Landscape, 0, Some(d.run_date))
}

/// A line of sheet `Tarife`: a tariff applied in the year, or a code without one.
struct TariffLine<'a> {
    code: TariffCode,
    applied: Option<&'a AppliedTariff>,
    /// What the tariff was applied for.
    when: String,
}

/// The columns of sheet `Tarife`.
const fn tariffs_columns<'a>() -> [Column<TariffLine<'a>>; 6] {
    [
        Column::new("Leistung", 16.0, Kind::Text, |l| Val::text(l.code.as_str())),
        Column::new("Bezeichnung", 44.0, Kind::Text, |l| Val::text(l.code.label())),
        Column::new("Betrag", 14.0, Kind::Chf, |l| match l.applied {
            Some(a) => Val::Chf(a.tariff.amount),
            None => Val::None,
        }),
        Column::new("Gültig ab", 12.0, Kind::Date, |l| match l.applied.map(|a| a.tariff.validity.from) {
            Some(Some(f)) => Val::Date(f),
            Some(None) => Val::text(""),
            None => Val::None,
        }),
        Column::new("Gültig bis", 12.0, Kind::Date, |l| match l.applied.map(|a| a.tariff.validity.to) {
            Some(Some(t)) => Val::Date(t),
            Some(None) => Val::text("offen"),
            None => Val::None,
        }),
        Column::new("Angewendet für", 60.0, Kind::Wrap, |l| Val::text(&l.when)),
    ]
}

/// Sheet `Tarife`: the rates applied (4.3.2) and the dates they were applied for.
fn tariffs(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Tarife")?;
    ws.write_text_with_format(0, 0, format!("Angewendete Tarife {}", d.year), &style::title())?;
    ws.write_text_with_format(
        1,
        0,
        "Es gilt der Tarif am letzten Tag der Periode: 30.06. bzw. 31.12., für den Sockelbeitrag der 31.12.",
        &style::subtitle(),
    )?;
    let columns = tariffs_columns();
    let table = Table::new(&columns);
    table.header(ws, 3)?;
    let mut lines = Vec::new();
    for code in TariffCode::ALL {
        let applied: Vec<_> = d.comp.tariffs.iter().filter(|a| a.tariff.code == code).collect();
        if applied.is_empty() {
            lines.push(TariffLine { code, applied: None, when: "nicht in Kraft, keine Vergütung".to_string() });
        }
        for a in applied {
            let when: Vec<String> = a
                .applied_on
                .iter()
                .map(|day| {
                    if code == TariffCode::Sockel {
                        format!("Sockelbeitrag {} (Stichtag Bevölkerung 31.12.{})", d.year, d.year - 2)
                    } else if chrono::Datelike::month(day) == 6 {
                        format!("1. Halbjahr {}", d.year)
                    } else {
                        format!("2. Halbjahr {}", d.year)
                    }
                })
                .collect();
            lines.push(TariffLine { code, applied: Some(a), when: when.join(", ") });
        }
    }
    table.rows(ws, 4, &lines)?;
    table.set_widths(ws)?;
    print_layout(ws, Some((3, 3)), &table.widths(), Orientation::Landscape, 0, Some(d.run_date))
}

/// Sheet `Kredit`: the total against the budgeted credit (4.3.4).
fn credit(ws: &mut Worksheet, d: &EvaluationData<'_>, total_row: u32) -> Result<(), XlsxError> {
    ws.set_name("Kredit")?;
    ws.write_text_with_format(0, 0, format!("Kredit {} (Ziffer 4.3.4)", d.year), &style::title())?;
    let chf = style::chf();
    let total_col = Table::new(&BEITRAEGE).index("Total").unwrap_or_default();
    let total_ref = format!("='Beiträge'!{}", a1(total_row, total_col as u32));
    ws.write_text(2, 0, format!("Budgetierter Kredit {}", d.year))?;
    match d.comp.credit {
        Some(c) => ws.write_with_format(2, 1, c.decimal(), &chf)?,
        None => ws.write_text(2, 1, "kein Kredit erfasst")?,
    };
    ws.write_text(3, 0, "Total Beiträge an die Einwohnergemeinden")?;
    ws.write_formula_with_format(3, 1, Formula::new(total_ref).set_result(d.comp.total.to_string()), &chf)?;
    let rest = d.comp.credit.map(|c| c.saturating_sub(d.comp.total));
    ws.write_text(4, 0, "Restbetrag: Gutschrift an den Kredit für Projekte zur Förderung der sozialen Integration")?;
    ws.write_text(5, 0, "Kreditüberschreitung")?;
    if let Some(rest) = rest {
        let pos = rest.max(crate::domain::Chf::ZERO);
        let neg = (-rest).max(crate::domain::Chf::ZERO);
        ws.write_formula_with_format(4, 1, Formula::new("=MAX(B3-B4,0)").set_result(pos.to_string()), &chf)?;
        ws.write_formula_with_format(5, 1, Formula::new("=MAX(B4-B3,0)").set_result(neg.to_string()), &chf)?;
        if neg.is_positive() {
            ws.write_text_with_format(
                7,
                0,
                "Warnung: Die Beiträge überschreiten den budgetierten Kredit.",
                &style::bold().set_font_color("#C00000"),
            )?;
        }
    }
    ws.set_column_width(0, 80)?;
    ws.set_column_width(1, 18)?;
    print_layout(ws, None, &[80.0, 18.0], Orientation::Landscape, 0, Some(d.run_date))
}
