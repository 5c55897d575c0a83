//! Restricted keys and tokens: every operation is refused with 403 to a credential without it.

use axum::http::{Method, StatusCode};
use invoice_api::domain::permission::{Operation, Permissions};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{JWT_SECRET, ORGANIZATION, TestApp, TestResponse, assert_problem, request};

/// The ids every call below needs, made with an unrestricted key.
struct Fixture {
    invoice: String,
    item: String,
    product: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let invoice = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice, json!({"type": "debit", "unitPrice": 1}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let product = app.post("/products", json!({"name": "Seat"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        invoice,
        item,
        product,
    }
}

/// The request of each operation.
fn call(operation: Operation, ids: &Fixture) -> (Method, String, Option<Value>) {
    let invoice = format!("/invoices/{}", ids.invoice);
    let item = format!("{invoice}/items/{}", ids.item);
    let item_body = json!({"type": "debit", "unitPrice": 2});
    let invoice_body = json!({"customerId": "c", "websiteId": "w", "currency": "USD"});
    let webhook_body = json!({"url": "http://127.0.0.1:9/hook", "method": "POST"});
    match operation {
        Operation::GetInvoiceCollection => (Method::GET, "/invoices".into(), None),
        Operation::PostInvoice => (Method::POST, "/invoices".into(), Some(invoice_body)),
        Operation::GetInvoice => (Method::GET, invoice, None),
        Operation::PutInvoice => (Method::PUT, invoice, Some(invoice_body)),
        Operation::PostInvoiceIssuance => (Method::POST, format!("{invoice}/issue"), None),
        Operation::PostInvoiceVoid => (Method::POST, format!("{invoice}/void"), None),
        Operation::PostInvoiceAbandonment => (Method::POST, format!("{invoice}/abandon"), None),
        Operation::GetInvoiceItemCollection => (Method::GET, format!("{invoice}/items"), None),
        Operation::PostInvoiceItem => (Method::POST, format!("{invoice}/items"), Some(item_body)),
        Operation::GetInvoiceItem => (Method::GET, item, None),
        Operation::PutInvoiceItem => (Method::PUT, item, Some(item_body)),
        Operation::DeleteInvoiceItem => (Method::DELETE, item, None),
        Operation::GetProductCollection => (Method::GET, "/products".into(), None),
        Operation::PostProduct => (Method::POST, "/products".into(), Some(json!({"name": "P"}))),
        Operation::GetProduct => (Method::GET, format!("/products/{}", ids.product), None),
        Operation::GetOrganization => (Method::GET, format!("/organizations/{ORGANIZATION}"), None),
        Operation::PatchOrganization => (
            Method::PATCH,
            format!("/organizations/{ORGANIZATION}"),
            Some(json!({"name": "Acme"})),
        ),
        // Ids that name nothing: past authorization, a 404 (or a 422) is the answer.
        Operation::GetWebhookCollection => (Method::GET, "/webhooks".into(), None),
        Operation::PostWebhook => (Method::POST, "/webhooks".into(), Some(webhook_body)),
        Operation::GetWebhook => (Method::GET, "/webhooks/hook_none".into(), None),
        Operation::PutWebhook => (Method::PUT, "/webhooks/hook_1".into(), Some(webhook_body)),
        Operation::DeleteWebhook => (Method::DELETE, "/webhooks/hook_none".into(), None),
        Operation::GetTrackingWebhookCollection => (Method::GET, "/tracking/webhooks".into(), None),
        Operation::GetTrackingWebhook => {
            (Method::GET, "/tracking/webhooks/hook_log_none".into(), None)
        }
        Operation::PostTrackingWebhookResendRequest => (
            Method::POST,
            "/tracking/webhooks/hook_log_none/resend".into(),
            None,
        ),
        Operation::GetInvoiceTimelineCollection => {
            (Method::GET, format!("{invoice}/timeline"), None)
        }
        Operation::PostInvoiceTimeline => (
            Method::POST,
            format!("{invoice}/timeline"),
            Some(json!({"message": "Checked"})),
        ),
        Operation::GetInvoiceTimeline => {
            (Method::GET, format!("{invoice}/timeline/tmln_none"), None)
        }
        Operation::DeleteInvoiceTimeline => (
            Method::DELETE,
            format!("{invoice}/timeline/tmln_none"),
            None,
        ),
        Operation::GetTransactionCollection => (Method::GET, "/transactions".into(), None),
        Operation::PostTransaction => (
            Method::POST,
            "/transactions".into(),
            Some(
                json!({"type": "sale", "customerId": "c", "websiteId": "w", "currency": "USD",
                        "amount": 1, "paymentInstrument": {"method": "cash"}}),
            ),
        ),
        Operation::GetTransaction => (Method::GET, "/transactions/txn_none".into(), None),
        Operation::PostInvoiceTransaction => (
            Method::POST,
            format!("{invoice}/transaction"),
            Some(json!({"transactionId": "txn_none"})),
        ),
        Operation::GetInvoiceTransactionAllocationCollection => (
            Method::GET,
            format!("{invoice}/transaction-allocations"),
            None,
        ),
        Operation::GetCreditMemoCollection => (Method::GET, "/credit-memos".into(), None),
        Operation::PostCreditMemo => (
            Method::POST,
            "/credit-memos".into(),
            Some(
                json!({"customerId": "c", "currency": "USD", "invoiceId": ids.invoice,
                        "items": [{"description": "x", "unitPrice": 1}]}),
            ),
        ),
        Operation::GetCreditMemo => (Method::GET, "/credit-memos/crmm_none".into(), None),
        Operation::PatchCreditMemo => (
            Method::PATCH,
            "/credit-memos/crmm_none".into(),
            Some(json!({"reason": "other"})),
        ),
        Operation::PostCreditMemoVoid => {
            (Method::POST, "/credit-memos/crmm_none/void".into(), None)
        }
    }
}

async fn send(
    app: &TestApp,
    call: &(Method, String, Option<Value>),
    headers: &[(&str, &str)],
) -> TestResponse {
    let (method, path, body) = call.clone();
    let mut builder = request(method, &path, body);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    app.send(builder.body_json()).await
}

#[sqlx::test]
async fn a_key_without_an_operation_is_403_for_it_and_only_for_it(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let ids = fixture(&app).await;
    for operation in Operation::ALL {
        let others = Operation::ALL
            .into_iter()
            .filter(|other| *other != operation);
        let without =
            TestApp::restricted_key_for(&pool, ORGANIZATION, Some(Permissions::of(others))).await;
        let only =
            TestApp::restricted_key_for(&pool, ORGANIZATION, Some(Permissions::of([operation])))
                .await;
        let request = call(operation, &ids);
        let refused = send(&app, &request, &[("REB-APIKEY", &without)]).await;
        assert_problem(&refused, StatusCode::FORBIDDEN, "Forbidden", &request.1);
        assert_eq!(
            refused.body["detail"],
            json!(format!(
                "The credentials do not have the {operation} permission."
            )),
        );
        // The one permission suffices to get past authorization; the answer may still be a
        // 409, as the loop issues the invoice on its way.
        let allowed = send(&app, &request, &[("REB-APIKEY", &only)]).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&allowed.status),
            "{operation}: {} {}",
            allowed.status,
            allowed.text
        );
    }
}

#[sqlx::test]
async fn the_permission_check_comes_before_the_body_is_read(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let read_only = Permissions::of([Operation::GetInvoice]);
    let key = TestApp::restricted_key_for(&pool, ORGANIZATION, Some(read_only)).await;
    let response = app
        .send(
            request(Method::POST, "/invoices", Some(json!({"bogus": true})))
                .header("REB-APIKEY", &key)
                .body_json(),
        )
        .await;
    assert_problem(&response, StatusCode::FORBIDDEN, "Forbidden", "/invoices");
}

fn jwt(claims: Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET),
    )
    .unwrap()
}

#[sqlx::test]
async fn a_token_carries_its_permissions_and_a_key_adds_its_own(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let ids = fixture(&app).await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let token = jwt(json!({"organizationId": ORGANIZATION, "exp": exp,
                           "permissions": ["GetInvoice", "NotOurs"]}));
    let bearer = format!("Bearer {token}");
    let get = call(Operation::GetInvoice, &ids);
    let list = call(Operation::GetInvoiceCollection, &ids);
    assert_eq!(
        send(&app, &get, &[("Authorization", &bearer)]).await.status,
        StatusCode::OK
    );
    let refused = send(&app, &list, &[("Authorization", &bearer)]).await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "Forbidden", "/invoices");

    let list_key = TestApp::restricted_key_for(
        &pool,
        ORGANIZATION,
        Some(Permissions::of([Operation::GetInvoiceCollection])),
    )
    .await;
    let both = [
        ("Authorization", bearer.as_str()),
        ("REB-APIKEY", list_key.as_str()),
    ];
    assert_eq!(send(&app, &get, &both).await.status, StatusCode::OK);
    assert_eq!(send(&app, &list, &both).await.status, StatusCode::OK);

    let unrestricted = jwt(json!({"organizationId": ORGANIZATION, "exp": exp}));
    let bearer = format!("Bearer {unrestricted}");
    assert_eq!(
        send(&app, &list, &[("Authorization", &bearer)])
            .await
            .status,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn the_database_refuses_a_permission_it_does_not_know(pool: PgPool) {
    let error = sqlx::query(
        "insert into api_keys (organization_id, id, key_hash, key_prefix, live, permissions)
         values ('org_x', gen_random_uuid(), sha256('k'), 'k', false, array['Everything'])",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    let code = error.as_database_error().and_then(|e| e.code()).unwrap();
    // 23514 check_violation (or 23503 if the organization check comes first).
    assert!(code == "23514" || code == "23503", "{code}");
}
