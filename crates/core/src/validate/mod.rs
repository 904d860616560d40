//! Stage 4: validation of each file on its own: identity and template version first, then
//! the period, then the values. One module per form kind: [`report`] (Reportingformular,
//! with the contract members' table) and [`sd`] (Selbstdeklaration). What holds across
//! files (duplicates, resubmissions, eligibility, missing reports) is the next stage,
//! [`crate::resolve`]. [`sprung`] compares a report's counts with the municipality's earlier
//! half-years (`WERT_SPRUNG`), once the history is gathered.

mod report;
mod sd;
pub mod sprung;

use crate::catalogue::finding;
use crate::domain::{
    fmt_date, ymd, Bfs, CellPos, Code, Finding, FormKind, FormVersion, PaidCounts, Period, Unmet, MAX_COUNT,
};
use crate::extract::{Field, RawForm};
use crate::fields::{Common, FormField};
use crate::scan::{InboxFile, ReceiptSource};
use crate::stammdaten::Stammdaten;
use crate::values::{parse_bfs, parse_count, parse_date, parse_half, parse_whole, CountValue};
use crate::workbook::{Format, Value};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What the validation needs besides the form: the run year and the master data.
pub struct Ctx<'a> {
    pub year: i32,
    pub master: &'a Stammdaten,
}

/// What one municipality gets from one report, before eligibility.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Share {
    /// Usable counts as reported, before withholding (an unusable value counts 0).
    pub reported: PaidCounts,
    /// Usable counts; withheld components are 0.
    pub paid: PaidCounts,
    /// Components withheld by a finding.
    pub withheld: BTreeSet<crate::domain::Component>,
}

/// A valid Reportingformular.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDoc {
    pub rel: String,
    pub version: FormVersion,
    pub bfs: Bfs,
    pub period: Period,
    pub submitted: Option<NaiveDate>,
    pub received: Option<NaiveDate>,
    /// Shares by municipality: the reporting municipality, or each contract member.
    pub shares: BTreeMap<Bfs, Share>,
    /// `LEIT_SUMME`: the whole report is withheld.
    pub withheld_whole: bool,
}

/// A valid Selbstdeklaration.
#[derive(Debug, Clone, PartialEq)]
pub struct SdDoc {
    pub rel: String,
    pub bfs: Bfs,
    pub year: i32,
    pub submitted: Option<NaiveDate>,
    pub received: Option<NaiveDate>,
    /// The conditions of 4.2 that fail (empty: eligible).
    pub failed: Vec<Unmet>,
}

/// The period a form names: a half-year (Reportingformular) or a year (Selbstdeklaration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FormPeriod {
    Half(Period),
    Year(i32),
}

impl FormPeriod {
    pub fn year(self) -> i32 {
        match self {
            FormPeriod::Half(p) => p.year,
            FormPeriod::Year(y) => y,
        }
    }
}

impl fmt::Display for FormPeriod {
    /// `2023/H2` for a half-year, `2023` for a year (the `Periode` column of the outputs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormPeriod::Half(p) => write!(f, "{}/H{}", p.year, p.half),
            FormPeriod::Year(y) => write!(f, "{y}"),
        }
    }
}

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Lock or system file.
    Ignored,
    /// A Fehler stops its use.
    Rejected,
    /// A valid form for another year.
    OtherYear,
    Report(Box<ReportDoc>),
    Sd(Box<SdDoc>),
}

/// The received file: its identity and receipt, as scanned and read.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path relative to the inbox: the file's identity in every output.
    pub rel: String,
    pub size: u64,
    /// SHA-256 of the bytes read (`None`: not read).
    pub sha256: Option<String>,
    /// The spreadsheet format, once read as one.
    pub format: Option<Format>,
    /// The receipt date and where it comes from.
    pub received: Option<NaiveDate>,
    pub received_from: Option<ReceiptSource>,
}

/// What a recognised form says it is, as far as it could be read: for routing the
/// feedback and for the outputs' columns, also when the form is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognised {
    pub kind: FormKind,
    /// The BFS-Nr., when it names a municipality of the master data.
    pub bfs: Option<Bfs>,
    /// The period the form names.
    pub period: Option<FormPeriod>,
}

/// The result of reading and validating one file on its own.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub file: Received,
    /// `None`: no form was recognised (or the file was not read).
    pub recognised: Option<Recognised>,
    pub outcome: Outcome,
    pub findings: Vec<Finding>,
    /// The values submitted, with their cells, to rebuild the form in the feedback workbook.
    pub submitted: Option<RawForm>,
}

impl FileResult {
    pub fn new(f: &InboxFile) -> Self {
        FileResult {
            file: Received {
                rel: f.rel.clone(),
                size: f.size,
                sha256: None,
                format: None,
                received: f.received,
                received_from: f.received_from,
            },
            recognised: None,
            outcome: Outcome::Rejected,
            findings: Vec::new(),
            submitted: None,
        }
    }
    /// The path relative to the inbox.
    pub fn rel(&self) -> &str {
        &self.file.rel
    }
    /// The form kind, if a form was recognised.
    pub fn kind(&self) -> Option<FormKind> {
        self.recognised.map(|r| r.kind)
    }
    /// The municipality the form names, if it is in the master data.
    pub fn bfs(&self) -> Option<Bfs> {
        self.recognised.and_then(|r| r.bfs)
    }
    /// The period the form names.
    pub fn period(&self) -> Option<FormPeriod> {
        self.recognised.and_then(|r| r.period)
    }
    /// Adds a file-level finding and marks the file rejected.
    pub fn reject(mut self, code: Code, detail: impl Into<String>) -> Self {
        let f = finding().file(&self.file.rel).bfs(self.bfs()).detail(detail).build(code);
        self.findings.push(f);
        self.outcome = Outcome::Rejected;
        self
    }
}

/// Collects findings of one file with its BFS-Nr. and path.
struct Sink {
    rel: String,
    bfs: Option<Bfs>,
    out: Vec<Finding>,
}

impl Sink {
    fn at(&mut self, code: Code, field: &Field, label: &str, detail: Option<String>) {
        let mut b =
            finding().file(&self.rel).bfs(self.bfs).at(field.pos.as_ref()).value(field.value.display()).field(label);
        if let Some(d) = detail {
            b = b.detail(d);
        }
        self.out.push(b.build(code));
    }
    fn at_for(&mut self, bfs: Bfs, code: Code, pos: Option<&CellPos>, value: String, detail: String) {
        self.out.push(finding().file(&self.rel).bfs(Some(bfs)).at(pos).value(value).detail(detail).build(code));
    }
}

/// Checks one count and emits its value finding. Returns the usable count, if any.
fn check_count(sink: &mut Sink, field: &Field, label: &str) -> Option<u64> {
    let cv = parse_count(&field.value);
    match &cv {
        CountValue::Number(_) => {}
        CountValue::TextNumber(_) => sink.at(Code::WertTextzahl, field, label, None),
        CountValue::Blank => {
            let detail = (!field.found()).then(|| "Feld nicht gefunden".to_string());
            sink.at(Code::WertLeer, field, label, detail)
        }
        CountValue::Negative => sink.at(Code::WertNegativ, field, label, None),
        CountValue::Fraction => sink.at(Code::WertNichtGanzzahlig, field, label, None),
        CountValue::NotANumber => sink.at(Code::WertKeineZahl, field, label, None),
        CountValue::TooLarge => sink.at(Code::WertZuGross, field, label, Some(too_large_detail())),
    }
    cv.usable()
}

/// A text from the file as quoted in a detail: at most a few hundred characters.
fn quote(s: &str) -> std::borrow::Cow<'_, str> {
    crate::domain::shorten(s, crate::domain::MAX_QUOTED_CHARS)
}

/// Why a count above [`MAX_COUNT`] cannot be right.
fn too_large_detail() -> String {
    format!("Obergrenze {}, mehr als die Wohnbevölkerung des ganzen Kantons", crate::domain::swiss_int(MAX_COUNT))
}

fn parse_version(v: &Value) -> Option<FormVersion> {
    match parse_whole(v) {
        Some(2018) => Some(FormVersion::V2018),
        Some(2022) => Some(FormVersion::V2022),
        _ => None,
    }
}

/// Validates a recognised form on its own. The form is kept in the result, to rebuild
/// it in the feedback workbook.
pub fn validate_form(res: FileResult, form: RawForm, ctx: &Ctx<'_>) -> FileResult {
    let mut res = check_form(res, &form, ctx);
    res.submitted = Some(form);
    res
}

fn check_form(mut res: FileResult, form: &RawForm, ctx: &Ctx<'_>) -> FileResult {
    let field = |c: Common| form.field(c.of(form.kind));
    // Only the Reportingformular has a half-year.
    let half = || form.field(FormField::SiHalbjahr);

    // Best effort before any check: which municipality sent it, for routing the feedback.
    let master = ctx.master;
    let bfs = parse_bfs(&field(Common::BfsNr).value).filter(|b| master.municipality(*b).is_some());
    let half_read = if form.kind == FormKind::Reporting { parse_half(&half().value) } else { None };
    let period = match (parse_whole(&field(Common::Jahr).value), half_read) {
        (Some(y), Some(h)) => i32::try_from(y).ok().map(|y| FormPeriod::Half(Period::new(y, h))),
        _ => None,
    };
    res.recognised = Some(Recognised { kind: form.kind, bfs, period });

    // 1. Identity and template version first.
    let vf = field(Common::Version);
    let Some(version) = parse_version(&vf.value) else {
        let shown =
            if vf.value.is_empty() { "leer".to_string() } else { format!("«{}»", quote(&vf.value.display())) };
        let f = finding()
            .file(&res.file.rel)
            .bfs(res.bfs())
            .at(vf.pos.as_ref())
            .value(vf.value.display())
            .detail(format!("gefunden: {shown}"))
            .build(Code::FormularVersion);
        res.findings.push(f);
        res.outcome = Outcome::Rejected;
        return res;
    };
    let bf = field(Common::BfsNr);
    let bfs = match parse_bfs(&bf.value) {
        Some(b) if master.municipality(b).is_some() => b,
        parsed => {
            let detail = match parsed {
                Some(b) => format!("{b} steht nicht in den Stammdaten"),
                None if bf.value.is_empty() => "das Feld ist leer".to_string(),
                None => format!("«{}» ist keine BFS-Nr.", quote(&bf.value.display())),
            };
            let f = finding()
                .file(&res.file.rel)
                .at(bf.pos.as_ref())
                .value(bf.value.display())
                .field("BFS-Nr.")
                .detail(detail)
                .build(Code::BfsUnbekannt);
            res.findings.push(f);
            res.outcome = Outcome::Rejected;
            return res;
        }
    };
    let recognised = Recognised { kind: form.kind, bfs: Some(bfs), period };
    res.recognised = Some(recognised);
    let muni = master.municipality(bfs).expect("checked above");
    let mut sink = Sink { rel: res.file.rel.clone(), bfs: Some(bfs), out: Vec::new() };

    let nf = field(Common::Gemeinde);
    if nf.value.text().to_lowercase() != muni.name.trim().to_lowercase() {
        sink.at(
            Code::GemeindeName,
            nf,
            "Gemeinde",
            Some(format!("gemeldet «{}», Stammdaten «{}» für BFS-Nr. {bfs}", quote(&nf.value.text()), muni.name)),
        );
    }

    // 2. Period.
    let yf = field(Common::Jahr);
    let year = parse_whole(&yf.value).filter(|y| (2000..=2100).contains(y)).map(|y| y as i32);
    let (year, period) = match form.kind {
        FormKind::Reporting => {
            let hf = half();
            let half = parse_half(&hf.value);
            match (year, half) {
                (Some(y), Some(h)) => (y, Some(Period::new(y, h))),
                _ => {
                    let (bad, label) = if year.is_none() { (&yf, "Berichtsjahr") } else { (&hf, "Halbjahr") };
                    let shown = if bad.value.is_empty() {
                        "leer".to_string()
                    } else {
                        format!("«{}»", quote(&bad.value.display()))
                    };
                    sink.at(Code::PeriodeUngueltig, bad, label, Some(format!("{label}: {shown}")));
                    return finish(res, sink, Outcome::Rejected);
                }
            }
        }
        FormKind::Selbstdeklaration => match year {
            Some(y) => (y, None),
            None => {
                let shown = if yf.value.is_empty() {
                    "leer".to_string()
                } else {
                    format!("«{}»", quote(&yf.value.display()))
                };
                sink.at(Code::PeriodeUngueltig, yf, "Jahr", Some(format!("Jahr: {shown}")));
                return finish(res, sink, Outcome::Rejected);
            }
        },
    };
    let period_read = match period {
        Some(p) => FormPeriod::Half(p),
        None => FormPeriod::Year(year),
    };
    res.recognised = Some(Recognised { period: Some(period_read), ..recognised });
    if year != ctx.year {
        sink.at(
            Code::AnderesJahr,
            yf,
            "Jahr",
            Some(format!("{} {year}, ausgewertet wird {}", form.kind.label(), ctx.year)),
        );
        return finish(res, sink, Outcome::OtherYear);
    }

    // The municipality must exist in the period (mergers).
    let exists = match period {
        Some(p) => muni.exists_on(p.last_day()),
        None => muni.exists_in_year(year),
    };
    if !exists {
        let gone = muni.validity.to.is_some_and(|t| t < period.map_or(ymd(year, 1, 1), |p| p.last_day()));
        if gone {
            let succ = muni
                .successor
                .and_then(|s| master.municipality(s))
                .map(|s| format!(", Nachfolgegemeinde {} ({})", s.name, s.bfs))
                .unwrap_or_default();
            let detail =
                format!("{} bestand bis {}{succ}", muni.name, muni.validity.to.map(fmt_date).unwrap_or_default());
            sink.at(Code::GemeindeAufgeloest, bf, "BFS-Nr.", Some(detail));
        } else {
            let detail = format!("{bfs} besteht erst ab {}", muni.validity.from.map(fmt_date).unwrap_or_default());
            sink.at(Code::BfsUnbekannt, bf, "BFS-Nr.", Some(detail));
        }
        return finish(res, sink, Outcome::Rejected);
    }

    let df = field(Common::Datum);
    let submitted = parse_date(&df.value);
    let received = res.file.received;
    let received_text = |d: NaiveDate| {
        let src = res.file.received_from.map(|s| s.label()).unwrap_or("Eingang");
        format!("eingegangen am {} ({src})", fmt_date(d))
    };

    match form.kind {
        FormKind::Reporting => {
            let p = period.expect("reporting has a period");
            if let Some(r) = received.filter(|r| *r <= p.last_day()) {
                sink.at(
                    Code::PeriodeZukunft,
                    half(),
                    "Halbjahr",
                    Some(format!("{}, das {} endet am {}", received_text(r), p.label(), fmt_date(p.last_day()))),
                );
                return finish(res, sink, Outcome::Rejected);
            }
            if let Some(m) = master.membership(bfs, p.last_day()).filter(|m| m.lead != bfs) {
                let lead = master.municipality(m.lead).map(|l| l.name.as_str()).unwrap_or("?");
                sink.at(
                    Code::LeitMitgliedMeldetSelbst,
                    bf,
                    "BFS-Nr.",
                    Some(format!("Vertrag {}, Leitgemeinde {lead} ({})", m.contract, m.lead)),
                );
                return finish(res, sink, Outcome::Rejected);
            }
            if let Some(r) = received.filter(|r| *r > p.deadline()) {
                sink.at(
                    Code::FristVerpasst,
                    df,
                    "Eingereicht am",
                    Some(format!("{}, Frist {}", received_text(r), fmt_date(p.deadline()))),
                );
            }
            let doc = report::validate_report(&mut sink, form, ctx, version, bfs, p, submitted, received);
            finish(res, sink, Outcome::Report(Box::new(doc)))
        }
        FormKind::Selbstdeklaration => {
            let deadline = ymd(year, 1, 31);
            if let Some(r) = received.filter(|r| *r > deadline) {
                sink.at(
                    Code::FristVerpasst,
                    df,
                    "Datum",
                    Some(format!("{}, Frist {}", received_text(r), fmt_date(deadline))),
                );
            }
            let doc = sd::validate_sd(&mut sink, form, ctx, bfs, year, submitted, received);
            finish(res, sink, Outcome::Sd(Box::new(doc)))
        }
    }
}

fn finish(mut res: FileResult, sink: Sink, outcome: Outcome) -> FileResult {
    res.findings.extend(sink.out);
    res.outcome = outcome;
    res
}
