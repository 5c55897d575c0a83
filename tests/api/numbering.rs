//! Invoice numbers: given at issue, 1, 2, 3, ... per organization, with no gap and no repeat
//! however many issues race, and none taken by an issue that fails.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, invoice_body};

#[sqlx::test]
async fn fifty_concurrent_issues_number_the_invoices_one_to_fifty(pool: PgPool) {
    let app = Arc::new(TestApp::new(pool).await);
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(app.create_invoice("USD").await);
    }
    let issues: Vec<_> = ids
        .iter()
        .map(|id| {
            let (app, path) = (app.clone(), format!("/invoices/{id}/issue"));
            tokio::spawn(async move { app.post(&path, json!({})).await })
        })
        .collect();
    let mut numbers = BTreeSet::new();
    for issue in issues {
        let answer = issue.await.unwrap();
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert!(numbers.insert(answer.body["invoiceNumber"].as_i64().unwrap()));
    }
    assert_eq!(numbers, (1..=50).collect::<BTreeSet<i64>>());
    for id in &ids {
        let read = app.invoice(id).await;
        assert!(
            read["invoiceNumber"]
                .as_i64()
                .is_some_and(|n| (1..=50).contains(&n))
        );
    }
}

#[sqlx::test]
async fn a_draft_has_no_number_and_a_failed_issue_takes_none(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let first = app.create_invoice("USD").await;
    assert_eq!(app.invoice(&first).await["invoiceNumber"], Value::Null);
    let issued = app
        .post(&format!("/invoices/{first}/issue"), json!({}))
        .await;
    assert_eq!(issued.body["invoiceNumber"], json!(1), "{}", issued.text);

    // Issued again: 409, and the number is not used up.
    let again = app
        .post(&format!("/invoices/{first}/issue"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // A due time before the issue time: 422 after the lock, still no number taken.
    let second = app.create_invoice("USD").await;
    let refused = app
        .post(
            &format!("/invoices/{second}/issue"),
            json!({"issuedTime": "2026-11-30T00:00:00Z", "dueTime": "2026-11-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let issued = app
        .post(&format!("/invoices/{second}/issue"), json!({}))
        .await;
    assert_eq!(issued.body["invoiceNumber"], json!(2), "{}", issued.text);

    // Voiding or abandoning keeps the number; a new issue takes the next one.
    let voided = app
        .post(&format!("/invoices/{first}/void"), json!({}))
        .await;
    assert_eq!(voided.body["invoiceNumber"], json!(1), "{}", voided.text);
    let third = app.create_invoice("USD").await;
    let issued = app
        .post(&format!("/invoices/{third}/issue"), json!({}))
        .await;
    assert_eq!(issued.body["invoiceNumber"], json!(3));

    // Another organization counts from 1.
    let other = TestApp::key_for(&pool, "org_numbers").await;
    let created = app
        .send(
            crate::helpers::request(
                axum::http::Method::POST,
                "/invoices",
                Some(invoice_body("USD")),
            )
            .header("REB-APIKEY", &other)
            .body_json(),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let issued = app
        .send(
            crate::helpers::request(
                axum::http::Method::POST,
                &format!("/invoices/{id}/issue"),
                None,
            )
            .header("REB-APIKEY", &other)
            .body_json(),
        )
        .await;
    assert_eq!(issued.body["invoiceNumber"], json!(1), "{}", issued.text);

    // The database itself refuses a repeat.
    let repeat = sqlx::query(
        "update invoices set invoice_number = 1 where organization_id = 'org_test' and id = $1",
    )
    .bind(&third)
    .execute(&pool)
    .await;
    assert!(repeat.is_err(), "a second invoice numbered 1");
}
