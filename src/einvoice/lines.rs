//! An e-invoice's lines and its VAT breakdown: each line in one category at one rate, each
//! group the sum of its lines, its discounts a document-level allowance (BG-20), its VAT the
//! sum of the VAT its lines carry, as stored.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{Allowance, BreakdownGroup, Line, Totals};
use super::refusal::Inexpressible;
use crate::domain::vat::{Exemption, VatCategory};

/// What a document-level allowance is for: the invoice's discounts.
const DISCOUNT: &str = "Discount";

/// A line with what its group needs of it.
pub(super) struct VatLine<'a> {
    /// The line.
    pub line: Line,
    /// Its share of the discounts.
    pub allowance: Decimal,
    /// Its share of its group's VAT.
    pub tax: Decimal,
    /// Why it bears no VAT, where its category says.
    pub exemption: Option<&'a Exemption>,
}

/// One category and rate, summed from its lines.
pub(super) struct VatGroup<'a> {
    pub category: VatCategory,
    pub rate: Decimal,
    net: Decimal,
    pub allowance: Decimal,
    pub tax: Decimal,
    exemption: Option<&'a Exemption>,
}

impl VatGroup<'_> {
    /// BT-116: what its VAT is on.
    pub fn taxable(&self) -> Decimal {
        self.net - self.allowance
    }

    fn breakdown(&self) -> BreakdownGroup {
        BreakdownGroup {
            category: self.category,
            rate: self.rate,
            taxable: self.taxable(),
            tax: self.tax,
            exemption_reason: self
                .exemption
                .and_then(|exemption| exemption.reason.as_ref())
                .map(|reason| reason.as_str().to_owned()),
            exemption_code: self.exemption.and_then(|exemption| exemption.code),
        }
    }
}

/// The breakdown groups, by category then rate. A group's lines must give one exemption, and
/// its debits outweigh its credits (a negative balance is a credit memo's to state).
pub(super) fn groups<'a>(lines: &[VatLine<'a>]) -> Result<Vec<VatGroup<'a>>, Inexpressible> {
    let mut groups: BTreeMap<(VatCategory, Decimal), VatGroup<'a>> = BTreeMap::new();
    for item in lines {
        let key = (item.line.category, item.line.rate);
        let group = groups.entry(key).or_insert(VatGroup {
            category: key.0,
            rate: key.1,
            net: Decimal::ZERO,
            allowance: Decimal::ZERO,
            tax: Decimal::ZERO,
            exemption: None,
        });
        group.net += item.line.net;
        group.allowance += item.allowance;
        group.tax += item.tax;
        match (group.exemption, item.exemption) {
            (Some(kept), Some(given)) if kept != given => {
                return Err(Inexpressible::ExemptionsDiffer { category: key.0 });
            }
            (None, given) => group.exemption = given,
            _ => {}
        }
    }
    let groups: Vec<VatGroup<'a>> = groups.into_values().collect();
    if let Some(group) = groups.iter().find(|group| group.taxable() < Decimal::ZERO) {
        return Err(Inexpressible::CreditOutweighs {
            category: group.category,
            rate: group.rate,
        });
    }
    Ok(groups)
}

/// BG-20: one allowance per group that has discounts.
pub(super) fn allowances(groups: &[VatGroup<'_>]) -> Vec<Allowance> {
    groups
        .iter()
        .filter(|group| !group.allowance.is_zero())
        .map(|group| Allowance {
            amount: group.allowance,
            reason: DISCOUNT.to_owned(),
            category: group.category,
            rate: group.rate,
        })
        .collect()
}

/// BG-23.
pub(super) fn breakdown(groups: &[VatGroup<'_>]) -> Vec<super::model::BreakdownGroup> {
    groups.iter().map(VatGroup::breakdown).collect()
}

/// BG-22 from the lines and groups, with `due` the amount due (BT-115); what was paid is the
/// rest of the total.
pub(super) fn totals(lines: &[VatLine<'_>], groups: &[VatGroup<'_>], due: Decimal) -> Totals {
    let line_total: Decimal = lines.iter().map(|item| item.line.net).sum();
    let allowances: Decimal = groups.iter().map(|group| group.allowance).sum();
    let vat: Decimal = groups.iter().map(|group| group.tax).sum();
    let without_vat = line_total - allowances;
    let with_vat = without_vat + vat;
    Totals {
        lines: line_total,
        allowances,
        without_vat,
        vat,
        with_vat,
        paid: with_vat - due,
        due,
    }
}

/// BG-14: from the first line's start to the last one's end, when every line gives its period.
pub(super) fn period(lines: &[VatLine<'_>]) -> Option<(NaiveDate, NaiveDate)> {
    let periods: Option<Vec<(NaiveDate, NaiveDate)>> =
        lines.iter().map(|item| item.line.period).collect();
    let periods = periods?;
    let start = periods.iter().map(|(start, _)| *start).min()?;
    let end = periods.iter().map(|(_, end)| *end).max()?;
    Some((start, end))
}
