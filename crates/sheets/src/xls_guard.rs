//! A guard in front of calamine's `.xls` reader.
//!
//! calamine parses every sheet of an xls file when it opens it and builds each sheet as a
//! dense range from its first to its last cell. It also follows the compound file's sector
//! chains without a bound. So before calamine sees the bytes, this guard
//!
//! - walks the compound file (CFB) the way calamine does and rejects cyclic or overlong
//!   sector chains and FAT tables larger than the file;
//! - scans the BIFF records of every sheet calamine will parse and **neutralises** cell
//!   records outside the read window (their record type becomes `BLANK`, which calamine
//!   ignores), so a stray far-away cell costs nothing and the form is still read;
//! - neutralises a `DIMENSIONS` record that claims more than the window (calamine reserves
//!   memory from it);
//! - estimates what calamine will then allocate (dense ranges, cells, shared strings copied
//!   per cell) and rejects the file as too large when it is over the limits.
//!
//! The file's bytes are only copied when a record has to be neutralised.

use super::{Limits, ReadError};
use std::borrow::Cow;
use std::collections::BTreeMap;

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const DIFSECT: u32 = 0xFFFF_FFFC;
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
const BLANK: u16 = 0x0201;

fn corrupt(what: &str) -> ReadError {
    ReadError::Unreadable(format!("beschädigte XLS-Datei: {what}"))
}

fn too_large(what: String) -> ReadError {
    ReadError::TooLarge(what)
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    b.get(i..i + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    b.get(i..i + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// A stream of the compound file: its bytes and, per unit, where that unit lies in the file.
struct Stream {
    data: Vec<u8>,
    unit: usize,
    offsets: Vec<usize>,
}

impl Stream {
    fn file_offset(&self, pos: usize) -> Option<usize> {
        self.offsets.get(pos / self.unit).map(|o| o + pos % self.unit)
    }
}

struct Cfb<'a> {
    bytes: &'a [u8],
    header_len: usize,
    sector: usize,
    maxid: usize,
    fat: Vec<u32>,
}

impl Cfb<'_> {
    fn sector_range(&self, id: u32) -> Result<(usize, usize), ReadError> {
        if id as usize > self.maxid {
            return Err(corrupt("Sektor ausserhalb der Datei"));
        }
        let start = self.header_len + id as usize * self.sector;
        let end = (start + self.sector).min(self.bytes.len());
        Ok((start.min(end), end))
    }

    /// Follows a chain like calamine's `get_chain`, but with a bound on its length.
    fn chain(&self, mut id: u32, len: usize) -> Result<Stream, ReadError> {
        let mut s = Stream { data: Vec::new(), unit: self.sector, offsets: Vec::new() };
        let mut steps = 0usize;
        while id != ENDOFCHAIN {
            steps += 1;
            if steps > self.maxid + 2 {
                return Err(corrupt("zyklische Sektorkette"));
            }
            let (a, b) = self.sector_range(id)?;
            let take = (b - a).min(len - s.data.len());
            s.offsets.push(a);
            s.data.extend_from_slice(&self.bytes[a..a + take]);
            if s.data.len() >= len {
                break;
            }
            let short = b - a < self.sector;
            id = *self.fat.get(id as usize).ok_or_else(|| corrupt("Sektor ausserhalb der FAT"))?;
            if short && id != ENDOFCHAIN {
                // calamine goes on after a short sector at the end of the file and, in a cycle,
                // never stops (found by cargo fuzz): a chain may only end there.
                return Err(corrupt("Sektorkette über das Dateiende hinaus"));
            }
        }
        Ok(s)
    }
}

/// Checks and, where needed, neutralises the xls file. Returns the bytes to hand to calamine.
pub(super) fn guard<'b>(bytes: &'b [u8], limits: &Limits) -> Result<Cow<'b, [u8]>, ReadError> {
    let stream = workbook_stream(bytes)?;
    let patches = scan_biff(&stream.data, limits)?;
    if patches.is_empty() {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = bytes.to_vec();
    for (pos, b) in patches {
        let Some(off) = stream.file_offset(pos) else { return Err(corrupt("Record ausserhalb des Streams")) };
        if let Some(slot) = out.get_mut(off) {
            *slot = b;
        }
    }
    Ok(Cow::Owned(out))
}

/// The `Workbook` (or `Book`) stream, found and read the way calamine does, but bounded.
fn workbook_stream(bytes: &[u8]) -> Result<Stream, ReadError> {
    if bytes.len() < 512 {
        return Err(corrupt("zu kurz"));
    }
    let sector = match u16_at(bytes, 30) {
        Some(9) => 512usize,
        Some(12) => 4096,
        _ => return Err(corrupt("Sektorgrösse")),
    };
    let header_len = sector;
    let maxid = bytes.len() / sector;
    let mut cfb = Cfb { bytes, header_len, sector, maxid, fat: Vec::new() };

    // DIFAT: the header's 109 entries, then the DIFAT chain (bounded as in calamine).
    let mut difat: Vec<u32> = (0..109).filter_map(|i| u32_at(bytes, 76 + 4 * i)).collect();
    let mut id = u32_at(bytes, 68).unwrap_or(ENDOFCHAIN);
    let mut n = 0usize;
    while id < RESERVED_SECTORS {
        n += 1;
        if n > maxid + 1 {
            return Err(corrupt("DIFAT-Kette"));
        }
        let (a, b) = cfb.sector_range(id)?;
        difat.extend(bytes[a..b].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        id = difat.pop().ok_or_else(|| corrupt("DIFAT"))?;
    }
    // calamine copies one sector per FAT entry of the DIFAT, repeats included.
    let fat_sectors: Vec<u32> = difat.into_iter().filter(|i| *i < DIFSECT).collect();
    if fat_sectors.len() > maxid + 1 {
        return Err(too_large(format!("FAT mit {} Sektoren in einer Datei mit {maxid}", fat_sectors.len())));
    }
    let mut fat = Vec::with_capacity(fat_sectors.len() * sector / 4);
    for fid in fat_sectors {
        let (a, b) = cfb.sector_range(fid)?;
        fat.extend(bytes[a..b].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
    }
    cfb.fat = fat;

    // Directory entries.
    let dir_start = u32_at(bytes, 48).unwrap_or(ENDOFCHAIN);
    let dirs = cfb.chain(dir_start, usize::MAX)?;
    let entries: Vec<Entry> = dirs
        .data
        .chunks_exact(128)
        .map(|c| {
            let units: Vec<u16> = c[..64].chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            let mut name = String::from_utf16_lossy(&units);
            if let Some(l) = name.find('\0') {
                name.truncate(l);
            }
            let start = u32_at(c, 116).unwrap_or(ENDOFCHAIN);
            let len = if sector == 512 {
                u32_at(c, 120).unwrap_or(0) as u64
            } else {
                u64::from_le_bytes(c[120..128].try_into().unwrap_or([0; 8]))
            };
            let id = |i: usize| u32_at(c, i).unwrap_or(u32::MAX);
            Entry { name, typ: c[66], left: id(68), right: id(72), child: id(76), start, len }
        })
        .collect();
    let Some(root) = entries.first() else { return Err(corrupt("leeres Verzeichnis")) };
    let root = (root.start, root.len);
    let clamp = |len: u64| -> usize { len.min(bytes.len() as u64 * 2) as usize };

    // Mini stream and mini FAT (only when the header declares a mini FAT, as calamine).
    let mini_fat_len = u32_at(bytes, 64).unwrap_or(0) as usize;
    let (ministream, minifat) = if mini_fat_len > 0 {
        let ms = cfb.chain(root.0, clamp(root.1))?;
        let mf_start = u32_at(bytes, 60).unwrap_or(ENDOFCHAIN);
        let mf = cfb.chain(mf_start, mini_fat_len.saturating_mul(sector))?;
        let mf: Vec<u32> = mf.data.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        (Some(ms), mf)
    } else {
        (None, Vec::new())
    };

    // The root storage's own `Workbook` (BIFF8) or `Book` (BIFF5) stream, as the patched
    // calamine looks it up: an embedded OLE object has a `Workbook` stream of its own.
    let children = root_children(&entries);
    let named = |n: &str, e: &Entry| e.name.as_bytes().eq_ignore_ascii_case(n.as_bytes());
    let in_root = |n: &str| children.iter().map(|&i| &entries[i]).find(|e| e.typ == 2 && named(n, e));
    let anywhere = |n: &str| entries.iter().find(|e| named(n, e));
    let Some(e) =
        in_root("Workbook").or_else(|| in_root("Book")).or_else(|| anywhere("Workbook")).or_else(|| anywhere("Book"))
    else {
        return Err(corrupt("kein Workbook-Stream"));
    };
    let (start, len) = (e.start, clamp(e.len));
    if len < 4096 {
        let Some(ms) = &ministream else { return Err(corrupt("Ministream fehlt")) };
        mini_chain(ms, &minifat, start, len)
    } else {
        cfb.chain(start, len)
    }
}

/// A directory entry of the compound file.
struct Entry {
    name: String,
    /// 1 storage, 2 stream, 5 root storage.
    typ: u8,
    left: u32,
    right: u32,
    child: u32,
    start: u32,
    len: u64,
}

/// The root storage's children: the tree under its child id, each entry visited once.
fn root_children(entries: &[Entry]) -> Vec<usize> {
    let mut seen = vec![false; entries.len()];
    let mut out = Vec::new();
    let mut stack = vec![entries.first().map_or(u32::MAX, |e| e.child)];
    while let Some(id) = stack.pop() {
        let i = id as usize;
        if i >= entries.len() || seen[i] {
            continue;
        }
        seen[i] = true;
        out.push(i);
        stack.push(entries[i].left);
        stack.push(entries[i].right);
    }
    out
}

fn mini_chain(ms: &Stream, minifat: &[u32], mut id: u32, len: usize) -> Result<Stream, ReadError> {
    let mut s = Stream { data: Vec::new(), unit: 64, offsets: Vec::new() };
    let mut steps = 0usize;
    while id != ENDOFCHAIN {
        steps += 1;
        if steps > minifat.len() + 1 {
            return Err(corrupt("zyklische Ministream-Kette"));
        }
        let a = id as usize * 64;
        let Some(chunk) = ms.data.get(a..(a + 64).min(ms.data.len())) else {
            return Err(corrupt("Minisektor ausserhalb des Ministreams"));
        };
        let take = chunk.len().min(len - s.data.len());
        s.offsets.push(ms.file_offset(a).ok_or_else(|| corrupt("Minisektor"))?);
        s.data.extend_from_slice(&chunk[..take]);
        if s.data.len() >= len {
            break;
        }
        let short = chunk.len() < 64;
        id = *minifat.get(id as usize).ok_or_else(|| corrupt("Minisektor ausserhalb der Mini-FAT"))?;
        if short && id != ENDOFCHAIN {
            // As for sectors: past the end of the mini stream calamine reads nothing and, in a
            // cycle, never stops.
            return Err(corrupt("Ministream-Kette über das Ende hinaus"));
        }
    }
    Ok(s)
}

/// A BIFF record: offset of its header in the stream, type, data (CONTINUE records follow).
struct Rec<'a> {
    at: usize,
    typ: u16,
    data: &'a [u8],
}

/// Iterates records like calamine's `RecordIter` (CONTINUE records are skipped over).
fn records(stream: &[u8], from: usize) -> impl Iterator<Item = Rec<'_>> {
    let mut pos = from;
    std::iter::from_fn(move || {
        let t = u16_at(stream, pos)?;
        let len = u16_at(stream, pos + 2)? as usize;
        let data = stream.get(pos + 4..pos + 4 + len)?;
        let rec = Rec { at: pos, typ: t, data };
        pos += 4 + len;
        while stream.len() > pos + 4 && u16_at(stream, pos) == Some(0x003C) {
            let l = u16_at(stream, pos + 2)? as usize;
            if stream.len() < pos + 4 + l {
                return None;
            }
            pos += 4 + l;
        }
        Some(rec)
    })
}

#[derive(Default, Clone, Copy)]
struct Extent {
    min: Option<(u32, u32)>,
    max: (u32, u32),
    cells: u64,
}

impl Extent {
    fn add(&mut self, r: u32, c: u32) {
        self.cells += 1;
        let (r0, c0) = self.min.unwrap_or((r, c));
        self.min = Some((r0.min(r), c0.min(c)));
        self.max = (self.max.0.max(r), self.max.1.max(c));
    }
    fn dense(&self) -> u64 {
        match self.min {
            None => 0,
            Some((r0, c0)) => (self.max.0 - r0 + 1) as u64 * (self.max.1 - c0 + 1) as u64,
        }
    }
}

struct SheetScan {
    data: Extent,
    formulas: Extent,
    /// Bytes of text calamine copies into LABELSST cells (3 per character at most).
    sst_text: u64,
    bytes: usize,
}

/// Scans the workbook globals and every sheet calamine will parse; returns byte patches.
fn scan_biff(stream: &[u8], limits: &Limits) -> Result<BTreeMap<usize, u8>, ReadError> {
    let mut positions = Vec::new();
    let mut sst: Vec<u32> = Vec::new();
    for r in records(stream, 0) {
        match r.typ {
            // FILEPASS: the rest of the stream is encrypted or XOR-obfuscated (Excel's
            // "weak encryption", type 0): password-protected, whatever follows.
            0x002F => return Err(ReadError::Encrypted),
            0x0085 => positions.push(u32_at(r.data, 0).unwrap_or(0) as usize),
            // Lbl (defined name): calamine slices it by its own length fields and panics
            // on a short record (found by fuzzing).
            0x0018 => {
                let cce = u16_at(r.data, 4).unwrap_or(u16::MAX) as usize;
                if r.data.len() < 15 || cce > r.data.len() - 14 {
                    return Err(corrupt("Namensdefinition"));
                }
            }
            0x00FC => {
                // SST with its CONTINUE records. calamine keeps every shared string as its
                // own `String` (24 bytes and more for an entry of 3 bytes): bound the table
                // like an XML part loaded whole.
                let conts = continues(stream, r.at + 4 + r.data.len());
                let sst_bytes = r.data.len() + conts.iter().map(|c| c.len()).sum::<usize>();
                if sst_bytes as u64 > limits.max_part_bytes / 8 {
                    return Err(too_large(format!("gemeinsame Texte von {} KB", sst_bytes / 1024)));
                }
                sst = sst_lengths(r.data, &conts)?;
            }
            0x000A => break,
            _ => {}
        }
    }
    let mut patches = BTreeMap::new();
    let mut scans: BTreeMap<usize, SheetScan> = BTreeMap::new();
    for &pos in &positions {
        if pos > stream.len() {
            return Err(corrupt("Blattposition ausserhalb des Streams"));
        }
        scans.entry(pos).or_insert_with(|| scan_sheet(stream, pos, limits, &sst, &mut patches));
    }
    // What calamine will hold at once: every sheet's dense ranges and cells.
    let (mut dense, mut cells, mut text, mut sheet_bytes) = (0u64, 0u64, 0u64, 0usize);
    for pos in &positions {
        let s = &scans[pos];
        dense += s.data.dense() + s.formulas.dense();
        cells += s.data.cells + s.formulas.cells;
        text = text.saturating_add(s.sst_text);
        sheet_bytes += s.bytes;
    }
    if sheet_bytes > stream.len().saturating_mul(2) + 65_536 {
        return Err(too_large("Blätter überlappen sich im XLS-Stream".into()));
    }
    if dense > limits.max_dense_cells || cells > limits.max_dense_cells {
        return Err(too_large(format!("Tabellenbereich mit {dense} Zellen, zulässig {}", limits.max_dense_cells)));
    }
    // Every LABELSST cell gets its own copy of the shared string it names (at most 3 bytes
    // of UTF-8 per character), and reading a sheet copies its range once more.
    if text.saturating_mul(2) > limits.max_inflated_bytes {
        return Err(too_large(format!("Textzellen mit {} MB Text", text / (1024 * 1024))));
    }
    Ok(patches)
}

/// The CONTINUE records after the record ending at `pos`, as calamine's `RecordIter`
/// collects them.
fn continues(stream: &[u8], mut pos: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while stream.len() > pos + 4 && u16_at(stream, pos) == Some(0x003C) {
        let l = u16_at(stream, pos + 2).unwrap_or(0) as usize;
        let Some(d) = stream.get(pos + 4..pos + 4 + l) else { break };
        out.push(d);
        pos += 4 + l;
    }
    out
}

/// The length in characters of every shared string, walked as calamine's `parse_sst`
/// reads them (a string may go on in the next CONTINUE record, which then starts with
/// its own flags byte). What calamine would fail on or panic over is rejected here.
fn sst_lengths<'a>(first: &'a [u8], conts: &[&'a [u8]]) -> Result<Vec<u32>, ReadError> {
    // calamine reads the flags byte of a CONTINUE record without looking at its length
    // (an empty one made it panic; ExcelDataReader's test file for issue 467).
    if conts.iter().any(|c| c.is_empty()) {
        return Err(corrupt("leerer CONTINUE-Record in den gemeinsamen Texten"));
    }
    let mut data = first.get(8..).ok_or_else(|| corrupt("gemeinsame Texte"))?;
    let mut rest = conts.iter();
    let mut next = |data: &mut &'a [u8]| match rest.next() {
        Some(c) => {
            *data = c;
            true
        }
        None => false,
    };
    let bad = || corrupt("gemeinsame Texte");
    let mut out = Vec::new();
    while !data.is_empty() || next(&mut data) {
        if data.len() < 3 {
            return Err(bad());
        }
        let cch = u16_at(data, 0).ok_or_else(bad)? as usize;
        let flags = data[2];
        data = &data[3..];
        let mut skip = 0usize;
        if flags & 0x8 != 0 {
            skip = 4 * u16_at(data, 0).ok_or_else(bad)? as usize;
            data = &data[2..];
        }
        if flags & 0x4 != 0 {
            // calamine reads it as i32 and casts: a negative size skips past the end.
            let cb = u32_at(data, 0).ok_or_else(bad)? as i32 as usize;
            skip = skip.saturating_add(cb);
            data = &data[4..];
        }
        let (mut left, mut wide) = (cch, flags & 0x1 != 0);
        while left > 0 {
            let (l, at) = if wide {
                let l = (data.len() / 2).min(left);
                (l, 2 * l)
            } else {
                let l = data.len().min(left);
                (l, l)
            };
            data = &data[at..];
            left -= l;
            if left > 0 {
                if !next(&mut data) {
                    return Err(bad());
                }
                wide = data[0] & 0x1 != 0;
                data = &data[1..];
            }
        }
        while skip > 0 {
            if data.is_empty() && !next(&mut data) {
                return Err(bad());
            }
            let l = skip.min(data.len());
            data = &data[l..];
            skip -= l;
        }
        out.push(cch as u32);
    }
    Ok(out)
}

/// The cells calamine reserves for a DIMENSIONS record (0 when it rejects the record).
fn dimensions_area(d: &[u8]) -> u64 {
    let w = |i: usize| u16_at(d, i).unwrap_or(0) as u32;
    let (rf, rl, mut cf, cl) = match d.len() {
        10 => (w(0), w(2), w(4), w(6)),
        14 | 16 => (u32_at(d, 0).unwrap_or(0), u32_at(d, 4).unwrap_or(0), w(8), w(10)),
        _ => return 0,
    };
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    let (end_r, end_c) = if rl >= 1 && cl >= 1 { (rl - 1, cl - 1) } else { (rf, cf) };
    let rows = end_r.wrapping_sub(rf).wrapping_add(1) as u64;
    let cols = end_c.wrapping_sub(cf).wrapping_add(1) as u64;
    rows.saturating_mul(cols)
}

fn neutralise(patches: &mut BTreeMap<usize, u8>, at: usize) {
    let [a, b] = BLANK.to_le_bytes();
    patches.insert(at, a);
    patches.insert(at + 1, b);
}

/// Scans one sheet substream as calamine's `parse_workbook` does.
fn scan_sheet(stream: &[u8], pos: usize, limits: &Limits, sst: &[u32], patches: &mut BTreeMap<usize, u8>) -> SheetScan {
    let mut s = SheetScan { data: Extent::default(), formulas: Extent::default(), sst_text: 0, bytes: 0 };
    let inside = |r: u32, c: u32| r < limits.max_rows && c < limits.max_cols;
    let mut seen_bof = false;
    let mut depth = 0usize;
    let mut fmla_pos = (0u32, 0u32);
    let mut drop_strings = false;
    let mut end = pos;
    for r in records(stream, pos) {
        end = r.at + 4 + r.data.len();
        if depth > 0 {
            match r.typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        let rc = || Some((u16_at(r.data, 0)? as u32, u16_at(r.data, 2)? as u32));
        match r.typ {
            0x0809 => {
                if seen_bof {
                    depth += 1;
                } else {
                    seen_bof = true;
                }
            }
            0x0200 => {
                // DIMENSIONS: calamine reserves rows × cols cells from it (computed as in
                // its `parse_dimensions`, wrapping arithmetic included).
                let area = dimensions_area(r.data);
                if area > limits.max_rows as u64 * limits.max_cols as u64 {
                    neutralise(patches, r.at);
                }
            }
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD => {
                if let Some((row, col)) = rc() {
                    if inside(row, col) {
                        s.data.add(row, col);
                        if r.typ == 0x00FD {
                            let isst = u32_at(r.data, 6).unwrap_or(u32::MAX) as usize;
                            s.sst_text += 3 * sst.get(isst).copied().unwrap_or(0) as u64;
                        }
                    } else {
                        neutralise(patches, r.at);
                    }
                }
            }
            // FORMULA, and its BIFF3/BIFF4 record types, which the patched calamine reads too.
            0x0006 | 0x0206 | 0x0406 => {
                if let Some((row, col)) = rc() {
                    if inside(row, col) {
                        fmla_pos = (row, col);
                        drop_strings = false;
                        s.data.add(row, col);
                        s.formulas.add(row, col);
                    } else {
                        drop_strings = true;
                        neutralise(patches, r.at);
                    }
                }
            }
            0x0207 => {
                if drop_strings {
                    neutralise(patches, r.at);
                } else {
                    s.data.add(fmla_pos.0, fmla_pos.1);
                }
            }
            0x00BD => {
                // MULRK: one row, columns first..=last, 6 bytes per cell.
                let (Some(row), Some(first), Some(last)) =
                    (u16_at(r.data, 0), u16_at(r.data, 2), u16_at(r.data, r.data.len().saturating_sub(2)))
                else {
                    continue;
                };
                let (row, first, last) = (row as u32, first as u32, last as u32);
                if r.data.len() < 6 || last < first || r.data.len() != 6 + 6 * (last - first + 1) as usize {
                    continue; // calamine rejects the record (and the file)
                }
                if !inside(row, first) {
                    neutralise(patches, r.at);
                } else if !inside(row, last) {
                    // Keep the columns inside the window; the rest becomes a BLANK filler record.
                    let keep = limits.max_cols - first;
                    let new_len = 6 + 6 * keep as usize;
                    let filler_at = r.at + 4 + new_len;
                    let filler_len = r.data.len() - new_len - 4;
                    for (i, b) in (new_len as u16).to_le_bytes().into_iter().enumerate() {
                        patches.insert(r.at + 2 + i, b);
                    }
                    for (i, b) in ((limits.max_cols - 1) as u16).to_le_bytes().into_iter().enumerate() {
                        patches.insert(r.at + 4 + new_len - 2 + i, b);
                    }
                    let mut hdr = BLANK.to_le_bytes().to_vec();
                    hdr.extend((filler_len as u16).to_le_bytes());
                    for (i, b) in hdr.into_iter().enumerate() {
                        patches.insert(filler_at + i, b);
                    }
                    for c in first..limits.max_cols {
                        s.data.add(row, c);
                    }
                } else {
                    for c in first..=last {
                        s.data.add(row, c);
                    }
                }
            }
            0x000A => break,
            _ => {}
        }
    }
    s.bytes = end.saturating_sub(pos);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_workbook, Value, Workbook};
    use std::collections::BTreeMap;

    /// Every non-empty cell of the first sheet by position.
    fn cells_of(wb: &Workbook) -> BTreeMap<(u32, u32), Value> {
        wb.sheets[0].cells().map(|(p, v)| (*p, v.clone())).collect()
    }

    fn sample_xls() -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/2023/inbox");
        let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        paths.sort();
        let p = paths.into_iter().find(|p| p.extension().is_some_and(|e| e == "xls")).unwrap();
        std::fs::read(p).unwrap()
    }

    /// Rewrites, in the file, the first record of type `typ` in the first sheet.
    fn rewrite_first(bytes: &mut [u8], typ: &[u16], f: impl Fn(&mut [u8])) {
        let st = workbook_stream(bytes).unwrap();
        let pos = records(&st.data, 0).find(|r| r.typ == 0x0085).map(|r| u32_at(r.data, 0).unwrap() as usize).unwrap();
        let r = records(&st.data, pos).find(|r| typ.contains(&r.typ)).unwrap();
        let mut rec = st.data[r.at..r.at + 4 + r.data.len()].to_vec();
        f(&mut rec);
        for (i, b) in rec.into_iter().enumerate() {
            bytes[st.file_offset(r.at + i).unwrap()] = b;
        }
    }

    #[test]
    fn a_stray_far_away_xls_cell_is_neutralised_and_the_form_read() {
        let mut bytes = sample_xls();
        let before = cells_of(&read_workbook(&bytes, &Limits::default()).unwrap());
        // Move the first text cell to IV65536 (the last cell of an xls sheet).
        rewrite_first(&mut bytes, &[0x00FD, 0x0204], |rec| {
            rec[4..6].copy_from_slice(&0xFFFFu16.to_le_bytes());
            rec[6..8].copy_from_slice(&0x00FFu16.to_le_bytes());
        });
        let guarded = guard(&bytes, &Limits::default()).unwrap();
        assert!(matches!(guarded, Cow::Owned(_)), "the record was neutralised");
        let wb = read_workbook(&bytes, &Limits::default()).unwrap();
        assert!(wb.sheets.iter().all(|s| s.cells().all(|((r, c), _)| *r < 2_000 && *c < 64)));
        // Every other cell of the form is read as before; only the moved one is gone.
        let after = cells_of(&wb);
        assert_eq!(after.len(), before.len() - 1);
        assert!(after.iter().all(|(p, v)| before.get(p) == Some(v)));
    }

    #[test]
    fn a_dimensions_record_claiming_the_whole_sheet_is_neutralised() {
        let mut bytes = sample_xls();
        rewrite_first(&mut bytes, &[0x0200], |rec| {
            rec[4..8].copy_from_slice(&0u32.to_le_bytes());
            rec[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
            rec[12..14].copy_from_slice(&0u16.to_le_bytes());
            rec[14..16].copy_from_slice(&0xFFFFu16.to_le_bytes());
        });
        assert!(matches!(guard(&bytes, &Limits::default()).unwrap(), Cow::Owned(_)));
        let wb = read_workbook(&bytes, &Limits::default()).unwrap();
        assert!(!cells_of(&wb).is_empty());
    }

    #[test]
    fn a_dense_range_over_the_limit_is_too_large() {
        let bytes = sample_xls();
        let tiny = Limits { max_dense_cells: 10, ..Limits::default() };
        assert!(matches!(guard(&bytes, &tiny), Err(ReadError::TooLarge(_))));
    }

    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    /// A BIFF8 workbook stream: BOF, the global records, one BOUNDSHEET, EOF; then the
    /// sheet: BOF, its records, EOF.
    fn biff(globals: &[Vec<u8>], sheet: &[Vec<u8>]) -> Vec<u8> {
        let bof = rec(0x0809, &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0]);
        let boundsheet_len = 4 + 8;
        let pos = bof.len() + globals.iter().map(Vec::len).sum::<usize>() + boundsheet_len + 4;
        let mut s = bof.clone();
        globals.iter().for_each(|r| s.extend(r));
        s.extend(rec(0x0085, &[&(pos as u32).to_le_bytes()[..], &[0, 0, 0, 0]].concat()));
        s.extend(rec(0x000A, &[]));
        assert_eq!(s.len(), pos);
        s.extend(rec(0x0809, &[0x00, 0x06, 0x10, 0x00, 0, 0, 0, 0]));
        sheet.iter().for_each(|r| s.extend(r));
        s.extend(rec(0x000A, &[]));
        s
    }

    fn label_sst(row: u16, isst: u32) -> Vec<u8> {
        rec(0x00FD, &[&row.to_le_bytes()[..], &[0, 0, 0, 0], &isst.to_le_bytes()].concat())
    }

    /// What calamine will copy into text cells is counted from the characters of the
    /// string each cell names (3 bytes each at most, twice: sheet and read copy). One
    /// string of 1,000 characters in 10 cells is 60,000 bytes: the limit, on both sides.
    #[test]
    fn text_cells_are_bounded_by_the_strings_they_name() {
        let mut sst = [1u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
        sst.extend(1000u16.to_le_bytes());
        sst.push(0);
        sst.extend(vec![b'x'; 1000]);
        let globals = [rec(0x00FC, &sst)];
        let l = Limits { max_inflated_bytes: 60_000, ..Limits::default() };
        let cells = |n: u16| (0..n).map(|r| label_sst(r, 0)).collect::<Vec<_>>();
        assert!(scan_biff(&biff(&globals, &cells(10)), &l).is_ok());
        assert!(matches!(scan_biff(&biff(&globals, &cells(11)), &l), Err(ReadError::TooLarge(_))));
        // Cells naming a string the table does not have cost nothing (calamine skips them).
        assert!(scan_biff(&biff(&globals, &(0..100).map(|r| label_sst(r, 7)).collect::<Vec<_>>()), &l).is_ok());
    }

    /// Excel's XOR obfuscation (FILEPASS type 0) garbles every record after it; the guard
    /// stops at the FILEPASS, before any record behind it can make it reject the file.
    #[test]
    fn a_filepass_record_of_any_type_is_encrypted() {
        for kind in [0u16, 1] {
            let globals = [rec(0x002F, &[&kind.to_le_bytes()[..], &[0x11; 4]].concat()), rec(0x0018, &[1, 2])];
            assert_eq!(scan_biff(&biff(&globals, &[]), &Limits::default()), Err(ReadError::Encrypted));
        }
        // Without it, the short name record is corrupt.
        assert!(matches!(
            scan_biff(&biff(&[rec(0x0018, &[1, 2])], &[]), &Limits::default()),
            Err(ReadError::Unreadable(_))
        ));
    }

    /// A string split over the SST and its CONTINUE record, with an empty CONTINUE between
    /// (calamine read its flags byte out of bounds and panicked).
    #[test]
    fn an_empty_continue_record_in_the_shared_strings_is_corrupt() {
        let mut sst = [1u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
        sst.extend(10u16.to_le_bytes());
        sst.push(0);
        sst.extend(b"abcde");
        let rest = [&[0u8][..], b"fghij"].concat();
        let ok = [rec(0x00FC, &sst), rec(0x003C, &rest)];
        assert!(scan_biff(&biff(&ok, &[label_sst(0, 0)]), &Limits::default()).is_ok());
        let bad = [rec(0x00FC, &sst), rec(0x003C, &[]), rec(0x003C, &rest)];
        assert!(matches!(scan_biff(&biff(&bad, &[]), &Limits::default()), Err(ReadError::Unreadable(_))));
    }

    #[test]
    fn a_cyclic_directory_chain_is_rejected_not_followed() {
        let mut bytes = sample_xls();
        // Point the FAT entry of the first directory sector at itself.
        let dir = u32_at(&bytes, 48).unwrap() as usize;
        let fat0 = u32_at(&bytes, 76).unwrap() as usize;
        let at = 512 + fat0 * 512 + dir * 4;
        bytes[at..at + 4].copy_from_slice(&(dir as u32).to_le_bytes());
        assert!(matches!(guard(&bytes, &Limits::default()), Err(ReadError::Unreadable(_))));
    }
}
