//! The invoice timeline: every change's event, newest first, and comments.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{
    ORGANIZATION, PUBLIC_URL, TestApp, assert_invalid_fields, assert_problem, changes,
};

#[sqlx::test]
async fn the_timeline_lists_every_change_newest_first_with_what_it_touched(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = app.create_invoice("USD").await;
    let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
                      "discounts": [{"type": "fixed", "value": 5}]});
    let first = app
        .create_item(&invoice, json!({"type": "debit", "unitPrice": 10}))
        .await;
    assert_eq!(
        app.put(&format!("/invoices/{invoice}"), body).await.status,
        StatusCode::OK
    );
    let second = app
        .create_item(&invoice, json!({"type": "debit", "unitPrice": 30}))
        .await;
    let second_id = second["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/invoices/{invoice}/items/{second_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        app.post(&format!("/invoices/{invoice}/issue"), json!({}))
            .await
            .status
            .is_success()
    );

    let timeline = app.get(&format!("/invoices/{invoice}/timeline")).await;
    assert_eq!(timeline.status, StatusCode::OK, "{}", timeline.text);
    assert_eq!(timeline.header("pagination-total"), Some("6"));
    let messages = timeline.body.as_array().unwrap();
    let kinds: Vec<(&str, i64)> = messages
        .iter()
        .map(|m| (m["type"].as_str().unwrap(), m["revision"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("invoice-issued", 5),
            ("invoice-modified", 4),
            ("invoice-modified", 3),
            ("invoice-modified", 2),
            ("invoice-modified", 1),
            ("invoice-created", 0),
        ]
    );
    // Adding a fixed discount repriced the first item; the second, added to the discounted
    // invoice, took part of the first one's share, and deleting it gave it back.
    assert_eq!(
        messages[3]["changes"],
        changes(json!({"fields": ["discounts", "amount"], "itemsRepriced": [first["id"]]}))
    );
    assert_eq!(
        messages[2]["changes"],
        changes(
            json!({"fields": ["amount"], "itemsCreated": [second_id], "itemsRepriced": [first["id"]]})
        )
    );
    assert_eq!(
        messages[1]["changes"],
        changes(
            json!({"fields": ["amount"], "itemsDeleted": [second_id], "itemsRepriced": [first["id"]]})
        )
    );
    assert_eq!(
        messages[0]["changes"],
        changes(json!({"fields": ["dueTime", "status"]}))
    );
    assert_eq!(messages[0]["message"], "Invoice issued.");
    assert_eq!(messages[0]["triggeredBy"], "direct-api");
    assert_eq!(
        messages[0]["extraData"]["links"],
        json!([{"resourceType": "invoice", "resourceId": invoice}])
    );
    let id = messages[0]["id"].as_str().unwrap();
    assert_eq!(
        messages[0]["_links"],
        json!([{"rel": "self", "href": format!("{PUBLIC_URL}/invoices/{invoice}/timeline/{id}")}])
    );

    let page = app
        .get(&format!("/invoices/{invoice}/timeline?limit=2&offset=4"))
        .await;
    let kinds: Vec<&str> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["invoice-modified", "invoice-created"]);
    assert_eq!(page.header("pagination-offset"), Some("4"));

    let missing = app.get("/invoices/in_none/timeline").await;
    assert_problem(
        &missing,
        StatusCode::NOT_FOUND,
        "Not Found",
        "/invoices/in_none/timeline",
    );
}

#[sqlx::test]
async fn comments_are_written_read_and_deleted_and_events_stay(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice}/timeline");
    let comment = app
        .post(
            &path,
            json!({"message": "Customer asked for net 30.", "type": "ignored"}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text);
    assert_eq!(comment.body["type"], "timeline-comment-created");
    assert_eq!(comment.body["message"], "Customer asked for net 30.");
    let id = comment.body["id"].as_str().unwrap();
    assert_eq!(
        comment.header("location"),
        Some(format!("{PUBLIC_URL}{path}/{id}").as_str())
    );
    let read = app.get(&format!("{path}/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, comment.body);

    let listed = app.get(&path).await;
    assert_eq!(listed.header("pagination-total"), Some("2"));
    let created_event = listed.body[1]["id"].as_str().unwrap().to_owned();
    let kept = app.delete(&format!("{path}/{created_event}")).await;
    assert_problem(
        &kept,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("{path}/{created_event}"),
    );

    assert_eq!(
        app.delete(&format!("{path}/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("{path}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path).await.header("pagination-total"), Some("1"));

    let blank = app.post(&path, json!({"message": "  "})).await;
    assert_invalid_fields(&blank, &path, &[("message", "must not be blank")]);
    let invisible = app
        .post(&path, json!({"message": "\u{200b}\u{200b}\u{feff}"}))
        .await;
    assert_invalid_fields(&invisible, &path, &[("message", "must not be blank")]);
    let long = app
        .post(&path, json!({"message": "x".repeat(10_001)}))
        .await;
    assert_invalid_fields(
        &long,
        &path,
        &[("message", "must be at most 10000 characters")],
    );
    let nowhere = app
        .call(
            Method::POST,
            "/invoices/in_none/timeline",
            Some(json!({"message": "hi"})),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn an_invoice_has_at_most_a_thousand_comments(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let invoice = app.create_invoice("USD").await;
    sqlx::query(
        "insert into invoice_events
             (organization_id, id, invoice_id, event_type, revision, message, occurred_time)
         select $1, 'tmln_' || lpad(n::text, 26, '0'), $2, 'timeline-comment-created', 0,
                'earlier', now()
         from generate_series(1, 999) as n",
    )
    .bind(ORGANIZATION)
    .bind(&invoice)
    .execute(&pool)
    .await
    .unwrap();
    let path = format!("/invoices/{invoice}/timeline");
    let last = app.post(&path, json!({"message": "the thousandth"})).await;
    assert_eq!(last.status, StatusCode::CREATED, "{}", last.text);
    let refused = app.post(&path, json!({"message": "one more"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("has 1000 comments"), "{detail}");
    let id = last.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("{path}/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let again = app.post(&path, json!({"message": "room again"})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[sqlx::test]
async fn a_page_of_the_timeline_is_cut_short_once_its_messages_reach_a_mebibyte(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let invoice = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice}/timeline");
    // Comments of 10,000 four-byte characters: 40,000 bytes each.
    let long = "😀".repeat(10_000);
    for _ in 0..30 {
        let made = app.post(&path, json!({"message": long})).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    let first = app.get(&format!("{path}?limit=1000")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    // Each comment counts over 40,400 bytes (its text, its changes, 400 for the rest): 25 make
    // over 1,010,000, and the 26th passes a mebibyte (1,048,576) and ends the page.
    let count = first.body.as_array().unwrap().len();
    assert_eq!(count, 26);
    assert_eq!(first.header("pagination-limit"), Some("26"));
    assert_eq!(first.header("pagination-total"), Some("31"));
    let rest = app.get(&format!("{path}?limit=1000&offset=26")).await;
    // The four comments left and the invoice's creation.
    let rest = rest.body.as_array().unwrap();
    assert_eq!(rest.len(), 5);
    assert_eq!(rest[4]["type"], "invoice-created", "{}", rest[4]);
}
