//! VAT as EN 16931 computes it: once per category and rate, on the sum of the lines' net
//! amounts after their share of the invoice's discounts, rounded once (BR-CO-17), and never
//! line by line. Each line then shows its share of its group's VAT, so that the lines' taxes
//! add up to the invoice's exactly.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::domain::ids::InvoiceItemId;
use crate::domain::invoice_item::ItemType;
use crate::domain::tax::{ItemTax, TaxRate, VatShare};
use crate::domain::vat::{LineVat, VatCategory};

use super::discounts::{Weighted, allocate};
use super::units::{from_minor, mul_round, sum, to_minor};
use super::{ItemToPrice, PricedItem};

/// Gives each debit item without a manual tax its share of the invoice's VAT: the item's own
/// category and rate where it gives one, else the invoice's default (`S` at `rate`, or `Z` at
/// 0). Debit items with a manual tax stay out of the VAT groups: their tax is what was set.
pub(super) fn share_vat(
    rate: TaxRate,
    items: &[ItemToPrice],
    priced: &mut [PricedItem],
    places: u32,
) {
    let default = LineVat::standard(rate);
    // A credit is never taxed, so a manual tax it carries counts for nothing: it lowers its
    // group's VAT like any other credit.
    let taxed: Vec<usize> = (0..items.len())
        .filter(|&index| {
            items[index].item_type == ItemType::Credit || items[index].manual_tax.is_none()
        })
        .collect();
    let lines: Vec<VatLine<'_>> = taxed
        .iter()
        .map(|&index| VatLine {
            id: items[index].id,
            vat: items[index].vat.unwrap_or(&default),
            net: net_of(items[index].item_type, &priced[index], places),
        })
        .collect();
    let (_, shares) = vat_breakdown(&lines);
    for ((&index, share), line) in taxed.iter().zip(shares).zip(&lines) {
        if items[index].item_type == ItemType::Debit {
            priced[index].tax = Some(ItemTax::Vat(VatShare {
                amount: from_minor(share, places),
                category: line.vat.category(),
                rate: line.vat.rate(),
            }));
        }
    }
}

/// An item's net amount in minor units: a debit's price after its discount share, a credit's
/// price taken off.
fn net_of(item_type: ItemType, priced: &PricedItem, places: u32) -> i128 {
    let price = to_minor(priced.price, places);
    match item_type {
        ItemType::Debit => price - to_minor(priced.discount_amount, places),
        ItemType::Credit => -price,
    }
}

/// One line as VAT sees it.
pub(super) struct VatLine<'a> {
    /// The tie-break of last resort when a group's VAT is shared out.
    pub id: &'a InvoiceItemId,
    /// Its category and rate.
    pub vat: &'a LineVat,
    /// Its net amount in minor units after its discount share; negative for a credit.
    pub net: i128,
}

/// One group of the VAT breakdown (BG-23): the lines of one category at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatGroup {
    /// The category (BT-118).
    pub category: VatCategory,
    /// The rate as a fraction (BT-119 is a hundred times it).
    pub rate: Decimal,
    /// The sum of the lines' net amounts, in minor units (BT-116).
    pub taxable: i128,
    /// `round(taxable * rate)`, in minor units (BT-117); 0 for a group whose credits outweigh
    /// its debits, which EN 16931 would have be a credit note instead (its e-invoice is refused).
    pub tax: i128,
}

/// The groups, ordered by category then rate, and each line's share of its group's VAT, in the
/// order of `lines`.
pub(super) fn vat_breakdown(lines: &[VatLine<'_>]) -> (Vec<VatGroup>, Vec<i128>) {
    let mut members: BTreeMap<(VatCategory, Decimal), Vec<usize>> = BTreeMap::new();
    for (index, line) in lines.iter().enumerate() {
        members
            .entry((line.vat.category(), line.vat.rate()))
            .or_default()
            .push(index);
    }
    let mut shares = vec![0; lines.len()];
    let groups = members
        .into_iter()
        .map(|((category, rate), indexes)| {
            let taxable = sum(indexes.iter().map(|&index| lines[index].net));
            let tax = mul_round(taxable.max(0), rate);
            for (index, share) in share_out(tax, lines, &indexes) {
                shares[index] = share;
            }
            VatGroup {
                category,
                rate,
                taxable,
                tax,
            }
        })
        .collect();
    (groups, shares)
}

/// Shares a group's VAT among its debit lines in proportion to their net amounts (largest
/// remainder); credits are never taxed, as everywhere else. The VAT is at most the debit lines'
/// sum (a rate is at most 1, and credits only lower the taxable amount), so they can carry it.
fn share_out(tax: i128, lines: &[VatLine<'_>], indexes: &[usize]) -> Vec<(usize, i128)> {
    let weighted: Vec<Weighted<'_>> = indexes
        .iter()
        .map(|&index| Weighted {
            id: lines[index].id,
            weight: lines[index].net.max(0),
        })
        .collect();
    indexes
        .iter()
        .copied()
        .zip(allocate(tax, &weighted))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tax::TaxRate;
    use crate::domain::vat::{Exemption, ExemptionReason};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn standard(rate: Decimal) -> LineVat {
        LineVat::standard(TaxRate::parse(rate).unwrap())
    }

    fn exempt() -> LineVat {
        let reason = ExemptionReason::parse("Exempt".to_owned()).unwrap();
        let exemption = Exemption {
            reason: Some(reason),
            code: None,
        };
        LineVat::new(
            VatCategory::Exempt,
            Some(TaxRate::parse(dec!(0)).unwrap()),
            Some(exemption),
        )
        .unwrap()
    }

    fn ids(count: usize) -> Vec<InvoiceItemId> {
        (0..count).map(|_| InvoiceItemId::generate()).collect()
    }

    #[test]
    fn vat_is_rounded_once_per_group_not_per_line() {
        // Two lines of 0.05 at 10%: 0.005 each would round to 0.01 each, 0.02 in all; the
        // group of 0.10 gives 0.01.
        let vat = standard(dec!(0.1));
        let ids = ids(2);
        let lines: Vec<VatLine<'_>> = ids
            .iter()
            .map(|id| VatLine {
                id,
                vat: &vat,
                net: 5,
            })
            .collect();
        let (groups, shares) = vat_breakdown(&lines);
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].taxable, groups[0].tax), (10, 1));
        assert_eq!(shares.iter().sum::<i128>(), 1, "line by line it would be 2");
    }

    #[test]
    fn groups_are_one_per_category_and_rate_in_order() {
        let full = standard(dec!(0.19));
        let reduced = standard(dec!(0.07));
        let free = exempt();
        let ids = ids(4);
        let lines = [
            VatLine {
                id: &ids[0],
                vat: &full,
                net: 10_000,
            },
            VatLine {
                id: &ids[1],
                vat: &free,
                net: 5_000,
            },
            VatLine {
                id: &ids[2],
                vat: &reduced,
                net: 2_000,
            },
            VatLine {
                id: &ids[3],
                vat: &full,
                net: -1_000,
            },
        ];
        let (groups, shares) = vat_breakdown(&lines);
        let seen: Vec<(VatCategory, Decimal, i128, i128)> = groups
            .iter()
            .map(|group| (group.category, group.rate, group.taxable, group.tax))
            .collect();
        assert_eq!(
            seen,
            [
                (VatCategory::Standard, dec!(0.07), 2_000, 140),
                (VatCategory::Standard, dec!(0.19), 9_000, 1_710),
                (VatCategory::Exempt, dec!(0), 5_000, 0),
            ]
        );
        assert_eq!(
            shares,
            [1_710, 0, 140, 0],
            "the credit lowers its group's VAT"
        );
    }

    #[test]
    fn a_group_whose_credits_outweigh_its_debits_bears_no_vat() {
        let vat = standard(dec!(0.2));
        let ids = ids(2);
        let lines = [
            VatLine {
                id: &ids[0],
                vat: &vat,
                net: 100,
            },
            VatLine {
                id: &ids[1],
                vat: &vat,
                net: -300,
            },
        ];
        let (groups, shares) = vat_breakdown(&lines);
        assert_eq!((groups[0].taxable, groups[0].tax), (-200, 0));
        assert_eq!(shares, [0, 0]);
    }

    proptest! {
        #[test]
        fn shares_add_up_to_each_group_and_groups_to_the_rounded_sums(
            nets in proptest::collection::vec(-1_000_000i128..=1_000_000, 1..40),
            picks in proptest::collection::vec(0usize..3, 40),
        ) {
            let vats = [standard(dec!(0.19)), standard(dec!(0.055)), exempt()];
            let ids = ids(nets.len());
            let lines: Vec<VatLine<'_>> = nets
                .iter()
                .zip(&ids)
                .zip(&picks)
                .map(|((&net, id), &pick)| VatLine { id, vat: &vats[pick], net })
                .collect();
            let (groups, shares) = vat_breakdown(&lines);
            prop_assert_eq!(sum(groups.iter().map(|group| group.tax)), sum(shares.iter().copied()));
            for group in &groups {
                let members: Vec<usize> = (0..lines.len())
                    .filter(|&index| {
                        lines[index].vat.category() == group.category
                            && lines[index].vat.rate() == group.rate
                    })
                    .collect();
                prop_assert_eq!(group.taxable, sum(members.iter().map(|&index| lines[index].net)));
                prop_assert_eq!(group.tax, mul_round(group.taxable.max(0), group.rate));
                prop_assert_eq!(group.tax, sum(members.iter().map(|&index| shares[index])));
                for &index in &members {
                    let share = shares[index];
                    prop_assert!((0..=lines[index].net.max(0)).contains(&share));
                }
            }
        }
    }
}
