//! Item creates and replacements coalesced: concurrent writes share one transaction and a few
//! statements.
//!
//! A write goes to its invoice's lane. A lane takes every write that queued while its last
//! batch ran (at most [`MAX_BATCH`]) and does them in one transaction: one statement locks the
//! batch's invoices, one reads its products and one the items it replaces; then each write is
//! checked and priced in turn on its invoice as the writes before it left it (the same 404,
//! 409, 412 and 422 as when it runs alone, in the same order); then one statement each stores
//! the items, the invoices' totals and revisions, and the events with their webhook
//! deliveries. Each caller hears its own outcome, a stored item only after the commit that made
//! it durable.
//!
//! A batch locks only the invoices no other transaction holds, and never waits for a lock. A
//! write whose invoice is locked elsewhere or does not exist, or has discounts (where every
//! item moves with each change), or whose batch failed, runs alone as [`create_item`] and
//! [`replace_item`] do, and waits there: one busy invoice never holds up the other invoices of
//! its lane. An invoice is always on the same lane, so that its concurrent writes meet in one
//! batch.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::invoice_items::{
    create_item, draft_only, ensure_version, item_not_found, replace_item, replacement,
    unknown_product, unpriced_item,
};
use super::repricing::price_independent_item;
use crate::domain::event::{EventChanges, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{EventId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::{InvoiceItem, ItemExtras, ItemInput};
use crate::domain::precondition::ExpectedVersion;
use crate::error::ApiError;
use crate::repository::{BatchedTotals, Db, Tx};

/// The most writes one batch takes.
pub const MAX_BATCH: usize = 64;

/// How many writes may wait for a lane before their callers wait to queue.
const LANE_QUEUE: usize = 1024;

/// The metric of the writes each batch took.
pub const BATCH_SIZE_METRIC: &str = "item_write_batch_size";

/// The lanes of item writes, started on first use.
#[derive(Debug)]
pub struct ItemLanes {
    db: Db,
    lanes: usize,
    senders: OnceLock<Vec<mpsc::Sender<Queued>>>,
}

/// An item write to a draft invoice.
#[derive(Debug, Clone)]
enum ItemWrite {
    /// A new item.
    Create(ItemInput),
    /// Every field of an item, with `if_match` only the version it names.
    Replace {
        item_id: InvoiceItemId,
        input: ItemInput,
        if_match: Option<ExpectedVersion>,
    },
}

impl ItemWrite {
    fn input(&self) -> &ItemInput {
        match self {
            Self::Create(input) | Self::Replace { input, .. } => input,
        }
    }
}

#[derive(Debug)]
struct Queued {
    organization_id: OrganizationId,
    invoice_id: InvoiceId,
    write: ItemWrite,
    answer: oneshot::Sender<Outcome>,
}

/// What became of a queued write.
#[derive(Debug)]
enum Outcome {
    /// Stored and committed, or refused.
    Done(Box<Result<InvoiceItem, ApiError>>),
    /// Not done: to run alone, handed back.
    Alone(Box<ItemWrite>),
    /// Not done: its caller stopped waiting.
    Abandoned,
}

impl ItemLanes {
    /// Lanes over `db`: one for every three of its pooled connections, from one to four, so
    /// that the rest of the pool stays for reads and for the writes that run alone.
    pub fn new(db: Db, max_connections: u32) -> Self {
        Self {
            db,
            lanes: usize::try_from(max_connections / 3)
                .unwrap_or(1)
                .clamp(1, 4),
            senders: OnceLock::new(),
        }
    }

    /// How many writes wait for their lane.
    pub fn queued(&self) -> usize {
        self.senders.get().map_or(0, |senders| {
            senders
                .iter()
                .map(|sender| sender.max_capacity() - sender.capacity())
                .sum()
        })
    }

    /// Queues a write on its invoice's lane, starting the lanes on first use, and waits for
    /// its outcome. A write the lane hands back, or that finds no lane (the runtime is
    /// ending), runs alone.
    async fn write(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        write: ItemWrite,
    ) -> Result<InvoiceItem, ApiError> {
        let (answer, outcome) = oneshot::channel();
        let queued = Queued {
            organization_id: organization_id.clone(),
            invoice_id: invoice_id.clone(),
            write,
            answer,
        };
        let write = match self.lane(organization_id, invoice_id).send(queued).await {
            Ok(()) => match outcome.await {
                Ok(Outcome::Done(done)) => return *done,
                Ok(Outcome::Alone(write)) => *write,
                // Never heard: an abandoned write's caller is gone.
                Ok(Outcome::Abandoned) | Err(_) => {
                    return Err(ApiError::Internal("the write's batch was lost".into()));
                }
            },
            Err(mpsc::error::SendError(queued)) => queued.write,
        };
        let mut tx = self.db.begin().await?;
        let done = match write {
            ItemWrite::Create(input) => {
                create_item(&mut tx, organization_id, invoice_id, input).await
            }
            ItemWrite::Replace {
                item_id,
                input,
                if_match,
            } => {
                let if_match = if_match.as_ref();
                replace_item(
                    &mut tx,
                    organization_id,
                    invoice_id,
                    &item_id,
                    input,
                    if_match,
                )
                .await
            }
        };
        match done {
            Ok(item) => {
                tx.commit().await?;
                Ok(item)
            }
            Err(error) => {
                // The error is the answer; a failed rollback is the pool's to clean up.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    fn lane(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> &mpsc::Sender<Queued> {
        let senders = self.senders.get_or_init(|| {
            (0..self.lanes)
                .map(|_| {
                    let (sender, receiver) = mpsc::channel(LANE_QUEUE);
                    tokio::spawn(run_lane(self.db.clone(), receiver));
                    sender
                })
                .collect()
        });
        let mut hasher = DefaultHasher::new();
        (organization_id.as_str(), invoice_id.as_str()).hash(&mut hasher);
        let lane = usize::try_from(hasher.finish() % senders.len() as u64).unwrap_or(0);
        &senders[lane]
    }
}

/// Adds an item to a draft invoice, in a batch with the writes queued beside it (see the
/// module's notes): the same outcome as [`create_item`] in a transaction of its own.
#[tracing::instrument(skip_all)]
pub async fn create_item_batched(
    lanes: &ItemLanes,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    input: ItemInput,
) -> Result<InvoiceItem, ApiError> {
    lanes
        .write(organization_id, invoice_id, ItemWrite::Create(input))
        .await
}

/// Replaces every field of an item of a draft invoice, in a batch with the writes queued
/// beside it: the same outcome as [`replace_item`] in a transaction of its own.
#[tracing::instrument(skip_all)]
pub async fn replace_item_batched(
    lanes: &ItemLanes,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
    input: ItemInput,
    if_match: Option<ExpectedVersion>,
) -> Result<InvoiceItem, ApiError> {
    let write = ItemWrite::Replace {
        item_id: item_id.clone(),
        input,
        if_match,
    };
    lanes.write(organization_id, invoice_id, write).await
}

async fn run_lane(db: Db, mut queue: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A caller that stopped waiting (its client left, its time ran out) has nothing done,
        // as with a request given up before its transaction began.
        batch.retain(|queued: &Queued| !queued.answer.is_closed());
        if batch.is_empty() {
            continue;
        }
        metrics::histogram!(BATCH_SIZE_METRIC).record(batch.len() as f64);
        // A panic in a batch's work fails that batch alone, whose writes then run alone (where
        // a panic costs one request its answer), and the lane goes on.
        let prepared = AssertUnwindSafe(write_batch(&db, &batch))
            .catch_unwind()
            .await;
        let (tx, outcomes) = match prepared {
            Ok(Ok(prepared)) => prepared,
            failed => {
                let error = match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => "its work panicked".to_owned(),
                };
                tracing::warn!(%error, writes = batch.len(), "an item batch failed; each write runs alone");
                for queued in batch.drain(..) {
                    let _ = queued.answer.send(Outcome::Alone(Box::new(queued.write)));
                }
                continue;
            }
        };
        let committed = match tx {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        };
        for (queued, outcome) in batch.drain(..).zip(outcomes) {
            let outcome = match (&committed, outcome) {
                // The commit may have been made or not: as when a write alone fails to commit,
                // its caller hears the error, and nothing is done again.
                (Err(error), Outcome::Done(done)) if done.is_ok() => {
                    let error = sqlx::Error::Io(std::io::Error::other(error.to_string()));
                    Outcome::Done(Box::new(Err(error.into())))
                }
                (_, outcome) => outcome,
            };
            let _ = queued.answer.send(outcome);
        }
    }
}

/// An invoice as the batch's writes leave it.
struct Locked {
    invoice: Invoice,
    discounted: bool,
    /// Whether a write of the batch changed it.
    changed: bool,
}

/// What a batch read before its writes, by organization and id.
#[derive(Default)]
struct Read {
    invoices: HashMap<(OrganizationId, InvoiceId), Locked>,
    products: HashSet<(OrganizationId, String)>,
    /// The items replaced, as the batch's writes leave them.
    items: HashMap<(OrganizationId, InvoiceItemId), InvoiceItem>,
}

/// Locks the batch's invoices that are free, and reads its products and replaced items.
async fn read_batch(tx: &mut Tx, batch: &[Queued]) -> Result<Read, ApiError> {
    #[derive(Default)]
    struct Wanted {
        invoices: Vec<String>,
        products: Vec<String>,
        items: Vec<String>,
    }
    let mut by_organization: BTreeMap<&OrganizationId, Wanted> = BTreeMap::new();
    for queued in batch {
        let wanted = by_organization.entry(&queued.organization_id).or_default();
        wanted.invoices.push(queued.invoice_id.as_str().to_owned());
        let product = queued.write.input().product_id.iter();
        wanted
            .products
            .extend(product.map(|id| id.as_str().to_owned()));
        if let ItemWrite::Replace { item_id, .. } = &queued.write {
            wanted.items.push(item_id.as_str().to_owned());
        }
    }
    let mut read = Read::default();
    for (organization_id, mut wanted) in by_organization {
        for ids in [
            &mut wanted.invoices,
            &mut wanted.products,
            &mut wanted.items,
        ] {
            ids.sort_unstable();
            ids.dedup();
        }
        for (invoice, discounted) in tx
            .lock_free_invoices(organization_id, &wanted.invoices)
            .await?
        {
            let key = (organization_id.clone(), invoice.id.clone());
            let changed = false;
            let locked = Locked {
                invoice,
                discounted,
                changed,
            };
            read.invoices.insert(key, locked);
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

/// Does a batch's work in one transaction, up to its commit; the transaction (none when it
/// wrote nothing) and the outcome of each write, in order, which stands once it commits.
/// Nothing is written when it fails.
async fn write_batch(db: &Db, batch: &[Queued]) -> Result<(Option<Tx>, Vec<Outcome>), ApiError> {
    let mut tx = db.begin().await?;
    let mut read = read_batch(&mut tx, batch).await?;
    let now = to_microseconds(Utc::now());
    let mut outcomes = Vec::with_capacity(batch.len());
    // Each item once, as the batch leaves it, in the order first written.
    let mut stored: Vec<(OrganizationId, InvoiceItem)> = Vec::new();
    let mut stored_at: HashMap<InvoiceItemId, usize> = HashMap::new();
    let mut events = Vec::new();
    for (position, queued) in (0_i64..).zip(batch) {
        if queued.answer.is_closed() {
            outcomes.push(Outcome::Abandoned);
            continue;
        }
        // Each write its own time, a microsecond after the one before: the batch's items list
        // (by creation time) in the order of their revisions.
        let at = now + TimeDelta::microseconds(position);
        let organization_id = &queued.organization_id;
        let key = (organization_id.clone(), queued.invoice_id.clone());
        let known_product = queued.write.input().product_id.as_ref().is_none_or(|id| {
            read.products
                .contains(&(organization_id.clone(), id.as_str().to_owned()))
        });
        let entry = match read.invoices.get_mut(&key) {
            _ if !known_product => {
                outcomes.push(Outcome::Done(Box::new(Err(unknown_product()))));
                continue;
            }
            // No such invoice, or one another transaction holds, or one whose discounts move
            // every item: alone, the write finds out which, and waits for the lock there.
            None
            | Some(Locked {
                discounted: true, ..
            }) => {
                outcomes.push(Outcome::Alone(Box::new(queued.write.clone())));
                continue;
            }
            Some(entry) => entry,
        };
        let change = match &queued.write {
            ItemWrite::Create(input) => add_item(entry, input.clone(), at),
            ItemWrite::Replace {
                item_id,
                input,
                if_match,
            } => {
                let old = read
                    .items
                    .get(&(organization_id.clone(), item_id.clone()))
                    .filter(|old| old.invoice_id == queued.invoice_id);
                swap_item(entry, item_id, old, input.clone(), if_match.as_ref(), at)
            }
        };
        match change {
            Ok((item, event)) => {
                events.push((organization_id.clone(), event));
                if matches!(queued.write, ItemWrite::Replace { .. }) {
                    read.items
                        .insert((organization_id.clone(), item.id.clone()), item.clone());
                }
                match stored_at.get(&item.id) {
                    Some(&at) => stored[at].1 = item.clone(),
                    None => {
                        stored_at.insert(item.id.clone(), stored.len());
                        stored.push((organization_id.clone(), item.clone()));
                    }
                }
                outcomes.push(Outcome::Done(Box::new(Ok(item))));
            }
            Err(error) => outcomes.push(Outcome::Done(Box::new(Err(error)))),
        }
    }
    if stored.is_empty() {
        let _ = tx.rollback().await;
        return Ok((None, outcomes));
    }
    let items: Vec<_> = stored
        .iter()
        .map(|(organization_id, item)| (organization_id, item))
        .collect();
    tx.save_items(&items).await?;
    let totals: Vec<BatchedTotals<'_>> = read
        .invoices
        .iter()
        .filter(|(_, entry)| entry.changed)
        .map(|((organization_id, invoice_id), entry)| BatchedTotals {
            organization_id,
            invoice_id,
            totals: entry.invoice.totals,
            revision: entry.invoice.revision,
            updated_time: entry.invoice.updated_time,
        })
        .collect();
    tx.set_totals(&totals).await?;
    let events: Vec<_> = events
        .iter()
        .map(|(organization_id, event)| (organization_id, event))
        .collect();
    tx.record_events(&events).await?;
    Ok((Some(tx), outcomes))
}

/// A create on its locked invoice, as the batch's earlier writes left it: 409 unless it is a
/// draft, 422 for what only its currency tells; the priced item and its event.
fn add_item(
    entry: &mut Locked,
    input: ItemInput,
    now: DateTime<Utc>,
) -> Result<(InvoiceItem, InvoiceEvent), ApiError> {
    draft_only(&entry.invoice)?;
    let id = InvoiceItemId::generate();
    let extras = ItemExtras::default();
    let item = unpriced_item(id, &entry.invoice, input, extras, now, now)?;
    let changes = EventChanges {
        items_created: vec![item.id.clone()],
        ..EventChanges::default()
    };
    Ok(price_on(entry, item, None, changes, now))
}

/// A replacement on its locked invoice: 404 when the invoice has no such item, 412 when
/// `if_match` names another version, 409 unless the invoice is a draft, in that order (as
/// [`replace_item`] checks); the priced item, one revision on, and its event.
fn swap_item(
    entry: &mut Locked,
    item_id: &InvoiceItemId,
    old: Option<&InvoiceItem>,
    input: ItemInput,
    if_match: Option<&ExpectedVersion>,
    now: DateTime<Utc>,
) -> Result<(InvoiceItem, InvoiceEvent), ApiError> {
    let invoice_id = entry.invoice.id.as_str();
    let old = old.ok_or_else(|| item_not_found(invoice_id, item_id.as_str()))?;
    ensure_version(old, if_match)?;
    draft_only(&entry.invoice)?;
    let item = replacement(&entry.invoice, old, input, now)?;
    let changes = EventChanges {
        items_updated: vec![item.id.clone()],
        ..EventChanges::default()
    };
    Ok(price_on(entry, item, Some(old), changes, now))
}

/// Prices `item` (replacing `old`, if any) on the invoice, moving its totals and revision;
/// the item and the change's event.
fn price_on(
    entry: &mut Locked,
    mut item: InvoiceItem,
    old: Option<&InvoiceItem>,
    mut changes: EventChanges,
    now: DateTime<Utc>,
) -> (InvoiceItem, InvoiceEvent) {
    item.period_start_time = item.period_start_time.map(to_microseconds);
    item.period_end_time = item.period_end_time.map(to_microseconds);
    item.extras.date = item.extras.date.map(to_microseconds);
    let invoice = &mut entry.invoice;
    let totals = price_independent_item(invoice, &mut item, old);
    if totals != invoice.totals {
        changes.fields.push(InvoiceField::Totals);
    }
    invoice.totals = totals;
    invoice.revision += 1;
    invoice.updated_time = now;
    entry.changed = true;
    let event = InvoiceEvent {
        id: EventId::generate(),
        invoice_id: invoice.id.clone(),
        event_type: EventType::InvoiceModified,
        revision: invoice.revision,
        changes,
        message: None,
        occurred_time: now,
    };
    (item, event)
}

/// A time cut to the microsecond, all PostgreSQL keeps: the answers say what a read returns.
fn to_microseconds(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(time)
}
