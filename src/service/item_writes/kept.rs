//! The items a lane's last set of writes left on invoices whose items move together, kept for
//! its next set: a write into an invoice of thousands of discounted items then reads its
//! invoice's row, not every item again.
//!
//! Kept items are taken only under their invoice's lock, and only when the invoice's row is as
//! the set that left them committed it (the same creation time, revision and update time):
//! every change to an invoice's items moves its revision and update time in the same
//! transaction, whichever process or path made it, so items kept at that stamp are the items
//! stored. A set's items are kept only once its commit succeeds, and only until the next set
//! has taken what it needs.
//!
//! What all lanes keep together is bounded in bytes by one [`KeepBudget`]: what is kept of an
//! item is what pricing reads and sets of it ([`ItemPricing`]), whose text (a manual tax's
//! description, a VAT exemption's reason) may run to hundreds of bytes, so a bound in items
//! would not bound memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::ItemPricing;
use crate::domain::kept_tax::{KeptTax, TaxTerms};
use crate::domain::tax::Jurisdictions;
use crate::domain::vat::LineVat;
use crate::service::pricing::LastPricing;
use crate::service::repricing::CoupledItems;

/// The most bytes of items all lanes keep at once: an invoice of about 50,000 items (what is
/// kept of each, [`ItemPricing`] and its last pricing, takes about 300 bytes with its id, and
/// its list has room for up to an eighth more), or fewer items carrying manual taxes or VAT
/// exemptions in words. An invoice that does not fit is read each time.
pub const MAX_KEPT_BYTES: usize = 16 << 20;

/// An invoice's row as a set of writes committed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    created_time: DateTime<Utc>,
    revision: i64,
    updated_time: DateTime<Utc>,
}

impl Stamp {
    fn of(invoice: &Invoice) -> Self {
        Self {
            created_time: invoice.created_time,
            revision: invoice.revision,
            updated_time: invoice.updated_time,
        }
    }
}

type Key = (OrganizationId, InvoiceId);

/// The bytes that every lane's kept items may hold together, shared by the lanes.
#[derive(Debug, Clone)]
pub struct KeepBudget {
    held: Arc<AtomicUsize>,
    limit: usize,
}

impl KeepBudget {
    /// A budget of `limit` bytes, none held.
    pub fn new(limit: usize) -> Self {
        Self {
            held: Arc::new(AtomicUsize::new(0)),
            limit,
        }
    }

    /// The bytes held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Holds `bytes` until the hold is dropped, if they fit.
    fn hold(&self, bytes: usize) -> Option<Hold> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|after| *after <= self.limit)
            })
            .ok()?;
        Some(Hold {
            held: Arc::clone(&self.held),
            bytes,
        })
    }
}

/// Bytes held in a [`KeepBudget`], given back when dropped.
#[derive(Debug)]
struct Hold {
    held: Arc<AtomicUsize>,
    bytes: usize,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[derive(Debug)]
struct Kept {
    stamp: Stamp,
    items: CoupledItems,
    _hold: Hold,
}

/// Items kept between sets of writes, and those the set under way leaves until its commit.
/// Without a budget (the default) nothing is kept.
#[derive(Debug, Default)]
pub struct KeptItems {
    budget: Option<KeepBudget>,
    kept: HashMap<Key, Kept>,
    left: Vec<(Key, Stamp, CoupledItems)>,
    /// Whether the last set that committed priced an invoice's every item, kept or not.
    priced_together: bool,
}

impl KeptItems {
    /// Keeps items within `budget`.
    pub fn within(budget: KeepBudget) -> Self {
        Self {
            budget: Some(budget),
            ..Self::default()
        }
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.left.is_empty()
    }

    /// Whether the last set of writes that committed priced every item of an invoice whose
    /// items move together, whether or not they fit the budget to be kept.
    pub fn priced_together(&self) -> bool {
        self.priced_together
    }

    /// The items kept for `invoice`, locked by the caller, if they are its stored items.
    pub(super) fn take(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
    ) -> Option<CoupledItems> {
        self.take_at(
            &(organization_id.clone(), invoice.id.clone()),
            Stamp::of(invoice),
        )
    }

    fn take_at(&mut self, key: &Key, stamp: Stamp) -> Option<CoupledItems> {
        let kept = self.kept.remove(key)?;
        (kept.stamp == stamp).then_some(kept.items)
    }

    /// Gives back what the set under way did not take: only what it leaves is kept after it.
    pub(super) fn forget_untaken(&mut self) {
        self.kept.clear();
    }

    /// Leaves the items of `invoice` as the set under way wrote them, to keep once it commits.
    pub(super) fn leave(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
        items: CoupledItems,
    ) {
        let key = (organization_id.clone(), invoice.id.clone());
        self.leave_at(key, Stamp::of(invoice), items);
    }

    fn leave_at(&mut self, key: Key, stamp: Stamp, items: CoupledItems) {
        self.left.push((key, stamp, items));
    }

    /// The set under way committed: what it left is kept, the last left first, as far as the
    /// budget has room; whatever was kept before is given back.
    pub fn committed(&mut self) {
        self.kept.clear();
        self.priced_together = !self.left.is_empty();
        let Some(budget) = &self.budget else {
            self.left.clear();
            return;
        };
        for (key, stamp, items) in self.left.drain(..).rev() {
            if self.kept.contains_key(&key) {
                continue;
            }
            if let Some(hold) = budget.hold(bytes_of(&items)) {
                let kept = Kept {
                    stamp,
                    items,
                    _hold: hold,
                };
                self.kept.insert(key, kept);
            }
        }
    }

    /// Gives back everything kept, keeping the budget.
    pub fn forget(&mut self) {
        self.kept.clear();
        self.left.clear();
    }

    /// The set under way did not commit, or may not have: what it left is dropped.
    pub fn not_committed(&mut self) {
        self.left.clear();
        self.priced_together = false;
    }
}

/// About the bytes `items` hold: the room of their lists, each item's text, and the terms of
/// their computed taxes, counted once for each run of items that share them.
fn bytes_of(items: &CoupledItems) -> usize {
    let slot = size_of::<ItemPricing>() + size_of::<Option<LastPricing>>();
    let text: usize = items.items().iter().map(text_bytes).sum();
    let mut terms = 0;
    let mut last: Option<&Arc<TaxTerms>> = None;
    for shared in items
        .items()
        .iter()
        .filter_map(|item| item.tax.as_ref().and_then(KeptTax::terms))
    {
        if !last.is_some_and(|last| Arc::ptr_eq(last, shared)) {
            let jurisdictions = shared.jurisdictions().map_or(0, jurisdiction_bytes);
            terms += size_of::<TaxTerms>() + jurisdictions;
            last = Some(shared);
        }
    }
    items.capacity() * slot + text + terms
}

/// The bytes of an item's id, its own VAT and its tax's text.
fn text_bytes(item: &ItemPricing) -> usize {
    let vat = item.vat.as_ref().map_or(0, |vat| {
        let reason = vat
            .exemption()
            .and_then(|exemption| exemption.reason.as_ref())
            .map_or(0, |reason| reason.as_str().len());
        size_of::<LineVat>() + reason
    });
    let tax = item
        .tax
        .as_ref()
        .and_then(KeptTax::manual)
        .map_or(0, |tax| tax.description().len());
    item.id.as_str().len() + vat + tax
}

fn jurisdiction_bytes(jurisdictions: &Jurisdictions) -> usize {
    [
        &jurisdictions.country,
        &jurisdictions.state,
        &jurisdictions.county,
        &jurisdictions.city,
    ]
    .into_iter()
    .flatten()
    .map(|name| name.as_str().len())
    .sum()
}

#[cfg(test)]
mod tests;
