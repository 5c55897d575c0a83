//! Applying the pricing engine to a locked invoice after a change, and storing what moved.
//!
//! Without discounts, items do not affect each other: a change reprices only the changed item
//! and moves the totals by its figures. With discounts, every item is repriced and the items
//! whose discount share or tax moved are stored too. Either way the invoice's revision goes up
//! by exactly one, in the caller's transaction.

use chrono::{DateTime, Utc};

use super::events::record_at;
use super::pricing::{
    ItemToPrice, PricedItem, price_invoice, price_undiscounted_item, totals_after_change,
};
use crate::domain::discount::AppliedDiscount;
use crate::domain::event::{EventChanges, EventType, InvoiceField};
use crate::domain::ids::{InvoiceItemId, OrganizationId};
use crate::domain::invoice::{Invoice, InvoiceTotals};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::tax::ItemTax;
use crate::error::ApiError;
use crate::repository::Tx;

/// What happens to one item.
#[derive(Debug)]
pub(super) enum ItemChange<'a> {
    /// Stored, new or replacing `old` (read under the invoice lock).
    Save {
        item: &'a mut InvoiceItem,
        old: Option<&'a InvoiceItem>,
    },
    /// Deleted.
    Delete(&'a InvoiceItem),
}

/// Stores an item change on a locked draft `invoice`, repricing what it moves, and the new
/// totals (the revision goes up by one), with its `invoice-modified` event. `item` gets its
/// priced figures.
pub(super) async fn store_item_change(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice: &Invoice,
    change: ItemChange<'_>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut changes = match &change {
        ItemChange::Save { item, old: None } => EventChanges {
            items_created: vec![item.id.clone()],
            ..EventChanges::default()
        },
        ItemChange::Save { item, old: Some(_) } => EventChanges {
            items_updated: vec![item.id.clone()],
            ..EventChanges::default()
        },
        ItemChange::Delete(item) => EventChanges {
            items_deleted: vec![item.id.clone()],
            ..EventChanges::default()
        },
    };
    let (totals, repriced) = if invoice.discounts.is_empty() {
        let totals = store_independent_change(tx, organization_id, invoice, change, now).await?;
        (totals, Vec::new())
    } else {
        store_repriced_change(tx, organization_id, invoice, change, now).await?
    };
    if totals != invoice.totals {
        changes.fields.push(InvoiceField::Totals);
    }
    changes.items_repriced = repriced;
    let revision = (invoice.revision + 1, now);
    let modified = EventType::InvoiceModified;
    record_at(
        tx,
        organization_id,
        &invoice.id,
        revision,
        modified,
        changes,
    )
    .await
}

/// Stores an item change on a discounted invoice, whose every item may move with it; the new
/// totals and the other items whose figures moved.
async fn store_repriced_change(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice: &Invoice,
    change: ItemChange<'_>,
    now: DateTime<Utc>,
) -> Result<(InvoiceTotals, Vec<InvoiceItemId>), ApiError> {
    let mut items = tx
        .items_of_invoices(organization_id, std::slice::from_ref(&invoice.id), None, 0)
        .await?;
    let changed_id = match &change {
        ItemChange::Save { item, .. } => item.id.clone(),
        ItemChange::Delete(item) => item.id.clone(),
    };
    items.retain(|stored| stored.id != changed_id);
    if let ItemChange::Save { item, .. } = &change {
        items.push((**item).clone());
    }
    let repriced = reprice(invoice, &mut items, now)?;
    let moved: Vec<&InvoiceItem> = repriced
        .moved
        .iter()
        .map(|&index| &items[index])
        .filter(|moved| moved.id != changed_id)
        .collect();
    tx.save_item_figures(organization_id, &moved).await?;
    if repriced.discounts != invoice.discounts {
        tx.save_discounts(organization_id, &invoice.id, &repriced.discounts)
            .await?;
    }
    match change {
        ItemChange::Save { item, .. } => {
            let priced = items
                .iter()
                .find(|priced| priced.id == changed_id)
                .ok_or_else(|| internal("the changed item went missing while repricing"))?;
            item.price = priced.price;
            item.discount_amount = priced.discount_amount;
            item.tax = priced.tax.clone();
            tx.save_item(organization_id, item, &repriced.totals)
                .await?;
        }
        ItemChange::Delete(item) => {
            tx.delete_item(
                organization_id,
                &invoice.id,
                &item.id,
                &repriced.totals,
                now,
            )
            .await?;
        }
    }
    let moved = moved.into_iter().map(|item| item.id.clone()).collect();
    Ok((repriced.totals, moved))
}

/// Stores an item change on an invoice without discounts, where no other item moves; the new
/// totals.
async fn store_independent_change(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice: &Invoice,
    change: ItemChange<'_>,
    now: DateTime<Utc>,
) -> Result<InvoiceTotals, ApiError> {
    match change {
        ItemChange::Save { item, old } => {
            let totals = price_independent_item(invoice, item, old);
            tx.save_item(organization_id, item, &totals).await?;
            Ok(totals)
        }
        ItemChange::Delete(old) => {
            let figures = figures_of(old);
            let totals = totals_after_change(invoice.totals, Some((old.item_type, &figures)), None);
            tx.delete_item(organization_id, &invoice.id, &old.id, &totals, now)
                .await?;
            Ok(totals)
        }
    }
}

/// Prices `item` (new, or replacing `old`) on `invoice`, which has no discounts, so that no
/// other item moves with it; the invoice's totals with it.
pub(super) fn price_independent_item(
    invoice: &Invoice,
    item: &mut InvoiceItem,
    old: Option<&InvoiceItem>,
) -> InvoiceTotals {
    let priced = price_undiscounted_item(invoice.currency, &invoice.tax, &to_price(item));
    set_figures(item, &priced);
    let old = old.map(|old| (old.item_type, figures_of(old)));
    totals_after_change(
        invoice.totals,
        old.as_ref()
            .map(|(item_type, figures)| (*item_type, figures)),
        Some((item.item_type, &priced)),
    )
}

/// An invoice's items priced afresh.
#[derive(Debug)]
pub(super) struct Repriced {
    /// Indices of the items whose figures moved (their `updated_time` is now `now`, and their
    /// revision one more).
    pub moved: Vec<usize>,
    /// The invoice's discounts with their new amounts.
    pub discounts: Vec<AppliedDiscount>,
    /// The invoice's new totals.
    pub totals: InvoiceTotals,
}

/// Prices every item of `invoice` (its currency, discounts and tax settings) and writes the
/// figures into `items`.
pub(super) fn reprice(
    invoice: &Invoice,
    items: &mut [InvoiceItem],
    now: DateTime<Utc>,
) -> Result<Repriced, ApiError> {
    let to_price: Vec<_> = items.iter().map(to_price).collect();
    let discounts: Vec<_> = invoice
        .discounts
        .iter()
        .map(|applied| applied.discount.clone())
        .collect();
    let priced = price_invoice(invoice.currency, &discounts, &invoice.tax, &to_price);
    let mut moved = Vec::new();
    for (index, (item, figures)) in items.iter_mut().zip(&priced.items).enumerate() {
        if item.price != figures.price
            || item.discount_amount != figures.discount_amount
            || item.tax != figures.tax
        {
            set_figures(item, figures);
            item.updated_time = now;
            item.revision += 1;
            moved.push(index);
        }
    }
    let discounts = discounts
        .into_iter()
        .zip(priced.discount_amounts)
        .map(|(discount, amount)| AppliedDiscount { discount, amount })
        .collect();
    Ok(Repriced {
        moved,
        discounts,
        totals: priced.totals,
    })
}

fn set_figures(item: &mut InvoiceItem, figures: &PricedItem) {
    item.price = figures.price;
    item.discount_amount = figures.discount_amount;
    item.tax = figures.tax.clone();
}

fn figures_of(item: &InvoiceItem) -> PricedItem {
    PricedItem {
        price: item.price,
        discount_amount: item.discount_amount,
        tax: item.tax.clone(),
    }
}

/// What pricing needs of a stored item.
fn to_price(item: &InvoiceItem) -> ItemToPrice {
    let manual_tax = match &item.tax {
        Some(ItemTax::Manual(tax)) => Some(tax.clone()),
        _ => None,
    };
    ItemToPrice {
        id: item.id.clone(),
        item_type: item.item_type,
        unit_price: item.unit_price,
        quantity: item.quantity,
        manual_tax,
    }
}

fn internal(message: &'static str) -> ApiError {
    ApiError::Internal(message.into())
}
