//! Exact money: `Decimal` from and to the JSON number's own text, and the one rounding rule.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serializer;
use serde_json::value::RawValue;

/// The most significant digits a `Decimal` holds exactly.
const MAX_DIGITS: usize = 28;

/// Reads a JSON number's text (`19.99`, `-0.5`, `1e2`, `1.5E-3`) into a `Decimal` without
/// passing through `f64`. `None` when the text is not a number, or when `Decimal` cannot hold
/// it exactly (more than 28 significant digits or decimal places): such a number is refused,
/// never rounded.
pub fn decimal_from_json_number(text: &str) -> Option<Decimal> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if integer.is_empty() || !all_digits(integer) || !all_digits(fraction) {
        return None;
    }
    // value = digits * 10^power; drop the zeros that do not change it.
    let digits = format!("{integer}{fraction}");
    let significant = digits.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    let power = exponent
        .checked_sub(i64::try_from(fraction.len()).ok()?)?
        .checked_add(i64::try_from(significant.len() - trimmed.len()).ok()?)?;
    if trimmed.is_empty() {
        return Some(Decimal::ZERO);
    }
    let (digits, scale) = if power >= 0 {
        let zeros = usize::try_from(power)
            .ok()
            .filter(|zeros| trimmed.len() + zeros <= MAX_DIGITS)?;
        (format!("{trimmed}{}", "0".repeat(zeros)), 0)
    } else {
        (
            trimmed.to_owned(),
            u32::try_from(power.unsigned_abs())
                .ok()
                .filter(|scale| *scale <= 28)?,
        )
    };
    if digits.len() > MAX_DIGITS {
        return None;
    }
    let magnitude = digits.parse::<i128>().ok()?;
    let value = Decimal::try_from_i128_with_scale(magnitude, scale).ok()?;
    Some(if negative { -value } else { value })
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

/// The largest amount one item may come to, the unit price times the quantity:
/// 1,000,000,000,000, bounded so that sums of many items stay exact.
pub const MAX_EXTENDED_PRICE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

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
    fn numbers_a_decimal_cannot_hold_exactly_are_refused_not_rounded() {
        for text in [
            "0.1000000000000000000000000000001",
            "0.10000000000000000000000000000000000001",
            "123456789012345678901234567890",
            "79228162514264337593543950336",
            "1e-40",
            "1e29",
            "1e99999999999999999999",
            "1e-9223372036854775808",
            "1e9223372036854775807",
        ] {
            assert_eq!(decimal_from_json_number(text), None, "{text}");
        }
        let cases = [
            ("0.10000000000000000000000000000000000000", dec!(0.1)),
            (
                "1000000000000000000000000000",
                dec!(1000000000000000000000000000),
            ),
            (
                "0.0000000000000000000000000001",
                dec!(0.0000000000000000000000000001),
            ),
            ("0e99999", dec!(0)),
            ("-0", dec!(0)),
            ("12.5E+1", dec!(125)),
        ];
        for (text, expected) in cases {
            assert_eq!(decimal_from_json_number(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn non_numbers_are_refused() {
        for text in ["\"1\"", "true", "null", "[1]", "{}", "", "-", "1.2.3", ".5"] {
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
        fn scientific_notation_reads_the_same_value(mantissa in any::<i64>(), scale in 0u32..=12) {
            let text = format!("{mantissa}e-{scale}");
            prop_assert_eq!(decimal_from_json_number(&text), Some(Decimal::new(mantissa, scale)));
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
