//! `GET /metrics`: Prometheus text, without credentials. Metrics are global to the test
//! process, shared by the tests running beside this one, so only what this test caused is
//! asserted, never exact counts.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use invoice_api::service::rate_limit::{RateLimit, RateLimiter};
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::helpers::{TestApp, request};

#[sqlx::test]
async fn metrics_count_requests_by_route_and_status_with_latencies_pool_and_refusals_each_with_help(
    pool: PgPool,
) {
    let limit = RateLimit::new(2, Duration::from_secs(600))
        .unwrap()
        .unwrap();
    let limiter = Arc::new(RateLimiter::in_process(limit));
    let app = TestApp::configured(pool, |state| state.with_rate_limiter(limiter)).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let created = app
        .post(&path, json!({"type": "debit", "unitPrice": 1}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let refused = app
        .post(&path, json!({"type": "debit", "unitPrice": 1}))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    app.get("/no/such/route").await;

    let metrics = app
        .router
        .clone()
        .oneshot(request(Method::GET, "/metrics", None).body_json())
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK, "no credentials needed");
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = metrics.into_body().collect().await.unwrap().to_bytes();
    let text = &String::from_utf8(body.to_vec()).unwrap();
    for expected in [
        r#"http_requests_total{method="POST",route="/invoices/{id}/items",status="201"}"#,
        r#"http_requests_total{method="POST",route="/invoices/{id}/items",status="429"}"#,
        r#"http_requests_total{method="GET",route="unmatched",status="404"}"#,
        r#"http_request_duration_seconds_bucket{method="POST",route="/invoices/{id}/items",status="201",le="0.001"}"#,
        "rate_limit_refusals_total ",
        "db_pool_connections ",
        "db_pool_idle_connections ",
        "item_writes_kept_bytes ",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(
        !text.contains(&invoice_id),
        "ids never become labels: {text}"
    );
    for line in text.lines().filter(|line| line.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no # HELP:\n{text}"
        );
    }
    // Batch sizes are whole numbers in buckets, not a summary's estimated quantiles.
    assert!(
        text.contains("item_write_batch_size_bucket{le=\"1\"} "),
        "{text}"
    );
    assert!(!text.contains("quantile="), "{text}");
}

#[sqlx::test]
async fn every_series_exists_from_the_start_and_every_answer_is_counted(pool: PgPool) {
    use crate::helpers::database_url;
    use crate::process::{ServerProcess, exchange};
    // Metrics are per process: this server's are this test's alone.
    let server = ServerProcess::start(&[
        ("DATABASE_URL", &database_url(&pool)),
        ("CORS_ALLOWED_ORIGINS", "https://app.example"),
    ]);
    let first = exchange(server.port, "GET", "/metrics", &[], None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.contains("\nrate_limit_refusals_total 0\n"),
        "{}",
        first.body
    );
    let preflight = exchange(
        server.port,
        "OPTIONS",
        "/invoices",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert!(preflight.status < 300, "{}", preflight.status);
    let metrics = exchange(server.port, "GET", "/metrics", &[], None).body;
    let counted = format!(
        r#"http_requests_total{{method="OPTIONS",route="/invoices",status="{}"}} 1"#,
        preflight.status
    );
    assert!(
        metrics.contains(&counted),
        "{counted} missing from:\n{metrics}"
    );
}
