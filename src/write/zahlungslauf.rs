//! The outputs of a payout run: `Zahlungslauf_<JJJJ-MM-TT>.xlsx` (payments by payee,
//! detail, offsets, invoices, open items; totals as formulas with stored results) and
//! `Zahlungslauf_<JJJJ-MM-TT>.json` (every booking with fixed keys). Also the statement
//! workbook of `beitraege konto` and the ledger sheet `run --buchhaltung` adds to the annex.

use super::style::{self, header_row, print_setup, xl_date};
use super::{save, OutFile, RunData, WriteError};
use crate::domain::{a1, fmt_date, Bfs, Chf};
use crate::ledger::InvoiceState;
use crate::stammdaten::Stammdaten;
use crate::zahlungslauf::konto::{AnnexView, Statement};
use crate::zahlungslauf::plan::{Art, Plan};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Formula, Worksheet, XlsxError};

/// Everything the run's writers read.
pub struct RunDoc<'a> {
    pub stichtag: NaiveDate,
    /// A preview: marked `Entwurf`, nothing booked.
    pub draft: bool,
    pub plan: &'a Plan,
    pub master: &'a Stammdaten,
    /// Invoices in the ledger before this run.
    pub open_invoices: &'a [InvoiceState],
    pub version: &'a str,
    pub years: &'a [i32],
}

impl RunDoc<'_> {
    fn name(&self, b: Bfs) -> String {
        self.master.municipality(b).map(|m| m.name.clone()).unwrap_or_else(|| b.to_string())
    }
    fn title(&self, what: &str) -> String {
        let draft = if self.draft { "ENTWURF – " } else { "" };
        format!("{draft}{what}, Zahlungslauf per {}", fmt_date(self.stichtag))
    }
}

fn xl(name: &str) -> impl FnOnce(XlsxError) -> WriteError + '_ {
    move |source| WriteError::Xlsx { name: name.to_string(), source }
}

fn col(c: u16) -> String {
    a1(0, c as u32).trim_end_matches('1').to_string()
}

/// A bold total row: the label in column 0 and `=SUM()` with its stored result.
fn total_row(ws: &mut Worksheet, r: u32, first: u32, sums: &[(u16, Chf)]) -> Result<(), XlsxError> {
    ws.write_string_with_format(r, 0, "Total", &style::bold_top())?;
    for (c, v) in sums {
        let l = col(*c);
        let f = if r > first {
            Formula::new(format!("=SUM({l}{}:{l}{})", first + 1, r)).set_result(v.to_string())
        } else {
            Formula::new("=0").set_result("0")
        };
        ws.write_formula_with_format(r, *c, f, &style::chf_bold())?;
    }
    Ok(())
}

fn heading(ws: &mut Worksheet, doc: &RunDoc<'_>, what: &str, sub: &str) -> Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, doc.title(what), &style::title())?;
    ws.write_string_with_format(1, 0, sub, &style::subtitle())?;
    Ok(())
}

fn zahlungen(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Zahlungen")?;
    heading(
        ws,
        doc,
        "Auszahlungen nach Zahlungsempfänger",
        "Beiträge abzüglich verrechneter Korrekturen und Rückforderungen (Ziffern 4.5.2 und 4.7).",
    )?;
    let h = 3;
    header_row(
        ws,
        h,
        &[
            "Zahlungsempfänger",
            "Gemeinde",
            "Kontoinhaber",
            "IBAN",
            "Beiträge",
            "Verrechnet",
            "Auszahlung",
            "In Rechnung gestellt",
        ],
    )?;
    let (chf, int) = (style::chf(), style::int());
    let mut r = h + 1;
    for p in &doc.plan.payees {
        let acc = doc.master.zahlung.accounts.get(&p.payee);
        ws.write_number_with_format(r, 0, p.payee, &int)?;
        ws.write_string(r, 1, doc.name(p.payee))?;
        ws.write_string(r, 2, acc.map(|a| a.holder.as_str()).unwrap_or("(keine Zahlungsverbindung)"))?;
        ws.write_string(r, 3, acc.map(|a| a.iban.as_str()).unwrap_or(""))?;
        ws.write_with_format(r, 4, p.gross, &chf)?;
        ws.write_with_format(r, 5, -p.offset, &chf)?;
        ws.write_formula_with_format(
            r,
            6,
            Formula::new(format!("=E{}+F{}", r + 1, r + 1)).set_result(p.transfer.to_string()),
            &chf,
        )?;
        ws.write_with_format(r, 7, p.invoice, &chf)?;
        r += 1;
    }
    let sum = |f: fn(&crate::zahlungslauf::plan::PayeeResult) -> Chf| doc.plan.payees.iter().map(f).sum::<Chf>();
    total_row(
        ws,
        r,
        h + 1,
        &[(4, sum(|p| p.gross)), (5, -sum(|p| p.offset)), (6, sum(|p| p.transfer)), (7, sum(|p| p.invoice))],
    )?;
    for (c, w) in [12.0, 24.0, 32.0, 26.0, 16.0, 16.0, 16.0, 16.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(h + 1, 0)?;
    print_setup(ws, h)
}

fn detail(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Detail")?;
    heading(
        ws,
        doc,
        "Detail nach Gemeinde, Jahr, Periode und Leistung",
        "Fällig: was die Auswertung per Stichtag ergibt; bisher gebucht: was die Buchhaltung schon enthält; jetzt: die Differenz.",
    )?;
    let h = 3;
    header_row(
        ws,
        h,
        &[
            "BFS-Nr.",
            "Gemeinde",
            "Zahlungsempfänger",
            "Jahr",
            "Periode",
            "Leistung",
            "Anzahl",
            "Tarif",
            "Fällig",
            "Bisher gebucht",
            "Jetzt",
            "Status",
        ],
    )?;
    let (chf, int) = (style::chf(), style::int());
    let mut r = h + 1;
    for l in &doc.plan.lines {
        ws.write_number_with_format(r, 0, l.key.bfs, &int)?;
        ws.write_string(r, 1, doc.name(l.key.bfs))?;
        ws.write_number_with_format(r, 2, l.payee, &int)?;
        ws.write_number_with_format(r, 3, l.key.year, &int)?;
        ws.write_string(r, 4, l.key.periode())?;
        ws.write_string(r, 5, l.key.component.as_str())?;
        if let Some(n) = l.count {
            ws.write_number_with_format(r, 6, n as f64, &style::count())?;
        }
        ws.write_string(r, 7, &l.tariff)?;
        ws.write_with_format(r, 8, l.due, &chf)?;
        ws.write_with_format(r, 9, l.booked_before, &chf)?;
        if l.withheld.is_some() {
            ws.write_with_format(r, 10, l.now, &chf)?;
        } else {
            ws.write_formula_with_format(
                r,
                10,
                Formula::new(format!("=I{}-J{}", r + 1, r + 1)).set_result(l.now.to_string()),
                &chf,
            )?;
        }
        let status = match (&l.withheld, l.now) {
            (Some(w), _) => w.clone(),
            (None, n) if n > Decimal::ZERO => "Auszahlung".into(),
            (None, n) if n < Decimal::ZERO => "Korrektur (verrechnet)".into(),
            _ => "bereits gebucht".into(),
        };
        ws.write_string(r, 11, status)?;
        r += 1;
    }
    let lines = &doc.plan.lines;
    total_row(
        ws,
        r,
        h + 1,
        &[
            (8, lines.iter().map(|l| l.due).sum()),
            (9, lines.iter().map(|l| l.booked_before).sum()),
            (10, lines.iter().map(|l| l.now).sum()),
        ],
    )?;
    for (c, w) in [8.0, 22.0, 12.0, 7.0, 10.0, 14.0, 9.0, 34.0, 14.0, 14.0, 14.0, 44.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(h + 1, 0)?;
    ws.autofilter(h, 0, r.saturating_sub(1).max(h), 11)?;
    print_setup(ws, h)
}

fn verrechnungen(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Verrechnungen")?;
    heading(
        ws,
        doc,
        "Verrechnete Forderungen",
        "Korrekturen (zu viel bezahlte Beiträge) und Rückforderungen (Ziffer 4.7), verrechnet mit der Auszahlung an den Zahlungsempfänger.",
    )?;
    let h = 3;
    header_row(
        ws,
        h,
        &["Zahlungsempfänger", "BFS-Nr.", "Gemeinde", "Jahr", "Periode", "Leistung", "Art", "Betrag", "Grund"],
    )?;
    let (chf, int) = (style::chf(), style::int());
    let mut r = h + 1;
    let claims: Vec<_> = doc
        .plan
        .bookings
        .iter()
        .filter(|b| b.betrag < Decimal::ZERO && matches!(b.art, Art::Korrektur | Art::Rueckforderung))
        .collect();
    for b in &claims {
        ws.write_number_with_format(r, 0, b.payee, &int)?;
        ws.write_number_with_format(r, 1, b.bfs, &int)?;
        ws.write_string(r, 2, doc.name(b.bfs))?;
        ws.write_number_with_format(r, 3, b.year, &int)?;
        ws.write_string(r, 4, &b.periode)?;
        ws.write_string(r, 5, &b.leistung)?;
        ws.write_string(r, 6, b.art.as_str())?;
        ws.write_with_format(r, 7, b.betrag, &chf)?;
        ws.write_string(r, 8, &b.text)?;
        r += 1;
    }
    if claims.is_empty() {
        ws.write_string(r, 0, "Keine Verrechnungen.")?;
        r += 1;
    }
    total_row(ws, r, h + 1, &[(7, claims.iter().map(|b| b.betrag).sum())])?;
    for (c, w) in [12.0, 8.0, 22.0, 7.0, 10.0, 16.0, 14.0, 14.0, 50.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

fn rechnungen(ws: &mut Worksheet, doc: &RunDoc<'_>) -> Result<(), XlsxError> {
    ws.set_name("Rechnungen")?;
    heading(
        ws,
        doc,
        "Rechnungen",
        "Ist die Forderung höher als das Guthaben, ist der Differenzbetrag innert 30 Tagen nach Rechnungsstellung zurückzuerstatten (Ziffer 4.7).",
    )?;
    let h = 3;
    header_row(ws, h, &["Zahlungsempfänger", "Gemeinde", "Betrag", "Zahlbar bis"])?;
    let (chf, int, date) = (style::chf(), style::int(), style::date());
    let mut r = h + 1;
    let inv: Vec<_> = doc.plan.bookings.iter().filter(|b| b.art == Art::Rechnung).collect();
    for b in &inv {
        ws.write_number_with_format(r, 0, b.payee, &int)?;
        ws.write_string(r, 1, doc.name(b.payee))?;
        ws.write_with_format(r, 2, -b.betrag, &chf)?;
        if let Some(d) = b.due_on {
            ws.write_datetime_with_format(r, 3, xl_date(d), &date)?;
        }
        r += 1;
    }
    if inv.is_empty() {
        ws.write_string(r, 0, "Keine Rechnungen.")?;
        r += 1;
    }
    total_row(ws, r, h + 1, &[(2, inv.iter().map(|b| -b.betrag).sum())])?;
    for (c, w) in [12.0, 24.0, 16.0, 14.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

/// Sheet of open invoices (shared by the run and the statement).
fn offene_posten(
    ws: &mut Worksheet,
    title: &str,
    invoices: &[InvoiceState],
    day: NaiveDate,
    name: &dyn Fn(Bfs) -> String,
) -> Result<(), XlsxError> {
    ws.set_name("Offene Posten")?;
    ws.write_string_with_format(0, 0, title, &style::title())?;
    ws.write_string_with_format(
        1,
        0,
        format!("Rechnungen mit offenem Betrag; überfällig: Zahlungsfrist vor dem {}.", fmt_date(day)),
        &style::subtitle(),
    )?;
    let h = 3;
    header_row(
        ws,
        h,
        &[
            "Rechnungs-ID",
            "Zahlungsempfänger",
            "Gemeinde",
            "Zahlungslauf",
            "Betrag",
            "Eingegangen",
            "Offen",
            "Zahlbar bis",
            "Status",
        ],
    )?;
    let (chf, int, date) = (style::chf(), style::int(), style::date());
    let mut r = h + 1;
    let open: Vec<_> = invoices.iter().filter(|i| i.open() > Decimal::ZERO).collect();
    for i in &open {
        ws.write_string(r, 0, &i.id)?;
        ws.write_number_with_format(r, 1, i.payee, &int)?;
        ws.write_string(r, 2, name(i.payee))?;
        ws.write_datetime_with_format(r, 3, xl_date(i.stichtag), &date)?;
        ws.write_with_format(r, 4, i.amount, &chf)?;
        ws.write_with_format(r, 5, i.received, &chf)?;
        ws.write_formula_with_format(
            r,
            6,
            Formula::new(format!("=E{}-F{}", r + 1, r + 1)).set_result(i.open().to_string()),
            &chf,
        )?;
        ws.write_datetime_with_format(r, 7, xl_date(i.due_on), &date)?;
        ws.write_string(r, 8, if i.due_on < day { "überfällig" } else { "offen" })?;
        r += 1;
    }
    if open.is_empty() {
        ws.write_string(r, 0, "Keine offenen Rechnungen.")?;
        r += 1;
    }
    total_row(
        ws,
        r,
        h + 1,
        &[
            (4, open.iter().map(|i| i.amount).sum()),
            (5, open.iter().map(|i| i.received).sum()),
            (6, open.iter().map(|i| i.open()).sum()),
        ],
    )?;
    for (c, w) in [18.0, 12.0, 22.0, 14.0, 14.0, 14.0, 14.0, 14.0, 12.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

/// `Zahlungslauf_<JJJJ-MM-TT>.xlsx`.
pub fn workbook(doc: &RunDoc<'_>) -> Result<OutFile, WriteError> {
    let name = format!("{}.xlsx", crate::zahlungslauf::file_stem(doc.stichtag, doc.draft));
    let mut wb = style::workbook(&doc.title("Zahlungslauf"), doc.stichtag);
    zahlungen(wb.add_worksheet(), doc).map_err(xl(&name))?;
    detail(wb.add_worksheet(), doc).map_err(xl(&name))?;
    verrechnungen(wb.add_worksheet(), doc).map_err(xl(&name))?;
    rechnungen(wb.add_worksheet(), doc).map_err(xl(&name))?;
    let title = doc.title("Offene Rechnungen");
    offene_posten(wb.add_worksheet(), &title, doc.open_invoices, doc.stichtag, &|b| doc.name(b)).map_err(xl(&name))?;
    save(name, &mut wb)
}

/// One booking of the JSON file; the key names are fixed (scripts rely on them).
#[derive(serde::Serialize)]
struct JsonBooking {
    bfs_nr: Bfs,
    zahlungsempfaenger: Bfs,
    jahr: i32,
    periode: String,
    leistung: String,
    betrag: String,
    art: &'static str,
}

/// `Zahlungslauf_<JJJJ-MM-TT>.json`: every booking of the run.
pub fn json(doc: &RunDoc<'_>) -> Result<OutFile, WriteError> {
    let name = format!("{}.json", crate::zahlungslauf::file_stem(doc.stichtag, doc.draft));
    let rows: Vec<JsonBooking> = doc
        .plan
        .bookings
        .iter()
        .map(|b| JsonBooking {
            bfs_nr: b.bfs,
            zahlungsempfaenger: b.payee,
            jahr: b.year,
            periode: b.periode.clone(),
            leistung: b.leistung.clone(),
            betrag: format!("{:.2}", b.betrag),
            art: b.art.as_str(),
        })
        .collect();
    let mut bytes =
        serde_json::to_vec_pretty(&rows).map_err(|source| WriteError::Json { name: name.clone(), source })?;
    bytes.push(b'\n');
    Ok(OutFile { rel: name, bytes })
}

/// The annex sheet `Buchhaltung` (`run --buchhaltung`): per municipality the annex total,
/// what the ledger has booked for the year, and what is still open; then open invoices.
pub fn annex_sheet(ws: &mut Worksheet, d: &RunData<'_>, view: &AnnexView) -> Result<(), XlsxError> {
    ws.set_name("Buchhaltung")?;
    ws.write_string_with_format(0, 0, format!("Bezahlt und offen, Beiträge {}", view.year), &style::title())?;
    let last = view.last_run.map(fmt_date).unwrap_or_else(|| "noch keiner".into());
    ws.write_string_with_format(
        1,
        0,
        format!("Gemäss Buchhaltung (letzter gebuchter Zahlungslauf: {last}). Gebucht: Beiträge und Rückforderungen des Jahres."),
        &style::subtitle(),
    )?;
    let h = 3;
    header_row(ws, h, &["BFS-Nr.", "Gemeinde", "Total gemäss Anhang", "Bisher gebucht", "Noch offen"])?;
    let (chf, int) = (style::chf(), style::int());
    let mut r = h + 1;
    for row in &view.rows {
        ws.write_number_with_format(r, 0, row.bfs, &int)?;
        ws.write_string(r, 1, &row.name)?;
        ws.write_with_format(r, 2, row.annex_total, &chf)?;
        ws.write_with_format(r, 3, row.booked, &chf)?;
        ws.write_formula_with_format(
            r,
            4,
            Formula::new(format!("=C{}-D{}", r + 1, r + 1)).set_result((row.annex_total - row.booked).to_string()),
            &chf,
        )?;
        r += 1;
    }
    let s = |f: fn(&crate::zahlungslauf::konto::AnnexLedgerRow) -> Chf| view.rows.iter().map(f).sum::<Chf>();
    total_row(ws, r, h + 1, &[(2, s(|x| x.annex_total)), (3, s(|x| x.booked)), (4, s(|x| x.annex_total - x.booked))])?;
    r += 3;
    ws.write_string_with_format(r, 0, "Offene Rechnungen (Ziffer 4.7)", &style::bold())?;
    r += 1;
    header_row(ws, r, &["Rechnungs-ID", "Zahlungsempfänger", "Betrag", "Eingegangen", "Offen", "Zahlbar bis"])?;
    r += 1;
    let open: Vec<_> = view.invoices.iter().filter(|i| i.open() > Decimal::ZERO).collect();
    if open.is_empty() {
        ws.write_string(r, 0, "Keine offenen Rechnungen.")?;
    }
    for i in open {
        ws.write_string(r, 0, &i.id)?;
        ws.write_string(r, 1, format!("{} {}", i.payee, d.name_of(Some(i.payee))))?;
        ws.write_with_format(r, 2, i.amount, &chf)?;
        ws.write_with_format(r, 3, i.received, &chf)?;
        ws.write_with_format(r, 4, i.open(), &chf)?;
        ws.write_datetime_with_format(r, 5, xl_date(i.due_on), &style::date())?;
        r += 1;
    }
    for (c, w) in [18.0, 26.0, 18.0, 16.0, 16.0, 14.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

/// The statement file name.
pub fn konto_name(bfs: Option<Bfs>) -> String {
    match bfs {
        Some(b) => format!("Konto_{b}.xlsx"),
        None => "Konto_alle_Gemeinden.xlsx".to_string(),
    }
}

/// The statement workbook of `beitraege konto`.
pub fn konto_workbook(st: &Statement, master: &Stammdaten, _version: &str) -> Result<OutFile, WriteError> {
    let name = konto_name(st.bfs);
    let who = match st.bfs {
        Some(b) => format!("Gemeinde {} ({b})", master.municipality(b).map(|m| m.name.clone()).unwrap_or_default()),
        None => "alle Gemeinden".to_string(),
    };
    let title = format!("Kontoauszug {who}, Stand {}", fmt_date(st.date));
    let names = |b: Bfs| master.municipality(b).map(|m| m.name.clone()).unwrap_or_default();
    let mut wb = style::workbook(&title, st.date);
    konto_perioden(wb.add_worksheet(), st, &title, &names).map_err(xl(&name))?;
    konto_laeufe(wb.add_worksheet(), st, &names).map_err(xl(&name))?;
    offene_posten(wb.add_worksheet(), &format!("Offene Rechnungen, {who}"), &st.invoices, st.date, &names)
        .map_err(xl(&name))?;
    konto_rechnungen(wb.add_worksheet(), st, &names).map_err(xl(&name))?;
    konto_buchungen(wb.add_worksheet(), st).map_err(xl(&name))?;
    save(name, &mut wb)
}

fn konto_perioden(
    ws: &mut Worksheet,
    st: &Statement,
    title: &str,
    names: &dyn Fn(Bfs) -> String,
) -> Result<(), XlsxError> {
    ws.set_name("Perioden")?;
    ws.write_string_with_format(0, 0, title, &style::title())?;
    ws.write_string_with_format(
        1,
        0,
        "Je Jahr und Periode: gebuchte Beiträge (fällig gewordene Beträge, nach Korrekturen und Stornos) und Rückforderungen.",
        &style::subtitle(),
    )?;
    let h = 3;
    header_row(ws, h, &["BFS-Nr.", "Gemeinde", "Jahr", "Periode", "Beiträge", "Rückforderungen", "Total"])?;
    let (chf, int) = (style::chf(), style::int());
    let mut r = h + 1;
    for p in &st.periods {
        ws.write_number_with_format(r, 0, p.bfs, &int)?;
        ws.write_string(r, 1, names(p.bfs))?;
        ws.write_number_with_format(r, 2, p.year, &int)?;
        ws.write_string(r, 3, &p.periode)?;
        ws.write_with_format(r, 4, p.contributions, &chf)?;
        ws.write_with_format(r, 5, p.clawbacks, &chf)?;
        ws.write_formula_with_format(
            r,
            6,
            Formula::new(format!("=E{}+F{}", r + 1, r + 1)).set_result((p.contributions + p.clawbacks).to_string()),
            &chf,
        )?;
        r += 1;
    }
    let ps = &st.periods;
    total_row(
        ws,
        r,
        h + 1,
        &[
            (4, ps.iter().map(|p| p.contributions).sum()),
            (5, ps.iter().map(|p| p.clawbacks).sum()),
            (6, ps.iter().map(|p| p.contributions + p.clawbacks).sum()),
        ],
    )?;
    for (c, w) in [8.0, 24.0, 8.0, 10.0, 16.0, 16.0, 16.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

fn konto_laeufe(ws: &mut Worksheet, st: &Statement, names: &dyn Fn(Bfs) -> String) -> Result<(), XlsxError> {
    ws.set_name("Zahlungsläufe")?;
    ws.write_string_with_format(0, 0, "Zahlungsläufe: bezahlt, verrechnet, in Rechnung gestellt", &style::title())?;
    let h = 3;
    header_row(
        ws,
        h,
        &[
            "Stichtag",
            "Art",
            "Gebucht am",
            "Zahlungsempfänger",
            "Gemeinde",
            "Beiträge",
            "Verrechnet",
            "Ausbezahlt",
            "In Rechnung gestellt",
        ],
    )?;
    let (chf, int, date) = (style::chf(), style::int(), style::date());
    let mut r = h + 1;
    for x in &st.runs {
        ws.write_datetime_with_format(r, 0, xl_date(x.stichtag), &date)?;
        ws.write_string(r, 1, &x.art)?;
        ws.write_string(r, 2, &x.booked_at)?;
        ws.write_number_with_format(r, 3, x.payee, &int)?;
        ws.write_string(r, 4, names(x.payee))?;
        ws.write_with_format(r, 5, x.gross, &chf)?;
        ws.write_with_format(r, 6, -x.offset, &chf)?;
        ws.write_formula_with_format(
            r,
            7,
            Formula::new(format!("=F{}+G{}", r + 1, r + 1)).set_result(x.transfer.to_string()),
            &chf,
        )?;
        ws.write_with_format(r, 8, x.invoiced, &chf)?;
        r += 1;
    }
    let rs = &st.runs;
    total_row(
        ws,
        r,
        h + 1,
        &[
            (5, rs.iter().map(|x| x.gross).sum()),
            (6, -rs.iter().map(|x| x.offset).sum::<Chf>()),
            (7, rs.iter().map(|x| x.transfer).sum()),
            (8, rs.iter().map(|x| x.invoiced).sum()),
        ],
    )?;
    for (c, w) in [12.0, 14.0, 20.0, 12.0, 22.0, 16.0, 16.0, 16.0, 16.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

fn konto_rechnungen(ws: &mut Worksheet, st: &Statement, names: &dyn Fn(Bfs) -> String) -> Result<(), XlsxError> {
    ws.set_name("Rechnungen")?;
    ws.write_string_with_format(0, 0, "Alle Rechnungen mit Zahlungseingängen", &style::title())?;
    let h = 3;
    header_row(
        ws,
        h,
        &[
            "Rechnungs-ID",
            "Zahlungsempfänger",
            "Gemeinde",
            "Zahlungslauf",
            "Betrag",
            "Eingegangen",
            "Offen",
            "Zahlbar bis",
            "Status",
        ],
    )?;
    let (chf, int, date) = (style::chf(), style::int(), style::date());
    for (r, i) in (h + 1..).zip(st.invoices.iter()) {
        ws.write_string(r, 0, &i.id)?;
        ws.write_number_with_format(r, 1, i.payee, &int)?;
        ws.write_string(r, 2, names(i.payee))?;
        ws.write_datetime_with_format(r, 3, xl_date(i.stichtag), &date)?;
        ws.write_with_format(r, 4, i.amount, &chf)?;
        ws.write_with_format(r, 5, i.received, &chf)?;
        ws.write_with_format(r, 6, i.open(), &chf)?;
        ws.write_datetime_with_format(r, 7, xl_date(i.due_on), &date)?;
        let status = if i.reversed {
            "storniert"
        } else if i.open().is_zero() {
            "bezahlt"
        } else if i.due_on < st.date {
            "überfällig"
        } else {
            "offen"
        };
        ws.write_string(r, 8, status)?;
    }
    for (c, w) in [18.0, 12.0, 22.0, 14.0, 14.0, 14.0, 14.0, 14.0, 12.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, h)
}

fn konto_buchungen(ws: &mut Worksheet, st: &Statement) -> Result<(), XlsxError> {
    ws.set_name("Buchungen")?;
    ws.write_string_with_format(0, 0, "Buchungen", &style::title())?;
    let h = 3;
    header_row(
        ws,
        h,
        &[
            "Nr.",
            "Stichtag",
            "Art",
            "Zahlungsempfänger",
            "BFS-Nr.",
            "Jahr",
            "Periode",
            "Leistung",
            "Betrag",
            "Text",
            "Buchungs-ID",
        ],
    )?;
    let (chf, int, date) = (style::chf(), style::int(), style::date());
    for (r, b) in (h + 1..).zip(st.bookings.iter()) {
        ws.write_number_with_format(r, 0, b.seq as f64, &int)?;
        ws.write_datetime_with_format(r, 1, xl_date(b.stichtag), &date)?;
        ws.write_string(r, 2, b.art.as_str())?;
        ws.write_number_with_format(r, 3, b.payee, &int)?;
        ws.write_number_with_format(r, 4, b.bfs, &int)?;
        ws.write_number_with_format(r, 5, b.year, &int)?;
        ws.write_string(r, 6, &b.periode)?;
        ws.write_string(r, 7, &b.leistung)?;
        ws.write_with_format(r, 8, b.betrag, &chf)?;
        ws.write_string(r, 9, &b.text)?;
        ws.write_string(r, 10, &b.id)?;
    }
    for (c, w) in [7.0, 12.0, 14.0, 12.0, 8.0, 7.0, 10.0, 16.0, 14.0, 40.0, 20.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(h + 1, 0)?;
    print_setup(ws, h)
}
