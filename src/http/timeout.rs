//! The request timeout: a request still running after `REQUEST_TIMEOUT_SECS` is answered 503
//! problem JSON and dropped, which rolls back a transaction it had open (unless the drop comes
//! while its `COMMIT` is already on the way).

use std::time::Duration;

use axum::response::{IntoResponse, Response};

use super::failure::Rejection;

/// The answer, or 503 when it takes longer than `limit`.
pub async fn bounded(limit: Duration, answer: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, answer).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(seconds = limit.as_secs_f64(), "request timed out");
            Rejection::TimedOut(limit.as_secs()).into_response()
        }
    }
}
