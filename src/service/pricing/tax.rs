//! Item taxes: a manual tax is kept; otherwise the invoice's `rates` calculator computes one.

use crate::domain::tax::ManualTax;
use crate::domain::tax::{ComputedTax, ItemTax, TaxComponent, TaxRate, TaxRates, TaxSettings};

use super::units::{from_minor, mul_round, sum};

/// The tax of a debit item whose taxable amount (price less its discount share) is `taxable`
/// minor units. Credits are never taxed: the caller does not ask for them.
pub(super) fn debit_item_tax(
    settings: &TaxSettings,
    manual: Option<&ManualTax>,
    taxable: i128,
    places: u32,
) -> Option<ItemTax> {
    match (manual, settings) {
        (Some(manual), _) => Some(ItemTax::Manual(manual.clone())),
        (None, TaxSettings::Rates(rates)) => {
            Some(ItemTax::Computed(computed_tax(rates, taxable, places)))
        }
        // VAT is shared out over the whole invoice afterwards (`vat::share_vat`).
        (None, TaxSettings::Manual | TaxSettings::Vat(_)) => None,
    }
}

/// Each component is rounded on its own, and the tax is the sum of the rounded components, so
/// the components shown always add up to the amount shown.
fn computed_tax(rates: &TaxRates, taxable: i128, places: u32) -> ComputedTax {
    let units = |rate: TaxRate| mul_round(taxable, rate.get());
    let state = units(rates.state);
    let county = units(rates.county);
    let city = units(rates.city);
    let special_district = units(rates.special_district);
    let component = |rate: TaxRate, amount: i128| TaxComponent {
        rate: rate.get().normalize(),
        amount: from_minor(amount, places),
    };
    ComputedTax {
        amount: from_minor(sum([state, county, city, special_district]), places),
        rate: rates.total().normalize(),
        state: component(rates.state, state),
        county: component(rates.county, county),
        city: component(rates.city, city),
        special_district: component(rates.special_district, special_district),
        jurisdictions: rates.jurisdictions.clone(),
    }
}
