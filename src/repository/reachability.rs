//! Telling a database that is away from a pool that is busy, quickly.
//!
//! Asked for a connection while PostgreSQL is stopped or cut off, the pool tries to open one
//! again and again until its acquire timeout (`DATABASE_ACQUIRE_TIMEOUT_SECS`, 5 s by default):
//! the first requests of an outage would each wait that long before their 503, and a write
//! whose batch failed so would wait once more alone. A wait for a connection that lasts past
//! [`PATIENCE`] instead asks PostgreSQL for a connection of its own; when it cannot be reached
//! (refused, cut off, or silent for [`PROBE_TIMEOUT`]), the wait ends at once with the pool's
//! own timeout error. A server that answers at all, even to refuse a connection (too many
//! clients, say), is there: a pool that is merely busy passes the probe, and its waiters wait
//! on as before. One probe at a time serves every waiter, its answer serves those that come
//! within [`FRESH`] of it, and it runs in a task of its own, so that a waiter that stops
//! waiting does not waste it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::OwnedMutexGuard;

/// How long a wait for a connection lasts before the database is asked whether it is there.
const PATIENCE: Duration = Duration::from_millis(250);
/// How long the database has to answer the probe's connection.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a probe's answer stands for the waiters that come after it.
const FRESH: Duration = Duration::from_secs(1);

/// The last word on whether the database can be reached, and the one probe asking it.
#[derive(Debug)]
pub(super) struct Reachability {
    /// Last probe: when it ended and whether the database answered.
    last: Mutex<Option<(Instant, bool)>>,
    /// Held by the probe under way; its waiters take its answer when it ends.
    probing: Arc<tokio::sync::Mutex<()>>,
}

impl Reachability {
    pub(super) fn new() -> Self {
        Self {
            last: Mutex::new(None),
            probing: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Runs `wait` (for a connection of the pool) until it ends or the database is found away,
    /// which is then the pool's timeout error: the same answer, sooner.
    pub(super) async fn wait_for<T>(
        self: &Arc<Self>,
        options: impl Fn() -> PgConnectOptions,
        wait: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let wait = std::pin::pin!(wait);
        let answer = tokio::select! {
            biased;
            answer = wait => answer,
            () = self.away(options) => Err(sqlx::Error::PoolTimedOut),
        };
        if answer.is_ok() {
            // A connection came: a probe that found the database away speaks of the past.
            let mut last = self.last.lock().expect("last probe");
            if matches!(*last, Some((_, false))) {
                *last = None;
            }
        }
        answer
    }

    /// Ends once the database is found away; never, while it is there (it is asked again
    /// whenever the last answer is stale). Just after a probe found it away, a wait is given
    /// less patience: the same outage is likely still on.
    async fn away(self: &Arc<Self>, options: impl Fn() -> PgConnectOptions) {
        let mut patience = if self.fresh() == Some(false) {
            PATIENCE / 5
        } else {
            PATIENCE
        };
        loop {
            tokio::time::sleep(patience).await;
            if !self.reachable(options()).await {
                return;
            }
            patience = FRESH;
        }
    }

    /// The last probe's answer, if it is recent enough to stand.
    fn fresh(&self) -> Option<bool> {
        let last = *self.last.lock().expect("last probe");
        last.filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, reachable)| reachable)
    }

    /// Whether the database can be reached: a recent answer, else the answer of the probe
    /// under way or of a new one.
    async fn reachable(self: &Arc<Self>, options: PgConnectOptions) -> bool {
        if let Some(reachable) = self.fresh() {
            return reachable;
        }
        if let Ok(probing) = Arc::clone(&self.probing).try_lock_owned() {
            self.start_probe(options, probing);
        }
        // The probe holds the lock until its answer is recorded.
        drop(self.probing.lock().await);
        // No answer to go by (a connection came since, say): the database is taken to be there.
        self.fresh().unwrap_or(true)
    }

    /// Probes in a task of its own, which records the answer before it lets go of `probing`.
    /// A function, not part of [`Reachability::reachable`]: a future holds room for everything
    /// it creates, and the probe's (a whole connection's handshake, about 9 kB) would make
    /// every wait for a connection, and every request's future around it, that much larger.
    fn start_probe(self: &Arc<Self>, options: PgConnectOptions, probing: OwnedMutexGuard<()>) {
        let reachability = Arc::clone(self);
        tokio::spawn(async move {
            let (reachable, connection) = probe(&options).await;
            *reachability.last.lock().expect("last probe") = Some((Instant::now(), reachable));
            drop(probing);
            if let Some(connection) = connection {
                let _ = connection.close().await;
            }
        });
    }
}

/// Opens a connection to see whether the database answers: a connection, or a refusal from
/// the server itself, means it is there; a refused or broken socket, or silence, that it is not.
async fn probe(options: &PgConnectOptions) -> (bool, Option<PgConnection>) {
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => (true, Some(connection)),
        Ok(Err(sqlx::Error::Database(_))) => (true, None),
        Ok(Err(_)) | Err(_) => (false, None),
    }
}
