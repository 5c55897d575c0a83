//! Amounts as whole minor units of the currency (cents for USD), so that shares, percentages
//! and tax components are computed exactly in integers and rounded once.
//!
//! Bound: an item price is at most 10^12 ([`MAX_EXTENDED_PRICE`]), so at most 10^16 minor units
//! (no ISO currency has more than 4 decimals). The largest product formed here is a discount
//! total times an item price (both at most the invoice's debit total `P`), or an amount times
//! a percentage's or rate's mantissa (at most 10^6). `i128` holds 1.7 * 10^38, so all of them
//! fit while `P` stays below 10^22 minor units: more than a million items at the largest price.
//! Past that the arithmetic panics (a 500) instead of rounding wrong.
//!
//! [`MAX_EXTENDED_PRICE`]: crate::domain::money::MAX_EXTENDED_PRICE

use rust_decimal::Decimal;

use crate::domain::money::round_half_away_from_zero;

/// Why an `expect` here cannot fire on an invoice within the bound above.
pub(super) const WITHIN_BOUND: &str =
    "pricing arithmetic stays within i128 for invoices below 10^22 minor units";

/// `10^exponent`.
fn pow10(exponent: u32) -> i128 {
    10i128.checked_pow(exponent).expect(WITHIN_BOUND)
}

/// The amount, rounded to `places` decimals (half away from zero), in minor units.
pub(super) fn to_minor(amount: Decimal, places: u32) -> i128 {
    // After rounding and normalising, the scale is at most `places`, so the shift is exact.
    let rounded = round_half_away_from_zero(amount, places).normalize();
    rounded
        .mantissa()
        .checked_mul(pow10(places - rounded.scale()))
        .expect(WITHIN_BOUND)
}

/// The amount of `units` minor units, normalised (no trailing zeros, never `-0`).
pub(super) fn from_minor(units: i128, places: u32) -> Decimal {
    Decimal::try_from_i128_with_scale(units, places)
        .expect(WITHIN_BOUND)
        .normalize()
}

/// `round(units * factor)` in minor units, half away from zero, computed exactly: the factor
/// is its integer mantissa over a power of ten, so no intermediate value is ever rounded.
pub(super) fn mul_round(units: i128, factor: Decimal) -> i128 {
    let numerator = units.checked_mul(factor.mantissa()).expect(WITHIN_BOUND);
    div_round_half_away_from_zero(numerator, pow10(factor.scale()))
}

/// `numerator / divisor` rounded half away from zero; `divisor > 0`.
fn div_round_half_away_from_zero(numerator: i128, divisor: i128) -> i128 {
    let quotient = numerator / divisor;
    let remainder = (numerator % divisor).abs();
    // `remainder < divisor`, so doubling it cannot overflow where the divisor did not.
    if remainder.checked_mul(2).expect(WITHIN_BOUND) >= divisor {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

/// The sum of some minor-unit amounts.
pub(super) fn sum(amounts: impl IntoIterator<Item = i128>) -> i128 {
    amounts
        .into_iter()
        .try_fold(0i128, i128::checked_add)
        .expect(WITHIN_BOUND)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_convert_to_minor_units_and_back() {
        assert_eq!(to_minor(dec!(19.99), 2), 1999);
        assert_eq!(to_minor(dec!(19.9900), 2), 1999);
        assert_eq!(to_minor(dec!(20), 2), 2000);
        assert_eq!(to_minor(dec!(1000), 0), 1000);
        assert_eq!(
            to_minor(dec!(1.2345), 3),
            1235,
            "rounded half away from zero"
        );
        assert_eq!(from_minor(1999, 2), dec!(19.99));
        assert_eq!(from_minor(2000, 2).to_string(), "20");
        assert!(!from_minor(0, 3).is_sign_negative());
    }

    #[test]
    fn products_round_half_away_from_zero() {
        // 1.00 * 0.005 = 0.005: exactly half a cent, away from zero.
        assert_eq!(mul_round(100, dec!(0.005)), 1);
        assert_eq!(mul_round(-100, dec!(0.005)), -1);
        // 0.08 * 0.0625 = 0.005.
        assert_eq!(mul_round(8, dec!(0.0625)), 1);
        // 0.07 * 0.0625 = 0.004375.
        assert_eq!(mul_round(7, dec!(0.0625)), 0);
        assert_eq!(mul_round(3001, dec!(0.1)), 300);
        assert_eq!(mul_round(3005, dec!(0.1)), 301);
    }

    proptest! {
        #[test]
        fn integer_products_equal_the_rounded_decimal_product(
            units in -1_000_000_000_000i64..=1_000_000_000_000,
            mantissa in 0i64..=1_000_000,
            scale in 0u32..=6,
        ) {
            // Small enough for `Decimal` to multiply exactly: it is the reference.
            let factor = Decimal::new(mantissa, scale);
            let exact = Decimal::from(units) * factor;
            let expected = round_half_away_from_zero(exact, 0);
            prop_assert_eq!(Decimal::from(mul_round(i128::from(units), factor)), expected);
        }
    }
}
