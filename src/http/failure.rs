//! What a request can fail with at the HTTP layer: the core's errors ([`ApiError`]) and the
//! transport's own refusals ([`Rejection`]: 400, 401, 404 of a route, 406, 413, 414, 415, 429,
//! 431, 503), as one [`Failure`].
//!
//! A failure is data until a dialect renders it. A shared layer or extractor answers with the
//! failure itself, unrendered, in the response's extensions; the dialect the router chose for
//! the request renders it once, into its own shape ([`ErrorDialect`]). Nothing here knows a
//! dialect.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::rate_limit::refused_headers;
use crate::error::ApiError;
use crate::service::rate_limit::Refusal;

/// A refusal of the transport: the request cannot be taken as it came, whatever it asks.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// 400: the body or the query string cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: credentials are missing, unknown, malformed or expired.
    #[error("{0}")]
    Unauthorized(String),
    /// 404: no such route, or a path that names nothing.
    #[error("{0}")]
    NoRoute(&'static str),
    /// 406: `Accept` accepts none of the representations the resource has.
    #[error("This resource is available as {}; the Accept header accepts none of them.", listed(.0))]
    NotAcceptable(Vec<&'static str>),
    /// 413: the body is larger than the server accepts.
    #[error("The request body is larger than {limit} bytes.")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 414: the request target is longer than the server accepts.
    #[error("The request target (path and query) is longer than {limit} bytes.")]
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not sent in a media type the operation reads.
    #[error("The request body must be sent as application/json.")]
    UnsupportedMediaType,
    /// 431: too many header fields, or too many bytes of them.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 429: the organization has used its writes for now (`RATE_LIMIT_REQUESTS` per
    /// `RATE_LIMIT_WINDOW_SECS`); the answer says when to retry.
    #[error(
        "The organization has reached its limit of {limit} writes per {window_secs} seconds; retry in {} seconds (at {}).",
        .refusal.retry_after_secs(),
        .refusal.admitted_at_rfc3339()
    )]
    RateLimited {
        /// The most writes per window.
        limit: u32,
        /// The window in seconds.
        window_secs: u64,
        /// When a write will be admitted again.
        refusal: Refusal,
    },
    /// 503: the request took longer than the server allows (`REQUEST_TIMEOUT_SECS`); its
    /// transaction, if any, was rolled back.
    #[error(
        "The request took longer than {0} seconds and was abandoned; nothing it began was kept. Retry later."
    )]
    TimedOut(u64),
    /// 503 at once: as many documents are rendering, and as many requests wait for them, as
    /// the server takes.
    #[error(
        "The server is rendering {running} documents and {waiting} more requests wait for one, the most it takes; retry shortly."
    )]
    RendersBusy {
        /// Renders at once.
        running: usize,
        /// Requests that may wait.
        waiting: usize,
    },
    /// 503 at once: the database was found unreachable and has not answered since.
    #[error("database unreachable")]
    DatabaseUnreachable,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The core's error.
    #[error(transparent)]
    Core(#[from] ApiError),
    /// The transport's refusal.
    #[error(transparent)]
    Rejected(#[from] Rejection),
}

/// `a`, `a and b`, `a, b and c`.
fn listed(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What a client is told while the database is away, however it was found so.
const DATABASE_AWAY: &str = "The service cannot reach its database; retry later.";

/// What a client is told of a fault of the server's.
const FAULT: &str = "The server could not complete the request.";

/// Seconds a client should wait before retrying a 503 (database away, request timed out).
const UNAVAILABLE_RETRY_AFTER_SECS: &str = "1";

impl Failure {
    /// The status it answers with, unless a dialect says otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Core(error) => match error {
                ApiError::NotFound(_) => StatusCode::NOT_FOUND,
                ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
                ApiError::Conflict(_) | ApiError::RequestInFlight => StatusCode::CONFLICT,
                ApiError::NoEInvoice(refusal) if refusal.is_conflict() => StatusCode::CONFLICT,
                ApiError::NoEInvoice(_) => StatusCode::NOT_ACCEPTABLE,
                ApiError::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
                ApiError::Validation { .. } | ApiError::InvalidInput { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Rejected(rejection) => match rejection {
                Rejection::BadRequest(_) => StatusCode::BAD_REQUEST,
                Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                Rejection::NoRoute(_) => StatusCode::NOT_FOUND,
                Rejection::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
                Rejection::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                Rejection::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
                Rejection::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Rejection::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                Rejection::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                Rejection::TimedOut(_)
                | Rejection::RendersBusy { .. }
                | Rejection::DatabaseUnreachable => StatusCode::SERVICE_UNAVAILABLE,
            },
        }
    }

    /// The sentence a client is told, unless a dialect words it otherwise: the error's own,
    /// except that a server's fault or outage names no cause.
    pub fn detail(&self) -> String {
        match self {
            Self::Core(ApiError::Unavailable(_))
            | Self::Rejected(Rejection::DatabaseUnreachable) => DATABASE_AWAY.to_owned(),
            Self::Core(ApiError::Internal(_)) => FAULT.to_owned(),
            Self::Core(ApiError::InvalidInput { .. }) => {
                "The request has invalid fields.".to_owned()
            }
            Self::Core(ApiError::RequestInFlight) => "A request with this Idempotency-Key is still being processed; retry once it has been answered.".to_owned(),
            Self::Core(ApiError::VersionMismatch { resource, id }) => format!(
                "{} {id} has changed since the version If-Match names (or does not exist): read it again, then retry.",
                resource.title()
            ),
            other => other.to_string(),
        }
    }

    /// Whether the failure is the server's, so that the same request may succeed later.
    pub fn is_server_error(&self) -> bool {
        match self {
            Self::Core(error) => error.is_server_error(),
            Self::Rejected(rejection) => matches!(
                rejection,
                Rejection::TimedOut(_) | Rejection::DatabaseUnreachable
            ),
        }
    }

    /// Whether it was answered because the database could not be reached (not merely busy: a
    /// lock timeout is not an outage).
    fn finds_database_unreachable(&self) -> bool {
        match self {
            Self::Core(ApiError::Unavailable(sqlx::Error::Database(db))) => {
                db.code().as_deref() != Some("55P03")
            }
            Self::Core(ApiError::Unavailable(_))
            | Self::Rejected(Rejection::DatabaseUnreachable) => true,
            _ => false,
        }
    }

    /// Logs what a client is not told: the cause of a fault or an outage.
    fn log_cause(&self) {
        match self {
            Self::Core(ApiError::Unavailable(cause)) => {
                tracing::error!(error = %cause, "database unavailable");
            }
            Self::Core(ApiError::Internal(cause)) => {
                tracing::error!(error = %cause, "internal error");
            }
            _ => {}
        }
    }

    /// The headers that go with it in every dialect: the rate-limit headers of a 429 and
    /// `Retry-After` on a 503.
    fn headers(&self, status: StatusCode) -> HeaderMap {
        let mut headers = match self {
            Self::Rejected(Rejection::RateLimited { limit, refusal, .. }) => {
                refused_headers(*limit, refusal)
            }
            _ => HeaderMap::new(),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        headers
    }

    /// A dialect's rendering of it, `answer`, completed with what every dialect sends: the
    /// shared headers, and the mark of an unreachable database. Logs the cause of a fault.
    pub fn answer_with(&self, answer: impl IntoResponse) -> Response {
        self.log_cause();
        let mut response = answer.into_response();
        let headers = self.headers(response.status());
        response.headers_mut().extend(headers);
        if self.finds_database_unreachable() {
            response.extensions_mut().insert(DatabaseUnreachable);
        }
        response
    }
}

/// Marks an answer given because the database could not be reached, so that the next
/// requests are answered at once.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnreachable;

/// A failure not rendered yet, riding in its response's extensions to the layer that renders
/// it in the request's dialect.
#[derive(Debug, Clone)]
pub struct Unrendered(pub Arc<Failure>);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        if self.finds_database_unreachable() {
            response.extensions_mut().insert(DatabaseUnreachable);
        }
        response.extensions_mut().insert(Unrendered(Arc::new(self)));
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Failure::from(self).into_response()
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        Failure::from(self).into_response()
    }
}

/// How a dialect renders errors. The router names one for every request, in its extensions,
/// so that whoever must render a failure early (a kept answer) renders it as the dialect's
/// layer would.
pub trait ErrorDialect: Send + Sync + 'static {
    /// The failure as this dialect answers it, with a [`super::problem::Problem`] in its
    /// extensions so that the request's own members can be added.
    fn render(&self, failure: &Failure) -> Response;

    /// An error answered without a body of its own (axum's 405, a panic), as this dialect
    /// answers it; its headers are kept.
    fn render_status(&self, status: StatusCode) -> Response;

    /// Names the request's id on every answer to this dialect's requests, whichever layer
    /// made the answer, as its clients read it (`X-Request-Id` is on every answer already).
    fn name_request_id(&self, _request_id: &HeaderValue, _answer: &mut HeaderMap) {}
}

/// The dialect of a request, set by the router.
#[derive(Clone, Copy)]
pub struct Dialect(pub &'static dyn ErrorDialect);

impl std::fmt::Debug for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dialect")
    }
}

impl Dialect {
    /// `response` with its unrendered failure, if any, rendered; its headers kept.
    pub fn render_unrendered(self, response: Response) -> Response {
        let (mut parts, body) = response.into_parts();
        let Some(Unrendered(failure)) = parts.extensions.remove::<Unrendered>() else {
            return Response::from_parts(parts, body);
        };
        let rendered = self.0.render(&failure);
        let (rendered_parts, rendered_body) = rendered.into_parts();
        parts.status = rendered_parts.status;
        parts.headers.extend(rendered_parts.headers);
        parts.extensions.extend(rendered_parts.extensions);
        Response::from_parts(parts, rendered_body)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Core(error.into())
    }
}
