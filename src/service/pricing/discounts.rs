//! Invoice discounts: what each one takes, and how their total is shared among the debit items.

use std::cmp::Reverse;

use crate::domain::discount::{Discount, DiscountKind};
use crate::domain::ids::InvoiceItemId;

use super::units::{WITHIN_BOUND, mul_round, sum, to_minor};

/// The amount each discount takes, in minor units, in order: each applies to the debit total
/// still undiscounted (`debit_total` at first), rounded once, and capped at what remains, so
/// the amounts never sum to more than `debit_total`.
pub(super) fn applied_amounts(discounts: &[Discount], debit_total: i128, places: u32) -> Vec<i128> {
    let mut remaining = debit_total;
    discounts
        .iter()
        .map(|discount| {
            let wanted = match discount.kind {
                // `value` is a percentage, so the factor is `value / 100`: the same mantissa
                // two decimal places further right, with no division to round.
                DiscountKind::Percent => {
                    let mut factor = discount.value();
                    factor
                        .set_scale(factor.scale() + 2)
                        .expect("a percentage has at most 4 decimals, well within 28");
                    mul_round(remaining, factor)
                }
                DiscountKind::Fixed => to_minor(discount.value(), places),
            };
            let amount = wanted.clamp(0, remaining);
            remaining -= amount;
            amount
        })
        .collect()
}

/// One item as the allocation sees it.
pub(super) struct Weighted<'a> {
    /// The tie-break of last resort.
    pub id: &'a InvoiceItemId,
    /// The item's price in minor units; 0 for an item that takes no discount (a credit).
    pub weight: i128,
}

/// Shares `total` minor units among the items in proportion to their weights by the
/// largest-remainder (Hamilton) method: each item gets `floor(total * weight / W)`, where `W`
/// is the sum of the weights, and the units left over go one each to the items with the largest
/// remainders (ties: larger weight, then smaller id). The shares sum to `total` exactly, each
/// differs from its exact proportional share by less than one unit, and none depends on the
/// order of `items`. Needs `0 <= total <= W`, which makes every share at most its weight.
pub(super) fn allocate(total: i128, items: &[Weighted<'_>]) -> Vec<i128> {
    let weights = sum(items.iter().map(|item| item.weight));
    assert!(
        (0..=weights).contains(&total),
        "a discount total of {total} units cannot be shared over {weights}"
    );
    if total == 0 {
        return vec![0; items.len()];
    }
    let mut shares = Vec::with_capacity(items.len());
    let mut remainders = Vec::with_capacity(items.len());
    for item in items {
        let exact = total.checked_mul(item.weight).expect(WITHIN_BOUND);
        shares.push(exact / weights);
        remainders.push(exact % weights);
    }
    // The remainders sum to `leftover * W` and each is below `W`, so more than `leftover`
    // items have a positive remainder: the extra unit goes only to items whose exact share
    // is not whole, hence never lifts a share above its weight, and never reaches a weight 0.
    let leftover = total - sum(shares.iter().copied());
    let leftover = usize::try_from(leftover).expect("fewer leftover units than items");
    if leftover == 0 {
        return shares;
    }
    // Only which items come first matters, not their order among themselves: a selection,
    // linear where a sort of every item is not. The key orders the items totally (ids differ).
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.select_nth_unstable_by_key(leftover - 1, |&index| {
        (
            Reverse(remainders[index]),
            Reverse(items[index].weight),
            items[index].id,
        )
    });
    for &index in &order[..leftover] {
        shares[index] += 1;
    }
    shares
}
