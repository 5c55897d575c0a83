//! `GET /health`: whether the server and its database answer. No credentials.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::wire::json_response;
use crate::error::ApiError;

/// How long the health check waits for the database.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 `{"status":"ok"}` when the database answers, else 503 problem JSON.
pub async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .db
        .ping(DATABASE_TIMEOUT)
        .await
        .map_err(ApiError::Unavailable)?;
    Ok(json_response(StatusCode::OK, &json!({"status": "ok"})))
}
