//! `/invoices/{id}/timeline`: the invoice's events, newest first, and comments on it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::events::{TimelineResponse, timeline_message_path};
use super::fields::{FieldReader, RawObject, canonical_body, string};
use super::openapi::schema::{closed_object, named_schema, not_blank, text, with_read_only};
use super::pagination::Page;
use super::paths::{IdPath, InvoicePartPath};
use super::wire::{created, json_ok};
use crate::domain::event::CommentText;
use crate::domain::ids::{EventId, InvoiceId};
use crate::domain::text::looks_blank;
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, run_unkeyed_write, run_write};
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::service::timeline as service;

/// Read-only fields of a timeline message: accepted and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "type",
    "triggeredBy",
    "extraData",
    "occurredTime",
    "revision",
    "changes",
    "_links",
];

/// Path of one timeline message.
type MessagePath = InvoicePartPath<EventId>;

/// Lists an invoice's timeline: what happened to it, and comments.
///
/// Newest first, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/invoices/{id}/timeline",
    operation_id = "GetInvoiceTimelineCollection",
    tag = "Invoices timeline",
    params(IdPath<InvoiceId>, Page),
    responses(
        (status = 200, description = "A page of the invoice's timeline", body = Vec<TimelineResponse>),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    query: Query,
) -> Result<Response, Failure> {
    let page = Page::only(&query)?;
    let invoice_id = path.id()?;
    let found = service::timeline(
        &state.db,
        &principal.organization_id,
        &invoice_id,
        page.limit,
        page.offset,
    )
    .await?;
    let page = page.served(found.total, found.messages.len());
    Ok(page.answer_each(found.total, &found.messages, |message| {
        TimelineResponse::new(&state, &invoice_id, message)
    }))
}

/// Comments on an invoice.
///
/// A comment (`timeline-comment-created`).
#[utoipa::path(
    post,
    path = "/invoices/{id}/timeline",
    operation_id = "PostInvoiceTimeline",
    tag = "Invoices timeline",
    params(IdPath<InvoiceId>),
    request_body(content = CommentRequest, example = json!({"message": "Customer asked for a PO number."})),
    responses(
        (status = 201, description = "The comment", body = TimelineResponse),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice has 1,000 comments, the most its timeline may have", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let text = parse_comment(body)?;
    let invoice_id = path.id()?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let message = service::comment(tx, organization_id, &invoice_id, text, Utc::now()).await?;
        Ok(created(
            &state.url(&timeline_message_path(&invoice_id, &message.id)),
            &TimelineResponse::new(&state, &invoice_id, &message),
        ))
    })
    .await
}

/// Reads one message of an invoice's timeline.
#[utoipa::path(
    get,
    path = "/invoices/{id}/timeline/{messageId}",
    operation_id = "GetInvoiceTimeline",
    tag = "Invoices timeline",
    params(MessagePath),
    responses(
        (status = 200, description = "The message", body = TimelineResponse),
        (status = 404, description = "No such invoice or message", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<MessagePath>,
) -> Result<Response, Failure> {
    let (invoice_id, message_id) = path.ids()?;
    let message = service::message(
        &state.db,
        &principal.organization_id,
        &invoice_id,
        &message_id,
    )
    .await?;
    Ok(json_ok(&TimelineResponse::new(
        &state,
        &invoice_id,
        &message,
    )))
}

/// Deletes a comment of an invoice's timeline.
///
/// A comment only; the events of changes stay.
#[utoipa::path(
    delete,
    path = "/invoices/{id}/timeline/{messageId}",
    operation_id = "DeleteInvoiceTimeline",
    tag = "Invoices timeline",
    params(MessagePath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such invoice or message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message records a change, not a comment", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<MessagePath>,
) -> Result<Response, Failure> {
    let (invoice_id, message_id) = path.ids()?;
    let organization_id = &principal.organization_id;
    run_unkeyed_write(&state, &principal, async |tx| {
        service::delete_comment(tx, organization_id, &invoice_id, &message_id).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// A comment's text from a request body.
fn parse_comment(body: RawObject) -> Result<CommentText, ApiError> {
    let mut fields = FieldReader::new(body);
    let text = fields.required("message", |raw| {
        let text = string(raw)?;
        if looks_blank(&text) {
            return Err("must not be blank".into());
        }
        CommentText::parse(text)
    });
    fields.finish(READ_ONLY)?;
    // `finish` has refused a missing message.
    text.ok_or_else(|| ApiError::validation(Vec::new()))
}

named_schema!(
    /// The body of `POST /invoices/{id}/timeline`.
    CommentRequest => {
        let message = text(CommentText::MAX_CHARS).min_length(Some(1)).pattern(Some(not_blank()));
        with_read_only(closed_object(&["message"], [("message", message.into())]), READ_ONLY).into()
    }
);
