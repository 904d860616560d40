//! `beitraege web` without a browser: every route's security, in process (the router
//! answers `tower::ServiceExt::oneshot` requests, no network). No session cookie → 403,
//! a wrong Host → 403, a POST without the CSRF token → 403, a GET changes no file, and
//! traversal in downloads and uploads is refused. Statuses and bytes are asserted, never
//! wording.
#![cfg(feature = "web")]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use beitraege::web::{router, App, Shared, WebOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

const PORT: u16 = 18123;
const HOST: &str = "127.0.0.1:18123";

/// Every GET route (with a parameter where one is needed).
const GETS: &[&str] = &[
    "/",
    "/stil.css",
    "/uebersicht.xlsx",
    "/befunde",
    "/gemeinde/2401",
    "/auswertung",
    "/auswertung/briefe.zip",
    "/datei/auswertung/Befunde_2023.xlsx",
    "/eingang",
    "/zahlungslauf",
    "/konto",
    "/mahnen",
    "/pruefen",
    "/stammdaten",
];

/// Every POST route.
const POSTS: &[&str] = &[
    "/auswertung/starten",
    "/eingang/hochladen",
    "/zahlungslauf/entwurf",
    "/zahlungslauf/buchen",
    "/zahlungslauf/freigeben",
    "/zahlungslauf/storno",
    "/konto/auszug",
    "/konto/zahlung",
    "/konto/zahlung-storno",
    "/mahnen/schreiben",
];

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    app: Shared,
}

/// A server state over a copy of nothing: an empty inbox, the sample master data, an output
/// root in a temporary folder.
fn fixture(person: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let inbox = root.join("eingang");
    std::fs::create_dir_all(&inbox).unwrap();
    let out = root.join("out");
    let opts = WebOptions {
        year: 2023,
        inbox,
        stammdaten: Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/2023/Stammdaten.xlsx"),
        ledger: out.join("buchhaltung.sqlite"),
        ledger_given: false,
        out,
        port: PORT,
        person: Ok(person.to_string()),
    };
    let app = App::new(opts, PORT).unwrap();
    Fixture { _dir: dir, root, app }
}

fn req(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

async fn send(app: &Shared, r: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = router(app.clone()).oneshot(r).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec();
    (status, headers, body)
}

/// A request as the logged-in browser sends it.
fn browser(method: &str, uri: &str, app: &Shared) -> axum::http::request::Builder {
    req(method, uri).header(header::HOST, HOST).header(header::COOKIE, app.session_cookie())
}

fn with_csrf(path: &str, app: &Shared) -> String {
    format!("{path}?csrf={}", app.csrf())
}

/// Every file below `root` with its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_without_the_session_cookie_is_403() {
    let f = fixture("anna");
    for path in GETS {
        let (s, _, _) = send(&f.app, req("GET", path).header(header::HOST, HOST).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "GET {path}");
    }
    for path in POSTS {
        let uri = with_csrf(path, &f.app);
        let (s, _, _) = send(&f.app, req("POST", &uri).header(header::HOST, HOST).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "POST {path}");
    }
    // A wrong cookie value is no session either.
    let (s, _, _) = send(
        &f.app,
        req("GET", "/")
            .header(header::HOST, HOST)
            .header(header::COOKIE, "beitraege_sitzung=00")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(snapshot(&f.root).keys().all(|p| !p.starts_with(f.root.join("out"))));
}

#[tokio::test]
async fn every_route_with_a_wrong_host_is_403() {
    let f = fixture("anna");
    for host in ["evil.example:18123", "127.0.0.1:80", "localhost", "127.0.0.1:181230", ""] {
        for path in GETS {
            let r = req("GET", path).header(header::HOST, host).header(header::COOKIE, f.app.session_cookie());
            let (s, _, _) = send(&f.app, r.body(Body::empty()).unwrap()).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "GET {path} Host {host}");
        }
        for path in POSTS {
            let uri = with_csrf(path, &f.app);
            let r = req("POST", &uri).header(header::HOST, host).header(header::COOKIE, f.app.session_cookie());
            let (s, _, _) = send(&f.app, r.body(Body::empty()).unwrap()).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "POST {path} Host {host}");
        }
    }
    // No Host header at all.
    let r = req("GET", "/").header(header::COOKIE, f.app.session_cookie());
    assert_eq!(send(&f.app, r.body(Body::empty()).unwrap()).await.0, StatusCode::FORBIDDEN);
    // localhost:<port> is the other name of the same server.
    let r =
        req("GET", "/stil.css").header(header::HOST, "localhost:18123").header(header::COOKIE, f.app.session_cookie());
    assert_eq!(send(&f.app, r.body(Body::empty()).unwrap()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn every_post_without_or_with_a_wrong_csrf_token_is_403_and_changes_nothing() {
    let f = fixture("anna");
    let before = snapshot(&f.root);
    let form = "stichtag=2023-03-31&ab_jahr=2023&grund=x&rechnung=2023-0001&betrag=1&datum=2023-10-20&id=abcdefgh";
    for path in POSTS {
        for uri in [path.to_string(), format!("{path}?csrf="), format!("{path}?csrf=00{}", &f.app.csrf()[2..])] {
            let r = browser("POST", &uri, &f.app).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let (s, _, _) = send(&f.app, r.body(Body::from(form)).unwrap()).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "POST {uri}");
        }
        // The right token from a foreign page (Origin) is refused too.
        let r = browser("POST", &with_csrf(path, &f.app), &f.app)
            .header(header::ORIGIN, "http://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        assert_eq!(send(&f.app, r.body(Body::from(form)).unwrap()).await.0, StatusCode::FORBIDDEN, "Origin {path}");
    }
    assert_eq!(snapshot(&f.root), before);
    // Other methods are not allowed at all.
    for m in ["PUT", "DELETE", "PATCH"] {
        let r = browser(m, &with_csrf("/eingang/hochladen", &f.app), &f.app);
        assert_eq!(send(&f.app, r.body(Body::empty()).unwrap()).await.0, StatusCode::METHOD_NOT_ALLOWED, "{m}");
    }
}

#[tokio::test]
async fn the_login_address_works_once_and_sets_a_strict_httponly_cookie() {
    let f = fixture("anna");
    let url = f.app.login_url();
    let path = url.strip_prefix(&format!("http://{HOST}")).unwrap().to_string();
    assert!(path.starts_with("/anmelden/") && path.len() == "/anmelden/".len() + 64, "{path}");
    // A wrong Host is refused before the secret is looked at (and does not consume it).
    let (s, _, _) =
        send(&f.app, req("GET", &path).header(header::HOST, "evil.example").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) =
        send(&f.app, req("GET", "/anmelden/falsch").header(header::HOST, HOST).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, h, _) = send(&f.app, req("GET", &path).header(header::HOST, HOST).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let cookie = h.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert_eq!(cookie, format!("{}; HttpOnly; SameSite=Strict; Path=/", f.app.session_cookie()));
    // The cookie opens the pages; the address does not open a second session.
    let r = req("GET", "/stil.css").header(header::HOST, HOST).header(header::COOKIE, f.app.session_cookie());
    assert_eq!(send(&f.app, r.body(Body::empty()).unwrap()).await.0, StatusCode::OK);
    let (s, h, _) = send(&f.app, req("GET", &path).header(header::HOST, HOST).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(h.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn responses_forbid_frames_caches_and_scripts() {
    let f = fixture("anna");
    let (s, h, _) = send(&f.app, browser("GET", "/eingang", &f.app).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "same-origin");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none';") && !csp.contains("script-src"), "{csp}");
}

/// A fixture with the sample year evaluated in memory (as the server does on start).
fn evaluated(person: &str) -> Fixture {
    let f = fixture(person);
    let mut ro = beitraege::web::auswertung::run_options(&f.app.opts, None);
    ro.inbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/2023/inbox");
    let e = beitraege::evaluate::evaluate(&ro).unwrap();
    f.app.eval.write().unwrap().eval = Some(std::sync::Arc::new(e));
    f
}

#[tokio::test]
async fn no_get_changes_a_file() {
    let f = evaluated("anna");
    // Something to download, a ledger to read.
    let run_out = f.app.opts.run_out();
    std::fs::create_dir_all(run_out.join("Rueckmeldungen")).unwrap();
    std::fs::write(run_out.join("Befunde_2023.xlsx"), b"xlsx").unwrap();
    std::fs::write(run_out.join("Rueckmeldungen/2401_Egerkingen.pdf"), b"%PDF").unwrap();
    let mut l = beitraege::ledger::Ledger::open(&f.app.opts.ledger).unwrap();
    l.set_person("anna");
    drop(l);
    let before = snapshot(&f.root);
    for path in GETS.iter().chain(&["/?fehler=1&sort=beitrag&ab=1", "/befunde?schwere=Fehler", "/konto?gemeinde=2401"])
    {
        let (s, _, _) = send(&f.app, browser("GET", path, &f.app).body(Body::empty()).unwrap()).await;
        assert!(s == StatusCode::OK, "GET {path}: {s}");
    }
    assert_eq!(snapshot(&f.root), before);
}

#[tokio::test]
async fn downloads_serve_the_bytes_with_filename_star_and_refuse_traversal() {
    let f = fixture("anna");
    let run_out = f.app.opts.run_out();
    std::fs::create_dir_all(run_out.join("Rueckmeldungen")).unwrap();
    let bytes = b"%PDF-1.7 Inhalt \x00\x01\x02".to_vec();
    std::fs::write(run_out.join("Rueckmeldungen/2534_Zuchwil Äsch.pdf"), &bytes).unwrap();
    std::fs::write(f.root.join("out/geheim.txt"), b"secret").unwrap();
    std::fs::write(f.root.join("geheim.txt"), b"secret").unwrap();
    let (s, h, body) = send(
        &f.app,
        browser("GET", "/datei/auswertung/Rueckmeldungen/2534_Zuchwil%20%C3%84sch.pdf", &f.app)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, bytes);
    assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        "attachment; filename=\"2534_Zuchwil Aesch.pdf\"; filename*=UTF-8''2534_Zuchwil%20%C3%84sch.pdf"
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(f.root.join("geheim.txt"), run_out.join("link.txt")).unwrap();
    for bad in [
        "/datei/auswertung/..%2Fgeheim.txt",
        "/datei/auswertung/..%2F..%2Fgeheim.txt",
        "/datei/auswertung/Rueckmeldungen/..%2F..%2Fgeheim.txt",
        "/datei/auswertung/%2Fetc%2Fpasswd",
        "/datei/auswertung/..%5C..%5Cgeheim.txt",
        "/datei/auswertung/.%2FRueckmeldungen",
        "/datei/auswertung/link.txt",
        "/datei/auswertung/Rueckmeldungen",
        "/datei/eingang/x.xlsx",
        "/datei/..%2F..%2Fgeheim.txt",
        "/datei/auswertung/C:%5Cgeheim.txt",
    ] {
        let (s, _, body) = send(&f.app, browser("GET", bad, &f.app).body(Body::empty()).unwrap()).await;
        assert!(s == StatusCode::NOT_FOUND || s == StatusCode::BAD_REQUEST, "{bad}: {s}");
        assert!(!body.windows(6).any(|w| w == b"secret"), "{bad}");
    }
}

/// A multipart body with the files (name, bytes) and the receipt date.
fn multipart(files: &[(&str, &[u8])], date: &str) -> (String, Vec<u8>) {
    let b = "----grenzeXYZ";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"eingangsdatum\"\r\n\r\n{date}\r\n").as_bytes(),
    );
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"dateien\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn upload(f: &Fixture, files: &[(&str, &[u8])], date: &str) -> StatusCode {
    let (ct, body) = multipart(files, date);
    let r = browser("POST", &with_csrf("/eingang/hochladen", &f.app), &f.app).header(header::CONTENT_TYPE, ct);
    send(&f.app, r.body(Body::from(body)).unwrap()).await.0
}

#[tokio::test]
async fn uploads_never_overwrite_and_write_the_receipt_date() {
    let f = fixture("anna");
    let inbox = f.app.opts.inbox.clone();
    assert_eq!(upload(&f, &[("H1 Zuchwil.xlsx", b"eins"), ("SD.xlsx", b"zwei")], "2024-01-15").await, StatusCode::OK);
    assert_eq!(upload(&f, &[("H1 Zuchwil.xlsx", b"drei")], "16.01.2024").await, StatusCode::OK);
    assert_eq!(std::fs::read(inbox.join("H1 Zuchwil.xlsx")).unwrap(), b"eins");
    assert_eq!(std::fs::read(inbox.join("H1 Zuchwil (2).xlsx")).unwrap(), b"drei");
    assert_eq!(std::fs::read(inbox.join("SD.xlsx")).unwrap(), b"zwei");
    assert_eq!(
        std::fs::read_to_string(inbox.join("Eingangsjournal.csv")).unwrap(),
        "Datei;Eingangsdatum\nH1 Zuchwil.xlsx;15.01.2024\nSD.xlsx;15.01.2024\nH1 Zuchwil (2).xlsx;16.01.2024\n"
    );
    let log = std::fs::read_to_string(f.root.join("out").join(beitraege::web::ACTION_LOG)).unwrap();
    assert_eq!(log.lines().count(), 2);
    assert!(log.lines().all(|l| l.split('\t').nth(1) == Some("anna")));
}

#[tokio::test]
async fn uploads_with_paths_or_odd_names_are_refused_whole() {
    let f = fixture("anna");
    let before = snapshot(&f.root);
    for bad in [
        "../evil.xlsx",
        "..\\evil.xlsx",
        "sub/evil.xlsx",
        "/tmp/evil.xlsx",
        "C:evil.xlsx",
        "rechnung\u{202e}xslx.exe",
        "a\u{2066}b.xlsx",
        "zeile\u{1}.xlsx",
        ".versteckt.xlsx",
        "Eingangsjournal.csv",
        "..",
    ] {
        // A refused name refuses the whole upload, the good file with it.
        let s = upload(&f, &[("gut.xlsx", b"gut"), (bad, b"boese")], "2024-01-15").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    // A date in the future or not a date.
    assert_eq!(upload(&f, &[("gut.xlsx", b"gut")], "2999-01-01").await, StatusCode::BAD_REQUEST);
    assert_eq!(upload(&f, &[("gut.xlsx", b"gut")], "gestern").await, StatusCode::BAD_REQUEST);
    assert_eq!(upload(&f, &[], "2024-01-15").await, StatusCode::BAD_REQUEST);
    // Nothing stored; only the action log (beside the ledger) records the refusals.
    let after = snapshot(&f.root);
    let log = f.root.join("out").join(beitraege::web::ACTION_LOG);
    let mut without_log = after.clone();
    without_log.remove(&log);
    assert_eq!(without_log, before);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 14);
}

#[tokio::test]
async fn an_upload_over_the_limits_is_refused() {
    let f = fixture("anna");
    let big = vec![b'x'; beitraege::web::eingang::MAX_FILE + 1];
    assert_eq!(upload(&f, &[("gross.xlsx", &big)], "2024-01-15").await, StatusCode::BAD_REQUEST);
    let many: Vec<(String, &[u8])> =
        (0..=beitraege::web::eingang::MAX_FILES).map(|i| (format!("f{i}.xlsx"), b"x" as &[u8])).collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    assert_eq!(upload(&f, &many, "2024-01-15").await, StatusCode::BAD_REQUEST);
    assert_eq!(std::fs::read_dir(&f.app.opts.inbox).unwrap().count(), 0);
}

#[tokio::test]
async fn the_same_person_cannot_release_what_it_booked_and_another_can() {
    // Two servers over the same ledger, run by two accounts (as two persons would start them).
    let a = fixture("anna");
    let inbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/2023/inbox");
    let mut o = a.app.opts.clone();
    o.inbox = inbox.clone();
    let anna = App::new(o.clone(), PORT).unwrap();
    o.person = Ok("bruno".into());
    let bruno = App::new(o, PORT).unwrap();
    let form = "stichtag=2023-03-31&ab_jahr=2023&grund=";
    let post = |app: &Shared, path: &str| {
        browser("POST", &with_csrf(path, app), app)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    assert_eq!(send(&anna, post(&anna, "/zahlungslauf/buchen")).await.0, StatusCode::OK);
    let folder = a.app.opts.payout_out().join("2023-03-31");
    assert!(folder.join("Zahlungslauf_2023-03-31.xlsx").is_file());
    assert_eq!(send(&anna, post(&anna, "/zahlungslauf/freigeben")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!folder.join("pain001_2023-03-31.xml").exists());
    assert_eq!(send(&bruno, post(&bruno, "/zahlungslauf/freigeben")).await.0, StatusCode::OK);
    assert!(folder.join("pain001_2023-03-31.xml").is_file());
    // Booking the same Stichtag again is refused.
    assert_eq!(send(&anna, post(&anna, "/zahlungslauf/buchen")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let log = std::fs::read_to_string(a.root.join("out").join(beitraege::web::ACTION_LOG)).unwrap();
    let who: Vec<&str> = log.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(who, ["anna", "anna", "bruno", "anna"]);
}

/// `Mahnen` writes the reminders of a Stichtag through the library (a folder of the day); the
/// same day again writes nothing; a wrong date is refused; each call is in the action log.
#[tokio::test]
async fn the_reminders_are_written_once_a_day_from_the_page() {
    let f = fixture("anna");
    let mut o = f.app.opts.clone();
    o.inbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/2023/inbox");
    let app = App::new(o, PORT).unwrap();
    let post = |form: &'static str| {
        browser("POST", &with_csrf("/mahnen/schreiben", &app), &app)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    // 01.02.2023: the Selbstdeklarationen 2023 missing after 31.01.2023 (the sample lacks some).
    assert_eq!(send(&app, post("stichtag=2023-02-01&frist=14")).await.0, StatusCode::OK);
    let day = app.opts.mahnen_out().join("2023-02-01");
    assert!(std::fs::read_dir(day.join("Mahnungen")).unwrap().count() > 0);
    let (status, _, body) = send(&app, post("stichtag=2023-02-01&frist=14")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!app.opts.mahnen_out().join("2023-02-01_2").exists(), "nothing twice on one day");
    assert!(String::from_utf8_lossy(&body).contains("Keine Mahnung fällig"));
    assert_eq!(send(&app, post("stichtag=kein-datum")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let log = std::fs::read_to_string(f.root.join("out").join(beitraege::web::ACTION_LOG)).unwrap();
    assert_eq!(log.lines().filter(|l| l.split('\t').nth(2) == Some("Mahnen")).count(), 3);
}
