//! A bounded, streaming reader for OpenDocument spreadsheets (`.ods`).
//!
//! calamine materialises an ods sheet densely and expands `number-columns-repeated` /
//! `number-rows-repeated` cell by cell, so a stray far-away cell or a repeated row costs
//! memory out of all proportion to the file. This reader streams `content.xml` once and
//! keeps only the cells inside the read window; repeats are expanded only where they
//! intersect it. The cell semantics follow calamine 0.38 (`ods.rs`), so a file reads the
//! same as before: floats for every number, ISO dates, text joined over paragraphs.

use super::{iso_date, parse_names, Budget, Format, Limits, ReadError, Sheet, Value, Workbook};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader as XmlReader;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read};

const MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
/// Longest text kept of one cell (Excel's own limit); the rest is skipped, not stored.
const MAX_CELL_TEXT: usize = 32_767;
/// Highest row and column index an ods sheet can address (as in calamine).
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLS: u64 = 16_384;

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn unreadable(e: impl std::fmt::Display) -> ReadError {
    ReadError::Unreadable(format!("beschädigte ODS-Datei: {e}"))
}

fn xml_reader<R: BufRead>(r: R) -> XmlReader<R> {
    let mut x = XmlReader::from_reader(r);
    let c = x.config_mut();
    c.check_end_names = false;
    c.trim_text(false);
    c.check_comments = false;
    c.expand_empty_elements = true;
    x
}

/// The value of an attribute, unescaped.
fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, ReadError> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(unreadable)?;
        if a.key.as_ref() == key {
            return Ok(Some(quick_xml::escape::unescape(&a.value).map_err(unreadable)?.into_owned()));
        }
    }
    Ok(None)
}

fn repeat(e: &BytesStart<'_>, key: &str) -> Result<u64, ReadError> {
    match attr(e, key)? {
        Some(v) => v.trim().parse::<u64>().map(|n| n.max(1)).map_err(|_| unreadable(format!("Wiederholung «{v}»"))),
        None => Ok(1),
    }
}

pub(super) fn read_ods(zip: &mut Zip<'_>, limits: &Limits) -> Result<Workbook, ReadError> {
    check_mimetype(zip)?;
    check_password(zip)?;
    let entry = zip.by_name("content.xml").map_err(|_| unreadable("content.xml fehlt"))?;
    let mut x = xml_reader(BufReader::new(entry));
    let mut budget = Budget { limits, kept: 0 };
    let mut buf = Vec::with_capacity(1024);
    let mut styles: HashMap<String, bool> = HashMap::new();
    let mut style_name: Option<String> = None;
    let mut sheets = Vec::new();
    let mut raw_names = Vec::new();
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(e) if e.name().as_ref() == "style:style" => {
                style_name = attr(&e, "style:name")?;
            }
            Event::Start(e) if style_name.is_some() && e.name().as_ref() == "style:table-properties" => {
                let visible = match attr(&e, "table:display")? {
                    Some(v) => v.parse::<bool>().map_err(unreadable)?,
                    None => true,
                };
                if let Some(n) = style_name.clone() {
                    styles.insert(n, visible);
                }
            }
            Event::Start(e) if e.name().as_ref() == "table:table" => {
                let visible = match attr(&e, "table:style-name")? {
                    Some(s) => styles.get(&s).copied().unwrap_or(true),
                    None => true,
                };
                if let Some(name) = attr(&e, "table:name")? {
                    let mut sheet = Sheet::new(name);
                    sheet.visible = visible;
                    read_table(&mut x, &mut sheet, &mut budget)?;
                    sheets.push(sheet);
                }
            }
            Event::Start(e) if e.name().as_ref() == "table:named-expressions" => {
                read_named_expressions(&mut x, &mut raw_names)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Workbook { format: Format::Ods, sheets, names: parse_names(&raw_names) })
}

fn check_mimetype(zip: &mut Zip<'_>) -> Result<(), ReadError> {
    let mut f = zip.by_name("mimetype").map_err(|_| unreadable("mimetype fehlt"))?;
    let mut buf = Vec::with_capacity(64);
    (&mut f).take(64).read_to_end(&mut buf).map_err(unreadable)?;
    if buf.len() < MIMETYPE.len() || &buf[..MIMETYPE.len()] != MIMETYPE {
        return Err(ReadError::Unreadable("keine ODS-Tabelle (mimetype)".into()));
    }
    Ok(())
}

fn check_password(zip: &mut Zip<'_>) -> Result<(), ReadError> {
    let f = zip.by_name("META-INF/manifest.xml").map_err(|_| unreadable("META-INF/manifest.xml fehlt"))?;
    let mut x = xml_reader(BufReader::new(f));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(e) if e.name().as_ref() == "manifest:encryption-data" => return Err(ReadError::Encrypted),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn read_table<R: BufRead>(x: &mut XmlReader<R>, sheet: &mut Sheet, budget: &mut Budget<'_>) -> Result<(), ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut row: u64 = 0;
    let mut depth = 0usize; // nesting below <table:table>
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                let reps = repeat(&e, "table:number-rows-repeated")?.min(MAX_ROWS.saturating_sub(row));
                read_row(x, sheet, budget, row, reps)?;
                row = row.saturating_add(reps);
            }
            Event::Start(_) => depth += 1,
            Event::End(e) if depth == 0 && e.name().as_ref() == "table:table" => return Ok(()),
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return Err(unreadable("unerwartetes Ende in table:table")),
            _ => {}
        }
    }
}

/// Reads one `<table:table-row>` (already opened) repeated `reps` times from `row` on.
fn read_row<R: BufRead>(
    x: &mut XmlReader<R>,
    sheet: &mut Sheet,
    budget: &mut Budget<'_>,
    row: u64,
    reps: u64,
) -> Result<(), ReadError> {
    let mut buf = Vec::with_capacity(512);
    let mut col: u64 = 0;
    let lim = budget.limits;
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(e)
                if e.name().as_ref() == "table:table-cell" || e.name().as_ref() == "table:covered-table-cell" =>
            {
                let n = repeat(&e, "table:number-columns-repeated")?.min(MAX_COLS.saturating_sub(col));
                let name = e.name().as_ref().to_string();
                let in_window = row < lim.max_rows as u64 && col < lim.max_cols as u64 && n > 0 && reps > 0;
                let value = if in_window { cell_value(x, &e)? } else { None };
                match value {
                    Some((v, closed)) => {
                        if !v.is_empty() {
                            let r_end = (row + reps).min(lim.max_rows as u64);
                            let c_end = (col + n).min(lim.max_cols as u64);
                            for r in row..r_end {
                                for c in col..c_end {
                                    if budget.keep(r as u32, c as u32)? {
                                        sheet.set(r as u32, c as u32, v.clone());
                                    }
                                }
                            }
                        }
                        if !closed {
                            skip_to_end(x, &name)?;
                        }
                    }
                    None => skip_to_end(x, &name)?,
                }
                col = col.saturating_add(n);
            }
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                skip_to_end(x, &name)?;
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => return Ok(()),
            Event::End(_) => {}
            Event::Eof => return Err(unreadable("unerwartetes Ende in table:table-row")),
            _ => {}
        }
    }
}

/// Skips to the end of the element just opened (nested elements of the same name included).
fn skip_to_end<R: BufRead>(x: &mut XmlReader<R>, name: &str) -> Result<(), ReadError> {
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(e) if e.name().as_ref() == name => depth += 1,
            Event::End(e) if e.name().as_ref() == name => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            Event::Eof => return Err(unreadable("unerwartetes Ende der Datei")),
            _ => {}
        }
    }
}

/// The value of a cell as calamine reads it; `true` when the cell element was consumed.
fn cell_value<R: BufRead>(x: &mut XmlReader<R>, e: &BytesStart<'_>) -> Result<Option<(Value, bool)>, ReadError> {
    let mut is_string = false;
    let mut is_error = false;
    let mut val: Option<Value> = None;
    let mut empty_string_value = false;
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(unreadable)?;
        let key = a.key.as_ref();
        match key {
            "office:value" if val.is_none() => {
                let raw: &str = &a.value;
                let f: f64 = raw.trim().parse().map_err(|_| unreadable(format!("Zahl «{raw}»")))?;
                val = Some(Value::Float(f));
            }
            "office:string-value" | "office:date-value" | "office:time-value" if val.is_none() => {
                let s = quick_xml::escape::unescape(&a.value).map_err(unreadable)?.into_owned();
                val = Some(match key {
                    "office:date-value" => iso_date(&s),
                    "office:time-value" => Value::Text(s),
                    _ => {
                        empty_string_value = s.is_empty();
                        Value::Text(s)
                    }
                });
            }
            "office:boolean-value" if val.is_none() => {
                val = Some(Value::Bool(a.value == "TRUE" || a.value == "true"));
            }
            "office:value-type" if val.is_none() => is_string = a.value == "string",
            "calcext:value-type" => is_error = a.value == "error",
            _ => {}
        }
    }
    if (val.is_none() && is_string) || (is_error && empty_string_value) {
        return Ok(Some((Value::Text(cell_text(x)?), true)));
    }
    Ok(Some((val.unwrap_or(Value::Empty), false)))
}

/// The text content of a cell (paragraphs joined by line breaks), up to the end of the cell.
fn cell_text<R: BufRead>(x: &mut XmlReader<R>) -> Result<String, ReadError> {
    let mut s = String::new();
    let mut first_paragraph = true;
    let mut buf = Vec::new();
    let push = |s: &mut String, t: &str| {
        if s.len() < MAX_CELL_TEXT {
            s.push_str(t);
        }
    };
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Text(t) => {
                push(&mut s, &t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let ch = match name.as_ref() {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "apos" => Some('\''),
                    "quot" => Some('"'),
                    _ => r.resolve_char_ref().map_err(unreadable)?,
                };
                match ch {
                    Some(c) => push(&mut s, c.encode_utf8(&mut [0u8; 4])),
                    None => return Err(unreadable(format!("unbekannte Entität &{name};"))),
                }
            }
            Event::End(e)
                if e.name().as_ref() == "table:table-cell" || e.name().as_ref() == "table:covered-table-cell" =>
            {
                s.truncate(floor_char_boundary(&s, MAX_CELL_TEXT));
                return Ok(s);
            }
            Event::Start(e) if e.name().as_ref() == "office:annotation" => skip_to_end(x, "office:annotation")?,
            Event::Start(e) if e.name().as_ref() == "text:p" => {
                if first_paragraph {
                    first_paragraph = false;
                } else {
                    push(&mut s, "\n");
                }
            }
            Event::Start(e) if e.name().as_ref() == "text:s" => {
                let count = match attr(&e, "text:c")? {
                    Some(v) => v.trim().parse::<usize>().map_err(unreadable)?,
                    None => 1,
                };
                let room = MAX_CELL_TEXT.saturating_sub(s.len());
                s.extend(std::iter::repeat_n(' ', count.min(room)));
            }
            Event::Start(e) if e.name().as_ref() == "text:tab" => push(&mut s, "\t"),
            Event::Start(e) if e.name().as_ref() == "text:line-break" => push(&mut s, "\n"),
            Event::Eof => return Err(unreadable("unerwartetes Ende in table:table-cell")),
            _ => {}
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn read_named_expressions<R: BufRead>(x: &mut XmlReader<R>, out: &mut Vec<(String, String)>) -> Result<(), ReadError> {
    let mut buf = Vec::with_capacity(512);
    loop {
        buf.clear();
        match x.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(e)
                if e.name().as_ref() == "table:named-range" || e.name().as_ref() == "table:named-expression" =>
            {
                let name = attr(&e, "table:name")?.unwrap_or_default();
                let formula = match attr(&e, "table:cell-range-address")? {
                    Some(f) => f,
                    None => attr(&e, "table:expression")?.unwrap_or_default(),
                };
                out.push((name, formula));
            }
            Event::End(e) if e.name().as_ref() == "table:named-expressions" => return Ok(()),
            Event::Eof => return Err(unreadable("unerwartetes Ende in table:named-expressions")),
            _ => {}
        }
    }
}
