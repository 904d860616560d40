//! `beitraege stichprobe`: the reproducible selection of municipalities for a spot check
//! (Kreisschreiben 6) and the evidence for each.
//!
//! A municipality of the year's annex is selected when
//! - its contribution of the year (annex total) is at least the threshold ([`Reason::Schwelle`]);
//! - the evaluation gave it a `WERT_SPRUNG` ([`Reason::Sprung`]);
//! - it has at least [`KORREKTUREN_AB`] corrections: forms of the year replaced by a later
//!   one (state «ersetzt») plus `Korrektur` bookings of the year in active runs of the
//!   ledger ([`Reason::Korrekturen`]);
//! - of the others, a share drawn at random ([`Reason::Zufall`]): ⌈n × share / 100⌉ of the
//!   n remaining, ordered by BFS-Nr., by a partial Fisher–Yates shuffle driven by
//!   [`SplitMix64`] from the seed. The same seed and inputs give the same draw everywhere.
//!
//! The selection is decided here; the workbook and the evidence folder only show it. The
//! draw and the check's outcome are recorded in the ledger (`stichproben`).

use crate::domain::{chf_text, Bfs, Chf, Code, FileState};
use crate::evaluate::{evaluate, Evaluation, EvaluationError, EvaluationOptions};
use crate::ledger::{Booking, Ledger, LedgerError, Outcome};
use crate::write::{self, OutFile, WriteError};
use crate::zahlungslauf::plan::Art;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use thiserror::Error;

/// From this many corrections (replaced forms plus `Korrektur` bookings of the year) a
/// municipality is always checked.
pub const KORREKTUREN_AB: u32 = 2;

/// SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference `splitmix64.c`): a tiny PRNG whose
/// output depends only on its 64-bit state, so a seed gives the same numbers on every
/// platform and in every version of this program.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` without modulo bias (rejection of the incomplete last block);
    /// `n` > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        let limit = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < limit {
                return x % n;
            }
        }
    }
}

/// A municipality that can be selected, with what the selection looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub bfs: Bfs,
    pub name: String,
    pub district: String,
    /// The contribution of the year (annex total).
    pub total: Chf,
    pub sprung: bool,
    /// Replaced forms plus `Korrektur` bookings of the year.
    pub corrections: u32,
}

/// Why a municipality was selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Schwelle,
    Sprung,
    Korrekturen,
    Zufall,
}

/// A selected municipality with every reason that applies (the draw only for those no
/// other reason selected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub candidate: Candidate,
    pub reasons: Vec<Reason>,
}

/// The parameters of a draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub threshold: Chf,
    /// Percent of the remaining municipalities drawn at random, 0 to 100.
    pub share: Decimal,
    pub seed: u64,
}

impl Selected {
    /// The German text of the reasons, for the workbook and the ledger.
    pub fn reason_text(&self, d: &Draw) -> String {
        self.reasons
            .iter()
            .map(|r| match r {
                Reason::Schwelle => {
                    format!("Beitrag CHF {} ≥ Schwelle CHF {}", chf_text(self.candidate.total), chf_text(d.threshold))
                }
                Reason::Sprung => "Wertsprung (WERT_SPRUNG)".to_string(),
                Reason::Korrekturen => {
                    format!("{} Korrekturen (ersetzte Formulare, Korrekturbuchungen)", self.candidate.corrections)
                }
                Reason::Zufall => format!("Zufallsauswahl ({} % der übrigen, Seed {})", d.share.normalize(), d.seed),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Why a selection could not be made.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("Der Anteil der Zufallsauswahl muss zwischen 0 und 100 Prozent liegen (angegeben: {0}).")]
    Share(Decimal),
    #[error("Die Schwelle darf nicht negativ sein (angegeben: CHF {0}).")]
    Threshold(Chf),
}

/// How many of `n` the share draws: ⌈n × share / 100⌉ (checked).
pub fn drawn_count(n: usize, share: Decimal) -> Result<usize, SelectError> {
    if share < Decimal::ZERO || share > Decimal::ONE_HUNDRED {
        return Err(SelectError::Share(share));
    }
    let k = Decimal::from(n as u64)
        .checked_mul(share)
        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
        .ok_or(SelectError::Share(share))?
        .ceil();
    Ok(usize::try_from(rust_decimal::prelude::ToPrimitive::to_u64(&k).unwrap_or(0)).unwrap_or(n).min(n))
}

/// The selection, ordered by BFS-Nr.
pub fn select(candidates: &[Candidate], d: &Draw) -> Result<Vec<Selected>, SelectError> {
    if d.threshold.is_negative() {
        return Err(SelectError::Threshold(d.threshold));
    }
    let mut by_bfs: BTreeMap<Bfs, &Candidate> = BTreeMap::new();
    for c in candidates {
        by_bfs.insert(c.bfs, c);
    }
    let mut selected: BTreeMap<Bfs, Selected> = BTreeMap::new();
    let mut rest: Vec<Bfs> = Vec::new();
    for (bfs, c) in &by_bfs {
        let mut reasons = Vec::new();
        if c.total >= d.threshold {
            reasons.push(Reason::Schwelle);
        }
        if c.sprung {
            reasons.push(Reason::Sprung);
        }
        if c.corrections >= KORREKTUREN_AB {
            reasons.push(Reason::Korrekturen);
        }
        if reasons.is_empty() {
            rest.push(*bfs);
        } else {
            selected.insert(*bfs, Selected { candidate: (*c).clone(), reasons });
        }
    }
    let k = drawn_count(rest.len(), d.share)?;
    let mut rng = SplitMix64::new(d.seed);
    for i in 0..k {
        let j = i + rng.below((rest.len() - i) as u64) as usize;
        rest.swap(i, j);
    }
    for bfs in &rest[..k] {
        selected.insert(*bfs, Selected { candidate: by_bfs[bfs].clone(), reasons: vec![Reason::Zufall] });
    }
    Ok(selected.into_values().collect())
}

/// What `beitraege stichprobe` needs.
#[derive(Debug, Clone)]
pub struct StichprobeOptions {
    /// The year's evaluation as `run` does it (inbox root, master data, limits).
    pub run: EvaluationOptions,
    /// The output folder of this sample (replaced atomically).
    pub out: PathBuf,
    pub threshold: Chf,
    pub share: Decimal,
    pub seed: u64,
    /// The ledger: corrections, statements, bookings; the draw is recorded in it.
    pub ledger: Option<PathBuf>,
    /// Who draws (operating-system account).
    pub person: String,
    /// When (local time text) and the statement's date.
    pub at: String,
    pub date: NaiveDate,
}

/// Why the sample could not be drawn (nothing written, nothing recorded).
#[derive(Debug, Error)]
pub enum StichprobeError {
    #[error(transparent)]
    Run(#[from] EvaluationError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("Die Datei «{0}» hat sich seit dem Lesen verändert oder ist nicht mehr lesbar; es wurde nichts geschrieben. Bitte die Stichprobe erneut ziehen.")]
    InboxChanged(String),
}

/// What a sample produced.
pub struct StichprobeReport {
    pub selected: Vec<Selected>,
    pub draw: Draw,
    pub out: PathBuf,
    pub written: Vec<String>,
    /// The draw is in the ledger.
    pub recorded: bool,
}

/// The file name of the sample workbook.
pub fn workbook_name(year: i32, seed: u64) -> String {
    format!("Stichprobe_{year}_{seed}.xlsx")
}

/// The evidence folder of a municipality.
pub fn evidence_folder(bfs: Bfs, name: &str) -> String {
    format!("Belege/{bfs}_{}", write::style::safe_name(name))
}

/// The candidates of a year: every municipality of the annex, with its `WERT_SPRUNG` and its
/// corrections (replaced forms of the year; `Korrektur` bookings of the year in active runs).
pub fn candidates(eval: &Evaluation, bookings: &[Booking], active: &BTreeSet<String>) -> Vec<Candidate> {
    let sprung: BTreeSet<Bfs> =
        eval.findings.iter().filter(|f| f.code == Code::WertSprung).filter_map(|f| f.bfs).collect();
    let mut corrections: BTreeMap<Bfs, u32> = BTreeMap::new();
    for f in &eval.resolved.files {
        let of_year = f.result.period().is_some_and(|p| p.year() == eval.year);
        if f.state == FileState::Ersetzt && of_year {
            if let Some(b) = f.result.bfs() {
                *corrections.entry(b).or_default() += 1;
            }
        }
    }
    for b in bookings {
        if b.art == Art::Korrektur && b.periode.year == eval.year && active.contains(&b.run_id) {
            *corrections.entry(b.bfs).or_default() += 1;
        }
    }
    eval.comp
        .rows
        .iter()
        .map(|r| Candidate {
            bfs: r.bfs,
            name: r.name.clone(),
            district: r.district.clone(),
            total: r.total,
            sprung: sprung.contains(&r.bfs),
            corrections: corrections.get(&r.bfs).copied().unwrap_or(0),
        })
        .collect()
}

/// Draws the sample, writes the workbook and the evidence folders atomically into
/// `opts.out`, and records the draw in the ledger (after the outputs are committed: a draw
/// is recorded only with its evidence).
pub fn execute(opts: &StichprobeOptions) -> Result<StichprobeReport, StichprobeError> {
    crate::evaluate::check_out_apart(&opts.run.inbox, &opts.out)?;
    if let Some(l) = &opts.ledger {
        write::commit::check_ledger_place(l, Some(&opts.run.inbox), &[&opts.out]).map_err(WriteError::from)?;
    }
    let out = write::OutputDir::open(&opts.out).map_err(WriteError::from)?;
    let eval = evaluate(&opts.run)?;
    let ledger = opts.ledger.as_deref().map(Ledger::open_read_only).transpose()?;
    let (bookings, active) = match &ledger {
        Some(l) => (l.verify()?, l.active_runs()?.into_iter().map(|r| r.run_id).collect()),
        None => (Vec::new(), BTreeSet::new()),
    };
    let draw = Draw { threshold: opts.threshold, share: opts.share, seed: opts.seed };
    let selected = select(&candidates(&eval, &bookings, &active), &draw)?;
    let mut files = vec![sample_workbook(&eval, &selected, &draw, &opts.person, &opts.at, opts.date)?];
    for s in &selected {
        files.extend(evidence(opts, &eval, ledger.as_ref(), &bookings, s)?);
    }
    out.commit(&files).map_err(WriteError::from)?;
    drop(ledger);
    let recorded = match &opts.ledger {
        Some(p) => {
            let mut l = Ledger::open(p)?;
            let rows: Vec<(Bfs, String)> = selected.iter().map(|s| (s.candidate.bfs, s.reason_text(&draw))).collect();
            l.record_sample(eval.year, draw.seed, &opts.person, &opts.at, env!("CARGO_PKG_VERSION"), &rows)?;
            true
        }
        None => false,
    };
    Ok(StichprobeReport {
        selected,
        draw,
        out: opts.out.clone(),
        written: files.iter().map(|f| f.rel.clone()).collect(),
        recorded,
    })
}

/// A municipality's evidence: its forms of the year as received (byte copies, each checked
/// against the SHA-256 read by the evaluation) with `SHA256SUMS.txt`; with a ledger its
/// statement (`Kontoauszug.xlsx`, whose sheet `Korrespondenz` lists its letters and invoices)
/// and its bookings (`Buchungen.csv`, an extract of the journal).
fn evidence(
    opts: &StichprobeOptions,
    eval: &Evaluation,
    ledger: Option<&Ledger>,
    bookings: &[Booking],
    s: &Selected,
) -> Result<Vec<OutFile>, StichprobeError> {
    let bfs = s.candidate.bfs;
    let dir = evidence_folder(bfs, &s.candidate.name);
    let mut files = Vec::new();
    let mut sums = String::new();
    let limits = &opts.run.limits;
    for f in &eval.resolved.files {
        let r = &f.result;
        if r.bfs() != Some(bfs) || r.period().is_none_or(|p| p.year() != eval.year) {
            continue;
        }
        let Some(sha) = &r.file.sha256 else { continue };
        let path = opts.run.inbox.join(&r.file.rel);
        let bytes = crate::fsio::read_regular_file(&path, limits.max_file_bytes)
            .map_err(|_| StichprobeError::InboxChanged(r.file.rel.clone()))?;
        if crate::fsio::sha256_hex(&bytes) != *sha {
            return Err(StichprobeError::InboxChanged(r.file.rel.clone()));
        }
        let rel = format!("Formulare/{}", r.file.rel);
        sums.push_str(&format!("{sha}  {rel}\n"));
        files.push(OutFile { rel: format!("{dir}/{rel}"), bytes });
    }
    files.push(OutFile { rel: format!("{dir}/SHA256SUMS.txt"), bytes: sums.into_bytes() });
    if let Some(l) = ledger {
        let st = crate::zahlungslauf::konto::statement(l, Some(bfs), opts.date)?;
        let mut wb = crate::zahlungslauf::workbook::konto_workbook(&st, &eval.master, env!("CARGO_PKG_VERSION"))?;
        wb.rel = format!("{dir}/Kontoauszug.xlsx");
        files.push(wb);
        files.push(OutFile { rel: format!("{dir}/Buchungen.csv"), bytes: bookings_csv(bookings, bfs).into_bytes() });
    }
    Ok(files)
}

/// The bookings of a municipality (as municipality or as payee): an extract of the
/// journal (`Buchungsjournal.csv`'s columns, without its hash chain).
pub fn bookings_csv(bookings: &[Booking], bfs: Bfs) -> String {
    crate::ledger::journal::extract(bookings.iter().filter(|b| b.bfs == bfs || b.payee == bfs))
}

/// The workbook that lists the sample: the draw's parameters, then one row per selected
/// municipality with why.
fn sample_workbook(
    eval: &Evaluation,
    selected: &[Selected],
    d: &Draw,
    person: &str,
    at: &str,
    run_date: NaiveDate,
) -> Result<OutFile, WriteError> {
    let name = workbook_name(eval.year, d.seed);
    let mut wb = write::style::workbook(&format!("Stichprobe {} (Seed {})", eval.year, d.seed), run_date);
    fill_sample_sheet(wb.add_worksheet(), eval.year, selected, d, person, at).map_err(write::xl(&name))?;
    write::save(name, &mut wb)
}

fn fill_sample_sheet(
    ws: &mut rust_xlsxwriter::Worksheet,
    year: i32,
    selected: &[Selected],
    d: &Draw,
    person: &str,
    at: &str,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::Format;
    ws.set_name("Stichprobe")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let head: [(&str, String); 6] = [
        ("Beitragsjahr", year.to_string()),
        ("Seed", d.seed.to_string()),
        ("Schwelle CHF", chf_text(d.threshold)),
        ("Anteil Zufallsauswahl %", d.share.normalize().to_string()),
        ("Gezogen von", person.to_string()),
        ("Gezogen am", at.to_string()),
    ];
    for (i, (k, v)) in head.iter().enumerate() {
        ws.write_string_with_format(i as u32, 0, *k, &bold)?;
        ws.write_string(i as u32, 1, v)?;
    }
    let top = head.len() as u32 + 1;
    for (c, h) in ["BFS-Nr.", "Gemeinde", "Bezirk", "Beitrag CHF", "Korrekturen", "Grund", "Belege"].iter().enumerate()
    {
        ws.write_string_with_format(top, c as u16, *h, &bold)?;
    }
    for (i, s) in selected.iter().enumerate() {
        let r = top + 1 + i as u32;
        let c = &s.candidate;
        ws.write_number(r, 0, c.bfs)?;
        ws.write_string(r, 1, &c.name)?;
        ws.write_string(r, 2, &c.district)?;
        ws.write_with_format(r, 3, c.total.decimal(), &money)?;
        ws.write_number(r, 4, c.corrections)?;
        ws.write_string(r, 5, s.reason_text(d))?;
        ws.write_string(r, 6, evidence_folder(c.bfs, &c.name))?;
    }
    for (col, w) in [(1, 24.0), (2, 16.0), (3, 14.0), (5, 60.0), (6, 30.0)] {
        ws.set_column_width(col, w)?;
    }
    Ok(())
}

/// Records the outcome of a spot check (`--ergebnis`), refused for the person who drew it.
pub fn record_outcome(
    ledger: &std::path::Path,
    year: i32,
    bfs: Bfs,
    outcome: Outcome,
    note: &str,
    person: &str,
    at: &str,
) -> Result<crate::ledger::SampleRow, LedgerError> {
    let mut l = Ledger::open(ledger)?;
    l.record_outcome(year, bfs, outcome, note, person, at, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference output of `splitmix64.c` for the state 0.
    #[test]
    fn splitmix64_matches_the_reference_vector() {
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    fn c(bfs: Bfs, total: i64) -> Candidate {
        Candidate {
            bfs,
            name: format!("G{bfs}"),
            district: "B".into(),
            total: Chf::from_int(total),
            sprung: false,
            corrections: 0,
        }
    }

    #[test]
    fn the_share_is_rounded_up_and_bounded() {
        assert_eq!(drawn_count(10, Decimal::from(10)), Ok(1));
        assert_eq!(drawn_count(10, Decimal::new(101, 1)), Ok(2));
        assert_eq!(drawn_count(10, Decimal::ZERO), Ok(0));
        assert_eq!(drawn_count(10, Decimal::ONE_HUNDRED), Ok(10));
        assert_eq!(drawn_count(0, Decimal::from(50)), Ok(0));
        assert!(drawn_count(10, Decimal::new(10001, 2)).is_err());
        assert!(drawn_count(10, Decimal::new(-1, 2)).is_err());
    }

    #[test]
    fn threshold_sprung_and_corrections_select_on_their_side_only() {
        let mut cs = vec![c(1, 100_000), c(2, 99_999), c(3, 10), c(4, 10), c(5, 10)];
        cs[2].sprung = true;
        cs[3].corrections = KORREKTUREN_AB;
        cs[4].corrections = KORREKTUREN_AB - 1;
        let d = Draw { threshold: Chf::from_int(100_000), share: Decimal::ZERO, seed: 1 };
        let s = select(&cs, &d).unwrap();
        let got: Vec<(Bfs, Vec<Reason>)> = s.iter().map(|s| (s.candidate.bfs, s.reasons.clone())).collect();
        assert_eq!(got, vec![(1, vec![Reason::Schwelle]), (3, vec![Reason::Sprung]), (4, vec![Reason::Korrekturen])]);
    }

    /// A literal draw for a literal seed: 10 remaining, 30 % → 3. The expectation comes from
    /// an independent implementation of the reference algorithm (a few lines of Python:
    /// SplitMix64, rejection below n, partial Fisher–Yates), not from this code.
    #[test]
    fn the_draw_is_reproducible_from_its_seed() {
        let cs: Vec<Candidate> = (1..=10).map(|b| c(b, 10)).collect();
        let d = Draw { threshold: Chf::from_int(1000), share: Decimal::from(30), seed: 42 };
        let a: Vec<Bfs> = select(&cs, &d).unwrap().iter().map(|s| s.candidate.bfs).collect();
        assert_eq!(a, DRAW_42);
        let b: Vec<Bfs> = select(&cs, &d).unwrap().iter().map(|s| s.candidate.bfs).collect();
        assert_eq!(a, b);
        let other = Draw { seed: 43, ..d };
        let c43: Vec<Bfs> = select(&cs, &other).unwrap().iter().map(|s| s.candidate.bfs).collect();
        assert_eq!(c43.len(), 3);
    }

    const DRAW_42: [Bfs; 3] = [3, 4, 5];
}
