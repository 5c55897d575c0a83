//! Invoice item use cases. Every write goes through the one write path
//! ([`super::item_writes`]): the invoice row locked, what the change moves repriced and stored
//! with the new totals, revision and event, all in one transaction.

use super::invoices::invoice_not_found;
use super::item_reads::ItemReads;
use super::item_writes::{ItemWrite, write_item};
use crate::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice_item::{InvoiceItem, ItemInput};
use crate::domain::precondition::ExpectedVersion;
use crate::error::{ApiError, Resource};
use crate::repository::{Db, ItemPage, Tx};

pub use super::item_writes::item_not_found;

/// Adds an item to a draft invoice, in the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn create_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    input: ItemInput,
) -> Result<InvoiceItem, ApiError> {
    write_item(tx, organization_id, invoice_id, &ItemWrite::create(input)).await
}

/// Replaces every field of an item of a draft invoice, in the caller's transaction; with
/// `if_match`, only the version it names (412 otherwise).
#[tracing::instrument(skip_all)]
pub async fn replace_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
    input: ItemInput,
    if_match: Option<&ExpectedVersion>,
) -> Result<InvoiceItem, ApiError> {
    let write = ItemWrite::Replace {
        item_id: item_id.clone(),
        input,
        if_match: if_match.cloned(),
        terms: None,
    };
    write_item(tx, organization_id, invoice_id, &write).await
}

/// Deletes an item of a draft invoice, in the caller's transaction; with `if_match`, only the
/// version it names (412 otherwise).
#[tracing::instrument(skip_all)]
pub async fn delete_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
    if_match: Option<&ExpectedVersion>,
) -> Result<(), ApiError> {
    let write = ItemWrite::Delete {
        item_id: item_id.clone(),
        if_match: if_match.cloned(),
    };
    write_item(tx, organization_id, invoice_id, &write)
        .await
        .map(drop)
}

/// One item of an invoice, read with the reads made beside it.
#[tracing::instrument(skip_all)]
pub async fn get_item(
    reads: &ItemReads,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
) -> Result<InvoiceItem, ApiError> {
    reads
        .item(organization_id, item_id)
        .await?
        .filter(|item| item.invoice_id == *invoice_id)
        .ok_or_else(|| item_not_found(invoice_id, item_id))
}

/// One item of the organization by its id alone, whatever its invoice.
#[tracing::instrument(skip_all)]
pub async fn get_item_by_id(
    db: &Db,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
) -> Result<InvoiceItem, ApiError> {
    db.find_item_by_id(organization_id, item_id)
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Item, item_id))
}

/// A page of the organization's items (of one invoice, when given), oldest first, after the
/// item `after` when given: a cursor page, which does not shift as items come and go before
/// it. An `after` that names no item of the organization is 404.
#[tracing::instrument(skip_all)]
pub async fn list_items_after(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: Option<&InvoiceId>,
    after: Option<&InvoiceItemId>,
    limit: i64,
) -> Result<Vec<InvoiceItem>, ApiError> {
    db.items_after(organization_id, invoice_id, after, limit)
        .await?
        .ok_or_else(|| {
            let after = after.map_or("", InvoiceItemId::as_str);
            ApiError::not_found(Resource::Item, after)
        })
}

/// A page of an invoice's items.
#[tracing::instrument(skip_all)]
pub async fn list_items(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    limit: i64,
    offset: i64,
) -> Result<ItemPage, ApiError> {
    db.list_items(organization_id, invoice_id, limit, offset)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}
