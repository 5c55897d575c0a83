//! How figures read on a document: amounts by the currency's minor unit, with thousands
//! separators; rates as percentages; periods as ISO days in the seller's time zone.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::organization::InvoiceTimeZone;

/// `amount` with exactly `minor_units` decimals and a comma between thousands: USD 1,234.50,
/// JPY 1,000, BHD 1.250.
pub fn amount(amount: Decimal, minor_units: u32) -> String {
    with_places(amount, minor_units)
}

/// A unit price: at least the currency's decimals, and every finer digit it has (USD 0.333).
pub fn unit_price(price: Decimal, minor_units: u32) -> String {
    with_places(price, minor_units.max(price.normalize().scale()))
}

/// A rate of 0.0725 as `7.25%`.
pub fn rate(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

/// A billed period in `zone`, either end open: `2026-01-01 – 2026-01-31`.
pub fn period(
    zone: InvoiceTimeZone,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> String {
    match (start, end) {
        (None, None) => String::new(),
        (start, end) => format!(
            "{} – {}",
            start.map(|time| zone.day(time)).unwrap_or_default(),
            end.map(|time| zone.day(time)).unwrap_or_default()
        ),
    }
}

fn with_places(value: Decimal, places: u32) -> String {
    let rounded = value.round_dp(places);
    let text = format!("{:.*}", places as usize, rounded.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text.as_str(), None),
    };
    let mut grouped = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        grouped.push('-');
    }
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_follow_the_minor_unit_and_group_thousands() {
        assert_eq!(amount(dec!(1000), 0), "1,000");
        assert_eq!(amount(dec!(1.25), 3), "1.250");
        assert_eq!(amount(dec!(1234567.5), 2), "1,234,567.50");
        assert_eq!(amount(dec!(-1234.5), 2), "-1,234.50");
        assert_eq!(amount(dec!(0), 2), "0.00");
        assert_eq!(amount(dec!(999), 2), "999.00");
        assert_eq!(amount(dec!(100000), 0), "100,000");
    }

    #[test]
    fn unit_prices_keep_their_finer_digits() {
        assert_eq!(unit_price(dec!(0.333), 2), "0.333");
        assert_eq!(unit_price(dec!(12.5), 2), "12.50");
        assert_eq!(unit_price(dec!(1500), 0), "1,500");
        assert_eq!(unit_price(dec!(1.50000), 2), "1.50");
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(rate(dec!(0.0725)), "7.25%");
        assert_eq!(rate(dec!(0.1)), "10%");
    }
}
