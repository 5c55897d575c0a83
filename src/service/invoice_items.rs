//! Invoice item use cases. Every change locks the invoice row, reprices what the change moves
//! and stores it with the new totals and revision, all in one transaction.

use chrono::{DateTime, Utc};

use rust_decimal::Decimal;

use super::invoices::invoice_not_found;
use super::repricing::{ItemChange, store_item_change};
use crate::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId, ProductId};
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemExtras, ItemInput};
use crate::domain::precondition::ExpectedVersion;
use crate::domain::tax::ItemTax;
use crate::error::{ApiError, Clash, DomainField, DraftChange, Missing, Resource, Rule};
use crate::repository::{Db, ItemPage, Tx};

/// Adds an item to a draft invoice, in the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn create_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    input: ItemInput,
) -> Result<InvoiceItem, ApiError> {
    ensure_product(tx, organization_id, input.product_id.as_ref()).await?;
    let invoice = locked_draft(tx, organization_id, invoice_id).await?;
    store_new_item(tx, organization_id, &invoice, input).await
}

/// Adds an item to a draft invoice, in the caller's transaction, made by `build` from the
/// invoice as it stands under its lock (an edge whose amounts depend on the invoice's currency,
/// or that checks the invoice's customer). Returns the invoice too.
#[tracing::instrument(skip_all)]
pub async fn create_item_with<E: From<ApiError>>(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    build: impl FnOnce(&Invoice) -> Result<ItemInput, E>,
) -> Result<(Invoice, InvoiceItem), E> {
    let invoice = locked_draft(tx, organization_id, invoice_id).await?;
    let input = build(&invoice)?;
    ensure_product(tx, organization_id, input.product_id.as_ref()).await?;
    let item = store_new_item(tx, organization_id, &invoice, input).await?;
    Ok((invoice, item))
}

/// Moves the invoice's customer's pending items of its currency onto the draft, oldest first,
/// keeping their ids and creation times, in the caller's transaction: each is priced on the
/// invoice and written with its `invoice-modified` event, as if created there. Returns the
/// invoice and all its items after the move.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
pub async fn take_in_pending_items(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<(Invoice, Vec<InvoiceItem>), ApiError> {
    let invoice = locked_draft(tx, organization_id, invoice_id).await?;
    let pending = tx
        .take_pending_items(organization_id, &invoice.customer_id, invoice.currency)
        .await?;
    for item in pending {
        // Each change moves the totals and the revision: priced on the invoice as it now is.
        let invoice = locked_draft(tx, organization_id, invoice_id).await?;
        let input = item.as_input();
        store_item(
            tx,
            organization_id,
            &invoice,
            item.id,
            input,
            item.created_time,
        )
        .await?;
    }
    let invoice = locked_draft(tx, organization_id, invoice_id).await?;
    let items = tx
        .items_of_invoices(organization_id, std::slice::from_ref(invoice_id), None, 0)
        .await?;
    Ok((invoice, items))
}

async fn store_new_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice: &Invoice,
    input: ItemInput,
) -> Result<InvoiceItem, ApiError> {
    store_item(
        tx,
        organization_id,
        invoice,
        InvoiceItemId::generate(),
        input,
        Utc::now(),
    )
    .await
}

/// Stores a new item of the invoice, created at `created_time`.
async fn store_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice: &Invoice,
    id: InvoiceItemId,
    input: ItemInput,
    created_time: DateTime<Utc>,
) -> Result<InvoiceItem, ApiError> {
    let now = Utc::now();
    let mut item = unpriced_item(id, invoice, input, ItemExtras::default(), created_time, now)?;
    let change = ItemChange::Save {
        item: &mut item,
        old: None,
    };
    store_item_change(tx, organization_id, invoice, change, now).await?;
    Ok(item)
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
    ensure_product(tx, organization_id, input.product_id.as_ref()).await?;
    let (invoice, old) = lock(tx, organization_id, invoice_id, item_id, if_match).await?;
    let now = Utc::now();
    let mut item = replacement(&invoice, &old, input, now)?;
    let change = ItemChange::Save {
        item: &mut item,
        old: Some(&old),
    };
    store_item_change(tx, organization_id, &invoice, change, now).await?;
    Ok(item)
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
    let (invoice, old) = lock(tx, organization_id, invoice_id, item_id, if_match).await?;
    let change = ItemChange::Delete(&old);
    store_item_change(tx, organization_id, &invoice, change, Utc::now()).await?;
    Ok(())
}

/// One item of an invoice.
#[tracing::instrument(skip_all)]
pub async fn get_item(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
) -> Result<InvoiceItem, ApiError> {
    db.find_item(organization_id, invoice_id, item_id)
        .await?
        .ok_or_else(|| item_not_found(invoice_id.as_str(), item_id.as_str()))
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
    let mut snapshot = db.snapshot().await?;
    let page = snapshot
        .list_items(organization_id, invoice_id, limit, offset)
        .await?;
    snapshot.commit().await?;
    page.ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}

/// The 404 for an item the invoice does not have.
pub fn item_not_found(invoice_id: &str, item_id: &str) -> ApiError {
    ApiError::NotFound(Missing::within(Resource::Item, item_id, invoice_id))
}

/// Locks the invoice, then reads the item in a statement of its own (in this order, the item
/// read is the one the last holder of the lock left), then checks `if_match` against it (412)
/// and that the invoice is a draft (409): lookup, precondition, state, in that order.
async fn lock(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
    if_match: Option<&ExpectedVersion>,
) -> Result<(Invoice, InvoiceItem), ApiError> {
    let invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    let item = tx
        .locked_item(organization_id, invoice_id, item_id)
        .await?
        .ok_or_else(|| item_not_found(invoice_id.as_str(), item_id.as_str()))?;
    ensure_version(&item, if_match)?;
    Ok((ensure_draft(invoice)?, item))
}

/// 412 when `if_match` names a version of the item other than its own.
pub(super) fn ensure_version(
    item: &InvoiceItem,
    if_match: Option<&ExpectedVersion>,
) -> Result<(), ApiError> {
    match if_match {
        Some(if_match) if !if_match.admits(Some(item.revision)) => {
            Err(ApiError::version_mismatch(Resource::Item, &item.id))
        }
        _ => Ok(()),
    }
}

/// `old` replaced by `input` on `invoice`, before pricing: its id, creation time and (unless
/// the input gives them) extras kept, one revision on.
pub(super) fn replacement(
    invoice: &Invoice,
    old: &InvoiceItem,
    input: ItemInput,
    now: DateTime<Utc>,
) -> Result<InvoiceItem, ApiError> {
    let kept = old.extras.clone();
    let mut item = unpriced_item(old.id.clone(), invoice, input, kept, old.created_time, now)?;
    item.revision = old.revision + 1;
    Ok(item)
}

/// Locks a draft invoice: 404 when there is none, 409 when it is no longer a draft.
async fn locked_draft(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<Invoice, ApiError> {
    ensure_draft(locked_invoice(tx, organization_id, invoice_id).await?)
}

async fn locked_invoice(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<Invoice, ApiError> {
    tx.lock_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}

/// An item's `productId` must name a product of the organization (422 on it otherwise). It is
/// checked before the invoice is looked up, as body validation answers before resource lookup.
/// Products are never deleted, so the answer holds until the item is written; the foreign key
/// `invoice_items_product_fk` backs it.
pub(super) async fn ensure_product(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    product_id: Option<&ProductId>,
) -> Result<(), ApiError> {
    match product_id {
        Some(product_id) if !tx.product_exists(organization_id, product_id).await? => {
            Err(unknown_product())
        }
        _ => Ok(()),
    }
}

/// The 422 for an item whose `productId` names no product of the organization.
pub(super) fn unknown_product() -> ApiError {
    ApiError::invalid_input(DomainField::ItemProduct, Rule::UnknownProduct)
}

/// 409 unless the invoice is a draft, naming its status.
fn ensure_draft(invoice: Invoice) -> Result<Invoice, ApiError> {
    draft_only(&invoice)?;
    Ok(invoice)
}

/// 409 unless the invoice is a draft, naming its status.
pub(super) fn draft_only(invoice: &Invoice) -> Result<(), ApiError> {
    if invoice.status == InvoiceStatus::Draft {
        Ok(())
    } else {
        Err(ApiError::Conflict(Clash::NotDraft {
            invoice: invoice.id.to_string(),
            status: invoice.status,
            change: DraftChange::Items,
        }))
    }
}

/// An item as asked for, before pricing fills its price, discount share and tax, with the
/// extras the input gives or else `kept_extras`. A manual tax with more decimals than the
/// currency has is refused here, the first point where the currency is known.
pub(super) fn unpriced_item(
    id: InvoiceItemId,
    invoice: &Invoice,
    input: ItemInput,
    kept_extras: ItemExtras,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
) -> Result<InvoiceItem, ApiError> {
    let currency = invoice.currency;
    if let Some(tax) = &input.tax
        && !tax.fits_currency(currency.minor_units())
    {
        return Err(ApiError::invalid_input(
            DomainField::ItemManualTaxAmount,
            Rule::TooPrecise { currency },
        ));
    }
    Ok(InvoiceItem {
        id,
        invoice_id: invoice.id.clone(),
        item_type: input.item_type,
        description: input.description,
        unit_price: input.unit_price,
        quantity: input.quantity,
        price: Decimal::ZERO,
        product_id: input.product_id,
        discount_amount: Decimal::ZERO,
        period_start_time: input.period_start_time,
        period_end_time: input.period_end_time,
        period_number: input.period_number,
        tax: input.tax.map(ItemTax::Manual),
        extras: input.extras.unwrap_or(kept_extras),
        revision: 0,
        created_time,
        updated_time,
    })
}
