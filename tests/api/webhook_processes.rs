//! Deliveries across server processes: one killed in the middle of a delivery delivers it
//! after its restart; two on one database deliver each event exactly once between them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::database_url;
use crate::process::{ServerProcess, exchange};
use crate::receiver::Receiver;

const ORGANIZATION: &str = "org_hooks";
const KEY: &str = "sk_sandbox_hookshookshookshookshooks0000";

fn env(database: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", database.to_owned()),
        ("BOOTSTRAP_ORGANIZATION_ID", ORGANIZATION.to_owned()),
        ("BOOTSTRAP_API_KEY", KEY.to_owned()),
        ("RATE_LIMIT_REQUESTS", "0".to_owned()),
        ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
        ("WEBHOOK_ATTEMPT_TIMEOUT_MS", "1000".to_owned()),
        ("WEBHOOK_RETRY_INITIAL_DELAY_MS", "200".to_owned()),
    ]
}

fn start(env: &[(&'static str, String)]) -> ServerProcess {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ServerProcess::start(&pairs)
}

fn send(server: &ServerProcess, method: &str, path: &str, body: Option<&Value>) -> Value {
    let answer = exchange(server.port, method, path, &[("REB-APIKEY", KEY)], body);
    assert!(
        (200..300).contains(&answer.status),
        "{method} {path}: {} {}",
        answer.status,
        answer.body
    );
    answer.json()
}

fn new_invoice(server: &ServerProcess) -> String {
    let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
    send(server, "POST", "/invoices", Some(&body))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test]
async fn a_server_killed_during_a_delivery_delivers_it_after_its_restart(pool: PgPool) {
    // The first delivery is never answered: the server is killed while it waits.
    let receiver = Receiver::start(&[0]);
    let env = env(&database_url(&pool));
    let mut first = start(&env);
    let hook = json!({"url": receiver.url(), "method": "POST"});
    send(&first, "POST", "/webhooks", Some(&hook));
    let invoice = new_invoice(&first);
    let held = receiver.wait_for(1).await;
    first.kill();

    let second = start(&env);
    // The killed server's lease runs out (2 x the attempt timeout + 1 s), and the restarted
    // one sends the event again.
    let received = receiver.wait_for(2).await;
    assert_eq!(
        held[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert_eq!(received[1].json()["invoiceId"], json!(invoice));
    let waited = received[1].at - received[0].at;
    eprintln!("redelivered {waited:?} after the kill's held attempt");
    // The attempt is logged once the receiver's answer is back, a moment after it was
    // received: wait for it, within bounds.
    let mut log = send(&second, "GET", "/tracking/webhooks", None);
    for _ in 0..200 {
        if !log.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        log = send(&second, "GET", "/tracking/webhooks", None);
    }
    let statuses: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["status"])
        .collect();
    assert_eq!(
        statuses,
        vec![&json!(200)],
        "the killed attempt logged nothing: {log}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 2);
}

#[sqlx::test]
async fn two_servers_on_one_database_deliver_each_event_exactly_once(pool: PgPool) {
    let receiver = Receiver::start(&[]);
    let env = env(&database_url(&pool));
    let servers = [start(&env), start(&env)];
    let hook = json!({"url": receiver.url(), "method": "POST"});
    send(&servers[0], "POST", "/webhooks", Some(&hook));
    let invoices: Vec<String> = (0..4).map(|n| new_invoice(&servers[n % 2])).collect();
    std::thread::scope(|scope| {
        for (n, invoice) in invoices.iter().enumerate() {
            let servers = &servers;
            scope.spawn(move || {
                for round in 0..25 {
                    let item = json!({"type": "debit", "unitPrice": 1 + round});
                    let path = format!("/invoices/{invoice}/items");
                    send(&servers[(n + round) % 2], "POST", &path, Some(&item));
                }
            });
        }
    });
    let events = invoices.len() * 26;
    let received = receiver.wait_for(events).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received_after = receiver.received();
    assert_eq!(received_after.len(), events, "no event twice");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for delivery in &received {
        *counts
            .entry(delivery.header("webhook-id").to_owned())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), events);
    assert!(counts.values().all(|count| *count == 1));
    // Each attempt is logged once (a moment after its answer came). A page ends at 1 MiB of
    // bodies, and each body holds its invoice as it was when sent: the log is read page by page.
    let mut logged = 0;
    for _ in 0..200 {
        logged = 0;
        loop {
            let path = format!("/tracking/webhooks?limit=1000&offset={logged}");
            let page = send(&servers[1], "GET", &path, None);
            let entries = page.as_array().unwrap().len();
            if entries == 0 {
                break;
            }
            logged += entries;
        }
        if logged >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(logged, events);
}
