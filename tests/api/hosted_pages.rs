//! `/hosted-invoices/{token}`: an issued invoice's page and PDF for its customer, opened with
//! no key by the link the `/v1` invoice gives in `hosted_invoice_url`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::helpers::{ORGANIZATION, PUBLIC_URL, TestApp};
use crate::stripe_client::Stripe;

/// A GET with no credentials: its status, content type, cache control and body.
async fn open(app: &TestApp, path: &str) -> (StatusCode, String, String, Vec<u8>) {
    let answer = app
        .router
        .clone()
        .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = answer.status();
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, cache) = (header("content-type"), header("cache-control"));
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, cache, body.to_vec())
}

#[sqlx::test]
async fn an_issued_invoice_opens_by_its_link_without_a_key_and_says_paid_once_paid(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let draft = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_page"),
                ("currency", "usd"),
                ("description", "Thank you <for> your order"),
            ],
        )
        .await;
    let invoice_id = draft.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        draft.body["hosted_invoice_url"],
        json!(null),
        "a draft has no page"
    );
    stripe
        .create(&[
            ("customer", "cus_page"),
            ("invoice", &invoice_id),
            ("amount", "123456"),
            ("description", "Annual plan"),
        ])
        .await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{invoice_id}/finalize"), &[])
        .await;
    let url = finalized.body["hosted_invoice_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url}"))
        .to_owned();
    let prefix = format!("/hosted-invoices/{ORGANIZATION}/");
    assert!(path.starts_with(&prefix), "{path}");
    assert_eq!(path.len(), prefix.len() + 64);

    let (status, content_type, cache, body) = open(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_eq!(cache, "private, no-store");
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<h1>Invoice No. 1</h1>"), "{page}");
    assert!(page.contains("Amount due: USD 1,234.56"), "{page}");
    assert!(page.contains("<td>Annual plan</td>"), "{page}");
    assert!(page.contains("Thank you &lt;for&gt; your order"), "{page}");
    assert!(!page.contains("class=\"status\">Paid"));
    let pdf_link = format!("href=\"{url}/pdf\"");
    assert!(page.contains(&pdf_link), "{page}");
    let (status, content_type, _, pdf) = open(&app, &format!("{path}/pdf")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));

    let paid = stripe
        .post(
            &format!("/v1/invoices/{invoice_id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["hosted_invoice_url"], url.as_str());
    let (_, _, _, body) = open(&app, &path).await;
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<p class=\"status\">Paid</p>"), "{page}");
    assert!(!page.contains("Amount due: USD"), "{page}");

    // The organization revokes the link: it opens nothing, and the invoice has a new one.
    let anonymous = app
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(&path)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text
    );
    let other = TestApp {
        api_key: TestApp::key_for(&app.pool, "org_other").await,
        ..TestApp::new(app.pool.clone()).await
    };
    let not_theirs = other.delete(&path).await;
    assert_eq!(
        not_theirs.status,
        StatusCode::NOT_FOUND,
        "{}",
        not_theirs.text
    );
    let revoked = app.delete(&path).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    // A write, counted against the organization's limit like any other, and saying so.
    assert_eq!(revoked.header("x-ratelimit-limit"), Some("3000"));
    assert!(revoked.header("x-ratelimit-remaining").is_some());
    let (status, _, _, _) = open(&app, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let renewed = stripe.get(&format!("/v1/invoices/{invoice_id}")).await;
    let new_url = renewed.body["hosted_invoice_url"].as_str().unwrap();
    assert_ne!(new_url, url);
    let (status, _, _, _) = open(&app, new_url.strip_prefix(PUBLIC_URL).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let again = app.delete(&path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);

    // Another token, or none, opens nothing.
    let token = path.rsplit('/').next().unwrap();
    let new_token = new_url.rsplit('/').next().unwrap();
    for missing in [
        format!("/hosted-invoices/{ORGANIZATION}/{}", "0".repeat(64)),
        format!("/hosted-invoices/{ORGANIZATION}/not-a-token"),
        format!("/hosted-invoices/{ORGANIZATION}/{}/pdf", "f".repeat(64)),
        // A link names its organization: another's opens nothing.
        format!("/hosted-invoices/org_other/{new_token}"),
        format!("/hosted-invoices/{ORGANIZATION}/{token}/pdf"),
    ] {
        let (status, content_type, _, _) = open(&app, &missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(content_type, "application/problem+json");
    }
}

#[sqlx::test]
async fn an_invoice_issued_on_the_rebilly_routes_has_its_page_too(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("EUR").await;
    let issued = app
        .call(
            Method::POST,
            &format!("/invoices/{invoice_id}/issue"),
            Some(json!({})),
        )
        .await;
    assert!(issued.status.is_success(), "{}", issued.text);
    let read = Stripe::of(&app)
        .get(&format!("/v1/invoices/{invoice_id}"))
        .await;
    let url = read.body["hosted_invoice_url"].as_str().unwrap();
    let (status, _, _, body) = open(&app, url.strip_prefix(PUBLIC_URL).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("Amount due: EUR 0.00")
    );
}
