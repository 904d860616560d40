//! `beitraege kennzahlen`: the figures for the canton's yearly review of the flat rates
//! (Kreisschreiben 4.3.3, 5.3) and the credit (4.3.4), per year, per district and for the
//! canton, over every year folder of the inbox root.
//!
//! What it decides: which figure is what ([`figures_of_year`]), from a year's
//! [`Evaluation`] as `run` makes it:
//! - the counts (Erstinformationsgespräche, with interpreters (HEKS), Integrationsgespräche
//!   from 2022 on) are the usable counts as reported ([`crate::compute::HalfYear::reported`],
//!   a contract member's share of its lead's report), before withholding and eligibility:
//!   the conversations took place whether they are paid or not;
//! - persons reached and new arrivals from abroad are the main-sheet values of the reports
//!   the year uses; a contract's report counts them at its lead municipality;
//! - the amounts are the annex's (Sockel, the four flat rates, clawbacks, total), the
//!   foreign resident population the Sockel's base;
//! - late forms are the `FRIST_VERPASST` findings on the forms used, missing reports and
//!   self-declarations the `BERICHT_FEHLT` and `SD_FEHLT` findings;
//! - a district's and the canton's figures are the sums of their municipalities'; the shares
//!   (interpreters per conversation, contribution per foreign resident, share of the year's
//!   credit) are computed from those sums, rounded to 2 places (half away from zero), and
//!   empty where the denominator is zero or missing;
//! - with a ledger, the contributions booked for the year ([`Leistung::is_contribution`]).
//!
//! The workbook, the CSV and the JSON only render these figures ([`render`]); they decide
//! nothing. It must not know how a form is read or how an amount is computed.
//!
//! [`Leistung::is_contribution`]: crate::payout::Leistung::is_contribution

use crate::domain::{Bfs, Chf, Code, CountField, FileState};
use crate::evaluate::{evaluate, Evaluation, EvaluationError, EvaluationOptions};
use crate::ledger::{Booking, Ledger, LedgerError};
use crate::validate::Outcome;
use crate::workbook::Limits;
use crate::write::{self, OutFile, WriteError};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Integrationsgespräche are reported from this year on (template 2022).
pub const IG_AB: i32 = 2022;

/// The level a row of figures is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Kanton,
    Bezirk,
    Gemeinde,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Kanton => "Kanton",
            Level::Bezirk => "Bezirk",
            Level::Gemeinde => "Gemeinde",
        }
    }
}

/// The sums a row of figures is made of (a municipality's own, or the sum of several).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub municipalities: u64,
    /// Erstinformationsgespräche.
    pub eg: u64,
    /// … with interpreters (HEKS).
    pub d_eg: u64,
    /// Integrationsgespräche.
    pub ig: u64,
    /// … with interpreters.
    pub d_ig: u64,
    /// Persons reached in the Erstinformationsgespräche.
    pub persons: u64,
    /// New arrivals from abroad.
    pub arrivals: u64,
    /// Foreign resident population (the Sockel's base).
    pub base: u64,
    pub sockel: Chf,
    pub fall_eg: Chf,
    pub dolm_eg: Chf,
    pub fall_ig: Chf,
    pub dolm_ig: Chf,
    /// Clawbacks (negative).
    pub clawback: Chf,
    pub total: Chf,
    /// Forms used that came in after their deadline (`FRIST_VERPASST`).
    pub late: u64,
    /// `BERICHT_FEHLT`.
    pub report_missing: u64,
    /// `SD_FEHLT`.
    pub sd_missing: u64,
    /// Contributions booked in the ledger for the year (with a ledger only).
    pub booked: Option<Chf>,
}

/// One row of figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kennzahl {
    pub year: i32,
    pub level: Level,
    /// The municipality's BFS-Nr. (municipality rows only).
    pub bfs: Option<Bfs>,
    /// The municipality's or district's name, «Kanton Solothurn» for the canton.
    pub name: String,
    /// The district (empty for the canton).
    pub district: String,
    pub t: Totals,
    /// Interpreters per Erstinformationsgespräch, percent.
    pub interpreter_share: Option<Decimal>,
    /// Total per foreign resident, CHF.
    pub per_resident: Option<Chf>,
    /// The year's credit (canton rows only).
    pub credit: Option<Chf>,
    /// Total per the year's credit, percent.
    pub credit_share: Option<Decimal>,
}

impl Kennzahl {
    /// Whether the year has Integrationsgespräche.
    pub fn has_ig(&self) -> bool {
        self.year >= IG_AB
    }
}

/// Why the figures could not be made (nothing written).
#[derive(Debug, Error)]
pub enum KennzahlenError {
    #[error("Auswertung {year}: {source}")]
    Run { year: i32, source: EvaluationError },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("Die Kennzahlen {0} übersteigen den Zahlenbereich; es wurde nichts geschrieben.")]
    Overflow(i32),
    #[error("Im Eingangsordner «{0}» ist kein Jahresordner (z. B. «2023») und kein Jahr angegeben.")]
    NoYears(String),
}

// ---- Arithmetic: every sum and share of this module, checked. ----

fn add_n(a: u64, b: u64) -> Option<u64> {
    a.checked_add(b)
}

fn add_chf(a: Chf, b: Chf) -> Option<Chf> {
    a.checked_add(b)
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `part / whole × 100`, rounded to 2 places; `None` for a zero or missing whole.
pub fn percent(part: Decimal, whole: Option<Decimal>) -> Option<Decimal> {
    let whole = whole.filter(|w| !w.is_zero())?;
    part.checked_mul(Decimal::ONE_HUNDRED).and_then(|x| x.checked_div(whole)).map(round2)
}

/// The total per foreign resident, rounded to the Rappen; `None` without residents.
pub fn per_resident(total: Chf, base: u64) -> Option<Chf> {
    if base == 0 {
        return None;
    }
    total.checked_div(Decimal::from(base)).map(|c| Chf::new(round2(c.decimal())))
}

/// The sum of two rows' totals (`None` out of range).
pub fn combine(a: &Totals, b: &Totals) -> Option<Totals> {
    Some(Totals {
        municipalities: add_n(a.municipalities, b.municipalities)?,
        eg: add_n(a.eg, b.eg)?,
        d_eg: add_n(a.d_eg, b.d_eg)?,
        ig: add_n(a.ig, b.ig)?,
        d_ig: add_n(a.d_ig, b.d_ig)?,
        persons: add_n(a.persons, b.persons)?,
        arrivals: add_n(a.arrivals, b.arrivals)?,
        base: add_n(a.base, b.base)?,
        sockel: add_chf(a.sockel, b.sockel)?,
        fall_eg: add_chf(a.fall_eg, b.fall_eg)?,
        dolm_eg: add_chf(a.dolm_eg, b.dolm_eg)?,
        fall_ig: add_chf(a.fall_ig, b.fall_ig)?,
        dolm_ig: add_chf(a.dolm_ig, b.dolm_ig)?,
        clawback: add_chf(a.clawback, b.clawback)?,
        total: add_chf(a.total, b.total)?,
        late: add_n(a.late, b.late)?,
        report_missing: add_n(a.report_missing, b.report_missing)?,
        sd_missing: add_n(a.sd_missing, b.sd_missing)?,
        booked: match (a.booked, b.booked) {
            (Some(x), Some(y)) => Some(add_chf(x, y)?),
            (x, y) => x.or(y),
        },
    })
}

/// The contributions a ledger booked, by year and municipality: every booking of a
/// contribution (flat rates, Sockel, clawbacks; reversals included, so a Storno nets out),
/// as the annex's ledger view sums them.
pub fn booked_by_year(bookings: &[Booking]) -> Option<BTreeMap<(i32, Bfs), Chf>> {
    let mut out: BTreeMap<(i32, Bfs), Chf> = BTreeMap::new();
    for b in bookings.iter().filter(|b| b.leistung.is_contribution()) {
        let e = out.entry((b.periode.year, b.bfs)).or_insert(Chf::ZERO);
        *e = add_chf(*e, b.betrag)?;
    }
    Some(out)
}

/// A row of figures from its totals: the shares computed from the sums.
fn row(
    year: i32,
    level: Level,
    bfs: Option<Bfs>,
    name: String,
    district: String,
    t: Totals,
    credit: Option<Chf>,
) -> Kennzahl {
    let interpreter_share = percent(Decimal::from(t.d_eg), Some(Decimal::from(t.eg)));
    let per_resident = per_resident(t.total, t.base);
    let credit_share = percent(t.total.decimal(), credit.map(Chf::decimal));
    Kennzahl {
        year,
        level,
        bfs,
        name,
        district,
        t,
        interpreter_share,
        per_resident,
        credit: credit.filter(|_| level == Level::Kanton),
        credit_share,
    }
}

/// The figures of one year: the canton, then each district (by name), then each
/// municipality of the annex (by BFS-Nr.). `booked`: the ledger's contributions by year and
/// municipality, when a ledger is given.
pub fn figures_of_year(
    eval: &Evaluation,
    booked: Option<&BTreeMap<(i32, Bfs), Chf>>,
) -> Result<Vec<Kennzahl>, KennzahlenError> {
    let y = eval.year;
    let overflow = || KennzahlenError::Overflow(y);
    // Persons and new arrivals: the main sheet of each report used, at its municipality.
    let forms: BTreeMap<&str, &crate::extract::RawForm> = eval
        .resolved
        .files
        .iter()
        .filter_map(|e| e.result.submitted.as_ref().map(|f| (e.result.file.rel.as_str(), f)))
        .collect();
    let mut reached: BTreeMap<Bfs, (u64, u64)> = BTreeMap::new();
    for doc in eval.resolved.reports.values() {
        let Some(form) = forms.get(doc.rel.as_str()) else { continue };
        let counts = crate::validate::sprung::form_counts(form, doc.version);
        let get = |f: CountField| counts.get(&f).copied().unwrap_or(0);
        let e = reached.entry(doc.bfs).or_default();
        e.0 = add_n(e.0, get(CountField::EgPersonen)).ok_or_else(overflow)?;
        e.1 = add_n(e.1, get(CountField::Neuzuzuege)).ok_or_else(overflow)?;
    }
    // Late forms (of the forms used), missing reports and self-declarations.
    let mut late: BTreeMap<Bfs, u64> = BTreeMap::new();
    for e in eval.resolved.files.iter().filter(|e| e.state == FileState::Verarbeitet) {
        if !matches!(e.result.outcome, Outcome::Report(_) | Outcome::Sd(_)) {
            continue;
        }
        for f in e.result.findings.iter().filter(|f| f.code == Code::FristVerpasst) {
            if let Some(b) = f.bfs.or(e.result.bfs()) {
                *late.entry(b).or_default() += 1;
            }
        }
    }
    let mut missing: BTreeMap<(Bfs, Code), u64> = BTreeMap::new();
    for f in &eval.resolved.municipality_findings {
        if let (Some(b), Code::BerichtFehlt | Code::SdFehlt) = (f.bfs, f.code) {
            *missing.entry((b, f.code)).or_default() += 1;
        }
    }
    let credit = eval.comp.credit;
    let mut municipalities = Vec::new();
    for r in &eval.comp.rows {
        let mut reported = crate::domain::PaidCounts::default();
        for h in &r.halves {
            reported = crate::domain::Components {
                eg: add_n(reported.eg, h.reported.eg).ok_or_else(overflow)?,
                d_eg: add_n(reported.d_eg, h.reported.d_eg).ok_or_else(overflow)?,
                ig: add_n(reported.ig, h.reported.ig).ok_or_else(overflow)?,
                d_ig: add_n(reported.d_ig, h.reported.d_ig).ok_or_else(overflow)?,
            };
        }
        let (persons, arrivals) = reached.get(&r.bfs).copied().unwrap_or_default();
        let t = Totals {
            municipalities: 1,
            eg: reported.eg,
            d_eg: reported.d_eg,
            ig: reported.ig,
            d_ig: reported.d_ig,
            persons,
            arrivals,
            base: r.base,
            sockel: r.sockel,
            fall_eg: r.amounts.eg,
            dolm_eg: r.amounts.d_eg,
            fall_ig: r.amounts.ig,
            dolm_ig: r.amounts.d_ig,
            clawback: r.clawback,
            total: r.total,
            late: late.get(&r.bfs).copied().unwrap_or(0),
            report_missing: missing.get(&(r.bfs, Code::BerichtFehlt)).copied().unwrap_or(0),
            sd_missing: missing.get(&(r.bfs, Code::SdFehlt)).copied().unwrap_or(0),
            booked: booked.map(|m| m.get(&(y, r.bfs)).copied().unwrap_or(Chf::ZERO)),
        };
        municipalities.push(row(y, Level::Gemeinde, Some(r.bfs), r.name.clone(), r.district.clone(), t, credit));
    }
    municipalities.sort_by_key(|k| k.bfs);
    let empty = Totals { booked: booked.map(|_| Chf::ZERO), ..Totals::default() };
    let mut canton = empty.clone();
    let mut districts: BTreeMap<String, Totals> = BTreeMap::new();
    for m in &municipalities {
        canton = combine(&canton, &m.t).ok_or_else(overflow)?;
        let d = districts.entry(m.district.clone()).or_insert_with(|| empty.clone());
        *d = combine(d, &m.t).ok_or_else(overflow)?;
    }
    let mut out = vec![row(y, Level::Kanton, None, "Kanton Solothurn".into(), String::new(), canton, credit)];
    for (name, t) in districts {
        out.push(row(y, Level::Bezirk, None, name.clone(), name, t, credit));
    }
    out.extend(municipalities);
    Ok(out)
}

/// The years of an inbox root: its first-level folders named by a year (`2023`), ascending.
pub fn year_folders(root: &Path) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir(root) else { return Vec::new() };
    let mut years: Vec<i32> = dir
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            (name.len() == 4 && name.bytes().all(|b| b.is_ascii_digit())).then(|| name.parse().ok()).flatten()
        })
        .collect();
    years.sort_unstable();
    years
}

/// What `beitraege kennzahlen` needs.
#[derive(Debug, Clone)]
pub struct KennzahlenOptions {
    /// The inbox root (one folder per year), each year evaluated over it as `run` does.
    pub inbox: PathBuf,
    pub stammdaten: PathBuf,
    /// The years to evaluate (ascending, at least one).
    pub years: Vec<i32>,
    /// The output folder (replaced atomically).
    pub out: PathBuf,
    /// The ledger: the contributions booked per year.
    pub ledger: Option<PathBuf>,
    pub limits: Limits,
    pub threads: Option<usize>,
    /// The date of the outputs.
    pub date: NaiveDate,
}

/// What `beitraege kennzahlen` produced.
pub struct KennzahlenReport {
    pub figures: Vec<Kennzahl>,
    pub out: PathBuf,
    pub written: Vec<String>,
}

/// The output folder's default name.
pub fn folder_name(date: NaiveDate) -> String {
    format!("Kennzahlen_{}", date.format("%Y-%m-%d"))
}

/// Evaluates every year, computes the figures and writes them atomically into `opts.out`.
pub fn execute(opts: &KennzahlenOptions) -> Result<KennzahlenReport, KennzahlenError> {
    if opts.years.is_empty() {
        return Err(KennzahlenError::NoYears(opts.inbox.display().to_string()));
    }
    let first = opts.years[0];
    crate::evaluate::check_out_apart(&opts.inbox, &opts.out)
        .map_err(|source| KennzahlenError::Run { year: first, source })?;
    if let Some(l) = &opts.ledger {
        write::commit::check_ledger_place(l, Some(&opts.inbox), &[&opts.out]).map_err(WriteError::from)?;
    }
    let out = write::OutputDir::open(&opts.out).map_err(WriteError::from)?;
    let booked = match &opts.ledger {
        Some(p) => {
            let l = Ledger::open_read_only(p)?;
            Some(booked_by_year(&l.verify()?).ok_or(KennzahlenError::Overflow(first))?)
        }
        None => None,
    };
    let mut figures = Vec::new();
    for &year in &opts.years {
        let run = EvaluationOptions {
            year,
            inbox: opts.inbox.clone(),
            stammdaten: opts.stammdaten.clone(),
            out: opts.out.clone(),
            threads: opts.threads,
            limits: opts.limits,
            run_date: opts.date,
            contact: None,
            progress: None,
            force: true,
            received_by: None,
            buchhaltung: None,
        };
        let eval = evaluate(&run).map_err(|source| KennzahlenError::Run { year, source })?;
        figures.extend(figures_of_year(&eval, booked.as_ref())?);
    }
    let with_ledger = booked.is_some();
    let files = render(&figures, with_ledger, opts.date)?;
    out.commit(&files).map_err(WriteError::from)?;
    Ok(KennzahlenReport { figures, out: opts.out.clone(), written: files.iter().map(|f| f.rel.clone()).collect() })
}

// ---- Rendering: the same cells into the workbook, the CSV and the JSON. ----

/// The workbook, CSV and JSON file names.
pub const WORKBOOK: &str = "Kennzahlen.xlsx";
pub const CSV: &str = "kennzahlen.csv";
pub const JSON: &str = "kennzahlen.json";
/// The sheet with every row of figures (the CSV's table).
pub const SHEET: &str = "Kennzahlen";
const CHART_SHEET: &str = "Diagramme";

/// A cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Chf(Chf),
    Percent(Decimal),
    Empty,
}

/// The columns: key (JSON) and German label (workbook, CSV).
pub const COLUMNS: [(&str, &str); 27] = [
    ("jahr", "Jahr"),
    ("ebene", "Ebene"),
    ("bezirk", "Bezirk"),
    ("bfs_nr", "BFS-Nr."),
    ("name", "Name"),
    ("gemeinden", "Gemeinden"),
    ("erstinformationsgespraeche", "Erstinformationsgespräche"),
    ("eg_mit_dolmetsch_heks", "davon mit Dolmetschenden (HEKS)"),
    ("anteil_dolmetsch_prozent", "Anteil mit Dolmetschenden %"),
    ("integrationsgespraeche", "Integrationsgespräche"),
    ("ig_mit_dolmetsch", "Integrationsgespräche mit Dolmetschenden"),
    ("erreichte_personen", "Erreichte Personen"),
    ("neuzuzuege_ausland", "Neuzuzüge aus dem Ausland"),
    ("auslaendische_bevoelkerung", "Ausländische Wohnbevölkerung"),
    ("sockelbeitrag", "Sockelbeitrag CHF"),
    ("pauschalen_eg", "Pauschalen Erstinformationsgespräche CHF"),
    ("pauschalen_dolmetsch_eg", "Pauschalen Dolmetschende EG CHF"),
    ("pauschalen_ig", "Pauschalen Integrationsgespräche CHF"),
    ("pauschalen_dolmetsch_ig", "Pauschalen Dolmetschende IG CHF"),
    ("rueckforderungen", "Rückforderungen CHF"),
    ("beitrag_total", "Beitrag total CHF"),
    ("beitrag_je_auslaendische_person", "Beitrag je Person der ausländischen Wohnbevölkerung CHF"),
    ("kredit", "Kredit CHF"),
    ("anteil_kredit_prozent", "Anteil am Kredit %"),
    ("verspaetete_formulare", "Verspätete Formulare (FRIST_VERPASST)"),
    ("fehlende_berichte", "Fehlende Berichte (BERICHT_FEHLT)"),
    ("fehlende_selbstdeklarationen", "Fehlende Selbstdeklarationen (SD_FEHLT)"),
];

/// The ledger's column (with a ledger only).
pub const BOOKED_COLUMN: (&str, &str) = ("gebuchte_beitraege", "Gebuchte Beiträge CHF (Buchhaltung)");

/// The columns of a table, with the ledger's when given.
pub fn columns(with_ledger: bool) -> Vec<(&'static str, &'static str)> {
    let mut c = COLUMNS.to_vec();
    if with_ledger {
        c.push(BOOKED_COLUMN);
    }
    c
}

/// An amount; a zero shown as `0.00`, never `-0.00` (a clawback of nothing).
fn money(c: Chf) -> Cell {
    Cell::Chf(if c.is_zero() { Chf::ZERO } else { c })
}

fn int(n: u64) -> Cell {
    i64::try_from(n).map(Cell::Int).unwrap_or_else(|_| Cell::Text(n.to_string()))
}

/// The cells of a row, in the order of [`columns`].
pub fn cells(k: &Kennzahl, with_ledger: bool) -> Vec<Cell> {
    let opt_pct = |p: Option<Decimal>| p.map(Cell::Percent).unwrap_or(Cell::Empty);
    let opt_chf = |c: Option<Chf>| c.map(money).unwrap_or(Cell::Empty);
    let ig = |n: u64| if k.has_ig() { int(n) } else { Cell::Empty };
    let ig_chf = |c: Chf| if k.has_ig() { money(c) } else { Cell::Empty };
    let t = &k.t;
    let mut v = vec![
        Cell::Int(k.year.into()),
        Cell::Text(k.level.label().into()),
        Cell::Text(k.district.clone()),
        k.bfs.map(|b| Cell::Int(b.into())).unwrap_or(Cell::Empty),
        Cell::Text(k.name.clone()),
        int(t.municipalities),
        int(t.eg),
        int(t.d_eg),
        opt_pct(k.interpreter_share),
        ig(t.ig),
        ig(t.d_ig),
        int(t.persons),
        int(t.arrivals),
        int(t.base),
        money(t.sockel),
        money(t.fall_eg),
        money(t.dolm_eg),
        ig_chf(t.fall_ig),
        ig_chf(t.dolm_ig),
        money(t.clawback),
        money(t.total),
        opt_chf(k.per_resident),
        opt_chf(k.credit),
        opt_pct(k.credit_share),
        int(t.late),
        int(t.report_missing),
        int(t.sd_missing),
    ];
    if with_ledger {
        v.push(opt_chf(t.booked));
    }
    v
}

/// A cell as the CSV writes it: amounts and shares with 2 decimal places, empty for none.
pub fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Chf(a) => format!("{:.2}", a.decimal()),
        Cell::Percent(p) => format!("{p:.2}"),
        Cell::Empty => String::new(),
    }
}

/// The three files.
pub fn render(figures: &[Kennzahl], with_ledger: bool, date: NaiveDate) -> Result<Vec<OutFile>, WriteError> {
    Ok(vec![
        workbook(figures, with_ledger, date)?,
        OutFile { rel: CSV.into(), bytes: csv(figures, with_ledger).into_bytes() },
        OutFile { rel: JSON.into(), bytes: json(figures, with_ledger, date) },
    ])
}

/// `;` separated, UTF-8 with BOM, Windows line ends (as the other CSVs).
pub fn csv(figures: &[Kennzahl], with_ledger: bool) -> String {
    let field = |s: &str| {
        if s.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("\u{feff}");
    let head: Vec<String> = columns(with_ledger).iter().map(|(_, l)| field(l)).collect();
    out.push_str(&head.join(";"));
    out.push_str("\r\n");
    for k in figures {
        let line: Vec<String> = cells(k, with_ledger).iter().map(|c| field(&cell_text(c))).collect();
        out.push_str(&line.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// The rows as objects keyed by [`columns`]' keys: counts as numbers, amounts and shares as
/// exact decimal texts, none as `null`.
pub fn json(figures: &[Kennzahl], with_ledger: bool, date: NaiveDate) -> Vec<u8> {
    use serde_json::{json, Map, Value};
    let cols = columns(with_ledger);
    let rows: Vec<Value> = figures
        .iter()
        .map(|k| {
            let mut m = Map::new();
            for ((key, _), c) in cols.iter().zip(cells(k, with_ledger)) {
                let v = match &c {
                    Cell::Text(s) => Value::String(s.clone()),
                    Cell::Int(n) => json!(n),
                    Cell::Chf(_) | Cell::Percent(_) => Value::String(cell_text(&c)),
                    Cell::Empty => Value::Null,
                };
                m.insert((*key).to_string(), v);
            }
            Value::Object(m)
        })
        .collect();
    let mut years: Vec<i32> = figures.iter().map(|k| k.year).collect();
    years.dedup();
    let doc = json!({
        "erstellt": date.format("%Y-%m-%d").to_string(),
        "programmversion": env!("CARGO_PKG_VERSION"),
        "jahre": years,
        "spalten": cols.iter().map(|(k, l)| json!({"schluessel": k, "bezeichnung": l})).collect::<Vec<_>>(),
        "zeilen": rows,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// `Kennzahlen.xlsx`: the table of every row (sheet «Kennzahlen»), and the trends per year
/// for the canton and per district as native charts (sheet «Diagramme», with their data).
fn workbook(figures: &[Kennzahl], with_ledger: bool, date: NaiveDate) -> Result<OutFile, WriteError> {
    let mut wb = write::style::workbook("Kennzahlen start.integration", date);
    fill_table(wb.add_worksheet(), figures, with_ledger).map_err(write::xl(WORKBOOK))?;
    fill_charts(wb.add_worksheet(), figures).map_err(write::xl(WORKBOOK))?;
    write::save(WORKBOOK, &mut wb)
}

fn fill_table(
    ws: &mut rust_xlsxwriter::Worksheet,
    figures: &[Kennzahl],
    with_ledger: bool,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use write::style;
    ws.set_name(SHEET)?;
    let cols = columns(with_ledger);
    let labels: Vec<&str> = cols.iter().map(|(_, l)| *l).collect();
    style::header_row(ws, 0, &labels)?;
    let (chf, count, pct) = (style::chf(), style::count(), rust_xlsxwriter::Format::new().set_num_format("0.00"));
    for (i, k) in figures.iter().enumerate() {
        let r = 1 + i as u32;
        for (c, cell) in cells(k, with_ledger).iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s)?;
                }
                Cell::Int(n) => {
                    ws.write_number_with_format(r, c, *n as f64, &count)?;
                }
                Cell::Chf(a) => {
                    ws.write_with_format(r, c, a.decimal(), &chf)?;
                }
                Cell::Percent(p) => {
                    ws.write_with_format(r, c, *p, &pct)?;
                }
                Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 5)?;
    ws.set_column_width(4, 24.0)?;
    ws.set_column_width(2, 16.0)?;
    for c in 5..labels.len() as u16 {
        ws.set_column_width(c, 14.0)?;
    }
    if !figures.is_empty() {
        ws.autofilter(0, 0, figures.len() as u32, labels.len() as u16 - 1)?;
    }
    Ok(())
}

/// The charts' data: per year the canton's conversations and total, and each district's
/// total; column charts (they show a single year as well as several).
fn fill_charts(ws: &mut rust_xlsxwriter::Worksheet, figures: &[Kennzahl]) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::Chart;
    use write::style;
    ws.set_name(CHART_SHEET)?;
    let canton: Vec<&Kennzahl> = figures.iter().filter(|k| k.level == Level::Kanton).collect();
    let mut district_names: Vec<&str> =
        figures.iter().filter(|k| k.level == Level::Bezirk).map(|k| k.name.as_str()).collect();
    district_names.sort_unstable();
    district_names.dedup();
    let (chf, count) = (style::chf(), style::count());
    // Canton, rows 0..: Jahr, EG, IG, Beitrag total.
    style::header_row(ws, 0, &["Jahr", "Erstinformationsgespräche", "Integrationsgespräche", "Beitrag total CHF"])?;
    for (i, k) in canton.iter().enumerate() {
        let r = 1 + i as u32;
        ws.write_number(r, 0, k.year)?;
        ws.write_number_with_format(r, 1, k.t.eg as f64, &count)?;
        if k.has_ig() {
            ws.write_number_with_format(r, 2, k.t.ig as f64, &count)?;
        }
        ws.write_with_format(r, 3, k.t.total.decimal(), &chf)?;
    }
    // Districts: a row per year, a column per district (totals).
    let top = canton.len() as u32 + 3;
    ws.write_string_with_format(top, 0, "Jahr", &style::header())?;
    for (j, d) in district_names.iter().enumerate() {
        ws.write_string_with_format(top, 1 + j as u16, *d, &style::header())?;
    }
    for (i, k) in canton.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_number(r, 0, k.year)?;
        for (j, d) in district_names.iter().enumerate() {
            let found = figures.iter().find(|x| x.level == Level::Bezirk && x.year == k.year && x.name == *d);
            if let Some(x) = found {
                ws.write_with_format(r, 1 + j as u16, x.t.total.decimal(), &chf)?;
            }
        }
    }
    let n = canton.len() as u32;
    if n == 0 {
        return Ok(());
    }
    let chart_col = (district_names.len() as u16 + 2).max(6);
    let mut c1 = Chart::new_column();
    c1.title().set_name("Beiträge Kanton je Jahr (CHF)");
    c1.legend().set_hidden();
    c1.add_series().set_name("Beitrag total").set_categories((CHART_SHEET, 1, 0, n, 0)).set_values((
        CHART_SHEET,
        1,
        3,
        n,
        3,
    ));
    c1.y_axis().set_num_format("#,##0");
    ws.insert_chart(0, chart_col, &c1)?;
    let mut c2 = Chart::new_column();
    c2.title().set_name("Gespräche Kanton je Jahr");
    for (col, name) in [(1u16, "Erstinformationsgespräche"), (2, "Integrationsgespräche")] {
        c2.add_series().set_name(name).set_categories((CHART_SHEET, 1, 0, n, 0)).set_values((
            CHART_SHEET,
            1,
            col,
            n,
            col,
        ));
    }
    ws.insert_chart(16, chart_col, &c2)?;
    if !district_names.is_empty() {
        let mut c3 = Chart::new_column();
        c3.title().set_name("Beiträge je Bezirk und Jahr (CHF)");
        for (j, d) in district_names.iter().enumerate() {
            let c = 1 + j as u16;
            c3.add_series().set_name(*d).set_categories((CHART_SHEET, top + 1, 0, top + n, 0)).set_values((
                CHART_SHEET,
                top + 1,
                c,
                top + n,
                c,
            ));
        }
        c3.y_axis().set_num_format("#,##0");
        c3.set_width(720);
        ws.insert_chart(32, chart_col, &c3)?;
    }
    ws.set_column_width(0, 8.0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_empty_for_a_zero_or_missing_denominator() {
        assert_eq!(percent(Decimal::from(2), Some(Decimal::from(7))), Some(Decimal::new(2857, 2)));
        assert_eq!(percent(Decimal::ZERO, Some(Decimal::from(7))), Some(Decimal::ZERO));
        assert_eq!(percent(Decimal::from(2), Some(Decimal::ZERO)), None);
        assert_eq!(percent(Decimal::from(2), None), None);
        // 1 / 8 = 12.5 %; 1 / 3 = 33.33 %; 2 / 3 = 66.67 % (half away from zero).
        assert_eq!(percent(Decimal::ONE, Some(Decimal::from(8))), Some(Decimal::new(1250, 2)));
        assert_eq!(percent(Decimal::ONE, Some(Decimal::from(3))), Some(Decimal::new(3333, 2)));
        assert_eq!(percent(Decimal::from(2), Some(Decimal::from(3))), Some(Decimal::new(6667, 2)));
        // 11166 / 1298 = 8.6024…; 1 / 200 = 0.005 → 0.01.
        assert_eq!(per_resident(Chf::from_int(11_166), 1298), Some(Chf::new(Decimal::new(860, 2))));
        assert_eq!(per_resident(Chf::from_int(1), 200), Some(Chf::new(Decimal::new(1, 2))));
        assert_eq!(per_resident(Chf::from_int(1), 0), None);
        assert_eq!(per_resident(Chf::ZERO, 1), Some(Chf::ZERO));
    }

    #[test]
    fn sums_are_checked() {
        let a = Totals { eg: u64::MAX, ..Totals::default() };
        let b = Totals { eg: 1, ..Totals::default() };
        assert_eq!(combine(&a, &b), None);
        let c = Totals { booked: Some(Chf::from_int(5)), ..Totals::default() };
        assert_eq!(combine(&c, &c).and_then(|t| t.booked), Some(Chf::from_int(10)));
    }
}
