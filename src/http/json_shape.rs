//! A first pass over a JSON body before any parser sees it: one loop over the bytes with an
//! explicit stack, so no input can make it recurse. It refuses nesting deeper than
//! [`MAX_DEPTH`] and finds object keys given twice, which serde would otherwise settle by
//! keeping the last one: a proxy that checked the first value must not be fooled by the second.
//!
//! It does not check syntax; the parser after it does. Nesting too deep is refused before the
//! parser runs (the depth is counted on any text); keys given twice are only acted on once the
//! parser has accepted the body, since on text that is not JSON they mean nothing.

use std::collections::HashSet;

/// The deepest nesting of objects and arrays a body may have. Our deepest request is three
/// levels (`discounts.1.value`); 32 leaves room for any client's metadata.
pub const MAX_DEPTH: usize = 32;

/// The most keys given twice that are named; a body made of nothing else names these.
pub const MAX_DUPLICATES_NAMED: usize = 20;

/// What the pass found wrong with a body's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Keys given more than once, by their dot paths (`tax.amount`, `discounts.1.value`), at
    /// most [`MAX_DUPLICATES_NAMED`] of them.
    DuplicateKeys(Vec<String>),
}

enum Frame {
    Object {
        keys: HashSet<String>,
        /// The key whose value is being read, once read.
        current: Option<String>,
        expects_key: bool,
    },
    Array {
        index: usize,
    },
}

/// Checks the nesting depth and the uniqueness of keys of `bytes`.
pub fn check(bytes: &[u8]) -> Result<(), ShapeError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut duplicates = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = string_end(bytes, at);
                if let Some(Frame::Object {
                    keys,
                    current,
                    expects_key: expects_key @ true,
                }) = stack.last_mut()
                {
                    // Keys compare as the strings they spell: `"a"` and `"\u0061"` are one key.
                    let key: String = serde_json::from_slice(&bytes[at..end]).unwrap_or_default();
                    let repeated = !keys.insert(key.clone());
                    *current = Some(key);
                    *expects_key = false;
                    if repeated && duplicates.len() < MAX_DUPLICATES_NAMED {
                        duplicates.push(path_of(&stack));
                    }
                }
                at = end;
                continue;
            }
            b'{' | b'[' => {
                if stack.len() == MAX_DEPTH {
                    return Err(ShapeError::TooDeep);
                }
                stack.push(if bytes[at] == b'{' {
                    Frame::Object {
                        keys: HashSet::new(),
                        current: None,
                        expects_key: true,
                    }
                } else {
                    Frame::Array { index: 0 }
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { expects_key, .. }) => *expects_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        at += 1;
    }
    if duplicates.is_empty() {
        Ok(())
    } else {
        Err(ShapeError::DuplicateKeys(duplicates))
    }
}

/// The index just past the string that starts at `start` (a `"`), or the end of the text.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The dot path of the key being read in the innermost object of `stack`.
fn path_of(stack: &[Frame]) -> String {
    let segments: Vec<String> = stack
        .iter()
        .map(|frame| match frame {
            Frame::Object { current, .. } => current.clone().unwrap_or_default(),
            Frame::Array { index } => index.to_string(),
        })
        .collect();
    segments.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted_and_deeper_is_refused() {
        assert_eq!(check(nested(MAX_DEPTH).as_bytes()), Ok(()));
        assert_eq!(
            check(nested(MAX_DEPTH + 1).as_bytes()),
            Err(ShapeError::TooDeep)
        );
        let deep_object = format!("{}1{}", r#"{"a":"#.repeat(40), "}".repeat(40));
        assert_eq!(check(deep_object.as_bytes()), Err(ShapeError::TooDeep));
        // Ten thousand levels cost one loop, not ten thousand stack frames.
        assert_eq!(check(nested(10_000).as_bytes()), Err(ShapeError::TooDeep));
    }

    #[test]
    fn brackets_and_quotes_inside_strings_are_text() {
        let body = format!(
            r#"{{"description": "{} \" {{ \\", "b": 1}}"#,
            "[".repeat(100)
        );
        assert_eq!(check(body.as_bytes()), Ok(()));
    }

    #[test]
    fn keys_given_twice_are_named_by_their_paths() {
        assert_eq!(
            check(br#"{"unitPrice": 1, "unitPrice": 1000}"#),
            Err(ShapeError::DuplicateKeys(vec!["unitPrice".to_owned()]))
        );
        assert_eq!(
            check(br#"{"tax": {"amount": 1, "\u0061mount": 2}}"#),
            Err(ShapeError::DuplicateKeys(vec!["tax.amount".to_owned()]))
        );
        assert_eq!(
            check(br#"{"discounts": [{"value": 1}, {"type": "fixed", "value": 1, "value": 2}]}"#),
            Err(ShapeError::DuplicateKeys(vec![
                "discounts.1.value".to_owned()
            ]))
        );
        let many = format!("{{{}}}", vec![r#""a": 1"#; 10_000].join(","));
        let Err(ShapeError::DuplicateKeys(named)) = check(many.as_bytes()) else {
            panic!("expected duplicates");
        };
        assert_eq!(named.len(), MAX_DUPLICATES_NAMED);
        // The same key in different objects, or as a value, is no duplicate.
        assert_eq!(
            check(br#"{"a": {"x": 1}, "b": {"x": "a"}, "c": [{"x": 1}, {"x": 2}]}"#),
            Ok(())
        );
    }
}
