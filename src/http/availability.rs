//! While the database is known to be unreachable, requests that need it are answered 503 at
//! once, rather than each waiting `DATABASE_ACQUIRE_TIMEOUT_SECS` for a connection that will
//! not come. A probe tries the database every [`PROBE_INTERVAL`] and lifts the state as soon
//! as it answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::{ApiError, DatabaseUnreachable};
use crate::repository::Db;

/// How often the probe tries the database while it is unreachable.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How long one probe waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The routes that answer without the database: they are served during an outage.
const SERVED_WITHOUT_DATABASE: [&str; 2] = ["/metrics", "/openapi.json"];

/// Whether the database was found unreachable and not yet reached again.
#[derive(Debug, Default)]
pub struct DatabaseStatus {
    unreachable: AtomicBool,
}

impl DatabaseStatus {
    /// Whether requests that need the database should be answered 503 at once.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Acquire)
    }

    /// Marks the database unreachable and, unless one is running, starts the probe that
    /// marks it reachable again.
    fn found_unreachable(self: &Arc<Self>, db: &Db) {
        if self.unreachable.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!("the database is unreachable: answering 503 at once until it answers");
        let status = Arc::clone(self);
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                if db.ping(PROBE_TIMEOUT).await.is_ok() {
                    status.unreachable.store(false, Ordering::Release);
                    tracing::info!("the database answers again");
                    return;
                }
            }
        });
    }
}

/// Middleware: the fast 503 while the database is unreachable, and the watch on answers that
/// found it so.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let needs_database = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| {
            let path = path.as_str();
            !SERVED_WITHOUT_DATABASE.contains(&path) && !path.starts_with("/docs")
        });
    if needs_database && state.database.is_unreachable() {
        return ApiError::DatabaseUnreachable.into_response();
    }
    let response = next.run(request).await;
    if response.extensions().get::<DatabaseUnreachable>().is_some() {
        state.database.found_unreachable(&state.db);
    }
    response
}
