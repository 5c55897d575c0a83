//! Reads of one statement keep their connection for the next read: a kept connection found
//! lost costs no read, and once reads stop every connection goes back to the pool.

use std::time::Duration;

use invoice_api::domain::ids::{InvoiceId, OrganizationId};
use invoice_api::repository::Db;
use invoice_api::service::invoice_items::list_items;
use invoice_api::service::invoice_reads::get_invoice;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{ORGANIZATION, TestApp, app_db, pooler_port};

/// Ends every other connection to the test's database, the kept ones among them.
async fn end_other_connections(pool: &PgPool) {
    let ended: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()
           and backend_type = 'client backend'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(ended.contains(&true), "{ended:?}");
}

/// How many of the pool's connections are out of it, kept or reading.
fn out_of_the_pool(db: &Db) -> usize {
    let (size, idle) = db.pool_connections();
    size as usize - idle
}

/// The test organization and an invoice of one item, made through the API: a page of its
/// items is read in one statement (an empty page is read again in a snapshot).
async fn an_invoice_of_one_item(pool: &PgPool) -> (OrganizationId, InvoiceId) {
    let app = TestApp::new(pool.clone()).await;
    let invoice_id = app.create_invoice("USD").await;
    app.create_item(
        &invoice_id,
        json!({"type": "debit", "unitPrice": 3, "quantity": 2}),
    )
    .await;
    let organization = OrganizationId::parse(ORGANIZATION).unwrap();
    (organization, InvoiceId::parse(&invoice_id).unwrap())
}

#[sqlx::test]
async fn a_page_and_an_invoice_read_on_when_their_kept_connection_is_lost(pool: PgPool) {
    let (organization, invoice) = an_invoice_of_one_item(&pool).await;
    // Kept for longer than this test's steps take on a loaded machine, so that each read finds
    // the connection the one before kept.
    let db = app_db(&pool).keeping_read_connections_for(Duration::from_secs(3));
    // Behind a transaction-mode pooler nothing is kept, and ending the pooler's server
    // connections would be a test of the pooler's.
    let keeps = u64::from(pooler_port().is_none());

    let page = list_items(&db, &organization, &invoice, 20, 0)
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (1, 1));
    assert_eq!(db.kept_connections() as u64, keeps);

    if keeps == 1 {
        end_other_connections(&pool).await;
    }
    let page = list_items(&db, &organization, &invoice, 20, 0)
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (1, 1));
    assert_eq!(db.kept_connections_lost(), keeps);
    assert_eq!(db.kept_connections() as u64, keeps);

    if keeps == 1 {
        end_other_connections(&pool).await;
    }
    let (read, items) = get_invoice(&db, &organization, &invoice).await.unwrap();
    assert_eq!((read.id, items.len()), (invoice, 1));
    assert_eq!(db.kept_connections_lost(), 2 * keeps);

    // Once reads stop, the connections go back after the 3 s; this waits up to 10 s.
    let since = std::time::Instant::now();
    while out_of_the_pool(&db) > 0 && since.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        out_of_the_pool(&db),
        0,
        "connections held after the reads stopped"
    );
    assert_eq!(db.kept_connections(), 0);
}

/// What `task` answers, within a minute.
async fn answered_within_a_minute<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("not answered within a minute")
        .unwrap()
}

/// Waits until `done` holds, up to a minute.
async fn until(done: impl Fn() -> bool) {
    let since = std::time::Instant::now();
    while !done() {
        assert!(since.elapsed() < Duration::from_secs(60), "waited a minute");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// No one waits for the pool while a connection lies kept: one waiting when a read ends is
/// handed its connection, and one that comes while a connection is kept has it given back.
#[sqlx::test]
async fn a_caller_waiting_for_the_pool_gets_the_connections_reads_kept(pool: PgPool) {
    let (organization, invoice) = an_invoice_of_one_item(&pool).await;
    // Three connections, of which reads keep one; kept for longer than the test waits.
    let three = PgPoolOptions::new()
        .max_connections(3)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let db = Db::new(three.clone()).keeping_read_connections_for(Duration::from_secs(600));
    let page = |db: Db| {
        let (organization, invoice) = (organization.clone(), invoice.clone());
        async move {
            list_items(&db, &organization, &invoice, 20, 0)
                .await
                .map(|page| page.total)
        }
    };
    let transaction = |db: Db| tokio::spawn(async move { db.snapshot().await.map(drop) });

    // Comes while a connection is kept, and no read follows.
    assert_eq!(page(db.clone()).await.unwrap(), 1);
    assert_eq!(db.kept_connections(), 1);
    let held = (
        three.acquire().await.unwrap(),
        three.acquire().await.unwrap(),
    );
    answered_within_a_minute(transaction(db.clone()))
        .await
        .unwrap();
    assert_eq!(db.kept_connections(), 0);

    // Waits while a read is under way (held up by a lock), and is handed its connection.
    assert_eq!(page(db.clone()).await.unwrap(), 1);
    assert_eq!(db.kept_connections(), 1);
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("lock table invoice_items in access exclusive mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    let read = tokio::spawn(page(db.clone()));
    until(|| db.kept_connections() == 0).await;
    let waiting = transaction(db.clone());
    until(|| db.waiting_for_pool() == 1).await;
    lock.commit().await.unwrap();
    assert_eq!(answered_within_a_minute(read).await.unwrap(), 1);
    answered_within_a_minute(waiting).await.unwrap();
    assert_eq!(
        db.kept_connections(),
        0,
        "kept while a transaction waited for the pool"
    );
    drop(held);
    three.close().await;
}
