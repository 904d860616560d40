//! `beitraege web`: the same work as the command line, as pages in the browser of the
//! person at the machine. A second front beside `src/cli/`: every handler calls the library
//! functions the command line calls (evaluation, `run`, payout runs, ledger, statements);
//! no rule is implemented here.
//!
//! Security: the server listens on 127.0.0.1 only. The address it prints (and opens) carries
//! a one-time secret; the first request with it gets an HttpOnly, SameSite=Strict session
//! cookie, and every other request without that cookie gets 403. The Host header must be
//! `127.0.0.1:<port>` or `localhost:<port>` (DNS rebinding). Every state-changing request is
//! a POST carrying the CSRF token (query parameter `csrf`); a GET changes nothing. Downloads
//! are served only from the output folders, by a relative path without `..`. Every
//! state-changing action is appended to [`ACTION_LOG`] beside the ledger.
//!
//! Pages: one file per group ([`uebersicht`], [`gemeinde`], [`auswertung`], [`eingang`],
//! [`zahlungslauf`], [`konto`], [`mahnen`], [`stammdaten`]); [`page`] holds the layout.

pub mod auswertung;
pub mod eingang;
pub mod gemeinde;
pub mod konto;
pub mod mahnen;
pub mod page;
pub mod stammdaten;
pub mod uebersicht;
pub mod zahlungslauf;

use crate::evaluate::Evaluation;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The file beside the ledger to which every state-changing action is appended.
pub const ACTION_LOG: &str = "beitraege-web-aktionen.log";
/// The session cookie's name.
pub const COOKIE: &str = "beitraege_sitzung";

/// What `beitraege web` needs: the data options of `run` and `zahlungslauf`, the port, and
/// the person (the operating-system account running the server, or why it is unknown).
#[derive(Debug, Clone)]
pub struct WebOptions {
    pub year: i32,
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    /// The output root: `run` writes into `<root>/<Jahr>`, payout runs below
    /// `<root>/zahlungslauf`, statements below `<root>/konto`.
    pub out: PathBuf,
    pub ledger: PathBuf,
    /// The ledger was named (`--buchhaltung`): the annex then shows its sheet `Buchhaltung`,
    /// as `run --buchhaltung` does.
    pub ledger_given: bool,
    /// 0: any free port.
    pub port: u16,
    /// The person of the four-eyes rule, or the German reason why it cannot be determined.
    pub person: Result<String, String>,
}

impl WebOptions {
    /// The folder `run` writes the year into.
    pub fn run_out(&self) -> PathBuf {
        self.out.join(self.year.to_string())
    }
    /// The root of the payout runs' folders.
    pub fn payout_out(&self) -> PathBuf {
        self.out.join("zahlungslauf")
    }
    /// The root of the statements' folders.
    pub fn konto_out(&self) -> PathBuf {
        self.out.join("konto")
    }
    /// The root of the reminders' folders.
    pub fn mahnen_out(&self) -> PathBuf {
        self.out.join("mahnungen")
    }
    /// The action log beside the ledger.
    pub fn action_log(&self) -> PathBuf {
        self.ledger.parent().unwrap_or(Path::new(".")).join(ACTION_LOG)
    }
}

/// The evaluation the pages show, and the background job that makes it.
#[derive(Default)]
pub struct EvalState {
    /// The latest evaluation (from the start of the server, or from the last run).
    pub eval: Option<Arc<Evaluation>>,
    /// Why the latest evaluation failed (German).
    pub error: Option<String>,
    /// A job under way: (files read, files in the inbox), and whether it writes the outputs.
    pub running: Option<Job>,
    /// The outputs the last run wrote (relative paths), with its folder.
    pub written: Vec<String>,
    /// Milliseconds the last job took.
    pub last_ms: Option<u128>,
}

/// A job under way.
#[derive(Debug, Clone)]
pub struct Job {
    pub writes: bool,
    pub done: Arc<std::sync::atomic::AtomicUsize>,
    pub total: Arc<std::sync::atomic::AtomicUsize>,
}

/// The server's state: options, secrets, the evaluation.
pub struct App {
    pub opts: WebOptions,
    /// The one-time secret of the printed address (consumed by its first use).
    secret: Mutex<Option<String>>,
    session: String,
    csrf: String,
    /// The port the server is bound to (the Host header must name it).
    pub port: u16,
    pub eval: RwLock<EvalState>,
    /// Serialises the appends to the receipt journal and the action log within the server.
    pub write_lock: Mutex<()>,
}

pub type Shared = Arc<App>;

/// 32 random bytes as hex.
fn random_hex() -> Result<String, String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| format!("Keine Zufallszahlen vom Betriebssystem: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Comparison in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl App {
    /// A new state for a server bound to `port`, with fresh secrets.
    pub fn new(opts: WebOptions, port: u16) -> Result<Shared, String> {
        Ok(Arc::new(App {
            opts,
            secret: Mutex::new(Some(random_hex()?)),
            session: random_hex()?,
            csrf: random_hex()?,
            port,
            eval: RwLock::new(EvalState::default()),
            write_lock: Mutex::new(()),
        }))
    }
    /// The address to open: it carries the one-time secret.
    pub fn login_url(&self) -> String {
        let s = self.secret.lock().map(|s| s.clone().unwrap_or_default()).unwrap_or_default();
        format!("http://127.0.0.1:{}/anmelden/{s}", self.port)
    }
    /// The CSRF token every form carries.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
    /// The session cookie's value (for tests that act as the logged-in browser).
    pub fn session_cookie(&self) -> String {
        format!("{COOKIE}={}", self.session)
    }
    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let Some(h) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
        h == format!("127.0.0.1:{}", self.port) || h == format!("localhost:{}", self.port)
    }
    fn origin_ok(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
            None => true,
            Some(o) => o == format!("http://127.0.0.1:{}", self.port) || o == format!("http://localhost:{}", self.port),
        }
    }
    fn has_session(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && same(v, &self.session))
    }
    /// The person of the four-eyes rule, or the German message why there is none.
    pub fn person(&self) -> Result<String, String> {
        self.opts.person.clone()
    }
    /// Appends one line (time, person, action, result) to the action log.
    pub fn log_action(&self, action: &str, detail: &str, result: &str) {
        let _g = self.write_lock.lock();
        let person = self.opts.person.clone().unwrap_or_else(|_| "(unbekannt)".into());
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        let line = format!(
            "{}\t{}\t{}\t{}\t{}\n",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
            clean(&person),
            clean(action),
            clean(detail),
            clean(result)
        );
        let path = self.opts.action_log();
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
            Ok(mut f) => {
                let _ = f.write_all(line.as_bytes());
            }
            Err(e) => tracing::warn!("Aktionsprotokoll {} nicht schreibbar: {e}", path.display()),
        }
    }
}

/// The German page for a refused request (403).
fn forbidden(why: &str) -> Response {
    let body = page::bare(
        "Kein Zugang",
        &format!(
            "{why} Bitte die Adresse verwenden, die «beitraege web» beim Start ausgibt (sie öffnet sich im Browser)."
        ),
    );
    (StatusCode::FORBIDDEN, body).into_response()
}

/// The security layer in front of every route: Host, session cookie, methods, CSRF token;
/// then the response headers that keep the pages out of frames and caches.
async fn guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    if !app.host_ok(req.headers()) {
        return forbidden("Unbekannter Host.");
    }
    let login = req.uri().path().starts_with("/anmelden/");
    if !login && !app.has_session(req.headers()) {
        return forbidden("Keine gültige Sitzung.");
    }
    match *req.method() {
        Method::GET | Method::HEAD => {}
        Method::POST => {
            let token = req
                .uri()
                .query()
                .unwrap_or("")
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "csrf")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            if !same(&token, &app.csrf) || !app.origin_ok(req.headers()) {
                return forbidden("Die Anfrage trägt kein gültiges Formular-Kennzeichen (CSRF).");
            }
        }
        _ => {
            return (StatusCode::METHOD_NOT_ALLOWED, page::bare("Nicht erlaubt", "Diese Anfrage ist nicht erlaubt."))
                .into_response()
        }
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    // `same-origin`: the browser sends its Origin on a POST (with `no-referrer` it sends
    // `null`), and the CSRF token in a form's address never leaves the server.
    set(h, "referrer-policy", "same-origin");
    set(h, "cache-control", "no-store");
    resp
}

/// `GET /anmelden/<secret>`: the printed address. Its first use sets the session cookie.
async fn login(State(app): State<Shared>, UrlPath(secret): UrlPath<String>, headers: HeaderMap) -> Response {
    if app.has_session(&headers) {
        return Redirect::to("/").into_response();
    }
    let ok = {
        let mut s = match app.secret.lock() {
            Ok(s) => s,
            Err(_) => return forbidden("Interner Fehler."),
        };
        match s.as_deref() {
            Some(x) if same(x, &secret) => {
                *s = None;
                true
            }
            _ => false,
        }
    };
    if !ok {
        return forbidden("Diese Anmeldeadresse ist ungültig oder wurde schon verwendet.");
    }
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", app.session);
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The style sheet (the only static file).
async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], page::CSS).into_response()
}

/// Every route. The upload limit of the inbox is the only larger body.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(uebersicht::page))
        .route("/anmelden/{secret}", get(login))
        .route("/stil.css", get(css))
        .route("/uebersicht.xlsx", get(uebersicht::xlsx))
        .route("/befunde", get(uebersicht::befunde))
        .route("/gemeinde/{bfs}", get(gemeinde::page))
        .route("/auswertung", get(auswertung::page))
        .route("/auswertung/starten", post(auswertung::start))
        .route("/auswertung/briefe.zip", get(auswertung::letters_zip))
        .route("/datei/{bereich}/{*pfad}", get(download))
        .route("/eingang", get(eingang::page))
        .route(
            "/eingang/hochladen",
            post(eingang::upload).layer(axum::extract::DefaultBodyLimit::max(eingang::MAX_BODY)),
        )
        .route("/zahlungslauf", get(zahlungslauf::page))
        .route("/zahlungslauf/entwurf", post(zahlungslauf::preview))
        .route("/zahlungslauf/buchen", post(zahlungslauf::book))
        .route("/zahlungslauf/freigeben", post(zahlungslauf::release))
        .route("/zahlungslauf/storno", post(zahlungslauf::reverse))
        .route("/mahnen", get(mahnen::page))
        .route("/mahnen/schreiben", post(mahnen::write))
        .route("/konto", get(konto::page))
        .route("/konto/auszug", post(konto::statement_route))
        .route("/konto/zahlung", post(konto::receipt))
        .route("/konto/zahlung-storno", post(konto::reverse_receipt))
        .route("/pruefen", get(konto::verify))
        .route("/stammdaten", get(stammdaten::page))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, page::bare("Nicht gefunden", "Diese Seite gibt es nicht.")).into_response()
}

/// The folders downloads are served from, by name in the URL.
fn area_root(app: &App, area: &str) -> Option<PathBuf> {
    match area {
        "auswertung" => Some(app.opts.run_out()),
        "zahlungslauf" => Some(app.opts.payout_out()),
        "konto" => Some(app.opts.konto_out()),
        "mahnen" => Some(app.opts.mahnen_out()),
        _ => None,
    }
}

/// A relative path of plain names: no root, no `..`, no `.`, no backslash, no control or
/// bidi characters. `None` otherwise.
pub fn safe_rel(rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.contains(['\\', ':']) || rel.chars().any(bad_char) {
        return None;
    }
    let mut out = PathBuf::new();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return None;
        }
        out.push(part);
    }
    // Belt and braces: what the platform makes of it is plain names only.
    out.components().all(|c| matches!(c, Component::Normal(_))).then_some(out)
}

/// Control characters and the bidirectional formatting characters (which can disguise a
/// file name's extension).
pub fn bad_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `GET /datei/<bereich>/<pfad>`: a file of an output folder, as a download.
async fn download(State(app): State<Shared>, UrlPath((area, rel)): UrlPath<(String, String)>) -> Response {
    let Some(root) = area_root(&app, &area) else { return not_found().await };
    let Some(rel) = safe_rel(&rel) else {
        return (StatusCode::BAD_REQUEST, page::bare("Ungültiger Dateiname", "Dieser Dateiname ist nicht zulässig."))
            .into_response();
    };
    let path = root.join(&rel);
    // The file must lie in the folder also after links are resolved.
    let inside = match (std::fs::canonicalize(&root), std::fs::canonicalize(&path)) {
        (Ok(r), Ok(p)) => p.starts_with(&r) && p.is_file(),
        _ => false,
    };
    if !inside {
        return not_found().await;
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let name = rel.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            file_response(&name, bytes)
        }
        Err(_) => not_found().await,
    }
}

/// The content type by extension.
fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "xml" => "application/xml",
        "csv" => "text/csv; charset=utf-8",
        "zip" => "application/zip",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

/// `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name as
/// `filename*` (RFC 6266, RFC 5987).
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| match c {
            'ä' => "ae".to_string(),
            'ö' => "oe".to_string(),
            'ü' => "ue".to_string(),
            'Ä' => "Ae".to_string(),
            'Ö' => "Oe".to_string(),
            'Ü' => "Ue".to_string(),
            c if c.is_ascii_alphanumeric() || "._- ()".contains(c) => c.to_string(),
            _ => "_".to_string(),
        })
        .collect();
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{enc}")
}

/// A download response.
pub fn file_response(name: &str, bytes: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Runs blocking library work off the server's threads; a panic becomes a German message.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => {
            Err("Interner Fehler: die Arbeit wurde abgebrochen. Bitte die Eingaben prüfen und erneut versuchen.".into())
        }
    }
}

/// An error with its causes, each said once (as the command line prints it).
pub fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        let s = c.to_string();
        if !text.contains(s.as_str()) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&s);
        }
        cur = c.source();
    }
    text
}

/// Starts the in-memory evaluation of the year in the background (nothing is written), so
/// the pages have data. Returns at once.
pub fn start_evaluation(app: &Shared, write: bool) -> bool {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let job = Job { writes: write, done: Arc::new(AtomicUsize::new(0)), total: Arc::new(AtomicUsize::new(0)) };
    {
        let Ok(mut st) = app.eval.write() else { return false };
        if st.running.is_some() {
            return false;
        }
        st.running = Some(job.clone());
    }
    let app2 = app.clone();
    let (done, total) = (job.done.clone(), job.total.clone());
    let progress = crate::evaluate::Progress(Arc::new(move |d, t| {
        done.store(d, Ordering::Relaxed);
        total.store(t, Ordering::Relaxed);
    }));
    let opts = auswertung::run_options(&app.opts, Some(progress));
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if write {
                crate::run::run(&opts).map(|r| (r.eval, r.written))
            } else {
                crate::evaluate::evaluate(&opts).map(|e| (e, Vec::new()))
            }
        }));
        let ms = started.elapsed().as_millis();
        let (outcome, log) = match result {
            Ok(Ok((eval, written))) => {
                let n = written.len();
                (Ok((eval, written)), format!("{n} Dateien geschrieben"))
            }
            Ok(Err(e)) => {
                let t = error_text(&e);
                (Err(t.clone()), format!("Fehler: {t}"))
            }
            Err(_) => {
                let t = "Interner Fehler bei der Auswertung.".to_string();
                (Err(t.clone()), t)
            }
        };
        if write {
            app2.log_action("Auswertung", &format!("Jahr {}", app2.opts.year), &log);
        }
        if let Ok(mut st) = app2.eval.write() {
            st.running = None;
            st.last_ms = Some(ms);
            match outcome {
                Ok((eval, written)) => {
                    st.eval = Some(Arc::new(eval));
                    st.error = None;
                    if write {
                        st.written = written;
                    }
                }
                Err(t) => st.error = Some(t),
            }
        }
    });
    true
}

/// Binds 127.0.0.1:`port`, prints the address with the secret as the first line of standard
/// output, opens the browser unless told not to, evaluates the year in the background, and
/// serves until the process ends.
pub fn serve(opts: WebOptions, open_browser: bool) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("Der Server kann nicht gestartet werden: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|e| format!("Der Port {} auf 127.0.0.1 ist nicht verfügbar: {e}", opts.port))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let app = App::new(opts, port)?;
        let url = app.login_url();
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{url}");
            let _ = out.flush();
        }
        eprintln!("beitraege web: Die Seiten sind unter der obigen Adresse erreichbar (nur auf diesem Rechner). Beenden mit Ctrl+C.");
        start_evaluation(&app, false);
        if open_browser {
            open_in_browser(&url);
        }
        axum::serve(listener, router(app)).await.map_err(|e| format!("Der Server wurde beendet: {e}"))
    })
}

/// Opens `url` in the default browser (best effort; the address is printed anyway).
fn open_in_browser(url: &str) {
    #[cfg(target_os = "windows")]
    let r = std::process::Command::new("explorer").arg(url).spawn();
    #[cfg(target_os = "macos")]
    let r = std::process::Command::new("open").arg(url).spawn();
    #[cfg(all(unix, not(target_os = "macos")))]
    let r = std::process::Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if r.is_err() {
        eprintln!("Der Browser konnte nicht geöffnet werden; bitte die Adresse oben öffnen.");
    }
}

/// A German error page with status `code`, inside the layout.
pub fn error_page(app: &App, code: StatusCode, title: &str, message: &str) -> Response {
    (code, page::layout(app, title, "", page::message_box("fehler", message))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_carries_umlauts_as_filename_star() {
        assert_eq!(
            content_disposition("Rückmeldung Grünen.pdf"),
            "attachment; filename=\"Rueckmeldung Gruenen.pdf\"; filename*=UTF-8''R%C3%BCckmeldung%20Gr%C3%BCnen.pdf"
        );
    }

    #[test]
    fn safe_rel_refuses_traversal_and_odd_names() {
        assert!(safe_rel("Rueckmeldungen/2601_Solothurn.pdf").is_some());
        for bad in ["../x", "a/../b", "/etc/passwd", "a\\b", "", ".", "a/./b", "x\u{202e}fdp.exe", "a\nb"] {
            assert!(safe_rel(bad).is_none(), "{bad:?}");
        }
    }
}
