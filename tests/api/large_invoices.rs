//! An invoice of more items than a read holds at once (500): its answer, alone or in a page,
//! is written chunk by chunk of items, and has the very bytes of the answer written at once
//! from all its items.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse, invoice_body, request};

/// Items `{invoice}-00001`, ... stored without figures; two share each creation time, so that chunks end between
/// items ordered by id alone. Every seventh is a credit, every fifth has a description.
async fn store_items(pool: &PgPool, invoice_id: &str, count: i32) {
    sqlx::query(
        "insert into invoice_items (organization_id, id, invoice_id, type, description,
                                    unit_price, quantity, price, created_time, updated_time)
         select 'org_test', $1 || '-' || lpad(k::text, 5, '0'), $1,
                case when k % 7 = 0 then 'credit' else 'debit' end,
                case when k % 5 = 0 then 'Line ' || k end,
                1 + k % 13, 1 + k % 3, (1 + k % 13) * (1 + k % 3),
                timestamptz '2026-12-01 00:00:00Z' + (k / 2) * interval '1 microsecond',
                timestamptz '2026-12-01 00:00:00Z'
         from generate_series(1, $2) k",
    )
    .bind(invoice_id)
    .bind(count)
    .execute(pool)
    .await
    .unwrap();
}

/// A draft of `count` items stored directly, then given `tax` and a 10% discount through the
/// API, which reprices every item: the invoice's id, the answer of that write (written at once
/// from all its items) and its tag.
async fn large_draft(app: &TestApp, count: i32, tax: Value) -> (String, TestResponse) {
    let discounts = json!([{"type": "percent", "value": 10}]);
    draft_of(app, count, tax, discounts).await
}

/// A draft of `count` items stored directly, then given `tax` and `discounts` through the API.
async fn draft_of(
    app: &TestApp,
    count: i32,
    tax: Value,
    discounts: Value,
) -> (String, TestResponse) {
    let invoice_id = app.create_invoice("EUR").await;
    store_items(&app.pool, &invoice_id, count).await;
    let mut body = invoice_body("EUR");
    body["tax"] = tax;
    body["discounts"] = discounts;
    let put = app.put(&format!("/invoices/{invoice_id}"), body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    (invoice_id, put)
}

#[sqlx::test]
async fn an_invoice_of_many_items_reads_as_the_answer_written_at_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice_id, written) =
        large_draft(&app, 1_234, json!({"calculator": "vat", "rate": 0.19})).await;
    let tag = written.header("etag").unwrap();
    let items = written.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1_234);
    assert_eq!(items[1_233]["id"], format!("{invoice_id}-01234"));
    let breakdown = &written.body["tax"]["breakdown"];
    assert_ne!(breakdown, &json!([]), "{breakdown}");

    let read = app.get(&format!("/invoices/{invoice_id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.header("content-type"), Some("application/json"));
    assert_eq!(read.header("etag"), Some(tag));
    assert_eq!(read.text, written.text);

    let page = app.get("/invoices").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.text, format!("[{}]", written.text));
}

#[sqlx::test]
async fn an_invoice_of_many_items_without_vat_reads_as_written(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let rates = json!({"calculator": "rates", "stateRate": 0.0625, "countyRate": 0.01});
    let (invoice_id, written) = large_draft(&app, 1_001, rates).await;
    assert_eq!(written.body["items"].as_array().unwrap().len(), 1_001);
    let read = app.get(&format!("/invoices/{invoice_id}")).await;
    assert_eq!(read.text, written.text);
}

#[sqlx::test]
async fn an_invoice_of_chunks_exactly_and_nothing_else_to_read_reads_as_written(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice_id, written) = draft_of(&app, 1_000, json!(null), json!([])).await;
    assert_eq!(written.body["items"].as_array().unwrap().len(), 1_000);
    let read = app.get(&format!("/invoices/{invoice_id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.text, written.text);
}

#[sqlx::test]
async fn an_invoice_of_a_chunk_or_one_more_item_reads_as_written(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for (count, discounts) in [
        (500, json!([])),
        (501, json!([])),
        (500, json!([{"type": "fixed", "value": 5}])),
        (501, json!([{"type": "fixed", "value": 5}])),
    ] {
        let (invoice_id, written) = draft_of(&app, count, json!(null), discounts).await;
        let read = app.get(&format!("/invoices/{invoice_id}")).await;
        assert_eq!(read.body["items"].as_array().unwrap().len(), count as usize);
        assert_eq!(read.text, written.text, "{count} items");
    }
}

#[sqlx::test]
async fn an_invoice_of_many_items_is_not_modified_under_its_tag(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice_id, written) = large_draft(&app, 600, json!(null)).await;
    let tag = written.header("etag").unwrap();
    let response = app
        .send(
            request(Method::GET, &format!("/invoices/{invoice_id}"), None)
                .header("REB-APIKEY", &app.api_key)
                .header("If-None-Match", tag)
                .body_json(),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::NOT_MODIFIED,
        "{}",
        response.text
    );
    assert_eq!(response.text, "");
    assert_eq!(response.header("etag"), Some(tag));
}

#[sqlx::test]
async fn a_page_of_invoices_of_many_items_and_few_reads_as_each_was_written(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let vat = json!({"calculator": "vat", "rate": 0.2});
    let rates = json!({"calculator": "rates", "stateRate": 0.05});
    let mut written = Vec::new();
    // Invoices of many items first, side by side, among few and last.
    for (count, tax) in [
        (1_234, vat.clone()),
        (700, rates),
        (3, json!(null)),
        (0, json!(null)),
        (499, vat),
        (2, json!(null)),
        (600, json!(null)),
    ] {
        let (_, answer) = large_draft(&app, count, tax).await;
        written.push(answer.text);
    }
    let page = app.get("/invoices?sort=createdTime").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.header("pagination-total"), Some("7"));
    assert_eq!(page.text, format!("[{}]", written.join(",")));
}

#[sqlx::test]
async fn a_paid_invoice_of_many_items_reads_as_its_payment_answered(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice_id, _) = large_draft(&app, 600, json!(null)).await;
    let issued = app
        .post(&format!("/invoices/{invoice_id}/issue"), json!({}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let sale = app
        .post(
            "/transactions",
            json!({"type": "sale", "customerId": "cus_1", "websiteId": "web_1",
                   "currency": "EUR", "amount": 100,
                   "paymentInstrument": {"method": "bank-transfer"}}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let paid = app
        .post(
            &format!("/invoices/{invoice_id}/transaction"),
            json!({"transactionId": sale.body["id"]}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["status"], "partially-paid");
    assert_eq!(paid.body["transactions"].as_array().unwrap().len(), 1);
    assert_eq!(paid.body["items"].as_array().unwrap().len(), 600);

    let read = app.get(&format!("/invoices/{invoice_id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.text, paid.text);
    let page = app.get("/invoices").await;
    assert_eq!(page.text, format!("[{}]", paid.text));
}
