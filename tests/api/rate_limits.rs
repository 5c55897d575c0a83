//! Rate limits on writes through the router: which requests count, the headers, the 429, and
//! the Redis limiter against the in-process one.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{Method, StatusCode};
use invoice_api::domain::ids::OrganizationId;
use invoice_api::domain::permission::Permissions;
use invoice_api::service::rate_limit::{
    Decision, LocalLimiter, RateLimit, RateLimiter, SharedLimiter,
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{ORGANIZATION, TestApp, TestResponse, assert_problem, request};
use crate::process::free_port;
use crate::redis_server::{RedisServer, url_of_port};

const RATE_HEADERS: [&str; 4] = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-retry-after",
    "retry-after",
];

fn limit(requests: u32, window_secs: u64) -> RateLimit {
    RateLimit::new(requests, Duration::from_secs(window_secs))
        .unwrap()
        .unwrap()
}

/// The app with an in-process limit of `requests` writes per `window_secs`.
async fn limited_app(pool: PgPool, requests: u32, window_secs: u64) -> TestApp {
    let limiter = Arc::new(RateLimiter::in_process(limit(requests, window_secs)));
    TestApp::configured(pool, |state| state.with_rate_limiter(limiter)).await
}

fn product() -> Value {
    json!({"name": "Seat"})
}

/// `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
fn limit_and_remaining(response: &TestResponse) -> (Option<&str>, Option<&str>) {
    (
        response.header("x-ratelimit-limit"),
        response.header("x-ratelimit-remaining"),
    )
}

fn assert_no_rate_headers(response: &TestResponse) {
    for name in RATE_HEADERS {
        assert_eq!(response.header(name), None, "{name} on {response:?}");
    }
}

fn header_number(response: &TestResponse, name: &str) -> u64 {
    response
        .header(name)
        .unwrap_or_else(|| panic!("no {name}: {response:?}"))
        .parse()
        .unwrap()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Asserts a 429 problem with plausible retry headers, and returns its `Retry-After`.
fn assert_rate_limited(response: &TestResponse, instance: &str, limit: &str) -> u64 {
    assert_problem(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "Rate Limit Exceeded",
        instance,
    );
    assert_eq!(response.body["type"], "/problems/rate-limit-exceeded");
    assert_eq!(limit_and_remaining(response), (Some(limit), Some("0")));
    let retry_after = header_number(response, "retry-after");
    assert!(
        (1..=600).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let retry_at = header_number(response, "x-ratelimit-retry-after");
    let expected = unix_now() + retry_after;
    // A hang guard's slack, not a measure of speed: the two are computed moments apart.
    assert!(
        retry_at.abs_diff(expected) <= 60,
        "X-RateLimit-Retry-After {retry_at}, now + Retry-After {expected}"
    );
    let detail = response.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("retry in {retry_after} seconds")),
        "{detail}"
    );
    retry_after
}

#[sqlx::test]
async fn writes_count_down_and_the_one_over_the_limit_is_429_with_when_to_retry(pool: PgPool) {
    let app = limited_app(pool, 3, 600).await;
    for remaining in ["2", "1", "0"] {
        let response = app.post("/products", product()).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        assert_eq!(limit_and_remaining(&response), (Some("3"), Some(remaining)));
        assert_eq!(response.header("retry-after"), None);
        assert_eq!(response.header("x-ratelimit-retry-after"), None);
    }
    let refused = app.post("/products", product()).await;
    let retry_after = assert_rate_limited(&refused, "/products", "3");
    // One write every 600 / 3 seconds: the next is at most 200 seconds away.
    assert!(retry_after <= 200, "{retry_after}");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("3 writes per 600 seconds"),
        "{}",
        refused.text
    );
    let count: i64 = sqlx::query_scalar("select count(*) from products")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 3, "the refused write did nothing");
}

#[sqlx::test]
async fn every_kind_of_write_counts_and_carries_the_headers_whatever_its_status(pool: PgPool) {
    let app = limited_app(pool, 6, 600).await;
    let invoice = app.create_invoice("USD").await;
    let items = format!("/invoices/{invoice}/items");
    let checks: [(Method, String, Option<Value>, StatusCode); 5] = [
        (
            Method::POST,
            items.clone(),
            Some(json!({"type": "debit", "unitPrice": "1"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::PUT,
            format!("{items}/ii_nosuchitem"),
            Some(json!({"type": "debit", "unitPrice": 1})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            format!("{items}/ii_nosuchitem"),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/invoices/{invoice}/void"),
            None,
            StatusCode::CONFLICT,
        ),
        (
            Method::POST,
            format!("/organizations/{ORGANIZATION}/invoices/{invoice}/issue"),
            None,
            StatusCode::CREATED,
        ),
    ];
    for (remaining, (method, path, body, status)) in (0..5).rev().zip(checks) {
        let response = app.call(method.clone(), &path, body).await;
        assert_eq!(
            response.status, status,
            "{method} {path}: {}",
            response.text
        );
        let remaining = remaining.to_string();
        assert_eq!(
            limit_and_remaining(&response),
            (Some("6"), Some(remaining.as_str())),
            "{method} {path}"
        );
    }
    let refused = app.delete(&format!("{items}/ii_nosuchitem")).await;
    assert_rate_limited(&refused, &format!("{items}/ii_nosuchitem"), "6");
}

#[sqlx::test]
async fn reads_are_never_limited_and_carry_no_rate_limit_headers(pool: PgPool) {
    let app = limited_app(pool, 1, 600).await;
    let created = app.post("/products", product()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.post("/products", product()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    for path in [
        "/products".to_owned(),
        format!("/products/{id}"),
        "/invoices".to_owned(),
    ] {
        for _ in 0..3 {
            let response = app.get(&path).await;
            assert_eq!(response.status, StatusCode::OK, "{path}");
            assert_no_rate_headers(&response);
        }
    }
    let head = app
        .send(
            request(Method::HEAD, "/products", None)
                .header("REB-APIKEY", &app.api_key)
                .body_json(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_no_rate_headers(&head);
    let health = app
        .send(request(Method::GET, "/health", None).body_json())
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_no_rate_headers(&health);
}

#[sqlx::test]
async fn a_refused_write_does_not_count(pool: PgPool) {
    let app = limited_app(pool, 2, 600).await;
    for _ in 0..2 {
        assert_eq!(
            app.post("/products", product()).await.status,
            StatusCode::CREATED
        );
    }
    let first = assert_rate_limited(&app.post("/products", product()).await, "/products", "2");
    for _ in 0..10 {
        app.post("/products", product()).await;
    }
    // Had the ten refusals counted, the wait would have grown by ten intervals (3000 s).
    let last = assert_rate_limited(&app.post("/products", product()).await, "/products", "2");
    assert!(last <= first, "first {first}, last {last}");
}

#[sqlx::test]
async fn each_organization_has_its_own_budget(pool: PgPool) {
    let app = limited_app(pool.clone(), 2, 600).await;
    let other_key = TestApp::key_for(&pool, "org_other").await;
    for _ in 0..2 {
        app.post("/products", product()).await;
    }
    assert_eq!(
        app.post("/products", product()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    for remaining in ["1", "0"] {
        let response = app
            .send(
                request(Method::POST, "/products", Some(product()))
                    .header("REB-APIKEY", &other_key)
                    .body_json(),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        assert_eq!(limit_and_remaining(&response), (Some("2"), Some(remaining)));
    }
}

#[sqlx::test]
async fn unauthenticated_and_forbidden_writes_do_not_count_and_carry_no_headers(pool: PgPool) {
    let app = limited_app(pool.clone(), 2, 600).await;
    let read_only = Permissions::parse(["GetProduct", "GetProductCollection"]).unwrap();
    let read_only_key = TestApp::restricted_key_for(&pool, ORGANIZATION, Some(read_only)).await;
    for _ in 0..5 {
        let unauthorized = app
            .send(
                request(Method::POST, "/products", Some(product()))
                    .header("REB-APIKEY", "sk_sandbox_notakeynotakeynotakeynotakey00")
                    .body_json(),
            )
            .await;
        assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
        assert_no_rate_headers(&unauthorized);
        let forbidden = app
            .send(
                request(Method::POST, "/products", Some(product()))
                    .header("REB-APIKEY", &read_only_key)
                    .body_json(),
            )
            .await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
        assert_no_rate_headers(&forbidden);
        let other_prefix = app
            .post("/organizations/org_elsewhere/products", product())
            .await;
        assert_eq!(other_prefix.status, StatusCode::FORBIDDEN);
        assert_no_rate_headers(&other_prefix);
    }
    let first = app.post("/products", product()).await;
    assert_eq!(limit_and_remaining(&first), (Some("2"), Some("1")));
}

#[sqlx::test]
async fn over_the_limit_429_comes_before_415_400_and_422(pool: PgPool) {
    let app = limited_app(pool, 1, 600).await;
    let invalid = app.post("/products", json!({"name": 5})).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(limit_and_remaining(&invalid), (Some("1"), Some("0")));
    let key = app.api_key.clone();
    let wrong_type = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/products")
        .header("REB-APIKEY", &key)
        .header("content-type", "text/plain")
        .body(axum::body::Body::from("{\"name\":\"Seat\"}"))
        .unwrap();
    let malformed = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/products")
        .header("REB-APIKEY", &key)
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"name\":"))
        .unwrap();
    for refused in [
        app.send(wrong_type).await,
        app.send(malformed).await,
        app.post("/products", json!({"name": 5})).await,
    ] {
        assert_rate_limited(&refused, "/products", "1");
    }
}

#[sqlx::test]
async fn with_limits_off_writes_carry_no_headers_and_are_never_429(pool: PgPool) {
    let app = TestApp::configured(pool, |state| {
        state.with_rate_limiter(Arc::new(RateLimiter::Off))
    })
    .await;
    for _ in 0..20 {
        let response = app.post("/products", product()).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        assert_no_rate_headers(&response);
    }
}

#[sqlx::test]
async fn the_default_limiter_counts_3000_writes_per_600_seconds(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app.post("/products", product()).await;
    assert_eq!(limit_and_remaining(&response), (Some("3000"), Some("2999")));
}

// The Redis limiter, each test on a redis-server of its own.

fn organization(id: &str) -> OrganizationId {
    OrganizationId::parse(id).unwrap()
}

/// A generous timeout: these tests check figures, never speed.
const PATIENT: Duration = Duration::from_secs(10);

fn shared(limit: RateLimit, url: &str) -> SharedLimiter {
    SharedLimiter::new(limit, url, PATIENT).unwrap()
}

/// What a header would show: limit, remaining, and the Retry-After of a refusal.
fn figures(decision: &Decision) -> (u32, u32, Option<u64>) {
    (
        decision.limit,
        decision.remaining,
        decision.refusal.map(|refusal| refusal.retry_after_secs()),
    )
}

#[tokio::test]
async fn the_redis_limiter_gives_the_same_figures_as_the_in_process_one() {
    let redis = RedisServer::start();
    for (requests, window) in [(3, 600), (7, 600), (1, 600), (5, 86_400)] {
        let limit = limit(requests, window);
        let local = LocalLimiter::new(limit);
        let shared = shared(limit, &redis.url());
        let org = organization(&format!("org_{requests}_{window}"));
        for attempt in 0..requests + 3 {
            let in_redis = shared.check(&org).await;
            let in_process = local.check(&org);
            assert_eq!(
                figures(&in_redis),
                figures(&in_process),
                "{requests} per {window} s, write {attempt}"
            );
        }
        assert!(shared.is_using_redis());
    }
}

#[tokio::test]
async fn in_redis_a_refused_organization_is_admitted_after_the_announced_wait() {
    let redis = RedisServer::start();
    let shared = shared(limit(2, 2), &redis.url());
    let org = organization("org_a");
    // Writes until one is refused: a write takes far less than the one-second interval, so
    // this ends after two or three.
    let mut writes = 0;
    let refusal = loop {
        if let Some(refusal) = shared.check(&org).await.refusal {
            break refusal;
        }
        writes += 1;
        assert!(writes < 100, "never refused");
    };
    assert!(refusal.wait <= Duration::from_secs(1), "{refusal:?}");
    tokio::time::sleep(refusal.wait + Duration::from_millis(10)).await;
    let again = shared.check(&org).await;
    assert!(again.is_admitted(), "{again:?}");
}

#[tokio::test]
async fn the_redis_key_holds_the_arrival_time_and_expires_when_the_budget_is_full_again() {
    let redis = RedisServer::start();
    let shared = shared(limit(3, 600), &redis.url());
    shared.check(&organization("org_a")).await;
    let mut connection = redis.connection().await;
    let key = "invoice-api:rate:org_a";
    let expires_in_ms: i64 = redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap();
    // One write of three per 600 s: full again one interval (200 s) later.
    assert!(
        (1..=200_000).contains(&expires_in_ms),
        "PTTL {expires_in_ms}"
    );
    let arrival: String = redis::cmd("GET")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap();
    let arrival_us: u64 = arrival.parse().expect("an integer of microseconds");
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    assert!(
        arrival_us.abs_diff(now_us + 200_000_000) < 60_000_000,
        "{arrival_us}"
    );
}

#[tokio::test]
async fn without_redis_the_limiter_counts_in_process_and_goes_back_to_redis_when_it_answers() {
    let port = free_port();
    let limiter = shared(limit(2, 600), &url_of_port(port));
    let org = organization("org_a");
    assert_eq!(limiter.check(&org).await.remaining, 1);
    assert!(!limiter.is_using_redis());
    assert_eq!(limiter.check(&org).await.remaining, 0);
    assert!(
        !limiter.check(&org).await.is_admitted(),
        "the fallback limits"
    );

    let redis = RedisServer::start_on(port);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !limiter.is_using_redis() {
        assert!(
            std::time::Instant::now() < deadline,
            "the limiter never went back to Redis"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Redis starts afresh: its own budget, counted there.
    assert_eq!(limiter.check(&org).await.remaining, 1);
    let mut connection = redis.connection().await;
    let exists: bool = redis::cmd("EXISTS")
        .arg("invoice-api:rate:org_a")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(exists);
}

#[sqlx::test]
async fn stripe_style_writes_count_and_carry_the_headers_and_no_route_or_read_does(pool: PgPool) {
    let app = limited_app(pool, 3, 600).await;
    let stripe = crate::stripe_client::Stripe::of(&app);
    let created = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_9"),
                ("currency", "usd"),
                ("amount", "100"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(limit_and_remaining(&created), (Some("3"), Some("2")));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let missing = stripe.delete("/v1/invoiceitems/ii_nosuchitem").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    assert_eq!(limit_and_remaining(&missing), (Some("3"), Some("1")));
    // Neither a read nor a write to a route that does not exist counts or carries them.
    let read = stripe.get(&format!("/v1/invoiceitems/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_no_rate_headers(&read);
    let no_route = stripe.post("/v1/no_such_things", &[("a", "b")]).await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND, "{}", no_route.text);
    assert_no_rate_headers(&no_route);
    let wrong_method = stripe
        .send(
            stripe.request(Method::PATCH, &format!("/v1/invoiceitems/{id}")),
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_no_rate_headers(&wrong_method);
    let last = stripe.delete(&format!("/v1/invoiceitems/{id}")).await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text);
    assert_eq!(limit_and_remaining(&last), (Some("3"), Some("0")));
}
