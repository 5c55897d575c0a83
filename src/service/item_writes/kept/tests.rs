use chrono::TimeDelta;

use super::*;
use crate::document::tests::items;
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::metadata::{Metadata, MetadataChange};
use crate::domain::tax::{ItemTax, ManualTax, TaxAmount, TaxDescription};
use rust_decimal::Decimal;

fn key(invoice: &str) -> Key {
    (
        OrganizationId::parse("org_kept").unwrap(),
        InvoiceId::parse(invoice).unwrap(),
    )
}

fn stamp(revision: i64) -> Stamp {
    let created_time = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
        .unwrap()
        .to_utc();
    Stamp {
        created_time,
        revision,
        updated_time: created_time + TimeDelta::seconds(revision),
    }
}

/// What pricing reads and sets of each of `count` items.
fn pricing(count: usize) -> Vec<ItemPricing> {
    items(count).iter().map(ItemPricing::of).collect()
}

fn ample() -> KeepBudget {
    KeepBudget::new(MAX_KEPT_BYTES)
}

/// Leaves `items` of each invoice at revision 1 and commits.
fn keep(kept: &mut KeptItems, invoices: &[(&str, usize)]) {
    for (invoice, count) in invoices {
        kept.leave_at(key(invoice), stamp(1), CoupledItems::new(pricing(*count)));
    }
    kept.committed();
}

#[test]
fn a_set_keeps_only_what_it_left() {
    let mut kept = KeptItems::within(ample());
    keep(&mut kept, &[("in_a", 3), ("in_b", 2)]);
    let a = kept.take_at(&key("in_a"), stamp(1)).expect("in_a is kept");
    assert_eq!(a.items().len(), 3);
    kept.forget_untaken();
    kept.leave_at(key("in_a"), stamp(2), a);
    kept.committed();
    assert!(kept.take_at(&key("in_b"), stamp(1)).is_none());
    assert_eq!(
        kept.take_at(&key("in_a"), stamp(2)).unwrap().items().len(),
        3
    );
}

#[test]
fn items_at_another_stamp_are_not_taken() {
    let mut kept = KeptItems::within(ample());
    keep(&mut kept, &[("in_a", 3)]);
    assert!(kept.take_at(&key("in_a"), stamp(2)).is_none());
    // Taken or not, they are gone: a stale entry is never tried twice.
    assert!(kept.take_at(&key("in_a"), stamp(1)).is_none());
}

#[test]
fn the_last_left_of_an_invoice_is_kept() {
    let mut kept = KeptItems::within(ample());
    kept.leave_at(key("in_a"), stamp(1), CoupledItems::new(pricing(2)));
    kept.leave_at(key("in_a"), stamp(2), CoupledItems::new(pricing(4)));
    kept.committed();
    assert_eq!(
        kept.take_at(&key("in_a"), stamp(2)).unwrap().items().len(),
        4
    );
}

#[test]
fn nothing_left_by_a_set_that_did_not_commit_is_kept() {
    let mut kept = KeptItems::within(ample());
    kept.leave_at(key("in_a"), stamp(1), CoupledItems::new(pricing(2)));
    kept.not_committed();
    kept.committed();
    assert!(kept.is_empty());
}

#[test]
fn without_a_budget_nothing_is_kept() {
    let mut kept = KeptItems::default();
    keep(&mut kept, &[("in_a", 2)]);
    assert!(kept.is_empty());
}

#[test]
fn lanes_share_one_budget_in_bytes() {
    let three = bytes_of(&CoupledItems::new(pricing(3)));
    let budget = KeepBudget::new(three + three / 2);
    let mut first = KeptItems::within(budget.clone());
    let mut second = KeptItems::within(budget.clone());
    keep(&mut first, &[("in_a", 3)]);
    assert_eq!(budget.held(), three);
    keep(&mut second, &[("in_b", 3)]);
    assert!(second.is_empty(), "no room left for a second invoice");
    drop(first);
    assert_eq!(budget.held(), 0);
    keep(&mut second, &[("in_b", 3)]);
    assert_eq!(budget.held(), three);
    assert!(second.take_at(&key("in_b"), stamp(1)).is_some());
    assert_eq!(budget.held(), 0, "items taken are no longer held");
}

#[test]
fn an_items_metadata_is_not_kept_and_its_taxs_text_counts() {
    let mut plain = items(1);
    plain[0].tax = None;
    let mut rich = plain.clone();
    let pairs = (0..10)
        .map(|index| (format!("key{index:02}"), Some("v".repeat(500))))
        .collect();
    rich[0].extras.metadata = Metadata::default()
        .changed(MetadataChange::Merge(pairs))
        .unwrap();
    let kept_of = |items: &[InvoiceItem]| {
        bytes_of(&CoupledItems::new(
            items.iter().map(ItemPricing::of).collect(),
        ))
    };
    assert_eq!(
        kept_of(&rich),
        kept_of(&plain),
        "only what pricing reads is kept"
    );

    let description = TaxDescription::parse("t".repeat(200)).unwrap();
    rich[0].tax = Some(ItemTax::Manual(ManualTax::new(
        TaxAmount::parse(Decimal::ONE).unwrap(),
        description,
    )));
    let extra = kept_of(&rich) - kept_of(&plain);
    assert!(
        extra >= 200,
        "counted {extra} bytes of the tax's description"
    );
}

#[test]
fn items_read_whole_then_added_to_take_little_more_room() {
    let read = pricing(801);
    let mut coupled = CoupledItems::new(read[..800].to_vec());
    coupled.push(read[800].clone());
    assert!(
        coupled.capacity() <= 800 + 800 / 8 + 16,
        "room for {} items",
        coupled.capacity()
    );
}

#[test]
fn a_set_that_priced_an_invoice_together_says_so_kept_or_not() {
    let mut kept = KeptItems::within(KeepBudget::new(0));
    kept.leave_at(key("in_a"), stamp(1), CoupledItems::new(pricing(2)));
    kept.committed();
    assert!(kept.is_empty(), "no room to keep them");
    assert!(kept.priced_together());
    kept.not_committed();
    assert!(!kept.priced_together(), "a set under way");
    kept.committed();
    assert!(
        !kept.priced_together(),
        "a set that priced no invoice together"
    );
}

/// What the write path keeps of each item is what pricing reads and sets, well under the whole
/// item: the budget then holds an invoice of tens of thousands of items.
#[test]
fn what_is_kept_of_an_item_is_a_fraction_of_it() {
    let kept = size_of::<ItemPricing>() + size_of::<Option<LastPricing>>();
    let whole = size_of::<InvoiceItem>();
    println!("kept {kept} bytes an item, the whole item {whole}");
    assert!(kept * 2 <= whole, "kept {kept} of {whole} bytes");
}
