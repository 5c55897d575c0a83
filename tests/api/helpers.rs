//! The test app: the real router over a fresh, migrated database, with request builders and
//! problem assertions.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use invoice_api::domain::ids::OrganizationId;
use invoice_api::domain::permission::Permissions;
use invoice_api::http::AppState;
use invoice_api::repository::Db;
use invoice_api::service::api_keys::create_api_key;
use invoice_api::service::auth::JwtVerifier;
use invoice_api::startup::{build_app, through_transaction_pooler};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower::ServiceExt;

/// Where the test app says it lives, in `Location` and `_links`.
pub const PUBLIC_URL: &str = "http://invoices.test";
/// The secret that signs test JWTs.
pub const JWT_SECRET: &[u8] = b"test-jwt-secret-of-at-least-32-bytes";
/// The organization of the default key.
pub const ORGANIZATION: &str = "org_test";

/// The application under test.
pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub api_key: String,
}

/// An answer, with its body both as text (for exact money) and as JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl TestResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl TestApp {
    /// The app over `pool` (migrated by `#[sqlx::test]`), with a key for [`ORGANIZATION`].
    pub async fn new(pool: PgPool) -> Self {
        Self::configured(pool, |state| state).await
    }

    /// The app with its state changed by `configure` (a shorter timeout, say).
    pub async fn configured(pool: PgPool, configure: impl FnOnce(AppState) -> AppState) -> Self {
        let api_key = Self::key_for(&pool, ORGANIZATION).await;
        let state = configure(AppState::new(
            app_db(&pool),
            Some(JwtVerifier::new(JWT_SECRET).unwrap()),
            PUBLIC_URL,
        ));
        Self {
            router: build_app(state),
            pool,
            api_key,
        }
    }

    /// A new API key for an organization.
    pub async fn key_for(pool: &PgPool, organization: &str) -> String {
        Self::restricted_key_for(pool, organization, None).await
    }

    /// A new API key for an organization, restricted to `permissions` when given.
    pub async fn restricted_key_for(
        pool: &PgPool,
        organization: &str,
        permissions: Option<Permissions>,
    ) -> String {
        let organization_id = OrganizationId::parse(organization).unwrap();
        create_api_key(&Db::new(pool.clone()), &organization_id, false, permissions)
            .await
            .unwrap()
    }

    /// Sends a request as built.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        TestResponse {
            status,
            headers,
            text,
            body,
        }
    }

    /// Sends a request with the default key and, if given, a JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        let request = request(method, path, body).header("REB-APIKEY", &self.api_key);
        self.send(request.body_json()).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a draft invoice in `currency` and returns its id.
    pub async fn create_invoice(&self, currency: &str) -> String {
        let response = self.post("/invoices", invoice_body(currency)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body["id"].as_str().unwrap().to_owned()
    }

    /// Adds an item and returns the 201's body.
    pub async fn create_item(&self, invoice_id: &str, body: Value) -> Value {
        let response = self
            .post(&format!("/invoices/{invoice_id}/items"), body)
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body
    }

    /// Creates a product named `name` and returns its id.
    pub async fn create_product(&self, name: &str) -> String {
        let response = self.post("/products", json!({"name": name})).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body["id"].as_str().unwrap().to_owned()
    }

    /// The invoice as `GET /invoices/{id}` shows it.
    pub async fn invoice(&self, invoice_id: &str) -> Value {
        let response = self.get(&format!("/invoices/{invoice_id}")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.body
    }
}

/// The environment variable that names the port of a transaction-mode PgBouncer in front of the
/// test PostgreSQL (`scripts/pooled-tests` sets it): the app under test then reaches its
/// database through it, as a replica behind a pooler does.
pub const POOLER_PORT_VARIABLE: &str = "INVOICE_API_TEST_POOLER_PORT";

/// The port of the test run's PgBouncer, when the run goes through one.
pub fn pooler_port() -> Option<u16> {
    let port = std::env::var(POOLER_PORT_VARIABLE).ok()?;
    Some(port.parse().unwrap_or_else(|_| {
        panic!("{POOLER_PORT_VARIABLE} is not a port: {port:?}");
    }))
}

/// The test's database as the app under test reaches it: directly, or through the run's
/// PgBouncer (see [`POOLER_PORT_VARIABLE`]).
pub fn app_db(pool: &PgPool) -> Db {
    let direct = (*pool.connect_options()).clone();
    match pooler_port() {
        None => Db::new(pool.clone()),
        Some(port) => {
            let pooled = through_transaction_pooler(direct.clone().host("127.0.0.1").port(port));
            let pool = PgPoolOptions::new()
                .max_connections(5)
                .connect_lazy_with(pooled);
            Db::new(pool)
                .with_direct_connection(direct)
                .behind_transaction_pooler()
        }
    }
}

/// The URL of the test's own database, for a server process of its own.
pub fn database_url(pool: &PgPool) -> String {
    url_of_database(pool, pool.connect_options().get_database().unwrap())
}

/// The URL of another database on the test's PostgreSQL server.
pub fn url_of_database(pool: &PgPool, database: &str) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{database}",
        options.get_username(),
        options.get_host(),
        options.get_port()
    )
}

/// A request builder that remembers its JSON body.
pub struct RequestBuilder {
    inner: axum::http::request::Builder,
    body: Option<Value>,
}

impl RequestBuilder {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.header(name, value);
        self
    }

    /// The request, its body sent as `application/json` when there is one.
    pub fn body_json(self) -> Request<Body> {
        match self.body {
            Some(body) => self
                .inner
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => self.inner.body(Body::empty()).unwrap(),
        }
    }
}

/// A request without credentials.
pub fn request(method: Method, path: &str, body: Option<Value>) -> RequestBuilder {
    RequestBuilder {
        inner: Request::builder().method(method).uri(path),
        body,
    }
}

/// A valid invoice body.
pub fn invoice_body(currency: &str) -> Value {
    json!({"customerId": "cus_1", "websiteId": "web_1", "currency": currency})
}

/// Asserts a problem document of `status` and `title` for `instance`.
pub fn assert_problem(response: &TestResponse, status: StatusCode, title: &str, instance: &str) {
    assert_eq!(response.status, status, "{}", response.text);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let body = &response.body;
    assert_eq!(body["status"], json!(status.as_u16()), "{body}");
    assert_eq!(body["title"], json!(title), "{body}");
    assert_eq!(body["instance"], json!(instance), "{body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(
        body["requestId"].as_str().is_some_and(|id| id.len() == 36),
        "{body}"
    );
}

/// Asserts a 422 whose `invalidFields` are exactly `expected`, in order.
pub fn assert_invalid_fields(response: &TestResponse, instance: &str, expected: &[(&str, &str)]) {
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation error",
        instance,
    );
    let fields: Vec<(String, String)> = response.body["invalidFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(f, m)| ((*f).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(fields, expected, "{}", response.text);
}

/// Asserts that an error body tells nothing of the server's insides: no address, driver, pool,
/// table or database message.
pub fn assert_opaque(body: &str) {
    for internal in [
        "127.0.0.1",
        "refused",
        "sqlx",
        "pool",
        "relation",
        "invoice_items",
        "postgres",
        "error returned",
    ] {
        assert!(
            !body.to_lowercase().contains(internal),
            "leaks {internal:?}: {body}"
        );
    }
}

/// Holds an invoice's row lock in a transaction of its own, until that is rolled back or
/// dropped: a write to the invoice waits on it, deterministically, whatever the machine's speed.
pub async fn hold_invoice_lock(
    pool: &PgPool,
    invoice_id: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("select id from invoices where id = $1 for update")
        .bind(invoice_id)
        .execute(&mut *holder)
        .await
        .unwrap();
    holder
}

/// An event's `changes` as the server writes them: every list, empty when not given.
pub fn changes(given: Value) -> Value {
    let mut full = serde_json::json!({"fields": [], "itemsCreated": [], "itemsUpdated": [],
                                      "itemsDeleted": [], "itemsRepriced": []});
    for (name, value) in given.as_object().unwrap() {
        full[name] = value.clone();
    }
    full
}
