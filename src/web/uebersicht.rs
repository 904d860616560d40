//! Übersicht (one row per municipality: forms, deadlines, findings, money, status; filters,
//! sorting, xlsx of the filtered list) and Befunde (every finding, filtered).

use super::{page, Shared};
use crate::domain::{Bfs, Chf, FileState, FormKind, Period, Severity};
use crate::evaluate::Evaluation;
use crate::validate::FormPeriod;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The state of one form of a municipality: the file's state and receipt date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormCell {
    pub state: Option<FileState>,
    pub received: Option<chrono::NaiveDate>,
    /// Reported through the lead municipality's form (a contract member).
    pub via_lead: bool,
    /// No usable form and its deadline has passed.
    pub overdue: bool,
}

impl FormCell {
    pub fn text(&self) -> String {
        match (self.state, self.via_lead) {
            (_, true) => "über Leitgemeinde".into(),
            (Some(s), _) => format!("{} {}", s.as_str(), page::date(self.received)),
            (None, _) => "fehlt".into(),
        }
    }
    fn missing(&self) -> bool {
        !self.via_lead && self.state != Some(FileState::Verarbeitet)
    }
}

/// One row of the Übersicht.
#[derive(Debug, Clone)]
pub struct Row {
    pub bfs: Bfs,
    pub name: String,
    pub district: String,
    /// «Vertrag (Leitgemeinde)» or empty.
    pub contract: String,
    pub forms: [FormCell; 3],
    pub counts: [usize; 3],
    pub total: Chf,
    pub withheld: Chf,
    pub status: String,
}

/// The Übersicht's rows, from the evaluation (nothing computed here but lookups).
pub fn rows(e: &Evaluation, today: chrono::NaiveDate) -> Vec<Row> {
    let y = e.year;
    let year_end = crate::domain::ymd(y, 12, 31);
    // The best file per (municipality, form): the one used, else the latest received.
    let mut best: BTreeMap<(Bfs, usize), FormCell> = BTreeMap::new();
    for f in &e.resolved.files {
        let r = &f.result;
        let (Some(bfs), Some(kind)) = (r.bfs(), r.kind()) else { continue };
        let slot = match (kind, r.period()) {
            (FormKind::Selbstdeklaration, Some(p)) if p.year() == y => 2,
            (FormKind::Reporting, Some(FormPeriod::Half(p))) if p.year == y => usize::from(p.half == 2),
            _ => continue,
        };
        let cell = FormCell { state: Some(f.state), received: r.file.received, ..Default::default() };
        let e = best.entry((bfs, slot)).or_default();
        let better = match (e.state, cell.state) {
            (None, _) => true,
            (Some(FileState::Verarbeitet), _) => false,
            (_, Some(FileState::Verarbeitet)) => true,
            _ => cell.received >= e.received,
        };
        if better {
            *e = cell;
        }
    }
    let mut counts: BTreeMap<Bfs, [usize; 3]> = BTreeMap::new();
    for f in &e.findings {
        if let Some(b) = f.bfs {
            let i = Severity::ALL.iter().position(|s| *s == f.severity).unwrap_or(2);
            counts.entry(b).or_default()[i] += 1;
        }
    }
    e.comp
        .rows
        .iter()
        .map(|r| {
            let membership = e.master.membership(r.bfs, year_end);
            let member = e.master.is_member_not_lead(r.bfs, year_end);
            let contract = membership
                .map(|m| {
                    let lead = e.master.municipality(m.lead).map_or(String::new(), |x| x.name.clone());
                    format!("{} ({lead})", m.contract)
                })
                .unwrap_or_default();
            let forms = [0usize, 1, 2].map(|slot| {
                let mut c = best.get(&(r.bfs, slot)).cloned().unwrap_or_default();
                c.via_lead = member && c.state.is_none();
                let deadline =
                    if slot < 2 { Period::new(y, slot as u8 + 1).deadline() } else { Period::new(y, 2).deadline() };
                c.overdue = c.missing() && today > deadline;
                c
            });
            Row {
                bfs: r.bfs,
                name: r.name.clone(),
                district: r.district.clone(),
                contract,
                forms,
                counts: counts.get(&r.bfs).copied().unwrap_or_default(),
                total: r.total,
                withheld: r.withheld_total().unwrap_or_default(),
                status: r.status.label(),
            }
        })
        .collect()
}

/// The filters and sorting of the Übersicht (query parameters).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filter {
    /// `1`: only municipalities with a missing form.
    #[serde(default)]
    pub fehlend: Option<String>,
    /// `1`: only municipalities with a Fehler.
    #[serde(default)]
    pub fehler: Option<String>,
    #[serde(default)]
    pub bezirk: Option<String>,
    /// A contract's name, or `ohne`.
    #[serde(default)]
    pub vertrag: Option<String>,
    /// Column: `bfs`, `gemeinde`, `bezirk`, `fehler`, `beitrag`, `zurueck`.
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub ab: Option<String>,
}

impl Filter {
    fn on(v: &Option<String>) -> bool {
        v.as_deref().is_some_and(|v| !v.is_empty())
    }
    /// The rows kept, in the order asked for.
    pub fn apply(&self, mut rows: Vec<Row>) -> Vec<Row> {
        rows.retain(|r| {
            (!Self::on(&self.fehlend) || r.forms.iter().any(FormCell::missing))
                && (!Self::on(&self.fehler) || r.counts[0] > 0)
                && self.bezirk.as_deref().is_none_or(|b| b.is_empty() || r.district == b)
                && self.vertrag.as_deref().is_none_or(|v| match v {
                    "" => true,
                    "ohne" => r.contract.is_empty(),
                    v => r.contract.starts_with(&format!("{v} (")),
                })
        });
        match self.sort.as_deref().unwrap_or("bfs") {
            "gemeinde" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            "bezirk" => rows.sort_by(|a, b| (&a.district, a.bfs).cmp(&(&b.district, b.bfs))),
            "fehler" => rows.sort_by(|a, b| (b.counts, a.bfs).cmp(&(a.counts, b.bfs))),
            "beitrag" => rows.sort_by_key(|r| (r.total, r.bfs)),
            "zurueck" => rows.sort_by_key(|r| (r.withheld, r.bfs)),
            _ => rows.sort_by_key(|r| r.bfs),
        }
        if Self::on(&self.ab) {
            rows.reverse();
        }
        rows
    }
    fn query(&self) -> String {
        let mut q = Vec::new();
        for (k, v) in [
            ("fehlend", &self.fehlend),
            ("fehler", &self.fehler),
            ("bezirk", &self.bezirk),
            ("vertrag", &self.vertrag),
            ("sort", &self.sort),
            ("ab", &self.ab),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.push(format!("{k}={}", page::url_component(v)));
            }
        }
        q.join("&")
    }
    fn sorted_by(&self, col: &str) -> String {
        let mut f = self.clone();
        let same = f.sort.as_deref() == Some(col);
        f.ab = (same && !Self::on(&self.ab)).then(|| "1".to_string());
        f.sort = Some(col.to_string());
        format!("/?{}", f.query())
    }
}

/// The evaluation the pages show, or the page that says why there is none yet.
pub fn current(app: &super::App, active: &str) -> Result<Arc<Evaluation>, Response> {
    let st = app.eval.read().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = &st.eval {
        return Ok(e.clone());
    }
    let body = match (&st.error, &st.running) {
        (Some(e), _) => html! {
            (page::message_box("fehler", e))
            p { "Bitte die Eingaben prüfen (" a href="/stammdaten" { "Stammdaten" } ", " a href="/eingang" { "Eingang" } ") und auf der Seite " a href="/auswertung" { "Auswertung" } " erneut auswerten." }
        },
        (None, _) => html! { p role="status" { "Die Daten des Jahres werden gelesen … Die Seite lädt sich neu." } },
    };
    let refresh = st.error.is_none().then_some(2);
    Err((StatusCode::OK, page::layout_refreshing(app, "Übersicht", active, refresh, body)).into_response())
}

/// `GET /`: the Übersicht.
pub async fn page(State(app): State<Shared>, Query(filter): Query<Filter>) -> Response {
    let e = match current(&app, "/") {
        Ok(e) => e,
        Err(r) => return r,
    };
    let today = chrono::Local::now().date_naive();
    let all = rows(&e, today);
    let mut districts: Vec<&str> = all.iter().map(|r| r.district.as_str()).collect();
    districts.sort();
    districts.dedup();
    let mut contracts: Vec<&str> = e.master.memberships.iter().map(|m| m.contract.as_str()).collect();
    contracts.sort();
    contracts.dedup();
    let contracts: Vec<String> = contracts.into_iter().map(str::to_string).collect();
    let districts: Vec<String> = districts.into_iter().map(str::to_string).collect();
    let shown = filter.apply(all);
    let c = &e.comp;
    let th = |col: &str, label: &str| -> Markup {
        html! { th scope="col" { a href=(filter.sorted_by(col)) { (label) } } }
    };
    let body = html! {
        div.summe {
            div { "Total Beiträge: " strong { "CHF " (page::chf(c.total)) } }
            @if let Some(k) = c.credit {
                div { "Kredit (4.3.4): CHF " (page::chf(k)) }
                @if c.total > k { div.fehler { strong { "Kredit überschritten" } } }
                @else { div { "Restbetrag: CHF " (page::chf(k.saturating_sub(c.total))) } }
            }
            div { "Gemeinden: " (c.rows.len()) }
            div { "Befunde: " (e.count_severity(Severity::Fehler)) " Fehler, " (e.count_severity(Severity::Warnung)) " Warnungen, " (e.count_severity(Severity::Hinweis)) " Hinweise" }
        }
        form.zeile method="get" action="/" {
            label { input type="checkbox" name="fehlend" value="1" checked[Filter::on(&filter.fehlend)]; "fehlende Formulare" }
            label { input type="checkbox" name="fehler" value="1" checked[Filter::on(&filter.fehler)]; "mit Fehler" }
            label { "Bezirk" select name="bezirk" {
                option value="" { "alle" }
                @for d in &districts { option value=(d) selected[filter.bezirk.as_deref() == Some(d.as_str())] { (d) } }
            } }
            label { "Vertrag" select name="vertrag" {
                option value="" { "alle" }
                option value="ohne" selected[filter.vertrag.as_deref() == Some("ohne")] { "ohne Vertrag" }
                @for v in &contracts { option value=(v) selected[filter.vertrag.as_deref() == Some(v.as_str())] { (v) } }
            } }
            @if let Some(s) = &filter.sort { input type="hidden" name="sort" value=(s); }
            button type="submit" { "Filtern" }
            a href={"/uebersicht.xlsx?" (filter.query())} { "Liste als Excel (xlsx)" }
        }
        p { (shown.len()) " von " (c.rows.len()) " Gemeinden" }
        table id="uebersicht" {
            thead { tr {
                (th("bfs", "BFS-Nr.")) (th("gemeinde", "Gemeinde")) (th("bezirk", "Bezirk"))
                th scope="col" { "Vertrag (Leitgemeinde)" }
                th scope="col" { "H1" } th scope="col" { "H2" } th scope="col" { "Selbstdeklaration" }
                (th("fehler", "Fehler")) th scope="col" { "Warnungen" } th scope="col" { "Hinweise" }
                (th("beitrag", "Beitrag CHF")) (th("zurueck", "zurückbehalten CHF")) th scope="col" { "Status" }
            } }
            tbody {
                @for r in &shown {
                    tr class=[(r.counts[0] > 0).then_some("fehler")] {
                        td.num { (r.bfs) }
                        td { a href={"/gemeinde/" (r.bfs)} { (r.name) } }
                        td { (r.district) }
                        td { (r.contract) }
                        @for f in &r.forms {
                            td class=[f.overdue.then_some("warnung")] {
                                (f.text()) @if f.overdue { br; strong { "Frist abgelaufen" } }
                            }
                        }
                        td.num { (r.counts[0]) } td.num { (r.counts[1]) } td.num { (r.counts[2]) }
                        td.num { (page::chf(r.total)) } td.num { (page::chf(r.withheld)) }
                        td { (r.status) }
                    }
                }
            }
        }
    };
    page::layout(&app, &format!("Übersicht {}", e.year), "/", body).into_response()
}

/// `GET /uebersicht.xlsx`: the filtered list as a workbook.
pub async fn xlsx(State(app): State<Shared>, Query(filter): Query<Filter>) -> Response {
    let e = match current(&app, "/") {
        Ok(e) => e,
        Err(r) => return r,
    };
    let year = e.year;
    let made = super::blocking(move || {
        let shown = filter.apply(rows(&e, chrono::Local::now().date_naive()));
        workbook(&shown).map_err(|x| format!("Die Arbeitsmappe konnte nicht erstellt werden: {x}"))
    })
    .await;
    match made {
        Ok(bytes) => super::file_response(&format!("Übersicht_{year}.xlsx"), bytes),
        Err(m) => super::error_page(&app, StatusCode::INTERNAL_SERVER_ERROR, "Übersicht", &m),
    }
}

/// The Übersicht as a workbook (amounts as numbers).
pub fn workbook(rows: &[Row]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Übersicht")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let heads = [
        "BFS-Nr.",
        "Gemeinde",
        "Bezirk",
        "Vertrag (Leitgemeinde)",
        "H1",
        "H2",
        "Selbstdeklaration",
        "Frist abgelaufen",
        "Fehler",
        "Warnungen",
        "Hinweise",
        "Beitrag",
        "zurückbehalten",
        "Status",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, f64::from(r.bfs))?;
        ws.write_string(row, 1, &r.name)?;
        ws.write_string(row, 2, &r.district)?;
        ws.write_string(row, 3, &r.contract)?;
        for (j, f) in r.forms.iter().enumerate() {
            ws.write_string(row, 4 + j as u16, f.text())?;
        }
        let overdue: Vec<&str> = ["H1", "H2", "Selbstdeklaration"]
            .iter()
            .zip(&r.forms)
            .filter(|(_, f)| f.overdue)
            .map(|(n, _)| *n)
            .collect();
        ws.write_string(row, 7, overdue.join(", "))?;
        for j in 0..3 {
            ws.write_number(row, 8 + j as u16, r.counts[j] as f64)?;
        }
        ws.write_with_format(row, 11, r.total.decimal(), &money)?;
        ws.write_with_format(row, 12, r.withheld.decimal(), &money)?;
        ws.write_string(row, 13, &r.status)?;
    }
    ws.autofit();
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

/// Filters of the Befunde page.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FindingFilter {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub schwere: Option<String>,
    #[serde(default)]
    pub gemeinde: Option<String>,
}

/// The link to a finding's cell on its municipality's page.
pub fn cell_anchor(file: &str, sheet: &str, cell: &str) -> String {
    let raw = format!("{file}|{sheet}|{cell}");
    format!("z-{}", page::url_component(&raw).replace('%', "_"))
}

/// `GET /befunde`.
pub async fn befunde(State(app): State<Shared>, Query(f): Query<FindingFilter>) -> Response {
    let e = match current(&app, "/befunde") {
        Ok(e) => e,
        Err(r) => return r,
    };
    let want_bfs: Option<Bfs> = f.gemeinde.as_deref().and_then(|g| g.trim().parse().ok());
    let shown: Vec<&crate::domain::Finding> = e
        .findings
        .iter()
        .filter(|x| f.code.as_deref().is_none_or(|c| c.is_empty() || x.code.as_str() == c))
        .filter(|x| f.schwere.as_deref().is_none_or(|s| s.is_empty() || x.severity.label() == s))
        .filter(|x| want_bfs.is_none_or(|b| x.bfs == Some(b)))
        .collect();
    let mut codes: Vec<&str> = e.findings.iter().map(|x| x.code.as_str()).collect();
    codes.sort();
    codes.dedup();
    let name = |b: Option<Bfs>| b.and_then(|b| e.master.municipality(b)).map(|m| m.name.clone()).unwrap_or_default();
    let body = html! {
        form.zeile method="get" action="/befunde" {
            label { "Code" select name="code" {
                option value="" { "alle" }
                @for c in &codes { option value=(c) selected[f.code.as_deref() == Some(*c)] { (c) } }
            } }
            label { "Schwere" select name="schwere" {
                option value="" { "alle" }
                @for s in Severity::ALL { option value=(s.label()) selected[f.schwere.as_deref() == Some(s.label())] { (s.label()) } }
            } }
            label { "BFS-Nr." input type="text" name="gemeinde" inputmode="numeric" size="6" value=[f.gemeinde.as_deref()]; }
            button type="submit" { "Filtern" }
        }
        p { (shown.len()) " von " (e.findings.len()) " Befunden" }
        table id="befunde" {
            thead { tr { th { "BFS-Nr." } th { "Gemeinde" } th { "Datei" } th { "Blatt" } th { "Zelle" } th { "Code" } th { "Schwere" } th { "Meldung" } th { "Gefundener Wert" } th { "Korrektur" } } }
            tbody {
                @for x in &shown {
                    tr class=[(x.severity == Severity::Fehler).then_some("fehler")] {
                        td.num { @if let Some(b) = x.bfs { (b) } }
                        td { @if let Some(b) = x.bfs { a href={"/gemeinde/" (b)} { (name(Some(b))) } } }
                        td { (x.file.as_deref().unwrap_or("")) }
                        td { (x.sheet().unwrap_or("")) }
                        td { @match (x.bfs, &x.file, x.sheet(), x.cell()) {
                            (Some(b), Some(file), Some(sheet), Some(cell)) => a href={"/gemeinde/" (b) "#" (cell_anchor(file, sheet, &cell))} { (cell) },
                            (_, _, _, cell) => (cell.unwrap_or_default()),
                        } }
                        td { (x.code.as_str()) }
                        td { (x.severity.label()) }
                        td { (x.message) }
                        td { (x.value.as_deref().unwrap_or("")) }
                        td { (x.fix) }
                    }
                }
            }
        }
    };
    page::layout(&app, "Befunde", "/befunde", body).into_response()
}
