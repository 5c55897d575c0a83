//! The application state every handler and layer may use.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use super::availability::DatabaseStatus;
use super::origins::AllowedOrigins;
use super::renders::Renders;
use crate::repository::Db;
use crate::service::api_keys::KeyResolver;
use crate::service::auth::JwtVerifier;
use crate::service::destinations::Destinations;
use crate::service::item_batches::ItemLanes;
use crate::service::item_reads::ItemReads;
use crate::service::rate_limit::RateLimiter;

/// The request timeout when `REQUEST_TIMEOUT_SECS` is not set.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler may use. Every request clones it for each layer it passes, so it is one
/// shared count: a clone of the parts themselves took several counts, each a cache line the
/// worker threads passed between them.
#[derive(Debug, Clone)]
pub struct AppState(Arc<StateParts>);

/// What the state holds.
#[derive(Debug, Clone)]
pub struct StateParts {
    /// The database.
    pub db: Db,
    /// API key lookups.
    pub keys: Arc<KeyResolver>,
    /// Bearer token checks, when `JWT_SECRET` is set.
    pub jwt: Option<Arc<JwtVerifier>>,
    /// The server's public base URL, without a trailing slash, for `Location` and `_links`.
    pub public_url: Arc<str>,
    /// How long a request may take before it is answered 503 and abandoned.
    pub request_timeout: Duration,
    /// Counts each organization's writes (429 past its limit).
    pub rate_limiter: Arc<RateLimiter>,
    /// The web origins whose pages may call the API (CORS); none by default.
    pub cors_origins: AllowedOrigins,
    /// Whether the database is known to be unreachable (requests then answer 503 at once).
    pub database: Arc<DatabaseStatus>,
    /// Which addresses a webhook's URL may reach (public ones only by default).
    pub webhook_destinations: Destinations,
    /// Item creates and replacements, coalesced into shared transactions.
    pub item_writes: Arc<ItemLanes>,
    /// Item reads by id, coalesced into shared statements.
    pub item_reads: Arc<ItemReads>,
    /// Documents rendering, and requests waiting to render one.
    pub renders: Arc<Renders>,
}

impl Deref for AppState {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.0
    }
}

impl AppState {
    /// State over a database, with bearer tokens enabled when a verifier is given.
    pub fn new(db: Db, jwt: Option<JwtVerifier>, public_url: &str) -> Self {
        Self(Arc::new(StateParts {
            keys: Arc::new(KeyResolver::new(db.clone())),
            item_writes: Arc::new(ItemLanes::new(db.clone(), db.max_connections())),
            item_reads: Arc::new(ItemReads::new(db.clone(), db.max_connections())),
            db,
            jwt: jwt.map(Arc::new),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limiter: Arc::new(RateLimiter::default()),
            cors_origins: AllowedOrigins::None,
            database: Arc::new(DatabaseStatus::default()),
            webhook_destinations: Destinations::PublicOnly,
            renders: Arc::new(Renders::default()),
        }))
    }

    /// The same state with `change` made to its parts.
    pub fn with(mut self, change: impl FnOnce(&mut StateParts)) -> Self {
        change(Arc::make_mut(&mut self.0));
        self
    }

    /// The same state letting webhooks reach these addresses.
    pub fn with_webhook_destinations(self, webhook_destinations: Destinations) -> Self {
        self.with(|parts| parts.webhook_destinations = webhook_destinations)
    }

    /// The same state with another request timeout.
    pub fn with_request_timeout(self, request_timeout: Duration) -> Self {
        self.with(|parts| parts.request_timeout = request_timeout)
    }

    /// The same state with another rate limiter (the default counts in process, 3000 writes
    /// per 600 seconds).
    pub fn with_rate_limiter(self, rate_limiter: Arc<RateLimiter>) -> Self {
        self.with(|parts| parts.rate_limiter = rate_limiter)
    }

    /// The same state admitting pages of other origins (CORS).
    pub fn with_cors_origins(self, cors_origins: AllowedOrigins) -> Self {
        self.with(|parts| parts.cors_origins = cors_origins)
    }

    /// An absolute URL for a path of this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}
