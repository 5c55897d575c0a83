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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    organization_id: String,
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

    #[test]
    fn a_signed_token_names_its_organization() {
        let verifier = JwtVerifier::new(b"secret");
        let jwt = token(
            json!({"organizationId": "org_1", "exp": in_an_hour()}),
            b"secret",
            Algorithm::HS256,
        );
        let caller = verifier.verify(&jwt).unwrap();
        assert_eq!(caller.organization_id.as_str(), "org_1");
        assert_eq!(caller.permissions, Permissions::ALL);
        let restricted = token(
            json!({"organizationId": "org_1", "exp": in_an_hour(),
                   "permissions": ["GetInvoice", "SomethingElse"]}),
            b"secret",
            Algorithm::HS256,
        );
        assert_eq!(
            verifier.verify(&restricted).unwrap().permissions.names(),
            ["GetInvoice"]
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
