//! All SQL. Callers see [`Db`] and [`Tx`] and domain types, never a query.

mod api_keys;
mod idempotency_keys;
mod invoice_items;
mod invoices;
mod products;
mod tax_record;

pub use api_keys::{KeyChange, KeyChanges, KeyListing, KeyOwner};
pub use idempotency_keys::KeptRequest;
pub use invoice_items::ItemPage;
pub use invoices::{InvoiceFilter, InvoicePage, SortField, SortKey};
pub use products::ProductPage;

use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

/// The database: a pool of connections to PostgreSQL.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
}

/// A transaction; dropped without [`Tx::commit`] it rolls back.
#[derive(Debug)]
pub struct Tx {
    inner: Transaction<'static, Postgres>,
}

impl Db {
    /// Wraps a pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx {
            inner: self.pool.begin().await?,
        })
    }

    /// Starts a read-only transaction whose statements all see one snapshot, so that what is
    /// read in several statements (an invoice and its items) is consistent.
    pub async fn snapshot(&self) -> Result<Tx, sqlx::Error> {
        let begin = "begin isolation level repeatable read, read only";
        Ok(Tx {
            inner: self.pool.begin_with(begin).await?,
        })
    }

    /// How many connections the pool holds, and how many of them are idle.
    pub fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Whether the database accepts a connection of its own, outside the pool, within
    /// `timeout`: unlike a pooled query, this tells a database that is down from a pool
    /// whose connections are all busy.
    pub async fn accepts_connections(&self, timeout: std::time::Duration) -> bool {
        let options = self.pool.connect_options();
        match tokio::time::timeout(timeout, PgConnection::connect_with(&options)).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                true
            }
            _ => false,
        }
    }

    /// Checks that the database answers within `timeout`.
    pub async fn ping(&self, timeout: std::time::Duration) -> Result<(), sqlx::Error> {
        let query = sqlx::query!("select 1 as one").fetch_one(&self.pool);
        match tokio::time::timeout(timeout, query).await {
            Ok(answer) => answer.map(drop),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

impl Tx {
    /// Makes the transaction's writes durable.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    /// Undoes the transaction now. Dropping it does too, but later, in the background: this
    /// releases its locks before the caller answers.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

/// A stored value the domain refuses: the database holds something no write could have put there.
fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {what} in the database: {value:?}").into())
}
