//! Faults: requests that take too long.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem, hold_invoice_lock};

#[sqlx::test]
async fn a_request_that_takes_too_long_is_503_and_keeps_nothing(pool: PgPool) {
    // Only the request meant to time out goes through the impatient app: the others, through
    // the same organization's patient one, succeed however slow the machine is.
    let app = TestApp::new(pool.clone()).await;
    let impatient = TestApp::configured(pool.clone(), |state| {
        state.with_request_timeout(Duration::from_millis(300))
    })
    .await;
    let invoice_id = app.create_invoice("USD").await;
    // Another transaction holds the invoice's row lock, so the item write waits on it until
    // the timeout abandons it: deterministic, whatever the machine's speed.
    let blocker = hold_invoice_lock(&pool, &invoice_id).await;
    let path = format!("/invoices/{invoice_id}/items");
    let response = impatient
        .post(&path, json!({"type": "debit", "unitPrice": 10}))
        .await;
    assert_problem(
        &response,
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        &path,
    );
    assert!(
        response.body["detail"]
            .as_str()
            .unwrap()
            .contains("took longer than 0 seconds"),
        "{}",
        response.text
    );
    blocker.rollback().await.unwrap();
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(invoice["items"], json!([]));
    assert_eq!(invoice["revision"], 0);
    // The server goes on serving.
    app.create_item(&invoice_id, json!({"type": "debit", "unitPrice": 10}))
        .await;
}
