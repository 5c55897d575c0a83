//! Item creates and replacements coalesced into shared transactions: each write still hears
//! its own outcome, the totals and events come out as if each had run alone, and a busy
//! invoice holds up no other.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use axum::http::Method;

use crate::helpers::{TestApp, hold_invoice_lock, request};
use invoice_api::service::item_batches::ItemLanes;

/// Polls `ready` every 10 ms, for at most 10 s.
async fn wait_for(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    for _ in 0..1000 {
        if ready().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("waited 10 s for {what}");
}

/// How many statements of this database whose text matches the LIKE `pattern` wait for a lock.
async fn waiting_for_a_lock(pool: &PgPool, pattern: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and query like $1",
    )
    .bind(pattern)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The test app with one lane, so that every write queues behind the first, and its lanes.
async fn one_lane_app(pool: &PgPool) -> (Arc<TestApp>, Arc<ItemLanes>) {
    let mut lanes = None;
    let app = TestApp::configured(pool.clone(), |state| {
        let one = Arc::new(ItemLanes::new(state.db.clone(), 1));
        lanes = Some(Arc::clone(&one));
        state.with(|parts| parts.item_writes = one)
    })
    .await;
    (Arc::new(app), lanes.unwrap())
}

/// A transaction holding the events table, which every batch writes last: a batch started
/// meanwhile waits there, holding its invoices, until the transaction ends.
async fn hold_events_table(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("lock table invoice_events in share mode")
        .execute(&mut *holder)
        .await
        .unwrap();
    holder
}

/// Makes the invoices `batched` and `alone`, each with `discount`: one for writes queued
/// together, one for the same writes one after another.
async fn batched_and_alone(app: &TestApp, discount: Value) -> [&'static str; 2] {
    let body = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
                      "discounts": [discount]});
    let ids = ["batched", "alone"];
    for id in ids {
        let made = app.put(&format!("/invoices/{id}"), body.clone()).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    ids
}

fn decimal(value: &Value) -> Decimal {
    value.to_string().trim_matches('"').parse().unwrap()
}

/// The sum of an invoice's items' discount shares.
fn discount_shares(invoice: &Value) -> Decimal {
    invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| decimal(&item["discountAmount"]))
        .sum()
}

/// An invoice's items' figures and its totals, to compare two invoices written alike. The
/// items are compared as a set: writes queued together reach their lane in any order.
fn figures(invoice: &Value) -> Value {
    let mut items: Vec<String> = invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let figures = [
                &item["description"],
                &item["unitPrice"],
                &item["quantity"],
                &item["price"],
                &item["discountAmount"],
                &item["tax"],
            ];
            json!(figures).to_string()
        })
        .collect();
    items.sort();
    json!({"items": items, "subtotal": invoice["subtotalAmount"],
           "discount": invoice["discountAmount"], "tax": invoice["tax"],
           "amount": invoice["amount"], "discounts": invoice["discounts"],
           "revision": invoice["revision"]})
}

/// While the first write's batch waits (the test holds the events table), the others queue;
/// they are then done in one transaction, and each is answered its own 200, 201, 404, 409,
/// 412 or 422, as if it had run alone in its turn. The invoices' totals are the sums of their
/// items, and every write has its own event and revision.
#[sqlx::test]
async fn writes_queued_together_share_one_transaction_and_each_hears_its_own_outcome(pool: PgPool) {
    let (app, lanes) = one_lane_app(&pool).await;
    let open = app.create_invoice("USD").await;
    let other = app.create_invoice("USD").await;
    let issued = app.create_invoice("USD").await;
    sqlx::query("update invoices set status = 'unpaid' where id = $1")
        .bind(&issued)
        .execute(&pool)
        .await
        .unwrap();
    let product = app.create_product("Known").await;
    let kept = app
        .post(
            &format!("/invoices/{other}/items"),
            json!({"type": "debit", "unitPrice": 10}),
        )
        .await;
    let kept_id = kept.body["id"].as_str().unwrap().to_owned();
    let first_version = kept.header("etag").unwrap().to_owned();

    let holder = hold_events_table(&pool).await;
    let post = |invoice: &str, body: Value| {
        let app = Arc::clone(&app);
        let path = format!("/invoices/{invoice}/items");
        tokio::spawn(async move { app.post(&path, body).await })
    };
    let put = |invoice: &str, item: &str, body: Value, if_match: &str| {
        let app = Arc::clone(&app);
        let request = request(
            Method::PUT,
            &format!("/invoices/{invoice}/items/{item}"),
            Some(body),
        )
        .header("REB-APIKEY", &app.api_key)
        .header("If-Match", if_match)
        .body_json();
        tokio::spawn(async move { app.send(request).await })
    };
    let first = post(&open, json!({"type": "debit", "unitPrice": 1}));
    wait_for("the first batch to wait for the events table", async || {
        waiting_for_a_lock(&pool, "with event as%").await == 1
    })
    .await;
    let twenty = json!({"type": "debit", "unitPrice": 20});
    let queued = [
        post(
            &open,
            json!({"type": "debit", "unitPrice": 2.5, "quantity": 2}),
        ),
        post(&other, json!({"type": "credit", "unitPrice": 0.75})),
        put(&other, &kept_id, twenty.clone(), &first_version),
        post(
            &open,
            json!({"type": "debit", "unitPrice": 3, "productId": product}),
        ),
        post(
            &other,
            json!({"type": "debit", "unitPrice": 4, "productId": "prod_unknown"}),
        ),
        post(&issued, json!({"type": "debit", "unitPrice": 5})),
        // The replacement before this one moved the item past the version it names.
        put(
            &other,
            &kept_id,
            json!({"type": "debit", "unitPrice": 30}),
            &first_version,
        ),
        put(&open, &kept_id, twenty, "*"),
        post(&open, json!({"type": "debit", "unitPrice": 6})),
    ];
    wait_for("nine writes to queue", async || lanes.queued() == 9).await;
    holder.commit().await.unwrap();

    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let mut answers = Vec::new();
    for answer in queued {
        answers.push(answer.await.unwrap());
    }
    // The queue takes them in whatever order they arrive.
    let won = if answers[2].status == StatusCode::OK {
        2
    } else {
        6
    };
    let lost = 8 - won;
    let statuses: Vec<StatusCode> = answers.iter().map(|answer| answer.status).collect();
    let mut expected = [
        StatusCode::CREATED,
        StatusCode::CREATED,
        StatusCode::OK,
        StatusCode::CREATED,
        StatusCode::UNPROCESSABLE_ENTITY,
        StatusCode::CONFLICT,
        StatusCode::OK,
        StatusCode::NOT_FOUND,
        StatusCode::CREATED,
    ];
    expected[lost] = StatusCode::PRECONDITION_FAILED;
    assert_eq!(statuses, expected, "{answers:#?}");
    assert!(answers[4].text.contains("productId"), "{}", answers[4].text);
    assert_eq!(answers[3].body["productId"], json!(product));
    assert_eq!(answers[won].header("etag"), Some("\"r1\""));
    // Rows written by one transaction carry its id as their `xmin`.
    let transaction_of = async |ids: Vec<&str>| {
        sqlx::query_scalar::<_, String>(
            "select distinct xmin::text from invoice_items where id = any($1)",
        )
        .bind(ids)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let batched: Vec<&str> = [0, 1, won, 3, 8]
        .iter()
        .map(|&i| answers[i].body["id"].as_str().unwrap())
        .collect();
    let shared = transaction_of(batched.clone()).await;
    assert_eq!(shared.len(), 1, "the five writes share one transaction");
    let alone = transaction_of(vec![first.body["id"].as_str().unwrap()]).await;
    assert_ne!(alone, shared);
    // Each write of the batch has its own time, in the order of the revisions.
    let times: i64 = sqlx::query_scalar(
        "select count(distinct updated_time) from invoice_items where id = any($1)",
    )
    .bind(&batched)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(times, 5);

    // open: 1 + 3 creates; other: the kept item, a credit, and the kept item's replacement.
    for (invoice, items, revision) in [(&open, 4, 4), (&other, 2, 3)] {
        let shown = app.invoice(invoice).await;
        let listed = shown["items"].as_array().unwrap();
        assert_eq!(listed.len(), items);
        let sum: Decimal = listed
            .iter()
            .map(|item| {
                let price = decimal(&item["price"]);
                if item["type"] == "credit" {
                    -price
                } else {
                    price
                }
            })
            .sum();
        assert_eq!(decimal(&shown["subtotalAmount"]), sum);
        assert_eq!(decimal(&shown["amount"]), sum);
        assert_eq!(shown["revision"], json!(revision));
        let timeline = app.get(&format!("/invoices/{invoice}/timeline")).await;
        let revisions: Vec<i64> = timeline
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["revision"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (0..=revision).rev().collect();
        assert_eq!(revisions, expected, "one event per write, newest first");
    }
    let replaced = app.get(&format!("/invoices/{other}/items/{kept_id}")).await;
    assert_eq!(replaced.body["price"], answers[won].body["price"]);
    assert_eq!(replaced.body["createdTime"], kept.body["createdTime"]);
    let issued = app.invoice(&issued).await;
    assert_eq!(issued["items"], json!([]));
    assert_eq!(issued["revision"], 0);
}

/// A create into an invoice another transaction holds waits alone: creates into other invoices
/// go on meanwhile, and the waiting one is written once the lock is let go.
#[sqlx::test]
async fn a_create_into_a_locked_invoice_holds_up_no_other_invoice(pool: PgPool) {
    let app = Arc::new(
        TestApp::configured(pool.clone(), |state| {
            let lanes = Arc::new(ItemLanes::new(state.db.clone(), 1));
            state.with(|parts| parts.item_writes = lanes)
        })
        .await,
    );
    let busy = app.create_invoice("USD").await;
    let free = app.create_invoice("USD").await;
    let holder = hold_invoice_lock(&pool, &busy).await;
    let waiting = {
        let app = Arc::clone(&app);
        let path = format!("/invoices/{busy}/items");
        tokio::spawn(async move {
            app.post(&path, json!({"type": "debit", "unitPrice": 1}))
                .await
        })
    };
    wait_for("the create to wait for the invoice's lock", async || {
        waiting_for_a_lock(&pool, "%for update%").await == 1
    })
    .await;
    for price in 1..=3 {
        app.create_item(&free, json!({"type": "debit", "unitPrice": price}))
            .await;
    }
    assert!(!waiting.is_finished());
    holder.commit().await.unwrap();
    let waited = waiting.await.unwrap();
    assert_eq!(waited.status, StatusCode::CREATED, "{}", waited.text);
    let busy = app.invoice(&busy).await;
    assert_eq!(busy["items"].as_array().unwrap().len(), 1);
    assert_eq!(busy["revision"], 1);
    assert_eq!(app.invoice(&free).await["revision"], 3);
}

/// Times in year 0 (ISO's, which PostgreSQL calls 1 BC; a batch writes times as text, and
/// `repository::item_batches` tests that it spells them so) read back the same.
#[sqlx::test]
async fn an_item_of_year_0_reads_back_the_same(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = app.create_invoice("USD").await;
    let body = json!({"type": "debit", "unitPrice": 1,
                      "periodStartTime": "0000-03-01T00:00:00Z",
                      "periodEndTime": "0000-12-31T23:59:59Z"});
    let created = app.create_item(&invoice, body).await;
    let id = created["id"].as_str().unwrap();
    let read = app.get(&format!("/invoices/{invoice}/items/{id}")).await;
    assert_eq!(read.body["periodStartTime"], "0000-03-01T00:00:00Z");
    assert_eq!(read.body["periodEndTime"], "0000-12-31T23:59:59Z");
    assert_eq!(read.body["createdTime"], created["createdTime"]);
}

/// Writes into an invoice with a fixed discount, whose every item moves with each change, are
/// batched too: queued together they share one transaction, and leave every item's figures,
/// the discount's amount and the totals as the same writes one after another do.
#[sqlx::test]
async fn writes_into_a_discounted_invoice_share_a_batch_and_price_as_if_alone(pool: PgPool) {
    let (app, lanes) = one_lane_app(&pool).await;
    let mut invoices = Vec::new();
    for id in batched_and_alone(&app, json!({"type": "fixed", "value": 9})).await {
        let kept = app
            .create_item(id, json!({"type": "debit", "unitPrice": 10}))
            .await;
        let gone = app
            .create_item(id, json!({"type": "debit", "unitPrice": 7}))
            .await;
        let ids = [&kept, &gone].map(|item| item["id"].as_str().unwrap().to_owned());
        invoices.push((id, ids));
    }
    let writes = |invoice: &str, [kept, gone]: &[String; 2]| {
        let items = format!("/invoices/{invoice}/items");
        vec![
            (
                Method::POST,
                items.clone(),
                Some(json!({"type": "debit", "unitPrice": 5})),
            ),
            (
                Method::PUT,
                format!("{items}/{kept}"),
                Some(json!({"type": "debit", "unitPrice": 20, "quantity": 2})),
            ),
            (Method::DELETE, format!("{items}/{gone}"), None),
            (
                Method::POST,
                items,
                Some(json!({"type": "debit", "unitPrice": 3.33})),
            ),
        ]
    };
    let send = |(method, path, body): (Method, String, Option<Value>)| {
        let app = Arc::clone(&app);
        let request = request(method, &path, body)
            .header("REB-APIKEY", &app.api_key)
            .body_json();
        tokio::spawn(async move { app.send(request).await })
    };
    // The control: one after another.
    let (alone, alone_ids) = &invoices[1];
    for write in writes(alone, alone_ids) {
        let answer = send(write).await.unwrap();
        assert!(answer.status.is_success(), "{}", answer.text);
    }
    // The same writes queued behind a batch that waits for the events table.
    let (batched, batched_ids) = &invoices[0];
    let other = app.create_invoice("USD").await;
    let holder = hold_events_table(&pool).await;
    let first = send((
        Method::POST,
        format!("/invoices/{other}/items"),
        Some(json!({"type": "debit", "unitPrice": 1})),
    ));
    wait_for("the first batch to wait for the events table", async || {
        waiting_for_a_lock(&pool, "with event as%").await == 1
    })
    .await;
    let queued: Vec<_> = writes(batched, batched_ids).into_iter().map(send).collect();
    wait_for("four writes to queue", async || lanes.queued() == 4).await;
    holder.commit().await.unwrap();
    assert_eq!(first.await.unwrap().status, StatusCode::CREATED);
    let mut created = Vec::new();
    for answer in queued {
        let answer = answer.await.unwrap();
        assert!(answer.status.is_success(), "{}", answer.text);
        if answer.status == StatusCode::CREATED {
            created.push(answer.body["id"].as_str().unwrap().to_owned());
        }
    }
    let mut written = created.clone();
    written.push(batched_ids[0].clone());
    let transactions: i64 = sqlx::query_scalar(
        "select count(distinct xmin::text) from invoice_items where id = any($1)",
    )
    .bind(&written)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(transactions, 1, "the batch's writes share one transaction");

    let batched = app.invoice(batched).await;
    let alone = app.invoice(alone).await;
    assert_eq!(figures(&batched), figures(&alone));
    assert_eq!(batched["discountAmount"], json!(9));
    assert_eq!(
        discount_shares(&batched),
        Decimal::from(9),
        "the discount is shared out whole"
    );
}

/// A caller that leaves while its batch works (its client hung up, its time ran out) has
/// nothing done: the batch is rolled back and done again without it, and the others' writes
/// are kept.
#[sqlx::test]
async fn a_caller_gone_while_its_batch_works_has_nothing_done(pool: PgPool) {
    let (app, lanes) = one_lane_app(&pool).await;
    let invoice = app.create_invoice("USD").await;
    let product = app.create_product("Held").await;
    let post = |body: Value| {
        let app = Arc::clone(&app);
        let path = format!("/invoices/{invoice}/items");
        tokio::spawn(async move { app.post(&path, body).await })
    };
    // The first write's batch waits for the events table while the others queue behind it.
    let events = hold_events_table(&pool).await;
    let first = post(json!({"type": "debit", "unitPrice": 1}));
    wait_for("the first batch to wait for the events table", async || {
        waiting_for_a_lock(&pool, "with event as%").await == 1
    })
    .await;
    let kept = post(json!({"type": "debit", "unitPrice": 2, "productId": product}));
    let leaving = post(json!({"type": "debit", "unitPrice": 3}));
    wait_for("two writes to queue", async || lanes.queued() == 2).await;
    // Their batch will wait for the product's row, which its item refers to.
    let mut product_row = pool.begin().await.unwrap();
    sqlx::query("select 1 from products where id = $1 for update")
        .bind(&product)
        .execute(&mut *product_row)
        .await
        .unwrap();
    events.commit().await.unwrap();
    assert_eq!(first.await.unwrap().status, StatusCode::CREATED);
    wait_for("the second batch to wait for the product", async || {
        waiting_for_a_lock(&pool, "insert into invoice_items%").await == 1
    })
    .await;
    leaving.abort();
    assert!(leaving.await.unwrap_err().is_cancelled());
    product_row.commit().await.unwrap();
    let kept = kept.await.unwrap();
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text);
    let shown = app.invoice(&invoice).await;
    let prices: Vec<&Value> = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["unitPrice"])
        .collect();
    assert_eq!(
        prices,
        [&json!(1), &json!(2)],
        "the write whose caller left is not kept"
    );
    assert_eq!(shown["revision"], 2);
    assert_eq!(decimal(&shown["amount"]), Decimal::from(3));
}

/// Writes coalesced into one transaction each keep, in their events, the request that made
/// them: `/v1/events` names each item's own request.
#[sqlx::test]
async fn coalesced_writes_each_keep_their_own_request(pool: PgPool) {
    let (app, lanes) = one_lane_app(&pool).await;
    let stripe = crate::stripe_client::Stripe::of(&app);
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_co"), ("currency", "usd")],
        )
        .await;
    let invoice_id = invoice.body["id"].as_str().unwrap().to_owned();
    let holder = hold_events_table(&pool).await;
    let create = |n: usize| {
        let (app, invoice_id) = (Arc::clone(&app), invoice_id.clone());
        tokio::spawn(async move {
            let stripe = crate::stripe_client::Stripe::of(&app);
            let amount = (100 + n).to_string();
            let pairs = [
                ("customer", "cus_co"),
                ("invoice", invoice_id.as_str()),
                ("unit_amount", amount.as_str()),
            ];
            let request_id = format!("req_item_{n}");
            let path = "/v1/invoiceitems";
            crate::stripe_events::post_as(&stripe, path, &pairs, &request_id, None).await
        })
    };
    let first = create(0);
    wait_for("the first batch to wait for the events table", async || {
        waiting_for_a_lock(&pool, "with event as%").await == 1
    })
    .await;
    let queued: Vec<_> = (1..6).map(create).collect();
    wait_for("five writes to queue", async || lanes.queued() == 5).await;
    holder.commit().await.unwrap();
    let mut made = vec![first.await.unwrap()];
    for answer in queued {
        made.push(answer.await.unwrap());
    }
    let path = "/v1/events?type=invoiceitem.created&limit=100";
    let log = crate::stripe_events::settled(&stripe, path, 6).await;
    for (n, answer) in made.iter().enumerate() {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let event = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|event| event["data"]["object"]["id"] == answer.body["id"])
            .unwrap();
        assert_eq!(
            event["request"],
            json!({"id": format!("req_item_{n}"), "idempotency_key": null}),
            "{event}"
        );
    }
}

/// A lane keeps the items its batches leave on a discounted invoice for its next batch. Changes
/// made elsewhere in between (a write with an `Idempotency-Key`, which runs alone; the
/// invoice's discounts and tax rates replaced; an item deleted by a keyed write) are seen by
/// the next batch: every step leaves the invoice with the same items, figures and totals as
/// the same steps on an invoice written by keyed writes alone, which read every item each time.
#[sqlx::test]
async fn items_kept_between_batches_follow_changes_made_elsewhere(pool: PgPool) {
    let (app, _) = one_lane_app(&pool).await;
    let settings = |discount: Value, rate: f64| {
        json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
               "discounts": [discount],
               "tax": {"calculator": "rates", "stateRate": rate, "countyRate": 0.01}})
    };
    let first = settings(json!({"type": "percent", "value": 10}), 0.0625);
    let second = settings(json!({"type": "fixed", "value": 7.77}), 0.07);
    let mut keys = 0;
    let mut write =
        async |invoice: &str, method: Method, path: String, body: Option<Value>, keyed: bool| {
            let mut builder = request(method, &format!("/invoices/{invoice}/items{path}"), body)
                .header("REB-APIKEY", &app.api_key);
            if keyed {
                keys += 1;
                builder = builder.header("Idempotency-Key", &format!("key-{invoice}-{keys}"));
            }
            let answer = app.send(builder.body_json()).await;
            assert!(answer.status.is_success(), "{}", answer.text);
            answer.body
        };
    for id in ["lane", "alone"] {
        let made = app.put(&format!("/invoices/{id}"), first.clone()).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    let item = |n: u32| {
        let unit_price: Value =
            serde_json::from_str(&format!("{}.{:02}", n * 7 % 13 + 1, n * 37 % 100)).unwrap();
        json!({"type": "debit", "description": format!("item {n}"),
               "unitPrice": unit_price, "quantity": n % 3 + 1})
    };
    let mut kept_on_lane = Vec::new();
    for n in 0..6 {
        let keyed_elsewhere = n == 3;
        let lane = write(
            "lane",
            Method::POST,
            String::new(),
            Some(item(n)),
            keyed_elsewhere,
        )
        .await;
        kept_on_lane.push(lane["id"].as_str().unwrap().to_owned());
        let alone = write("alone", Method::POST, String::new(), Some(item(n)), true).await;
        assert_eq!(
            figures(&app.invoice("lane").await),
            figures(&app.invoice("alone").await),
            "after write {n} (alone: {alone})"
        );
        if n == 4 {
            // Replaced elsewhere between two batches: new discounts and tax rates.
            for id in ["lane", "alone"] {
                let replaced = app.put(&format!("/invoices/{id}"), second.clone()).await;
                assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
            }
        }
    }
    // An item deleted by a keyed write, then a batch on the lane.
    let gone = &kept_on_lane[1];
    write("lane", Method::DELETE, format!("/{gone}"), None, true).await;
    let alone_items = app.invoice("alone").await["items"].clone();
    let alone_gone = alone_items
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["description"] == "item 1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    write(
        "alone",
        Method::DELETE,
        format!("/{alone_gone}"),
        None,
        true,
    )
    .await;
    write("lane", Method::POST, String::new(), Some(item(9)), false).await;
    write("alone", Method::POST, String::new(), Some(item(9)), true).await;
    let lane = app.invoice("lane").await;
    assert_eq!(figures(&lane), figures(&app.invoice("alone").await));
    assert_eq!(
        discount_shares(&lane),
        decimal(&lane["discountAmount"]),
        "the discount is shared out whole"
    );
    assert_eq!(lane["items"].as_array().unwrap().len(), 6);
}

/// What a read of an item shows of its version and figures: its `ETag` (its revision), update
/// time and discount share.
async fn version_and_share(app: &TestApp, invoice: &str, item: &str) -> (String, Value, Value) {
    let read = app.get(&format!("/invoices/{invoice}/items/{item}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    (
        read.header("etag").unwrap().to_owned(),
        read.body["updatedTime"].clone(),
        read.body["discountAmount"].clone(),
    )
}

/// On an invoice with a 10% discount of items 1.04 and 1.14 (shares 0.10 and 0.12) and one of
/// no price, replacing the last with 1.03 moves both shares to 0.11, and replacing it back
/// with 0 moves them back. Done one after another, each item is stored twice; queued together
/// in one batch, neither is stored, and both keep their revision and update time. The lane's
/// list keeps those versions too: the next write that moves them stores them one revision on.
#[sqlx::test]
async fn items_a_batch_moves_and_moves_back_keep_their_versions(pool: PgPool) {
    let (app, lanes) = one_lane_app(&pool).await;
    let mut invoices = Vec::new();
    for id in batched_and_alone(&app, json!({"type": "percent", "value": 10})).await {
        let mut items = Vec::new();
        for price in [1.04, 1.14, 0.0] {
            let item = app
                .create_item(id, json!({"type": "debit", "unitPrice": price}))
                .await;
            items.push(item["id"].as_str().unwrap().to_owned());
        }
        invoices.push((id, items));
    }
    let send = |invoice: &str, method: Method, path: String, body: Option<Value>| {
        let app = Arc::clone(&app);
        let path = format!("/invoices/{invoice}/items{path}");
        let request = request(method, &path, body)
            .header("REB-APIKEY", &app.api_key)
            .body_json();
        tokio::spawn(async move { app.send(request).await })
    };
    let replace = |invoice: &str, item: &str, price: f64| {
        send(
            invoice,
            Method::PUT,
            format!("/{item}"),
            Some(json!({"type": "debit", "unitPrice": price})),
        )
    };

    // The control: one after another, each replacement moves both items.
    let (alone, alone_items) = &invoices[1];
    let before = version_and_share(&app, alone, &alone_items[0]).await;
    assert_eq!(before.2, json!(0.1));
    assert_eq!(
        replace(alone, &alone_items[2], 1.03).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(
        version_and_share(&app, alone, &alone_items[0]).await.2,
        json!(0.11)
    );
    assert_eq!(
        replace(alone, &alone_items[2], 0.0).await.unwrap().status,
        StatusCode::OK
    );
    let after = version_and_share(&app, alone, &alone_items[0]).await;
    assert_eq!(after.2, json!(0.1));
    assert_eq!(
        revision(&after.0),
        revision(&before.0) + 2,
        "stored twice, one after another"
    );

    // The same replacements queued in turn behind a batch that waits for the events table.
    let (batched, batched_items) = &invoices[0];
    let mut before = Vec::new();
    for item in &batched_items[..2] {
        before.push(version_and_share(&app, batched, item).await);
    }
    let other = app.create_invoice("USD").await;
    let holder = hold_events_table(&pool).await;
    let first = send(
        &other,
        Method::POST,
        String::new(),
        Some(json!({"type": "debit", "unitPrice": 1})),
    );
    wait_for("the first batch to wait for the events table", async || {
        waiting_for_a_lock(&pool, "with event as%").await == 1
    })
    .await;
    let mut queued = Vec::new();
    for price in [1.03, 0.0] {
        queued.push(replace(batched, &batched_items[2], price));
        let count = queued.len();
        wait_for("the replacement to queue", async || lanes.queued() == count).await;
    }
    holder.commit().await.unwrap();
    assert_eq!(first.await.unwrap().status, StatusCode::CREATED);
    for answer in queued {
        let answer = answer.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    for (item, before) in batched_items.iter().zip(&before) {
        assert_eq!(
            &version_and_share(&app, batched, item).await,
            before,
            "moved and moved back in one batch: not stored"
        );
    }

    // Replacing it with 1.03 again moves both shares to 0.11: one revision on from what they
    // kept.
    let moved = replace(batched, &batched_items[2], 1.03);
    assert_eq!(moved.await.unwrap().status, StatusCode::OK);
    for (item, before) in batched_items.iter().zip(&before) {
        let (etag, _, share) = version_and_share(&app, batched, item).await;
        assert_eq!(share, json!(0.11));
        assert_eq!(revision(&etag), revision(&before.0) + 1);
    }
}

/// Creates queued together into an invoice whose items move together are priced once, with
/// one another: each answer is its item as stored, with the share the creates after it in the
/// batch left it, and the invoice comes out as the same creates one after another leave it.
/// On an invoice with a 10% discount, a create of 1.04 has a share of 0.10 alone, and 0.11 once
/// creates of 1.14 and 1.03 follow it.
#[sqlx::test]
async fn creates_queued_together_are_priced_once_and_each_answer_is_its_item_as_stored(
    pool: PgPool,
) {
    let (app, lanes) = one_lane_app(&pool).await;
    let [batched, alone] = batched_and_alone(&app, json!({"type": "percent", "value": 10})).await;
    let prices = [1.04, 1.14, 1.03];
    let create = |invoice: &str, price: f64| {
        let app = Arc::clone(&app);
        let body = json!({"type": "debit", "unitPrice": price});
        let request = request(
            Method::POST,
            &format!("/invoices/{invoice}/items"),
            Some(body),
        )
        .header("REB-APIKEY", &app.api_key)
        .body_json();
        tokio::spawn(async move { app.send(request).await })
    };
    // The control: one after another.
    let first_alone = create(alone, prices[0]).await.unwrap();
    assert_eq!(first_alone.body["discountAmount"], json!(0.1), "alone");
    for price in &prices[1..] {
        assert_eq!(
            create(alone, *price).await.unwrap().status,
            StatusCode::CREATED
        );
    }

    // The same creates queued in turn behind a batch that waits for the events table.
    let other = app.create_invoice("USD").await;
    let holder = hold_events_table(&pool).await;
    let first = create(&other, 1.0);
    wait_for("the first batch to wait for the events table", async || {
        waiting_for_a_lock(&pool, "with event as%").await == 1
    })
    .await;
    let mut queued = Vec::new();
    for price in prices {
        queued.push(create(batched, price));
        let count = queued.len();
        wait_for("the create to queue", async || lanes.queued() == count).await;
    }
    holder.commit().await.unwrap();
    assert_eq!(first.await.unwrap().status, StatusCode::CREATED);
    let mut answers = Vec::new();
    for answer in queued {
        let answer = answer.await.unwrap();
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answers.push(answer);
    }
    assert_eq!(
        answers[0].body["discountAmount"],
        json!(0.11),
        "priced with the creates after it"
    );
    for answer in &answers {
        let id = answer.body["id"].as_str().unwrap();
        let stored = version_and_share(&app, batched, id).await;
        let answered = (
            answer.header("etag").unwrap().to_owned(),
            answer.body["updatedTime"].clone(),
            answer.body["discountAmount"].clone(),
        );
        assert_eq!(answered, stored, "the answer is the item as stored");
    }
    assert_eq!(
        figures(&app.invoice(batched).await),
        figures(&app.invoice(alone).await)
    );
}

/// The revision an item's `ETag` names (`"r3"`).
fn revision(etag: &str) -> i64 {
    etag.trim_matches('"')
        .trim_start_matches('r')
        .parse()
        .unwrap()
}

/// An item write's statements are planned once on a connection, not at each execution: the
/// invoice's lock and its totals look rows up by arrays of keys, which PostgreSQL would
/// otherwise plan again for each array it is given. Read from the one connection's own
/// prepared statements (behind a transaction-mode pooler statements end with their
/// transaction, so there is nothing to read), and from the statistics, that the plans look
/// the invoices up by key.
#[sqlx::test]
async fn an_item_writes_statements_are_planned_once_per_connection(pool: PgPool) {
    let Some(one) = one_connection(&pool).await else {
        return;
    };
    let app = TestApp::new(one.clone()).await;
    let invoice = app.create_invoice("USD").await;
    let item = app
        .create_item(&invoice, json!({"type": "debit", "unitPrice": 1}))
        .await;
    let before = write_plans(&one).await;
    for price in 2..=8 {
        app.create_item(&invoice, json!({"type": "debit", "unitPrice": price}))
            .await;
    }
    let path = format!("/invoices/{invoice}/items/{}", item["id"].as_str().unwrap());
    for price in 9..=16 {
        let replaced = app
            .put(&path, json!({"type": "debit", "unitPrice": price}))
            .await;
        assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    }
    let after = write_plans(&one).await;
    // The invoice's lock, the item's upsert, the totals and the events.
    let first_lines: Vec<&str> = after
        .keys()
        .filter_map(|text| text.lines().next())
        .collect();
    assert_eq!(first_lines.len(), 4, "{first_lines:?}");
    for (statement, (generic, custom)) in &after {
        let (generic_before, custom_before) = before.get(statement).copied().unwrap_or_default();
        assert_eq!(
            *custom, custom_before,
            "planned at each execution: {statement}"
        );
        assert!(*generic > generic_before, "{statement}");
    }
    assert_eq!(app.invoice(&invoice).await["revision"], 16);
    // Planned for any arguments, the totals and the events would have read the whole table.
    assert_eq!(
        plans_reading_invoices_whole(&one).await,
        Vec::<String>::new()
    );
}

/// An item write moves its invoice's totals without touching the invoices' indexes: no column
/// they hold or are conditioned on changes, and the row's page has room, so PostgreSQL keeps
/// each new version of the row on its page (a heap-only update). Read from the statistics.
#[sqlx::test]
async fn an_item_writes_totals_update_leaves_the_invoices_indexes_alone(pool: PgPool) {
    let Some(one) = one_connection(&pool).await else {
        return;
    };
    let app = TestApp::new(one.clone()).await;
    let invoice = app.create_invoice("USD").await;
    let (updated_before, heap_only_before) = invoice_updates(&one).await;
    for price in 1..=5 {
        app.create_item(&invoice, json!({"type": "debit", "unitPrice": price}))
            .await;
    }
    let (updated, heap_only) = invoice_updates(&one).await;
    assert_eq!(updated - updated_before, 5);
    assert_eq!(heap_only - heap_only_before, 5);
    assert_eq!(app.invoice(&invoice).await["amount"], 15);
}

/// A pool of one connection to `pool`'s database, whose own state (its prepared statements,
/// its statistics not yet sent) a test can read; none behind a transaction-mode pooler, where
/// each transaction may run on another server connection.
async fn one_connection(pool: &PgPool) -> Option<PgPool> {
    if crate::helpers::pooler_port().is_some() {
        return None;
    }
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    Some(one)
}

/// Sends the statistics of the one connection of `pool` now: a connection otherwise sends
/// them at most once a second.
async fn send_statistics(pool: &PgPool) {
    sqlx::query("select pg_stat_force_next_flush()")
        .execute(pool)
        .await
        .unwrap();
}

/// How many times the invoices' rows were updated, and how many of those updates were
/// heap-only, on the one connection of `pool`.
async fn invoice_updates(pool: &PgPool) -> (i64, i64) {
    send_statistics(pool).await;
    sqlx::query_as(
        "select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where relname = 'invoices'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The first lines of the statements of an item write whose plan for any arguments, kept by
/// the one connection of `pool`, reads the invoices whole: each is `EXPLAIN`ed with that plan
/// (its arguments null, which such a plan does not look at), in a transaction that would plan
/// it as a write does, were the kept plan gone.
async fn plans_reading_invoices_whole(pool: &PgPool) -> Vec<String> {
    let mut connection = pool.acquire().await.unwrap();
    let statements: Vec<(String, String, i32)> = sqlx::query_as(
        "select name, statement, cardinality(parameter_types) from pg_prepared_statements
         where (statement like '%for update skip locked%'
            or statement like '%update invoices v set subtotal_amount%'
            or statement like '%insert into invoice_events%')
           and statement not like '%pg_prepared_statements%'",
    )
    .fetch_all(&mut *connection)
    .await
    .unwrap();
    assert_eq!(statements.len(), 3, "{statements:?}");
    let mut whole = Vec::new();
    for (name, statement, parameters) in statements {
        sqlx::raw_sql(
            "begin; set local plan_cache_mode = force_generic_plan; \
             set local enable_seqscan = off",
        )
        .execute(&mut *connection)
        .await
        .unwrap();
        let arguments = vec!["null"; usize::try_from(parameters).unwrap()].join(", ");
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "explain execute {name}({arguments})"
        )))
        .fetch_all(&mut *connection)
        .await
        .unwrap();
        sqlx::raw_sql("rollback")
            .execute(&mut *connection)
            .await
            .unwrap();
        if plan
            .iter()
            .any(|line| line.contains("Seq Scan on invoices"))
        {
            whole.push(statement.lines().next().unwrap_or_default().to_owned());
        }
    }
    whole
}

/// The plans made so far of the statements that write an item, on the one connection of
/// `pool`: by each statement's text, how many generic and how many custom.
async fn write_plans(pool: &PgPool) -> std::collections::HashMap<String, (i64, i64)> {
    sqlx::query_as::<_, (String, i64, i64)>(
        "select statement, generic_plans, custom_plans from pg_prepared_statements
         where (statement like '%for update skip locked%'
            or statement like '%update invoices v set subtotal_amount%'
            or statement like '%insert into invoice_items%'
            or statement like '%insert into invoice_events%')
           and statement not like '%pg_prepared_statements%'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(statement, generic, custom)| (statement, (generic, custom)))
    .collect()
}

/// The server's connections plan a statement outside a transaction once (an item page's), and
/// every other transaction's statements as PostgreSQL chooses (an invoice listing's count,
/// whose filters are optional): read from the one connection's own prepared statements.
#[sqlx::test]
async fn reads_by_key_are_planned_once_and_listings_for_their_filters(pool: PgPool) {
    if crate::helpers::pooler_port().is_some() {
        return;
    }
    let one = invoice_api::startup::connect(
        (*pool.connect_options()).clone(),
        1,
        Duration::from_secs(5),
        invoice_api::repository::Planning::Once,
    )
    .await
    .unwrap();
    let app = TestApp::new(one.clone()).await;
    let invoice = app.create_invoice("USD").await;
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": 1}))
        .await;
    for _ in 0..8 {
        let page = app
            .get(&format!("/invoices/{invoice}/items?limit=20"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let listing = app.get("/invoices?limit=5").await;
        assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    }
    let plans = |pattern: &'static str| {
        let one = one.clone();
        async move {
            sqlx::query_as::<_, (i64, i64)>(
                "select generic_plans, custom_plans from pg_prepared_statements
                 where statement like $1 and statement not like '%pg_prepared_statements%'",
            )
            .bind(pattern)
            .fetch_one(&one)
            .await
            .unwrap()
        }
    };
    let (generic, custom) = plans("%select (select count(*) from invoice_items%").await;
    assert_eq!(custom, 0, "an item page planned at each execution");
    assert!(generic >= 1);
    let (_, custom) = plans("%select count(*) as \"total!\" from invoices%").await;
    assert!(custom >= 5, "an invoice listing planned once: {custom}");
}
