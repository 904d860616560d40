//! `beitraege formulare`: the form templates the AGS sends to the municipalities at the start
//! of a period, prefilled from the master data.
//!
//! For every municipality that exists in the year and reports for itself, two
//! Reportingformulare (Anhang Nr. 2, one per half-year) and one Selbstdeklaration (Anhang
//! Nr. 3), in the exact layout of FORMS.md version 2022: the labels, rows, sheet names and
//! defined names come from [`crate::extract`], the one source of truth the reader uses too.
//! Identity cells are prefilled and locked, the input cells are unlocked on a protected
//! sheet and carry data validation with German messages. A lead municipality's Reporting-
//! formular has the `Vertragsgemeinden` sheet with its contract's members.
//!
//! The sheet layout ([`crate::write::form_layout`]) is shared with the feedback workbooks,
//! which rebuild a returned form in the same layout; this module only decides what goes into
//! a blank template.

use crate::domain::{fmt_date, ymd, Bfs, FormKind, Period};
use crate::extract::{fields_of, REPORTING_SHEET, SD_SHEET, TABLE_SHEET};
use crate::fields::{Common, FormField, TableColumn};
use crate::stammdaten::{Stammdaten, StammdatenError};
use crate::workbook::Value;
use crate::write::form_layout::{write_form_sheet, write_table_sheet, FormSheet, TableSheet};
use crate::write::{self, save, style, OutFile, WriteError};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use thiserror::Error;

/// The template version written (FORMS.md).
pub const FORM_VERSION: &str = "2022";

/// The fields prefilled from the master data and locked in a template.
pub const IDENTITY_FIELDS: &[FormField] = &[
    FormField::SiVersion,
    FormField::SiGemeinde,
    FormField::SiBfsNr,
    FormField::SiJahr,
    FormField::SiHalbjahr,
    FormField::SdVersion,
    FormField::SdGemeinde,
    FormField::SdBfsNr,
    FormField::SdJahr,
];

/// A short German help text next to a field (column C of a template).
fn hint(field: FormField) -> Option<&'static str> {
    use FormField as F;
    Some(match field {
        F::SiBeauftragte | F::SdBeauftragte => "Vorname und Name",
        F::SiEmail | F::SdEmail => "für Rückfragen des AGS",
        F::SiDatum | F::SdDatum => "Datum im Format TT.MM.JJJJ",
        F::SiEgAnzahl => "Gespräche mit Einzelpersonen, Familien oder Gruppen",
        F::SiEgDolmetsch => "über HEKS Linguadukt bestellte Einsätze (werden vergütet)",
        F::SiEgDolmetschAndere => "andere Dolmetschende (werden nicht vergütet)",
        F::SiEgPersonen => "mit den Erstinformationsgesprächen erreichte Personen",
        F::SiInfomappen => "ohne Gespräch abgegeben (werden nicht vergütet)",
        F::SiNeuzuzuege => "im Halbjahr aus dem Ausland zugezogene Personen",
        F::SiIgAnzahl => "geführte Integrationsgespräche",
        F::SiIgDolmetsch => "über HEKS Linguadukt bestellte Einsätze (werden vergütet)",
        F::SiMeldungen => "dem Kanton gemeldete Personen (Ziffer 3.2)",
        F::SdFunktion => "Funktion der/des Integrationsbeauftragten",
        F::SdLeitgemeinde => "nur bei einem Leitgemeindevertrag (§ 164 GG): Name der Leitgemeinde",
        F::SdQOrganisation | F::SdQAnlaufstelle | F::SdQErstinfo => {
            "Ja oder Nein (Voraussetzung für die Beiträge, Ziffer 4.2)"
        }
        F::SdQAngebote | F::SdQIntegrationsgespraeche | F::SdQVernetzung => "Ja oder Nein",
        F::SiVersion
        | F::SiGemeinde
        | F::SiBfsNr
        | F::SiJahr
        | F::SiHalbjahr
        | F::SiBemerkungen
        | F::SdVersion
        | F::SdGemeinde
        | F::SdBfsNr
        | F::SdJahr
        | F::SdBemerkungen => return None,
    })
}

// ---------------------------------------------------------------------------
// Which templates, for whom
// ---------------------------------------------------------------------------

/// What a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TemplateKind {
    Reporting { half: u8 },
    Selbstdeklaration,
}

/// One template to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub bfs: Bfs,
    pub name: String,
    pub year: i32,
    pub kind: TemplateKind,
    /// The contract the form covers (lead municipalities): its name and members, the lead
    /// first, then by BFS-Nr.
    pub contract: Option<(String, Vec<(Bfs, String)>)>,
    /// Path relative to the output folder.
    pub rel: String,
}

/// The file name: BFS-Nr., name, form, year and period.
pub fn template_file_name(bfs: Bfs, name: &str, year: i32, kind: TemplateKind) -> String {
    let name = style::safe_name(name).replace(' ', "_");
    match kind {
        TemplateKind::Reporting { half } => format!("{bfs}_{name}_Reportingformular_{year}_H{half}.xlsx"),
        TemplateKind::Selbstdeklaration => format!("{bfs}_{name}_Selbstdeklaration_{year}.xlsx"),
    }
}

fn contract_on(master: &Stammdaten, bfs: Bfs, d: NaiveDate) -> Option<(String, Vec<(Bfs, String)>)> {
    let members = master.members_of(bfs, d);
    if members.is_empty() {
        return None;
    }
    let contract = master.membership(bfs, d).map(|m| m.contract.clone()).unwrap_or_default();
    let name = |b: Bfs| master.municipality(b).map(|m| m.name.clone()).unwrap_or_default();
    let mut list = vec![(bfs, name(bfs))];
    list.extend(members.iter().filter(|m| **m != bfs).map(|m| (*m, name(*m))));
    Some((contract, list))
}

/// Every template for year `y`: per municipality that reports for itself, the Reporting-
/// formular of each half-year it exists in and is no contract member on the half-year's last
/// day, and the Selbstdeklaration when it is its own payee on 31.12. (the same rules the run
/// uses for `BERICHT_FEHLT` and `SD_FEHLT`). Ordered by BFS-Nr., then form.
pub fn plan(master: &Stammdaten, y: i32) -> Vec<Planned> {
    let mut out = Vec::new();
    let year_end = ymd(y, 12, 31);
    for m in master.municipalities_in(y) {
        for half in [1u8, 2] {
            let day = Period::new(y, half).last_day();
            if !m.exists_on(day) || master.is_member_not_lead(m.bfs, day) {
                continue;
            }
            let kind = TemplateKind::Reporting { half };
            out.push(Planned {
                bfs: m.bfs,
                name: m.name.clone(),
                year: y,
                kind,
                contract: contract_on(master, m.bfs, day),
                rel: template_file_name(m.bfs, &m.name, y, kind),
            });
        }
        if master.payee(m.bfs, year_end) == m.bfs {
            let kind = TemplateKind::Selbstdeklaration;
            out.push(Planned {
                bfs: m.bfs,
                name: m.name.clone(),
                year: y,
                kind,
                contract: contract_on(master, m.bfs, year_end),
                rel: template_file_name(m.bfs, &m.name, y, kind),
            });
        }
    }
    out
}

fn who(list: &[(Bfs, String)]) -> String {
    list.iter().map(|(b, n)| format!("{n} ({b})")).collect::<Vec<_>>().join(", ")
}

/// Builds one template in memory. `created` is the document's creation date (fixed, so the
/// same inputs give the same bytes).
pub fn template(p: &Planned, created: NaiveDate) -> Result<OutFile, WriteError> {
    let xl = |source| WriteError::Xlsx { name: p.rel.clone(), source };
    let (title, kind, sheet) = match p.kind {
        TemplateKind::Reporting { half } => (
            format!("Reportingformular start.integration {}. Halbjahr {} – {}", half, p.year, p.name),
            FormKind::Reporting,
            REPORTING_SHEET,
        ),
        TemplateKind::Selbstdeklaration => (
            format!("Selbstdeklaration start.integration {} – {}", p.year, p.name),
            FormKind::Selbstdeklaration,
            SD_SHEET,
        ),
    };
    let mut wb = style::workbook(&title, created);
    let mut f = FormSheet::new(kind, sheet);
    f.values.insert(Common::Version.of(kind), Value::Text(FORM_VERSION.into()));
    f.values.insert(Common::Gemeinde.of(kind), Value::Text(p.name.clone()));
    f.values.insert(Common::BfsNr.of(kind), Value::Int(p.bfs as i64));
    f.values.insert(Common::Jahr.of(kind), Value::Int(p.year as i64));
    f.locked.extend(fields_of(kind).iter().map(|s| s.field).filter(|k| IDENTITY_FIELDS.contains(k)));
    for s in fields_of(kind) {
        if let Some(h) = hint(s.field) {
            f.side.insert(s.field, h.to_string());
        }
    }
    match p.kind {
        TemplateKind::Reporting { half } => {
            let period = Period::new(p.year, half);
            f.values.insert(FormField::SiHalbjahr, Value::Int(half as i64));
            f.side.insert(
                FormField::SiHalbjahr,
                format!(
                    "{} ({} bis {}), Eingabefrist {}",
                    period.label(),
                    fmt_date(period.first_day()),
                    fmt_date(period.last_day()),
                    fmt_date(period.deadline())
                ),
            );
            f.intro = Some(match &p.contract {
                Some((c, members)) => format!(
                    "Bitte die gelben Felder ausfüllen und das Formular bis {} an das AGS senden. Als Leitgemeinde \
                     melden Sie für den ganzen Vertrag «{c}»: hier die Totale, im Blatt «{TABLE_SHEET}» die Zahlen je \
                     Gemeinde ({}).",
                    fmt_date(period.deadline()),
                    who(members)
                ),
                None => format!(
                    "Bitte die gelben Felder ausfüllen und das Formular bis {} an das AGS senden.",
                    fmt_date(period.deadline())
                ),
            });
        }
        TemplateKind::Selbstdeklaration => {
            f.side.insert(FormField::SdJahr, format!("Eingabefrist {}", fmt_date(ymd(p.year, 1, 31))));
            if let Some((c, members)) = &p.contract {
                f.values.insert(FormField::SdLeitgemeinde, Value::Text(p.name.clone()));
                f.intro = Some(format!(
                    "Diese Selbstdeklaration gilt als Leitgemeinde für den ganzen Vertrag «{c}»: {}.",
                    who(members)
                ));
            } else {
                f.intro = Some("Bitte die gelben Felder ausfüllen und das Formular an das AGS senden.".to_string());
            }
        }
    }
    write_form_sheet(wb.add_worksheet(), &f).map_err(xl)?;
    for s in fields_of(kind) {
        wb.define_name(s.name, &format!("={sheet}!$B${}", s.row)).map_err(xl)?;
    }
    if let (TemplateKind::Reporting { .. }, Some((_, members))) = (p.kind, &p.contract) {
        let t = TableSheet {
            sheet_name: TABLE_SHEET.to_string(),
            rows: members
                .iter()
                .map(|(b, n)| {
                    let mut row = vec![Value::Int(*b as i64), Value::Text(n.clone())];
                    row.extend(std::iter::repeat_n(Value::Empty, TableColumn::ALL.len() - 2));
                    row
                })
                .collect(),
            locked_cols: 2,
            marks: BTreeMap::new(),
            check_against: Some(REPORTING_SHEET.to_string()),
        };
        write_table_sheet(wb.add_worksheet(), &t).map_err(xl)?;
    }
    save(p.rel.clone(), &mut wb)
}

// ---------------------------------------------------------------------------
// The subcommand
// ---------------------------------------------------------------------------

/// What `beitraege formulare` needs.
#[derive(Debug, Clone)]
pub struct FormulareOptions {
    pub year: i32,
    pub stammdaten: PathBuf,
    pub out: PathBuf,
    /// The creation date stored in the documents.
    pub run_date: NaiveDate,
}

#[derive(Debug, Error)]
pub enum FormulareError {
    #[error(transparent)]
    Stammdaten(#[from] StammdatenError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("In den Stammdaten besteht im Jahr {0} keine Gemeinde; es wurden keine Formulare erstellt.")]
    NoMunicipalities(i32),
}

/// What `formulare` wrote.
#[derive(Debug, Clone)]
pub struct FormulareReport {
    pub year: i32,
    pub out: PathBuf,
    pub planned: Vec<Planned>,
    /// Contract members that get no forms of their own, with their lead.
    pub members: Vec<(Bfs, String, Bfs)>,
}

/// Builds every template for the year in memory.
pub fn render(master: &Stammdaten, y: i32, created: NaiveDate) -> Result<(Vec<Planned>, Vec<OutFile>), WriteError> {
    let planned = plan(master, y);
    let files = planned.iter().map(|p| template(p, created)).collect::<Result<Vec<_>, _>>()?;
    Ok((planned, files))
}

/// Reads the master data, builds every template and writes them atomically: all files are
/// built and staged before the first one is moved into place.
pub fn run(opts: &FormulareOptions) -> Result<FormulareReport, FormulareError> {
    let master = Stammdaten::load(&opts.stammdaten)?;
    if master.municipalities_in(opts.year).next().is_none() {
        return Err(FormulareError::NoMunicipalities(opts.year));
    }
    let out = write::OutputDir::open(&opts.out)?;
    let (planned, files) = render(&master, opts.year, opts.run_date)?;
    out.commit(&files)?;
    let year_end = ymd(opts.year, 12, 31);
    let members = master
        .municipalities_in(opts.year)
        .filter(|m| master.is_member_not_lead(m.bfs, year_end))
        .map(|m| (m.bfs, m.name.clone(), master.payee(m.bfs, year_end)))
        .collect();
    Ok(FormulareReport { year: opts.year, out: opts.out.clone(), planned, members })
}

/// The German summary printed at the end.
pub fn summary(r: &FormulareReport) -> String {
    let munis: BTreeSet<Bfs> = r.planned.iter().map(|p| p.bfs).collect();
    let reporting = r.planned.iter().filter(|p| matches!(p.kind, TemplateKind::Reporting { .. })).count();
    let sd = r.planned.len() - reporting;
    let leads: BTreeSet<Bfs> = r.planned.iter().filter(|p| p.contract.is_some()).map(|p| p.bfs).collect();
    let mut s =
        format!("Formulare start.integration {}: {} Dateien für {} Gemeinden.\n", r.year, r.planned.len(), munis.len());
    s.push_str(&format!("  Reportingformulare   {reporting:>5}\n  Selbstdeklarationen  {sd:>5}\n"));
    s.push_str(&format!("  davon Leitgemeinden  {:>5} (mit Blatt «{TABLE_SHEET}»)\n", leads.len()));
    if !r.members.is_empty() {
        s.push_str(&format!(
            "Vertragsgemeinden ohne eigene Formulare (sie melden über ihre Leitgemeinde): {}\n",
            r.members.len()
        ));
    }
    s.push_str(&format!("Ausgabe: {}\n", r.out.display()));
    s
}

/// The output folder's errors, as [`crate::write::WriteError`]s.
impl From<crate::write::commit::CommitError> for FormulareError {
    fn from(e: crate::write::commit::CommitError) -> Self {
        crate::write::WriteError::from(e).into()
    }
}
