//! The event of each change of an invoice or its items, written in the change's transaction.

use chrono::{DateTime, Utc};

use crate::domain::event::{EventChanges, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{EventId, InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::error::ApiError;
use crate::repository::Tx;

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
        invoice_id: Some(invoice_id.clone()),
        event_type,
        revision,
        changes,
        message: None,
        occurred_time,
        item: None,
        item_before: None,
        cause: None,
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
        (
            InvoiceField::CustomerElectronicAddress,
            before.parties.customer_electronic_address != after.parties.customer_electronic_address,
        ),
        (
            InvoiceField::BuyerReference,
            before.parties.buyer_reference != after.parties.buyer_reference,
        ),
        (InvoiceField::Status, before.status != after.status),
        (InvoiceField::Totals, before.totals != after.totals),
        (InvoiceField::Payments, before.payments != after.payments),
    ];
    differs
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect()
}
