//! `/v1/webhook_endpoints`: endpoints made Stripe's way, and deliveries of the log's events
//! signed as Stripe signs its own.

use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgPool;

use crate::helpers::TestApp;
use crate::receiver::{Received, Receiver};
use crate::stripe_client::{Stripe, assert_stripe_error};
use crate::webhooks::{lenient_app, start_worker, test_settings};

/// Whether the delivery carries `Stripe-Signature: t=...,v1=...` of `secret` over its body,
/// computed here as Stripe documents it, not by the server's code.
fn signed_by(received: &Received, secret: &str) -> bool {
    let header = received.header("stripe-signature");
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = Some(value.to_owned()),
            Some(("v1", value)) => signatures.push(value.to_owned()),
            _ => {}
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.", timestamp.unwrap()).as_bytes());
    mac.update(&received.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    signatures.contains(&expected)
}

/// Makes an endpoint for `url` that takes `events`, expecting 200; its signing secret.
async fn endpoint_for(stripe: &Stripe<'_>, url: &str, events: &[&str]) -> String {
    let mut pairs = vec![("url", url)];
    pairs.extend(events.iter().map(|event| ("enabled_events[]", *event)));
    let made = stripe.post("/v1/webhook_endpoints", &pairs).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    made.body["secret"].as_str().unwrap().to_owned()
}

#[sqlx::test]
async fn an_endpoint_is_made_read_changed_listed_and_deleted(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let stripe = Stripe::of(&app);
    let made = stripe
        .post(
            "/v1/webhook_endpoints",
            &[
                ("url", "http://127.0.0.1:9/hooks"),
                ("enabled_events[]", "invoice.paid"),
                ("enabled_events[]", "invoiceitem.created"),
                ("description", "Back office"),
                ("metadata[team]", "billing"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let endpoint = &made.body;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("we_"), "{id}");
    assert_eq!(endpoint["object"], "webhook_endpoint");
    assert_eq!(endpoint["status"], "enabled");
    assert_eq!(endpoint["url"], "http://127.0.0.1:9/hooks");
    assert_eq!(
        endpoint["enabled_events"],
        json!(["invoice.paid", "invoiceitem.created"])
    );
    assert_eq!(endpoint["description"], "Back office");
    assert_eq!(endpoint["metadata"], json!({"team": "billing"}));
    assert!(endpoint["secret"].as_str().unwrap().starts_with("whsec_"));

    let read = stripe.get(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(read.body.get("secret").is_none(), "{}", read.text);
    assert_eq!(read.body["description"], "Back office");

    let changed = stripe
        .post(
            &format!("/v1/webhook_endpoints/{id}"),
            &[
                ("disabled", "true"),
                ("enabled_events[]", "*"),
                ("description", ""),
                ("metadata[owner]", "ops"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["status"], "disabled");
    assert_eq!(changed.body["enabled_events"], json!(["*"]));
    assert_eq!(changed.body["description"], Value::Null);
    assert_eq!(
        changed.body["metadata"],
        json!({"team": "billing", "owner": "ops"})
    );
    assert_eq!(changed.body["url"], "http://127.0.0.1:9/hooks");

    let second = stripe
        .post(
            "/v1/webhook_endpoints",
            &[
                ("url", "http://127.0.0.1:9/other"),
                ("enabled_events[]", "*"),
            ],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let list = stripe.get("/v1/webhook_endpoints?limit=1").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["url"], "/v1/webhook_endpoints");
    assert_eq!(list.body["data"][0]["id"], second_id.as_str());
    assert_eq!(list.body["has_more"], true);
    let next = stripe
        .get(&format!("/v1/webhook_endpoints?starting_after={second_id}"))
        .await;
    assert_eq!(next.body["data"][0]["id"], id.as_str());
    assert_eq!(next.body["has_more"], false);
    // The Rebilly routes list their own webhooks, not these, and replace none of them.
    let rebilly = app.get("/webhooks").await;
    assert_eq!(rebilly.body, json!([]), "{}", rebilly.text);
    let replaced = app
        .put(
            &format!("/webhooks/{id}"),
            json!({"url": "http://127.0.0.1:9/elsewhere", "method": "POST"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::CONFLICT, "{}", replaced.text);
    let kept = stripe.get(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(kept.body["url"], "http://127.0.0.1:9/hooks");
    assert_eq!(
        kept.body["metadata"],
        json!({"team": "billing", "owner": "ops"})
    );

    let deleted = stripe.delete(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        deleted.body,
        json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    let gone = stripe.get(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_stripe_error(
        &gone,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
}

#[sqlx::test]
async fn bad_endpoints_are_400_naming_the_parameter(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("enabled_events[]", "*")], "url"),
        (&[("url", "http://example.com/hooks")], "enabled_events"),
        (
            &[("url", "ftp://example.com/"), ("enabled_events[]", "*")],
            "url",
        ),
        (
            &[
                ("url", "https://example.com/"),
                ("enabled_events[]", "customer.created"),
            ],
            "enabled_events",
        ),
        (
            &[
                ("url", "https://example.com/"),
                ("enabled_events[]", "*"),
                ("api_version", "2020-08-27"),
            ],
            "api_version",
        ),
    ];
    for (params, param) in cases {
        let refused = stripe.post("/v1/webhook_endpoints", params).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert_eq!(refused.body["error"]["param"], param, "{}", refused.text);
    }
    // A private address is refused unless the server lets webhooks reach it.
    let private = stripe
        .post(
            "/v1/webhook_endpoints",
            &[("url", "http://127.0.0.1:9/"), ("enabled_events[]", "*")],
        )
        .await;
    assert_eq!(private.status, StatusCode::BAD_REQUEST, "{}", private.text);
    assert_eq!(private.body["error"]["param"], "url");
    let listed = stripe.get("/v1/webhook_endpoints").await;
    assert_eq!(listed.body["data"], json!([]));
    // A Rebilly webhook is no endpoint here.
    let unknown = stripe.get("/v1/webhook_endpoints/hook_01").await;
    assert_stripe_error(
        &unknown,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
}

#[sqlx::test]
async fn the_logs_events_arrive_signed_as_stripe_signs_them(pool: PgPool) {
    let receiver = Receiver::start(&[500]);
    let only_paid = Receiver::start(&[]);
    let app = lenient_app(&pool).await;
    let stripe = Stripe::of(&app);
    let every = stripe
        .post(
            "/v1/webhook_endpoints",
            &[("url", &receiver.url()), ("enabled_events[]", "*")],
        )
        .await;
    assert_eq!(every.status, StatusCode::OK, "{}", every.text);
    let secret = every.body["secret"].as_str().unwrap().to_owned();
    let paid = stripe
        .post(
            "/v1/webhook_endpoints",
            &[
                ("url", &only_paid.url()),
                ("enabled_events[]", "invoice.paid"),
            ],
        )
        .await;
    let paid_secret = paid.body["secret"].as_str().unwrap().to_owned();
    start_worker(&pool, test_settings());

    let created = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_w"), ("currency", "usd")],
        )
        .await;
    let invoice_id = created.body["id"].as_str().unwrap().to_owned();
    stripe
        .create(&[
            ("customer", "cus_w"),
            ("invoice", &invoice_id),
            ("amount", "4200"),
        ])
        .await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{invoice_id}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    let paid_now = stripe
        .post(
            &format!("/v1/invoices/{invoice_id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid_now.status, StatusCode::OK, "{}", paid_now.text);

    // The first attempt is refused (500) and retried: at least once, in order.
    let received = receiver.wait_for(6).await;
    let mut seen: Vec<String> = Vec::new();
    for delivery in &received {
        assert!(signed_by(delivery, &secret), "{:?}", delivery.headers);
        assert!(!signed_by(delivery, &paid_secret));
        assert_eq!(delivery.header("content-type"), "application/json");
        let event = delivery.json();
        assert_eq!(event["object"], "event");
        let id = event["id"].as_str().unwrap().to_owned();
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    let log = crate::stripe_events::settled_log(&stripe, seen.len()).await;
    let mut listed: Vec<String> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_owned())
        .collect();
    listed.reverse();
    assert_eq!(seen, listed);
    let types: Vec<String> = received
        .iter()
        .map(|delivery| delivery.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types[0], "invoice.created");
    assert_eq!(types.last().unwrap(), "invoice.paid");
    // Each body is the event as the log shows it.
    let last = received.last().unwrap().json();
    let shown = stripe
        .get(&format!("/v1/events/{}", last["id"].as_str().unwrap()))
        .await;
    assert_eq!(last["data"], shown.body["data"]);

    let paid_only = only_paid.wait_for(1).await;
    assert_eq!(paid_only.len(), 1);
    assert!(signed_by(&paid_only[0], &paid_secret));
    assert_eq!(paid_only[0].json()["type"], "invoice.paid");
    assert_eq!(paid_only[0].json()["data"]["object"]["status"], "paid");
    // The attempts are in the delivery log.
    let attempts = app.get("/tracking/webhooks").await;
    assert!(
        attempts.body.as_array().unwrap().len() >= 7,
        "{}",
        attempts.text
    );
}

#[sqlx::test]
async fn an_endpoint_may_ask_for_the_events_no_invoice_webhook_is_sent(pool: PgPool) {
    let app = lenient_app(&pool).await;
    let stripe = Stripe::of(&app);
    for name in [
        "invoice.payment_succeeded",
        "invoice.sent",
        "invoice.deleted",
        "invoiceitem.created",
        "invoiceitem.updated",
        "invoiceitem.deleted",
    ] {
        let made = stripe
            .post(
                "/v1/webhook_endpoints",
                &[
                    ("url", "http://127.0.0.1:9/hooks"),
                    ("enabled_events[]", name),
                ],
            )
            .await;
        assert_eq!(made.status, StatusCode::OK, "{name}: {}", made.text);
        assert_eq!(made.body["enabled_events"], json!([name]));
        let id = made.body["id"].as_str().unwrap();
        let gone = stripe.delete(&format!("/v1/webhook_endpoints/{id}")).await;
        assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    }
}

#[sqlx::test]
async fn a_pending_items_events_arrive_at_an_endpoint_and_at_no_invoice_webhook(pool: PgPool) {
    let receiver = Receiver::start(&[500]);
    let invoices_only = Receiver::start(&[]);
    let app = lenient_app(&pool).await;
    let stripe = Stripe::of(&app);
    let events = [
        "invoiceitem.created",
        "invoiceitem.updated",
        "invoiceitem.deleted",
    ];
    let secret = endpoint_for(&stripe, &receiver.url(), &events).await;
    let rebilly = app
        .post(
            "/webhooks",
            json!({"url": invoices_only.url(), "method": "POST"}),
        )
        .await;
    assert_eq!(rebilly.status, StatusCode::CREATED, "{}", rebilly.text);
    start_worker(&pool, test_settings());

    let item = stripe
        .create(&[
            ("customer", "cus_pw"),
            ("currency", "usd"),
            ("amount", "900"),
        ])
        .await;
    let item_id = item["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/invoiceitems/{item_id}");
    let changed = stripe.post(&path, &[("amount", "1100")]).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let deleted = stripe.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    // Then an invoice, whose event is the one the invoices' webhook is sent.
    let invoice = app
        .post("/invoices", crate::helpers::invoice_body("USD"))
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.text);

    // The first attempt is refused (500) and retried: the item's events wait for it, in order.
    let received = receiver.wait_for(4).await;
    let mut seen: Vec<(String, String)> = Vec::new();
    for delivery in &received {
        assert!(signed_by(delivery, &secret), "{:?}", delivery.headers);
        let event = delivery.json();
        assert_eq!(event["data"]["object"]["id"], item_id.as_str(), "{event}");
        assert_eq!(event["data"]["object"]["invoice"], Value::Null, "{event}");
        let id = event["id"].as_str().unwrap().to_owned();
        if seen.last().is_none_or(|(last, _)| *last != id) {
            seen.push((id, event["type"].as_str().unwrap().to_owned()));
        }
    }
    let kinds: Vec<&str> = seen.iter().map(|(_, kind)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "invoiceitem.created",
            "invoiceitem.updated",
            "invoiceitem.deleted"
        ]
    );
    let update = received
        .iter()
        .map(|delivery| delivery.json())
        .find(|event| event["type"] == "invoiceitem.updated")
        .unwrap();
    assert_eq!(update["data"]["object"]["amount"], 1100);
    assert_eq!(update["data"]["previous_attributes"]["amount"], 900);

    // The invoices' webhook is sent the invoice's event, and none of the item's.
    let rebilly_received = invoices_only.wait_for(1).await;
    let kinds: Vec<String> = rebilly_received
        .iter()
        .map(|delivery| delivery.json()["eventType"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["invoice-created"]);
    // The delivery log names the item as what the endpoint's attempts were about.
    let attempts = app.get("/tracking/webhooks?limit=100").await;
    let about_item = attempts
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|attempt| attempt["entityId"] == item_id.as_str())
        .count();
    assert!(about_item >= 3, "{}", attempts.text);
}

/// An item taken in by an invoice while its own last event is still being delivered: the
/// invoice's first event goes out, but the item's next waits for the item's last, however
/// the deliveries of the invoice follow one another.
#[sqlx::test]
async fn an_items_event_waits_for_its_earlier_one_even_after_its_invoices(pool: PgPool) {
    // The pending item's first delivery is held unanswered until the attempt times out.
    let receiver = Receiver::start(&[0]);
    let app = lenient_app(&pool).await;
    let stripe = Stripe::of(&app);
    let events = [
        "invoice.created",
        "invoiceitem.created",
        "invoiceitem.updated",
    ];
    endpoint_for(&stripe, &receiver.url(), &events).await;
    start_worker(&pool, test_settings());
    stripe
        .create(&[
            ("customer", "cus_wait"),
            ("currency", "usd"),
            ("amount", "700"),
        ])
        .await;
    receiver.wait_for(1).await;
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_wait"),
                ("currency", "usd"),
                ("pending_invoice_items_behavior", "include"),
            ],
        )
        .await;
    assert_eq!(invoice.status, StatusCode::OK, "{}", invoice.text);

    let received = receiver.wait_for(4).await;
    let kinds: Vec<String> = received
        .iter()
        .map(|delivery| delivery.json()["type"].as_str().unwrap().to_owned())
        .collect();
    let item_again = kinds.iter().rposition(|kind| kind == "invoiceitem.created");
    let moved = kinds.iter().position(|kind| kind == "invoiceitem.updated");
    assert!(
        item_again.is_some() && moved > item_again,
        "the item's update after its creation was delivered: {kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "invoice.created")
            .count(),
        1
    );
}
