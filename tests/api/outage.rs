//! Database outages, against the real binary and a private PostgreSQL cluster that the tests
//! stop and start: a fast 503 problem while the database is away, and service again, without a
//! restart, once it is back.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::cluster::PrivateCluster;
use crate::helpers::assert_opaque;
use crate::process::{Answer, ServerProcess, exchange};

const ORGANIZATION: &str = "org_outage";
const KEY: &str = "sk_sandbox_outageoutageoutageoutage00000";
/// Short, so that an outage answers fast; the test reports how fast.
const ACQUIRE_TIMEOUT_SECS: &str = "1";
/// How long the tests wait for anything: a guard against a hang, never a measure of speed.
const PATIENCE: Duration = Duration::from_secs(30);

fn start_server(cluster: &PrivateCluster, request_timeout_secs: &str) -> ServerProcess {
    start_server_waiting(cluster, request_timeout_secs, ACQUIRE_TIMEOUT_SECS)
}

/// A server whose requests wait up to `acquire_timeout_secs` for a pooled connection.
fn start_server_waiting(
    cluster: &PrivateCluster,
    request_timeout_secs: &str,
    acquire_timeout_secs: &str,
) -> ServerProcess {
    ServerProcess::start(&[
        ("DATABASE_URL", &cluster.url("invoice_api")),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", acquire_timeout_secs),
        ("REQUEST_TIMEOUT_SECS", request_timeout_secs),
        ("BOOTSTRAP_ORGANIZATION_ID", ORGANIZATION),
        ("BOOTSTRAP_API_KEY", KEY),
    ])
}

fn call(server: &ServerProcess, method: &str, path: &str, body: Option<&Value>) -> Answer {
    exchange(server.port, method, path, &[("REB-APIKEY", KEY)], body)
}

fn create_invoice(server: &ServerProcess) -> String {
    let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
    let created = call(server, "POST", "/invoices", Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_str().unwrap().to_owned()
}

fn item(unit_price: u64, quantity: u64) -> Value {
    json!({"type": "debit", "unitPrice": unit_price, "quantity": quantity})
}

/// Asserts the 503 problem that says the database is away, and that it tells nothing more.
fn assert_database_unavailable(answer: &Answer, instance: &str) {
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let problem = answer.json();
    assert_eq!(
        problem["type"], "/problems/service-unavailable",
        "{problem}"
    );
    assert_eq!(problem["title"], "Service Unavailable", "{problem}");
    assert_eq!(problem["status"], 503, "{problem}");
    assert_eq!(problem["instance"], instance, "{problem}");
    assert_eq!(
        problem["detail"], "The service cannot reach its database; retry later.",
        "{problem}"
    );
    assert_eq!(answer.header("retry-after"), Some("1"), "{}", answer.body);
    assert_opaque(&answer.body);
}

/// Sends a request and says how long its answer took.
fn timed(send: impl FnOnce() -> Answer) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = send();
    (answer, started.elapsed())
}

#[test]
fn a_database_outage_is_a_fast_503_and_the_server_recovers_without_a_restart() {
    let cluster = PrivateCluster::start();
    let mut server = start_server(&cluster, "30");
    let invoice_id = create_invoice(&server);
    let items = format!("/invoices/{invoice_id}/items");
    let before = call(&server, "POST", &items, Some(&item(12, 2)));
    assert_eq!(before.status, 201, "{}", before.body);

    cluster.stop();

    let (health, health_took) = timed(|| exchange(server.port, "GET", "/health", &[], None));
    assert_database_unavailable(&health, "/health");
    let (write, write_took) = timed(|| call(&server, "POST", &items, Some(&item(3, 1))));
    assert_database_unavailable(&write, &items);
    // The database is now known to be away: the next write is answered without waiting for a
    // connection (how fast is reported, not asserted).
    let (again, again_took) = timed(|| call(&server, "POST", &items, Some(&item(3, 1))));
    assert_database_unavailable(&again, &items);
    let invoice_path = format!("/invoices/{invoice_id}");
    let (read, read_took) = timed(|| call(&server, "GET", &invoice_path, None));
    assert_database_unavailable(&read, &invoice_path);
    // A key the server has not seen yet must be looked up: the database being away is still a
    // 503, never a 401 that would tell the client its key is wrong.
    let unknown_key = [("REB-APIKEY", "sk_sandbox_neverseenneverseenneverseen00")];
    let unseen = exchange(server.port, "GET", &invoice_path, &unknown_key, None);
    assert_database_unavailable(&unseen, &invoice_path);
    assert!(server.is_running(), "the server must outlive the outage");
    eprintln!(
        "outage with DATABASE_ACQUIRE_TIMEOUT_SECS={ACQUIRE_TIMEOUT_SECS}: /health 503 in {health_took:?}, \
         POST item 503 in {write_took:?}, then 503 in {again_took:?}, GET invoice 503 in {read_took:?}"
    );

    cluster.restart();
    let back = Instant::now();
    let mut refused = 0;
    let after = loop {
        let answer = call(&server, "POST", &items, Some(&item(3, 1)));
        if answer.status == 201 {
            break answer;
        }
        // Until the server has a connection again, every answer is the outage's 503.
        assert_database_unavailable(&answer, &items);
        refused += 1;
        assert!(
            back.elapsed() < PATIENCE,
            "no write succeeded within {PATIENCE:?} of the database coming back"
        );
        thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "database back: first write 201 after {:?} ({refused} 503s before it)",
        back.elapsed()
    );
    assert_eq!(after.json()["price"], 3, "{}", after.body);

    let invoice = call(&server, "GET", &invoice_path, None);
    assert_eq!(invoice.status, 200, "{}", invoice.body);
    let invoice = invoice.json();
    let ids: Vec<&Value> = invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["id"])
        .collect();
    assert_eq!(
        ids,
        [&before.json()["id"], &after.json()["id"]],
        "{invoice}"
    );
    assert_eq!(invoice["subtotalAmount"], 27, "{invoice}");
    assert_eq!(invoice["amount"], 27, "{invoice}");
    assert_eq!(invoice["revision"], 2, "{invoice}");
    let health = exchange(server.port, "GET", "/health", &[], None);
    assert_eq!(health.status, 200, "{}", health.body);
}

#[test]
fn the_first_read_and_the_first_write_of_an_outage_do_not_wait_for_the_pool() {
    let cluster = PrivateCluster::start();
    // A pool that waits this long for a connection would keep the first requests of an outage
    // waiting as long: their 503 must come from the database found away, long before.
    let acquire_timeout = Duration::from_secs(120);
    let mut server = start_server_waiting(&cluster, "600", "120");
    let invoice_id = create_invoice(&server);
    let invoice_path = format!("/invoices/{invoice_id}");
    let items = format!("{invoice_path}/items");

    cluster.stop();
    let (read, read_took) = timed(|| call(&server, "GET", &invoice_path, None));
    assert_database_unavailable(&read, &invoice_path);
    assert!(read_took < acquire_timeout / 4, "{read_took:?}");
    cluster.restart();
    wait_until_healthy(&server);

    cluster.stop();
    let (write, write_took) = timed(|| call(&server, "POST", &items, Some(&item(3, 1))));
    assert_database_unavailable(&write, &items);
    assert!(write_took < acquire_timeout / 4, "{write_took:?}");
    assert!(server.is_running());
    eprintln!(
        "outage with DATABASE_ACQUIRE_TIMEOUT_SECS=120: the first read 503 in {read_took:?}, \
         the first write (after the database came back and went again) 503 in {write_took:?}"
    );
    cluster.restart();
    wait_until_healthy(&server);
    let invoice = call(&server, "GET", &invoice_path, None);
    assert_eq!(invoice.json()["items"], json!([]), "{}", invoice.body);
}

/// A transaction of the test's that holds an invoice's row lock, so that a write to the invoice
/// is in the middle of its statements, waiting on the database, for as long as the test likes.
struct HeldLock {
    runtime: tokio::runtime::Runtime,
    connection: PgConnection,
    /// The holder's session.
    holder: i32,
    /// Another session, which sees the waiters: inside the holder's transaction PostgreSQL
    /// shows `pg_stat_activity` as it was at the transaction's first look.
    watcher: PgConnection,
}

impl HeldLock {
    fn on_invoice(cluster: &PrivateCluster, invoice_id: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut connection = runtime
            .block_on(PgConnection::connect(&cluster.url("invoice_api")))
            .unwrap();
        let watcher = runtime
            .block_on(PgConnection::connect(&cluster.url("invoice_api")))
            .unwrap();
        let holder = runtime.block_on(async {
            sqlx::query("begin").execute(&mut connection).await.unwrap();
            sqlx::query("select id from invoices where id = $1 for update")
                .bind(invoice_id)
                .execute(&mut connection)
                .await
                .unwrap();
            sqlx::query_scalar("select pg_backend_pid()")
                .fetch_one(&mut connection)
                .await
                .unwrap()
        });
        Self {
            runtime,
            connection,
            holder,
            watcher,
        }
    }

    /// Returns once a statement of the server waits for the lock.
    fn wait_for_a_waiter(&mut self) {
        let since = Instant::now();
        loop {
            let waiting: i64 = self
                .runtime
                .block_on(
                    sqlx::query_scalar(
                        "select count(*) from pg_stat_activity
                         where $1 = any(pg_blocking_pids(pid))",
                    )
                    .bind(self.holder)
                    .fetch_one(&mut self.watcher),
                )
                .unwrap();
            if waiting > 0 {
                return;
            }
            assert!(since.elapsed() < PATIENCE, "no write waited on the lock");
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn release(mut self) {
        self.runtime
            .block_on(sqlx::query("rollback").execute(&mut self.connection))
            .unwrap();
    }
}

/// Posts an item from another thread, timed.
fn post_item_in_background(
    server: &ServerProcess,
    path: &str,
) -> thread::JoinHandle<(Answer, Duration)> {
    let (port, path) = (server.port, path.to_owned());
    thread::spawn(move || {
        let body = item(5, 1);
        timed(|| exchange(port, "POST", &path, &[("REB-APIKEY", KEY)], Some(&body)))
    })
}

#[test]
fn a_database_that_dies_in_the_middle_of_a_request_is_a_503_not_a_hang() {
    let cluster = PrivateCluster::start();
    // Far longer than the test waits: a 503 must come from the lost connection, not the timeout.
    let mut server = start_server(&cluster, "600");
    let invoice_id = create_invoice(&server);
    let items = format!("/invoices/{invoice_id}/items");
    let mut lock = HeldLock::on_invoice(&cluster, &invoice_id);
    let write = post_item_in_background(&server, &items);
    lock.wait_for_a_waiter();

    cluster.crash();
    let (answer, took) = write.join().unwrap();
    assert_database_unavailable(&answer, &items);
    eprintln!(
        "database killed under a waiting write: 503 after {took:?} (REQUEST_TIMEOUT_SECS=600)"
    );
    assert!(server.is_running());
    drop(lock);

    // Back after a crash (PostgreSQL replays its log), the server serves again by itself, and
    // the interrupted write kept nothing.
    cluster.restart();
    wait_until_healthy(&server);
    let invoice = call(&server, "GET", &format!("/invoices/{invoice_id}"), None);
    assert_eq!(invoice.status, 200, "{}", invoice.body);
    assert_eq!(invoice.json()["items"], json!([]), "{}", invoice.body);
    assert_eq!(invoice.json()["revision"], 0, "{}", invoice.body);
}

#[test]
fn a_database_that_stops_answering_is_a_503_within_the_timeouts_and_the_server_recovers() {
    let cluster = PrivateCluster::start();
    let mut server = start_server(&cluster, "3");
    let invoice_id = create_invoice(&server);
    let items = format!("/invoices/{invoice_id}/items");
    let mut lock = HeldLock::on_invoice(&cluster, &invoice_id);
    let write = post_item_in_background(&server, &items);
    lock.wait_for_a_waiter();

    // No connection closes, nothing answers: only the server's own timeouts can end a request.
    cluster.freeze();
    let (waiting_write, waiting_took) = write.join().unwrap();
    assert_eq!(waiting_write.status, 503, "{}", waiting_write.body);
    assert_eq!(
        waiting_write.json()["detail"],
        "The request took longer than 3 seconds and was abandoned; nothing it began was kept. \
         Retry later.",
        "{}",
        waiting_write.body
    );
    // The connection the invoice was created on waits idle in the pool, leading to the frozen
    // database: checked before use, it costs the acquire timeout, not the request timeout.
    let (new_write, new_write_took) = timed(|| call(&server, "POST", &items, Some(&item(3, 1))));
    assert_database_unavailable(&new_write, &items);
    let (health, health_took) = timed(|| exchange(server.port, "GET", "/health", &[], None));
    assert_database_unavailable(&health, "/health");
    assert!(server.is_running());
    eprintln!(
        "database frozen (REQUEST_TIMEOUT_SECS=3, DATABASE_ACQUIRE_TIMEOUT_SECS={ACQUIRE_TIMEOUT_SECS}): \
         the write caught waiting 503 after {waiting_took:?}, a new write 503 in {new_write_took:?}, \
         /health 503 in {health_took:?}"
    );

    cluster.thaw();
    lock.release();
    wait_until_healthy(&server);
    let after = call(&server, "POST", &items, Some(&item(3, 1)));
    assert_eq!(after.status, 201, "{}", after.body);
    let invoice = call(&server, "GET", &format!("/invoices/{invoice_id}"), None).json();
    assert_eq!(invoice["items"].as_array().unwrap().len(), 1, "{invoice}");
    assert_eq!(invoice["subtotalAmount"], 3, "{invoice}");
    assert_eq!(invoice["revision"], 1, "{invoice}");
}

/// Polls `/health` until it is 200; until then every answer must be the outage's 503.
fn wait_until_healthy(server: &ServerProcess) {
    let since = Instant::now();
    loop {
        let health = exchange(server.port, "GET", "/health", &[], None);
        if health.status == 200 {
            return;
        }
        assert_database_unavailable(&health, "/health");
        assert!(since.elapsed() < PATIENCE, "/health did not recover");
        thread::sleep(Duration::from_millis(100));
    }
}
