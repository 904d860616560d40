//! Konto and Zahlungseingang: a municipality's statement from the ledger (as `beitraege
//! konto`), the statement's files, a receipt on an invoice and its reversal (as `beitraege
//! zahlung-erfassen`); and Prüfen: the ledger's hash chain, for an auditor.

use super::{page, Shared};
use crate::domain::{Bfs, Chf};
use crate::ledger::Ledger;
use crate::payout::Art;
use crate::zahlungslauf::konto::{execute as write_statement, statement, KontoOptions};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct KontoQuery {
    #[serde(default)]
    pub gemeinde: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ZahlungForm {
    #[serde(default)]
    pub gemeinde: String,
    #[serde(default)]
    pub rechnung: String,
    #[serde(default)]
    pub betrag: String,
    #[serde(default)]
    pub datum: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub grund: String,
}

fn parse_bfs(s: &str) -> Result<Option<Bfs>, String> {
    match s.trim() {
        "" => Ok(None),
        t => t.parse::<Bfs>().ok().filter(|n| *n > 0).map(Some).ok_or_else(|| {
            format!("«{s}» ist keine BFS-Nr.; bitte die Nummer der Gemeinde angeben (Blatt «Gemeinden», z. B. 2601)")
        }),
    }
}

/// The statement part of the page (read only).
fn statement_view(app: &super::App, bfs: Option<Bfs>) -> Markup {
    let path = &app.opts.ledger;
    if !path.is_file() {
        return html! { p { "Die Buchhaltung " code { (path.display()) } " existiert noch nicht (erst mit dem ersten gebuchten Zahlungslauf)." } };
    }
    let today = chrono::Local::now().date_naive();
    let st = match Ledger::open_existing(path).and_then(|l| statement(&l, bfs, today)) {
        Ok(s) => s,
        Err(e) => return page::message_box("fehler", &super::error_text(&e)),
    };
    let receipts: Vec<&crate::ledger::Booking> = st.bookings.iter().filter(|b| b.art == Art::Zahlungseingang).collect();
    html! {
        h2 { "Zahlungsläufe" }
        table id="konto-laeufe" {
            thead { tr { th { "Stichtag" } th { "Art" } th { "Empfänger" } th { "Beiträge" } th { "Verrechnet" } th { "Überwiesen" } th { "In Rechnung" } th { "Gebucht von" } th { "Freigegeben von" } } }
            tbody { @for r in &st.runs { tr {
                td { (crate::domain::fmt_date(r.stichtag)) } td { (r.art) } td.num { (r.payee) }
                td.num { (page::chf(r.gross)) } td.num { (page::chf(r.offset)) } td.num { (page::chf(r.transfer)) }
                td.num { (page::chf(r.invoiced)) } td { (r.booked_by) } td { (r.released_by) " " (r.released_at) }
            } } }
        }
        h2 { "Gebucht je Jahr und Periode" }
        table { thead { tr { th { "BFS-Nr." } th { "Jahr" } th { "Periode" } th { "Beiträge" } th { "Rückforderungen" } } }
            tbody { @for p in &st.periods { tr { td.num { (p.bfs) } td { (p.year) } td { (p.periode) }
                td.num { (page::chf(p.contributions)) } td.num { (page::chf(p.clawbacks)) } } } } }
        h2 { "Rechnungen" }
        table id="rechnungen" { thead { tr { th { "Nummer" } th { "Empfänger" } th { "Datum" } th { "Betrag" } th { "fällig am" } th { "eingegangen" } th { "offen" } } }
            tbody { @for i in &st.invoices { tr class=[(i.open() > Chf::ZERO && i.due_on < today).then_some("fehler")] {
                td { (i.id) } td.num { (i.payee) } td { (crate::domain::fmt_date(i.date)) } td.num { (page::chf(i.amount)) }
                td { (crate::domain::fmt_date(i.due_on)) } td.num { (page::chf(i.received)) } td.num { (page::chf(i.open())) }
            } } } }
        h2 { "Zahlungseingänge" }
        @if receipts.is_empty() { p { "Keine." } }
        @else { table { thead { tr { th { "Buchungs-ID" } th { "Valuta" } th { "Betrag" } th { "Rechnung" } th { "Gebucht" } } }
            tbody { @for b in &receipts { tr { td { code { (b.id.get(..16).unwrap_or(&b.id)) } } td { (crate::domain::fmt_date(b.stichtag)) }
                td.num { (page::chf(b.betrag)) } td { (b.bezug.as_ref().map(crate::payout::Bezug::as_str).unwrap_or("")) } td { (b.booked_at) } } } } } }
    }
}

fn render(app: &super::App, bfs_text: &str, result: Option<Markup>) -> Response {
    let bfs = parse_bfs(bfs_text);
    let body = html! {
        @if let Some(r) = result { (r) }
        form.zeile method="get" action="/konto" {
            label { "BFS-Nr. (leer: alle Gemeinden)" input type="text" inputmode="numeric" name="gemeinde" value=(bfs_text) size="8"; }
            button type="submit" { "Anzeigen" }
        }
        form.zeile method="post" action=(page::action(app, "/konto/auszug")) {
            input type="hidden" name="gemeinde" value=(bfs_text);
            button type="submit" { "Kontoauszug (xlsx, Journal, Rechnungen) schreiben" }
        }
        @match &bfs {
            Err(e) => (page::message_box("fehler", e)),
            Ok(b) => (statement_view(app, *b)),
        }
        h2 { "Zahlungseingang erfassen" }
        form.zeile method="post" action=(page::action(app, "/konto/zahlung")) {
            input type="hidden" name="gemeinde" value=(bfs_text);
            label { "Rechnung (Nummer oder RF-Referenz)" input type="text" name="rechnung" required; }
            label { "Betrag CHF" input type="text" name="betrag" inputmode="decimal" required; }
            label { "Valutadatum" input type="date" name="datum" required; }
            button type="submit" { "Erfassen" }
        }
        h2 { "Zahlungseingang stornieren" }
        form.zeile method="post" action=(page::action(app, "/konto/zahlung-storno")) {
            input type="hidden" name="gemeinde" value=(bfs_text);
            label { "Buchungs-ID (mindestens 8 Zeichen)" input type="text" name="id" required; }
            label { "Grund" input type="text" name="grund" required; }
            button.gefahr type="submit" { "Stornieren" }
        }
    };
    page::layout(app, "Konto und Zahlungseingang", "/konto", body).into_response()
}

/// `GET /konto?gemeinde=<BFS>`.
pub async fn page(State(app): State<Shared>, Query(q): Query<KontoQuery>) -> Response {
    let a = app.clone();
    super::blocking(move || Ok(render(&a, q.gemeinde.as_deref().unwrap_or(""), None)))
        .await
        .unwrap_or_else(|e| super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Konto", &e))
}

async fn finish(app: Shared, gemeinde: String, action: &str, detail: String, r: Result<Markup, String>) -> Response {
    let (status, m) = match r {
        Ok(m) => {
            app.log_action(action, &detail, "ausgeführt");
            (StatusCode::OK, m)
        }
        Err(e) => {
            app.log_action(action, &detail, &format!("abgelehnt: {e}"));
            (StatusCode::UNPROCESSABLE_ENTITY, page::message_box("fehler", &e))
        }
    };
    let a = app.clone();
    match super::blocking(move || Ok(render(&a, &gemeinde, Some(m)))).await {
        Ok(mut r) => {
            *r.status_mut() = status;
            r
        }
        Err(e) => super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Konto", &e),
    }
}

/// `POST /konto/auszug`: writes the statement (as `beitraege konto`).
pub async fn statement_files(app: Shared, f: ZahlungForm) -> Response {
    let a = app.clone();
    let g = f.gemeinde.clone();
    let r = super::blocking(move || {
        let opts = KontoOptions {
            ledger: a.opts.ledger.clone(),
            out: a.opts.konto_out(),
            bfs: parse_bfs(&g)?,
            stammdaten: Some(a.opts.stammdaten.clone()),
            date: chrono::Local::now().date_naive(),
        };
        let (_, folder, written) = write_statement(&opts)
            .map_err(|e| format!("Der Kontoauszug konnte nicht erstellt werden: {}", super::error_text(&e)))?;
        let rel =
            folder.strip_prefix(a.opts.konto_out()).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        Ok(html! {
            (page::message_box("ok", &format!("Kontoauszug geschrieben in {}.", folder.display())))
            ul { @for w in &written { li { (page::file_link("konto", &format!("{rel}/{w}"))) } } }
        })
    })
    .await;
    finish(app, f.gemeinde.clone(), "Kontoauszug", format!("Gemeinde {}", f.gemeinde), r).await
}

pub async fn statement_route(State(app): State<Shared>, Form(f): Form<ZahlungForm>) -> Response {
    statement_files(app, f).await
}

/// `POST /konto/zahlung`: a receipt on an invoice (as `beitraege zahlung-erfassen`).
pub async fn receipt(State(app): State<Shared>, Form(f): Form<ZahlungForm>) -> Response {
    let a = app.clone();
    let form = f.clone();
    let r = super::blocking(move || {
        let amount = crate::zahlungslauf::parse_amount(&form.betrag)?;
        let date = page::parse_form_date(&form.datum)
            .ok_or_else(|| format!("«{}» ist kein Datum (TT.MM.JJJJ).", form.datum))?;
        let person = a.person()?;
        let now = chrono::Local::now();
        let booked_at = now.format("%d.%m.%Y %H:%M:%S").to_string();
        let fail = |e: crate::ledger::LedgerError| {
            format!("Der Zahlungseingang konnte nicht erfasst werden: {}", super::error_text(&e))
        };
        let mut ledger = Ledger::open_existing(&a.opts.ledger).map_err(fail)?;
        ledger.set_person(&person);
        let b = ledger
            .record_receipt(form.rechnung.trim(), date, amount, now.date_naive(), &booked_at, env!("CARGO_PKG_VERSION"))
            .map_err(fail)?;
        let inv = ledger.find_invoice(form.rechnung.trim()).map_err(fail)?;
        Ok(page::message_box(
            "ok",
            &format!(
                "Zahlungseingang erfasst: CHF {} auf Rechnung {} (Buchungs-ID {}).\nNoch offen: CHF {}",
                page::chf(amount),
                inv.id,
                b.id.get(..16).unwrap_or(&b.id),
                page::chf(inv.open())
            ),
        ))
    })
    .await;
    let detail = format!("Rechnung {} Betrag {} Valuta {}", f.rechnung, f.betrag, f.datum);
    finish(app, f.gemeinde.clone(), "Zahlungseingang erfassen", detail, r).await
}

/// `POST /konto/zahlung-storno`: reverses a receipt (as `zahlung-erfassen --storno`).
pub async fn reverse_receipt(State(app): State<Shared>, Form(f): Form<ZahlungForm>) -> Response {
    let a = app.clone();
    let form = f.clone();
    let r = super::blocking(move || {
        if form.grund.trim().is_empty() {
            return Err("Ein Storno verlangt einen Grund; es wurde nichts gebucht.".to_string());
        }
        let person = a.person()?;
        let booked_at = chrono::Local::now().format("%d.%m.%Y %H:%M:%S").to_string();
        let fail = |e: crate::ledger::LedgerError| {
            format!("Der Zahlungseingang konnte nicht storniert werden: {}", super::error_text(&e))
        };
        let mut ledger = Ledger::open_existing(&a.opts.ledger).map_err(fail)?;
        ledger.set_person(&person);
        let b = ledger
            .reverse_receipt(form.id.trim(), form.grund.trim(), &booked_at, env!("CARGO_PKG_VERSION"))
            .map_err(fail)?;
        Ok(page::message_box("ok", &format!("Zahlungseingang storniert: CHF {} wieder offen.", page::chf(-b.betrag))))
    })
    .await;
    let detail = format!("Buchung {} Grund {}", f.id, f.grund);
    finish(app, f.gemeinde.clone(), "Zahlungseingang stornieren", detail, r).await
}

/// `GET /pruefen`: the ledger's hash chain and its head, for an auditor (read only).
pub async fn verify(State(app): State<Shared>) -> Response {
    let a = app.clone();
    let r = super::blocking(move || {
        let path = &a.opts.ledger;
        if !path.is_file() {
            return Ok(page::message_box("hinweis", &format!("Die Buchhaltung {} existiert noch nicht.", path.display())));
        }
        // The same check as `beitraege pruefen`: read-only, every finding collected.
        let report = crate::ledger::verify::check(&crate::ledger::LedgerFiles::beside(path), &[])
            .map_err(|e| super::error_text(&e))?;
        let releases = match Ledger::open_read_only(path) {
            Ok(l) => l.releases().map_err(|e| super::error_text(&e))?,
            Err(_) => Vec::new(),
        };
        Ok(html! {
            @if report.ok() {
                (page::message_box("ok", &format!("Die Buchhaltung ist in Ordnung: {} Buchungen und {} Läufe in der Hash-Kette, die Ankerdatei stimmt.", report.bookings, report.runs)))
            } @else {
                (page::message_box("fehler", &format!("Die Buchhaltung ist nicht in Ordnung ({} Befunde); es wird nichts gebucht.", report.findings.len())))
            }
            table { tbody {
                tr { th { "Datei" } td { code { (path.display()) } } }
                tr { th { "Schema-Version" } td { (report.schema_version) } }
                tr { th { "Buchungen" } td { (report.bookings) } }
                tr { th { "Zahlungsläufe" } td { (report.runs) } }
                tr { th { "Kettenkopf" } td { "Nr. " (report.head.pos) " " code { (report.head.mac) } } }
                tr { th { "Ankerdatei" } td { (report.anchor_lines) " Einträge" } }
            } }
            h2 { "Bericht" }
            pre { (report.text()) }
            h2 { "Freigaben" }
            table { thead { tr { th { "Lauf" } th { "Freigegeben von" } th { "am" } th { "Zahlungsdatei" } th { "SHA-256 Datei" } th { "SHA-256 Buchungen" } } }
                tbody { @for r in &releases { tr { td { code { (r.run_id.get(..16).unwrap_or(&r.run_id)) } } td { (r.person) } td { (r.at) }
                    td { (r.file.as_deref().unwrap_or("")) } td { code { (r.file_sha256.as_deref().unwrap_or("")) } } td { code { (r.bookings_sha256) } } } } } }
        })
    })
    .await;
    let body = r.unwrap_or_else(|e| page::message_box("fehler", &e));
    page::layout(&app, "Prüfen: Buchhaltung", "/pruefen", body).into_response()
}
