//! Item writes coalesced: concurrent writes share one transaction and a few statements.
//!
//! A write goes to its invoice's lane. A lane takes every write that queued while its last
//! batch ran (at most [`MAX_BATCH`]) and does them in one transaction, on the one write path
//! ([`super::item_writes`]): each is checked and priced in turn on its invoice as the writes
//! before it left it (the same 404, 409, 412 and 422 as when it runs alone, in the same
//! order). Each caller hears its own outcome, a stored item only after the commit that made it
//! durable.
//!
//! A batch locks only the invoices no other transaction holds, and never waits for a lock. A
//! write whose invoice is locked elsewhere or does not exist, or whose batch failed, runs
//! alone (a batch of one that waits for its invoice's lock): one busy invoice never holds up
//! the other invoices of its lane. An invoice is always on the same lane, so that its
//! concurrent writes meet in one batch.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::item_writes::{
    Applied, ItemWrite, KeepBudget, KeptItems, Locking, MAX_KEPT_BYTES, Targeted, write_item,
    write_items,
};
use crate::domain::event::Cause;
use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice_item::InvoiceItem;
use crate::error::ApiError;
use crate::repository::{Db, Tx};

/// The most writes one batch takes.
pub const MAX_BATCH: usize = 64;

/// How many writes may wait for a lane before their callers wait to queue.
const LANE_QUEUE: usize = 1024;

/// How long a lane keeps the items its batches left once it has nothing to do. Under a stream
/// of writes the next batch comes within milliseconds; once the writes stop, the memory is
/// given back before the reads that often follow (the invoice's own, of thousands of items).
const KEEP_IDLE: Duration = Duration::from_millis(50);

/// The longest a lane waits for more writes after a batch (see [`LastBatch::gather`]).
const MAX_GATHER: Duration = Duration::from_millis(5);

/// The metric of the writes each batch took.
pub const BATCH_SIZE_METRIC: &str = "item_write_batch_size";

/// The lanes of item writes, started on first use.
#[derive(Debug)]
pub struct ItemLanes {
    db: Db,
    lanes: usize,
    /// What the lanes' kept items may hold together.
    budget: KeepBudget,
    senders: OnceLock<Vec<mpsc::Sender<Queued>>>,
}

#[derive(Debug)]
struct Queued {
    organization_id: OrganizationId,
    invoice_id: InvoiceId,
    write: ItemWrite,
    /// The request it was made for: the batch's transaction is no one request's.
    cause: Cause,
    answer: oneshot::Sender<Outcome>,
}

/// What became of a queued write.
#[derive(Debug)]
enum Outcome {
    /// Stored and committed, or refused.
    Done(Box<Result<InvoiceItem, ApiError>>),
    /// Not done: to run alone, handed back.
    Alone(Box<ItemWrite>),
}

/// How many lanes (and as many item readers) a pool of `max_connections` gets: one for every
/// three connections, from one to four, so that the rest of the pool stays for the other
/// reads and for the writes that run alone.
pub(super) fn lanes_for_pool(max_connections: u32) -> usize {
    usize::try_from(max_connections / 3)
        .unwrap_or(1)
        .clamp(1, 4)
}

impl ItemLanes {
    /// Lanes over `db` (see [`lanes_for_pool`]).
    pub fn new(db: Db, max_connections: u32) -> Self {
        Self {
            db,
            lanes: lanes_for_pool(max_connections),
            budget: KeepBudget::new(MAX_KEPT_BYTES),
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

    /// The bytes of items the lanes keep between batches.
    pub fn kept_bytes(&self) -> usize {
        self.budget.held()
    }

    /// Does an item write: in `tx` when the caller has one (a write whose answer is kept with
    /// it), else on its invoice's lane, in a batch with the writes queued beside it (see the
    /// module's notes), with the same outcome as alone. This is where a write is coalesced or
    /// not, whichever dialect it came from.
    #[tracing::instrument(skip_all)]
    pub async fn write(
        &self,
        tx: Option<&mut Tx>,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        write: ItemWrite,
    ) -> Result<InvoiceItem, ApiError> {
        match tx {
            // Boxed, as the write alone below: a write's own future is about as large as all
            // else a request holds, which the queued writes would otherwise carry too.
            Some(tx) => Box::pin(write_item(tx, organization_id, invoice_id, &write)).await,
            None => self.coalesced(organization_id, invoice_id, write).await,
        }
    }

    /// Queues a write on its invoice's lane, starting the lanes on first use, and waits for
    /// its outcome. A write the lane hands back, or that finds no lane (the runtime is
    /// ending), runs alone.
    async fn coalesced(
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
            cause: Cause::current(),
            answer,
        };
        let write = match self.lane(organization_id, invoice_id).send(queued).await {
            Ok(()) => match outcome.await {
                Ok(Outcome::Done(done)) => return *done,
                Ok(Outcome::Alone(write)) => *write,
                // Never heard: the lane stopped (the runtime is ending).
                Err(_) => {
                    return Err(ApiError::Internal("the write's batch was lost".into()));
                }
            },
            Err(mpsc::error::SendError(queued)) => queued.write,
        };
        Box::pin(self.alone(organization_id, invoice_id, &write)).await
    }

    /// Does a write in a transaction of its own.
    async fn alone(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        write: &ItemWrite,
    ) -> Result<InvoiceItem, ApiError> {
        let mut tx = self.db.begin_by_keys().await?;
        match write_item(&mut tx, organization_id, invoice_id, write).await {
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
                    let kept = KeptItems::within(self.budget.clone());
                    tokio::spawn(run_lane(self.db.clone(), receiver, kept));
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

/// Runs a lane's batches as its writes queue. The items its last batch left on invoices whose
/// items move together are kept in `kept` for its next batch, until it has had nothing to do
/// for [`KEEP_IDLE`].
async fn run_lane(db: Db, mut queue: mpsc::Receiver<Queued>, mut kept: KeptItems) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last: Option<LastBatch> = None;
    loop {
        let received = if kept.is_empty() {
            queue.recv_many(&mut batch, MAX_BATCH).await
        } else {
            // `recv_many` is cancel safe: a timeout loses no write.
            match tokio::time::timeout(KEEP_IDLE, queue.recv_many(&mut batch, MAX_BATCH)).await {
                Ok(received) => received,
                Err(_) => {
                    kept.forget();
                    continue;
                }
            }
        };
        if received == 0 {
            return;
        }
        if let Some(last) = last.take().filter(|_| kept.priced_together()) {
            last.gather(&mut queue, &mut batch).await;
        }
        let writes = batch.len();
        let began = Instant::now();
        run_batch(&db, &mut batch, &mut kept).await;
        last = Some(LastBatch {
            writes,
            took: began.elapsed(),
            ended: Instant::now(),
        });
    }
}

/// A lane's last batch: how many writes it did and how long it took.
#[derive(Debug, Clone, Copy)]
struct LastBatch {
    writes: usize,
    took: Duration,
    ended: Instant,
}

impl LastBatch {
    /// Waits a little for the writes of the callers this batch answered, after a batch on an
    /// invoice whose items move together (with discounts, or under VAT): such a batch prices every
    /// item of the invoice and may store thousands of them, whatever its size, so two batches
    /// of half the writes cost about twice one of them all. Callers that write again at once
    /// would otherwise split into a large batch and a small one that runs first. The wait
    /// ends as soon as as many writes as the last batch's have queued, and at the latest a
    /// quarter of the last batch's time after it ended (at most [`MAX_GATHER`]): a caller
    /// writing alone, one write after another, never waits, nor does a write that comes later.
    async fn gather(self, queue: &mut mpsc::Receiver<Queued>, batch: &mut Vec<Queued>) {
        let until = self.ended + (self.took / 4).min(MAX_GATHER);
        while batch.len() < self.writes.min(MAX_BATCH) {
            let room = MAX_BATCH - batch.len();
            match tokio::time::timeout_at(until, queue.recv_many(batch, room)).await {
                Ok(received) if received > 0 => {}
                // The wait is over, or the lanes are closing: what is there goes.
                _ => return,
            }
        }
    }
}

/// Does a batch and answers its callers. A caller that stopped waiting (its client left, its
/// time ran out) has nothing done, as with a request given up before its transaction began:
/// one gone while the batch worked has the batch rolled back and done again without it (each
/// round leaves out at least one), up to the commit.
async fn run_batch(db: &Db, batch: &mut Vec<Queued>, kept: &mut KeptItems) {
    loop {
        batch.retain(|queued: &Queued| !queued.answer.is_closed());
        if batch.is_empty() {
            return;
        }
        metrics::histogram!(BATCH_SIZE_METRIC).record(batch.len() as f64);
        // A panic in a batch's work fails that batch alone, whose writes then run alone (where
        // a panic costs one request its answer), and the lane goes on.
        let prepared = AssertUnwindSafe(write_batch(db, batch, kept))
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
                kept.not_committed();
                for queued in batch.drain(..) {
                    let _ = queued.answer.send(Outcome::Alone(Box::new(queued.write)));
                }
                return;
            }
        };
        if tx.is_some() && batch.iter().any(|queued| queued.answer.is_closed()) {
            if let Some(tx) = tx {
                // A failed rollback is the pool's to clean up; the batch is done again anyway.
                let _ = tx.rollback().await;
            }
            continue;
        }
        let committed = match tx {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        };
        match committed {
            Ok(()) => kept.committed(),
            Err(_) => kept.not_committed(),
        }
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
        return;
    }
}

/// Does a batch's work in one transaction, up to its commit; the transaction (none when it
/// wrote nothing) and the outcome of each write, in order, which stands once it commits.
/// Nothing is written when it fails.
async fn write_batch(
    db: &Db,
    batch: &[Queued],
    kept: &mut KeptItems,
) -> Result<(Option<Tx>, Vec<Outcome>), ApiError> {
    let mut tx = db.begin_by_keys().await?;
    let targets: Vec<Targeted<'_>> = batch
        .iter()
        .map(|queued| Targeted {
            organization_id: &queued.organization_id,
            invoice_id: &queued.invoice_id,
            write: &queued.write,
            cause: Some(&queued.cause),
        })
        .collect();
    let applied = write_items(&mut tx, &targets, Locking::SkipHeld, kept).await?;
    let mut wrote = false;
    let outcomes = batch
        .iter()
        .zip(applied)
        .map(|(queued, applied)| match applied {
            Applied::Done(done) => {
                wrote |= done.is_ok();
                Outcome::Done(done)
            }
            Applied::Elsewhere => Outcome::Alone(Box::new(queued.write.clone())),
        })
        .collect();
    if !wrote {
        kept.not_committed();
        let _ = tx.rollback().await;
        return Ok((None, outcomes));
    }
    Ok((Some(tx), outcomes))
}

#[cfg(test)]
mod tests;
