//! Applying the pricing engine to a locked invoice after a change.
//!
//! Without discounts or VAT, items do not affect each other: a change reprices only the changed
//! item and moves the totals by its figures. Otherwise every item is repriced, and the items
//! whose discount share or tax moved are to be stored too.

use chrono::{DateTime, Utc};

use super::pricing::{
    ItemToPrice, PricedItem, price_invoice, price_undiscounted_item, totals_after_change,
};
use crate::domain::discount::AppliedDiscount;
use crate::domain::invoice::{Invoice, InvoiceTotals};
use crate::domain::invoice_item::InvoiceItem;
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
) -> Repriced {
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
    Repriced {
        moved,
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
        vat: item.vat.clone(),
    }
}
