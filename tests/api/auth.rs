use axum::http::{Method, StatusCode};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{JWT_SECRET, ORGANIZATION, TestApp, assert_problem, invoice_body, request};

/// A case: its name, its headers, and how the 401's detail starts.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn jwt(organization: &str, expires_in_secs: i64, secret: &[u8]) -> String {
    let exp = chrono::Utc::now().timestamp() + expires_in_secs;
    let claims = json!({"organizationId": organization, "exp": exp});
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn post_invoice_with(
    app: &TestApp,
    headers: &[(&str, &str)],
) -> crate::helpers::TestResponse {
    let mut builder = request(Method::POST, "/invoices", Some(invoice_body("USD")));
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    app.send(builder.body_json()).await
}

#[sqlx::test]
async fn missing_unknown_malformed_or_expired_credentials_are_401(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let expired = format!("Bearer {}", jwt(ORGANIZATION, -60, JWT_SECRET));
    let forged = format!("Bearer {}", jwt(ORGANIZATION, 3600, b"another-secret"));
    let cases: [Case; 7] = [
        ("none", vec![], "Credentials are required"),
        (
            "unknown key",
            vec![("REB-APIKEY", "sk_sandbox_00000000000000000000000000000000")],
            "The API key is not valid.",
        ),
        (
            "empty key",
            vec![("REB-APIKEY", "")],
            "The API key is not valid.",
        ),
        (
            "expired token",
            vec![("Authorization", &expired)],
            "The bearer token has expired.",
        ),
        (
            "forged token",
            vec![("Authorization", &forged)],
            "The bearer token is not valid.",
        ),
        (
            "garbage token",
            vec![("Authorization", "Bearer abc.def.ghi")],
            "The bearer token is not valid.",
        ),
        (
            "basic auth",
            vec![("Authorization", "Basic dXNlcjpwYXNz")],
            "The Authorization header must be `Bearer <JWT>`.",
        ),
    ];
    for (case, headers, detail) in cases {
        let response = post_invoice_with(&app, &headers).await;
        assert_problem(
            &response,
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "/invoices",
        );
        let said = response.body["detail"].as_str().unwrap();
        assert!(said.starts_with(detail), "{case}: {said}");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from invoices")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test]
async fn a_credential_header_sent_twice_is_401_even_when_one_is_valid(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let key = app.api_key.clone();
    for headers in [
        [
            ("REB-APIKEY", key.as_str()),
            ("REB-APIKEY", "sk_sandbox_notakey"),
        ],
        [("REB-APIKEY", key.as_str()), ("REB-APIKEY", key.as_str())],
    ] {
        let twice = post_invoice_with(&app, &headers).await;
        assert_problem(
            &twice,
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "/invoices",
        );
        assert!(
            twice.body["detail"]
                .as_str()
                .unwrap()
                .contains("must be sent once"),
            "{}",
            twice.text
        );
    }
    let token = format!("Bearer {}", jwt(ORGANIZATION, 3600, JWT_SECRET));
    let twice = post_invoice_with(
        &app,
        &[
            ("Authorization", token.as_str()),
            ("Authorization", token.as_str()),
        ],
    )
    .await;
    assert_eq!(twice.status, StatusCode::UNAUTHORIZED, "{}", twice.text);
    let once = post_invoice_with(&app, &[("REB-APIKEY", key.as_str())]).await;
    assert_eq!(once.status, StatusCode::CREATED, "{}", once.text);
}

#[sqlx::test]
async fn credentials_are_checked_before_the_body(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .send(
            request(Method::POST, "/invoices", None)
                .header("content-type", "text/plain")
                .body_json(),
        )
        .await;
    assert_problem(
        &response,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "/invoices",
    );
}

#[sqlx::test]
async fn a_valid_bearer_token_acts_for_its_organization(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = format!("Bearer {}", jwt(ORGANIZATION, 3600, JWT_SECRET));
    let response = post_invoice_with(&app, &[("Authorization", &token)]).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let id = response.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/invoices/{id}")).await.status,
        StatusCode::OK,
        "the key sees it too"
    );

    let both = post_invoice_with(
        &app,
        &[("Authorization", &token), ("REB-APIKEY", &app.api_key)],
    )
    .await;
    assert_eq!(
        both.status,
        StatusCode::CREATED,
        "key and token of one organization"
    );
    let bad_key_good_token = post_invoice_with(
        &app,
        &[
            ("Authorization", &token),
            ("REB-APIKEY", "sk_sandbox_wrong"),
        ],
    )
    .await;
    assert_eq!(
        bad_key_good_token.status,
        StatusCode::CREATED,
        "either valid credential admits"
    );
}

#[sqlx::test]
async fn a_key_and_a_token_of_different_organizations_are_401(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = format!("Bearer {}", jwt("org_other", 3600, JWT_SECRET));
    let response = post_invoice_with(
        &app,
        &[("Authorization", &token), ("REB-APIKEY", &app.api_key)],
    )
    .await;
    assert_problem(
        &response,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "/invoices",
    );
}

#[sqlx::test]
async fn another_organizations_invoice_and_items_are_404(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let invoice_id = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 1}))
        .await;
    let item_path = format!(
        "/invoices/{invoice_id}/items/{}",
        item["id"].as_str().unwrap()
    );
    let other_key = TestApp::key_for(&pool, "org_other").await;
    let as_other = |method: Method, path: &str, body: Option<Value>| {
        request(method, path, body)
            .header("REB-APIKEY", &other_key)
            .body_json()
    };
    let items_path = format!("/invoices/{invoice_id}/items");
    let invoice_path = format!("/invoices/{invoice_id}");
    for (request, path) in [
        (as_other(Method::GET, &invoice_path, None), &invoice_path),
        (as_other(Method::GET, &items_path, None), &items_path),
        (
            as_other(
                Method::POST,
                &items_path,
                Some(json!({"type": "debit", "unitPrice": 1})),
            ),
            &items_path,
        ),
        (as_other(Method::GET, &item_path, None), &item_path),
        (
            as_other(
                Method::PUT,
                &item_path,
                Some(json!({"type": "debit", "unitPrice": 9})),
            ),
            &item_path,
        ),
        (as_other(Method::DELETE, &item_path, None), &item_path),
    ] {
        let response = app.send(request).await;
        assert_problem(&response, StatusCode::NOT_FOUND, "Not Found", path);
    }
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(
        invoice["items"],
        json!([item]),
        "the other organization changed nothing"
    );
}

#[sqlx::test]
async fn the_organization_prefix_must_name_the_callers_organization(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let own = format!("/organizations/{ORGANIZATION}/invoices");
    let response = app.post(&own, invoice_body("USD")).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let id = response.body["id"].as_str().unwrap();
    let item = app
        .post(
            &format!("/organizations/{ORGANIZATION}/invoices/{id}/items"),
            json!({"type": "debit", "unitPrice": 1}),
        )
        .await;
    assert_eq!(item.status, StatusCode::CREATED, "{}", item.text);
    assert!(
        item.body["_links"][0]["href"]
            .as_str()
            .unwrap()
            .contains(&format!("/invoices/{id}/items/"))
    );
    let foreign = format!("/organizations/org_other/invoices/{id}");
    let response = app.get(&foreign).await;
    assert_problem(&response, StatusCode::FORBIDDEN, "Forbidden", &foreign);
}

#[sqlx::test]
async fn health_needs_no_credentials(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .send(request(Method::GET, "/health", None).body_json())
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, json!({"status": "ok"}));
}

#[sqlx::test]
async fn a_token_of_an_organization_without_keys_can_create_products(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let bearer = format!("Bearer {}", jwt("org_tokens_only", 3600, JWT_SECRET));
    let create = request(Method::POST, "/products", Some(json!({"name": "Widget"})))
        .header("Authorization", &bearer);
    let created = app.send(create.body_json()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let read = request(
        Method::GET,
        &format!("/products/{}", created.body["id"].as_str().unwrap()),
        None,
    )
    .header("Authorization", &bearer);
    assert_eq!(app.send(read.body_json()).await.status, StatusCode::OK);
}
