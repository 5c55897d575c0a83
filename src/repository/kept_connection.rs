//! Connections kept from one read to the next.
//!
//! The pool checks a connection with a round trip as it hands it out, and again as it takes it
//! back: a read of one statement outside a transaction (an item, a page of items, an invoice)
//! would pay three round trips for its own one. So the connection a read ends on is kept, not
//! given back, and the next read takes it: the pool checks it once as it hands it out, and
//! once as it takes it back, when reads stop for [`KEEP_IDLE`] or after [`KEEP_LONGEST`].
//!
//! A connection is kept only after a statement that ended: one whose statement failed or was
//! given up half way may be in any state, and goes back to the pool, whose check makes it good
//! or closes it. A read that fails on a kept connection as on a lost one (its socket, or
//! PostgreSQL ending its backend) runs once more on a connection from the pool.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::Postgres;

/// The longest a connection is kept before it goes back to the pool, for the pool's own rules
/// (its lifetime, its queue) to see it again.
pub const KEEP_LONGEST: Duration = Duration::from_secs(10);

/// How long a connection is kept once no read takes it: under a stream of reads the next comes
/// within a millisecond; once they stop, the connections go back to the pool for the rest of
/// the server.
pub const KEEP_IDLE: Duration = Duration::from_millis(50);

/// The connections kept for reads, newest last, with what they did.
#[derive(Debug)]
pub(super) struct KeptConnections {
    state: Mutex<Kept>,
    /// The most kept at once.
    most: usize,
    /// How long one is kept once no read takes it.
    idle: Duration,
    /// Reads that found their kept connection lost, and ran again on one from the pool.
    lost: AtomicU64,
    /// How many callers wait for a connection of the pool.
    waiting: AtomicUsize,
}

#[derive(Debug, Default)]
struct Kept {
    connections: Vec<KeptConnection>,
    /// Whether a task gives back the connections left idle: one runs while any is kept.
    sweeping: bool,
}

/// A connection of the pool, with when it came from the pool and when a read last ended on it.
#[derive(Debug)]
pub(super) struct KeptConnection {
    pub(super) connection: PoolConnection<Postgres>,
    pub(super) since: Instant,
    used: Instant,
}

impl KeptConnections {
    /// At most `most` connections, each kept for `idle` once no read takes it.
    pub(super) fn new(most: usize, idle: Duration) -> Self {
        Self {
            state: Mutex::default(),
            most,
            idle,
            lost: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Whether any connection is kept at all.
    pub(super) fn keeps_any(&self) -> bool {
        self.most > 0
    }

    /// The same, each kept for `idle` once no read takes it.
    pub(super) fn kept_for(&self, idle: Duration) -> Self {
        Self::new(self.most, idle)
    }

    /// The newest connection kept, taken out: it is kept again only by [`Self::keep`]. Those
    /// kept for [`KEEP_LONGEST`] go back to the pool instead.
    pub(super) fn take(&self) -> Option<KeptConnection> {
        let mut kept = self.kept();
        kept.connections
            .retain(|kept| kept.since.elapsed() < KEEP_LONGEST);
        kept.connections.pop()
    }

    /// Counts a caller waiting for a connection of the pool until the guard is dropped (see
    /// [`Self::keep`]).
    pub(super) fn waiting_for_pool(&self) -> WaitingForPool<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        WaitingForPool(&self.waiting)
    }

    /// Keeps `connection`, on which a read has just ended, taken from the pool at `since`;
    /// gives it back to the pool when as many are kept as may be, or when anyone waits for a
    /// connection of the pool that has none idle: the pool hands it to them in the order they
    /// came. (Kept, reads waiting for the pool would wait while it lay idle, and a write would
    /// wait behind reads that came after it.)
    pub(super) fn keep(
        self: &Arc<Self>,
        connection: PoolConnection<Postgres>,
        since: Instant,
        pool_has_idle: bool,
    ) {
        let pool_waited_for = !pool_has_idle && self.waiting.load(Ordering::Relaxed) > 0;
        if pool_waited_for || since.elapsed() >= KEEP_LONGEST {
            return;
        }
        let mut kept = self.kept();
        if kept.connections.len() >= self.most {
            return;
        }
        kept.connections.push(KeptConnection {
            connection,
            since,
            used: Instant::now(),
        });
        let start_sweeping = !std::mem::replace(&mut kept.sweeping, true);
        drop(kept);
        if start_sweeping {
            tokio::spawn(Arc::clone(self).give_back_idle());
        }
    }

    /// Gives back to the pool, every [`KEEP_IDLE`], the connections no read took since; ends
    /// once none is kept. Ended otherwise (its runtime stopping), it lets the next connection
    /// kept start another.
    async fn give_back_idle(self: Arc<Self>) {
        struct Sweeping<'a>(&'a KeptConnections);
        impl Drop for Sweeping<'_> {
            fn drop(&mut self) {
                self.0.kept().sweeping = false;
            }
        }
        let _sweeping = Sweeping(&self);
        loop {
            tokio::time::sleep(self.idle).await;
            let mut kept = self.kept();
            kept.connections.retain(|kept| {
                kept.used.elapsed() < self.idle && kept.since.elapsed() < KEEP_LONGEST
            });
            if kept.connections.is_empty() {
                return;
            }
        }
    }

    /// Gives a kept connection back to the pool, for a caller that waits for one of the pool
    /// when it has none idle (see [`Self::keep`]).
    pub(super) fn give_one_back(&self) {
        drop(self.take());
    }

    /// Notes that a read failed on a kept connection as on a lost one.
    pub(super) fn found_lost(&self) {
        self.lost.fetch_add(1, Ordering::Relaxed);
    }

    /// How many reads found their kept connection lost, and ran again on one from the pool.
    pub(super) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// How many callers wait for a connection of the pool.
    pub(super) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// How many connections are kept, not reading.
    pub(super) fn count(&self) -> usize {
        self.kept().connections.len()
    }

    /// The kept connections. Nothing that panics runs while they are locked; were it to, they
    /// would still be there, whole.
    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A caller counted as waiting for a connection of the pool, until dropped.
pub(super) struct WaitingForPool<'a>(&'a AtomicUsize);

impl Drop for WaitingForPool<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether `error` is one of a connection lost: its socket failed, or PostgreSQL ended the
/// session (SQLSTATE classes 08, connection exception, and 57P, operator intervention).
pub(super) fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}
