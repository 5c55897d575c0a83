//! HTTP: routes, handlers, wire shapes, extractors and problem JSON.

pub mod auth;
mod etag;
pub mod extract;
pub mod fields;
mod health;
pub mod idempotency;
mod invoice_items;
mod invoices;
pub mod metrics;
mod pagination;
pub mod problem;
mod products;
pub mod rate_limit;
mod tax;
pub mod timeout;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use self::auth::operation;
use crate::domain::permission::Operation;
use crate::repository::Db;
use crate::service::api_keys::KeyResolver;
use crate::service::auth::JwtVerifier;
use crate::service::rate_limit::RateLimiter;

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
}

impl AppState {
    /// State over a database, with bearer tokens enabled when `jwt_secret` is given.
    pub fn new(db: Db, jwt_secret: Option<&[u8]>, public_url: &str) -> Self {
        Self {
            keys: Arc::new(KeyResolver::new(db.clone())),
            db,
            jwt: jwt_secret.map(|secret| Arc::new(JwtVerifier::new(secret))),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limiter: Arc::new(RateLimiter::default()),
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

    /// An absolute URL for a path of this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// The API's routes, answered both at the root and under `/organizations/{organizationId}`.
pub fn routes() -> Router<AppState> {
    use Operation::*;
    let api = Router::new()
        .route(
            "/invoices",
            post(operation(PostInvoice, invoices::create))
                .get(operation(GetInvoiceCollection, invoices::list)),
        )
        .route(
            "/invoices/",
            post(operation(PostInvoice, invoices::create))
                .get(operation(GetInvoiceCollection, invoices::list)),
        )
        .route(
            "/invoices/{id}",
            get(operation(GetInvoice, invoices::get_one))
                .put(operation(PutInvoice, invoices::upsert)),
        )
        .route(
            "/invoices/{id}/issue",
            post(operation(PostInvoiceIssuance, invoices::issue)),
        )
        .route(
            "/invoices/{id}/void",
            post(operation(PostInvoiceVoid, invoices::void)),
        )
        .route(
            "/invoices/{id}/abandon",
            post(operation(PostInvoiceAbandonment, invoices::abandon)),
        )
        .route(
            "/invoices/{id}/items",
            post(operation(PostInvoiceItem, invoice_items::create))
                .get(operation(GetInvoiceItemCollection, invoice_items::list)),
        )
        .route(
            "/invoices/{id}/items/{itemId}",
            get(operation(GetInvoiceItem, invoice_items::get_one))
                .put(operation(PutInvoiceItem, invoice_items::replace))
                .delete(operation(DeleteInvoiceItem, invoice_items::delete)),
        )
        .route(
            "/products",
            post(operation(PostProduct, products::create))
                .get(operation(GetProductCollection, products::list)),
        )
        .route(
            "/products/",
            post(operation(PostProduct, products::create))
                .get(operation(GetProductCollection, products::list)),
        )
        .route(
            "/products/{id}",
            get(operation(GetProduct, products::get_one)),
        )
        // Only matched routes: a 404 or 405 never counts, and never carries the headers.
        .route_layer(axum::middleware::from_fn(
            rate_limit::add_rate_limit_headers,
        ));
    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::render))
        .merge(api.clone())
        .nest("/organizations/{organizationId}", api)
        .fallback(not_found)
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("No such route.".to_owned())
}
