//! Who is calling on `/v1`: the secret key as an HTTP Basic user name (Stripe's scheme, with
//! an empty password) or as `Authorization: Bearer <key>`; a bearer JWT is accepted too, as on
//! the Rebilly routes. The same keys, organizations, permissions and write limits serve both
//! dialects. `Stripe-Account` may name the caller's own organization, and only it.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderName, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::StripeError;
use crate::http::auth::{Principal, admit, credential_header, verify_bearer};
use crate::http::failure::Rejection;
use crate::http::state::AppState;

/// The header naming the account a platform acts for: here, an organization id.
const STRIPE_ACCOUNT: HeaderName = HeaderName::from_static("stripe-account");

/// The prefix of a live secret key.
const LIVE_KEY_PREFIX: &str = "sk_live_";

/// An authenticated caller of the dialect, admitted to the route's operation.
#[derive(Debug, Clone)]
pub struct StripeCaller {
    /// The organization it acts for.
    pub principal: Principal,
    /// Whether its key is a live one (`sk_live_`): Stripe's `livemode`.
    pub livemode: bool,
}

impl FromRequestParts<AppState> for StripeCaller {
    type Rejection = StripeError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, StripeError> {
        let credential = credential(parts)?;
        let (caller, livemode) = match credential {
            Credential::Key(key) => {
                let caller = state.keys.caller_of(&key).await?.ok_or_else(|| {
                    unauthorized(format!("Invalid API Key provided: {}", masked(&key)))
                })?;
                (caller, key.starts_with(LIVE_KEY_PREFIX))
            }
            Credential::Token(value) => {
                let caller = verify_bearer(&value, state)
                    .map_err(|reason| unauthorized(reason.to_owned()))?;
                (caller, false)
            }
        };
        let account = credential_header(&parts.headers, &STRIPE_ACCOUNT).map_err(|message| {
            StripeError::Own {
                status: StatusCode::BAD_REQUEST,
                kind: "invalid_request_error",
                code: None,
                param: None,
                message,
            }
        })?;
        if let Some(account) = account {
            let account = account.to_str().unwrap_or_default();
            if account != caller.organization_id.as_str() {
                return Err(StripeError::Own {
                    status: StatusCode::FORBIDDEN,
                    kind: "invalid_request_error",
                    code: Some("account_invalid"),
                    param: None,
                    message: format!(
                        "The provided key does not have access to account '{account}' (or that account does not exist)."
                    ),
                });
            }
        }
        let principal = admit(parts, state, caller).await?;
        Ok(Self {
            principal,
            livemode,
        })
    }
}

enum Credential {
    /// A secret key.
    Key(String),
    /// Anything else sent as a bearer token: a JWT.
    Token(String),
}

fn credential(parts: &Parts) -> Result<Credential, StripeError> {
    let Some(value) = credential_header(&parts.headers, &AUTHORIZATION).map_err(unauthorized)?
    else {
        return Err(unauthorized(
            "You did not provide an API key. Send your secret key as the user name of HTTP Basic \
             auth (curl -u sk_...:) or in the header Authorization: Bearer sk_..."
                .to_owned(),
        ));
    };
    let value = value.to_str().unwrap_or_default();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                unauthorized("The Basic credentials are not base64 of user:password.".to_owned())
            })?;
        let key = decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user);
        return Ok(Credential::Key(key.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(if rest.starts_with("sk_") {
            Credential::Key(rest.to_owned())
        } else {
            Credential::Token(value.to_owned())
        });
    }
    Err(unauthorized(
        "The Authorization header must use the Basic or the Bearer scheme.".to_owned(),
    ))
}

/// A key as Stripe shows a wrong one: its kind and its last four characters.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "***".to_owned();
    }
    let kind: String = key.split('_').take(2).collect::<Vec<_>>().join("_");
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{kind}_***{tail}")
}

fn unauthorized(message: String) -> StripeError {
    // The shared renderer gives the 401 its problem members; the edge's layer adds `error`.
    StripeError::Shared(Rejection::Unauthorized(message).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_key_is_shown_by_its_kind_and_last_four_characters() {
        assert_eq!(
            masked("sk_sandbox_abcdefghijklmnopqrstuvwxyz123456"),
            "sk_sandbox_***3456"
        );
        assert_eq!(masked("short"), "***");
    }
}
