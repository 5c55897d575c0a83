//! ISO 4217 currencies and their minor units.

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// An upper-case ISO 4217 code that has a minor unit (so `XAU` or `XXX` are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
pub struct Currency {
    code: &'static str,
    minor_units: u32,
}

/// Why a string is not a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be an upper-case ISO 4217 currency code with a minor unit, such as USD")]
pub struct CurrencyError;

impl Currency {
    /// Looks a code up in the ISO 4217 table.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .map(|&(code, minor_units)| Self { code, minor_units })
            .ok_or(CurrencyError)
    }

    /// Every code, in alphabetical order.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        CURRENCIES.iter().map(|&(code, _)| code)
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// Decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3).
    pub fn minor_units(self) -> u32 {
        self.minor_units
    }

    /// A count of minor units as an amount: USD 1250 is 12.5, JPY 1000 is 1000, BHD 1250 is
    /// 1.25. Exact: the count's digits with the decimal point moved.
    pub fn amount_of_minor_units(self, count: i64) -> Decimal {
        Decimal::new(count, self.minor_units).normalize()
    }

    /// An amount as a whole count of minor units, or `None` when it is finer than the minor
    /// unit (USD 0.333) or beyond an `i64` of them.
    pub fn minor_units_of(self, amount: Decimal) -> Option<i64> {
        let count = amount.checked_mul(Decimal::from(10_i64.pow(self.minor_units)))?;
        if count.fract().is_zero() {
            count.to_i64()
        } else {
            None
        }
    }
}

impl From<Currency> for &'static str {
    fn from(currency: Currency) -> Self {
        currency.code
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// Active ISO 4217 codes (list one, 2026) with their minor units; funds and metals without a
/// minor unit are left out on purpose.
#[rustfmt::skip]
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2),
    ("CHW", 2), ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2),
    ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2),
    ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2),
    ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2),
    ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2),
    ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2),
    ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2),
    ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3),
    ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2),
    ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MXV", 2), ("MYR", 2),
    ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2),
    ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2),
    ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2),
    ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2),
    ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2),
    ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2),
    ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0),
    ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0),
    ("WST", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2),
    ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn minor_units_convert_exactly_by_the_currencys_exponent() {
        let [usd, jpy, bhd] = ["USD", "JPY", "BHD"].map(|code| Currency::parse(code).unwrap());
        assert_eq!(usd.amount_of_minor_units(1250), dec!(12.5));
        assert_eq!(jpy.amount_of_minor_units(1000), dec!(1000));
        assert_eq!(bhd.amount_of_minor_units(1250), dec!(1.25));
        assert_eq!(usd.amount_of_minor_units(-5), dec!(-0.05));
        assert_eq!(usd.minor_units_of(dec!(12.5)), Some(1250));
        assert_eq!(jpy.minor_units_of(dec!(1000)), Some(1000));
        assert_eq!(bhd.minor_units_of(dec!(1.25)), Some(1250));
        assert_eq!(usd.minor_units_of(dec!(0.333)), None, "finer than a cent");
        assert_eq!(
            jpy.minor_units_of(dec!(0.5)),
            None,
            "the yen has no minor unit"
        );
        for count in [0, 1, 99, 1_000_000_000_000, i64::MAX / 1000] {
            for currency in [usd, jpy, bhd] {
                let amount = currency.amount_of_minor_units(count);
                assert_eq!(
                    currency.minor_units_of(amount),
                    Some(count),
                    "{currency} {count}"
                );
            }
        }
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Currency::parse("USD").map(Currency::minor_units), Ok(2));
        assert_eq!(Currency::parse("JPY").map(Currency::minor_units), Ok(0));
        assert_eq!(Currency::parse("BHD").map(Currency::minor_units), Ok(3));
    }

    #[test]
    fn codes_without_minor_unit_or_in_lower_case_are_refused() {
        for code in ["usd", "XAU", "XXX", "US", "USDD", ""] {
            assert_eq!(Currency::parse(code), Err(CurrencyError), "{code}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }
}
