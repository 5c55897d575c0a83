//! Admission: what a request passes before its route runs, in one middleware: its head within
//! the limits, the database reachable where its route needs it, a place for the write limit's
//! decision, and its time bounded. One middleware where there were four, because each
//! `from_fn` middleware boxes the service below it, and that service's future, on every
//! request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use super::{availability, rate_limit, request_head, timeout};

/// Middleware: refuses a request whose head is over the limits (`request_head`), answers 503
/// at once while the database is unreachable (`availability`), runs the rest within the
/// state's timeout (`timeout`), and adds the write limit's headers to the answer of a write it
/// counted (`rate_limit`).
pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Err(rejection) = request_head::check(&request) {
        return rejection.into_response();
    }
    if let Some(rejection) = availability::refusal(&state.database, &request) {
        return rejection.into_response();
    }
    let slot = rate_limit::offer_slot(&mut request);
    let mut response = timeout::bounded(state.request_timeout, next.run(request)).await;
    rate_limit::add_decision_headers(slot.as_ref(), &mut response);
    availability::watch(&state.database, &state.db, &response);
    response
}
