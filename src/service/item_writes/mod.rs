//! The one write path of invoice items: creates, replacements and deletes, alone or many in
//! one transaction.
//!
//! A set of writes is done in a few statements whatever its size: the invoices are locked
//! (waiting for them, or only those no other transaction holds), their products and the items
//! the writes name are read; then each write is applied in turn ([`apply`]) to its invoice as
//! the writes before it left it, checked and priced in Rust (the invoice's every item is
//! priced again when it has discounts, once for a run of creates: [`price_created`]); then one
//! statement each stores the items written, sets the figures of those that only moved with
//! their invoice's repricing, deletes the deleted ones, stores the invoices' totals and
//! revisions, and records the events with their webhook deliveries. A lone write is a set of
//! one.

mod apply;
mod kept;
mod read;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};

use self::apply::{Pricing, apply, to_microseconds};
pub use self::apply::{draft_only, item_not_found, unknown_product};
pub use self::kept::{KeepBudget, KeptItems, MAX_KEPT_BYTES};
use self::read::read_set;
use crate::domain::currency::Currency;
use crate::domain::event::{Cause, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{CustomerId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::{InvoiceItem, ItemInput, ItemPricing, PendingItem, PlacedItem};
use crate::domain::precondition::ExpectedVersion;
use crate::error::{ApiError, Resource};
use crate::repository::{BatchedTotals, Tx};
use crate::service::repricing::{CoupledItems, ItemBefore};

/// A write of an item of a draft invoice.
#[derive(Debug, Clone)]
pub enum ItemWrite {
    /// A new item, with its id and creation time.
    Create {
        /// The item's id.
        id: InvoiceItemId,
        /// The pending item it takes in, whose creation time it keeps; `None` for an item
        /// made now.
        pending: Option<Box<PendingItem>>,
        /// What it is.
        input: ItemInput,
        /// The customer and currency its invoice must have, when it was made for them.
        terms: Option<InvoiceTerms>,
    },
    /// Every field of an item; with `if_match`, only of the version it names.
    Replace {
        /// The item.
        item_id: InvoiceItemId,
        /// What it becomes.
        input: ItemInput,
        /// The version the client last saw.
        if_match: Option<ExpectedVersion>,
        /// The customer and currency its invoice must have, when it was made for them.
        terms: Option<InvoiceTerms>,
    },
    /// The item gone; with `if_match`, only the version it names.
    Delete {
        /// The item.
        item_id: InvoiceItemId,
        /// The version the client last saw.
        if_match: Option<ExpectedVersion>,
    },
}

impl ItemWrite {
    /// A new item made now.
    pub fn create(input: ItemInput) -> Self {
        Self::Create {
            id: InvoiceItemId::generate(),
            pending: None,
            input,
            terms: None,
        }
    }

    fn input(&self) -> Option<&ItemInput> {
        match self {
            Self::Create { input, .. } | Self::Replace { input, .. } => Some(input),
            Self::Delete { .. } => None,
        }
    }

    /// The item it names that must exist.
    fn existing_item(&self) -> Option<&InvoiceItemId> {
        match self {
            Self::Create { .. } => None,
            Self::Replace { item_id, .. } | Self::Delete { item_id, .. } => Some(item_id),
        }
    }
}

/// The customer and currency an invoice had when an item was made for it (its amounts in that
/// currency's minor units, say): the write is refused (409) if the invoice has others under
/// its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceTerms {
    /// The customer it bills.
    pub customer_id: CustomerId,
    /// Its currency.
    pub currency: Currency,
}

/// One write of a set: whose, on which invoice, what.
#[derive(Debug, Clone, Copy)]
pub struct Targeted<'a> {
    /// The organization.
    pub organization_id: &'a OrganizationId,
    /// The invoice.
    pub invoice_id: &'a InvoiceId,
    /// The write.
    pub write: &'a ItemWrite,
    /// The request it was made for, when not the transaction's own (a coalesced write).
    pub cause: Option<&'a Cause>,
}

/// How a set of writes takes its invoices' locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// Waits for each; an invoice that does not exist is 404.
    Wait,
    /// Takes only those no other transaction holds; a write whose invoice is held or missing
    /// is handed back ([`Applied::Elsewhere`]).
    SkipHeld,
}

/// What became of one write of a set.
#[derive(Debug)]
pub enum Applied {
    /// Stored (the item as written; a deleted item as it was), or refused; it stands once the
    /// set's transaction commits.
    Done(Box<Result<InvoiceItem, ApiError>>),
    /// Not done: its invoice is held by another transaction, or does not exist.
    Elsewhere,
}

/// An invoice as the set's writes leave it.
struct Locked {
    invoice: Invoice,
    /// Every item, when the invoice has discounts (each change moves them all).
    items: Option<CoupledItems>,
    /// Whether a write changed it.
    changed: bool,
    /// Whether a write moved its discounts' amounts.
    discounts_moved: bool,
}

/// What the set read before its writes, by organization and id.
#[derive(Default)]
struct Read {
    invoices: HashMap<(OrganizationId, InvoiceId), Locked>,
    products: HashSet<(OrganizationId, String)>,
    /// The items the writes name, as the writes leave them.
    items: HashMap<(OrganizationId, InvoiceItemId), InvoiceItem>,
}

/// An item a set of writes stores.
enum Stored {
    /// Written by a write of the set (made, replaced or taken in): stored whole.
    Whole(InvoiceItem),
    /// Only moved by its invoice's repricing: its figures are stored.
    Moved {
        /// Its invoice.
        invoice_id: InvoiceId,
        /// Its figures and version as the set leaves them.
        item: ItemPricing,
        /// What it was as read.
        was: ItemBefore,
    },
}

impl Stored {
    fn id(&self) -> &InvoiceItemId {
        match self {
            Self::Whole(item) => &item.id,
            Self::Moved { item, .. } => &item.id,
        }
    }
}

/// Everything a set of writes stores.
#[derive(Default)]
struct ChangeSet {
    /// Each item once, as the set leaves it, in the order first written.
    stored: Vec<(OrganizationId, Stored)>,
    stored_at: HashMap<(OrganizationId, InvoiceItemId), usize>,
    deleted: Vec<(OrganizationId, InvoiceItemId)>,
    events: Vec<(OrganizationId, InvoiceEvent)>,
}

/// By invoice, the items a set of writes moved and moved back, each with what it was as read.
type Unchanged = HashMap<(OrganizationId, InvoiceId), HashMap<InvoiceItemId, ItemBefore>>;

impl ChangeSet {
    /// Stores `item` as written by a write of the set.
    fn store(&mut self, organization_id: &OrganizationId, item: InvoiceItem) {
        let key = (organization_id.clone(), item.id.clone());
        match self.stored_at.get(&key) {
            Some(&at) => self.stored[at].1 = Stored::Whole(item),
            None => self.push(key, Stored::Whole(item)),
        }
    }

    /// Stores `item` of the invoice `key` as moved by its invoice's repricing from what it
    /// `was`: its figures, or, for an item a write of the set wrote, the whole item with them.
    fn store_moved(
        &mut self,
        (organization_id, invoice_id): &(OrganizationId, InvoiceId),
        item: ItemPricing,
        was: ItemBefore,
    ) {
        let key = (organization_id.clone(), item.id.clone());
        match self.stored_at.get(&key) {
            Some(&at) => match &mut self.stored[at].1 {
                Stored::Whole(whole) => item.set_on(whole),
                Stored::Moved { item: moved, .. } => *moved = item,
            },
            None => {
                let invoice_id = invoice_id.clone();
                self.push(
                    key,
                    Stored::Moved {
                        invoice_id,
                        item,
                        was,
                    },
                );
            }
        }
    }

    fn push(&mut self, key: (OrganizationId, InvoiceItemId), stored: Stored) {
        self.stored_at.insert(key.clone(), self.stored.len());
        self.stored.push((key.0, stored));
    }

    /// Takes out the items that the set only moved by repricing and that came back to the
    /// figures they were read with, unless a write of the set names them (`named`): storing
    /// them would change nothing but their revisions and update times, and no answer showed
    /// the figures between. What each was, for the set's list of its invoice's items.
    fn take_unchanged(
        &mut self,
        named: &HashMap<(OrganizationId, InvoiceItemId), InvoiceItem>,
    ) -> Unchanged {
        let mut unchanged = Unchanged::new();
        let stored = std::mem::take(&mut self.stored);
        self.stored_at.clear();
        for (organization_id, stored) in stored {
            match stored {
                Stored::Moved {
                    invoice_id,
                    item,
                    was,
                } if was.has_figures_of(&item)
                    && !named.contains_key(&(organization_id.clone(), item.id.clone())) =>
                {
                    unchanged
                        .entry((organization_id, invoice_id))
                        .or_default()
                        .insert(item.id, was);
                }
                stored => {
                    let key = (organization_id, stored.id().clone());
                    self.push(key, stored);
                }
            }
        }
        unchanged
    }

    /// The items to store whole, and those whose figures alone moved.
    fn stored(&self) -> (StoredItems<'_>, MovedItems<'_>) {
        let mut whole = Vec::new();
        let mut figures = Vec::new();
        for (organization_id, stored) in &self.stored {
            match stored {
                Stored::Whole(item) => whole.push((organization_id, item)),
                Stored::Moved { item, .. } => figures.push((organization_id, item)),
            }
        }
        (whole, figures)
    }

    fn delete(&mut self, organization_id: &OrganizationId, item_id: &InvoiceItemId) {
        let key = (organization_id.clone(), item_id.clone());
        if let Some(at) = self.stored_at.remove(&key) {
            self.stored.remove(at);
            for position in self.stored_at.values_mut() {
                if *position > at {
                    *position -= 1;
                }
            }
        }
        self.deleted
            .push((organization_id.clone(), item_id.clone()));
    }
}

/// Does a set of writes in `tx`, up to its commit, which is the caller's: the outcome of each,
/// in order. Nothing is written when it fails. The items of invoices whose items move together
/// are taken from `kept` where it has them as stored, and left in it as the set wrote them,
/// for the caller to keep once it commits ([`KeptItems::committed`]).
#[tracing::instrument(skip_all, fields(writes = writes.len()))]
pub async fn write_items(
    tx: &mut Tx,
    writes: &[Targeted<'_>],
    locking: Locking,
    kept: &mut KeptItems,
) -> Result<Vec<Applied>, ApiError> {
    kept.not_committed();
    let mut read = read_set(tx, writes, locking, kept).await?;
    kept.forget_untaken();
    let now = to_microseconds(Utc::now());
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut changes = ChangeSet::default();
    // By invoice, in the order first written: the creates whose items wait to be priced.
    let mut unpriced: Vec<((OrganizationId, InvoiceId), Vec<Unpriced>)> = Vec::new();
    for (position, target) in (0_i64..).zip(writes) {
        // Each write its own time, a microsecond after the one before: the set's items list
        // (by creation time) in the order of their revisions.
        let at = now + TimeDelta::microseconds(position);
        // The run of creates waiting on the write's invoice, if any.
        let run_of = |unpriced: &[((OrganizationId, InvoiceId), Vec<Unpriced>)]| {
            unpriced
                .iter()
                .position(|((organization_id, invoice_id), _)| {
                    organization_id == target.organization_id && invoice_id == target.invoice_id
                })
        };
        let pricing = if matches!(target.write, ItemWrite::Create { .. }) {
            Pricing::Later
        } else {
            // A write that names an item sees the creates before it priced.
            if let Some(run) = run_of(&unpriced) {
                let (key, waiting) = unpriced.remove(run);
                price_created(&mut read, &mut changes, &mut outcomes, &key, &waiting);
            }
            Pricing::Now
        };
        let (applied, unpriced_at) =
            apply_one(&mut read, &mut changes, target, locking, at, pricing);
        if let Some(position) = unpriced_at {
            let waiting = Unpriced {
                position,
                outcome: outcomes.len(),
                item_event: changes.events.len() - 2,
                at,
            };
            match run_of(&unpriced) {
                Some(run) => unpriced[run].1.push(waiting),
                None => {
                    let key = (target.organization_id.clone(), target.invoice_id.clone());
                    unpriced.push((key, vec![waiting]));
                }
            }
        }
        outcomes.push(applied);
    }
    for (key, waiting) in unpriced {
        price_created(&mut read, &mut changes, &mut outcomes, &key, &waiting);
    }
    for (invoice, restored) in changes.take_unchanged(&read.items) {
        if let Some(items) = read
            .invoices
            .get_mut(&invoice)
            .and_then(|locked| locked.items.as_mut())
        {
            items.restore_versions(&restored);
        }
    }
    store(tx, &read, &changes).await?;
    for ((organization_id, _), locked) in read.invoices {
        if let Some(items) = locked.items {
            kept.leave(&organization_id, &locked.invoice, items);
        }
    }
    Ok(outcomes)
}

/// Does one write in `tx`, waiting for its invoice's lock.
pub async fn write_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    write: &ItemWrite,
) -> Result<InvoiceItem, ApiError> {
    let target = Targeted {
        organization_id,
        invoice_id,
        write,
        cause: None,
    };
    let mut kept = KeptItems::default();
    match write_items(tx, &[target], Locking::Wait, &mut kept)
        .await?
        .pop()
    {
        Some(Applied::Done(done)) => *done,
        _ => Err(ApiError::Internal("a lone write was not done".into())),
    }
}

/// A create whose item waits to be priced with the creates beside it on its invoice.
struct Unpriced {
    /// The item's place in its invoice's list.
    position: usize,
    /// The write's place in the set, and so of its outcome.
    outcome: usize,
    /// The place of its item's event in the set's events; its invoice's event is next.
    item_event: usize,
    /// When it was written.
    at: DateTime<Utc>,
}

/// Prices once the items `waiting` on the invoice `key`, new items added to its list unpriced
/// by creates one after another ([`Pricing::Later`]), with every other item of the invoice:
/// each create's answer and item event show its item as the set leaves it, and the event of
/// the last shows the items the repricing moved. A run of creates into an invoice of
/// thousands of items is one pass over them, where each create would make its own.
fn price_created(
    read: &mut Read,
    changes: &mut ChangeSet,
    outcomes: &mut [Applied],
    key: &(OrganizationId, InvoiceId),
    waiting: &[Unpriced],
) {
    let (Some(first), Some(last)) = (waiting.first(), waiting.last()) else {
        return;
    };
    let Some(entry) = read.invoices.get_mut(key) else {
        return;
    };
    let Some(items) = entry.items.as_mut() else {
        return;
    };
    let repriced = items.reprice(&entry.invoice, last.at);
    // The waiting items were the last added to the list: none was taken out since.
    let moved: Vec<(ItemPricing, ItemBefore)> = repriced
        .moved
        .iter()
        .zip(repriced.was)
        .filter(|&(&index, _)| index < first.position)
        .map(|(&index, was)| (items.items()[index].clone(), was))
        .collect();
    let organization_id = &key.0;
    for unpriced in waiting {
        let Applied::Done(done) = &mut outcomes[unpriced.outcome] else {
            continue;
        };
        let Ok(written) = done.as_mut() else {
            continue;
        };
        // Its figures, not the revision and time the repricing gave its copy.
        items
            .set_version(unpriced.position, written.revision, written.updated_time)
            .set_on(written);
        let item = written.clone();
        let item_event = &mut changes.events[unpriced.item_event].1;
        if let Some(PlacedItem::OnInvoice { item: placed, .. }) = item_event.item.as_deref_mut() {
            **placed = item.clone();
        }
        // An item of no price and no tax moves no total, as when priced alone.
        let moves_totals =
            !item.price.is_zero() || item.tax.as_ref().is_some_and(|tax| !tax.amount().is_zero());
        if moves_totals {
            let invoice_event = &mut changes.events[unpriced.item_event + 1].1;
            invoice_event.changes.fields.push(InvoiceField::Totals);
        }
        read.items
            .insert((organization_id.clone(), item.id.clone()), item.clone());
        changes.store(organization_id, item);
    }
    changes.events[last.item_event + 1].1.changes.items_repriced =
        moved.iter().map(|(item, _)| item.id.clone()).collect();
    for (moved, was) in moved {
        // A later write of the set that names it sees the figures and revision it moved to.
        if let Some(named) = read
            .items
            .get_mut(&(organization_id.clone(), moved.id.clone()))
        {
            moved.set_on(named);
        }
        changes.store_moved(key, moved, was);
    }
    if repriced.discounts != entry.invoice.discounts {
        entry.invoice.discounts = repriced.discounts;
        entry.discounts_moved = true;
    }
    entry.invoice.totals = repriced.totals;
}

/// Applies one write of a set; for a create whose pricing waits, where its item is in its
/// invoice's list.
fn apply_one(
    read: &mut Read,
    changes: &mut ChangeSet,
    target: &Targeted<'_>,
    locking: Locking,
    at: DateTime<Utc>,
    pricing: Pricing,
) -> (Applied, Option<usize>) {
    let organization_id = target.organization_id;
    // The body's references are checked before the invoice is looked up, as body validation
    // answers before resource lookup. Products are never deleted; the foreign key
    // `invoice_items_product_fk` backs the answer.
    let product = target
        .write
        .input()
        .and_then(|input| input.product_id.as_ref());
    if product.is_some_and(|id| {
        !read
            .products
            .contains(&(organization_id.clone(), id.as_str().to_owned()))
    }) {
        return (Applied::Done(Box::new(Err(unknown_product()))), None);
    }
    let key = (organization_id.clone(), target.invoice_id.clone());
    let Some(entry) = read.invoices.get_mut(&key) else {
        let applied = match locking {
            Locking::SkipHeld => Applied::Elsewhere,
            Locking::Wait => {
                let missing = ApiError::not_found(Resource::Invoice, target.invoice_id);
                Applied::Done(Box::new(Err(missing)))
            }
        };
        return (applied, None);
    };
    let old = target
        .write
        .existing_item()
        .and_then(|id| read.items.get(&(organization_id.clone(), id.clone())))
        .filter(|old| old.invoice_id == *target.invoice_id);
    // What a replacement replaces, for its event.
    let replaced = old
        .filter(|_| matches!(target.write, ItemWrite::Replace { .. }))
        .cloned();
    // The customer and currency its item's event shows: its invoice's, which an item's write
    // never changes.
    let (customer_id, currency) = (entry.invoice.customer_id.clone(), entry.invoice.currency);
    let placed = move |item: InvoiceItem| PlacedItem::OnInvoice {
        item: Box::new(item),
        customer_id: customer_id.clone(),
        currency,
    };
    let (item_event, before) = match target.write {
        ItemWrite::Create {
            pending: Some(pending),
            ..
        } => (
            EventType::ItemUpdated,
            Some(PlacedItem::Pending(pending.clone())),
        ),
        ItemWrite::Create { .. } => (EventType::ItemCreated, None),
        ItemWrite::Replace { .. } => (EventType::ItemUpdated, replaced.map(&placed)),
        ItemWrite::Delete { .. } => (EventType::ItemDeleted, None),
    };
    let mut unpriced_at = None;
    let done = apply(entry, target.write, old, at, pricing).map(|change| {
        unpriced_at = change.unpriced_at;
        for (moved, was) in change.moved {
            // A later write of the set that names it sees the figures and revision it moved to.
            if let Some(named) = read
                .items
                .get_mut(&(organization_id.clone(), moved.id.clone()))
            {
                moved.set_on(named);
            }
            changes.store_moved(&key, moved, was);
        }
        let written = change.item;
        let item_key = (organization_id.clone(), written.id.clone());
        let mut event = change.event;
        event.cause = target.cause.cloned();
        let item_event = event.of_item(item_event, placed(written.clone()), before);
        if matches!(target.write, ItemWrite::Delete { .. }) {
            changes.delete(organization_id, &written.id);
            read.items.remove(&item_key);
        } else {
            changes.store(organization_id, written.clone());
            read.items.insert(item_key, written.clone());
        }
        changes.events.push((organization_id.clone(), item_event));
        changes.events.push((organization_id.clone(), event));
        written
    });
    (Applied::Done(Box::new(done)), unpriced_at)
}

/// Stores what a set of writes changed, in one statement for each kind of row.
async fn store(tx: &mut Tx, read: &Read, changes: &ChangeSet) -> Result<(), ApiError> {
    if changes.events.is_empty() {
        return Ok(());
    }
    let (whole, figures) = changes.stored();
    if !whole.is_empty() {
        tx.save_items(&whole).await?;
    }
    if !figures.is_empty() {
        // Moved items are stored ones of invoices the set holds: each is found, or the set
        // is undone rather than leave an item without its figures.
        let found = tx.set_item_figures(&figures).await?;
        if found != figures.len() as u64 {
            return Err(ApiError::Internal(
                format!(
                    "{found} of the {} items repricing moved were found",
                    figures.len()
                )
                .into(),
            ));
        }
    }
    if !changes.deleted.is_empty() {
        tx.delete_items(&by_reference(&changes.deleted)).await?;
    }
    let changed = read.invoices.iter().filter(|(_, entry)| entry.changed);
    for ((organization_id, invoice_id), entry) in changed.clone() {
        if entry.discounts_moved {
            tx.save_discounts(organization_id, invoice_id, &entry.invoice.discounts)
                .await?;
        }
    }
    let totals: Vec<BatchedTotals<'_>> = changed
        .map(|((organization_id, invoice_id), entry)| BatchedTotals {
            organization_id,
            invoice_id,
            totals: entry.invoice.totals,
            revision: entry.invoice.revision,
            updated_time: entry.invoice.updated_time,
        })
        .collect();
    tx.set_totals(&totals).await?;
    tx.record_events(&by_reference(&changes.events)).await?;
    Ok(())
}

/// Items with their organizations, as the repository's batch statements take them.
type StoredItems<'a> = Vec<(&'a OrganizationId, &'a InvoiceItem)>;

/// The figures of items that only moved, with their organizations.
type MovedItems<'a> = Vec<(&'a OrganizationId, &'a ItemPricing)>;

/// Rows of (organization, row) as the repository's batch statements take them.
fn by_reference<A, B>(rows: &[(A, B)]) -> Vec<(&A, &B)> {
    rows.iter().map(|(a, b)| (a, b)).collect()
}

#[cfg(test)]
mod tests;
