//! Pages of placed text and rules, measured with the embedded font, then written as a PDF by
//! krilla, which embeds only the glyphs used (a subset of the font).
//!
//! Laying out first and drawing afterwards is what lets every page say "page N of M".

use std::sync::OnceLock;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};

/// A4, in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
/// The margin on every side.
pub const MARGIN: f32 = 48.0;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/`): Latin, Greek, Cyrillic, Arabic,
/// Hebrew and more in one face.
static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
/// Droid Sans Fallback (Apache 2.0, `assets/fonts/`): Chinese and Japanese (Han, kana) and
/// more, for the characters DejaVu Sans has no glyph for.
static HAN: &[u8] = include_bytes!("../../assets/fonts/DroidSansFallbackFull.ttf");
/// Nanum Gothic (SIL Open Font License, `assets/fonts/`): Korean Hangul, which neither face
/// above has.
static HANGUL: &[u8] = include_bytes!("../../assets/fonts/NanumGothic.ttf");

/// The face a run of text is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Han,
    Hangul,
}

/// The faces tried, in order, for a character the weight's own face lacks.
const FALLBACKS: [Face; 2] = [Face::Han, Face::Hangul];

impl From<Weight> for Face {
    fn from(weight: Weight) -> Self {
        match weight {
            Weight::Regular => Self::Regular,
            Weight::Bold => Self::Bold,
        }
    }
}

/// `text` cut where it changes face: each character in `weight`'s face when that has a
/// glyph for it, else in the first of [`FALLBACKS`] that has one. Spaces and controls stay
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
            FALLBACKS
                .into_iter()
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
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, weight) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for character in word.chars() {
                line.push(character);
                if width(&line, size, weight) > max_width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, character.to_string()));
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
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

    /// The PDF, titled `title`.
    pub fn into_pdf(self, title: &str) -> Result<Vec<u8>, String> {
        let fonts = fonts();
        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(title.to_owned())
                .creator("invoice-api".to_owned()),
        );
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
                            let font = fonts[face as usize].clone();
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
        document.finish().map_err(|error| format!("{error:?}"))
    }
}

/// The embedded fonts' data, indexed by [`Face`].
const DATA: [&[u8]; 4] = [REGULAR, BOLD, HAN, HANGUL];

fn face(face: Face) -> &'static rustybuzz::Face<'static> {
    static FACES: OnceLock<Vec<rustybuzz::Face<'static>>> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        DATA.iter()
            .map(|data| rustybuzz::Face::from_slice(data, 0).expect("an embedded font parses"))
            .collect()
    });
    &faces[face as usize]
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
            [(Face::Bold, "Invoice 42")]
        );
        assert_eq!(
            runs("Seats 座席 한국어 x", Weight::Regular),
            [
                (Face::Regular, "Seats "),
                (Face::Han, "座席 "),
                (Face::Hangul, "한국어 "),
                (Face::Regular, "x")
            ]
        );
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
    }
}
