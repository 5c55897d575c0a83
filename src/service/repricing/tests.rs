use chrono::TimeDelta;
use rust_decimal_macros::dec;

use super::*;
use crate::document::tests::{invoice, items};

/// A list priced, then changed by a replacement, a removal and an addition, prices as its
/// items do read afresh: what it keeps beside them follows each change.
#[test]
fn a_list_through_its_changes_prices_as_its_items_read_afresh() {
    let invoice = invoice();
    assert!(
        items_move_together(&invoice),
        "a discount couples the items"
    );
    let now = invoice.updated_time;
    let read = items(7);
    let mut list = CoupledItems::new(read.clone());
    list.reprice(&invoice, now);

    let mut replaced = read[4].clone();
    replaced.unit_price = UnitPrice::parse(dec!(7.5)).unwrap();
    replaced.quantity = Quantity::parse(2).unwrap();
    list.put(replaced);
    list.remove(&read[3].id);
    let mut added = read[0].clone();
    added.id = InvoiceItemId::parse("ii_9").unwrap();
    added.unit_price = UnitPrice::parse(dec!(12.34)).unwrap();
    list.push(added);
    let later = now + TimeDelta::seconds(1);
    list.reprice(&invoice, later);

    let mut afresh = list.items().to_vec();
    let repriced = reprice(&invoice, &mut afresh, later);
    assert!(repriced.moved.is_empty(), "no item's figures differ");
    assert_eq!(afresh, list.items());
    assert_eq!(
        list.items()[3].price,
        dec!(15),
        "the replacement priced from its own inputs"
    );
}
