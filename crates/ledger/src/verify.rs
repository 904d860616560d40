//! `beitraege pruefen`: verifies a ledger for an auditor — its keyed chain over every row,
//! its key, its anchor file and any journal CSV given — and reports what was checked and
//! every finding ([`check`]). Opens the ledger read-only and changes nothing, except
//! [`restore`], which records a knowingly restored backup with its reason in the anchor
//! file.

use super::anchor::{self, Anchor};
use super::chain::{Head, LedgerFiles, Tamper};
use super::journal::{self, JournalCheck};
use super::{Access, Ledger, LedgerError};
use std::fmt::Write as _;
use std::path::PathBuf;

/// What `pruefen` found.
#[derive(Debug, Clone)]
pub struct Report {
    pub files: LedgerFiles,
    /// The schema version of the file (before any migration in memory).
    pub schema_version: i64,
    /// The key's public name.
    pub key_id: String,
    pub head: Head,
    pub bookings: usize,
    pub runs: usize,
    pub meta: usize,
    /// Lines of the anchor file, the last binding one, and the recorded restores.
    pub anchor_lines: usize,
    pub last_anchor: Option<Anchor>,
    pub restores: Vec<Anchor>,
    /// Chain entries after the last anchor (anchored by the next command that writes).
    pub unanchored: i64,
    pub journals: Vec<(PathBuf, JournalCheck)>,
    pub findings: Vec<Tamper>,
}

impl Report {
    /// Everything holds.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// The report for the auditor (German).
    pub fn text(&self) -> String {
        let mut s = String::new();
        let f = &self.files;
        let _ = writeln!(s, "Prüfbericht der Buchhaltung");
        let _ = writeln!(s, "Buchhaltung: {} (Schemaversion {})", f.ledger.display(), self.schema_version);
        if self.schema_version < super::schema::keyed() {
            let _ = writeln!(
                s,
                "Schlüssel:   noch keiner (Buchhaltung im Format vor der Hash-Kette mit Schlüssel: geprüft ist die SHA-256-Kette ihrer Buchungen; der nächste Befehl, der bucht, stellt sie um)"
            );
        } else {
            let _ = writeln!(s, "Schlüssel:   {} (Kennung {})", f.key.display(), self.key_id);
        }
        let _ = writeln!(s, "Ankerdatei:  {} ({} Zeilen)", f.anchors.display(), self.anchor_lines);
        let _ = writeln!(s, "\nGeprüft:");
        let _ = writeln!(
            s,
            "- Hash-Kette (HMAC-SHA256 unter dem Schlüssel) über jede Zeile: Buchungen {}, Läufe (Zahlungsläufe, Stornos, Zahlungseingänge) {}, Angaben {}; Einträge der Kette {}.",
            self.bookings, self.runs, self.meta, self.head.pos
        );
        let _ = writeln!(s, "- Kettenkopf: Eintrag Nr. {}, {}", self.head.pos, self.head.mac);
        match &self.last_anchor {
            Some(a) => {
                let _ = writeln!(
                    s,
                    "- Ankerdatei: letzter festgehaltener Stand Eintrag Nr. {} ({}, {}){}.",
                    a.head.pos,
                    a.art,
                    a.time,
                    if self.unanchored > 0 {
                        format!("; {} neuere Einträge werden beim nächsten Buchen festgehalten", self.unanchored)
                    } else {
                        String::new()
                    }
                );
            }
            None => {
                let _ = writeln!(s, "- Ankerdatei: kein festgehaltener Stand.");
            }
        }
        for r in &self.restores {
            let _ = writeln!(
                s,
                "- Wiederhergestellte Sicherung festgehalten am {} (Stand Eintrag Nr. {}): {}",
                r.time, r.head.pos, r.note
            );
        }
        for (path, j) in &self.journals {
            let head = match &j.head {
                Some(h) => format!("festgehaltener Stand Eintrag Nr. {}", h.pos),
                None => "ohne festgehaltenen Stand (älteres Journal)".to_string(),
            };
            let _ = writeln!(s, "- Journal {}: {} Buchungen, {head}.", path.display(), j.rows);
        }
        if self.ok() {
            let _ = writeln!(
                s,
                "\nErgebnis: in Ordnung. Jede Zeile ist unverändert in der Kette, die Buchhaltung enthält jeden festgehaltenen Stand{}.",
                if self.journals.is_empty() { "" } else { ", und die Journale stimmen mit ihr überein" }
            );
        } else {
            let _ = writeln!(s, "\nErgebnis: NICHT in Ordnung, {} Befunde:", self.findings.len());
            for t in &self.findings {
                let _ = writeln!(s, "- {t}");
            }
            // The advice for the ledger's own findings first; journals only when it is sound.
            let ledger: Vec<&Tamper> = self.findings.iter().filter(|t| !t.is_journal()).collect();
            let worst = ledger.iter().find(|t| !t.is_restore()).or(ledger.first()).copied();
            let advice = worst.or(self.findings.first()).map(|t| t.advice(&f.ledger)).unwrap_or_default();
            let _ = writeln!(s, "\n{advice}");
            if worst.is_some_and(|t| !t.is_restore()) {
                let _ = writeln!(s, "Eine wiederhergestellte Sicherung erklärt diese Befunde nicht.");
            }
        }
        s
    }
}

fn report_of(ledger: &Ledger, files: &LedgerFiles, version: i64, journals: &[PathBuf]) -> Result<Report, LedgerError> {
    let seen = ledger.inspect()?;
    let mut findings = seen.chain.findings.clone();
    findings.extend(seen.anchors.findings.iter().cloned());
    let mut checked = Vec::new();
    if seen.chain.findings.is_empty() {
        let bookings = ledger.bookings()?;
        for p in journals {
            let bytes = std::fs::read(p)
                .map_err(|e| LedgerError::Unreadable { path: p.clone(), why: crate::catalogue::os_error(&e) })?;
            let j = journal::check(p, &String::from_utf8_lossy(&bytes), &bookings, &seen.chain.entries);
            findings.extend(j.findings.iter().cloned());
            checked.push((p.clone(), j));
        }
    }
    Ok(Report {
        files: files.clone(),
        schema_version: version,
        key_id: ledger.key.id(),
        head: seen.chain.head.clone(),
        bookings: seen.chain.count("bookings"),
        runs: seen.chain.count("runs"),
        meta: seen.chain.count("meta"),
        anchor_lines: seen.anchor_file.anchors.len(),
        last_anchor: seen.anchors.last.clone(),
        restores: seen.anchor_file.anchors.iter().filter(|a| a.art == anchor::RESTORE).cloned().collect(),
        unanchored: seen.anchors.unanchored,
        journals: checked,
        findings,
    })
}

/// Verifies the ledger `files` (opened read-only; an older schema is migrated in memory)
/// and the journals. An error: the ledger cannot be verified at all (missing, not a ledger,
/// an unknown schema, no key, a journal that cannot be read, or an old unkeyed chain that
/// is broken); otherwise every finding is in the report.
pub fn check(files: &LedgerFiles, journals: &[PathBuf]) -> Result<Report, LedgerError> {
    let (ledger, migrated) = Ledger::open_inner(files, Access::ReadOnly, false)?;
    let version = migrated.unwrap_or(ledger.schema_version()?);
    let mut report = report_of(&ledger, files, version, journals)?;
    // An unkeyed ledger beside anchors of a keyed one: an older copy.
    if migrated.is_some_and(|v| v >= 1 && v < super::schema::keyed()) && anchor::line_count(&files.anchors) > 0 {
        report.findings.insert(0, Tamper::UnkeyedCopy(files.anchors.clone()));
    }
    Ok(report)
}

/// Records a knowingly restored backup: when the ledger's chain holds under its key and
/// only the anchors say it is older (truncated, another state, anchors missing), a line
/// `Wiederherstellung` with the reason is appended to the anchor file, after which the
/// ledger is used as it is. A changed, inserted or deleted row is never overridden.
pub fn restore(files: &LedgerFiles, reason: &str) -> Result<Report, LedgerError> {
    if reason.trim().is_empty() {
        return Err(LedgerError::NoReason);
    }
    let (ledger, migrated) = Ledger::open_inner(files, Access::Write, false)?;
    let version = migrated.unwrap_or(ledger.schema_version()?);
    let seen = ledger.inspect()?;
    let path = files.ledger.clone();
    if let Some(what) = seen.chain.findings.first() {
        return Err(LedgerError::Tampered { path, what: what.clone() });
    }
    if let Some(what) = seen.anchors.findings.iter().find(|t| !t.is_restore()) {
        return Err(LedgerError::Tampered { path, what: what.clone() });
    }
    let unkeyed = migrated.is_some_and(|v| v >= 1 && v < super::schema::keyed());
    if seen.anchors.findings.is_empty() && !unkeyed {
        return Err(LedgerError::NothingToOverride(path));
    }
    let replaced = seen.anchor_file.binding().iter().map(|a| a.head.pos).max().unwrap_or(0);
    let note = format!("{} (ersetzt den festgehaltenen Stand Eintrag Nr. {replaced})", reason.trim());
    ledger
        .append_anchor(anchor::RESTORE, &note)
        .map_err(|e| LedgerError::Io { path: files.anchors.clone(), why: crate::catalogue::os_error(&e) })?;
    report_of(&ledger, files, version, &[])
}
