//! `/tracking/webhooks`: the delivery log, one entry per attempt (Rebilly's WebhookTracking),
//! and resending an entry's event.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::pagination::Page;
use super::paths::IdPath;
use super::wire::{Link, json_ok, time};
use crate::domain::ids::{AttemptId, EventId, OrganizationId, WebhookId};
use crate::http::auth::Principal;
use crate::http::extract::{Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, run_write};
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::repository::Attempt;
use crate::service::webhooks as service;

/// Lists the webhook delivery log.
///
/// Newest first, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/tracking/webhooks",
    operation_id = "GetTrackingWebhookCollection",
    tag = "Tracking",
    params(Page),
    responses(
        (status = 200, description = "A page of the delivery log", body = Vec<TrackingResponse>),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Query,
) -> Result<Response, Failure> {
    let page = Page::only(&query)?;
    let organization_id = &principal.organization_id;
    let found = service::list_attempts(&state.db, organization_id, page.limit, page.offset).await?;
    let page = page.served(found.total, found.attempts.len());
    Ok(page.answer_each(found.total, &found.attempts, |attempt| {
        TrackingResponse::new(&state, organization_id, attempt)
    }))
}

/// Reads one entry of the webhook delivery log.
#[utoipa::path(
    get,
    path = "/tracking/webhooks/{id}",
    operation_id = "GetTrackingWebhook",
    tag = "Tracking",
    params(IdPath<AttemptId>),
    responses(
        (status = 200, description = "The log entry", body = TrackingResponse),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<AttemptId>>,
) -> Result<Response, Failure> {
    let attempt_id = path.id()?;
    let organization_id = &principal.organization_id;
    let attempt = service::get_attempt(&state.db, organization_id, &attempt_id).await?;
    Ok(json_ok(&TrackingResponse::new(
        &state,
        organization_id,
        &attempt,
    )))
}

/// Sends a logged delivery's event again.
///
/// Sends the entry's event to its webhook again, as a new delivery (204; it is made in the
/// background, and logged like any other).
#[utoipa::path(
    post,
    path = "/tracking/webhooks/{id}/resend",
    operation_id = "PostTrackingWebhookResendRequest",
    tag = "Tracking",
    params(IdPath<AttemptId>),
    responses(
        (status = 204, description = "The resend is scheduled"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry's webhook has been deleted, or has 100 deliveries waiting", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn resend(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<AttemptId>>,
    idempotency: Idempotency,
) -> Result<Response, Failure> {
    let attempt_id = path.id()?;
    run_write(&state, &principal, idempotency.request(None), async |tx| {
        service::resend(tx, &principal.organization_id, &attempt_id).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// The path of a log entry, relative to the server root.
fn tracking_path(attempt_id: &AttemptId) -> String {
    format!("/tracking/webhooks/{attempt_id}")
}

/// An entry of the delivery log on the wire (Rebilly's WebhookTracking), with the webhook and
/// event it belongs to and, when no response came, why.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookTracking)]
pub struct TrackingResponse {
    #[schema(value_type = String, example = "hook_log_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: AttemptId,
    /// The response's status; `null` when none came (see `error`).
    status: Option<i32>,
    /// Why no response came: refused address, connection, timeout.
    error: Option<String>,
    /// Milliseconds.
    duration: i32,
    #[serde(serialize_with = "time")]
    initiated_time: DateTime<Utc>,
    url: String,
    method: String,
    /// The body sent.
    request: String,
    /// The response's body, at most 16 KiB of it.
    response: Option<String>,
    request_headers: BTreeMap<String, String>,
    response_headers: Option<BTreeMap<String, String>>,
    /// The invoice; for a pending item's event, the item.
    entity_id: String,
    #[schema(value_type = String)]
    organization_id: OrganizationId,
    event_type: &'static str,
    /// The event (also the delivery's `webhook-id`).
    #[schema(value_type = String)]
    event_id: EventId,
    #[schema(value_type = String)]
    webhook_id: WebhookId,
    /// Always `webhooks`.
    source: &'static str,
    /// Which attempt at this delivery, from 1.
    attempt: i32,
    #[serde(serialize_with = "time")]
    sent_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl TrackingResponse {
    fn new(state: &AppState, organization_id: &OrganizationId, attempt: &Attempt) -> Self {
        let headers = |pairs: &[(String, String)]| pairs.iter().cloned().collect();
        Self {
            id: attempt.id.clone(),
            status: attempt.status,
            error: attempt.error.clone(),
            duration: attempt.duration_ms,
            initiated_time: attempt.initiated_time,
            url: attempt.url.clone(),
            method: attempt.method.clone(),
            request: attempt.request.clone(),
            response: attempt.response.clone(),
            request_headers: headers(&attempt.request_headers),
            response_headers: attempt.response_headers.as_deref().map(headers),
            entity_id: attempt.invoice_id.as_ref().map_or_else(
                || {
                    attempt
                        .item_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                },
                ToString::to_string,
            ),
            organization_id: organization_id.clone(),
            event_type: attempt.event_type.as_str(),
            event_id: attempt.event_id.clone(),
            webhook_id: attempt.webhook_id.clone(),
            source: "webhooks",
            attempt: attempt.attempt,
            sent_time: attempt.sent_time,
            created_time: attempt.sent_time,
            updated_time: attempt.sent_time,
            links: vec![Link::to(state, "self", &tracking_path(&attempt.id))],
        }
    }
}
