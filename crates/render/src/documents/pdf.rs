//! A small drawing layer over `krilla`: pages are lists of text runs, lines and boxes in
//! millimetres from the top-left corner; [`render`] writes them as one PDF/A-2b file with the
//! fonts embedded (Liberation Sans, SIL Open Font License, in `assets/fonts/`; no system
//! fonts are read).

use chrono::{Datelike, NaiveDate};
use krilla::color::luma;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

static REGULAR: &[u8] = include_bytes!("../../../../assets/fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../../../assets/fonts/LiberationSans-Bold.ttf");

/// Points per millimetre.
pub const PT: f32 = 72.0 / 25.4;
/// A4 in millimetres.
pub const A4: (f32, f32) = (210.0, 297.0);
/// The smallest text size on the documents, in points (the QR-bill receipt's headings
/// excepted: the guidelines fix those at 6 pt).
pub const MIN_SIZE: f32 = 8.0;

/// One drawing operation, in millimetres from the top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Text with its baseline at `y`.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        dashed: bool,
    },
    /// A filled box; `gray` 0 = black, 255 = white.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: u8,
    },
}

/// One page under construction.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub ops: Vec<Op>,
}

impl Page {
    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: impl Into<String>) {
        self.ops.push(Op::Text { x, y, size, bold, text: text.into() });
    }
    /// Text that ends at `x_right`.
    pub fn text_right(&mut self, x_right: f32, y: f32, size: f32, bold: bool, text: &str) {
        let w = width(text, size, bold);
        self.text(x_right - w, y, size, bold, text);
    }
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
        self.ops.push(Op::Line { x1, y1, x2, y2, width, dashed: false });
    }
    pub fn dashed(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        self.ops.push(Op::Line { x1, y1, x2, y2, width: 0.2, dashed: true });
    }
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: u8) {
        self.ops.push(Op::Rect { x, y, w, h, gray });
    }
}

fn face(bold: bool) -> Option<FontRef<'static>> {
    FontRef::new(if bold { BOLD } else { REGULAR }).ok()
}

/// Replaces what the font cannot show (and control characters) so that no `.notdef` glyph
/// reaches the PDF (PDF/A forbids it).
pub fn printable(text: &str, bold: bool) -> String {
    let Some(f) = face(bold) else { return String::new() };
    let cmap = f.charmap();
    text.chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if cmap.map(c).is_some() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Advance widths at 1 pt of the characters below U+0250 (Latin), per font, read once.
fn advances(bold: bool) -> &'static [f32] {
    static TABLES: [std::sync::OnceLock<Vec<f32>>; 2] = [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    TABLES[usize::from(bold)].get_or_init(|| {
        let Some(f) = face(bold) else { return Vec::new() };
        let cmap = f.charmap();
        let m = f.glyph_metrics(Size::new(1.0), LocationRef::default());
        (0u32..0x250)
            .map(|c| char::from_u32(c).and_then(|c| cmap.map(c)).and_then(|g| m.advance_width(g)).unwrap_or(0.6))
            .collect()
    })
}

/// The advance width of `text` in millimetres (no kerning: never narrower than drawn).
pub fn width(text: &str, size: f32, bold: bool) -> f32 {
    let table = advances(bold);
    let mut other = None;
    let pts: f32 = text
        .chars()
        .map(|c| match table.get(c as usize) {
            Some(w) => *w,
            None => {
                let f = other.get_or_insert_with(|| face(bold));
                f.as_ref()
                    .and_then(|f| {
                        let g = f.charmap().map(c)?;
                        f.glyph_metrics(Size::new(1.0), LocationRef::default()).advance_width(g)
                    })
                    .unwrap_or(0.6)
            }
        })
        .sum();
    pts * size / PT
}

/// Breaks `text` into lines no wider than `max` millimetres, at spaces where possible;
/// explicit line breaks are kept.
pub fn wrap(text: &str, max: f32, size: f32, bold: bool) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if width(&candidate, size, bold) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            // A word wider than the line is cut where it must be.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if width(&piece, size, bold) > max && piece.chars().count() > 1 {
                    piece.pop();
                    out.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        out.push(line);
    }
    out
}

/// What the PDF's metadata says.
pub struct Meta<'a> {
    pub title: &'a str,
    pub author: &'a str,
    pub subject: &'a str,
    /// The creation date (the run date: the same inputs give the same bytes).
    pub date: NaiveDate,
}

/// Writes the pages as one PDF/A-2b document.
pub fn render(pages: &[Page], meta: &Meta<'_>) -> Result<Vec<u8>, String> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| format!("PDF/A-Konfiguration: {e:?}"))?;
    let settings = SerializeSettings { configuration, ..Default::default() };
    let mut doc = Document::new_with(settings);
    let regular = Font::new(REGULAR.into(), 0).ok_or("Schrift Liberation Sans nicht lesbar")?;
    let bold = Font::new(BOLD.into(), 0).ok_or("Schrift Liberation Sans Bold nicht lesbar")?;
    let d = meta.date;
    doc.set_metadata(
        Metadata::new()
            .title(meta.title.to_string())
            .description(meta.subject.to_string())
            .authors(vec![meta.author.to_string()])
            .language("de-CH".to_string())
            .creator(format!("beitraege {}", env!("CARGO_PKG_VERSION")))
            .creation_date(DateTime::new(d.year().clamp(0, 9999) as u16).month(d.month() as u8).day(d.day() as u8))
            .document_id(format!("{}-{}", meta.title, d)),
    );
    let page_size = PageSettings::from_wh(A4.0 * PT, A4.1 * PT).ok_or("Seitengrösse")?;
    for p in pages {
        let mut page = doc.start_page_with(page_size.clone());
        let mut s = page.surface();
        for op in &p.ops {
            match op {
                Op::Text { x, y, size, bold: b, text } => {
                    let t = printable(text, *b);
                    if t.trim().is_empty() {
                        continue;
                    }
                    let font = if *b { bold.clone() } else { regular.clone() };
                    s.draw_text(Point::from_xy(x * PT, y * PT), font, *size, &t, false, TextDirection::Auto);
                }
                Op::Line { x1, y1, x2, y2, width, dashed } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1 * PT, y1 * PT);
                    pb.line_to(x2 * PT, y2 * PT);
                    if let Some(path) = pb.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke {
                            width: width * PT,
                            dash: dashed.then(|| StrokeDash { array: vec![3.0, 2.0], offset: 0.0 }),
                            ..Default::default()
                        }));
                        s.draw_path(&path);
                        s.set_stroke(None);
                        s.set_fill(Some(Fill::default()));
                    }
                }
                Op::Rect { x, y, w, h, gray } => {
                    let mut pb = PathBuilder::new();
                    if let Some(r) = Rect::from_xywh(x * PT, y * PT, w * PT, h * PT) {
                        pb.push_rect(r);
                    }
                    if let Some(path) = pb.finish() {
                        s.set_stroke(None);
                        s.set_fill(Some(Fill {
                            paint: luma::Color::new(*gray).into(),
                            opacity: NormalizedF32::ONE,
                            rule: Default::default(),
                        }));
                        s.draw_path(&path);
                        s.set_fill(Some(Fill::default()));
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_line_within_the_width() {
        let text = "Bitte nur eine ganze Zahl ohne Text eintragen (z. B. 10 statt «ca. 10»). \
                    Ein_sehr_langes_Wort_ohne_Leerzeichen_das_nicht_auf_eine_Zeile_passt_und_geteilt_wird";
        let lines = wrap(text, 60.0, 10.0, false);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(width(l, 10.0, false) <= 60.0, "{l}");
        }
        let joined: String = lines.concat().chars().filter(|c| !c.is_whitespace()).collect();
        let orig: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(joined, orig, "no character lost");
    }

    #[test]
    fn unprintable_characters_are_replaced() {
        assert_eq!(printable("a\tb", false), "a b");
        assert_eq!(printable("Zürich «x» €", false), "Zürich «x» €");
        assert_eq!(printable("😀", false), "?");
    }
}
