//! Three server processes on one database, reached through one transaction-mode PgBouncer, and
//! one Redis: concurrent creates, replacements and deletes of the same invoices' items, each
//! item written through all three, leave every total and revision exact; and concurrent
//! payments and refunds applied through all three leave every amount due exact.

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

/// Payments of the settlement replica test: transactions per writer, and the invoices' price.
const PAYMENTS_PER_WRITER: usize = 6;
const INVOICE_PRICE: i64 = 10_000;

/// Sends a write that may be refused by the state others left: `true` when it was applied
/// (200), `false` when refused with 409 or 422 (paid already, nothing left to apply).
fn try_apply(server: &ServerProcess, invoice: &str, body: &Value) -> bool {
    let path = format!("/invoices/{invoice}/transaction");
    let answer = exchange(
        server.port,
        "POST",
        &path,
        &[("REB-APIKEY", KEY)],
        Some(body),
    );
    match answer.status {
        200 => true,
        409 | 422 => false,
        other => panic!("POST {path}: {other} {}", answer.body),
    }
}

/// Issues a credit memo of `cents` for an invoice, allocated to it (as much as fits), through
/// one replica: `true` when issued (201), `false` when refused by the state others left.
fn try_credit(server: &ServerProcess, invoice: &str, cents: i64) -> bool {
    let body = json!({"customerId": "cus_1", "currency": "USD", "invoiceId": invoice,
                      "items": [{"description": "Goodwill",
                                 "unitPrice": Decimal::new(cents, 2).to_string().parse::<f64>().unwrap()}],
                      "allocations": {"invoices": [{"invoiceId": invoice}]}});
    let answer = exchange(
        server.port,
        "POST",
        "/credit-memos",
        &[("REB-APIKEY", KEY)],
        Some(&body),
    );
    match answer.status {
        201 => true,
        409 | 422 => false,
        other => panic!("POST /credit-memos: {other} {}", answer.body),
    }
}

/// One payer: transactions recorded through one replica, each applied (by default as much as
/// fits) to one invoice through the next and to another through the third, now and then part
/// of one given back, and every other round a credit memo taken off a third invoice; how many
/// applications and memos were accepted.
fn pay(servers: &[ServerProcess], writer: usize) -> (usize, usize) {
    let mut accepted = 0;
    let mut credited = 0;
    for round in 0..PAYMENTS_PER_WRITER {
        let server = |step: usize| &servers[(writer + round + step) % servers.len()];
        let cents = 700 + (writer * 37 + round * 11) as i64 % 900;
        let kind = if round % 5 == 4 { "refund" } else { "sale" };
        let body = json!({"type": kind, "customerId": "cus_1", "websiteId": "web_1",
                          "currency": "USD",
                          "amount": Decimal::new(cents, 2).to_string().parse::<f64>().unwrap(),
                          "paymentInstrument": {"method": "cash"}});
        let transaction = send(server(0), "POST", "/transactions", Some(&body));
        let apply = json!({"transactionId": transaction["id"]});
        for step in 1..=2 {
            let invoice = INVOICES[(writer + round + step) % INVOICES.len()];
            accepted += usize::from(try_apply(server(step), invoice, &apply));
        }
        if round % 2 == 1 {
            let invoice = INVOICES[(writer + round + 3) % INVOICES.len()];
            credited += usize::from(try_credit(server(2), invoice, cents / 3));
        }
    }
    (accepted, credited)
}

#[sqlx::test]
async fn three_replicas_apply_concurrent_payments_refunds_and_credits_exactly(pool: PgPool) {
    let pooler = PgBouncer::start_in_front_of(&pool.connect_options());
    let direct = database_url(&pool);
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let pooled = pooler.url(&database);
    let env = [
        ("DATABASE_URL", pooled.as_str()),
        ("DATABASE_DIRECT_URL", direct.as_str()),
        ("DATABASE_TRANSACTION_POOLER", "true"),
        ("DATABASE_MAX_CONNECTIONS", "4"),
        ("BOOTSTRAP_ORGANIZATION_ID", ORGANIZATION),
        ("BOOTSTRAP_API_KEY", KEY),
        ("RATE_LIMIT_REQUESTS", "100000"),
    ];
    let servers: Vec<ServerProcess> = (0..3).map(|_| ServerProcess::start(&env)).collect();
    for invoice in INVOICES {
        let path = format!("/invoices/{invoice}");
        let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
        let created = exchange(
            servers[0].port,
            "PUT",
            &path,
            &[("REB-APIKEY", KEY)],
            Some(&body),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        send(
            &servers[1],
            "POST",
            &format!("{path}/items"),
            Some(&item(INVOICE_PRICE)),
        );
        send(
            &servers[2],
            "POST",
            &format!("{path}/issue"),
            Some(&json!({})),
        );
    }

    let writers = servers.len() * WRITERS_PER_REPLICA;
    let (accepted, credits): (usize, usize) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|writer| {
                let servers = &servers;
                scope.spawn(move || pay(servers, writer))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, c), (applied, credited)| {
                (a + applied, c + credited)
            })
    });
    assert!(credits > 0, "some credit memos were issued");
    // Every memo's unused amount is its total less what it gave invoices, and each invoice's
    // credit is what the memos gave it.
    let memos = send(&servers[1], "GET", "/credit-memos?limit=1000", None);
    let memos = memos.as_array().unwrap();
    assert_eq!(memos.len(), credits, "a memo per issue accepted");
    let mut credit_per_invoice: BTreeMap<String, Decimal> = BTreeMap::new();
    for memo in memos {
        let allocations = memo["allocations"]["invoices"].as_array().unwrap();
        let given: Decimal = allocations.iter().map(|a| amount(&a["amount"])).sum();
        assert_eq!(
            amount(&memo["totalAmount"]) - given,
            amount(&memo["unusedAmount"]),
            "{memo}"
        );
        for allocation in allocations {
            *credit_per_invoice
                .entry(allocation["invoiceId"].as_str().unwrap().to_owned())
                .or_default() += amount(&allocation["amount"]);
        }
    }

    let transactions = send(&servers[0], "GET", "/transactions?limit=1000", None);
    let transactions = transactions.as_array().unwrap();
    assert_eq!(transactions.len(), writers * PAYMENTS_PER_WRITER);
    for transaction in transactions {
        let unused = amount(&transaction["unusedAmount"]);
        assert!(unused >= Decimal::ZERO, "{transaction}");
        assert!(unused <= amount(&transaction["amount"]), "{transaction}");
    }
    let mut allocations_seen = 0;
    let mut applied_per_transaction: BTreeMap<String, Decimal> = BTreeMap::new();
    for invoice in INVOICES {
        let read = send(&servers[1], "GET", &format!("/invoices/{invoice}"), None);
        let allocations = send(
            &servers[2],
            "GET",
            &format!("/invoices/{invoice}/transaction-allocations?limit=1000"),
            None,
        );
        let allocations = allocations.as_array().unwrap();
        allocations_seen += allocations.len();
        let mut paid = Decimal::ZERO;
        let mut refunded = Decimal::ZERO;
        for allocation in allocations {
            let part = amount(&allocation["amount"]);
            match allocation["type"].as_str().unwrap() {
                "sale" => paid += part,
                _ => refunded += part,
            }
            *applied_per_transaction
                .entry(allocation["transactionId"].as_str().unwrap().to_owned())
                .or_default() += part;
        }
        let total = Decimal::new(INVOICE_PRICE, 2);
        let due = amount(&read["amountDue"]);
        let credited: Decimal = read["creditMemoAllocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|credit| amount(&credit["amount"]))
            .sum();
        assert_eq!(
            credited,
            credit_per_invoice.get(invoice).copied().unwrap_or_default(),
            "{invoice}"
        );
        assert_eq!(due, total - paid + refunded - credited, "{invoice}: {read}");
        assert!(due >= Decimal::ZERO && due <= total, "{invoice}: {read}");
        let status = read["status"].as_str().unwrap();
        // Whether a refund leaves an invoice partially paid or partially refunded depends on
        // whether it had been paid in full before: either agrees with the figures.
        let agreeing: &[&str] = if credited > Decimal::ZERO {
            if due.is_zero() {
                &["paid"]
            } else {
                &["partially-paid", "partially-refunded", "refunded"]
            }
        } else if refunded > Decimal::ZERO && paid == refunded {
            &["refunded"]
        } else if due.is_zero() {
            &["paid"]
        } else if refunded > Decimal::ZERO {
            &["partially-paid", "partially-refunded"]
        } else if paid > Decimal::ZERO {
            &["partially-paid"]
        } else {
            &["unpaid"]
        };
        assert!(agreeing.contains(&status), "{invoice}: {read}");
    }
    assert_eq!(
        allocations_seen, accepted,
        "one allocation per accepted application"
    );
    for transaction in transactions {
        let id = transaction["id"].as_str().unwrap();
        let applied = applied_per_transaction.get(id).copied().unwrap_or_default();
        assert_eq!(
            amount(&transaction["amount"]) - applied,
            amount(&transaction["unusedAmount"]),
            "{transaction}"
        );
    }
    for server in &servers {
        let log = server.log();
        assert!(!log.contains("ERROR"), "{log}");
    }
}

/// Invoices that fall past due while no check looks, then found by two replicas at once.
const OVERDUE: usize = 24;

#[sqlx::test]
async fn two_replicas_turn_each_overdue_invoice_past_due_exactly_once(pool: PgPool) {
    let direct = database_url(&pool);
    let env = |interval: &'static str| {
        vec![
            ("DATABASE_URL", direct.clone()),
            ("BOOTSTRAP_ORGANIZATION_ID", ORGANIZATION.to_owned()),
            ("BOOTSTRAP_API_KEY", KEY.to_owned()),
            ("RATE_LIMIT_REQUESTS", "100000".to_owned()),
            ("PAST_DUE_CHECK_INTERVAL_SECS", interval.to_owned()),
        ]
    };
    let start = |env: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ServerProcess::start(&pairs)
    };
    // A server that looks once, at its start, before there is anything to find.
    let writer = start(env("86400"));
    let mut invoices = Vec::new();
    for n in 0..OVERDUE {
        let path = format!("/invoices/overdue-{n}");
        let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
        let created = exchange(
            writer.port,
            "PUT",
            &path,
            &[("REB-APIKEY", KEY)],
            Some(&body),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        send(
            &writer,
            "POST",
            &format!("{path}/items"),
            Some(&item(1_000)),
        );
        let dates =
            json!({"issuedTime": "2026-01-01T00:00:00Z", "dueTime": "2026-02-01T00:00:00Z"});
        send(&writer, "POST", &format!("{path}/issue"), Some(&dates));
        invoices.push(path);
    }
    let unpaid = send(
        &writer,
        "GET",
        "/invoices?filter=status:unpaid&limit=1000",
        None,
    );
    assert_eq!(
        unpaid.as_array().unwrap().len(),
        OVERDUE,
        "nothing looked meanwhile"
    );

    // Two replicas that look every second find them, from their first look on.
    let checkers: Vec<ServerProcess> = (0..2).map(|_| start(env("1"))).collect();
    let mut past_due = 0;
    for _ in 0..300 {
        let found = send(
            &checkers[0],
            "GET",
            "/invoices?filter=status:past-due&limit=1000",
            None,
        );
        past_due = found.as_array().unwrap().len();
        if past_due == OVERDUE {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        past_due, OVERDUE,
        "every overdue invoice turned past due within 30 s"
    );
    // Both keep looking; none of them turns an invoice past due again.
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    for path in &invoices {
        let timeline = send(
            &checkers[1],
            "GET",
            &format!("{path}/timeline?limit=100"),
            None,
        );
        let past_due_events = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|message| message["type"] == "invoice-past-due")
            .count();
        assert_eq!(past_due_events, 1, "{path}: {timeline}");
    }
    for server in checkers.iter().chain([&writer]) {
        let log = server.log();
        assert!(!log.contains("ERROR"), "{log}");
    }
}
