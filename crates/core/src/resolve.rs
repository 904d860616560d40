//! Stage 5: resolution across files, after each file was validated on its own: byte
//! duplicates, resubmissions (the latest form wins), eligibility from the Selbstdeklaration
//! of the payee, and the municipality-level findings (`SD_FEHLT`, `BERICHT_FEHLT`).

use crate::catalogue::finding;
use crate::domain::{ymd, Bfs, Code, FileState, Finding, FormKind, Period, Unmet};
use crate::validate::{Ctx, FileResult, FormPeriod, Outcome, ReportDoc, SdDoc};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

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
        reasons: Vec<Unmet>,
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
    pub reports: BTreeMap<(Bfs, Period), ReportDoc>,
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
    (r.file.received, submitted, r.file.rel.as_bytes().to_vec())
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
        if let (Some(h), false) = (r.file.sha256.clone(), matches!(r.outcome, Outcome::Ignored)) {
            if let Some(first) = first_by_hash.get(&h) {
                let f = finding().file(&r.file.rel).bfs(r.bfs()).detail(first.clone()).build(Code::DateiDuplikat);
                r.findings = vec![f];
                entries.push(FileEntry { result: r, state: FileState::Ignoriert });
                continue;
            }
            first_by_hash.insert(h, r.file.rel.clone());
        }
        let state = match r.outcome {
            Outcome::Ignored | Outcome::OtherYear => FileState::Ignoriert,
            Outcome::Rejected => FileState::Abgelehnt,
            Outcome::Report(_) | Outcome::Sd(_) => FileState::Verarbeitet,
        };
        entries.push(FileEntry { result: r, state });
    }

    // Resubmissions: the latest by receipt date, then by date on the form, then by path.
    let mut groups: BTreeMap<(FormKind, Bfs, FormPeriod), Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        if e.state != FileState::Verarbeitet {
            continue;
        }
        match &e.result.outcome {
            Outcome::Report(d) => {
                groups.entry((FormKind::Reporting, d.bfs, FormPeriod::Half(d.period))).or_default().push(i)
            }
            Outcome::Sd(d) => {
                groups.entry((FormKind::Selbstdeklaration, d.bfs, FormPeriod::Year(d.year))).or_default().push(i)
            }
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
        let winner_rel = entries[winner].result.file.rel.clone();
        for &i in idx.iter().filter(|&&i| i != winner) {
            let e = &mut entries[i];
            let detail = format!("ersetzt durch «{winner_rel}»");
            e.result.findings =
                vec![finding().file(&e.result.file.rel).bfs(e.result.bfs()).detail(detail).build(Code::Ersetzt)];
            e.state = FileState::Ersetzt;
        }
        match &entries[winner].result.outcome {
            Outcome::Report(d) => {
                out.reports.insert((d.bfs, d.period), (**d).clone());
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
    let rejected: BTreeSet<(Bfs, FormPeriod)> = entries
        .iter()
        .filter(|e| e.state == FileState::Abgelehnt && e.result.kind() == Some(FormKind::Reporting))
        .filter_map(|e| Some((e.result.bfs()?, e.result.period()?)))
        .collect();
    for m in master.municipalities_in(y) {
        for half in [1u8, 2] {
            let p = Period::new(y, half);
            if !m.exists_on(p.last_day()) || master.is_member_not_lead(m.bfs, p.last_day()) {
                continue;
            }
            if out.eligibility(m.bfs) != Eligibility::Eligible || out.reports.contains_key(&(m.bfs, p)) {
                continue;
            }
            let rejected = rejected.contains(&(m.bfs, FormPeriod::Half(p)));
            let detail =
                if rejected { format!("{} (die eingereichte Datei wurde abgelehnt)", p.label()) } else { p.label() };
            out.municipality_findings.push(finding().bfs(Some(m.bfs)).detail(detail).build(Code::BerichtFehlt));
        }
    }
    out.files = entries;
    out
}
