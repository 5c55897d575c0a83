//! The invoice timeline: its events, newest first, and the comments written on it.

use chrono::{DateTime, Utc};

use super::invoices::invoice_not_found;
use crate::domain::event::{CommentText, EventChanges, EventType, InvoiceEvent};
use crate::domain::ids::{EventId, InvoiceId, OrganizationId};
use crate::error::{ApiError, Clash, Missing, Quota, Resource};
use crate::repository::{Db, TimelinePage, Tx};

/// Writes a comment on the invoice's timeline.
#[tracing::instrument(skip_all)]
pub async fn comment(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    text: CommentText,
    now: DateTime<Utc>,
) -> Result<InvoiceEvent, ApiError> {
    let revision = tx
        .invoice_revision(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    let held = tx.comments_held(organization_id, invoice_id).await?;
    Quota::Comments.admits_one_more(held, invoice_id.as_str())?;
    let message = InvoiceEvent {
        id: EventId::generate(),
        invoice_id: Some(invoice_id.clone()),
        event_type: EventType::TimelineCommentCreated,
        revision,
        changes: EventChanges::default(),
        message: Some(text.into_string()),
        occurred_time: now,
        item: None,
        item_before: None,
        cause: None,
    };
    tx.record_event(organization_id, &message).await?;
    Ok(message)
}

/// A page of the invoice's timeline, newest first.
#[tracing::instrument(skip_all)]
pub async fn timeline(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    limit: i64,
    offset: i64,
) -> Result<TimelinePage, ApiError> {
    db.read(async |snapshot| (snapshot.timeline(organization_id, invoice_id, limit, offset)).await)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}

/// One message of the invoice's timeline.
#[tracing::instrument(skip_all)]
pub async fn message(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    message_id: &EventId,
) -> Result<InvoiceEvent, ApiError> {
    db.find_timeline_message(organization_id, invoice_id, message_id)
        .await?
        .ok_or_else(|| message_not_found(invoice_id.as_str(), message_id.as_str()))
}

/// Deletes a comment; the events of changes stay (409), since receivers and the timeline
/// depend on them.
#[tracing::instrument(skip_all)]
pub async fn delete_comment(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    message_id: &EventId,
) -> Result<(), ApiError> {
    let found = tx
        .delete_comment(organization_id, invoice_id, message_id)
        .await?
        .ok_or_else(|| message_not_found(invoice_id.as_str(), message_id.as_str()))?;
    if found.event_type == EventType::TimelineCommentCreated {
        Ok(())
    } else {
        Err(ApiError::Conflict(Clash::NotAComment {
            message: message_id.to_string(),
            event_type: found.event_type,
        }))
    }
}

/// The 404 for a timeline message the invoice does not have.
pub fn message_not_found(invoice_id: &str, message_id: &str) -> ApiError {
    ApiError::NotFound(Missing::within(
        Resource::TimelineMessage,
        message_id,
        invoice_id,
    ))
}
