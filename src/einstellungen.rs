//! Settings (`beitraege.toml`): the AGS's folders, so that staff run commands without typing
//! paths (issue 20, item 3).
//!
//! Lookup order, first file found wins:
//! 1. beside the program (`beitraege.exe` / `beitraege`), where the Windows zip ships one;
//! 2. the user's profile: `%APPDATA%\beitraege\beitraege.toml` on Windows,
//!    `$XDG_CONFIG_HOME/beitraege/beitraege.toml` or `~/.config/beitraege/beitraege.toml`
//!    elsewhere.
//!
//! Each value is taken, in this order, from the command line's option, the settings file,
//! and (only inside the project checkout, where `samples/2023` lies) the sample year. A value
//! none of them gives stops the command with a German message that names the setting, the
//! option and the file to put it in ([`Fehlt`]). Relative paths in the file are relative to
//! the file's folder, so an installation folder can be moved as a whole.
//!
//! The library's front ends (the command line, the web front) share this module.

use serde::Deserialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The settings file's name.
pub const FILE_NAME: &str = "beitraege.toml";

/// The sample year, the default inside the project checkout only.
pub const SAMPLE_YEAR: i32 = 2023;

/// One setting of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The inbox root (one folder per year below it, e.g. `Eingang\2024`).
    Eingang,
    /// The master data workbook.
    Stammdaten,
    /// The output root: every command writes into a folder of its own below it.
    Ausgabe,
    /// The ledger (SQLite, on a local disk).
    Buchhaltung,
    /// The year to work on.
    Jahr,
}

impl Setting {
    pub const ALL: [Setting; 5] =
        [Setting::Eingang, Setting::Stammdaten, Setting::Ausgabe, Setting::Buchhaltung, Setting::Jahr];

    /// The key in the file (and a stable code for tests and scripts).
    pub fn key(self) -> &'static str {
        match self {
            Setting::Eingang => "eingang",
            Setting::Stammdaten => "stammdaten",
            Setting::Ausgabe => "ausgabe",
            Setting::Buchhaltung => "buchhaltung",
            Setting::Jahr => "jahr",
        }
    }

    /// The command-line option that gives the value instead.
    pub fn option(self) -> &'static str {
        match self {
            Setting::Eingang => "--eingang",
            Setting::Stammdaten => "--stammdaten",
            Setting::Ausgabe => "--ausgabe",
            Setting::Buchhaltung => "--buchhaltung",
            Setting::Jahr => "--jahr",
        }
    }

    /// What it is, in German.
    pub fn label(self) -> &'static str {
        match self {
            Setting::Eingang => "Eingangsordner (darin ein Ordner je Jahr, z. B. «2024»)",
            Setting::Stammdaten => "Stammdaten-Arbeitsmappe",
            Setting::Ausgabe => "Ausgabeordner (darin legt jeder Befehl einen eigenen Ordner an)",
            Setting::Buchhaltung => "Buchhaltung (SQLite-Datei auf einer lokalen Festplatte)",
            Setting::Jahr => "Beitragsjahr, an dem gearbeitet wird",
        }
    }

    /// An example value for the template.
    fn example(self) -> &'static str {
        match self {
            Setting::Eingang => r"'C:\Beitraege\Eingang'",
            Setting::Stammdaten => r"'C:\Beitraege\Stammdaten.xlsx'",
            Setting::Ausgabe => r"'C:\Beitraege\Ausgaben'",
            Setting::Buchhaltung => r"'C:\Beitraege\Buchhaltung\buchhaltung.sqlite'",
            Setting::Jahr => "2024",
        }
    }
}

/// The values of a settings file; a key it does not set is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Werte {
    pub eingang: Option<PathBuf>,
    pub stammdaten: Option<PathBuf>,
    pub ausgabe: Option<PathBuf>,
    pub buchhaltung: Option<PathBuf>,
    pub jahr: Option<i32>,
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Herkunft {
    Option,
    Datei,
    Beispieldaten,
}

impl Herkunft {
    pub fn label(self) -> &'static str {
        match self {
            Herkunft::Option => "Befehlszeile",
            Herkunft::Datei => "Einstellungsdatei",
            Herkunft::Beispieldaten => "Beispieldaten (Projektordner)",
        }
    }
}

/// The settings in force for one command.
#[derive(Debug, Clone, Default)]
pub struct Einstellungen {
    /// The values of the file used (all `None` without one).
    pub werte: Werte,
    /// The file used, if any.
    pub datei: Option<PathBuf>,
    /// Every place looked at, in order.
    pub gesucht: Vec<PathBuf>,
    /// Inside the project checkout: the sample year fills what is missing.
    pub projektordner: bool,
}

/// A setting that no option, no file and no sample gives.
#[derive(Debug, Clone)]
pub struct Fehlt {
    pub setting: Setting,
    pub datei: Option<PathBuf>,
    pub gesucht: Vec<PathBuf>,
}

impl std::fmt::Display for Fehlt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for Fehlt {}

impl Fehlt {
    fn text(&self) -> String {
        let s = self.setting;
        let wo = match &self.datei {
            Some(d) => format!(
                "Die Einstellungsdatei «{}» nennt sie nicht: bitte die Zeile «{} = {}» mit einem Texteditor ergänzen",
                d.display(),
                s.key(),
                s.example()
            ),
            None => format!(
                "Es gibt keine Einstellungsdatei (gesucht: {}); anlegen mit «beitraege einstellungen --neu», dann die Zeile «{} = {}» ergänzen",
                list(&self.gesucht),
                s.key(),
                s.example()
            ),
        };
        format!(
            "Die Einstellung «{}» ({}) fehlt. {wo}, oder beim Befehl «{} …» angeben. Es wurde nichts gelesen und nichts geschrieben.",
            s.key(),
            s.label(),
            s.option()
        )
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("«{}»", p.display())).collect::<Vec<_>>().join(", ")
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DateiFehler {
    #[error("Die Einstellungsdatei «{}» ist nicht lesbar: {}", .0.display(), crate::catalogue::os_error(.1))]
    Lesen(PathBuf, std::io::Error),
    #[error("Die Einstellungsdatei «{}» ist fehlerhaft (Zeile {zeile}): {was}. Pfade in einfache Anführungszeichen setzen, z. B. eingang = 'C:\\Beitraege\\Eingang'; erlaubt sind eingang, stammdaten, ausgabe, buchhaltung und jahr.", .datei.display())]
    Format { datei: PathBuf, zeile: usize, was: String },
    #[error("Die Einstellungsdatei «{}» existiert bereits; sie wird nicht überschrieben.", .0.display())]
    Existiert(PathBuf),
    #[error("Die Einstellungsdatei «{}» kann nicht angelegt werden: {}", .0.display(), crate::catalogue::os_error(.1))]
    Schreiben(PathBuf, std::io::Error),
}

/// The places to look, in order: beside the program, then the user's profile. `env` reads
/// an environment variable (the profile's location only; injected for tests).
pub fn candidates(program_dir: Option<&Path>, env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(d) = program_dir {
        v.push(d.join(FILE_NAME));
    }
    if let Some(p) = profile_dir(env) {
        v.push(p.join(FILE_NAME));
    }
    v
}

/// The user's settings folder: `%APPDATA%\beitraege` on Windows, else
/// `$XDG_CONFIG_HOME/beitraege` or `$HOME/.config/beitraege`.
pub fn profile_dir(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        set("APPDATA").or_else(|| set("USERPROFILE").map(|p| p.join("AppData").join("Roaming")))
    } else {
        set("XDG_CONFIG_HOME").or_else(|| set("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("beitraege"))
}

/// The places to look for the running program.
pub fn default_candidates() -> Vec<PathBuf> {
    let exe = std::env::current_exe().ok();
    let dir = exe.as_deref().and_then(Path::parent);
    candidates(dir, &|k| std::env::var_os(k))
}

/// Inside the project checkout (the current folder holds `Cargo.toml` and the sample year).
pub fn in_checkout(cwd: &Path) -> bool {
    cwd.join("Cargo.toml").is_file()
        && cwd.join("samples").join(SAMPLE_YEAR.to_string()).join("Stammdaten.xlsx").is_file()
}

/// Reads one settings file; relative paths become relative to its folder.
pub fn read(path: &Path) -> Result<Werte, DateiFehler> {
    let bytes = std::fs::read(path).map_err(|e| DateiFehler::Lesen(path.to_path_buf(), e))?;
    parse(path, &bytes)
}

/// Parses a settings file's bytes (UTF-8, a BOM as Notepad writes it allowed).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Werte, DateiFehler> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let fmt = |zeile: usize, was: &str| DateiFehler::Format { datei: path.to_path_buf(), zeile, was: was.to_string() };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        fmt(line, "kein UTF-8-Text (mit dem Editor als UTF-8 speichern)")
    })?;
    let mut w: Werte = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let msg = e.message();
        let was = if msg.contains("unknown field") {
            "unbekannte Einstellung".to_string()
        } else if msg.contains("escape") {
            "ungültiger Backslash in einem Pfad in doppelten Anführungszeichen".to_string()
        } else if msg.contains("invalid type") {
            "falscher Wert (Pfade in Anführungszeichen, das Jahr als Zahl)".to_string()
        } else {
            "keine gültige Zeile «name = wert»".to_string()
        };
        fmt(line, &was)
    })?;
    if let Some(y) = w.jahr {
        if !(2000..=2999).contains(&y) {
            return Err(fmt(1, &format!("jahr = {y} ist kein Beitragsjahr")));
        }
    }
    let base = path.parent().unwrap_or(Path::new(""));
    for p in [&mut w.eingang, &mut w.stammdaten, &mut w.ausgabe, &mut w.buchhaltung].into_iter().flatten() {
        if p.as_os_str().is_empty() {
            return Err(fmt(1, "ein leerer Pfad"));
        }
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    Ok(w)
}

/// Looks for a settings file at `candidates` (first found wins) and reads it.
pub fn load_from(candidates: Vec<PathBuf>, projektordner: bool) -> Result<Einstellungen, DateiFehler> {
    let datei = candidates.iter().find(|p| p.is_file()).cloned();
    let werte = match &datei {
        Some(p) => read(p)?,
        None => Werte::default(),
    };
    Ok(Einstellungen { werte, datei, gesucht: candidates, projektordner })
}

/// The settings of the running program in the current folder.
pub fn load() -> Result<Einstellungen, DateiFehler> {
    let cwd = std::env::current_dir().unwrap_or_default();
    load_from(default_candidates(), in_checkout(&cwd))
}

impl Einstellungen {
    fn fehlt(&self, setting: Setting) -> Fehlt {
        Fehlt { setting, datei: self.datei.clone(), gesucht: self.gesucht.clone() }
    }

    fn file_path(&self, s: Setting) -> Option<&PathBuf> {
        match s {
            Setting::Eingang => self.werte.eingang.as_ref(),
            Setting::Stammdaten => self.werte.stammdaten.as_ref(),
            Setting::Ausgabe => self.werte.ausgabe.as_ref(),
            Setting::Buchhaltung => self.werte.buchhaltung.as_ref(),
            Setting::Jahr => None,
        }
    }

    /// The year: the option, the file, else the sample year inside the checkout.
    pub fn year(&self, cli: Option<i32>) -> Result<(i32, Herkunft), Fehlt> {
        if let Some(y) = cli {
            return Ok((y, Herkunft::Option));
        }
        if let Some(y) = self.werte.jahr {
            return Ok((y, Herkunft::Datei));
        }
        if self.projektordner {
            return Ok((SAMPLE_YEAR, Herkunft::Beispieldaten));
        }
        Err(self.fehlt(Setting::Jahr))
    }

    /// A path: the option, the file's value (for the output root and the inbox root, as the
    /// command needs it below: `from_file`), else `sample` inside the checkout.
    pub fn path(
        &self,
        s: Setting,
        cli: Option<&Path>,
        from_file: impl FnOnce(&Path) -> PathBuf,
        sample: impl FnOnce() -> PathBuf,
    ) -> Result<PathBuf, Fehlt> {
        Ok(self.path_with_origin(s, cli, from_file, sample)?.0)
    }

    /// [`Self::path`] with where the value came from.
    pub fn path_with_origin(
        &self,
        s: Setting,
        cli: Option<&Path>,
        from_file: impl FnOnce(&Path) -> PathBuf,
        sample: impl FnOnce() -> PathBuf,
    ) -> Result<(PathBuf, Herkunft), Fehlt> {
        if let Some(p) = cli {
            return Ok((p.to_path_buf(), Herkunft::Option));
        }
        if let Some(p) = self.file_path(s) {
            return Ok((from_file(p), Herkunft::Datei));
        }
        if self.projektordner {
            return Ok((sample(), Herkunft::Beispieldaten));
        }
        Err(self.fehlt(s))
    }

    /// A path used as it stands in the file.
    pub fn plain(&self, s: Setting, cli: Option<&Path>, sample: impl FnOnce() -> PathBuf) -> Result<PathBuf, Fehlt> {
        self.path(s, cli, Path::to_path_buf, sample)
    }

    /// The sample's defaults apply (nothing given by option or file for `s`).
    pub fn uses_sample(&self, s: Setting, cli_given: bool) -> bool {
        !cli_given
            && self.projektordner
            && self.file_path(s).is_none()
            && (s != Setting::Jahr || self.werte.jahr.is_none())
    }

    /// What `beitraege einstellungen` prints: the file used, the places looked at, and each
    /// setting with its value and origin.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match &self.datei {
            Some(d) => s.push_str(&format!("Einstellungsdatei: {}\n", d.display())),
            None => s.push_str("Einstellungsdatei: keine gefunden (anlegen mit «beitraege einstellungen --neu»)\n"),
        }
        s.push_str("Gesucht (in dieser Reihenfolge):\n");
        for p in &self.gesucht {
            let mark = if Some(p) == self.datei.as_ref() {
                "verwendet"
            } else if p.is_file() {
                "vorhanden"
            } else {
                "fehlt"
            };
            s.push_str(&format!("  {} ({mark})\n", p.display()));
        }
        if self.projektordner {
            s.push_str(&format!(
                "Im Projektordner: Fehlende Einstellungen nehmen die Beispieldaten (samples/{SAMPLE_YEAR}).\n"
            ));
        }
        s.push_str("\nEinstellungen:\n");
        for set in Setting::ALL {
            let value = match set {
                Setting::Jahr => self.werte.jahr.map(|y| y.to_string()),
                _ => self.file_path(set).map(|p| p.display().to_string()),
            };
            let shown = match value {
                Some(v) => v,
                None if self.projektordner => format!("(nicht gesetzt: Beispieldaten {SAMPLE_YEAR})"),
                None => "(nicht gesetzt)".to_string(),
            };
            s.push_str(&format!("  {:<12} {shown}\n", set.key()));
            s.push_str(&format!("  {:<12} {}\n", "", set.label()));
        }
        s
    }
}

/// The text of a new settings file: every setting explained, with the given values set and
/// the others as commented examples.
pub fn template(w: &Werte) -> String {
    let mut s = String::new();
    s.push_str(
        "# Einstellungen von «beitraege» (Beiträge start.integration, AGS Kanton Solothurn)\n\
         #\n\
         # Mit einem Texteditor (z. B. Editor/Notepad) bearbeiten und als UTF-8 speichern.\n\
         # Pfade in einfache Anführungszeichen setzen: eingang = 'C:\\Beitraege\\Eingang'.\n\
         # Ein Pfad ohne Laufwerk gilt ab dem Ordner dieser Datei. Eine Zeile, die mit # beginnt,\n\
         # gilt nicht: zum Einschalten das # am Zeilenanfang löschen.\n\
         # Was beim Befehl angegeben wird (z. B. --jahr 2025), geht dieser Datei vor.\n\
         # «beitraege einstellungen» zeigt, welche Datei verwendet wird.\n\n",
    );
    for set in Setting::ALL {
        s.push_str(&format!("# {}\n", set.label()));
        let value = match set {
            Setting::Jahr => w.jahr.map(|y| y.to_string()),
            Setting::Eingang => w.eingang.as_deref().map(quote),
            Setting::Stammdaten => w.stammdaten.as_deref().map(quote),
            Setting::Ausgabe => w.ausgabe.as_deref().map(quote),
            Setting::Buchhaltung => w.buchhaltung.as_deref().map(quote),
        };
        match value {
            Some(v) => s.push_str(&format!("{} = {v}\n\n", set.key())),
            None => s.push_str(&format!("# {} = {}\n\n", set.key(), set.example())),
        }
    }
    s
}

/// A path as a TOML string: literal (single quotes) where it can, else a basic string.
fn quote(p: &Path) -> String {
    let t = p.display().to_string();
    if !t.contains('\'') && !t.chars().any(char::is_control) {
        format!("'{t}'")
    } else {
        let escaped: String = t
            .chars()
            .flat_map(|c| match c {
                '\\' => "\\\\".chars().collect::<Vec<_>>(),
                '"' => "\\\"".chars().collect(),
                c if c.is_control() => format!("\\u{:04X}", c as u32).chars().collect(),
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    }
}

/// Writes a new settings file at `path` (never over an existing one); creates its folder.
pub fn create(path: &Path, w: &Werte) -> Result<(), DateiFehler> {
    if path.exists() {
        return Err(DateiFehler::Existiert(path.to_path_buf()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DateiFehler::Schreiben(path.to_path_buf(), e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| DateiFehler::Schreiben(path.to_path_buf(), e))?;
    use std::io::Write;
    // Windows line ends: Notepad of older Windows shows a file with LF only on one line.
    let text = template(w).replace('\n', "\r\n");
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| DateiFehler::Schreiben(path.to_path_buf(), e))
}

/// The year folder of an inbox root: `<root>/<year>` when it exists, for a command that
/// needs one year's forms; the root itself otherwise.
pub fn year_folder(root: &Path, year: i32) -> PathBuf {
    let y = root.join(year.to_string());
    if y.is_dir() {
        y
    } else {
        root.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn beside_the_program_comes_before_the_profile() {
        let c = candidates(Some(Path::new("/prog")), &env_of(&[("XDG_CONFIG_HOME", "/cfg"), ("APPDATA", "/app")]));
        let profile = if cfg!(windows) { "/app" } else { "/cfg" };
        assert_eq!(c, vec![Path::new("/prog").join(FILE_NAME), Path::new(profile).join("beitraege").join(FILE_NAME)]);
    }

    #[cfg(not(windows))]
    #[test]
    fn the_profile_falls_back_to_home_config_and_empty_values_count_as_unset() {
        let c = candidates(None, &env_of(&[("XDG_CONFIG_HOME", ""), ("HOME", "/home/a")]));
        assert_eq!(c, vec![PathBuf::from("/home/a/.config/beitraege/beitraege.toml")]);
        assert!(candidates(None, &env_of(&[])).is_empty());
    }

    #[test]
    fn the_first_file_found_is_used() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a").join(FILE_NAME);
        let b = tmp.path().join("b").join(FILE_NAME);
        std::fs::create_dir_all(b.parent().unwrap()).unwrap();
        std::fs::write(&b, "jahr = 2025\n").unwrap();
        let e = load_from(vec![a.clone(), b.clone()], false).unwrap();
        assert_eq!(e.datei.as_ref(), Some(&b));
        assert_eq!(e.werte.jahr, Some(2025));
        std::fs::create_dir_all(a.parent().unwrap()).unwrap();
        std::fs::write(&a, "jahr = 2026\n").unwrap();
        let e = load_from(vec![a.clone(), b], false).unwrap();
        assert_eq!(e.datei.as_ref(), Some(&a));
        assert_eq!(e.werte.jahr, Some(2026));
    }

    #[test]
    fn windows_paths_in_single_quotes_and_relative_paths_from_the_file() {
        let w = parse(
            Path::new("/inst/beitraege.toml"),
            "\u{FEFF}eingang = 'C:\\Beitraege\\Eingang'\r\nstammdaten = 'Stammdaten.xlsx'\r\nausgabe = '\\\\server\\share\\Aus'\r\njahr = 2024\r\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            w.eingang,
            Some(PathBuf::from("C:\\Beitraege\\Eingang")).map(|p| {
                if p.is_relative() {
                    Path::new("/inst").join(p)
                } else {
                    p
                }
            })
        );
        assert_eq!(w.stammdaten, Some(Path::new("/inst").join("Stammdaten.xlsx")));
        assert_eq!(w.jahr, Some(2024));
    }

    /// Windows (Wine in CI): drive letters and UNC paths are absolute, a name without a
    /// drive is relative to the file's folder, umlauts pass.
    #[cfg(windows)]
    #[test]
    fn windows_paths_drive_letters_unc_and_umlauts() {
        let w = parse(
            Path::new(r"C:\Programme\Beiträge\beitraege.toml"),
            "eingang = 'D:\\Eingang Ämter'\nausgabe = '\\\\server\\freigabe\\Aus'\nstammdaten = 'Stammdaten.xlsx'\nbuchhaltung = \"C:\\\\B\\\\b.sqlite\"\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(w.eingang, Some(PathBuf::from(r"D:\Eingang Ämter")));
        assert_eq!(w.ausgabe, Some(PathBuf::from(r"\\server\freigabe\Aus")));
        assert_eq!(w.stammdaten, Some(PathBuf::from(r"C:\Programme\Beiträge\Stammdaten.xlsx")));
        assert_eq!(w.buchhaltung, Some(PathBuf::from(r"C:\B\b.sqlite")));
    }

    #[test]
    fn a_bad_file_names_its_line() {
        for (text, line) in [
            ("jahr = 2024\neingang = \"C:\\Beitraege\"\n", 2),
            ("jahr = 2024\n\nordner = 'x'\n", 3),
            ("jahr = 'zwei'\n", 1),
            ("jahr = 1999\n", 1),
            ("eingang = ''\n", 1),
            ("jahr 2024\n", 1),
        ] {
            match parse(Path::new("e.toml"), text.as_bytes()) {
                Err(DateiFehler::Format { zeile, .. }) => assert_eq!(zeile, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(matches!(parse(Path::new("e.toml"), b"jahr = 2024\n\xFF"), Err(DateiFehler::Format { zeile: 2, .. })));
    }

    #[test]
    fn option_then_file_then_sample_then_missing() {
        let file = Einstellungen {
            werte: Werte { jahr: Some(2025), eingang: Some("E".into()), ..Werte::default() },
            datei: Some("s.toml".into()),
            gesucht: vec!["s.toml".into()],
            projektordner: true,
        };
        assert_eq!(file.year(Some(2022)).unwrap(), (2022, Herkunft::Option));
        assert_eq!(file.year(None).unwrap(), (2025, Herkunft::Datei));
        let p = |e: &Einstellungen, s, cli: Option<&str>| {
            e.path_with_origin(s, cli.map(Path::new), |p| p.join("2025"), || PathBuf::from("samples"))
        };
        assert_eq!(p(&file, Setting::Eingang, Some("X")).unwrap(), (PathBuf::from("X"), Herkunft::Option));
        assert_eq!(p(&file, Setting::Eingang, None).unwrap(), (PathBuf::from("E/2025"), Herkunft::Datei));
        assert_eq!(p(&file, Setting::Ausgabe, None).unwrap(), (PathBuf::from("samples"), Herkunft::Beispieldaten));
        let outside = Einstellungen { projektordner: false, ..file.clone() };
        let e = p(&outside, Setting::Ausgabe, None).unwrap_err();
        assert_eq!((e.setting, e.datei), (Setting::Ausgabe, Some(PathBuf::from("s.toml"))));
        let none = Einstellungen { gesucht: vec!["a".into(), "b".into()], ..Einstellungen::default() };
        let e = none.year(None).unwrap_err();
        assert_eq!((e.setting, e.datei.clone(), e.gesucht.len()), (Setting::Jahr, None, 2));
        assert!(e.to_string().contains("jahr") && e.to_string().contains("--jahr"));
    }

    #[test]
    fn a_new_file_reads_back_and_is_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("neu").join(FILE_NAME);
        let w = Werte {
            eingang: Some(tmp.path().join("Eingang mit 'Apostroph'")),
            stammdaten: Some(tmp.path().join("Stammdaten Ämter.xlsx")),
            jahr: Some(2024),
            ..Werte::default()
        };
        create(&path, &w).unwrap();
        assert_eq!(read(&path).unwrap(), w);
        assert!(matches!(create(&path, &Werte::default()), Err(DateiFehler::Existiert(_))));
        // The empty template sets nothing.
        let empty = tmp.path().join(FILE_NAME);
        create(&empty, &Werte::default()).unwrap();
        assert_eq!(read(&empty).unwrap(), Werte::default());
    }
}
