use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{PUBLIC_URL, TestApp, assert_invalid_fields, assert_problem, invoice_body};

#[sqlx::test]
async fn create_invoice_returns_201_with_location_and_an_empty_draft(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .post(
            "/invoices",
            json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
                   "dueTime": "2026-12-01T12:00:00+02:00", "notes": "Thanks", "poNumber": "PO-7"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let body = &response.body;
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("in_") && id.len() == 29, "{id}");
    assert_eq!(
        response.header("location"),
        Some(format!("{PUBLIC_URL}/invoices/{id}").as_str())
    );
    assert_eq!(body["status"], "draft");
    assert_eq!(body["customerId"], "cus_1");
    assert_eq!(body["websiteId"], "web_1");
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["dueTime"], "2026-12-01T10:00:00Z");
    assert_eq!(body["notes"], "Thanks");
    assert_eq!(body["poNumber"], "PO-7");
    assert_eq!(body["issuedTime"], json!(null));
    for field in ["subtotalAmount", "discountAmount", "amount", "amountDue"] {
        assert_eq!(body[field], json!(0), "{field}");
    }
    assert_eq!(body["tax"], json!({"calculator": "manual", "amount": 0}));
    assert_eq!(body["revision"], 0);
    assert_eq!(body["items"], json!([]));
    assert_eq!(
        body["_links"],
        json!([{"rel": "self", "href": format!("{PUBLIC_URL}/invoices/{id}")}])
    );
    let created = body["createdTime"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z'),
        "whole seconds in UTC: {created}"
    );
    assert_eq!(app.invoice(id).await, *body);
}

#[sqlx::test]
async fn create_invoice_answers_with_a_trailing_slash_too(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app.post("/invoices/", invoice_body("EUR")).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.body["currency"], "EUR");
}

#[sqlx::test]
async fn create_invoice_returns_422_listing_every_bad_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .post(
            "/invoices",
            json!({"websiteId": "web 1", "currency": "usd", "dueTime": "tomorrow",
                   "notes": 5, "poNumber": "x".repeat(51), "custmerId": "cus_1"}),
        )
        .await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("customerId", "is required"),
            (
                "websiteId",
                "may contain only letters, digits and _ @ ~ . -",
            ),
            (
                "currency",
                "must be an upper-case ISO 4217 currency code with a minor unit, such as USD",
            ),
            (
                "dueTime",
                "must be a date-time such as 2026-11-21T14:15:22Z",
            ),
            ("notes", "must be a string"),
            ("poNumber", "must be at most 50 characters"),
            ("custmerId", "is not a known field"),
        ],
    );
    let count: i64 = sqlx::query_scalar("select count(*) from invoices")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "a refused request stores nothing");
}

#[sqlx::test]
async fn create_invoice_ignores_the_read_only_fields_a_client_read_back(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    for (field, value) in [
        ("id", json!("in_chosen")),
        ("status", json!("paid")),
        ("amount", json!(99)),
        ("revision", json!(7)),
        ("items", json!([{"unitPrice": 1}])),
        ("createdTime", json!("2020-01-01T00:00:00Z")),
        ("_links", json!([])),
    ] {
        body[field] = value;
    }
    let response = app.post("/invoices", body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_ne!(response.body["id"], "in_chosen");
    assert_eq!(response.body["status"], "draft");
    assert_eq!(response.body["amount"], 0);
    assert_eq!(response.body["revision"], 0);
    assert_eq!(response.body["items"], json!([]));
}

#[sqlx::test]
async fn currencies_without_a_minor_unit_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for currency in ["XAU", "ABC", "US", "Usd"] {
        let response = app.post("/invoices", invoice_body(currency)).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{currency}"
        );
        assert_eq!(
            response.body["invalidFields"][0]["field"], "currency",
            "{currency}"
        );
    }
}

#[sqlx::test]
async fn an_unknown_or_impossible_invoice_id_is_404(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for path in [
        "/invoices/in_01JD000000000000000000000",
        "/invoices/bad%20id",
        &format!("/invoices/{}", "x".repeat(51)),
    ] {
        let response = app.get(path).await;
        assert_problem(&response, StatusCode::NOT_FOUND, "Not Found", path);
    }
}

#[sqlx::test]
async fn get_invoice_lists_its_items_oldest_first_with_totals(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    let first = app
        .create_item(
            &id,
            json!({"type": "debit", "unitPrice": 10, "quantity": 2}),
        )
        .await;
    let second = app
        .create_item(
            &id,
            json!({"type": "debit", "unitPrice": 5, "tax": {"amount": 0.5, "description": "VAT"}}),
        )
        .await;
    let third = app
        .create_item(&id, json!({"type": "credit", "unitPrice": 3}))
        .await;
    let invoice = app.invoice(&id).await;
    let ids: Vec<_> = invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            first["id"].clone(),
            second["id"].clone(),
            third["id"].clone()
        ]
    );
    assert_eq!(invoice["items"][1], second);
    assert_eq!(invoice["subtotalAmount"], json!(22));
    assert_eq!(
        invoice["tax"],
        json!({"calculator": "manual", "amount": 0.5})
    );
    assert_eq!(invoice["amount"], json!(22.5));
    assert_eq!(invoice["amountDue"], json!(22.5));
    assert_eq!(invoice["revision"], 3);
}

#[sqlx::test]
async fn an_invoice_shows_each_item_as_the_items_own_read_does(pool: PgPool) {
    // The invoice's read takes its items as records, each column in its place; the item's own
    // read names its columns. The fields differ from their neighbours of the same type, so
    // that two read in each other's place would show.
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    let product_id = app.create_product("Seats").await;
    let full = app
        .create_item(
            &id,
            json!({
                "type": "debit", "description": "Seats", "unitPrice": 19.99, "quantity": 3,
                "productId": product_id,
                "periodStartTime": "2026-11-01T00:00:00Z", "periodEndTime": "2026-11-30T23:59:59Z",
                "periodNumber": 3, "tax": {"amount": 4.5, "description": "Sales tax"}
            }),
        )
        .await;
    let replaced = app
        .create_item(&id, json!({"type": "credit", "unitPrice": 2}))
        .await;
    let path = format!("/invoices/{id}/items/{}", replaced["id"].as_str().unwrap());
    let response = app
        .put(
            &path,
            json!({"type": "credit", "description": "Refund", "unitPrice": 7, "quantity": 2}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let invoice = app.invoice(&id).await;
    let shown = invoice["items"].as_array().unwrap();
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0], full);
    assert_eq!(shown[1], response.body);
    for item in shown {
        let alone = app
            .get(&format!(
                "/invoices/{id}/items/{}",
                item["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(alone.status, StatusCode::OK, "{}", alone.text);
        assert_eq!(*item, alone.body);
    }
    assert_eq!(invoice["subtotalAmount"], json!(45.97));
}

#[sqlx::test]
async fn an_invoice_read_back_can_be_sent_back(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    app.create_item(
        &id,
        json!({"type": "debit", "unitPrice": 2, "tax": {"amount": 0.2, "description": "VAT"}}),
    )
    .await;
    let mut read = app.invoice(&id).await;
    read["discounts"] = json!([]);
    let response = app.post("/invoices", read).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_ne!(response.body["id"], json!(id));
    assert_eq!(
        response.body["tax"],
        json!({"calculator": "manual", "amount": 0})
    );
}

#[sqlx::test]
async fn an_invoice_tax_calculator_we_do_not_have_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["tax"] =
        json!({"calculator": "rebilly-taxjar", "rates": [{"amount": 1, "description": "x"}]});
    let response = app.post("/invoices", body).await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("tax.calculator", "must be one of: manual, rates, vat"),
            ("tax.rates", "is not a known field"),
        ],
    );
}
