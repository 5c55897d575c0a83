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
