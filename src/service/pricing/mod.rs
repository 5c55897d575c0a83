//! Pricing: pure functions from an invoice's items, discounts and tax settings to every
//! computed amount. No I/O.
//!
//! Rounding happens once per computed amount (item price, each discount, each item's discount
//! share, each tax component), half away from zero, to the currency's minor units
//! ([`round_half_away_from_zero`]). Shares and taxes are computed in whole minor units, exactly.

mod discounts;
mod tax;
mod units;
mod vat;

#[cfg(test)]
mod tests;

use rust_decimal::Decimal;

use crate::domain::currency::Currency;
use crate::domain::discount::Discount;
use crate::domain::ids::InvoiceItemId;
use crate::domain::invoice::InvoiceTotals;
use crate::domain::invoice_item::{ItemType, Quantity, UnitPrice};
use crate::domain::money::round_half_away_from_zero;
use crate::domain::tax::ManualTax;
use crate::domain::tax::{ItemTax, TaxSettings};
use crate::domain::vat::LineVat;

use discounts::{Weighted, allocate, applied_amounts};
use tax::ItemTaxes;
use units::{from_minor, sum, to_minor};

/// One item as pricing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemToPrice {
    /// Its id: the last tie-break when the discount is shared out.
    pub id: InvoiceItemId,
    /// Debit or credit.
    pub item_type: ItemType,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// Tax set by hand; ignored on a credit, which is never taxed.
    pub manual_tax: Option<ManualTax>,
    /// Its own VAT category and rate under the VAT calculator; `None` takes the default.
    pub vat: Option<LineVat>,
}

/// What pricing gives one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedItem {
    /// `round(unit price * quantity)`, positive for credits too.
    pub price: Decimal,
    /// Its share of the invoice's discount; 0 for credits.
    pub discount_amount: Decimal,
    /// Its tax: manual, computed, or none (always none for credits).
    pub tax: Option<ItemTax>,
}

/// What pricing gives the whole invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedInvoice {
    /// Each item's figures, in the order of the input items.
    pub items: Vec<PricedItem>,
    /// The amount each discount takes, in the order of the input discounts.
    pub discount_amounts: Vec<Decimal>,
    /// The invoice's totals.
    pub totals: InvoiceTotals,
}

/// `round(unit price * quantity)` in the currency. Inputs are bounded by their types (at most
/// 1e9 * 1e9, with 12 decimals), so the product's integer part fits a `Decimal`; and callers
/// refuse products above 1e12, so it has at most 25 digits and is exact before the one rounding.
pub fn item_price(unit_price: UnitPrice, quantity: Quantity, currency: Currency) -> Decimal {
    let extended = unit_price
        .amount()
        .checked_mul(Decimal::from(quantity.get()))
        .expect("a unit price <= 1e9 times a quantity <= 1e9 fits a Decimal");
    round_half_away_from_zero(extended, currency.minor_units())
}

/// Prices a whole invoice: item prices; the discounts, applied in order to the debit total
/// still undiscounted; their total shared among the debit items in proportion to price
/// (largest remainder; ties: larger remainder, larger price, smaller id); then each item's tax
/// on its price less its share; and the totals. The result does not depend on item order.
pub fn price_invoice(
    currency: Currency,
    discounts: &[Discount],
    tax: &TaxSettings,
    items: &[ItemToPrice],
) -> PricedInvoice {
    let places = currency.minor_units();
    let prices: Vec<i128> = items
        .iter()
        .map(|item| to_minor(item_price(item.unit_price, item.quantity, currency), places))
        .collect();
    // Credits are never discounted: they weigh nothing in the allocation.
    let weighted: Vec<Weighted<'_>> = items
        .iter()
        .zip(&prices)
        .map(|(item, &price)| Weighted {
            id: &item.id,
            weight: match item.item_type {
                ItemType::Debit => price,
                ItemType::Credit => 0,
            },
        })
        .collect();
    let debit_total = sum(weighted.iter().map(|item| item.weight));
    let discount_units = applied_amounts(discounts, debit_total, places);
    let discount_total = sum(discount_units.iter().copied());
    let shares = allocate(discount_total, &weighted);
    let taxes = ItemTaxes::of(tax);
    let mut priced: Vec<PricedItem> = items
        .iter()
        .zip(prices)
        .zip(shares)
        .map(|((item, price), share)| price_item(&taxes, item, price, share, places))
        .collect();
    if let TaxSettings::Vat(rate) = tax {
        vat::share_vat(*rate, items, &mut priced, places);
    }
    let subtotal_amount = items
        .iter()
        .zip(&priced)
        .map(|(item, priced)| signed_price(item.item_type, priced))
        .sum();
    let tax_amount = priced.iter().map(tax_amount_of).sum();
    let totals = totals_of(
        subtotal_amount,
        from_minor(discount_total, places),
        tax_amount,
    );
    PricedInvoice {
        items: priced,
        discount_amounts: discount_units
            .into_iter()
            .map(|amount| from_minor(amount, places))
            .collect(),
        totals,
    }
}

/// The item's figures when nothing else on the invoice can move them (the invoice has no
/// discounts, and its tax is not VAT): discount 0, tax from `tax`.
pub fn price_undiscounted_item(
    currency: Currency,
    tax: &TaxSettings,
    item: &ItemToPrice,
) -> PricedItem {
    let places = currency.minor_units();
    let price = to_minor(item_price(item.unit_price, item.quantity, currency), places);
    price_item(&ItemTaxes::of(tax), item, price, 0, places)
}

/// The totals after one item's figures are removed, added, or replaced (both), for an invoice
/// without discounts, whose items do not affect each other. Exact: applied under the invoice's
/// row lock, a change moves the totals by exactly the item's own figures. The discount total
/// is kept as it is.
pub fn totals_after_change(
    current: InvoiceTotals,
    removed: Option<(ItemType, &PricedItem)>,
    added: Option<(ItemType, &PricedItem)>,
) -> InvoiceTotals {
    let mut subtotal_amount = current.subtotal_amount;
    let mut tax_amount = current.tax_amount;
    if let Some((item_type, item)) = removed {
        subtotal_amount -= signed_price(item_type, item);
        tax_amount -= tax_amount_of(item);
    }
    if let Some((item_type, item)) = added {
        subtotal_amount += signed_price(item_type, item);
        tax_amount += tax_amount_of(item);
    }
    totals_of(subtotal_amount, current.discount_amount, tax_amount)
}

/// An item's figures once its price and discount share (in minor units) are known.
fn price_item(
    taxes: &ItemTaxes<'_>,
    item: &ItemToPrice,
    price: i128,
    discount: i128,
    places: u32,
) -> PricedItem {
    PricedItem {
        price: from_minor(price, places),
        discount_amount: from_minor(discount, places),
        tax: match item.item_type {
            ItemType::Debit => {
                taxes.debit_item_tax(item.manual_tax.as_ref(), price - discount, places)
            }
            ItemType::Credit => None,
        },
    }
}

/// What the item adds to the subtotal: credits take their price off.
fn signed_price(item_type: ItemType, item: &PricedItem) -> Decimal {
    match item_type {
        ItemType::Debit => item.price,
        ItemType::Credit => -item.price,
    }
}

fn tax_amount_of(item: &PricedItem) -> Decimal {
    item.tax.as_ref().map_or(Decimal::ZERO, ItemTax::amount)
}

/// The totals from their three parts. `normalize` strips trailing zeros and turns `-0` into 0.
fn totals_of(
    subtotal_amount: Decimal,
    discount_amount: Decimal,
    tax_amount: Decimal,
) -> InvoiceTotals {
    let amount = (subtotal_amount - discount_amount + tax_amount).normalize();
    InvoiceTotals {
        subtotal_amount: subtotal_amount.normalize(),
        discount_amount: discount_amount.normalize(),
        tax_amount: tax_amount.normalize(),
        amount,
        amount_due: amount,
    }
}
