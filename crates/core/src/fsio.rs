//! Reading files with the inbox's discipline, for every stage that reads one (the inbox scan,
//! the form reader, the master data): only regular files, links never followed, a pipe never
//! blocking, and never more than a given number of bytes; and the SHA-256 that identifies
//! exactly the bytes that were read.

use sha2::Digest;
use std::path::Path;
use thiserror::Error;

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The SHA-256 of `bytes`, in hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// Why a file of the inbox was not read.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("keine gewöhnliche Datei")]
    NotRegular,
    #[error("grösser als {limit} Byte")]
    TooLarge { limit: u64 },
    #[error("{}", crate::catalogue::os_error(.0))]
    Io(#[from] std::io::Error),
}

/// Opens a file only if it is a regular file (a link is not followed, a pipe does not block)
/// and reads at most `limit` bytes of it. The check is made on the opened handle, so a file
/// swapped for a pipe or a link after the scan is still refused.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, OpenError> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(|e| {
        // O_NOFOLLOW on a link fails with ELOOP.
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return OpenError::NotRegular;
        }
        OpenError::Io(e)
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular);
    }
    if meta.len() > limit {
        return Err(OpenError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read is still cut at the limit.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(OpenError::TooLarge { limit });
    }
    Ok(bytes)
}

/// SHA-256 of a regular file of any size, read in blocks (for files too large to be read
/// whole); links and special files are refused like in [`read_regular_file`].
pub fn sha256_regular_file(path: &Path) -> Result<String, OpenError> {
    use sha2::Digest;
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let mut file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(OpenError::NotRegular);
    }
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Whether `path` lies on a network share, and which kind: a UNC path (`\\server\share\…`,
/// `//server/share/…`, `\\?\UNC\…`), on Windows a mapped network drive, on Linux an NFS or
/// SMB/CIFS mount (of the nearest existing folder). SQLite's locking is not reliable there,
/// so the ledger refuses such a place.
pub fn network_place(path: &Path) -> Option<&'static str> {
    let text = path.as_os_str().to_string_lossy();
    let unc = |t: &str| {
        let t = t.replace('/', "\\");
        if let Some(rest) = t.strip_prefix("\\\\?\\") {
            return rest.len() >= 4 && rest[..4].eq_ignore_ascii_case("UNC\\");
        }
        t.starts_with("\\\\") && !t.starts_with("\\\\.\\") && t.len() > 2
    };
    if unc(&text) {
        return Some("Netzwerkfreigabe (UNC-Pfad)");
    }
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if unc(&abs.as_os_str().to_string_lossy()) {
        return Some("Netzwerkfreigabe (UNC-Pfad)");
    }
    remote_drive(&abs)
}

#[cfg(windows)]
fn remote_drive(abs: &Path) -> Option<&'static str> {
    use std::path::{Component, Prefix};
    let Some(Component::Prefix(p)) = abs.components().next() else { return None };
    let letter = match p.kind() {
        Prefix::Disk(d) | Prefix::VerbatimDisk(d) => d,
        Prefix::UNC(..) | Prefix::VerbatimUNC(..) => return Some("Netzwerkfreigabe (UNC-Pfad)"),
        _ => return None,
    };
    #[link(name = "kernel32")]
    extern "system" {
        fn GetDriveTypeW(root: *const u16) -> u32;
    }
    const DRIVE_REMOTE: u32 = 4;
    let root: Vec<u16> = [letter as u16, b':' as u16, b'\\' as u16, 0].to_vec();
    // SAFETY: `root` is a NUL-terminated UTF-16 string that outlives the call.
    let kind = unsafe { GetDriveTypeW(root.as_ptr()) };
    (kind == DRIVE_REMOTE).then_some("verbundenes Netzlaufwerk")
}

#[cfg(target_os = "linux")]
fn remote_drive(abs: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    let mut cur = Some(abs);
    while let Some(p) = cur {
        if p.exists() {
            let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
            // SAFETY: a zeroed statfs is a valid out-parameter; `c` outlives the call.
            let mut st: libc::statfs = unsafe { std::mem::zeroed() };
            if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
                return None;
            }
            return match st.f_type as i64 {
                0x6969 => Some("NFS-Netzlaufwerk"),
                0x517B | 0xFF53_4D42 | 0xFE53_4D42 => Some("SMB-Netzlaufwerk"),
                _ => None,
            };
        }
        cur = p.parent();
    }
    None
}

#[cfg(not(any(windows, target_os = "linux")))]
fn remote_drive(_abs: &Path) -> Option<&'static str> {
    None
}

#[cfg(test)]
mod network_tests {
    use super::network_place;
    use std::path::Path;

    #[test]
    fn unc_paths_are_network_shares_local_ones_are_not() {
        for p in [r"\\server\share\buchhaltung.sqlite", "//server/share/b.sqlite", r"\\?\UNC\server\share\b.sqlite"] {
            assert!(network_place(Path::new(p)).is_some(), "{p}");
        }
        let tmp = tempfile::tempdir().unwrap();
        for p in [tmp.path().join("b.sqlite"), tmp.path().join("neu").join("ä ö.sqlite")] {
            assert_eq!(network_place(&p), None, "{}", p.display());
        }
        assert_eq!(network_place(Path::new(r"\\.\pipe\x")), None);
    }
}
