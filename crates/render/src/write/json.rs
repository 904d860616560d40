//! Machine-readable copies: `befunde.json`, `dateien.json`, `manifest.json`.

use super::{EvaluationData, OutFile, WriteError};
use crate::domain::{fmt_date, FileState, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct BefundJson<'a> {
    bfs_nr: Option<u32>,
    gemeinde: Option<String>,
    datei: Option<&'a str>,
    blatt: Option<&'a str>,
    zelle: Option<String>,
    code: &'a str,
    schwere: &'a str,
    meldung: &'a str,
    gefundener_wert: Option<&'a str>,
    korrektur: &'a str,
}

#[derive(Serialize)]
struct DateiJson<'a> {
    datei: &'a str,
    status: &'a str,
    formular: Option<&'a str>,
    bfs_nr: Option<u32>,
    periode: Option<String>,
    eingangsdatum: Option<String>,
    sha256: Option<&'a str>,
    befunde: Vec<&'a str>,
}

fn to_file<T: Serialize>(rel: &str, v: &T) -> Result<OutFile, WriteError> {
    let mut bytes =
        serde_json::to_vec_pretty(v).map_err(|source| WriteError::Json { name: rel.to_string(), source })?;
    bytes.push(b'\n');
    Ok(OutFile { rel: rel.to_string(), bytes })
}

pub fn befunde(d: &EvaluationData<'_>) -> Result<OutFile, WriteError> {
    let rows: Vec<BefundJson<'_>> = d
        .findings
        .iter()
        .map(|f| BefundJson {
            bfs_nr: f.bfs,
            gemeinde: f.bfs.map(|b| d.name_of(Some(b))),
            datei: f.file.as_deref(),
            blatt: f.sheet(),
            zelle: f.cell(),
            code: f.code.as_str(),
            schwere: f.severity.label(),
            meldung: &f.message,
            gefundener_wert: f.value.as_deref(),
            korrektur: &f.fix,
        })
        .collect();
    to_file("befunde.json", &rows)
}

pub fn dateien(d: &EvaluationData<'_>) -> Result<OutFile, WriteError> {
    let rows: Vec<DateiJson<'_>> = d
        .resolved
        .files
        .iter()
        .map(|e| DateiJson {
            datei: &e.result.file.rel,
            status: e.state.as_str(),
            formular: e.result.kind().map(|k| k.label()),
            bfs_nr: e.result.bfs(),
            periode: e.result.period().map(|p| p.to_string()),
            eingangsdatum: e.result.file.received.map(fmt_date),
            sha256: e.result.file.sha256.as_deref(),
            befunde: e.result.findings.iter().map(|f| f.code.as_str()).collect(),
        })
        .collect();
    to_file("dateien.json", &rows)
}

#[derive(Serialize)]
struct Hashed {
    datei: String,
    sha256: String,
}

#[derive(Serialize)]
struct TarifJson {
    leistung: &'static str,
    betrag_chf: String,
    gueltig_ab: Option<String>,
    gueltig_bis: Option<String>,
    angewendet_fuer: Vec<String>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    programm: &'static str,
    version: &'a str,
    jahr: i32,
    stand: String,
    eingaben: Vec<Hashed>,
    ausgaben: Vec<Hashed>,
    tarife: Vec<TarifJson>,
    dateien_pro_status: BTreeMap<&'static str, usize>,
    befunde_pro_schwere: BTreeMap<&'static str, usize>,
    total_chf: String,
}

/// The manifest over the inputs and the other outputs (`outputs` must not include it).
pub fn manifest(
    d: &EvaluationData<'_>,
    inputs: Vec<(String, String)>,
    outputs: &[OutFile],
) -> Result<OutFile, WriteError> {
    let mut per_state = BTreeMap::new();
    for s in FileState::ALL {
        per_state.insert(s.as_str(), d.resolved.files.iter().filter(|e| e.state == s).count());
    }
    let mut per_sev = BTreeMap::new();
    for s in Severity::ALL {
        per_sev.insert(s.label(), d.findings.iter().filter(|f| f.severity == s).count());
    }
    let m = Manifest {
        programm: "beitraege",
        version: d.version,
        jahr: d.year,
        stand: fmt_date(d.run_date),
        eingaben: inputs.into_iter().map(|(datei, sha256)| Hashed { datei, sha256 }).collect(),
        ausgaben: outputs.iter().map(|o| Hashed { datei: o.rel.clone(), sha256: o.sha256() }).collect(),
        tarife: d
            .comp
            .tariffs
            .iter()
            .map(|a| TarifJson {
                leistung: a.tariff.code.as_str(),
                betrag_chf: format!("{:.2}", a.tariff.amount),
                gueltig_ab: a.tariff.validity.from.map(fmt_date),
                gueltig_bis: a.tariff.validity.to.map(fmt_date),
                angewendet_fuer: a.applied_on.iter().map(|x| fmt_date(*x)).collect(),
            })
            .collect(),
        dateien_pro_status: per_state,
        befunde_pro_schwere: per_sev,
        total_chf: format!("{:.2}", d.comp.total),
    };
    to_file(super::MANIFEST, &m)
}
