//! Stage 4: validation. First each form on its own (identity and version first, then period,
//! then values), then across files (duplicates, resubmissions, eligibility, missing reports).

use crate::catalogue::finding;
use crate::domain::{
    fmt_date, ymd, Bfs, CellPos, Code, Components, CountField, FileState, Finding, FormKind, FormVersion, PaidCounts,
    Period, TariffCode, MAX_COUNT, PERIOD_COMPONENTS,
};
use crate::extract::{Field, RawForm, TableRow, TABLE_COLUMNS};
use crate::scan::{InboxFile, ReceiptSource};
use crate::stammdaten::Stammdaten;
use crate::values::{parse_bfs, parse_count, parse_date, parse_half, parse_ja_nein, parse_whole, CountValue};
use crate::workbook::{Format, Value};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a code stops the use of the file (state `abgelehnt`).
pub fn rejects(code: Code) -> bool {
    use Code::*;
    matches!(
        code,
        DateiUnlesbar
            | DateiVerschluesselt
            | DateiKeinFormular
            | DateiFormat
            | FormularVersion
            | DateiZuGross
            | BfsUnbekannt
            | GemeindeAufgeloest
            | PeriodeUngueltig
            | PeriodeZukunft
            | LeitMitgliedMeldetSelbst
    )
}

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
    pub withheld: BTreeSet<TariffCode>,
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
    pub failed: Vec<String>,
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

/// The result of reading and validating one file on its own.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub rel: String,
    pub size: u64,
    pub sha256: Option<String>,
    pub format: Option<Format>,
    pub received: Option<NaiveDate>,
    pub received_from: Option<ReceiptSource>,
    pub kind: Option<FormKind>,
    pub bfs: Option<Bfs>,
    pub period: Option<String>,
    pub findings: Vec<Finding>,
    pub outcome: Outcome,
    /// The recognised form, kept to rebuild it in the feedback workbook.
    pub form: Option<RawForm>,
}

impl FileResult {
    pub fn new(f: &InboxFile) -> Self {
        FileResult {
            rel: f.rel.clone(),
            size: f.size,
            sha256: None,
            format: None,
            received: f.received,
            received_from: f.received_from,
            kind: None,
            bfs: None,
            period: None,
            findings: Vec::new(),
            outcome: Outcome::Rejected,
            form: None,
        }
    }
    /// Adds a file-level finding and marks the file rejected.
    pub fn reject(mut self, code: Code, detail: impl Into<String>) -> Self {
        let f = finding().file(&self.rel).bfs(self.bfs).detail(detail).build(code);
        self.findings.push(f);
        self.outcome = Outcome::Rejected;
        self
    }
}

/// Field labels for messages.
fn label_of(key: &str) -> &'static str {
    crate::extract::REPORTING_FIELDS
        .iter()
        .chain(crate::extract::SD_FIELDS)
        .find(|s| s.key == key)
        .map(|s| s.label)
        .unwrap_or("?")
}

pub fn count_key(f: CountField) -> &'static str {
    match f {
        CountField::EgAnzahl => "SI_EG_ANZAHL",
        CountField::EgDolmetsch => "SI_EG_DOLMETSCH",
        CountField::EgDolmetschAndere => "SI_EG_DOLMETSCH_ANDERE",
        CountField::EgPersonen => "SI_EG_PERSONEN",
        CountField::Infomappen => "SI_INFOMAPPEN",
        CountField::Neuzuzuege => "SI_NEUZUZUEGE",
        CountField::IgAnzahl => "SI_IG_ANZAHL",
        CountField::IgDolmetsch => "SI_IG_DOLMETSCH",
        CountField::Meldungen => "SI_MELDUNGEN",
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
    res.form = Some(form);
    res
}

fn check_form(mut res: FileResult, form: &RawForm, ctx: &Ctx<'_>) -> FileResult {
    res.kind = Some(form.kind);
    let vkey = if form.kind == FormKind::Reporting { "SI_VERSION" } else { "SD_VERSION" };
    let prefix = if form.kind == FormKind::Reporting { "SI" } else { "SD" };
    let field = |k: &str| form.field(&format!("{prefix}_{k}"));

    // Best effort before any check: which municipality sent it, for routing the feedback.
    let master = ctx.master;
    res.bfs = parse_bfs(&field("BFS_NR").value).filter(|b| master.municipality(*b).is_some());
    if let (Some(y), Some(h)) = (parse_whole(&field("JAHR").value), parse_half(&field("HALBJAHR").value)) {
        res.period = Some(format!("{y}/H{h}"));
    }

    // 1. Identity and template version first.
    let vf = form.field(vkey);
    let Some(version) = parse_version(&vf.value) else {
        let shown =
            if vf.value.is_empty() { "leer".to_string() } else { format!("«{}»", quote(&vf.value.display())) };
        let f = finding()
            .file(&res.rel)
            .bfs(res.bfs)
            .at(vf.pos.as_ref())
            .value(vf.value.display())
            .detail(format!("gefunden: {shown}"))
            .build(Code::FormularVersion);
        res.findings.push(f);
        res.outcome = Outcome::Rejected;
        return res;
    };
    let bf = field("BFS_NR");
    let bfs = match parse_bfs(&bf.value) {
        Some(b) if master.municipality(b).is_some() => b,
        parsed => {
            let detail = match parsed {
                Some(b) => format!("{b} steht nicht in den Stammdaten"),
                None if bf.value.is_empty() => "das Feld ist leer".to_string(),
                None => format!("«{}» ist keine BFS-Nr.", quote(&bf.value.display())),
            };
            let f = finding()
                .file(&res.rel)
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
    res.bfs = Some(bfs);
    let muni = master.municipality(bfs).expect("checked above");
    let mut sink = Sink { rel: res.rel.clone(), bfs: Some(bfs), out: Vec::new() };

    let nf = field("GEMEINDE");
    if nf.value.text().to_lowercase() != muni.name.trim().to_lowercase() {
        sink.at(
            Code::GemeindeName,
            nf,
            "Gemeinde",
            Some(format!("gemeldet «{}», Stammdaten «{}» für BFS-Nr. {bfs}", quote(&nf.value.text()), muni.name)),
        );
    }

    // 2. Period.
    let yf = field("JAHR");
    let year = parse_whole(&yf.value).filter(|y| (2000..=2100).contains(y)).map(|y| y as i32);
    let (year, period) = match form.kind {
        FormKind::Reporting => {
            let hf = field("HALBJAHR");
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
    res.period = Some(match period {
        Some(p) => format!("{}/H{}", p.year, p.half),
        None => year.to_string(),
    });
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

    let df = field("DATUM");
    let submitted = parse_date(&df.value);
    let received = res.received;
    let received_text = |d: NaiveDate| {
        let src = res.received_from.map(|s| s.label()).unwrap_or("Eingang");
        format!("eingegangen am {} ({src})", fmt_date(d))
    };

    match form.kind {
        FormKind::Reporting => {
            let p = period.expect("reporting has a period");
            if let Some(r) = received.filter(|r| *r <= p.last_day()) {
                sink.at(
                    Code::PeriodeZukunft,
                    field("HALBJAHR"),
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
            let doc = validate_report(&mut sink, form, ctx, version, bfs, p, submitted, received);
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
            let doc = validate_sd(&mut sink, form, ctx, bfs, year, submitted, received);
            finish(res, sink, Outcome::Sd(Box::new(doc)))
        }
    }
}

fn finish(mut res: FileResult, sink: Sink, outcome: Outcome) -> FileResult {
    res.findings.extend(sink.out);
    res.outcome = outcome;
    res
}

#[allow(clippy::too_many_arguments)]
fn validate_report(
    sink: &mut Sink,
    form: &RawForm,
    ctx: &Ctx<'_>,
    version: FormVersion,
    bfs: Bfs,
    period: Period,
    submitted: Option<NaiveDate>,
    received: Option<NaiveDate>,
) -> ReportDoc {
    let master = ctx.master;
    let day = period.last_day();
    let members = master.members_of(bfs, day);
    let is_lead = !members.is_empty();
    let population = |b: Bfs| master.sockel_base(b, ctx.year).ok();
    let area_population: Option<u64> = if is_lead {
        members.iter().try_fold(0u64, |acc, m| acc.checked_add(population(*m)?))
    } else {
        population(bfs)
    };

    // Values of the main sheet.
    let mut usable: BTreeMap<CountField, Option<u64>> = BTreeMap::new();
    let mut withheld: BTreeSet<TariffCode> = BTreeSet::new();
    for cf in CountField::ALL {
        if !cf.in_version(version) {
            usable.insert(cf, Some(0));
            continue;
        }
        let key = count_key(cf);
        let f = form.field(key);
        let u = check_count(sink, f, label_of(key));
        if u.is_none() {
            withhold_for_error(cf, &mut withheld);
        }
        if let (Some(n), Some(pop)) = (u, area_population) {
            if n > pop {
                sink.at(
                    Code::WertUnplausibel,
                    f,
                    label_of(key),
                    Some(format!("{n} gemeldet, ausländische Wohnbevölkerung {pop}")),
                );
            }
        }
        usable.insert(cf, u);
    }
    let get = |cf: CountField| usable.get(&cf).copied().flatten();
    let field_of = |cf: CountField| form.field(count_key(cf));

    // Integrationsgespräche before 2022 (4.3.1).
    if period.year < 2022 {
        for cf in [CountField::IgAnzahl, CountField::IgDolmetsch] {
            if get(cf).is_some_and(|n| n > 0) {
                let f = field_of(cf);
                sink.at(Code::IgVor2022, f, label_of(count_key(cf)), Some(period.label()));
                withheld.insert(TariffCode::FallIg);
                withheld.insert(TariffCode::DolmetschIg);
            }
        }
    }
    // Consistency (5.3).
    for (talks, interp, code) in [
        (CountField::EgAnzahl, CountField::EgDolmetsch, TariffCode::DolmetschEg),
        (CountField::IgAnzahl, CountField::IgDolmetsch, TariffCode::DolmetschIg),
    ] {
        if let (Some(t), Some(i)) = (get(talks), get(interp)) {
            if i > t {
                let f = field_of(interp);
                sink.at(
                    Code::DolmetschUeberGespraeche,
                    f,
                    label_of(count_key(interp)),
                    Some(format!("{i} Dolmetscheinsätze, {t} Gespräche")),
                );
                withheld.insert(code);
            }
        }
    }
    if let (Some(t), Some(p)) = (get(CountField::EgAnzahl), get(CountField::EgPersonen)) {
        if p < t {
            let f = field_of(CountField::EgPersonen);
            sink.at(
                Code::PersonenUnterGespraeche,
                f,
                "Informierte Personen",
                Some(format!("{p} Personen, {t} Gespräche")),
            );
        }
    }
    if let (Some(t), Some(z)) = (get(CountField::EgAnzahl), get(CountField::Neuzuzuege)) {
        if t > z {
            let f = field_of(CountField::EgAnzahl);
            sink.at(
                Code::GespraecheUeberZuzuege,
                f,
                "Erstinformationsgespräche",
                Some(format!("{t} Gespräche, {z} Neuzugezogene")),
            );
        }
    }

    let main = PaidCounts {
        eg: get(CountField::EgAnzahl).unwrap_or(0),
        d_eg: get(CountField::EgDolmetsch).unwrap_or(0),
        ig: get(CountField::IgAnzahl).unwrap_or(0),
        d_ig: get(CountField::IgDolmetsch).unwrap_or(0),
    };

    let mut shares = BTreeMap::new();
    let mut withheld_whole = false;
    match (&form.table, is_lead) {
        (Some(table), true) => {
            let (row_shares, sums, sums_ok) = table_shares(sink, &table.rows, &members, version, ctx, bfs);
            for m in &members {
                if !row_shares.contains_key(m) {
                    let name = master.municipality(*m).map(|x| x.name.as_str()).unwrap_or("?");
                    sink.at_for(
                        *m,
                        Code::LeitMitgliedFehlt,
                        None,
                        String::new(),
                        format!("{name} ({m}), {}", period.label()),
                    );
                    if let Some(f) = sink.out.last_mut() {
                        f.sheet = Some(table.sheet.clone());
                    }
                }
            }
            // LEIT_SUMME: the rows must add up to the main sheet's totals. The check is never
            // switched off: with an unusable cell in a column (an error, counted 0) the usable
            // rows may not exceed the total, else they must equal it. So no row, not even one
            // outside the contract, can make the members' rows pay more than the main sheet.
            for code in PERIOD_COMPONENTS {
                let Some(cf) = code.count_field().filter(|cf| cf.in_version(version)) else { continue };
                if let Some(total) = get(cf) {
                    let sum = sums.get(code);
                    let mismatch = if sums_ok.get(code) { sum != total } else { sum > total };
                    if mismatch && !withheld_whole {
                        let f = field_of(cf);
                        sink.at(
                            Code::LeitSumme,
                            f,
                            label_of(count_key(cf)),
                            Some(format!("{}: Total {total}, Summe der Zeilen {sum}", label_of(count_key(cf)))),
                        );
                        withheld_whole = true;
                    }
                }
            }
            for (m, mut s) in row_shares {
                apply_withheld(&mut s, &withheld);
                shares.insert(m, s);
            }
        }
        _ => {
            if is_lead {
                for m in members.iter().filter(|m| **m != bfs) {
                    let name = master.municipality(*m).map(|x| x.name.as_str()).unwrap_or("?");
                    sink.at_for(
                        *m,
                        Code::LeitMitgliedFehlt,
                        None,
                        String::new(),
                        format!("{name} ({m}), {}: das Blatt «Vertragsgemeinden» fehlt", period.label()),
                    );
                }
            }
            let mut s = Share { reported: main, paid: main, withheld: BTreeSet::new() };
            apply_withheld(&mut s, &withheld);
            shares.insert(bfs, s);
        }
    }
    if withheld_whole {
        for s in shares.values_mut() {
            s.paid = PaidCounts::default();
            s.withheld.extend(PERIOD_COMPONENTS);
        }
    }
    ReportDoc { rel: sink.rel.clone(), version, bfs, period, submitted, received, shares, withheld_whole }
}

/// A value error in a conversations count also withholds the interpreter amount of its kind.
fn withhold_for_error(cf: CountField, withheld: &mut BTreeSet<TariffCode>) {
    match cf {
        CountField::EgAnzahl => {
            withheld.insert(TariffCode::FallEg);
            withheld.insert(TariffCode::DolmetschEg);
        }
        CountField::IgAnzahl => {
            withheld.insert(TariffCode::FallIg);
            withheld.insert(TariffCode::DolmetschIg);
        }
        other => {
            if let Some(c) = other.paid_as() {
                withheld.insert(c);
            }
        }
    }
}

fn apply_withheld(s: &mut Share, withheld: &BTreeSet<TariffCode>) {
    for c in withheld {
        s.paid.set(*c, 0);
        s.withheld.insert(*c);
    }
}

type TableOutcome = (BTreeMap<Bfs, Share>, PaidCounts, Components<bool>);

/// Reads the `Vertragsgemeinden` rows: member shares, the column sums over all rows, and
/// whether each column could be summed (no unusable cell).
fn table_shares(
    sink: &mut Sink,
    rows: &[TableRow],
    members: &BTreeSet<Bfs>,
    version: FormVersion,
    ctx: &Ctx<'_>,
    lead: Bfs,
) -> TableOutcome {
    let master = ctx.master;
    let mut shares: BTreeMap<Bfs, Share> = BTreeMap::new();
    let mut sums = PaidCounts::default();
    let mut ok = Components::splat(true);
    let header = |k: &str| TABLE_COLUMNS.iter().find(|(key, _)| *key == k).map(|(_, h)| *h).unwrap_or("?");
    let population = |b: Bfs| master.sockel_base(b, ctx.year).ok();
    for row in rows {
        let bf = row.get("bfs");
        let nf = row.get("name");
        let bfs = parse_bfs(&bf.value).or_else(|| master.resolve(&nf.value));
        let member = bfs.filter(|b| members.contains(b));
        let mut share = Share::default();
        for (key, code) in [
            ("eg", TariffCode::FallEg),
            ("d_eg", TariffCode::DolmetschEg),
            ("ig", TariffCode::FallIg),
            ("d_ig", TariffCode::DolmetschIg),
        ] {
            let Some(cf) = code.count_field().filter(|cf| cf.in_version(version)) else { continue };
            let f = row.get(key);
            if !f.found() {
                continue;
            }
            match check_count(sink, &f, header(key)) {
                Some(n) => {
                    // A member's row gets the main sheet's plausibility check, against its
                    // own foreign resident population.
                    if let Some(pop) = member.and_then(population).filter(|pop| n > *pop) {
                        sink.at(
                            Code::WertUnplausibel,
                            &f,
                            header(key),
                            Some(format!("{n} gemeldet, ausländische Wohnbevölkerung {pop}")),
                        );
                    }
                    share.paid.set(code, n);
                    share.reported.set(code, n);
                    // Every row counts in the sum check, also a row outside the contract. Each
                    // value is at most MAX_COUNT, so a sum cannot overflow for any number of
                    // rows a sheet can hold; were it to, it could only differ from the total.
                    let sum = sums.get(code).saturating_add(n);
                    sums.set(code, sum);
                }
                None => {
                    ok.set(code, false);
                    withhold_for_error(cf, &mut share.withheld);
                }
            }
        }
        let held = share.withheld.clone();
        apply_withheld(&mut share, &held);
        match member {
            Some(b) => {
                let e = shares.entry(b).or_default();
                match (e.paid.checked_add(&share.paid), e.reported.checked_add(&share.reported)) {
                    (Some(paid), Some(reported)) => {
                        e.paid = paid;
                        e.reported = reported;
                    }
                    // Unreachable with values ≤ MAX_COUNT; if ever, nothing is paid from it.
                    _ => e.withheld.extend(PERIOD_COMPONENTS),
                }
                e.withheld.extend(share.withheld);
            }
            None => {
                let shown = if bf.value.is_empty() { nf.value.display() } else { bf.value.display() };
                let who = bfs
                    .and_then(|b| master.municipality(b))
                    .map(|m| format!("{} ({})", m.name, m.bfs))
                    .unwrap_or_else(|| format!("«{}»", quote(&shown)));
                let contract = master.membership(lead, ctx.year_end()).map(|m| m.contract.clone()).unwrap_or_default();
                sink.at_for(
                    lead,
                    Code::LeitFremdeGemeinde,
                    bf.pos.as_ref(),
                    shown,
                    format!("{who} gehört nicht zum Vertrag {contract}"),
                );
            }
        }
    }
    (shares, sums, ok)
}

impl Ctx<'_> {
    fn year_end(&self) -> NaiveDate {
        ymd(self.year, 12, 31)
    }
}

#[allow(clippy::too_many_arguments)]
fn validate_sd(
    sink: &mut Sink,
    form: &RawForm,
    ctx: &Ctx<'_>,
    bfs: Bfs,
    year: i32,
    submitted: Option<NaiveDate>,
    received: Option<NaiveDate>,
) -> SdDoc {
    let master = ctx.master;
    let mut failed = Vec::new();
    let ib = form.field("SD_BEAUFTRAGTE");
    if ib.value.is_empty() {
        let reason = "keine/n Integrationsbeauftragte/n bezeichnet".to_string();
        sink.at(Code::NichtBerechtigt, ib, "Integrationsbeauftragte/r", Some(reason.clone()));
        failed.push(reason);
    }
    for key in ["SD_Q_ORGANISATION", "SD_Q_ANLAUFSTELLE", "SD_Q_ERSTINFO"] {
        let f = form.field(key);
        if parse_ja_nein(&f.value) != Some(true) {
            let answer =
                if f.value.is_empty() { "leer".to_string() } else { format!("«{}»", quote(&f.value.display())) };
            let reason = format!("«{}» ist nicht mit Ja beantwortet ({answer})", label_of(key));
            sink.at(Code::NichtBerechtigt, f, label_of(key), Some(reason.clone()));
            failed.push(reason);
        }
    }
    for key in ["SD_Q_ANGEBOTE", "SD_Q_INTEGRATIONSGESPRAECHE", "SD_Q_VERNETZUNG"] {
        let f = form.field(key);
        if parse_ja_nein(&f.value) == Some(false) {
            sink.at(Code::SdAntwortNein, f, label_of(key), Some(format!("«{}»: Nein", label_of(key))));
        }
    }
    // The Leitgemeinde named must match the master data on 31.12. of the year.
    let lf = form.field("SD_LEITGEMEINDE");
    let expected = master.membership(bfs, ymd(year, 12, 31)).map(|m| m.lead);
    let given = if lf.value.is_empty() { None } else { Some(master.resolve(&lf.value)) };
    let matches = match (given, expected) {
        (None, None) => true,
        (None, Some(e)) => e == bfs,
        (Some(Some(g)), Some(e)) => g == e,
        (Some(Some(g)), None) => g == bfs,
        (Some(None), _) => false,
    };
    if !matches {
        let name_of =
            |b: Bfs| master.municipality(b).map(|m| format!("{} ({b})", m.name)).unwrap_or_else(|| b.to_string());
        let exp = match expected {
            Some(e) if e != bfs => format!("Leitgemeinde laut Stammdaten: {}", name_of(e)),
            Some(_) => "laut Stammdaten ist die Gemeinde selbst Leitgemeinde".to_string(),
            None => "laut Stammdaten gehört die Gemeinde keinem Vertrag an".to_string(),
        };
        let shown = if lf.value.is_empty() { "leer".to_string() } else { format!("«{}»", quote(&lf.value.text())) };
        sink.at(Code::LeitAngabeAbweichend, lf, "Leitgemeinde", Some(format!("angegeben {shown}, {exp}")));
    }
    SdDoc { rel: sink.rel.clone(), bfs, year, submitted, received, failed }
}

// ---------------------------------------------------------------------------
// Across files
// ---------------------------------------------------------------------------

/// Eligibility of a municipality for the year (4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    Eligible,
    /// No Selbstdeklaration (for a member: none from its lead `via`).
    Missing {
        via: Bfs,
    },
    /// The Selbstdeklaration of `via` fails conditions.
    NotEligible {
        via: Bfs,
        reasons: Vec<String>,
    },
}

/// One inbox file with its final state and findings.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub result: FileResult,
    pub state: FileState,
}

/// The outcome of validation across all files.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub files: Vec<FileEntry>,
    /// The report used for each (reporting municipality, half-year).
    pub reports: BTreeMap<(Bfs, u8), ReportDoc>,
    /// The Selbstdeklaration used for each municipality.
    pub sds: BTreeMap<Bfs, SdDoc>,
    /// Findings about a municipality as a whole (no file).
    pub municipality_findings: Vec<Finding>,
}

impl Resolved {
    /// Eligibility of the payee `via` of a municipality.
    pub fn eligibility(&self, via: Bfs) -> Eligibility {
        match self.sds.get(&via) {
            None => Eligibility::Missing { via },
            Some(sd) if sd.failed.is_empty() => Eligibility::Eligible,
            Some(sd) => Eligibility::NotEligible { via, reasons: sd.failed.clone() },
        }
    }
}

fn order_key(r: &FileResult, submitted: Option<NaiveDate>) -> (Option<NaiveDate>, Option<NaiveDate>, Vec<u8>) {
    (r.received, submitted, r.rel.as_bytes().to_vec())
}

/// Decides every file's state across files and adds the cross-file findings.
/// `results` must be in path order.
pub fn resolve(results: Vec<FileResult>, ctx: &Ctx<'_>) -> Resolved {
    let master = ctx.master;
    let y = ctx.year;
    let mut entries: Vec<FileEntry> = Vec::with_capacity(results.len());
    let mut first_by_hash: BTreeMap<String, String> = BTreeMap::new();

    // Byte duplicates: the first in path order is used, the others are listed.
    for mut r in results {
        if let (Some(h), false) = (r.sha256.clone(), matches!(r.outcome, Outcome::Ignored)) {
            if let Some(first) = first_by_hash.get(&h) {
                let f = finding().file(&r.rel).bfs(r.bfs).detail(first.clone()).build(Code::DateiDuplikat);
                r.findings = vec![f];
                entries.push(FileEntry { result: r, state: FileState::Ignoriert });
                continue;
            }
            first_by_hash.insert(h, r.rel.clone());
        }
        let state = match r.outcome {
            Outcome::Ignored | Outcome::OtherYear => FileState::Ignoriert,
            Outcome::Rejected => FileState::Abgelehnt,
            Outcome::Report(_) | Outcome::Sd(_) => FileState::Verarbeitet,
        };
        entries.push(FileEntry { result: r, state });
    }

    // Resubmissions: the latest by receipt date, then by date on the form, then by path.
    let mut groups: BTreeMap<(FormKind, Bfs, i32, u8), Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        if e.state != FileState::Verarbeitet {
            continue;
        }
        match &e.result.outcome {
            Outcome::Report(d) => {
                groups.entry((FormKind::Reporting, d.bfs, d.period.year, d.period.half)).or_default().push(i)
            }
            Outcome::Sd(d) => groups.entry((FormKind::Selbstdeklaration, d.bfs, d.year, 0)).or_default().push(i),
            _ => {}
        }
    }
    let mut out = Resolved::default();
    for idx in groups.values() {
        let submitted = |i: usize| match &entries[i].result.outcome {
            Outcome::Report(d) => d.submitted,
            Outcome::Sd(d) => d.submitted,
            _ => None,
        };
        let winner =
            *idx.iter().max_by_key(|&&i| order_key(&entries[i].result, submitted(i))).expect("non-empty group");
        let winner_rel = entries[winner].result.rel.clone();
        for &i in idx.iter().filter(|&&i| i != winner) {
            let e = &mut entries[i];
            let detail = format!("ersetzt durch «{winner_rel}»");
            e.result.findings =
                vec![finding().file(&e.result.rel).bfs(e.result.bfs).detail(detail).build(Code::Ersetzt)];
            e.state = FileState::Ersetzt;
        }
        match &entries[winner].result.outcome {
            Outcome::Report(d) => {
                out.reports.insert((d.bfs, d.period.half), (**d).clone());
            }
            Outcome::Sd(d) => {
                out.sds.insert(d.bfs, (**d).clone());
            }
            _ => {}
        }
    }

    // Municipality-level findings, by BFS-Nr. Eligibility comes from the payee's
    // Selbstdeklaration; a municipality that changes contract during the year has two payees.
    for m in master.municipalities_in(y) {
        let payees: BTreeSet<Bfs> = [ymd(y, 6, 30), ymd(y, 12, 31)]
            .into_iter()
            .filter(|d| m.exists_on(*d))
            .map(|d| master.payee(m.bfs, d))
            .collect();
        for payee in payees {
            if let Eligibility::Missing { via } = out.eligibility(payee) {
                let detail = if via == m.bfs {
                    format!("Jahr {y}")
                } else {
                    let lead = master.municipality(via).map(|l| l.name.as_str()).unwrap_or("?");
                    format!("Jahr {y}, Selbstdeklaration der Leitgemeinde {lead} ({via})")
                };
                out.municipality_findings.push(finding().bfs(Some(m.bfs)).detail(detail).build(Code::SdFehlt));
            }
        }
    }
    // Reports that were filed but rejected, by (BFS-Nr., period), for the wording below.
    let rejected: BTreeSet<(Bfs, String)> = entries
        .iter()
        .filter(|e| e.state == FileState::Abgelehnt && e.result.kind == Some(FormKind::Reporting))
        .filter_map(|e| Some((e.result.bfs?, e.result.period.clone()?)))
        .collect();
    for m in master.municipalities_in(y) {
        for half in [1u8, 2] {
            let p = Period::new(y, half);
            if !m.exists_on(p.last_day()) || master.is_member_not_lead(m.bfs, p.last_day()) {
                continue;
            }
            if out.eligibility(m.bfs) != Eligibility::Eligible || out.reports.contains_key(&(m.bfs, half)) {
                continue;
            }
            let rejected = rejected.contains(&(m.bfs, format!("{y}/H{half}")));
            let detail =
                if rejected { format!("{} (die eingereichte Datei wurde abgelehnt)", p.label()) } else { p.label() };
            out.municipality_findings.push(finding().bfs(Some(m.bfs)).detail(detail).build(Code::BerichtFehlt));
        }
    }
    out.files = entries;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejecting_codes_are_all_fehler() {
        for &c in Code::ALL {
            if rejects(c) {
                assert_eq!(c.severity(), crate::domain::Severity::Fehler, "{c}");
            }
        }
    }

    #[test]
    fn a_conversation_error_withholds_the_interpreter_amount_too() {
        let mut w = BTreeSet::new();
        withhold_for_error(CountField::EgAnzahl, &mut w);
        assert_eq!(w, BTreeSet::from([TariffCode::FallEg, TariffCode::DolmetschEg]));
        let mut w = BTreeSet::new();
        withhold_for_error(CountField::EgPersonen, &mut w);
        assert!(w.is_empty(), "a count that is not paid withholds nothing");
        let mut w = BTreeSet::new();
        withhold_for_error(CountField::IgDolmetsch, &mut w);
        assert_eq!(w, BTreeSet::from([TariffCode::DolmetschIg]));
    }
}
