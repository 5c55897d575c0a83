//! Item reads coalesced: the reads that arrive while the readers are busy share one statement.
//!
//! A read is queued; a reader takes every read queued so far (at most [`MAX_BATCH`]) and looks
//! them all up in one statement, whatever their organizations. A few readers run at once,
//! so a lone read never waits for a batch: it finds a reader free and goes at once. Under load
//! the reads that queue while every reader is busy go together in the next free one, which
//! spends one round trip and one plan where each would have spent its own.
//!
//! A batch's statement starts after every read in it was queued, so a read sees every change
//! committed before it was made, as a read of its own would.
//!
//! The readers keep their connections from one batch to the next while reads keep coming (see
//! [`KeptConnection`]), and give them back to the pool once none has come for [`KEEP_IDLE`]
//! (and each at least every [`KEEP_LONGEST`](crate::repository::KEEP_LONGEST)). A pool too
//! small to spare a connection for each reader beside the rest of the server has none kept.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::item_batches::lanes_for_pool;
use crate::domain::ids::{InvoiceItemId, OrganizationId};
use crate::domain::invoice_item::InvoiceItem;
use crate::error::ApiError;
use crate::repository::{Db, KeptConnection};

/// The most reads one statement takes.
pub const MAX_BATCH: usize = 64;

/// How many reads may wait before their callers wait to queue.
const QUEUE: usize = 1024;

/// How long the readers keep their connections once no read comes: under a stream of reads the
/// next comes within a millisecond; once they stop, the connections go back to the pool for
/// the rest of the server.
pub const KEEP_IDLE: Duration = Duration::from_millis(50);

/// The metric of the reads each statement took.
pub const READ_BATCH_SIZE_METRIC: &str = "item_read_batch_size";

/// The metric of the reads done alone.
pub const READS_ALONE_METRIC: &str = "item_reads_alone_total";

/// The metric of the batches whose reader found its kept connection lost.
pub const KEPT_CONNECTIONS_LOST_METRIC: &str = "item_reader_connections_lost_total";

/// The item readers, started on first use.
#[derive(Debug)]
pub struct ItemReads {
    db: Db,
    readers: usize,
    /// How long the readers keep their connections once no read comes; none when the pool
    /// cannot spare them.
    keep_idle: Option<Duration>,
    queue: OnceLock<mpsc::Sender<Wanted>>,
    counts: Arc<Counts>,
}

/// What the readers have done since they started.
#[derive(Debug, Default)]
struct Counts {
    /// Statements sent, each for one batch.
    statements: AtomicU64,
    /// Reads done alone, outside a batch.
    alone: AtomicU64,
    /// Batches whose reader's kept connection was found lost, read again on one from the pool.
    lost: AtomicU64,
}

#[derive(Debug)]
struct Wanted {
    organization_id: OrganizationId,
    item_id: InvoiceItemId,
    answer: oneshot::Sender<Found>,
}

/// What a batch found for one read.
#[derive(Debug, Clone)]
enum Found {
    /// The item, or none of the organization has this id.
    Read(Box<Option<InvoiceItem>>),
    /// The database could not be reached, for this reason.
    Unavailable(String),
    /// The batch failed otherwise: the read is done alone, for its own answer.
    Alone,
}

impl ItemReads {
    /// Readers over `db`, as many as the write lanes ([`lanes_for_pool`]).
    /// They keep their connections between batches (see the module's notes) when the pool
    /// has at least three for each reader (at least three in all, as there is a reader for
    /// every three connections).
    pub fn new(db: Db, max_connections: u32) -> Self {
        let readers = lanes_for_pool(max_connections);
        let spare = usize::try_from(max_connections).unwrap_or(usize::MAX) >= 3 * readers;
        Self {
            db,
            readers,
            keep_idle: spare.then_some(KEEP_IDLE),
            queue: OnceLock::new(),
            counts: Arc::default(),
        }
    }

    /// The same readers, keeping their connections for `idle` once no read comes, where they
    /// keep them at all (before their first read).
    pub fn keeping_connections_for(self, idle: Duration) -> Self {
        Self {
            keep_idle: self.keep_idle.map(|_| idle),
            ..self
        }
    }

    /// How many batches found their reader's kept connection lost, and were read on one from
    /// the pool.
    pub fn kept_connections_lost(&self) -> u64 {
        self.counts.lost.load(Ordering::Relaxed)
    }

    /// How many statements the readers have sent, each for one batch of reads.
    pub fn statements(&self) -> u64 {
        self.counts.statements.load(Ordering::Relaxed)
    }

    /// How many reads were done alone: those of a batch that failed other than by the database
    /// being unreachable, or that found no reader.
    pub fn reads_alone(&self) -> u64 {
        self.counts.alone.load(Ordering::Relaxed)
    }

    /// The organization's item of this id, whatever its invoice, read in a batch with the reads
    /// queued beside it (see the module's notes).
    #[tracing::instrument(skip_all)]
    pub async fn item(
        &self,
        organization_id: &OrganizationId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<InvoiceItem>, ApiError> {
        let (answer, found) = oneshot::channel();
        let wanted = Wanted {
            organization_id: organization_id.clone(),
            item_id: item_id.clone(),
            answer,
        };
        if self.queue().send(wanted).await.is_ok() {
            match found.await {
                Ok(Found::Read(item)) => return Ok(*item),
                Ok(Found::Unavailable(reason)) => {
                    return Err(sqlx::Error::Io(io::Error::other(reason)).into());
                }
                // The batch failed for another reason, or panicked.
                Ok(Found::Alone) | Err(_) => {}
            }
        }
        // Done alone, also when there is no reader (the runtime is ending).
        self.counts.alone.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(READS_ALONE_METRIC).increment(1);
        Ok(self.db.find_item_by_id(organization_id, item_id).await?)
    }

    fn queue(&self) -> &mpsc::Sender<Wanted> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let readers = Readers {
                db: self.db.clone(),
                count: self.readers,
                keep_idle: self.keep_idle,
                free: Arc::new(Semaphore::new(self.readers)),
                kept: Arc::default(),
                counts: Arc::clone(&self.counts),
            };
            tokio::spawn(dispatch(readers, receiver));
            sender
        })
    }
}

/// What the dispatcher hands batches to.
struct Readers {
    db: Db,
    /// How many readers there are.
    count: usize,
    /// How long connections are kept once no read comes; none, when none is kept.
    keep_idle: Option<Duration>,
    /// One permit for each reader not reading.
    free: Arc<Semaphore>,
    /// The connections of the readers not reading, each with when its last batch ended.
    kept: Arc<Mutex<Vec<(KeptConnection, Instant)>>>,
    counts: Arc<Counts>,
}

impl Readers {
    /// Waits for reads and takes everything queued so far into `batch`; once none has come
    /// for [`KEEP_IDLE`] and no other reader reads, the kept connections go back to the pool
    /// and the wait goes on without a limit.
    async fn receive(&self, queue: &mut mpsc::Receiver<Wanted>, batch: &mut Vec<Wanted>) -> usize {
        let Some(keep_idle) = self.keep_idle else {
            return queue.recv_many(batch, MAX_BATCH).await;
        };
        loop {
            // The caller holds one permit; the others are the other readers'.
            let others_idle = self.free.available_permits() + 1 == self.count;
            if self.kept().is_empty() && others_idle {
                return queue.recv_many(batch, MAX_BATCH).await;
            }
            // `recv_many` is cancel safe: a timeout loses no read.
            match tokio::time::timeout(keep_idle, queue.recv_many(batch, MAX_BATCH)).await {
                Ok(received) => return received,
                // Dropped, the connections go back to the pool.
                Err(_) => self.kept().clear(),
            }
        }
    }

    /// The kept connections. Nothing panics while they are locked; were it to, they would
    /// still be there, whole.
    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<(KeptConnection, Instant)>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A reader's connection, kept from its last batch (empty when none is): the newest.
    /// Those unused for [`KEEP_IDLE`] go back to the pool, so that a trickle of reads keeps no
    /// more connections than it uses.
    fn take_connection(&self) -> KeptConnection {
        let Some(keep_idle) = self.keep_idle else {
            return KeptConnection::default();
        };
        let mut kept = self.kept();
        kept.retain(|(_, since)| since.elapsed() < keep_idle);
        kept.pop()
            .map(|(connection, _)| connection)
            .unwrap_or_default()
    }
}

/// Hands the queued reads to the readers: whenever one is free, everything queued so far.
async fn dispatch(readers: Readers, mut queue: mpsc::Receiver<Wanted>) {
    loop {
        let Ok(reader) = Arc::clone(&readers.free).acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if readers.receive(&mut queue, &mut batch).await == 0 {
            return;
        }
        let db = readers.db.clone();
        let counts = Arc::clone(&readers.counts);
        let mut connection = readers.take_connection();
        let kept = readers.keep_idle.map(|_| Arc::clone(&readers.kept));
        tokio::spawn(async move {
            read_batch(&db, &counts, &mut connection, batch).await;
            // Kept before the reader is free again: a dispatcher that finds every reader free
            // finds every connection kept.
            if let Some(kept) = kept
                && connection.holds_one()
            {
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((connection, Instant::now()));
            }
            drop(reader);
        });
    }
}

/// Reads a batch in one statement and answers each read. The statement is given up once every
/// read in it has gone (its client left, its time ran out), as each read's own would be.
async fn read_batch(
    db: &Db,
    counts: &Counts,
    connection: &mut KeptConnection,
    mut batch: Vec<Wanted>,
) {
    batch.retain(|wanted| !wanted.answer.is_closed());
    if batch.is_empty() {
        return;
    }
    metrics::histogram!(READ_BATCH_SIZE_METRIC).record(batch.len() as f64);
    let mut keys: Vec<(OrganizationId, InvoiceItemId)> = batch
        .iter()
        .map(|wanted| (wanted.organization_id.clone(), wanted.item_id.clone()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    counts.statements.fetch_add(1, Ordering::Relaxed);
    let read = {
        let everyone_gone = join_all(batch.iter_mut().map(|wanted| wanted.answer.closed()));
        tokio::select! {
            read = db.items_by_keys(connection, &keys) => read,
            _ = everyone_gone => return,
        }
    };
    if connection.was_lost() {
        counts.lost.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(KEPT_CONNECTIONS_LOST_METRIC).increment(1);
    }
    let items = match read {
        Ok(items) => items,
        Err(error) => {
            let reason = error.to_string();
            // The database cannot be reached: each read hears so, rather than asking again
            // alone of a database that is already failing. Anything else (a row that cannot be
            // read) is left to each read alone, so that it fails only the read of that row.
            let found = match ApiError::from(error) {
                ApiError::Unavailable(_) => Found::Unavailable(reason.clone()),
                _ => Found::Alone,
            };
            tracing::warn!(error = %reason, reads = batch.len(), "an item read batch failed");
            for wanted in batch {
                let _ = wanted.answer.send(found.clone());
            }
            return;
        }
    };
    let items: HashMap<(&str, &str), &InvoiceItem> = items
        .iter()
        .map(|(organization_id, item)| ((organization_id.as_str(), item.id.as_str()), item))
        .collect();
    for wanted in batch {
        let key = (wanted.organization_id.as_str(), wanted.item_id.as_str());
        let item = items.get(&key).map(|&item| item.clone());
        let _ = wanted.answer.send(Found::Read(Box::new(item)));
    }
}
