//! An invoice's VAT breakdown as its documents show it: per category and rate, the taxable
//! amount and the VAT, from the stored items. An EU invoice must state both for every rate.

use rust_decimal::Decimal;

use super::invoice_item::{InvoiceItem, ItemType};
use super::tax::{ItemTax, TaxSettings};
use super::vat::{Exemption, LineVat, VatCategory};

/// One category and rate of the breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatTotal {
    /// The category.
    pub category: VatCategory,
    /// The rate, a fraction.
    pub rate: Decimal,
    /// The sum of its items' amounts after discounts, credits taken off.
    pub taxable: Decimal,
    /// Its VAT: the sum of its debit items' shares, which pricing made equal to the VAT of the
    /// taxable amount, rounded once.
    pub tax: Decimal,
    /// Why it bears no VAT, in words and code, as its first item that says gives it.
    pub exemption: Option<String>,
}

/// The breakdown of an invoice under the `vat` calculator, ordered by category then rate;
/// empty under the others. Items with a manual tax are outside it, as pricing leaves them.
pub fn vat_totals(settings: &TaxSettings, items: &[InvoiceItem]) -> Vec<VatTotal> {
    let mut totals = VatTotalling::new(settings);
    totals.add(items);
    totals.finish()
}

/// An invoice's breakdown summed a few items at a time, for an invoice whose items are never
/// held at once: added oldest first, a few at a time, it finishes as [`vat_totals`] of them all.
#[derive(Debug)]
pub struct VatTotalling {
    /// The line VAT of an item that states none; `None` outside the `vat` calculator, which
    /// has no breakdown.
    default: Option<LineVat>,
    totals: Vec<VatTotal>,
}

impl VatTotalling {
    /// Nothing added yet, under these settings.
    pub fn new(settings: &TaxSettings) -> Self {
        let default = match settings {
            TaxSettings::Vat(rate) => Some(LineVat::standard(*rate)),
            TaxSettings::Manual | TaxSettings::Rates(_) => None,
        };
        Self {
            default,
            totals: Vec::new(),
        }
    }

    /// Adds these items to their categories and rates.
    pub fn add(&mut self, items: &[InvoiceItem]) {
        let Some(default) = &self.default else {
            return;
        };
        for item in items {
            let (category, rate, tax) = match (&item.tax, item.item_type) {
                (Some(ItemTax::Vat(share)), _) => (share.category, share.rate, share.amount),
                (None, ItemType::Credit) => {
                    let vat = item.vat.as_ref().unwrap_or(default);
                    (vat.category(), vat.rate(), Decimal::ZERO)
                }
                // A manual tax, or a debit priced before VAT applied: outside the breakdown.
                _ => continue,
            };
            let net = match item.item_type {
                ItemType::Debit => item.price - item.discount_amount,
                ItemType::Credit => -item.price,
            };
            let exemption = item
                .vat
                .as_ref()
                .filter(|vat| vat.category() == category)
                .and_then(LineVat::exemption)
                .map(exemption_words);
            match self
                .totals
                .iter_mut()
                .find(|total| total.category == category && total.rate == rate)
            {
                Some(total) => {
                    total.taxable += net;
                    total.tax += tax;
                    total.exemption = total.exemption.take().or(exemption);
                }
                None => self.totals.push(VatTotal {
                    category,
                    rate,
                    taxable: net,
                    tax,
                    exemption,
                }),
            }
        }
    }

    /// The breakdown of the items added, ordered by category then rate.
    pub fn finish(self) -> Vec<VatTotal> {
        let mut totals = self.totals;
        totals.sort_by_key(|total| (total.category, total.rate));
        for total in &mut totals {
            total.taxable = total.taxable.normalize();
            total.tax = total.tax.normalize();
        }
        totals
    }
}

/// An exemption as a document states it: `Education (VATEX-EU-132)`, or either alone.
fn exemption_words(exemption: &Exemption) -> String {
    match (&exemption.reason, exemption.code) {
        (Some(reason), Some(code)) => format!("{} ({})", reason.as_str(), code.as_str()),
        (Some(reason), None) => reason.as_str().to_owned(),
        (None, Some(code)) => code.as_str().to_owned(),
        (None, None) => String::new(),
    }
}
