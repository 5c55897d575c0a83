//! Webhooks: each event type is delivered once, signed, in order per invoice; a rolled-back
//! change sends nothing; a failed delivery is retried after a backoff and logged; private
//! addresses are refused without the setting.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use invoice_api::delivery::schedule::RetrySchedule;
use invoice_api::delivery::{DeliverySettings, DeliveryWorker, Payloads, deliver_until_shutdown};
use invoice_api::domain::ids::{InvoiceId, OrganizationId};
use invoice_api::domain::invoice_item::{ItemInput, ItemType, Quantity, UnitPrice};
use invoice_api::http::AppState;
use invoice_api::http::rebilly::RebillyPayload;
use invoice_api::http::stripe::StripePayload;
use invoice_api::service::destinations::Destinations;
use invoice_api::service::invoice_items;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    ORGANIZATION, PUBLIC_URL, TestApp, app_db, assert_invalid_fields, changes, invoice_body,
    request,
};
use crate::receiver::Receiver;

/// Deliveries as a test wants them: to loopback, retried after 100 ms, looked for often.
pub fn test_settings() -> DeliverySettings {
    DeliverySettings {
        destinations: Destinations::Any,
        schedule: RetrySchedule {
            initial_delay: Duration::from_millis(100),
            ..RetrySchedule::default()
        },
        attempt_timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(50),
        ..DeliverySettings::default()
    }
}

/// A delivery worker over the test's database, as a server process runs one.
pub fn start_worker(pool: &PgPool, settings: DeliverySettings) {
    let db = app_db(pool);
    let state = AppState::new(db.clone(), None, PUBLIC_URL);
    let payloads = Payloads {
        invoice_events: Arc::new(RebillyPayload::new(state.clone())),
        object_events: Arc::new(StripePayload::new(state)),
    };
    let worker = DeliveryWorker::new(db, settings, payloads).unwrap();
    tokio::spawn(deliver_until_shutdown(worker));
}

/// The app, letting webhooks reach loopback.
pub async fn lenient_app(pool: &PgPool) -> TestApp {
    TestApp::configured(pool.clone(), |state| {
        state.with_webhook_destinations(Destinations::Any)
    })
    .await
}

/// Makes a webhook; its body as answered (with the secret).
async fn webhook(app: &TestApp, body: Value) -> Value {
    let created = app.post("/webhooks", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body
}

fn types(received: &[crate::receiver::Received]) -> Vec<String> {
    received
        .iter()
        .map(|delivery| delivery.json()["eventType"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test]
async fn an_organization_has_at_most_twenty_webhooks(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let body = json!({"url": "http://127.0.0.1:9/quota", "method": "POST"});
    let mut first = String::new();
    for n in 0..20 {
        let made = webhook(&app, body.clone()).await;
        if n == 0 {
            first = made["id"].as_str().unwrap().to_owned();
        }
    }
    let refused = app.post("/webhooks", body.clone()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("has 20 webhooks"), "{detail}");
    let by_id = app.put("/webhooks/hook-21st", body.clone()).await;
    assert_eq!(by_id.status, StatusCode::CONFLICT, "{}", by_id.text);
    let replaced = app.put(&format!("/webhooks/{first}"), body.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(
        app.delete(&format!("/webhooks/{first}")).await.status,
        StatusCode::NO_CONTENT
    );
    webhook(&app, body).await;
}

#[sqlx::test]
async fn a_url_too_long_once_percent_encoded_is_422_not_500(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let url = format!("https://example.com/{}", "€".repeat(600));
    let refused = app
        .post("/webhooks", json!({"url": url, "method": "POST"}))
        .await;
    assert_invalid_fields(
        &refused,
        "/webhooks",
        &[(
            "url",
            "must be at most 2048 characters once percent-encoded",
        )],
    );
}

#[sqlx::test]
async fn a_retried_create_answers_the_same_webhook_without_its_secret(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let create = || {
        request(
            Method::POST,
            "/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/retried", "method": "POST"})),
        )
        .header("REB-APIKEY", &app.api_key)
        .header("Idempotency-Key", "make-hook-1")
        .body_json()
    };
    let first = app.send(create()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let secret = first.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let again = app.send(create()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["secret"], Value::Null);
    assert!(!again.text.contains(secret));
    let kept: Vec<Vec<u8>> = sqlx::query_scalar("select response_body from idempotency_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        kept.iter()
            .all(|body| !String::from_utf8_lossy(body).contains(secret)),
        "the secret is kept nowhere but on the webhook"
    );
}

#[sqlx::test]
async fn webhooks_are_made_read_listed_replaced_and_deleted_and_show_their_secret_once(
    pool: PgPool,
) {
    let app = lenient_app(&pool).await;
    let made = webhook(
        &app,
        json!({"url": "http://127.0.0.1:9/a", "method": "POST",
               "eventsFilter": ["invoice-issued"],
               "headers": [{"name": "X-Token", "value": "t1"},
                           {"name": "X-Off", "value": "x", "status": "inactive"}],
               "credentialHash": "ignored"}),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    assert!(id.starts_with("hook_"));
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(made["status"], "active");
    assert_eq!(made["eventsFilter"], json!(["invoice-issued"]));
    assert_eq!(
        made["headers"],
        json!([{"name": "X-Token", "value": "t1", "status": "active"},
               {"name": "X-Off", "value": "x", "status": "inactive"}])
    );

    let read = app.get(&format!("/webhooks/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["secret"], Value::Null, "{}", read.text);
    assert_eq!(read.body["url"], "http://127.0.0.1:9/a");

    let replaced = app
        .put(
            &format!("/webhooks/{id}"),
            json!({"url": "http://127.0.0.1:9/b", "method": "PUT", "status": "inactive"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body["method"], "PUT");
    assert_eq!(replaced.body["eventsFilter"], json!([]));
    assert_eq!(replaced.body["secret"], Value::Null);

    let own = app
        .put(
            "/webhooks/hook-mine",
            json!({"url": "http://127.0.0.1:9/c", "method": "POST"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    assert!(own.body["secret"].as_str().unwrap().starts_with("whsec_"));

    let listed = app.get("/webhooks?limit=1").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.header("pagination-total"), Some("2"));
    assert_eq!(listed.body.as_array().unwrap().len(), 1);

    assert_eq!(
        app.delete(&format!("/webhooks/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/webhooks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/webhooks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn a_bad_webhook_is_refused_naming_every_bad_field(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let refused = app
        .post(
            "/webhooks",
            json!({"url": "ftp://example.com", "method": "BREW",
                   "eventsFilter": ["invoice-reissued"],
                   "headers": [{"name": "Webhook-Signature", "value": "v1,x"}],
                   "body": "{{invoice.id}}", "status": "on"}),
        )
        .await;
    assert_invalid_fields(
        &refused,
        "/webhooks",
        &[
            ("url", "must be an http or https URL"),
            ("method", "must be one of GET, POST, PUT, PATCH, DELETE"),
            ("status", "must be active or inactive"),
            (
                "eventsFilter",
                "invoice-reissued is not an event type sent here; known: invoice-created, invoice-modified, invoice-issued, invoice-voided, invoice-abandoned, invoice-paid, invoice-partially-paid, invoice-refunded, invoice-partially-refunded, invoice-past-due, credit-memo-created, credit-memo-applied, credit-memo-voided",
            ),
            (
                "headers.0.name",
                "Webhook-Signature is set by every delivery itself",
            ),
            (
                "body",
                "is not supported: deliveries carry the event's own payload",
            ),
        ],
    );
    let missing = app.post("/webhooks", json!({})).await;
    assert_invalid_fields(
        &missing,
        "/webhooks",
        &[("url", "is required"), ("method", "is required")],
    );
}

#[sqlx::test]
async fn a_url_on_a_private_network_is_refused_without_the_setting(pool: PgPool) {
    // The server's default: public addresses only.
    let app = TestApp::new(pool.clone()).await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://10.0.0.7/hook",
    ] {
        let refused = app
            .post("/webhooks", json!({"url": url, "method": "POST"}))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let field = &refused.body["invalidFields"][0];
        assert_eq!(field["field"], "url", "{url}");
        let message = field["message"].as_str().unwrap();
        assert!(
            message.contains("loopback, private or link-local"),
            "{url}: {message}"
        );
    }

    // A webhook saved while private addresses were allowed is refused again at delivery.
    let receiver = Receiver::start(&[]);
    let lenient = lenient_app(&pool).await;
    webhook(&lenient, json!({"url": receiver.url(), "method": "POST"})).await;
    start_worker(
        &pool,
        DeliverySettings {
            destinations: Destinations::PublicOnly,
            ..test_settings()
        },
    );
    lenient.create_invoice("USD").await;
    let log = wait_for_log(&lenient, 1).await;
    let entry = &log[0];
    assert_eq!(entry["status"], Value::Null, "{entry}");
    assert!(
        entry["error"]
            .as_str()
            .unwrap()
            .contains("loopback, private or link-local"),
        "{entry}"
    );
    assert!(receiver.received().is_empty());
}

/// Waits until the delivery log holds `count` entries; them, newest first.
async fn wait_for_log(app: &TestApp, count: usize) -> Vec<Value> {
    for _ in 0..600 {
        let log = app.get("/tracking/webhooks").await;
        assert_eq!(log.status, StatusCode::OK, "{}", log.text);
        let entries = log.body.as_array().unwrap().clone();
        if entries.len() >= count {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery log did not reach {count} entries");
}

#[sqlx::test]
async fn each_event_type_arrives_once_signed_with_the_webhooks_secret(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[]);
    let issued_only = Receiver::start(&[]);
    let all = webhook(
        &app,
        json!({"url": receiver.url(), "method": "POST",
               "headers": [{"name": "X-Source", "value": "tests"}]}),
    )
    .await;
    webhook(
        &app,
        json!({"url": issued_only.url(), "method": "POST", "eventsFilter": ["invoice-issued"]}),
    )
    .await;
    webhook(
        &app,
        json!({"url": issued_only.url(), "method": "POST", "status": "inactive"}),
    )
    .await;
    start_worker(&pool, test_settings());

    let first = app.create_invoice("USD").await;
    let item = app
        .create_item(
            &first,
            json!({"type": "debit", "unitPrice": 10, "quantity": 2}),
        )
        .await;
    let mut body = invoice_body("USD");
    body["notes"] = json!("Thanks");
    assert_eq!(
        app.put(&format!("/invoices/{first}"), body).await.status,
        StatusCode::OK
    );
    assert!(
        app.post(&format!("/invoices/{first}/issue"), json!({}))
            .await
            .status
            .is_success()
    );
    assert!(
        app.post(&format!("/invoices/{first}/void"), json!({}))
            .await
            .status
            .is_success()
    );
    let second = app.create_invoice("EUR").await;
    assert!(
        app.post(&format!("/invoices/{second}/abandon"), json!({}))
            .await
            .status
            .is_success()
    );

    let received = receiver.wait_for(7).await;
    let secret = all["secret"].as_str().unwrap();
    for delivery in &received {
        assert_eq!(delivery.method, "POST");
        assert!(delivery.signed_by(secret), "{:?}", delivery.headers);
        assert_eq!(delivery.header("x-source"), "tests");
        assert_eq!(delivery.header("content-type"), "application/json");
    }
    let ids: HashSet<&str> = received.iter().map(|d| d.header("webhook-id")).collect();
    assert_eq!(ids.len(), 7, "every event once");
    let of = |invoice: &str| -> Vec<(String, i64)> {
        received
            .iter()
            .map(|delivery| delivery.json())
            .filter(|payload| payload["invoiceId"] == invoice)
            .map(|payload| {
                (
                    payload["eventType"].as_str().unwrap().to_owned(),
                    payload["revision"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let expected: Vec<(String, i64)> = [
        ("invoice-created", 0),
        ("invoice-modified", 1),
        ("invoice-modified", 2),
        ("invoice-issued", 3),
        ("invoice-voided", 4),
    ]
    .map(|(kind, revision)| (kind.to_owned(), revision))
    .into();
    assert_eq!(of(&first), expected);
    assert_eq!(
        of(&second),
        vec![
            ("invoice-created".to_owned(), 0),
            ("invoice-abandoned".to_owned(), 1)
        ]
    );
    // The first invoice's deliveries, in the order they came (the second's may come between).
    let firsts: Vec<&crate::receiver::Received> = received
        .iter()
        .filter(|delivery| delivery.json()["invoiceId"] == json!(first))
        .collect();
    let modified = firsts[1].json();
    assert_eq!(
        modified["changes"],
        changes(json!({"fields": ["amount"], "itemsCreated": [item["id"]]}))
    );
    assert_eq!(modified["_embedded"]["invoice"]["id"], json!(first));
    assert_eq!(
        modified["_links"],
        json!([{"rel": "invoice", "href": format!("{PUBLIC_URL}/invoices/{first}")}])
    );
    assert_eq!(
        firsts[2].json()["changes"],
        changes(json!({"fields": ["notes"]}))
    );
    assert_eq!(firsts[2].header("webhook-id"), firsts[2].json()["eventId"]);

    let filtered = issued_only.wait_for(1).await;
    assert_eq!(types(&filtered), vec!["invoice-issued"]);
    // Nothing more comes: not twice, not to the inactive webhook.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 7);
    assert_eq!(issued_only.received().len(), 1);
}

#[sqlx::test]
async fn a_rolled_back_change_writes_no_event_and_sends_nothing(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[]);
    webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    let invoice = app.create_invoice("USD").await;
    start_worker(&pool, test_settings());
    receiver.wait_for(1).await;

    // The item is written with its event, then the transaction rolls back.
    let db = app_db(&pool);
    let mut tx = db.begin().await.unwrap();
    let input = ItemInput {
        item_type: ItemType::Debit,
        description: None,
        unit_price: UnitPrice::parse(Decimal::ONE).unwrap(),
        quantity: Quantity::parse(1).unwrap(),
        product_id: None,
        period_start_time: None,
        period_end_time: None,
        period_number: None,
        tax: None,
        vat: None,
        extras: None,
    };
    let organization_id = OrganizationId::parse(ORGANIZATION).unwrap();
    let invoice_id = InvoiceId::parse(&invoice).unwrap();
    invoice_items::create_item(&mut tx, &organization_id, &invoice_id, input)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let timeline = app.get(&format!("/invoices/{invoice}/timeline")).await;
    assert_eq!(timeline.header("pagination-total"), Some("1"));
    let (events, deliveries): (i64, i64) = sqlx::query_as(
        "select (select count(*) from invoice_events), (select count(*) from webhook_deliveries)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((events, deliveries), (1, 1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(types(&receiver.received()), vec!["invoice-created"]);
}

#[sqlx::test]
async fn a_failed_delivery_is_retried_after_a_backoff_logged_and_can_be_resent(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[500]);
    webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    start_worker(&pool, test_settings());
    let invoice = app.create_invoice("USD").await;

    let received = receiver.wait_for(2).await;
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    let waited = received[1].at - received[0].at;
    // The first retry waits 100 ms, less at most 20% of jitter.
    assert!(waited >= Duration::from_millis(80), "{waited:?}");

    let log = wait_for_log(&app, 2).await;
    assert_eq!(log[0]["status"], 200, "{}", log[0]);
    assert_eq!(log[0]["attempt"], 2);
    assert_eq!(log[1]["status"], 500);
    assert_eq!(log[1]["attempt"], 1);
    assert_eq!(log[1]["response"], "thanks");
    assert_eq!(log[1]["entityId"], json!(invoice));
    assert_eq!(log[1]["eventType"], "invoice-created");
    assert_eq!(log[1]["organizationId"], ORGANIZATION);
    assert_eq!(log[1]["source"], "webhooks");
    assert!(
        log[1]["requestHeaders"]["webhook-signature"]
            .as_str()
            .unwrap()
            .starts_with("v1,")
    );
    assert_eq!(
        log[1]["request"].as_str().unwrap(),
        std::str::from_utf8(&received[0].body).unwrap()
    );
    let id = log[1]["id"].as_str().unwrap();
    let one = app.get(&format!("/tracking/webhooks/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body, log[1]);

    let resent = app
        .call(
            Method::POST,
            &format!("/tracking/webhooks/{id}/resend"),
            None,
        )
        .await;
    assert_eq!(resent.status, StatusCode::NO_CONTENT, "{}", resent.text);
    let received = receiver.wait_for(3).await;
    assert_eq!(
        received[2].header("webhook-id"),
        received[0].header("webhook-id")
    );
    assert_eq!(
        app.get("/tracking/webhooks/hook_log_none").await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn under_a_thousand_concurrent_creates_each_invoices_events_arrive_in_revision_order(
    pool: PgPool,
) {
    let app = Arc::new(lenient_app(&pool).await);
    let receiver = Receiver::start(&[]);
    webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    start_worker(&pool, test_settings());
    let mut invoices = Vec::new();
    for _ in 0..10 {
        invoices.push(app.create_invoice("USD").await);
    }
    let creates = 1000;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..50)
        .map(|_| {
            let (app, invoices, next) = (Arc::clone(&app), invoices.clone(), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= creates {
                        return;
                    }
                    let invoice = &invoices[n % invoices.len()];
                    let answer = app
                        .post(
                            &format!("/invoices/{invoice}/items"),
                            json!({"type": "debit", "unitPrice": 1}),
                        )
                        .await;
                    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let received = receiver.wait_for(creates + invoices.len()).await;
    let mut revisions: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for delivery in &received {
        let payload = delivery.json();
        revisions
            .entry(payload["invoiceId"].as_str().unwrap().to_owned())
            .or_default()
            .push(payload["revision"].as_i64().unwrap());
    }
    let expected: Vec<i64> = (0..=100).collect();
    for invoice in &invoices {
        assert_eq!(revisions[invoice], expected, "{invoice}");
    }
    let ids: HashSet<&str> = received.iter().map(|d| d.header("webhook-id")).collect();
    assert_eq!(ids.len(), creates + invoices.len());
}

#[sqlx::test]
async fn the_delivery_log_forgets_what_is_older_than_its_retention(pool: PgPool) {
    for (id, days_old) in [
        ("hook_log_old1", 31),
        ("hook_log_old2", 400),
        ("hook_log_new", 29),
    ] {
        sqlx::query(
            "insert into webhook_attempts (organization_id, id, delivery_id, webhook_id,
                 event_id, event_type, invoice_id, attempt, url, method, status, duration_ms,
                 request, request_headers, initiated_time, sent_time, created_time)
             values ($1, $2, 1, 'hook_1', 'tmln_1', 'invoice-created', 'in_1', 1,
                 'http://127.0.0.1:9/', 'POST', 204, 1, '{}', '[]',
                 now() - make_interval(days => $3), now() - make_interval(days => $3),
                 now() - make_interval(days => $3))",
        )
        .bind(ORGANIZATION)
        .bind(id)
        .bind(days_old)
        .execute(&pool)
        .await
        .unwrap();
    }
    let db = app_db(&pool);
    let month = Duration::from_secs(30 * 24 * 60 * 60);
    let pruned = invoice_api::service::webhooks::prune_log(&db, month)
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    let kept: Vec<String> = sqlx::query_scalar("select id from webhook_attempts")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(kept, ["hook_log_new"]);
}

#[sqlx::test]
async fn resends_stop_at_a_hundred_deliveries_waiting_for_one_webhook(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let hook = webhook(
        &app,
        json!({"url": "http://127.0.0.1:9/resent", "method": "POST"}),
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap();
    // One delivery waits already: the new invoice's, which no worker sends here.
    app.create_invoice("USD").await;
    let event_id: String = sqlx::query_scalar("select id from invoice_events limit 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into webhook_attempts (organization_id, id, delivery_id, webhook_id, event_id,
             event_type, invoice_id, attempt, url, method, status, duration_ms, request,
             request_headers, initiated_time, sent_time, created_time)
         select $1, 'hook_log_resent', 1, $2, $3, 'invoice-created', invoice_id, 1,
             'http://127.0.0.1:9/resent', 'POST', 500, 1, '{}', '[]', now(), now(), now()
         from invoice_events where id = $3",
    )
    .bind(ORGANIZATION)
    .bind(hook_id)
    .bind(&event_id)
    .execute(&pool)
    .await
    .unwrap();
    let resend = "/tracking/webhooks/hook_log_resent/resend";
    for _ in 0..99 {
        let resent = app.call(Method::POST, resend, None).await;
        assert_eq!(resent.status, StatusCode::NO_CONTENT, "{}", resent.text);
    }
    let refused = app.call(Method::POST, resend, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("100 deliveries waiting"), "{detail}");
}

#[sqlx::test]
async fn a_tenant_whose_receivers_stall_delays_only_itself(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let other = TestApp {
        api_key: TestApp::key_for(&pool, "org_other").await,
        router: app.router.clone(),
        pool: pool.clone(),
    };
    // Every request to these is held unanswered for the whole test.
    let stalling = [Receiver::start(&[0; 8]), Receiver::start(&[0; 8])];
    for receiver in &stalling {
        webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    }
    let prompt = Receiver::start(&[]);
    webhook(&other, json!({"url": prompt.url(), "method": "POST"})).await;
    start_worker(
        &pool,
        DeliverySettings {
            // Far longer than the test: only the share per organization can free a place.
            attempt_timeout: Duration::from_secs(600),
            concurrency: 4,
            per_webhook: 2,
            per_organization: 2,
            ..test_settings()
        },
    );
    // Two invoices, so four deliveries that may go at once, one per webhook and invoice.
    app.create_invoice("USD").await;
    app.create_invoice("USD").await;
    let held = || {
        stalling
            .iter()
            .map(|receiver| receiver.received().len())
            .sum::<usize>()
    };
    while held() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let invoice = other.create_invoice("EUR").await;
    let received = prompt.wait_for(1).await;
    assert_eq!(received[0].json()["invoiceId"], json!(invoice));
    // The stalling tenant holds its two places, and no more, while the other's came through.
    assert_eq!(held(), 2);
}

#[sqlx::test]
async fn a_page_of_the_delivery_log_is_cut_short_once_its_bodies_reach_a_mebibyte(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let body = "x".repeat(300 * 1024);
    for number in 0..10 {
        sqlx::query(
            "insert into webhook_attempts (organization_id, id, delivery_id, webhook_id,
                 event_id, event_type, invoice_id, attempt, url, method, status, duration_ms,
                 request, request_headers, initiated_time, sent_time, created_time)
             values ($1, $2, 1, 'hook_1', 'tmln_1', 'invoice-created', 'in_1', 1,
                 'http://127.0.0.1:9/', 'POST', 204, 1, $3, '[]', now(), now(),
                 now() - make_interval(secs => $4))",
        )
        .bind(ORGANIZATION)
        .bind(format!("hook_log_{number}"))
        .bind(&body)
        .bind(f64::from(number))
        .execute(&pool)
        .await
        .unwrap();
    }
    let first = app.get("/tracking/webhooks?limit=10").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    // Three bodies make 900 KiB; the fourth passes a mebibyte, and the page ends with it.
    let ids = |page: &crate::helpers::TestResponse| -> Vec<String> {
        let entries = page.body.as_array().unwrap();
        entries
            .iter()
            .map(|entry| entry["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&first),
        ["hook_log_0", "hook_log_1", "hook_log_2", "hook_log_3"]
    );
    assert_eq!(first.header("pagination-limit"), Some("4"));
    assert_eq!(first.header("pagination-total"), Some("10"));
    let next = app.get("/tracking/webhooks?limit=10&offset=4").await;
    assert_eq!(
        ids(&next),
        ["hook_log_4", "hook_log_5", "hook_log_6", "hook_log_7"]
    );
    // The last page is short because the log ends: its limit is the one asked.
    let last = app.get("/tracking/webhooks?limit=10&offset=8").await;
    assert_eq!(last.body.as_array().unwrap().len(), 2);
    assert_eq!(last.header("pagination-limit"), Some("10"));
}

#[sqlx::test]
async fn the_delivery_log_keeps_the_first_bytes_of_a_large_body(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[]);
    webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    start_worker(
        &pool,
        DeliverySettings {
            kept_request_bytes: 1024,
            ..test_settings()
        },
    );
    let invoice = app.create_invoice("USD").await;
    let description = "a long description ".repeat(50);
    for _ in 0..3 {
        app.create_item(
            &invoice,
            json!({"type": "debit", "unitPrice": 10, "description": description}),
        )
        .await;
    }
    let received = receiver.wait_for(4).await;
    let sent = std::str::from_utf8(&received[3].body).unwrap();
    assert!(sent.len() > 2048, "{}", sent.len());
    let log = wait_for_log(&app, 4).await;
    let kept = log[0]["request"].as_str().unwrap();
    assert_eq!(kept.len(), 1024);
    assert!(sent.starts_with(kept));
}

#[sqlx::test]
async fn an_answer_holding_a_nul_is_logged_and_the_delivery_not_sent_again(pool: PgPool) {
    let app = lenient_app(&pool).await;
    // PostgreSQL's text holds no NUL: an answer that could not be logged would leave its
    // delivery pending, to be sent again whenever its lease ran out.
    let receiver = Receiver::answering(&[], "got it\0 thanks");
    webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    start_worker(&pool, test_settings());
    let invoice = app.create_invoice("USD").await;
    let log = wait_for_log(&app, 1).await;
    assert_eq!(log[0]["status"], 200, "{}", log[0]);
    assert_eq!(log[0]["response"], "got it\u{FFFD} thanks");

    app.create_item(&invoice, json!({"type": "debit", "unitPrice": 10}))
        .await;
    let log = wait_for_log(&app, 2).await;
    assert_eq!(log[0]["eventType"], "invoice-modified", "{}", log[0]);
    let received = receiver.received();
    assert_eq!(received.len(), 2, "each event once");
    assert_ne!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
}

#[sqlx::test]
async fn deliveries_behind_one_waiting_for_its_retry_are_not_due_before_it(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[500]);
    webhook(&app, json!({"url": receiver.url(), "method": "POST"})).await;
    // Three deliveries wait behind the first before it fails...
    let invoice = app.create_invoice("USD").await;
    for price in [1, 2] {
        app.create_item(&invoice, json!({"type": "debit", "unitPrice": price}))
            .await;
    }
    start_worker(
        &pool,
        DeliverySettings {
            schedule: RetrySchedule {
                initial_delay: Duration::from_secs(600),
                ..RetrySchedule::default()
            },
            ..test_settings()
        },
    );
    receiver.wait_for(1).await;
    wait_for_log(&app, 1).await;
    // ...and two more are written after it failed.
    for price in [3, 4] {
        app.create_item(&invoice, json!({"type": "debit", "unitPrice": price}))
            .await;
    }
    let times: Vec<(i32, f64)> = sqlx::query_as(
        "select attempts, extract(epoch from next_attempt_time - now())::float8
         from webhook_deliveries where state = 'pending' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(times.len(), 5, "{times:?}");
    let (attempts, retry_in) = times[0];
    assert_eq!(attempts, 1);
    // The retry waits 600 s, less at most 20% of jitter.
    assert!(retry_in > 400.0, "{times:?}");
    for (attempts, due_in) in &times[1..] {
        assert_eq!(*attempts, 0);
        assert!(*due_in >= retry_in - 0.001, "{times:?}");
    }
    assert_eq!(receiver.received().len(), 1);
}

#[sqlx::test]
async fn payments_and_refunds_arrive_as_their_events_in_order(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[]);
    webhook(
        &app,
        json!({"url": receiver.url(), "method": "POST",
               "eventsFilter": ["invoice-paid", "invoice-partially-paid", "invoice-refunded",
                                "invoice-partially-refunded"]}),
    )
    .await;
    start_worker(&pool, test_settings());
    let invoice = app.create_invoice("USD").await;
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": 50}))
        .await;
    app.post(&format!("/invoices/{invoice}/issue"), json!({}))
        .await;
    let transaction = |kind: &str, amount: i64| {
        json!({"type": kind, "customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
               "amount": amount, "paymentInstrument": {"method": "cash"}})
    };
    for (kind, amount) in [("sale", 20), ("sale", 30), ("refund", 10), ("refund", 40)] {
        let recorded = app.post("/transactions", transaction(kind, amount)).await;
        let applied = app
            .post(
                &format!("/invoices/{invoice}/transaction"),
                json!({"transactionId": recorded.body["id"]}),
            )
            .await;
        assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    }
    let received = receiver.wait_for(4).await;
    assert_eq!(
        types(&received),
        [
            "invoice-partially-paid",
            "invoice-paid",
            "invoice-partially-refunded",
            "invoice-refunded"
        ]
    );
    let revisions: Vec<i64> = received
        .iter()
        .map(|delivery| delivery.json()["revision"].as_i64().unwrap())
        .collect();
    assert!(
        revisions.windows(2).all(|pair| pair[0] < pair[1]),
        "{revisions:?}"
    );
    let last = received[3].json();
    assert_eq!(last["_embedded"]["invoice"]["status"], "refunded");
    assert_eq!(last["_embedded"]["invoice"]["amountDue"], json!(50));
}

#[sqlx::test]
async fn credit_memo_events_arrive_in_order_with_their_memo(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let receiver = Receiver::start(&[]);
    webhook(
        &app,
        json!({"url": receiver.url(), "method": "POST",
               "eventsFilter": ["credit-memo-created", "credit-memo-applied",
                                "credit-memo-voided", "invoice-partially-paid"]}),
    )
    .await;
    start_worker(&pool, test_settings());
    let invoice = app.create_invoice("USD").await;
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": 50}))
        .await;
    app.post(&format!("/invoices/{invoice}/issue"), json!({}))
        .await;
    let memo = app
        .post(
            "/credit-memos",
            json!({"customerId": "cus_1", "currency": "USD", "invoiceId": invoice,
                   "items": [{"description": "Goodwill", "unitPrice": 15}],
                   "allocations": {"invoices": [{"invoiceId": invoice}]}}),
        )
        .await;
    assert_eq!(memo.status, StatusCode::CREATED, "{}", memo.text);
    let id = memo.body["id"].as_str().unwrap();
    let voided = app
        .post(&format!("/credit-memos/{id}/void"), json!({}))
        .await;
    assert_eq!(voided.status, StatusCode::CREATED, "{}", voided.text);
    let received = receiver.wait_for(4).await;
    assert_eq!(
        types(&received),
        [
            "credit-memo-created",
            "credit-memo-applied",
            "invoice-partially-paid",
            "credit-memo-voided"
        ]
    );
    let applied = received[1].json();
    assert_eq!(applied["creditMemoId"], json!(id));
    assert_eq!(applied["invoiceId"], json!(invoice));
    assert_eq!(applied["_embedded"]["creditMemo"]["id"], json!(id));
    assert!(
        applied["_links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|link| link["rel"] == "creditMemo"),
        "{applied}"
    );
    let paid_part = received[2].json();
    assert!(paid_part.get("creditMemoId").is_none(), "{paid_part}");
    let last = received[3].json();
    // Rendered when delivered: the memo as it is now, voided, and the invoice owing all again.
    assert_eq!(last["_embedded"]["creditMemo"]["status"], "voided");
    assert_eq!(last["_embedded"]["invoice"]["amountDue"], json!(50));
}
