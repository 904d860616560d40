//! The annex as a document: the compact sheet `Anhang` (first sheet of the annex workbook)
//! with subtotals per district, the reconciliation of annex total, payouts and invoices, and
//! the approval block; the charts (`Grafiken`, data on `Grafikdaten`).
//!
//! The figures come from [`crate::compute::Computation`]; this module only groups and adds
//! up what compute decided (sums with checked arithmetic, written as formulas whose cached
//! result is stored).

use super::columns::{labels, letter, Column, Kind, Named, Rule, Table, TotalRow, Val};
use super::style::{self, Orientation, TextCells};
use super::EvaluationData;
use crate::compute::AnnexRow;
use crate::domain::{fmt_date, Chf};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_xlsxwriter::{
    Chart, ChartDataLabel, ChartFont, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};
use std::collections::BTreeMap;

/// Name of the compact annex sheet.
pub const SHEET: &str = "Anhang";
/// Name of the charts sheet and of its data sheet.
pub const CHARTS_SHEET: &str = "Grafiken";
pub const CHART_DATA_SHEET: &str = "Grafikdaten";

/// Width of the charts in pixels: one portrait A4 page at 100 %.
const CHART_PX: u32 = 630;

/// The compact sheet's columns: 133 characters, one landscape A4 page at 100 %. The row's
/// name is its payee's ([`payee_text`]); the district subtotals sum the amounts.
const fn compact_columns<'a>() -> [Column<Named<'a, AnnexRow>>; 8] {
    [
        Column::new("BFS-Nr.", 7.0, Kind::Id, |l| Val::num(l.row.bfs)),
        Column::new("Gemeinde", 21.0, Kind::Wrap, |l| Val::text(&l.row.name)),
        Column::new("Zahlungsempfänger", 21.0, Kind::Wrap, |l| Val::text(&l.name)),
        Column::summed("Sockelbeitrag", 14.0, Kind::Chf, |l| Val::Chf(l.row.sockel)),
        Column::summed("Pauschalen", 14.0, Kind::Chf, |l| Val::Chf(pauschalen(l.row))),
        Column::summed("Rückforderung", 14.0, Kind::Chf, |l| Val::Chf(l.row.clawback)),
        Column::summed("Total", 15.0, Kind::Chf, |l| Val::Calc {
            add: &["Sockelbeitrag", "Pauschalen", "Rückforderung"],
            sub: &[],
            result: l.row.total,
        }),
        Column::new("Status", 27.0, Kind::Wrap, |l| Val::Styled(l.row.status.label(), style::wrap().set_indent(1))),
    ]
}

/// The compact sheet's column labels.
pub const COLUMNS: [&str; 8] = labels(&compact_columns());
/// Row of the header (zero-based).
pub const HEADER_ROW: u32 = 3;

/// The sum of amounts, or `None` when it leaves Decimal's range (never with bounded rows).
pub fn checked_sum(it: impl IntoIterator<Item = Chf>) -> Option<Chf> {
    it.into_iter().try_fold(Chf::ZERO, |a, b| a.checked_add(b))
}

/// The four flat-rate amounts of a row (H1 + H2), added up.
pub fn pauschalen(r: &AnnexRow) -> Chf {
    checked_sum(r.amounts.values()).unwrap_or_default()
}

/// The rows of each district, districts by name, rows in annex (BFS-Nr.) order.
pub fn by_district(rows: &[AnnexRow]) -> BTreeMap<&str, Vec<&AnnexRow>> {
    let mut out: BTreeMap<&str, Vec<&AnnexRow>> = BTreeMap::new();
    for r in rows {
        out.entry(r.district.as_str()).or_default().push(r);
    }
    out
}

/// A district's name for the charts (`ohne Bezirk` when the master data has none).
pub fn district_name(d: &str) -> String {
    if d.trim().is_empty() {
        "ohne Bezirk".to_string()
    } else {
        d.to_string()
    }
}

/// A district's heading in the tables.
pub fn district_label(d: &str) -> String {
    if d.trim().is_empty() {
        district_name(d)
    } else {
        format!("Bezirk {d}")
    }
}

/// The payee by name: the municipality itself, or its lead with the BFS-Nr.
pub fn payee_text(d: &EvaluationData<'_>, r: &AnnexRow) -> String {
    if r.payee == r.bfs {
        r.name.clone()
    } else {
        format!("{} ({})", d.name_of(Some(r.payee)), r.payee)
    }
}

/// Contribution per foreign resident (the Sockelbeitrag's base), rounded to the Rappen,
/// highest first (ties by BFS-Nr.); municipalities without a base are left out.
pub fn per_head(rows: &[AnnexRow]) -> Vec<(&AnnexRow, Chf)> {
    let mut v: Vec<(&AnnexRow, Chf)> = rows
        .iter()
        .filter(|r| r.base > 0)
        .filter_map(|r| r.total.checked_div(Decimal::from(r.base)).map(|v| (r, v.round_dp(2))))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.bfs.cmp(&b.0.bfs)));
    v
}

/// One line of the reconciliation: a label and an amount.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconLine {
    pub label: String,
    pub amount: Chf,
}

/// The reconciliation of the annex total with the payouts and the invoices (4.5.2, 4.7):
/// net payouts by date, their total, the invoices, and the annex total they add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciliation {
    pub payouts: Vec<(NaiveDate, String, Chf, Chf)>,
    pub payouts_total: Chf,
    pub invoices: Vec<ReconLine>,
    pub invoices_total: Chf,
    /// Payouts minus invoices: equals the annex total.
    pub result: Chf,
    pub annex_total: Chf,
}

/// What the payouts and invoices of the annex are: the year's payout runs as the one rule of
/// 4.7 projects them ([`crate::payout::project`]); with a ledger, where the booked runs are.
pub fn projection_note(d: &EvaluationData<'_>) -> String {
    let base = "Projektion: die Zahlungsläufe, mit denen die Beiträge dieses Jahres ausgerichtet werden \
                (Ende März und Ende September, Ziffer 4.5.2), Rückforderungen verrechnet mit dem ersten \
                Zahlungslauf ab ihrer Verfügung, der Rest in Rechnung gestellt (Ziffer 4.7); ohne andere Jahre.";
    match d.ledger {
        None => format!("{base} Gebucht ist damit noch nichts."),
        Some(v) => format!(
            "{base} Was die Buchhaltung gebucht hat{}, zeigt das Blatt «Buchhaltung».",
            v.last_run.map(|r| format!(" (letzter Zahlungslauf per {})", fmt_date(r))).unwrap_or_default()
        ),
    }
}

/// Groups compute's payouts by date (gross, offset) and lists its invoices.
pub fn reconciliation(d: &EvaluationData<'_>) -> Reconciliation {
    let mut by_date: BTreeMap<NaiveDate, (Vec<String>, Chf, Chf)> = BTreeMap::new();
    for p in &d.comp.payouts {
        let e = by_date.entry(p.date).or_default();
        if !e.0.contains(&p.basis) {
            e.0.push(p.basis.clone());
        }
        e.1 = e.1.checked_add(p.gross).unwrap_or(e.1);
        e.2 = e.2.checked_add(p.offset).unwrap_or(e.2);
    }
    let payouts: Vec<(NaiveDate, String, Chf, Chf)> =
        by_date.into_iter().map(|(day, (b, g, o))| (day, b.join(", "), g, o)).collect();
    let payouts_total = checked_sum(payouts.iter().map(|p| p.2.saturating_sub(p.3))).unwrap_or_default();
    let invoices: Vec<ReconLine> = d
        .comp
        .invoices
        .iter()
        .map(|i| ReconLine { label: format!("{} ({})", d.name_of(Some(i.bfs)), i.bfs), amount: i.amount })
        .collect();
    let invoices_total = checked_sum(invoices.iter().map(|i| i.amount)).unwrap_or_default();
    Reconciliation {
        payouts,
        payouts_total,
        invoices,
        invoices_total,
        result: payouts_total.checked_sub(invoices_total).unwrap_or_default(),
        annex_total: d.comp.total,
    }
}

/// The annex's title in the first row of a sheet and `subtitle` below it.
pub fn heading(ws: &mut Worksheet, d: &EvaluationData<'_>, subtitle: &str) -> Result<(), XlsxError> {
    ws.write_text_with_format(
        0,
        0,
        format!("Anhang Nr. 1: Beiträge an die Einwohnergemeinden für das Jahr {}", d.year),
        &style::title(),
    )?;
    ws.write_text_with_format(1, 0, subtitle, &style::subtitle())?;
    Ok(())
}

/// Writes the compact annex sheet.
pub fn sheet(ws: &mut Worksheet, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    ws.set_name(SHEET)?;
    heading(
        ws,
        d,
        &format!(
            "start.integration, Kreisschreiben Integration KRS-GEF-2017/01 (Ziffern 4.3, 4.5 und 4.7). Stand: {}. \
             Einzelheiten je Leistung im Blatt «Beiträge».",
            fmt_date(d.run_date)
        ),
    )?;
    let columns = compact_columns();
    let table = Table::top(&columns);
    table.header(ws, HEADER_ROW)?;
    let chf = style::chf();
    let chf_top = style::chf().set_align(FormatAlign::Top);
    let group = style::bold().set_background_color("#F2F2F2");
    let (bt, chb) = (style::bold_top(), style::chf_bold());
    let mut r = HEADER_ROW + 1;
    let mut subtotal_rows = Vec::new();
    for (district, rows) in by_district(&d.comp.rows) {
        ws.write_text_with_format(r, 0, district_label(district), &group)?;
        for c in 1..COLUMNS.len() as u16 {
            ws.write_blank(r, c, &group)?;
        }
        r += 1;
        let first = r;
        let lines: Vec<Named<'_, AnnexRow>> =
            rows.iter().map(|row| Named { row: *row, name: payee_text(d, row) }).collect();
        r = table.rows(ws, first, &lines)?;
        let label = format!("Total {}", district_label(district));
        table.total(ws, r, first, &lines, TotalRow { label_col: 1, label: &label, rule: Rule::Across })?;
        subtotal_rows.push(r);
        r += 2;
    }
    // Total Kanton: the sum of the district subtotals.
    let double = Format::new().set_bold().set_border_top(FormatBorder::Double);
    ws.write_blank(r, 0, &double)?;
    ws.write_text_with_format(r, 1, "Total Kanton", &double)?;
    ws.write_blank(r, 2, &double)?;
    ws.write_blank(r, 7, &double)?;
    let all = &d.comp.rows;
    let sums = [
        ("Sockelbeitrag", checked_sum(all.iter().map(|x| x.sockel))),
        ("Pauschalen", checked_sum(all.iter().map(pauschalen))),
        ("Rückforderung", checked_sum(all.iter().map(|x| x.clawback))),
        ("Total", Some(d.comp.total)),
    ];
    for (label, s) in sums {
        let c = table.index(label).unwrap_or_default();
        let l = letter(c);
        let refs: Vec<String> = subtotal_rows.iter().map(|sr| format!("{l}{}", sr + 1)).collect();
        let f = if refs.is_empty() { "=0".to_string() } else { format!("={}", refs.join("+")) };
        ws.write_formula_with_format(
            r,
            c,
            Formula::new(f).set_result(s.unwrap_or_default().to_string()),
            &style::chf().set_bold().set_border_top(FormatBorder::Double),
        )?;
    }
    let total_row = r;
    r += 3;

    // Reconciliation.
    let rec = reconciliation(d);
    let bold = style::bold();
    ws.write_text_with_format(
        r,
        0,
        "Abstimmung: Total Anhang, Auszahlungen und Rechnungen (Ziffern 4.5.2 und 4.7)",
        &bold,
    )?;
    r += 1;
    let label_fmt = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let label = |ws: &mut Worksheet, r: u32, text: &str, fmt: &Format| -> Result<(), XlsxError> {
        ws.merge_text(r, 1, r, 5, text, fmt)?;
        style::fit_row(ws, r, &[(text, table.width_of(1, 6))])
    };
    let total_col = table.index("Total").unwrap_or_default();
    let first_payout = r;
    for (day, basis, gross, offset) in &rec.payouts {
        let text = if offset.is_zero() {
            format!("Auszahlung vom {} ({basis})", fmt_date(*day))
        } else {
            format!(
                "Auszahlung vom {} ({basis}): Beiträge {} abzüglich verrechnete Rückforderungen {}",
                fmt_date(*day),
                crate::domain::chf_text(*gross),
                crate::domain::chf_text(*offset)
            )
        };
        label(ws, r, &text, &label_fmt)?;
        ws.write_with_format(r, total_col, gross.saturating_sub(*offset).decimal(), &chf_top)?;
        r += 1;
    }
    let g = letter(total_col);
    let payouts_row = r;
    label(ws, r, "Total Auszahlungen", &bt)?;
    let f = if rec.payouts.is_empty() { "=0".to_string() } else { format!("=SUM({g}{}:{g}{})", first_payout + 1, r) };
    ws.write_formula_with_format(r, total_col, Formula::new(f).set_result(rec.payouts_total.to_string()), &chb)?;
    r += 1;
    let first_inv = r;
    if rec.invoices.is_empty() {
        label(ws, r, "Rechnungen für Rückforderungen, die die Auszahlung übersteigen (Ziffer 4.7): keine", &label_fmt)?;
        ws.write_with_format(r, total_col, Chf::ZERO.decimal(), &chf)?;
        r += 1;
    }
    for inv in &rec.invoices {
        label(
            ws,
            r,
            &format!("abzüglich Rechnung an {}: Rückforderung übersteigt die Auszahlung (Ziffer 4.7)", inv.label),
            &label_fmt,
        )?;
        ws.write_with_format(r, total_col, (-inv.amount).decimal(), &chf_top)?;
        r += 1;
    }
    label(ws, r, "Ergibt: Total Anhang (Total Kanton)", &bt)?;
    ws.write_formula_with_format(
        r,
        total_col,
        Formula::new(format!("={g}{}+SUM({g}{}:{g}{})", payouts_row + 1, first_inv + 1, r))
            .set_result(rec.result.to_string()),
        &chb,
    )?;
    let result_row = r;
    r += 1;
    label(ws, r, "Differenz zum Total Kanton (muss 0 sein)", &label_fmt)?;
    ws.write_formula_with_format(
        r,
        total_col,
        Formula::new(format!("={g}{}-{g}{}", result_row + 1, total_row + 1))
            .set_result(rec.result.saturating_sub(rec.annex_total).to_string()),
        &chf,
    )?;
    r += 3;

    // Approval block.
    approval(ws, r, d)?;
    table.set_widths(ws)?;
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    let widths = table.widths();
    style::print_layout(ws, Some((HEADER_ROW, HEADER_ROW)), &widths, Orientation::Landscape, 0, Some(d.run_date))?;
    ws.set_header(format!(
        "&L&8Anhang Nr. 1: Beiträge {}&R&8Kanton Solothurn, Amt für Gesellschaft und Soziales",
        d.year
    ));
    Ok(())
}

/// The approval block: Geprüft / Genehmigt, each with name and function, place and date,
/// and signature lines.
fn approval(ws: &mut Worksheet, mut r: u32, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    let line = Format::new().set_border_bottom(FormatBorder::Thin);
    let small = Format::new().set_font_size(9).set_italic().set_font_color("#555555");
    let bold = style::bold();
    ws.write_text_with_format(r, 0, format!("Freigabe des Anhangs Nr. 1 für das Jahr {}", d.year), &bold)?;
    r += 2;
    for who in ["Geprüft", "Genehmigt"] {
        ws.write_text_with_format(r, 0, who, &bold)?;
        r += 1;
        ws.set_row_height(r, 36)?;
        for (first, last) in [(1u16, 2u16), (3, 4), (6, 7)] {
            ws.merge_text(r, first, r, last, "", &line)?;
        }
        ws.write_text_with_format(r + 1, 1, "Name und Funktion", &small)?;
        ws.write_text_with_format(r + 1, 3, "Ort und Datum", &small)?;
        ws.write_text_with_format(r + 1, 6, "Unterschrift", &small)?;
        r += 3;
    }
    Ok(())
}

/// Writes the charts sheet and its data sheet: contributions per district (column chart)
/// and contribution per foreign resident by municipality (bar charts, sorted, one page
/// each).
pub fn charts(wb: &mut Workbook, d: &EvaluationData<'_>) -> Result<(), XlsxError> {
    // The data first (charts refer to it by sheet name).
    let districts: Vec<(String, Chf)> = by_district(&d.comp.rows)
        .into_iter()
        .map(|(k, rows)| (district_name(k), checked_sum(rows.iter().map(|x| x.total)).unwrap_or_default()))
        .collect();
    let per_head = per_head(&d.comp.rows);

    // Tab order: the charts, then their data.
    wb.add_worksheet().set_name(CHARTS_SHEET)?;

    {
        let data = wb.add_worksheet();
        data.set_name(CHART_DATA_SHEET)?;
        data.write_text_with_format(0, 0, format!("Daten der Grafiken {}", d.year), &style::title())?;
        let w1 = [28.0, 18.0];
        style::header_row_fit(data, 2, &["Bezirk", "Beiträge (Total)"], &w1)?;
        let chf = style::chf();
        for (i, (name, total)) in districts.iter().enumerate() {
            data.write_text(3 + i as u32, 0, name)?;
            data.write_with_format(3 + i as u32, 1, (*total).decimal(), &chf)?;
        }
        let labels = ["BFS-Nr.", "Gemeinde", "Beitrag (Total)", "Ausländische Wohnbevölkerung", "CHF pro Person"];
        let w2 = [8.0, 22.0, 16.0, 16.0, 12.0];
        style::header_row_fit_at(data, 2, 3, &labels, &w2)?;
        for (i, (row, v)) in per_head.iter().enumerate() {
            let r = 3 + i as u32;
            data.write_number_with_format(r, 3, row.bfs, &style::int())?;
            data.write_text(r, 4, &row.name)?;
            data.write_with_format(r, 5, row.total.decimal(), &chf)?;
            data.write_number_with_format(r, 6, row.base as f64, &style::count())?;
            data.write_formula_with_format(
                r,
                7,
                Formula::new(format!("=ROUND(F{n}/G{n},2)", n = r + 1)).set_result(v.to_string()),
                &Format::new().set_num_format("#,##0.00"),
            )?;
        }
        let widths = [28.0, 18.0, 3.0, 8.0, 22.0, 16.0, 16.0, 12.0];
        for (c, w) in widths.iter().enumerate() {
            data.set_column_width(c as u16, *w)?;
        }
        style::print_layout(data, Some((2, 2)), &widths, Orientation::Portrait, 0, Some(d.run_date))?;
    }

    let ws = wb.worksheet_from_name(CHARTS_SHEET)?;
    let n_d = districts.len() as u32;
    let axis_font = ChartFont::new().set_size(9).clone();
    let mut c1 = Chart::new_column();
    c1.title().set_name(format!("Beiträge je Bezirk {} (CHF)", d.year).as_str());
    c1.legend().set_hidden();
    c1.set_width(CHART_PX).set_height(440);
    if n_d > 0 {
        c1.add_series()
            .set_name("Beiträge")
            .set_categories((CHART_DATA_SHEET, 3, 0, 2 + n_d, 0))
            .set_values((CHART_DATA_SHEET, 3, 1, 2 + n_d, 1))
            .set_data_label(ChartDataLabel::new().show_value().set_num_format("#,##0"));
    }
    c1.x_axis().set_font(&axis_font);
    c1.y_axis().set_num_format("#,##0").set_font(&axis_font);
    ws.write_text_with_format(0, 0, format!("Grafiken zum Anhang Nr. 1, {}", d.year), &style::title())?;
    ws.insert_chart(2, 0, &c1)?;
    // Per-head charts, at most PER_CHART municipalities each, one page each.
    const PER_CHART: usize = 40;
    let mut breaks = Vec::new();
    let mut r = 25u32;
    for (k, chunk) in per_head.chunks(PER_CHART).enumerate() {
        breaks.push(r);
        let first = 3 + (k * PER_CHART) as u32;
        let last = first + chunk.len() as u32 - 1;
        let mut c = Chart::new_bar();
        let part = if per_head.len() > PER_CHART {
            format!(", Teil {} von {}", k + 1, per_head.len().div_ceil(PER_CHART))
        } else {
            String::new()
        };
        c.title()
            .set_name(format!("Beitrag je Person der ausländischen Wohnbevölkerung {} (CHF){part}", d.year).as_str());
        c.legend().set_hidden();
        c.set_width(CHART_PX).set_height((120 + 17 * chunk.len() as u32).max(300));
        c.add_series()
            .set_name("CHF pro Person")
            .set_categories((CHART_DATA_SHEET, first, 4, last, 4))
            .set_values((CHART_DATA_SHEET, first, 7, last, 7))
            .set_data_label(ChartDataLabel::new().show_value().set_num_format("#,##0.00"))
            .set_gap(60);
        // Bars top to bottom in the sorted order (in a bar chart the y axis holds the
        // categories).
        c.y_axis().set_reverse().set_font(&axis_font);
        c.x_axis().set_num_format("#,##0").set_font(&axis_font);
        ws.insert_chart(r + 1, 0, &c)?;
        r += 45;
    }
    ws.set_page_breaks(&breaks)?;
    // The charts span seven columns of width 12.5: one portrait page wide.
    let widths = [12.5; 7];
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    style::print_layout(ws, None, &widths, Orientation::Portrait, 0, Some(d.run_date))?;
    Ok(())
}
