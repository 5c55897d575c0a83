//! Texts bounded in length, and what makes a text look blank.

/// The characters a text may be made of and still show nothing, as ranges: white space as
/// JSON Schema's `\s` knows it and NEL, and the invisible format characters (soft hyphen,
/// zero-width spaces and joiners, direction marks, the byte order mark, variation selectors,
/// Hangul fillers). The contract's pattern for text that must not be blank is built from them.
pub const BLANK: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{ad}', '\u{ad}'),
    ('\u{34f}', '\u{34f}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{2000}', '\u{200f}'),
    ('\u{2028}', '\u{202f}'),
    ('\u{205f}', '\u{206f}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ffa0}', '\u{ffa0}'),
];

/// Whether a text shows nothing: empty, or only [`BLANK`] characters.
pub fn looks_blank(text: &str) -> bool {
    text.chars().all(|character| {
        BLANK
            .iter()
            .any(|&(low, high)| (low..=high).contains(&character))
    })
}

/// A text of at most `MAX` characters (not bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText<const MAX: usize>(String);

impl<const MAX: usize> BoundedText<MAX> {
    /// The most characters.
    pub const MAX_CHARS: usize = MAX;

    /// Accepts a text of at most `MAX` characters.
    pub fn parse(value: String) -> Result<Self, String> {
        if value.chars().count() > MAX {
            Err(format!("must be at most {MAX} characters"))
        } else {
            Ok(Self(value))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_and_other_invisible_text_looks_blank() {
        for blank in [
            "",
            " \t\n",
            "\u{200b}\u{200b}",
            "\u{feff}\u{2060}\u{ad}",
            "\u{3000}\u{85}",
        ] {
            assert!(looks_blank(blank), "{blank:?}");
        }
        for shown in ["a", " x ", "\u{200b}1", "\u{1f600}"] {
            assert!(!looks_blank(shown), "{shown:?}");
        }
    }
}
