//! The one catalogue of finding texts, keyed by code. All text here is German, in the
//! Kreisschreiben's terms, because AGS staff and the municipalities read it.
//!
//! A text may hold the placeholders `{feld}` (the field label) and `{detail}` (a specific
//! reason the stage knows, e.g. "eingegangen am 15.08.2023, Frist 31.07.2023").

use crate::domain::{shorten, Bfs, CellPos, Code, Finding, Place, Unmet, MAX_DETAIL_CHARS, MAX_QUOTED_CHARS};

/// Message and how-to-fix text of a code.
pub struct Entry {
    pub message: &'static str,
    pub fix: &'static str,
}

/// The catalogue entry of a code.
pub fn entry(code: Code) -> Entry {
    use Code::*;
    let (message, fix) = match code {
        DateiUnlesbar => (
            "Die Datei lässt sich nicht als Tabelle lesen ({detail}).",
            "Bitte das Formular erneut als Excel-Datei (.xlsx) oder ODS-Datei speichern und nochmals einreichen.",
        ),
        DateiVerschluesselt => (
            "Die Datei ist mit einem Passwort geschützt und kann nicht gelesen werden.",
            "Bitte den Passwortschutz entfernen (Datei › Informationen › Arbeitsmappe schützen) und die Datei erneut einreichen.",
        ),
        DateiKeinFormular => (
            "Die Tabelle ist weder ein Reportingformular (Anhang Nr. 2) noch eine Selbstdeklaration (Anhang Nr. 3) ({detail}).",
            "Bitte das offizielle Formular des AGS verwenden und ausgefüllt einreichen.",
        ),
        DateiFormat => (
            "Die Datei ist keine Tabelle ({detail}) und kann nicht ausgewertet werden.",
            "Bitte das Formular als Excel-Datei (.xlsx, .xlsm, .xls) oder ODS-Datei einreichen, nicht als PDF, Scan oder E-Mail.",
        ),
        DateiIgnoriert => (
            "Temporär- oder Systemdatei, wird nicht ausgewertet ({detail}).",
            "Keine Massnahme nötig.",
        ),
        DateiVerknuepfung => (
            "Die Datei ist eine Verknüpfung ({detail}); Verknüpfungen werden nicht verfolgt, damit nur Dateien im Eingangsordner gelesen werden.",
            "Bitte die Datei selbst (nicht eine Verknüpfung darauf) in den Eingangsordner legen.",
        ),
        DateiSonderdatei => (
            "Der Eintrag ist keine gewöhnliche Datei ({detail}) und wird nicht geöffnet.",
            "Bitte den Eintrag aus dem Eingangsordner entfernen und das Formular als gewöhnliche Datei ablegen.",
        ),
        DateiDuplikat => (
            "Die Datei ist inhaltlich identisch mit «{detail}»; jene wird verwendet.",
            "Keine Massnahme nötig. Doppelte Dateien können aus dem Eingang entfernt werden.",
        ),
        FormularVersion => (
            "Die Formularversion fehlt oder ist unbekannt ({detail}).",
            "Bitte das aktuelle Formular (Version 2022) des AGS verwenden; im Feld «Formularversion» steht 2018 oder 2022.",
        ),
        DateiZuGross => (
            "Die Datei überschreitet die Grenzen für die Verarbeitung ({detail}) und wurde nicht gelesen.",
            "Bitte nur das ausgefüllte Formular ohne zusätzliche Daten einreichen.",
        ),
        DateiMehrereFormulare => (
            "Die Datei enthält mehr als ein Formular; gelesen wurde nur das erste, die weiteren nicht ({detail}).",
            "Bitte jedes Formular als eigene Datei einreichen.",
        ),
        BfsUnbekannt => (
            "Die BFS-Nr. fehlt, ist ungültig oder gehört zu keiner Einwohnergemeinde ({detail}).",
            "Bitte im Feld «BFS-Nr.» die vierstellige BFS-Gemeindenummer eintragen (z. B. 2601 für Solothurn).",
        ),
        GemeindeName => (
            "Der Gemeindename weicht von den Stammdaten ab ({detail}); massgebend ist die BFS-Nr.",
            "Bitte prüfen, ob die BFS-Nr. stimmt, und den amtlichen Gemeindenamen eintragen.",
        ),
        GemeindeAufgeloest => (
            "Die Gemeinde bestand in der gemeldeten Periode nicht mehr ({detail}).",
            "Bitte die Leistungen unter der Nachfolgegemeinde melden.",
        ),
        PeriodeUngueltig => (
            "Berichtsjahr oder Halbjahr fehlt oder ist ungültig ({detail}).",
            "Bitte das Berichtsjahr (z. B. 2023) und das Halbjahr (1 oder 2) eintragen.",
        ),
        PeriodeZukunft => (
            "Das gemeldete Halbjahr war beim Eingang der Datei noch nicht abgeschlossen ({detail}).",
            "Bitte das Reportingformular erst nach Ablauf des Halbjahres einreichen.",
        ),
        AnderesJahr => (
            "Gültiges Formular für ein anderes Jahr ({detail}); es bleibt für die Auswertung jenes Jahres.",
            "Keine Massnahme nötig.",
        ),
        WertLeer => (
            "Das Feld «{feld}» ist leer und wird als 0 gezählt.",
            "Bitte eine Zahl eintragen, auch wenn sie 0 ist.",
        ),
        WertKeineZahl => (
            "Im Feld «{feld}» steht keine ganze Zahl.",
            "Bitte nur eine ganze Zahl ohne Text eintragen (z. B. 10 statt «ca. 10»).",
        ),
        WertNegativ => (
            "Im Feld «{feld}» steht eine negative Zahl.",
            "Bitte eine ganze Zahl ab 0 eintragen.",
        ),
        WertNichtGanzzahlig => (
            "Im Feld «{feld}» steht keine ganze Zahl (Bruchzahl).",
            "Bitte die Anzahl als ganze Zahl eintragen.",
        ),
        WertTextzahl => (
            "Im Feld «{feld}» ist die Zahl als Text erfasst; sie wurde übernommen.",
            "Keine Massnahme nötig. Künftig die Zahl bitte als Zahl erfassen.",
        ),
        WertUnplausibel => (
            "Der Wert im Feld «{feld}» ist grösser als die ausländische Wohnbevölkerung der Gemeinde ({detail}).",
            "Bitte den Wert prüfen und bei einem Tippfehler ein korrigiertes Formular einreichen.",
        ),
        WertSprung => (
            "Der Wert im Feld «{feld}» weicht stark von den früheren Meldungen der Gemeinde ab ({detail}).",
            "Vor der Auszahlung bei der Gemeinde nachfragen, ob der Wert stimmt; bei einem Tippfehler ein korrigiertes Formular einfordern. Stimmt er, ist nichts zu tun (die Warnung ändert keinen Betrag).",
        ),
        WertZuGross => (
            "Der Wert im Feld «{feld}» ist grösser als jede mögliche Anzahl ({detail}); er wird nicht verwendet.",
            "Bitte die richtige Anzahl eintragen (Tippfehler?) und ein korrigiertes Formular einreichen.",
        ),
        DolmetschUeberGespraeche => (
            "Es sind mehr Dolmetscheinsätze als Gespräche gemeldet ({detail}); die Dolmetschpauschale wird zurückbehalten.",
            "Bitte die Anzahl Gespräche und Dolmetscheinsätze prüfen und ein korrigiertes Formular einreichen.",
        ),
        IgVor2022 => (
            "Integrationsgespräche sind erst ab 2022 beitragsberechtigt (Ziffer 4.3.1) und werden nicht vergütet ({detail}).",
            "Bitte für Perioden vor 2022 keine Integrationsgespräche melden.",
        ),
        PersonenUnterGespraeche => (
            "Es sind weniger informierte Personen als Erstinformationsgespräche gemeldet ({detail}).",
            "Bitte prüfen: Jedes Gespräch erreicht mindestens eine Person.",
        ),
        GespraecheUeberZuzuege => (
            "Es sind mehr Erstinformationsgespräche als Neuzugezogene aus dem Ausland gemeldet ({detail}).",
            "Bitte die beiden Werte prüfen.",
        ),
        LeitMitgliedMeldetSelbst => (
            "Die Gemeinde gehört einem Leitgemeindevertrag an ({detail}) und rechnet nur über das Reporting der Leitgemeinde ab.",
            "Bitte die Zahlen der Leitgemeinde melden; sie trägt sie im Blatt «Vertragsgemeinden» ein.",
        ),
        LeitFremdeGemeinde => (
            "Im Blatt «Vertragsgemeinden» steht eine Gemeinde, die nicht zum Vertrag gehört ({detail}); diese Zeile wird nicht vergütet.",
            "Bitte nur Gemeinden des eigenen Vertrags aufführen; andere Gemeinden melden selbst.",
        ),
        LeitMitgliedFehlt => (
            "Eine Vertragsgemeinde fehlt im Blatt «Vertragsgemeinden» ({detail}); sie erhält für dieses Halbjahr keine Fallpauschalen.",
            "Bitte für jede Vertragsgemeinde eine Zeile mit ihren Zahlen erfassen, auch wenn sie 0 sind.",
        ),
        LeitSumme => (
            "Die Zeilen im Blatt «Vertragsgemeinden» ergeben nicht die Totale des Reportingformulars ({detail}); das Reporting wird zurückbehalten.",
            "Bitte die Aufteilung nach Gemeinden so korrigieren, dass die Summen den Totalen entsprechen.",
        ),
        LeitAngabeAbweichend => (
            "Die angegebene Leitgemeinde weicht von den Stammdaten ab ({detail}).",
            "Bitte prüfen, ob ein Leitgemeindevertrag besteht, und dem AGS Änderungen am Vertrag melden.",
        ),
        SdFehlt => (
            "Für das Jahr fehlt die Selbstdeklaration ({detail}); alle Beiträge werden zurückbehalten.",
            "Bitte die Selbstdeklaration (Anhang Nr. 3) ausfüllen und einreichen.",
        ),
        NichtBerechtigt => (
            "Die Selbstdeklaration erfüllt eine Voraussetzung nach Ziffer 4.2 nicht ({detail}); für das Jahr werden keine Beiträge ausgerichtet.",
            "Bitte eine/n Integrationsbeauftragte/n bezeichnen und die Voraussetzungen erfüllen; danach eine korrigierte Selbstdeklaration einreichen.",
        ),
        SdAntwortNein => (
            "In der Selbstdeklaration ist eine Frage mit «Nein» beantwortet ({detail}).",
            "Bitte mit der Fachstelle Integration des AGS Kontakt aufnehmen.",
        ),
        BerichtFehlt => (
            "Für das {detail} liegt kein Reportingformular vor; es werden keine Fall- und Dolmetschpauschalen ausgerichtet.",
            "Bitte das Reportingformular (Anhang Nr. 2) für dieses Halbjahr einreichen.",
        ),
        FristVerpasst => (
            "Die Datei ist nach der Eingabefrist eingegangen ({detail}).",
            "Bitte künftig die Fristen (31.01. und 31.07.) einhalten.",
        ),
        Ersetzt => (
            "Eine spätere Einreichung für dieselbe Gemeinde und Periode ersetzt diese Datei ({detail}).",
            "Keine Massnahme nötig.",
        ),
        KreditUeberschritten => (
            "Die Beiträge überschreiten den budgetierten Kredit ({detail}).",
            "Kreditüberschreitung prüfen und die Leitung des AGS informieren.",
        ),
    };
    Entry { message, fix }
}

fn fill(template: &str, field: Option<&str>, detail: Option<&str>) -> String {
    let mut s = template.replace("{feld}", field.unwrap_or("?"));
    match detail {
        Some(d) if !d.is_empty() => s = s.replace("{detail}", d),
        _ => {
            // Remove a bracketed detail placeholder cleanly when there is no detail.
            s = s.replace(" ({detail})", "").replace("{detail}", "");
        }
    }
    s
}

/// Builder for a [`Finding`] whose texts come from this catalogue.
#[derive(Debug, Clone, Default)]
pub struct FindingBuilder {
    bfs: Option<Bfs>,
    file: Option<String>,
    place: Option<Place>,
    value: Option<String>,
    field: Option<String>,
    detail: Option<String>,
}

impl FindingBuilder {
    pub fn bfs(mut self, bfs: Option<Bfs>) -> Self {
        self.bfs = bfs;
        self
    }
    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
    pub fn at(mut self, pos: Option<&CellPos>) -> Self {
        self.place = pos.cloned().map(Place::Cell);
        self
    }
    /// A whole sheet, no cell of it.
    pub fn sheet(mut self, sheet: &str) -> Self {
        self.place = Some(Place::Sheet(sheet.into()));
        self
    }
    /// The value found, as the user sees it: at most [`MAX_QUOTED_CHARS`] characters.
    pub fn value(mut self, v: impl Into<String>) -> Self {
        let v = v.into();
        self.value = if v.is_empty() { None } else { Some(shorten(&v, MAX_QUOTED_CHARS).into_owned()) };
        self
    }
    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }
    /// A specific reason: at most [`MAX_DETAIL_CHARS`] characters (it may quote input).
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        let d = d.into();
        self.detail = Some(shorten(&d, MAX_DETAIL_CHARS).into_owned());
        self
    }
    pub fn build(self, code: Code) -> Finding {
        let e = entry(code);
        Finding {
            code,
            severity: code.severity(),
            bfs: self.bfs,
            file: self.file,
            place: self.place,
            value: self.value,
            message: fill(e.message, self.field.as_deref(), self.detail.as_deref()),
            fix: e.fix.to_string(),
        }
    }
}

/// The German text of an unmet condition of eligibility (4.2), as the finding `NICHT_BERECHTIGT`
/// and the annex's status show it.
pub fn unmet_text(u: &Unmet) -> String {
    match u {
        Unmet::NoOfficer => "keine/n Integrationsbeauftragte/n bezeichnet".to_string(),
        Unmet::NotYes { question, answer } => {
            let answer = match answer {
                None => "leer".to_string(),
                Some(a) => format!("«{}»", shorten(a, MAX_QUOTED_CHARS)),
            };
            format!("«{question}» ist nicht mit Ja beantwortet ({answer})")
        }
    }
}

/// A list of names for a detail (sheets of a workbook, …): the first `max` of them, then how
/// many there are in all.
pub fn name_list(names: &[&str], max: usize) -> String {
    let shown: Vec<String> = names.iter().take(max).map(|n| shorten(n, 60).into_owned()).collect();
    if names.len() > max {
        format!("{} … ({} insgesamt)", shown.join(", "), names.len())
    } else {
        shown.join(", ")
    }
}

/// Starts a finding.
pub fn finding() -> FindingBuilder {
    FindingBuilder::default()
}

/// A system error in German, once, with the system's own number for support
/// ("Zugriff verweigert (Systemfehler 13)"): the English text of the operating system is
/// never shown to staff.
/// A file another program holds open without sharing (Windows: ERROR_SHARING_VIOLATION 32,
/// ERROR_LOCK_VIOLATION 33; Excel holds a workbook open so while it is being edited).
pub fn locked_by_another_program(e: &std::io::Error) -> bool {
    cfg!(windows) && matches!(e.raw_os_error(), Some(32 | 33))
}

pub fn os_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    if locked_by_another_program(e) {
        return format!(
            "von einem anderen Programm geöffnet und gesperrt (z. B. in Excel): dort schliessen und erneut ausführen (Systemfehler {})",
            e.raw_os_error().unwrap_or_default()
        );
    }
    let text = match e.kind() {
        NotFound => "nicht gefunden",
        PermissionDenied => "Zugriff verweigert",
        AlreadyExists => "existiert bereits",
        WouldBlock => "vorübergehend nicht verfügbar",
        InvalidInput | InvalidData => "ungültige Daten",
        TimedOut => "Zeitüberschreitung",
        WriteZero | StorageFull => "kein Speicherplatz mehr auf dem Laufwerk",
        Interrupted => "unterbrochen",
        Unsupported => "vom System nicht unterstützt",
        UnexpectedEof => "Datei unerwartet zu Ende",
        OutOfMemory => "zu wenig Arbeitsspeicher",
        NotADirectory => "ist kein Ordner",
        IsADirectory => "ist ein Ordner",
        DirectoryNotEmpty => "Ordner ist nicht leer",
        ReadOnlyFilesystem => "Laufwerk ist schreibgeschützt",
        StaleNetworkFileHandle => "Netzlaufwerk nicht mehr erreichbar",
        ResourceBusy => "wird gerade verwendet",
        CrossesDevices => "liegt auf einem anderen Laufwerk",
        TooManyLinks => "zu viele Verknüpfungen",
        InvalidFilename => "ungültiger oder zu langer Name",
        FileTooLarge => "Datei zu gross",
        _ => "Systemfehler",
    };
    match e.raw_os_error() {
        Some(n) => format!("{text} (Systemfehler {n})"),
        None => text.to_string(),
    }
}

/// How many findings of each severity, in German: «2 Fehler, 1 Warnung, 0 Hinweise».
pub fn severity_counts(severities: impl IntoIterator<Item = crate::domain::Severity>) -> String {
    use crate::domain::Severity;
    let mut n = [0usize; 3];
    for s in severities {
        n[match s {
            Severity::Fehler => 0,
            Severity::Warnung => 1,
            Severity::Hinweis => 2,
        }] += 1;
    }
    let plural = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    [plural(n[0], "Fehler", "Fehler"), plural(n[1], "Warnung", "Warnungen"), plural(n[2], "Hinweis", "Hinweise")]
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_message_and_fix() {
        for &c in Code::ALL {
            let e = entry(c);
            assert!(!e.message.trim().is_empty(), "{c}");
            assert!(!e.fix.trim().is_empty(), "{c}");
        }
    }

    #[test]
    fn quoted_input_is_bounded() {
        let long = "ä".repeat(40_000);
        let f = finding().value(long.clone()).detail(long.clone()).field("Gemeinde").build(Code::GemeindeName);
        assert_eq!(f.value.as_ref().map(|v| v.chars().count()), Some(MAX_QUOTED_CHARS));
        assert!(f.value.as_ref().is_some_and(|v| v.ends_with('…')));
        assert!(f.message.chars().count() < MAX_DETAIL_CHARS + 200, "{}", f.message.len());
        let names: Vec<String> = (0..1200).map(|i| format!("Blatt{i:04}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let l = name_list(&refs, 20);
        assert!(l.starts_with("Blatt0000, ") && l.ends_with("(1200 insgesamt)"), "{l}");
        assert_eq!(name_list(&refs[..3], 20), "Blatt0000, Blatt0001, Blatt0002");
    }

    #[test]
    fn a_finding_is_placed_on_a_cell_or_a_whole_sheet() {
        let pos = CellPos::new("Reporting", 12, 1);
        let at_cell = finding().at(Some(&pos)).build(Code::WertLeer);
        assert_eq!(
            (at_cell.sheet(), at_cell.pos(), at_cell.cell().as_deref()),
            (Some("Reporting"), Some(&pos), Some("B13"))
        );
        let on_sheet = finding().sheet("Vertragsgemeinden").build(Code::LeitMitgliedFehlt);
        assert_eq!((on_sheet.sheet(), on_sheet.pos(), on_sheet.cell()), (Some("Vertragsgemeinden"), None, None));
        let nowhere = finding().at(None).build(Code::SdFehlt);
        assert_eq!((nowhere.sheet(), nowhere.cell()), (None, None));
    }

    #[test]
    fn placeholders_are_filled_or_removed() {
        for &c in Code::ALL {
            let with = finding().field("Feld").detail("Detail").build(c);
            let without = finding().build(c);
            for f in [&with, &without] {
                assert!(!f.message.contains('{'), "{c}: {}", f.message);
            }
            assert_eq!(with.severity, c.severity());
        }
    }
}

#[cfg(test)]
mod windows_tests {
    /// Windows' sharing and lock violations (a workbook open in Excel) are said as such;
    /// elsewhere the same numbers are other errors.
    #[test]
    fn a_file_locked_by_another_program_is_named() {
        for code in [32, 33] {
            let e = std::io::Error::from_raw_os_error(code);
            assert_eq!(super::locked_by_another_program(&e), cfg!(windows), "{code}");
        }
        assert!(!super::locked_by_another_program(&std::io::Error::from_raw_os_error(5)));
    }

    /// Under Windows (Wine in CI): a file held open without sharing, as Excel holds it,
    /// cannot be read, and the error says so.
    #[cfg(windows)]
    #[test]
    fn a_workbook_held_open_without_sharing_is_a_sharing_violation() {
        use std::os::windows::fs::OpenOptionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("Gemeinde Ärger.xlsx");
        std::fs::write(&p, b"x").unwrap();
        let _held = std::fs::OpenOptions::new().read(true).write(true).share_mode(0).open(&p).unwrap();
        let e = crate::fsio::read_regular_file(&p, 100).unwrap_err();
        let crate::fsio::OpenError::Io(e) = e else { panic!("{e:?}") };
        assert!(super::locked_by_another_program(&e), "{e:?}");
    }
}
