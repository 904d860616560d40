//! Zahlungslauf: preview a Stichtag, book it, release it (another person: the four-eyes
//! rule of the library decides), reverse it (Storno with reason); the runs with who booked
//! and who released them. The same library calls as `beitraege zahlungslauf`.

use super::{page, Shared};
use crate::ledger::{Ledger, RunState};
use crate::zahlungslauf::{
    execute as run, freigeben, storno, summary, FreigabeOptions, StornoOptions, ZahlungslaufOptions,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use std::path::Path;

/// The form of the payout page (every field optional; the handlers say what is missing).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LaufForm {
    #[serde(default)]
    pub stichtag: String,
    #[serde(default)]
    pub ab_jahr: String,
    #[serde(default)]
    pub ausserordentlich: Option<String>,
    #[serde(default)]
    pub grund: String,
}

/// The ledger's runs with their state, if the ledger exists.
fn runs(path: &Path) -> Result<Vec<(crate::ledger::RunRow, RunState)>, String> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let l = Ledger::open_existing(path).map_err(|e| super::error_text(&e))?;
    l.run_states().map_err(|e| super::error_text(&e))
}

fn stored_first_year(path: &Path) -> Option<i32> {
    if !path.is_file() {
        return None;
    }
    Ledger::open_existing(path).ok()?.first_year().ok()?
}

/// Links to the files of a folder below the payout root.
fn folder_links(app: &super::App, folder: &Path, written: &[String]) -> Markup {
    let rel = folder.strip_prefix(app.opts.payout_out()).ok().map(|p| p.to_string_lossy().replace('\\', "/"));
    html! { ul { @for w in written { li { @match &rel {
        Some(r) => (page::file_link("zahlungslauf", &format!("{r}/{w}"))),
        None => (w),
    } } } } }
}

/// The page, with an optional result on top.
fn render(app: &super::App, result: Option<Markup>, form: &LaufForm) -> Response {
    let ledger = &app.opts.ledger;
    let first = stored_first_year(ledger);
    let list = runs(ledger);
    let me = app.person().ok();
    let ab_jahr =
        if form.ab_jahr.is_empty() { first.unwrap_or(app.opts.year).to_string() } else { form.ab_jahr.clone() };
    let stichtag =
        if form.stichtag.is_empty() { format!("{}-03-31", app.opts.year + 1) } else { form.stichtag.clone() };
    let body = html! {
        @if let Some(r) = result { (r) }
        @if let Err(p) = app.person() { (page::message_box("fehler", &p)) }
        p { "Buchhaltung: " code { (ledger.display()) } " · Ausgaben: " code { (app.opts.payout_out().display()) } }
        h2 { "Entwurf und Buchung" }
        form.zeile method="post" action=(page::action(app, "/zahlungslauf/entwurf")) {
            label { "Stichtag" input type="date" name="stichtag" value=(stichtag) required; }
            label { "Ab Jahr (erste Buchung)" input type="number" name="ab_jahr" value=(ab_jahr) min="2000" max="2100" readonly[first.is_some()]; }
            label { input type="checkbox" name="ausserordentlich" value="1"; "ausserordentlich" }
            label { "Grund (ausserordentlich)" input type="text" name="grund" size="30"; }
            button type="submit" { "Entwurf erstellen" }
            button type="submit" formaction=(page::action(app, "/zahlungslauf/buchen")) { "Buchen" }
        }
        p { small { "Buchen hält fest, wer bucht (" (me.clone().unwrap_or_default()) "). Die Zahlungsdatei (pain.001) entsteht erst mit der Freigabe durch eine andere Person." } }
        h2 { "Zahlungsläufe" }
        @match &list {
            Err(e) => (page::message_box("fehler", e)),
            Ok(rs) if rs.is_empty() => p { "Noch kein Zahlungslauf gebucht." },
            Ok(rs) => table id="laeufe" {
                thead { tr { th { "Stichtag" } th { "Art" } th { "Lauf" } th { "Gebucht am" } th { "Gebucht von" } th { "Freigabe" } th { "Grund" } th.nicht-drucken { "Aktion" } } }
                tbody { @for (r, st) in rs {
                    tr {
                        td { (crate::domain::fmt_date(r.stichtag)) }
                        td { (r.art) }
                        td.num { (r.lauf) }
                        td { (r.booked_at) }
                        td { (r.booked_by.as_deref().unwrap_or(crate::zahlungslauf::konto::BEFORE_RULE)) }
                        td { @match st {
                            RunState::Released(rel) => { "freigegeben von " (rel.person) " am " (rel.at) }
                            RunState::Pending => strong { (crate::zahlungslauf::konto::PENDING) },
                            RunState::Withdrawn => (crate::zahlungslauf::konto::WITHDRAWN),
                            RunState::BeforeRule => (crate::zahlungslauf::konto::BEFORE_RULE),
                        } }
                        td { (r.reason) }
                        td.nicht-drucken {
                            @if matches!(st, RunState::Pending) {
                                form method="post" action=(page::action(app, "/zahlungslauf/freigeben")) {
                                    input type="hidden" name="stichtag" value=(r.stichtag.format("%Y-%m-%d"));
                                    button type="submit" { "Freigeben" }
                                    @if me.is_some() && me == r.booked_by { br; small { "(von Ihnen gebucht: eine andere Person gibt frei)" } }
                                }
                            }
                        }
                    }
                } }
            },
        }
        h2 { "Storno" }
        form.zeile method="post" action=(page::action(app, "/zahlungslauf/storno")) {
            label { "Stichtag" input type="date" name="stichtag" required; }
            label { "Grund" input type="text" name="grund" size="40" required; }
            button.gefahr type="submit" { "Zahlungslauf stornieren" }
        }
        p { small { "Storniert den zuletzt gebuchten Zahlungslauf dieses Stichtags; eine andere Person gibt den Storno frei." } }
    };
    page::layout(app, "Zahlungslauf", "/zahlungslauf", body).into_response()
}

/// `GET /zahlungslauf`.
pub async fn page(State(app): State<Shared>) -> Response {
    let a = app.clone();
    super::blocking(move || Ok(render(&a, None, &LaufForm::default())))
        .await
        .unwrap_or_else(|e| super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Zahlungslauf", &e))
}

fn parse_stichtag(s: &str) -> Result<chrono::NaiveDate, String> {
    if s.trim().is_empty() {
        return Err("Bitte den Stichtag angeben (z. B. 31.03.2024); es wurde nichts gebucht.".into());
    }
    page::parse_form_date(s).ok_or_else(|| format!("«{s}» ist kein Datum (TT.MM.JJJJ); es wurde nichts gebucht."))
}

/// The options of `beitraege zahlungslauf` for the form (as the command line builds them).
fn options(app: &super::App, f: &LaufForm, book: bool) -> Result<ZahlungslaufOptions, String> {
    let stichtag = parse_stichtag(&f.stichtag)?;
    let first_year = match f.ab_jahr.trim() {
        "" => None,
        y => Some(y.parse::<i32>().map_err(|_| format!("«{y}» ist kein Jahr."))?),
    };
    // A ledger that has booked keeps its own first year (the field only starts an empty one).
    let first_year = if stored_first_year(&app.opts.ledger).is_some() { None } else { first_year };
    let extraordinary = f.ausserordentlich.as_deref().is_some_and(|v| !v.is_empty());
    if extraordinary && f.grund.trim().is_empty() {
        return Err("Ein ausserordentlicher Zahlungslauf verlangt einen Grund; es wurde nichts gebucht.".into());
    }
    Ok(ZahlungslaufOptions {
        stichtag,
        inbox: app.opts.inbox.clone(),
        stammdaten: app.opts.stammdaten.clone(),
        out: app.opts.payout_out(),
        ledger: app.opts.ledger.clone(),
        book,
        person: if book { app.person()? } else { String::new() },
        first_year,
        booked_on: chrono::Local::now().date_naive(),
        execution_date: None,
        extraordinary_reason: extraordinary.then(|| f.grund.trim().to_string()),
        threads: None,
        limits: crate::workbook::Limits::default(),
    })
}

async fn act(app: Shared, f: LaufForm, what: &'static str) -> Response {
    let a = app.clone();
    let form = f.clone();
    let outcome: Result<Markup, String> = super::blocking(move || {
        let day = |s: &str| parse_stichtag(s).map(crate::domain::fmt_date).unwrap_or_default();
        match what {
            "entwurf" | "buchen" => {
                let opts = options(&a, &form, what == "buchen")?;
                let o = run(&opts).map_err(|e| {
                    format!("Der Zahlungslauf per {} konnte nicht durchgeführt werden: {}", day(&form.stichtag), super::error_text(&e))
                })?;
                Ok(html! {
                    (page::message_box(if o.booked { "ok" } else { "hinweis" }, &summary(&o)))
                    (folder_links(&a, &o.out, &o.written))
                })
            }
            "freigeben" => {
                let stichtag = parse_stichtag(&form.stichtag)?;
                let fo = FreigabeOptions {
                    stichtag,
                    ledger: a.opts.ledger.clone(),
                    stammdaten: a.opts.stammdaten.clone(),
                    out: a.opts.payout_out(),
                    person: a.person()?,
                    released_on: chrono::Local::now().date_naive(),
                    execution_date: None,
                };
                let r = freigeben(&fo).map_err(|e| {
                    format!("Der Zahlungslauf per {} konnte nicht freigegeben werden: {}", day(&form.stichtag), super::error_text(&e))
                })?;
                let text = format!(
                    "{} per {} freigegeben von «{}» (gebucht von «{}»).\n{}\nSHA-256 der Buchungen: {}",
                    if r.run.art == crate::ledger::RunKind::Storno { "Storno" } else { "Zahlungslauf" },
                    crate::domain::fmt_date(stichtag),
                    r.release.person,
                    r.run.booked_by.clone().unwrap_or_default(),
                    match (&r.release.file, &r.release.file_sha256) {
                        (Some(f), Some(sha)) => format!(
                            "Zahlungsdatei {f}: {} Zahlungen, Total CHF {}, SHA-256 {sha}",
                            r.transfers,
                            crate::domain::chf_text(r.total)
                        ),
                        _ => "Keine Zahlungsdatei: es wird nichts ausbezahlt.".to_string(),
                    },
                    r.release.bookings_sha256
                );
                Ok(html! { (page::message_box("ok", &text)) (folder_links(&a, &r.folder, &r.written)) })
            }
            _ => {
                let stichtag = parse_stichtag(&form.stichtag)?;
                if form.grund.trim().is_empty() {
                    return Err("Ein Storno verlangt einen Grund; es wurde nichts gebucht.".into());
                }
                let so = StornoOptions {
                    stichtag,
                    ledger: a.opts.ledger.clone(),
                    out: a.opts.payout_out(),
                    reason: form.grund.trim().to_string(),
                    person: a.person()?,
                };
                let (n, folder) = storno(&so).map_err(|e| {
                    format!("Der Zahlungslauf per {} konnte nicht storniert werden: {}", day(&form.stichtag), super::error_text(&e))
                })?;
                Ok(html! {
                    (page::message_box("ok", &format!(
                        "Zahlungslauf per {} storniert: {n} Gegenbuchungen gebucht von «{}». Eine andere Person gibt den Storno frei.",
                        crate::domain::fmt_date(stichtag), so.person)))
                    p { "Ordner: " code { (folder.display()) } }
                })
            }
        }
    })
    .await;
    let label = match what {
        "entwurf" => "Zahlungslauf Entwurf",
        "buchen" => "Zahlungslauf buchen",
        "freigeben" => "Zahlungslauf freigeben",
        _ => "Zahlungslauf Storno",
    };
    let detail = format!("Stichtag {} {}", f.stichtag, f.grund);
    let (status, result) = match outcome {
        Ok(m) => {
            if what != "entwurf" {
                app.log_action(label, &detail, "ausgeführt");
            }
            (StatusCode::OK, m)
        }
        Err(e) => {
            if what != "entwurf" {
                app.log_action(label, &detail, &format!("abgelehnt: {e}"));
            }
            (StatusCode::UNPROCESSABLE_ENTITY, page::message_box("fehler", &e))
        }
    };
    let a = app.clone();
    match super::blocking(move || Ok(render(&a, Some(result), &f))).await {
        Ok(mut r) => {
            *r.status_mut() = status;
            r
        }
        Err(e) => super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Zahlungslauf", &e),
    }
}

/// `POST /zahlungslauf/entwurf`: a preview (draft outputs, nothing booked).
pub async fn preview(State(app): State<Shared>, Form(f): Form<LaufForm>) -> Response {
    act(app, f, "entwurf").await
}
/// `POST /zahlungslauf/buchen`.
pub async fn book(State(app): State<Shared>, Form(f): Form<LaufForm>) -> Response {
    act(app, f, "buchen").await
}
/// `POST /zahlungslauf/freigeben`.
pub async fn release(State(app): State<Shared>, Form(f): Form<LaufForm>) -> Response {
    act(app, f, "freigeben").await
}
/// `POST /zahlungslauf/storno`.
pub async fn reverse(State(app): State<Shared>, Form(f): Form<LaufForm>) -> Response {
    act(app, f, "storno").await
}
