//! Hostile input through the real router: deep and duplicate-keyed bodies, fingerprints of huge
//! exponents, entity tags and organization prefixes spelled oddly, request heads past our
//! limits, tokens from the future, floods of one wrong key, a database that cannot be reached,
//! and generated hostile bodies on every write route.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use invoice_api::http::AppState;
use invoice_api::repository::Db;
use invoice_api::startup::build_app;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower::ServiceExt;

use crate::helpers::{
    JWT_SECRET, ORGANIZATION, PUBLIC_URL, TestApp, TestResponse, assert_invalid_fields,
    assert_problem, invoice_body, request,
};

/// Sends `text` as a JSON body with the default key and, when given, an `Idempotency-Key`.
async fn send_text(
    app: &TestApp,
    method: Method,
    path: &str,
    text: &str,
    idempotency_key: Option<&str>,
) -> TestResponse {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("REB-APIKEY", &app.api_key)
        .header("content-type", "application/json");
    if let Some(key) = idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    app.send(builder.body(Body::from(text.to_owned())).unwrap())
        .await
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[sqlx::test]
async fn a_body_nested_ten_thousand_levels_deep_is_a_400_and_the_server_still_answers(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let body = format!(r#"{{"name":"x","y":{}}}"#, nested(10_000));
    let answer = send_text(&app, Method::POST, "/products", &body, Some("k1")).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "Bad Request", "/products");
    assert_eq!(
        answer.body["detail"],
        "The body nests objects and arrays deeper than 32 levels."
    );
    let answer = send_text(&app, Method::POST, "/products", &body, None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    // 32 levels in all is still read, and then refused for what it says.
    let at_the_limit = format!(r#"{{"name":"x","y":{}}}"#, nested(31));
    let answer = send_text(&app, Method::POST, "/products", &at_the_limit, Some("k2")).await;
    assert_invalid_fields(&answer, "/products", &[("y", "is not a known field")]);
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_key_given_twice_is_a_422_naming_it_wherever_it_is(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}/items");
    let cases = [
        (
            r#"{"type": "debit", "unitPrice": 1, "unitPrice": 1000}"#,
            "unitPrice",
        ),
        (
            r#"{"type": "debit", "unitPrice": 1, "tax": {"amount": 1, "description": "t", "amount": 500}}"#,
            "tax.amount",
        ),
        (
            r#"{"type": "debit", "unitPrice": 1, "\u0074ype": "credit"}"#,
            "type",
        ),
    ];
    for (body, field) in cases {
        let answer = send_text(&app, Method::POST, &path, body, None).await;
        assert_invalid_fields(&answer, &path, &[(field, "is given more than once")]);
    }
    let discounts = r#"{"customerId": "c", "websiteId": "w", "currency": "USD",
        "discounts": [{"description": "a", "type": "fixed", "value": 1},
                      {"description": "b", "type": "fixed", "value": 1, "value": 90}]}"#;
    let answer = send_text(&app, Method::POST, "/invoices", discounts, None).await;
    assert_invalid_fields(
        &answer,
        "/invoices",
        &[("discounts.1.value", "is given more than once")],
    );
    assert_eq!(app.invoice(&invoice_id).await["items"], json!([]));
}

#[sqlx::test]
async fn bodies_whose_numbers_differ_only_in_huge_exponents_are_different_requests(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // `id` is read-only: accepted and ignored, so both bodies are valid, and differ only there.
    let first = r#"{"name": "x", "id": 1e9223372036854775807}"#;
    let answer = send_text(&app, Method::POST, "/products", first, Some("exp")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let second = r#"{"name": "x", "id": 0.1e-9223372036854775808}"#;
    let answer = send_text(&app, Method::POST, "/products", second, Some("exp")).await;
    assert_invalid_fields(
        &answer,
        "/products",
        &[(
            "Idempotency-Key",
            "was already used with another request body",
        )],
    );
    assert_eq!(answer.header("idempotent-replayed"), None);
}

#[sqlx::test]
async fn if_match_names_a_version_only_as_its_etag_is_spelled(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let path = format!("/invoices/{invoice_id}");
    let put = |if_match: &'static str| {
        request(Method::PUT, &path, Some(invoice_body("USD")))
            .header("REB-APIKEY", &app.api_key)
            .header("If-Match", if_match)
            .body_json()
    };
    for spelling in ["\"r00\"", "\"r+0\"", "\"r-0\"", "\"r 0\"", "W/\"r0\""] {
        let answer = app.send(put(spelling)).await;
        assert_problem(
            &answer,
            StatusCode::PRECONDITION_FAILED,
            "Precondition Failed",
            &path,
        );
    }
    let answer = app.send(put("\"r0\"")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("etag"), Some("\"r1\""));
}

#[sqlx::test]
async fn an_organization_prefix_that_does_not_decode_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    for prefix in ["%FF", "org_t%FFest", "%C3%28"] {
        let path = format!("/organizations/{prefix}/invoices/{invoice_id}");
        let answer = app.get(&path).await;
        assert_problem(&answer, StatusCode::FORBIDDEN, "Forbidden", &path);
    }
    // The caller's own prefix, percent-encoded, is still its own; a bad id under it is a 404.
    let encoded: String = ORGANIZATION
        .bytes()
        .map(|byte| format!("%{byte:02X}"))
        .collect();
    let own = format!("/organizations/{encoded}/invoices/{invoice_id}");
    assert_eq!(app.get(&own).await.status, StatusCode::OK);
    let bad_id = format!("/organizations/{ORGANIZATION}/invoices/%FF");
    assert_problem(
        &app.get(&bad_id).await,
        StatusCode::NOT_FOUND,
        "Not Found",
        &bad_id,
    );
}

#[sqlx::test]
async fn request_heads_past_the_limits_are_414_and_431_problems(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let long = format!("/invoices?filter={}", "a".repeat(8 * 1024));
    let answer = app.get(&long).await;
    assert_problem(
        &answer,
        StatusCode::URI_TOO_LONG,
        "URI Too Long",
        "/invoices",
    );
    let mut many = request(Method::GET, "/invoices", None).header("REB-APIKEY", &app.api_key);
    for index in 0..64 {
        many = many.header(&format!("x-extra-{index}"), "1");
    }
    let answer = app.send(many.body_json()).await;
    assert_problem(
        &answer,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Request Header Fields Too Large",
        "/invoices",
    );
    let big = request(Method::GET, "/invoices", None)
        .header("REB-APIKEY", &app.api_key)
        .header("x-big", &"b".repeat(16 * 1024));
    let answer = app.send(big.body_json()).await;
    assert_problem(
        &answer,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Request Header Fields Too Large",
        "/invoices",
    );
    // Just under every limit is served.
    let mut fine = request(Method::GET, "/invoices", None).header("REB-APIKEY", &app.api_key);
    for index in 0..62 {
        fine = fine.header(&format!("x-extra-{index}"), "1");
    }
    assert_eq!(app.send(fine.body_json()).await.status, StatusCode::OK);
}

fn token(claims: Value) -> String {
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET),
    )
    .unwrap();
    format!("Bearer {token}")
}

#[sqlx::test]
async fn tokens_not_valid_yet_or_issued_in_the_future_are_401(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let now = chrono::Utc::now().timestamp();
    let cases = [
        (
            json!({"organizationId": ORGANIZATION, "exp": now + 3600, "nbf": now + 600}),
            "The bearer token is not valid yet (its nbf is in the future).",
        ),
        (
            json!({"organizationId": ORGANIZATION, "exp": now + 3600, "iat": now + 600}),
            "The bearer token is not valid.",
        ),
    ];
    for (claims, detail) in cases {
        let call = request(Method::GET, "/invoices", None).header("Authorization", &token(claims));
        let answer = app.send(call.body_json()).await;
        assert_problem(
            &answer,
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "/invoices",
        );
        assert_eq!(answer.body["detail"], detail);
    }
    let current =
        json!({"organizationId": ORGANIZATION, "exp": now + 3600, "nbf": now - 5, "iat": now});
    let call = request(Method::GET, "/invoices", None).header("Authorization", &token(current));
    assert_eq!(app.send(call.body_json()).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_wrong_key_repeated_costs_one_lookup(pool: PgPool) {
    let app = TestApp::configured(pool.clone(), |state| {
        state.with_request_timeout(Duration::from_secs(2))
    })
    .await;
    let wrong = "sk_sandbox_wrongwrongwrongwrongwrongwrong00";
    let call = || {
        request(Method::GET, "/invoices", None)
            .header("REB-APIKEY", wrong)
            .body_json()
    };
    let first = app.send(call()).await;
    assert_problem(
        &first,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "/invoices",
    );
    // With the keys table locked, a lookup would wait until the request timeout (503): the
    // answer comes from what the first lookup found.
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("lock table api_keys in access exclusive mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    for _ in 0..50 {
        let again = app.send(call()).await;
        assert_problem(
            &again,
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "/invoices",
        );
    }
    lock.rollback().await.unwrap();
}

#[sqlx::test]
async fn once_the_database_is_found_unreachable_requests_are_503_at_once_with_retry_after(
    pool: PgPool,
) {
    // Nothing listens on port 1: every connection attempt is refused.
    let unreachable = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/invoice_api")
        .unwrap();
    drop(pool);
    let state = AppState::new(Db::new(unreachable), None, PUBLIC_URL);
    let status = state.database.clone();
    let router = build_app(state);
    let call = || {
        Request::builder()
            .uri("/invoices")
            .header("REB-APIKEY", "sk_sandbox_anykeyanykeyanykeyanykey0000")
            .body(Body::empty())
            .unwrap()
    };
    assert!(!status.is_unreachable());
    let first = router.clone().oneshot(call()).await.unwrap();
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.headers()["retry-after"], "1");
    // The first 503 has the database checked on a connection of its own, which is refused.
    let checked = std::time::Instant::now();
    while !status.is_unreachable() {
        assert!(
            checked.elapsed() < Duration::from_secs(30),
            "the database was never marked unreachable"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = router.clone().oneshot(call()).await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.headers()["retry-after"], "1");
    assert_eq!(second.headers()["content-type"], "application/problem+json");
    // What needs no database is still served.
    let metrics = Request::builder()
        .uri("/openapi.json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        router.oneshot(metrics).await.unwrap().status(),
        StatusCode::OK
    );
}

/// One way a generated body goes wrong.
#[derive(Debug, Clone)]
enum Mutation {
    /// The field's value nested this deep.
    Deep(usize),
    /// The field given again with another value.
    Duplicate,
    /// The field as a value of another JSON type.
    WrongType(usize),
    /// The field as a number past any limit.
    HugeNumber(usize),
    /// The field as a string no field accepts.
    OddString(usize),
    /// The field as a wide array (`false`) or object (`true`) of this many members.
    Wide(usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (33usize..400).prop_map(Mutation::Deep),
        Just(Mutation::Duplicate),
        (0usize..4).prop_map(Mutation::WrongType),
        (0usize..5).prop_map(Mutation::HugeNumber),
        (0usize..4).prop_map(Mutation::OddString),
        (1_000usize..60_000, any::<bool>()).prop_map(|(n, object)| Mutation::Wide(n, object)),
    ]
}

/// A field of a valid body: its name, its JSON text, and whether it is a string field.
type Field = (&'static str, &'static str, bool);

fn hostile_text(fields: &[Field], index: usize, mutation: &Mutation) -> String {
    let (name, value, is_string) = fields[index % fields.len()];
    let mut members: Vec<String> = fields
        .iter()
        .filter(|(other, _, _)| *other != name)
        .map(|(other, text, _)| format!("\"{other}\":{text}"))
        .collect();
    let replaced = match mutation {
        Mutation::Deep(depth) => nested(*depth),
        Mutation::Duplicate => {
            members.push(format!("\"{name}\":{value}"));
            if is_string { "\"other\"" } else { "2" }.to_owned()
        }
        Mutation::WrongType(kind) => {
            let wrong = if is_string {
                ["7", "true", "[\"a\"]", "{\"a\":1}"]
            } else {
                ["\"7\"", "true", "[7]", "{\"a\":1}"]
            };
            wrong[*kind].to_owned()
        }
        Mutation::HugeNumber(kind) => [
            "1e400",
            "-1e400",
            "1e-400",
            "123456789012345678901234567890123456789",
            "1e99999999999999999999999999999999999999999",
        ][*kind]
            .to_owned(),
        Mutation::Wide(members, false) => format!("[{}]", vec!["0"; *members].join(",")),
        Mutation::Wide(members, true) => {
            let fields: Vec<String> = (0..*members).map(|n| format!("\"k{n}\":0")).collect();
            format!("{{{}}}", fields.join(","))
        }
        Mutation::OddString(kind) => {
            // A lone surrogate, a NUL, an over-long string of wide characters, and one more
            // char than any of our strings takes.
            let text = match kind {
                0 => "\\ud800".to_owned(),
                1 => "a\\u0000b".to_owned(),
                2 => "\u{1F4B8}\u{202E}".repeat(70_000),
                _ => "x".repeat(65_536),
            };
            format!("\"{text}\"")
        }
    };
    members.push(format!("\"{name}\":{replaced}"));
    format!("{{{}}}", members.join(","))
}

const INVOICE_FIELDS: &[Field] = &[
    ("customerId", "\"cus_1\"", true),
    ("websiteId", "\"web_1\"", true),
    ("currency", "\"USD\"", true),
    ("poNumber", "\"po-1\"", true),
    ("notes", "\"thanks\"", true),
    ("dueTime", "\"2026-12-31T00:00:00Z\"", true),
];

const ITEM_FIELDS: &[Field] = &[
    ("type", "\"debit\"", true),
    ("unitPrice", "19.99", false),
    ("quantity", "3", false),
    ("description", "\"Widget\"", true),
    ("periodNumber", "1", false),
    ("periodStartTime", "\"2026-11-01T00:00:00Z\"", true),
];

const PRODUCT_FIELDS: &[Field] = &[
    ("name", "\"Widget\"", true),
    ("description", "\"A widget\"", true),
    ("unitLabel", "\"piece\"", true),
];

const ISSUE_FIELDS: &[Field] = &[("issuedTime", "\"2026-12-01T00:00:00Z\"", true)];

/// `/void` and `/abandon` take no fields: any is refused, whatever shape its value has.
const ACTION_FIELDS: &[Field] = &[("reason", "\"duplicate\"", true)];

#[sqlx::test]
async fn generated_hostile_bodies_on_every_write_route_are_4xx_problems_and_change_nothing(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let invoice = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
        "discounts": [{"description": "ten", "type": "percent", "value": 10}],
        "tax": {"calculator": "rates", "stateRate": 0.0625, "countyRate": 0.01,
                "cityRate": 0, "specialDistrictRate": 0,
                "jurisdictions": {"country": "US", "state": "CA", "county": "X", "city": "Y"}}});
    let created = app.post("/invoices", invoice).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let invoice_id = created.body["id"].as_str().unwrap().to_owned();
    let item = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 19.99, "quantity": 3}),
        )
        .await;
    app.create_item(&invoice_id, json!({"type": "credit", "unitPrice": 5}))
        .await;
    let item_id = item["id"].as_str().unwrap().to_owned();
    let before = app.invoice(&invoice_id).await;

    let invoice_path = format!("/invoices/{invoice_id}");
    let items_path = format!("/invoices/{invoice_id}/items");
    let item_path = format!("/invoices/{invoice_id}/items/{item_id}");
    let issue_path = format!("/invoices/{invoice_id}/issue");
    let void_path = format!("/invoices/{invoice_id}/void");
    let abandon_path = format!("/invoices/{invoice_id}/abandon");
    let routes: [(Method, &str, &[Field]); 8] = [
        (Method::POST, "/invoices", INVOICE_FIELDS),
        (Method::PUT, &invoice_path, INVOICE_FIELDS),
        (Method::POST, &items_path, ITEM_FIELDS),
        (Method::PUT, &item_path, ITEM_FIELDS),
        (Method::POST, "/products", PRODUCT_FIELDS),
        (Method::POST, &issue_path, ISSUE_FIELDS),
        (Method::POST, &void_path, ACTION_FIELDS),
        (Method::POST, &abandon_path, ACTION_FIELDS),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 32,
        ..Config::default()
    });
    let case = (0usize..16, mutation());
    let mut sent = 0;
    for (method, path, fields) in routes {
        for with_key in [false, true] {
            for attempt in 0..32 {
                let (index, mutation) = case.new_tree(&mut runner).unwrap().current();
                let text = hostile_text(fields, index, &mutation);
                let key = format!("hostile-{method}-{path}-{attempt}");
                let key = with_key.then_some(key.as_str());
                let answer = send_text(&app, method.clone(), path, &text, key).await;
                let shown: String = text.chars().take(200).collect();
                assert!(
                    answer.status.is_client_error(),
                    "{method} {path} {mutation:?} {shown}: {} {}",
                    answer.status,
                    answer.text
                );
                assert_eq!(
                    answer.header("content-type"),
                    Some("application/problem+json"),
                    "{method} {path} {mutation:?}"
                );
                sent += 1;
            }
        }
        assert_eq!(app.get("/health").await.status, StatusCode::OK);
    }
    assert_eq!(sent, 8 * 2 * 32);

    let after = app.invoice(&invoice_id).await;
    assert_eq!(after, before, "no hostile request changed the invoice");
    assert_totals_are_the_sum_of_their_parts(&after);
    let products = app.get("/products").await;
    assert_eq!(
        products.body,
        json!([]),
        "no hostile request made a product"
    );
}

fn assert_totals_are_the_sum_of_their_parts(invoice: &Value) {
    use rust_decimal::Decimal;
    let amount = |value: &Value| -> Decimal { value.to_string().parse().unwrap() };
    let items = invoice["items"].as_array().unwrap();
    let mut subtotal = Decimal::ZERO;
    let mut discount = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for item in items {
        let price = amount(&item["price"]);
        if item["type"] == "debit" {
            subtotal += price;
        } else {
            subtotal -= price;
        }
        discount += amount(&item["discountAmount"]);
        if !item["tax"].is_null() {
            tax += amount(&item["tax"]["amount"]);
        }
    }
    assert_eq!(amount(&invoice["subtotalAmount"]), subtotal, "{invoice}");
    assert_eq!(amount(&invoice["discountAmount"]), discount, "{invoice}");
    assert_eq!(amount(&invoice["tax"]["amount"]), tax, "{invoice}");
    assert_eq!(
        amount(&invoice["amount"]),
        subtotal - discount + tax,
        "{invoice}"
    );
}
