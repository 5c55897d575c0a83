//! Three server processes on one database, reached through one transaction-mode PgBouncer, and
//! one Redis: concurrent creates, replacements and deletes of the same invoices' items, each
//! item written through all three, leave every total and revision exact.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::database_url;
use crate::pgbouncer::PgBouncer;
use crate::process::{ServerProcess, exchange};
use crate::redis_server::RedisServer;

const ORGANIZATION: &str = "org_replicas";
const KEY: &str = "sk_sandbox_replicasreplicasreplicas00000";
const INVOICES: [&str; 3] = ["inv-a", "inv-b", "inv-c"];
/// Writers per replica, and the rounds each writer makes.
const WRITERS_PER_REPLICA: usize = 4;
const ROUNDS: usize = 12;

/// What one writer did: per invoice, the writes it made and the items it left with their
/// prices in cents.
#[derive(Default)]
struct Done {
    writes: BTreeMap<&'static str, u64>,
    items: BTreeMap<&'static str, BTreeMap<String, i64>>,
}

fn send(server: &ServerProcess, method: &str, path: &str, body: Option<&Value>) -> Value {
    let answer = exchange(server.port, method, path, &[("REB-APIKEY", KEY)], body);
    let expected = match method {
        "POST" => 201,
        "DELETE" => 204,
        _ => 200,
    };
    assert_eq!(answer.status, expected, "{method} {path}: {}", answer.body);
    if answer.body.is_empty() {
        Value::Null
    } else {
        answer.json()
    }
}

fn item(cents: i64) -> Value {
    let unit_price: Decimal = Decimal::new(cents, 2);
    json!({"type": "debit", "description": "seat", "unitPrice": unit_price.to_string().parse::<f64>().unwrap(), "quantity": 1})
}

/// One writer: round by round, an item created through one replica, replaced through the
/// next, and every third round deleted through the third.
fn write(servers: &[ServerProcess], writer: usize) -> Done {
    let mut done = Done::default();
    for round in 0..ROUNDS {
        let invoice = INVOICES[(writer + round) % INVOICES.len()];
        let server = |step: usize| &servers[(writer + round + step) % servers.len()];
        let items = format!("/invoices/{invoice}/items");
        let first = (writer * 100 + round) as i64 * 7 + 101;
        let created = send(server(0), "POST", &items, Some(&item(first)));
        let id = created["id"].as_str().unwrap().to_owned();
        let path = format!("{items}/{id}");
        let replaced = first + 13;
        send(server(1), "PUT", &path, Some(&item(replaced)));
        *done.writes.entry(invoice).or_default() += 2;
        if round % 3 == 2 {
            send(server(2), "DELETE", &path, None);
            *done.writes.entry(invoice).or_default() += 1;
        } else {
            done.items.entry(invoice).or_default().insert(id, replaced);
        }
    }
    done
}

fn amount(value: &Value) -> Decimal {
    value.to_string().parse().unwrap()
}

#[sqlx::test]
async fn three_replicas_behind_one_pooler_keep_every_total_and_revision(pool: PgPool) {
    let pooler = PgBouncer::start_in_front_of(&pool.connect_options());
    let redis = RedisServer::start();
    let direct = database_url(&pool);
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let pooled = pooler.url(&database);
    let redis_url = redis.url();
    let env = [
        ("DATABASE_URL", pooled.as_str()),
        ("DATABASE_DIRECT_URL", direct.as_str()),
        ("DATABASE_TRANSACTION_POOLER", "true"),
        ("DATABASE_MAX_CONNECTIONS", "4"),
        ("BOOTSTRAP_ORGANIZATION_ID", ORGANIZATION),
        ("BOOTSTRAP_API_KEY", KEY),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_TIMEOUT_MS", "10000"),
        ("RATE_LIMIT_REQUESTS", "100000"),
        // As behind one load balancer.
        ("PUBLIC_URL", "http://invoices.test"),
    ];
    let servers: Vec<ServerProcess> = (0..3).map(|_| ServerProcess::start(&env)).collect();
    for (n, invoice) in INVOICES.iter().enumerate() {
        let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
                          "discounts": [{"type": "percent", "value": 10}],
                          "tax": {"calculator": "rates", "stateRate": 0.0725, "cityRate": 0.01}});
        let answer = exchange(
            servers[n].port,
            "PUT",
            &format!("/invoices/{invoice}"),
            &[("REB-APIKEY", KEY)],
            Some(&body),
        );
        assert_eq!(answer.status, 201, "{}", answer.body);
    }

    let writers = servers.len() * WRITERS_PER_REPLICA;
    let results: Vec<Done> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|writer| {
                let servers = &servers;
                scope.spawn(move || write(servers, writer))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    for invoice in INVOICES {
        let writes: u64 = results.iter().filter_map(|d| d.writes.get(invoice)).sum();
        let expected: BTreeMap<String, i64> = results
            .iter()
            .filter_map(|d| d.items.get(invoice))
            .flat_map(|items| items.clone())
            .collect();
        let read: Vec<Value> = servers
            .iter()
            .map(|server| send(server, "GET", &format!("/invoices/{invoice}"), None))
            .collect();
        assert!(
            read.iter().all(|other| other == &read[0]),
            "every replica reads the same invoice: {read:#?}"
        );
        let read = &read[0];
        assert_eq!(read["revision"], json!(writes), "one revision per write");
        let items = read["items"].as_array().unwrap();
        let shown: BTreeMap<String, i64> = items
            .iter()
            .map(|item| {
                let price = amount(&item["price"]) * Decimal::from(100);
                (
                    item["id"].as_str().unwrap().to_owned(),
                    i64::try_from(price).unwrap(),
                )
            })
            .collect();
        assert_eq!(shown, expected, "{invoice}: the items the writers left");
        let sum = |pick: &dyn Fn(&Value) -> &Value| -> Decimal {
            items.iter().map(|item| amount(pick(item))).sum()
        };
        let subtotal = amount(&read["subtotalAmount"]);
        let discount = amount(&read["discountAmount"]);
        let tax = amount(&read["tax"]["amount"]);
        assert_eq!(
            subtotal,
            Decimal::new(expected.values().sum(), 2),
            "{invoice}"
        );
        assert_eq!(sum(&|item| &item["price"]), subtotal, "{invoice}");
        assert_eq!(sum(&|item| &item["discountAmount"]), discount, "{invoice}");
        assert_eq!(sum(&|item| &item["tax"]["amount"]), tax, "{invoice}");
        assert_eq!(
            amount(&read["amount"]),
            subtotal - discount + tax,
            "{invoice}"
        );
        assert_eq!(discount, (subtotal / Decimal::from(10)).round_dp(2));
    }
    for server in &servers {
        let log = server.log();
        assert!(!log.contains("ERROR"), "{log}");
    }
}
