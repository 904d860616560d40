//! A minimal writer of Excel binary workbooks (`.xlsb`, BIFF12 records in a zip package,
//! [MS-XLSB]) for tests: LibreOffice reads xlsb but cannot write it, and no Rust or Python
//! library at hand writes it either.
//!
//! It writes what Excel writes for a plain sheet: the workbook part with its sheets and
//! defined names, shared strings, styles with custom number formats, and worksheets with
//! rows of number, shared-string and inline-string cells. Records follow [MS-XLSB] 2.1.4
//! (type and length as 7-bit groups).
#![allow(dead_code)]

use std::io::Write;

/// One cell value.
#[derive(Clone, Debug)]
pub enum Cell {
    /// A number in the General format (BrtCellReal).
    Num(f64),
    /// A number in the style `style` (an index into [`Book::formats`], plus one).
    Styled(f64, u32),
    /// A whole number as Excel stores it, in 30 bits (BrtCellRk with fInt).
    Rk(i32),
    /// A text, stored once in the shared strings (BrtCellIsst).
    Text(String),
    /// A raw shared-string index, whether or not the table has it.
    Isst(u32),
    /// An inline text (BrtCellSt).
    Inline(String),
}

/// A sheet: its name and cells (row, column, value; 0-based).
pub type SheetCells = (String, Vec<(u32, u32, Cell)>);

/// A workbook to write.
#[derive(Clone, Debug, Default)]
pub struct Book {
    /// Sheets: name and cells (row, column, value; 0-based).
    pub sheets: Vec<SheetCells>,
    /// Defined names pointing at one cell: name, sheet index, row, column.
    pub names: Vec<(String, u16, u32, u16)>,
    /// Custom number formats; cell style `i + 1` uses format `164 + i`.
    pub formats: Vec<String>,
    /// Extra shared strings appended to the table (not used by any cell).
    pub extra_strings: Vec<String>,
    /// Extra bytes of padding records in the first sheet (a highly compressible part).
    pub sheet_padding: usize,
    /// Put the workbook part at `wb/book.bin` instead of `xl/workbook.bin`.
    pub elsewhere: bool,
}

fn rec(out: &mut Vec<u8>, typ: u16, body: &[u8]) {
    if typ < 0x80 {
        out.push(typ as u8);
    } else {
        out.push((typ & 0x7F) as u8 | 0x80);
        out.push((typ >> 7) as u8 & 0x7F);
    }
    let mut len = body.len();
    loop {
        let b = (len & 0x7F) as u8;
        len >>= 7;
        if len == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(body);
}

/// XLWideString: u32 character count, UTF-16LE.
fn wide(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let mut b = (units.len() as u32).to_le_bytes().to_vec();
    b.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    b
}

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Book {
    fn strings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, cells) in &self.sheets {
            for (_, _, c) in cells {
                if let Cell::Text(t) = c {
                    if !out.contains(t) {
                        out.push(t.clone());
                    }
                }
            }
        }
        out.extend(self.extra_strings.iter().cloned());
        out
    }

    fn workbook_bin(&self) -> Vec<u8> {
        let mut b = Vec::new();
        rec(&mut b, 0x0083, &[]); // BrtBeginBook
        rec(&mut b, 0x0099, &[0; 12]); // BrtWbProp: 1900 dates
        rec(&mut b, 0x008F, &[]); // BrtBeginBundleShs
        for (i, (name, _)) in self.sheets.iter().enumerate() {
            let mut body = u32s(&[0, i as u32 + 1]); // visible, iTabID
            body.extend(wide(&format!("rId{}", i + 1)));
            body.extend(wide(name));
            rec(&mut b, 0x009C, &body); // BrtBundleSh
        }
        rec(&mut b, 0x0090, &[]); // BrtEndBundleShs
                                  // BrtExternSheet: one XTI per sheet, so a name's ixti is its sheet index.
        let mut xti = (self.sheets.len() as u32).to_le_bytes().to_vec();
        for i in 0..self.sheets.len() as u32 {
            xti.extend(u32s(&[0, i, i]));
        }
        rec(&mut b, 0x0161, &[]); // BrtBeginExternals
        rec(&mut b, 0x0163, &[]); // BrtSupSelf: the XTIs refer to this workbook
        rec(&mut b, 0x016A, &xti);
        rec(&mut b, 0x0162, &[]); // BrtEndExternals
        for (name, sheet, row, col) in &self.names {
            let mut body = vec![0u8; 9]; // flags, chKey, itab (workbook scope)
            body[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
            body.extend(wide(name));
            // rgce: PtgRef3d (0x3A) ixti, row, column (absolute)
            let mut rgce = vec![0x3A];
            rgce.extend(sheet.to_le_bytes());
            rgce.extend(row.to_le_bytes());
            rgce.extend(col.to_le_bytes());
            body.extend((rgce.len() as u32).to_le_bytes());
            body.extend(rgce);
            body.extend(0u32.to_le_bytes()); // cb of rgbExtra
            body.extend(u32::MAX.to_le_bytes()); // comment: none
            rec(&mut b, 0x0027, &body); // BrtName
        }
        rec(&mut b, 0x009D, &[0; 26]); // BrtCalcProp
        rec(&mut b, 0x0084, &[]); // BrtEndBook
        b
    }

    fn styles_bin(&self) -> Vec<u8> {
        let mut b = Vec::new();
        rec(&mut b, 0x0116, &[]); // BrtBeginStyleSheet
        rec(&mut b, 0x0267, &(self.formats.len() as u32).to_le_bytes()); // BrtBeginFmts
        for (i, f) in self.formats.iter().enumerate() {
            let mut body = (164 + i as u16).to_le_bytes().to_vec();
            body.extend(wide(f));
            rec(&mut b, 0x002C, &body); // BrtFmt
        }
        rec(&mut b, 0x0268, &[]); // BrtEndFmts
                                  // One font, the two fills and the one border every workbook has, and the one
                                  // cell style XF, as Excel writes them (Calibri 12).
        let hex = |h: &str| {
            (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect::<Vec<u8>>()
        };
        rec(&mut b, 0x0263, &1u32.to_le_bytes()); // BrtBeginFonts
        rec(&mut b, 0x002B, &hex("f0000000900100000002000006010000000000000207000000430061006c006900620072006900")); // BrtFont
        rec(&mut b, 0x0264, &[]);
        rec(&mut b, 0x025B, &2u32.to_le_bytes()); // BrtBeginFills
        let mut fill = vec![0u8; 68];
        rec(&mut b, 0x002D, &fill); // BrtFill: none
        fill[0] = 0x11;
        rec(&mut b, 0x002D, &fill); // BrtFill: gray125
        rec(&mut b, 0x025C, &[]);
        rec(&mut b, 0x0265, &1u32.to_le_bytes()); // BrtBeginBorders
        rec(&mut b, 0x002E, &[0u8; 51]); // BrtBorder
        rec(&mut b, 0x0266, &[]);
        rec(&mut b, 0x0272, &1u32.to_le_bytes()); // BrtBeginCellStyleXFs
        let mut xf = vec![0u8; 16];
        xf[0..2].copy_from_slice(&0xFFFFu16.to_le_bytes());
        rec(&mut b, 0x002F, &xf);
        rec(&mut b, 0x0273, &[]);
        rec(&mut b, 0x0269, &(self.formats.len() as u32 + 1).to_le_bytes()); // BrtBeginCellXFs
        for fmt in std::iter::once(0u16).chain((0..self.formats.len() as u16).map(|i| 164 + i)) {
            let mut body = vec![0u8; 16];
            // ixfeParent 0: the cell style XF
            body[2..4].copy_from_slice(&fmt.to_le_bytes());
            rec(&mut b, 0x002F, &body); // BrtXF
        }
        rec(&mut b, 0x026A, &[]); // BrtEndCellXFs
        rec(&mut b, 0x026B, &1u32.to_le_bytes()); // BrtBeginStyles
        let mut style = u32s(&[0, 1]);
        style.extend(wide("Normal"));
        rec(&mut b, 0x0030, &style); // BrtStyle
        rec(&mut b, 0x026C, &[]);
        rec(&mut b, 0x0117, &[]); // BrtEndStyleSheet
        b
    }

    fn shared_strings_bin(&self, strings: &[String]) -> Vec<u8> {
        let mut b = Vec::new();
        let n = strings.len() as u32;
        rec(&mut b, 0x009F, &u32s(&[n, n])); // BrtBeginSst
        for s in strings {
            let mut body = vec![0u8]; // no rich text, no phonetics
            body.extend(wide(s));
            rec(&mut b, 0x0013, &body); // BrtSSTItem
        }
        rec(&mut b, 0x00A0, &[]); // BrtEndSst
        b
    }

    fn sheet_bin(&self, cells: &[(u32, u32, Cell)], strings: &[String], padding: usize) -> Vec<u8> {
        let mut cells = cells.to_vec();
        cells.sort_by_key(|(r, c, _)| (*r, *c));
        let (r0, r1) = (cells.first().map_or(0, |c| c.0), cells.last().map_or(0, |c| c.0));
        let c1 = cells.iter().map(|c| c.1).max().unwrap_or(0);
        let mut b = Vec::new();
        rec(&mut b, 0x0081, &[]); // BrtBeginSheet
        rec(&mut b, 0x0094, &u32s(&[r0, r1, 0, c1])); // BrtWsDim
        rec(&mut b, 0x0091, &[]); // BrtBeginSheetData
        let mut row = None;
        for (r, c, v) in &cells {
            if row != Some(*r) {
                let mut body = u32s(&[*r, 0]);
                body.extend([0u8; 9]);
                rec(&mut b, 0x0000, &body); // BrtRowHdr
                row = Some(*r);
            }
            let style = |s: u32| u32s(&[*c, s]);
            match v {
                Cell::Num(x) | Cell::Styled(x, _) => {
                    let s = if let Cell::Styled(_, s) = v { *s } else { 0 };
                    let mut body = style(s);
                    body.extend(x.to_le_bytes());
                    rec(&mut b, 0x0005, &body); // BrtCellReal
                }
                Cell::Rk(x) => {
                    let mut body = style(0);
                    body.extend(((x << 2) | 0x2).to_le_bytes());
                    rec(&mut b, 0x0002, &body); // BrtCellRk
                }
                Cell::Text(t) => {
                    let i = strings.iter().position(|s| s == t).unwrap() as u32;
                    let mut body = style(0);
                    body.extend(i.to_le_bytes());
                    rec(&mut b, 0x0007, &body); // BrtCellIsst
                }
                Cell::Isst(i) => {
                    let mut body = style(0);
                    body.extend(i.to_le_bytes());
                    rec(&mut b, 0x0007, &body);
                }
                Cell::Inline(t) => {
                    let mut body = style(0);
                    body.extend(wide(t));
                    rec(&mut b, 0x0006, &body); // BrtCellSt
                }
            }
        }
        // Padding: blank cells (BrtCellBlank) in one far row, which readers skip.
        if padding > 0 {
            rec(&mut b, 0x0000, &[0xFF; 17]);
            let blank = u32s(&[0, 0]);
            for _ in 0..padding / 10 {
                rec(&mut b, 0x0001, &blank);
            }
        }
        rec(&mut b, 0x0092, &[]); // BrtEndSheetData
        rec(&mut b, 0x0082, &[]); // BrtEndSheet
        b
    }

    /// The package, parts deflated as Excel writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let strings = self.strings();
        let book = if self.elsewhere { "wb/book.bin" } else { "xl/workbook.bin" };
        let dir = book.rsplit_once('/').unwrap().0;
        let main = "application/vnd.ms-excel.sheet.binary.macroEnabled.main";
        let mut types = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="bin" ContentType="{main}"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/{book}" ContentType="{main}"/><Override PartName="/{dir}/styles.bin" ContentType="application/vnd.ms-excel.styles"/><Override PartName="/{dir}/sharedStrings.bin" ContentType="application/vnd.ms-excel.sharedStrings"/>"#
        );
        for i in 1..=self.sheets.len() {
            types.push_str(&format!(
                r#"<Override PartName="/{dir}/worksheets/sheet{i}.bin" ContentType="application/vnd.ms-excel.worksheet"/>"#
            ));
        }
        types.push_str("</Types>");
        let root_rels = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{book}"/></Relationships>"#
        );
        let r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let mut book_rels = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        );
        for i in 1..=self.sheets.len() {
            book_rels.push_str(&format!(
                r#"<Relationship Id="rId{i}" Type="{r}/worksheet" Target="worksheets/sheet{i}.bin"/>"#
            ));
        }
        book_rels.push_str(&format!(
            r#"<Relationship Id="rIdS" Type="{r}/styles" Target="styles.bin"/><Relationship Id="rIdT" Type="{r}/sharedStrings" Target="sharedStrings.bin"/></Relationships>"#
        ));
        let mut parts: Vec<(String, Vec<u8>)> = vec![
            ("[Content_Types].xml".into(), types.into_bytes()),
            ("_rels/.rels".into(), root_rels.into_bytes()),
            (book.into(), self.workbook_bin()),
            (format!("{dir}/_rels/{}.rels", book.rsplit('/').next().unwrap()), book_rels.into_bytes()),
            (format!("{dir}/styles.bin"), self.styles_bin()),
            (format!("{dir}/sharedStrings.bin"), self.shared_strings_bin(&strings)),
        ];
        for (i, (_, cells)) in self.sheets.iter().enumerate() {
            let padding = if i == 0 { self.sheet_padding } else { 0 };
            parts.push((format!("{dir}/worksheets/sheet{}.bin", i + 1), self.sheet_bin(cells, &strings, padding)));
        }
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        for (name, data) in parts {
            z.start_file(name.as_str(), opts).unwrap();
            z.write_all(&data).unwrap();
        }
        z.finish().unwrap();
        buf.into_inner()
    }
}
