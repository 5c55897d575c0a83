//! All SQL. Callers see [`Db`] and [`Tx`] and domain types, never a query.

mod api_keys;
mod credit_memos;
mod deliveries;
mod event_log;
mod events;
mod idempotency_keys;
mod invoice_items;
mod invoices;
mod item_batches;
mod item_listing;
mod kept_connection;
mod organizations;
mod pages;
mod parties_record;
mod pending_items;
mod products;
mod quotas;
mod reachability;
mod tax_record;
mod times;
mod transactions;
mod webhooks;

pub use api_keys::{KeyChange, KeyChanges, KeyListing, KeyOwner};
pub use credit_memos::{CreditMemoFilter, CreditMemoPage};
pub use deliveries::{
    Attempt, AttemptPage, Backlog, ClaimedDelivery, DeliveryState, OrganizationRoom,
};
pub use event_log::{EventLogListing, EventSubject, InvoiceSnapshot, LoggedEvent};
pub use events::TimelinePage;
pub use idempotency_keys::KeptRequest;
pub use invoice_items::{ItemKey, ItemPage};
pub use invoices::{AtOnce, InvoiceListing, InvoicePage};
pub use item_batches::{BatchedTotals, ITEMS_KEPT_BY_EVENTS};
pub use item_listing::ItemListing;
pub use kept_connection::{KEEP_IDLE, KEEP_LONGEST};
pub use pages::Cursor;
pub use products::ProductPage;
pub use transactions::{AllocationPage, TransactionPage};
pub use webhooks::WebhookPage;

use std::time::Duration;

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, Postgres, SqlSafeStr, Transaction};
use tokio::sync::Notify;

use crate::domain::currency::Currency;
use crate::domain::event::Cause;
use kept_connection::{KeptConnection, KeptConnections, connection_lost};
use reachability::Reachability;

/// How many bytes a page of the delivery log or of a timeline holds at most, counted as its
/// entries' stored text (bodies, headers, messages, changes) and 400 bytes each for the rest,
/// plus the entry that passes it: a page of large entries is cut short, so that no answer holds
/// much more than this, however many readers (and however slow) ask for the largest at once.
pub const PAGE_BYTES: i64 = 1024 * 1024;

/// The lock timeout when none is set: one second longer than the default request timeout.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(31);

/// The database: a pool of connections to PostgreSQL, and where to reach PostgreSQL itself
/// when the pool goes through a pooler.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    /// The statement that opens a write's transaction, setting its time limits.
    begin: Arc<str>,
    /// The same, for a transaction whose statements find their rows by key ([`Db::begin_by_keys`]).
    begin_by_keys: Arc<str>,
    /// The statement that opens a read's snapshot, setting its time limit.
    begin_snapshot: Arc<str>,
    /// Whether `pool` goes through a transaction-mode pooler (`DATABASE_TRANSACTION_POOLER`).
    transaction_pooler: bool,
    /// The lock timeout `begin` sets.
    lock_timeout: Duration,
    /// A direct connection's options (`DATABASE_DIRECT_URL`), for what a transaction-mode
    /// pooler cannot carry: `LISTEN`, and asking whether PostgreSQL itself is up. Shared, as
    /// every field is, because the state that holds a `Db` is cloned for every request.
    direct: Option<Arc<PgConnectOptions>>,
    /// Told when a transaction of this process that wrote webhook deliveries commits.
    deliveries_written: Arc<Notify>,
    /// Whether PostgreSQL accepts connections, asked when a wait for one lasts.
    reachability: Arc<Reachability>,
    /// The connections kept from one read to the next ([`Db::on_kept_connection`]).
    kept: Arc<KeptConnections>,
}

/// A transaction; dropped without [`Tx::commit`] it rolls back.
#[derive(Debug)]
pub struct Tx {
    inner: Transaction<'static, Postgres>,
    /// Whether it wrote webhook deliveries, which its commit announces in this process.
    wrote_deliveries: bool,
    deliveries_written: Arc<Notify>,
    /// The request it works for, which the events it writes keep.
    cause: Cause,
}

impl Db {
    /// Wraps a pool; its transactions wait at most [`DEFAULT_LOCK_TIMEOUT`] for a lock. Reads
    /// keep up to a third of the pool's connections from one read to the next (see
    /// [`Db::on_kept_connection`]), none with a pool under three.
    pub fn new(pool: PgPool) -> Self {
        let most_kept = usize::try_from(pool.options().get_max_connections() / 3).unwrap_or(0);
        Self {
            kept: Arc::new(KeptConnections::new(most_kept, KEEP_IDLE)),
            pool,
            begin: begin_statement(DEFAULT_LOCK_TIMEOUT, false, Planning::AsPostgresqlChooses),
            begin_by_keys: begin_statement(
                DEFAULT_LOCK_TIMEOUT,
                false,
                Planning::of_item_writes(false),
            ),
            begin_snapshot: snapshot_statement(DEFAULT_LOCK_TIMEOUT, false),
            transaction_pooler: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            direct: None,
            deliveries_written: Arc::new(Notify::new()),
            reachability: Arc::new(Reachability::new()),
        }
    }

    /// Told each time a transaction of this process that wrote webhook deliveries commits
    /// (the delivery worker waits on it). Other processes' deliveries are found by polling:
    /// a `NOTIFY` in every write would serialize the commits of every writer on PostgreSQL's
    /// one notification queue lock.
    pub fn deliveries_written(&self) -> Arc<Notify> {
        Arc::clone(&self.deliveries_written)
    }

    /// The same database, whose transactions wait at most `lock_timeout` for a lock.
    pub fn with_lock_timeout(self, lock_timeout: Duration) -> Self {
        Self {
            begin: begin_statement(
                lock_timeout,
                self.transaction_pooler,
                Planning::AsPostgresqlChooses,
            ),
            begin_by_keys: begin_statement(
                lock_timeout,
                self.transaction_pooler,
                Planning::of_item_writes(self.transaction_pooler),
            ),
            begin_snapshot: snapshot_statement(lock_timeout, self.transaction_pooler),
            lock_timeout,
            ..self
        }
    }

    /// The same database, reached through a transaction-mode pooler (PgBouncer's
    /// `pool_mode = transaction`, and the poolers of managed PostgreSQL): the pooler gives each
    /// transaction whichever server connection is free, so nothing may rely on a session.
    ///
    /// sqlx names every statement that has parameters (`sqlx_s_1`, `sqlx_s_2`, ... counted per
    /// client connection) and, with its statement cache off, never closes one; two clients
    /// whose transactions meet on one server connection would name two statements alike. So
    /// each transaction begins by clearing the statements earlier transactions left on its
    /// server connection (`DEALLOCATE ALL`), and a read outside a transaction runs in one of its
    /// own, since sqlx parses and executes a statement in two exchanges between which the
    /// pooler may switch server connections. The pool's statement cache must be off (see
    /// [`crate::startup::through_transaction_pooler`]).
    pub fn behind_transaction_pooler(self) -> Self {
        Self {
            begin: begin_statement(self.lock_timeout, true, Planning::AsPostgresqlChooses),
            begin_by_keys: begin_statement(self.lock_timeout, true, Planning::of_item_writes(true)),
            begin_snapshot: snapshot_statement(self.lock_timeout, true),
            transaction_pooler: true,
            ..self
        }
    }

    /// The same database, reached directly (not through the pooler) at `options` for
    /// `LISTEN` and for asking whether PostgreSQL is up.
    pub fn with_direct_connection(self, options: PgConnectOptions) -> Self {
        Self {
            direct: Some(Arc::new(options)),
            ..self
        }
    }

    /// The same database, whose reads keep their connections for `idle` once no read takes
    /// them, where they keep any (see [`Db::on_kept_connection`]).
    pub fn keeping_read_connections_for(self, idle: Duration) -> Self {
        Self {
            kept: Arc::new(self.kept.kept_for(idle)),
            ..self
        }
    }

    /// How many reads found the connection kept for them lost, and ran again on one from the
    /// pool.
    pub fn kept_connections_lost(&self) -> u64 {
        self.kept.lost()
    }

    /// How many connections are kept for reads, not reading.
    pub fn kept_connections(&self) -> usize {
        self.kept.count()
    }

    /// How many callers wait for a connection of the pool (its check included).
    pub fn waiting_for_pool(&self) -> usize {
        self.kept.waiting()
    }

    /// A direct connection's options: `DATABASE_DIRECT_URL`'s, else the pool's own.
    fn direct_options(&self) -> PgConnectOptions {
        match &self.direct {
            Some(options) => PgConnectOptions::clone(options),
            None => PgConnectOptions::clone(&self.pool.connect_options()),
        }
    }

    /// Starts a transaction. Its lock timeout is set inside it (`SET LOCAL`), in the same
    /// round trip as `BEGIN`: a transaction-mode pooler gives each transaction whichever
    /// server connection is free, so no setting may live on a session.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.transaction(&self.begin, Cause::current()).await
    }

    /// Starts a transaction, as [`Db::begin`] does, whose statements each find their rows by
    /// their keys (`= any($1)`, a JSON array of rows), so that one plan fits every execution:
    /// they are planned once per connection rather than at each execution. PostgreSQL would
    /// plan each again, as it estimates a plan for arrays of unknown length dearer than one
    /// for the array at hand (a tenth of a millisecond each, twice in an item's create).
    pub async fn begin_by_keys(&self) -> Result<Tx, sqlx::Error> {
        self.transaction(&self.begin_by_keys, Cause::current())
            .await
    }

    /// Starts a read-only transaction whose statements all see one snapshot, so that what is
    /// read in several statements (an invoice and its items) is consistent.
    pub async fn snapshot(&self) -> Result<Tx, sqlx::Error> {
        self.transaction(&self.begin_snapshot, Cause::default())
            .await
    }

    /// A transaction begun with `statement`, working for `cause`.
    async fn transaction(&self, statement: &str, cause: Cause) -> Result<Tx, sqlx::Error> {
        Ok(Tx {
            inner: self.begin_with(statement.to_owned()).await?,
            wrote_deliveries: false,
            deliveries_written: Arc::clone(&self.deliveries_written),
            cause,
        })
    }

    /// Runs `reads` in a snapshot of their own ([`Db::snapshot`]), which ends when they are done.
    pub async fn read<T, E: From<sqlx::Error>>(
        &self,
        reads: impl AsyncFnOnce(&mut Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut snapshot = self.snapshot().await?;
        let read = reads(&mut snapshot).await?;
        snapshot.commit().await?;
        Ok(read)
    }

    /// Runs `reads` in the caller's transaction when it has one, else in a snapshot of their own.
    pub async fn read_in<T, E: From<sqlx::Error>>(
        &self,
        tx: Option<&mut Tx>,
        reads: impl AsyncFnOnce(&mut Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        match tx {
            Some(tx) => reads(tx).await,
            None => self.read(reads).await,
        }
    }

    /// Runs `statements` that need no transaction of the caller's on a connection from the
    /// pool; behind a transaction-mode pooler, in a transaction of their own (see
    /// [`Db::behind_transaction_pooler`]).
    async fn on_connection<T>(
        &self,
        statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        if self.transaction_pooler {
            let mut transaction = self.begin_with("begin; deallocate all".to_owned()).await?;
            let answer = statements(&mut transaction).await?;
            transaction.commit().await?;
            Ok(answer)
        } else {
            let mut connection = self.connection().await?;
            statements(&mut connection).await
        }
    }

    /// Runs the statements `read` makes, which only read and may run twice, as
    /// [`Db::on_connection`] does, on a connection kept from an earlier read when one is (see
    /// [`KeptConnections`]); the connection is kept again once they succeed. (`read` makes them
    /// anew for each connection they run on: an async closure called twice by reference would
    /// hold a borrow no spawned task can prove `Send`.) A kept connection has no check of the
    /// pool's: a database that stopped answering ends the read as it would end a wait for a
    /// connection ([`Db::within_reach`]), and a read that fails on it as on a lost connection
    /// runs again on one from the pool.
    async fn on_kept_connection<T, R>(&self, read: impl Fn() -> R) -> Result<T, sqlx::Error>
    where
        R: AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    {
        if self.transaction_pooler || !self.kept.keeps_any() {
            return self.on_connection(read()).await;
        }
        let Some(KeptConnection {
            mut connection,
            since,
            ..
        }) = self.kept.take()
        else {
            return self.read_and_keep(self.connection().await?, read()).await;
        };
        match self.within_reach(read()(&mut *connection)).await {
            Ok(answer) => {
                self.kept.keep(connection, since, self.pool.num_idle() > 0);
                Ok(answer)
            }
            Err(error) => {
                // Whatever state it is left in, no one is handed it again; closed rather than
                // checked by the pool, whose check has no time limit.
                connection.close_on_drop();
                if !connection_lost(&error) {
                    return Err(error);
                }
                tracing::info!(%error, "a kept connection was lost; the read runs again on one from the pool");
                self.kept.found_lost();
                self.read_and_keep(self.connection().await?, read()).await
            }
        }
    }

    /// Runs `read` on `connection`, just taken from the pool, and keeps it once `read` succeeds.
    async fn read_and_keep<T>(
        &self,
        mut connection: PoolConnection<Postgres>,
        read: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let since = std::time::Instant::now();
        let answer = read(&mut *connection).await?;
        self.kept.keep(connection, since, self.pool.num_idle() > 0);
        Ok(answer)
    }

    /// Runs `statements` as [`Db::on_connection`] does, in a transaction of their own (with its
    /// time limits) whose statements are planned as PostgreSQL chooses, which for these is for
    /// the arguments at hand: for a statement whose best plan depends on them (an optional
    /// filter, a time that few rows precede), where the pool's connections otherwise plan a
    /// statement once (see [`Planning::Once`]).
    async fn on_connection_planned_for_arguments<T>(
        &self,
        statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        self.in_transaction_begun_with(self.begin.to_string(), statements)
            .await
    }

    /// Runs `statements` as [`Db::on_connection_planned_for_arguments`] does, with sequential
    /// scans, bitmap scans and sorts left to PostgreSQL's last resort (a penalty in its costs,
    /// set in the `BEGIN`'s round trip): for statements that must read an index in its order
    /// and stop early, whatever statistics older than the table's rows promise, and whose
    /// every plan needs the same sorts otherwise. The penalty would count as a costly plan's
    /// and have each compiled (JIT), so compiling is off.
    async fn on_connection_read_in_index_order<T>(
        &self,
        statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let begin = format!(
            "{}; set local enable_seqscan = off; set local enable_bitmapscan = off; \
             set local enable_sort = off; set local jit = off",
            self.begin
        );
        self.in_transaction_begun_with(begin, statements).await
    }

    /// Runs `statements` in a transaction begun with `begin`, committed once they succeed.
    async fn in_transaction_begun_with<T>(
        &self,
        begin: String,
        statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let mut transaction = self.begin_with(begin).await?;
        let answer = statements(&mut transaction).await?;
        transaction.commit().await?;
        Ok(answer)
    }

    /// A transaction begun with `statement` (see [`begin_to_the_end`]) on a connection of the
    /// pool, or the pool's timeout error as soon as PostgreSQL is found away (see
    /// [`Reachability`]): a wait given up leaves nothing queued in the pool.
    async fn begin_with(
        &self,
        statement: String,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let connection = self.connection().await?;
        begin_to_the_end(connection, statement).await
    }

    /// A connection of the pool, or the pool's timeout error as soon as PostgreSQL is found
    /// away (see [`Reachability`]). sqlx's wait for a connection is boxed: it is about 9 kB,
    /// which every future around it (a read's task, the handler's, each layer's) would
    /// otherwise hold, some of them twice, and copy each time it is moved.
    async fn connection(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let _waiting = self.kept.waiting_for_pool();
        // A connection kept for reads is given back for the pool to hand out rather than lie
        // kept while this waits.
        if self.pool.num_idle() == 0 {
            self.kept.give_one_back();
        }
        let acquire = Box::pin(self.pool.acquire());
        self.reachability
            .wait_for(|| self.direct_options(), acquire)
            .await
    }

    /// The answer of `statements` on a connection the caller holds, or the pool's timeout
    /// error as soon as PostgreSQL is found away (see [`Reachability`]) or after the pool's
    /// acquire timeout, as a wait for a connection of the pool (and its check) would end.
    async fn within_reach<T>(
        &self,
        statements: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let answer = self
            .reachability
            .wait_for(|| self.direct_options(), statements);
        tokio::time::timeout(self.pool.options().get_acquire_timeout(), answer)
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// How many connections the pool holds, and how many of them are idle.
    pub fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Whether the database accepts a connection of its own, outside the pool, within
    /// `timeout`: unlike a pooled query, this tells a database that is down from a pool
    /// whose connections are all busy.
    pub async fn accepts_connections(&self, timeout: std::time::Duration) -> bool {
        let options = self.direct_options();
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
        let query = self.on_connection(async |connection| {
            sqlx::query!("select 1 as one")
                .fetch_one(connection)
                .await
                .map(drop)
        });
        match tokio::time::timeout(timeout, query).await {
            Ok(answer) => answer,
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

impl Tx {
    /// Makes the transaction's writes durable, and tells this process's delivery worker of
    /// the deliveries it wrote.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await?;
        if self.wrote_deliveries {
            self.deliveries_written.notify_one();
        }
        Ok(())
    }

    /// Undoes the transaction now. Dropping it does too, but later, in the background: this
    /// releases its locks before the caller answers.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

/// `BEGIN` with the transaction's time limits, planning its statements for their arguments
/// as PostgreSQL chooses (the pool's connections may plan them once: see
/// [`Planning::Once`]). A request abandoned by the request timeout
/// leaves its statement running in PostgreSQL until it ends; one waiting for a lock (an invoice
/// row, an idempotency key) would hold the locks its transaction already has for as long as it
/// waits, and one that works on would hold its connection, which one tenant's slow requests
/// could do to every connection of the pool. The lock timeout ends the wait, and the statement
/// timeout (the same) the work. Behind a transaction-mode pooler it also clears the statements
/// other transactions left on the server connection (see [`Db::behind_transaction_pooler`]).
fn begin_statement(limit: Duration, transaction_pooler: bool, planning: Planning) -> Arc<str> {
    format!(
        "begin{}{}{}",
        after_begin(transaction_pooler),
        time_limits(limit, true),
        planning.setting()
    )
    .into()
}

/// How prepared statements are planned: a pool's connections outside a transaction (see
/// [`crate::startup::connect`]), or a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// At each execution PostgreSQL chooses between its plan for any arguments and one for the
    /// arguments at hand: every transaction but an item write's, and a pool through a
    /// transaction-mode pooler, where sqlx's statement cache is off and every statement is
    /// parsed again in each transaction anyway.
    AsPostgresqlChooses,
    /// Once per connection, for any arguments (`plan_cache_mode = force_generic_plan`): an
    /// item write's transaction ([`Db::begin_by_keys`]), and the server's own pool.
    ///
    /// PostgreSQL would plan a statement again at each execution as long as it takes the plan
    /// for the arguments at hand to be cheaper than one for any arguments, which for a lookup
    /// by an array of keys (`= any($1)`, `unnest($1)`) or a page's `limit` it always does. An
    /// item's get spent about 0.4 ms planning and 0.07 ms reading (the statement log's `bind`
    /// and `execute`). The statements this module runs outside a transaction find their rows
    /// by key or page through one invoice's; the others (the delivery claim, the retention
    /// deletes, the past-due scan, the listing of API keys) run in a transaction of their own
    /// (`Db::on_connection_planned_for_arguments`, `Db::on_connection_read_in_index_order`).
    /// Set on the pool, it overrides a `plan_cache_mode` set on the role or the database.
    Once,
}

impl Planning {
    /// An item write's: once, but through a transaction-mode pooler, where a plan for any
    /// arguments would save nothing.
    fn of_item_writes(transaction_pooler: bool) -> Self {
        if transaction_pooler {
            Self::AsPostgresqlChooses
        } else {
            Self::Once
        }
    }

    /// The `SET LOCAL`s that follow `BEGIN`.
    ///
    /// Planned once, a write's statements would read every invoice: a plan for any arguments
    /// takes each array of keys for ten, and two arrays (organizations and invoices) for a
    /// hundred lookups, which on a table of a thousand invoices costs more than reading them
    /// all. The totals' update and the events' statement each did (0.2 ms of a 2 ms create,
    /// growing with the invoices until the table outgrows the estimate). An item write's
    /// statements all find their rows by key, so its transaction leaves sequential scans to
    /// PostgreSQL's last resort (`enable_seqscan = off`).
    fn setting(self) -> &'static str {
        match self {
            Self::AsPostgresqlChooses => "; set local plan_cache_mode = auto",
            Self::Once => {
                "; set local plan_cache_mode = force_generic_plan; set local enable_seqscan = off"
            }
        }
    }
}

/// `BEGIN` of a read-only snapshot, with the same statement timeout as a write's, planning as
/// a write's transaction does.
fn snapshot_statement(limit: Duration, transaction_pooler: bool) -> Arc<str> {
    format!(
        "begin isolation level repeatable read, read only{}{}{}",
        after_begin(transaction_pooler),
        time_limits(limit, false),
        Planning::AsPostgresqlChooses.setting()
    )
    .into()
}

/// What follows `BEGIN` behind a transaction-mode pooler.
fn after_begin(transaction_pooler: bool) -> &'static str {
    if transaction_pooler {
        "; deallocate all"
    } else {
        ""
    }
}

/// `SET LOCAL` of the statement timeout and, for a write, the lock timeout: `limit` each.
fn time_limits(limit: Duration, lock: bool) -> String {
    let milliseconds = limit.as_millis().max(1);
    let lock = if lock {
        format!("; set local lock_timeout = '{milliseconds}ms'")
    } else {
        String::new()
    };
    format!("{lock}; set local statement_timeout = '{milliseconds}ms'")
}

/// A stored value the domain refuses: the database holds something no write could have put there.
fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {what} in the database: {value:?}").into())
}

/// A stored currency code, which must be one the domain knows.
fn parse_currency(code: &str) -> Result<Currency, sqlx::Error> {
    Currency::parse(code).map_err(|_| corrupt("currency", code))
}

/// Begins a transaction with `statement` on `connection` in a task of its own, which finishes
/// the `BEGIN` whatever becomes of its caller. sqlx 0.9.0's `begin` is not safe to cancel on PostgreSQL
/// (transact-rs/sqlx#4393): a request dropped while its `BEGIN` is on the wire (its client
/// gone, its time up) would give the pool back a connection still inside that transaction, in
/// which every later borrower's statements would run, and after its first error fail. Finished
/// in the task, a transaction whose caller is gone is dropped like any other: rolled back.
async fn begin_to_the_end(
    connection: PoolConnection<Postgres>,
    statement: String,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let statement = AssertSqlSafe(statement).into_sql_str();
    tokio::spawn(Transaction::begin(connection, Some(statement)))
        .await
        .map_err(|error| sqlx::Error::Io(std::io::Error::other(error)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transaction_sets_its_time_limits_in_the_round_trip_of_its_begin() {
        let limit = Duration::from_secs(31);
        assert_eq!(
            &*begin_statement(limit, false, Planning::AsPostgresqlChooses),
            "begin; set local lock_timeout = '31000ms'; set local statement_timeout = '31000ms'; \
             set local plan_cache_mode = auto"
        );
        assert_eq!(
            &*snapshot_statement(limit, true),
            "begin isolation level repeatable read, read only; deallocate all; \
             set local statement_timeout = '31000ms'; set local plan_cache_mode = auto"
        );
        assert_eq!(
            &*begin_statement(limit, false, Planning::Once),
            "begin; set local lock_timeout = '31000ms'; set local statement_timeout = '31000ms'; \
             set local plan_cache_mode = force_generic_plan; set local enable_seqscan = off"
        );
    }
}
