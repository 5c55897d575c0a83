//! SIGTERM under load, against the real binary: the server stops taking connections, finishes
//! the requests in flight, exits cleanly, and every write it acknowledged is stored.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{database_url, hold_invoice_lock};
use crate::process::{HttpConnection, ServerProcess, exchange};

const KEY: &str = "sk_sandbox_shutdownshutdownshutdown00000";
const CLIENTS: usize = 8;
/// Creates acknowledged before the signal is sent.
const ACKS_BEFORE_SIGTERM: usize = 200;
/// How long anything may take: a guard against a hang, never a measure of speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// A create the server answered 201.
struct Ack {
    item_id: String,
    invoice_id: String,
    price: i64,
    at: Instant,
}

/// What one client saw.
#[derive(Default)]
struct Outcome {
    acks: Vec<Ack>,
    /// Answers other than 201, and connection failures before the signal: each is a defect.
    failures: Vec<String>,
    /// Connections lost after the signal, which a client of a stopping server must expect.
    lost_after_sigterm: usize,
    /// Whether the client still reached the server long after the signal.
    gave_up: bool,
}

/// A client posting items to one invoice until the server refuses its connection: over one
/// connection kept alive, or a new connection for each create.
struct Client {
    port: u16,
    number: usize,
    invoice_id: String,
    keep_alive: bool,
    terminating: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
}

impl Client {
    fn run(self) -> Outcome {
        let path = format!("/invoices/{}/items", self.invoice_id);
        let mut headers = vec![("REB-APIKEY", KEY)];
        if !self.keep_alive {
            headers.push(("Connection", "close"));
        }
        let mut outcome = Outcome::default();
        let mut connection: Option<HttpConnection> = None;
        let mut terminating_since: Option<Instant> = None;
        for sent in 1_i64.. {
            let terminating = self.terminating.load(Ordering::SeqCst);
            if terminating
                && terminating_since.get_or_insert_with(Instant::now).elapsed() > PATIENCE
            {
                outcome.gave_up = true;
                break;
            }
            let mut open = match connection.take() {
                Some(open) => open,
                None => match HttpConnection::open(self.port) {
                    Ok(open) => open,
                    // Refused: the server no longer listens, which is what the client waits for.
                    Err(_) if terminating => break,
                    Err(error) => {
                        outcome.failures.push(format!("connect: {error}"));
                        break;
                    }
                },
            };
            // Distinct prices, so that a wrong sum cannot hide behind equal ones.
            let unit_price = i64::try_from(self.number).unwrap() * 1_000_000 + sent;
            let body = json!({"type": "debit", "unitPrice": unit_price});
            match open.send("POST", &path, &headers, Some(&body)) {
                Ok(answer) if answer.status == 201 => {
                    let item = answer.json();
                    outcome.acks.push(Ack {
                        item_id: item["id"].as_str().unwrap().to_owned(),
                        invoice_id: self.invoice_id.clone(),
                        price: unit_price,
                        at: Instant::now(),
                    });
                    self.acknowledged.fetch_add(1, Ordering::SeqCst);
                    if self.keep_alive && open.is_open() {
                        connection = Some(open);
                    }
                }
                Ok(answer) => outcome
                    .failures
                    .push(format!("{} {}", answer.status, answer.body)),
                Err(_) if self.terminating.load(Ordering::SeqCst) => {
                    outcome.lost_after_sigterm += 1;
                }
                Err(error) => {
                    outcome.failures.push(format!("send: {error}"));
                    break;
                }
            }
        }
        outcome
    }
}

fn create_invoice(port: u16) -> String {
    let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
    let created = exchange(
        port,
        "POST",
        "/invoices",
        &[("REB-APIKEY", KEY)],
        Some(&body),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_str().unwrap().to_owned()
}

/// How many sessions wait for a lock that the session `holder` holds. (Creates on the other
/// invoice wait on each other's locks too; those are not counted.) Asked outside the holder's
/// transaction: inside one, PostgreSQL shows `pg_stat_activity` as it was at the transaction's
/// first look, so a waiter that came later would never be seen.
async fn waiting_for(pool: &PgPool, holder: i32) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
    )
    .bind(holder)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn sigterm_under_load_finishes_the_requests_in_flight_and_keeps_every_acknowledged_write(
    pool: PgPool,
) {
    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", &database_url(&pool)),
        ("BOOTSTRAP_ORGANIZATION_ID", "org_shutdown"),
        ("BOOTSTRAP_API_KEY", KEY),
        ("REQUEST_TIMEOUT_SECS", "30"),
        // Writes are limited per organization; this test makes more than one window allows.
        ("RATE_LIMIT_REQUESTS", "0"),
    ]);
    let port = server.port;
    let held = create_invoice(port);
    let free = create_invoice(port);
    let terminating = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|number| {
            let client = Client {
                port,
                number,
                invoice_id: if number % 2 == 0 { &held } else { &free }.clone(),
                keep_alive: number < CLIENTS / 2,
                terminating: terminating.clone(),
                acknowledged: acknowledged.clone(),
            };
            thread::spawn(move || client.run())
        })
        .collect();

    let started = Instant::now();
    while acknowledged.load(Ordering::SeqCst) < ACKS_BEFORE_SIGTERM {
        assert!(
            started.elapsed() < PATIENCE,
            "only {} creates acknowledged in {PATIENCE:?}",
            acknowledged.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Hold one invoice's row lock, so that creates on it are certainly in flight, waiting,
    // when the signal comes, however fast the machine.
    let mut lock = hold_invoice_lock(&pool, &held).await;
    let holder: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *lock)
        .await
        .unwrap();
    let locked = Instant::now();
    while waiting_for(&pool, holder).await == 0 {
        assert!(locked.elapsed() < PATIENCE, "no create waited on the lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    terminating.store(true, Ordering::SeqCst);
    let sigterm_at = Instant::now();
    server.terminate();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            sigterm_at.elapsed() < PATIENCE,
            "the server still takes connections {PATIENCE:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        server.is_running(),
        "the server exited with requests still in flight"
    );
    let released_at = Instant::now();
    lock.rollback().await.unwrap();

    let outcomes: Vec<Outcome> = clients
        .into_iter()
        .map(|client| client.join().unwrap())
        .collect();
    let exit = server.wait_for_exit(PATIENCE);
    let stopped_after = sigterm_at.elapsed();
    assert!(exit.success(), "graceful exit: {exit:?}");

    let failures: Vec<&String> = outcomes.iter().flat_map(|o| &o.failures).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        outcomes.iter().all(|o| !o.gave_up),
        "a client still reached the server long after SIGTERM"
    );
    let acks: Vec<&Ack> = outcomes.iter().flat_map(|o| &o.acks).collect();
    let after_sigterm = acks.iter().filter(|ack| ack.at > sigterm_at).count();
    // Creates on the held invoice that were in flight, waiting for the lock, when the signal came.
    let finished_after_release = acks
        .iter()
        .filter(|ack| ack.invoice_id == held && ack.at > released_at)
        .count();
    let lost: usize = outcomes.iter().map(|o| o.lost_after_sigterm).sum();
    assert!(
        finished_after_release > 0,
        "the creates waiting on the lock when SIGTERM came were not answered 201"
    );

    let stored: HashMap<String, (String, Decimal)> =
        sqlx::query_as::<_, (String, String, Decimal)>(
            "select id, invoice_id, price from invoice_items",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, invoice_id, price)| (id, (invoice_id, price)))
        .collect();
    for ack in &acks {
        assert_eq!(
            stored.get(&ack.item_id),
            Some(&(ack.invoice_id.clone(), Decimal::from(ack.price))),
            "acknowledged item {} is not stored as answered",
            ack.item_id
        );
    }
    let totals: Vec<(String, Decimal, Decimal, i64, i64)> = sqlx::query_as(
        "select v.id, v.subtotal_amount, coalesce(sum(i.price), 0), v.revision, count(i.id)
         from invoices v
         left join invoice_items i on i.organization_id = v.organization_id and i.invoice_id = v.id
         group by v.organization_id, v.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(totals.len(), 2);
    for (invoice_id, subtotal, sum_of_prices, revision, items) in totals {
        assert_eq!(subtotal, sum_of_prices, "subtotal of {invoice_id}");
        assert_eq!(revision, items, "revision of {invoice_id}");
    }
    eprintln!(
        "SIGTERM under load ({CLIENTS} clients): {} creates acknowledged, {after_sigterm} of them \
         after SIGTERM ({finished_after_release} were creates that waited on the held invoice's \
         lock through the signal); {} items stored; {lost} client connections lost \
         after SIGTERM; the server exited {stopped_after:?} after SIGTERM",
        acks.len(),
        stored.len(),
    );
}
