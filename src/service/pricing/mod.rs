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

/// One item as pricing sees it, borrowed: an invoice of tens of thousands of items is priced
/// from a list of these, made afresh for each pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemToPrice<'a> {
    /// Its id: the last tie-break when the discount is shared out.
    pub id: &'a InvoiceItemId,
    /// Debit or credit.
    pub item_type: ItemType,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// Tax set by hand; ignored on a credit, which is never taxed.
    pub manual_tax: Option<&'a ManualTax>,
    /// Its own VAT category and rate under the VAT calculator; `None` takes the default.
    pub vat: Option<&'a LineVat>,
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
    let priced = price_invoice_again(currency, discounts, tax, items, &[]);
    PricedInvoice {
        // Without a last pricing, every item's figures are worked out, in order.
        items: priced
            .items
            .into_iter()
            .map(|(_, figures)| figures)
            .collect(),
        discount_amounts: priced.discount_amounts,
        totals: priced.totals,
    }
}

/// What pricing gave one item of an invoice, in whole minor units: its price and its share of
/// the discounts. Its tax is a function of these under the invoice's currency and tax settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedUnits {
    price: i128,
    share: i128,
}

/// One item's last pricing on the same invoice, with the same currency and tax settings, whose
/// figures it still shows: its units and the amount of the tax they gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPricing {
    /// Its units then.
    pub units: PricedUnits,
    /// Its tax's amount then.
    pub tax_amount: Decimal,
}

impl LastPricing {
    /// The units and tax amount of `figures`, priced from `units`.
    pub fn of(units: PricedUnits, figures: &PricedItem) -> Self {
        Self {
            units,
            tax_amount: tax_amount_of(figures),
        }
    }
}

/// An invoice priced again after a change to its items or discounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepricedInvoice {
    /// Each item's units, in the order of the input items.
    pub units: Vec<PricedUnits>,
    /// The figures of the items whose units did not come out as their last pricing's (every
    /// item without one), by position, in order. The others' figures stay as they are.
    pub items: Vec<(usize, PricedItem)>,
    /// The amount each discount takes, in the order of the input discounts.
    pub discount_amounts: Vec<Decimal>,
    /// The invoice's totals.
    pub totals: InvoiceTotals,
}

/// Prices a whole invoice as [`price_invoice`] does, given the last pricing of some of its
/// items (`last`, by position; shorter than `items`, or `None`, where not known). An item whose
/// price and discount share come out as they were keeps its tax, which is not worked out again:
/// after one change to an invoice of thousands of items, most shares stay where they were.
/// Under VAT, whose rounding couples the items, every item's tax is worked out again.
pub fn price_invoice_again(
    currency: Currency,
    discounts: &[Discount],
    tax: &TaxSettings,
    items: &[ItemToPrice],
    last: &[Option<LastPricing>],
) -> RepricedInvoice {
    let places = currency.minor_units();
    let last_of = |index: usize| match tax {
        TaxSettings::Vat(_) => None,
        TaxSettings::Manual | TaxSettings::Rates(_) => last.get(index).copied().flatten(),
    };
    let prices: Vec<i128> = items
        .iter()
        .enumerate()
        .map(|(index, item)| match last_of(index) {
            // An item's price depends on itself alone.
            Some(last) => last.units.price,
            None => to_minor(item_price(item.unit_price, item.quantity, currency), places),
        })
        .collect();
    // Credits are never discounted: they weigh nothing in the allocation.
    let weighted: Vec<Weighted<'_>> = items
        .iter()
        .zip(&prices)
        .map(|(item, &price)| Weighted {
            id: item.id,
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
    let units: Vec<PricedUnits> = prices
        .iter()
        .zip(&shares)
        .map(|(&price, &share)| PricedUnits { price, share })
        .collect();
    let mut tax_amount = Decimal::ZERO;
    let mut priced = Vec::new();
    for (index, (item, units)) in items.iter().zip(&units).enumerate() {
        match last_of(index) {
            Some(last) if last.units == *units => {
                tax_amount += last.tax_amount;
            }
            _ => {
                let figures = price_item(&taxes, item, units.price, units.share, places);
                tax_amount += tax_amount_of(&figures);
                priced.push((index, figures));
            }
        }
    }
    if let TaxSettings::Vat(rate) = tax {
        // Every item was priced above, in order: VAT keeps no last pricing.
        let mut all: Vec<PricedItem> = priced.into_iter().map(|(_, figures)| figures).collect();
        vat::share_vat(*rate, items, &mut all, places);
        tax_amount = all.iter().map(tax_amount_of).sum();
        priced = all.into_iter().enumerate().collect();
    }
    let subtotal_units =
        sum(items
            .iter()
            .zip(&prices)
            .map(|(item, &price)| match item.item_type {
                ItemType::Debit => price,
                ItemType::Credit => -price,
            }));
    let totals = totals_of(
        from_minor(subtotal_units, places),
        from_minor(discount_total, places),
        tax_amount,
    );
    RepricedInvoice {
        units,
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
            ItemType::Debit => taxes.debit_item_tax(item.manual_tax, price - discount, places),
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
