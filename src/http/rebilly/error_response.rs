//! How the Rebilly edge answers an [`ApiError`]: RFC 7807 problem JSON, with its status and
//! the headers that go with it (`WWW-Authenticate`, the rate-limit headers, `Retry-After`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::problem::{InvalidField, Problem};
use crate::error::{ApiError, DomainField};
use crate::http::rate_limit::refused_headers;

/// The summary of every 422.
const INVALID_FIELDS: &str = "The request has invalid fields.";

/// A field the core checks, as Rebilly's wire names it.
fn field_name(field: DomainField) -> &'static str {
    match field {
        DomainField::ItemProduct => "productId",
        DomainField::ItemManualTaxAmount => "tax.amount",
        DomainField::InvoiceDueTime => "dueTime",
        DomainField::IdempotencyKey => "Idempotency-Key",
        DomainField::WebhookUrl => "url",
    }
}

/// The status each kind of error answers with.
fn status_of(error: &ApiError) -> StatusCode {
    match error {
        ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::Conflict(_) | ApiError::RequestInFlight => StatusCode::CONFLICT,
        ApiError::VersionMismatch(_) => StatusCode::PRECONDITION_FAILED,
        ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
        ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
        ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ApiError::Validation { .. } | ApiError::InvalidInput { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ApiError::Unavailable(_) | ApiError::DatabaseUnreachable | ApiError::TimedOut(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Marks an answer given because the database could not be reached (not merely busy: a lock
/// timeout is not an outage), so that the next requests are answered at once.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnreachable;

/// Seconds a client should wait before retrying a 503 (database away, request timed out).
const UNAVAILABLE_RETRY_AFTER_SECS: &str = "1";

fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db.code().as_deref() != Some("55P03"),
        _ => true,
    }
}

/// What a client is told while the database is away, however it was found so.
const DATABASE_AWAY: &str = "The service cannot reach its database; retry later.";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self);
        // RFC 9110: a 401 names a scheme the server accepts.
        let challenge = matches!(self, ApiError::Unauthorized(_))
            .then_some([(header::WWW_AUTHENTICATE, "Bearer realm=\"invoice-api\"")]);
        let rate_limit = match &self {
            ApiError::RateLimited { limit, refusal, .. } => refused_headers(*limit, refusal),
            _ => HeaderMap::new(),
        };
        let unreachable = match &self {
            ApiError::Unavailable(cause) => is_connection_failure(cause),
            ApiError::DatabaseUnreachable => true,
            _ => false,
        };
        let problem = match self {
            ApiError::Validation {
                detail,
                invalid_fields,
            } => Problem::new(status, detail).with_invalid_fields(invalid_fields),
            ApiError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                Problem::new(status, DATABASE_AWAY)
            }
            ApiError::DatabaseUnreachable => Problem::new(status, DATABASE_AWAY),
            ApiError::InvalidInput { field, message } => Problem::new(status, INVALID_FIELDS)
                .with_invalid_fields(vec![InvalidField::new(field_name(field), message)]),
            ApiError::RequestInFlight => Problem::new(
                status,
                "A request with this Idempotency-Key is still being processed; retry once it has been answered.",
            ),
            ApiError::VersionMismatch(what) => Problem::new(
                status,
                format!(
                    "{what} has changed since the version If-Match names (or does not exist): read it again, then retry."
                ),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Problem::new(status, "The server could not complete the request.")
            }
            other => {
                let detail = other.to_string();
                Problem::new(status, detail)
            }
        };
        let mut response = (challenge, problem).into_response();
        response.headers_mut().extend(rate_limit);
        if unreachable {
            response.extensions_mut().insert(DatabaseUnreachable);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        response
    }
}
