//! Invoice use cases.

use chrono::Utc;

use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::{Invoice, InvoiceInput, InvoiceStatus, InvoiceTotals};
use crate::domain::invoice_item::InvoiceItem;
use crate::error::ApiError;
use crate::repository::Db;

/// Creates a draft invoice with no items.
#[tracing::instrument(skip_all)]
pub async fn create_invoice(
    db: &Db,
    organization_id: &OrganizationId,
    input: InvoiceInput,
) -> Result<Invoice, ApiError> {
    let now = Utc::now();
    let invoice = Invoice {
        id: InvoiceId::generate(),
        customer_id: input.customer_id,
        website_id: input.website_id,
        currency: input.currency,
        status: InvoiceStatus::Draft,
        totals: InvoiceTotals::default(),
        due_time: input.due_time,
        issued_time: None,
        notes: input.notes.map(|notes| notes.into_string()),
        po_number: input.po_number.map(|po_number| po_number.into_string()),
        revision: 0,
        created_time: now,
        updated_time: now,
    };
    db.insert_invoice(organization_id, &invoice).await?;
    Ok(invoice)
}

/// An invoice with its items, oldest first.
#[tracing::instrument(skip_all)]
pub async fn get_invoice(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<(Invoice, Vec<InvoiceItem>), ApiError> {
    // One snapshot, so that the totals shown are those of the items shown.
    let mut snapshot = db.snapshot().await?;
    let invoice = snapshot
        .find_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    let items = snapshot
        .items_of_invoice(organization_id, invoice_id, None, 0)
        .await?;
    snapshot.commit().await?;
    Ok((invoice, items))
}

/// The 404 for an invoice the organization does not have.
pub fn invoice_not_found(invoice_id: &str) -> ApiError {
    ApiError::NotFound(format!("No invoice with id {invoice_id}."))
}
