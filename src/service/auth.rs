//! Bearer tokens: HS256 JWTs naming an organization.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

use crate::domain::ids::OrganizationId;
use crate::domain::permission::Permissions;

/// Checks HS256 tokens signed with the server's `JWT_SECRET`.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtVerifier { .. }")
    }
}

/// The shortest `JWT_SECRET`: an HMAC key shorter than its hash (SHA-256's 32 bytes) can be
/// guessed, and with it a token forged for any organization.
pub const MIN_SECRET_BYTES: usize = 32;

/// How far ahead of ours an issuer's clock may run: a token's `iat` and `nbf` may lie this far
/// in the future. (`exp` has no leeway: a token past it is refused at once.)
const CLOCK_SKEW_SECS: f64 = 60.0;

/// A `JWT_SECRET` too short to sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be at least {MIN_SECRET_BYTES} bytes (it has {0}): a shorter HMAC key can be guessed, and with it a token forged for any organization"
)]
pub struct WeakSecret(pub usize);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    organization_id: String,
    /// When the token was issued (Unix seconds; NumericDate may have a fraction).
    iat: Option<f64>,
    /// When the token becomes valid (Unix seconds).
    nbf: Option<f64>,
    /// Rebilly operation ids; absent means every operation.
    permissions: Option<Vec<String>>,
}

/// Whom a credential speaks for, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The organization every row it reads or writes belongs to.
    pub organization_id: OrganizationId,
    /// The operations it may call.
    pub permissions: Permissions,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("the bearer token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    /// Bad signature, bad shape, wrong algorithm or missing claims.
    #[error("the bearer token is invalid")]
    Invalid,
}

impl JwtVerifier {
    /// A verifier for tokens signed with `secret`, of at least [`MIN_SECRET_BYTES`]. Only
    /// HS256 is accepted, so a token cannot pick its own algorithm; `exp` is required, and a
    /// token whose `nbf` or `iat` is more than a minute ahead is refused.
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        // `nbf` is checked below, with the same skew as `iat`.
        validation.validate_nbf = false;
        validation.leeway = 0;
        Ok(Self {
            key: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// Whom a valid token speaks for; its `permissions` claim (operation ids this server does
    /// not know are left out) restricts it, and without the claim it may do everything.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let data =
            decode::<Claims>(token, &self.key, &self.validation).map_err(|error| {
                match error.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let latest = chrono::Utc::now().timestamp() as f64 + CLOCK_SKEW_SECS;
        if data.claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(TokenError::NotYetValid);
        }
        // A token that says it was issued in the future was not made by a sound issuer.
        if data.claims.iat.is_some_and(|iat| iat > latest) {
            return Err(TokenError::Invalid);
        }
        let organization_id =
            OrganizationId::parse(&data.claims.organization_id).map_err(|_| TokenError::Invalid)?;
        let permissions = data.claims.permissions.map_or(Permissions::ALL, |names| {
            Permissions::parse_known(names.iter().map(String::as_str))
        });
        Ok(Caller {
            organization_id,
            permissions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    fn token(claims: serde_json::Value, secret: &[u8], algorithm: Algorithm) -> String {
        encode(
            &Header::new(algorithm),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    fn in_an_hour() -> i64 {
        chrono::Utc::now().timestamp() + 3600
    }

    const SECRET: &[u8] = b"a-secret-of-thirty-two-bytes-or-more";

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(JwtVerifier::new(b"").err(), Some(WeakSecret(0)));
        assert_eq!(JwtVerifier::new(&[b'k'; 31]).err(), Some(WeakSecret(31)));
        assert!(JwtVerifier::new(&[b'k'; 32]).is_ok());
    }

    #[test]
    fn a_signed_token_names_its_organization() {
        let verifier = JwtVerifier::new(SECRET).unwrap();
        let jwt = token(
            json!({"organizationId": "org_1", "exp": in_an_hour()}),
            SECRET,
            Algorithm::HS256,
        );
        let caller = verifier.verify(&jwt).unwrap();
        assert_eq!(caller.organization_id.as_str(), "org_1");
        let with_times = token(
            json!({"organizationId": "org_1", "exp": in_an_hour(),
                   "iat": chrono::Utc::now().timestamp() + 5, "nbf": chrono::Utc::now().timestamp() - 5}),
            SECRET,
            Algorithm::HS256,
        );
        assert!(
            verifier.verify(&with_times).is_ok(),
            "a few seconds of skew are fine"
        );
        let fractional = token(
            json!({"organizationId": "org_1", "exp": in_an_hour(),
                   "iat": chrono::Utc::now().timestamp() as f64 + 0.25,
                   "nbf": chrono::Utc::now().timestamp() as f64 + 2.5}),
            SECRET,
            Algorithm::HS256,
        );
        assert!(
            verifier.verify(&fractional).is_ok(),
            "NumericDate may have a fraction, and nbf a little skew"
        );
        assert_eq!(caller.permissions, Permissions::ALL);
        let restricted = token(
            json!({"organizationId": "org_1", "exp": in_an_hour(),
                   "permissions": ["GetInvoice", "SomethingElse"]}),
            SECRET,
            Algorithm::HS256,
        );
        assert_eq!(
            verifier.verify(&restricted).unwrap().permissions.names(),
            ["GetInvoice"]
        );
    }

    #[test]
    fn bad_tokens_are_refused() {
        let verifier = JwtVerifier::new(SECRET).unwrap();
        let now = chrono::Utc::now().timestamp();
        let past = now - 10;
        let cases = [
            (
                token(
                    json!({"organizationId": "org_1", "exp": past}),
                    SECRET,
                    Algorithm::HS256,
                ),
                TokenError::Expired,
            ),
            (
                token(
                    json!({"organizationId": "org_1", "exp": in_an_hour()}),
                    b"other",
                    Algorithm::HS256,
                ),
                TokenError::Invalid,
            ),
            (
                token(
                    json!({"organizationId": "org_1", "exp": in_an_hour()}),
                    SECRET,
                    Algorithm::HS384,
                ),
                TokenError::Invalid,
            ),
            (
                token(json!({"organizationId": "org_1"}), SECRET, Algorithm::HS256),
                TokenError::Invalid,
            ),
            (
                token(json!({"exp": in_an_hour()}), SECRET, Algorithm::HS256),
                TokenError::Invalid,
            ),
            (
                token(
                    json!({"organizationId": "bad id", "exp": in_an_hour()}),
                    SECRET,
                    Algorithm::HS256,
                ),
                TokenError::Invalid,
            ),
            (
                token(
                    json!({"organizationId": "org_1", "exp": in_an_hour(), "nbf": now + 600}),
                    SECRET,
                    Algorithm::HS256,
                ),
                TokenError::NotYetValid,
            ),
            (
                token(
                    json!({"organizationId": "org_1", "exp": in_an_hour(), "iat": now + 600}),
                    SECRET,
                    Algorithm::HS256,
                ),
                TokenError::Invalid,
            ),
            ("not.a.token".to_owned(), TokenError::Invalid),
        ];
        for (jwt, expected) in cases {
            assert_eq!(verifier.verify(&jwt), Err(expected), "{jwt}");
        }
    }
}
