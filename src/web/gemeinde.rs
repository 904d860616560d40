//! Gemeinde: one municipality: its forms (the values read, each finding at its cell, the
//! form rebuilt as a table with the offending cells marked), its statement (computed, paid,
//! withheld and why), its letters and invoices, and a link to its ledger account.

use super::uebersicht::{cell_anchor, current};
use super::{page, Shared};
use crate::compute::{component_label, Item};
use crate::domain::{Bfs, Finding, Severity};
use crate::resolve::FileEntry;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

/// The label of a statement line.
fn item_label(item: &Item, year: i32) -> String {
    match item {
        Item::Sockel => format!("Sockelbeitrag {year}"),
        Item::Component { period, component } => format!("{}, {}", component_label(*component), period.label()),
        Item::NoReport { period } => format!("Fall- und Dolmetschpauschalen, {}", period.label()),
        Item::Clawback => format!("Rückforderung {year} (Ziffer 4.7)"),
    }
}

fn sev_class(f: &Finding) -> &'static str {
    match f.severity {
        Severity::Fehler => "fehler",
        Severity::Warnung => "warnung",
        Severity::Hinweis => "",
    }
}

/// One file of the municipality: state, receipt, findings, and the form rebuilt.
fn file_section(f: &FileEntry) -> Markup {
    let r = &f.result;
    let rel = r.rel();
    let at_cell = |sheet: &str, cell: &str| -> Vec<&Finding> {
        r.findings.iter().filter(|x| x.sheet() == Some(sheet) && x.cell().as_deref() == Some(cell)).collect()
    };
    html! {
        section {
            h3 { (rel) }
            p {
                (r.kind().map_or("kein Formular erkannt", |k| k.label())) " · Zustand: " strong { (f.state.as_str()) }
                " · Eingang: " (page::date(r.file.received))
                @if let Some(s) = &r.file.sha256 { " · SHA-256 " code { (s) } }
            }
            @if !r.findings.is_empty() {
                table {
                    thead { tr { th { "Blatt" } th { "Zelle" } th { "Code" } th { "Schwere" } th { "Meldung" } th { "Gefundener Wert" } th { "Korrektur" } } }
                    tbody { @for x in &r.findings {
                        tr { td { (x.sheet().unwrap_or("")) } td class=(sev_class(x)) { (x.cell().unwrap_or_default()) }
                             td { (x.code.as_str()) } td { (x.severity.label()) } td { (x.message) }
                             td { (x.value.as_deref().unwrap_or("")) } td { (x.fix) } }
                    } }
                }
            }
            @if let Some(form) = &r.submitted {
                table class="formular" {
                    caption { "Formular wie eingereicht (Blatt «" (form.sheet) "»)" }
                    thead { tr { th { "Feld" } th { "Zelle" } th { "Wert" } th { "Befund" } } }
                    tbody {
                        @for spec in crate::extract::fields_of(form.kind) {
                            @let field = form.field(spec.field);
                            @let cell = field.pos.as_ref().map(|p| p.a1());
                            @let sheet = field.pos.as_ref().map(|p| p.sheet.to_string()).unwrap_or_else(|| form.sheet.clone());
                            @let here = cell.as_deref().map(|c| at_cell(&sheet, c)).unwrap_or_default();
                            tr id=[cell.as_deref().map(|c| cell_anchor(rel, &sheet, c))]
                               class=[here.iter().map(|x| sev_class(x)).find(|c| !c.is_empty())] {
                                td { (spec.label) }
                                td { (cell.clone().unwrap_or_else(|| "nicht gefunden".into())) }
                                td { (field.value.display()) }
                                td { @for x in &here { (x.code.as_str()) ": " (x.message) br; } }
                            }
                        }
                    }
                }
                @if let Some(t) = &form.table {
                    table class="formular" {
                        caption { "Blatt «" (t.sheet) "»" }
                        thead { tr { @for col in crate::fields::TableColumn::ALL { th { (col.header()) } } } }
                        tbody { @for row in &t.rows {
                            tr { @for col in crate::fields::TableColumn::ALL {
                                @let field = row.get(col);
                                @let cell = field.pos.as_ref().map(|p| p.a1());
                                @let here = cell.as_deref().map(|c| at_cell(&t.sheet, c)).unwrap_or_default();
                                td id=[cell.as_deref().map(|c| cell_anchor(rel, &t.sheet, c))]
                                   class=[here.iter().map(|x| sev_class(x)).find(|c| !c.is_empty())]
                                   title=[(!here.is_empty()).then(|| here.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; "))] {
                                    (field.value.display())
                                }
                            } }
                        } }
                    }
                }
            }
        }
    }
}

/// The output files of the run that belong to municipality `bfs` (`<BFS>_…` in the folders
/// of letters, invoices and drafts).
fn documents_of(app: &super::App, bfs: Bfs) -> Vec<String> {
    let root = app.opts.run_out();
    let prefix = format!("{bfs}_");
    let mut out = Vec::new();
    for dir in ["Rueckmeldungen", "Rechnungen", "Entwuerfe"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(&prefix) && e.path().is_file() {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    out.sort();
    out
}

/// `GET /gemeinde/<bfs>`.
pub async fn page(State(app): State<Shared>, UrlPath(bfs): UrlPath<String>) -> Response {
    let e = match current(&app, "/") {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Some(row) = bfs.trim().parse::<Bfs>().ok().and_then(|b| e.comp.rows.iter().find(|r| r.bfs == b)) else {
        return super::error_page(
            &app,
            StatusCode::NOT_FOUND,
            "Gemeinde",
            &format!("«{bfs}» ist keine BFS-Nr. einer Gemeinde im Anhang {}.", e.year),
        );
    };
    let bfs = row.bfs;
    let files: Vec<&FileEntry> = e.resolved.files.iter().filter(|f| f.result.bfs() == Some(bfs)).collect();
    let whole: Vec<&Finding> = e.findings.iter().filter(|f| f.bfs == Some(bfs) && f.file.is_none()).collect();
    let docs = documents_of(&app, bfs);
    let body = html! {
        p { "Bezirk " (row.district) " · Zahlungsempfänger " (row.payee) " · Status: " strong { (row.status.label()) } }
        p.nicht-drucken { a href={"/konto?gemeinde=" (bfs)} { "Konto der Gemeinde in der Buchhaltung" } " · "
            a href={"/befunde?gemeinde=" (bfs)} { "Befunde der Gemeinde" } }
        h2 { "Abrechnung" }
        table id="abrechnung" {
            thead { tr { th { "Position" } th { "Anzahl" } th { "berechnet CHF" } th { "ausbezahlt CHF" } th { "zurückbehalten CHF" } th { "Grund" } } }
            tbody { @for l in &row.statement {
                tr class=[l.withheld.is_some_and(|w| !w.is_zero()).then_some("fehler")] {
                    td { (item_label(&l.item, e.year)) }
                    td.num { @if let Some(n) = l.count { (n) } }
                    td.num { @if let Some(c) = l.computed { (page::chf(c)) } }
                    td.num { (page::chf(l.paid)) }
                    td.num { @if let Some(w) = l.withheld { (page::chf(w)) } }
                    td { (l.reason_text()) }
                }
            } }
            tfoot { tr { th { "Total" } td {} td {} td.num { strong { (page::chf(row.total)) } }
                td.num { (page::chf(row.withheld_total().unwrap_or_default())) } td {} } }
        }
        @for n in &row.notes { p { (n.text()) } }
        h2 { "Formulare" }
        @if files.is_empty() { p { "Keine Datei dieser Gemeinde im Eingang." } }
        @for f in &files { (file_section(f)) }
        @if !whole.is_empty() {
            h2 { "Befunde zur Gemeinde" }
            ul { @for x in &whole { li { (x.code.as_str()) " (" (x.severity.label()) "): " (x.message) } } }
        }
        h2 { "Briefe, Rechnungen und E-Mail-Entwürfe" }
        @if docs.is_empty() { p { "Keine (noch nicht ausgewertet, oder die Gemeinde erhält keinen Brief)." } }
        ul { @for d in &docs { li { (page::file_link("auswertung", d)) } } }
    };
    page::layout(&app, &format!("{} ({bfs})", row.name), "/", body).into_response()
}
