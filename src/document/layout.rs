//! Pages of placed text and rules, measured with the embedded font, then written as a PDF by
//! krilla, which embeds only the glyphs used (a subset of the font).
//!
//! Laying out first and drawing afterwards is what lets every page say "page N of M".

use std::sync::OnceLock;

use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};

use super::facturx::{self, FacturX};

/// A4, in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
/// The margin on every side.
pub const MARGIN: f32 = 48.0;

/// The embedded fonts, each with its licence in `assets/fonts/`: DejaVu Sans (Bitstream Vera
/// licence; Latin, Greek, Cyrillic, Arabic, Hebrew and more) regular and bold, then the
/// fallbacks tried in order for a character it lacks: Droid Sans Fallback (Apache 2.0; Chinese,
/// Japanese), Nanum Gothic (SIL OFL; Korean) and the Noto Sans faces (SIL OFL) of the scripts
/// of South and South-East Asia and of Ethiopia.
const DATA: [&[u8]; 18] = [
    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
    include_bytes!("../../assets/fonts/DroidSansFallbackFull.ttf"),
    include_bytes!("../../assets/fonts/NanumGothic.ttf"),
    include_bytes!("../../assets/fonts/NotoSansThai-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansDevanagari-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansBengali-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansTamil-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansTelugu-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansGujarati-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansGurmukhi-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansKannada-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansMalayalam-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansSinhala-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansKhmer-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansLao-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansMyanmar-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansEthiopic-Regular.ttf"),
];

/// The face a run of text is drawn in: an index into [`DATA`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Face(usize);

impl Face {
    const REGULAR: Self = Self(0);
    const BOLD: Self = Self(1);

    /// The faces tried, in order, for a character the weight's own face lacks.
    fn fallbacks() -> impl Iterator<Item = Self> {
        (2..DATA.len()).map(Self)
    }
}

impl From<Weight> for Face {
    fn from(weight: Weight) -> Self {
        match weight {
            Weight::Regular => Self::REGULAR,
            Weight::Bold => Self::BOLD,
        }
    }
}

/// `text` cut where it changes face: each character in `weight`'s face when that has a
/// glyph for it, else in the first of [`Face::fallbacks`] that has one. Spaces and controls stay
/// with the run they are in.
fn runs(text: &str, weight: Weight) -> Vec<(Face, &str)> {
    let primary = Face::from(weight);
    let mut runs: Vec<(Face, &str)> = Vec::new();
    let mut start = 0;
    let mut current: Option<Face> = None;
    for (index, character) in text.char_indices() {
        let neutral = character.is_whitespace() || character.is_control();
        let face = if neutral || face(primary).glyph_index(character).is_some() {
            current.filter(|_| neutral).unwrap_or(primary)
        } else {
            Face::fallbacks()
                .find(|fallback| face(*fallback).glyph_index(character).is_some())
                .unwrap_or(primary)
        };
        if current.is_some_and(|current| current != face) {
            runs.push((current.unwrap_or(primary), &text[start..index]));
            start = index;
        }
        current = Some(face);
    }
    if start < text.len() {
        runs.push((current.unwrap_or(primary), &text[start..]));
    }
    runs
}

/// A face of the embedded font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// How a text sits on its x: starting there, or ending there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Something drawn on a page; `y` is the baseline, from the top.
#[derive(Debug, Clone)]
enum Mark {
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        text: String,
    },
    Rule {
        x: f32,
        y: f32,
        width: f32,
        thickness: f32,
    },
}

/// The width of `text` at `size` points, as drawn (shaped, kerned, each run in its face).
pub fn width(text: &str, size: f32, weight: Weight) -> f32 {
    runs(text, weight)
        .into_iter()
        .map(|(face, run)| run_width(run, size, face))
        .sum()
}

fn run_width(text: &str, size: f32, face: Face) -> f32 {
    let face = self::face(face);
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    let shaped = rustybuzz::shape(face, &[], buffer);
    let advance: i32 = shaped
        .glyph_positions()
        .iter()
        .map(|position| position.x_advance)
        .sum();
    advance as f32 * size / f32::from(face.units_per_em() as u16)
}

/// `text` cut into lines no wider than `max_width`: at spaces where it can, inside a word
/// that is wider than a line by itself.
pub fn wrap(text: &str, size: f32, weight: Weight, max_width: f32) -> Vec<String> {
    // Each word and each character of a word cut up is measured once, and a line's width is
    // their sum: the cost is linear in the text, however it is made (a client may send a note
    // of 65,535 zero-width characters).
    let space = width(" ", size, weight);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in paragraph.split(' ') {
            let word_width = width(word, size, weight);
            let joined = if line.is_empty() {
                word_width
            } else {
                line_width + space + word_width
            };
            if joined <= max_width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width = joined;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line_width = 0.0;
            for character in word.chars() {
                let mut buffer = [0; 4];
                let character_width = width(character.encode_utf8(&mut buffer), size, weight);
                if line_width + character_width > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(character);
                line_width += character_width;
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// At most `max` of `lines`, the last of them ending in "…" when some were left out.
pub fn at_most(mut lines: Vec<String>, max: usize) -> Vec<String> {
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            last.push_str(" …");
        }
    }
    lines
}

/// The pages of a document being laid out.
#[derive(Debug, Default)]
pub struct Pages {
    pages: Vec<Vec<Mark>>,
}

impl Pages {
    /// Starts a new page; marks go on it from now on.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
    }

    /// How many pages there are.
    pub fn count(&self) -> usize {
        self.pages.len()
    }

    /// Places `text` with its baseline at `y`, starting or ending at `x`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, align: Align, text: &str) {
        if text.is_empty() {
            return;
        }
        let x = match align {
            Align::Left => x,
            Align::Right => x - width(text, size, weight),
        };
        self.current().push(Mark::Text {
            x,
            y,
            size,
            weight,
            text: text.to_owned(),
        });
    }

    /// A horizontal rule from `x`, `width` long.
    pub fn rule(&mut self, x: f32, y: f32, width: f32, thickness: f32) {
        self.current().push(Mark::Rule {
            x,
            y,
            width,
            thickness,
        });
    }

    /// Places a mark on page `index` (0-based), say a footer once the count is known.
    pub fn text_on(&mut self, index: usize, x: f32, y: f32, size: f32, align: Align, text: &str) {
        let x = match align {
            Align::Left => x,
            Align::Right => x - width(text, size, Weight::Regular),
        };
        if let Some(page) = self.pages.get_mut(index) {
            page.push(Mark::Text {
                x,
                y,
                size,
                weight: Weight::Regular,
                text: text.to_owned(),
            });
        }
    }

    fn current(&mut self) -> &mut Vec<Mark> {
        if self.pages.is_empty() {
            self.new_page();
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The PDF, titled `title`; with a Factur-X invoice, a PDF/A-3 carrying it.
    pub fn into_pdf(self, title: &str, factur_x: Option<&FacturX<'_>>) -> Result<Vec<u8>, String> {
        let fonts = fonts();
        let mut document = match factur_x {
            None => Document::new(),
            Some(_) => Document::new_with(SerializeSettings {
                configuration: ConfigurationBuilder::new()
                    .with_archival_validator(Archival::A3_B)
                    .finish()
                    .map_err(|error| format!("{error:?}"))?,
                ..SerializeSettings::default()
            }),
        };
        if let Some(factur_x) = factur_x {
            document
                .embed_file(factur_x.embedded_file())
                .ok_or("the Factur-X XML was embedded twice")?;
        }
        let metadata = Metadata::new()
            .title(title.to_owned())
            .creator("invoice-api".to_owned());
        document.set_metadata(match factur_x {
            None => metadata,
            Some(factur_x) => metadata.creation_date(factur_x.date()),
        });
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("bad page size".to_owned())?;
        for marks in self.pages {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            surface.set_fill(Some(Fill {
                paint: rgb::Color::new(20, 20, 20).into(),
                ..Fill::default()
            }));
            for mark in marks {
                match mark {
                    Mark::Text {
                        x,
                        y,
                        size,
                        weight,
                        text,
                    } => {
                        let mut x = x;
                        for (face, run) in runs(&text, weight) {
                            let font = fonts[face.0].clone();
                            surface.draw_text(
                                Point::from_xy(x, y),
                                font,
                                size,
                                run,
                                false,
                                TextDirection::Auto,
                            );
                            x += run_width(run, size, face);
                        }
                    }
                    Mark::Rule {
                        x,
                        y,
                        width,
                        thickness,
                    } => {
                        let mut path = PathBuilder::new();
                        if let Some(rect) = Rect::from_xywh(x, y, width, thickness) {
                            path.push_rect(rect);
                        }
                        if let Some(path) = path.finish() {
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        let pdf = document.finish().map_err(|error| format!("{error:?}"))?;
        match factur_x {
            None => Ok(pdf),
            Some(_) => facturx::declare(pdf),
        }
    }
}

fn face(face: Face) -> &'static rustybuzz::Face<'static> {
    static FACES: OnceLock<Vec<rustybuzz::Face<'static>>> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        DATA.iter()
            .map(|data| rustybuzz::Face::from_slice(data, 0).expect("an embedded font parses"))
            .collect()
    });
    &faces[face.0]
}

/// The embedded fonts for krilla, indexed by [`Face`].
fn fonts() -> &'static [Font] {
    static FONTS: OnceLock<Vec<Font>> = OnceLock::new();
    FONTS.get_or_init(|| {
        DATA.iter()
            .map(|data| Font::new((*data).into(), 0).expect("an embedded font parses"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_without_a_glyph_take_the_fallback_face() {
        assert_eq!(
            runs("Invoice 42", Weight::Bold),
            [(Face::BOLD, "Invoice 42")]
        );
        let mixed = runs("Seats 座席 한국어 ไทย हिन्दी x", Weight::Regular);
        let texts: Vec<&str> = mixed.iter().map(|(_, text)| *text).collect();
        assert_eq!(texts, ["Seats ", "座席 ", "한국어 ", "ไทย ", "हिन्दी ", "x"]);
        let faces: Vec<Face> = mixed.iter().map(|(face, _)| *face).collect();
        assert_eq!(faces[0], Face::REGULAR);
        assert_eq!(faces[5], Face::REGULAR);
        for index in 1..5 {
            assert!(faces[index].0 >= 2, "run {index} is in a fallback face");
            assert!(
                !faces[index + 1..5].contains(&faces[index]),
                "each script its own face"
            );
        }
        for text in [
            "座席",
            "한국어",
            "ไทย",
            "हिन्दी",
            "தமிழ்",
            "አማርኛ",
            "ខ្មែរ",
            "ঝ",
            "ಕ",
        ] {
            let covered = runs(text, Weight::Regular).iter().all(|(face, run)| {
                run.chars()
                    .all(|c| self::face(*face).glyph_index(c).is_some())
            });
            assert!(covered, "{text} has a glyph for every character");
        }
        assert!(width("座席", 10.0, Weight::Regular) > 10.0);
    }

    #[test]
    fn wider_text_measures_wider_and_wraps_within_the_width() {
        assert!(width("WWWW", 10.0, Weight::Regular) > width("iiii", 10.0, Weight::Regular));
        assert!(width("Total", 10.0, Weight::Bold) > width("Total", 10.0, Weight::Regular));
        let text = "A description long enough to need three lines at this width, surely";
        let lines = wrap(text, 9.0, Weight::Regular, 120.0);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|line| width(line, 9.0, Weight::Regular) <= 120.0)
        );
        assert_eq!(lines.join(" "), text);
        let word = "x".repeat(200);
        let cut = wrap(&word, 9.0, Weight::Regular, 100.0);
        assert!(cut.len() > 1);
        assert_eq!(cut.concat(), word);
        // Zero-width characters neither loop nor cost more than their number.
        let hostile = format!("{}{}", "\u{200B}".repeat(4_000), "W".repeat(2_500));
        let started = std::time::Instant::now();
        let lines = wrap(&hostile, 9.0, Weight::Regular, 400.0);
        assert_eq!(lines.concat(), hostile);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "a hang guard only"
        );
        assert_eq!(
            at_most(vec!["a".into(), "b".into(), "c".into()], 2),
            ["a", "b …"]
        );
    }
}
