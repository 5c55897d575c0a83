//! What a set of writes reads before it writes: its invoices, locked, and what they need.

use std::collections::{BTreeMap, HashMap};

use super::{KeptItems, Locked, Locking, Read, Targeted};
use crate::domain::discount::AppliedDiscount;
use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::ItemPricing;
use crate::error::ApiError;
use crate::repository::Tx;
use crate::service::repricing::{CoupledItems, items_move_together};
/// Locks the set's invoices (see [`Locking`]), with every item of those that have discounts
/// (as `kept`, when it has them at the invoice's stamp, or as read), and reads its products and
/// the items it names.
pub(super) async fn read_set(
    tx: &mut Tx,
    writes: &[Targeted<'_>],
    locking: Locking,
    kept: &mut KeptItems,
) -> Result<Read, ApiError> {
    #[derive(Default)]
    struct Wanted<'a> {
        invoices: Vec<&'a InvoiceId>,
        products: Vec<String>,
        items: Vec<String>,
    }
    let mut by_organization: BTreeMap<&OrganizationId, Wanted<'_>> = BTreeMap::new();
    for target in writes {
        let wanted = by_organization.entry(target.organization_id).or_default();
        wanted.invoices.push(target.invoice_id);
        let product = target
            .write
            .input()
            .and_then(|input| input.product_id.as_ref());
        wanted
            .products
            .extend(product.map(|id| id.as_str().to_owned()));
        if let Some(item_id) = target.write.existing_item() {
            wanted.items.push(item_id.as_str().to_owned());
        }
    }
    let mut read = Read::default();
    for (organization_id, mut wanted) in by_organization {
        wanted.invoices.sort_unstable();
        wanted.invoices.dedup();
        for ids in [&mut wanted.products, &mut wanted.items] {
            ids.sort_unstable();
            ids.dedup();
        }
        for invoice in lock_invoices(tx, organization_id, &wanted.invoices, locking).await? {
            let key = (organization_id.clone(), invoice.id.clone());
            let locked = Locked {
                invoice,
                items: None,
                changed: false,
                discounts_moved: false,
            };
            read.invoices.insert(key, locked);
        }
        let mut coupled: Vec<InvoiceId> = Vec::new();
        for ((organization, invoice_id), locked) in &mut read.invoices {
            if organization != organization_id || !items_move_together(&locked.invoice) {
                continue;
            }
            match kept.take(organization_id, &locked.invoice) {
                Some(items) => locked.items = Some(items),
                None => coupled.push(invoice_id.clone()),
            }
        }
        if !coupled.is_empty() {
            let items = tx.pricing_of_invoices(organization_id, &coupled).await?;
            let mut by_invoice: HashMap<InvoiceId, Vec<ItemPricing>> = HashMap::new();
            if let [invoice_id] = coupled.as_slice() {
                // Most often one invoice's: every item is its.
                let items = items.into_iter().map(|(_, item)| item).collect();
                by_invoice.insert(invoice_id.clone(), items);
            } else {
                for (invoice_id, item) in items {
                    by_invoice.entry(invoice_id).or_default().push(item);
                }
            }
            for (invoice_id, items) in by_invoice {
                let key = (organization_id.clone(), invoice_id);
                if let Some(locked) = read.invoices.get_mut(&key) {
                    locked.items = Some(CoupledItems::new(items));
                }
            }
            for invoice_id in coupled {
                let key = (organization_id.clone(), invoice_id);
                if let Some(locked) = read.invoices.get_mut(&key) {
                    locked.items.get_or_insert_default();
                }
            }
        }
        if !wanted.products.is_empty() {
            for product_id in tx
                .existing_products(organization_id, &wanted.products)
                .await?
            {
                read.products.insert((organization_id.clone(), product_id));
            }
        }
        if !wanted.items.is_empty() {
            for item in tx.items_by_ids(organization_id, &wanted.items).await? {
                read.items
                    .insert((organization_id.clone(), item.id.clone()), item);
            }
        }
    }
    Ok(read)
}

/// Locks invoices of the organization, with their discounts. Waiting, one at a time in the
/// order of their ids (as every writer takes them, so that none deadlocks); or those no other
/// transaction holds, without waiting.
async fn lock_invoices(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_ids: &[&InvoiceId],
    locking: Locking,
) -> Result<Vec<Invoice>, ApiError> {
    let mut locked = Vec::with_capacity(invoice_ids.len());
    match locking {
        Locking::Wait => {
            for invoice_id in invoice_ids {
                locked.extend(tx.lock_invoice(organization_id, invoice_id).await?);
            }
        }
        Locking::SkipHeld => {
            let ids: Vec<String> = invoice_ids
                .iter()
                .map(|id| id.as_str().to_owned())
                .collect();
            let mut discounted = Vec::new();
            for (invoice, has_discounts) in tx.lock_free_invoices(organization_id, &ids).await? {
                if has_discounts {
                    discounted.push(invoice.id.clone());
                }
                locked.push(invoice);
            }
            if !discounted.is_empty() {
                let mut discounts: HashMap<InvoiceId, Vec<AppliedDiscount>> = HashMap::new();
                for (invoice_id, applied) in tx
                    .discounts_of_invoices(organization_id, &discounted)
                    .await?
                {
                    discounts.entry(invoice_id).or_default().push(applied);
                }
                for invoice in &mut locked {
                    if let Some(applied) = discounts.remove(&invoice.id) {
                        invoice.discounts = applied;
                    }
                }
            }
        }
    }
    Ok(locked)
}
