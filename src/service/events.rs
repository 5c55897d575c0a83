//! Events of invoices, written with each change, and the timeline read from them.

use chrono::{DateTime, Utc};

use super::invoices::invoice_not_found;
use crate::domain::event::{CommentText, EventChanges, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{EventId, InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::error::ApiError;
use crate::repository::{Db, TimelinePage, Tx};

/// Writes the event of a change to `invoice` (as it is after the change), in the change's
/// transaction.
pub(super) async fn record(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice: &Invoice,
    event_type: EventType,
    changes: EventChanges,
) -> Result<(), ApiError> {
    let revision = (invoice.revision, invoice.updated_time);
    record_at(
        tx,
        organization_id,
        &invoice.id,
        revision,
        event_type,
        changes,
    )
    .await
}

/// Writes the event of a change that left the invoice at `revision` at that time, in the
/// change's transaction.
pub(super) async fn record_at(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    (revision, occurred_time): (i64, DateTime<Utc>),
    event_type: EventType,
    changes: EventChanges,
) -> Result<(), ApiError> {
    let event = InvoiceEvent {
        id: EventId::generate(),
        invoice_id: invoice_id.clone(),
        event_type,
        revision,
        changes,
        message: None,
        occurred_time,
    };
    tx.record_event(organization_id, &event).await?;
    Ok(())
}

/// The invoice's own fields that differ between two versions of it.
pub(super) fn changed_fields(before: &Invoice, after: &Invoice) -> Vec<InvoiceField> {
    let differs = [
        (
            InvoiceField::Customer,
            before.customer_id != after.customer_id,
        ),
        (InvoiceField::Website, before.website_id != after.website_id),
        (InvoiceField::Currency, before.currency != after.currency),
        (InvoiceField::DueTime, before.due_time != after.due_time),
        (InvoiceField::Discounts, before.discounts != after.discounts),
        (InvoiceField::Tax, before.tax != after.tax),
        (InvoiceField::Notes, before.notes != after.notes),
        (InvoiceField::PoNumber, before.po_number != after.po_number),
        (
            InvoiceField::BillingAddress,
            before.parties.billing_address != after.parties.billing_address,
        ),
        (
            InvoiceField::DeliveryAddress,
            before.parties.delivery_address != after.parties.delivery_address,
        ),
        (
            InvoiceField::OrganizationTaxId,
            before.parties.organization_tax_id != after.parties.organization_tax_id,
        ),
        (
            InvoiceField::CustomerTaxId,
            before.parties.customer_tax_id != after.parties.customer_tax_id,
        ),
        (InvoiceField::Status, before.status != after.status),
        (InvoiceField::Totals, before.totals != after.totals),
    ];
    differs
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect()
}

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
    let message = InvoiceEvent {
        id: EventId::generate(),
        invoice_id: invoice_id.clone(),
        event_type: EventType::TimelineCommentCreated,
        revision,
        changes: EventChanges::default(),
        message: Some(text.into_string()),
        occurred_time: now,
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
    let mut snapshot = db.snapshot().await?;
    let page = snapshot
        .timeline(organization_id, invoice_id, limit, offset)
        .await?;
    snapshot.commit().await?;
    page.ok_or_else(|| invoice_not_found(invoice_id.as_str()))
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
        Err(ApiError::Conflict(format!(
            "Message {message_id} records the invoice's {}: only a comment can be deleted.",
            found.event_type.as_str()
        )))
    }
}

/// The 404 for a timeline message the invoice does not have.
pub fn message_not_found(invoice_id: &str, message_id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "Invoice {invoice_id} has no timeline message with id {message_id}."
    ))
}
