//! The `vat` calculator through the API: VAT rounded once on the invoice's sum, as EN 16931
//! computes it, shared back to the items, and its settings refused when wrong.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_invalid_fields, invoice_body};

async fn vat_invoice(app: &TestApp, currency: &str, rate: f64, discounts: Value) -> String {
    let mut body = invoice_body(currency);
    body["tax"] = json!({"calculator": "vat", "rate": rate});
    body["discounts"] = discounts;
    let created = app.post("/invoices", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["tax"],
        json!({"calculator": "vat", "amount": 0, "rate": rate, "breakdown": []})
    );
    created.body["id"].as_str().unwrap().to_owned()
}

fn item(kind: &str, unit_price: f64) -> Value {
    json!({"type": kind, "unitPrice": unit_price, "quantity": 1})
}

fn item_taxes(invoice: &Value) -> Vec<Value> {
    invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["tax"].clone())
        .collect()
}

#[sqlx::test]
async fn vat_is_rounded_once_on_the_sum_not_item_by_item(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = vat_invoice(&app, "EUR", 0.1, json!([])).await;
    // 0.05 at 10% is 0.005 each: item by item, 0.01 + 0.01; on the sum of 0.10, 0.01.
    app.create_item(&id, item("debit", 0.05)).await;
    app.create_item(&id, item("debit", 0.05)).await;
    let invoice = app.invoice(&id).await;
    assert_eq!(invoice["tax"]["amount"], json!(0.01));
    assert_eq!(
        invoice["tax"]["breakdown"],
        json!([{"category": "S", "rate": 0.1, "taxableAmount": 0.1, "amount": 0.01}])
    );
    assert_eq!(invoice["amount"], json!(0.11));
    let mut taxes = item_taxes(&invoice);
    taxes.sort_by_key(|tax| tax["amount"].to_string());
    assert_eq!(taxes[0]["amount"], json!(0), "{taxes:?}");
    assert_eq!(
        taxes[1],
        json!({"amount": 0.01, "description": "VAT", "rate": 0.1, "stateAmount": null,
               "countyAmount": null, "cityAmount": null, "specialDistrictAmount": null,
               "stateRate": null, "countyRate": null, "cityRate": null,
               "specialDistrictRate": null, "jurisdictions": null})
    );
}

#[sqlx::test]
async fn discounts_and_credits_lower_the_vat_and_every_write_reprices_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = vat_invoice(&app, "EUR", 0.19, json!([{"type": "percent", "value": 10}])).await;
    let a = app.create_item(&id, item("debit", 33.33)).await;
    app.create_item(&id, item("debit", 66.67)).await;
    app.create_item(&id, item("credit", 10.0)).await;
    // Debits 100.00, 10% off: 90.00; the credit takes 10.00 off: 80.00 at 19% is 15.20.
    let invoice = app.invoice(&id).await;
    assert_eq!(invoice["subtotalAmount"], json!(90));
    assert_eq!(invoice["discountAmount"], json!(10));
    assert_eq!(invoice["tax"]["amount"], json!(15.2));
    assert_eq!(invoice["amount"], json!(95.2));
    let shares: f64 = item_taxes(&invoice)
        .iter()
        .filter_map(|tax| tax["amount"].as_f64())
        .sum();
    assert!(
        (shares - 15.2).abs() < 1e-9,
        "the items' shares add up: {shares}"
    );
    assert!(
        item_taxes(&invoice).contains(&Value::Null),
        "the credit bears none"
    );
    assert_eq!(
        invoice["tax"]["breakdown"],
        json!([{"category": "S", "rate": 0.19, "taxableAmount": 80, "amount": 15.2}]),
        "the credit lowers the amount taxed"
    );

    // Removing a debit reprices the rest: 66.67 - 6.67 - 10.00 = 50.00 at 19% is 9.50.
    let path = format!("/invoices/{id}/items/{}", a["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    let invoice = app.invoice(&id).await;
    assert_eq!(invoice["tax"]["amount"], json!(9.5));
    assert_eq!(invoice["amount"], json!(59.5));
}

#[sqlx::test]
async fn a_vat_rate_is_required_and_a_fraction(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat"});
    let response = app.post("/invoices", body.clone()).await;
    assert_invalid_fields(&response, "/invoices", &[("tax.rate", "is required")]);
    body["tax"] = json!({"calculator": "vat", "rate": 19});
    let response = app.post("/invoices", body.clone()).await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[(
            "tax.rate",
            "must be at most 1 (a fraction: 0.0625 is 6.25%)",
        )],
    );
    body["tax"] = json!({"calculator": "vat", "rate": 0.19, "stateRate": 0.1});
    let response = app.post("/invoices", body).await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[("tax.stateRate", "is not a known field")],
    );
}
