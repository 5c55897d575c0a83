//! `GET` and `PATCH /organizations/{organizationId}`: the caller's own organization only, its
//! details changed field by field, every bad field named, and shown on its invoice documents.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{ORGANIZATION, TestApp, assert_problem};

fn path() -> String {
    format!("/organizations/{ORGANIZATION}")
}

async fn patch(app: &TestApp, body: Value) -> crate::helpers::TestResponse {
    app.call(Method::PATCH, &path(), Some(body)).await
}

#[sqlx::test]
async fn an_organization_starts_blank_and_changes_only_the_fields_given(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let blank = app.get(&path()).await;
    assert_eq!(blank.status, StatusCode::OK, "{}", blank.text);
    assert_eq!(blank.body["id"], ORGANIZATION);
    assert_eq!(blank.body["name"], Value::Null);
    assert_eq!(blank.body["invoiceTimeZone"], "UTC");
    assert_eq!(blank.body["emails"], json!([]));
    assert_eq!(blank.body["updatedTime"], Value::Null);

    let changed = patch(
        &app,
        json!({"name": "Acme Ltd", "address": "36 Craven St", "city": "London",
               "postalCode": "WC2N 5NF", "country": "GB", "invoiceTimeZone": "Europe/London",
               "emails": [{"label": "billing", "value": "billing@acme.example", "primary": true}],
               "phoneNumbers": [{"value": "+44 20 7946 0000"}]}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["name"], "Acme Ltd");
    assert_eq!(
        changed.body["emails"],
        json!([{"label": "billing", "value": "billing@acme.example", "primary": true}])
    );
    assert_eq!(
        changed.body["phoneNumbers"],
        json!([{"label": null, "value": "+44 20 7946 0000", "primary": false}])
    );
    assert!(changed.body["updatedTime"].is_string());

    // Absent fields stay; null clears one, and the time zone goes back to UTC.
    let again = patch(
        &app,
        json!({"city": null, "invoiceTimeZone": null, "region": "Greater London"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["name"], "Acme Ltd");
    assert_eq!(again.body["city"], Value::Null);
    assert_eq!(again.body["region"], "Greater London");
    assert_eq!(again.body["invoiceTimeZone"], "UTC");
    assert_eq!(
        app.get(&path()).await.body,
        again.body,
        "read back as written"
    );
}

#[sqlx::test]
async fn bad_fields_are_422_each_named_and_nothing_changes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let refused = patch(
        &app,
        json!({"name": "x".repeat(61), "country": "gb", "invoiceTimeZone": "Mars/Olympus",
               "emails": [{"value": ""}, {"value": "a@b.example", "primary": true, "kind": 1}],
               "phoneNumbers": [{"value": "1", "primary": true}, {"value": "2", "primary": true}],
               "colour": "red"}),
    )
    .await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation error",
        &path(),
    );
    let fields: Vec<&str> = refused.body["invalidFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect();
    for field in [
        "name",
        "country",
        "invoiceTimeZone",
        "emails.0.value",
        "emails.1.kind",
        "phoneNumbers",
        "colour",
    ] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    assert_eq!(app.get(&path()).await.body["name"], Value::Null);
}

#[sqlx::test]
async fn another_organization_is_403_for_both_methods(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let other = "/organizations/org_someone_else";
    assert_problem(
        &app.get(other).await,
        StatusCode::FORBIDDEN,
        "Forbidden",
        other,
    );
    let changed = app
        .call(Method::PATCH, other, Some(json!({"name": "Mine now"})))
        .await;
    assert_problem(&changed, StatusCode::FORBIDDEN, "Forbidden", other);
}

#[sqlx::test]
async fn an_organizations_legal_identity_is_kept_checked_and_cleared(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let changed = patch(
        &app,
        json!({"legalName": "Muster GmbH", "vatId": "DE 123 456 789",
               "registrationNumber": "HRB 12345",
               "electronicAddress": {"scheme": "0088", "id": "4000001123452"},
               "bankAccount": {"iban": "de02 1203 0000 0000 2020 51", "bic": "BYLADEM1001"}}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let read = app.get(&path()).await.body;
    assert_eq!(read["legalName"], "Muster GmbH");
    assert_eq!(read["vatId"], "DE123456789", "spaces dropped");
    assert_eq!(read["registrationNumber"], "HRB 12345");
    assert_eq!(
        read["electronicAddress"],
        json!({"scheme": "0088", "id": "4000001123452"})
    );
    assert_eq!(
        read["bankAccount"],
        json!({"iban": "DE02120300000000202051", "bic": "BYLADEM1001", "accountName": null})
    );

    let refused = patch(
        &app,
        json!({"vatId": "123456789", "electronicAddress": {"scheme": "1234", "id": "x"},
               "bankAccount": {"iban": "DE02120300000000202052", "bic": "DEUT"}}),
    )
    .await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation error",
        &path(),
    );
    let messages: Vec<(String, String)> = refused.body["invalidFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| {
            (
                field["field"].as_str().unwrap().to_owned(),
                field["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (field, words) in [
        ("vatId", "two-letter country prefix"),
        ("electronicAddress.scheme", "EAS list"),
        ("bankAccount.iban", "check digits"),
        ("bankAccount.bic", "8 or 11"),
    ] {
        assert!(
            messages
                .iter()
                .any(|(name, message)| name == field && message.contains(words)),
            "{field}: {words} in {messages:?}"
        );
    }
    assert_eq!(
        app.get(&path()).await.body["vatId"],
        "DE123456789",
        "nothing changed"
    );

    let cleared = patch(
        &app,
        json!({"bankAccount": null, "electronicAddress": null}),
    )
    .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.body["bankAccount"], Value::Null);
    assert_eq!(cleared.body["electronicAddress"], Value::Null);
    assert_eq!(cleared.body["legalName"], "Muster GmbH", "the rest is kept");
}
