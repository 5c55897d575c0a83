//! The request timeout: a request still running after `REQUEST_TIMEOUT_SECS` is answered 503
//! problem JSON and dropped, which rolls back a transaction it had open (unless the drop comes
//! while its `COMMIT` is already on the way).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::failure::Rejection;
use super::state::AppState;

/// Runs the request, or answers 503 when it takes longer than the state's timeout.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(seconds = limit.as_secs_f64(), "request timed out");
            Rejection::TimedOut(limit.as_secs()).into_response()
        }
    }
}
