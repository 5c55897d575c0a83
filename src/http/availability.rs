//! While the database is known to be unreachable, requests that need it are answered 503 at
//! once, rather than each waiting `DATABASE_ACQUIRE_TIMEOUT_SECS` for a connection that will
//! not come. A probe tries the database every [`PROBE_INTERVAL`] and lifts the state as soon
//! as it accepts a connection again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;

use super::failure::{DatabaseUnreachable, Rejection};
use crate::repository::Db;

/// How often the probe tries the database while it is unreachable.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How long one check or probe waits for a connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The routes that answer without the database: they are served during an outage.
const SERVED_WITHOUT_DATABASE: [&str; 2] = ["/metrics", "/openapi.json"];

/// Whether the database was found unreachable and not yet reached again.
#[derive(Debug, Default)]
pub struct DatabaseStatus {
    unreachable: AtomicBool,
    /// A check or a probe is running.
    checking: AtomicBool,
}

impl DatabaseStatus {
    /// Whether requests that need the database should be answered 503 at once.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Acquire)
    }

    /// An answer found the database unreachable. A pool whose connections are all busy
    /// answers the same way, so the database is first asked for a connection of its own:
    /// only when it refuses is it marked unreachable, and probed until it accepts again.
    fn suspect(self: &Arc<Self>, db: &Db) {
        if self.checking.swap(true, Ordering::AcqRel) {
            return;
        }
        let status = Arc::clone(self);
        let db = db.clone();
        tokio::spawn(async move {
            if !db.accepts_connections(PROBE_TIMEOUT).await {
                status.unreachable.store(true, Ordering::Release);
                tracing::warn!(
                    "the database is unreachable: answering 503 at once until it answers"
                );
                loop {
                    tokio::time::sleep(PROBE_INTERVAL).await;
                    if db.accepts_connections(PROBE_TIMEOUT).await {
                        break;
                    }
                }
                status.unreachable.store(false, Ordering::Release);
                tracing::info!("the database answers again");
            }
            status.checking.store(false, Ordering::Release);
        });
    }
}

/// The fast 503 while the database is unreachable, for a route that needs it.
pub fn refusal(database: &DatabaseStatus, request: &Request) -> Option<Rejection> {
    let needs_database = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| {
            let path = path.as_str();
            !SERVED_WITHOUT_DATABASE.contains(&path) && !path.starts_with("/docs")
        });
    (needs_database && database.is_unreachable()).then_some(Rejection::DatabaseUnreachable)
}

/// The watch on answers: one that found the database unreachable has it checked.
pub fn watch(database: &Arc<DatabaseStatus>, db: &Db, response: &Response) {
    if response.extensions().get::<DatabaseUnreachable>().is_some() {
        database.suspect(db);
    }
}
