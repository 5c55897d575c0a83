//! `GET /health`: whether the server and its database answer. No credentials.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::Problem;
use super::respond::json_response;
use super::state::AppState;
use crate::error::ApiError;
use crate::http::failure::Failure;

/// How long the health check waits for the database.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Tells whether the server and its database answer.
///
/// 200 `{"status":"ok"}` when the database answers, else 503 problem JSON.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "GetHealth",
    tag = "Service",
    security(()),
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn health(State(state): State<AppState>) -> Result<Response, Failure> {
    state
        .db
        .ping(DATABASE_TIMEOUT)
        .await
        .map_err(ApiError::Unavailable)?;
    Ok(json_response(StatusCode::OK, &Health { status: "ok" }))
}

/// The answer of a healthy server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}
