//! Invoice discounts: our extension to Rebilly (whose discounts come from coupon redemptions).

use rust_decimal::Decimal;

use super::money::MAX_EXTENDED_PRICE;
use super::money::decimal_places;
use super::spelling::spellings;
use super::text::BoundedText;

/// The most discounts one invoice may carry.
pub const MAX_DISCOUNTS: usize = 20;
/// The most decimal places of a percentage (`12.3456` is 12.3456%).
pub const MAX_PERCENT_PLACES: u32 = 4;

/// A discount's description, at most 255 characters.
pub type DiscountDescription = BoundedText<255>;

/// How a discount's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscountKind {
    /// A percentage of the debit total still undiscounted: `10` is 10%.
    Percent,
    /// An amount in the invoice currency.
    Fixed,
}

spellings! {
    DiscountKind {
        Percent => "percent",
        Fixed => "fixed",
    } else "must be one of: percent, fixed"
}

/// One discount as the client set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    /// Free text shown with it, if any.
    pub description: Option<DiscountDescription>,
    /// Percent or fixed.
    pub kind: DiscountKind,
    value: Decimal,
}

impl Discount {
    /// Checks the value for its kind: a percentage is `0 < value <= 100` with at most four
    /// decimal places; a fixed amount is `0 < value <= 1,000,000,000,000` with at most the
    /// currency's `minor_units` decimal places.
    pub fn new(
        description: Option<DiscountDescription>,
        kind: DiscountKind,
        value: Decimal,
        minor_units: u32,
    ) -> Result<Self, String> {
        if value <= Decimal::ZERO {
            return Err("must be greater than 0".to_owned());
        }
        match kind {
            DiscountKind::Percent if value > Decimal::ONE_HUNDRED => {
                return Err("must be at most 100 for a percent discount".to_owned());
            }
            DiscountKind::Percent if decimal_places(value) > MAX_PERCENT_PLACES => {
                return Err(format!(
                    "must have at most {MAX_PERCENT_PLACES} decimal places for a percent discount"
                ));
            }
            DiscountKind::Fixed if value > MAX_EXTENDED_PRICE => {
                return Err("must be at most 1000000000000".to_owned());
            }
            DiscountKind::Fixed if decimal_places(value) > minor_units => {
                return Err(format!(
                    "must have at most {minor_units} decimal places in the invoice currency"
                ));
            }
            _ => {}
        }
        Ok(Self {
            description,
            kind,
            value: value.normalize(),
        })
    }

    /// The value: a percentage or an amount.
    pub fn value(&self) -> Decimal {
        self.value
    }
}

/// A discount with the amount it took off the invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedDiscount {
    /// The discount as set.
    pub discount: Discount,
    /// What it took off: rounded, and capped at the debit total it found.
    pub amount: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn discount(kind: DiscountKind, value: Decimal, minor_units: u32) -> Result<Discount, String> {
        Discount::new(None, kind, value, minor_units)
    }

    #[test]
    fn percentages_lie_in_zero_to_one_hundred() {
        assert!(discount(DiscountKind::Percent, dec!(100), 2).is_ok());
        assert!(discount(DiscountKind::Percent, dec!(0.0001), 2).is_ok());
        assert!(discount(DiscountKind::Percent, dec!(0), 2).is_err());
        assert!(discount(DiscountKind::Percent, dec!(100.01), 2).is_err());
        assert!(discount(DiscountKind::Percent, dec!(0.00001), 2).is_err());
        assert!(discount(DiscountKind::Percent, dec!(12.50000), 2).is_ok());
    }

    #[test]
    fn fixed_amounts_follow_the_currency() {
        assert!(discount(DiscountKind::Fixed, dec!(5.25), 2).is_ok());
        assert!(discount(DiscountKind::Fixed, dec!(5.25), 0).is_err());
        assert!(discount(DiscountKind::Fixed, dec!(-1), 2).is_err());
        assert!(discount(DiscountKind::Fixed, dec!(1000000000000), 0).is_ok());
        assert!(discount(DiscountKind::Fixed, dec!(1000000000001), 0).is_err());
    }
}
