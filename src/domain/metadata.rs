//! Metadata: a client's own key-value pairs on an object, with Stripe's limits, and the
//! changes an update asks for.

use std::collections::BTreeMap;

/// The most keys an object's metadata holds.
pub const MAX_KEYS: usize = 50;
/// The most characters of a key.
pub const MAX_KEY_CHARS: usize = 40;
/// The most characters of a value.
pub const MAX_VALUE_CHARS: usize = 500;

/// Key-value pairs, ordered by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Metadata(BTreeMap<String, String>);

/// Why metadata breaks its limits; the key named is the one at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// More than [`MAX_KEYS`] keys.
    #[error("may have at most {MAX_KEYS} keys")]
    TooManyKeys,
    /// An empty key.
    #[error("keys must not be empty")]
    EmptyKey,
    /// A key of more than [`MAX_KEY_CHARS`] characters.
    #[error("keys must be at most {MAX_KEY_CHARS} characters")]
    KeyTooLong(String),
    /// A key with `[` or `]`, which bracket notation could not name.
    #[error("keys must not contain square brackets")]
    KeyWithBracket(String),
    /// A value of more than [`MAX_VALUE_CHARS`] characters.
    #[error("values must be at most {MAX_VALUE_CHARS} characters")]
    ValueTooLong(String),
}

/// What a request asks of an object's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataChange {
    /// Remove every key (Stripe's `metadata=""`).
    Clear,
    /// Set each key to its value; a key without one (an empty value) is removed.
    Merge(Vec<(String, Option<String>)>),
}

impl Metadata {
    /// The pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The metadata after `change`, within the limits.
    pub fn changed(&self, change: MetadataChange) -> Result<Self, MetadataError> {
        let pairs = match change {
            MetadataChange::Clear => return Ok(Self::default()),
            MetadataChange::Merge(pairs) => pairs,
        };
        let mut changed = self.0.clone();
        for (key, value) in pairs {
            check_key(&key)?;
            match value {
                None => {
                    changed.remove(&key);
                }
                Some(value) if value.chars().count() > MAX_VALUE_CHARS => {
                    return Err(MetadataError::ValueTooLong(key));
                }
                Some(value) => {
                    changed.insert(key, value);
                }
            }
        }
        if changed.len() > MAX_KEYS {
            return Err(MetadataError::TooManyKeys);
        }
        Ok(Self(changed))
    }
}

fn check_key(key: &str) -> Result<(), MetadataError> {
    if key.is_empty() {
        Err(MetadataError::EmptyKey)
    } else if key.chars().count() > MAX_KEY_CHARS {
        Err(MetadataError::KeyTooLong(key.to_owned()))
    } else if key.contains(['[', ']']) {
        Err(MetadataError::KeyWithBracket(key.to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(pairs: &[(&str, Option<&str>)]) -> MetadataChange {
        MetadataChange::Merge(
            pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.map(str::to_owned)))
                .collect(),
        )
    }

    #[test]
    fn a_merge_sets_and_an_empty_value_removes() {
        let first = Metadata::default()
            .changed(merge(&[("order", Some("42")), ("note", Some("x"))]))
            .unwrap();
        let second = first
            .changed(merge(&[("note", None), ("order", Some("43"))]))
            .unwrap();
        assert_eq!(second.iter().collect::<Vec<_>>(), [("order", "43")]);
        assert!(second.changed(MetadataChange::Clear).unwrap().is_empty());
    }

    #[test]
    fn stripes_limits_hold_counted_in_characters() {
        let keys: Vec<String> = (0..MAX_KEYS).map(|n| format!("k{n}")).collect();
        let full = Metadata::default()
            .changed(MetadataChange::Merge(
                keys.iter()
                    .map(|key| (key.clone(), Some("v".to_owned())))
                    .collect(),
            ))
            .unwrap();
        assert_eq!(
            full.changed(merge(&[("one-more", Some("v"))])),
            Err(MetadataError::TooManyKeys)
        );
        assert!(
            full.changed(merge(&[("k0", None), ("one-more", Some("v"))]))
                .is_ok()
        );
        let long_key = "é".repeat(MAX_KEY_CHARS);
        assert!(
            Metadata::default()
                .changed(merge(&[(&long_key, Some("v"))]))
                .is_ok()
        );
        let longer_key = "é".repeat(MAX_KEY_CHARS + 1);
        assert_eq!(
            Metadata::default().changed(merge(&[(&longer_key, Some("v"))])),
            Err(MetadataError::KeyTooLong(longer_key))
        );
        let value = "é".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(
            Metadata::default().changed(merge(&[("k", Some(&value))])),
            Err(MetadataError::ValueTooLong("k".to_owned()))
        );
        assert_eq!(
            Metadata::default().changed(merge(&[("a[b]", Some("v"))])),
            Err(MetadataError::KeyWithBracket("a[b]".to_owned()))
        );
        assert_eq!(
            Metadata::default().changed(merge(&[("", Some("v"))])),
            Err(MetadataError::EmptyKey)
        );
    }
}
