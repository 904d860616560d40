//! Auswertung: run the year (`beitraege run`, the same library call and options) in the
//! background with a progress bar; then the outputs to download, the letters as one zip.

use super::{page, Shared, WebOptions};
use crate::evaluate::{EvaluationOptions, Progress};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use std::sync::atomic::Ordering;

/// The options of `beitraege run` for the server's data options (the command line's
/// defaults: no thread limit, today's date, no contact override).
pub fn run_options(o: &WebOptions, progress: Option<Progress>) -> EvaluationOptions {
    EvaluationOptions {
        year: o.year,
        inbox: o.inbox.clone(),
        stammdaten: o.stammdaten.clone(),
        out: o.run_out(),
        threads: None,
        limits: crate::workbook::Limits::default(),
        run_date: chrono::Local::now().date_naive(),
        contact: None,
        progress,
        force: false,
        received_by: None,
        buchhaltung: o.ledger_given.then(|| o.ledger.clone()),
    }
}

/// The outputs of the year's folder (relative paths), sorted.
fn outputs(app: &super::App) -> Vec<String> {
    let root = app.opts.run_out();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                if let Ok(rel) = p.strip_prefix(&root) {
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    if !rel.starts_with('.') {
                        out.push(rel);
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// `GET /auswertung`.
pub async fn page(State(app): State<Shared>) -> Response {
    let (running, error, last_ms, has_eval) = {
        let st = app.eval.read().unwrap_or_else(|e| e.into_inner());
        (
            st.running.as_ref().map(|j| (j.writes, j.done.load(Ordering::Relaxed), j.total.load(Ordering::Relaxed))),
            st.error.clone(),
            st.last_ms,
            st.eval.is_some(),
        )
    };
    let files = outputs(&app);
    let year = app.opts.year;
    let body = html! {
        p { "Eingang: " code { (app.opts.inbox.display()) } br;
            "Stammdaten: " code { (app.opts.stammdaten.display()) } br;
            "Ausgabe: " code { (app.opts.run_out().display()) } }
        @if let Some((writes, done, total)) = running {
            div role="status" {
                p { (if writes { "Die Auswertung läuft und schreibt die Ausgaben …" } else { "Die Daten werden gelesen …" }) }
                progress max=(total.max(1)) value=(done) { (done) " von " (total) }
                " " (done) " von " (total) " Dateien gelesen"
            }
        } @else {
            form.zeile method="post" action=(page::action(&app, "/auswertung/starten")) {
                button type="submit" { "Jahr " (year) " auswerten und Ausgaben schreiben" }
            }
        }
        @if let Some(e) = &error { (page::message_box("fehler", e)) }
        @if let (Some(ms), true, None) = (last_ms, has_eval, &error) {
            p.nicht-drucken { "Letzte Auswertung: " (ms) " ms." }
        }
        h2 { "Ausgaben" }
        @if files.is_empty() {
            p { "Noch keine Ausgaben: bitte das Jahr auswerten." }
        } @else {
            p { a href="/auswertung/briefe.zip" { "Alle Briefe (PDF) als ZIP herunterladen" } }
            ul { @for f in &files { li { (page::file_link("auswertung", f)) } } }
        }
    };
    page::layout_refreshing(&app, &format!("Auswertung {year}"), "/auswertung", running.map(|_| 1), body)
        .into_response()
}

/// `POST /auswertung/starten`: runs the year in the background.
pub async fn start(State(app): State<Shared>) -> Response {
    if !super::start_evaluation(&app, true) {
        return super::error_page(
            &app,
            StatusCode::CONFLICT,
            "Auswertung",
            "Es läuft bereits eine Auswertung; bitte warten, bis sie abgeschlossen ist.",
        );
    }
    Redirect::to("/auswertung").into_response()
}

/// `GET /auswertung/briefe.zip`: the letters (`Rueckmeldungen/*.pdf`) in one zip.
pub async fn letters_zip(State(app): State<Shared>) -> Response {
    let root = app.opts.run_out();
    let year = app.opts.year;
    let made = super::blocking(move || {
        use std::io::Write;
        let mut files: Vec<_> = std::fs::read_dir(root.join("Rueckmeldungen"))
            .map_err(|_| "Es gibt noch keine Briefe: bitte das Jahr auswerten.".to_string())?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "pdf"))
            .collect();
        files.sort();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for p in files {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let bytes = std::fs::read(&p).map_err(|e| format!("«{name}» ist nicht lesbar: {e}"))?;
            zip.start_file(name, o).map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
    })
    .await;
    match made {
        Ok(bytes) => super::file_response(&format!("Briefe_{year}.zip"), bytes),
        Err(e) => super::error_page(&app, StatusCode::NOT_FOUND, "Briefe", &e),
    }
}
