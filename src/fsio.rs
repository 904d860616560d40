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
