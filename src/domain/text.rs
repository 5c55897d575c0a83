//! Texts bounded in length.

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
