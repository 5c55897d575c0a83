//! The items a lane's last sets of writes left on invoices whose items move together, kept for
//! its next set: a write into an invoice of thousands of discounted items then reads its
//! invoice's row, not every item again.
//!
//! Kept items are taken only under their invoice's lock, and only when the invoice's row is as
//! the set that left them committed it (the same creation time, revision and update time):
//! every change to an invoice's items moves its revision and update time in the same
//! transaction, whichever process or path made it, so items kept at that stamp are the items
//! stored. A set's items are kept only once its commit succeeds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::service::repricing::CoupledItems;

/// The most items kept at once (by one lane): an invoice larger than this is read each time.
const MAX_KEPT_ITEMS: usize = 20_000;

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

/// Items kept between sets of writes, and those the set under way leaves until its commit.
#[derive(Debug, Default)]
pub struct KeptItems {
    kept: HashMap<Key, (Stamp, CoupledItems)>,
    left: Vec<(Key, Stamp, CoupledItems)>,
}

impl KeptItems {
    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.left.is_empty()
    }

    /// The items kept for `invoice`, locked by the caller, if they are its stored items.
    pub(super) fn take(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
    ) -> Option<CoupledItems> {
        let key = (organization_id.clone(), invoice.id.clone());
        let (stamp, items) = self.kept.remove(&key)?;
        (stamp == Stamp::of(invoice)).then_some(items)
    }

    /// Leaves the items of `invoice` as the set under way wrote them, to keep once it commits.
    pub(super) fn leave(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
        items: CoupledItems,
    ) {
        let key = (organization_id.clone(), invoice.id.clone());
        self.left.push((key, Stamp::of(invoice), items));
    }

    /// The set under way committed: what it left is kept, the last left first, up to
    /// [`MAX_KEPT_ITEMS`].
    pub fn committed(&mut self) {
        let mut room = MAX_KEPT_ITEMS;
        let mut kept = HashMap::new();
        let left = self.left.drain(..).rev();
        let older = self
            .kept
            .drain()
            .map(|(key, (stamp, items))| (key, stamp, items));
        for (key, stamp, items) in left.chain(older) {
            if items.items().len() <= room && !kept.contains_key(&key) {
                room -= items.items().len();
                kept.insert(key, (stamp, items));
            }
        }
        self.kept = kept;
    }

    /// The set under way did not commit, or may not have: what it left is dropped.
    pub fn not_committed(&mut self) {
        self.left.clear();
    }
}
