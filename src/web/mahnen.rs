//! Mahnen: the reminders of the year on a Stichtag (`beitraege mahnen`, the same library call
//! and options), with the files of the call to download. Nothing is decided here.

use super::{page, Shared};
use crate::mahnen::{run, summary, MahnenOptions};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

/// The form of the page (every field optional; the handler says what is wrong).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MahnenForm {
    #[serde(default)]
    pub stichtag: String,
    #[serde(default)]
    pub frist: String,
}

fn render(app: &super::App, result: Option<Markup>, form: &MahnenForm) -> Response {
    let today = chrono::Local::now().date_naive().format("%Y-%m-%d").to_string();
    let stichtag = if form.stichtag.is_empty() { today } else { form.stichtag.clone() };
    let frist = if form.frist.is_empty() { crate::mahnung::DEFAULT_DAYS.to_string() } else { form.frist.clone() };
    let body = html! {
        @if let Some(r) = result { (r) }
        p { "Eingang: " code { (app.opts.inbox.display()) } br;
            "Buchhaltung (Korrespondenzjournal): " code { (app.opts.ledger.display()) } br;
            "Ausgabe: " code { (app.opts.mahnen_out().display()) } }
        form.zeile method="post" action=(page::action(app, "/mahnen/schreiben")) {
            label { "Stichtag" input type="date" name="stichtag" value=(stichtag) required; }
            label { "Neue Frist (Tage)" input type="number" name="frist" value=(frist) min="1" max="365"; }
            button type="submit" { "Mahnungen " (app.opts.year) " schreiben" }
        }
        p { small { "Es zählen die Formulare, die bis zum Stichtag eingegangen sind. Jede Mahnung wird im Korrespondenzjournal festgehalten; ein zweiter Aufruf am selben Tag mahnt nichts doppelt." } }
    };
    page::layout(app, &format!("Mahnen {}", app.opts.year), "/mahnen", body).into_response()
}

/// `GET /mahnen`.
pub async fn page(State(app): State<Shared>) -> Response {
    let a = app.clone();
    super::blocking(move || Ok(render(&a, None, &MahnenForm::default())))
        .await
        .unwrap_or_else(|e| super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Mahnen", &e))
}

/// `POST /mahnen/schreiben`: writes the reminders of the day.
pub async fn write(State(app): State<Shared>, Form(f): Form<MahnenForm>) -> Response {
    let a = app.clone();
    let form = f.clone();
    let outcome: Result<Markup, String> = super::blocking(move || {
        let stichtag = page::parse_form_date(&form.stichtag)
            .ok_or_else(|| format!("«{}» ist kein Datum (TT.MM.JJJJ); es wurde nichts geschrieben.", form.stichtag))?;
        let days = match form.frist.trim() {
            "" => crate::mahnung::DEFAULT_DAYS,
            d => d.parse::<u32>().map_err(|_| format!("«{d}» ist keine Anzahl Tage; es wurde nichts geschrieben."))?,
        };
        let opts = MahnenOptions {
            year: a.opts.year,
            inbox: a.opts.inbox.clone(),
            stammdaten: a.opts.stammdaten.clone(),
            out: a.opts.mahnen_out(),
            ledger: a.opts.ledger.clone(),
            stichtag,
            days,
            contact: None,
            threads: None,
            limits: crate::workbook::Limits::default(),
        };
        let r = run(&opts)
            .map_err(|e| format!("Die Mahnungen konnten nicht geschrieben werden: {}", super::error_text(&e)))?;
        let master = crate::stammdaten::Stammdaten::load(&opts.stammdaten).ok();
        let name = |b: u32| {
            master.as_ref().and_then(|m| m.municipality(b)).map(|m| m.name.clone()).unwrap_or_else(|| "?".into())
        };
        let rel = r
            .folder
            .as_ref()
            .and_then(|f| f.strip_prefix(opts.out.clone()).ok())
            .map(|p| p.to_string_lossy().replace('\\', "/"));
        Ok(html! {
            (page::message_box(if r.written.is_empty() { "hinweis" } else { "ok" }, &summary(&r, &name)))
            @if let Some(rel) = rel {
                ul { @for w in &r.files { li { (page::file_link("mahnen", &format!("{rel}/{w}"))) } } }
            }
        })
    })
    .await;
    let detail = format!("Stichtag {} Frist {}", f.stichtag, f.frist);
    let (status, result) = match outcome {
        Ok(m) => {
            app.log_action("Mahnen", &detail, "ausgeführt");
            (StatusCode::OK, m)
        }
        Err(e) => {
            app.log_action("Mahnen", &detail, &format!("abgelehnt: {e}"));
            (StatusCode::UNPROCESSABLE_ENTITY, page::message_box("fehler", &e))
        }
    };
    let a = app.clone();
    match super::blocking(move || Ok(render(&a, Some(result), &f))).await {
        Ok(mut r) => {
            *r.status_mut() = status;
            r
        }
        Err(e) => super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Mahnen", &e),
    }
}
