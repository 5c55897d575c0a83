//! `/v1/events`: the event log, Stripe's way, each event with its object as the event left it.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::TestApp;
use crate::stripe_client::{Stripe, assert_stripe_error};

/// The whole log once it shows `count` events: a list shows an event once no transaction
/// older than its own is still running on the server, which the tests beside this one may
/// hold for a while (at most a minute, a guard against a hang).
pub async fn settled_log(stripe: &Stripe<'_>, count: usize) -> Value {
    settled(stripe, "/v1/events?limit=100", count).await
}

/// A list of events (`path`) once it shows `count` of them (see [`settled_log`]).
pub async fn settled(stripe: &Stripe<'_>, path: &str, count: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let log = stripe.get(path).await;
        assert_eq!(log.status, StatusCode::OK, "{}", log.text);
        let shown = log.body["data"].as_array().unwrap().len();
        if shown >= count {
            return log.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{shown} of {count} events listed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub fn types(list: &Value) -> Vec<String> {
    type_of_each(&list["data"])
}

/// The `type` of each object of an array (events, or messages of a timeline).
fn type_of_each(array: &Value) -> Vec<String> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test]
async fn each_event_shows_its_object_as_the_event_left_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let created = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_ev"), ("currency", "usd")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let invoice_id = created.body["id"].as_str().unwrap().to_owned();
    let item = stripe
        .create(&[
            ("customer", "cus_ev"),
            ("invoice", &invoice_id),
            ("unit_amount", "1250"),
            ("quantity", "2"),
        ])
        .await;
    let item_id = item["id"].as_str().unwrap().to_owned();
    let updated = stripe
        .post(&format!("/v1/invoiceitems/{item_id}"), &[("quantity", "3")])
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let finalized = stripe
        .post(&format!("/v1/invoices/{invoice_id}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    let paid = stripe
        .post(
            &format!("/v1/invoices/{invoice_id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);

    let log = settled_log(&stripe, 7).await;
    assert_eq!(log["object"], "list");
    assert_eq!(log["url"], "/v1/events");
    assert_eq!(
        types(&log),
        [
            "invoice.paid",
            "invoice.finalized",
            "invoice.updated",
            "invoiceitem.updated",
            "invoice.updated",
            "invoiceitem.created",
            "invoice.created",
        ]
    );
    let events = log["data"].as_array().unwrap();
    for event in events {
        assert_eq!(event["object"], "event");
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(event["livemode"], false);
        assert_eq!(event["request"]["idempotency_key"], Value::Null);
    }
    // Each event names the request that caused it, as that request's answer did.
    let request_id = |response: &crate::helpers::TestResponse| {
        json!(response.header("request-id").expect("a Request-Id header"))
    };
    assert_eq!(events[6]["request"]["id"], request_id(&created));
    assert_eq!(events[3]["request"]["id"], request_id(&updated));
    assert_eq!(events[2]["request"]["id"], request_id(&updated));
    assert_eq!(events[0]["request"]["id"], request_id(&paid));
    assert_ne!(request_id(&created), request_id(&paid));
    // The invoice as each event left it: empty when made, 2,500 with the item, 3,750 after
    // the update; the item as made and as updated.
    let created_event = &events[6]["data"]["object"];
    assert_eq!(created_event["id"], invoice_id.as_str());
    assert_eq!(created_event["total"], 0);
    assert_eq!(created_event["lines"]["data"], json!([]));
    assert_eq!(events[5]["data"]["object"]["id"], item_id.as_str());
    assert_eq!(events[5]["data"]["object"]["quantity"], 2);
    assert_eq!(events[5]["data"]["object"]["amount"], 2500);
    assert_eq!(events[4]["data"]["object"]["total"], 2500);
    assert_eq!(
        events[4]["data"]["previous_attributes"]["total"],
        json!(0),
        "{}",
        events[4]
    );
    assert_eq!(events[3]["data"]["object"]["quantity"], 3);
    // An update carries what it changed, as it was.
    let replaced = &events[3]["data"]["previous_attributes"];
    assert_eq!(
        (&replaced["quantity"], &replaced["amount"]),
        (&json!(2), &json!(2500))
    );
    assert!(replaced.get("currency").is_none(), "{replaced}");
    assert!(events[5]["data"].get("previous_attributes").is_none());
    let after_update = &events[2]["data"];
    assert_eq!(after_update["object"]["total"], 3750);
    assert_eq!(after_update["previous_attributes"]["total"], 2500);
    assert!(
        after_update["previous_attributes"]
            .get("currency")
            .is_none()
    );
    assert_eq!(events[1]["data"]["object"]["status"], "open");
    assert!(events[1]["data"].get("previous_attributes").is_none());
    assert_eq!(events[0]["data"]["object"]["status"], "paid");
    // Today the invoice is paid; the event of its creation still shows the draft.
    let first = stripe
        .get(&format!("/v1/events/{}", events[6]["id"].as_str().unwrap()))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body, events[6]);
    assert_eq!(first.body["data"]["object"]["status"], "draft");
}

#[sqlx::test]
async fn events_are_listed_by_type_time_and_cursor(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    for customer in ["cus_a", "cus_b"] {
        let created = stripe
            .post(
                "/v1/invoices",
                &[("customer", customer), ("currency", "eur")],
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        let invoice_id = created.body["id"].as_str().unwrap().to_owned();
        stripe
            .create(&[
                ("customer", customer),
                ("invoice", &invoice_id),
                ("amount", "700"),
            ])
            .await;
    }
    settled_log(&stripe, 6).await;
    let only = stripe.get("/v1/events?type=invoice.created").await;
    assert_eq!(types(&only.body), ["invoice.created", "invoice.created"]);
    let items = stripe.get("/v1/events?type=invoiceitem.*").await;
    assert_eq!(
        types(&items.body),
        ["invoiceitem.created", "invoiceitem.created"]
    );
    let either = stripe
        .get("/v1/events?types[]=invoice.created&types[]=invoiceitem.created")
        .await;
    assert_eq!(either.body["data"].as_array().unwrap().len(), 4);
    let none = stripe.get("/v1/events?type=customer.created").await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text);
    assert_eq!(none.body["data"], json!([]));
    let future = stripe.get("/v1/events?created[gte]=4102444800").await;
    assert_eq!(future.body["data"], json!([]));
    let past = stripe.get("/v1/events?created[gte]=0").await;
    assert_eq!(past.body["data"].as_array().unwrap().len(), 6);

    // Two pages of three, and back.
    let first = stripe.get("/v1/events?limit=3").await;
    assert_eq!(first.body["has_more"], true);
    let last_id = first.body["data"][2]["id"].as_str().unwrap().to_owned();
    let second = stripe
        .get(&format!("/v1/events?limit=3&starting_after={last_id}"))
        .await;
    assert_eq!(second.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(second.body["has_more"], false);
    let back_id = second.body["data"][0]["id"].as_str().unwrap().to_owned();
    let back = stripe
        .get(&format!("/v1/events?limit=3&ending_before={back_id}"))
        .await;
    assert_eq!(back.body["data"], first.body["data"]);

    let both = stripe
        .get("/v1/events?type=invoice.created&types[]=invoice.paid")
        .await;
    assert_stripe_error(
        &both,
        StatusCode::BAD_REQUEST,
        Some("parameters_exclusive"),
        Some("types"),
    );
    let unknown = stripe
        .get("/v1/events/evt_01JNOSUCHEVENT0000000000000")
        .await;
    assert_stripe_error(
        &unknown,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    let bad_cursor = stripe.get("/v1/events?starting_after=evt_nope").await;
    assert_stripe_error(
        &bad_cursor,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("starting_after"),
    );
}

#[sqlx::test]
async fn another_organization_sees_none_of_the_events(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let created = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_a"), ("currency", "eur")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let log = settled_log(&stripe, 1).await;
    let event_id = log["data"][0]["id"].as_str().unwrap().to_owned();
    let other_app = TestApp {
        api_key: TestApp::key_for(&app.pool, "org_other").await,
        ..TestApp::new(app.pool.clone()).await
    };
    let other = Stripe::of(&other_app);
    let theirs = other.get("/v1/events").await;
    assert_eq!(theirs.body["data"], json!([]));
    let read = other.get(&format!("/v1/events/{event_id}")).await;
    assert_stripe_error(
        &read,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
}

#[sqlx::test]
async fn stripes_one_off_flow_sends_a_draft_and_a_draft_is_deleted_with_its_lines(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    // Stripe's documented one-off invoice: a draft sent for payment, an item, then /send.
    let draft = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_once"),
                ("currency", "usd"),
                ("collection_method", "send_invoice"),
                ("days_until_due", "30"),
            ],
        )
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text);
    let invoice_id = draft.body["id"].as_str().unwrap().to_owned();
    stripe
        .create(&[
            ("customer", "cus_once"),
            ("invoice", &invoice_id),
            ("amount", "9900"),
        ])
        .await;
    let sent = stripe
        .post(&format!("/v1/invoices/{invoice_id}/send"), &[])
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(sent.body["status"], "open");
    assert_eq!(sent.body["amount_due"], 9900);
    let finalized_at = sent.body["status_transitions"]["finalized_at"]
        .as_i64()
        .unwrap();
    assert_eq!(
        sent.body["due_date"].as_i64().unwrap(),
        finalized_at + 30 * 86_400
    );
    let again = stripe
        .post(&format!("/v1/invoices/{invoice_id}/send"), &[])
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let log = settled_log(&stripe, 6).await;
    assert_eq!(
        types(&log)[..3],
        ["invoice.sent", "invoice.sent", "invoice.finalized"]
    );
    assert_eq!(log["data"][0]["data"]["object"]["status"], "open");
    // The Rebilly timeline tells it too.
    let timeline = app.get(&format!("/invoices/{invoice_id}/timeline")).await;
    assert!(timeline.text.contains("Invoice sent."), "{}", timeline.text);
    let voided = stripe
        .post(&format!("/v1/invoices/{invoice_id}/void"), &[])
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.text);
    let void_send = stripe
        .post(&format!("/v1/invoices/{invoice_id}/send"), &[])
        .await;
    assert_stripe_error(&void_send, StatusCode::BAD_REQUEST, None, None);
    assert!(
        void_send.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is void"),
        "{}",
        void_send.text
    );
    let not_draft = stripe.delete(&format!("/v1/invoices/{invoice_id}")).await;
    assert_stripe_error(&not_draft, StatusCode::BAD_REQUEST, None, None);

    // A draft is deleted with its lines; its events stay, the last its deletion.
    let doomed = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_once"), ("currency", "usd")],
        )
        .await;
    let doomed_id = doomed.body["id"].as_str().unwrap().to_owned();
    let line = stripe
        .create(&[
            ("customer", "cus_once"),
            ("invoice", &doomed_id),
            ("amount", "1200"),
        ])
        .await;
    let deleted = stripe.delete(&format!("/v1/invoices/{doomed_id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        deleted.body,
        json!({"id": doomed_id, "object": "invoice", "deleted": true})
    );
    let gone = stripe.get(&format!("/v1/invoices/{doomed_id}")).await;
    assert_stripe_error(
        &gone,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    let line_gone = stripe
        .get(&format!(
            "/v1/invoiceitems/{}",
            line["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        line_gone.status,
        StatusCode::NOT_FOUND,
        "{}",
        line_gone.text
    );
    assert_eq!(
        app.get(&format!("/invoices/{doomed_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let last = settled_log(&stripe, 11).await;
    let event = &last["data"][0];
    assert_eq!(event["type"], "invoice.deleted");
    assert_eq!(event["data"]["object"]["id"], doomed_id.as_str());
    assert_eq!(event["data"]["object"]["status"], "draft");
    assert_eq!(event["data"]["object"]["total"], 1200);
    let twice = stripe.delete(&format!("/v1/invoices/{doomed_id}")).await;
    assert_stripe_error(
        &twice,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
}

#[sqlx::test]
async fn an_event_is_listed_once_no_older_transaction_can_commit_before_it(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    // A transaction that began before the change and is still running: whatever it commits
    // will come before the change in the log, so the change waits for it.
    let mut older = pool.begin().await.unwrap();
    sqlx::query("select pg_current_xact_id()")
        .execute(&mut *older)
        .await
        .unwrap();
    let created = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_late"), ("currency", "usd")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let waiting = stripe.get("/v1/events").await;
    assert_eq!(waiting.body["data"], json!([]), "{}", waiting.text);
    older.rollback().await.unwrap();
    let listed = settled_log(&stripe, 1).await;
    assert_eq!(types(&listed), ["invoice.created"]);
    // Read by its id, an event needs no waiting.
    let id = listed["data"][0]["id"].as_str().unwrap();
    assert_eq!(
        stripe.get(&format!("/v1/events/{id}")).await.status,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn a_credit_notes_events_show_the_note_as_it_was(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let created = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_cn"), ("currency", "usd")],
        )
        .await;
    let invoice_id = created.body["id"].as_str().unwrap().to_owned();
    stripe
        .create(&[
            ("customer", "cus_cn"),
            ("invoice", &invoice_id),
            ("amount", "5000"),
        ])
        .await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{invoice_id}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    let note = stripe
        .post(
            "/v1/credit_notes",
            &[("invoice", &invoice_id), ("amount", "1000")],
        )
        .await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.text);
    let note_id = note.body["id"].as_str().unwrap().to_owned();
    let voided = stripe
        .post(&format!("/v1/credit_notes/{note_id}/void"), &[])
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.text);

    let notes = settled(&stripe, "/v1/events?type=credit_note.*", 2).await;
    // The note took 10.00 off what the invoice asks: its invoice's events show the amounts
    // before the note's transaction, as the void's show them before the void.
    let log = settled_log(&stripe, 9).await;
    let after_note = &log["data"][3];
    assert_eq!(after_note["type"], "invoice.updated");
    assert_eq!(log["data"][4]["type"], "credit_note.created");
    let previous = &after_note["data"]["previous_attributes"];
    assert_eq!(
        (
            &previous["amount_due"],
            &previous["pre_payment_credit_notes_amount"]
        ),
        (&json!(5000), &json!(0)),
        "{after_note}"
    );
    assert_eq!(after_note["data"]["object"]["amount_due"], 4000);
    let after_void = &log["data"][1]["data"];
    assert_eq!(after_void["previous_attributes"]["amount_due"], 4000);
    assert_eq!(after_void["object"]["amount_due"], 5000);
    assert_eq!(types(&notes), ["credit_note.voided", "credit_note.created"]);
    let (void, made) = (
        &notes["data"][0]["data"]["object"],
        &notes["data"][1]["data"]["object"],
    );
    assert_eq!(made["object"], "credit_note");
    assert_eq!(made["id"], note_id.as_str());
    assert_eq!(
        (&made["total"], &made["status"]),
        (&json!(1000), &json!("issued"))
    );
    assert_eq!(made["invoice"], invoice_id.as_str());
    assert_eq!(void["status"], "void");
    assert!(
        made["pdf"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/credit-memos/{note_id}"))
    );
}

/// A POST with its own request id and idempotency key.
pub async fn post_as(
    stripe: &Stripe<'_>,
    path: &str,
    pairs: &[(&str, &str)],
    request_id: &str,
    key: Option<&str>,
) -> crate::helpers::TestResponse {
    let mut request = stripe
        .request(axum::http::Method::POST, path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", request_id);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let body = crate::stripe_client::form(pairs);
    stripe.send(request, axum::body::Body::from(body)).await
}

#[sqlx::test]
async fn each_event_keeps_the_request_that_caused_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = [("customer", "cus_req"), ("currency", "usd")];
    let created = post_as(
        &stripe,
        "/v1/invoices",
        &invoice,
        "req_made",
        Some("make-1"),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.header("request-id"), Some("req_made"));
    let invoice_id = created.body["id"].as_str().unwrap().to_owned();
    // A retry is answered from what was kept, and makes no event of its own.
    let retried = post_as(
        &stripe,
        "/v1/invoices",
        &invoice,
        "req_again",
        Some("make-1"),
    )
    .await;
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    let first = settled(&stripe, "/v1/events?type=invoice.created", 1).await;
    assert_eq!(
        first["data"][0]["request"],
        json!({"id": "req_made", "idempotency_key": "make-1"})
    );
    // A request id longer than is kept is replaced by one of the server's making, which the
    // answer and the event both name.
    let long = "r".repeat(201);
    let finalized = post_as(
        &stripe,
        &format!("/v1/invoices/{invoice_id}/finalize"),
        &[],
        &long,
        Some("finalize-1"),
    )
    .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    let made = finalized.header("request-id").unwrap().to_owned();
    assert_ne!(made, long);
    assert_eq!(finalized.header("x-request-id"), Some(made.as_str()));
    let event = settled(&stripe, "/v1/events?type=invoice.finalized", 1).await;
    assert_eq!(
        event["data"][0]["request"],
        json!({"id": made, "idempotency_key": "finalize-1"})
    );
    // A key on a DELETE is no idempotency key: the event keeps none.
    let item = stripe
        .create(&[
            ("customer", "cus_req"),
            ("currency", "usd"),
            ("amount", "5"),
        ])
        .await;
    let request = stripe
        .request(
            axum::http::Method::DELETE,
            &format!("/v1/invoiceitems/{}", item["id"].as_str().unwrap()),
        )
        .header("idempotency-key", "delete-1");
    let deleted = stripe.send(request, axum::body::Body::empty()).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let event = settled(&stripe, "/v1/events?type=invoiceitem.deleted", 1).await;
    assert_eq!(event["data"][0]["request"]["idempotency_key"], Value::Null);
}

#[sqlx::test]
async fn a_pending_items_creation_change_and_deletion_are_its_events(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let item = stripe
        .create(&[
            ("customer", "cus_pe"),
            ("currency", "usd"),
            ("unit_amount", "1250"),
            ("quantity", "2"),
        ])
        .await;
    let item_id = item["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/invoiceitems/{item_id}");
    let changed = stripe
        .post(&path, &[("quantity", "3"), ("description", "Setup")])
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let deleted = stripe.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);

    let log = settled_log(&stripe, 3).await;
    assert_eq!(
        types(&log),
        [
            "invoiceitem.deleted",
            "invoiceitem.updated",
            "invoiceitem.created"
        ]
    );
    let events = log["data"].as_array().unwrap();
    // Each shows the item as the change left it, as `GET /v1/invoiceitems/{id}` shows a
    // pending item: on no invoice, with its own customer and currency.
    let made = &events[2]["data"];
    assert_eq!(made["object"], item, "{made}");
    assert_eq!(made["object"]["invoice"], Value::Null);
    assert_eq!(
        (&made["object"]["customer"], &made["object"]["currency"]),
        (&json!("cus_pe"), &json!("usd"))
    );
    assert!(made.get("previous_attributes").is_none(), "{made}");
    let update = &events[1]["data"];
    assert_eq!(update["object"], changed.body, "{update}");
    assert_eq!(
        update["previous_attributes"],
        json!({"quantity": 2, "amount": 2500, "description": null}),
        "{update}"
    );
    let gone = &events[0]["data"];
    assert_eq!(gone["object"], changed.body, "{gone}");
    assert!(gone.get("previous_attributes").is_none(), "{gone}");
    // Each is there once, and reads the same by its id.
    let one = stripe
        .get(&format!("/v1/events/{}", events[1]["id"].as_str().unwrap()))
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body, events[1]);
    let items_only = settled(&stripe, "/v1/events?type=invoiceitem.*", 3).await;
    assert_eq!(types(&items_only), types(&log));
}

#[sqlx::test]
async fn an_invoice_taking_pending_items_in_moves_them_from_no_invoice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let mut pending = Vec::new();
    for (currency, amount) in [("usd", "1000"), ("usd", "250"), ("eur", "700")] {
        let item = stripe
            .create(&[
                ("customer", "cus_take"),
                ("currency", currency),
                ("amount", amount),
            ])
            .await;
        pending.push(item);
    }
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_take"),
                ("currency", "usd"),
                ("pending_invoice_items_behavior", "include"),
            ],
        )
        .await;
    assert_eq!(invoice.status, StatusCode::OK, "{}", invoice.text);
    assert_eq!(invoice.body["total"], 1250);
    let invoice_id = invoice.body["id"].as_str().unwrap().to_owned();
    // Rebilly's way of taking them in makes the same events.
    let rebilly = app
        .put(
            "/invoices/inv-take-eur",
            json!({"customerId": "cus_take", "websiteId": "web_1", "currency": "EUR",
                   "pendingInvoiceItemsBehavior": "include"}),
        )
        .await;
    assert_eq!(rebilly.status, StatusCode::CREATED, "{}", rebilly.text);

    // Made pending, then moved onto an invoice: never made again there.
    let items = settled(&stripe, "/v1/events?type=invoiceitem.*", 6).await;
    assert_eq!(
        types(&items),
        [
            "invoiceitem.updated",
            "invoiceitem.updated",
            "invoiceitem.updated",
            "invoiceitem.created",
            "invoiceitem.created",
            "invoiceitem.created"
        ]
    );
    let moves = items["data"].as_array().unwrap()[..3].iter().rev();
    let invoices = [invoice_id.as_str(), invoice_id.as_str(), "inv-take-eur"];
    for ((event, item), invoice) in moves.zip(&pending).zip(invoices) {
        let data = &event["data"];
        assert_eq!(data["object"]["id"], item["id"], "{data}");
        assert_eq!(data["object"]["invoice"], invoice, "{data}");
        assert_eq!(data["object"]["amount"], item["amount"], "{data}");
        assert_eq!(
            data["previous_attributes"],
            json!({"invoice": null}),
            "{data}"
        );
    }
    // The invoices' own events and timelines are as before: made, then one change per item.
    let invoice_events = settled(&stripe, "/v1/events?type=invoice.*", 5).await;
    assert_eq!(
        types(&invoice_events),
        [
            "invoice.updated",
            "invoice.created",
            "invoice.updated",
            "invoice.updated",
            "invoice.created"
        ]
    );
    let timeline = app.get(&format!("/invoices/{invoice_id}/timeline")).await;
    assert_eq!(timeline.status, StatusCode::OK, "{}", timeline.text);
    assert_eq!(
        type_of_each(&timeline.body),
        ["invoice-modified", "invoice-modified", "invoice-created"]
    );
}

/// Every `/v1` answer names its request's id as Stripe's libraries read it, a 404 of no
/// route and a refused key too; the Rebilly routes keep to `X-Request-Id`.
#[sqlx::test]
async fn every_v1_answer_names_its_request_id(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let unrouted = stripe.get("/v1/no_such_resource").await;
    let unauthorized = app
        .send(
            axum::http::Request::builder()
                .uri("/v1/invoices")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    for answer in [&unrouted, &unauthorized] {
        assert!(answer.status.is_client_error(), "{}", answer.text);
        let id = answer.header("x-request-id").unwrap();
        assert_eq!(answer.header("request-id"), Some(id), "{}", answer.text);
    }
    let rebilly = app.get("/invoices").await;
    assert!(rebilly.header("x-request-id").is_some());
    assert_eq!(rebilly.header("request-id"), None);
}
