//! The layout every page shares: navigation, the style sheet (screen and print), messages,
//! and the forms' CSRF token. No JavaScript.

use super::App;
use axum::response::Html;
use maud::{html, Markup, DOCTYPE};

/// The style sheet: plain, readable, keyboard focus visible, print without navigation.
pub const CSS: &str = r#"
body{font-family:system-ui,"Segoe UI",Arial,sans-serif;margin:0;color:#111;background:#fff;font-size:15px}
header{background:#1f3b5a;color:#fff;padding:.4em 1em}
header a{color:#fff;margin-right:1em;text-decoration:none;padding:.2em .3em}
header a.aktiv{border-bottom:3px solid #ffd54a}
header .wer{float:right;font-size:.9em}
main{padding:1em}
h1{font-size:1.4em;margin:.2em 0 .6em}
h2{font-size:1.15em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0}
th,td{border:1px solid #bbb;padding:.2em .45em;vertical-align:top}
th{background:#eef2f6;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fehler td,td.fehler{background:#fde2e1}
td.warnung{background:#fff3cd}
:target{outline:3px solid #b71c1c}
.meldung{padding:.6em 1em;margin:.6em 0;border-left:5px solid}
.meldung.fehler{background:#fde2e1;border-color:#b71c1c}
.meldung.ok{background:#e3f4e4;border-color:#2e7d32}
.meldung.hinweis{background:#eef2f6;border-color:#1f3b5a}
form.zeile{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin:.6em 0}
label{display:flex;flex-direction:column;font-size:.9em}
input,select,button{font-size:1em;padding:.2em .4em}
button{background:#1f3b5a;color:#fff;border:0;padding:.35em .9em;cursor:pointer}
button.gefahr{background:#b71c1c}
:focus-visible{outline:3px solid #ffb300;outline-offset:2px}
.summe{display:flex;gap:2em;flex-wrap:wrap;margin:.4em 0 1em}
.summe div{background:#eef2f6;padding:.4em .8em}
progress{width:20em;height:1.2em}
@media print{header,form,.nicht-drucken{display:none}body{font-size:10pt}main{padding:0}a{color:#000;text-decoration:none}}
"#;

/// The navigation: path and German label.
const NAV: &[(&str, &str)] = &[
    ("/", "Übersicht"),
    ("/befunde", "Befunde"),
    ("/eingang", "Eingang"),
    ("/auswertung", "Auswertung"),
    ("/mahnen", "Mahnen"),
    ("/zahlungslauf", "Zahlungslauf"),
    ("/konto", "Konto"),
    ("/stammdaten", "Stammdaten"),
    ("/pruefen", "Prüfen"),
];

/// A whole page: title, the active navigation entry, and the body.
pub fn layout(app: &App, title: &str, active: &str, body: Markup) -> Html<String> {
    layout_refreshing(app, title, active, None, body)
}

/// A page that reloads itself every `refresh` seconds (a job's progress, without JavaScript).
pub fn layout_refreshing(app: &App, title: &str, active: &str, refresh: Option<u32>, body: Markup) -> Html<String> {
    let person = app.person().unwrap_or_else(|_| "Person unbekannt".into());
    Html(
        html! {
            (DOCTYPE)
            html lang="de" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " – Beiträge start.integration" }
                    link rel="stylesheet" href="/stil.css";
                    @if let Some(s) = refresh { meta http-equiv="refresh" content=(s); }
                }
                body {
                    header {
                        span.wer { "Jahr " (app.opts.year) " · angemeldet als " strong { (person) } }
                        nav aria-label="Hauptnavigation" {
                            @for (href, label) in NAV {
                                a href=(href) class=[(*href == active).then_some("aktiv")] { (label) }
                            }
                        }
                    }
                    main { h1 { (title) } (body) }
                }
            }
        }
        .into_string(),
    )
}

/// A page outside the session (403, 404): no navigation, no data.
pub fn bare(title: &str, message: &str) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="de" {
                head { meta charset="utf-8"; title { (title) } }
                body { h1 { (title) } p { (message) } }
            }
        }
        .into_string(),
    )
}

/// A message box: `kind` is `fehler`, `ok` or `hinweis`.
pub fn message_box(kind: &str, text: &str) -> Markup {
    html! { div class={"meldung " (kind)} role=(if kind == "fehler" { "alert" } else { "status" }) {
        @for line in text.lines() { (line) br; }
    } }
}

/// The action of a POST form: the path with the CSRF token.
pub fn action(app: &App, path: &str) -> String {
    format!("{path}?csrf={}", app.csrf())
}

/// A link to a download of an output folder.
pub fn file_link(area: &str, rel: &str) -> Markup {
    let href: String = format!("/datei/{area}/{}", rel.split('/').map(url_component).collect::<Vec<_>>().join("/"));
    html! { a href=(href) { (rel) } }
}

/// Percent-encodes one path component or query value.
pub fn url_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An amount in CHF as the documents print it.
pub fn chf(d: crate::domain::Chf) -> String {
    crate::domain::chf_text(d)
}

/// An optional date as `TT.MM.JJJJ`.
pub fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(crate::domain::fmt_date).unwrap_or_default()
}

/// Parses a date from a form: `TT.MM.JJJJ` or the browser's `JJJJ-MM-TT`.
pub fn parse_form_date(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| crate::values::parse_date_text(s))
}
