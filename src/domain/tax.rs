//! An invoice's tax settings: manual (item taxes set by hand), the `rates` calculator (sales
//! tax by jurisdiction) or the `vat` calculator (EU VAT as EN 16931 computes it).

use rust_decimal::Decimal;

use super::money::{MAX_EXTENDED_PRICE, decimal_places};
use super::text::BoundedText;
use super::vat::VatCategory;

pub use super::rate::{MAX_RATE_PLACES, TaxRate};

/// What an item's computed tax is called.
pub const SALES_TAX_DESCRIPTION: &str = "Sales tax";
/// What an item's share of its invoice's VAT is called.
pub const VAT_DESCRIPTION: &str = "VAT";

/// A jurisdiction name, at most 100 characters.
pub type JurisdictionName = BoundedText<100>;

/// Where the tax is levied, as Rebilly's `TaxItem.jurisdictions`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Jurisdictions {
    /// Two-letter ISO country code.
    pub country: Option<JurisdictionName>,
    /// Postal state abbreviation.
    pub state: Option<JurisdictionName>,
    /// County name.
    pub county: Option<JurisdictionName>,
    /// City name.
    pub city: Option<JurisdictionName>,
}

/// The four sales-tax rates of a location, as TaxJar gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaxRates {
    /// State rate.
    pub state: TaxRate,
    /// County rate.
    pub county: TaxRate,
    /// City rate.
    pub city: TaxRate,
    /// Special-district rate.
    pub special_district: TaxRate,
    /// Names of the jurisdictions, shown on every taxed item.
    pub jurisdictions: Option<Jurisdictions>,
}

impl TaxRates {
    /// The overall rate: the sum of the four.
    pub fn total(&self) -> Decimal {
        self.state.get() + self.county.get() + self.city.get() + self.special_district.get()
    }
}

/// How an invoice's item taxes come about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TaxSettings {
    /// Only the taxes set by hand on items (`calculator: "manual"`).
    #[default]
    Manual,
    /// Each debit item without a manual tax is taxed at these rates (`calculator: "rates"`).
    Rates(TaxRates),
    /// EU VAT (`calculator: "vat"`): every item without a manual tax falls in VAT category `S`
    /// at this rate (`Z` at 0), and VAT is computed once per category and rate on the sum of
    /// the items' amounts after discounts, as EN 16931 does; each debit item shows its share.
    Vat(TaxRate),
}

impl TaxSettings {
    /// The wire and database name of the calculator.
    pub fn calculator(&self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Rates(_) => "rates",
            Self::Vat(_) => "vat",
        }
    }

    /// Whether its taxes are VAT, which an e-invoice states.
    pub fn is_vat(&self) -> bool {
        matches!(self, Self::Vat(_))
    }

    /// Whether an item's tax can move with the others' (VAT is rounded per category and rate
    /// over all of them), so that a write must reprice the whole invoice.
    pub fn couples_items(&self) -> bool {
        matches!(self, Self::Vat(_))
    }
}

/// One component of a computed tax: its rate and the amount it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaxComponent {
    /// The rate applied.
    pub rate: Decimal,
    /// `round(taxable * rate)` in the invoice currency.
    pub amount: Decimal,
}

/// A tax the `rates` calculator computed for one debit item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedTax {
    /// The sum of the four component amounts.
    pub amount: Decimal,
    /// The overall rate: the sum of the four component rates.
    pub rate: Decimal,
    /// State component.
    pub state: TaxComponent,
    /// County component.
    pub county: TaxComponent,
    /// City component.
    pub city: TaxComponent,
    /// Special-district component.
    pub special_district: TaxComponent,
    /// Where it is levied.
    pub jurisdictions: Option<Jurisdictions>,
}

/// An item's share of its invoice's VAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatShare {
    /// Its share of its category and rate's VAT.
    pub amount: Decimal,
    /// The item's VAT category.
    pub category: VatCategory,
    /// The item's VAT rate, a fraction.
    pub rate: Decimal,
}

/// An item's tax, whichever way it came about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per item, moved rarely: a box would cost more than the bytes it saves"
)]
pub enum ItemTax {
    /// Set by hand on the item.
    Manual(ManualTax),
    /// Computed from the invoice's rates.
    Computed(ComputedTax),
    /// Its share of the invoice's VAT.
    Vat(VatShare),
}

impl ItemTax {
    /// The tax amount.
    pub fn amount(&self) -> Decimal {
        match self {
            Self::Manual(tax) => tax.amount(),
            Self::Computed(tax) => tax.amount,
            Self::Vat(share) => share.amount,
        }
    }

    /// The tax description: the manual one, or [`SALES_TAX_DESCRIPTION`].
    pub fn description(&self) -> &str {
        match self {
            Self::Manual(tax) => tax.description(),
            Self::Computed(_) => SALES_TAX_DESCRIPTION,
            Self::Vat(_) => VAT_DESCRIPTION,
        }
    }
}

/// A manual tax description, at most 255 characters.
pub type TaxDescription = BoundedText<255>;

/// A manual tax amount: not negative; its decimal places are checked against the invoice
/// currency once the invoice is known ([`ManualTax::fits_currency`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxAmount(Decimal);

impl TaxAmount {
    /// Checks that the amount is between 0 and the largest item price, 1,000,000,000,000
    /// (bounded so that sums of many items stay exact).
    pub fn parse(value: Decimal) -> Result<Self, String> {
        if value.is_sign_negative() && !value.is_zero() {
            Err("must be at least 0".to_owned())
        } else if value > MAX_EXTENDED_PRICE {
            Err("must be at most 1000000000000".to_owned())
        } else {
            Ok(Self(value.normalize()))
        }
    }
}

/// A tax set by hand on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualTax {
    amount: TaxAmount,
    description: TaxDescription,
}

impl ManualTax {
    /// A manual tax.
    pub fn new(amount: TaxAmount, description: TaxDescription) -> Self {
        Self {
            amount,
            description,
        }
    }

    /// Whether the amount has no more decimals than the currency's minor unit.
    pub fn fits_currency(&self, minor_units: u32) -> bool {
        decimal_places(self.amount.0) <= minor_units
    }

    /// The tax amount.
    pub fn amount(&self) -> Decimal {
        self.amount.0
    }

    /// The tax description.
    pub fn description(&self) -> &str {
        self.description.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_overall_rate_is_the_sum_of_the_four() {
        let rates = TaxRates {
            state: TaxRate::parse(dec!(0.0625)).unwrap(),
            county: TaxRate::parse(dec!(0.01)).unwrap(),
            city: TaxRate::parse(dec!(0.005)).unwrap(),
            special_district: TaxRate::parse(dec!(0.0025)).unwrap(),
            jurisdictions: None,
        };
        assert_eq!(rates.total(), dec!(0.08));
    }

    #[test]
    fn manual_tax_decimals_follow_the_currency() {
        let description = TaxDescription::parse("VAT".to_owned()).unwrap();
        let tax = ManualTax::new(TaxAmount::parse(dec!(1.230)).unwrap(), description);
        assert!(tax.fits_currency(2));
        assert!(!tax.fits_currency(0));
        assert!(TaxAmount::parse(dec!(-1)).is_err());
        assert!(TaxAmount::parse(dec!(0)).is_ok());
        assert!(TaxAmount::parse(dec!(1000000000000)).is_ok());
        assert!(TaxAmount::parse(dec!(1000000000000.01)).is_err());
    }
}
