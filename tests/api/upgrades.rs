//! Data written before a migration reads back the same after it.

use std::borrow::Cow;

use axum::http::{Method, StatusCode};
use invoice_api::domain::idempotency::{CanonicalBody, RequestFingerprint};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{ORGANIZATION, TestApp, request};

/// The first migration that keeps taxes as one value and answers as bytes.
const ONE_VALUE_TAXES: i64 = 20261201200000;

#[sqlx::test(migrations = false)]
async fn taxes_and_kept_answers_written_before_the_one_value_columns_read_back_the_same(
    pool: PgPool,
) {
    let all = sqlx::migrate!("./migrations");
    let mut earlier = sqlx::migrate!("./migrations");
    earlier.migrations = Cow::Owned(
        all.migrations
            .iter()
            .filter(|migration| migration.version < ONE_VALUE_TAXES)
            .cloned()
            .collect(),
    );
    earlier.run(&pool).await.unwrap();
    let path = "/invoices/inv-rates/items";
    let body = r#"{"type": "debit", "unitPrice": 10}"#;
    let fingerprint = RequestFingerprint::new(path, Some(&CanonicalBody::of_json(body)));
    let rows_written_earlier =
        "insert into invoices (organization_id, id, customer_id, website_id, currency,
             subtotal_amount, tax_amount, amount, amount_due, created_time, updated_time,
             tax_calculator, tax_state_rate, tax_county_rate, tax_city_rate,
             tax_special_district_rate, tax_country, tax_state)
         values ($1, 'inv-rates', 'cus', 'web', 'USD', 20, 1.65, 21.65, 21.65, now(), now(),
             'rates', 0.0625, 0.01, 0.005, 0.005, 'US', 'TX');
         insert into invoice_items (organization_id, id, invoice_id, type, unit_price, quantity,
             price, discount_amount, created_time, updated_time, tax_amount, tax_description,
             tax_rate, tax_state_rate, tax_state_amount, tax_county_rate, tax_county_amount,
             tax_city_rate, tax_city_amount, tax_special_district_rate,
             tax_special_district_amount, tax_country, tax_state)
         values ($1, 'ii-computed', 'inv-rates', 'debit', 10, 2, 20, 0, now(), now(), 1.65,
             'Sales tax', 0.0825, 0.0625, 1.25, 0.01, 0.20, 0.005, 0.10, 0.005, 0.10,
             'US', 'TX');
         insert into invoices (organization_id, id, customer_id, website_id, currency,
             subtotal_amount, tax_amount, amount, amount_due, created_time, updated_time)
         values ($1, 'inv-manual', 'cus', 'web', 'USD', 10, 1.5, 11.5, 11.5, now(), now());
         insert into invoice_items (organization_id, id, invoice_id, type, unit_price, quantity,
             price, discount_amount, created_time, updated_time, tax_amount, tax_description)
         values ($1, 'ii-manual', 'inv-manual', 'debit', 10, 1, 10, 0, now(), now(), 1.50,
             'VAT');
         insert into idempotency_keys (organization_id, key, request_path, request_body_sha256,
             response_status, response_location, response_etag, response_body)
         values ($1, 'kept-earlier', $2, $3, 201, 'http://invoices.test/x', '\"r0\"',
             '{\"id\":\"x\"}')"
            .replace("$1", &format!("'{ORGANIZATION}'"))
            .replace("$2", &format!("'{path}'"))
            .replace(
                "$3",
                &format!("'\\x{}'", hex::encode(fingerprint.body_sha256.unwrap())),
            );
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows_written_earlier))
        .execute(&pool)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    all.run(&pool).await.unwrap();

    let app = TestApp::new(pool).await;
    let invoice = app.get("/invoices/inv-rates").await;
    assert_eq!(invoice.status, StatusCode::OK, "{}", invoice.text);
    assert_eq!(
        invoice.body["tax"],
        json!({"calculator": "rates", "amount": 1.65, "stateRate": 0.0625, "countyRate": 0.01,
               "cityRate": 0.005, "specialDistrictRate": 0.005,
               "jurisdictions": {"country": "US", "state": "TX", "county": null, "city": null}})
    );
    let computed = &invoice.body["items"][0]["tax"];
    assert_eq!(computed["amount"], json!(1.65));
    assert_eq!(computed["rate"], json!(0.0825));
    for (component, amount) in [
        ("state", 1.25),
        ("county", 0.2),
        ("city", 0.1),
        ("specialDistrict", 0.1),
    ] {
        assert_eq!(computed[format!("{component}Amount")], json!(amount));
    }
    assert_eq!(computed["jurisdictions"]["state"], "TX");
    let manual = app.get("/invoices/inv-manual/items/ii-manual").await;
    assert_eq!(manual.body["tax"]["amount"], json!(1.5));
    assert_eq!(manual.body["tax"]["description"], "VAT");

    // The answer kept before the change is given again, with its headers.
    let retry = app
        .send(
            request(
                Method::POST,
                path,
                Some(serde_json::from_str(body).unwrap()),
            )
            .header("REB-APIKEY", &app.api_key)
            .header("Idempotency-Key", "kept-earlier")
            .body_json(),
        )
        .await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.text, r#"{"id":"x"}"#);
    assert_eq!(retry.header("location"), Some("http://invoices.test/x"));
    assert_eq!(retry.header("etag"), Some("\"r0\""));
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));

    // Writing reprices the items from the settings as migrated: the first item's tax is what
    // it was, and the invoice's tax is the sum of its items'.
    let added = app
        .post(path, json!({"type": "debit", "unitPrice": 10}))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let invoice = app.get("/invoices/inv-rates").await;
    let amount = |value: &serde_json::Value| -> Decimal { value.to_string().parse().unwrap() };
    let items = invoice.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(amount(&items[0]["tax"]["amount"]), Decimal::new(165, 2));
    let sum: Decimal = items
        .iter()
        .map(|item| amount(&item["tax"]["amount"]))
        .sum();
    assert_eq!(
        amount(&invoice.body["tax"]["amount"]),
        sum,
        "{}",
        invoice.text
    );
    assert!(sum > Decimal::new(165, 2));
}
