//! HTTP: what every dialect shares (application state, credentials to a principal, rate
//! limits, CORS, request ids, metrics, timeouts, health, the limits of bodies and heads, the
//! transaction and idempotency of every write), and the dialects' edges beside it: `rebilly/`
//! speaks Rebilly's wire, `stripe/` the Stripe-style one under `/v1`. The shared layers' own
//! refusals (401, 429, 503, ...) are rendered as problem JSON, which the Stripe edge's layer
//! completes with Stripe's `error` member under `/v1`.

pub mod auth;
pub mod availability;
pub mod cors;
pub mod extract;
mod health;
pub mod idempotency;
pub mod json_shape;
pub mod metrics;
pub mod negotiation;
pub mod rate_limit;
pub mod rebilly;
pub mod request_head;
pub mod stripe;
pub mod timeout;

use std::sync::Arc;

use crate::delivery::destination::Destinations;
use std::time::Duration;

use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::availability::DatabaseStatus;
use self::cors::AllowedOrigins;
use self::rebilly::openapi;
use crate::repository::Db;
use crate::service::api_keys::KeyResolver;
use crate::service::auth::JwtVerifier;
use crate::service::item_batches::ItemLanes;
use crate::service::rate_limit::RateLimiter;

/// Marks an error answer that an edge shaped its own way (another dialect's JSON error), which
/// the problem completion leaves as it is.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorShape;

/// Marks a response as a kept answer given again (`idempotency::run_write`): its body is the
/// first answer's bytes, so an edge that completes its error bodies after the handler does so
/// from those bytes.
#[derive(Debug, Clone, Copy)]
pub struct Replayed;

/// The request timeout when `REQUEST_TIMEOUT_SECS` is not set.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler may use.
#[derive(Debug, Clone)]
pub struct AppState {
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
}

impl AppState {
    /// State over a database, with bearer tokens enabled when a verifier is given.
    pub fn new(db: Db, jwt: Option<JwtVerifier>, public_url: &str) -> Self {
        Self {
            keys: Arc::new(KeyResolver::new(db.clone())),
            item_writes: Arc::new(ItemLanes::new(db.clone(), db.max_connections())),
            db,
            jwt: jwt.map(Arc::new),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limiter: Arc::new(RateLimiter::default()),
            cors_origins: AllowedOrigins::None,
            database: Arc::new(DatabaseStatus::default()),
            webhook_destinations: Destinations::PublicOnly,
        }
    }

    /// The same state letting webhooks reach these addresses.
    pub fn with_webhook_destinations(self, webhook_destinations: Destinations) -> Self {
        Self {
            webhook_destinations,
            ..self
        }
    }

    /// The same state with another request timeout.
    pub fn with_request_timeout(self, request_timeout: Duration) -> Self {
        Self {
            request_timeout,
            ..self
        }
    }

    /// The same state with another rate limiter (the default counts in process, 3000 writes
    /// per 600 seconds).
    pub fn with_rate_limiter(self, rate_limiter: Arc<RateLimiter>) -> Self {
        Self {
            rate_limiter,
            ..self
        }
    }

    /// The same state admitting pages of other origins (CORS).
    pub fn with_cors_origins(self, cors_origins: AllowedOrigins) -> Self {
        Self {
            cors_origins,
            ..self
        }
    }

    /// An absolute URL for a path of this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// The API's routes, answered both at the root and under `/organizations/{organizationId}`,
/// with `/health`, `/metrics`, the contract at `/openapi.json` and Swagger UI at `/docs`. The
/// contract is built from the handlers' annotations the routes are registered from, so that
/// neither can name an operation the other lacks.
pub fn routes() -> Router<AppState> {
    let (resources, resources_spec) = rebilly::resources().split_for_parts();
    let (organization, mut organization_spec) = rebilly::organization_resources().split_for_parts();
    // Served at the root only, not under the prefix the other server entry names.
    for item in organization_spec.paths.paths.values_mut() {
        item.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    }
    let (service, mut spec) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(metrics::render))
        .routes(routes!(openapi::contract))
        .split_for_parts();
    spec.merge(resources_spec);
    spec.merge(organization_spec);
    openapi::finish(&mut spec);
    let (stripe_routes, stripe_spec) = stripe::routes().split_for_parts();
    spec.merge(stripe_spec);
    stripe::contract::finish(&mut spec);
    service
        .merge(resources.clone())
        .merge(organization)
        .nest(auth::ORGANIZATION_PREFIX, resources)
        .merge(stripe_routes)
        .merge(openapi::docs())
        .layer(Extension(openapi::Contract::new(&spec)))
        .fallback(not_found)
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("No such route.".to_owned())
}
