//! The past-due check: invoices left unpaid past their due time become past due, once, however
//! many replicas look.

use chrono::{DateTime, Utc};

use super::events::{changed_fields, record};
use crate::domain::event::{EventChanges, EventType};
use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::InvoiceStatus;
use crate::error::ApiError;
use crate::repository::Db;

/// How many overdue invoices one look of [`mark_past_due`] reads at a time.
const PAST_DUE_PER_LOOK: i64 = 100;

/// Moves every `unpaid` or `partially-paid` invoice with something due whose due time is
/// before `now` to `past-due`, with its `invoice-past-due` event, each in a transaction of its
/// own (of its organization alone); how many. Run by every replica: each invoice is locked
/// with its condition checked again and passed over when another holds it, and a moved invoice
/// no longer matches, so none turns past due twice; the work is in the rows, so a restart
/// misses none. One that cannot be moved is logged and passed over until the next look.
#[tracing::instrument(skip_all)]
pub async fn mark_past_due(db: &Db, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let mut moved = 0;
    loop {
        let overdue = db.overdue_invoices(now, PAST_DUE_PER_LOOK).await?;
        let mut moved_now = 0;
        let mut failed = false;
        for (organization_id, invoice_id) in &overdue {
            match mark_one_past_due(db, organization_id, invoice_id, now).await {
                Ok(true) => moved_now += 1,
                Ok(false) => {}
                Err(error) => {
                    failed = true;
                    tracing::warn!(%error, invoice = %invoice_id, "could not mark the invoice past due");
                }
            }
        }
        moved += moved_now;
        let more = overdue.len() as i64 == PAST_DUE_PER_LOOK;
        if !more || failed || moved_now == 0 {
            return Ok(moved);
        }
    }
}

/// Moves one overdue invoice to `past-due`, in its own transaction; `false` when another
/// transaction holds it or it is no longer overdue.
async fn mark_one_past_due(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let mut tx = db.begin().await?;
    if !tx.lock_if_overdue(organization_id, invoice_id, now).await? {
        return Ok(false);
    }
    let Some(mut invoice) = tx.lock_invoice(organization_id, invoice_id).await? else {
        return Ok(false);
    };
    let before = invoice.clone();
    invoice.status = InvoiceStatus::PastDue;
    invoice.updated_time = Utc::now();
    invoice.revision += 1;
    tx.update_invoice(organization_id, &invoice).await?;
    let changes = EventChanges {
        fields: changed_fields(&before, &invoice),
        ..EventChanges::default()
    };
    record(
        &mut tx,
        organization_id,
        &invoice,
        EventType::InvoicePastDue,
        changes,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
