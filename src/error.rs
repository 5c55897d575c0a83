//! The one public error type. It knows no wire: each edge renders it its own way (the
//! Rebilly edge as RFC 7807 problem JSON, `http::rebilly::error_response`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One bad field of a 422: `field` in dot notation (`tax.amount`, `discounts.1.value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidField {
    /// The field's path.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidField {
    /// A bad field and its message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// When a refused organization may write again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// How long from the decision until a write is admitted.
    pub wait: Duration,
    /// When that is, since the Unix epoch.
    pub admitted_at: Duration,
}

impl Refusal {
    /// Whole seconds to wait, rounded up and at least 1, as `Retry-After` says it (waiting
    /// less would be refused again).
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.wait).max(1)
    }

    /// The Unix time, in whole seconds rounded up, when a write is admitted again, as
    /// Rebilly's `X-RateLimit-Retry-After` says it.
    pub fn admitted_at_unix_secs(&self) -> u64 {
        ceil_secs(self.admitted_at)
    }

    /// The same moment in RFC 3339 (`2026-11-21T14:15:22Z`), for people.
    pub fn admitted_at_rfc3339(&self) -> String {
        i64::try_from(self.admitted_at_unix_secs())
            .ok()
            .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
            .map_or_else(String::new, |time| {
                time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// A field the core checks itself, against what is stored or against other fields, named
/// here by what it is in the domain; each edge names it in its own words (the Rebilly edge:
/// `productId`, `tax.amount`, `dueTime`, the `Idempotency-Key` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainField {
    /// The product an item bills.
    ItemProduct,
    /// The amount of an item's manual tax.
    ItemManualTaxAmount,
    /// When an issued invoice is due.
    InvoiceDueTime,
    /// The client's name for one request, kept to answer its retries.
    IdempotencyKey,
    /// Where a webhook sends its deliveries.
    WebhookUrl,
}

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
    /// 412: the client's precondition names another version of the resource (this one, such
    /// as `Item ii_...`) than the current one, or the resource does not exist.
    #[error("{0} has changed since the version the precondition names (or does not exist)")]
    VersionMismatch(String),
    /// 409: the resource's state forbids the change (e.g. items of an issued invoice).
    #[error("{0}")]
    Conflict(String),
    /// 409: another request with the same idempotency key is still being worked on.
    #[error("a request with the same idempotency key is still being processed")]
    RequestInFlight,
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
    /// 431: too many header fields, or too many bytes of them.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 406: `Accept` accepts none of the representations the resource has.
    #[error("This resource is available as {}; the Accept header accepts none of them.", .0.join(" and "))]
    NotAcceptable(Vec<&'static str>),
    /// 415: the body is not sent as `application/json`.
    #[error("The request body must be sent as application/json.")]
    UnsupportedMediaType,
    /// 422: a field the core checks breaks its rule.
    #[error("{message}")]
    InvalidInput {
        /// The field, in the domain's terms.
        field: DomainField,
        /// What is wrong with it.
        message: String,
    },
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

    /// A 422 naming one field the core checks.
    pub fn invalid_input(field: DomainField, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            message: message.into(),
        }
    }

    /// A 422 naming one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![InvalidField::new(field, message)])
    }

    /// Whether the failure is the server's (the database away, a timeout, a fault), so that
    /// the same request may succeed later.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_)
                | Self::DatabaseUnreachable
                | Self::TimedOut(_)
                | Self::Internal(_)
        )
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

/// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
/// cannot connect now), and 55P03 (a lock not granted within the lock timeout).
fn is_unavailable_code(code: Option<&str>) -> bool {
    code.is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "55P03")
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
            assert!(
                matches!(ApiError::from(error), ApiError::Unavailable(_)),
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
            assert!(
                matches!(ApiError::from(error), ApiError::Internal(_)),
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
