use chrono::TimeDelta;

use super::*;
use crate::document::tests::items;
use crate::domain::metadata::{Metadata, MetadataChange};

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

fn ample() -> KeepBudget {
    KeepBudget::new(MAX_KEPT_BYTES)
}

/// Leaves `items` of each invoice at revision 1 and commits.
fn keep(kept: &mut KeptItems, invoices: &[(&str, usize)]) {
    for (invoice, count) in invoices {
        kept.leave_at(key(invoice), stamp(1), CoupledItems::new(items(*count)));
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
    kept.leave_at(key("in_a"), stamp(1), CoupledItems::new(items(2)));
    kept.leave_at(key("in_a"), stamp(2), CoupledItems::new(items(4)));
    kept.committed();
    assert_eq!(
        kept.take_at(&key("in_a"), stamp(2)).unwrap().items().len(),
        4
    );
}

#[test]
fn nothing_left_by_a_set_that_did_not_commit_is_kept() {
    let mut kept = KeptItems::within(ample());
    kept.leave_at(key("in_a"), stamp(1), CoupledItems::new(items(2)));
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
    let three = bytes_of(&CoupledItems::new(items(3)));
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
fn an_items_text_and_metadata_count_in_its_bytes() {
    let plain = items(1);
    let mut rich = plain.clone();
    let pairs = (0..10)
        .map(|index| (format!("key{index:02}"), Some("v".repeat(500))))
        .collect();
    rich[0].extras.metadata = Metadata::default()
        .changed(MetadataChange::Merge(pairs))
        .unwrap();
    let extra = bytes_of(&CoupledItems::new(rich)) - bytes_of(&CoupledItems::new(plain));
    assert!(extra >= 10 * (5 + 500), "counted {extra} bytes of metadata");
}

#[test]
fn items_read_whole_then_added_to_take_little_more_room() {
    let read = items(801);
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
    kept.leave_at(key("in_a"), stamp(1), CoupledItems::new(items(2)));
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
