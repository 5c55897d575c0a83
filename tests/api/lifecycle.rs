//! Issue, void and abandon, and what a non-draft invoice refuses.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{PUBLIC_URL, TestApp, assert_invalid_fields, assert_problem, invoice_body};

async fn act(app: &TestApp, id: &str, verb: &str) -> crate::helpers::TestResponse {
    app.call(Method::POST, &format!("/invoices/{id}/{verb}"), None)
        .await
}

#[sqlx::test]
async fn issuing_a_draft_makes_it_unpaid_and_freezes_its_items(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    let item = app
        .create_item(&id, json!({"type": "debit", "unitPrice": 5}))
        .await;
    let issued = act(&app, &id, "issue").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(
        issued.header("location"),
        Some(format!("{PUBLIC_URL}/invoices/{id}").as_str())
    );
    let body = &issued.body;
    assert_eq!(body["status"], "unpaid");
    assert!(body["issuedTime"].is_string());
    assert_eq!(
        body["dueTime"], body["issuedTime"],
        "due on issue by default"
    );
    assert_eq!(body["revision"], 2);
    assert_eq!(body["items"][0]["id"], item["id"]);
    assert_eq!(app.invoice(&id).await, *body);

    let items = format!("/invoices/{id}/items");
    let one = format!("{items}/{}", item["id"].as_str().unwrap());
    let attempts = [
        app.post(&items, json!({"type": "debit", "unitPrice": 1}))
            .await,
        app.put(&one, json!({"type": "debit", "unitPrice": 1}))
            .await,
        app.delete(&one).await,
    ];
    for (response, instance) in attempts.iter().zip([&items, &one, &one]) {
        assert_problem(response, StatusCode::CONFLICT, "Conflict", instance);
        let detail = response.body["detail"].as_str().unwrap();
        assert!(detail.contains("is unpaid"), "{detail}");
    }
    let again = act(&app, &id, "issue").await;
    assert_problem(
        &again,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("/invoices/{id}/issue"),
    );
    assert_eq!(
        again.body["detail"],
        format!("Invoice {id} is unpaid: only an invoice that is draft can be issued.")
    );
    let update = app
        .put(&format!("/invoices/{id}"), invoice_body("USD"))
        .await;
    assert_problem(
        &update,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("/invoices/{id}"),
    );
    assert_eq!(
        app.invoice(&id).await["revision"],
        2,
        "refusals change nothing"
    );
}

#[sqlx::test]
async fn issue_takes_its_times_from_the_body(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    let path = format!("/invoices/{id}/issue");
    let reversed = app
        .post(
            &path,
            json!({"issuedTime": "2026-12-01T00:00:00Z", "dueTime": "2026-11-30T00:00:00Z"}),
        )
        .await;
    assert_invalid_fields(
        &reversed,
        &path,
        &[("dueTime", "must not be before issuedTime")],
    );
    let unknown = app.post(&path, json!({"when": "now"})).await;
    assert_invalid_fields(&unknown, &path, &[("when", "is not a known field")]);
    let issued = app
        .post(
            &path,
            json!({"issuedTime": "2026-12-01T10:00:00+01:00", "dueTime": "2026-12-31T09:00:00Z"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(issued.body["issuedTime"], "2026-12-01T09:00:00Z");
    assert_eq!(issued.body["dueTime"], "2026-12-31T09:00:00Z");
}

#[sqlx::test]
async fn void_and_abandon_follow_the_lifecycle(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let draft = app.create_invoice("EUR").await;
    let refused = act(&app, &draft, "void").await;
    assert_problem(
        &refused,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("/invoices/{draft}/void"),
    );
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("is draft: only an invoice that is unpaid or past-due can be voided"),
        "{}",
        refused.text
    );
    let abandoned = act(&app, &draft, "abandon").await;
    assert_eq!(abandoned.status, StatusCode::CREATED, "{}", abandoned.text);
    assert_eq!(abandoned.body["status"], "abandoned");
    assert!(abandoned.body["abandonedTime"].is_string());
    for verb in ["issue", "void", "abandon"] {
        assert_eq!(
            act(&app, &draft, verb).await.status,
            StatusCode::CONFLICT,
            "{verb}"
        );
    }

    let issued = app.create_invoice("EUR").await;
    assert_eq!(
        act(&app, &issued, "issue").await.status,
        StatusCode::CREATED
    );
    let voided = act(&app, &issued, "void").await;
    assert_eq!(voided.status, StatusCode::CREATED, "{}", voided.text);
    assert_eq!(voided.body["status"], "voided");
    assert!(voided.body["voidedTime"].is_string());
    assert_eq!(voided.body["revision"], 2);
    assert_eq!(
        act(&app, &issued, "abandon").await.status,
        StatusCode::CONFLICT
    );

    let unpaid = app.create_invoice("EUR").await;
    act(&app, &unpaid, "issue").await;
    let abandoned = act(&app, &unpaid, "abandon").await;
    assert_eq!(abandoned.body["status"], "abandoned", "{}", abandoned.text);

    let missing = act(&app, "in_nothing", "issue").await;
    assert_problem(
        &missing,
        StatusCode::NOT_FOUND,
        "Not Found",
        "/invoices/in_nothing/issue",
    );
}

#[sqlx::test]
async fn an_invoice_keeps_its_due_time_on_issue_unless_it_falls_before(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = invoice_body("USD");
    body["dueTime"] = json!("2099-01-31T00:00:00Z");
    let later = app.post("/invoices", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issued = act(&app, &later, "issue").await;
    assert_eq!(
        issued.body["dueTime"], "2099-01-31T00:00:00Z",
        "{}",
        issued.text
    );

    let mut body = invoice_body("USD");
    body["dueTime"] = json!("2001-01-31T00:00:00Z");
    let earlier = app.post("/invoices", body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issued = act(&app, &earlier, "issue").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(issued.body["dueTime"], issued.body["issuedTime"]);
}

#[sqlx::test]
async fn an_unknown_item_of_an_issued_invoice_is_404_not_409(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    act(&app, &id, "issue").await;
    let path = format!("/invoices/{id}/items/ii_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    let deleted = app.delete(&path).await;
    assert_problem(&deleted, StatusCode::NOT_FOUND, "Not Found", &path);
    let replaced = app
        .put(&path, json!({"type": "debit", "unitPrice": 1}))
        .await;
    assert_problem(&replaced, StatusCode::NOT_FOUND, "Not Found", &path);
}

#[sqlx::test]
async fn a_due_time_before_the_issue_is_422_even_when_the_invoice_cannot_be_issued(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    act(&app, &id, "abandon").await;
    let path = format!("/invoices/{id}/issue");
    let response = app
        .post(&path, json!({"dueTime": "2001-01-01T00:00:00Z"}))
        .await;
    assert_invalid_fields(
        &response,
        &path,
        &[("dueTime", "must not be before issuedTime")],
    );
}
