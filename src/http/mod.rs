//! HTTP: routes, handlers, wire shapes, extractors and problem JSON.

pub mod auth;
pub mod availability;
pub mod cors;
pub mod error_response;
mod etag;
pub mod extract;
pub mod fields;
mod health;
pub mod idempotency;
mod invoice_items;
mod invoice_paths;
mod invoice_query;
mod invoices;
pub mod json_shape;
pub mod metrics;
mod openapi;
mod pagination;
pub mod problem;
mod products;
pub mod rate_limit;
pub mod request_head;
mod tax;
pub mod timeout;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use self::availability::DatabaseStatus;
use self::cors::AllowedOrigins;
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
    /// The web origins whose pages may call the API (CORS); none by default.
    pub cors_origins: AllowedOrigins,
    /// Whether the database is known to be unreachable (requests then answer 503 at once).
    pub database: Arc<DatabaseStatus>,
}

impl AppState {
    /// State over a database, with bearer tokens enabled when a verifier is given.
    pub fn new(db: Db, jwt: Option<JwtVerifier>, public_url: &str) -> Self {
        Self {
            keys: Arc::new(KeyResolver::new(db.clone())),
            db,
            jwt: jwt.map(Arc::new),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limiter: Arc::new(RateLimiter::default()),
            cors_origins: AllowedOrigins::None,
            database: Arc::new(DatabaseStatus::default()),
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
    let (resources, resources_spec) = resources().split_for_parts();
    let (service, mut spec) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(metrics::render))
        .routes(routes!(openapi::contract))
        .split_for_parts();
    spec.merge(resources_spec);
    openapi::finish(&mut spec);
    service
        .merge(resources.clone())
        .nest(auth::ORGANIZATION_PREFIX, resources)
        .merge(openapi::docs())
        .layer(Extension(openapi::Contract::new(&spec)))
        .fallback(not_found)
}

/// The routes that need credentials.
fn resources() -> OpenApiRouter<AppState> {
    use Operation::*;
    let router = OpenApiRouter::new()
        .routes(permitted(
            routes!(invoices::get_one, invoices::upsert),
            &[(Method::GET, GetInvoice), (Method::PUT, PutInvoice)],
        ))
        .routes(permitted(
            routes!(invoices::issue),
            &[(Method::POST, PostInvoiceIssuance)],
        ))
        .routes(permitted(
            routes!(invoices::void),
            &[(Method::POST, PostInvoiceVoid)],
        ))
        .routes(permitted(
            routes!(invoices::abandon),
            &[(Method::POST, PostInvoiceAbandonment)],
        ))
        .routes(permitted(
            routes!(invoice_items::create, invoice_items::list),
            &[
                (Method::POST, PostInvoiceItem),
                (Method::GET, GetInvoiceItemCollection),
            ],
        ))
        .routes(permitted(
            routes!(
                invoice_items::get_one,
                invoice_items::replace,
                invoice_items::delete
            ),
            &[
                (Method::GET, GetInvoiceItem),
                (Method::PUT, PutInvoiceItem),
                (Method::DELETE, DeleteInvoiceItem),
            ],
        ))
        .routes(permitted(
            routes!(products::get_one),
            &[(Method::GET, GetProduct)],
        ));
    let router = with_alias(
        router,
        permitted(
            routes!(invoices::create, invoices::list),
            &[
                (Method::POST, PostInvoice),
                (Method::GET, GetInvoiceCollection),
            ],
        ),
    );
    with_alias(
        router,
        permitted(
            routes!(products::create, products::list),
            &[
                (Method::POST, PostProduct),
                (Method::GET, GetProductCollection),
            ],
        ),
    )
    // Only matched routes: a 404 or 405 never counts, and never carries the headers.
    .route_layer(axum::middleware::from_fn(
        rate_limit::add_rate_limit_headers,
    ))
}

/// Marks each method of a path with the operation it performs, whose permission the
/// [`Principal`](auth::Principal) extractor checks (403 when missing). The declaration is the
/// authority; the contract's operation ids document it (a test holds the two together).
fn permitted(
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
    operations: &[(Method, Operation)],
) -> UtoipaMethodRouter<AppState> {
    #[cfg(test)]
    tests::record_declared(&paths, operations);
    let operations = auth::RouteOperations::new(operations);
    (schemas, paths, method_router.layer(Extension(operations)))
}

/// Registers a collection's operations at its path and also, as an alias that the contract
/// does not list, at the path with a trailing slash (`/invoices/`).
fn with_alias(
    router: OpenApiRouter<AppState>,
    endpoints: UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let alias = endpoints
        .1
        .paths
        .keys()
        .next()
        .map(|path| format!("{path}/"));
    let method_router = endpoints.2.clone();
    let router = router.routes(endpoints);
    match alias {
        Some(alias) => router.route(&alias, method_router),
        None => router,
    }
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("No such route.".to_owned())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use utoipa::openapi::path::Paths;

    use super::*;

    /// A path, a method, the operation id its contract documents and the operation declared.
    type Declared = (String, Method, Option<String>, Operation);

    thread_local! {
        /// Every route's declarations, as [`permitted`] saw them.
        static DECLARED: RefCell<Vec<Declared>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record_declared(paths: &Paths, operations: &[(Method, Operation)]) {
        for (path, item) in &paths.paths {
            for (method, operation) in operations {
                let documented = match *method {
                    Method::GET => &item.get,
                    Method::PUT => &item.put,
                    Method::POST => &item.post,
                    Method::DELETE => &item.delete,
                    _ => &None,
                };
                let id = documented.as_ref().and_then(|op| op.operation_id.clone());
                DECLARED.with(|declared| {
                    declared
                        .borrow_mut()
                        .push((path.clone(), method.clone(), id, *operation));
                });
            }
        }
    }

    #[test]
    fn every_route_declares_the_operation_its_contract_documents() {
        let _ = resources();
        let declared = DECLARED.with(|declared| declared.borrow().clone());
        assert_eq!(declared.len(), Operation::ALL.len(), "{declared:?}");
        for (path, method, documented, operation) in declared {
            assert_eq!(
                documented.as_deref(),
                Some(operation.name()),
                "{method} {path}"
            );
        }
    }
}
