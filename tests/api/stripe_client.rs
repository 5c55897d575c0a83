//! A client of the Stripe-style dialect for the tests, as Stripe's libraries call it: form
//! bodies with the key as HTTP Basic user name, or JSON with it as a bearer token.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use serde_json::Value;

use crate::helpers::{TestApp, TestResponse};

/// A client of the dialect, over a test app's key.
pub struct Stripe<'a> {
    app: &'a TestApp,
}

pub fn basic(key: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {token}")
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        body.append_pair(name, value);
    }
    body.finish()
}

impl Stripe<'_> {
    pub fn of(app: &TestApp) -> Stripe<'_> {
        Stripe { app }
    }

    pub async fn send(&self, request: axum::http::request::Builder, body: Body) -> TestResponse {
        self.app.send(request.body(body).unwrap()).await
    }

    pub fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", basic(&self.app.api_key))
    }

    /// A form-encoded POST, with the key as HTTP Basic user name, as Stripe's clients send.
    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
        let request = self
            .request(Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded");
        self.send(request, Body::from(form(pairs))).await
    }

    /// A JSON POST, with the key as a bearer token.
    pub async fn post_json(&self, path: &str, body: Value) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.app.api_key))
            .header("content-type", "application/json");
        self.send(request, Body::from(body.to_string())).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.request(Method::GET, path), Body::empty())
            .await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(self.request(Method::DELETE, path), Body::empty())
            .await
    }

    /// Creates an item from form pairs, expecting 200, and returns it.
    pub async fn create(&self, pairs: &[(&str, &str)]) -> Value {
        let response = self.post("/v1/invoiceitems", pairs).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.body
    }

    /// Creates an invoice from form pairs, expecting 200, and returns its id.
    pub async fn create_invoice(&self, pairs: &[(&str, &str)]) -> String {
        let response = self.post("/v1/invoices", pairs).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.body["id"].as_str().unwrap().to_owned()
    }
}

/// Asserts a `/v1` error: Stripe's status and `error` member, and the problem members.
pub fn assert_stripe_error(
    response: &TestResponse,
    status: StatusCode,
    code: Option<&str>,
    param: Option<&str>,
) {
    assert_eq!(response.status, status, "{}", response.text);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let error = &response.body["error"];
    let kind = if status.is_server_error() {
        "api_error"
    } else if error["type"] == "idempotency_error" {
        "idempotency_error"
    } else {
        "invalid_request_error"
    };
    assert_eq!(error["type"], kind, "{}", response.text);
    assert_eq!(error["code"].as_str(), code, "{}", response.text);
    assert_eq!(error["param"].as_str(), param, "{}", response.text);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty())
    );
    assert_eq!(response.body["status"], status.as_u16());
    assert!(
        response.body["type"]
            .as_str()
            .is_some_and(|kind| kind.starts_with("/problems/"))
    );
    assert!(response.body["title"].is_string());
    assert_eq!(response.body["detail"], error["message"]);
    assert!(
        response.body["instance"]
            .as_str()
            .is_some_and(|path| path.starts_with("/v1"))
    );
    if let (Some(param), Some(fields)) = (param, response.body["invalidFields"].as_array()) {
        assert_eq!(fields[0]["field"], param, "{}", response.text);
    }
}
