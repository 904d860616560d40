//! A bounded, streaming reader for Office Open XML workbooks (`.xlsx`, `.xlsm`).
//!
//! calamine's `Xlsx::new` inflates and parses parts a form never needs (the theme, every
//! font, fill, border and alignment of the styles) before the first cell is read, and on a
//! small form that costs more than the cells. This reader takes only what the extractor
//! uses: sheet names and visibility, defined names, the 1904 flag, the shared strings, and
//! of the styles only which cell formats are dates. Sheets are streamed and only cells
//! inside the read window are kept.
//!
//! The cell semantics follow calamine 0.38 (`xlsx/cells_reader.rs`): numbers are floats,
//! dates come from the cell's number format, rich text is joined, phonetic runs are
//! skipped and `_xHHHH_` escapes are decoded. A test reads every sample and fixture both
//! ways and compares. Where calamine gives up on a whole file for one odd detail (an
//! unknown sheet state, a macro sheet, a number that does not parse), this reader keeps
//! going: the cell becomes text and the extractor reports it like any other wrong value.

use super::package::Package;
use super::xml::{self, cap_text, Xml, MAX_CELL_TEXT};
use super::{date_of, iso_date, parse_names, Budget, Format, Limits, ReadError, Sheet, Value, Workbook};
use crate::cellref::parse_ref;
use calamine::{ExcelDateTime, ExcelDateTimeType};
use quick_xml::events::{BytesStart, Event};
use std::collections::{BTreeMap, HashMap};

fn unreadable(e: impl std::fmt::Display) -> ReadError {
    ReadError::Unreadable(format!("beschädigte Excel-Datei: {e}"))
}

/// What a cell format says about a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumFmt {
    Other,
    Date,
    Duration,
}

/// The shared strings, in one buffer (a hostile file may hold millions of tiny ones).
#[derive(Default)]
struct Strings {
    text: String,
    ends: Vec<u32>,
}

impl Strings {
    fn push(&mut self, s: &str) -> Result<(), ReadError> {
        self.text.push_str(s);
        let end = u32::try_from(self.text.len()).map_err(|_| unreadable("zu viel Text"))?;
        self.ends.push(end);
        Ok(())
    }
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }
}

/// A relationship: its target part (resolved against the source's folder) and type.
pub(super) struct Rel {
    pub(super) target: String,
    kind: String,
}

impl Rel {
    /// The last segment of the relationship type, e.g. `worksheet` or `sharedStrings`.
    pub(super) fn kind(&self) -> &str {
        self.kind.rsplit('/').next().unwrap_or("")
    }
}

/// Resolves a relationship target against the folder of the part that names it.
fn resolve(dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("{dir}{target}"),
    };
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

pub(super) fn folder(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

pub(super) fn read_xlsx(parts: &mut Package<'_>, limits: &Limits) -> Result<Workbook, ReadError> {
    let workbook_path = office_document(parts)?;
    if workbook_path.to_ascii_lowercase().ends_with(".bin") {
        return Err(ReadError::Unreadable(
            "Excel-Binärarbeitsmappe (.xlsb): bitte als .xlsx speichern und erneut einreichen".into(),
        ));
    }
    let dir = folder(&workbook_path).to_string();
    let rels_path = format!("{dir}_rels/{}.rels", &workbook_path[dir.len()..]);
    let rels = relationships(parts, &rels_path, &dir)?;
    let part_of = |kind: &str, default: &str| {
        rels.values().find(|r| r.kind() == kind).map(|r| r.target.clone()).unwrap_or_else(|| format!("{dir}{default}"))
    };
    let strings = read_shared_strings(parts, &part_of("sharedStrings", "sharedStrings.xml"))?;
    let formats = read_styles(parts, &part_of("styles", "styles.xml"))?;
    let book = read_workbook_part(parts, &workbook_path)?;

    let ctx = CellCtx { strings: &strings, formats: &formats, is_1904: book.is_1904 };
    let mut budget = Budget { limits, kept: 0 };
    let mut text = TextBudget::new(limits);
    let mut sheets = Vec::with_capacity(book.sheets.len());
    for (name, visible, rel_id) in book.sheets {
        let mut sheet = Sheet::new(name);
        sheet.visible = visible;
        match rels.get(&rel_id) {
            Some(rel) if rel.kind() == "worksheet" => match parts.part(&rel.target)? {
                Some(data) => read_sheet(&mut xml::reader(&data[..]), &mut sheet, &ctx, &mut budget, &mut text)?,
                None => {
                    tracing::debug!(blatt = %sheet.name, teil = %rel.target, "Blatt ohne Inhalt in der Datei");
                    continue;
                }
            },
            // Chart, dialog and macro sheets have no cells a form could use.
            Some(_) => {}
            None => {
                tracing::debug!(blatt = %sheet.name, "Blatt ohne Beziehung in der Datei");
                continue;
            }
        }
        sheets.push(sheet);
    }
    Ok(Workbook { format: Format::Xlsx, sheets, names: parse_names(&book.names) })
}

/// The workbook part: `xl/workbook.xml`, where every spreadsheet program writes it, or
/// else the part the package relationships name as the office document.
pub(super) fn office_document(parts: &mut Package<'_>) -> Result<String, ReadError> {
    const USUAL: &str = "xl/workbook.xml";
    if parts.contains(USUAL) {
        return Ok(USUAL.to_string());
    }
    let Some(data) = parts.part("_rels/.rels")? else { return Ok(USUAL.to_string()) };
    let mut x = xml::reader(&data[..]);
    let mut target = None;
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                let kind = xml::attr(&e, "Type").map_err(unreadable)?.unwrap_or_default();
                if kind.ends_with("/officeDocument") {
                    target = xml::attr(&e, "Target").map_err(unreadable)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(target.map_or_else(|| USUAL.to_string(), |t| resolve("", &t)))
}

pub(super) fn relationships(
    parts: &mut Package<'_>,
    path: &str,
    dir: &str,
) -> Result<BTreeMap<String, Rel>, ReadError> {
    let mut out = BTreeMap::new();
    let Some(data) = parts.part(path)? else {
        return Err(unreadable(format!("«{path}» fehlt")));
    };
    let mut x = xml::reader(&data[..]);
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                let id = xml::attr(&e, "Id").map_err(unreadable)?;
                let target = xml::attr(&e, "Target").map_err(unreadable)?.unwrap_or_default();
                let kind = xml::attr(&e, "Type").map_err(unreadable)?.unwrap_or_default();
                if let Some(id) = id {
                    out.insert(id, Rel { target: resolve(dir, &target), kind });
                }
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// What `workbook.xml` says: sheets (name, visible, relationship id), names, 1904 flag.
struct Book {
    sheets: Vec<(String, bool, String)>,
    names: Vec<(String, String)>,
    is_1904: bool,
}

fn read_workbook_part(parts: &mut Package<'_>, path: &str) -> Result<Book, ReadError> {
    let Some(data) = parts.part(path)? else {
        return Err(unreadable(format!("«{path}» fehlt")));
    };
    let mut x = xml::reader(&data[..]);
    let mut book = Book { sheets: Vec::new(), names: Vec::new(), is_1904: false };
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) if e.local_name().as_ref() == "sheet" => {
                let mut name = String::new();
                let mut visible = true;
                let mut rel_id = String::new();
                for a in e.attributes().with_checks(false) {
                    let a = a.map_err(unreadable)?;
                    match a.key.as_ref() {
                        "name" => name = quick_xml::escape::unescape(&a.value).map_err(unreadable)?.into_owned(),
                        "state" => visible = !matches!(a.value.as_ref(), "hidden" | "veryHidden"),
                        _ if a.key.local_name().as_ref() == "id" => rel_id = a.value.into_owned(),
                        _ => {}
                    }
                }
                book.sheets.push((name, visible, rel_id));
            }
            Event::Start(e) if e.local_name().as_ref() == "workbookPr" => {
                // `<x15:workbookPr>` in extLst shares the local name but has no date1904.
                if let Some(v) = xml::attr(&e, "date1904").map_err(unreadable)? {
                    book.is_1904 = v == "1" || v == "true";
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "definedName" => {
                let name = xml::attr(&e, "name").map_err(unreadable)?;
                let mut value = String::new();
                xml::read_text(&mut x, &mut value).map_err(unreadable)?;
                if let Some(name) = name {
                    book.names.push((name, value));
                }
            }
            Event::Eof => return Ok(book),
            _ => {}
        }
    }
}

fn read_shared_strings(parts: &mut Package<'_>, path: &str) -> Result<Strings, ReadError> {
    let mut strings = Strings::default();
    let Some(data) = parts.part(path)? else { return Ok(strings) };
    let mut x = xml::reader(&data[..]);
    let mut text = String::new();
    let mut run = String::new();
    loop {
        let si = match x.read_event().map_err(unreadable)? {
            Event::Start(e) => e.local_name().as_ref() == "si",
            Event::Eof => return Ok(strings),
            _ => false,
        };
        if si {
            rich_text(&mut x, &mut text, &mut run)?;
            strings.push(&text)?;
        }
    }
}

/// Reads a string item (`<si>` or `<is>`, just opened) up to its end into `out`: the text
/// of its `<t>` elements joined, phonetic runs (`<rPh>`) left out, as calamine reads it.
fn rich_text(x: &mut Xml<'_>, out: &mut String, run: &mut String) -> Result<(), ReadError> {
    out.clear();
    let mut depth = 1usize;
    loop {
        enum Open {
            Text { preserve: bool },
            Phonetic,
            Other,
        }
        let open = match x.read_event().map_err(unreadable)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "t" => Open::Text {
                    preserve: xml::attr(&e, "xml:space").map_err(unreadable)?.is_some_and(|v| v == "preserve"),
                },
                "rPh" => Open::Phonetic,
                _ => Open::Other,
            },
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    cap_text(out);
                    return Ok(());
                }
                continue;
            }
            Event::Eof => return Err(unreadable("unerwartetes Ende in einem Text")),
            _ => continue,
        };
        match open {
            Open::Text { preserve } => {
                run.clear();
                xml::read_text(x, run).map_err(unreadable)?;
                let kept = if preserve { run.as_str() } else { run.trim_matches([' ', '\t', '\r', '\n']) };
                if out.len() < MAX_CELL_TEXT {
                    unescape_into(kept, out);
                }
            }
            Open::Phonetic => xml::skip_element(x).map_err(unreadable)?,
            Open::Other => depth += 1,
        }
    }
}

/// Appends `s` with Excel's `_xHHHH_` escapes decoded (UTF-16 units; `_x005F_` is `_`).
fn unescape_into(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let unit_at = |i: usize| -> Option<u16> {
        let e = b.get(i..i + 7)?;
        if e[0] != b'_' || e[1] != b'x' || e[6] != b'_' || !e[2..6].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&e[2..6]).ok()?, 16).ok()
    };
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = s[i..].find('_') {
        let at = i + off;
        let Some(unit) = unit_at(at) else {
            i = at + 1;
            continue;
        };
        out.push_str(&s[copied..at]);
        let mut next = at + 7;
        let ch = match unit {
            0xD800..=0xDBFF => match unit_at(next) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    next += 7;
                    char::from_u32(0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00))
                }
                _ => None,
            },
            0xDC00..=0xDFFF => None,
            u => char::from_u32(u32::from(u)),
        };
        out.push(ch.unwrap_or(char::REPLACEMENT_CHARACTER));
        copied = next;
        i = next;
    }
    out.push_str(&s[copied..]);
}

/// Of the styles, only which cell formats (`cellXfs`) show numbers as dates.
fn read_styles(parts: &mut Package<'_>, path: &str) -> Result<Vec<NumFmt>, ReadError> {
    let mut formats = Vec::new();
    let Some(data) = parts.part(path)? else { return Ok(formats) };
    let mut x = xml::reader(&data[..]);
    let mut custom: HashMap<String, NumFmt> = HashMap::new();
    let mut in_cell_xfs = false;
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    let id = xml::attr(&e, "numFmtId").map_err(unreadable)?;
                    let code = xml::attr(&e, "formatCode").map_err(unreadable)?;
                    if let (Some(id), Some(code)) = (id, code) {
                        custom.insert(id, custom_format(&code));
                    }
                }
                "cellXfs" => in_cell_xfs = true,
                "xf" if in_cell_xfs => {
                    let f = match xml::attr(&e, "numFmtId").map_err(unreadable)? {
                        Some(id) => custom.get(&id).copied().unwrap_or_else(|| builtin_format(&id)),
                        None => NumFmt::Other,
                    };
                    formats.push(f);
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Event::Eof => return Ok(formats),
            _ => {}
        }
    }
}

/// Whether a custom number format shows a date or a duration (calamine's
/// `detect_custom_number_format`, MIT licence): date letters outside quotes, escapes and
/// brackets, in the first section only; `[h]`, `[mm]`, `[ss]` make a duration.
fn custom_format(format: &str) -> NumFmt {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            ('_' | '\\' | '*', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return NumFmt::Other,
            ('[', ..) => brackets = brackets.saturating_add(1),
            (']', .., 1) if hms => return NumFmt::Duration,
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => return NumFmt::Date,
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => return NumFmt::Date,
            _ => {
                if !(hms && s.eq_ignore_ascii_case(&prev)) {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    NumFmt::Other
}

/// The built-in number formats that are dates or durations (ECMA-376 18.8.30).
fn builtin_format(id: &str) -> NumFmt {
    match id.trim().parse::<u32>() {
        Ok(14..=22 | 27..=36 | 45 | 47 | 50..=58) => NumFmt::Date,
        Ok(46) => NumFmt::Duration,
        _ => NumFmt::Other,
    }
}

struct CellCtx<'a> {
    strings: &'a Strings,
    formats: &'a [NumFmt],
    is_1904: bool,
}

/// A cell's `t` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellType {
    Number,
    Shared,
    Bool,
    Error,
    Str,
    Inline,
    IsoDate,
    Unknown,
}

fn cell_type(t: &str) -> CellType {
    match t {
        "n" => CellType::Number,
        "s" => CellType::Shared,
        "b" => CellType::Bool,
        "e" => CellType::Error,
        "str" => CellType::Str,
        "inlineStr" | "is" => CellType::Inline,
        "d" => CellType::IsoDate,
        _ => CellType::Unknown,
    }
}

/// The bytes of cell text a file may still materialise (`Limits::max_text_bytes`).
pub(super) struct TextBudget {
    left: u64,
    limit: u64,
}

impl TextBudget {
    pub(super) fn new(limits: &Limits) -> Self {
        TextBudget { left: limits.max_text_bytes, limit: limits.max_text_bytes }
    }
    /// Takes `bytes` from the budget, or fails with `TooLarge` (`DATEI_ZU_GROSS`).
    pub(super) fn take(&mut self, bytes: usize) -> Result<(), ReadError> {
        match self.left.checked_sub(bytes as u64) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(ReadError::TooLarge(format!("mehr als {} MB Text in den Zellen", self.limit / (1024 * 1024)))),
        }
    }
}

fn read_sheet(
    x: &mut Xml<'_>,
    sheet: &mut Sheet,
    ctx: &CellCtx<'_>,
    budget: &mut Budget<'_>,
    text: &mut TextBudget,
) -> Result<(), ReadError> {
    loop {
        match x.read_event().map_err(unreadable)? {
            Event::Start(e) if e.local_name().as_ref() == "sheetData" => break,
            // A worksheet without sheetData has no cells.
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
    let (mut row, mut col) = (0u32, 0u32);
    let mut scratch = CellScratch::default();
    let lim = budget.limits;
    loop {
        let cell = match x.read_event().map_err(unreadable)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "row" => {
                    if let Some(r) = row_attr(&e)? {
                        row = r;
                    }
                    continue;
                }
                "c" => cell_attrs(&e, row, col)?,
                _ => continue,
            },
            Event::End(e) => match e.local_name().as_ref() {
                "row" => {
                    row = row.saturating_add(1);
                    col = 0;
                    continue;
                }
                "sheetData" => return Ok(()),
                _ => continue,
            },
            Event::Eof => return Err(unreadable("unerwartetes Ende in sheetData")),
            _ => continue,
        };
        let ((r, c), style, typ) = cell;
        if r >= lim.max_rows || c >= lim.max_cols {
            // Outside the window: skipped without decoding anything.
            xml::skip_element(x).map_err(unreadable)?;
        } else {
            let value = cell_value(x, &mut scratch, style, typ, ctx, text)?;
            if !value.is_empty() && budget.keep(r, c)? {
                sheet.set(r, c, value);
            }
        }
        col = c.saturating_add(1);
    }
}

fn row_attr(e: &BytesStart<'_>) -> Result<Option<u32>, ReadError> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(unreadable)?;
        if a.key.as_ref() == "r" {
            let r = parse_ref(&a.value).ok_or_else(|| unreadable(format!("Zeilennummer «{}»", a.value)))?;
            return Ok(Some(r.0));
        }
    }
    Ok(None)
}

/// A cell's position, style index and type.
type CellHead = ((u32, u32), Option<usize>, CellType);

/// The `r`, `s` and `t` attributes of a `<c>`: position (from `r`, or the running
/// row and column), style index, type.
fn cell_attrs(e: &BytesStart<'_>, row: u32, col: u32) -> Result<CellHead, ReadError> {
    let mut pos = (row, col);
    let mut style = None;
    let mut typ = CellType::Number;
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(unreadable)?;
        match a.key.as_ref() {
            "r" => match parse_ref(&a.value) {
                Some((r, Some(c))) => pos = (r, c),
                _ => return Err(unreadable(format!("Zellbezug «{}»", a.value))),
            },
            // As calamine: an unreadable style index is the default style.
            "s" => style = Some(a.value.trim().parse::<usize>().unwrap_or(0)),
            "t" => typ = cell_type(&a.value),
            _ => {}
        }
    }
    Ok((pos, style, typ))
}

/// Buffers reused from cell to cell.
#[derive(Default)]
struct CellScratch {
    v: String,
    inline: String,
    run: String,
}

/// Reads the content of a `<c>` (just opened) and converts it as calamine does.
fn cell_value(
    x: &mut Xml<'_>,
    sc: &mut CellScratch,
    style: Option<usize>,
    typ: CellType,
    ctx: &CellCtx<'_>,
    text: &mut TextBudget,
) -> Result<Value, ReadError> {
    sc.v.clear();
    sc.inline.clear();
    let mut has_v = false;
    let mut has_inline = false;
    loop {
        let child = match x.read_event().map_err(unreadable)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "v" => Child::V,
                "is" => Child::Inline,
                // Formulas (their cached result is in <v>) and anything else.
                _ => Child::Other,
            },
            // Every child is read to its end, so an end here closes the cell.
            Event::End(_) => break,
            Event::Eof => return Err(unreadable("unerwartetes Ende in einer Zelle")),
            _ => continue,
        };
        match child {
            Child::V => {
                has_v = true;
                xml::read_text(x, &mut sc.v).map_err(unreadable)?;
            }
            Child::Inline => {
                has_inline = true;
                rich_text(x, &mut sc.inline, &mut sc.run)?;
            }
            Child::Other => xml::skip_element(x).map_err(unreadable)?,
        }
    }
    let raw = sc.v.as_str();
    Ok(match typ {
        // As calamine: an inline string's <v> is redundant and ignored.
        CellType::Inline if has_inline => {
            text.take(sc.inline.len())?;
            Value::Text(sc.inline.clone())
        }
        CellType::Inline => Value::Empty,
        _ if !has_v => Value::Empty,
        CellType::Shared => {
            if raw.is_empty() {
                return Ok(Value::Empty);
            }
            let s = raw
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|i| ctx.strings.get(i))
                .ok_or_else(|| unreadable(format!("Verweis «{raw}» auf einen Text, den es nicht gibt")))?;
            // Counted before the copy: a shared string is copied into every cell using it.
            text.take(s.len())?;
            Value::Text(s.to_string())
        }
        CellType::Bool => match raw.trim() {
            "" => Value::Empty,
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            _ => Value::Text(raw.to_string()),
        },
        CellType::IsoDate => iso_date(raw),
        CellType::Error => Value::Error(raw.to_string()),
        CellType::Str | CellType::Unknown => {
            let mut s = String::with_capacity(raw.len());
            unescape_into(raw, &mut s);
            Value::Text(s)
        }
        CellType::Number => {
            if raw.is_empty() {
                return Ok(Value::Empty);
            }
            match raw.parse::<f64>() {
                Ok(n) => {
                    let fmt = match style {
                        None => Some(NumFmt::Other),
                        Some(i) => ctx.formats.get(i).copied(),
                    };
                    match fmt {
                        Some(NumFmt::Date) => date_of(&ExcelDateTime::new(n, ExcelDateTimeType::DateTime, ctx.is_1904)),
                        _ => Value::Float(n),
                    }
                }
                // calamine keeps an untyped cell that is no number as text.
                Err(_) => Value::Text(raw.to_string()),
            }
        }
    })
}

enum Child {
    V,
    Inline,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{read_workbook, NamedCell};
    use chrono::NaiveDate;
    use std::io::Write;

    const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    /// An xlsx from hand-written parts: `sheets` are (name, state, relationship type, xml).
    fn xlsx_of(sheets: &[(&str, &str, &str, String)], extra_book: &str, strings: &str, stored: bool) -> Vec<u8> {
        let mut book = format!("<workbook {NS}>{extra_book}<sheets>");
        let mut rels =
            String::from(r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#);
        let mut parts: Vec<(String, String)> = Vec::new();
        for (i, (name, state, kind, xml)) in sheets.iter().enumerate() {
            let n = i + 1;
            book += &format!(r#"<sheet name="{name}" sheetId="{n}" state="{state}" r:id="rId{n}"/>"#);
            rels += &format!(r#"<Relationship Id="rId{n}" Type="{REL}/{kind}" Target="worksheets/sheet{n}.xml"/>"#);
            parts.push((format!("xl/worksheets/sheet{n}.xml"), xml.clone()));
        }
        book +=
            "</sheets><definedNames><definedName name=\"SI_JAHR\">Daten!$B$2</definedName></definedNames></workbook>";
        rels += &format!(r#"<Relationship Id="rS" Type="{REL}/styles" Target="styles.xml"/>"#);
        rels += &format!(r#"<Relationship Id="rT" Type="{REL}/sharedStrings" Target="/xl/sharedStrings.xml"/>"#);
        rels += "</Relationships>";
        let styles = format!(
            r#"<styleSheet {NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="dd.mm.yyyy;@"/></numFmts>
            <cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"><alignment/></xf><xf numFmtId="46"/></cellXfs></styleSheet>"#
        );
        parts.push(("xl/workbook.xml".into(), book));
        parts.push(("xl/_rels/workbook.xml.rels".into(), rels));
        parts.push(("xl/styles.xml".into(), styles));
        parts.push(("xl/sharedStrings.xml".into(), format!("<sst {NS}>{strings}</sst>")));
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let method = if stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        for (name, data) in parts {
            z.start_file(name, zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
            z.write_all(data.as_bytes()).unwrap();
        }
        z.finish().unwrap();
        buf.into_inner()
    }

    fn sheet_xml(rows: &str) -> String {
        format!("<worksheet {NS}><dimension ref=\"A1:XFD1048576\"/><sheetData>{rows}</sheetData></worksheet>")
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    /// What real writers put into xlsx files, read as the writer meant it.
    #[test]
    fn hand_written_parts_read_as_meant() {
        let strings = r#"<si><t>Jahr</t></si>
            <si><r><t xml:space="preserve">Erst</t></r><r><rPr><b/></rPr><t>gespräche</t></r><rPh sb="0" eb="1"><t>ヨミ</t></rPh></si>
            <si><t>  Zeile_x000D_Umbruch  </t></si>"#;
        let data = sheet_xml(
            r#"<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" s="0"><v>2023</v></c></row>
            <row r="3"><c t="s"><v>1</v></c><c s="1"><v>45000</v></c><c s="2"><v>45001.5</v></c><c s="3"><v>1.25</v></c></row>
            <row><c t="inlineStr"><is><t>inline &amp; mehr</t></is></c><c t="str"><f>A1</f><v>Formel</v></c><c t="b"><v>1</v></c><c t="e"><v>#DIV/0!</v></c></row>
            <row r="5"><c r="A5" t="s"><v>2</v></c><c r="B5" t="d"><v>2023-07-31T00:00:00</v></c><c r="C5" t="n"><v>12,5</v></c></row>
            <row r="6"><c r="XFD1048576"><v>1</v></c></row>"#,
        );
        let prefixed = r#"<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Präfix</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>"#
            .to_string();
        let bytes = xlsx_of(
            &[
                ("Daten", "visible", "worksheet", data),
                ("Grafik", "visible", "chartsheet", String::from("<chartsheet/>")),
                ("Versteckt", "hidden", "worksheet", prefixed),
                ("Seltsam", "bogus", "xlMacrosheet", String::new()),
            ],
            r#"<workbookPr date1904="false"/>"#,
            strings,
            false,
        );
        let wb = read_workbook(&bytes, &Limits::default()).unwrap();
        assert_eq!(wb.format, Format::Xlsx);
        let names: Vec<(&str, bool)> = wb.sheets.iter().map(|s| (s.name.as_str(), s.visible)).collect();
        assert_eq!(names, [("Daten", true), ("Grafik", true), ("Versteckt", false), ("Seltsam", true)]);
        assert_eq!(wb.names, [NamedCell { name: "SI_JAHR".into(), sheet: "Daten".into(), row: 1, col: 1 }]);
        let d = &wb.sheets[0];
        assert_eq!(d.get(1, 0), &text("Jahr"));
        assert_eq!(d.get(1, 1), &Value::Float(2023.0));
        assert_eq!(d.get(2, 0), &text("Erstgespräche"), "rich text joined, phonetic run left out");
        assert_eq!(d.get(2, 1), &Value::Date(NaiveDate::from_ymd_opt(2023, 3, 15).unwrap()), "custom date format");
        assert_eq!(d.get(2, 2), &Value::Date(NaiveDate::from_ymd_opt(2023, 3, 16).unwrap()), "built-in date format 14");
        assert_eq!(d.get(2, 3), &Value::Float(1.25), "a duration stays a number");
        assert_eq!(d.get(3, 0), &text("inline & mehr"), "a row without r follows the previous one");
        assert_eq!(d.get(3, 1), &text("Formel"), "cached formula result");
        assert_eq!(d.get(3, 2), &Value::Bool(true));
        assert_eq!(d.get(3, 3), &Value::Error("#DIV/0!".into()));
        assert_eq!(d.get(4, 0), &text("Zeile\rUmbruch"), "trimmed, _x000D_ decoded");
        assert_eq!(d.get(4, 1), &Value::Date(NaiveDate::from_ymd_opt(2023, 7, 31).unwrap()));
        assert_eq!(d.get(4, 2), &text("12,5"), "a number that does not parse is kept as text");
        assert_eq!(d.len(), 13, "the stray cell in XFD1048576 is outside the window");
        assert!(wb.sheets[1].is_empty() && wb.sheets[3].is_empty());
        assert_eq!(wb.sheets[2].get(0, 0), &text("Präfix"), "namespace prefixes");
    }

    #[test]
    fn the_1904_date_system_is_honoured() {
        let bytes = xlsx_of(
            &[("Daten", "visible", "worksheet", sheet_xml(r#"<row r="1"><c r="A1" s="1"><v>0</v></c></row>"#))],
            r#"<workbookPr date1904="1"/>"#,
            "",
            false,
        );
        let wb = read_workbook(&bytes, &Limits::default()).unwrap();
        assert_eq!(wb.sheets[0].get(0, 0), &Value::Date(NaiveDate::from_ymd_opt(1904, 1, 1).unwrap()));
    }

    #[test]
    fn a_reference_to_a_missing_shared_string_is_unreadable() {
        let bytes = xlsx_of(
            &[("Daten", "visible", "worksheet", sheet_xml(r#"<row r="1"><c r="A1" t="s"><v>7</v></c></row>"#))],
            "",
            "<si><t>nur einer</t></si>",
            false,
        );
        assert!(matches!(read_workbook(&bytes, &Limits::default()), Err(ReadError::Unreadable(_))));
    }

    #[test]
    fn a_damaged_part_fails_its_checksum() {
        let bytes = xlsx_of(
            &[("Daten", "visible", "worksheet", sheet_xml(r#"<row r="1"><c r="A1"><v>1234</v></c></row>"#))],
            "",
            "",
            true,
        );
        let at = bytes.windows(4).position(|w| w == b"1234").unwrap();
        let mut damaged = bytes.clone();
        damaged[at] = b'9';
        assert!(read_workbook(&bytes, &Limits::default()).is_ok());
        match read_workbook(&damaged, &Limits::default()) {
            Err(ReadError::Unreadable(m)) => assert!(m.contains("Prüfsumme"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    /// A workbook that names one large sheet part many times is stopped by the file's
    /// inflation limit, not read again and again.
    #[test]
    fn a_part_listed_many_times_counts_against_the_inflation_limit() {
        let row = r#"<row><c t="inlineStr"><is><t>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</t></is></c></row>"#;
        let big = sheet_xml(&row.repeat(2_000));
        let mut bytes = xlsx_of(&[("Daten", "visible", "worksheet", big)], "", "", false);
        let limits = Limits { max_inflated_bytes: 2 * 1024 * 1024, ..Limits::default() };
        assert!(read_workbook(&bytes, &limits).is_ok());
        // The same workbook, its sheet listed 200 times (all pointing at rId1).
        let listed = format!(
            "<workbook {NS}><sheets>{}</sheets></workbook>",
            (0..200).map(|i| format!(r#"<sheet name="S{i}" sheetId="{i}" r:id="rId1"/>"#)).collect::<String>()
        );
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut src = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
            let mut z = zip::ZipWriter::new(&mut buf);
            for i in 0..src.len() {
                let mut f = src.by_index(i).unwrap();
                let name = f.name().unwrap().to_string();
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut data).unwrap();
                if name == "xl/workbook.xml" {
                    data = listed.clone().into_bytes();
                }
                z.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                z.write_all(&data).unwrap();
            }
            z.finish().unwrap();
        }
        bytes = buf.into_inner();
        assert!(matches!(read_workbook(&bytes, &limits), Err(ReadError::TooLarge(_))));
    }

    #[test]
    fn cell_and_row_references() {
        assert_eq!(parse_ref("A1"), Some((0, Some(0))));
        assert_eq!(parse_ref("xfd1048576"), Some((1_048_575, Some(16_383))));
        assert_eq!(parse_ref("7"), Some((6, None)));
        assert_eq!(parse_ref("A0"), None);
        assert_eq!(parse_ref("A"), None);
        assert_eq!(parse_ref("B-1"), None);
        assert_eq!(parse_ref("ZZZZZZZZZZ1"), None);
        assert_eq!(parse_ref("A99999999999"), None);
    }

    #[test]
    fn excel_escapes() {
        let un = |s: &str| {
            let mut o = String::new();
            unescape_into(s, &mut o);
            o
        };
        assert_eq!(un("a_x000D_b"), "a\rb");
        assert_eq!(un("_x005F_x000D_"), "_x000D_");
        assert_eq!(un("_xD83D__xDCF7_"), "📷");
        assert_eq!(un("_xD83D_"), "\u{FFFD}");
        assert_eq!(un("plain_text_"), "plain_text_");
    }

    #[test]
    fn date_formats() {
        assert_eq!(custom_format("DD/MM/YY"), NumFmt::Date);
        assert_eq!(custom_format("dd.mm.yyyy;@"), NumFmt::Date);
        assert_eq!(custom_format("[h]:mm:ss"), NumFmt::Duration);
        assert_eq!(custom_format("#,##0.00\\ \"CHF\""), NumFmt::Other);
        assert_eq!(custom_format("0;[Red]-0"), NumFmt::Other);
        assert_eq!(builtin_format("14"), NumFmt::Date);
        assert_eq!(builtin_format("46"), NumFmt::Duration);
        assert_eq!(builtin_format("3"), NumFmt::Other);
    }

    #[test]
    fn relationship_targets() {
        assert_eq!(resolve("xl/", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/", "/xl/worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/", "../xl/./sheet.xml"), "xl/sheet.xml");
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
    }
}
