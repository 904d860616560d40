//! The feedback letter (PDF) to a municipality with findings, next to its workbook:
//! `Rueckmeldungen/<BFS>_<Gemeinde>.pdf`. It says in plain German what was found, where
//! (file, sheet, cell) and how to fix it (the catalogue's texts), which amounts are withheld,
//! by when to answer and whom to ask.

use super::pdf::{self, Meta, Page};
use super::{
    amount_line_height, answer_by, doc_error, letterhead, long_date, para_height, recipient_address, sender,
    signature_height, Flow, BODY, BOTTOM, CLOSING_AFTER,
};
use crate::catalogue::unmet_text;
use crate::compute::{component_label, AnnexRow, Item, Line, Reason, RowStatus};
use crate::domain::chf_text;
use crate::domain::{Bfs, Chf, Finding, Severity, Unmet};
use crate::write::{feedback, EvaluationData, OutFile, WriteError};
use std::collections::BTreeSet;

/// The letter's path: the workbook's with `.pdf`.
pub fn file_name(d: &EvaluationData<'_>, bfs: Bfs) -> String {
    let book = feedback::file_name(bfs, &d.name_of(Some(bfs)));
    format!("{}.pdf", book.strip_suffix(".xlsx").unwrap_or(&book))
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Fehler => 0,
        Severity::Warnung => 1,
        Severity::Hinweis => 2,
    }
}

/// Where a finding is: `Datei «…», Blatt «Reporting», Zelle B13`.
pub fn place(f: &Finding) -> String {
    let mut parts = Vec::new();
    match &f.file {
        Some(file) => parts.push(format!("Datei «{file}»")),
        None => parts.push("ganze Gemeinde".to_string()),
    }
    if let Some(s) = f.sheet() {
        parts.push(format!("Blatt «{s}»"));
    }
    if let Some(c) = f.cell() {
        parts.push(format!("Zelle {c}"));
    }
    parts.join(", ")
}

/// The municipalities a recipient's letter covers: itself, its contract's members at year
/// end, and everyone whose findings it receives.
pub fn covered(d: &EvaluationData<'_>, bfs: Bfs) -> BTreeSet<Bfs> {
    let mut c = d.master.members_of(bfs, crate::domain::ymd(d.year, 12, 31));
    c.insert(bfs);
    c.extend(d.findings.iter().filter_map(|f| f.bfs).filter(|b| feedback::recipient(d, *b) == bfs));
    c
}

/// What the statements of the covered municipalities withhold, in all: the sum of their
/// lines' `withheld` (compute's figures; `None` only if the sum left `Decimal`'s range).
pub fn withheld_total(d: &EvaluationData<'_>, covered: &BTreeSet<Bfs>) -> Option<Chf> {
    d.comp
        .rows
        .iter()
        .filter(|r| covered.contains(&r.bfs))
        .try_fold(Chf::ZERO, |a, r| a.checked_add(r.withheld_total()?))
}

/// Why the letter says a group of lines is withheld or not paid (the deciding reason of
/// compute's statement, with the municipality whose Selbstdeklaration decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// No Selbstdeklaration of `who` (the municipality's own or its lead's) for the year.
    SdMissing { who: Bfs },
    /// The Selbstdeklaration of `who` fails these conditions of 4.2.
    NotEligible { who: Bfs, reasons: Vec<Unmet> },
    /// An amount left the range the program computes in.
    OutOfRange,
    /// A Fehler or `LEIT_SUMME` of a report.
    Report(Reason),
}

impl Why {
    /// The group a statement reason puts its line in; `None`: nothing withheld for it.
    fn of(row: &AnnexRow, reason: &Reason) -> Option<Why> {
        let who = |lead: &Option<crate::compute::Lead>| lead.as_ref().map_or(row.bfs, |l| l.bfs);
        match reason {
            Reason::Status(RowStatus::Eligible) => None,
            Reason::Status(RowStatus::SdMissing { lead, .. }) => Some(Why::SdMissing { who: who(lead) }),
            Reason::Status(RowStatus::NotEligible { lead, reasons }) => {
                Some(Why::NotEligible { who: who(lead), reasons: reasons.clone() })
            }
            Reason::Status(RowStatus::OutOfRange) => Some(Why::OutOfRange),
            Reason::LeitSumme { .. } | Reason::Fehler { .. } => Some(Why::Report(reason.clone())),
            Reason::NoReport | Reason::Clawbacks(_) => None,
        }
    }
}

/// Lines of the covered municipalities' statements withheld for one reason.
pub struct Group<'a> {
    pub why: Why,
    /// The municipalities whose amounts it withholds.
    pub rows: BTreeSet<Bfs>,
    /// The lines the letter lists: an amount withheld, or a component withheld by a Fehler
    /// whose value could not be used (its amount is open until the corrected form).
    pub lines: Vec<(&'a AnnexRow, &'a Line)>,
}

/// The withheld lines of the covered municipalities by deciding reason, in statement order;
/// a municipality whose status withholds its amounts has its group even when no line of it
/// carries an amount.
pub fn groups<'a>(d: &EvaluationData<'a>, covered: &BTreeSet<Bfs>) -> Vec<Group<'a>> {
    fn group<'g, 'a>(out: &'g mut Vec<Group<'a>>, why: Why) -> &'g mut Group<'a> {
        let i = match out.iter().position(|g| g.why == why) {
            Some(i) => i,
            None => {
                out.push(Group { why, rows: BTreeSet::new(), lines: Vec::new() });
                out.len() - 1
            }
        };
        &mut out[i]
    }
    let mut out = Vec::new();
    for row in d.comp.rows.iter().filter(|r| covered.contains(&r.bfs)) {
        if let Some(why) = Why::of(row, &Reason::Status(row.status.clone())) {
            group(&mut out, why).rows.insert(row.bfs);
        }
        for line in &row.statement {
            let (Some(first), Some(held)) = (line.reasons.first(), line.withheld) else { continue };
            let Some(why) = Why::of(row, first) else { continue };
            if held > Chf::ZERO || matches!(first, Reason::Fehler { .. }) {
                let g = group(&mut out, why);
                g.rows.insert(row.bfs);
                g.lines.push((row, line));
            }
        }
    }
    out
}

/// Whether every group is a municipality not eligible (4.2): its amounts are not paid for
/// the year rather than withheld until a form arrives.
pub fn not_eligible_only(groups: &[Group<'_>]) -> bool {
    !groups.is_empty() && groups.iter().all(|g| matches!(g.why, Why::NotEligible { .. }))
}

/// Half-years without a usable report, as compute's statement has them:
/// `Büsserach (2614), 1. Halbjahr 2023`.
pub fn missing_reports(d: &EvaluationData<'_>, covered: &BTreeSet<Bfs>) -> Vec<String> {
    let mut out = Vec::new();
    for row in d.comp.rows.iter().filter(|r| covered.contains(&r.bfs)) {
        for line in &row.statement {
            if let Item::NoReport { period } = &line.item {
                out.push(format!("{} ({}), {}", row.name, row.bfs, period.label()));
            }
        }
    }
    out
}

/// A line's label in the letter: `Gunzgen (2578), Sockelbeitrag 2023`.
fn line_label(d: &EvaluationData<'_>, row: &AnnexRow, line: &Line) -> String {
    let what = match &line.item {
        Item::Sockel => format!("Sockelbeitrag {}", d.year),
        Item::Component { period, component } => format!("{}, {}", component_label(*component), period.label()),
        Item::NoReport { period } => format!("Fall- und Dolmetschpauschalen, {}", period.label()),
        Item::Clawback => format!("Rückforderung {}", d.year),
    };
    format!("{} ({}), {what}", row.name, row.bfs)
}

/// `Gunzgen (2578)`, `Gunzgen (2578) und Härkingen (2402)`.
fn names(d: &EvaluationData<'_>, rows: &BTreeSet<Bfs>) -> String {
    let all: Vec<String> = rows.iter().map(|b| format!("{} ({b})", d.name_of(Some(*b)))).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} und {last}", rest.join(", ")),
        _ => all.join(""),
    }
}

/// What the letter says about a group before its lines, and after them (what would change it).
fn explain(d: &EvaluationData<'_>, g: &Group<'_>) -> (String, Option<String>) {
    let y = d.year;
    let own = |who: Bfs| g.rows.len() == 1 && g.rows.contains(&who);
    let who_name = |who: Bfs| format!("{} ({who})", d.name_of(Some(who)));
    match &g.why {
        Why::SdMissing { who } if own(*who) => (
            format!(
                "Von {} liegt keine Selbstdeklaration {y} (Anhang Nr. 3) vor. Ohne sie lässt sich nicht feststellen, \
                 ob die Voraussetzungen nach Ziffer 4.2 erfüllt sind; bis sie eingeht, werden alle Beiträge {y} \
                 zurückbehalten (Ziffer 5.2). Sie werden ausgerichtet, sobald eine Selbstdeklaration {y} eingeht, \
                 welche die Voraussetzungen nach Ziffer 4.2 erfüllt.",
                who_name(*who)
            ),
            None,
        ),
        Why::SdMissing { who } => (
            format!(
                "Von der Leitgemeinde {} liegt keine Selbstdeklaration {y} (Anhang Nr. 3) vor. Bei vertraglich \
                 zusammengeschlossenen Gemeinden muss die Leitgemeinde die Voraussetzungen nach Ziffer 4.2 erfüllen; \
                 bis ihre Selbstdeklaration eingeht, werden die Beiträge {y} an {} zurückbehalten (Ziffer 5.2). Sie \
                 werden ausgerichtet, sobald eine Selbstdeklaration {y} der Leitgemeinde eingeht, welche die \
                 Voraussetzungen nach Ziffer 4.2 erfüllt.",
                who_name(*who),
                names(d, &g.rows)
            ),
            None,
        ),
        Why::NotEligible { who, reasons } => {
            let unmet = reasons.iter().map(unmet_text).collect::<Vec<_>>().join("; ");
            let intro = if own(*who) {
                format!(
                    "{} ist für das Jahr {y} nicht beitragsberechtigt: Die Selbstdeklaration {y} erfüllt die \
                     Voraussetzungen nach Ziffer 4.2 nicht ({unmet}). Für {y} werden darum keine Beiträge \
                     ausgerichtet, weder der Sockelbeitrag noch die Fall- und Dolmetschpauschalen.",
                    who_name(*who)
                )
            } else {
                format!(
                    "Die Selbstdeklaration {y} der Leitgemeinde {} erfüllt die Voraussetzungen nach Ziffer 4.2 nicht \
                     ({unmet}). Bei vertraglich zusammengeschlossenen Gemeinden muss die Leitgemeinde sie erfüllen; \
                     für {y} werden darum an {} keine Beiträge ausgerichtet, weder der Sockelbeitrag noch die Fall- \
                     und Dolmetschpauschalen.",
                    who_name(*who),
                    names(d, &g.rows)
                )
            };
            let after = format!(
                "Das ändert sich, wenn {} die Voraussetzungen nach Ziffer 4.2 erfüllt (die Leistungserbringung ist \
                 organisatorisch geregelt; eine/n Integrationsbeauftragte/n ist bezeichnet und mit der \
                 Aufgabenerfüllung beauftragt; die Aufgaben von start.integration werden umgesetzt) und uns eine \
                 Selbstdeklaration {y} einreicht, die das bestätigt: Dann werden die Beiträge {y} mit der nächsten \
                 Auszahlung ausgerichtet (Ziffer 4.5.2).",
                if own(*who) { who_name(*who) } else { format!("die Leitgemeinde {}", who_name(*who)) }
            );
            (intro, Some(after))
        }
        Why::OutOfRange => (format!("{}: {}", names(d, &g.rows), RowStatus::OutOfRange.label()), None),
        Why::Report(reason) => {
            (format!("{}. Bis ein korrigiertes Formular eingeht, wird zurückbehalten:", reason.text()), None)
        }
    }
}

/// A piece of the withheld section: a paragraph (with the space after it) or an amount line.
enum Piece {
    Para(String, f32),
    Amount { label: String, amount: String, bold: bool, after: f32 },
}

impl Piece {
    fn height(&self) -> f32 {
        match self {
            Piece::Para(t, after) => para_height(t, BODY, false, 0.0, *after),
            Piece::Amount { label, bold, after, .. } => amount_line_height(label, BODY, *bold) + after,
        }
    }
    fn draw(&self, f: &mut Flow) {
        match self {
            Piece::Para(t, after) => f.para(t, BODY, false, 0.0, *after),
            Piece::Amount { label, amount, bold, after } => {
                f.amount_line(label, amount, BODY, *bold);
                f.y += after;
            }
        }
    }
}

/// The section on what is withheld, from compute's statement: per reason what it is, the
/// lines and their amounts, the total, what would change it; half-years without a report.
/// Each block (a reason with its lines; the last one with the total) stays on one page, and
/// the heading with the first block.
fn withheld_section(f: &mut Flow, d: &EvaluationData<'_>, covered: &BTreeSet<Bfs>) {
    let gs = groups(d, covered);
    let missing = missing_reports(d, covered);
    let not_paid = not_eligible_only(&gs);
    let heading = if not_paid { "Nicht ausgerichtete Beträge" } else { "Zurückbehaltene Beträge" };
    let total_label = if not_paid { "Total nicht ausgerichtet" } else { "Total zurückbehalten" };
    let has_amount = |g: &Group<'_>| g.lines.iter().any(|(_, line)| line.withheld.is_some_and(|w| !w.is_zero()));
    let last_with_amount = gs.iter().rposition(has_amount);
    let mut blocks: Vec<Vec<Piece>> = Vec::new();
    if gs.is_empty() && missing.is_empty() {
        blocks.push(vec![Piece::Para("Aufgrund dieser Punkte werden keine Beträge zurückbehalten.".into(), 3.0)]);
    }
    let mut open = false;
    let mut afters = Vec::new();
    for (i, g) in gs.iter().enumerate() {
        let (intro, after) = explain(d, g);
        let n = g.lines.len();
        let mut block = vec![Piece::Para(intro, if n == 0 { 3.0 } else { 1.5 })];
        for (k, (row, line)) in g.lines.iter().enumerate() {
            let held = line.withheld.unwrap_or_default();
            let amount = if held.is_zero() {
                open = true;
                "Betrag offen".to_string()
            } else {
                format!("CHF {}", chf_text(held))
            };
            let after = if k + 1 == n { 3.0 } else { 0.0 };
            block.push(Piece::Amount { label: line_label(d, row, line), amount, bold: false, after });
        }
        if Some(i) == last_with_amount {
            let total = withheld_total(d, covered)
                .map_or("(nicht berechenbar)".to_string(), |t| format!("CHF {}", chf_text(t)));
            block.push(Piece::Amount { label: total_label.into(), amount: total, bold: true, after: 3.0 });
        }
        blocks.push(block);
        afters.extend(after);
    }
    blocks.extend(afters.into_iter().map(|a| vec![Piece::Para(a, 3.0)]));
    if open {
        let text = "Betrag offen: Der gemeldete Wert ist nicht verwendbar; der Betrag ergibt sich aus dem \
                    korrigierten Formular.";
        blocks.push(vec![Piece::Para(text.into(), 3.0)]);
    }
    for m in &missing {
        blocks.push(vec![Piece::Para(
            format!(
                "{m}: Es liegt kein gültiges Reportingformular vor; für dieses Halbjahr werden derzeit keine \
                 Fall- und Dolmetschpauschalen ausgerichtet (Ziffer 5.2)."
            ),
            2.0,
        )]);
    }
    let height = |b: &[Piece]| b.iter().map(Piece::height).sum::<f32>();
    f.keep(para_height(heading, 11.0, true, 0.0, 2.0) + blocks.first().map_or(0.0, |b| height(b)));
    f.para(heading, 11.0, true, 0.0, 2.0);
    for b in &blocks {
        f.keep(height(b));
        for p in b {
            p.draw(f);
        }
    }
}

pub fn write(d: &EvaluationData<'_>, bfs: Bfs, findings: &[&Finding]) -> Result<OutFile, WriteError> {
    let rel = file_name(d, bfs);
    let name = d.name_of(Some(bfs));
    let s = sender(d);
    let (to, contact) = recipient_address(d, bfs);
    let mut to_lines = to.lines();
    if let Some(c) = contact.filter(|c| !c.contact_person.is_empty()) {
        to_lines.insert(1, format!("z. Hd. {}", c.contact_person));
    }
    let mut sorted: Vec<&Finding> = findings.to_vec();
    sorted.sort_by_key(|f| rank(f.severity));
    let covered = covered(d, bfs);

    let mut first = Page::default();
    let subject = format!("Berichterstattung start.integration {}: Rückmeldung an {name} (BFS-Nr. {bfs})", d.year);
    let y = letterhead(&mut first, &s, &to_lines, d.run_date, &subject);
    let mut f = Flow::new(first, y, BOTTOM);
    let body = BODY;
    f.para("Sehr geehrte Damen und Herren", body, false, 0.0, 3.0);
    let book = feedback::file_name(bfs, &name);
    let book = book.rsplit('/').next().unwrap_or(&book);
    f.para(
        &format!(
            "Wir haben die Formulare zur Berichterstattung start.integration {} geprüft, die Sie uns eingereicht \
             haben. Dabei haben wir die folgenden Punkte festgestellt. Bei einem Fehler wird der betroffene Betrag \
             zurückbehalten, bis ein korrigiertes Formular eingeht; eine Warnung bitten wir Sie zu prüfen; ein Hinweis \
             dient Ihrer Information. Die beiliegende Excel-Datei «{book}» enthält dieselben Punkte und Ihre \
             Formulare mit den markierten Zellen.",
            d.year
        ),
        body,
        false,
        0.0,
        3.0,
    );
    let others: Vec<String> =
        covered.iter().filter(|b| **b != bfs).map(|b| format!("{} ({b})", d.name_of(Some(*b)))).collect();
    if !others.is_empty() {
        f.para(&format!("Dieses Schreiben umfasst auch die Punkte zu: {}.", others.join(", ")), body, false, 0.0, 3.0);
    }
    let counts = crate::catalogue::severity_counts(sorted.iter().map(|x| x.severity));
    // Each finding is one block (heading, message, correction) that a page break does not split.
    let blocks: Vec<[String; 3]> = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let concerns = x.bfs.filter(|b| *b != bfs).map(|b| format!(" – betrifft {} ({b})", d.name_of(Some(b))));
            let mut text = x.message.clone();
            if let Some(v) = x.value.as_deref().filter(|v| !v.is_empty()) {
                text.push_str(&format!(" Gefundener Wert: «{v}»."));
            }
            [
                format!("{}. {}: {}{}", i + 1, x.severity.label(), place(x), concerns.unwrap_or_default()),
                text,
                format!("Korrektur: {}", x.fix),
            ]
        })
        .collect();
    let block_height = |b: &[String; 3]| {
        para_height(&b[0], body, true, 0.0, 0.5)
            + para_height(&b[1], body, false, 5.0, 0.5)
            + para_height(&b[2], body, false, 5.0, 2.5)
    };
    let heading = format!("Festgestellte Punkte ({counts})");
    f.keep(para_height(&heading, 11.0, true, 0.0, 2.0) + blocks.first().map(block_height).unwrap_or(0.0));
    f.para(&heading, 11.0, true, 0.0, 2.0);
    for b in &blocks {
        f.keep(block_height(b));
        f.para(&b[0], body, true, 0.0, 0.5);
        f.para(&b[1], body, false, 5.0, 0.5);
        f.para(&b[2], body, false, 5.0, 2.5);
    }

    withheld_section(&mut f, d, &covered);

    let due = answer_by(d);
    let mail = if s.email.is_empty() { String::new() } else { format!(" an {}", s.email) };
    let has_fehler = sorted.iter().any(|x| x.severity == Severity::Fehler);
    let asked = if has_fehler {
        let missing = !missing_reports(d, &covered).is_empty()
            || groups(d, &covered).iter().any(|g| matches!(g.why, Why::SdMissing { .. }));
        format!(
            "Bitte senden Sie uns die {} Formulare bis am {}{mail}, jedes Formular als eigene Datei. \
             Zurückbehaltene Beträge richten wir nach Eingang eines korrekten Formulars mit der nächsten \
             Auszahlung aus (Ziffer 4.5.2).",
            if missing { "fehlenden oder korrigierten" } else { "korrigierten" },
            long_date(due)
        )
    } else {
        format!(
            "Bitte prüfen Sie die Punkte bis am {}. Ein korrigiertes Formular ist nur nötig, wenn ein Wert \
             falsch gemeldet wurde.",
            long_date(due)
        )
    };
    // The AGS contact: the run's one contact text (`--kontakt`, else `Absender`, else `Kontakt`).
    let contact = d.contact.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", ");
    let last = if contact.is_empty() {
        "Für Fragen sind wir gerne für Sie da.".to_string()
    } else {
        format!("Für Fragen sind wir gerne für Sie da: {contact}.")
    };
    // The section «Frist und Kontakt» goes with the closing: all on this page or all on the next.
    let heading = "Frist und Kontakt";
    f.keep(
        para_height(heading, 11.0, true, 0.0, 2.0)
            + para_height(&asked, body, false, 0.0, 2.0)
            + para_height(&last, body, false, 0.0, CLOSING_AFTER)
            + signature_height(&s),
    );
    f.para(heading, 11.0, true, 0.0, 2.0);
    f.para(&asked, body, false, 0.0, 2.0);
    f.closing(&last, &s);
    let label = format!("Rückmeldung start.integration {} – {name} ({bfs})", d.year);
    let pages = f.finish(&label);
    let meta = Meta { title: &label, author: &s.address.name, subject: &subject, date: d.run_date };
    let bytes = pdf::render(&pages, &meta).map_err(|e| doc_error(&rel, e))?;
    Ok(OutFile { rel, bytes })
}
