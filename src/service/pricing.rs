//! Pricing: pure functions from items to prices and invoice totals. No I/O.
//!
//! Rounding happens once per computed amount, half away from zero, to the currency's minor
//! units ([`round_half_away_from_zero`]).

use rust_decimal::Decimal;

use crate::domain::currency::Currency;
use crate::domain::invoice::InvoiceTotals;
use crate::domain::invoice_item::{ItemType, Quantity, UnitPrice};
use crate::domain::money::round_half_away_from_zero;

/// `round(unitPrice * quantity)` in the currency. Inputs are bounded by their types
/// (at most 1e9 * 1e9 with 12 decimals), so the product fits a `Decimal`; callers refuse
/// products above 1e12 before this is reached.
pub fn item_price(unit_price: UnitPrice, quantity: Quantity, currency: Currency) -> Decimal {
    let extended = unit_price
        .amount()
        .saturating_mul(Decimal::from(quantity.get()));
    round_half_away_from_zero(extended, currency.minor_units())
}

/// What one item adds to its invoice's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFigures {
    /// Debit or credit.
    pub item_type: ItemType,
    /// Its price (positive for credits too).
    pub price: Decimal,
    /// Its tax, zero when none.
    pub tax_amount: Decimal,
}

impl ItemFigures {
    fn signed_price(self) -> Decimal {
        match self.item_type {
            ItemType::Debit => self.price,
            ItemType::Credit => -self.price,
        }
    }
}

/// The totals of an invoice with these items and no discount.
pub fn totals_of(items: &[ItemFigures]) -> InvoiceTotals {
    items.iter().fold(InvoiceTotals::default(), |totals, item| {
        totals_after_change(totals, None, Some(*item))
    })
}

/// The totals after one item is removed, added, or replaced (both). Exact: applied under the
/// invoice's row lock, a change moves the totals by exactly the item's own figures.
pub fn totals_after_change(
    current: InvoiceTotals,
    removed: Option<ItemFigures>,
    added: Option<ItemFigures>,
) -> InvoiceTotals {
    let mut subtotal_amount = current.subtotal_amount;
    let mut tax_amount = current.tax_amount;
    if let Some(item) = removed {
        subtotal_amount -= item.signed_price();
        tax_amount -= item.tax_amount;
    }
    if let Some(item) = added {
        subtotal_amount += item.signed_price();
        tax_amount += item.tax_amount;
    }
    let amount = subtotal_amount - current.discount_amount + tax_amount;
    InvoiceTotals {
        subtotal_amount: subtotal_amount.normalize(),
        discount_amount: current.discount_amount,
        tax_amount: tax_amount.normalize(),
        amount: amount.normalize(),
        amount_due: amount.normalize(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn price(unit_price: Decimal, quantity: i64, currency: &str) -> Decimal {
        item_price(
            UnitPrice::parse(unit_price).unwrap(),
            Quantity::parse(quantity).unwrap(),
            Currency::parse(currency).unwrap(),
        )
    }

    #[test]
    fn prices_are_exact_and_rounded_to_the_currency() {
        assert_eq!(price(dec!(0.1), 3, "USD"), dec!(0.3));
        assert_eq!(price(dec!(19.99), 3, "USD"), dec!(59.97));
        assert_eq!(
            price(dec!(0.005), 1, "USD"),
            dec!(0.01),
            "half away from zero"
        );
        assert_eq!(price(dec!(0.0049), 1, "USD"), dec!(0));
        assert_eq!(price(dec!(100.5), 1, "JPY"), dec!(101));
        assert_eq!(price(dec!(1.0005), 1, "BHD"), dec!(1.001));
        assert_eq!(price(dec!(1000000000), 1000, "USD"), dec!(1000000000000));
        assert_eq!(price(dec!(5), 0, "USD"), dec!(0));
    }

    #[test]
    fn credits_reduce_the_subtotal_and_may_make_it_negative() {
        let totals = totals_of(&[
            ItemFigures {
                item_type: ItemType::Debit,
                price: dec!(10),
                tax_amount: dec!(1.5),
            },
            ItemFigures {
                item_type: ItemType::Credit,
                price: dec!(25.25),
                tax_amount: dec!(0),
            },
        ]);
        assert_eq!(totals.subtotal_amount, dec!(-15.25));
        assert_eq!(totals.tax_amount, dec!(1.5));
        assert_eq!(totals.amount, dec!(-13.75));
        assert_eq!(totals.amount_due, dec!(-13.75));
    }

    fn figures() -> impl Strategy<Value = ItemFigures> {
        (
            any::<bool>(),
            0i64..=100_000_000_000_000,
            0i64..=1_000_000_000,
        )
            .prop_map(|(debit, cents, tax_cents)| ItemFigures {
                item_type: if debit {
                    ItemType::Debit
                } else {
                    ItemType::Credit
                },
                price: Decimal::new(cents, 2),
                tax_amount: if debit {
                    Decimal::new(tax_cents, 2)
                } else {
                    Decimal::ZERO
                },
            })
    }

    proptest! {
        #[test]
        fn prices_never_stray_from_the_exact_product(
            cents in 0i64..=100_000_000_000, quantity in 0i64..=1000
        ) {
            let unit_price = Decimal::new(cents, 2);
            let exact = unit_price * Decimal::from(quantity);
            prop_assert_eq!(price(unit_price, quantity, "USD"), exact);
        }

        #[test]
        fn changes_applied_one_by_one_equal_the_sum_of_the_remaining_items(
            items in proptest::collection::vec(figures(), 0..20),
            removals in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
        ) {
            let mut kept = items.clone();
            let mut totals = items.iter().fold(InvoiceTotals::default(), |totals, item| {
                totals_after_change(totals, None, Some(*item))
            });
            for index in removals {
                if kept.is_empty() { break; }
                let removed = kept.remove(index.index(kept.len()));
                totals = totals_after_change(totals, Some(removed), None);
            }
            let expected = totals_of(&kept);
            prop_assert_eq!(totals, expected);
            let subtotal: Decimal = kept.iter().map(|item| item.signed_price()).sum();
            let tax: Decimal = kept.iter().map(|item| item.tax_amount).sum();
            prop_assert_eq!(totals.subtotal_amount, subtotal.normalize());
            prop_assert_eq!(totals.tax_amount, tax.normalize());
            prop_assert_eq!(totals.amount, totals.subtotal_amount - totals.discount_amount + totals.tax_amount);
        }
    }
}
