//! Idempotency keys: a client's name for one POST, so that a retry of it is answered with the
//! first answer instead of doing the work again.

use std::time::Duration;

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::ids::OrganizationId;

/// How long a key is kept: a retry within this time of the first request is answered from it.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// An idempotency key: 1 to 255 printable ASCII characters (space included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The message for a header that is not a key.
    pub const RULE: &str = "must be 1 to 255 printable ASCII characters";

    /// Checks a header value.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let printable = value.iter().all(|byte| (b' '..=b'~').contains(byte));
        (printable && (1..=255).contains(&value.len()))
            .then(|| Self(String::from_utf8_lossy(value).into_owned()))
    }

    /// The key as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A 64-bit name for the key within its organization, for a lock that serialises the
    /// requests made with it. Two keys sharing one (a 1 in 2^64 chance) would only see a 409
    /// while the other is running.
    pub fn lock_id(&self, organization_id: &OrganizationId) -> i64 {
        let digest = Sha256::new()
            .chain_update(organization_id.as_str())
            .chain_update([0])
            .chain_update(&self.0)
            .finalize();
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }
}

/// What a POST was: a retry must repeat its path and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFingerprint {
    /// The request path.
    pub path: String,
    /// SHA-256 of the body as parsed JSON written canonically, if it had a body.
    pub body_sha256: Option<[u8; 32]>,
}

impl RequestFingerprint {
    /// The fingerprint of a request to `path` with `body` (`None` when it had none).
    pub fn new(path: &str, body: Option<&CanonicalBody>) -> Self {
        Self {
            path: path.to_owned(),
            body_sha256: body.map(|body| Sha256::digest(&body.0).into()),
        }
    }
}

/// A request body written so that two bodies that mean the same are the same bytes, however
/// their dialect lets them be spelled. Each dialect writes its own body format's form; the
/// fingerprint hashes the bytes alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalBody(Vec<u8>);

impl CanonicalBody {
    /// JSON text's canonical form. Bodies equal as JSON values have equal forms: key order,
    /// spacing, string escapes and the spelling of numbers (`100`, `1e2`, `100.0`) aside,
    /// compared digit by digit, never through a float.
    pub fn of_json(text: &str) -> Self {
        let mut canonical = String::new();
        // Text that has no canonical form (nested too deep, an exponent beyond 128 bits)
        // stands for itself, marked so that it cannot pass for the canonical form of another
        // body, which always starts with `{`. Canonical forms are unmarked, as the keys kept
        // before the mark existed were hashed.
        if write_canonical(text, &mut canonical, 0).is_some() {
            Self(canonical.into_bytes())
        } else {
            Self(format!("text:{text}").into_bytes())
        }
    }
}

/// The deepest nesting the canonical form is written for. Bodies are refused well before it
/// (`http::json_shape::MAX_DEPTH`); this bound keeps the walk finite whoever calls it.
const MAX_CANONICAL_DEPTH: usize = 64;

/// Writes JSON `text` canonically: object keys sorted, no spacing, strings as serde_json
/// escapes them, numbers as [`canonical_number`]. `None` if the text is not JSON or nests
/// deeper than [`MAX_CANONICAL_DEPTH`]; `depth` is how deep `text` already is.
fn write_canonical(text: &str, out: &mut String, depth: usize) -> Option<()> {
    if depth > MAX_CANONICAL_DEPTH {
        return None;
    }
    let text = text.trim();
    match text.as_bytes().first()? {
        b'{' => {
            let object: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text).ok()?;
            out.push('{');
            for (index, (name, value)) in object.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(name).ok()?);
                out.push(':');
                write_canonical(value.get(), out, depth + 1)?;
            }
            out.push('}');
        }
        b'[' => {
            let values: Vec<Box<RawValue>> = serde_json::from_str(text).ok()?;
            out.push('[');
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(value.get(), out, depth + 1)?;
            }
            out.push(']');
        }
        b'"' => {
            let string: String = serde_json::from_str(text).ok()?;
            out.push_str(&serde_json::to_string(&string).ok()?);
        }
        b'-' | b'0'..=b'9' => out.push_str(&canonical_number(text)?),
        _ => out.push_str(text),
    }
    Some(())
}

/// A JSON number as `[-]digits e exponent`, without leading or trailing zeros: `100`, `1e2`,
/// `100.0` and `0.1e3` all become `1e2`; zero is `0`. Exact: only the digits are moved. The
/// exponent is worked out in 128 bits with checked arithmetic; one that does not fit, or whose
/// sum with the digits moved does not, has no canonical form (`None`).
fn canonical_number(text: &str) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i128>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some("0".to_owned());
    }
    let kept = significant.trim_end_matches('0');
    let dropped_zeros = i128::try_from(significant.len() - kept.len()).ok()?;
    let fraction_digits = i128::try_from(fraction.len()).ok()?;
    let exponent = exponent
        .checked_sub(fraction_digits)?
        .checked_add(dropped_zeros)?;
    Some(format!(
        "{}{kept}e{exponent}",
        if negative { "-" } else { "" }
    ))
}

/// The first answer to a POST, kept to answer its retries with the same status, headers and
/// bytes, whichever dialect gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status, below 500.
    pub status: u16,
    /// The headers that describe the answer (`Content-Type`, `Location`, `ETag`), as
    /// (lower-case name, value) in the order they were sent.
    pub headers: Vec<(String, String)>,
    /// The body's bytes, as the handler made them: per-request fields that an edge adds to
    /// every answer after the handler (a problem's `instance` and `requestId`) are not in it.
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_some());
        assert!(IdempotencyKey::parse(b"order 42 / retry-safe ~").is_some());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_some());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_none());
        assert!(IdempotencyKey::parse(b"").is_none());
        assert!(IdempotencyKey::parse(b"tab\there").is_none());
        assert!(IdempotencyKey::parse("café".as_bytes()).is_none());
    }

    #[test]
    fn fingerprints_compare_bodies_as_json_values() {
        let of = |path: &str, body: &str| {
            RequestFingerprint::new(path, Some(&CanonicalBody::of_json(body)))
        };
        let first = of("/invoices", r#"{"a": 1, "b": {"y": [1, 2], "x": "s"}}"#);
        assert_eq!(first, of("/invoices", r#"{"b":{"x":"s","y":[1,2]},"a":1}"#));
        assert_eq!(
            first,
            of(
                "/invoices",
                r#"{"a": 1.0, "b": {"y": [1e0, 0.2E1], "x": "\u0073"}}"#
            )
        );
        assert_ne!(
            first,
            of("/invoices", r#"{"a": 2, "b": {"y": [1, 2], "x": "s"}}"#)
        );
        assert_ne!(
            first,
            of("/invoices", r#"{"a": 1, "b": {"y": [2, 1], "x": "s"}}"#)
        );
        assert_ne!(
            first,
            of("/products", r#"{"a": 1, "b": {"y": [1, 2], "x": "s"}}"#)
        );
        assert_ne!(of("/x", r#"{"a": "1"}"#), of("/x", r#"{"a": 1}"#));
        // Digits beyond a float's precision still count.
        assert_ne!(
            of("/x", r#"{"p": 0.1}"#),
            of("/x", r#"{"p": 0.10000000000000000001}"#)
        );
        assert_ne!(
            of("/x", r#"{"n": 18446744073709551616}"#),
            of("/x", r#"{"n": 18446744073709551617}"#)
        );
        assert_eq!(RequestFingerprint::new("/x", None).body_sha256, None);
    }

    #[test]
    fn a_json_body_hashes_as_its_canonical_text_as_keys_kept_earlier_did() {
        let fingerprint =
            RequestFingerprint::new("/x", Some(&CanonicalBody::of_json(r#"{"b": 1, "a": 2.0}"#)));
        let kept: [u8; 32] = Sha256::digest(br#"{"a":2e0,"b":1e0}"#).into();
        assert_eq!(fingerprint.body_sha256, Some(kept));
    }

    #[test]
    fn numbers_are_written_as_digits_and_an_exponent() {
        for (text, canonical) in [
            ("100", "1e2"),
            ("1e2", "1e2"),
            ("100.0", "1e2"),
            ("0.1e3", "1e2"),
            ("19.99", "1999e-2"),
            ("-0.050", "-5e-2"),
            ("0", "0"),
            ("-0.0e5", "0"),
            ("7", "7e0"),
        ] {
            assert_eq!(canonical_number(text).as_deref(), Some(canonical), "{text}");
        }
    }

    #[test]
    fn huge_exponents_neither_wrap_nor_collide() {
        let of = |body: &str| RequestFingerprint::new("/x", Some(&CanonicalBody::of_json(body)));
        assert_ne!(
            of(r#"{"p": 1e9223372036854775807}"#),
            of(r#"{"p": 0.1e-9223372036854775808}"#)
        );
        assert_eq!(
            canonical_number("0.1e-9223372036854775808").as_deref(),
            Some("1e-9223372036854775809")
        );
        let beyond = format!("1e{}", "9".repeat(40));
        assert_eq!(canonical_number(&beyond), None);
        assert_ne!(
            of(&format!(r#"{{"p": {beyond}}}"#)),
            of(&format!(r#"{{"p": 1{beyond}}}"#))
        );
    }

    #[test]
    fn a_body_nested_past_the_bound_still_has_a_fingerprint() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let fingerprint = RequestFingerprint::new("/x", Some(&CanonicalBody::of_json(&deep)));
        assert!(fingerprint.body_sha256.is_some());
        assert_ne!(
            fingerprint,
            RequestFingerprint::new("/x", Some(&CanonicalBody::of_json("[]")))
        );
    }

    #[test]
    fn lock_ids_differ_by_organization_and_key() {
        let key = IdempotencyKey::parse(b"k1").unwrap();
        let other_key = IdempotencyKey::parse(b"k2").unwrap();
        let org = OrganizationId::parse("org_a").unwrap();
        let other_org = OrganizationId::parse("org_b").unwrap();
        assert_eq!(key.lock_id(&org), key.lock_id(&org));
        assert_ne!(key.lock_id(&org), key.lock_id(&other_org));
        assert_ne!(key.lock_id(&org), other_key.lock_id(&org));
    }
}
