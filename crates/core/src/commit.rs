//! The output folder as a transaction: a run replaces the whole set of files it wrote last
//! time by the whole new set, in one atomic step, or changes nothing.
//!
//! - **Lock.** A run takes an exclusive lock on `<parent>/.beitraege-<name>.sperre` beside the
//!   output folder for its whole duration; a second run into the same folder is refused at
//!   once with a German message that names the holder.
//! - **Stage, then swap.** The new set is written into a sibling folder
//!   `.beitraege-<name>.neu-<id>` (every file synced), together with every file of the output
//!   folder that the program did not write (hard links, so nothing is copied or lost). Then
//!   the stage and the output folder are exchanged by one `renameat2(RENAME_EXCHANGE)`: a
//!   reader, or a kill, sees either the whole old folder or the whole new one. Where the
//!   file system cannot exchange, two renames are used and a kill between them is repaired
//!   by the next run (roll forward if the stage was complete, otherwise roll back).
//! - **Ownership.** Each committed folder holds `.beitraege-inhalt.json`, the list of files
//!   the program wrote. Only those are ever replaced or dropped; anything else in the folder
//!   is carried into the new folder unchanged. A foreign file that stands where a new output
//!   goes is kept under `Gesichert_<Zeitstempel>/`.
//! - **Leftovers.** Staging folders of killed runs are removed (or rolled forward) by the
//!   next run, under the lock.
//! - **Windows** has no `renameat2`: the swap is always the two renames (`MoveFileExW`) of
//!   the fallback. The guarantee there: a reader sees the whole old folder, the whole new one,
//!   or, for the moment between the two renames, no folder; a kill in that moment is repaired
//!   by the next command on the folder (roll forward if the new set was staged whole,
//!   otherwise back). A file of the output folder that another program holds open without
//!   sharing (a workbook open in Excel) makes the first rename fail: the run stops with a
//!   German message and the old folder stays as it was. The lock is a `LockFileEx` lock of
//!   the `.sperre` file (Rust's `File::try_lock`). Tested under Wine (tools/wine-check.sh).

use crate::fsio::hex;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// A file to be written: its path relative to the output folder and its bytes.
#[derive(Debug, Clone)]
pub struct OutFile {
    pub rel: String,
    pub bytes: Vec<u8>,
}

impl OutFile {
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(&self.bytes))
    }
}

/// Why an output folder cannot be written.
#[derive(Debug, Error)]
pub enum CommitError {
    #[error("Der Ausgabeordner «{}» kann nicht beschrieben werden: {}", path.display(), crate::catalogue::os_error(err))]
    Io { path: PathBuf, err: std::io::Error },
    #[error(
        "Der Ausgabeordner «{path}» wird gerade von einem anderen Lauf verwendet ({holder}). \
         Bitte warten, bis dieser beendet ist, und dann erneut starten."
    )]
    Locked { path: PathBuf, holder: String },
    #[error("{0}")]
    Refused(String),
    /// An output folder or a ledger in a place that would let a command replace what it must
    /// not (refused before anything is read).
    #[error(transparent)]
    Place(#[from] PlaceError),
}

type WriteError = CommitError;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The hidden list of the files the program wrote into a committed folder.
pub const OWNED_INDEX: &str = ".beitraege-inhalt.json";

/// The marker of a booked run's folder (a payout run, a Storno): its files are never
/// replaced or deleted; [`add_files`] only adds the missing ones, and [`OutputDir::open`]
/// refuses such a folder.
pub const BOOKED_MARKER: &str = ".beitraege-gebucht.json";

/// Where a folder or a ledger must not be (issue 17, item 3), refused before anything is
/// read.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("Der Ordner «{}» enthält die Ausgaben eines Laufs von «beitraege run» (manifest.json); sie werden nicht ersetzt. Bitte einen eigenen Ausgabeordner angeben; es wurde nichts gelesen und nichts geschrieben.", .0.display())]
    HoldsRun(PathBuf),
    #[error("Der Ordner «{}» ist der Ausgabeordner eines anderen Befehls (er enthält dessen Ausgaben). Bitte einen eigenen Ausgabeordner angeben; es wurde nichts gelesen und nichts geschrieben.", .0.display())]
    HoldsOutputs(PathBuf),
    #[error("Der Ordner «{}» enthält die Ausgaben eines gebuchten Zahlungslaufs oder Stornos; sie werden nie ersetzt oder gelöscht. Bitte einen anderen Ausgabeordner angeben; es wurde nichts gelesen und nichts geschrieben.", .0.display())]
    BookedRun(PathBuf),
    #[error("Die Buchhaltung «{}» liegt im Eingangsordner «{}»; dort würde sie als eingereichte Datei gelesen. Bitte die Buchhaltung ausserhalb des Eingangsordners ablegen; es wurde nichts gelesen.", .ledger.display(), .inbox.display())]
    LedgerInInbox { ledger: PathBuf, inbox: PathBuf },
    #[error("Die Buchhaltung «{}» liegt im Ausgabeordner «{}»; eine Ausgabe könnte sie ersetzen. Bitte die Buchhaltung ausserhalb der Ausgabeordner ablegen; es wurde nichts gelesen.", .ledger.display(), .out.display())]
    LedgerInOutput { ledger: PathBuf, out: PathBuf },
    #[error("Die Buchhaltung «{}» liegt in einem Ausgabeordner («{}») und wäre damit eine Ausgabedatei. Bitte die Buchhaltung ausserhalb der Ausgabeordner ablegen; es wurde nichts gelesen.", .ledger.display(), .folder.display())]
    LedgerIsOutput { ledger: PathBuf, folder: PathBuf },
}

/// `p` as an absolute path with every existing part resolved (links included); the parts
/// that do not exist yet are appended as given.
fn real(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(r) = std::fs::canonicalize(cur) {
            let mut out = r;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

/// The folder holds the outputs of some command: a `run` (manifest), any committed output
/// folder (its list of owned files), or a booked run.
fn output_marker(dir: &Path) -> Option<PlaceError> {
    if dir.join(BOOKED_MARKER).exists() {
        Some(PlaceError::BookedRun(dir.to_path_buf()))
    } else if dir.join(MANIFEST).exists() {
        Some(PlaceError::HoldsRun(dir.to_path_buf()))
    } else if dir.join(OWNED_INDEX).exists() {
        Some(PlaceError::HoldsOutputs(dir.to_path_buf()))
    } else {
        None
    }
}

/// An output root (the folder below which a command writes folders of its own) must not
/// itself be the output folder of a command: not a `run`'s folder, not a booked run's, and
/// (with `strict`) no folder that a command committed into.
pub fn check_output_root(root: &Path, strict: bool) -> Result<(), PlaceError> {
    if !root.is_dir() {
        return Ok(());
    }
    match output_marker(root) {
        Some(PlaceError::HoldsOutputs(_)) if !strict => Ok(()),
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A ledger must lie neither in the inbox nor in an output folder, nor in any folder that
/// holds a command's outputs (where it would be an output file).
pub fn check_ledger_place(ledger: &Path, inbox: Option<&Path>, outs: &[&Path]) -> Result<(), PlaceError> {
    let l = real(ledger);
    if let Some(inbox) = inbox {
        if l.starts_with(real(inbox)) {
            return Err(PlaceError::LedgerInInbox { ledger: ledger.to_path_buf(), inbox: inbox.to_path_buf() });
        }
    }
    for out in outs {
        if l.starts_with(real(out)) {
            return Err(PlaceError::LedgerInOutput { ledger: ledger.to_path_buf(), out: out.to_path_buf() });
        }
    }
    let mut dir = l.parent();
    while let Some(d) = dir {
        if output_marker(d).is_some() {
            return Err(PlaceError::LedgerIsOutput { ledger: ledger.to_path_buf(), folder: d.to_path_buf() });
        }
        dir = d.parent();
    }
    Ok(())
}

/// What [`add_files`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Added {
    /// Written now (they were missing).
    pub written: Vec<String>,
    /// Already there with the same bytes.
    pub present: Vec<String>,
    /// Already there with other bytes: left as they are (never replaced).
    pub differing: Vec<String>,
}

/// The prefix of the temporary files [`add_files`] writes before linking them into place.
const ADD_TEMP: &str = ".beitraege-neu-";

/// Writes the missing `files` into the booked run's folder `dir` (created if missing) and
/// never replaces or deletes a file: the marker [`BOOKED_MARKER`] first, then each missing
/// file written under a temporary name, synced, and linked to its name (a link never
/// replaces an existing file); a file already there is compared and left as it is.
/// Temporary files of a killed earlier call are removed.
pub fn add_files(dir: &Path, marker: &[u8], files: &[OutFile]) -> Result<Added, WriteError> {
    for f in files {
        check_rel(&f.rel)?;
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    remove_temps(dir)?;
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    dirs.insert(dir.to_path_buf());
    let mut out = Added::default();
    let marker_file = OutFile { rel: BOOKED_MARKER.to_string(), bytes: marker.to_vec() };
    for (n, f) in std::iter::once(&marker_file).chain(files).enumerate() {
        let target = dir.join(&f.rel);
        let parent = target.parent().unwrap_or(dir).to_path_buf();
        if !dirs.contains(&parent) {
            std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
            dirs.insert(parent.clone());
        }
        if std::fs::symlink_metadata(&target).is_err() {
            let tmp = parent.join(format!("{ADD_TEMP}{}-{n}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            {
                let mut file =
                    std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| io(&tmp, e))?;
                file.write_all(&f.bytes).and_then(|_| file.sync_all()).map_err(|e| io(&tmp, e))?;
            }
            crash_point(&format!("ausgabe-{n}-geschrieben"));
            let linked = match std::fs::hard_link(&tmp, &target) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                // A file system without hard links: a rename, checked just before.
                Err(_) if !target.exists() => {
                    std::fs::rename(&tmp, &target).map_err(|e| io(&target, e))?;
                    true
                }
                Err(_) => false,
            };
            let _ = std::fs::remove_file(&tmp);
            sync_dir(&parent);
            crash_point(&format!("ausgabe-{n}"));
            if linked {
                if n > 0 {
                    out.written.push(f.rel.clone());
                }
                continue;
            }
        }
        if n == 0 {
            continue;
        }
        match std::fs::read(&target) {
            Ok(b) if b == f.bytes => out.present.push(f.rel.clone()),
            _ => out.differing.push(f.rel.clone()),
        }
    }
    for d in &dirs {
        sync_dir(d);
    }
    Ok(out)
}

/// Removes the temporary files of [`add_files`] below `dir`.
fn remove_temps(dir: &Path) -> Result<(), WriteError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for e in entries.flatten() {
        let name = e.file_name();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            remove_temps(&e.path())?;
        } else if name.to_string_lossy().starts_with(ADD_TEMP) {
            std::fs::remove_file(e.path()).map_err(|err| io(&e.path(), err))?;
        }
    }
    Ok(())
}

/// At most this many foreign entries are carried into a new output folder; a folder with
/// more is not an output folder of its own, and the run refuses to commit into it.
pub const MAX_FOREIGN_ENTRIES: usize = 10_000;

fn io(path: &Path, source: std::io::Error) -> WriteError {
    WriteError::Io { path: path.to_path_buf(), err: source }
}

/// Test hook, only with the feature `test-hooks` (never in the shipped binary):
/// `BEITRAEGE_ABBRUCH_BEI=<point>` aborts the process at that point (as a kill would: no
/// destructor runs), `BEITRAEGE_HALT_BEI=<point>` prints `HALT <point>` on standard error there
/// and holds until its standard input is closed. Used by the
/// crash-consistency and concurrency tests; without the variables it does nothing.
#[cfg(feature = "test-hooks")]
pub fn crash_point(point: &str) {
    use std::sync::OnceLock;
    static ABORT: OnceLock<Option<String>> = OnceLock::new();
    static HALT: OnceLock<Option<String>> = OnceLock::new();
    if ABORT.get_or_init(|| std::env::var("BEITRAEGE_ABBRUCH_BEI").ok()).as_deref() == Some(point) {
        std::process::abort();
    }
    if HALT.get_or_init(|| std::env::var("BEITRAEGE_HALT_BEI").ok()).as_deref() == Some(point) {
        // Says where it is, then holds until the test closes its standard input (or kills
        // it): the test acts on the event, never on a time window.
        eprintln!("HALT {point}");
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    }
}

/// Without the feature `test-hooks`: nothing (the environment is never read).
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn crash_point(_point: &str) {}

/// An output folder, locked for this process until dropped.
#[derive(Debug)]
pub struct OutputDir {
    /// The folder (absolute; a link to a folder is resolved, so the link stays a link).
    out: PathBuf,
    parent: PathBuf,
    name: OsString,
    _lock: File,
}

fn sibling(name: &OsStr, suffix: &str) -> OsString {
    let mut s = OsString::from(".beitraege-");
    s.push(name);
    s.push(".");
    s.push(suffix);
    s
}

/// `out` as an absolute path whose last component is a plain name, with a link to a folder
/// resolved. The folder itself need not exist; its parent is created.
pub fn resolve_out(out: &Path) -> Result<PathBuf, WriteError> {
    let refuse = || WriteError::Refused(format!("«{}» ist kein gültiger Ausgabeordner.", out.display()));
    if out.exists() {
        if !out.is_dir() {
            return Err(WriteError::Refused(format!(
                "Der Ausgabeordner «{}» ist eine Datei, kein Ordner.",
                out.display()
            )));
        }
        return std::fs::canonicalize(out).map_err(|e| io(out, e));
    }
    let abs = std::path::absolute(out).map_err(|e| io(out, e))?;
    let name = match abs.components().next_back() {
        Some(Component::Normal(n)) => n.to_os_string(),
        _ => return Err(refuse()),
    };
    let parent = abs.parent().ok_or_else(refuse)?;
    std::fs::create_dir_all(parent).map_err(|e| io(out, e))?;
    let parent = std::fs::canonicalize(parent).map_err(|e| io(out, e))?;
    Ok(parent.join(name))
}

/// How long a run waits for an output folder another run holds before it refuses.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(50);

impl OutputDir {
    /// Locks the output folder (refusing if another run holds it) and repairs what a killed
    /// run left behind. The folder itself is created only by the first commit.
    pub fn open(out: &Path) -> Result<OutputDir, WriteError> {
        let out = resolve_out(out)?;
        // A booked run's folder is never replaced.
        if out.join(BOOKED_MARKER).exists() {
            return Err(PlaceError::BookedRun(out).into());
        }
        let refuse = || WriteError::Refused(format!("«{}» ist kein gültiger Ausgabeordner.", out.display()));
        let parent = out.parent().ok_or_else(refuse)?.to_path_buf();
        let name = out.file_name().ok_or_else(refuse)?.to_os_string();
        let lock_path = parent.join(sibling(&name, "sperre"));
        let mut lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| io(&out, e))?;
        // A lock held only for a moment is waited for: a process of the same program that
        // starts another process (a test, a caller of the library) lends its open lock file to
        // the child until the child has started, and that must not refuse the next run.
        let mut waited = std::time::Duration::ZERO;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if waited < LOCK_PATIENCE => {
                    std::thread::sleep(LOCK_POLL);
                    waited += LOCK_POLL;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                    return Err(WriteError::Locked { path: out.clone(), holder: holder.trim().to_string() });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path, e)),
            }
        }
        // Who holds it, for the message another run shows.
        let since = chrono::Local::now().format("%d.%m.%Y %H:%M:%S");
        let _ = lock.set_len(0).and_then(|_| write!(lock, "Prozess {} seit {since}", std::process::id()));
        let dir = OutputDir { out, parent, name, _lock: lock };
        dir.repair()?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.out
    }

    fn leftovers(&self) -> Result<Vec<(String, PathBuf)>, WriteError> {
        let prefix = sibling(&self.name, "");
        let prefix = prefix.to_string_lossy().into_owned();
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.parent).map_err(|e| io(&self.parent, e))? {
            let e = e.map_err(|e| io(&self.parent, e))?;
            let file_name = e.file_name();
            let Some(n) = file_name.to_str() else { continue };
            if let Some(rest) = n.strip_prefix(&prefix) {
                if rest != "sperre" {
                    found.push((rest.to_string(), e.path()));
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// Completes or rolls back a commit that a kill interrupted, and removes every leftover.
    fn repair(&self) -> Result<(), WriteError> {
        let left = self.leftovers()?;
        if left.is_empty() {
            return Ok(());
        }
        if !self.out.exists() {
            // Killed between the two renames of the fallback: the new set, if staged whole,
            // else the old one.
            let ready = left.iter().find_map(|(k, _)| k.strip_prefix("bereit-").map(str::to_string));
            let stage = ready.and_then(|id| left.iter().find(|(k, _)| *k == format!("neu-{id}")));
            let old = left.iter().find(|(k, _)| k.starts_with("alt-"));
            if let Some((_, from)) = stage.or(old) {
                tracing::warn!("Ausgabeordner nach einem Abbruch wiederhergestellt: {}", self.out.display());
                std::fs::rename(from, &self.out).map_err(|e| io(&self.out, e))?;
            }
        }
        for (_, p) in self.leftovers()? {
            let r = if p.is_dir() && !p.is_symlink() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            r.map_err(|e| io(&p, e))?;
        }
        sync_dir(&self.parent);
        Ok(())
    }

    /// The files the program wrote into the folder last time.
    fn owned(&self) -> BTreeSet<String> {
        let mut owned = BTreeSet::new();
        if let Ok(text) = std::fs::read_to_string(self.out.join(OWNED_INDEX)) {
            if let Ok(list) = serde_json::from_str::<Vec<String>>(&text) {
                owned.extend(list);
                return owned;
            }
        }
        // Folders written before the index existed: the manifest lists the outputs.
        if let Ok(text) = std::fs::read_to_string(self.out.join(MANIFEST)) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(list) = v.get("ausgaben").and_then(|a| a.as_array()) {
                    owned.extend(list.iter().filter_map(|o| o.get("datei")?.as_str().map(str::to_string)));
                    owned.insert(MANIFEST.to_string());
                }
            }
        }
        owned
    }

    /// Replaces the folder's previous outputs by `files`, atomically.
    pub fn commit(&self, files: &[OutFile]) -> Result<(), WriteError> {
        for f in files {
            check_rel(&f.rel)?;
        }
        let id = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
        );
        let stage = self.parent.join(sibling(&self.name, &format!("neu-{id}")));
        let ready = self.parent.join(sibling(&self.name, &format!("bereit-{id}")));
        let result = self.stage_and_swap(files, &stage, &ready);
        // Whatever happened, the stage path now holds nothing that is needed: before the
        // swap the unused new set, after it the old set.
        let _ = std::fs::remove_dir_all(&stage);
        let _ = std::fs::remove_file(&ready);
        sync_dir(&self.parent);
        crash_point("aufgeraeumt");
        result
    }

    fn stage_and_swap(&self, files: &[OutFile], stage: &Path, ready: &Path) -> Result<(), WriteError> {
        std::fs::create_dir(stage).map_err(|e| io(stage, e))?;
        if let Ok(meta) = std::fs::metadata(&self.out) {
            let _ = std::fs::set_permissions(stage, meta.permissions());
        }
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        dirs.insert(stage.to_path_buf());
        let mut written: BTreeSet<String> = BTreeSet::new();
        for (n, f) in files.iter().enumerate() {
            write_synced(stage, &f.rel, &f.bytes, &mut dirs)?;
            written.insert(f.rel.clone());
            crash_point(&format!("datei-{}", n + 1));
        }
        let index = serde_json::to_vec_pretty(&written).unwrap_or_default();
        write_synced(stage, OWNED_INDEX, &index, &mut dirs)?;
        crash_point("gestaged");
        if self.out.exists() {
            self.carry_foreign(stage, &written, &mut dirs)?;
        }
        crash_point("uebernommen");
        for d in &dirs {
            sync_dir(d);
        }
        File::create(ready).and_then(|f| f.sync_all()).map_err(|e| io(ready, e))?;
        sync_dir(&self.parent);
        crash_point("bereit");
        if self.out.exists() {
            swap(stage, &self.out, &self.parent, &self.name)?;
        } else {
            std::fs::rename(stage, &self.out).map_err(|e| io(&self.out, e))?;
        }
        sync_dir(&self.parent);
        crash_point("getauscht");
        Ok(())
    }

    /// Carries every entry of the output folder that the program did not write into the
    /// stage (hard links: the same files, nothing copied). A foreign file where a new output
    /// goes is kept under `Gesichert_<Zeitstempel>/`.
    fn carry_foreign(
        &self,
        stage: &Path,
        written: &BTreeSet<String>,
        dirs: &mut BTreeSet<PathBuf>,
    ) -> Result<(), WriteError> {
        let owned = self.owned();
        let mut foreign: Vec<(String, PathBuf, std::fs::FileType)> = Vec::new();
        collect_entries(&self.out, "", &mut foreign, &owned)?;
        if foreign.len() > MAX_FOREIGN_ENTRIES {
            return Err(WriteError::Refused(format!(
                "Der Ausgabeordner «{}» enthält {} Dateien, die nicht von diesem Programm stammen. \
                 Bitte einen eigenen, leeren Ausgabeordner angeben.",
                self.out.display(),
                foreign.len()
            )));
        }
        // Paths the new set occupies: its files and every folder above them.
        let mut occupied: BTreeSet<&str> = BTreeSet::new();
        for w in written.iter().map(String::as_str).chain([OWNED_INDEX]) {
            occupied.insert(w);
            let mut p = w;
            while let Some((head, _)) = p.rsplit_once('/') {
                occupied.insert(head);
                p = head;
            }
        }
        let stamp = chrono::Local::now().format("Gesichert_%Y-%m-%d_%H%M%S").to_string();
        for (rel, src, ft) in foreign {
            let clash = occupied.contains(rel.as_str())
                || written.iter().any(|w| w.starts_with(&rel) && w.as_bytes().get(rel.len()) == Some(&b'/'));
            let target_rel = if clash && !ft.is_dir() { format!("{stamp}/{rel}") } else { rel.clone() };
            let dst = stage.join(&target_rel);
            if ft.is_dir() {
                if !clash {
                    std::fs::create_dir_all(&dst).map_err(|e| io(&dst, e))?;
                    dirs.insert(dst);
                }
                continue;
            }
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                dirs.insert(parent.to_path_buf());
            }
            if ft.is_symlink() {
                let target = std::fs::read_link(&src).map_err(|e| io(&src, e))?;
                make_symlink(&target, &dst).map_err(|e| io(&dst, e))?;
            } else if ft.is_file() {
                if std::fs::hard_link(&src, &dst).is_err() {
                    std::fs::copy(&src, &dst).map_err(|e| io(&dst, e))?;
                    File::open(&dst).and_then(|f| f.sync_all()).map_err(|e| io(&dst, e))?;
                }
            } else {
                return Err(WriteError::Refused(format!(
                    "Im Ausgabeordner liegt «{rel}», keine gewöhnliche Datei. Bitte entfernen; es wurde nichts geändert."
                )));
            }
        }
        Ok(())
    }
}

/// Lists the entries of `dir` below `prefix` that the program does not own. A foreign
/// folder is listed itself (to keep it, even empty) and searched for foreign entries.
fn collect_entries(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf, std::fs::FileType)>,
    owned: &BTreeSet<String>,
) -> Result<(), WriteError> {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(|e| io(dir, e))?.collect::<Result<Vec<_>, _>>().map_err(|e| io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let Some(name) = name.to_str().map(str::to_string) else {
            return Err(WriteError::Refused(format!(
                "Im Ausgabeordner liegt ein Eintrag mit einem ungültigen Namen ({}). Bitte entfernen; es wurde nichts geändert.",
                e.path().display()
            )));
        };
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        // Owned files are replaced; the `.beitraege-` names at the top are the program's own
        // (staging folders of older versions included) and are dropped.
        if owned.contains(&rel) || (prefix.is_empty() && rel.starts_with(".beitraege-")) {
            continue;
        }
        let ft = e.file_type().map_err(|err| io(&e.path(), err))?;
        if ft.is_dir() {
            out.push((rel.clone(), e.path(), ft));
            collect_entries(&e.path(), &rel, out, owned)?;
            if out.len() > MAX_FOREIGN_ENTRIES {
                return Ok(());
            }
        } else {
            out.push((rel, e.path(), ft));
        }
    }
    Ok(())
}

/// An output's relative path must stay inside the folder.
fn check_rel(rel: &str) -> Result<(), WriteError> {
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && rel.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\') && !c.contains('\0'))
        && !rel.starts_with(".beitraege-");
    if ok {
        Ok(())
    } else {
        Err(WriteError::Refused(format!("interner Fehler: ungültiger Ausgabepfad «{rel}»")))
    }
}

fn write_synced(stage: &Path, rel: &str, bytes: &[u8], dirs: &mut BTreeSet<PathBuf>) -> Result<(), WriteError> {
    let p = stage.join(rel);
    if let Some(parent) = p.parent() {
        if !dirs.contains(parent) {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            dirs.insert(parent.to_path_buf());
        }
    }
    let mut f = File::create(&p).map_err(|e| io(&p, e))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| io(&p, e))
}

/// Makes a folder's entries durable (best effort: not every platform can sync a folder).
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(unix)]
fn make_symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn make_symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::fs::copy(target, link).map(|_| ())
}

/// Exchanges the staged folder and the output folder in one step where the system can
/// (Linux `renameat2(RENAME_EXCHANGE)`); otherwise moves the old folder aside and the new
/// one in, a gap that `OutputDir::repair` closes after a kill.
fn swap(stage: &Path, out: &Path, parent: &Path, name: &OsStr) -> Result<(), WriteError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let a = std::ffi::CString::new(stage.as_os_str().as_bytes()).map_err(|e| io(stage, e.into()))?;
        let b = std::ffi::CString::new(out.as_os_str().as_bytes()).map_err(|e| io(out, e.into()))?;
        // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
        let r =
            unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
        if r == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::ENOTSUP)) {
            return Err(io(out, err));
        }
    }
    let old = parent.join(sibling(
        name,
        &format!(
            "alt-{}",
            stage.file_name().and_then(|n| n.to_str()).and_then(|n| n.rsplit_once("neu-")).map_or("0", |(_, id)| id)
        ),
    ));
    std::fs::rename(out, &old).map_err(|e| io(out, e))?;
    crash_point("zwischen-umbenennungen");
    if let Err(e) = std::fs::rename(stage, out) {
        // Put the old folder back: nothing changed.
        let _ = std::fs::rename(&old, out);
        return Err(io(out, e));
    }
    // The old folder now sits at `old`; the caller's clean-up of the stage does not see it.
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(tag: &str) -> Vec<OutFile> {
        vec![
            OutFile { rel: "a.txt".into(), bytes: tag.as_bytes().to_vec() },
            OutFile { rel: "sub/b.txt".into(), bytes: tag.as_bytes().to_vec() },
        ]
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn second_commit_replaces_owned_files_and_keeps_foreign_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("aus");
        let dir = OutputDir::open(&out).unwrap();
        dir.commit(&files("1")).unwrap();
        std::fs::write(out.join("notiz.txt"), "meine Notiz").unwrap();
        std::fs::write(out.join("sub/eigene.txt"), "eigene").unwrap();
        let mut second = vec![OutFile { rel: "a.txt".into(), bytes: b"2".to_vec() }];
        // A foreign file where a new output goes is kept aside.
        std::fs::write(out.join("neu.txt"), "fremd").unwrap();
        second.push(OutFile { rel: "neu.txt".into(), bytes: b"2".to_vec() });
        dir.commit(&second).unwrap();
        assert_eq!(read(&out.join("a.txt")), "2");
        assert_eq!(read(&out.join("neu.txt")), "2");
        assert!(!out.join("sub/b.txt").exists(), "an output of the previous run that is not written again is dropped");
        assert_eq!(read(&out.join("notiz.txt")), "meine Notiz");
        assert_eq!(read(&out.join("sub/eigene.txt")), "eigene");
        let kept: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("Gesichert_"))
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(read(&kept[0].path().join("neu.txt")), "fremd");
        // No leftovers beside the folder but the lock.
        let left: Vec<_> =
            std::fs::read_dir(tmp.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("aus");
        let _first = OutputDir::open(&out).unwrap();
        match OutputDir::open(&out) {
            Err(WriteError::Locked { holder, .. }) => assert!(holder.contains(&std::process::id().to_string())),
            other => panic!("expected Locked, got {other:?}"),
        }
    }

    #[test]
    fn paths_leaving_the_folder_are_refused() {
        for bad in ["../x", "/abs", "a/../b", "", "a//b", ".beitraege-x"] {
            assert!(check_rel(bad).is_err(), "{bad}");
        }
        assert!(check_rel("Rueckmeldungen/2401_A.xlsx").is_ok());
    }

    /// Windows (Wine in CI): an output held open without sharing, as Excel holds a workbook,
    /// stops the commit; the old folder stays whole and nothing is left beside it.
    #[cfg(windows)]
    #[test]
    fn a_file_held_open_by_another_program_stops_the_commit_and_keeps_the_old_folder() {
        use std::os::windows::fs::OpenOptionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("Ausgabe Ämter");
        let dir = OutputDir::open(&out).unwrap();
        dir.commit(&files("1")).unwrap();
        let held = std::fs::OpenOptions::new().read(true).share_mode(0).open(out.join("a.txt")).unwrap();
        assert!(dir.commit(&files("2")).is_err());
        drop(held);
        assert_eq!(read(&out.join("a.txt")), "1");
        assert_eq!(read(&out.join("sub/b.txt")), "1");
        let left = std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(left, 2, "only the folder and the lock remain");
        dir.commit(&files("3")).unwrap();
        assert_eq!(read(&out.join("a.txt")), "3");
    }

    #[test]
    fn a_killed_fallback_swap_is_rolled_forward_or_back() {
        for stage_ready in [true, false] {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("aus");
            let name = OsStr::new("aus");
            // The state a kill between the two renames leaves: no folder, the old one aside.
            std::fs::create_dir(tmp.path().join(sibling(name, "alt-7"))).unwrap();
            std::fs::write(tmp.path().join(sibling(name, "alt-7")).join("f"), "alt").unwrap();
            std::fs::create_dir(tmp.path().join(sibling(name, "neu-7"))).unwrap();
            std::fs::write(tmp.path().join(sibling(name, "neu-7")).join("f"), "neu").unwrap();
            if stage_ready {
                std::fs::write(tmp.path().join(sibling(name, "bereit-7")), "").unwrap();
            }
            let _dir = OutputDir::open(&out).unwrap();
            assert_eq!(read(&out.join("f")), if stage_ready { "neu" } else { "alt" });
            let left = std::fs::read_dir(tmp.path()).unwrap().count();
            assert_eq!(left, 2, "only the folder and the lock remain");
        }
    }
}
