use rust_decimal::Decimal;

use super::*;
use crate::document::tests::items;

fn organization() -> OrganizationId {
    OrganizationId::parse("org_set").unwrap()
}

/// `item` moved by a repricing: its share one more unit, one revision on.
fn moved(item: &ItemPricing) -> ItemPricing {
    ItemPricing {
        discount_amount: item.discount_amount + Decimal::new(1, 2),
        revision: item.revision + 1,
        updated_time: item.updated_time + TimeDelta::seconds(1),
        ..item.clone()
    }
}

/// `item` moved back to the figures it had before `moved`: one more revision on.
fn moved_back(item: &ItemPricing, before: &ItemPricing) -> ItemPricing {
    ItemPricing {
        discount_amount: before.discount_amount,
        revision: item.revision + 1,
        updated_time: item.updated_time + TimeDelta::seconds(1),
        ..item.clone()
    }
}

/// What pricing reads and sets of each of `count` items.
fn pricing(count: usize) -> Vec<ItemPricing> {
    items(count).iter().map(ItemPricing::of).collect()
}

#[test]
fn items_moved_and_back_are_not_stored_unless_a_write_names_them() {
    let org = organization();
    let whole = items(4);
    let invoice = (org.clone(), whole[0].invoice_id.clone());
    let [back, away, named, written]: [ItemPricing; 4] = pricing(4).try_into().unwrap();
    let mut changes = ChangeSet::default();
    for item in [&back, &away, &named] {
        let once = moved(item);
        changes.store_moved(&invoice, once.clone(), ItemBefore::of(item));
        if item.id != away.id {
            let twice = moved_back(&once, item);
            changes.store_moved(&invoice, twice, ItemBefore::of(&once));
        }
    }
    changes.store(&org, whole[3].clone());
    let mut by_name = HashMap::new();
    by_name.insert((org.clone(), named.id.clone()), whole[2].clone());

    let unchanged = changes.take_unchanged(&by_name);

    let of_invoice = &unchanged[&invoice];
    assert_eq!(of_invoice.len(), 1);
    assert!(of_invoice.contains_key(&back.id));
    let stored: Vec<_> = changes.stored.iter().map(|(_, item)| item.id()).collect();
    assert_eq!(stored, [&away.id, &named.id, &written.id]);
    let whole_at: Vec<_> = changes
        .stored
        .iter()
        .map(|(_, item)| matches!(item, Stored::Whole(_)))
        .collect();
    assert_eq!(whole_at, [false, false, true]);
    for (position, (_, item)) in changes.stored.iter().enumerate() {
        assert_eq!(
            changes.stored_at[&(org.clone(), item.id().clone())],
            position
        );
    }
    let (whole, figures) = changes.stored();
    assert_eq!(whole.len(), 1);
    assert_eq!(figures.len(), 2);
}

#[test]
fn an_item_moved_and_back_keeps_its_revision_in_the_sets_list() {
    let org = organization();
    let invoice = (org.clone(), items(1)[0].invoice_id.clone());
    let read = pricing(2);
    let first = &read[0];
    let mut list = CoupledItems::new(read.clone());
    let once = moved(first);
    let twice = moved_back(&once, first);
    list.set_version(0, twice.revision, twice.updated_time);
    let mut changes = ChangeSet::default();
    changes.store_moved(&invoice, once.clone(), ItemBefore::of(first));
    changes.store_moved(&invoice, twice, ItemBefore::of(&once));

    for (_, restored) in changes.take_unchanged(&HashMap::new()) {
        list.restore_versions(&restored);
    }

    assert_eq!(
        list.items(),
        read.as_slice(),
        "as it was read, revision and time too"
    );
    assert!(changes.stored.is_empty());
}
