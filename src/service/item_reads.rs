//! Item reads coalesced: the reads that arrive while the readers are busy share one statement.
//!
//! A read is queued; a reader takes every read queued so far (at most [`MAX_BATCH`]) and looks
//! them all up in one statement per organization (`id = any($2)`). A few readers run at once,
//! so a lone read never waits for a batch: it finds a reader free and goes at once. Under load
//! the reads that queue while every reader is busy go together in the next free one, which
//! spends one round trip and one plan where each would have spent its own.
//!
//! A batch's statement starts after every read in it was queued, so a read sees every change
//! committed before it was made, as a read of its own would.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::{Semaphore, mpsc, oneshot};

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

/// The item readers, started on first use.
#[derive(Debug)]
pub struct ItemReads {
    db: Db,
    readers: usize,
    queue: OnceLock<mpsc::Sender<Wanted>>,
    /// How many batches the readers have taken.
    batches: Arc<AtomicU64>,
}

#[derive(Debug)]
struct Wanted {
    organization_id: OrganizationId,
    item_id: InvoiceItemId,
    answer: oneshot::Sender<Found>,
}

/// What a batch found for one read.
#[derive(Debug)]
enum Found {
    /// The item, or none of the organization has this id.
    Read(Box<Option<InvoiceItem>>),
    /// The batch failed: the read is done alone, for its own error.
    Alone,
}

impl ItemReads {
    /// Readers over `db`: one for every three of its pooled connections, from one to four, as
    /// many as the write lanes, so that the rest of the pool stays for everything else.
    pub fn new(db: Db, max_connections: u32) -> Self {
        Self {
            db,
            readers: usize::try_from(max_connections / 3)
                .unwrap_or(1)
                .clamp(1, 4),
            queue: OnceLock::new(),
            batches: Arc::default(),
        }
    }

    /// How many batches the readers have taken so far, each read in one statement per
    /// organization in it.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
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
        if self.queue().send(wanted).await.is_ok()
            && let Ok(Found::Read(item)) = found.await
        {
            return Ok(*item);
        }
        // No reader (the runtime is ending), or the batch failed or panicked.
        Ok(self.db.find_item_by_id(organization_id, item_id).await?)
    }

    fn queue(&self) -> &mpsc::Sender<Wanted> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let readers = Readers {
                db: self.db.clone(),
                free: Arc::new(Semaphore::new(self.readers)),
                batches: Arc::clone(&self.batches),
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
    batches: Arc<AtomicU64>,
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
        readers.batches.fetch_add(1, Ordering::Relaxed);
        let db = readers.db.clone();
        tokio::spawn(async move {
            read_batch(&db, batch).await;
            drop(reader);
        });
    }
}

/// Reads a batch, one statement per organization in it, and answers each read.
async fn read_batch(db: &Db, mut batch: Vec<Wanted>) {
    batch.retain(|wanted| !wanted.answer.is_closed());
    metrics::histogram!(READ_BATCH_SIZE_METRIC).record(batch.len() as f64);
    let mut by_organization: HashMap<OrganizationId, Vec<Wanted>> = HashMap::new();
    for wanted in batch {
        by_organization
            .entry(wanted.organization_id.clone())
            .or_default()
            .push(wanted);
    }
    for (organization_id, wanted) in by_organization {
        let mut ids: Vec<String> = wanted
            .iter()
            .map(|one| one.item_id.as_str().to_owned())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let items = match db.items_by_ids(&organization_id, &ids).await {
            Ok(items) => items,
            Err(error) => {
                tracing::warn!(%error, reads = wanted.len(), "an item read batch failed; each read runs alone");
                for one in wanted {
                    let _ = one.answer.send(Found::Alone);
                }
                continue;
            }
        };
        let items: HashMap<&str, &InvoiceItem> =
            items.iter().map(|item| (item.id.as_str(), item)).collect();
        for one in wanted {
            let item = items.get(one.item_id.as_str()).map(|&item| item.clone());
            let _ = one.answer.send(Found::Read(Box::new(item)));
        }
    }
}
