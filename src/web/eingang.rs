//! Eingang: the inbox's entries (state, findings, SHA-256) and the upload of returned files
//! (several at once; a file input takes dropped files) with their receipt date, written to
//! `Eingangsjournal.csv`. An uploaded file never replaces one: a second file of the same name
//! is kept beside it as `name (2).xlsx`.

use super::{page, Shared};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The largest file accepted.
pub const MAX_FILE: usize = 20 * 1024 * 1024;
/// The most files per upload.
pub const MAX_FILES: usize = 50;
/// The largest upload in total.
pub const MAX_TOTAL: usize = 100 * 1024 * 1024;
/// The request body limit of the upload route (the total and the form's overhead).
pub const MAX_BODY: usize = MAX_TOTAL + 1024 * 1024;

/// Why an uploaded file name is refused (German), or `None` when it is a plain file name.
pub fn name_problem(name: &str) -> Option<String> {
    let shown: String = name.chars().map(|c| if super::bad_char(c) { '?' } else { c }).collect();
    if name.trim().is_empty() {
        return Some("Eine Datei hat keinen Namen.".into());
    }
    if name.contains(['/', '\\', ':']) || name.contains("..") {
        return Some(format!("«{shown}»: Der Dateiname enthält einen Pfad («/», «\\», «:» oder «..»)."));
    }
    if name.chars().any(super::bad_char) {
        return Some(format!("«{shown}»: Der Dateiname enthält Steuer- oder Richtungszeichen."));
    }
    if name.starts_with('.') || name.ends_with(['.', ' ']) {
        return Some(format!(
            "«{shown}»: Ein Dateiname darf nicht mit einem Punkt beginnen oder mit Punkt oder Leerzeichen enden."
        ));
    }
    if name.len() > 200 {
        return Some(format!("«{shown}»: Der Dateiname ist länger als 200 Bytes."));
    }
    if name.eq_ignore_ascii_case(crate::scan::JOURNAL) {
        return Some(format!("«{shown}»: Das Eingangsjournal wird nicht hochgeladen; das Programm führt es."));
    }
    None
}

/// The name under which `name` is stored in `dir`: itself, or `stem (n).ext` for the first
/// free n. The file is created here (exclusively), so two uploads never share a name.
fn create_free(dir: &Path, name: &str) -> std::io::Result<(String, std::fs::File)> {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    for n in 1..10_000u32 {
        let candidate = if n == 1 { name.to_string() } else { format!("{stem} ({n}){ext}") };
        match std::fs::OpenOptions::new().write(true).create_new(true).open(dir.join(&candidate)) {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("kein freier Dateiname"))
}

/// Appends the receipt lines to the journal at the inbox's top (created with its header).
fn append_journal(inbox: &Path, lines: &[(String, chrono::NaiveDate)]) -> std::io::Result<()> {
    let path = inbox.join(crate::scan::JOURNAL);
    let existing = std::fs::read(&path).ok();
    let mut text = String::new();
    match &existing {
        None => text.push_str("Datei;Eingangsdatum\n"),
        Some(b) if !b.is_empty() && !b.ends_with(b"\n") => text.push('\n'),
        _ => {}
    }
    for (name, d) in lines {
        text.push_str(&format!("{name};{}\n", crate::domain::fmt_date(*d)));
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// The page: upload form, then every inbox entry.
fn render(app: &super::App, message: Option<(&str, String)>) -> Response {
    let inbox = app.opts.inbox.clone();
    let scanned = crate::scan::scan(&inbox);
    let eval = app.eval.read().map(|s| s.eval.clone()).unwrap_or(None);
    let today = chrono::Local::now().date_naive();
    let body = html! {
        @if let Some((kind, text)) = &message { (page::message_box(kind, text)) }
        p { "Eingangsordner: " code { (inbox.display()) } }
        form method="post" enctype="multipart/form-data" action=(page::action(app, "/eingang/hochladen")) {
            div.zeile {
                label { "Dateien (mehrere möglich; auch hierher ziehen)"
                    input type="file" name="dateien" multiple required; }
                label { "Eingangsdatum" input type="date" name="eingangsdatum" value=(today.format("%Y-%m-%d")) required; }
                button type="submit" { "Hochladen" }
            }
            p { small { "Höchstens " (MAX_FILES) " Dateien, je " (MAX_FILE / 1024 / 1024) " MB, zusammen " (MAX_TOTAL / 1024 / 1024) " MB. Eine Datei gleichen Namens wird nie ersetzt: die neue erhält «(2)» im Namen." } }
        }
        h2 { "Dateien im Eingang" }
        @match &scanned {
            Err(e) => (page::message_box("fehler", &super::error_text(e))),
            Ok(inbox) => {
                @if !inbox.journal_notes.is_empty() { (page::message_box("hinweis", &inbox.journal_notes.join("\n"))) }
                table id="eingang" {
                    thead { tr { th { "Datei" } th { "Eingang" } th { "Quelle" } th { "Zustand" } th { "Befunde" } th { "SHA-256" } } }
                    tbody { @for f in &inbox.files {
                        @let entry = eval.as_ref().and_then(|e| e.resolved.files.iter().find(|x| x.result.rel() == f.rel));
                        tr {
                            td { (f.rel) }
                            td { (page::date(f.received)) }
                            td { (f.received_from.map_or("", |s| s.label())) }
                            td { (entry.map_or("noch nicht ausgewertet", |x| x.state.as_str())) }
                            td { @if let Some(x) = entry { @for fi in &x.result.findings { (fi.code.as_str()) " " (fi.cell().unwrap_or_default()) ": " (fi.message) br; } } }
                            td { @if let Some(s) = entry.and_then(|x| x.result.file.sha256.as_deref()) { code { (s) } } }
                        }
                    } }
                }
            }
        }
    };
    let code = match message {
        Some(("fehler", _)) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    (code, page::layout(app, "Eingang", "/eingang", body)).into_response()
}

/// `GET /eingang`.
pub async fn page(State(app): State<Shared>) -> Response {
    let app2 = app.clone();
    match super::blocking(move || Ok(render(&app2, None))).await {
        Ok(r) => r,
        Err(e) => super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Eingang", &e),
    }
}

/// One uploaded file, read within the limits.
struct Upload {
    name: String,
    bytes: Vec<u8>,
}

/// Reads the multipart form within the limits; a German message for what is refused.
async fn read_form(mut mp: Multipart) -> Result<(Vec<Upload>, Option<String>), String> {
    let mut files = Vec::new();
    let mut date = None;
    let mut total = 0usize;
    let too_big = || format!("Das Hochladen ist zu gross: zusammen höchstens {} MB.", MAX_TOTAL / 1024 / 1024);
    while let Some(mut field) = mp.next_field().await.map_err(|_| too_big())? {
        match field.name() {
            Some("eingangsdatum") => {
                date = Some(field.text().await.map_err(|_| "Das Eingangsdatum ist unlesbar.".to_string())?)
            }
            Some("dateien") => {
                let name = field.file_name().unwrap_or("").to_string();
                if name.is_empty() {
                    continue; // an empty file input
                }
                if files.len() >= MAX_FILES {
                    return Err(format!("Zu viele Dateien: höchstens {MAX_FILES} auf einmal."));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| too_big())? {
                    bytes.extend_from_slice(&chunk);
                    total += chunk.len();
                    if bytes.len() > MAX_FILE {
                        return Err(format!("«{name}» ist grösser als {} MB.", MAX_FILE / 1024 / 1024));
                    }
                    if total > MAX_TOTAL {
                        return Err(too_big());
                    }
                }
                files.push(Upload { name, bytes });
            }
            _ => {}
        }
    }
    Ok((files, date))
}

/// Stores the files (all names checked first: nothing is stored if one is refused) and
/// their receipt lines; returns the names stored.
fn store(inbox: &Path, files: &[Upload], received: chrono::NaiveDate) -> Result<Vec<String>, String> {
    if !inbox.is_dir() {
        return Err(format!("Der Eingangsordner «{}» existiert nicht.", inbox.display()));
    }
    let mut stored: Vec<(String, PathBuf)> = Vec::new();
    let mut lines = Vec::new();
    for u in files {
        let name: String = unicode_normalization::UnicodeNormalization::nfc(u.name.as_str()).collect();
        let result = create_free(inbox, &name).and_then(|(n, mut f)| {
            f.write_all(&u.bytes)?;
            f.sync_all()?;
            Ok(n)
        });
        match result {
            Ok(n) => {
                stored.push((n.clone(), inbox.join(&n)));
                lines.push((n, received));
            }
            Err(e) => {
                // No partial upload: what was stored of this request is removed again.
                for (_, p) in &stored {
                    let _ = std::fs::remove_file(p);
                }
                return Err(format!("«{}» konnte nicht gespeichert werden: {e}. Es wurde nichts gespeichert.", u.name));
            }
        }
    }
    if let Err(e) = append_journal(inbox, &lines) {
        for (_, p) in &stored {
            let _ = std::fs::remove_file(p);
        }
        return Err(format!("Das Eingangsjournal konnte nicht geschrieben werden: {e}. Es wurde nichts gespeichert."));
    }
    Ok(lines.into_iter().map(|(n, _)| n).collect())
}

/// `POST /eingang/hochladen`.
pub async fn upload(State(app): State<Shared>, mp: Multipart) -> Response {
    let fail = |app: &Shared, m: String| {
        app.log_action("Eingang hochladen", "", &format!("abgelehnt: {m}"));
        let app = app.clone();
        async move {
            let a2 = app.clone();
            super::blocking(move || Ok(render(&a2, Some(("fehler", m)))))
                .await
                .unwrap_or_else(|e| super::error_page(&app, StatusCode::BAD_REQUEST, "Eingang", &e))
        }
    };
    let (files, date) = match read_form(mp).await {
        Ok(x) => x,
        Err(m) => return fail(&app, m).await,
    };
    if files.is_empty() {
        return fail(&app, "Es wurde keine Datei ausgewählt.".into()).await;
    }
    let problems: Vec<String> = files.iter().filter_map(|u| name_problem(&u.name)).collect();
    if !problems.is_empty() {
        return fail(&app, format!("Es wurde nichts gespeichert.\n{}", problems.join("\n"))).await;
    }
    let today = chrono::Local::now().date_naive();
    let received = match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => today,
        Some(d) => match page::parse_form_date(d) {
            Some(d) if d <= today => d,
            Some(_) => {
                return fail(&app, "Das Eingangsdatum liegt in der Zukunft; es wurde nichts gespeichert.".into()).await
            }
            None => {
                return fail(&app, format!("«{d}» ist kein Datum (TT.MM.JJJJ); es wurde nichts gespeichert.")).await
            }
        },
    };
    let inbox = app.opts.inbox.clone();
    let a2 = app.clone();
    let result = super::blocking(move || {
        let _g = a2.write_lock.lock();
        store(&inbox, &files, received)
    })
    .await;
    match result {
        Ok(names) => {
            app.log_action(
                "Eingang hochladen",
                &format!("Eingangsdatum {}", crate::domain::fmt_date(received)),
                &names.join(", "),
            );
            // The pages show the new files once the year is read again (nothing is written).
            super::start_evaluation(&app, false);
            let msg = format!(
                "{} Datei(en) gespeichert, Eingangsdatum {}:\n{}\nDie Daten werden neu gelesen; für die Ausgaben bitte das Jahr auswerten.",
                names.len(),
                crate::domain::fmt_date(received),
                names.join("\n")
            );
            let a3 = app.clone();
            super::blocking(move || Ok(render(&a3, Some(("ok", msg)))))
                .await
                .unwrap_or_else(|e| super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Eingang", &e))
        }
        Err(m) => fail(&app, m).await,
    }
}
