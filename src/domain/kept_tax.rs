//! An item's tax as the write path keeps it beside the thousands of others of its invoice: a
//! computed tax's rates and jurisdictions, the same for every item priced together, are
//! shared rather than repeated, which takes a computed tax from 256 bytes to under 100.

use std::sync::Arc;

use rust_decimal::Decimal;

use super::tax::{ComputedTax, ItemTax, Jurisdictions, ManualTax, TaxComponent, VatShare};

/// An item's tax, its computed tax's terms shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptTax {
    /// Set by hand on the item.
    Manual(ManualTax),
    /// Computed from the invoice's rates.
    Computed {
        /// The sum of the four component amounts.
        amount: Decimal,
        /// The state, county, city and special-district amounts.
        components: [Decimal; 4],
        /// The rates and jurisdictions.
        terms: Arc<TaxTerms>,
    },
    /// Its share of the invoice's VAT.
    Vat(VatShare),
}

/// What the items priced together share of their computed taxes.
#[derive(Debug, PartialEq, Eq)]
pub struct TaxTerms {
    rate: Decimal,
    /// The state, county, city and special-district rates.
    rates: [Decimal; 4],
    jurisdictions: Option<Jurisdictions>,
}

impl TaxTerms {
    fn of(tax: &ComputedTax) -> Self {
        Self {
            rate: tax.rate,
            rates: components(tax).map(|component| component.rate),
            jurisdictions: tax.jurisdictions.clone(),
        }
    }

    fn are_of(&self, tax: &ComputedTax) -> bool {
        self.rate == tax.rate
            && self.rates == components(tax).map(|component| component.rate)
            && self.jurisdictions == tax.jurisdictions
    }

    /// The jurisdictions, if any.
    pub fn jurisdictions(&self) -> Option<&Jurisdictions> {
        self.jurisdictions.as_ref()
    }
}

fn components(tax: &ComputedTax) -> [TaxComponent; 4] {
    [tax.state, tax.county, tax.city, tax.special_district]
}

impl KeptTax {
    /// `tax` as kept, sharing the terms in `shared` when they are its own; otherwise its own
    /// terms, which `shared` then holds for the next.
    pub fn of(tax: &ItemTax, shared: &mut Option<Arc<TaxTerms>>) -> Self {
        match tax {
            ItemTax::Manual(tax) => Self::Manual(tax.clone()),
            ItemTax::Vat(share) => Self::Vat(*share),
            ItemTax::Computed(tax) => {
                let terms = match shared {
                    Some(terms) if terms.are_of(tax) => Arc::clone(terms),
                    _ => Arc::clone(shared.insert(Arc::new(TaxTerms::of(tax)))),
                };
                Self::Computed {
                    amount: tax.amount,
                    components: components(tax).map(|component| component.amount),
                    terms,
                }
            }
        }
    }

    /// The shared terms of a computed tax.
    pub fn terms(&self) -> Option<&Arc<TaxTerms>> {
        match self {
            Self::Computed { terms, .. } => Some(terms),
            Self::Manual(_) | Self::Vat(_) => None,
        }
    }

    /// The tax set by hand, if it is one.
    pub fn manual(&self) -> Option<&ManualTax> {
        match self {
            Self::Manual(tax) => Some(tax),
            Self::Computed { .. } | Self::Vat(_) => None,
        }
    }

    /// The whole tax.
    pub fn to_tax(&self) -> ItemTax {
        match self {
            Self::Manual(tax) => ItemTax::Manual(tax.clone()),
            Self::Vat(share) => ItemTax::Vat(*share),
            Self::Computed {
                amount,
                components,
                terms,
            } => {
                let component = |at: usize| TaxComponent {
                    rate: terms.rates[at],
                    amount: components[at],
                };
                ItemTax::Computed(ComputedTax {
                    amount: *amount,
                    rate: terms.rate,
                    state: component(0),
                    county: component(1),
                    city: component(2),
                    special_district: component(3),
                    jurisdictions: terms.jurisdictions.clone(),
                })
            }
        }
    }

    /// Whether it is `tax`.
    pub fn is(&self, tax: &ItemTax) -> bool {
        match (self, tax) {
            (Self::Manual(kept), ItemTax::Manual(tax)) => kept == tax,
            (Self::Vat(kept), ItemTax::Vat(share)) => kept == share,
            (
                Self::Computed {
                    amount,
                    components: amounts,
                    terms,
                },
                ItemTax::Computed(tax),
            ) => {
                *amount == tax.amount
                    && *amounts == components(tax).map(|component| component.amount)
                    && terms.are_of(tax)
            }
            _ => false,
        }
    }
}

/// Whether a kept tax and a whole one are the same, or both none.
pub fn same_tax(kept: Option<&KeptTax>, tax: Option<&ItemTax>) -> bool {
    match (kept, tax) {
        (None, None) => true,
        (Some(kept), Some(tax)) => kept.is(tax),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::domain::tax::{TaxAmount, TaxDescription};

    fn computed(amount: Decimal, state_rate: Decimal) -> ItemTax {
        let component = |rate, amount| TaxComponent { rate, amount };
        ItemTax::Computed(ComputedTax {
            amount,
            rate: state_rate + dec!(0.01),
            state: component(state_rate, amount - dec!(0.10)),
            county: component(dec!(0.01), dec!(0.10)),
            city: TaxComponent::default(),
            special_district: TaxComponent::default(),
            jurisdictions: None,
        })
    }

    #[test]
    fn a_kept_tax_is_the_tax_it_was_made_of() {
        let manual = ItemTax::Manual(ManualTax::new(
            TaxAmount::parse(dec!(2.40)).unwrap(),
            TaxDescription::parse("VAT".to_owned()).unwrap(),
        ));
        let mut shared = None;
        for tax in [computed(dec!(1.35), dec!(0.0625)), manual] {
            let kept = KeptTax::of(&tax, &mut shared);
            assert_eq!(kept.to_tax(), tax);
            assert!(kept.is(&tax));
        }
    }

    #[test]
    fn taxes_of_the_same_terms_share_them_and_others_do_not() {
        let mut shared = None;
        let first = KeptTax::of(&computed(dec!(1.35), dec!(0.0625)), &mut shared);
        let second = KeptTax::of(&computed(dec!(2.70), dec!(0.0625)), &mut shared);
        assert!(Arc::ptr_eq(first.terms().unwrap(), second.terms().unwrap()));
        assert!(
            !first.is(&computed(dec!(2.70), dec!(0.0625))),
            "another amount"
        );

        let other = computed(dec!(1.35), dec!(0.07));
        let third = KeptTax::of(&other, &mut shared);
        assert!(!first.is(&other), "another rate");
        assert!(third.is(&other));
        assert!(!Arc::ptr_eq(first.terms().unwrap(), third.terms().unwrap()));
    }
}
