//! The one public error type, and how each kind answers as RFC 7807 problem JSON.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::problem::{InvalidField, Problem};
use crate::http::rate_limit::refused_headers;
use crate::service::rate_limit::Refusal;

/// Everything a request can fail with. Each variant names the status it answers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON, or a query string cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: credentials are missing, unknown, malformed or expired.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the credentials do not allow this operation.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource for this organization (or no such route).
    #[error("{0}")]
    NotFound(String),
    /// 412: `If-Match` names another version than the current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 409: the resource's state forbids the change (e.g. items of an issued invoice).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the server accepts.
    #[error("the request body is larger than {limit} bytes")]
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
    /// 431: too many header fields, or too many bytes of them.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 415: the body is not sent as `application/json`.
    #[error("the request body must be sent as application/json")]
    UnsupportedMediaType,
    /// 422: fields break the rules; every bad field is listed.
    #[error("{detail}")]
    Validation {
        /// A summary.
        detail: String,
        /// Every bad field with its message.
        invalid_fields: Vec<InvalidField>,
    },
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
    /// 503: the database does not answer; the cause is logged, never sent.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// 503 at once: the database was found unreachable and has not answered since.
    #[error("database unreachable")]
    DatabaseUnreachable,
    /// 500: anything else; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 422 listing bad fields.
    pub fn validation(invalid_fields: Vec<InvalidField>) -> Self {
        Self::Validation {
            detail: "The request has invalid fields.".to_owned(),
            invalid_fields,
        }
    }

    /// `Ok` when no field is bad, else one 422 naming them all.
    pub fn unless_invalid(invalid_fields: Vec<InvalidField>) -> Result<(), Self> {
        if invalid_fields.is_empty() {
            Ok(())
        } else {
            Err(Self::validation(invalid_fields))
        }
    }

    /// A 422 naming one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![InvalidField::new(field, message)])
    }

    /// Whether the failure is the server's (5xx), so that the same request may succeed later.
    pub fn is_server_error(&self) -> bool {
        self.status().is_server_error()
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::DatabaseUnreachable | Self::TimedOut(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        // Errors that mean "the database cannot be reached right now" are worth a retry (503);
        // anything else is a fault of ours (500).
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            sqlx::Error::Database(ref db) if is_unavailable_code(db.code().as_deref()) => {
                Self::Unavailable(error)
            }
            other => Self::Internal(Box::new(other)),
        }
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

/// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
/// cannot connect now), and 55P03 (a lock not granted within the lock timeout).
fn is_unavailable_code(code: Option<&str>) -> bool {
    code.is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "55P03")
}

/// What a client is told while the database is away, however it was found so.
const DATABASE_AWAY: &str = "The service cannot reach its database; retry later.";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // RFC 9110: a 401 names a scheme the server accepts.
        let challenge = matches!(self, Self::Unauthorized(_))
            .then_some([(header::WWW_AUTHENTICATE, "Bearer realm=\"invoice-api\"")]);
        let rate_limit = match &self {
            Self::RateLimited { limit, refusal, .. } => refused_headers(*limit, refusal),
            _ => HeaderMap::new(),
        };
        let unreachable = match &self {
            Self::Unavailable(cause) => is_connection_failure(cause),
            Self::DatabaseUnreachable => true,
            _ => false,
        };
        let problem = match self {
            Self::Validation {
                detail,
                invalid_fields,
            } => Problem::new(status, detail).with_invalid_fields(invalid_fields),
            Self::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                Problem::new(status, DATABASE_AWAY)
            }
            Self::DatabaseUnreachable => Problem::new(status, DATABASE_AWAY),
            Self::Internal(cause) => {
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

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn a_database_that_cannot_be_reached_is_503_and_other_database_errors_are_500() {
        let unreachable = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            // PostgreSQL stopped or crashed under a connection: it reads the end of the stream.
            sqlx::Error::Io(io::Error::from(io::ErrorKind::UnexpectedEof)),
            sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset)),
            sqlx::Error::WorkerCrashed,
        ];
        for error in unreachable {
            let shown = error.to_string();
            assert_eq!(
                ApiError::from(error).status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{shown}"
            );
        }
        let faults = [
            sqlx::Error::RowNotFound,
            sqlx::Error::Protocol("unexpected message".to_owned()),
            sqlx::Error::ColumnNotFound("price".to_owned()),
        ];
        for error in faults {
            let shown = error.to_string();
            assert_eq!(
                ApiError::from(error).status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{shown}"
            );
        }
    }

    #[test]
    fn sqlstates_of_lost_connections_and_shutdowns_are_unavailable() {
        // 08006 connection failure, 08001 cannot connect, 57P01 admin shutdown,
        // 57P02 crash shutdown, 57P03 cannot connect now (starting up or shutting down).
        // 55P03 lock not available (the lock timeout).
        for code in ["08006", "08001", "57P01", "57P02", "57P03", "55P03"] {
            assert!(is_unavailable_code(Some(code)), "{code}");
        }
        // Unique violation, serialization failure, and a cancelled statement (class 57, but
        // not 57P): errors of the request, not of the database's reachability.
        for code in ["23505", "40001", "57014"] {
            assert!(!is_unavailable_code(Some(code)), "{code}");
        }
        assert!(!is_unavailable_code(None));
    }
}
