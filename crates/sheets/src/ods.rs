//! A bounded, streaming reader for OpenDocument spreadsheets (`.ods`).
//!
//! calamine materialises an ods sheet densely and expands `number-columns-repeated` /
//! `number-rows-repeated` cell by cell, so a stray far-away cell or a repeated row costs
//! memory out of all proportion to the file. This reader streams `content.xml` once and
//! keeps only the cells inside the read window; repeats are expanded only where they
//! intersect it. The cell semantics follow calamine 0.38 (`ods.rs`), so a file reads the
//! same as before: floats for every number, ISO dates, text joined over paragraphs.

use super::package::Package;
use super::xlsx::TextBudget;
use super::xml::{self, cap_text, Xml, MAX_CELL_TEXT};
use super::{iso_date, parse_names, Budget, Format, Limits, ReadError, Sheet, Value, Workbook};
use quick_xml::events::{BytesStart, Event};
use std::collections::HashMap;

const MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
/// Highest row and column index an ods sheet can address (as in calamine).
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLS: u64 = 16_384;

fn unreadable(e: impl std::fmt::Display) -> ReadError {
    ReadError::Unreadable(format!("beschädigte ODS-Datei: {e}"))
}

fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, ReadError> {
    xml::attr(e, key).map_err(unreadable)
}

fn skip_element(x: &mut Xml<'_>) -> Result<(), ReadError> {
    xml::skip_element(x).map_err(unreadable)
}

fn repeat(e: &BytesStart<'_>, key: &str) -> Result<u64, ReadError> {
    match attr(e, key)? {
        Some(v) => v.trim().parse::<u64>().map(|n| n.max(1)).map_err(|_| unreadable(format!("Wiederholung «{v}»"))),
        None => Ok(1),
    }
}

pub(super) fn read_ods(pkg: &mut Package<'_>, limits: &Limits) -> Result<Workbook, ReadError> {
    check_mimetype(pkg)?;
    check_password(pkg)?;
    let content = pkg.part("content.xml")?.ok_or_else(|| unreadable("content.xml fehlt"))?;
    let mut x = xml::reader(&content[..]);
    let mut budget = Budget { limits, kept: 0 };
    let mut text = TextBudget::new(limits);
    let mut styles: HashMap<String, bool> = HashMap::new();
    let mut style_name: Option<String> = None;
    let mut sheets = Vec::new();
    let mut raw_names = Vec::new();
    loop {
        match x.read_event().map_err(unreadable)? {
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
                    read_table(&mut x, &mut sheet, &mut budget, &mut text)?;
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

fn check_mimetype(pkg: &mut Package<'_>) -> Result<(), ReadError> {
    let buf = pkg.part("mimetype")?.ok_or_else(|| unreadable("mimetype fehlt"))?;
    if !buf.starts_with(MIMETYPE) {
        return Err(ReadError::Unreadable("keine ODS-Tabelle (mimetype)".into()));
    }
    Ok(())
}

fn check_password(pkg: &mut Package<'_>) -> Result<(), ReadError> {
    let f = pkg.part("META-INF/manifest.xml")?.ok_or_else(|| unreadable("META-INF/manifest.xml fehlt"))?;
    let mut x = xml::reader(&f[..]);
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) if e.name().as_ref() == "manifest:encryption-data" => return Err(ReadError::Encrypted),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn read_table(
    x: &mut Xml<'_>,
    sheet: &mut Sheet,
    budget: &mut Budget<'_>,
    text: &mut TextBudget,
) -> Result<(), ReadError> {
    let mut row: u64 = 0;
    let mut depth = 0usize; // nesting below <table:table>
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                let reps = repeat(&e, "table:number-rows-repeated")?.min(MAX_ROWS.saturating_sub(row));
                read_row(x, sheet, budget, text, row, reps)?;
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
fn read_row(
    x: &mut Xml<'_>,
    sheet: &mut Sheet,
    budget: &mut Budget<'_>,
    text: &mut TextBudget,
    row: u64,
    reps: u64,
) -> Result<(), ReadError> {
    let mut col: u64 = 0;
    let lim = budget.limits;
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e)
                if e.name().as_ref() == "table:table-cell" || e.name().as_ref() == "table:covered-table-cell" =>
            {
                let n = repeat(&e, "table:number-columns-repeated")?.min(MAX_COLS.saturating_sub(col));
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
                                        // A repeated text is copied into every cell: counted.
                                        if let Value::Text(t) = &v {
                                            text.take(t.len())?;
                                        }
                                        sheet.set(r as u32, c as u32, v.clone());
                                    }
                                }
                            }
                        }
                        if !closed {
                            skip_element(x)?;
                        }
                    }
                    None => skip_element(x)?,
                }
                col = col.saturating_add(n);
            }
            Event::Start(_) => skip_element(x)?,
            Event::End(e) if e.name().as_ref() == "table:table-row" => return Ok(()),
            Event::End(_) => {}
            Event::Eof => return Err(unreadable("unerwartetes Ende in table:table-row")),
            _ => {}
        }
    }
}

/// The value of a cell as calamine reads it; `true` when the cell element was consumed.
fn cell_value(x: &mut Xml<'_>, e: &BytesStart<'_>) -> Result<Option<(Value, bool)>, ReadError> {
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
fn cell_text(x: &mut Xml<'_>) -> Result<String, ReadError> {
    let mut s = String::new();
    let mut first_paragraph = true;
    let push = |s: &mut String, t: &str| {
        if s.len() < MAX_CELL_TEXT {
            s.push_str(t);
        }
    };
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Text(t) => {
                push(&mut s, &t.xml10_content());
            }
            Event::GeneralRef(r) if s.len() < MAX_CELL_TEXT => xml::push_ref(&mut s, &r).map_err(unreadable)?,
            Event::End(e)
                if e.name().as_ref() == "table:table-cell" || e.name().as_ref() == "table:covered-table-cell" =>
            {
                cap_text(&mut s);
                return Ok(s);
            }
            Event::Start(e) if e.name().as_ref() == "office:annotation" => skip_element(x)?,
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

fn read_named_expressions(x: &mut Xml<'_>, out: &mut Vec<(String, String)>) -> Result<(), ReadError> {
    loop {
        match x.read_event().map_err(unreadable)? {
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
