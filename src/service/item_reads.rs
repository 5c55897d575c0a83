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
//! A batch runs on a connection kept from an earlier read while reads keep coming (see
//! [`Db::items_by_keys`]), which spares it the pool's checks of a connection.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::future::join_all;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::item_batches::lanes_for_pool;
use crate::domain::ids::{InvoiceItemId, OrganizationId};
use crate::domain::invoice_item::InvoiceItem;
use crate::error::ApiError;
use crate::repository::Db;

/// The most reads one statement takes.
pub const MAX_BATCH: usize = 64;

/// How many reads may wait before their callers wait to queue.
const QUEUE: usize = 1024;

/// The metric of the reads each statement took.
pub const READ_BATCH_SIZE_METRIC: &str = "item_read_batch_size";

/// The metric of the reads done alone.
pub const READS_ALONE_METRIC: &str = "item_reads_alone_total";

/// The item readers, started on first use.
#[derive(Debug)]
pub struct ItemReads {
    db: Db,
    readers: usize,
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
    pub fn new(db: Db, max_connections: u32) -> Self {
        Self {
            db,
            readers: lanes_for_pool(max_connections),
            queue: OnceLock::new(),
            counts: Arc::default(),
        }
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
                free: Arc::new(Semaphore::new(self.readers)),
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
    /// One permit for each reader not reading.
    free: Arc<Semaphore>,
    counts: Arc<Counts>,
}

/// Hands the queued reads to the readers: whenever one is free, everything queued so far.
async fn dispatch(readers: Readers, mut queue: mpsc::Receiver<Wanted>) {
    loop {
        let Ok(reader) = Arc::clone(&readers.free).acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let db = readers.db.clone();
        let counts = Arc::clone(&readers.counts);
        tokio::spawn(async move {
            read_batch(&db, &counts, batch).await;
            drop(reader);
        });
    }
}

/// Reads a batch in one statement and answers each read. The statement is given up once every
/// read in it has gone (its client left, its time ran out), as each read's own would be.
async fn read_batch(db: &Db, counts: &Counts, mut batch: Vec<Wanted>) {
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
            read = db.items_by_keys(&keys) => read,
            _ = everyone_gone => return,
        }
    };
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
