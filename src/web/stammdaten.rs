//! Stammdaten: which master-data file is in use, its problems (the same German messages as
//! the command line), the tariffs, contracts, credits and clawbacks in force.

use super::{page, Shared};
use crate::stammdaten::Stammdaten;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

/// `GET /stammdaten`.
pub async fn page(State(app): State<Shared>) -> Response {
    let path = app.opts.stammdaten.clone();
    let year = app.opts.year;
    let loaded = super::blocking(move || Ok(Stammdaten::load(&path).and_then(|m| m.check_year(year).map(|_| m)))).await;
    let path = &app.opts.stammdaten;
    let body = match loaded {
        Err(e) => page::message_box("fehler", &e),
        Ok(Err(e)) => html! {
            p { "Datei: " code { (path.display()) } }
            (page::message_box("fehler", "Die Stammdaten sind nicht verwendbar. Bitte diese Punkte in der Arbeitsmappe korrigieren:"))
            table id="probleme" {
                thead { tr { th { "Blatt" } th { "Zeile" } th { "Spalte" } th { "Meldung" } } }
                tbody { @for p in &e.problems { tr {
                    td { (p.at.as_ref().map_or("", |a| a.sheet.as_str())) }
                    td { @if let Some(a) = &p.at { (a.row) } }
                    td { (p.at.as_ref().map_or("", |a| a.column.as_str())) }
                    td { (p.message) }
                } } }
            }
        },
        Ok(Ok(m)) => {
            let name = |b| m.municipality(b).map_or(String::new(), |x| x.name.clone());
            html! {
                p { "Datei: " code { (path.display()) } br; "SHA-256: " code { (m.sha256) } }
                (page::message_box("ok", &format!("Die Stammdaten sind für das Jahr {year} verwendbar: {} Gemeinden.", m.municipalities.len())))
                @if !m.notes.is_empty() { (page::message_box("hinweis", &m.notes.join("\n"))) }
                h2 { "Tarife" }
                table id="tarife" { thead { tr { th { "Code" } th { "Leistung" } th { "Betrag CHF" } th { "gültig ab" } th { "gültig bis" } } }
                    tbody { @for t in &m.tariffs { tr { td { (t.code.as_str()) } td { (t.code.label()) } td.num { (page::chf(t.amount)) }
                        td { (crate::domain::fmt_date(t.validity.start())) } td { (crate::domain::fmt_date(t.validity.end())) } } } } }
                h2 { "Leitgemeinden-Verträge" }
                table id="vertraege" { thead { tr { th { "Vertrag" } th { "Leitgemeinde" } th { "Vertragsgemeinde" } th { "gültig ab" } th { "gültig bis" } } }
                    tbody { @for c in &m.memberships { tr { td { (c.contract) } td { (name(c.lead)) " (" (c.lead) ")" } td { (name(c.member)) " (" (c.member) ")" }
                        td { (crate::domain::fmt_date(c.validity.start())) } td { (crate::domain::fmt_date(c.validity.end())) } } } } }
                h2 { "Kredit (4.3.4)" }
                table { thead { tr { th { "Jahr" } th { "Kredit CHF" } } }
                    tbody { @for (y, k) in &m.credit { tr { td { (y) } td.num { (page::chf(*k)) } } } } }
                h2 { "Rückforderungen (4.7)" }
                table { thead { tr { th { "Gemeinde" } th { "Betrag CHF" } th { "Grund" } th { "verfügt am" } th { "Verfügung" } } }
                    tbody { @for c in &m.clawbacks { tr { td { (name(c.bfs)) " (" (c.bfs) ")" } td.num { (page::chf(c.amount)) } td { (c.reason) }
                        td { (crate::domain::fmt_date(c.decided_on)) } td { (c.decision.as_deref().unwrap_or("")) } } } } }
            }
        }
    };
    (StatusCode::OK, page::layout(&app, "Stammdaten", "/stammdaten", body)).into_response()
}
