use chrono::TimeDelta;
use rust_decimal_macros::dec;

use super::*;
use crate::document::tests::{invoice, items};
use crate::domain::invoice_item::{Quantity, UnitPrice};

/// A list priced, then changed by replacements (a manual tax taken off one item and put on
/// another), a removal and two additions, prices as its items do read afresh, twice in a row:
/// what it keeps beside them follows each change.
#[test]
fn a_list_through_its_changes_prices_as_its_items_read_afresh() {
    let invoice = invoice();
    assert!(
        items_move_together(&invoice),
        "a discount couples the items"
    );
    let now = invoice.updated_time;
    let read = items(7);
    assert!(matches!(read[1].tax, Some(ItemTax::Manual(_))));
    assert!(!matches!(read[4].tax, Some(ItemTax::Manual(_))));
    let mut list = CoupledItems::new(read.iter().map(ItemPricing::of).collect());
    list.reprice(&invoice, now);

    let mut repriced_by_hand = read[4].clone();
    repriced_by_hand.unit_price = UnitPrice::parse(dec!(7.5)).unwrap();
    repriced_by_hand.quantity = Quantity::parse(2).unwrap();
    repriced_by_hand.tax = read[1].tax.clone();
    list.put(ItemPricing::of(&repriced_by_hand));
    let mut untaxed = read[1].clone();
    untaxed.tax = None;
    untaxed.unit_price = UnitPrice::parse(dec!(0.99)).unwrap();
    list.put(ItemPricing::of(&untaxed));
    list.remove(&read[3].id);
    for (id, price) in [("ii_8", dec!(12.34)), ("ii_9", dec!(5.55))] {
        let mut added = read[0].clone();
        added.id = InvoiceItemId::parse(id).unwrap();
        added.unit_price = UnitPrice::parse(price).unwrap();
        list.push(ItemPricing::of(&added));
    }
    for seconds in [1, 2] {
        let later = now + TimeDelta::seconds(seconds);
        let kept = list.reprice(&invoice, later);
        let mut afresh = list.items().to_vec();
        let repriced = reprice_after(&invoice, &mut afresh, &mut [], later);
        assert!(repriced.moved.is_empty(), "no item's figures differ");
        assert_eq!(afresh, list.items());
        assert_eq!(kept.totals, repriced.totals);
        assert_eq!(kept.discounts, repriced.discounts);
    }
    let items = list.items();
    assert_eq!(
        items[3].price,
        dec!(15),
        "a replacement priced from its own inputs"
    );
    assert!(matches!(items[3].tax, Some(KeptTax::Manual(_))));
    assert_eq!(items[1].price, dec!(2.97));
    assert_eq!(items.len(), 8);
}
