//! Applying the pricing engine to a locked invoice after a change.
//!
//! Without discounts or VAT, items do not affect each other: a change reprices only the changed
//! item and moves the totals by its figures. Otherwise every item is repriced, and the items
//! whose discount share or tax moved are to be stored too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::pricing::{
    ItemToPrice, LastPricing, PricedItem, price_invoice_again, price_undiscounted_item,
    totals_after_change,
};
use crate::domain::discount::AppliedDiscount;
use crate::domain::ids::InvoiceItemId;
use crate::domain::invoice::{Invoice, InvoiceTotals};
use crate::domain::invoice_item::{InvoiceItem, ItemPricing};
use crate::domain::kept_tax::{KeptTax, same_tax};
use crate::domain::tax::ItemTax;

/// Whether a change to one item can move the others' figures: discounts are shared among all
/// the items, and VAT is rounded per category and rate over all of them.
pub(super) fn items_move_together(invoice: &Invoice) -> bool {
    !invoice.discounts.is_empty() || invoice.tax.couples_items()
}

/// Prices `item` (new, or replacing `old`) on `invoice`, whose items move alone, so that no
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

/// The totals of `invoice`, which has no discounts, without `old`.
pub(super) fn price_without(invoice: &Invoice, old: &InvoiceItem) -> InvoiceTotals {
    let figures = figures_of(old);
    totals_after_change(invoice.totals, Some((old.item_type, &figures)), None)
}

/// An invoice's items priced afresh.
#[derive(Debug)]
pub(super) struct Repriced {
    /// Indices of the items whose figures moved (their `updated_time` is now `now`, and their
    /// revision one more).
    pub moved: Vec<usize>,
    /// By position in `moved`: what each of those items was before.
    pub was: Vec<ItemBefore>,
    /// The invoice's discounts with their new amounts.
    pub discounts: Vec<AppliedDiscount>,
    /// The invoice's new totals.
    pub totals: InvoiceTotals,
}

/// An item's figures, revision and update time before a repricing moved them.
#[derive(Debug, Clone)]
pub(super) struct ItemBefore {
    figures: PricedItem,
    revision: i64,
    updated_time: DateTime<Utc>,
}

impl ItemBefore {
    /// What `item` is now.
    pub(super) fn of(item: &ItemPricing) -> Self {
        Self {
            figures: PricedItem {
                price: item.price,
                discount_amount: item.discount_amount,
                tax: item.tax.as_ref().map(KeptTax::to_tax),
            },
            revision: item.revision,
            updated_time: item.updated_time,
        }
    }

    /// Whether `item` shows these figures again.
    pub(super) fn has_figures_of(&self, item: &ItemPricing) -> bool {
        let figures = &self.figures;
        figures.price == item.price
            && figures.discount_amount == item.discount_amount
            && same_tax(item.tax.as_ref(), figures.tax.as_ref())
    }

    /// `item` back at this revision and update time, its figures left as they are.
    pub(super) fn restore_version(&self, item: &mut ItemPricing) {
        item.revision = self.revision;
        item.updated_time = self.updated_time;
    }
}

/// Prices every item of `invoice` (its currency, discounts and tax settings) and writes the
/// figures into `items`.
pub(super) fn reprice(
    invoice: &Invoice,
    items: &mut [InvoiceItem],
    now: DateTime<Utc>,
) -> Repriced {
    let mut pricing: Vec<ItemPricing> = items.iter().map(ItemPricing::of).collect();
    let repriced = reprice_after(invoice, &mut pricing, &mut [], now);
    for &index in &repriced.moved {
        pricing[index].set_on(&mut items[index]);
    }
    repriced
}

/// The items of an invoice whose items move together, as a set of writes leaves them (what
/// pricing reads and sets of each, not the whole item), each with its last pricing by this set
/// while its figures are that pricing's: each write prices the invoice again, and works out
/// the tax of only the items whose price or share moved.
#[derive(Debug, Default)]
pub(super) struct CoupledItems {
    items: Vec<ItemPricing>,
    /// By position in `items`; `None` for an item as read or as written, not yet priced.
    last: Vec<Option<LastPricing>>,
}

impl CoupledItems {
    /// The items as read, none priced yet.
    pub(super) fn new(mut items: Vec<ItemPricing>) -> Self {
        // Only the room the items take (see `grow_by_an_eighth`).
        items.shrink_to_fit();
        let last = vec![None; items.len()];
        Self { items, last }
    }

    /// Adds an item, or one read by the set, that no item of the list has the id of; its
    /// position.
    pub(super) fn push(&mut self, item: ItemPricing) -> usize {
        grow_by_an_eighth(&mut self.items);
        grow_by_an_eighth(&mut self.last);
        self.items.push(item);
        self.last.push(None);
        self.items.len() - 1
    }

    /// `item` in place of the item with its id, or added when there is none; its position.
    pub(super) fn put(&mut self, item: ItemPricing) -> usize {
        match self.position(&item.id) {
            Some(index) => {
                self.items[index] = item;
                self.last[index] = None;
                index
            }
            None => self.push(item),
        }
    }

    /// Takes the item with `id` out, keeping the others' order.
    pub(super) fn remove(&mut self, id: &InvoiceItemId) {
        if let Some(index) = self.position(id) {
            self.items.remove(index);
            self.last.remove(index);
        }
    }

    /// The items, in order.
    pub(super) fn items(&self) -> &[ItemPricing] {
        &self.items
    }

    /// Sets back the revision and update time of the items in `restored`, whose figures a set
    /// of writes moved and then back to what they were.
    pub(super) fn restore_versions(&mut self, restored: &HashMap<InvoiceItemId, ItemBefore>) {
        for item in &mut self.items {
            if let Some(before) = restored.get(&item.id) {
                before.restore_version(item);
            }
        }
    }

    /// How many items the lists have room for without growing.
    pub(super) fn capacity(&self) -> usize {
        self.items.capacity().max(self.last.capacity())
    }

    /// Sets the revision and update time of the item at `index`, whose figures stay as they
    /// are; the item as it then is.
    pub(super) fn set_version(
        &mut self,
        index: usize,
        revision: i64,
        updated_time: DateTime<Utc>,
    ) -> &ItemPricing {
        let item = &mut self.items[index];
        item.revision = revision;
        item.updated_time = updated_time;
        item
    }

    /// Prices every item of `invoice` again and writes the figures into the items, as
    /// [`reprice`] does.
    pub(super) fn reprice(&mut self, invoice: &Invoice, now: DateTime<Utc>) -> Repriced {
        reprice_after(invoice, &mut self.items, &mut self.last, now)
    }

    fn position(&self, id: &InvoiceItemId) -> Option<usize> {
        self.items.iter().position(|item| item.id == *id)
    }
}

/// Makes room in a full `list` for an eighth more, where a push would double it: the items of
/// an invoice of thousands are kept between sets of writes within a budget of bytes, and a
/// list read whole and then pushed to would hold twice the room it needs.
fn grow_by_an_eighth<T>(list: &mut Vec<T>) {
    if list.len() == list.capacity() {
        list.reserve_exact(list.len() / 8 + 16);
    }
}

/// Prices every item of `invoice` and writes the figures into `items`, reusing the taxes of
/// the items whose `last` pricing (by position; shorter than `items` where not known) gives the
/// same price and share; sets `last` to this pricing.
fn reprice_after(
    invoice: &Invoice,
    items: &mut [ItemPricing],
    last: &mut [Option<LastPricing>],
    now: DateTime<Utc>,
) -> Repriced {
    let to_price: Vec<_> = items.iter().map(pricing_inputs).collect();
    let discounts: Vec<_> = invoice
        .discounts
        .iter()
        .map(|applied| applied.discount.clone())
        .collect();
    let priced = price_invoice_again(invoice.currency, &discounts, &invoice.tax, &to_price, last);
    let mut moved = Vec::new();
    let mut was = Vec::new();
    // The terms of the items' computed taxes, which they share.
    let mut shared = None;
    for (index, figures) in &priced.items {
        let item = &mut items[*index];
        if item.price != figures.price
            || item.discount_amount != figures.discount_amount
            || !same_tax(item.tax.as_ref(), figures.tax.as_ref())
        {
            was.push(ItemBefore::of(item));
            item.price = figures.price;
            item.discount_amount = figures.discount_amount;
            if shared.is_none() {
                shared = item.tax.as_ref().and_then(KeptTax::terms).cloned();
            }
            item.tax = figures
                .tax
                .as_ref()
                .map(|tax| KeptTax::of(tax, &mut shared));
            item.updated_time = now;
            item.revision += 1;
            moved.push(*index);
        }
    }
    // An item not priced again kept its units, hence its tax: its last pricing stands.
    for (index, figures) in &priced.items {
        if let Some(slot) = last.get_mut(*index) {
            *slot = Some(LastPricing::of(priced.units[*index], figures));
        }
    }
    let discounts = discounts
        .into_iter()
        .zip(priced.discount_amounts)
        .map(|(discount, amount)| AppliedDiscount { discount, amount })
        .collect();
    Repriced {
        moved,
        was,
        discounts,
        totals: priced.totals,
    }
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

/// What pricing needs of an item of an invoice whose items move together, borrowed from it.
fn pricing_inputs(item: &ItemPricing) -> ItemToPrice<'_> {
    ItemToPrice {
        id: &item.id,
        item_type: item.item_type,
        unit_price: item.unit_price,
        quantity: item.quantity,
        manual_tax: item.tax.as_ref().and_then(KeptTax::manual),
        vat: item.vat.as_deref(),
    }
}

/// What pricing needs of a stored item, borrowed from it.
fn to_price(item: &InvoiceItem) -> ItemToPrice<'_> {
    let manual_tax = match &item.tax {
        Some(ItemTax::Manual(tax)) => Some(tax),
        _ => None,
    };
    ItemToPrice {
        id: &item.id,
        item_type: item.item_type,
        unit_price: item.unit_price,
        quantity: item.quantity,
        manual_tax,
        vat: item.vat.as_ref(),
    }
}

#[cfg(test)]
mod tests;
