//! Bearer tokens: HS256 JWTs naming an organization.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

use crate::domain::ids::OrganizationId;

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    organization_id: String,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Past its `exp`.
    #[error("the bearer token has expired")]
    Expired,
    /// Bad signature, bad shape, wrong algorithm or missing claims.
    #[error("the bearer token is invalid")]
    Invalid,
}

impl JwtVerifier {
    /// A verifier for tokens signed with `secret`. Only HS256 is accepted, so a token cannot
    /// pick its own algorithm; `exp` is required.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = 0;
        Self {
            key: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The organization a valid token speaks for.
    pub fn verify(&self, token: &str) -> Result<OrganizationId, TokenError> {
        let data =
            decode::<Claims>(token, &self.key, &self.validation).map_err(|error| {
                match error.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        OrganizationId::parse(&data.claims.organization_id).map_err(|_| TokenError::Invalid)
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

    #[test]
    fn a_signed_token_names_its_organization() {
        let verifier = JwtVerifier::new(b"secret");
        let jwt = token(
            json!({"organizationId": "org_1", "exp": in_an_hour()}),
            b"secret",
            Algorithm::HS256,
        );
        assert_eq!(
            verifier.verify(&jwt).map(|id| id.to_string()),
            Ok("org_1".to_owned())
        );
    }

    #[test]
    fn bad_tokens_are_refused() {
        let verifier = JwtVerifier::new(b"secret");
        let past = chrono::Utc::now().timestamp() - 10;
        let cases = [
            (
                token(
                    json!({"organizationId": "org_1", "exp": past}),
                    b"secret",
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
                    b"secret",
                    Algorithm::HS384,
                ),
                TokenError::Invalid,
            ),
            (
                token(
                    json!({"organizationId": "org_1"}),
                    b"secret",
                    Algorithm::HS256,
                ),
                TokenError::Invalid,
            ),
            (
                token(json!({"exp": in_an_hour()}), b"secret", Algorithm::HS256),
                TokenError::Invalid,
            ),
            (
                token(
                    json!({"organizationId": "bad id", "exp": in_an_hour()}),
                    b"secret",
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
