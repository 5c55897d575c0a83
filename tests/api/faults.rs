//! Faults: requests that take too long.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use sqlx::{PgPool, Row};

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

/// A caller dropped while its `BEGIN` is on the wire (a client that went away, a request out of
/// time) leaves no transaction behind on the pooled connection: the next borrower's statements
/// run in none.
#[sqlx::test]
async fn a_begin_given_up_leaves_no_transaction_on_its_connection(pool: PgPool) {
    let single = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let db = invoice_api::repository::Db::new(single.clone());
    // Given up after more and more turns of the runtime: some land while the `BEGIN` is on
    // the wire, between its sending and its answer.
    for turns in 0..400 {
        let begins: [std::pin::Pin<Box<dyn Future<Output = _> + Send>>; 2] =
            [Box::pin(db.snapshot()), Box::pin(db.begin())];
        for begun in begins {
            tokio::select! {
                biased;
                _ = begun => {}
                () = async {
                    for _ in 0..turns {
                        tokio::task::yield_now().await;
                    }
                } => {}
            }
            // One simple-protocol message: outside a transaction, its own transaction starts
            // with the statement; inside one left open, the transaction started before.
            let outside: bool = sqlx::raw_sql("select now() = statement_timestamp()")
                .fetch_one(&single)
                .await
                .unwrap()
                .get(0);
            assert!(
                outside,
                "after {turns} turns: a statement ran inside a transaction left open"
            );
        }
    }
}
