//! Idempotency keys: a client's name for one POST, so that a retry of it is answered with the
//! first answer instead of doing the work again.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ids::OrganizationId;

/// How long a key is kept: a retry within this time of the first request is answered from it.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// An `Idempotency-Key`: 1 to 255 printable ASCII characters (space included).
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
    /// requests made with it. Two keys sharing one only wait on each other's lock.
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
    /// The fingerprint of a request to `path` with `body`. Bodies equal as parsed JSON (key
    /// order and spacing aside) have equal fingerprints.
    pub fn new(path: &str, body: Option<&Value>) -> Self {
        Self {
            path: path.to_owned(),
            body_sha256: body.map(|body| {
                let mut canonical = String::new();
                write_canonical(body, &mut canonical);
                Sha256::digest(canonical.as_bytes()).into()
            }),
        }
    }
}

/// JSON text with object keys sorted and no spacing; strings and numbers as serde_json writes
/// them.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<_> = object.iter().collect();
            entries.sort_by_key(|(name, _)| *name);
            out.push('{');
            for (index, (name, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(values) => {
            out.push('[');
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(value, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The first answer to a POST, kept to answer its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status, below 500.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The body: the resource's JSON, or the problem JSON without `instance` and `requestId`,
    /// which belong to each request.
    pub body: String,
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
    fn fingerprints_compare_bodies_as_parsed_json() {
        let body = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        let of = |path: &str, text: &str| RequestFingerprint::new(path, Some(&body(text)));
        let first = of("/invoices", r#"{"a": 1, "b": {"y": [1, 2], "x": "s"}}"#);
        assert_eq!(first, of("/invoices", r#"{"b":{"x":"s","y":[1,2]},"a":1}"#));
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
        assert_eq!(RequestFingerprint::new("/x", None).body_sha256, None);
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
