//! Discounts and taxes through the API: the worked example of docs/api-rebilly.md, repricing
//! on every kind of change, and the 422s of the new fields.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{ORGANIZATION, TestApp, assert_invalid_fields, invoice_body};

/// The example invoice of docs/api-rebilly.md and the README: 10% off, four tax components, in USD.
fn example_invoice() -> Value {
    json!({
        "customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
        "discounts": [{"description": "Loyalty", "type": "percent", "value": 10}],
        "tax": {"calculator": "rates", "stateRate": 0.0625, "countyRate": 0.01,
                "cityRate": 0.005, "specialDistrictRate": 0.0025,
                "jurisdictions": {"country": "US", "state": "CA", "county": "LOS ANGELES",
                                  "city": "LOS ANGELES"}}
    })
}

fn item(kind: &str, unit_price: f64, quantity: i64) -> Value {
    json!({"type": kind, "unitPrice": unit_price, "quantity": quantity})
}

#[sqlx::test]
async fn a_discounted_taxed_invoice_adds_up_to_the_cent(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let created = app.post("/invoices", example_invoice()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let a = app.create_item(&id, item("debit", 19.99, 3)).await;
    let b = app.create_item(&id, item("debit", 10.01, 1)).await;
    let c = app.create_item(&id, item("debit", 5.0, 2)).await;
    let d = app.create_item(&id, item("credit", 5.0, 1)).await;
    let invoice = app.invoice(&id).await;

    // Debit total 59.97 + 10.01 + 10.00 = 79.98; 10% of it is 7.998, rounded to 8.00.
    // 800 cents over 5997, 1001 and 1000: exact shares 599.85, 100.125 and 100.025; floors
    // 599 + 100 + 100 = 799 leave one cent, which goes to the largest remainder (0.85).
    let items = invoice["items"].as_array().unwrap();
    let by_id = |wanted: &Value| {
        items
            .iter()
            .find(|item| item["id"] == wanted["id"])
            .unwrap()
            .clone()
    };
    let (a, b, c, d) = (by_id(&a), by_id(&b), by_id(&c), by_id(&d));
    assert_eq!(a["discountAmount"], json!(6));
    assert_eq!(b["discountAmount"], json!(1));
    assert_eq!(c["discountAmount"], json!(1));
    assert_eq!(d["discountAmount"], json!(0));

    // A is taxed on 59.97 - 6.00 = 53.97: state 3.373125 -> 3.37, county 0.5397 -> 0.54,
    // city 0.26985 -> 0.27, special district 0.134925 -> 0.13; 4.31 in all.
    assert_eq!(
        a["tax"],
        json!({
            "amount": 4.31, "description": "Sales tax", "rate": 0.08,
            "stateAmount": 3.37, "countyAmount": 0.54, "cityAmount": 0.27,
            "specialDistrictAmount": 0.13,
            "stateRate": 0.0625, "countyRate": 0.01, "cityRate": 0.005,
            "specialDistrictRate": 0.0025,
            "jurisdictions": {"country": "US", "state": "CA", "county": "LOS ANGELES",
                              "city": "LOS ANGELES"}
        })
    );
    // B on 9.01: 0.563125 -> 0.56, 0.0901 -> 0.09, 0.04505 -> 0.05, 0.022525 -> 0.02.
    assert_eq!(b["tax"]["amount"], json!(0.72));
    // C on 9.00: 0.5625 -> 0.56, 0.09, 0.045 -> 0.05 (half away from zero), 0.0225 -> 0.02.
    assert_eq!(c["tax"]["amount"], json!(0.72));
    assert_eq!(c["tax"]["cityAmount"], json!(0.05));
    assert_eq!(d["tax"], json!(null), "credits are not taxed");

    assert_eq!(invoice["subtotalAmount"], json!(74.98));
    assert_eq!(invoice["discountAmount"], json!(8));
    assert_eq!(
        invoice["discounts"],
        json!([{"description": "Loyalty", "type": "percent", "value": 10, "amount": 8}])
    );
    assert_eq!(invoice["tax"]["calculator"], "rates");
    assert_eq!(invoice["tax"]["amount"], json!(5.75));
    assert_eq!(invoice["tax"]["stateRate"], json!(0.0625));
    assert_eq!(invoice["tax"]["jurisdictions"]["state"], "CA");
    assert_eq!(invoice["amount"], json!(72.73));
    assert_eq!(invoice["amountDue"], json!(72.73));
    assert_eq!(invoice["revision"], 4);
}

#[sqlx::test]
async fn an_item_change_moves_the_other_items_discounts(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["discounts"] = json!([{"type": "fixed", "value": 10}]);
    let id = app.post("/invoices", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = app.create_item(&id, item("debit", 30.0, 1)).await;
    assert_eq!(first["discountAmount"], json!(10));
    let first_updated = first["updatedTime"].clone();
    let second = app.create_item(&id, item("debit", 10.0, 1)).await;
    // 10.00 over 30 and 10: 7.50 and 2.50.
    assert_eq!(second["discountAmount"], json!(2.5));
    let first_now = app
        .get(&format!(
            "/invoices/{id}/items/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(first_now.body["discountAmount"], json!(7.5));
    assert!(first_now.body["updatedTime"].as_str() >= first_updated.as_str());

    let deleted = app
        .delete(&format!(
            "/invoices/{id}/items/{}",
            second["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let invoice = app.invoice(&id).await;
    assert_eq!(invoice["items"][0]["discountAmount"], json!(10));
    assert_eq!(invoice["discountAmount"], json!(10));
    assert_eq!(invoice["amount"], json!(20));
    assert_eq!(invoice["revision"], 3);
}

#[sqlx::test]
async fn changing_the_discounts_or_rates_reprices_every_item(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let put = app.put("/invoices/inv-reprice", invoice_body("USD")).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text);
    app.create_item("inv-reprice", item("debit", 100.0, 1))
        .await;
    app.create_item("inv-reprice", item("debit", 50.0, 1)).await;
    assert_eq!(app.invoice("inv-reprice").await["amount"], json!(150));

    let mut body = invoice_body("USD");
    body["discounts"] = json!([{"type": "percent", "value": 20}, {"type": "fixed", "value": 200}]);
    body["tax"] = json!({"calculator": "rates", "stateRate": 0.1});
    let updated = app.put("/invoices/inv-reprice", body).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let invoice = &updated.body;
    // 20% of 150 is 30; the fixed 200 is capped at the 120 that remain.
    assert_eq!(invoice["discounts"][0]["amount"], json!(30));
    assert_eq!(invoice["discounts"][1]["amount"], json!(120));
    assert_eq!(invoice["discountAmount"], json!(150));
    for item in invoice["items"].as_array().unwrap() {
        assert_eq!(item["discountAmount"], item["price"], "{item}");
        assert_eq!(item["tax"]["amount"], json!(0), "{item}");
    }
    assert_eq!(invoice["amount"], json!(0));
    assert_eq!(invoice["revision"], 3);
    assert_eq!(app.invoice("inv-reprice").await, *invoice);

    let cleared = app.put("/invoices/inv-reprice", invoice_body("USD")).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["discounts"], json!([]));
    assert_eq!(
        cleared.body["tax"],
        json!({"calculator": "manual", "amount": 0})
    );
    for item in cleared.body["items"].as_array().unwrap() {
        assert_eq!(item["discountAmount"], json!(0));
        assert_eq!(item["tax"], json!(null));
    }
    assert_eq!(cleared.body["amount"], json!(150));
}

#[sqlx::test]
async fn manual_item_taxes_survive_the_rates_calculator(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("JPY");
    body["tax"] = json!({"calculator": "rates", "stateRate": 0.1});
    let id = app.post("/invoices", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manual = app
        .create_item(
            &id,
            json!({"type": "debit", "unitPrice": 1000, "tax": {"amount": 55, "description": "VAT"}}),
        )
        .await;
    assert_eq!(manual["tax"]["amount"], json!(55));
    assert_eq!(manual["tax"]["rate"], json!(null));
    let computed = app.create_item(&id, item("debit", 1005.0, 1)).await;
    // 1005 yen at 10% is 100.5, rounded half away from zero to 101.
    assert_eq!(computed["tax"]["amount"], json!(101));
    assert_eq!(computed["tax"]["stateAmount"], json!(101));
    assert_eq!(computed["tax"]["countyRate"], json!(0));
    let invoice = app.invoice(&id).await;
    assert_eq!(invoice["tax"]["amount"], json!(156));
    assert_eq!(invoice["amount"], json!(2161));
}

#[sqlx::test]
async fn credits_larger_than_debits_leave_a_credit_balance(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["discounts"] = json!([{"type": "percent", "value": 50}]);
    let id = app.post("/invoices", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_item(&id, item("debit", 10.0, 1)).await;
    let credit = app.create_item(&id, item("credit", 25.0, 1)).await;
    assert_eq!(credit["discountAmount"], json!(0));
    let invoice = app.invoice(&id).await;
    assert_eq!(invoice["subtotalAmount"], json!(-15));
    assert_eq!(invoice["discountAmount"], json!(5));
    assert_eq!(invoice["amount"], json!(-20));
    assert_eq!(invoice["amountDue"], json!(-20));
}

#[sqlx::test]
async fn bad_discounts_and_tax_settings_are_422_naming_each_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("JPY");
    body["discounts"] = json!([
        {"type": "percent", "value": 120},
        {"type": "fixed", "value": 1.5},
        {"type": "coupon", "value": 1, "amount": 3},
        {"value": 0},
        "ten"
    ]);
    body["tax"] = json!({"calculator": "rates", "stateRate": 1.5, "cityRate": 0.1234567,
                         "countyRate": "0.1", "jurisdictions": {"planet": "Earth"}});
    let response = app.post("/invoices", body).await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("discounts.4", "must be an object"),
            (
                "discounts.0.value",
                "must be at most 100 for a percent discount",
            ),
            (
                "discounts.1.value",
                "must have at most 0 decimal places in the invoice currency",
            ),
            ("discounts.2.type", "must be one of: percent, fixed"),
            ("discounts.3.type", "is required"),
            (
                "tax.stateRate",
                "must be at most 1 (a fraction: 0.0625 is 6.25%)",
            ),
            ("tax.countyRate", "must be a number"),
            ("tax.cityRate", "must have at most 6 decimal places"),
            ("tax.jurisdictions.planet", "is not a known field"),
        ],
    );
    let mut body = invoice_body("USD");
    body["tax"] = json!({"calculator": "rebilly-taxjar"});
    body["discounts"] = json!(vec![json!({"type": "percent", "value": 1}); 21]);
    let response = app.post("/invoices", body).await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("discounts", "must have at most 20 elements"),
            ("tax.calculator", "must be one of: manual, rates, vat"),
        ],
    );
}

#[sqlx::test]
async fn an_invoice_read_back_can_be_sent_again_unchanged(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let created = app.put("/invoices/inv-roundtrip", example_invoice()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    app.create_item("inv-roundtrip", item("debit", 12.34, 2))
        .await;
    let read = app.invoice("inv-roundtrip").await;
    let again = app.put("/invoices/inv-roundtrip", read.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    for field in ["discounts", "tax", "amount", "items"] {
        assert_eq!(again.body[field], read[field], "{field}");
    }
    assert_eq!(again.body["revision"], json!(2));
}

#[sqlx::test]
async fn the_nul_character_is_422_not_a_database_error(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["discounts"] = json!([{"type": "percent", "value": 10, "description": "a\u{0}b"}]);
    body["tax"] = json!({"calculator": "rates", "jurisdictions": {"city": "x\u{0}"}});
    let response = app.post("/invoices", body).await;
    let message = "must not contain the NUL character (\\u0000)";
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("discounts.0.description", message),
            ("tax.jurisdictions.city", message),
        ],
    );
}

#[sqlx::test]
async fn rebillys_manual_tax_shape_is_accepted(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["tax"] = json!({"calculator": "manual", "amount": 0, "items": []});
    let response = app.post("/invoices", body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(
        response.body["tax"],
        json!({"calculator": "manual", "amount": 0})
    );
}

/// The database's own tax checks (kept as PL/pgSQL functions, whose plans each session keeps)
/// still refuse an item tax whose components do not add up to it, and an invoice tax rate
/// outside 0..1, and admit what the server writes.
#[sqlx::test]
async fn the_database_refuses_item_taxes_that_do_not_add_up_and_rates_out_of_range(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let item_tax = |id: &'static str, tax: Value| {
        sqlx::query(
            "insert into invoice_items (organization_id, id, invoice_id, type, unit_price,
                 quantity, price, tax, created_time, updated_time)
             values ($1, $2, $3, 'debit', 10, 1, 10, $4, now(), now())",
        )
        .bind(ORGANIZATION)
        .bind(id)
        .bind(invoice_id.clone())
        .bind(tax)
        .execute(&app.pool)
    };
    let components = |state: &str, county: &str| json!({"state": {"rate": "0.05", "amount": state}, "county": {"rate": "0.01", "amount": county}});
    let refused = item_tax(
        "ii_off",
        json!({"calculator": "rates", "amount": "0.61", "rate": "0.06", "components": components("0.50", "0.10")}),
    )
    .await
    .unwrap_err();
    let refused = refused.as_database_error().expect("a database error");
    assert_eq!(
        refused.constraint(),
        Some("invoice_items_tax_adds_up"),
        "{refused}"
    );
    item_tax(
        "ii_even",
        json!({"calculator": "rates", "amount": "0.60", "rate": "0.06", "components": components("0.50", "0.10")}),
    )
    .await
    .unwrap();
    item_tax(
        "ii_manual",
        json!({"calculator": "manual", "amount": "1.00"}),
    )
    .await
    .unwrap();

    let rates = |rate: &str| {
        sqlx::query("update invoices set tax = $1 where organization_id = $2 and id = $3")
            .bind(json!({"calculator": "rates", "rates": {"state": rate}}))
            .bind(ORGANIZATION)
            .bind(invoice_id.clone())
            .execute(&app.pool)
    };
    let refused = rates("1.5").await.unwrap_err();
    let refused = refused.as_database_error().expect("a database error");
    assert_eq!(
        refused.constraint(),
        Some("invoices_tax_rates_in_range"),
        "{refused}"
    );
    rates("0.0625").await.unwrap();
}
