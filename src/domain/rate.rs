//! A tax rate as a fraction, which sales taxes and VAT share.

use rust_decimal::Decimal;

use super::money::decimal_places;

/// The most decimal places of a tax rate (`0.0625` is 6.25%).
pub const MAX_RATE_PLACES: u32 = 6;
/// A tax rate as a fraction, as TaxJar gives it: `0 <= rate <= 1`, at most six decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaxRate(Decimal);

impl TaxRate {
    /// Checks the range and the decimal places.
    pub fn parse(value: Decimal) -> Result<Self, String> {
        if value.is_sign_negative() && !value.is_zero() {
            Err("must be at least 0".to_owned())
        } else if value > Decimal::ONE {
            Err("must be at most 1 (a fraction: 0.0625 is 6.25%)".to_owned())
        } else if decimal_places(value) > MAX_RATE_PLACES {
            Err(format!(
                "must have at most {MAX_RATE_PLACES} decimal places"
            ))
        } else {
            Ok(Self(value.normalize()))
        }
    }

    /// The fraction.
    pub fn get(self) -> Decimal {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rates_are_fractions_with_at_most_six_places() {
        assert_eq!(TaxRate::parse(dec!(0.0625)).unwrap().get(), dec!(0.0625));
        assert!(TaxRate::parse(dec!(1)).is_ok());
        assert!(TaxRate::parse(dec!(0)).is_ok());
        assert!(TaxRate::parse(dec!(1.000001)).is_err());
        assert!(TaxRate::parse(dec!(-0.01)).is_err());
        assert!(TaxRate::parse(dec!(0.0000001)).is_err());
        assert!(TaxRate::parse(dec!(0.1000000)).is_ok());
    }
}
