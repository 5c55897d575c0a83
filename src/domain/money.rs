//! Exact money: `Decimal` from and to the JSON number's own text, and the one rounding rule.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serializer;
use serde_json::value::RawValue;

/// Reads a JSON number's text (`19.99`, `-0.5`, `1e2`, `1.5E-3`) into a `Decimal` without
/// passing through `f64`. `None` when the text is not a number `Decimal` can hold exactly.
pub fn decimal_from_json_number(text: &str) -> Option<Decimal> {
    let first = text.chars().next()?;
    if !(first == '-' || first.is_ascii_digit()) {
        return None;
    }
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text.to_ascii_lowercase()).ok()
    } else {
        Decimal::from_str(text).ok()
    }
}

/// The normalised text of an amount: no trailing zeros, no exponent, never `-0`.
pub fn normalized_text(amount: Decimal) -> String {
    let normalized = amount.normalize();
    if normalized.is_zero() {
        "0".to_owned()
    } else {
        normalized.to_string()
    }
}

/// Writes an amount as an exact JSON number (`#[serde(serialize_with = ...)]`).
pub fn serialize<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(normalized_text(*amount)).map_err(serde::ser::Error::custom)?;
    serde::Serialize::serialize(&raw, serializer)
}

/// Writes an optional amount as an exact JSON number or `null`.
pub fn serialize_option<S: Serializer>(
    amount: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serialize(amount, serializer),
        None => serializer.serialize_none(),
    }
}

/// Decimal places of a value as written, trailing zeros not counted (`1.50` has 1).
pub fn decimal_places(value: Decimal) -> u32 {
    value.normalize().scale()
}

/// The project's one rounding rule: half away from zero, to `places` decimals.
pub fn round_half_away_from_zero(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn json_numbers_are_read_exactly() {
        let cases = [
            ("19.99", dec!(19.99)),
            ("0.1", dec!(0.1)),
            ("1e2", dec!(100)),
            ("1E2", dec!(100)),
            ("1.5e-3", dec!(0.0015)),
            ("-0.5", dec!(-0.5)),
            ("123456789.123456789012", dec!(123456789.123456789012)),
        ];
        for (text, expected) in cases {
            assert_eq!(decimal_from_json_number(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn non_numbers_are_refused() {
        for text in ["\"1\"", "true", "null", "[1]", "{}", ""] {
            assert_eq!(decimal_from_json_number(text), None, "{text}");
        }
    }

    #[test]
    fn amounts_are_written_in_normal_form() {
        assert_eq!(normalized_text(dec!(100.00)), "100");
        assert_eq!(normalized_text(dec!(0.1) * dec!(3)), "0.3");
        assert_eq!(normalized_text(dec!(-0.00)), "0");
        assert_eq!(normalized_text(dec!(59.970)), "59.97");
        assert_eq!(normalized_text(dec!(1000000000000)), "1000000000000");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_half_away_from_zero(dec!(10.005), 2), dec!(10.01));
        assert_eq!(round_half_away_from_zero(dec!(10.015), 2), dec!(10.02));
        assert_eq!(round_half_away_from_zero(dec!(-10.005), 2), dec!(-10.01));
        assert_eq!(round_half_away_from_zero(dec!(10.0049), 2), dec!(10.00));
        assert_eq!(round_half_away_from_zero(dec!(2.5), 0), dec!(3));
    }

    #[test]
    fn serialize_writes_a_json_number() {
        #[derive(serde::Serialize)]
        struct Price {
            #[serde(serialize_with = "serialize")]
            price: Decimal,
        }
        let json = serde_json::to_string(&Price {
            price: dec!(59.970),
        })
        .unwrap();
        assert_eq!(json, r#"{"price":59.97}"#);
    }

    proptest! {
        #[test]
        fn written_amounts_read_back_equal(mantissa in any::<i64>(), scale in 0u32..=12) {
            let amount = Decimal::new(mantissa, scale);
            let text = normalized_text(amount);
            prop_assert!(!text.contains(['e', 'E']));
            prop_assert_eq!(decimal_from_json_number(&text), Some(amount));
        }

        #[test]
        fn rounding_moves_by_at_most_half_a_unit(mantissa in any::<i64>(), scale in 0u32..=12, places in 0u32..=4) {
            let value = Decimal::new(mantissa, scale);
            let rounded = round_half_away_from_zero(value, places);
            let half_unit = Decimal::new(5, places + 1);
            prop_assert!((rounded - value).abs() <= half_unit);
            prop_assert!(decimal_places(rounded) <= places);
        }
    }
}
