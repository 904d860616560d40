//! The Excel binary workbook (`.xlsb`, "Excel-Binärarbeitsmappe"), read through calamine's
//! xlsb reader behind the same bounds as the other formats.
//!
//! calamine opens an xlsb with its own zip reader, which inflates parts without our size
//! checks, and reads records with buffers as long as each record claims to be. So before
//! calamine sees anything:
//!
//! - the package relationships are resolved by our own code ([`super::xlsx`]), so a
//!   workbook part outside `xl/` is found;
//! - each part calamine reads (workbook, shared strings, styles, worksheets) is inflated
//!   by [`Package`], with its declared size and the total inflated size checked first and
//!   inflation stopped at the declared size;
//! - every record of those parts is checked to lie inside its part, so no buffer calamine
//!   sizes from a record header is longer than the part;
//! - what calamine's shared string table will cost is bounded;
//! - the checked parts are handed to calamine as a new zip of stored (uncompressed)
//!   entries under the names calamine expects.
//!
//! Cells are then read with calamine's streaming cell reader, never as a dense range:
//! cells outside the window are skipped, so a stray cell in XFD1048576 costs nothing.

use super::package::Package;
use super::xlsx::{folder, relationships};
use super::{calamine_err, from_data_ref, parse_names, xml, Budget, Format, Limits, ReadError, Sheet, Workbook};
use calamine::{Reader, SheetType};
use std::io::{Cursor, Write};

fn unreadable(e: impl std::fmt::Display) -> ReadError {
    ReadError::Unreadable(format!("beschädigte Excel-Binärarbeitsmappe: {e}"))
}

/// BrtSSTItem: one shared string.
const SST_ITEM: u16 = 0x0013;

/// What one part's records add up to.
#[derive(Debug, Default, PartialEq, Eq)]
struct Records {
    count: u64,
    /// Records of type [`SST_ITEM`] and the bytes of their bodies.
    sst_items: u64,
    sst_bytes: u64,
}

/// Walks the BIFF12 records of a part as calamine's `RecordIter` reads them (a type of one
/// or two bytes and a length of one to four, seven bits each) and checks that every
/// record lies inside the part.
fn check_records(data: &[u8], path: &str) -> Result<Records, ReadError> {
    let mut out = Records::default();
    let mut pos = 0usize;
    let byte = |pos: &mut usize| -> Result<u8, ReadError> {
        let b = *data.get(*pos).ok_or_else(|| unreadable(format!("«{path}»: Record über das Ende hinaus")))?;
        *pos += 1;
        Ok(b)
    };
    while pos < data.len() {
        let b = byte(&mut pos)?;
        let typ = if b & 0x80 != 0 { (b & 0x7F) as u16 + (((byte(&mut pos)? & 0x7F) as u16) << 7) } else { b as u16 };
        let mut b = byte(&mut pos)?;
        let mut len = (b & 0x7F) as usize;
        for i in 1..4 {
            if b & 0x80 == 0 {
                break;
            }
            b = byte(&mut pos)?;
            len += ((b & 0x7F) as usize) << (7 * i);
        }
        if len > data.len() - pos {
            return Err(unreadable(format!("«{path}»: Record von {len} Byte über das Ende hinaus")));
        }
        pos += len;
        out.count += 1;
        if typ == SST_ITEM {
            out.sst_items += 1;
            out.sst_bytes += len as u64;
        }
    }
    Ok(out)
}

/// Escapes a value for an XML attribute.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Reads an xlsb whose workbook part is `workbook_path`.
pub(super) fn read_xlsb(parts: &mut Package<'_>, workbook_path: &str, limits: &Limits) -> Result<Workbook, ReadError> {
    let dir = folder(workbook_path).to_string();
    let rels_path = format!("{dir}_rels/{}.rels", &workbook_path[dir.len()..]);
    let rels = relationships(parts, &rels_path, &dir)?;

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let add = |zip: &mut zip::ZipWriter<Cursor<Vec<u8>>>, name: &str, data: &[u8]| -> Result<(), ReadError> {
        zip.start_file(name, stored).map_err(unreadable)?;
        zip.write_all(data).map_err(unreadable)
    };

    let book = parts.part(workbook_path)?.ok_or_else(|| unreadable(format!("«{workbook_path}» fehlt")))?;
    check_records(&book, workbook_path)?;
    add(&mut zip, "xl/workbook.bin", &book)?;
    drop(book);

    // Shared strings and styles: the parts the workbook's relationships name, at the
    // names calamine looks for.
    for (kind, name) in [("sharedStrings", "xl/sharedStrings.bin"), ("styles", "xl/styles.bin")] {
        let Some(rel) = rels.values().find(|r| r.kind() == kind) else { continue };
        let Some(data) = parts.part(&rel.target)? else { continue };
        let recs = check_records(&data, &rel.target)?;
        if kind == "sharedStrings" {
            // calamine keeps each string as its own `String`: 24 bytes, plus at most
            // 3 bytes of UTF-8 for every 2 bytes of UTF-16 (an item's body is a flags
            // byte, a character count of 4 bytes and the characters).
            let text = recs.sst_bytes.saturating_sub(5 * recs.sst_items);
            let cost = recs.sst_items.saturating_mul(24).saturating_add(text / 2 * 3);
            if cost > limits.max_part_bytes.saturating_mul(2) {
                return Err(ReadError::TooLarge(format!(
                    "{} gemeinsame Texte mit {} MB",
                    recs.sst_items,
                    recs.sst_bytes / (1024 * 1024)
                )));
            }
        }
        add(&mut zip, name, &data)?;
    }

    // The sheets, renamed as calamine expects: worksheets under `xl/worksheets/`; other
    // sheets (charts, dialogs, macros) get a name calamine accepts and no content.
    let mut sheet_rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (n, (id, rel)) in rels.iter().enumerate() {
        let target = match rel.kind() {
            "worksheet" => {
                let target = format!("worksheets/sheet{n}.bin");
                if let Some(data) = parts.part(&rel.target)? {
                    check_records(&data, &rel.target)?;
                    add(&mut zip, &format!("xl/{target}"), &data)?;
                }
                target
            }
            "chartsheet" => format!("chartsheets/sheet{n}.bin"),
            _ => format!("dialogsheets/sheet{n}.bin"),
        };
        sheet_rels.push_str(&format!(r#"<Relationship Id="{}" Target="{target}"/>"#, attr(id)));
    }
    sheet_rels.push_str("</Relationships>");
    add(&mut zip, "xl/_rels/workbook.bin.rels", sheet_rels.as_bytes())?;
    let packed = zip.finish().map_err(unreadable)?.into_inner();

    let mut xlsb: calamine::Xlsb<_> = calamine::open_workbook_from_rs(Cursor::new(packed)).map_err(calamine_err)?;
    let names = parse_names(xlsb.defined_names());
    let meta: Vec<(String, bool, bool)> = xlsb
        .sheets_metadata()
        .iter()
        .map(|s| (s.name.clone(), super::visible(s.visible), s.typ == SheetType::WorkSheet))
        .collect();
    let mut budget = Budget { limits, kept: 0 };
    let mut sheets = Vec::with_capacity(meta.len());
    for (name, visible, worksheet) in meta {
        let mut sheet = Sheet::new(&name);
        sheet.visible = visible;
        if worksheet {
            let mut cells = match xlsb.worksheet_cells_reader(&name) {
                Ok(r) => r,
                // A worksheet named in the workbook without a part in the package.
                Err(calamine::XlsbError::FileNotFound(_)) => {
                    tracing::debug!(blatt = %name, "Blatt ohne Inhalt in der Datei");
                    continue;
                }
                Err(e) => return Err(calamine_err(e)),
            };
            while let Some(cell) = cells.next_cell().map_err(calamine_err)? {
                let (r, c) = cell.get_position();
                let mut v = from_data_ref(cell.get_value());
                if v.is_empty() {
                    continue;
                }
                if budget.keep(r, c)? {
                    match &mut v {
                        super::Value::Text(t) => xml::cap_text(t),
                        // An RK number stored as an integer (Excel does this for whole
                        // numbers): a number like any other, as xlsx and xls give it.
                        super::Value::Int(i) => v = super::Value::Float(*i as f64),
                        _ => {}
                    }
                    sheet.set(r, c, v);
                }
            }
        }
        sheets.push(sheet);
    }
    Ok(Workbook { format: Format::Xlsb, sheets, names })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_must_lie_inside_their_part() {
        // BrtSSTItem (0x13) with 3 bytes; a two-byte type (0x0116) with an empty body.
        let ok = [0x13, 0x03, 1, 2, 3, 0x96, 0x02, 0x00];
        assert_eq!(check_records(&ok, "p").unwrap(), Records { count: 2, sst_items: 1, sst_bytes: 3 });
        // A length of 0x7F + (0x7F << 7) = 16,383 bytes in a part of 5.
        assert!(check_records(&[0x13, 0xFF, 0x7F, 1, 2], "p").is_err());
        // A length field cut off at the end.
        assert!(check_records(&[0x13, 0x80], "p").is_err());
        // A length of four bytes, the most calamine reads, claiming 256 MB.
        assert!(check_records(&[0x13, 0xFF, 0xFF, 0xFF, 0x7F], "p").is_err());
        assert_eq!(check_records(&[], "p").unwrap(), Records::default());
    }
}
