//! `Idempotency-Key` on POST: replay, mismatch, in-flight retries, scope, expiry, and what is
//! kept of failures.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    TestApp, TestResponse, assert_invalid_fields, assert_problem, database_url, hold_invoice_lock,
    invoice_body, request,
};

impl TestApp {
    /// A POST with the default key, an `Idempotency-Key` and, if given, a JSON body.
    async fn post_with_key(&self, path: &str, key: &str, body: Option<Value>) -> TestResponse {
        let request = request(Method::POST, path, body)
            .header("REB-APIKEY", &self.api_key)
            .header("Idempotency-Key", key);
        self.send(request.body_json()).await
    }

    /// A POST with an `Idempotency-Key` and a body given as raw text.
    async fn post_text_with_key(&self, path: &str, key: &str, text: &str) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("REB-APIKEY", &self.api_key)
            .header("Idempotency-Key", key)
            .header("content-type", "application/json")
            .body(Body::from(text.to_owned()))
            .unwrap();
        self.send(request).await
    }
}

async fn item_count(pool: &PgPool, invoice_id: &str) -> i64 {
    sqlx::query_scalar("select count(*) from invoice_items where invoice_id = $1")
        .bind(invoice_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_retry_gets_the_first_answer_and_the_work_is_done_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let first = app
        .post_text_with_key(
            &path,
            "key-1",
            r#"{"type": "debit", "unitPrice": 19.99, "quantity": 3}"#,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    // The same body as parsed JSON: other key order and spacing.
    let retry = app
        .post_text_with_key(
            &path,
            "key-1",
            r#"{"quantity":3,"unitPrice":19.99,"type":"debit"}"#,
        )
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.text, first.text);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_eq!(item_count(&app.pool, &invoice_id).await, 1);
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(
        (
            invoice["subtotalAmount"].clone(),
            invoice["revision"].clone()
        ),
        (json!(59.97), json!(1))
    );

    // Numbers are compared by value, digit by digit: 19.99 spelled otherwise is the same body.
    let spelled = app
        .post_text_with_key(
            &path,
            "key-1",
            r#"{"type":"debit","unitPrice":1999e-2,"quantity":3.0}"#,
        )
        .await;
    assert_eq!((spelled.status, &spelled.text), (first.status, &first.text));

    // Another key is another request.
    let other = app
        .post_with_key(
            &path,
            "key-2",
            Some(json!({"type": "debit", "unitPrice": 19.99, "quantity": 3})),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(other.body["id"], first.body["id"]);
    assert_eq!(item_count(&app.pool, &invoice_id).await, 2);
}

#[sqlx::test]
async fn every_post_can_be_replayed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let posts = [
        ("/invoices", Some(invoice_body("EUR"))),
        ("/products", Some(json!({"name": "Widget"}))),
    ];
    for (path, body) in posts {
        let first = app.post_with_key(path, path, body.clone()).await;
        let retry = app.post_with_key(path, path, body).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        assert_eq!((retry.status, &retry.text), (first.status, &first.text));
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    }
    // The lifecycle actions, with and without a body: a retried issue is not a 409.
    let invoice_id = app.create_invoice("USD").await;
    let issue = format!("/invoices/{invoice_id}/issue");
    let body = json!({"issuedTime": "2026-11-21T10:00:00Z"});
    let first = app.post_with_key(&issue, "issue", Some(body.clone())).await;
    let retry = app.post_with_key(&issue, "issue", Some(body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!((retry.status, &retry.text), (first.status, &first.text));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // An empty object is the same request as no body.
    let void = format!("/invoices/{invoice_id}/void");
    let first = app.post_with_key(&void, "void", Some(json!({}))).await;
    let retry = app.post_with_key(&void, "void", None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!((retry.status, &retry.text), (first.status, &first.text));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.invoice(&invoice_id).await["revision"], 2);
    let draft = app.create_invoice("USD").await;
    let abandon = format!("/invoices/{draft}/abandon");
    let first = app.post_with_key(&abandon, "abandon", None).await;
    let retry = app.post_with_key(&abandon, "abandon", None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!((retry.status, &retry.text), (first.status, &first.text));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
}

#[sqlx::test]
async fn a_key_reused_for_another_body_or_path_is_422(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let item = json!({"type": "debit", "unitPrice": 10});
    assert_eq!(
        app.post_with_key(&path, "k", Some(item)).await.status,
        StatusCode::CREATED
    );

    let other_body = app
        .post_with_key(&path, "k", Some(json!({"type": "debit", "unitPrice": 11})))
        .await;
    assert_invalid_fields(
        &other_body,
        &path,
        &[(
            "Idempotency-Key",
            "was already used with another request body",
        )],
    );
    let other_path = app
        .post_with_key("/invoices", "k", Some(invoice_body("USD")))
        .await;
    assert_invalid_fields(
        &other_path,
        "/invoices",
        &[(
            "Idempotency-Key",
            &format!("was already used for a request to {path}"),
        )],
    );
    assert_eq!(item_count(&app.pool, &invoice_id).await, 1);
}

#[sqlx::test]
async fn a_key_is_1_to_255_printable_ascii_characters(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let long = "k".repeat(256);
    for key in ["", long.as_str()] {
        let response = app
            .post_with_key("/invoices", key, Some(invoice_body("USD")))
            .await;
        assert_invalid_fields(
            &response,
            "/invoices",
            &[(
                "Idempotency-Key",
                "must be 1 to 255 printable ASCII characters",
            )],
        );
    }
    let count: i64 = sqlx::query_scalar("select count(*) from invoices")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    let twice = request(Method::POST, "/invoices", Some(invoice_body("USD")))
        .header("REB-APIKEY", &app.api_key)
        .header("Idempotency-Key", "a")
        .header("Idempotency-Key", "b");
    let response = app.send(twice.body_json()).await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[("Idempotency-Key", "must be given once")],
    );
    let widest = "k".repeat(255);
    let response = app
        .post_with_key("/invoices", &widest, Some(invoice_body("USD")))
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
}

#[sqlx::test]
async fn keys_belong_to_their_organization(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let other = TestApp::new(pool).await;
    let mut other = other;
    other.api_key = TestApp::key_for(&other.pool, "org_other").await;
    let first = app
        .post_with_key("/invoices", "shared", Some(invoice_body("USD")))
        .await;
    let theirs = other
        .post_with_key("/invoices", "shared", Some(invoice_body("USD")))
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.body["id"], first.body["id"]);
}

#[sqlx::test]
async fn a_client_error_of_the_work_is_kept_as_the_answer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let path = "/invoices/inv-later/items";
    let item = json!({"type": "debit", "unitPrice": 10});
    let first = app.post_with_key(path, "early", Some(item.clone())).await;
    assert_problem(&first, StatusCode::NOT_FOUND, "Not Found", path);
    assert_eq!(
        app.put("/invoices/inv-later", invoice_body("USD"))
            .await
            .status,
        StatusCode::CREATED
    );
    // The retry is answered as the first request was, as its own problem document.
    let retry = app.post_with_key(path, "early", Some(item)).await;
    assert_problem(&retry, StatusCode::NOT_FOUND, "Not Found", path);
    assert_eq!(retry.body["detail"], first.body["detail"]);
    assert_ne!(retry.body["requestId"], first.body["requestId"]);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(item_count(&app.pool, "inv-later").await, 0);
}

#[sqlx::test]
async fn a_server_error_is_not_kept_so_the_request_can_be_retried(pool: PgPool) {
    // Only the attempt meant to time out goes through the impatient app: the retry, through
    // the same organization's patient one, succeeds however slow the machine is.
    let app = TestApp::new(pool.clone()).await;
    let impatient = TestApp::configured(pool.clone(), |state| {
        state.with_request_timeout(Duration::from_millis(300))
    })
    .await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let item = json!({"type": "debit", "unitPrice": 10});
    // Another transaction holds the invoice's row lock: the first attempt times out (503).
    let blocker = hold_invoice_lock(&pool, &invoice_id).await;
    let first = impatient
        .post_with_key(&path, "slow", Some(item.clone()))
        .await;
    assert_eq!(
        first.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        first.text
    );
    blocker.rollback().await.unwrap();
    // The abandoned attempt still held the key until its statement ended and its rollback ran:
    // until then a retry is 409, as for any request still running, and the client retries.
    let retry = loop {
        let retry = app.post_with_key(&path, "slow", Some(item.clone())).await;
        if retry.status != StatusCode::CONFLICT {
            break retry;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed"), None);
    assert_eq!(item_count(&app.pool, &invoice_id).await, 1);
}

#[sqlx::test]
async fn a_retry_while_the_first_is_running_is_409_at_once(pool: PgPool) {
    let app = Arc::new(TestApp::new(pool.clone()).await);
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let item = json!({"type": "debit", "unitPrice": 10});
    // The first request waits on the invoice's row lock, holding its key.
    let blocker = hold_invoice_lock(&pool, &invoice_id).await;
    let first = tokio::spawn({
        let (app, path, item) = (app.clone(), path.clone(), item.clone());
        async move { app.post_with_key(&path, "busy", Some(item)).await }
    });
    // Until the first holds the key, a retry would itself be first (and wait on the row).
    let holds_key = "select exists (select from pg_locks where locktype = 'advisory' and granted
        and database = (select oid from pg_database where datname = current_database()))";
    while !sqlx::query_scalar::<_, bool>(holds_key)
        .fetch_one(&pool)
        .await
        .unwrap()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let retry = app.post_with_key(&path, "busy", Some(item.clone())).await;
    assert_problem(&retry, StatusCode::CONFLICT, "Conflict", &path);
    assert!(
        retry.body["detail"]
            .as_str()
            .unwrap()
            .contains("still being processed")
    );
    blocker.rollback().await.unwrap();
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let later = app.post_with_key(&path, "busy", Some(item)).await;
    assert_eq!((later.status, &later.text), (first.status, &first.text));
    assert_eq!(item_count(&app.pool, &invoice_id).await, 1);
}

#[sqlx::test]
async fn a_key_expires_after_24_hours(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let first = app
        .post_with_key("/invoices", "old", Some(invoice_body("USD")))
        .await;
    sqlx::query("update idempotency_keys set created_time = now() - interval '24 hours 1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    // Expired, the key is free again, even for another body.
    let again = app
        .post_with_key("/invoices", "old", Some(invoice_body("EUR")))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_ne!(again.body["id"], first.body["id"]);
    let purged =
        invoice_api::service::idempotency::purge_expired(&crate::helpers::app_db(&app.pool))
            .await
            .unwrap();
    assert_eq!(purged, 0, "the reused key was renewed, not left expired");
}

/// Clients that each retry their create until it is answered 201, two copies of every request
/// racing: exactly one item per key, and the copies get the same item.
#[sqlx::test]
async fn concurrent_retried_creates_make_one_item_per_key(pool: PgPool) {
    let keys: usize = std::env::var("IDEMPOTENCY_STORM_KEYS")
        .ok()
        .and_then(|keys| keys.parse().ok())
        .unwrap_or(2000);
    // Limits off: the clients make more writes than the default 3000 per 600 s.
    let limits_off = Arc::new(invoice_api::service::rate_limit::RateLimiter::Off);
    let app = TestApp::configured(pool, |state| state.with_rate_limiter(limits_off)).await;
    let app = Arc::new(app);
    let invoice_id = app.create_invoice("USD").await;
    let path = Arc::new(format!("/invoices/{invoice_id}/items"));
    let started = std::time::Instant::now();
    let clients: Vec<_> = (0..keys * 2)
        .map(|n| {
            let (app, path) = (app.clone(), path.clone());
            tokio::spawn(async move {
                let key = format!("storm-{}", n / 2);
                let cents = (n / 2 % 10_000) as f64;
                let item = json!({"type": "debit", "unitPrice": cents / 100.0});
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    let response = app.post_with_key(&path, &key, Some(item.clone())).await;
                    match response.status {
                        StatusCode::CREATED => {
                            return (
                                key,
                                response.body["id"].as_str().unwrap().to_owned(),
                                attempts,
                            );
                        }
                        StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE => {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        status => panic!("{status}: {}", response.text),
                    }
                }
            })
        })
        .collect();
    let mut answers = std::collections::HashMap::<String, String>::new();
    let mut attempts = 0;
    for client in clients {
        let (key, item_id, tries) = client.await.unwrap();
        attempts += tries;
        if let Some(earlier) = answers.insert(key.clone(), item_id.clone()) {
            assert_eq!(earlier, item_id, "both copies of {key} get the same item");
        }
    }
    let stored: Vec<(String, Decimal)> =
        sqlx::query_as("select id, price from invoice_items where invoice_id = $1")
            .bind(&invoice_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(answers.len(), keys);
    assert_eq!(stored.len(), keys, "exactly one item per key");
    let answered: std::collections::HashSet<_> = answers.values().collect();
    assert!(stored.iter().all(|(id, _)| answered.contains(id)));
    let invoice = app.invoice(&invoice_id).await;
    let sum: Decimal = stored.iter().map(|(_, price)| price).sum();
    assert_eq!(
        invoice["subtotalAmount"].to_string(),
        sum.normalize().to_string()
    );
    assert_eq!(invoice["revision"], json!(keys));
    eprintln!(
        "{keys} keys, {} clients, {attempts} requests in {:.1?}: {} items",
        keys * 2,
        started.elapsed(),
        stored.len()
    );
}

/// A client error of the work is kept without what the work wrote before it: the savepoint
/// taken after the key is claimed undoes the work and keeps what came before it.
#[sqlx::test]
async fn undoing_to_the_savepoint_keeps_what_came_before_it(pool: PgPool) {
    use invoice_api::domain::ids::{OrganizationId, ProductId};
    use invoice_api::domain::product::Product;
    let product = |name: &str| Product {
        id: ProductId::generate(),
        name: name.to_owned(),
        description: None,
        unit_label: None,
        created_time: chrono::Utc::now(),
        updated_time: chrono::Utc::now(),
    };
    let organization = OrganizationId::parse("org_savepoint").unwrap();
    let db = crate::helpers::app_db(&pool);
    let mut tx = db.begin().await.unwrap();
    tx.insert_product(&organization, &product("Kept"))
        .await
        .unwrap();
    tx.savepoint().await.unwrap();
    tx.insert_product(&organization, &product("Undone"))
        .await
        .unwrap();
    tx.roll_back_to_savepoint().await.unwrap();
    tx.commit().await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("select name from products")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(names, ["Kept"]);
}

/// An attempt abandoned by the request timeout while it waits on a lock gives its key back
/// once the lock timeout ends that wait, even if the lock is never released.
#[sqlx::test]
async fn an_abandoned_attempt_frees_its_key_after_the_lock_timeout(pool: PgPool) {
    let url = database_url(&pool);
    let lock_timeout = Duration::from_millis(600);
    let server_pool = invoice_api::startup::connect(
        url.parse().unwrap(),
        5,
        Duration::from_secs(5),
        invoice_api::repository::Planning::Once,
    )
    .await
    .unwrap();
    let app = TestApp::configured(server_pool, |state| {
        let state = state.with_request_timeout(Duration::from_millis(300));
        let db = state.db.clone().with_lock_timeout(lock_timeout);
        state.with(|parts| parts.db = db)
    })
    .await;
    // The lock timeout lives in each transaction, never on a session of the pool, which a
    // transaction-mode pooler would hand to another client.
    let session: String = sqlx::query_scalar("show lock_timeout")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(session, "0");
    // The invoice is made through a patient app, so a slow machine cannot time it out.
    let invoice_id = TestApp::new(pool.clone()).await.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let item = json!({"type": "debit", "unitPrice": 10});
    let blocker = hold_invoice_lock(&pool, &invoice_id).await;
    let first = app.post_with_key(&path, "stuck", Some(item.clone())).await;
    assert_eq!(
        first.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        first.text
    );
    // The row stays locked throughout; a retry is 409 while the abandoned attempt waits, then
    // claims the key itself (and, the row still locked, times out in its turn).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let retry = loop {
        let retry = app.post_with_key(&path, "stuck", Some(item.clone())).await;
        if retry.status != StatusCode::CONFLICT {
            break retry;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the key was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        retry.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        retry.text
    );
    blocker.rollback().await.unwrap();
    assert_eq!(item_count(&pool, &invoice_id).await, 0);
}

/// A write route outside Rebilly's edge, as another dialect's would be: its answers, an error
/// in its own shape or a success, are kept and given again byte for byte.
fn another_edge(pool: &PgPool, api_key: String) -> TestApp {
    use axum::Extension;
    use axum::extract::State;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use invoice_api::domain::idempotency::CanonicalBody;
    use invoice_api::domain::permission::Operation;
    use invoice_api::error::ApiError;
    use invoice_api::http::auth::{Principal, RouteOperations};
    use invoice_api::http::idempotency::{Idempotency, run_write};
    use invoice_api::http::{AppState, OwnErrorShape};
    use invoice_api::startup::with_layers;

    async fn write(
        State(state): State<AppState>,
        principal: Principal,
        idempotency: Idempotency,
        body: String,
    ) -> Result<Response, ApiError> {
        let request = idempotency.request(Some(CanonicalBody::of_json(&body)));
        run_write(&state, &principal, request, async |_tx| {
            // Made anew by every run of the work, so a replay shows whether it ran again.
            let run = uuid::Uuid::new_v4();
            if body.contains("decline") {
                let error = format!(r#"{{"error":{{"type":"card_error","run":"{run}"}}}}"#);
                let mut response = (
                    StatusCode::PAYMENT_REQUIRED,
                    [("content-type", "application/json")],
                    error,
                )
                    .into_response();
                response.extensions_mut().insert(OwnErrorShape);
                Ok(response)
            } else {
                let made = format!(r#"{{"object":"thing", "run":"{run}"}}"#);
                Ok((
                    StatusCode::OK,
                    [("content-type", "application/json; charset=utf-8")],
                    made,
                )
                    .into_response())
            }
        })
        .await
    }
    let state = AppState::new(
        crate::helpers::app_db(pool),
        None,
        crate::helpers::PUBLIC_URL,
    );
    let operations = RouteOperations::new(&[(Method::POST, Operation::PostInvoice)]);
    let routes = axum::Router::new()
        .route("/another/things", post(write))
        .layer(Extension(operations));
    TestApp {
        router: with_layers(routes, &state).with_state(state),
        pool: pool.clone(),
        api_key,
    }
}

#[sqlx::test]
async fn a_replay_gives_the_first_answers_bytes_whatever_shape_its_edge_gave_them(pool: PgPool) {
    let api_key = TestApp::key_for(&pool, crate::helpers::ORGANIZATION).await;
    let app = another_edge(&pool, api_key);
    for (key, body, status) in [
        (
            "declined",
            r#"{"card": "decline"}"#,
            StatusCode::PAYMENT_REQUIRED,
        ),
        ("made", r#"{"card": "good"}"#, StatusCode::OK),
    ] {
        let first = app.post_text_with_key("/another/things", key, body).await;
        assert_eq!(first.status, status, "{}", first.text);
        let retry = app.post_text_with_key("/another/things", key, body).await;
        assert_eq!(retry.status, status);
        assert_eq!(retry.text, first.text, "the body's bytes");
        assert_eq!(
            retry.header("content-type"),
            first.header("content-type"),
            "{key}"
        );
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(first.header("idempotent-replayed"), None);
        // A new key does the work again.
        let other = app
            .post_text_with_key("/another/things", &format!("{key}-2"), body)
            .await;
        assert_ne!(other.text, first.text);
    }
}
