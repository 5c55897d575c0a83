//! The core addresses an item by its id alone within an organization, and pages items by
//! cursor as well as by offset: what a dialect whose items are not addressed through their
//! invoice (Stripe's `/v1/invoiceitems`) is built on.

use axum::http::StatusCode;
use invoice_api::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId};
use invoice_api::error::ApiError;
use invoice_api::service::invoice_items::{get_item, get_item_by_id, list_items_after};
use invoice_api::service::item_reads::ItemReads;
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;

use crate::helpers::{ORGANIZATION, TestApp};

fn item_id(body: &serde_json::Value) -> InvoiceItemId {
    InvoiceItemId::parse(body["id"].as_str().unwrap()).unwrap()
}

#[sqlx::test]
async fn an_item_is_found_by_its_id_alone_and_only_in_its_organization(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let invoice_id = app.create_invoice("USD").await;
    let created = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 2.5, "quantity": 4}),
        )
        .await;
    let db = crate::helpers::app_db(&pool);
    let organization = OrganizationId::parse(ORGANIZATION).unwrap();
    let item = get_item_by_id(&db, &organization, &item_id(&created))
        .await
        .unwrap();
    assert_eq!(item.id.as_str(), created["id"].as_str().unwrap());
    assert_eq!(item.invoice_id.as_str(), invoice_id);
    // The same item, read as the Rebilly edge shows it.
    let read = app
        .get(&format!("/invoices/{invoice_id}/items/{}", item.id))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["price"], 10);

    let other = OrganizationId::parse("org_other").unwrap();
    let missing = get_item_by_id(&db, &other, &item_id(&created)).await;
    assert!(matches!(missing, Err(ApiError::NotFound(_))), "{missing:?}");
}

#[sqlx::test]
async fn cursor_pages_follow_creation_order_across_invoices_and_within_one(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let first_invoice = app.create_invoice("USD").await;
    let second_invoice = app.create_invoice("USD").await;
    let mut ids = Vec::new();
    for (index, invoice) in [
        &first_invoice,
        &second_invoice,
        &first_invoice,
        &second_invoice,
        &first_invoice,
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"type": "debit", "unitPrice": index + 1});
        ids.push(item_id(&app.create_item(invoice, body).await));
    }
    let db = crate::helpers::app_db(&pool);
    let organization = OrganizationId::parse(ORGANIZATION).unwrap();
    let page = |after: Option<InvoiceItemId>, invoice: Option<InvoiceId>, limit: i64| {
        let db = db.clone();
        let organization = organization.clone();
        async move {
            list_items_after(&db, &organization, invoice.as_ref(), after.as_ref(), limit)
                .await
                .unwrap()
                .into_iter()
                .map(|item| item.id)
                .collect::<Vec<_>>()
        }
    };
    // Every item in creation order, in pages of two, each starting after the last one seen.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let items = page(after.clone(), None, 2).await;
        if items.is_empty() {
            break;
        }
        assert!(items.len() <= 2);
        after = items.last().cloned();
        seen.extend(items);
        assert!(seen.len() <= ids.len(), "the pages never end");
    }
    assert_eq!(seen, ids);
    // Within one invoice.
    let first = InvoiceId::parse(&first_invoice).unwrap();
    let within = page(Some(ids[0].clone()), Some(first), 10).await;
    assert_eq!(within, [ids[2].clone(), ids[4].clone()]);
    // A page does not shift when an item before it is deleted.
    let deleted = app
        .delete(&format!("/invoices/{first_invoice}/items/{}", ids[0]))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(page(Some(ids[1].clone()), None, 2).await, ids[2..4]);
    // A cursor that names no item of the organization is 404.
    let unknown = list_items_after(&db, &organization, None, Some(&ids[0]), 2).await;
    assert!(matches!(unknown, Err(ApiError::NotFound(_))), "{unknown:?}");
}

/// Reads made together share one statement, and each hears of its own item: the one it asked
/// for, of its own invoice and organization, and none where there is none.
#[sqlx::test]
async fn reads_made_together_share_a_statement_and_each_gets_its_own_item(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let first_invoice = app.create_invoice("USD").await;
    let second_invoice = app.create_invoice("USD").await;
    let mut created = Vec::new();
    for (index, invoice) in [&first_invoice, &second_invoice]
        .repeat(5)
        .iter()
        .enumerate()
    {
        let body = app
            .create_item(
                invoice,
                json!({"type": "debit", "unitPrice": index + 1, "quantity": 1}),
            )
            .await;
        created.push((
            InvoiceId::parse(invoice).unwrap(),
            item_id(&body),
            index + 1,
        ));
    }
    let db = crate::helpers::app_db(&pool);
    let reads = ItemReads::new(db, 10);
    let organization = OrganizationId::parse(ORGANIZATION).unwrap();
    let other = OrganizationId::parse("org_other").unwrap();
    let missing = InvoiceItemId::parse("itm_missing").unwrap();

    // Every read is queued before the readers run (this test's runtime has one thread), so the
    // reader takes them all at once.
    let own = created
        .iter()
        .map(|(invoice, item, _)| get_item(&reads, &organization, invoice, item));
    let (own, wrong_invoice, other_organization, none) = tokio::join!(
        futures_util::future::join_all(own),
        get_item(&reads, &organization, &created[1].0, &created[0].1),
        reads.item(&other, &created[0].1),
        reads.item(&organization, &missing),
    );
    assert_eq!((reads.statements(), reads.reads_alone()), (1, 0));
    for ((invoice, item, price), read) in created.iter().zip(own) {
        let read = read.unwrap();
        assert_eq!((&read.id, &read.invoice_id), (item, invoice));
        assert_eq!(read.price, rust_decimal::Decimal::from(*price as i64));
    }
    assert!(
        matches!(wrong_invoice, Err(ApiError::NotFound(_))),
        "{wrong_invoice:?}"
    );
    assert_eq!(other_organization.unwrap(), None);
    assert_eq!(none.unwrap(), None);

    // A read made after a change sees it.
    let (invoice, item, _) = &created[0];
    let changed = app
        .put(
            &format!("/invoices/{invoice}/items/{item}"),
            json!({"type": "debit", "unitPrice": 7, "quantity": 3}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let read = get_item(&reads, &organization, invoice, item)
        .await
        .unwrap();
    assert_eq!(read.price, rust_decimal::Decimal::from(21));
    assert_eq!((reads.statements(), reads.reads_alone()), (2, 0));
}

/// The readers keep their connection from one batch to the next: one that was lost meanwhile
/// (its backend ended) costs no read, which goes on on a connection from the pool, and once
/// reads stop every connection goes back to the pool. Behind a transaction-mode pooler they
/// keep none.
#[sqlx::test]
async fn a_reader_reads_on_when_its_kept_connection_is_lost_and_gives_it_back_after(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let invoice_id = app.create_invoice("USD").await;
    let created = app
        .create_item(
            &invoice_id,
            json!({"type": "debit", "unitPrice": 3, "quantity": 2}),
        )
        .await;
    let (invoice, item) = (InvoiceId::parse(&invoice_id).unwrap(), item_id(&created));
    // Kept for longer than this test's steps take on a loaded machine, so that the second read
    // finds the connection the first kept.
    let db = crate::helpers::app_db(&pool).keeping_read_connections_for(Duration::from_secs(3));
    let reads = ItemReads::new(db.clone(), 10);
    let organization = OrganizationId::parse(ORGANIZATION).unwrap();
    let behind_pooler = crate::helpers::pooler_port().is_some();

    let read = get_item(&reads, &organization, &invoice, &item)
        .await
        .unwrap();
    assert_eq!(read.price, rust_decimal::Decimal::from(6));
    // Ending the pooler's server connections would be a test of the pooler's.
    if !behind_pooler {
        // Every other connection to the database is ended, the kept one among them.
        let ended: Vec<bool> = sqlx::query_scalar(
            "select pg_terminate_backend(pid) from pg_stat_activity
             where datname = current_database() and pid <> pg_backend_pid()
               and backend_type = 'client backend'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(ended.contains(&true), "{ended:?}");
    }
    let read = get_item(&reads, &organization, &invoice, &item)
        .await
        .unwrap();
    assert_eq!(read.id, item);
    assert_eq!((reads.statements(), reads.reads_alone()), (2, 0));
    assert_eq!(db.kept_connections_lost(), u64::from(!behind_pooler));

    // Once reads stop, the connections go back after the 3 s; this waits up to 10 s.
    let in_use = || {
        let (size, idle) = db.pool_connections();
        size as usize - idle
    };
    let since = std::time::Instant::now();
    while in_use() > 0 && since.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(in_use(), 0, "connections held after the reads stopped");
}
