use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::TestApp;

#[sqlx::test]
async fn fifty_concurrent_creates_keep_the_subtotal_equal_to_the_sum_of_prices(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let invoice_id = app.create_invoice("USD").await;
    let tasks: Vec<_> = (1..=50)
        .map(|n| {
            let app = app.clone();
            let invoice_id = invoice_id.clone();
            tokio::spawn(async move {
                let body = json!({"type": if n % 5 == 0 { "credit" } else { "debit" },
                                  "unitPrice": format!("{n}.{n:02}").parse::<f64>().unwrap(), "quantity": n % 3 + 1});
                app.post(&format!("/invoices/{invoice_id}/items"), body).await
            })
        })
        .collect();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(
            response.status,
            axum::http::StatusCode::CREATED,
            "{}",
            response.text
        );
    }
    let stored: Vec<(String, Decimal)> =
        sqlx::query_as("select type, price from invoice_items where invoice_id = $1")
            .bind(&invoice_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 50);
    let sum: Decimal = stored
        .iter()
        .map(|(kind, price)| if kind == "debit" { *price } else { -*price })
        .sum();
    let (subtotal, amount, revision): (Decimal, Decimal, i64) =
        sqlx::query_as("select subtotal_amount, amount, revision from invoices where id = $1")
            .bind(&invoice_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(subtotal, sum);
    assert_eq!(amount, sum);
    assert_eq!(revision, 50);
}

/// The stored totals of an invoice and the sum of its stored items.
async fn stored_totals(pool: &PgPool, invoice_id: &str) -> (Decimal, Decimal, i64) {
    let (subtotal, revision): (Decimal, i64) =
        sqlx::query_as("select subtotal_amount, revision from invoices where id = $1")
            .bind(invoice_id)
            .fetch_one(pool)
            .await
            .unwrap();
    let sum: Option<Decimal> = sqlx::query_scalar(
        "select sum(case when type = 'debit' then price else -price end) from invoice_items where invoice_id = $1",
    )
    .bind(invoice_id)
    .fetch_one(pool)
    .await
    .unwrap();
    (subtotal, sum.unwrap_or_default(), revision)
}

#[sqlx::test]
async fn racing_replacements_and_deletes_of_one_item_keep_the_totals_exact(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let invoice_id = app.create_invoice("USD").await;
    let kept = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 5}))
        .await;
    let target = app
        .create_item(&invoice_id, json!({"type": "debit", "unitPrice": 10}))
        .await;
    let path = format!(
        "/invoices/{invoice_id}/items/{}",
        target["id"].as_str().unwrap()
    );
    let tasks: Vec<_> = (0..30)
        .map(|n| {
            let (app, path) = (app.clone(), path.clone());
            tokio::spawn(async move {
                if n % 3 == 0 {
                    app.delete(&path).await.status
                } else {
                    app.put(
                        &path,
                        json!({"type": "debit", "unitPrice": n, "quantity": 7}),
                    )
                    .await
                    .status
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().as_u16());
    }
    let deleted = answers.iter().filter(|status| **status == 204).count();
    let replaced = answers.iter().filter(|status| **status == 200).count();
    assert_eq!(
        deleted, 1,
        "one delete wins, the others find nothing: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|status| [200, 204, 404].contains(status)),
        "{answers:?}"
    );
    let items: Vec<String> =
        sqlx::query_scalar("select id from invoice_items where invoice_id = $1")
            .bind(&invoice_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        items,
        [kept["id"].as_str().unwrap()],
        "a deleted item never comes back"
    );
    let (subtotal, sum, revision) = stored_totals(&app.pool, &invoice_id).await;
    assert_eq!(subtotal, sum);
    assert_eq!(subtotal, Decimal::from(5));
    assert_eq!(revision, 2 + 1 + i64::try_from(replaced).unwrap());
}

#[sqlx::test]
async fn an_invoice_read_during_writes_shows_totals_of_the_items_it_shows(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let invoice_id = app.create_invoice("USD").await;
    let writers: Vec<_> = (1..=40)
        .map(|n| {
            let (app, invoice_id) = (app.clone(), invoice_id.clone());
            tokio::spawn(async move {
                app.post(
                    &format!("/invoices/{invoice_id}/items"),
                    json!({"type": "debit", "unitPrice": n}),
                )
                .await
            })
        })
        .collect();
    let readers: Vec<_> = (0..40)
        .map(|_| {
            let (app, invoice_id) = (app.clone(), invoice_id.clone());
            tokio::spawn(async move { app.invoice(&invoice_id).await })
        })
        .collect();
    for reader in readers {
        let invoice = reader.await.unwrap();
        let shown: i64 = invoice["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["price"].as_i64().unwrap())
            .sum();
        assert_eq!(invoice["subtotalAmount"].as_i64(), Some(shown), "{invoice}");
        assert_eq!(
            invoice["revision"].as_u64(),
            Some(invoice["items"].as_array().unwrap().len() as u64)
        );
    }
    for writer in writers {
        assert_eq!(
            writer.await.unwrap().status,
            axum::http::StatusCode::CREATED
        );
    }
}

#[sqlx::test]
async fn item_and_discount_changes_racing_on_one_invoice_end_consistent(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let invoice = |discount: serde_json::Value| {
        json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
               "discounts": [discount],
               "tax": {"calculator": "rates", "stateRate": 0.0725, "cityRate": 0.01}})
    };
    let first = app
        .put(
            "/invoices/mixed",
            invoice(json!({"type": "percent", "value": 10})),
        )
        .await;
    assert_eq!(
        first.status,
        axum::http::StatusCode::CREATED,
        "{}",
        first.text
    );
    let mut kept = Vec::new();
    for n in 1..=5 {
        let item = app
            .create_item(
                "mixed",
                json!({"type": "debit", "unitPrice": n as f64 * 3.33}),
            )
            .await;
        kept.push(item["id"].as_str().unwrap().to_owned());
    }
    let tasks: Vec<_> = (0..40)
        .map(|n: usize| {
            let app = app.clone();
            let kept = kept.clone();
            let discount = if n.is_multiple_of(8) {
                json!({"type": "fixed", "value": n as f64 + 0.07})
            } else {
                json!({"type": "percent", "value": n % 30 + 1})
            };
            let body = invoice(discount);
            tokio::spawn(async move {
                let items = "/invoices/mixed/items";
                let item = json!({"type": if n.is_multiple_of(7) { "credit" } else { "debit" },
                                  "unitPrice": (n * 17 % 101) as f64 + 0.99});
                match n % 4 {
                    0 => vec![app.put("/invoices/mixed", body).await.status],
                    1 => vec![app.post(items, item).await.status],
                    2 => {
                        let path = format!("{items}/{}", kept[n % kept.len()]);
                        vec![app.put(&path, item).await.status]
                    }
                    _ => {
                        let created = app.post(items, item).await;
                        let id = created.body["id"].as_str().unwrap_or_default().to_owned();
                        let deleted = app.delete(&format!("{items}/{id}")).await;
                        vec![created.status, deleted.status]
                    }
                }
            })
        })
        .collect();
    let mut writes = 0;
    for task in tasks {
        for status in task.await.unwrap() {
            assert!(status.is_success(), "{status}");
            writes += 1;
        }
    }

    let read = app.invoice("mixed").await;
    assert_eq!(
        read["revision"],
        json!(5 + writes),
        "one revision per write"
    );
    let sum = |field: &str| -> Decimal {
        read["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let value = &item[field];
                let value = if field == "tax" {
                    &value["amount"]
                } else {
                    value
                };
                let amount: Decimal = value.to_string().parse().unwrap_or_default();
                if field == "price" && item["type"] == "credit" {
                    -amount
                } else {
                    amount
                }
            })
            .sum()
    };
    let total = |field: &str| -> Decimal { read[field].to_string().parse().unwrap() };
    let tax: Decimal = read["tax"]["amount"].to_string().parse().unwrap();
    assert_eq!(sum("price"), total("subtotalAmount"));
    assert_eq!(sum("discountAmount"), total("discountAmount"));
    assert_eq!(sum("tax"), tax);
    assert_eq!(
        total("amount"),
        total("subtotalAmount") - total("discountAmount") + tax
    );
    // The stored figures are what pricing gives afresh: repricing the invoice as it stands
    // moves nothing.
    let again = app.put("/invoices/mixed", read.clone()).await;
    assert_eq!(again.status, axum::http::StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["items"], read["items"]);
    assert_eq!(again.body["discounts"], read["discounts"]);
    assert_eq!(again.body["amount"], read["amount"]);
}

/// Regression: an item write that waited for the lock of a PUT adding the invoice's first
/// discount must see that discount (it once read the discounts in the locking statement, whose
/// snapshot predates the wait).
#[sqlx::test]
async fn an_item_write_racing_the_first_discount_is_discounted(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let invoice = |discounts: serde_json::Value| {
        json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
               "discounts": discounts})
    };
    for round in 0..10 {
        let id = format!("race-{round}");
        let path = format!("/invoices/{id}");
        let created = app.put(&path, invoice(json!([]))).await;
        assert_eq!(created.status, axum::http::StatusCode::CREATED);
        for _ in 0..30 {
            app.create_item(&id, json!({"type": "debit", "unitPrice": 100}))
                .await;
        }
        let (put_app, post_app) = (app.clone(), app.clone());
        let (put_path, items) = (path.clone(), format!("{path}/items"));
        let discounted = invoice(json!([{"type": "percent", "value": 10}]));
        let put = tokio::spawn(async move { put_app.put(&put_path, discounted).await });
        let post = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            post_app
                .post(&items, json!({"type": "debit", "unitPrice": 100}))
                .await
        });
        assert!(put.await.unwrap().status.is_success());
        assert!(post.await.unwrap().status.is_success());
        let read = app.invoice(&id).await;
        assert_eq!(read["subtotalAmount"], json!(3100), "round {round}");
        assert_eq!(read["discountAmount"], json!(310), "round {round}");
        assert_eq!(read["discounts"][0]["amount"], json!(310), "round {round}");
        for item in read["items"].as_array().unwrap() {
            assert_eq!(item["discountAmount"], json!(10), "round {round}: {item}");
        }
    }
}
