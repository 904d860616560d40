//! `Anhang_1_Beitraege_<Y>.xlsx`: the contribution annex (4.5.3, Anhang Nr. 1).

use super::style::{self, header_row_fit, print_layout, xl_date, Orientation, TextCells};
use super::{save, OutFile, RunData, WriteError};
use crate::domain::{a1, fmt_date, TariffCode, PERIOD_COMPONENTS};
use rust_decimal::Decimal;
use rust_xlsxwriter::{Formula, Worksheet, XlsxError};

/// The annex's column labels (OUTPUTS.md), in order.
pub const COLUMNS: [&str; 18] = [
    "BFS-Nr.",
    "Gemeinde",
    "Bezirk",
    "Zahlungsempfänger",
    "Ausländische Wohnbevölkerung",
    "Sockelbeitrag",
    "Erstinformationsgespräche",
    "Fallpauschale Erstinformation",
    "Dolmetscheinsätze Erstinformation",
    "Dolmetschpauschale Erstinformation",
    "Integrationsgespräche",
    "Fallpauschale Integrationsgespräche",
    "Dolmetscheinsätze Integrationsgespräche",
    "Dolmetschpauschale Integrationsgespräche",
    "Rückforderung",
    "Total",
    "Status",
    "Bemerkungen",
];

/// Column widths of sheet `Beiträge`.
/// Every header word fits its column whole (no word broken mid-way); printed two pages wide
/// with `BFS-Nr.` and `Gemeinde` repeated.
pub const WIDTHS: [f64; 18] =
    [8.0, 22.0, 12.0, 18.0, 16.0, 15.0, 25.0, 16.0, 18.0, 19.0, 22.0, 22.0, 22.0, 22.0, 15.0, 15.0, 34.0, 42.0];

/// Row of the header (zero-based) in sheet `Beiträge`.
pub const HEADER_ROW: u32 = 3;
const MONEY_COLS: [u16; 6] = [5, 7, 9, 11, 13, 14];
const COUNT_COLS: [u16; 5] = [4, 6, 8, 10, 12];
const TOTAL_COL: u16 = 15;

pub fn file_name(year: i32) -> String {
    format!("Anhang_1_Beitraege_{year}.xlsx")
}

fn col_letter(c: u16) -> String {
    a1(0, c as u32).trim_end_matches('1').to_string()
}

fn xl(name: &str) -> impl FnOnce(XlsxError) -> WriteError + '_ {
    move |source| WriteError::Xlsx { name: name.to_string(), source }
}

pub fn write(d: &RunData<'_>) -> Result<OutFile, WriteError> {
    let name = file_name(d.year);
    let mut wb = style::workbook(&format!("Anhang Nr. 1: Beiträge an die Einwohnergemeinden {}", d.year), d.run_date);
    super::annex_doc::sheet(wb.add_worksheet(), d).map_err(xl(&name))?;
    let total_row = beitraege(wb.add_worksheet(), d).map_err(xl(&name))?;
    payouts(wb.add_worksheet(), d).map_err(xl(&name))?;
    tariffs(wb.add_worksheet(), d).map_err(xl(&name))?;
    credit(wb.add_worksheet(), d, total_row).map_err(xl(&name))?;
    if let Some(view) = d.ledger {
        super::zahlungslauf::annex_sheet(wb.add_worksheet(), d, view).map_err(xl(&name))?;
    }
    super::annex_doc::charts(&mut wb, d).map_err(xl(&name))?;
    save(name, &mut wb)
}

/// Sheet `Beiträge`; returns the zero-based row of `Total Kanton`.
fn beitraege(ws: &mut Worksheet, d: &RunData<'_>) -> Result<u32, XlsxError> {
    ws.set_name("Beiträge")?;
    ws.write_text_with_format(
        0,
        0,
        format!("Anhang Nr. 1: Beiträge an die Einwohnergemeinden für das Jahr {}", d.year),
        &style::title(),
    )?;
    ws.write_text_with_format(
        1,
        0,
        format!(
            "start.integration, Kreisschreiben Integration KRS-GEF-2017/01 (Ziffern 4.3 und 4.5). Stand: {}",
            fmt_date(d.run_date)
        ),
        &style::subtitle(),
    )?;
    header_row_fit(ws, HEADER_ROW, &COLUMNS, &WIDTHS)?;
    let (chf, cnt, int, wrap) = (style::chf(), style::count(), style::int(), style::wrap());
    let first = HEADER_ROW + 1;
    let mut r = first;
    for row in &d.comp.rows {
        ws.write_number_with_format(r, 0, row.bfs, &int)?;
        ws.write_text(r, 1, &row.name)?;
        ws.write_text(r, 2, &row.district)?;
        ws.write_number_with_format(r, 3, row.payee, &int)?;
        ws.write_number_with_format(r, 4, row.base as f64, &cnt)?;
        ws.write_with_format(r, 5, row.sockel, &chf)?;
        for (i, code) in PERIOD_COMPONENTS.into_iter().enumerate() {
            let c = 6 + 2 * i as u16;
            ws.write_number_with_format(r, c, row.paid.get(code) as f64, &cnt)?;
            ws.write_with_format(r, c + 1, row.amounts.get(code), &chf)?;
        }
        ws.write_with_format(r, 14, row.clawback, &chf)?;
        let sum = MONEY_COLS.iter().map(|c| format!("{}{}", col_letter(*c), r + 1)).collect::<Vec<_>>().join("+");
        ws.write_formula_with_format(
            r,
            TOTAL_COL,
            Formula::new(format!("={sum}")).set_result(row.total.to_string()),
            &chf,
        )?;
        let status = row.status.label();
        ws.write_text_with_format(r, 16, &status, &wrap)?;
        let notes = row.notes.iter().map(|n| n.text()).collect::<Vec<_>>().join("\n");
        ws.write_text_with_format(r, 17, &notes, &wrap)?;
        style::fit_row(ws, r, &[(&notes, WIDTHS[17]), (&status, WIDTHS[16])])?;
        r += 1;
    }
    let last = r - 1;
    let total_row = r;
    let (bt, cb, chb) = (style::bold_top(), style::count_bold(), style::chf_bold());
    ws.write_text_with_format(total_row, 0, "", &bt)?;
    ws.write_text_with_format(total_row, 1, "Total Kanton", &bt)?;
    for c in [2u16, 3, 16, 17] {
        ws.write_text_with_format(total_row, c, "", &bt)?;
    }
    for c in COUNT_COLS {
        let sum: u64 = d
            .comp
            .rows
            .iter()
            .map(|row| match c {
                4 => row.base,
                6 => row.paid.eg,
                8 => row.paid.d_eg,
                10 => row.paid.ig,
                _ => row.paid.d_ig,
            })
            .sum();
        let l = col_letter(c);
        ws.write_formula_with_format(
            total_row,
            c,
            Formula::new(format!("=SUM({l}{}:{l}{})", first + 1, last + 1)).set_result(sum.to_string()),
            &cb,
        )?;
    }
    for c in MONEY_COLS.iter().copied().chain([TOTAL_COL]) {
        let sum: Decimal = d
            .comp
            .rows
            .iter()
            .map(|row| match c {
                5 => row.sockel,
                7 => row.amounts.eg,
                9 => row.amounts.d_eg,
                11 => row.amounts.ig,
                13 => row.amounts.d_ig,
                14 => row.clawback,
                _ => row.total,
            })
            .sum();
        let l = col_letter(c);
        ws.write_formula_with_format(
            total_row,
            c,
            Formula::new(format!("=SUM({l}{}:{l}{})", first + 1, last + 1)).set_result(sum.to_string()),
            &chb,
        )?;
    }
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(HEADER_ROW + 1, 2)?;
    ws.autofilter(HEADER_ROW, 0, last, (COLUMNS.len() - 1) as u16)?;
    print_layout(ws, Some((HEADER_ROW, HEADER_ROW)), &WIDTHS, Orientation::Landscape, 2, Some(d.run_date))?;
    ws.set_header(format!("&L&8Anhang Nr. 1: Beiträge {}&R&8Kanton Solothurn, AGS", d.year));
    Ok(total_row)
}

/// Sheet `Auszahlungen`: payout by payee and date (4.5.2), invoices for clawbacks (4.7).
fn payouts(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Auszahlungen")?;
    ws.write_text_with_format(
        0,
        0,
        format!("Auszahlungen nach Zahlungsempfänger und Datum, Beiträge {}", d.year),
        &style::title(),
    )?;
    let h = 3;
    const PW: [f64; 7] = [16.0, 16.0, 26.0, 30.0, 16.0, 18.0, 16.0];
    let intro = "Ende März: Sockelbeitrag des laufenden Jahres und Pauschalen des 2. Halbjahres des Vorjahres; Ende September: Pauschalen des 1. Halbjahres (Ziffer 4.5.2). Rückforderungen werden mit der nächsten Auszahlung verrechnet (Ziffer 4.7).";
    ws.merge_text(1, 0, 1, 6, intro, &style::subtitle().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top))?;
    style::fit_row(ws, 1, &[(intro, PW.iter().sum())])?;
    header_row_fit(
        ws,
        h,
        &[
            "Auszahlungsdatum",
            "Zahlungsempfänger",
            "Gemeinde",
            "Grundlage",
            "Beiträge",
            "Verrechnete Rückforderungen",
            "Auszahlung",
        ],
        &PW,
    )?;
    let (chf, int, date) = (style::chf(), style::int(), style::date());
    let mut r = h + 1;
    for p in &d.comp.payouts {
        ws.write_datetime_with_format(r, 0, xl_date(p.date), &date)?;
        ws.write_number_with_format(r, 1, p.payee, &int)?;
        ws.write_text(r, 2, d.name_of(Some(p.payee)))?;
        ws.write_text(r, 3, &p.basis)?;
        ws.write_with_format(r, 4, p.gross, &chf)?;
        ws.write_with_format(r, 5, -p.offset, &chf)?;
        ws.write_formula_with_format(
            r,
            6,
            Formula::new(format!("=E{}+F{}", r + 1, r + 1)).set_result(p.net().to_string()),
            &chf,
        )?;
        r += 1;
    }
    let (first, last) = (h + 2, r);
    let bt = style::bold_top();
    ws.write_text_with_format(r, 0, "Total", &bt)?;
    for c in 1..4u16 {
        ws.write_text_with_format(r, c, "", &bt)?;
    }
    let sums: [Decimal; 3] = [
        d.comp.payouts.iter().map(|p| p.gross).sum(),
        -d.comp.payouts.iter().map(|p| p.offset).sum::<Decimal>(),
        d.comp.payouts.iter().map(|p| p.net()).sum(),
    ];
    for (i, c) in [4u16, 5, 6].into_iter().enumerate() {
        let l = col_letter(c);
        ws.write_formula_with_format(
            r,
            c,
            Formula::new(format!("=SUM({l}{first}:{l}{last})")).set_result(sums[i].to_string()),
            &style::chf_bold(),
        )?;
    }
    r += 3;
    ws.write_text_with_format(
        r,
        0,
        "Rechnungen: Rückforderungen, die höher sind als das Guthaben (Ziffer 4.7)",
        &style::bold(),
    )?;
    r += 1;
    header_row_fit(ws, r, &["BFS-Nr.", "Gemeinde", "Betrag", "Grund", "Zahlungsfrist"], &PW)?;
    r += 1;
    if d.comp.invoices.is_empty() {
        ws.write_text(r, 0, "Keine Rechnungen.")?;
    }
    for inv in &d.comp.invoices {
        ws.write_number_with_format(r, 0, inv.bfs, &int)?;
        ws.write_text(r, 1, d.name_of(Some(inv.bfs)))?;
        ws.write_with_format(r, 2, inv.amount, &chf)?;
        let wrap = style::wrap();
        let reason = inv.reason();
        ws.write_text_with_format(r, 3, &reason, &wrap)?;
        ws.write_text_with_format(r, 4, "innert 30 Tagen nach Rechnungsstellung", &wrap)?;
        style::fit_row(ws, r, &[(&reason, PW[3]), ("innert 30 Tagen nach Rechnungsstellung", PW[4])])?;
        r += 1;
    }
    for (c, w) in PW.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(h + 1, 0)?;
    ws.autofilter(h, 0, last.saturating_sub(1).max(h), 6)?;
    print_layout(ws, Some((h, h)), &PW, Orientation::Landscape, 0, Some(d.run_date))
}

/// Sheet `Tarife`: the rates applied (4.3.2) and the dates they were applied for.
fn tariffs(ws: &mut Worksheet, d: &RunData<'_>) -> Result<(), XlsxError> {
    ws.set_name("Tarife")?;
    ws.write_text_with_format(0, 0, format!("Angewendete Tarife {}", d.year), &style::title())?;
    ws.write_text_with_format(
        1,
        0,
        "Es gilt der Tarif am letzten Tag der Periode: 30.06. bzw. 31.12., für den Sockelbeitrag der 31.12.",
        &style::subtitle(),
    )?;
    const TW: [f64; 6] = [16.0, 44.0, 14.0, 12.0, 12.0, 60.0];
    header_row_fit(ws, 3, &["Leistung", "Bezeichnung", "Betrag", "Gültig ab", "Gültig bis", "Angewendet für"], &TW)?;
    let (chf, date) = (style::chf(), style::date());
    let mut r = 4;
    for code in TariffCode::ALL {
        let applied: Vec<_> = d.comp.tariffs.iter().filter(|a| a.tariff.code == code).collect();
        if applied.is_empty() {
            ws.write_text(r, 0, code.as_str())?;
            ws.write_text(r, 1, code.label())?;
            ws.write_text(r, 5, "nicht in Kraft, keine Vergütung")?;
            r += 1;
        }
        for a in applied {
            ws.write_text(r, 0, code.as_str())?;
            ws.write_text(r, 1, code.label())?;
            ws.write_with_format(r, 2, a.tariff.amount, &chf)?;
            match a.tariff.validity.from {
                Some(f) => ws.write_datetime_with_format(r, 3, xl_date(f), &date)?,
                None => ws.write_text(r, 3, "")?,
            };
            match a.tariff.validity.to {
                Some(t) => ws.write_datetime_with_format(r, 4, xl_date(t), &date)?,
                None => ws.write_text(r, 4, "offen")?,
            };
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
            let when = when.join(", ");
            ws.write_text_with_format(r, 5, &when, &style::wrap())?;
            style::fit_row(ws, r, &[(&when, TW[5]), (code.label(), TW[1])])?;
            r += 1;
        }
    }
    for (c, w) in TW.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_layout(ws, Some((3, 3)), &TW, Orientation::Landscape, 0, Some(d.run_date))
}

/// Sheet `Kredit`: the total against the budgeted credit (4.3.4).
fn credit(ws: &mut Worksheet, d: &RunData<'_>, total_row: u32) -> Result<(), XlsxError> {
    ws.set_name("Kredit")?;
    ws.write_text_with_format(0, 0, format!("Kredit {} (Ziffer 4.3.4)", d.year), &style::title())?;
    let chf = style::chf();
    let total_ref = format!("='Beiträge'!{}", a1(total_row, TOTAL_COL as u32));
    ws.write_text(2, 0, format!("Budgetierter Kredit {}", d.year))?;
    match d.comp.credit {
        Some(c) => ws.write_with_format(2, 1, c, &chf)?,
        None => ws.write_text(2, 1, "kein Kredit erfasst")?,
    };
    ws.write_text(3, 0, "Total Beiträge an die Einwohnergemeinden")?;
    ws.write_formula_with_format(3, 1, Formula::new(total_ref).set_result(d.comp.total.to_string()), &chf)?;
    let rest = d.comp.credit.map(|c| c - d.comp.total);
    ws.write_text(4, 0, "Restbetrag: Gutschrift an den Kredit für Projekte zur Förderung der sozialen Integration")?;
    ws.write_text(5, 0, "Kreditüberschreitung")?;
    if let Some(rest) = rest {
        let pos = rest.max(Decimal::ZERO);
        let neg = (-rest).max(Decimal::ZERO);
        ws.write_formula_with_format(4, 1, Formula::new("=MAX(B3-B4,0)").set_result(pos.to_string()), &chf)?;
        ws.write_formula_with_format(5, 1, Formula::new("=MAX(B4-B3,0)").set_result(neg.to_string()), &chf)?;
        if neg > Decimal::ZERO {
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
