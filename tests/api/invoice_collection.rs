//! `PUT /invoices/{id}` (upsert) and `GET /invoices` (filter, sort, pagination).

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{PUBLIC_URL, TestApp, assert_invalid_fields, assert_problem, invoice_body};

#[sqlx::test]
async fn put_creates_an_invoice_with_the_chosen_id_then_updates_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let created = app
        .put("/invoices/my-invoice.2026@shop", invoice_body("USD"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["id"], "my-invoice.2026@shop");
    assert_eq!(
        created.header("location"),
        Some(format!("{PUBLIC_URL}/invoices/my-invoice.2026@shop").as_str())
    );
    assert_eq!(created.body["revision"], 0);

    let mut body = invoice_body("EUR");
    body["customerId"] = json!("cus_2");
    body["notes"] = json!("Second thoughts");
    let updated = app.put("/invoices/my-invoice.2026@shop", body).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["customerId"], "cus_2");
    assert_eq!(updated.body["currency"], "EUR");
    assert_eq!(updated.body["notes"], "Second thoughts");
    assert_eq!(updated.body["revision"], 1);
    assert_eq!(updated.body["createdTime"], created.body["createdTime"]);
    assert_eq!(updated.header("location"), None);

    let cleared = app
        .put("/invoices/my-invoice.2026@shop", invoice_body("EUR"))
        .await;
    assert_eq!(
        cleared.body["notes"],
        json!(null),
        "PUT replaces every field"
    );
}

#[sqlx::test]
async fn put_refuses_a_currency_change_once_items_exist(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.put("/invoices/inv-1", invoice_body("USD")).await;
    app.create_item("inv-1", json!({"type": "debit", "unitPrice": 1.25}))
        .await;
    let response = app.put("/invoices/inv-1", invoice_body("JPY")).await;
    assert_problem(
        &response,
        StatusCode::CONFLICT,
        "Conflict",
        "/invoices/inv-1",
    );
    assert!(response.body["detail"].as_str().unwrap().contains("USD"));
    assert_eq!(app.invoice("inv-1").await["currency"], "USD");
}

#[sqlx::test]
async fn put_with_an_impossible_id_is_404_and_a_bad_body_422(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let long = "x".repeat(51);
    let response = app
        .put(&format!("/invoices/{long}"), invoice_body("USD"))
        .await;
    assert_problem(
        &response,
        StatusCode::NOT_FOUND,
        "Not Found",
        &format!("/invoices/{long}"),
    );
    let response = app.put("/invoices/ok-id", json!({"currency": "usd"})).await;
    assert_invalid_fields(
        &response,
        "/invoices/ok-id",
        &[
            ("customerId", "is required"),
            ("websiteId", "is required"),
            (
                "currency",
                "must be an upper-case ISO 4217 currency code with a minor unit, such as USD",
            ),
        ],
    );
}

#[sqlx::test]
async fn concurrent_puts_of_a_new_id_create_it_once(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut body = invoice_body("USD");
                body["notes"] = json!(format!("writer {n}"));
                app.put("/invoices/raced", body).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let updated = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!((created, updated), (1, 9), "{statuses:?}");
    assert_eq!(app.invoice("raced").await["revision"], 9);
}

async fn seed(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for (customer, currency, price) in [
        ("cus_a", "USD", 30.0),
        ("cus_b", "EUR", 10.0),
        ("cus_a", "EUR", 20.0),
        ("cus_c", "USD", 40.0),
    ] {
        let mut body = invoice_body(currency);
        body["customerId"] = json!(customer);
        let id = app.post("/invoices", body).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.create_item(&id, json!({"type": "debit", "unitPrice": price}))
            .await;
        ids.push(id);
        // createdTime has whole seconds; ids (ULIDs) break ties in creation order.
    }
    ids
}

fn ids(response: &crate::helpers::TestResponse) -> Vec<String> {
    response
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|invoice| invoice["id"].as_str().unwrap().to_owned())
        .collect()
}

fn amounts(response: &crate::helpers::TestResponse) -> Vec<Value> {
    response
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|invoice| invoice["amount"].clone())
        .collect()
}

#[sqlx::test]
async fn the_list_filters_sorts_and_paginates(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let seeded = seed(&app).await;
    let all = app.get("/invoices").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.header("pagination-total"), Some("4"));
    assert_eq!(all.header("pagination-limit"), Some("100"));
    assert_eq!(all.header("pagination-offset"), Some("0"));
    let newest_first: Vec<String> = seeded.iter().rev().cloned().collect();
    assert_eq!(ids(&all), newest_first);
    assert_eq!(all.body[0]["items"].as_array().unwrap().len(), 1);

    let by_amount = app.get("/invoices?sort=amount").await;
    assert_eq!(
        amounts(&by_amount),
        [json!(10), json!(20), json!(30), json!(40)]
    );
    let by_amount_desc = app.get("/invoices?sort=-amount,createdTime").await;
    assert_eq!(
        amounts(&by_amount_desc),
        [json!(40), json!(30), json!(20), json!(10)]
    );
    let oldest_first = app.get("/invoices?sort=createdTime").await;
    assert_eq!(ids(&oldest_first), seeded);

    let eur = app.get("/invoices?filter=currency:EUR&sort=amount").await;
    assert_eq!(eur.header("pagination-total"), Some("2"));
    assert_eq!(ids(&eur), [seeded[1].clone(), seeded[2].clone()]);
    let customers = app
        .get("/invoices?filter=customerId:cus_a,cus_c;currency:USD&sort=-amount")
        .await;
    assert_eq!(ids(&customers), [seeded[3].clone(), seeded[0].clone()]);
    let issued = app
        .post(&format!("/invoices/{}/issue", seeded[0]), json!({}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let unpaid = app.get("/invoices?filter=status:unpaid").await;
    assert_eq!(ids(&unpaid), [seeded[0].clone()]);
    let drafts = app.get("/invoices?filter=status:draft").await;
    assert_eq!(drafts.header("pagination-total"), Some("3"));

    let page = app.get("/invoices?sort=amount&limit=2&offset=1").await;
    assert_eq!(amounts(&page), [json!(20), json!(30)]);
    assert_eq!(page.header("pagination-total"), Some("4"));
    assert_eq!(page.header("pagination-offset"), Some("1"));
    let past_the_end = app.get("/invoices?offset=10").await;
    assert_eq!(past_the_end.body, json!([]));
    assert_eq!(past_the_end.header("pagination-total"), Some("4"));
}

#[sqlx::test]
async fn the_list_shows_only_the_callers_invoices(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    app.create_invoice("USD").await;
    let other_key = TestApp::key_for(&pool, "org_other").await;
    let request = crate::helpers::request(axum::http::Method::GET, "/invoices", None)
        .header("REB-APIKEY", &other_key);
    let response = app.send(request.body_json()).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, json!([]));
    assert_eq!(response.header("pagination-total"), Some("0"));
}

#[sqlx::test]
async fn filter_values_must_be_valid_for_their_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .get("/invoices?filter=status:bogus;customerId:a%00b;currency:usd")
        .await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("filter", "\"bogus\" is not a valid status"),
            ("filter", "\"a\\0b\" is not a valid customerId"),
            ("filter", "\"usd\" is not a valid currency"),
        ],
    );
}

#[sqlx::test]
async fn bad_filters_and_sorts_are_422(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .get("/invoices?filter=amount:5;status&sort=dueTime,-amount,amount&limit=-1")
        .await;
    assert_invalid_fields(
        &response,
        "/invoices",
        &[
            ("limit", "must be an integer between 0 and 1000"),
            (
                "filter",
                "cannot filter on \"amount\"; use status, customerId or currency",
            ),
            ("filter", "\"status\" must read field:value1,value2"),
            (
                "sort",
                "cannot sort by \"dueTime\"; use createdTime or amount, - for descending",
            ),
            ("sort", "names amount twice"),
        ],
    );
}

/// A page is written a few invoices at a time as it is read: across those chunks it is still
/// one JSON array, in the page's order, each invoice with all its items and the figures of
/// its own GET.
#[sqlx::test]
async fn a_long_page_is_one_array_in_order_with_every_item(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut made = Vec::new();
    for n in 0..21 {
        let id = app.create_invoice("USD").await;
        for k in 0..(n % 4) {
            app.create_item(
                &id,
                json!({"type": "debit", "unitPrice": k + 1, "quantity": 2}),
            )
            .await;
        }
        made.push(id);
    }
    let page = app.get("/invoices?limit=21&sort=createdTime").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.header("content-type"), Some("application/json"));
    assert_eq!(page.header("pagination-total"), Some("21"));
    let listed = page.body.as_array().unwrap();
    let ids: Vec<&str> = listed
        .iter()
        .map(|invoice| invoice["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, made);
    for invoice in listed {
        let alone = app
            .get(&format!("/invoices/{}", invoice["id"].as_str().unwrap()))
            .await;
        assert_eq!(
            *invoice, alone.body,
            "the list shows each invoice as its own GET does"
        );
    }
    let empty = app.get("/invoices?limit=0").await;
    assert_eq!(empty.body, json!([]), "{}", empty.text);
    let past = app.get("/invoices?offset=100").await;
    assert_eq!(past.body, json!([]), "{}", past.text);
}
