//! What the two zip-based readers ([`super::ods`], [`super::xlsx`]) share: the XML reader
//! configuration, attribute lookup, entity references, skipping an element, and the
//! cap on the text kept of one cell. Errors are plain text; each reader wraps them in
//! its own `ReadError` message.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader as XmlReader;

/// Longest text kept of one cell (Excel's own limit); the rest is skipped, not stored.
pub(super) const MAX_CELL_TEXT: usize = 32_767;

/// An XML reader over a part inflated into memory; its events borrow from the part.
pub(super) type Xml<'a> = XmlReader<&'a [u8]>;

/// An XML reader configured as calamine configures its own: end names unchecked, text
/// untrimmed, and `<a/>` reported as a start and an end event.
pub(super) fn reader(data: &[u8]) -> Xml<'_> {
    let mut x = XmlReader::from_reader(data);
    let c = x.config_mut();
    c.check_end_names = false;
    c.trim_text(false);
    c.check_comments = false;
    c.expand_empty_elements = true;
    x
}

/// The value of an attribute (matched by its full name), unescaped.
pub(super) fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.as_ref() == key {
            return Ok(Some(quick_xml::escape::unescape(&a.value).map_err(|e| e.to_string())?.into_owned()));
        }
    }
    Ok(None)
}

/// Appends the character an entity reference (`&amp;`, `&#xA0;`) stands for.
pub(super) fn push_ref(s: &mut String, r: &BytesRef<'_>) -> Result<(), String> {
    let name = r.xml10_content();
    let ch = match name.as_ref() {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => r.resolve_char_ref().map_err(|e| e.to_string())?,
    };
    match ch {
        Some(c) => {
            s.push(c);
            Ok(())
        }
        None => Err(format!("unbekannte Entität &{name};")),
    }
}

/// Skips the rest of the element just opened, whatever it contains.
pub(super) fn skip_element(x: &mut Xml<'_>) -> Result<(), String> {
    to_end(x, None)
}

/// Appends the text of the element just opened (nested elements' text included) to
/// `out`, up to its end; text beyond [`MAX_CELL_TEXT`] is read but not kept.
pub(super) fn read_text(x: &mut Xml<'_>, out: &mut String) -> Result<(), String> {
    to_end(x, Some(out))
}

/// Reads to the end of the element just opened, keeping its text in `out` if given.
fn to_end(x: &mut Xml<'_>, mut out: Option<&mut String>) -> Result<(), String> {
    let mut depth = 1usize;
    loop {
        let keep = out.as_deref_mut().filter(|o| o.len() < MAX_CELL_TEXT);
        match x.read_event().map_err(|e| e.to_string())? {
            Event::Text(t) => keep.into_iter().for_each(|o| o.push_str(&t.xml10_content())),
            Event::CData(t) => keep.into_iter().for_each(|o| o.push_str(&t.xml10_content())),
            Event::GeneralRef(r) => {
                if let Some(o) = keep {
                    push_ref(o, &r)?;
                }
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            Event::Eof => return Err("unerwartetes Ende der Datei".into()),
            _ => {}
        }
    }
}

/// Cuts `s` to at most [`MAX_CELL_TEXT`] bytes, on a character boundary.
pub(super) fn cap_text(s: &mut String) {
    if s.len() > MAX_CELL_TEXT {
        let mut i = MAX_CELL_TEXT;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        s.truncate(i);
    }
}
