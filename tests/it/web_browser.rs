//! `beitraege web` in a real browser: Chromium driven through its WebDriver
//! (`/usr/bin/chromedriver`, Debian packages `chromium` and `chromium-driver`; nothing is
//! downloaded). Ignored in `cargo test` (a fresh machine lacks Chromium); `.ci/run` installs
//! the two packages and runs them with `--ignored`. They also take the README's screenshots
//! (`docs/img/web_*.png`).
//!
//! The walk: log in with the printed address, filter the Übersicht, open a municipality and
//! find the finding at its cell, upload a form, run the year, download the annex and compare
//! it with the command line's, preview and book a payout run (the same account's release is
//! refused; the release by a second account is covered in process by `tests/it/web.rs`), and
//! look at the ledger account.
#![cfg(feature = "web")]

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest a page is waited for (the year's evaluation in a debug build included).
const BROWSER_WAIT: u64 = 40;

/// A child process that is ended when the test ends (also on a failed assertion).
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Starts chromedriver on a port it chooses itself and waits for the line in which it says it
/// is listening (`ChromeDriver was started successfully on port N.`): an event, not a time.
fn chromedriver() -> (Kill, u16) {
    let mut child = Kill(
        Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) is needed for the browser tests"),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("started successfully on port ").nth(1).and_then(|p| p.trim_end_matches('.').parse().ok())
        })
        .expect("chromedriver did not start");
    // The rest of its output is drained, so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, port)
}

/// Starts `beitraege web` and reads the address from its first line.
fn server(inbox: &Path, out: &Path) -> (Kill, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_beitraege"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["web", "--kein-browser", "--port", "0", "--eingang"])
        .arg(inbox)
        .arg("--ausgabe")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.contains("/anmelden/"), "{url}");
    (Kill(child), url)
}

async fn browser(driver_port: u16) -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000", "--lang=de-CH"]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap()
}

/// A GET with the browser's session cookie, outside the browser (to compare bytes).
fn get_bytes(base: &str, path: &str, cookie: &str) -> (u16, Vec<u8>) {
    let hostport = base.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let mut s = std::net::TcpStream::connect(&hostport).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    // axum answers a file with Content-Length (no chunked encoding).
    (status, raw[split + 4..].to_vec())
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(Duration::from_secs(BROWSER_WAIT)).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let at = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let src = c.source().await.unwrap_or_default();
            panic!("{css} not found ({e}) on {at}:\n{}", src.chars().take(3000).collect::<String>());
        }
    }
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (Debian: chromium chromium-driver)"]
async fn staff_work_through_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inbox = tmp.path().join("eingang");
    copy_dir(&root.join("samples/2023/inbox"), &inbox);
    let out = tmp.path().join("out");
    let (_srv, url) = server(&inbox, &out);
    let base = url.split("/anmelden/").next().unwrap().to_string();
    let (_drv, dport) = chromedriver();
    let c = browser(dport).await;

    // Log in: the printed address lands on the Übersicht.
    c.goto(&url).await.unwrap();
    wait_for(&c, "table#uebersicht").await;
    let rows = c.find_all(Locator::Css("table#uebersicht tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 107);
    screenshot(&c, "web_uebersicht.png").await;

    // Filter: only municipalities with a Fehler; every row shown is marked.
    c.find(Locator::Css("input[name=fehler]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form.zeile button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "table#uebersicht").await;
    let shown = c.find_all(Locator::Css("table#uebersicht tbody tr")).await.unwrap();
    let marked = c.find_all(Locator::Css("table#uebersicht tbody tr.fehler")).await.unwrap();
    assert!(!shown.is_empty() && shown.len() < 107);
    assert_eq!(shown.len(), marked.len());

    // A municipality: the finding at its cell (Egerkingen's H2 form, Halbjahr in B7).
    c.goto(&format!("{base}/gemeinde/2401")).await.unwrap();
    let cell = wait_for(&c, "tr.fehler[id^='z-Reporting_2023_H2_Egerkingen']").await;
    let tds = cell.find_all(Locator::Css("td")).await.unwrap();
    assert_eq!(tds[1].text().await.unwrap(), "B7");
    assert_eq!(tds[2].text().await.unwrap(), "3");
    assert!(tds[3].text().await.unwrap().starts_with("PERIODE_UNGUELTIG"));
    // The link to the cell (as the Befunde page makes it) scrolls the form to it.
    let id = cell.attr("id").await.unwrap().unwrap();
    c.goto(&format!("{base}/gemeinde/2401#{id}")).await.unwrap();
    wait_for(&c, "tr.fehler:target").await;
    screenshot(&c, "web_gemeinde.png").await;

    // Upload a form (a copy of a sample form under a new name).
    let up = tmp.path().join("hochladen");
    std::fs::create_dir_all(&up).unwrap();
    let sample = root.join("samples/2023/inbox/2403 Kestenholz Reportingformular 1.HJ 2023.xlsx");
    std::fs::copy(&sample, up.join("Kestenholz H1 Korrektur.xlsx")).unwrap();
    c.goto(&format!("{base}/eingang")).await.unwrap();
    let input = wait_for(&c, "input[name=dateien]").await;
    input.send_keys(up.join("Kestenholz H1 Korrektur.xlsx").to_str().unwrap()).await.unwrap();
    c.find(Locator::Css("form[enctype] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, ".meldung.ok").await;
    assert_eq!(std::fs::read(inbox.join("Kestenholz H1 Korrektur.xlsx")).unwrap(), std::fs::read(&sample).unwrap());
    let journal = std::fs::read_to_string(inbox.join("Eingangsjournal.csv")).unwrap();
    assert!(journal.lines().any(|l| l.starts_with("Kestenholz H1 Korrektur.xlsx;")));

    // Run the year; the page refreshes itself until the outputs are listed.
    c.goto(&format!("{base}/auswertung")).await.unwrap();
    wait_for(&c, "form.zeile button[type=submit]").await.click().await.unwrap();
    wait_for(&c, "a[href='/auswertung/briefe.zip']").await;

    // The annex downloaded equals the command line's for the same inputs.
    let cookie = c.get_named_cookie("beitraege_sitzung").await.unwrap();
    let cookie = format!("beitraege_sitzung={}", cookie.value());
    let (status, annex) = get_bytes(&base, "/datei/auswertung/Anhang_1_Beitraege_2023.xlsx", &cookie);
    assert_eq!(status, 200);
    let cli_out = tmp.path().join("cli");
    let st = Command::new(env!("CARGO_BIN_EXE_beitraege"))
        .current_dir(root)
        .args(["run", "--eingang"])
        .arg(&inbox)
        .arg("--ausgabe")
        .arg(&cli_out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(annex, std::fs::read(cli_out.join("Anhang_1_Beitraege_2023.xlsx")).unwrap());
    assert_eq!(
        std::fs::read(out.join("2023/Anhang_1_Beitraege_2023.pdf")).unwrap(),
        std::fs::read(cli_out.join("Anhang_1_Beitraege_2023.pdf")).unwrap()
    );

    // Zahlungslauf: preview, book (the form's default Stichtag 31.03.2024, first year 2023).
    c.goto(&format!("{base}/zahlungslauf")).await.unwrap();
    wait_for(&c, "input[name=stichtag]").await;
    c.find(Locator::Css("button[formaction^='/zahlungslauf/buchen']")).await.unwrap().click().await.unwrap();
    wait_for(&c, "table#laeufe").await;
    let state = c.find(Locator::Css("table#laeufe tbody tr td:nth-child(6)")).await.unwrap().text().await.unwrap();
    assert_eq!(state, "ausstehend");
    assert!(PathBuf::from(&out).join("zahlungslauf/2024-03-31/Zahlungslauf_2024-03-31.xlsx").is_file());
    screenshot(&c, "web_zahlungslauf.png").await;
    // The same account's release is refused (four eyes); no payment file.
    c.find(Locator::Css("table#laeufe form button")).await.unwrap().click().await.unwrap();
    wait_for(&c, ".meldung.fehler").await;
    assert!(!out.join("zahlungslauf/2024-03-31/pain001_2024-03-31.xml").exists());

    // The ledger account: record a receipt on the run's invoice (its number and open amount
    // as the page shows them), value date today.
    c.goto(&format!("{base}/konto")).await.unwrap();
    let first = wait_for(&c, "table#rechnungen tbody tr").await;
    let tds = first.find_all(Locator::Css("td")).await.unwrap();
    let number = tds[0].text().await.unwrap();
    let open = tds[6].text().await.unwrap().replace('\'', "");
    assert_ne!(open, "0.00");
    c.find(Locator::Css("input[name=rechnung]")).await.unwrap().send_keys(&number).await.unwrap();
    c.find(Locator::Css("input[name=betrag]")).await.unwrap().send_keys(&open).await.unwrap();
    let today = chrono::Local::now().date_naive().format("%Y-%m-%d").to_string();
    c.execute("document.querySelector('input[name=datum]').value = arguments[0];", vec![serde_json::json!(today)])
        .await
        .unwrap();
    c.find(Locator::Css("form[action^='/konto/zahlung?'] button")).await.unwrap().click().await.unwrap();
    wait_for(&c, ".meldung.ok").await;
    let first = wait_for(&c, "table#rechnungen tbody tr").await;
    assert_eq!(first.find_all(Locator::Css("td")).await.unwrap()[6].text().await.unwrap(), "0.00");
    c.goto(&format!("{base}/konto?gemeinde=2401")).await.unwrap();
    wait_for(&c, "table#konto-laeufe").await;
    c.goto(&format!("{base}/pruefen")).await.unwrap();
    wait_for(&c, ".meldung.ok").await;

    c.close().await.unwrap();
}
