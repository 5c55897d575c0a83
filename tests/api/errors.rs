//! Every layer answers errors as problem JSON, and 5xx bodies say nothing of the internals.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use invoice_api::http::AppState;
use invoice_api::startup::{build_app, with_layers};
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{
    PUBLIC_URL, TestApp, assert_invalid_fields, assert_opaque, assert_problem, request,
};

fn raw_post(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("REB-APIKEY", &app.api_key);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.into()).unwrap()
}

#[sqlx::test]
async fn an_unknown_route_is_a_404_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app.get("/nowhere").await;
    assert_problem(&response, StatusCode::NOT_FOUND, "Not Found", "/nowhere");
}

#[sqlx::test]
async fn a_wrong_method_is_a_405_problem_with_allow(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .call(Method::PATCH, "/invoices/in_1/items/ii_1", None)
        .await;
    assert_problem(
        &response,
        StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        "/invoices/in_1/items/ii_1",
    );
    let allow = response.header("allow").unwrap();
    for method in ["GET", "PUT", "DELETE"] {
        assert!(allow.contains(method), "{allow}");
    }
}

#[sqlx::test]
async fn malformed_json_is_a_400_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for body in [r#"{"type": "debit","#, "", "{'a': 1}", r#"{"a": 1} x"#] {
        let response = app
            .send(raw_post(&app, "/invoices", Some("application/json"), body))
            .await;
        assert_problem(
            &response,
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "/invoices",
        );
    }
}

#[sqlx::test]
async fn a_body_that_is_not_an_object_is_a_422_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for body in ["[]", "1", "\"invoice\"", "null"] {
        let response = app
            .send(raw_post(&app, "/invoices", Some("application/json"), body))
            .await;
        assert_invalid_fields(&response, "/invoices", &[]);
        assert_eq!(
            response.body["detail"],
            "The request body must be a JSON object."
        );
    }
}

#[sqlx::test]
async fn a_body_that_is_not_json_is_a_415_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = app
            .send(raw_post(
                &app,
                "/invoices",
                content_type,
                r#"{"currency":"USD"}"#,
            ))
            .await;
        assert_problem(
            &response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            "/invoices",
        );
    }
    let response = app
        .send(raw_post(
            &app,
            "/invoices",
            Some("application/json; charset=utf-8"),
            "{}",
        ))
        .await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "parameters are allowed"
    );
}

#[sqlx::test]
async fn a_body_over_one_mebibyte_is_a_413_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let description = "x".repeat(1024 * 1024);
    let body = json!({"type": "debit", "unitPrice": 1, "description": description}).to_string();
    let response = app
        .send(raw_post(&app, &path, Some("application/json"), body))
        .await;
    assert_problem(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload Too Large",
        &path,
    );
}

#[sqlx::test]
async fn a_panic_is_an_opaque_500_problem_and_the_server_goes_on(pool: PgPool) {
    async fn explode() -> &'static str {
        panic!("secret internals")
    }
    let state = AppState::new(crate::helpers::app_db(&pool), None, PUBLIC_URL);
    let app = with_layers(
        axum::Router::new()
            .route("/explode", get(explode))
            .merge(invoice_api::http::routes()),
        &state,
    )
    .with_state(state);
    let test_app = TestApp {
        router: app,
        pool,
        api_key: String::new(),
    };
    let response = test_app
        .send(request(Method::GET, "/explode", None).body_json())
        .await;
    assert_problem(
        &response,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        "/explode",
    );
    assert!(!response.text.contains("secret"), "{}", response.text);
    let health = test_app
        .send(request(Method::GET, "/health", None).body_json())
        .await;
    assert_eq!(health.status, StatusCode::OK);
}

#[sqlx::test]
async fn an_error_an_edge_shaped_its_own_way_passes_unchanged_and_any_other_becomes_a_problem(
    pool: PgPool,
) {
    async fn shaped() -> axum::response::Response {
        let mut response = (
            StatusCode::PAYMENT_REQUIRED,
            [("content-type", "application/json")],
            r#"{"error":{"type":"card_error","code":"card_declined"}}"#,
        )
            .into_response();
        response
            .extensions_mut()
            .insert(invoice_api::http::OwnErrorShape);
        response
    }
    async fn unmarked() -> axum::response::Response {
        (
            StatusCode::PAYMENT_REQUIRED,
            [("content-type", "application/json")],
            r#"{"leak":"internals"}"#,
        )
            .into_response()
    }
    async fn bare() -> StatusCode {
        StatusCode::IM_A_TEAPOT
    }
    let state = AppState::new(crate::helpers::app_db(&pool), None, PUBLIC_URL);
    let app = TestApp {
        router: with_layers(
            axum::Router::new()
                .route("/shaped", get(shaped))
                .route("/unmarked", get(unmarked))
                .route("/bare", get(bare)),
            &state,
        )
        .with_state(state),
        pool,
        api_key: String::new(),
    };
    let response = app
        .send(request(Method::GET, "/shaped", None).body_json())
        .await;
    assert_eq!(response.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        response.text,
        r#"{"error":{"type":"card_error","code":"card_declined"}}"#
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    // An error body no edge vouches for is replaced, whatever its type.
    let response = app
        .send(request(Method::GET, "/unmarked", None).body_json())
        .await;
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert!(!response.text.contains("internals"), "{}", response.text);
    let response = app
        .send(request(Method::GET, "/bare", None).body_json())
        .await;
    assert_eq!(response.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(response.body["instance"], "/bare");
}

#[tokio::test]
async fn an_unreachable_database_is_an_opaque_503() {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/unreachable")
        .unwrap();
    let app = TestApp {
        router: build_app(AppState::new(
            crate::helpers::app_db(&pool),
            None,
            PUBLIC_URL,
        )),
        pool,
        api_key: "sk_sandbox_00000000000000000000000000000000".to_owned(),
    };
    let health = app
        .send(request(Method::GET, "/health", None).body_json())
        .await;
    assert_problem(
        &health,
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "/health",
    );
    assert_opaque(&health.text);
    let create = app
        .post(
            "/invoices",
            json!({"customerId": "c", "websiteId": "w", "currency": "USD"}),
        )
        .await;
    assert_problem(
        &create,
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "/invoices",
    );
    assert_opaque(&create.text);
}

#[sqlx::test]
async fn a_database_fault_is_an_opaque_500(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    sqlx::query("drop table invoice_items")
        .execute(&app.pool)
        .await
        .unwrap();
    let path = format!("/invoices/{invoice_id}");
    let response = app.get(&path).await;
    assert_problem(
        &response,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        &path,
    );
    assert_opaque(&response.text);
}
