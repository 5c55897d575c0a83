//! Item taxes: a manual tax is kept; otherwise the invoice's `rates` calculator computes one.

use rust_decimal::Decimal;

use crate::domain::tax::ManualTax;
use crate::domain::tax::{ComputedTax, ItemTax, TaxComponent, TaxRate, TaxRates, TaxSettings};

use super::units::{from_minor, mul_round, sum};

/// How an invoice taxes its debit items, worked out once for all of them: under the `rates`
/// calculator, each rate as a computed tax shows it (normalized, which costs as much as the
/// tax's own arithmetic when done again for every item).
pub(super) struct ItemTaxes<'a> {
    /// The `rates` calculator's rates, and as they are shown; `None` under the other
    /// calculators.
    rates: Option<(&'a TaxRates, ShownRates)>,
}

struct ShownRates {
    total: Decimal,
    state: Decimal,
    county: Decimal,
    city: Decimal,
    special_district: Decimal,
}

impl<'a> ItemTaxes<'a> {
    pub(super) fn of(settings: &'a TaxSettings) -> Self {
        let rates = match settings {
            TaxSettings::Rates(rates) => Some((
                rates,
                ShownRates {
                    total: rates.total().normalize(),
                    state: rates.state.get().normalize(),
                    county: rates.county.get().normalize(),
                    city: rates.city.get().normalize(),
                    special_district: rates.special_district.get().normalize(),
                },
            )),
            TaxSettings::Manual | TaxSettings::Vat(_) => None,
        };
        Self { rates }
    }

    /// The tax of a debit item whose taxable amount (price less its discount share) is
    /// `taxable` minor units. Credits are never taxed: the caller does not ask for them.
    pub(super) fn debit_item_tax(
        &self,
        manual: Option<&ManualTax>,
        taxable: i128,
        places: u32,
    ) -> Option<ItemTax> {
        match (manual, &self.rates) {
            (Some(manual), _) => Some(ItemTax::Manual(manual.clone())),
            (None, Some((rates, shown))) => Some(ItemTax::Computed(computed_tax(
                rates, shown, taxable, places,
            ))),
            // Taxes set by hand only; or VAT, shared out over the whole invoice afterwards
            // (`vat::share_vat`).
            (None, None) => None,
        }
    }
}

/// Each component is rounded on its own, and the tax is the sum of the rounded components, so
/// the components shown always add up to the amount shown.
fn computed_tax(rates: &TaxRates, shown: &ShownRates, taxable: i128, places: u32) -> ComputedTax {
    let units = |rate: TaxRate| mul_round(taxable, rate.get());
    let state = units(rates.state);
    let county = units(rates.county);
    let city = units(rates.city);
    let special_district = units(rates.special_district);
    let component = |rate: Decimal, amount: i128| TaxComponent {
        rate,
        amount: from_minor(amount, places),
    };
    ComputedTax {
        amount: from_minor(sum([state, county, city, special_district]), places),
        rate: shown.total,
        state: component(shown.state, state),
        county: component(shown.county, county),
        city: component(shown.city, city),
        special_district: component(shown.special_district, special_district),
        jurisdictions: rates.jurisdictions.clone(),
    }
}
