//! `GET /metrics`: Prometheus text with request counts and latencies by method, matched route
//! and status, the database pool's connections, and rate-limit refusals.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::Label;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::failure::Rejection;
use super::problem::Problem;
use super::state::AppState;
use crate::delivery::DELIVERIES;
use crate::service::item_batches::BATCH_SIZE_METRIC;
use crate::service::item_reads::{READ_BATCH_SIZE_METRIC, READS_ALONE_METRIC};

/// Requests answered, by `method`, `route` and `status`.
const REQUESTS: &str = "http_requests_total";
/// How long requests took, in seconds, by `method`, `route` and `status`.
const DURATION: &str = "http_request_duration_seconds";
/// Client connections open now (the server counts them as it accepts and closes them).
pub const CONNECTIONS_OPEN: &str = "http_connections_open";
/// Writes refused with 429.
pub const RATE_LIMIT_REFUSALS: &str = "rate_limit_refusals_total";
/// Connections in the database pool, and those of them idle.
const POOL_CONNECTIONS: &str = "db_pool_connections";
const POOL_IDLE: &str = "db_pool_idle_connections";
/// Callers waiting for a connection of the pool, its check included.
const POOL_WAITING: &str = "db_pool_waiting";
/// Connections kept from one read to the next, not reading (the pool counts them as in use).
const KEPT_CONNECTIONS: &str = "db_kept_read_connections";
/// Reads that found the connection kept for them lost, and ran again on one from the pool.
const KEPT_CONNECTIONS_LOST: &str = "db_kept_read_connections_lost_total";
/// Documents rendering, and requests waiting to render one.
const RENDERS_RUNNING: &str = "document_renders_running";
const RENDERS_WAITING: &str = "document_renders_waiting";
/// Bytes of invoice items the item-write lanes keep between batches.
const ITEMS_KEPT_BYTES: &str = "item_writes_kept_bytes";
/// Webhook deliveries waiting to be sent, and how long the oldest has waited.
const DELIVERIES_PENDING: &str = "webhook_deliveries_pending";
const OLDEST_PENDING_AGE: &str = "webhook_oldest_pending_age_seconds";

/// Every series, with its `# HELP`.
const DESCRIPTIONS: &[(&str, Kind, &str)] = &[
    (
        REQUESTS,
        Kind::Counter,
        "Requests answered, by method, route and status.",
    ),
    (
        DURATION,
        Kind::Histogram,
        "How long requests took, in seconds, by method, route and status.",
    ),
    (
        RATE_LIMIT_REFUSALS,
        Kind::Counter,
        "Writes refused with 429 Too Many Requests.",
    ),
    (CONNECTIONS_OPEN, Kind::Gauge, "HTTP connections open now."),
    (
        POOL_CONNECTIONS,
        Kind::Gauge,
        "Connections in the database pool, busy or idle.",
    ),
    (
        POOL_IDLE,
        Kind::Gauge,
        "Idle connections in the database pool.",
    ),
    (
        RENDERS_RUNNING,
        Kind::Gauge,
        "PDF documents rendering now, their clients gone or not.",
    ),
    (
        RENDERS_WAITING,
        Kind::Gauge,
        "Requests waiting for a PDF render's slot.",
    ),
    (
        ITEMS_KEPT_BYTES,
        Kind::Gauge,
        "Bytes of invoice items the item-write lanes keep between batches, at most 16 MiB.",
    ),
    (
        DELIVERIES,
        Kind::Counter,
        "Webhook deliveries sent, by outcome: delivered, retried or failed.",
    ),
    (
        DELIVERIES_PENDING,
        Kind::Gauge,
        "Webhook deliveries waiting to be sent, over every organization.",
    ),
    (
        OLDEST_PENDING_AGE,
        Kind::Gauge,
        "Seconds the oldest pending webhook delivery has waited; 0 when none waits.",
    ),
    (
        BATCH_SIZE_METRIC,
        Kind::Histogram,
        "Item writes per batch of a write lane: 1 is a write done alone.",
    ),
    (
        READ_BATCH_SIZE_METRIC,
        Kind::Histogram,
        "Item reads by id per statement of the item readers.",
    ),
    (
        READS_ALONE_METRIC,
        Kind::Counter,
        "Item reads by id done alone, outside a batch: those of a batch that failed.",
    ),
    (
        POOL_WAITING,
        Kind::Gauge,
        "Callers waiting for a connection of the database pool, its check of the connection included.",
    ),
    (
        KEPT_CONNECTIONS,
        Kind::Gauge,
        "Connections kept from one read to the next, not reading now; the pool counts them as in use.",
    ),
    (
        KEPT_CONNECTIONS_LOST,
        Kind::Counter,
        "Reads that found the connection kept for them lost, and ran again on a connection from the pool.",
    ),
];

/// What a series is, for its description.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Batch sizes, from a write alone to a full batch: whole numbers, so that the counts are exact.
const BATCH_SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Buckets from 1 ms to 30 s (the default request timeout).
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's metrics recorder, installed on first use. Metrics are global to the process
/// (the `metrics` facade has one recorder), so every app built in it shares them.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), DURATION_BUCKETS)
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(BATCH_SIZE_METRIC.to_owned()),
                        BATCH_SIZE_BUCKETS,
                    )
                })
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(READ_BATCH_SIZE_METRIC.to_owned()),
                        BATCH_SIZE_BUCKETS,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    for &(name, kind, help) in DESCRIPTIONS {
                        match kind {
                            Kind::Counter => metrics::describe_counter!(name, help),
                            Kind::Gauge => metrics::describe_gauge!(name, help),
                            Kind::Histogram => metrics::describe_histogram!(name, help),
                        }
                    }
                    // Every documented series exists from the start, at zero.
                    metrics::counter!(RATE_LIMIT_REFUSALS).increment(0);
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics are off: no recorder could be installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Middleware: counts every request and records how long it took, by method, matched route
/// (the route's pattern, such as `/invoices/{id}/items`, so ids do not make new series) and
/// status. Every label has a bounded set of values whatever clients send: methods outside
/// the standard ones count as `other`, requests that match no route as `unmatched`, and
/// statuses the API does not answer as their class (`1xx` ... `9xx`).
pub async fn record_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route: Arc<str> = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .into();
    let response = next.run(request).await;
    let status = status_label(response.status());
    // Method and status are static names, which the labels borrow; the route is shared by
    // the two sets of labels.
    let labels = vec![
        Label::new("method", method),
        Label::new("route", route),
        Label::new("status", status),
    ];
    metrics::counter!(REQUESTS, labels.clone()).increment(1);
    metrics::histogram!(DURATION, labels).record(started.elapsed().as_secs_f64());
    response
}

/// The method's own name if it is one of HTTP's standard methods, else `other`.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::CONNECT, "CONNECT"),
    ];
    STANDARD
        .iter()
        .find(|(standard, _)| standard == method)
        .map_or("other", |&(_, name)| name)
}

/// The statuses the API answers, by number; any other by its class.
fn status_label(status: StatusCode) -> &'static str {
    const ANSWERED: [(u16, &str); 22] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (406, "406"),
        (408, "408"),
        (409, "409"),
        (412, "412"),
        (413, "413"),
        (414, "414"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (431, "431"),
        (500, "500"),
        (501, "501"),
        (503, "503"),
    ];
    const CLASSES: [&str; 9] = [
        "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx",
    ];
    let code = status.as_u16();
    ANSWERED
        .iter()
        .find(|(answered, _)| *answered == code)
        // A `StatusCode` is from 100 to 999.
        .map_or_else(|| CLASSES[usize::from(code / 100 - 1)], |&(_, name)| name)
}

/// Exports the server's metrics for Prometheus.
///
/// In the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "GetMetrics",
    tag = "Service",
    security(()),
    responses(
        (status = 200, description = "Request counts and latencies by method, route and status; database pool gauges; rate-limit refusals; webhook deliveries by outcome, pending, and the age of the oldest pending", body = String, content_type = "text/plain"),
        (status = 404, description = "Metrics are off: another metrics recorder was installed first in this process", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = recorder() else {
        return Rejection::NoRoute("Metrics are off on this server.").into_response();
    };
    let (connections, idle) = state.db.pool_connections();
    metrics::gauge!(POOL_CONNECTIONS).set(f64::from(connections));
    metrics::gauge!(POOL_IDLE).set(idle as f64);
    metrics::gauge!(POOL_WAITING).set(state.db.waiting_for_pool() as f64);
    metrics::gauge!(KEPT_CONNECTIONS).set(state.db.kept_connections() as f64);
    metrics::counter!(KEPT_CONNECTIONS_LOST).absolute(state.db.kept_connections_lost());
    metrics::gauge!(RENDERS_RUNNING).set(state.renders.running() as f64);
    metrics::gauge!(RENDERS_WAITING).set(state.renders.waiting() as f64);
    metrics::gauge!(ITEMS_KEPT_BYTES).set(state.item_writes.kept_bytes() as f64);
    // Over every organization and replica: the deliveries are shared work.
    if let Ok(backlog) = state.db.delivery_backlog().await {
        metrics::gauge!(DELIVERIES_PENDING).set(backlog.pending as f64);
        metrics::gauge!(OLDEST_PENDING_AGE).set(backlog.oldest_age_seconds);
    }
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], handle.render()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_a_bounded_set_of_values() {
        assert_eq!(method_label(&Method::POST), "POST");
        for made_up in ["FOO", "GETX", "get", "BREW"] {
            let method = Method::from_bytes(made_up.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{made_up}");
        }
        assert_eq!(status_label(StatusCode::UNPROCESSABLE_ENTITY), "422");
        assert_eq!(status_label(StatusCode::IM_A_TEAPOT), "4xx");
        assert_eq!(status_label(StatusCode::from_u16(599).unwrap()), "5xx");
        assert_eq!(status_label(StatusCode::from_u16(999).unwrap()), "9xx");
    }
}
