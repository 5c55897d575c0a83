//! Who is calling: a secret API key in `REB-APIKEY` or an HS256 JWT in `Authorization: Bearer`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, OriginalUri};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use percent_encoding::percent_decode_str;

use super::failure::{Failure, Rejection};
use super::rate_limit::{DecisionSlot, is_write};
use super::state::AppState;
use crate::domain::ids::OrganizationId;
use crate::domain::permission::{Operation, Permissions};
use crate::error::{ApiError, Denial};
use crate::service::auth::{Caller, TokenError};

/// The pattern of the routes answered under an organization's own prefix.
pub const ORGANIZATION_PREFIX: &str = "/organizations/{organizationId}";

/// The header carrying a secret API key, as Rebilly names it.
pub const API_KEY_HEADER: &str = "reb-apikey";

/// An authenticated caller, acting for one organization, allowed the operation of the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Every row the caller reads or writes belongs to this organization.
    pub organization_id: OrganizationId,
    /// What the credentials allow, for an operation that does more than its route's
    /// permission covers (paying a draft finalizes it too).
    pub permissions: Permissions,
}

/// The operations of one path by method, as the route declares them: the permission each
/// needs.
#[derive(Debug, Clone)]
pub struct RouteOperations(Arc<[(Method, Operation)]>);

impl RouteOperations {
    /// The operations a route declares, one per method.
    pub fn new(operations: &[(Method, Operation)]) -> Self {
        Self(operations.into())
    }

    /// The operation a request performs (`HEAD` performs `GET`'s).
    fn of_method(&self, method: &Method) -> Option<Operation> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0
            .iter()
            .find(|(known, _)| known == method)
            .map(|(_, operation)| *operation)
    }

    /// The declared operations.
    pub fn iter(&self) -> impl Iterator<Item = &(Method, Operation)> {
        self.0.iter()
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let caller = authenticate(parts, state).await?;
        if !prefix_admits(parts, &caller.organization_id) {
            return Err(ApiError::Forbidden(Denial::PathOrganization).into());
        }
        admit(parts, state, caller).await
    }
}

/// Admits an authenticated caller to the route's operation, whatever dialect named its
/// credentials: 403 without the operation's permission; a write counts against the
/// organization's limit (429 past it).
pub async fn admit(parts: &Parts, state: &AppState, caller: Caller) -> Result<Principal, Failure> {
    let operation = parts
        .extensions
        .get::<RouteOperations>()
        .and_then(|operations| operations.of_method(&parts.method))
        .ok_or_else(|| {
            ApiError::Internal("a route that needs credentials names no operation".into())
        })?;
    if !caller.permissions.allows(operation) {
        return Err(ApiError::Forbidden(Denial::Permission {
            operation: operation.to_string(),
        })
        .into());
    }
    if is_write(&parts.method) {
        count_write(parts, state, &caller.organization_id).await?;
    }
    Ok(Principal {
        organization_id: caller.organization_id,
        permissions: caller.permissions,
    })
}

/// Under `/organizations/{organizationId}/...` the prefix must name the caller's own
/// organization; a prefix that does not decode (`%FF`) names none, so it is refused too.
fn prefix_admits(parts: &Parts, own: &OrganizationId) -> bool {
    let prefixed = parts
        .extensions
        .get::<MatchedPath>()
        .is_some_and(|path| path.as_str().starts_with(ORGANIZATION_PREFIX));
    if !prefixed {
        return true;
    }
    // The nested routes see the path without their prefix; the original has it.
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |original| original.path());
    let segment = path
        .strip_prefix(ORGANIZATION_PREFIX.trim_end_matches("{organizationId}"))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    percent_decode_str(segment)
        .decode_utf8()
        .is_ok_and(|prefix| prefix == own.as_str())
}

/// The value of a header that says who the caller is. Sent more than once it is refused, not
/// read first-wins: a proxy or client that adds its own would otherwise decide whose request
/// this is.
pub fn credential_header<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a HeaderValue>, String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    match values.next() {
        Some(_) => Err(format!(
            "{name} must be sent once; this request sends it more than once."
        )),
        None => Ok(first),
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, Failure> {
    let once = |name: &HeaderName| {
        credential_header(&parts.headers, name)
            .map(|value| value.map(|value| value.to_str().unwrap_or("")))
            .map_err(|reason| unauthorized(&reason))
    };
    let api_key = once(&HeaderName::from_static(API_KEY_HEADER))?;
    let authorization = once(&AUTHORIZATION)?;
    if api_key.is_none() && authorization.is_none() {
        return Err(unauthorized(
            "Credentials are required: send a secret API key in REB-APIKEY or a JWT in Authorization: Bearer.",
        ));
    }
    let from_key = match api_key {
        Some(key) if !key.is_empty() => state.keys.caller_of(key).await?,
        _ => None,
    };
    let from_token = authorization.map(|value| verify_bearer(value, state));
    match (from_key, from_token) {
        (Some(by_key), Some(Ok(by_token))) => {
            if by_key.organization_id != by_token.organization_id {
                return Err(unauthorized(
                    "The API key and the bearer token belong to different organizations.",
                ));
            }
            // Either one alone would admit the caller, so together they allow what either does.
            Ok(Caller {
                permissions: by_key.permissions.union(by_token.permissions),
                ..by_key
            })
        }
        (Some(caller), _) | (None, Some(Ok(caller))) => Ok(caller),
        (None, Some(Err(reason))) => Err(unauthorized(reason)),
        (None, None) => Err(unauthorized("The API key is not valid.")),
    }
}

/// Counts a write against the organization's limit (429 past it), leaving the decision for
/// the `X-RateLimit-*` headers. Only writes that passed authentication and permission get
/// here, and a refused one does not count.
async fn count_write(
    parts: &Parts,
    state: &AppState,
    organization_id: &OrganizationId,
) -> Result<(), Rejection> {
    let Some(decision) = state.rate_limiter.check(organization_id).await else {
        return Ok(());
    };
    if let Some(slot) = parts.extensions.get::<DecisionSlot>() {
        slot.fill(decision);
    }
    match decision.refusal {
        None => Ok(()),
        Some(refusal) => {
            metrics::counter!(super::metrics::RATE_LIMIT_REFUSALS).increment(1);
            Err(Rejection::RateLimited {
                limit: decision.limit,
                window_secs: decision.window.as_secs(),
                refusal,
            })
        }
    }
}

/// The caller an `Authorization: Bearer <JWT>` header names, or why it names none.
pub fn verify_bearer(value: &str, state: &AppState) -> Result<Caller, &'static str> {
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or("The Authorization header must be `Bearer <JWT>`.")?;
    let verifier = state
        .jwt
        .as_ref()
        .ok_or("Bearer tokens are not enabled on this server.")?;
    verifier.verify(token).map_err(|error| match error {
        TokenError::Expired => "The bearer token has expired.",
        TokenError::NotYetValid => "The bearer token is not valid yet (its nbf is in the future).",
        TokenError::Invalid => "The bearer token is not valid.",
    })
}

fn unauthorized(detail: &str) -> Failure {
    Rejection::Unauthorized(detail.to_owned()).into()
}
