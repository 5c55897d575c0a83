//! One write applied to its locked invoice: its checks, its item, its pricing, its event.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::{ItemWrite, Locked};
use crate::domain::event::{EventChanges, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{EventId, InvoiceItemId};
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemExtras, ItemInput, ItemPricing};
use crate::domain::precondition::ExpectedVersion;
use crate::domain::tax::ItemTax;
use crate::error::{ApiError, Clash, DomainField, DraftChange, Missing, Resource, Rule};
use crate::service::repricing::{ItemBefore, price_independent_item, price_without};
/// A write applied to its locked invoice.
pub(super) struct Change {
    /// The item as written (as it was, when deleted).
    pub item: InvoiceItem,
    /// The invoice's other items whose figures moved with it, each with what it was before.
    pub moved: Vec<(ItemPricing, ItemBefore)>,
    /// Its event.
    pub event: InvoiceEvent,
    /// For a new item whose pricing waits ([`Pricing::Later`]), its place in the invoice's
    /// list of items.
    pub unpriced_at: Option<usize>,
}

/// When a write into an invoice whose items move together is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pricing {
    /// With the write: the invoice's every item again.
    Now,
    /// Later, once for the write and the creates beside it ([`super::write_items`]): a new item
    /// is added to the list unpriced, and the invoice keeps its totals until then. Other
    /// writes, and an invoice whose items move alone, are priced now whatever is asked.
    Later,
}

/// Applies a write to its locked invoice, as the writes before it left it, with `old` the item
/// it names (if the invoice has it): 404 when the invoice has no such item, 412 when `if_match`
/// names another version, 409 unless the invoice is a draft, 422 for what only the invoice's
/// currency tells, in that order. Prices what the write moves (or, for a create with
/// [`Pricing::Later`], leaves it to be priced), moves the invoice's totals and revision, and
/// makes the write's event.
pub(super) fn apply(
    entry: &mut Locked,
    write: &ItemWrite,
    old: Option<&InvoiceItem>,
    at: DateTime<Utc>,
    pricing: Pricing,
) -> Result<Change, ApiError> {
    let invoice_id = &entry.invoice.id;
    let old = match write.existing_item() {
        Some(item_id) => {
            let old = old.ok_or_else(|| item_not_found(invoice_id, item_id))?;
            let if_match = match write {
                ItemWrite::Replace { if_match, .. } | ItemWrite::Delete { if_match, .. } => {
                    if_match.as_ref()
                }
                ItemWrite::Create { .. } => None,
            };
            ensure_version(old, if_match)?;
            Some(old)
        }
        None => None,
    };
    draft_only(&entry.invoice)?;
    let invoice = &entry.invoice;
    let terms = match write {
        ItemWrite::Create { terms, .. } | ItemWrite::Replace { terms, .. } => terms.as_ref(),
        ItemWrite::Delete { .. } => None,
    };
    if terms.is_some_and(|terms| {
        terms.customer_id != invoice.customer_id || terms.currency != invoice.currency
    }) {
        return Err(ApiError::Conflict(Clash::TermsChanged {
            invoice: invoice.id.to_string(),
        }));
    }
    let mut changes = EventChanges::default();
    let item = match write {
        ItemWrite::Create {
            id, pending, input, ..
        } => {
            changes.items_created.push(id.clone());
            let created_time = pending.as_ref().map_or(at, |pending| pending.created_time);
            let extras = ItemExtras::default();
            Some(unpriced_item(
                id.clone(),
                &entry.invoice,
                input.clone(),
                extras,
                (created_time, at),
            )?)
        }
        ItemWrite::Replace { item_id, input, .. } => {
            changes.items_updated.push(item_id.clone());
            let old = old.ok_or_else(|| item_not_found(invoice_id, item_id))?;
            Some(replacement(&entry.invoice, old, input.clone(), at)?)
        }
        ItemWrite::Delete { item_id, .. } => {
            changes.items_deleted.push(item_id.clone());
            None
        }
    };
    let waits = pricing == Pricing::Later && matches!(write, ItemWrite::Create { .. });
    let (item, moved, unpriced_at) = match (&mut entry.items, item) {
        (Some(items), Some(item)) if waits => {
            let position = items.push(ItemPricing::of(&item));
            (item, Vec::new(), Some(position))
        }
        (_, item) => {
            let (item, moved) = price(entry, item, old, at, &mut changes)?;
            (item, moved, None)
        }
    };
    let invoice = &mut entry.invoice;
    invoice.revision += 1;
    invoice.updated_time = at;
    entry.changed = true;
    let event = InvoiceEvent {
        id: EventId::generate(),
        invoice_id: Some(invoice.id.clone()),
        event_type: EventType::InvoiceModified,
        revision: invoice.revision,
        changes,
        message: None,
        occurred_time: at,
        item: None,
        item_before: None,
        cause: None,
    };
    Ok(Change {
        item,
        moved,
        event,
        unpriced_at,
    })
}

/// Prices `item` (new, or replacing `old`; `None` when `old` is deleted) on its invoice and
/// moves the invoice's totals: on an invoice without discounts the item alone, whose figures
/// move the totals; with discounts every item again. The item as written (as it was, when
/// deleted), and the other items whose figures moved.
fn price(
    entry: &mut Locked,
    item: Option<InvoiceItem>,
    old: Option<&InvoiceItem>,
    at: DateTime<Utc>,
    changes: &mut EventChanges,
) -> Result<(InvoiceItem, Vec<(ItemPricing, ItemBefore)>), ApiError> {
    let invoice = &mut entry.invoice;
    let before = invoice.totals;
    let (written, moved) = match (&mut entry.items, item) {
        (None, Some(mut item)) => {
            invoice.totals = price_independent_item(invoice, &mut item, old);
            (item, Vec::new())
        }
        (None, None) => {
            let old = old.ok_or_else(|| internal("a delete without its item"))?;
            invoice.totals = price_without(invoice, old);
            (old.clone(), Vec::new())
        }
        (Some(items), item) => {
            let written_at = match (&item, old) {
                // A new item (or one taken in): the invoice has none of its id to look for.
                (Some(item), None) => Some(items.push(ItemPricing::of(item))),
                (Some(item), Some(_)) => Some(items.put(ItemPricing::of(item))),
                (None, Some(old)) => {
                    items.remove(&old.id);
                    None
                }
                (None, None) => return Err(internal("a delete without its item")),
            };
            let repriced = items.reprice(invoice, at);
            let moved = repriced
                .moved
                .iter()
                .zip(repriced.was)
                .filter(|&(&index, _)| Some(index) != written_at)
                .map(|(&index, was)| (items.items()[index].clone(), was))
                .collect();
            let written = match (item, written_at) {
                (Some(mut item), Some(position)) => {
                    // Its figures, not the revision and time the repricing gave its copy.
                    items
                        .set_version(position, item.revision, item.updated_time)
                        .set_on(&mut item);
                    item
                }
                _ => old
                    .cloned()
                    .ok_or_else(|| internal("a delete without its item"))?,
            };
            if repriced.discounts != invoice.discounts {
                invoice.discounts = repriced.discounts;
                entry.discounts_moved = true;
            }
            invoice.totals = repriced.totals;
            (written, moved)
        }
    };
    if invoice.totals != before {
        changes.fields.push(InvoiceField::Totals);
    }
    changes.items_repriced = moved.iter().map(|(item, _)| item.id.clone()).collect();
    Ok((written, moved))
}

/// The 404 for an item the invoice does not have.
pub fn item_not_found(
    invoice_id: impl std::fmt::Display,
    item_id: impl std::fmt::Display,
) -> ApiError {
    ApiError::NotFound(Missing::within(Resource::Item, item_id, invoice_id))
}

/// The 422 for an item whose `productId` names no product of the organization.
pub fn unknown_product() -> ApiError {
    ApiError::invalid_input(DomainField::ItemProduct, Rule::UnknownProduct)
}

/// 412 when `if_match` names a version of the item other than its own.
fn ensure_version(item: &InvoiceItem, if_match: Option<&ExpectedVersion>) -> Result<(), ApiError> {
    match if_match {
        Some(if_match) if !if_match.admits(Some(item.revision)) => {
            Err(ApiError::version_mismatch(Resource::Item, &item.id))
        }
        _ => Ok(()),
    }
}

/// 409 unless the invoice is a draft, naming its status.
pub fn draft_only(invoice: &Invoice) -> Result<(), ApiError> {
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

/// `old` replaced by `input` on `invoice`, before pricing: its id, creation time and (unless
/// the input gives them) extras kept, one revision on.
fn replacement(
    invoice: &Invoice,
    old: &InvoiceItem,
    input: ItemInput,
    now: DateTime<Utc>,
) -> Result<InvoiceItem, ApiError> {
    let kept = old.extras.clone();
    let mut item = unpriced_item(
        old.id.clone(),
        invoice,
        input,
        kept,
        (old.created_time, now),
    )?;
    item.revision = old.revision + 1;
    Ok(item)
}

/// An item as asked for, before pricing fills its price, discount share and tax, with the
/// extras the input gives or else `kept_extras`, created and updated at the times given (cut
/// to the microsecond, all PostgreSQL keeps). A manual tax with more decimals than the
/// currency has is refused here, the first point where the currency is known.
fn unpriced_item(
    id: InvoiceItemId,
    invoice: &Invoice,
    input: ItemInput,
    kept_extras: ItemExtras,
    (created_time, updated_time): (DateTime<Utc>, DateTime<Utc>),
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
    let mut extras = input.extras.unwrap_or(kept_extras);
    extras.date = extras.date.map(to_microseconds);
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
        period_start_time: input.period_start_time.map(to_microseconds),
        period_end_time: input.period_end_time.map(to_microseconds),
        period_number: input.period_number,
        tax: input.tax.map(ItemTax::Manual),
        vat: input.vat,
        extras,
        revision: 0,
        created_time: to_microseconds(created_time),
        updated_time,
    })
}

/// A time cut to the microsecond, all PostgreSQL keeps: the answers say what a read returns.
pub(super) fn to_microseconds(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(time)
}

fn internal(message: &'static str) -> ApiError {
    ApiError::Internal(message.into())
}
