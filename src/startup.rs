//! Building and running the server: database, router with its layers, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::http::header::AUTHORIZATION;
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::ServeConfig;
use crate::http::auth::API_KEY_HEADER;
use crate::http::cors::{self, Cors};
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::idempotency;
use crate::http::problem::{REQUEST_ID, panic_response};
use crate::http::router::{complete_errors, routes};
use crate::http::shared_layer::SharedLayer;
use crate::http::state::AppState;
use crate::http::{admission, metrics};
use crate::repository::Planning;
use crate::service::rate_limit::{self, RateLimit, RateLimiter};

/// How often the in-process rate-limit state forgets organizations whose budget is full.
const RATE_LIMIT_UPKEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Creates the database `database_url` names if it does not exist. Behind a pooler,
/// `database_url` must name PostgreSQL itself: a pooler does not create databases.
pub async fn create_database_if_missing(database_url: &str) -> Result<(), sqlx::Error> {
    if !Postgres::database_exists(database_url).await? {
        // Another replica may win the race to create it; that is fine.
        if let Err(error) = Postgres::create_database(database_url).await
            && !Postgres::database_exists(database_url).await?
        {
            return Err(error);
        }
    }
    Ok(())
}

/// The pool of connections to `options`, whose statements outside a transaction are planned
/// as `planning` says: [`Planning::Once`] by a `SET` as each connection opens, which a
/// session-mode pooler passes on where it would refuse the setting in the startup packet.
pub async fn connect(
    options: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
    planning: Planning,
) -> Result<PgPool, sqlx::Error> {
    let pool = PgPoolOptions::new();
    let pool = match planning {
        Planning::Once => pool.after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::raw_sql("set plan_cache_mode = force_generic_plan")
                    .execute(connection)
                    .await
                    .map(drop)
            })
        }),
        Planning::AsPostgresqlChooses => pool,
    };
    pool.max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        // sqlx's default, relied on: a connection idle in the pool may lead to a database that
        // has died or stopped answering. Checked before use, within the acquire timeout, such a
        // connection costs a 503 after DATABASE_ACQUIRE_TIMEOUT_SECS (and is replaced once the
        // database is back), not a request that hangs until REQUEST_TIMEOUT_SECS.
        .test_before_acquire(true)
        .connect_with(options)
        .await
}

/// The options of a pool through a transaction-mode pooler: without sqlx's statement cache,
/// whose statements would outlive the transaction that prepared them and be looked for on
/// whichever server connection the pooler gives the next one (see
/// [`crate::repository::Db::behind_transaction_pooler`]).
pub fn through_transaction_pooler(options: PgConnectOptions) -> PgConnectOptions {
    options.statement_cache_capacity(0)
}

/// Applies the migrations embedded in the binary on a connection of its own to `options`,
/// closed afterwards. A replica that waits longer than `lock_timeout` for another replica's
/// migrations stops with an error, to be restarted.
pub async fn migrate(
    options: &PgConnectOptions,
    acquire_timeout: Duration,
    lock_timeout: Duration,
) -> Result<(), sqlx::migrate::MigrateError> {
    let milliseconds = lock_timeout.as_millis().max(1);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(acquire_timeout)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                // This connection's session is the migrations' own, closed when they end.
                let set = format!("set lock_timeout = '{milliseconds}ms'");
                sqlx::raw_sql(sqlx::AssertSqlSafe(set))
                    .execute(connection)
                    .await
                    .map(drop)
            })
        })
        .connect_with(options.clone())
        .await?;
    let migrated = sqlx::migrate!().run(&pool).await;
    pool.close().await;
    migrated
}

/// The rate limiter the settings ask for: off, in process, or shared through REDIS_URL.
pub fn rate_limiter(config: &ServeConfig) -> Result<RateLimiter, String> {
    let window = Duration::from_secs(config.rate_limit_window_secs);
    let limit = RateLimit::new(config.rate_limit_requests, window)
        .map_err(|error| format!("RATE_LIMIT_REQUESTS / RATE_LIMIT_WINDOW_SECS: {error}"))?;
    let Some(limit) = limit else {
        tracing::info!("rate limits are off (RATE_LIMIT_REQUESTS=0)");
        return Ok(RateLimiter::Off);
    };
    tracing::info!(
        requests = limit.requests(),
        window_secs = limit.window().as_secs(),
        shared = config.redis_url.is_some(),
        "rate limits on writes, per organization"
    );
    match &config.redis_url {
        Some(url) => {
            let timeout = Duration::from_millis(config.redis_timeout_ms);
            RateLimiter::shared(limit, url, timeout).map_err(|error| format!("REDIS_URL: {error}"))
        }
        None => Ok(RateLimiter::in_process(limit)),
    }
}

/// Starts the rate limiter's background work: a first check that Redis answers (logged),
/// and the periodic clean-up of the in-process state. Both end when the limiter is dropped.
pub fn spawn_rate_limit_upkeep(limiter: &Arc<RateLimiter>) {
    let first_check = Arc::clone(limiter);
    tokio::spawn(async move { first_check.check_backend().await });
    tokio::spawn(rate_limit::retain_recent_periodically(
        Arc::downgrade(limiter),
        RATE_LIMIT_UPKEEP_INTERVAL,
    ));
}

/// The whole application: routes and every layer, as served and as tested.
pub fn build_app(state: AppState) -> Router {
    with_layers(routes(), &state).with_state(state)
}

/// Wraps routes in the layers every answer passes through: metrics, request id, tracing, CORS,
/// problem JSON for every error, panic recovery, the body size limit, and admission (the
/// request head's limits, `state`'s database and the request's time). One stack, one
/// `Router::layer`: each such call boxes every route again, and each box is copied, and its
/// future boxed, on every request.
pub fn with_layers(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let cors = Cors::new(state.cors_origins.clone());
    // Installed before the first request, and outermost, so that every answer is counted: a
    // CORS preflight, a refused request head and a panic too.
    metrics::recorder();
    let request_id = REQUEST_ID;
    // A `from_fn` layer clones all it wraps for each request: each has a `SharedLayer` below it
    // (see `crate::http::shared_layer`).
    let layers = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(metrics::record_request))
        .layer(SharedLayer)
        .layer(axum::middleware::from_fn(
            idempotency::replace_unkept_request_id,
        ))
        .layer(SharedLayer)
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            AUTHORIZATION,
            HeaderName::from_static(API_KEY_HEADER),
        ]))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // One line per answer at INFO (status, latency), in the request's span, so
                // with RUST_LOG=info every request leaves a line with its id.
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(axum::middleware::from_fn(idempotency::caused_by_request))
        .layer(SharedLayer)
        // Inside the request id and the span, so a preflight has both; outside everything that
        // may answer an error, so a page can read a 401, a 429 or a 500.
        .layer(axum::middleware::from_fn_with_state(cors, cors::handle))
        .layer(SharedLayer)
        // Every error answered in its request's dialect, a panic's too.
        .layer(axum::middleware::from_fn(complete_errors))
        .layer(SharedLayer)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // The request head's limits, the database's availability and the request's time.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admission::admit,
        ))
        .layer(SharedLayer);
    router.layer(layers)
}

fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
