use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{PUBLIC_URL, TestApp, assert_invalid_fields, assert_problem};

fn items_path(invoice_id: &str) -> String {
    format!("/invoices/{invoice_id}/items")
}

#[sqlx::test]
async fn create_item_returns_201_with_every_field_of_rebillys_response(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let product_id = app.create_product("Seats").await;
    let response = app
        .post(
            &items_path(&invoice_id),
            json!({
                "type": "debit", "description": "Seats", "unitPrice": 19.99, "quantity": 3,
                "productId": product_id,
                "periodStartTime": "2026-11-01T00:00:00Z", "periodEndTime": "2026-11-30T23:59:59-05:00",
                "periodNumber": 3, "tax": {"amount": 4.5, "description": "Sales tax"}
            }),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let item = &response.body;
    let id = item["id"].as_str().unwrap();
    assert!(id.starts_with("ii_") && id.len() == 29, "{id}");
    let href = format!("{PUBLIC_URL}/invoices/{invoice_id}/items/{id}");
    assert_eq!(response.header("location"), Some(href.as_str()));
    let created = item["createdTime"].clone();
    assert_eq!(
        *item,
        json!({
            "id": id, "type": "debit", "description": "Seats", "unitPrice": 19.99, "quantity": 3,
            "price": 59.97, "productId": product_id, "planId": null,
            "subscriptionId": null, "discountAmount": 0,
            "periodStartTime": "2026-11-01T00:00:00Z", "periodEndTime": "2026-12-01T04:59:59Z",
            "periodNumber": 3, "createdTime": created, "updatedTime": created,
            "tax": {"amount": 4.5, "description": "Sales tax", "rate": null, "stateAmount": null,
                    "countyAmount": null, "cityAmount": null, "specialDistrictAmount": null,
                    "stateRate": null, "countyRate": null, "cityRate": null,
                    "specialDistrictRate": null, "jurisdictions": null},
            "vat": null,
            "_links": [{"rel": "self", "href": href},
                       {"rel": "product", "href": format!("{PUBLIC_URL}/products/{product_id}")}]
        })
    );
    assert!(
        response.text.contains(r#""price":59.97,"#),
        "{}",
        response.text
    );
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(invoice["subtotalAmount"], json!(59.97));
    assert_eq!(invoice["amount"], json!(64.47));
    assert_eq!(invoice["revision"], 1);
}

#[sqlx::test]
async fn create_item_defaults_quantity_to_one_and_optional_fields_to_null(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice_id, json!({"type": "credit", "unitPrice": 2.5}))
        .await;
    assert_eq!(item["quantity"], 1);
    assert_eq!(item["price"], json!(2.5));
    for field in [
        "description",
        "productId",
        "periodStartTime",
        "periodEndTime",
        "periodNumber",
        "tax",
    ] {
        assert_eq!(item[field], Value::Null, "{field}");
    }
    assert_eq!(
        app.invoice(&invoice_id).await["subtotalAmount"],
        json!(-2.5)
    );
}

/// A case name, a body, and its exact `invalidFields`.
type BadItem = (&'static str, Value, Vec<(&'static str, &'static str)>);

/// Bad item bodies, each with the exact `invalidFields` it must produce.
fn bad_items() -> Vec<BadItem> {
    vec![
        (
            "empty body",
            json!({}),
            vec![("type", "is required"), ("unitPrice", "is required")],
        ),
        (
            "nulls for required fields",
            json!({"type": null, "unitPrice": null}),
            vec![("type", "is required"), ("unitPrice", "is required")],
        ),
        (
            "unknown type",
            json!({"type": "refund", "unitPrice": 1}),
            vec![("type", "must be one of: debit, credit")],
        ),
        (
            "type not a string",
            json!({"type": 1, "unitPrice": 1}),
            vec![("type", "must be a string")],
        ),
        (
            "price as text",
            json!({"type": "debit", "unitPrice": "abc"}),
            vec![("unitPrice", "must be a number")],
        ),
        (
            "price as numeric string",
            json!({"type": "debit", "unitPrice": "19.99"}),
            vec![("unitPrice", "must be a number")],
        ),
        (
            "negative price",
            json!({"type": "debit", "unitPrice": -0.01}),
            vec![("unitPrice", "must be at least 0")],
        ),
        (
            "price too large",
            json!({"type": "debit", "unitPrice": 1000000000.01}),
            vec![("unitPrice", "must be at most 1000000000")],
        ),
        (
            "too many decimals",
            json!({"type": "debit", "unitPrice": 0.0000000000001}),
            vec![("unitPrice", "must have at most 12 decimal places")],
        ),
        (
            "fractional quantity",
            json!({"type": "debit", "unitPrice": 1, "quantity": 1.5}),
            vec![("quantity", "must be an integer")],
        ),
        (
            "negative quantity",
            json!({"type": "debit", "unitPrice": 1, "quantity": -1}),
            vec![("quantity", "must be between 0 and 1000000000")],
        ),
        (
            "quantity too large",
            json!({"type": "debit", "unitPrice": 1, "quantity": 1000000001}),
            vec![("quantity", "must be between 0 and 1000000000")],
        ),
        (
            "extended price too large",
            json!({"type": "debit", "unitPrice": 1000000000, "quantity": 1001}),
            vec![(
                "quantity",
                "makes unitPrice * quantity larger than 1000000000000",
            )],
        ),
        (
            "description too long",
            json!({"type": "debit", "unitPrice": 1, "description": "x".repeat(1001)}),
            vec![("description", "must be at most 1000 characters")],
        ),
        (
            "bad product id",
            json!({"type": "debit", "unitPrice": 1, "productId": "prod 1"}),
            vec![(
                "productId",
                "may contain only letters, digits and _ @ ~ . -",
            )],
        ),
        (
            "product id too long",
            json!({"type": "debit", "unitPrice": 1, "productId": "p".repeat(51)}),
            vec![("productId", "must be at most 50 characters")],
        ),
        (
            "bad period times",
            json!({"type": "debit", "unitPrice": 1, "periodStartTime": "2026-13-01T00:00:00Z", "periodEndTime": 5}),
            vec![
                (
                    "periodStartTime",
                    "must be a date-time such as 2026-11-21T14:15:22Z",
                ),
                (
                    "periodEndTime",
                    "must be a date-time such as 2026-11-21T14:15:22Z",
                ),
            ],
        ),
        (
            "period ends before it starts",
            json!({"type": "debit", "unitPrice": 1,
            "periodStartTime": "2026-11-02T00:00:00Z", "periodEndTime": "2026-11-01T00:00:00Z"}),
            vec![("periodEndTime", "must not be before periodStartTime")],
        ),
        (
            "negative period number",
            json!({"type": "debit", "unitPrice": 1, "periodNumber": -1}),
            vec![("periodNumber", "must be between 0 and 2147483647")],
        ),
        (
            "tax without its fields",
            json!({"type": "debit", "unitPrice": 1, "tax": {}}),
            vec![
                ("tax.amount", "is required"),
                ("tax.description", "is required"),
            ],
        ),
        (
            "bad tax fields",
            json!({"type": "debit", "unitPrice": 1, "tax": {"amount": -1, "description": "x".repeat(256), "kind": "vat"}}),
            vec![
                ("tax.amount", "must be at least 0"),
                ("tax.description", "must be at most 255 characters"),
                ("tax.kind", "is not a known field"),
            ],
        ),
        (
            "tax too large",
            json!({"type": "debit", "unitPrice": 0.01,
                   "tax": {"amount": 1e27, "description": "VAT"}}),
            vec![("tax.amount", "must be at most 1000000000000")],
        ),
        (
            "tax not an object",
            json!({"type": "debit", "unitPrice": 1, "tax": 5}),
            vec![("tax", "must be an object")],
        ),
        (
            "taxed credit",
            json!({"type": "credit", "unitPrice": 1, "tax": {"amount": 1, "description": "VAT"}}),
            vec![(
                "tax",
                "must not be a manual tax on a credit item: credits are not taxed",
            )],
        ),
        (
            "typo in a field name",
            json!({"type": "debit", "unitprice": 1}),
            vec![
                ("unitPrice", "is required"),
                ("unitprice", "is not a known field"),
            ],
        ),
        (
            "everything wrong at once",
            json!({"type": "gift", "unitPrice": "1", "quantity": "2", "description": 3, "periodNumber": 1.5, "extra": true}),
            vec![
                ("type", "must be one of: debit, credit"),
                ("description", "must be a string"),
                ("unitPrice", "must be a number"),
                ("quantity", "must be an integer"),
                ("periodNumber", "must be an integer"),
                ("extra", "is not a known field"),
            ],
        ),
    ]
}

#[sqlx::test]
async fn create_and_replace_return_422_naming_every_bad_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 1}))
        .await;
    let item_path = format!(
        "/invoices/{invoice_id}/items/{}",
        item["id"].as_str().unwrap()
    );
    for (case, body, expected) in bad_items() {
        println!("case: {case}");
        let create = app.post(&items_path(&invoice_id), body.clone()).await;
        assert_invalid_fields(&create, &items_path(&invoice_id), &expected);
        let replace = app.put(&item_path, body).await;
        assert_invalid_fields(&replace, &item_path, &expected);
    }
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(
        invoice["items"],
        json!([item]),
        "refused requests change nothing"
    );
    assert_eq!(invoice["revision"], 1);
}

#[sqlx::test]
async fn a_manual_tax_may_not_have_more_decimals_than_the_currency(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for (currency, amount) in [("USD", json!(0.001)), ("JPY", json!(1.5))] {
        let invoice_id = app.create_invoice(currency).await;
        let path = items_path(&invoice_id);
        let response =
            app.post(&path, json!({"type": "debit", "unitPrice": 1, "tax": {"amount": amount, "description": "VAT"}})).await;
        let message = format!(
            "must have at most {} decimal places in {currency}",
            if currency == "JPY" { 0 } else { 2 }
        );
        assert_invalid_fields(&response, &path, &[("tax.amount", &message)]);
    }
}

#[sqlx::test]
async fn put_replaces_the_whole_item_and_keeps_its_creation_time(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "description": "Old", "unitPrice": 10, "quantity": 2,
                   "periodNumber": 1, "tax": {"amount": 1, "description": "VAT"}}),
        )
        .await;
    let path = format!(
        "/invoices/{invoice_id}/items/{}",
        item["id"].as_str().unwrap()
    );
    let response = app
        .put(&path, json!({"type": "credit", "unitPrice": 4.25}))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let replaced = &response.body;
    assert_eq!(replaced["id"], item["id"]);
    assert_eq!(replaced["createdTime"], item["createdTime"]);
    assert_eq!(replaced["type"], "credit");
    assert_eq!(
        replaced["quantity"], 1,
        "an omitted quantity is the default again"
    );
    assert_eq!(replaced["price"], json!(4.25));
    for field in ["description", "periodNumber", "tax"] {
        assert_eq!(
            replaced[field],
            Value::Null,
            "{field} is cleared by a full replacement"
        );
    }
    assert_eq!(app.get(&path).await.body, *replaced);
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(invoice["subtotalAmount"], json!(-4.25));
    assert_eq!(invoice["tax"]["amount"], json!(0));
    assert_eq!(invoice["amount"], json!(-4.25));
    assert_eq!(invoice["revision"], 2);
}

#[sqlx::test]
async fn an_item_read_back_can_be_sent_back_unchanged(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 3, "tax": {"amount": 0.3, "description": "VAT"}}),
        )
        .await;
    let path = format!(
        "/invoices/{invoice_id}/items/{}",
        item["id"].as_str().unwrap()
    );
    let response = app.put(&path, item.clone()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(
        response.body["tax"], item["tax"],
        "a manual tax read back stays"
    );
    assert_eq!(response.body["price"], item["price"]);
}

#[sqlx::test]
async fn a_computed_tax_read_back_is_ignored(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 10,
                   "tax": {"amount": 0.63, "description": "Sales tax", "rate": 0.0625, "stateRate": 0.0625,
                           "jurisdictions": {"country": "US", "state": "CA"}}}),
        )
        .await;
    assert_eq!(item["tax"], Value::Null);
}

#[sqlx::test]
async fn get_item_returns_it_and_404s_for_unknown_ids(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let other_invoice = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 1}))
        .await;
    let item_id = item["id"].as_str().unwrap();
    let path = format!("/invoices/{invoice_id}/items/{item_id}");
    let response = app.get(&path).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, item);
    for missing in [
        format!("/invoices/{invoice_id}/items/ii_01JD0000000000000000000000"),
        format!("/invoices/{other_invoice}/items/{item_id}"),
        format!("/invoices/in_missing/items/{item_id}"),
        format!("/invoices/{invoice_id}/items/bad%20id"),
    ] {
        for response in [
            app.get(&missing).await,
            app.put(&missing, json!({"type": "debit", "unitPrice": 1}))
                .await,
            app.delete(&missing).await,
        ] {
            assert_problem(&response, StatusCode::NOT_FOUND, "Not Found", &missing);
        }
    }
    let response = app
        .post(
            "/invoices/in_missing/items",
            json!({"type": "debit", "unitPrice": 1}),
        )
        .await;
    assert_problem(
        &response,
        StatusCode::NOT_FOUND,
        "Not Found",
        "/invoices/in_missing/items",
    );
}

#[sqlx::test]
async fn validation_comes_before_the_lookup(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .post("/invoices/in_missing/items", json!({"type": "debit"}))
        .await;
    assert_invalid_fields(
        &response,
        "/invoices/in_missing/items",
        &[("unitPrice", "is required")],
    );
}

#[sqlx::test]
async fn list_items_pages_oldest_first_with_pagination_headers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let mut ids = Vec::new();
    for price in 1..=5 {
        ids.push(
            app.create_item(&invoice_id, json!({"type": "debit", "unitPrice": price}))
                .await["id"]
                .clone(),
        );
    }
    let path = items_path(&invoice_id);
    let all = app.get(&path).await;
    assert_eq!(all.status, StatusCode::OK);
    let listed: Vec<_> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].clone())
        .collect();
    assert_eq!(listed, ids);
    assert_eq!(all.header("pagination-total"), Some("5"));
    assert_eq!(all.header("pagination-limit"), Some("100"));
    assert_eq!(all.header("pagination-offset"), Some("0"));

    let page = app.get(&format!("{path}?limit=2&offset=3")).await;
    let listed: Vec<_> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].clone())
        .collect();
    assert_eq!(listed, ids[3..]);
    assert_eq!(page.header("pagination-total"), Some("5"));
    assert_eq!(page.header("pagination-limit"), Some("2"));
    assert_eq!(page.header("pagination-offset"), Some("3"));

    let past_the_end = app.get(&format!("{path}?offset=10")).await;
    assert_eq!(past_the_end.body, json!([]));
    assert_eq!(past_the_end.header("pagination-total"), Some("5"));
}

#[sqlx::test]
async fn list_items_refuses_bad_paging_and_expansions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = items_path(&invoice_id);
    let response = app
        .get(&format!("{path}?limit=1001&offset=x&expand=plan"))
        .await;
    assert_invalid_fields(
        &response,
        &path,
        &[
            ("limit", "must be an integer between 0 and 1000"),
            ("offset", "must be an integer between 0 and 1000000"),
            ("expand", "cannot expand plan; an item can expand product"),
        ],
    );
    let response = app.get("/invoices/in_missing/items").await;
    assert_problem(
        &response,
        StatusCode::NOT_FOUND,
        "Not Found",
        "/invoices/in_missing/items",
    );
}

#[sqlx::test]
async fn delete_item_returns_204_and_takes_it_off_the_totals(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let kept = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 7.5}))
        .await;
    let gone = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 2, "tax": {"amount": 0.2, "description": "VAT"}}),
        )
        .await;
    let path = format!(
        "/invoices/{invoice_id}/items/{}",
        gone["id"].as_str().unwrap()
    );
    let response = app.delete(&path).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert_eq!(response.text, "");
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&path).await.status, StatusCode::NOT_FOUND);
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(invoice["items"], json!([kept]));
    assert_eq!(invoice["subtotalAmount"], json!(7.5));
    assert_eq!(invoice["tax"]["amount"], json!(0));
    assert_eq!(invoice["amount"], json!(7.5));
    assert_eq!(invoice["revision"], 3);
}

#[sqlx::test]
async fn items_of_an_invoice_that_is_no_longer_a_draft_cannot_change(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 1}))
        .await;
    // Issuing arrives with the invoice lifecycle; until then the status is set directly.
    sqlx::query("update invoices set status = 'unpaid' where id = $1")
        .bind(&invoice_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let item_path = format!(
        "/invoices/{invoice_id}/items/{}",
        item["id"].as_str().unwrap()
    );
    for response in [
        app.post(
            &items_path(&invoice_id),
            json!({"type": "debit", "unitPrice": 1}),
        )
        .await,
        app.put(&item_path, json!({"type": "debit", "unitPrice": 2}))
            .await,
        app.delete(&item_path).await,
    ] {
        assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text);
        assert_eq!(response.body["title"], "Conflict");
        let detail = response.body["detail"].as_str().unwrap();
        assert!(detail.contains("is unpaid"), "{detail}");
    }
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(invoice["items"], json!([item]));
    assert_eq!(invoice["revision"], 1);
}
