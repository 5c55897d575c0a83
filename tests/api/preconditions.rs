//! `ETag` and `If-Match`: a change to a version the client has not seen is 412.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse, assert_problem, invoice_body, request};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: &str,
) -> TestResponse {
    let builder = request(method, path, body)
        .header("REB-APIKEY", &app.api_key)
        .header("If-Match", if_match);
    app.send(builder.body_json()).await
}

#[sqlx::test]
async fn an_item_changes_only_from_the_version_if_match_names(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = app.create_invoice("USD").await;
    let created = app
        .post(
            &format!("/invoices/{invoice}/items"),
            json!({"type": "debit", "unitPrice": 1}),
        )
        .await;
    assert_eq!(created.header("etag"), Some("\"r0\""));
    let path = format!(
        "/invoices/{invoice}/items/{}",
        created.body["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&path).await.header("etag"), Some("\"r0\""));

    let body = json!({"type": "debit", "unitPrice": 2});
    let replaced = send(&app, Method::PUT, &path, Some(body.clone()), "\"r0\"").await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.header("etag"), Some("\"r1\""));
    let stale = send(
        &app,
        Method::PUT,
        &path,
        Some(json!({"type": "debit", "unitPrice": 3})),
        "\"r0\"",
    )
    .await;
    assert_problem(
        &stale,
        StatusCode::PRECONDITION_FAILED,
        "Precondition Failed",
        &path,
    );
    let weak = send(&app, Method::DELETE, &path, None, "W/\"r1\"").await;
    assert_problem(
        &weak,
        StatusCode::PRECONDITION_FAILED,
        "Precondition Failed",
        &path,
    );
    assert_eq!(
        app.get(&path).await.body["unitPrice"],
        json!(2),
        "nothing changed"
    );
    assert_eq!(app.invoice(&invoice).await["revision"], 2);

    let either = send(&app, Method::PUT, &path, Some(body), "\"r9\", \"r1\"").await;
    assert_eq!(either.status, StatusCode::OK, "{}", either.text);
    let deleted = send(&app, Method::DELETE, &path, None, "*").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = send(&app, Method::DELETE, &path, None, "*").await;
    assert_problem(&gone, StatusCode::NOT_FOUND, "Not Found", &path);
}

#[sqlx::test]
async fn an_item_moved_by_another_change_has_a_new_etag(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["discounts"] = json!([{"type": "fixed", "value": 4}]);
    let invoice = app.post("/invoices", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = app
        .post(
            &format!("/invoices/{invoice}/items"),
            json!({"type": "debit", "unitPrice": 10}),
        )
        .await;
    let path = format!(
        "/invoices/{invoice}/items/{}",
        first.body["id"].as_str().unwrap()
    );
    let seen = first.header("etag").unwrap().to_owned();
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": 30}))
        .await;
    // The second item took 3 of the 4 off: the first item's share moved from 4 to 1.
    let now = app.get(&path).await;
    assert_eq!(now.body["discountAmount"], json!(1));
    assert_ne!(now.header("etag"), Some(seen.as_str()));
    let stale = send(&app, Method::DELETE, &path, None, &seen).await;
    assert_problem(
        &stale,
        StatusCode::PRECONDITION_FAILED,
        "Precondition Failed",
        &path,
    );
}

#[sqlx::test]
async fn an_invoice_put_honours_if_match_and_creates_nothing_under_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let created = app.put("/invoices/inv-etag", invoice_body("USD")).await;
    assert_eq!(created.header("etag"), Some("\"r0\""));
    let updated = send(
        &app,
        Method::PUT,
        "/invoices/inv-etag",
        Some(invoice_body("EUR")),
        "\"r0\"",
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.header("etag"), Some("\"r1\""));
    assert_eq!(
        app.get("/invoices/inv-etag").await.header("etag"),
        Some("\"r1\"")
    );
    let stale = send(
        &app,
        Method::PUT,
        "/invoices/inv-etag",
        Some(invoice_body("JPY")),
        "\"r0\"",
    )
    .await;
    assert_problem(
        &stale,
        StatusCode::PRECONDITION_FAILED,
        "Precondition Failed",
        "/invoices/inv-etag",
    );
    assert_eq!(app.invoice("inv-etag").await["currency"], "EUR");

    let absent = send(
        &app,
        Method::PUT,
        "/invoices/inv-new",
        Some(invoice_body("USD")),
        "*",
    )
    .await;
    assert_problem(
        &absent,
        StatusCode::PRECONDITION_FAILED,
        "Precondition Failed",
        "/invoices/inv-new",
    );
    assert_eq!(
        app.get("/invoices/inv-new").await.status,
        StatusCode::NOT_FOUND
    );

    // The precondition is checked before the state: a stale tag on an issued invoice is 412,
    // the current one 409.
    let issued = app.post("/invoices/inv-etag/issue", json!({})).await;
    assert_eq!(issued.header("etag"), Some("\"r2\""));
    let stale = send(
        &app,
        Method::PUT,
        "/invoices/inv-etag",
        Some(invoice_body("EUR")),
        "\"r1\"",
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let current = send(
        &app,
        Method::PUT,
        "/invoices/inv-etag",
        Some(invoice_body("EUR")),
        "\"r2\"",
    )
    .await;
    assert_eq!(current.status, StatusCode::CONFLICT);
}
