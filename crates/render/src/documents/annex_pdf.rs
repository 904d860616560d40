//! `Anhang_1_Beitraege_<Y>.pdf`: the compact annex as a PDF/A document to sign: the same
//! content as the sheet `Anhang` (one row per municipality, subtotals per district, the
//! reconciliation of annex total, payouts and invoices, the approval block) and the two
//! charts drawn as vector bar charts. Drawn with the PDF layer of [`crate::documents::pdf`].
//!
//! Every figure comes from [`crate::write::annex_doc`] (which groups what compute decided).

use super::pdf::{self, Page, MIN_SIZE, PT};
use crate::domain::chf_text;
use crate::domain::{fmt_date, Chf};
use crate::write::annex_doc::{
    by_district, checked_sum, district_label, district_name, pauschalen, payee_text, per_head, reconciliation,
};
use crate::write::{EvaluationData, OutFile, WriteError};
use rust_decimal::prelude::ToPrimitive;

pub fn file_name(year: i32) -> String {
    format!("Anhang_1_Beitraege_{year}.pdf")
}

/// Page geometry (portrait A4), in mm.
const LEFT: f32 = 15.0;
const RIGHT: f32 = 195.0;
const TOP: f32 = 20.0;
const BOTTOM: f32 = 275.0;
const FOOTER_Y: f32 = 287.0;
/// Body text size, in points.
const SIZE: f32 = 8.5;

fn leading(size: f32) -> f32 {
    size * 1.3 / PT
}

/// The table's columns: (left edge, width, right-aligned).
const COLS: [(f32, f32, bool); 8] = [
    (LEFT, 11.5, false),
    (27.0, 28.0, false),
    (55.5, 28.0, false),
    (84.0, 20.0, true),
    (104.5, 17.5, true),
    (122.5, 21.0, true),
    (144.0, 19.0, true),
    (165.0, 30.0, false),
];
/// The free space kept between a left-aligned cell's text and the next column, in mm.
const GAP: f32 = 1.5;
/// The sheet's labels, hyphenated where a column is narrower than the word.
const LABELS: [&str; 8] =
    ["BFS-Nr.", "Gemeinde", "Zahlungs-empfänger", "Sockelbeitrag", "Pauschalen", "Rück-forderung", "Total", "Status"];

/// Flowing content over pages, with the table header repeated on every page of the table.
struct Doc {
    pages: Vec<Page>,
    y: f32,
    table_header: bool,
}

impl Doc {
    fn page(&mut self) -> &mut Page {
        let n = self.pages.len() - 1;
        &mut self.pages[n]
    }
    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
        if self.table_header {
            self.header();
        }
    }
    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }
    fn header(&mut self) {
        let h = 2.0 * leading(SIZE) + 1.5;
        let y0 = self.y;
        self.page().rect(LEFT, y0 - leading(SIZE) + 0.5, RIGHT - LEFT, h, 225);
        for ((x, w, right), label) in COLS.iter().zip(LABELS) {
            let lines = wrap(label, text_width(*w, *right), SIZE, true);
            for (i, l) in lines.iter().take(2).enumerate() {
                let y = y0 + i as f32 * leading(SIZE);
                if *right {
                    self.page().text_right(x + w, y, SIZE, true, l);
                } else {
                    self.page().text(*x, y, SIZE, true, l.clone());
                }
            }
        }
        self.y = y0 + h + 0.5;
    }
    /// A table row: cells wrapped to their column (a label in `Gemeinde` spans the payee
    /// column when that is empty); advances `y`.
    fn row(&mut self, cells: [String; 8], bold: bool) {
        let wrapped = wrap_cells(&cells, bold);
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        self.need(lines as f32 * leading(SIZE));
        let y0 = self.y;
        for ((x, w, right), ls) in COLS.iter().zip(&wrapped) {
            for (i, l) in ls.iter().enumerate() {
                let y = y0 + i as f32 * leading(SIZE);
                if *right {
                    self.page().text_right(x + w, y, SIZE, bold, l);
                } else {
                    self.page().text(*x, y, SIZE, bold, l.clone());
                }
            }
        }
        self.y = y0 + lines as f32 * leading(SIZE) + 0.6;
    }
    fn rule(&mut self, double: bool) {
        let y = self.y - leading(SIZE) + 0.3;
        self.page().line(LEFT, y, RIGHT, y, 0.2);
        if double {
            self.page().line(LEFT, y + 0.6, RIGHT, y + 0.6, 0.2);
        }
    }
    fn para(&mut self, text: &str, size: f32, bold: bool, after: f32) {
        for l in pdf::wrap(text, RIGHT - LEFT, size, bold) {
            self.need(leading(size));
            let y = self.y;
            self.page().text(LEFT, y, size, bold, l);
            self.y += leading(size);
        }
        self.y += after;
    }
    /// A label with an amount at the Total column's right edge.
    fn amount_line(&mut self, label: &str, amount: Chf, bold: bool) {
        let (x, w, _) = COLS[6];
        let lines = pdf::wrap(label, x - COLS[1].0 - 3.0, SIZE, bold);
        self.need(lines.len() as f32 * leading(SIZE));
        let y0 = self.y;
        for l in lines {
            let y = self.y;
            self.page().text(COLS[1].0, y, SIZE, bold, l);
            self.y += leading(SIZE);
        }
        self.page().text_right(x + w, y0, SIZE, bold, &chf_text(amount));
        self.y += 0.6;
    }
}

/// The room for text in a column: a left-aligned text keeps [`GAP`] to the next column.
fn text_width(w: f32, right: bool) -> f32 {
    if right {
        w
    } else {
        w - GAP
    }
}

/// A row's cells wrapped to their columns (a label in `Gemeinde` spans the payee column
/// when that is empty).
fn wrap_cells(cells: &[String; 8], bold: bool) -> Vec<Vec<String>> {
    let spans = cells[2].is_empty();
    COLS.iter()
        .zip(cells)
        .enumerate()
        .map(|(i, ((_, w, right), t))| {
            let w = if i == 1 && spans { COLS[3].0 - COLS[1].0 - GAP } else { text_width(*w, *right) };
            wrap(t, w, SIZE, bold)
        })
        .collect()
}

/// The height a table row takes ([`Doc::row`]).
fn row_height(cells: &[String; 8], bold: bool) -> f32 {
    wrap_cells(cells, bold).iter().map(Vec::len).max().unwrap_or(1).max(1) as f32 * leading(SIZE) + 0.6
}

/// Lines of `text` no wider than `max` mm: breaks at spaces and after hyphens and slashes
/// (`Lüsslingen-` / `Nennigkofen`), a word wider than the line where it must.
fn wrap(text: &str, max: f32, size: f32, bold: bool) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let pieces: Vec<&str> = word.split_inclusive(['-', '/']).collect();
            for (k, piece) in pieces.iter().enumerate() {
                let sep = if line.is_empty() || k > 0 { "" } else { " " };
                let candidate = format!("{line}{sep}{piece}");
                if pdf::width(&candidate, size, bold) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                }
                let mut parts = pdf::wrap(piece, max, size, bold);
                line = parts.pop().unwrap_or_default();
                out.extend(parts);
            }
        }
        out.push(line);
    }
    out
}

fn sum(it: impl IntoIterator<Item = Chf>) -> Chf {
    checked_sum(it).unwrap_or_default()
}

/// The pages of the annex PDF.
pub fn pages(d: &EvaluationData<'_>) -> Vec<Page> {
    let mut doc = Doc { pages: vec![Page::default()], y: TOP, table_header: false };
    doc.para(&format!("Anhang Nr. 1: Beiträge an die Einwohnergemeinden für das Jahr {}", d.year), 14.0, true, 1.0);
    doc.para(
        &format!(
            "start.integration, Kreisschreiben Integration KRS-GEF-2017/01 (Ziffern 4.3, 4.5 und 4.7). Stand: {}. \
             Beträge in CHF. Einzelheiten je Leistung in der Arbeitsmappe «{}», Blatt «Beiträge».",
            fmt_date(d.run_date),
            crate::write::annex::file_name(d.year)
        ),
        SIZE,
        false,
        4.0,
    );
    doc.y += leading(SIZE);
    doc.table_header = true;
    doc.header();
    for (district, rows) in by_district(&d.comp.rows) {
        doc.need(3.0 * leading(SIZE));
        let y = doc.y;
        doc.page().rect(LEFT, y - leading(SIZE) + 0.6, RIGHT - LEFT, leading(SIZE), 242);
        doc.page().text(LEFT, y, SIZE, true, district_label(district));
        doc.y += leading(SIZE) + 0.6;
        let total = [
            String::new(),
            format!("Total {}", district_label(district)),
            String::new(),
            chf_text(sum(rows.iter().map(|x| x.sockel))),
            chf_text(sum(rows.iter().map(|x| pauschalen(x)))),
            chf_text(sum(rows.iter().map(|x| x.clawback))),
            chf_text(sum(rows.iter().map(|x| x.total))),
            String::new(),
        ];
        for (i, r) in rows.iter().enumerate() {
            let cells = [
                r.bfs.to_string(),
                r.name.clone(),
                payee_text(d, r),
                chf_text(r.sockel),
                chf_text(pauschalen(r)),
                chf_text(r.clawback),
                chf_text(r.total),
                r.status.label(),
            ];
            if i + 1 == rows.len() {
                // The district's last municipality goes with its total: a total never
                // stands alone at the top of a page.
                let after = (2.0 * leading(SIZE)).max(0.6 + row_height(&total, true));
                doc.need(row_height(&cells, false) + after);
            }
            doc.row(cells, false);
        }
        doc.need(leading(SIZE) * 2.0);
        doc.y += 0.6;
        doc.rule(false);
        doc.row(total, true);
        doc.y += leading(SIZE) * 0.5;
    }
    let all = &d.comp.rows;
    doc.need(leading(SIZE) * 2.0);
    doc.y += 0.6;
    doc.rule(true);
    doc.row(
        [
            String::new(),
            "Total Kanton".to_string(),
            String::new(),
            chf_text(sum(all.iter().map(|x| x.sockel))),
            chf_text(sum(all.iter().map(pauschalen))),
            chf_text(sum(all.iter().map(|x| x.clawback))),
            chf_text(d.comp.total),
            String::new(),
        ],
        true,
    );
    doc.table_header = false;

    // Reconciliation.
    let rec = reconciliation(d);
    doc.y += 6.0;
    doc.need(40.0);
    doc.para("Abstimmung: Total Anhang, Auszahlungen und Rechnungen (Ziffern 4.5.2 und 4.7)", 10.0, true, 1.5);
    doc.para(&crate::write::annex_doc::projection_note(d), 8.0, false, 1.5);
    for (day, basis, gross, offset) in &rec.payouts {
        let label = if offset.is_zero() {
            format!("Auszahlung vom {} ({basis})", fmt_date(*day))
        } else {
            format!(
                "Auszahlung vom {} ({basis}): Beiträge {} abzüglich verrechnete Rückforderungen {}",
                fmt_date(*day),
                chf_text(*gross),
                chf_text(*offset)
            )
        };
        doc.amount_line(&label, gross.saturating_sub(*offset), false);
    }
    doc.y += 0.6;
    doc.rule(false);
    doc.amount_line("Total Auszahlungen", rec.payouts_total, true);
    if rec.invoices.is_empty() {
        doc.amount_line(
            "Rechnungen für Rückforderungen, die die Auszahlung übersteigen (Ziffer 4.7): keine",
            Chf::ZERO,
            false,
        );
    }
    for inv in &rec.invoices {
        doc.amount_line(
            &format!("abzüglich Rechnung an {}: Rückforderung übersteigt die Auszahlung (Ziffer 4.7)", inv.label),
            -inv.amount,
            false,
        );
    }
    doc.y += 0.6;
    doc.rule(false);
    doc.amount_line("Ergibt: Total Anhang (Total Kanton)", rec.result, true);
    doc.amount_line("Differenz zum Total Kanton (muss 0 sein)", rec.result.saturating_sub(rec.annex_total), false);

    // Approval block.
    doc.y += 8.0;
    doc.need(62.0);
    doc.para(&format!("Freigabe des Anhangs Nr. 1 für das Jahr {}", d.year), 10.0, true, 4.0);
    for who in ["Geprüft", "Genehmigt"] {
        let y = doc.y;
        doc.page().text(LEFT, y, 10.0, true, who);
        let line_y = y + 12.0;
        for (x1, x2, label) in
            [(LEFT, 75.0, "Name und Funktion"), (82.0, 128.0, "Ort und Datum"), (135.0, RIGHT, "Unterschrift")]
        {
            doc.page().line(x1, line_y, x2, line_y, 0.25);
            doc.page().text(x1, line_y + leading(MIN_SIZE), MIN_SIZE, false, label);
        }
        doc.y = line_y + leading(MIN_SIZE) + 8.0;
    }

    // Charts.
    district_chart(&mut doc, d);
    per_head_charts(&mut doc, d);

    let n = doc.pages.len();
    let label = format!("Anhang Nr. 1: Beiträge {}, Kanton Solothurn, AGS, Stand {}", d.year, fmt_date(d.run_date));
    for (i, p) in doc.pages.iter_mut().enumerate() {
        p.text(LEFT, FOOTER_Y, MIN_SIZE, false, label.clone());
        p.text_right(RIGHT, FOOTER_Y, MIN_SIZE, false, &format!("Seite {} von {n}", i + 1));
    }
    doc.pages
}

fn f(d: Chf) -> f32 {
    d.decimal().to_f32().unwrap_or(0.0)
}

/// A round step for an axis from 0 to `max`: 1, 2 or 5 × 10^k, about five steps.
fn axis_step(max: f32) -> f32 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / 5.0;
    let mag = 10f32.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

fn thousands(v: f32) -> String {
    let s = format!("{}", v.round() as i64);
    let neg = s.starts_with('-');
    let digits = s.trim_start_matches('-');
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\'');
        }
        out.push(ch);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// Contributions per district: a column chart on a new page.
fn district_chart(doc: &mut Doc, d: &EvaluationData<'_>) {
    let data: Vec<(String, Chf)> = by_district(&d.comp.rows)
        .into_iter()
        .map(|(k, rows)| (district_name(k), sum(rows.iter().map(|x| x.total))))
        .collect();
    if data.is_empty() {
        return;
    }
    doc.new_page();
    doc.para(&format!("Beiträge je Bezirk {} (CHF)", d.year), 12.0, true, 6.0);
    let (x0, x1) = (LEFT + 18.0, RIGHT);
    let (top, base) = (doc.y + 6.0, doc.y + 110.0);
    let max = data.iter().map(|(_, v)| f(*v)).fold(0.0f32, f32::max);
    let step = axis_step(max);
    let top_value = (max / step).ceil().max(1.0) * step;
    let scale = (base - top) / top_value;
    let mut v = 0.0;
    while v <= top_value + step * 0.01 {
        let y = base - v * scale;
        doc.page().line(x0, y, x1, y, if v == 0.0 { 0.3 } else { 0.1 });
        doc.page().text_right(x0 - 1.5, y + 1.0, MIN_SIZE, false, &thousands(v));
        v += step;
    }
    let slot = (x1 - x0) / data.len() as f32;
    let bar = slot * 0.6;
    for (i, (name, value)) in data.iter().enumerate() {
        let h = f(*value).max(0.0) * scale;
        let x = x0 + i as f32 * slot + (slot - bar) / 2.0;
        doc.page().rect(x, base - h, bar, h, 90);
        let label = thousands(f(*value));
        let lw = pdf::width(&label, MIN_SIZE, false);
        doc.page().text(x + bar / 2.0 - lw / 2.0, base - h - 1.5, MIN_SIZE, false, label);
        for (k, l) in pdf::wrap(name, slot - 1.0, MIN_SIZE, false).iter().take(3).enumerate() {
            let lw = pdf::width(l, MIN_SIZE, false);
            doc.page().text(
                x + bar / 2.0 - lw / 2.0,
                base + 4.0 + k as f32 * leading(MIN_SIZE),
                MIN_SIZE,
                false,
                l.clone(),
            );
        }
    }
    doc.y = base + 4.0 + 3.0 * leading(MIN_SIZE) + 8.0;
}

/// Contribution per foreign resident by municipality: horizontal bars, sorted, over as many
/// pages as needed.
fn per_head_charts(doc: &mut Doc, d: &EvaluationData<'_>) {
    let data = per_head(&d.comp.rows);
    if data.is_empty() {
        return;
    }
    let values: Vec<f32> = data.iter().map(|(_, v)| f(*v)).collect();
    let max = bar_scale(&values).max(0.01);
    let (label_right, x0, x1) = (LEFT + 45.0, LEFT + 47.0, RIGHT - 18.0);
    let row_h = leading(MIN_SIZE);
    let title = format!("Beitrag je Person der ausländischen Wohnbevölkerung {} (CHF), nach Gemeinde", d.year);
    let mut first = true;
    for r in &data {
        if first || doc.y + row_h > BOTTOM {
            doc.new_page();
            doc.para(&if first { title.clone() } else { format!("{title} (Fortsetzung)") }, 12.0, true, 4.0);
            first = false;
        }
        let y = doc.y;
        let name = pdf::wrap(&r.0.name, 44.0, MIN_SIZE, false).into_iter().next().unwrap_or_default();
        doc.page().text_right(label_right, y, MIN_SIZE, false, &name);
        let value = f(r.1).max(0.0);
        let w = (value / max).min(1.0) * (x1 - x0);
        doc.page().rect(x0, y - row_h * 0.72, w.max(0.2), row_h * 0.75, 90);
        if value > max {
            // Longer than the scale: the bar is cut, marked by a white gap across its end.
            let x = x1 - 6.0;
            doc.page().rect(x, y - row_h * 0.72, 1.2, row_h * 0.75, 255);
        }
        doc.page().text(x0 + w + 1.0, y, MIN_SIZE, false, chf_text(r.1));
        doc.y += row_h;
    }
}

/// The value the per-head bars are scaled to: the largest, unless a few municipalities
/// (at most three) lie far above the rest, more than twice the next; then the next value,
/// and those few bars are drawn cut (their amount printed beside). So one outlier does not
/// reduce every other bar to a sliver.
pub fn bar_scale(values: &[f32]) -> f32 {
    let mut v: Vec<f32> = values.iter().map(|x| x.max(0.0)).collect();
    v.sort_by(|a, b| b.total_cmp(a));
    let Some(&largest) = v.first() else {
        return 0.0;
    };
    (0..v.len().min(3))
        .rev()
        .find(|&i| v.get(i + 1).is_some_and(|next| *next > 0.0 && v[i] > 2.0 * next))
        .map(|i| v[i + 1])
        .unwrap_or(largest)
}

/// Renders the annex PDF.
pub fn write(d: &EvaluationData<'_>) -> Result<OutFile, WriteError> {
    let rel = file_name(d.year);
    let meta = pdf::Meta {
        title: &format!("Anhang Nr. 1: Beiträge an die Einwohnergemeinden {}", d.year),
        author: "Amt für Gesellschaft und Soziales (AGS), Kanton Solothurn",
        subject: "start.integration, Kreisschreiben KRS-GEF-2017/01",
        date: d.run_date,
    };
    let bytes = pdf::render(&pages(d), &meta).map_err(|reason| WriteError::Document { name: rel.clone(), reason })?;
    Ok(OutFile { rel, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_outlier_does_not_set_the_scale() {
        assert_eq!(bar_scale(&[]), 0.0);
        assert_eq!(bar_scale(&[10.0, 6.0, 5.0]), 10.0);
        // 2 × 5 = 10: not more than twice the next.
        assert_eq!(bar_scale(&[10.0, 5.0, 4.0]), 10.0);
        assert_eq!(bar_scale(&[10.1, 5.0, 4.0]), 5.0);
        assert_eq!(bar_scale(&[100.0, 90.0, 5.0, 4.0]), 5.0);
        assert_eq!(bar_scale(&[100.0, 90.0, 80.0, 5.0, 4.0]), 5.0);
        // Four far above the rest are no outliers.
        assert_eq!(bar_scale(&[100.0, 90.0, 80.0, 70.0, 5.0]), 100.0);
        assert_eq!(bar_scale(&[5.0, 0.0]), 5.0);
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(axis_step(187_832.0), 50_000.0);
        assert_eq!(axis_step(9.0), 2.0);
        assert_eq!(axis_step(550.0), 200.0);
        assert_eq!(thousands(187_832.0), "187'832");
        assert_eq!(thousands(-5.0), "-5");
    }
}
