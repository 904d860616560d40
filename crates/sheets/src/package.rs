//! The zip container of xlsx and ods files.
//!
//! Every entry's declared size is checked before anything is inflated. A part is then
//! inflated whole, at most to its declared size, by a decompressor each thread reuses,
//! and its checksum verified. A part that inflates beyond its declared size
//! is a lying zip bomb and rejected as too large.
//!
//! Parts are looked up by lower-case name with `/` separators, as calamine does, since
//! some writers spell `xl/sharedStrings.xml` in other cases.

use super::{Limits, ReadError};
use flate2::{Decompress, FlushDecompress, Status};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Cursor;
use zip::CompressionMethod;

fn zip_err(e: impl std::fmt::Display) -> ReadError {
    ReadError::Unreadable(format!("beschädigtes ZIP-Archiv: {e}"))
}

fn mb(n: u64) -> u64 {
    n / (1024 * 1024)
}

/// What the package holds, recognised by its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An Office Open XML package: xlsx, xlsm or xlsb.
    Xlsx,
    Ods,
    Unknown,
}

pub(super) struct Package<'a> {
    bytes: &'a [u8],
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    by_name: HashMap<String, usize>,
    /// Bytes inflated so far; a workbook that names one large part many times is
    /// stopped like a zip bomb.
    inflated: u64,
    limits: &'a Limits,
    pub kind: Kind,
}

thread_local! {
    /// One raw-deflate decompressor per thread, reset for every part: setting one up
    /// costs more than inflating a small part.
    static INFLATER: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(false));
}

fn key(name: &str) -> String {
    name.replace('\\', "/").to_ascii_lowercase()
}

impl<'a> Package<'a> {
    /// Opens the archive and checks the declared sizes against the limits.
    pub fn open(bytes: &'a [u8], limits: &'a Limits) -> Result<Self, ReadError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
        let mut total: u64 = 0;
        let mut biggest: Option<(String, u64)> = None;
        let mut by_name = HashMap::with_capacity(zip.len());
        let mut kind = Kind::Unknown;
        for i in 0..zip.len() {
            let f = zip.by_index_data(i).map_err(zip_err)?;
            let size = f.size();
            total = total.saturating_add(size);
            let k = key(&f.name().map_err(zip_err)?);
            // The parts a reader inflates: XML (sheets, shared strings, styles, workbook,
            // content.xml, manifest) and relationship files. Pictures are never read.
            let read_part = k.ends_with(".xml") || k.ends_with(".rels") || k == "mimetype";
            if read_part && size > limits.max_part_bytes && biggest.as_ref().is_none_or(|(_, s)| size > *s) {
                biggest = Some((f.name().map(|n| n.to_string()).unwrap_or_default(), size));
            }
            match k.as_str() {
                "xl/workbook.xml" | "xl/workbook.bin" if kind == Kind::Unknown => kind = Kind::Xlsx,
                "content.xml" => kind = Kind::Ods,
                _ => {}
            }
            by_name.insert(k, i);
        }
        // A package whose workbook part is elsewhere: the package relationships name it.
        if kind == Kind::Unknown && by_name.contains_key("_rels/.rels") {
            kind = Kind::Xlsx;
        }
        if total > limits.max_inflated_bytes {
            return Err(ReadError::TooLarge(format!(
                "entpackt {} MB, zulässig {} MB",
                mb(total),
                mb(limits.max_inflated_bytes)
            )));
        }
        if let Some((name, size)) = biggest {
            return Err(ReadError::TooLarge(format!(
                "«{name}» entpackt {} MB, zulässig {} MB",
                mb(size),
                mb(limits.max_part_bytes)
            )));
        }
        Ok(Package { bytes, zip, by_name, inflated: 0, limits, kind })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.by_name.contains_key(&key(path))
    }

    /// The inflated content of a part, or `None` if the package has no such part.
    pub fn part(&mut self, path: &str) -> Result<Option<Cow<'a, [u8]>>, ReadError> {
        let Some(&i) = self.by_name.get(&key(path)) else { return Ok(None) };
        let f = self.zip.by_index_raw(i).map_err(zip_err)?;
        let (size, packed, method, crc, encrypted) =
            (f.size(), f.compressed_size(), f.compression(), f.crc32(), f.encrypted());
        let start = f.data_start().ok_or_else(|| zip_err(format!("«{path}» ohne Daten")))?;
        drop(f);
        if encrypted {
            return Err(ReadError::Encrypted);
        }
        self.inflated = self.inflated.saturating_add(size);
        if size > self.limits.max_part_bytes || self.inflated > self.limits.max_inflated_bytes {
            return Err(ReadError::TooLarge(format!(
                "«{path}» entpackt zu gross (zulässig {} MB je Teil, {} MB insgesamt)",
                mb(self.limits.max_part_bytes),
                mb(self.limits.max_inflated_bytes)
            )));
        }
        let raw = usize::try_from(start)
            .ok()
            .zip(usize::try_from(packed).ok())
            .and_then(|(s, n)| self.bytes.get(s..s.checked_add(n)?))
            .ok_or_else(|| zip_err(format!("«{path}» reicht über das Dateiende hinaus")))?;
        let data = match method {
            CompressionMethod::Stored if packed == size => Cow::Borrowed(raw),
            CompressionMethod::Stored => return Err(zip_err(format!("«{path}»: Grössenangaben widersprechen sich"))),
            CompressionMethod::Deflated => Cow::Owned(self.inflate(raw, size, path)?),
            m => return Err(zip_err(format!("«{path}»: Kompressionsverfahren {m} wird nicht unterstützt"))),
        };
        if crc32fast::hash(&data) != crc {
            return Err(zip_err(format!("Prüfsumme von «{path}» stimmt nicht")));
        }
        Ok(Some(latin1_to_utf8(data)))
    }

    fn inflate(&self, raw: &[u8], size: u64, path: &str) -> Result<Vec<u8>, ReadError> {
        let size = usize::try_from(size).map_err(|_| zip_err("zu gross"))?;
        // One byte more than declared: a stream that fills it inflates beyond its size.
        let mut out = Vec::with_capacity(size + 1);
        let status = INFLATER
            .with_borrow_mut(|d| {
                d.reset(false);
                d.decompress_vec(raw, &mut out, FlushDecompress::Finish)
            })
            .map_err(|e| zip_err(format!("«{path}»: {e}")))?;
        if out.len() > size {
            return Err(ReadError::TooLarge("ein Teil der Datei entpackt grösser als angegeben (ZIP-Bombe)".into()));
        }
        if status != Status::StreamEnd || out.len() != size {
            return Err(zip_err(format!("«{path}» ist unvollständig")));
        }
        Ok(out)
    }
}

/// An XML part declared as ISO-8859-1 (some writers do; the XML readers take UTF-8 only)
/// becomes UTF-8 with its declaration changed: every byte is the character of that code.
fn latin1_to_utf8(data: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    let head = &data[..data.len().min(100)];
    let Some(end) = memchr::memmem::find(head, b"?>") else { return data };
    let decl = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if !decl.starts_with("<?xml") || !["iso-8859-1", "latin1", "iso8859-1"].iter().any(|e| decl.contains(e)) {
        return data;
    }
    let mut out = String::with_capacity(data.len() + data.len() / 8);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.extend(data[end + 2..].iter().map(|&b| char::from(b)));
    Cow::Owned(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_declared_as_latin1_becomes_utf8() {
        let part = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>Gespr\xE4che</t>".to_vec();
        assert_eq!(
            &latin1_to_utf8(Cow::Owned(part))[..],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>Gespräche</t>".as_bytes()
        );
        let utf8 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>Gespräche</t>".as_bytes();
        assert!(matches!(latin1_to_utf8(Cow::Borrowed(utf8)), Cow::Borrowed(_)));
    }
}
