use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    ORGANIZATION, PUBLIC_URL, TestApp, TestResponse, assert_invalid_fields, assert_problem, request,
};

/// The ids of a list answer, in order.
fn ids(response: &TestResponse) -> Vec<String> {
    response
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|product| product["id"].as_str().unwrap().to_owned())
        .collect()
}

fn pagination(response: &TestResponse) -> [Option<&str>; 3] {
    [
        response.header("pagination-total"),
        response.header("pagination-limit"),
        response.header("pagination-offset"),
    ]
}

async fn product_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from products")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn create_product_returns_201_with_location_and_get_returns_the_same(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .post(
            "/products",
            json!({"name": "Seat licence", "description": "One named user", "unitLabel": "seat"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let body = &response.body;
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("prod_") && id.len() == 31, "{id}");
    let href = format!("{PUBLIC_URL}/products/{id}");
    assert_eq!(response.header("location"), Some(href.as_str()));
    let created = body["createdTime"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z'),
        "whole seconds in UTC: {created}"
    );
    assert_eq!(
        *body,
        json!({
            "id": id, "name": "Seat licence", "description": "One named user",
            "unitLabel": "seat", "createdTime": created, "updatedTime": created,
            "_links": [{"rel": "self", "href": href}]
        })
    );
    let read = app.get(&format!("/products/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.header("content-type"), Some("application/json"));
    assert_eq!(read.body, *body);
}

#[sqlx::test]
async fn create_product_with_only_a_name_answers_with_a_trailing_slash_too(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app.post("/products/", json!({"name": "Support"})).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.body["name"], "Support");
    assert_eq!(response.body["description"], Value::Null);
    assert_eq!(response.body["unitLabel"], Value::Null);
    let explicit_nulls = app
        .post(
            "/products",
            json!({"name": "Hosting", "description": null, "unitLabel": null}),
        )
        .await;
    assert_eq!(
        explicit_nulls.status,
        StatusCode::CREATED,
        "{}",
        explicit_nulls.text
    );
    assert_eq!(explicit_nulls.body["description"], Value::Null);
}

/// A case name, a body, and its exact `invalidFields`.
type BadProduct = (&'static str, Value, Vec<(&'static str, &'static str)>);

/// Bad product bodies, each with the exact `invalidFields` it must produce.
fn bad_products() -> Vec<BadProduct> {
    vec![
        (
            "a missing name",
            json!({"description": "No name"}),
            vec![("name", "is required")],
        ),
        (
            "a null name",
            json!({"name": null}),
            vec![("name", "is required")],
        ),
        (
            "an empty name",
            json!({"name": ""}),
            vec![("name", "must not be empty")],
        ),
        (
            "a name of zero-width spaces",
            json!({"name": "\u{200b}\u{200b}"}),
            vec![("name", "must not be blank")],
        ),
        (
            "a name of 256 characters",
            json!({"name": "n".repeat(256)}),
            vec![("name", "must be at most 255 characters")],
        ),
        (
            "a name that is a number",
            json!({"name": 5}),
            vec![("name", "must be a string")],
        ),
        (
            "a description of 1001 characters",
            json!({"name": "P", "description": "d".repeat(1001)}),
            vec![("description", "must be at most 1000 characters")],
        ),
        (
            "a description that is an object",
            json!({"name": "P", "description": {"text": "x"}}),
            vec![("description", "must be a string")],
        ),
        (
            "a unit label of 51 characters",
            json!({"name": "P", "unitLabel": "u".repeat(51)}),
            vec![("unitLabel", "must be at most 50 characters")],
        ),
        (
            "a unit label that is a boolean",
            json!({"name": "P", "unitLabel": true}),
            vec![("unitLabel", "must be a string")],
        ),
        (
            "a field in the wrong case",
            json!({"name": "P", "unit_label": "seat"}),
            vec![("unit_label", "is not a known field")],
        ),
        (
            "every mistake at once",
            json!({"name": ["P"], "description": 1, "unitLabel": "u".repeat(51), "price": 5}),
            vec![
                ("name", "must be a string"),
                ("description", "must be a string"),
                ("unitLabel", "must be at most 50 characters"),
                ("price", "is not a known field"),
            ],
        ),
    ]
}

#[sqlx::test]
async fn create_product_returns_422_naming_each_bad_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for (case, body, expected) in bad_products() {
        let response = app.post("/products", body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}: {}",
            response.text
        );
        assert_invalid_fields(&response, "/products", &expected);
    }
    assert_eq!(
        product_count(&app).await,
        0,
        "a refused request stores nothing"
    );
}

#[sqlx::test]
async fn names_are_counted_in_characters(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let name = "é".repeat(255);
    let response = app
        .post(
            "/products",
            json!({"name": name, "unitLabel": "ü".repeat(50)}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.body["name"], json!(name));
}

#[sqlx::test]
async fn a_product_read_back_can_be_sent_back(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let first = app.post("/products", json!({"name": "Seat"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // `id`, `createdTime`, `updatedTime` and `_links` are read-only: accepted and ignored.
    let mut body = first.body.clone();
    body["name"] = json!("Seat, again");
    body["createdTime"] = json!("2020-01-01T00:00:00Z");
    let second = app.post("/products", body).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_ne!(second.body["id"], first.body["id"]);
    assert_eq!(second.body["name"], "Seat, again");
    assert_ne!(second.body["createdTime"], "2020-01-01T00:00:00Z");
    assert_eq!(product_count(&app).await, 2);
}

#[sqlx::test]
async fn list_products_is_newest_first_with_pagination_headers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut created = Vec::new();
    for name in ["first", "second", "third"] {
        created.push(app.create_product(name).await);
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let all = app.get("/products").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(ids(&all), newest_first);
    assert_eq!(pagination(&all), [Some("3"), Some("100"), Some("0")]);
    let one = app.get(&format!("/products/{}", created[0])).await;
    assert_eq!(all.body[2], one.body, "the list shows what GET shows");

    let page = app.get("/products?limit=1&offset=1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(ids(&page), [created[1].clone()]);
    assert_eq!(pagination(&page), [Some("3"), Some("1"), Some("1")]);

    let past_the_end = app.get("/products?offset=5").await;
    assert_eq!(past_the_end.body, json!([]));
    assert_eq!(
        pagination(&past_the_end),
        [Some("3"), Some("100"), Some("5")]
    );
}

#[sqlx::test]
async fn list_products_orders_equal_times_by_id_descending(pool: PgPool) {
    let app = TestApp::new(pool).await;
    sqlx::query(
        "insert into products (organization_id, id, name, created_time, updated_time)
         select $1, id, 'Same time', '2026-11-21T14:15:22Z', '2026-11-21T14:15:22Z'
         from unnest(array['prod_A', 'prod_C', 'prod_B']) as id",
    )
    .bind(ORGANIZATION)
    .execute(&app.pool)
    .await
    .unwrap();
    let response = app.get("/products").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(ids(&response), ["prod_C", "prod_B", "prod_A"]);
}

#[sqlx::test]
async fn list_products_returns_422_naming_a_bad_limit_or_offset(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let path = "/products?limit=1001&offset=-1";
    let response = app.get(path).await;
    assert_invalid_fields(
        &response,
        "/products",
        &[
            ("limit", "must be an integer between 0 and 1000"),
            ("offset", "must be an integer between 0 and 1000000"),
        ],
    );
    let response = app.get("/products?limit=ten").await;
    assert_invalid_fields(
        &response,
        "/products",
        &[("limit", "must be an integer between 0 and 1000")],
    );
}

#[sqlx::test]
async fn an_unknown_or_impossible_product_id_is_404(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for path in [
        "/products/prod_01JD000000000000000000000",
        "/products/bad%20id",
        &format!("/products/{}", "x".repeat(51)),
    ] {
        let response = app.get(path).await;
        assert_problem(&response, StatusCode::NOT_FOUND, "Not Found", path);
    }
    let response = app.get("/products/prod_unknown").await;
    assert_eq!(response.body["detail"], "No product with id prod_unknown.");
}

#[sqlx::test]
async fn another_organizations_product_is_404_and_not_listed(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let product_id = app.create_product("Ours").await;
    let other_key = TestApp::key_for(&pool, "org_other").await;
    let as_other = |method: Method, path: &str, body: Option<Value>| {
        request(method, path, body)
            .header("REB-APIKEY", &other_key)
            .body_json()
    };
    let path = format!("/products/{product_id}");
    let response = app.send(as_other(Method::GET, &path, None)).await;
    assert_problem(&response, StatusCode::NOT_FOUND, "Not Found", &path);

    let theirs = app
        .send(as_other(
            Method::POST,
            "/products",
            Some(json!({"name": "Theirs"})),
        ))
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let their_list = app.send(as_other(Method::GET, "/products", None)).await;
    assert_eq!(ids(&their_list), [theirs.body["id"].as_str().unwrap()]);
    assert_eq!(their_list.header("pagination-total"), Some("1"));
    let our_list = app.get("/products").await;
    assert_eq!(ids(&our_list), [product_id]);
}

#[sqlx::test]
async fn products_need_credentials(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for (method, body) in [
        (Method::GET, None),
        (Method::POST, Some(json!({"name": "P"}))),
    ] {
        let response = app
            .send(request(method, "/products", body).body_json())
            .await;
        assert_problem(
            &response,
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "/products",
        );
    }
    assert_eq!(product_count(&app).await, 0);
}

#[sqlx::test]
async fn products_answer_under_the_organization_prefix(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let own = format!("/organizations/{ORGANIZATION}/products");
    let response = app.post(&own, json!({"name": "Prefixed"})).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let id = response.body["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("{PUBLIC_URL}/products/{id}").as_str()),
        "links are without the organization prefix"
    );
    let read = app.get(&format!("{own}/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.body, response.body);
    let list = app.get(&own).await;
    assert_eq!(ids(&list), [id]);
    let foreign = "/organizations/org_other/products";
    let response = app.get(foreign).await;
    assert_problem(&response, StatusCode::FORBIDDEN, "Forbidden", foreign);
}

#[sqlx::test]
async fn an_item_may_name_only_a_product_of_its_organization(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let invoice_id = app.create_invoice("USD").await;
    let items = format!("/invoices/{invoice_id}/items");
    let product_id = app.create_product("Ours").await;
    let item = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 1, "productId": product_id}),
        )
        .await;
    assert_eq!(item["productId"], json!(product_id));

    let other_key = TestApp::key_for(&pool, "org_other").await;
    let theirs = app
        .send(
            request(Method::POST, "/products", Some(json!({"name": "Theirs"})))
                .header("REB-APIKEY", &other_key)
                .body_json(),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let their_id = theirs.body["id"].as_str().unwrap();
    for unknown in ["prod_01JD000000000000000000000", their_id] {
        let response = app
            .post(
                &items,
                json!({"type": "debit", "unitPrice": 1, "productId": unknown}),
            )
            .await;
        assert_invalid_fields(
            &response,
            &items,
            &[("productId", "must name a product of the organization")],
        );
        let item_path = format!("{items}/{}", item["id"].as_str().unwrap());
        let response = app
            .put(
                &item_path,
                json!({"type": "debit", "unitPrice": 1, "productId": unknown}),
            )
            .await;
        assert_invalid_fields(
            &response,
            &item_path,
            &[("productId", "must name a product of the organization")],
        );
    }
    let invoice = app.invoice(&invoice_id).await;
    assert_eq!(
        invoice["items"],
        json!([item]),
        "refused changes store nothing"
    );
    assert_eq!(invoice["revision"], 1);
}

#[sqlx::test]
async fn the_database_refuses_an_item_naming_an_unknown_product(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice_id = app.create_invoice("USD").await;
    let product_id = app.create_product("Known").await;
    let insert = |id: &'static str, product_id: Option<String>| {
        sqlx::query(
            "insert into invoice_items (organization_id, id, invoice_id, type, unit_price,
                 quantity, price, product_id, created_time, updated_time)
             values ($1, $2, $3, 'debit', 1, 1, 1, $4, now(), now())",
        )
        .bind(ORGANIZATION)
        .bind(id)
        .bind(invoice_id.clone())
        .bind(product_id)
        .execute(&app.pool)
    };
    let error = insert("ii_unknown", Some("prod_unknown".to_owned()))
        .await
        .unwrap_err();
    let error = error.as_database_error().expect("a database error");
    assert_eq!(error.code().as_deref(), Some("23503"), "{error}");
    assert_eq!(error.constraint(), Some("invoice_items_product_fk"));
    insert("ii_known", Some(product_id)).await.unwrap();
    insert("ii_none", None).await.unwrap();
}

/// The foreign key is added `NOT VALID`: a database whose items name products that were never
/// created (allowed before products existed) still migrates.
#[sqlx::test(migrations = false)]
async fn the_product_foreign_key_spares_items_written_before_products_existed(pool: PgPool) {
    sqlx::raw_sql(include_str!(
        "../../migrations/20261121000000_create_core_tables.sql"
    ))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(
        "insert into organizations (id) values ('org_old');
         insert into invoices (organization_id, id, customer_id, website_id, currency,
             created_time, updated_time)
         values ('org_old', 'in_old', 'cus_1', 'web_1', 'USD', now(), now());
         insert into invoice_items (organization_id, id, invoice_id, type, unit_price, quantity,
             price, product_id, created_time, updated_time)
         values ('org_old', 'ii_old', 'in_old', 'debit', 1, 1, 1, 'prod_never_made', now(), now());",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!(
        "../../migrations/20261121100000_create_products.sql"
    ))
    .execute(&pool)
    .await
    .expect("the migration applies over an item naming an unknown product");
    let kept: String =
        sqlx::query_scalar("select product_id from invoice_items where id = 'ii_old'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kept, "prod_never_made");
}

#[sqlx::test]
async fn items_embed_their_product_when_asked(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let product = app
        .post(
            "/products",
            json!({"name": "Seat", "description": "One user", "unitLabel": "seat"}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let product_id = product.body["id"].as_str().unwrap();
    let invoice_id = app.create_invoice("USD").await;
    let with_product = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 9, "productId": product_id}),
        )
        .await;
    app.create_item(&invoice_id, json!({"type": "debit", "unitPrice": 1}))
        .await;
    let item_path = format!(
        "/invoices/{invoice_id}/items/{}",
        with_product["id"].as_str().unwrap()
    );
    assert_eq!(
        with_product["_links"][1],
        json!({"rel": "product", "href": format!("{}/products/{product_id}", crate::helpers::PUBLIC_URL)})
    );

    let plain = app.get(&item_path).await;
    assert!(plain.body.get("_embedded").is_none(), "{}", plain.text);
    let expanded = app.get(&format!("{item_path}?expand=product")).await;
    assert_eq!(expanded.status, StatusCode::OK, "{}", expanded.text);
    assert_eq!(expanded.body["_embedded"]["product"], product.body);

    let list = app
        .get(&format!("/invoices/{invoice_id}/items?expand=product"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body[0]["_embedded"]["product"], product.body);
    assert_eq!(list.body[1]["_embedded"], json!({"product": null}));
}
