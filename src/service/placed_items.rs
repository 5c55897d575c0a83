//! Items wherever they are, on an invoice or pending: the use cases of a dialect that names an
//! item by its id alone and lets it wait for an invoice (the Stripe-style one). A new item is
//! placed, and an item on an invoice changed, through the one item write path
//! ([`super::item_writes`]), on the lanes when the caller keeps no answer.

use chrono::{DateTime, Utc};

use super::invoice_items;
use super::invoices::{InvoiceWithItems, invoice_not_found, invoices_with_newest_items};
use super::item_batches::ItemLanes;
use super::item_writes::{InvoiceTerms, ItemWrite, draft_only, unknown_product};
use super::pricing::item_price;
use crate::domain::currency::Currency;
use crate::domain::event::{EventType, InvoiceEvent};
use crate::domain::ids::ProductId;
use crate::domain::ids::{CustomerId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice_item::{ItemExtras, ItemInput, PendingItem, PlacedItem};
use crate::domain::precondition::ExpectedVersion;
use crate::error::{ApiError, Clash, DomainField, Quota, Resource, Rule};
use crate::repository::{Cursor, Db, ItemListing, Tx};

/// Items, and the invoices they are on when the caller asks for them.
pub type ItemsWithInvoices = (Vec<PlacedItem>, Vec<InvoiceWithItems>);

/// The 404 for an item the organization does not have.
pub fn item_not_found(item_id: &InvoiceItemId) -> ApiError {
    ApiError::not_found(Resource::Item, item_id)
}

/// Where a new item goes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// On this draft invoice, which must bill the item's customer.
    Invoice(InvoiceId),
    /// Pending, in this currency, until an invoice of its customer takes it in.
    Pending(Currency),
}

/// Places a new item for `customer_id` where `destination` says: on a draft invoice of that
/// customer (404 without one, 409 unless it is a draft, 422 on the invoice when it bills
/// another customer), or pending. `build` makes the item in the currency it is priced in (the
/// invoice's, or the pending item's own), once. The write is done in `tx` when the caller has
/// one (its answer is kept with it); else an item on an invoice is coalesced with the
/// invoice's concurrent writes, and a pending one has a transaction of its own.
#[tracing::instrument(skip_all)]
pub async fn place_item<E: From<ApiError>>(
    db: &Db,
    lanes: &ItemLanes,
    mut tx: Option<&mut Tx>,
    organization_id: &OrganizationId,
    customer_id: CustomerId,
    destination: Destination,
    build: impl FnOnce(Currency) -> Result<ItemInput, E>,
) -> Result<PlacedItem, E> {
    let invoice_id = match destination {
        Destination::Invoice(invoice_id) => invoice_id,
        Destination::Pending(currency) => {
            let input = build(currency)?;
            let item = match tx {
                Some(tx) => {
                    create_pending_item(tx, organization_id, customer_id, currency, input).await?
                }
                None => {
                    let mut own = db.begin().await.map_err(ApiError::from)?;
                    let item = create_pending_item(
                        &mut own,
                        organization_id,
                        customer_id,
                        currency,
                        input,
                    )
                    .await?;
                    own.commit().await.map_err(ApiError::from)?;
                    item
                }
            };
            return Ok(PlacedItem::Pending(Box::new(item)));
        }
    };
    // Read without its lock, which the write takes: the write checks again that the invoice
    // still has the customer and currency the item was made for.
    let invoice = db
        .read_in(tx.as_deref_mut(), async |tx| {
            tx.find_invoice(organization_id, &invoice_id).await
        })
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    draft_only(&invoice)?;
    if invoice.customer_id != customer_id {
        return Err(ApiError::invalid_input(DomainField::ItemInvoice, Rule::OtherCustomer).into());
    }
    let input = build(invoice.currency)?;
    let write = ItemWrite::Create {
        id: InvoiceItemId::generate(),
        pending: None,
        input,
        terms: Some(InvoiceTerms {
            customer_id,
            currency: invoice.currency,
        }),
    };
    let item = lanes.write(tx, organization_id, &invoice_id, write).await?;
    Ok(PlacedItem::OnInvoice {
        item: Box::new(item),
        customer_id: invoice.customer_id,
        currency: invoice.currency,
    })
}

/// Adds a pending item for `customer_id` in `currency`, with its `item-created` event, in the
/// caller's transaction. It has no invoice to be taxed on or to number its period: an input
/// with a manual tax or a period number is refused (409), as only an item on an invoice can
/// have them.
#[tracing::instrument(skip_all)]
pub async fn create_pending_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    customer_id: CustomerId,
    currency: Currency,
    input: ItemInput,
) -> Result<PendingItem, ApiError> {
    ensure_pendable(&input)?;
    ensure_product(tx, organization_id, input.product_id.as_ref()).await?;
    let held = tx.pending_items_held(organization_id, &customer_id).await?;
    Quota::PendingItems.admits_one_more(held, customer_id.as_str())?;
    let now = Utc::now();
    let item = pending_item(
        InvoiceItemId::generate(),
        customer_id,
        currency,
        input,
        ItemExtras::default(),
        now,
    );
    tx.save_pending_item(organization_id, &item).await?;
    let event = (EventType::ItemCreated, item.clone(), None);
    record_pending(tx, organization_id, event, item.revision, now).await?;
    Ok(item)
}

/// One item of the organization, wherever it is, and with `Some(shown)` the invoice it is on
/// with its newest `shown` items ([`invoices_of`]), read in one snapshot.
#[tracing::instrument(skip_all)]
pub async fn get_placed_item(
    db: &Db,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
    with_invoice: Option<i64>,
) -> Result<(PlacedItem, Vec<InvoiceWithItems>), ApiError> {
    db.read(async |snapshot| {
        let found = placed_item_in(snapshot, organization_id, item_id)
            .await?
            .ok_or_else(|| item_not_found(item_id))?;
        let invoices = match with_invoice {
            Some(shown) => {
                let items = std::slice::from_ref(&found);
                invoices_of(snapshot, organization_id, items, shown).await?
            }
            None => Vec::new(),
        };
        Ok((found, invoices))
    })
    .await
}

/// The invoices that `items` are on, each once, with its newest `shown` items (newest first),
/// as the caller's transaction sees them: for a dialect that can show an item's invoice in
/// place of its id. One read of the invoices and one of their items, however many there are.
pub async fn invoices_of(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    items: &[PlacedItem],
    shown: i64,
) -> Result<Vec<InvoiceWithItems>, ApiError> {
    let mut invoice_ids: Vec<InvoiceId> = items
        .iter()
        .filter_map(|item| match item {
            PlacedItem::OnInvoice { item, .. } => Some(item.invoice_id.clone()),
            PlacedItem::Pending(_) => None,
        })
        .collect();
    invoice_ids.sort_unstable();
    invoice_ids.dedup();
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    invoices_with_newest_items(tx, organization_id, &invoice_ids, shown).await
}

/// Changes an item wherever it is: `change` gets the item as it stands and says what it
/// becomes. In `tx` when the caller has one, under the item's lock (the pending row's, or its
/// invoice's). Else an item on an invoice is changed on the lanes, coalesced with the
/// invoice's concurrent writes, if it is still the version `change` saw on an invoice of the
/// same customer; otherwise (a pending item, one changed meanwhile, or a change that fails on
/// the item as read) in a transaction of its own, under its lock. An item on an
/// invoice changes only while the invoice is a draft (409).
#[tracing::instrument(skip_all)]
pub async fn change_placed_item<E: From<ApiError>>(
    db: &Db,
    lanes: &ItemLanes,
    tx: Option<&mut Tx>,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
    mut change: impl FnMut(&PlacedItem) -> Result<ItemInput, E>,
) -> Result<PlacedItem, E> {
    if let Some(tx) = tx {
        return change_locked(tx, organization_id, item_id, change).await;
    }
    let seen = db.read(async |snapshot| placed_item_in(snapshot, organization_id, item_id).await);
    let placed = seen.await?.ok_or_else(|| item_not_found(item_id))?;
    // The change is made from the item as read; if it fails there, or the item or its
    // invoice's customer changed before the write, it is made again under the lock, from the
    // item as the lock leaves it, and that answer stands.
    if let PlacedItem::OnInvoice {
        item,
        customer_id,
        currency,
    } = &placed
        && let Ok(input) = change(&placed)
    {
        let terms = InvoiceTerms {
            customer_id: customer_id.clone(),
            currency: *currency,
        };
        let write = ItemWrite::Replace {
            item_id: item_id.clone(),
            input,
            if_match: Some(ExpectedVersion::Revisions(vec![item.revision])),
            terms: Some(terms),
        };
        match lanes
            .write(None, organization_id, &item.invoice_id, write)
            .await
        {
            Err(
                ApiError::VersionMismatch { .. }
                | ApiError::NotFound(_)
                | ApiError::Conflict(Clash::TermsChanged { .. }),
            ) => {}
            done => {
                return Ok(PlacedItem::OnInvoice {
                    item: Box::new(done?),
                    customer_id: customer_id.clone(),
                    currency: *currency,
                });
            }
        }
    }
    let mut own = db.begin().await.map_err(ApiError::from)?;
    match change_locked(&mut own, organization_id, item_id, change).await {
        Ok(changed) => {
            own.commit().await.map_err(ApiError::from)?;
            Ok(changed)
        }
        Err(error) => {
            // The error is the answer; a failed rollback is the pool's to clean up.
            let _ = own.rollback().await;
            Err(error)
        }
    }
}

/// Changes an item wherever it is, in `tx`, under its lock (the pending row's, or its
/// invoice's).
async fn change_locked<E: From<ApiError>>(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
    change: impl FnOnce(&PlacedItem) -> Result<ItemInput, E>,
) -> Result<PlacedItem, E> {
    if let Some(old) = tx
        .locked_pending_item(organization_id, item_id)
        .await
        .map_err(ApiError::from)?
    {
        let placed = PlacedItem::Pending(Box::new(old));
        let input = change(&placed)?;
        let PlacedItem::Pending(old) = placed else {
            unreachable!("made pending above")
        };
        ensure_pendable(&input)?;
        ensure_product(tx, organization_id, input.product_id.as_ref()).await?;
        let mut item = pending_item(
            old.id.clone(),
            old.customer_id.clone(),
            old.currency,
            input,
            old.extras.clone(),
            old.created_time,
        );
        item.updated_time = Utc::now();
        item.revision = old.revision + 1;
        tx.save_pending_item(organization_id, &item)
            .await
            .map_err(ApiError::from)?;
        let (revision, at) = (item.revision, item.updated_time);
        let event = (EventType::ItemUpdated, item.clone(), Some(*old));
        record_pending(tx, organization_id, event, revision, at).await?;
        return Ok(PlacedItem::Pending(Box::new(item)));
    }
    let (invoice, old) = locked_invoice_item(tx, organization_id, item_id).await?;
    let placed = PlacedItem::OnInvoice {
        item: Box::new(old),
        customer_id: invoice.customer_id.clone(),
        currency: invoice.currency,
    };
    let input = change(&placed)?;
    let item =
        invoice_items::replace_item(tx, organization_id, &invoice.id, item_id, input, None).await?;
    Ok(PlacedItem::OnInvoice {
        item: Box::new(item),
        customer_id: invoice.customer_id,
        currency: invoice.currency,
    })
}

/// Deletes an item wherever it is, with its `item-deleted` event, in the caller's transaction
/// (an item on an invoice only while the invoice is a draft: 409).
#[tracing::instrument(skip_all)]
pub async fn delete_placed_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
) -> Result<(), ApiError> {
    if let Some(item) = tx.locked_pending_item(organization_id, item_id).await? {
        tx.delete_pending_item(organization_id, item_id).await?;
        let revision = item.revision + 1;
        let event = (EventType::ItemDeleted, item, None);
        return record_pending(tx, organization_id, event, revision, Utc::now()).await;
    }
    let (invoice, _) = locked_invoice_item(tx, organization_id, item_id).await?;
    invoice_items::delete_item(tx, organization_id, &invoice.id, item_id, None).await
}

/// A page of the organization's items that `listing` admits, newest first, from `cursor`, and
/// with `Some(shown)` the invoices they are on, each with its newest `shown` items
/// ([`invoices_of`]), read in one snapshot. `None` when the cursor names no item of the
/// organization.
#[tracing::instrument(skip_all)]
pub async fn list_placed_items(
    db: &Db,
    organization_id: &OrganizationId,
    listing: &ItemListing,
    cursor: Cursor<'_, InvoiceItemId>,
    limit: i64,
    with_invoices: Option<i64>,
) -> Result<Option<ItemsWithInvoices>, ApiError> {
    db.read(async |snapshot| {
        let found = snapshot.placed_items(organization_id, listing, cursor, limit);
        let Some(items) = found.await? else {
            return Ok(None);
        };
        let invoices = match with_invoices {
            Some(shown) => invoices_of(snapshot, organization_id, &items, shown).await?,
            None => Vec::new(),
        };
        Ok(Some((items, invoices)))
    })
    .await
}

/// A page of one invoice's items, newest first, from `cursor`, read with the invoice in one
/// snapshot: 404 when the organization has no such invoice, `None` when the cursor names no
/// item of that invoice.
#[tracing::instrument(skip_all)]
pub async fn invoice_lines(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    cursor: Cursor<'_, InvoiceItemId>,
    limit: i64,
) -> Result<Option<Vec<PlacedItem>>, ApiError> {
    db.read(async |snapshot| {
        let invoice = snapshot.find_invoice(organization_id, invoice_id).await?;
        if invoice.is_none() {
            return Err(invoice_not_found(invoice_id.as_str()));
        }
        if let Cursor::OlderThan(id) | Cursor::NewerThan(id) = cursor {
            let on_invoice = snapshot.item_by_id(organization_id, id).await?;
            if on_invoice.is_none_or(|item| item.invoice_id != *invoice_id) {
                return Ok(None);
            }
        }
        let listing = ItemListing {
            invoice_id: Some(invoice_id.clone()),
            ..ItemListing::default()
        };
        let items = snapshot.placed_items(organization_id, &listing, cursor, limit);
        Ok(items.await?)
    })
    .await
}

/// The item on an invoice, and its invoice, found by the item's id. Items never move from one
/// invoice to another, so the invoice read before the lock is the one to lock.
async fn locked_invoice_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
) -> Result<
    (
        crate::domain::invoice::Invoice,
        crate::domain::invoice_item::InvoiceItem,
    ),
    ApiError,
> {
    let placed = tx
        .item_by_id(organization_id, item_id)
        .await?
        .ok_or_else(|| item_not_found(item_id))?;
    let invoice = tx
        .lock_invoice(organization_id, &placed.invoice_id)
        .await?
        .ok_or_else(|| item_not_found(item_id))?;
    // Read again under the lock: the last holder may have changed or deleted it.
    let item = tx
        .locked_item(organization_id, &invoice.id, item_id)
        .await?
        .ok_or_else(|| item_not_found(item_id))?;
    Ok((invoice, item))
}

/// One item of the organization, wherever it is, as the caller's transaction sees it.
pub async fn placed_item_in(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
) -> Result<Option<PlacedItem>, ApiError> {
    if let Some(item) = tx.pending_item(organization_id, item_id).await? {
        return Ok(Some(PlacedItem::Pending(Box::new(item))));
    }
    let Some(item) = tx.item_by_id(organization_id, item_id).await? else {
        return Ok(None);
    };
    let invoice = tx
        .find_invoice(organization_id, &item.invoice_id)
        .await?
        .ok_or_else(|| ApiError::Internal("an item's invoice is missing".into()))?;
    Ok(Some(PlacedItem::OnInvoice {
        item: Box::new(item),
        customer_id: invoice.customer_id,
        currency: invoice.currency,
    }))
}

/// Writes the event of a pending item's change (its type, the item as the change left it, and
/// as it was before), which has no invoice, at the item's `revision` after it.
async fn record_pending(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    (event_type, item, before): (EventType, PendingItem, Option<PendingItem>),
    revision: i64,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let event = InvoiceEvent::of_pending_item(event_type, item, before, revision, at);
    tx.record_event(organization_id, &event).await?;
    Ok(())
}

fn ensure_pendable(input: &ItemInput) -> Result<(), ApiError> {
    if input.tax.is_some() || input.period_number.is_some() {
        return Err(ApiError::Conflict(Clash::PendingItemUnplaced));
    }
    Ok(())
}

/// A pending item made of `input`, priced in its currency, with the extras the input gives or
/// else `kept_extras`.
fn pending_item(
    id: InvoiceItemId,
    customer_id: CustomerId,
    currency: Currency,
    input: ItemInput,
    kept_extras: ItemExtras,
    created_time: DateTime<Utc>,
) -> PendingItem {
    PendingItem {
        id,
        customer_id,
        currency,
        item_type: input.item_type,
        description: input.description,
        unit_price: input.unit_price,
        quantity: input.quantity,
        price: item_price(input.unit_price, input.quantity, currency),
        product_id: input.product_id,
        period_start_time: input.period_start_time,
        period_end_time: input.period_end_time,
        extras: input.extras.unwrap_or(kept_extras),
        revision: 0,
        created_time,
        updated_time: created_time,
    }
}

/// An item's `productId` must name a product of the organization (422 on it otherwise).
/// Products are never deleted, so the answer holds until the item is written; the foreign key
/// backs it.
async fn ensure_product(
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
