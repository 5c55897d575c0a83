//! CORS through the router: `CORS_ALLOWED_ORIGINS` admits billing frontends, preflight
//! included, without credentials and outside rate limits; other origins, and every origin
//! when it is unset, get no CORS headers.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use invoice_api::http::cors::AllowedOrigins;
use invoice_api::service::rate_limit::{RateLimit, RateLimiter};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse, assert_problem, invoice_body, request};
use crate::process::BINARY;

const FRONTEND: &str = "https://billing.example.com";
const OTHER: &str = "https://elsewhere.example.com";

/// The request headers a frontend sends beyond the safelisted ones.
const REQUEST_HEADERS: [&str; 7] = [
    "reb-apikey",
    "authorization",
    "idempotency-key",
    "if-match",
    "content-type",
    "reb-api-consumer",
    "x-request-id",
];

/// The response headers a frontend's script must be able to read.
const EXPOSED: [&str; 11] = [
    "x-request-id",
    "etag",
    "location",
    "pagination-total",
    "pagination-limit",
    "pagination-offset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-retry-after",
    "retry-after",
    "idempotent-replayed",
];

async fn app_admitting(pool: PgPool, origins: &str) -> TestApp {
    let origins = AllowedOrigins::parse(origins).unwrap();
    TestApp::configured(pool, |state| state.with_cors_origins(origins)).await
}

/// A browser's preflight for a `method` request to `path` from `origin`, without credentials.
async fn preflight(app: &TestApp, origin: &str, path: &str, method: &str) -> TestResponse {
    let request = request(Method::OPTIONS, path, None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", &REQUEST_HEADERS.join(","));
    app.send(request.body_json()).await
}

/// A request as a page's script sends it: with `Origin` and the app's key.
async fn from_page(app: &TestApp, origin: &str, method: Method, path: &str) -> TestResponse {
    let body = (method == Method::POST).then(|| invoice_body("USD"));
    let request = request(method, path, body)
        .header("Origin", origin)
        .header("REB-APIKEY", &app.api_key);
    app.send(request.body_json()).await
}

/// The names of a comma-separated header, in lower case.
fn listed(response: &TestResponse, name: &str) -> BTreeSet<String> {
    response
        .header(name)
        .unwrap_or_else(|| panic!("no {name}: {response:?}"))
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .collect()
}

fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn cors_headers(response: &TestResponse) -> Vec<String> {
    response
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[sqlx::test]
async fn a_preflight_from_an_allowed_origin_is_answered_without_credentials_or_rate_limits(
    pool: PgPool,
) {
    let limit = RateLimit::new(1, Duration::from_secs(600))
        .unwrap()
        .unwrap();
    let limiter = Arc::new(RateLimiter::in_process(limit));
    let origins = AllowedOrigins::parse(&format!("{OTHER},{FRONTEND}")).unwrap();
    let app = TestApp::configured(pool, |state| {
        state.with_rate_limiter(limiter).with_cors_origins(origins)
    })
    .await;

    for path in ["/invoices", "/organizations/org_test/invoices/inv-1/items"] {
        for _ in 0..3 {
            let answer = preflight(&app, FRONTEND, path, "POST").await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {answer:?}");
            assert_eq!(answer.text, "", "{path}");
            assert_eq!(answer.header("access-control-allow-origin"), Some(FRONTEND));
            assert!(
                listed(&answer, "access-control-allow-methods").contains("post"),
                "{answer:?}"
            );
            assert_eq!(
                listed(&answer, "access-control-allow-headers"),
                names(&REQUEST_HEADERS)
            );
            assert_eq!(answer.header("access-control-max-age"), Some("600"));
            assert_eq!(
                answer.header("access-control-allow-credentials"),
                None,
                "credentials are headers, not cookies"
            );
            assert!(
                answer.header("x-request-id").is_some(),
                "a preflight is traced like any request"
            );
            assert_eq!(answer.header("x-ratelimit-remaining"), None);
        }
    }
    // Six preflights later, the organization still has its one write, and the page can read
    // the 429 that follows it.
    let created = from_page(&app, FRONTEND, Method::POST, "/invoices").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("x-ratelimit-remaining"), Some("0"));
    let refused = from_page(&app, FRONTEND, Method::POST, "/invoices").await;
    assert_problem(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "Rate Limit Exceeded",
        "/invoices",
    );
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some(FRONTEND)
    );
    assert!(listed(&refused, "access-control-expose-headers").contains("retry-after"));
}

#[sqlx::test]
async fn a_preflight_from_another_origin_gets_no_cors_headers(pool: PgPool) {
    let app = app_admitting(pool, FRONTEND).await;
    for origin in [OTHER, "https://billing.example.com.evil.test", "null"] {
        let answer = preflight(&app, origin, "/invoices", "POST").await;
        assert_eq!(cors_headers(&answer), Vec::<String>::new(), "{origin}");
        // Routed like any OPTIONS: the route has no such method.
        assert_problem(
            &answer,
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "/invoices",
        );
        assert_eq!(answer.header("vary"), Some("origin"), "{origin}");
    }
    let read = from_page(&app, OTHER, Method::GET, "/invoices").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(cors_headers(&read), Vec::<String>::new());
}

#[sqlx::test]
async fn a_request_from_an_allowed_origin_gets_allow_origin_and_expose_headers(pool: PgPool) {
    let app = app_admitting(pool, &format!("{FRONTEND}, {OTHER}")).await;
    for origin in [FRONTEND, OTHER] {
        let list = from_page(&app, origin, Method::GET, "/invoices").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert_eq!(list.header("access-control-allow-origin"), Some(origin));
        assert_eq!(
            listed(&list, "access-control-expose-headers"),
            names(&EXPOSED)
        );
        assert_eq!(list.header("access-control-allow-credentials"), None);
        assert!(listed(&list, "vary").contains("origin"), "{list:?}");
        assert_eq!(list.header("pagination-total"), Some("0"));
    }
    let created = from_page(&app, FRONTEND, Method::POST, "/invoices").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.header("access-control-allow-origin"),
        Some(FRONTEND)
    );
    assert!(created.header("location").is_some() && created.header("etag").is_some());

    // An error is readable too: a 401 without credentials.
    let anonymous = request(Method::GET, "/invoices", None).header("Origin", FRONTEND);
    let refused = app.send(anonymous.body_json()).await;
    assert_problem(
        &refused,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "/invoices",
    );
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some(FRONTEND)
    );
}

#[sqlx::test]
async fn without_cors_allowed_origins_no_cors_headers_are_sent(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let answer = preflight(&app, FRONTEND, "/invoices", "POST").await;
    assert_eq!(cors_headers(&answer), Vec::<String>::new());
    assert_problem(
        &answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        "/invoices",
    );
    let read = from_page(&app, FRONTEND, Method::GET, "/invoices").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(cors_headers(&read), Vec::<String>::new());
    assert_eq!(read.header("vary"), None);
}

#[sqlx::test]
async fn a_star_admits_every_origin_with_a_wildcard(pool: PgPool) {
    let app = app_admitting(pool, "*").await;
    let answer = preflight(&app, OTHER, "/invoices/inv-1", "PUT").await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        listed(&answer, "access-control-allow-headers"),
        names(&REQUEST_HEADERS)
    );
    let read = from_page(&app, "http://localhost:5173", Method::GET, "/invoices").await;
    assert_eq!(read.header("access-control-allow-origin"), Some("*"));
    // Without `Origin` it is no CORS request: nothing added, and OPTIONS is routed.
    let plain = app
        .send(request(Method::OPTIONS, "/invoices", None).body_json())
        .await;
    assert_eq!(plain.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(cors_headers(&plain), Vec::<String>::new());
}

#[test]
fn an_invalid_origin_stops_the_server_at_start_up_naming_the_variable() {
    for (value, reason) in [
        ("https://billing.example.com/", "no path"),
        ("billing.example.com", "lacks the scheme"),
        (
            "*,https://billing.example.com",
            "cannot be listed with others",
        ),
    ] {
        let output = Command::new(BINARY)
            .env(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:1/never_reached",
            )
            .env("CORS_ALLOWED_ORIGINS", value)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("CORS_ALLOWED_ORIGINS") && stderr.contains(reason),
            "{value}: {stderr}"
        );
    }
}
