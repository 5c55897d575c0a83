//! Every write (POST, PUT, DELETE) runs through [`run_write`], in one transaction that it owns:
//! the use case works in it and never commits, and the write commits or rolls back in one
//! place. A POST may also name an `Idempotency-Key`: the same transaction then holds the answer
//! kept for the key's retries.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::Principal;
use super::failure::{Dialect, Failure};
use super::problem::{REQUEST_ID, Replayed};
use super::state::AppState;
use crate::domain::event::Cause;
use crate::domain::idempotency::{CanonicalBody, IdempotencyKey, RequestFingerprint, StoredAnswer};
use crate::domain::ids::OrganizationId;
use crate::error::{ApiError, DomainField, Rule};
use crate::repository::Tx;
use crate::service::idempotency::{self as service, Claim};
use crate::service::item_batches::ItemLanes;

/// The request header naming a POST's idempotency key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The response header marking an answer given again for a retry.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The headers kept with an answer: those that describe it. Per-request headers (the request
/// id, rate limits) belong to each answer and are set again for the retry.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// A response extension: the body to keep for the key's retries in place of the one sent now,
/// which shows what only the first answer may (a webhook's signing secret). A retry is
/// answered without it, and it is never stored.
#[derive(Debug, Clone)]
pub struct KeptBody(pub Vec<u8>);

/// Drops a caller's `X-Request-Id` that could not be kept with the changes it makes (see
/// [`Cause::keeps_request_id`]), so that the request gets an id of the server's making in its
/// place, and its answer and its events name the same id.
pub async fn replace_unkept_request_id(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let kept = headers
        .get_all(REQUEST_ID)
        .iter()
        .all(|id| Cause::keeps_request_id(id.as_bytes()));
    if !kept {
        headers.remove(REQUEST_ID);
    }
    next.run(request).await
}

/// Handles a request with it as the cause of every change it makes, which the changes' events
/// keep: its `X-Request-Id` (set before this runs) and, on a POST, the one `Idempotency-Key`
/// it names (the only method that keys are kept for).
pub async fn caused_by_request(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let request_id = headers.get(REQUEST_ID).map(HeaderValue::as_bytes);
    let mut keys = headers.get_all(IDEMPOTENCY_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) if request.method() == Method::POST => {
            IdempotencyKey::parse(key.as_bytes())
        }
        _ => None,
    };
    Cause::new(request_id, key).scope(next.run(request)).await
}

/// A POST's `Idempotency-Key` header (or headers) and path, read but not yet checked: the
/// key's checks come after the body's.
#[derive(Debug)]
pub struct Idempotency {
    keys: Vec<HeaderValue>,
    path: String,
    dialect: Option<Dialect>,
}

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Self {
            keys: parts
                .headers
                .get_all(IDEMPOTENCY_KEY)
                .iter()
                .cloned()
                .collect(),
            path: parts.uri.path().to_owned(),
            dialect: parts.extensions.get::<Dialect>().copied(),
        })
    }
}

/// A write about to be worked on: its key, if any (only a POST names one), and what the
/// request was.
#[derive(Debug)]
pub struct WriteRequest {
    keys: Vec<HeaderValue>,
    fingerprint: Option<RequestFingerprint>,
    /// Renders an error answer before it is kept.
    dialect: Option<Dialect>,
}

impl WriteRequest {
    /// Whether the request names an idempotency key (once or more).
    pub fn names_a_key(&self) -> bool {
        !self.keys.is_empty()
    }

    /// A write that names no idempotency key (`PUT`, `DELETE`).
    pub fn without_key() -> Self {
        Self {
            keys: Vec::new(),
            fingerprint: None,
            dialect: None,
        }
    }
}

impl Idempotency {
    /// The request with its body in its dialect's canonical form (`None` for a POST without
    /// one). Made before the body is parsed into its fields, which consumes it.
    pub fn request(self, body: Option<CanonicalBody>) -> WriteRequest {
        let fingerprint =
            (!self.keys.is_empty()).then(|| RequestFingerprint::new(&self.path, body.as_ref()));
        WriteRequest {
            keys: self.keys,
            fingerprint,
            dialect: self.dialect,
        }
    }
}

/// How a POST begins.
#[derive(Debug)]
enum Begun {
    /// A retry: the first answer, given again.
    Replayed(Response),
    /// New work, to do in [`WriteWork::tx`] and end with [`WriteWork::finish`].
    Fresh(WriteWork),
}

/// A write's transaction, and the key its answer is to be kept for.
#[derive(Debug)]
struct WriteWork {
    tx: Tx,
    claimed: Option<ClaimedKey>,
    dialect: Option<Dialect>,
}

#[derive(Debug)]
struct ClaimedKey {
    organization_id: OrganizationId,
    key: IdempotencyKey,
    fingerprint: RequestFingerprint,
}

impl WriteWork {
    /// Opens the transaction and, when the request names a key, claims it: a retry is answered
    /// from what was kept; a key in use by a running request is 409; a key first used for
    /// another request is 422.
    async fn begin(
        state: &AppState,
        principal: &Principal,
        request: WriteRequest,
    ) -> Result<Begun, ApiError> {
        let dialect = request.dialect;
        let claimed = match (request.keys.as_slice(), request.fingerprint) {
            ([], _) | (_, None) => None,
            ([value], Some(fingerprint)) => Some(ClaimedKey {
                organization_id: principal.organization_id.clone(),
                key: IdempotencyKey::parse(value.as_bytes()).ok_or_else(|| {
                    ApiError::invalid_input(DomainField::IdempotencyKey, Rule::MalformedKey)
                })?,
                fingerprint,
            }),
            _ => {
                return Err(ApiError::invalid_input(
                    DomainField::IdempotencyKey,
                    Rule::RepeatedKey,
                ));
            }
        };
        let mut tx = state.db.begin().await?;
        let Some(claimed) = claimed else {
            return Ok(Begun::Fresh(Self {
                tx,
                claimed,
                dialect,
            }));
        };
        let claim = service::claim(
            &mut tx,
            &claimed.organization_id,
            &claimed.key,
            &claimed.fingerprint,
        )
        .await;
        match claim {
            Ok(Claim::Fresh) => {
                // A 4xx of the work is kept as the key's answer, without what the work wrote
                // before it failed.
                tx.savepoint().await?;
                Ok(Begun::Fresh(Self {
                    tx,
                    claimed: Some(claimed),
                    dialect,
                }))
            }
            // Rolled back at once, so that the key's lock is free when the client hears back.
            Ok(Claim::Replay(answer)) => {
                tx.rollback().await?;
                Ok(Begun::Replayed(replayed(answer)?))
            }
            Err(error) => {
                // The error is the answer; a failed rollback is the pool's to clean up.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    /// The transaction to do the work in.
    fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Commits the work and answers with its outcome. With a key, the outcome is kept, unless it
    /// is a server error: then nothing is kept (or done) and the request may be retried.
    async fn finish<E: WriteError>(self, outcome: Result<Response, E>) -> Result<Response, E> {
        let Self {
            mut tx,
            claimed,
            dialect,
        } = self;
        let outcome = outcome.and_then(|response| {
            // A response that failed to render is a server error too.
            if response.status().is_server_error() {
                Err(E::from(ApiError::Internal(
                    "the response could not be made".into(),
                )))
            } else {
                Ok(response)
            }
        });
        let response = match outcome {
            Err(error) if claimed.is_none() || error.is_server_error() => {
                // The error is the answer; a failed rollback is the pool's to clean up.
                let _ = tx.rollback().await;
                return Err(error);
            }
            Ok(response) => response,
            Err(error) => {
                tx.roll_back_to_savepoint().await.map_err(ApiError::from)?;
                // Kept as the client hears it: rendered in the request's dialect now.
                let response = error.into_response();
                match dialect {
                    Some(dialect) => dialect.render_unrendered(response),
                    None => response,
                }
            }
        };
        let Some(claimed) = claimed else {
            tx.commit().await.map_err(ApiError::from)?;
            return Ok(response);
        };
        let (answer, response) = kept_answer(response).await?;
        service::keep(
            &mut tx,
            &claimed.organization_id,
            &claimed.key,
            claimed.fingerprint,
            answer,
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(response)
    }
}

/// An edge's error, as a write's work fails with it: rendered its own way, and kept in that
/// shape for the key's retries.
pub trait WriteError: From<ApiError> + IntoResponse {
    /// Whether the failure is the server's: then nothing is kept, and the request may be
    /// retried.
    fn is_server_error(&self) -> bool;
}

impl WriteError for ApiError {
    fn is_server_error(&self) -> bool {
        ApiError::is_server_error(self)
    }
}

impl WriteError for Failure {
    fn is_server_error(&self) -> bool {
        Failure::is_server_error(self)
    }
}

/// Runs a write: a retry is answered from what was kept; new work is done in the write's
/// transaction, committed unless it fails, and with a key its answer (an error in the edge's
/// own shape too) is kept unless it is a server error.
pub async fn run_write<E: WriteError>(
    state: &AppState,
    principal: &Principal,
    request: WriteRequest,
    work: impl AsyncFnOnce(&mut Tx) -> Result<Response, E>,
) -> Result<Response, E> {
    let mut post = match WriteWork::begin(state, principal, request).await? {
        Begun::Replayed(response) => return Ok(response),
        Begun::Fresh(post) => post,
    };
    let outcome = work(post.tx()).await;
    post.finish(outcome).await
}

/// Runs a write that names no idempotency key (`PUT`, `PATCH`, `DELETE`): [`run_write`] with
/// no answer to keep.
pub async fn run_unkeyed_write<E: WriteError>(
    state: &AppState,
    principal: &Principal,
    work: impl AsyncFnOnce(&mut Tx) -> Result<Response, E>,
) -> Result<Response, E> {
    run_write(state, principal, WriteRequest::without_key(), work).await
}

/// Runs an item write, for every dialect alike: with an idempotency key, in the write's
/// transaction, which keeps its answer ([`run_write`]); without one there is nothing to keep,
/// and the write is coalesced with its invoice's concurrent writes on the lanes. `work` does
/// the write through the lanes, with the transaction when there is one.
pub async fn run_item_write<E: WriteError>(
    state: &AppState,
    principal: &Principal,
    request: WriteRequest,
    work: impl AsyncFnOnce(&ItemLanes, Option<&mut Tx>) -> Result<Response, E>,
) -> Result<Response, E> {
    let lanes = &*state.item_writes;
    if !request.names_a_key() {
        return work(lanes, None).await;
    }
    run_write(state, principal, request, async |tx| {
        work(lanes, Some(tx)).await
    })
    .await
}

/// What to keep of a response, and the response itself, rebuilt from its read body.
async fn kept_answer(response: Response) -> Result<(StoredAnswer, Response), ApiError> {
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX)
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    let mut headers = Vec::new();
    for name in KEPT_HEADERS {
        for value in parts.headers.get_all(&name) {
            let value = value
                .to_str()
                .map_err(|error| ApiError::Internal(Box::new(error)))?;
            headers.push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    let body = match parts.extensions.get::<KeptBody>() {
        Some(KeptBody(kept)) => kept.clone(),
        None => bytes.to_vec(),
    };
    let answer = StoredAnswer {
        status: parts.status.as_u16(),
        headers,
        body,
    };
    Ok((answer, Response::from_parts(parts, Body::from(bytes))))
}

/// A kept answer given again: its status, headers and bytes, with `Idempotent-Replayed: true`.
fn replayed(answer: StoredAnswer) -> Result<Response, ApiError> {
    let internal = |error: Box<dyn std::error::Error + Send + Sync>| ApiError::Internal(error);
    let status = StatusCode::from_u16(answer.status).map_err(|error| internal(error.into()))?;
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    for (name, value) in answer.headers {
        let name = HeaderName::try_from(name).map_err(|error| internal(error.into()))?;
        let value = HeaderValue::try_from(value).map_err(|error| internal(error.into()))?;
        headers.append(name, value);
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response.extensions_mut().insert(Replayed);
    Ok(response)
}
