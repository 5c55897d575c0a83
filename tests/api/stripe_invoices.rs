//! `/v1/invoices`: Stripe's invoice flow over the same invoices as the Rebilly routes, and the
//! hostile inputs of the dialect's readers.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse};
use crate::stripe_client::{Stripe, assert_stripe_error};

fn ids(page: &TestResponse) -> Vec<String> {
    data_ids(&page.body)
}

fn data_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|object| object["id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test]
async fn an_invoice_takes_in_pending_items_is_finalized_and_voided(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let seats = stripe
        .create(&[
            ("customer", "cus_9"),
            ("currency", "usd"),
            ("unit_amount", "1250"),
            ("quantity", "2"),
        ])
        .await;
    let credit = stripe
        .create(&[
            ("customer", "cus_9"),
            ("currency", "usd"),
            ("amount", "-500"),
        ])
        .await;
    let other = stripe
        .create(&[
            ("customer", "cus_9"),
            ("currency", "eur"),
            ("amount", "100"),
        ])
        .await;
    let created = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_9"),
                ("currency", "usd"),
                ("description", "December"),
                ("pending_invoice_items_behavior", "include"),
                ("due_date", "1798761600"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let invoice = &created.body;
    let id = invoice["id"].as_str().unwrap();
    assert_eq!(invoice["object"], "invoice");
    assert_eq!(invoice["status"], "draft");
    assert_eq!(
        (
            invoice["subtotal"].clone(),
            invoice["total"].clone(),
            invoice["amount_due"].clone()
        ),
        (json!(2000), json!(2000), json!(2000))
    );
    assert_eq!(
        (
            invoice["currency"].clone(),
            invoice["customer"].clone(),
            invoice["description"].clone()
        ),
        (json!("usd"), json!("cus_9"), json!("December"))
    );
    assert_eq!(invoice["due_date"], 1798761600);
    assert_eq!(invoice["number"], Value::Null);
    let lines = invoice["lines"]["data"].as_array().unwrap();
    let line_items: Vec<&Value> = lines.iter().map(|line| &line["invoice_item"]).collect();
    assert_eq!(line_items, [&credit["id"], &seats["id"]], "newest first");
    assert_eq!(lines[0]["object"], "line_item");
    assert_eq!(lines[0]["amount"], -500);
    assert_eq!(invoice["lines"]["url"], format!("/v1/invoices/{id}/lines"));
    // The items now read on their invoice on both dialects; the other currency's stays pending.
    let moved = stripe
        .get(&format!(
            "/v1/invoiceitems/{}",
            seats["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(moved.body["invoice"], id);
    let rebilly = app.invoice(id).await;
    assert_eq!(
        (
            rebilly["amount"].clone(),
            rebilly["websiteId"].clone(),
            rebilly["notes"].clone()
        ),
        (json!(20), json!("v1"), json!("December"))
    );
    let still = stripe
        .get(&format!(
            "/v1/invoiceitems/{}",
            other["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(still.body["invoice"], Value::Null);
    // `exclude`, the default, makes an empty draft.
    let empty = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_9"), ("currency", "eur")],
        )
        .await;
    assert_eq!(empty.body["lines"]["data"], json!([]), "{}", empty.text);
    // Finalize: open and numbered; the Rebilly side sees it issued.
    let finalized = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    assert_eq!(finalized.body["status"], "open");
    assert!(finalized.body["number"].is_string());
    assert!(finalized.body["status_transitions"]["finalized_at"].is_i64());
    assert_eq!(app.invoice(id).await["status"], "unpaid");
    // Its items no longer change, and it cannot be finalized twice.
    let frozen = stripe
        .post(
            &format!("/v1/invoiceitems/{}", seats["id"].as_str().unwrap()),
            &[("quantity", "1")],
        )
        .await;
    assert_stripe_error(&frozen, StatusCode::BAD_REQUEST, None, None);
    let again = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    assert_stripe_error(&again, StatusCode::BAD_REQUEST, None, None);
    let voided = stripe.post(&format!("/v1/invoices/{id}/void"), &[]).await;
    assert_eq!(voided.body["status"], "void", "{}", voided.text);
    assert!(voided.body["status_transitions"]["voided_at"].is_i64());
    let read = stripe.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(read.body, voided.body);
    // An uncollectible one is Rebilly's abandoned. It bills something: finalized with nothing
    // to pay, it would be paid.
    stripe
        .create(&[
            ("customer", "cus_8"),
            ("currency", "usd"),
            ("amount", "500"),
        ])
        .await;
    let open = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_8"),
                ("currency", "usd"),
                ("pending_invoice_items_behavior", "include"),
            ],
        )
        .await;
    let open_id = open.body["id"].as_str().unwrap();
    stripe
        .post(&format!("/v1/invoices/{open_id}/finalize"), &[])
        .await;
    let given_up = stripe
        .post(&format!("/v1/invoices/{open_id}/mark_uncollectible"), &[])
        .await;
    assert_eq!(
        given_up.body["status"], "uncollectible",
        "{}",
        given_up.text
    );
    assert_eq!(app.invoice(open_id).await["status"], "abandoned");
}

#[sqlx::test]
async fn invoices_list_newest_first_by_cursor_and_customer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let mut made = Vec::new();
    for customer in ["cus_a", "cus_b", "cus_a", "cus_a"] {
        let invoice = stripe
            .post(
                "/v1/invoices",
                &[("customer", customer), ("currency", "usd")],
            )
            .await;
        made.push(invoice.body["id"].as_str().unwrap().to_owned());
    }
    let newest: Vec<String> = made.iter().rev().cloned().collect();
    let all = stripe.get("/v1/invoices").await;
    assert_eq!(
        (ids(&all), all.body["url"].clone()),
        (newest.clone(), json!("/v1/invoices"))
    );
    let first = stripe.get("/v1/invoices?limit=2").await;
    assert_eq!(
        (ids(&first), first.body["has_more"].clone()),
        (newest[..2].to_vec(), json!(true))
    );
    let next = stripe
        .get(&format!(
            "/v1/invoices?limit=2&starting_after={}",
            newest[1]
        ))
        .await;
    assert_eq!(
        (ids(&next), next.body["has_more"].clone()),
        (newest[2..].to_vec(), json!(false))
    );
    let back = stripe
        .get(&format!("/v1/invoices?limit=1&ending_before={}", newest[2]))
        .await;
    assert_eq!(
        (ids(&back), back.body["has_more"].clone()),
        (vec![newest[1].clone()], json!(true))
    );
    let customer = stripe.get("/v1/invoices?customer=cus_b").await;
    assert_eq!(ids(&customer), [made[1].clone()]);
    let missing = stripe.get("/v1/invoices?starting_after=in_gone").await;
    assert_stripe_error(
        &missing,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("starting_after"),
    );
    let unknown = stripe.get("/v1/invoices/in_gone").await;
    assert_stripe_error(
        &unknown,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    let no_currency = stripe.post("/v1/invoices", &[("customer", "cus_a")]).await;
    assert_stripe_error(
        &no_currency,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("currency"),
    );
    let unsupported = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_a"),
                ("currency", "usd"),
                ("subscription", "sub_1"),
            ],
        )
        .await;
    assert_stripe_error(
        &unsupported,
        StatusCode::BAD_REQUEST,
        Some("parameter_unknown"),
        Some("subscription"),
    );
}

#[sqlx::test]
async fn hostile_parameters_are_400_naming_them_and_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    let base = [("customer", "cus_1"), ("currency", "usd"), ("amount", "5")];
    let with = |extra: (&'static str, &'static str)| {
        let mut pairs = base.to_vec();
        pairs.push(extra);
        pairs
    };
    // The NUL character, which no stored text may hold, in a value, a key and JSON.
    let nul = stripe
        .post("/v1/invoiceitems", &with(("description", "a\0b")))
        .await;
    assert_stripe_error(&nul, StatusCode::BAD_REQUEST, None, Some("description"));
    let nul_key = stripe
        .post("/v1/invoiceitems", &with(("metadata[a\0]", "1")))
        .await;
    assert_eq!(nul_key.status, StatusCode::BAD_REQUEST, "{}", nul_key.text);
    let nul_json = stripe
        .post_json("/v1/invoiceitems", json!({"customer": "cus_1", "currency": "usd", "amount": 5, "metadata": {"k": "\u{0}"}}))
        .await;
    assert_stripe_error(
        &nul_json,
        StatusCode::BAD_REQUEST,
        None,
        Some("metadata[k]"),
    );
    // Numeric metadata keys are keys, in any order.
    let numeric = stripe.create(&with(("metadata[2024]", "year"))).await;
    assert_eq!(numeric["metadata"], json!({"2024": "year"}));
    // A parameter in the query string of a POST is refused, not dropped.
    let query = stripe
        .send(
            stripe
                .request(Method::POST, "/v1/invoiceitems?amount=7")
                .header("content-type", "application/x-www-form-urlencoded"),
            Body::from(crate::stripe_client::form(&base)),
        )
        .await;
    assert_stripe_error(&query, StatusCode::BAD_REQUEST, None, Some("amount"));
    // A JSON list longer than a form's may be, and an answer that names at most 50.
    let long: Vec<String> = (0..1000).map(|n| format!("x{n}")).collect();
    let listed = stripe
        .post_json(
            "/v1/invoiceitems",
            json!({"customer": "cus_1", "expand": long}),
        )
        .await;
    assert_stripe_error(&listed, StatusCode::BAD_REQUEST, None, Some("expand"));
    let unknown: serde_json::Map<String, Value> =
        (0..500).map(|n| (format!("p{n}"), json!(1))).collect();
    let many = stripe
        .post_json("/v1/invoiceitems", Value::Object(unknown))
        .await;
    assert_eq!(many.status, StatusCode::BAD_REQUEST, "{}", many.text);
    assert_eq!(many.body["invalidFields"].as_array().unwrap().len(), 50);
    let empty_price_data = stripe
        .post("/v1/invoiceitems", &with(("price_data", "")))
        .await;
    assert_stripe_error(
        &empty_price_data,
        StatusCode::BAD_REQUEST,
        None,
        Some("price_data"),
    );
    let duplicate = stripe
        .send(
            stripe
                .request(Method::POST, "/v1/invoiceitems")
                .header("content-type", "application/json"),
            Body::from(r#"{"customer":"cus_1","metadata":{"a":"1","a":"2"}}"#),
        )
        .await;
    assert_stripe_error(
        &duplicate,
        StatusCode::BAD_REQUEST,
        None,
        Some("metadata[a]"),
    );
    let count: i64 = sqlx::query_scalar("select count(*) from pending_items")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the one good create wrote");
}

#[sqlx::test]
async fn an_invoice_keeps_its_metadata_through_a_rebilly_update(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let created = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("metadata[order]", "42"),
                ("metadata[team]", "billing"),
                ("metadata[dropped]", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(
        created.body["metadata"],
        json!({"order": "42", "team": "billing"})
    );
    let id = created.body["id"].as_str().unwrap();
    let changed = app
        .put(
            &format!("/invoices/{id}"),
            json!({"customerId": "cus_1", "websiteId": "v1", "currency": "USD", "notes": "Later"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let read = stripe.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(
        (
            read.body["metadata"].clone(),
            read.body["description"].clone()
        ),
        (json!({"order": "42", "team": "billing"}), json!("Later"))
    );
    let in_json = stripe
        .post_json(
            "/v1/invoices",
            json!({"customer": "cus_1", "currency": "usd", "metadata": {"n": 7}}),
        )
        .await;
    // JSON values have the parameter's type: a metadata value is a string.
    assert_stripe_error(&in_json, StatusCode::BAD_REQUEST, None, Some("metadata[n]"));
    for (body, code, param) in [
        (
            json!({"customer": "cus_1", "currency": "usd", "description": false}),
            None,
            "description",
        ),
        (json!({"customer": 7, "currency": "usd"}), None, "customer"),
        (
            json!({"customer": "cus_1", "currency": "usd", "due_date": "1798761600"}),
            Some("parameter_invalid_integer"),
            "due_date",
        ),
    ] {
        let mistyped = stripe.post_json("/v1/invoices", body).await;
        assert_stripe_error(&mistyped, StatusCode::BAD_REQUEST, code, Some(param));
    }
    let long_value = "v".repeat(501);
    let too_long = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("metadata[team]", &long_value),
            ],
        )
        .await;
    assert_stripe_error(
        &too_long,
        StatusCode::BAD_REQUEST,
        None,
        Some("metadata[team]"),
    );
    let keys: Vec<(String, String)> = (0..51)
        .map(|n| (format!("metadata[k{n}]"), "x".to_owned()))
        .collect();
    let mut pairs: Vec<(&str, &str)> = vec![("customer", "cus_1"), ("currency", "usd")];
    pairs.extend(
        keys.iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    );
    let too_many = stripe.post("/v1/invoices", &pairs).await;
    assert_stripe_error(&too_many, StatusCode::BAD_REQUEST, None, Some("metadata"));
    let listed = stripe.get("/v1/invoices?customer=cus_1").await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );
}

#[sqlx::test]
async fn an_invoice_shows_its_ten_newest_lines_and_pages_the_rest(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_3"), ("currency", "usd")],
        )
        .await;
    let id = invoice.body["id"].as_str().unwrap().to_owned();
    let mut made = Vec::new();
    let mut last_write = Value::Null;
    for amount in 1..=12 {
        let item = stripe
            .post(
                "/v1/invoiceitems",
                &[
                    ("customer", "cus_3"),
                    ("invoice", &id),
                    ("amount", &amount.to_string()),
                    ("expand[]", "invoice"),
                ],
            )
            .await;
        made.push(item.body["id"].as_str().unwrap().to_owned());
        let shown = &item.body["invoice"]["lines"];
        assert_eq!(
            (
                shown["data"].as_array().unwrap().len(),
                shown["has_more"].clone()
            ),
            (amount.min(10), json!(amount > 10)),
            "a write's expanded invoice after {amount} items: {}",
            item.text
        );
        last_write = item.body["invoice"]["lines"].clone();
    }
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    let read = stripe.get(&format!("/v1/invoices/{id}")).await;
    let lines = &read.body["lines"];
    assert_eq!(data_ids(lines), newest_first[..10]);
    assert_eq!(lines["has_more"], true, "{}", read.text);
    assert_eq!(
        read.body["total"], 78,
        "the totals count every item, shown or not"
    );
    assert_eq!(
        last_write, *lines,
        "the last write showed what a read shows"
    );
    // The same ten on an item's expanded invoice, on a list of invoices, and on a write.
    let expanded = stripe
        .get(&format!("/v1/invoiceitems/{}?expand=invoice", made[0]))
        .await;
    assert_eq!(
        expanded.body["invoice"]["lines"], *lines,
        "{}",
        expanded.text
    );
    let listed = stripe.get("/v1/invoices?customer=cus_3").await;
    assert_eq!(listed.body["data"][0]["lines"], *lines);
    // The lines' URL pages through all of them, both ways, as an items list does.
    let url = lines["url"].as_str().unwrap();
    assert_eq!(url, format!("/v1/invoices/{id}/lines"));
    let first = stripe.get(&format!("{url}?limit=5")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["object"], "list");
    assert_eq!(first.body["url"], url);
    assert_eq!(ids(&first), newest_first[..5]);
    assert_eq!(first.body["has_more"], true);
    let last = stripe
        .get(&format!(
            "{url}?limit=10&starting_after={}",
            newest_first[4]
        ))
        .await;
    assert_eq!(ids(&last), newest_first[5..]);
    assert_eq!(last.body["has_more"], false);
    assert_eq!(last.body["data"][6]["amount"], 1);
    let back = stripe
        .get(&format!("{url}?limit=3&ending_before={}", newest_first[4]))
        .await;
    assert_eq!(ids(&back), newest_first[1..4]);
    assert_eq!(back.body["has_more"], true);
    // A missing invoice is 404 on its id, a missing cursor 400 on its parameter.
    let missing = stripe.get("/v1/invoices/in_nope/lines").await;
    assert_stripe_error(
        &missing,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    let lost = stripe.get(&format!("{url}?starting_after=ii_nope")).await;
    assert_stripe_error(
        &lost,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("starting_after"),
    );
    let elsewhere = stripe
        .create(&[("customer", "cus_3"), ("currency", "usd"), ("amount", "1")])
        .await;
    let other_cursor = stripe
        .get(&format!(
            "{url}?starting_after={}",
            elsewhere["id"].as_str().unwrap()
        ))
        .await;
    assert_stripe_error(
        &other_cursor,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("starting_after"),
    );
    let finalized = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    assert_eq!(finalized.body["lines"], *lines, "{}", finalized.text);
    let unknown = stripe.get(&format!("{url}?customer=cus_3")).await;
    assert_stripe_error(
        &unknown,
        StatusCode::BAD_REQUEST,
        Some("parameter_unknown"),
        Some("customer"),
    );
}

#[sqlx::test]
async fn an_invoice_sent_for_payment_falls_due_its_days_after_it_is_finalized(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let created = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("collection_method", "send_invoice"),
                ("days_until_due", "30"),
                ("auto_advance", "false"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.body["collection_method"], "send_invoice");
    assert_eq!(created.body["days_until_due"], 30);
    assert_eq!(created.body["auto_advance"], false);
    assert_eq!(created.body["due_date"], Value::Null);
    let id = created.body["id"].as_str().unwrap().to_owned();
    stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("amount", "2500"),
                ("invoice", &id),
            ],
        )
        .await;
    // A Rebilly replace keeps what the other dialect set.
    let replaced = app
        .put(
            &format!("/invoices/{id}"),
            json!({"customerId": "cus_1", "websiteId": "v1", "currency": "USD", "notes": "Net 30"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let finalized = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    let finalized_at = finalized.body["status_transitions"]["finalized_at"]
        .as_i64()
        .unwrap();
    assert_eq!(
        finalized.body["due_date"].as_i64(),
        Some(finalized_at + 30 * 86_400),
        "{}",
        finalized.text
    );
    assert_eq!(finalized.body["collection_method"], "send_invoice");
    // The Rebilly routes read the same due time: it can fall past due.
    let read = app.invoice(&id).await;
    assert!(read["dueTime"].is_string(), "{read}");

    // Charged automatically (the default), it keeps no due date.
    let automatic = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_1"), ("currency", "usd")],
        )
        .await;
    assert_eq!(automatic.body["collection_method"], "charge_automatically");
    assert_eq!(automatic.body["days_until_due"], Value::Null);
}

/// Parameters added to a create, the code of its refusal, and the parameter it names.
type Refusal<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str);

#[sqlx::test]
async fn collection_parameters_are_paired_as_stripe_pairs_them(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let base = [("customer", "cus_1"), ("currency", "usd")];
    let cases: [Refusal; 6] = [
        (
            &[("collection_method", "send_invoice")],
            Some("parameter_missing"),
            "days_until_due",
        ),
        (&[("days_until_due", "5")], None, "days_until_due"),
        (
            &[
                ("collection_method", "send_invoice"),
                ("days_until_due", "5"),
                ("due_date", "4102444800"),
            ],
            None,
            "days_until_due",
        ),
        (
            &[
                ("collection_method", "send_invoice"),
                ("days_until_due", "-1"),
            ],
            None,
            "days_until_due",
        ),
        (
            &[("collection_method", "by_mail")],
            None,
            "collection_method",
        ),
        (&[("auto_advance", "true")], None, "auto_advance"),
    ];
    for (extra, code, param) in cases {
        let mut pairs = base.to_vec();
        pairs.extend_from_slice(extra);
        let refused = stripe.post("/v1/invoices", &pairs).await;
        assert_stripe_error(&refused, StatusCode::BAD_REQUEST, code, Some(param));
    }
    let listed = stripe.get("/v1/invoices").await;
    assert_eq!(listed.body["data"], json!([]), "nothing was made");
    // A due date alone is enough for an invoice sent for payment.
    let dated = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("collection_method", "send_invoice"),
                ("due_date", "4102444800"),
            ],
        )
        .await;
    assert_eq!(dated.status, StatusCode::OK, "{}", dated.text);
    assert_eq!(dated.body["due_date"], 4_102_444_800_i64);
}

#[sqlx::test]
async fn invoices_list_by_status_collection_and_dates(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let make = |pairs: Vec<(&'static str, String)>| {
        let stripe = &stripe;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let made = stripe.post("/v1/invoices", &pairs).await;
            assert_eq!(made.status, StatusCode::OK, "{}", made.text);
            made.body["id"].as_str().unwrap().to_owned()
        }
    };
    let base = || {
        vec![
            ("customer", "cus_f".to_owned()),
            ("currency", "usd".to_owned()),
        ]
    };
    let draft = make(base()).await;
    let mut sent = base();
    sent.extend([
        ("collection_method", "send_invoice".to_owned()),
        ("due_date", "4102444800".to_owned()),
    ]);
    let sent = make(sent).await;
    let open = make(base()).await;
    stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_f"),
                ("currency", "usd"),
                ("amount", "700"),
                ("invoice", &open),
            ],
        )
        .await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{open}/finalize"), &[])
        .await;
    assert_eq!(finalized.body["status"], "open", "{}", finalized.text);
    let ids_of = |path: String| {
        let stripe = &stripe;
        async move {
            let page = stripe.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
            data_ids(&page.body)
        }
    };
    assert_eq!(
        ids_of("/v1/invoices?status=open".into()).await,
        vec![open.clone()]
    );
    assert_eq!(
        ids_of("/v1/invoices?status=draft".into()).await,
        [sent.clone(), draft.clone()]
    );
    assert_eq!(
        ids_of("/v1/invoices?collection_method=send_invoice".into()).await,
        vec![sent.clone()]
    );
    assert_eq!(
        ids_of("/v1/invoices?due_date[gte]=4102444800".into()).await,
        vec![sent.clone()]
    );
    assert_eq!(
        ids_of("/v1/invoices?due_date=4102444800".into()).await,
        vec![sent.clone()]
    );
    assert!(
        ids_of("/v1/invoices?due_date[lt]=4102444800".into())
            .await
            .is_empty()
    );
    let all = ids_of("/v1/invoices?created[gte]=0".into()).await;
    assert_eq!(all, [open.clone(), sent.clone(), draft.clone()]);
    assert!(ids_of("/v1/invoices?created[lt]=1".into()).await.is_empty());
    assert!(ids_of("/v1/invoices?status=paid".into()).await.is_empty());
    let bad = stripe.get("/v1/invoices?status=pending").await;
    assert_stripe_error(&bad, StatusCode::BAD_REQUEST, None, Some("status"));
    let bad = stripe.get("/v1/invoices?due_date[gt]=-5").await;
    assert_stripe_error(&bad, StatusCode::BAD_REQUEST, None, Some("due_date[gt]"));
}

#[sqlx::test]
async fn an_invoice_without_a_currency_takes_the_organizations_default(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let path = format!("/organizations/{}", crate::helpers::ORGANIZATION);
    let none_yet = stripe.post("/v1/invoices", &[("customer", "cus_d")]).await;
    assert_stripe_error(
        &none_yet,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("currency"),
    );
    let set = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"defaultCurrency": "EUR"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["defaultCurrency"], "EUR");
    let made = stripe.post("/v1/invoices", &[("customer", "cus_d")]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    assert_eq!(made.body["currency"], "eur");
    // A currency named still wins.
    let named = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_d"), ("currency", "usd")],
        )
        .await;
    assert_eq!(named.body["currency"], "usd");
    let bad = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"defaultCurrency": "EURO"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.body["invalidFields"][0]["field"], "defaultCurrency");
    let cleared = app
        .call(Method::PATCH, &path, Some(json!({"defaultCurrency": null})))
        .await;
    assert_eq!(cleared.body["defaultCurrency"], Value::Null);
}

#[sqlx::test]
async fn a_draft_is_updated_field_by_field_and_a_finalized_one_is_not(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let made = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_u"),
                ("currency", "usd"),
                ("metadata[order]", "7"),
            ],
        )
        .await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/invoices/{id}");
    let updated = stripe
        .post(
            &path,
            &[
                ("description", "Net 14"),
                ("collection_method", "send_invoice"),
                ("days_until_due", "14"),
                ("metadata[team]", "ops"),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["description"], "Net 14");
    assert_eq!(updated.body["collection_method"], "send_invoice");
    assert_eq!(updated.body["days_until_due"], 14);
    assert_eq!(
        updated.body["metadata"],
        json!({"order": "7", "team": "ops"})
    );
    // A due date replaces the days; an empty description unsets it.
    let dated = stripe
        .post(&path, &[("due_date", "4102444800"), ("description", "")])
        .await;
    assert_eq!(dated.body["due_date"], 4_102_444_800_i64, "{}", dated.text);
    assert_eq!(dated.body["days_until_due"], Value::Null);
    assert_eq!(dated.body["description"], Value::Null);
    // The Rebilly routes read the same invoice.
    let read = app.invoice(&id).await;
    assert_eq!(read["dueTime"], "2100-01-01T00:00:00Z");
    // Charged automatically with days until due does not fit.
    let misfit = stripe
        .post(
            &path,
            &[
                ("collection_method", "charge_automatically"),
                ("days_until_due", "3"),
            ],
        )
        .await;
    assert_stripe_error(
        &misfit,
        StatusCode::BAD_REQUEST,
        None,
        Some("days_until_due"),
    );
    let unknown = stripe.post(&path, &[("currency", "eur")]).await;
    assert_stripe_error(
        &unknown,
        StatusCode::BAD_REQUEST,
        Some("parameter_unknown"),
        Some("currency"),
    );
    let missing = stripe
        .post("/v1/invoices/in_none", &[("description", "x")])
        .await;
    assert_stripe_error(
        &missing,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_u"),
                ("currency", "usd"),
                ("amount", "900"),
                ("invoice", &id),
            ],
        )
        .await;
    let finalized = stripe.post(&format!("{path}/finalize"), &[]).await;
    assert_eq!(finalized.body["status"], "open", "{}", finalized.text);
    let late = stripe.post(&path, &[("description", "Too late")]).await;
    assert_stripe_error(&late, StatusCode::BAD_REQUEST, None, None);
}

/// `lines.data.invoice_item` shows each line's item as `GET /v1/invoiceitems/{id}` does, on
/// every answer that is an invoice; on a list the path starts at `data.`.
#[sqlx::test]
async fn each_lines_item_expands_in_place_of_its_id_on_every_invoice_answer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let pending = stripe
        .create(&[
            ("customer", "cus_5"),
            ("currency", "usd"),
            ("amount", "1500"),
            ("description", "Seats"),
        ])
        .await;
    let item_id = pending["id"].as_str().unwrap().to_owned();
    let expand = ("expand[]", "lines.data.invoice_item");
    let created = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_5"),
                ("currency", "usd"),
                ("pending_invoice_items_behavior", "include"),
                expand,
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let item = stripe.get(&format!("/v1/invoiceitems/{item_id}")).await;
    assert_eq!(
        item.body["invoice"],
        json!(id),
        "the item's invoice stays an id"
    );
    let expanded_item = |answer: &Value| answer["lines"]["data"][0]["invoice_item"].clone();
    assert_eq!(expanded_item(&created.body), item.body, "{}", created.text);
    let plain = stripe.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(expanded_item(&plain.body), json!(item_id));
    let read = stripe
        .get(&format!(
            "/v1/invoices/{id}?expand[]=lines.data.invoice_item"
        ))
        .await;
    assert_eq!(expanded_item(&read.body), item.body, "{}", read.text);
    let mut read_back = read.body.clone();
    read_back["lines"]["data"][0]["invoice_item"] = json!(item_id);
    assert_eq!(read_back, plain.body, "nothing else changes");
    let listed = stripe
        .get("/v1/invoices?customer=cus_5&expand[]=data.lines.data.invoice_item")
        .await;
    assert_eq!(
        expanded_item(&listed.body["data"][0]),
        item.body,
        "{}",
        listed.text
    );
    let lines = stripe
        .get(&format!(
            "/v1/invoices/{id}/lines?expand[]=data.invoice_item"
        ))
        .await;
    assert_eq!(
        lines.body["data"][0]["invoice_item"], item.body,
        "{}",
        lines.text
    );
    let updated = stripe
        .post_json(
            &format!("/v1/invoices/{id}"),
            json!({"description": "May", "expand": ["lines.data.invoice_item"]}),
        )
        .await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[expand])
        .await;
    let paid = stripe
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("paid_out_of_band", "true"), expand],
        )
        .await;
    for (write, member, value) in [
        (updated, "description", "May"),
        (finalized, "status", "open"),
        (paid, "status", "paid"),
    ] {
        assert_eq!(
            (write.body[member].clone(), expanded_item(&write.body)),
            (json!(value), item.body.clone()),
            "{}",
            write.text
        );
    }
}

/// What is always empty or null here expands to itself; a customer, or any other path, is
/// refused by name before anything is written.
#[sqlx::test]
async fn an_invoices_empty_fields_expand_to_themselves_and_other_paths_change_nothing(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let id = stripe
        .create_invoice(&[("customer", "cus_6"), ("currency", "usd")])
        .await;
    stripe
        .create(&[("customer", "cus_6"), ("invoice", &id), ("amount", "700")])
        .await;
    let plain = stripe.get(&format!("/v1/invoices/{id}")).await;
    let itself = stripe
        .get(&format!(
            "/v1/invoices/{id}?expand[]=discounts&expand[]=test_clock&expand[]=subscription&\
             expand[]=lines.data.discounts&expand[]=lines.data.discount_amounts.discount&\
             expand[]=total_tax_amounts.tax_rate"
        ))
        .await;
    assert_eq!(itself.body, plain.body, "{}", itself.text);
    let lines = stripe.get(&format!("/v1/invoices/{id}/lines")).await;
    let lines_itself = stripe
        .get(&format!(
            "/v1/invoices/{id}/lines?expand[]=data.discounts&expand[]=data.tax_amounts.tax_rate"
        ))
        .await;
    assert_eq!(lines_itself.body, lines.body, "{}", lines_itself.text);
    for (path, refused) in [
        ("customer", format!("/v1/invoices/{id}?expand[]=customer")),
        (
            "data.customer",
            "/v1/invoices?expand[]=data.customer".to_owned(),
        ),
    ] {
        let answer = stripe.get(&refused).await;
        assert_stripe_error(&answer, StatusCode::BAD_REQUEST, None, Some("expand"));
        assert_eq!(
            answer.body["invalidFields"][0]["message"],
            format!("cannot expand {path}: customers are ids here, not objects")
        );
    }
    let eleven = ["expand[]=discounts"; 11].join("&");
    for refused in [
        format!("/v1/invoices/{id}?expand[]=lines.data.subscription"),
        format!("/v1/invoices/{id}?expand[]=invoice_item"),
        format!("/v1/invoices/{id}?{eleven}"),
        "/v1/invoices?expand[]=lines.data.invoice_item".to_owned(),
        format!("/v1/invoices/{id}/lines?expand[]=invoice_item"),
    ] {
        let answer = stripe.get(&refused).await;
        assert_stripe_error(&answer, StatusCode::BAD_REQUEST, None, Some("expand"));
    }
    // A write refused for its `expand` writes nothing: the draft stays a draft, unnumbered.
    let finalized = stripe
        .post(
            &format!("/v1/invoices/{id}/finalize"),
            &[("expand[]", "lines.data.price.product")],
        )
        .await;
    assert_stripe_error(&finalized, StatusCode::BAD_REQUEST, None, Some("expand"));
    assert_eq!(
        finalized.body["invalidFields"][0]["message"],
        "this property cannot be expanded (lines.data.price.product)"
    );
    let paid = stripe
        .post_json(
            &format!("/v1/invoices/{id}/pay"),
            json!({"paid_out_of_band": true, "expand": ["customer"]}),
        )
        .await;
    assert_stripe_error(&paid, StatusCode::BAD_REQUEST, None, Some("expand"));
    let made = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_6"),
                ("currency", "usd"),
                ("expand[]", "lines"),
            ],
        )
        .await;
    assert_stripe_error(&made, StatusCode::BAD_REQUEST, None, Some("expand"));
    let after = stripe.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(after.body, plain.body, "the draft is as it was");
    let listed = stripe.get("/v1/invoices?customer=cus_6").await;
    assert_eq!(ids(&listed), [id], "no invoice was made");
}

/// In JSON, a list is an array: an object where `expand` should be is refused, naming it,
/// before anything is written.
#[sqlx::test]
async fn a_json_expand_that_is_no_array_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let draft = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_js"), ("currency", "usd")],
        )
        .await;
    let id = draft.body["id"].as_str().unwrap();
    for body in [
        json!({"expand": {}}),
        json!({"expand": {"0": "lines.data.invoice_item"}}),
    ] {
        let sent = stripe
            .post_json(&format!("/v1/invoices/{id}/send"), body)
            .await;
        assert_stripe_error(&sent, StatusCode::BAD_REQUEST, None, Some("expand"));
    }
    let read = stripe.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(read.body["status"], "draft");
}
