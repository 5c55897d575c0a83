//! Prices are exact: read from the number's text, rounded once, written in normal form.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_invalid_fields};

/// Posts an item with a raw JSON body (so numbers are sent exactly as written) and returns
/// the response text.
async fn post_raw(app: &TestApp, invoice_id: &str, body: &str) -> crate::helpers::TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/invoices/{invoice_id}/items"))
        .header("REB-APIKEY", &app.api_key)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(request).await
}

#[sqlx::test]
async fn prices_are_exact_in_the_invoice_currency(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cases = [
        (
            "USD",
            r#"{"type":"debit","unitPrice":0.1,"quantity":3}"#,
            r#""unitPrice":0.1"#,
            r#""price":0.3,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":19.99,"quantity":3}"#,
            r#""unitPrice":19.99"#,
            r#""price":59.97,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":100.00}"#,
            r#""unitPrice":100,"#,
            r#""price":100,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":1e2,"quantity":2}"#,
            r#""unitPrice":100,"#,
            r#""price":200,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":0.005}"#,
            r#""unitPrice":0.005,"#,
            r#""price":0.01,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":0.333333333333,"quantity":3}"#,
            r#""unitPrice":0.333333333333,"#,
            r#""price":1,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":1000000000,"quantity":1000}"#,
            r#""unitPrice":1000000000,"#,
            r#""price":1000000000000,"#,
        ),
        (
            "JPY",
            r#"{"type":"debit","unitPrice":100.5,"quantity":1}"#,
            r#""unitPrice":100.5,"#,
            r#""price":101,"#,
        ),
        (
            "JPY",
            r#"{"type":"debit","unitPrice":0.4,"quantity":1}"#,
            r#""unitPrice":0.4,"#,
            r#""price":0,"#,
        ),
        (
            "BHD",
            r#"{"type":"debit","unitPrice":1.0005,"quantity":1}"#,
            r#""unitPrice":1.0005,"#,
            r#""price":1.001,"#,
        ),
        (
            "USD",
            r#"{"type":"debit","unitPrice":5,"quantity":0}"#,
            r#""unitPrice":5,"#,
            r#""price":0,"#,
        ),
    ];
    for (currency, body, unit_price, price) in cases {
        let invoice_id = app.create_invoice(currency).await;
        let response = post_raw(&app, &invoice_id, body).await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{body}: {}",
            response.text
        );
        assert!(
            response.text.contains(unit_price),
            "{body}: {}",
            response.text
        );
        assert!(response.text.contains(price), "{body}: {}", response.text);
        let invoice = app.get(&format!("/invoices/{invoice_id}")).await;
        let subtotal = price.replace("\"price\"", "\"subtotalAmount\"");
        assert!(invoice.text.contains(&subtotal), "{body}: {}", invoice.text);
    }
}

#[sqlx::test]
async fn money_sent_as_a_string_or_out_of_range_is_422_on_its_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    for (body, message) in [
        (r#"{"type":"debit","unitPrice":"abc"}"#, "must be a number"),
        (
            r#"{"type":"debit","unitPrice":"19.99"}"#,
            "must be a number",
        ),
        (
            r#"{"type":"debit","unitPrice":1e400}"#,
            "is too large or has too many digits",
        ),
        (r#"{"type":"debit","unitPrice":true}"#, "must be a number"),
    ] {
        let response = post_raw(&app, &invoice_id, body).await;
        assert_invalid_fields(&response, &path, &[("unitPrice", message)]);
    }
}

#[sqlx::test]
async fn a_thousand_tenths_add_up_to_exactly_one_hundred(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    for _ in 0..1000 {
        post_raw(&app, &invoice_id, r#"{"type":"debit","unitPrice":0.1}"#).await;
    }
    let invoice = app.get(&format!("/invoices/{invoice_id}")).await;
    assert_eq!(invoice.body["items"].as_array().unwrap().len(), 1000);
    assert!(
        invoice.text.contains(r#""subtotalAmount":100,"#),
        "{}",
        &invoice.text[..300]
    );
    assert_eq!(invoice.body["revision"], json!(1000));
}

#[sqlx::test]
async fn credits_larger_than_debits_leave_a_negative_balance(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    post_raw(&app, &invoice_id, r#"{"type":"debit","unitPrice":10.1}"#).await;
    post_raw(&app, &invoice_id, r#"{"type":"credit","unitPrice":25.35}"#).await;
    let invoice = app.get(&format!("/invoices/{invoice_id}")).await;
    assert!(
        invoice.text.contains(r#""subtotalAmount":-15.25,"#),
        "{}",
        invoice.text
    );
    assert!(
        invoice.text.contains(r#""amount":-15.25,"#),
        "{}",
        invoice.text
    );
    assert!(
        invoice.text.contains(r#""amountDue":-15.25,"#),
        "{}",
        invoice.text
    );
}
