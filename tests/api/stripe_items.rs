//! `/v1/invoiceitems`: the Stripe-style dialect over the same items as the Rebilly routes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{ORGANIZATION, TestApp, TestResponse};
use crate::stripe_client::{Stripe, assert_stripe_error, basic, form};

#[sqlx::test]
async fn a_pending_item_is_made_in_either_encoding_and_read_back_the_same(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let product = app.create_product("Seats").await;
    let by_form = stripe
        .create(&[
            ("customer", "cus_42"),
            ("currency", "usd"),
            ("unit_amount", "1250"),
            ("quantity", "3"),
            ("description", "Seats"),
            ("metadata[order]", "42"),
            ("metadata[note]", "first & only"),
            ("period[start]", "1767225600"),
            ("period[end]", "1769904000"),
            ("price_data[product]", &product),
            ("subscription", "sub_7"),
        ])
        .await;
    let by_json = stripe
        .post_json(
            "/v1/invoiceitems",
            json!({
                "customer": "cus_42", "currency": "usd", "unit_amount": 1250, "quantity": 3,
                "description": "Seats", "metadata": {"order": "42", "note": "first & only"},
                "period": {"start": 1767225600, "end": 1769904000},
                "price_data": {"product": product}, "subscription": "sub_7",
            }),
        )
        .await;
    assert_eq!(by_json.status, StatusCode::OK, "{}", by_json.text);
    let by_json = by_json.body;
    for item in [&by_form, &by_json] {
        assert!(item["id"].as_str().unwrap().starts_with("ii_"));
        assert_eq!(item["object"], "invoiceitem");
        assert_eq!(item["amount"], 3750);
        assert_eq!(item["unit_amount"], 1250);
        assert_eq!(item["unit_amount_decimal"], "1250");
        assert_eq!(item["quantity"], 3);
        assert_eq!(item["currency"], "usd");
        assert_eq!(item["customer"], "cus_42");
        assert_eq!(item["invoice"], Value::Null);
        assert_eq!(item["livemode"], false);
        assert_eq!(
            item["metadata"],
            json!({"order": "42", "note": "first & only"})
        );
        assert_eq!(
            item["period"],
            json!({"start": 1767225600, "end": 1769904000})
        );
        assert_eq!(item["subscription"], "sub_7");
        assert_eq!(item["price"]["object"], "price");
        assert_eq!(item["price"]["product"], product.as_str());
        assert_eq!(item["price"]["unit_amount"], 1250);
        assert_eq!(item["price"]["type"], "one_time");
        assert_eq!(
            item["price"]["id"].as_str().unwrap()["price_".len()..],
            item["id"].as_str().unwrap()["ii_".len()..]
        );
        assert!(item["date"].as_i64().unwrap() > 1_700_000_000);
        let read = stripe
            .get(&format!(
                "/v1/invoiceitems/{}",
                item["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
        assert_eq!(&read.body, item);
        assert_eq!(read.header("stripe-version"), Some("2024-06-20"));
    }
    let mut form_fields = by_form.as_object().unwrap().clone();
    let mut json_fields = by_json.as_object().unwrap().clone();
    for fields in [&mut form_fields, &mut json_fields] {
        for varying in ["id", "date", "price"] {
            fields.remove(varying);
        }
    }
    assert_eq!(
        form_fields, json_fields,
        "the two encodings make the same item"
    );
}

#[sqlx::test]
async fn amounts_follow_the_rules_and_a_negative_unit_amount_is_a_credit(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let pending = [("customer", "cus_1"), ("currency", "usd")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = pending.to_vec();
        pairs.extend_from_slice(extra);
        pairs
    };
    // `amount` alone: one unit of that amount.
    let alone = stripe.create(&with(&[("amount", "999")])).await;
    assert_eq!(
        (
            alone["amount"].clone(),
            alone["unit_amount"].clone(),
            alone["quantity"].clone()
        ),
        (json!(999), json!(999), json!(1))
    );
    // `amount` with `quantity`: the unit amount is their quotient, which must be whole.
    let split = stripe
        .create(&with(&[("amount", "1000"), ("quantity", "4")]))
        .await;
    assert_eq!(split["unit_amount"], 250);
    let uneven = stripe
        .post(
            "/v1/invoiceitems",
            &with(&[("amount", "1000"), ("quantity", "3")]),
        )
        .await;
    assert_stripe_error(&uneven, StatusCode::BAD_REQUEST, None, Some("amount"));
    // `amount` beside `unit_amount` must be their product.
    let agreeing = stripe
        .create(&with(&[
            ("amount", "1500"),
            ("unit_amount", "500"),
            ("quantity", "3"),
        ]))
        .await;
    assert_eq!(agreeing["amount"], 1500);
    let disagreeing = stripe
        .post(
            "/v1/invoiceitems",
            &with(&[
                ("amount", "1501"),
                ("unit_amount", "500"),
                ("quantity", "3"),
            ]),
        )
        .await;
    assert_stripe_error(&disagreeing, StatusCode::BAD_REQUEST, None, Some("amount"));
    // A negative unit amount is a credit; the Rebilly side shows it as one.
    let credit = stripe
        .create(&with(&[("unit_amount", "-250"), ("quantity", "2")]))
        .await;
    assert_eq!(
        (credit["amount"].clone(), credit["unit_amount"].clone()),
        (json!(-500), json!(-250))
    );
    let negative = stripe.create(&with(&[("amount", "-300")])).await;
    assert_eq!(negative["unit_amount"], -300);
    // No amount at all.
    let none = stripe.post("/v1/invoiceitems", &pending).await;
    assert_stripe_error(
        &none,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("amount"),
    );
    let not_a_number = stripe
        .post("/v1/invoiceitems", &with(&[("amount", "12.5")]))
        .await;
    assert_stripe_error(
        &not_a_number,
        StatusCode::BAD_REQUEST,
        Some("parameter_invalid_integer"),
        Some("amount"),
    );
    let too_big = stripe
        .post(
            "/v1/invoiceitems",
            &with(&[("unit_amount", "100000000001")]),
        )
        .await;
    assert_stripe_error(&too_big, StatusCode::BAD_REQUEST, None, Some("unit_amount"));
    // A pending item needs a currency and a customer.
    let no_currency = stripe
        .post(
            "/v1/invoiceitems",
            &[("customer", "cus_1"), ("amount", "5")],
        )
        .await;
    assert_stripe_error(
        &no_currency,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("currency"),
    );
    let no_customer = stripe
        .post("/v1/invoiceitems", &[("currency", "usd"), ("amount", "5")])
        .await;
    assert_stripe_error(
        &no_customer,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("customer"),
    );
}

#[sqlx::test]
async fn minor_units_convert_exactly_both_ways_by_the_currencys_exponent(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    for (currency, minor_units, unit_price) in [
        ("USD", "1250", "12.5"),
        ("JPY", "1000", "1000"),
        ("BHD", "1250", "1.25"),
    ] {
        let invoice = app.create_invoice(currency).await;
        let lower = currency.to_ascii_lowercase();
        let item = stripe
            .create(&[
                ("customer", "cus_1"),
                ("invoice", &invoice),
                ("unit_amount", minor_units),
                ("currency", &lower),
            ])
            .await;
        assert_eq!(item["invoice"], invoice.as_str());
        assert_eq!(item["unit_amount"].to_string(), minor_units);
        let rebilly = app
            .get(&format!(
                "/invoices/{invoice}/items/{}",
                item["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(rebilly.status, StatusCode::OK, "{}", rebilly.text);
        assert_eq!(
            rebilly.body["unitPrice"].to_string(),
            unit_price,
            "{currency}"
        );
        assert_eq!(rebilly.body["type"], "debit");
    }
    // A unit price finer than the cent reads with its exact decimal and no whole unit amount.
    let invoice = app.create_invoice("USD").await;
    let fine = app
        .create_item(
            &invoice,
            json!({"type": "debit", "unitPrice": 0.333, "quantity": 3}),
        )
        .await;
    let read = stripe
        .get(&format!(
            "/v1/invoiceitems/{}",
            fine["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(read.body["unit_amount"], Value::Null, "{}", read.text);
    assert_eq!(read.body["unit_amount_decimal"], "33.3");
    assert_eq!(read.body["price"]["unit_amount_decimal"], "33.3");
    assert_eq!(read.body["amount"], 100, "round(0.333 * 3) = 1.00");
    // A credit made on the Rebilly side reads negative.
    let credit = app
        .create_item(
            &invoice,
            json!({"type": "credit", "unitPrice": 2, "quantity": 2}),
        )
        .await;
    let read = stripe
        .get(&format!(
            "/v1/invoiceitems/{}",
            credit["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            read.body["amount"].clone(),
            read.body["unit_amount"].clone()
        ),
        (json!(-400), json!(-200))
    );
}

#[sqlx::test]
async fn an_item_made_on_either_dialect_reads_and_changes_on_the_other(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = app.create_invoice("USD").await;
    // Made here, changed there.
    let made_here = stripe
        .create(&[
            ("customer", "cus_1"),
            ("invoice", &invoice),
            ("unit_amount", "500"),
            ("metadata[k]", "v"),
        ])
        .await;
    let id = made_here["id"].as_str().unwrap();
    let path = format!("/invoices/{invoice}/items/{id}");
    let replaced = app
        .put(
            &path,
            json!({"type": "debit", "unitPrice": 7, "quantity": 2}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let read = stripe.get(&format!("/v1/invoiceitems/{id}")).await;
    assert_eq!(
        (read.body["amount"].clone(), read.body["quantity"].clone()),
        (json!(1400), json!(2))
    );
    assert_eq!(
        read.body["metadata"],
        json!({"k": "v"}),
        "a Rebilly PUT keeps what it does not speak of"
    );
    assert_eq!(app.invoice(&invoice).await["amount"], 14);
    // Made there, changed here.
    let made_there = app
        .create_item(
            &invoice,
            json!({"type": "debit", "unitPrice": 3, "quantity": 1}),
        )
        .await;
    let there_id = made_there["id"].as_str().unwrap();
    let updated = stripe
        .post(
            &format!("/v1/invoiceitems/{there_id}"),
            &[("quantity", "5"), ("description", "Five")],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        (
            updated.body["amount"].clone(),
            updated.body["unit_amount"].clone()
        ),
        (json!(1500), json!(300))
    );
    let rebilly = app
        .get(&format!("/invoices/{invoice}/items/{there_id}"))
        .await;
    assert_eq!(
        (
            rebilly.body["quantity"].clone(),
            rebilly.body["description"].clone()
        ),
        (json!(5), json!("Five"))
    );
    assert_eq!(app.invoice(&invoice).await["amount"], 29);
    // Deleted here, gone there, and out of the totals.
    let deleted = stripe.delete(&format!("/v1/invoiceitems/{there_id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        deleted.body,
        json!({"id": there_id, "object": "invoiceitem", "deleted": true})
    );
    assert_eq!(
        app.get(&format!("/invoices/{invoice}/items/{there_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.invoice(&invoice).await["amount"], 14);
    // An issued invoice's items no longer change, on either dialect.
    let issued = app
        .call(Method::POST, &format!("/invoices/{invoice}/issue"), None)
        .await;
    assert!(issued.status.is_success(), "{}", issued.text);
    let refused = stripe
        .post(&format!("/v1/invoiceitems/{id}"), &[("quantity", "9")])
        .await;
    assert_stripe_error(&refused, StatusCode::BAD_REQUEST, None, None);
    let refused = stripe.delete(&format!("/v1/invoiceitems/{id}")).await;
    assert_stripe_error(&refused, StatusCode::BAD_REQUEST, None, None);
    // An invoice of another customer, or in another currency, takes no item here.
    let other = app.create_invoice("EUR").await;
    let wrong_customer = stripe
        .post(
            "/v1/invoiceitems",
            &[("customer", "cus_2"), ("invoice", &other), ("amount", "5")],
        )
        .await;
    assert_stripe_error(
        &wrong_customer,
        StatusCode::BAD_REQUEST,
        None,
        Some("invoice"),
    );
    let wrong_currency = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_1"),
                ("invoice", &other),
                ("currency", "usd"),
                ("amount", "5"),
            ],
        )
        .await;
    assert_stripe_error(
        &wrong_currency,
        StatusCode::BAD_REQUEST,
        None,
        Some("currency"),
    );
    let no_invoice = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_1"),
                ("invoice", "in_missing"),
                ("amount", "5"),
            ],
        )
        .await;
    assert_stripe_error(
        &no_invoice,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("invoice"),
    );
}

#[sqlx::test]
async fn pending_items_change_and_delete_and_stay_out_of_every_invoice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let item = stripe
        .create(&[
            ("customer", "cus_1"),
            ("currency", "eur"),
            ("amount", "700"),
        ])
        .await;
    let id = item["id"].as_str().unwrap();
    let updated = stripe
        .post(
            &format!("/v1/invoiceitems/{id}"),
            &[
                ("unit_amount", "350"),
                ("quantity", "4"),
                ("metadata[a]", "1"),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        (
            updated.body["amount"].clone(),
            updated.body["currency"].clone()
        ),
        (json!(1400), json!("eur"))
    );
    // The item's own price can make another item.
    let price = updated.body["price"]["id"].as_str().unwrap();
    let copy = stripe
        .create(&[("customer", "cus_3"), ("price", price), ("quantity", "2")])
        .await;
    assert_eq!(
        (copy["amount"].clone(), copy["currency"].clone()),
        (json!(700), json!("eur"))
    );
    let no_price = stripe
        .post(
            "/v1/invoiceitems",
            &[("customer", "cus_3"), ("price", "price_nothing")],
        )
        .await;
    assert_stripe_error(
        &no_price,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("price"),
    );
    let currency_change = stripe
        .post(&format!("/v1/invoiceitems/{id}"), &[("currency", "usd")])
        .await;
    assert_stripe_error(
        &currency_change,
        StatusCode::BAD_REQUEST,
        Some("parameter_unknown"),
        Some("currency"),
    );
    let deleted = stripe.delete(&format!("/v1/invoiceitems/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let gone = stripe.get(&format!("/v1/invoiceitems/{id}")).await;
    assert_stripe_error(
        &gone,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    let gone = stripe.delete(&format!("/v1/invoiceitems/{id}")).await;
    assert_stripe_error(
        &gone,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
}

#[sqlx::test]
async fn metadata_keeps_stripes_limits_and_an_empty_value_deletes_a_key(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let item = stripe
        .create(&[
            ("customer", "cus_1"),
            ("currency", "usd"),
            ("amount", "1"),
            ("metadata[a]", "1"),
            ("metadata[b]", "2"),
        ])
        .await;
    let path = format!("/v1/invoiceitems/{}", item["id"].as_str().unwrap());
    let changed = stripe
        .post(&path, &[("metadata[a]", ""), ("metadata[c]", "3")])
        .await;
    assert_eq!(
        changed.body["metadata"],
        json!({"b": "2", "c": "3"}),
        "{}",
        changed.text
    );
    let cleared = stripe.post(&path, &[("metadata", "")]).await;
    assert_eq!(cleared.body["metadata"], json!({}), "{}", cleared.text);
    let keys: Vec<(String, String)> = (0..51)
        .map(|n| (format!("metadata[k{n}]"), "v".to_owned()))
        .collect();
    let pairs: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_stripe_error(
        &stripe.post(&path, &pairs).await,
        StatusCode::BAD_REQUEST,
        None,
        Some("metadata"),
    );
    assert!(stripe.post(&path, &pairs[..50]).await.status.is_success());
    let long_key = format!("metadata[{}]", "k".repeat(41));
    assert_stripe_error(
        &stripe.post(&path, &[(&long_key, "v")]).await,
        StatusCode::BAD_REQUEST,
        None,
        Some("metadata"),
    );
    let long_value = "v".repeat(501);
    assert_stripe_error(
        &stripe.post(&path, &[("metadata[k]", &long_value)]).await,
        StatusCode::BAD_REQUEST,
        None,
        Some("metadata[k]"),
    );
    let read = stripe.get(&path).await;
    assert_eq!(
        read.body["metadata"].as_object().unwrap().len(),
        50,
        "refused changes keep nothing"
    );
}

#[sqlx::test]
async fn lists_page_by_cursor_both_ways_and_filter(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = app.create_invoice("USD").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut pairs = vec![("customer", "cus_1"), ("amount", "10")];
        if n % 2 == 0 {
            pairs.push(("invoice", invoice.as_str()));
        } else {
            pairs.push(("currency", "usd"));
        }
        ids.push(
            stripe.create(&pairs).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let other_customer = stripe
        .create(&[("customer", "cus_2"), ("currency", "usd"), ("amount", "1")])
        .await;
    ids.push(other_customer["id"].as_str().unwrap().to_owned());
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    let page_ids = |page: &TestResponse| -> Vec<String> {
        page.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = stripe.get("/v1/invoiceitems").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(
        (
            all.body["object"].clone(),
            all.body["url"].clone(),
            all.body["has_more"].clone()
        ),
        (json!("list"), json!("/v1/invoiceitems"), json!(false))
    );
    assert_eq!(page_ids(&all), newest_first);
    let first = stripe.get("/v1/invoiceitems?limit=2").await;
    assert_eq!(page_ids(&first), newest_first[..2]);
    assert_eq!(first.body["has_more"], true);
    let second = stripe
        .get(&format!(
            "/v1/invoiceitems?limit=2&starting_after={}",
            newest_first[1]
        ))
        .await;
    assert_eq!(page_ids(&second), newest_first[2..4]);
    let last = stripe
        .get(&format!(
            "/v1/invoiceitems?limit=2&starting_after={}",
            newest_first[3]
        ))
        .await;
    assert_eq!(
        (page_ids(&last), last.body["has_more"].clone()),
        (newest_first[4..].to_vec(), json!(false))
    );
    let back = stripe
        .get(&format!(
            "/v1/invoiceitems?limit=2&ending_before={}",
            newest_first[4]
        ))
        .await;
    assert_eq!(
        (page_ids(&back), back.body["has_more"].clone()),
        (newest_first[2..4].to_vec(), json!(true))
    );
    let front = stripe
        .get(&format!(
            "/v1/invoiceitems?limit=2&ending_before={}",
            newest_first[2]
        ))
        .await;
    assert_eq!(
        (page_ids(&front), front.body["has_more"].clone()),
        (newest_first[..2].to_vec(), json!(false))
    );
    // Filters.
    let pending = stripe
        .get("/v1/invoiceitems?pending=true&customer=cus_1")
        .await;
    assert_eq!(page_ids(&pending), [ids[3].clone(), ids[1].clone()]);
    let on_invoice = stripe
        .get(&format!("/v1/invoiceitems?invoice={invoice}"))
        .await;
    assert_eq!(
        page_ids(&on_invoice),
        [ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );
    let not_pending = stripe.get("/v1/invoiceitems?pending=false").await;
    assert_eq!(page_ids(&not_pending), page_ids(&on_invoice));
    let customer = stripe.get("/v1/invoiceitems?customer=cus_2").await;
    assert_eq!(page_ids(&customer), [ids[5].clone()]);
    let created = other_customer["date"].as_i64().unwrap();
    let future = stripe
        .get(&format!("/v1/invoiceitems?created[gt]={created}"))
        .await;
    assert_eq!(page_ids(&future), Vec::<String>::new(), "{}", future.text);
    let since = stripe
        .get(&format!(
            "/v1/invoiceitems?created[gte]={created}&customer=cus_2"
        ))
        .await;
    assert_eq!(page_ids(&since), [ids[5].clone()]);
    let before = stripe
        .get(&format!("/v1/invoiceitems?created[lt]={}", created - 3600))
        .await;
    assert_eq!(page_ids(&before), Vec::<String>::new());
    // Bad paging.
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("pending=maybe", "pending"),
        ("created[gt]=soon", "created[gt]"),
        ("sort=asc", "sort"),
    ] {
        let bad = stripe.get(&format!("/v1/invoiceitems?{query}")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}: {}", bad.text);
        assert_eq!(bad.body["error"]["param"], param, "{query}");
    }
    let unknown_cursor = stripe.get("/v1/invoiceitems?starting_after=ii_gone").await;
    assert_stripe_error(
        &unknown_cursor,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("starting_after"),
    );
    let both = stripe
        .get(&format!(
            "/v1/invoiceitems?starting_after={0}&ending_before={0}",
            ids[0]
        ))
        .await;
    assert_stripe_error(
        &both,
        StatusCode::BAD_REQUEST,
        Some("parameters_exclusive"),
        Some("ending_before"),
    );
}

#[sqlx::test]
async fn credentials_are_stripes_and_the_same_keys_as_rebillys(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    let none = app
        .send(
            Request::builder()
                .uri("/v1/invoiceitems")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_stripe_error(&none, StatusCode::UNAUTHORIZED, None, None);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Basic realm=\"invoice-api\"")
    );
    let wrong = app
        .send(
            Request::builder()
                .uri("/v1/invoiceitems")
                .header(
                    "authorization",
                    basic("sk_sandbox_wrongwrongwrongwrongwrongwrong00"),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_stripe_error(&wrong, StatusCode::UNAUTHORIZED, None, None);
    assert!(
        wrong.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sk_sandbox_***ng00"),
        "{}",
        wrong.text
    );
    assert!(
        !wrong.text.contains("wrongwrongwrong"),
        "the key is not echoed"
    );
    let bearer = app
        .send(
            Request::builder()
                .uri("/v1/invoiceitems")
                .header("authorization", format!("Bearer {}", app.api_key))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text);
    // Stripe-Account names the caller's own organization, or it is refused.
    let own = app
        .send(
            stripe
                .request(Method::GET, "/v1/invoiceitems")
                .header("stripe-account", ORGANIZATION)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let other = app
        .send(
            stripe
                .request(Method::GET, "/v1/invoiceitems")
                .header("stripe-account", "acct_other")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_stripe_error(&other, StatusCode::FORBIDDEN, Some("account_invalid"), None);
    // The version asked for is echoed.
    let versioned = app
        .send(
            stripe
                .request(Method::GET, "/v1/invoiceitems")
                .header("stripe-version", "2023-10-16")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(versioned.header("stripe-version"), Some("2023-10-16"));
    // A key's permissions hold here as on the Rebilly routes.
    let permissions =
        invoice_api::domain::permission::Permissions::parse(["GetInvoiceItemCollection"]).unwrap();
    let reader = TestApp {
        api_key: TestApp::restricted_key_for(&pool, ORGANIZATION, Some(permissions)).await,
        ..TestApp::new(pool.clone()).await
    };
    let reading = Stripe::of(&reader);
    assert_eq!(reading.get("/v1/invoiceitems").await.status, StatusCode::OK);
    let writing = reading
        .post(
            "/v1/invoiceitems",
            &[("customer", "cus_1"), ("currency", "usd"), ("amount", "1")],
        )
        .await;
    assert_stripe_error(&writing, StatusCode::FORBIDDEN, None, None);
    // A live key's objects say so.
    let live_key = invoice_api::service::api_keys::create_api_key(
        &crate::helpers::app_db(&pool),
        &invoice_api::domain::ids::OrganizationId::parse(ORGANIZATION).unwrap(),
        true,
        None,
    )
    .await
    .unwrap();
    let live = TestApp {
        api_key: live_key,
        ..TestApp::new(pool).await
    };
    let item = Stripe::of(&live)
        .create(&[("customer", "cus_1"), ("currency", "usd"), ("amount", "1")])
        .await;
    assert_eq!(item["livemode"], true);
}

#[sqlx::test]
async fn an_idempotent_retry_gets_the_first_answer_and_makes_one_item(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    let post = |key: &'static str, body: String| {
        let request = stripe
            .request(Method::POST, "/v1/invoiceitems")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("idempotency-key", key);
        stripe.send(request, Body::from(body))
    };
    let body = form(&[("customer", "cus_1"), ("currency", "usd"), ("amount", "5")]);
    let first = post("once", body.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let retry = post("once", body).await;
    assert_eq!(retry.text, first.text);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    let count: i64 = sqlx::query_scalar("select count(*) from pending_items")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    // The same parameters in another order are the same request.
    let reordered = post(
        "once",
        form(&[("amount", "5"), ("currency", "usd"), ("customer", "cus_1")]),
    )
    .await;
    assert_eq!(reordered.text, first.text);
    let other = post(
        "once",
        form(&[("customer", "cus_1"), ("currency", "usd"), ("amount", "6")]),
    )
    .await;
    assert_stripe_error(&other, StatusCode::BAD_REQUEST, None, None);
    assert_eq!(other.body["error"]["type"], "idempotency_error");
    // A refusal is kept and given again in the same shape.
    let refused = post("bad", form(&[("customer", "cus_1"), ("currency", "usd")])).await;
    assert_stripe_error(
        &refused,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("amount"),
    );
    let again = post("bad", form(&[("customer", "cus_1"), ("currency", "usd")])).await;
    assert_stripe_error(
        &again,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("amount"),
    );
    assert_eq!(again.body["error"], refused.body["error"]);
}

#[sqlx::test]
async fn every_error_has_stripes_error_member_beside_the_problem(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let base = [("customer", "cus_1"), ("currency", "usd"), ("amount", "5")];
    let with = |extra: (&'static str, &'static str)| {
        let mut pairs = base.to_vec();
        pairs.push(extra);
        pairs
    };
    let unknown = stripe
        .post("/v1/invoiceitems", &with(("colour", "red")))
        .await;
    assert_stripe_error(
        &unknown,
        StatusCode::BAD_REQUEST,
        Some("parameter_unknown"),
        Some("colour"),
    );
    for unsupported in [
        "tax_rates[0]",
        "discountable",
        "unit_amount_decimal",
        "price_data[tiers_mode]",
    ] {
        let refused = stripe
            .post("/v1/invoiceitems", &with((unsupported, "x")))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{unsupported}: {}",
            refused.text
        );
        assert_eq!(
            refused.body["error"]["code"], "parameter_unknown",
            "{unsupported}"
        );
        assert!(
            refused.body["error"]["param"]
                .as_str()
                .unwrap()
                .starts_with(unsupported.split('[').next().unwrap())
        );
    }
    let clock = stripe
        .post("/v1/invoiceitems", &with(("test_clock", "clock_1")))
        .await;
    assert_stripe_error(
        &clock,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("test_clock"),
    );
    let nested = stripe
        .post("/v1/invoiceitems", &with(("period[start]", "1")))
        .await;
    assert_stripe_error(
        &nested,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("period[end]"),
    );
    let reversed = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("amount", "5"),
                ("period[start]", "10"),
                ("period[end]", "9"),
            ],
        )
        .await;
    assert_stripe_error(
        &reversed,
        StatusCode::BAD_REQUEST,
        None,
        Some("period[end]"),
    );
    let twice = stripe
        .send(
            stripe
                .request(Method::POST, "/v1/invoiceitems")
                .header("content-type", "application/x-www-form-urlencoded"),
            Body::from("amount=1&amount=2"),
        )
        .await;
    assert_stripe_error(&twice, StatusCode::BAD_REQUEST, None, Some("amount"));
    let product = stripe
        .post(
            "/v1/invoiceitems",
            &with(("price_data[product]", "prod_missing")),
        )
        .await;
    assert_stripe_error(
        &product,
        StatusCode::BAD_REQUEST,
        None,
        Some("price_data[product]"),
    );
    let plain = stripe
        .send(
            stripe
                .request(Method::POST, "/v1/invoiceitems")
                .header("content-type", "text/plain"),
            Body::from("amount=1"),
        )
        .await;
    assert_stripe_error(&plain, StatusCode::UNSUPPORTED_MEDIA_TYPE, None, None);
    let bad_json = stripe
        .send(
            stripe
                .request(Method::POST, "/v1/invoiceitems")
                .header("content-type", "application/json"),
            Body::from("{"),
        )
        .await;
    assert_stripe_error(&bad_json, StatusCode::BAD_REQUEST, None, None);
    let missing = stripe.get("/v1/invoiceitems/ii_nothing").await;
    assert_stripe_error(
        &missing,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    assert_eq!(
        missing.body["error"]["message"],
        "No such invoiceitem: 'ii_nothing'"
    );
    let route = stripe.get("/v1/nothing").await;
    assert_stripe_error(&route, StatusCode::NOT_FOUND, None, None);
    let method = stripe
        .send(
            stripe.request(Method::PUT, "/v1/invoiceitems"),
            Body::empty(),
        )
        .await;
    assert_stripe_error(&method, StatusCode::METHOD_NOT_ALLOWED, None, None);
    let expand = stripe.get("/v1/invoiceitems?expand[]=customer").await;
    assert_stripe_error(&expand, StatusCode::BAD_REQUEST, None, Some("expand"));
    // The Rebilly routes keep their own shape.
    let rebilly = app.get("/invoices/in_nothing").await;
    assert!(rebilly.body.get("error").is_none(), "{}", rebilly.text);
}

#[sqlx::test]
async fn a_new_invoice_takes_in_its_customers_pending_items_of_its_currency_when_asked(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let first = stripe
        .create(&[
            ("customer", "cus_1"),
            ("currency", "usd"),
            ("amount", "1000"),
        ])
        .await;
    let second = stripe
        .create(&[
            ("customer", "cus_1"),
            ("currency", "usd"),
            ("amount", "-250"),
        ])
        .await;
    let other_currency = stripe
        .create(&[
            ("customer", "cus_1"),
            ("currency", "eur"),
            ("amount", "500"),
        ])
        .await;
    let other_customer = stripe
        .create(&[
            ("customer", "cus_2"),
            ("currency", "usd"),
            ("amount", "700"),
        ])
        .await;
    // `exclude`, as without the field, leaves them pending.
    let excluding = app
        .post("/invoices", json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD", "pendingInvoiceItemsBehavior": "exclude"}))
        .await;
    assert_eq!(excluding.status, StatusCode::CREATED, "{}", excluding.text);
    assert_eq!(excluding.body["items"], json!([]));
    let including = app
        .post("/invoices", json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD", "pendingInvoiceItemsBehavior": "include"}))
        .await;
    assert_eq!(including.status, StatusCode::CREATED, "{}", including.text);
    let invoice = including.body["id"].as_str().unwrap();
    let ids: Vec<&str> = including.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            first["id"].as_str().unwrap(),
            second["id"].as_str().unwrap()
        ],
        "oldest first, ids kept"
    );
    assert_eq!(including.body["amount"], 7.5, "{}", including.text);
    assert_eq!(
        including.body["revision"], 2,
        "one change per item taken in"
    );
    let moved = stripe
        .get(&format!(
            "/v1/invoiceitems/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(moved.body["invoice"], invoice);
    assert_eq!(
        moved.body["date"], first["date"],
        "its creation time is kept"
    );
    let left = stripe.get("/v1/invoiceitems?pending=true").await;
    let left: Vec<&str> = left.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        [
            other_customer["id"].as_str().unwrap(),
            other_currency["id"].as_str().unwrap()
        ]
    );
    let timeline = app.get(&format!("/invoices/{invoice}/timeline")).await;
    let types: Vec<&str> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["invoice-modified", "invoice-modified", "invoice-created"]
    );
    // A PUT that makes a draft takes them in the same way.
    let put = app
        .put("/invoices/inv-eur", json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "EUR", "pendingInvoiceItemsBehavior": "include"}))
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text);
    assert_eq!(put.body["items"][0]["id"], other_currency["id"]);
    let bad = app
        .post("/invoices", json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD", "pendingInvoiceItemsBehavior": "all"}))
        .await;
    crate::helpers::assert_invalid_fields(
        &bad,
        "/invoices",
        &[(
            "pendingInvoiceItemsBehavior",
            "must be one of: include, exclude",
        )],
    );
}

#[sqlx::test]
async fn an_items_invoice_expands_in_place_of_its_id(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_1"), ("currency", "usd")],
        )
        .await;
    let invoice_id = invoice.body["id"].as_str().unwrap().to_owned();
    let created = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_1"),
                ("invoice", &invoice_id),
                ("amount", "1500"),
                ("expand[]", "invoice"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let expanded = &created.body["invoice"];
    assert_eq!(
        (
            expanded["id"].clone(),
            expanded["object"].clone(),
            expanded["total"].clone()
        ),
        (json!(invoice_id), json!("invoice"), json!(1500)),
        "the invoice as the write left it"
    );
    let item_id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(expanded["lines"]["data"][0]["invoice_item"], json!(item_id));
    let pending = stripe
        .create(&[("customer", "cus_1"), ("currency", "usd"), ("amount", "5")])
        .await;
    let read = stripe
        .get(&format!("/v1/invoiceitems/{item_id}?expand[]=invoice"))
        .await;
    assert_eq!(
        read.body["invoice"]["id"],
        json!(invoice_id),
        "{}",
        read.text
    );
    let plain = stripe.get(&format!("/v1/invoiceitems/{item_id}")).await;
    assert_eq!(plain.body["invoice"], json!(invoice_id));
    let pending_read = stripe
        .get(&format!(
            "/v1/invoiceitems/{}?expand[0]=invoice&expand[1]=discounts",
            pending["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            pending_read.body["invoice"].clone(),
            pending_read.body["discounts"].clone()
        ),
        (Value::Null, json!([]))
    );
    let updated = stripe
        .post_json(
            &format!("/v1/invoiceitems/{item_id}"),
            json!({"quantity": 3, "amount": 4500, "expand": ["invoice"]}),
        )
        .await;
    assert_eq!(updated.body["invoice"]["total"], 4500, "{}", updated.text);
    let listed = stripe
        .get("/v1/invoiceitems?customer=cus_1&expand[]=data.invoice")
        .await;
    let invoices: Vec<Value> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["invoice"]["id"].clone())
        .collect();
    assert_eq!(
        invoices,
        [Value::Null, json!(invoice_id)],
        "{}",
        listed.text
    );
    // Customers are ids here; a list's paths start at `data.`; nothing else expands; and at
    // most 10 paths.
    let eleven = ["expand[]=invoice"; 11].join("&");
    for path in [
        format!("/v1/invoiceitems/{item_id}?{eleven}"),
        format!("/v1/invoiceitems/{item_id}?expand[]=customer"),
        "/v1/invoiceitems?expand[]=invoice".to_owned(),
        format!("/v1/invoiceitems/{item_id}?expand[]=price.product"),
        format!("/v1/invoices/{invoice_id}?expand[]=customer"),
    ] {
        let refused = stripe.get(&path).await;
        assert_stripe_error(&refused, StatusCode::BAD_REQUEST, None, Some("expand"));
    }
}

/// An empty value and JSON's `null` mean "none" (or, on an update, "remove") where the
/// contract says a parameter may be cleared; elsewhere they are refused, naming it.
#[sqlx::test]
async fn empty_and_null_values_clear_only_what_may_be_cleared(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let base = json!({"customer": "cus_1", "currency": "usd", "amount": 100});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (key, value, code) in [
        ("invoice", Value::Null, None),
        ("invoice", json!(""), None),
        ("subscription", Value::Null, None),
        ("price", Value::Null, Some("resource_missing")),
        ("period", json!(""), None),
        ("metadata", json!(""), None),
    ] {
        let refused = stripe
            .post_json("/v1/invoiceitems", with(key, value.clone()))
            .await;
        assert_stripe_error(&refused, StatusCode::BAD_REQUEST, code, Some(key));
        assert!(
            !refused.text.contains("\"id\":\"ii_"),
            "{key}={value}: nothing made"
        );
    }
    let form = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_1"),
                ("currency", "usd"),
                ("amount", "1"),
                ("invoice", ""),
            ],
        )
        .await;
    assert_stripe_error(&form, StatusCode::BAD_REQUEST, None, Some("invoice"));
    let listed = stripe.get("/v1/invoiceitems?customer=cus_1").await;
    assert_eq!(
        listed.body["data"],
        json!([]),
        "no refused create left an item"
    );
    // The limit of 50 keys is on what a request sends, removals too.
    let keys: serde_json::Map<String, Value> =
        (0..51).map(|n| (format!("k{n}"), json!(""))).collect();
    let many = stripe
        .post_json("/v1/invoiceitems", with("metadata", Value::Object(keys)))
        .await;
    assert_stripe_error(&many, StatusCode::BAD_REQUEST, None, Some("metadata"));
    // Where the contract allows null, it is none; on an update it removes.
    let mut cleared = base.clone();
    cleared["description"] = Value::Null;
    cleared["period"] = Value::Null;
    cleared["metadata"] = json!({"order": "42", "gone": null, "note": "x"});
    cleared["price_data"] = json!({"product": null});
    let created = stripe.post_json("/v1/invoiceitems", cleared).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(
        created.body["metadata"],
        json!({"order": "42", "note": "x"})
    );
    assert_eq!(created.body["description"], Value::Null);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let updated = stripe
        .post_json(
            &format!("/v1/invoiceitems/{id}"),
            json!({"metadata": {"note": null}, "period": {"start": 10, "end": 20}}),
        )
        .await;
    assert_eq!(
        updated.body["metadata"],
        json!({"order": "42"}),
        "{}",
        updated.text
    );
    assert_eq!(updated.body["period"], json!({"start": 10, "end": 20}));
    let removed = stripe
        .post_json(
            &format!("/v1/invoiceitems/{id}"),
            json!({"metadata": null, "period": null}),
        )
        .await;
    assert_eq!(removed.body["metadata"], json!({}), "{}", removed.text);
    let date = &removed.body["date"];
    assert_eq!(
        removed.body["period"],
        json!({"start": date, "end": date}),
        "none: its date"
    );
    // A currency reads in either case and answers lower-case.
    let upper = stripe
        .post_json("/v1/invoiceitems", with("currency", json!("USD")))
        .await;
    assert_eq!(upper.body["currency"], "usd", "{}", upper.text);
}

/// An expanded answer has the shape the contract gives it: the item's members, and in place
/// of the invoice's id the invoice with every member its schema names.
#[sqlx::test]
async fn an_expanded_answer_has_the_contracts_members(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_1"), ("currency", "usd")],
        )
        .await;
    let invoice_id = invoice.body["id"].as_str().unwrap().to_owned();
    let item = stripe
        .create(&[
            ("customer", "cus_1"),
            ("invoice", &invoice_id),
            ("amount", "7"),
        ])
        .await;
    let contract = app.get("/openapi.json").await.body;
    let schemas = &contract["components"]["schemas"];
    let members = |schema: &str| -> Vec<String> {
        let mut names: Vec<String> = schemas[schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema} has properties"))
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    };
    let keys = |object: &Value| -> Vec<String> {
        let mut names: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    let expanded = stripe
        .get(&format!(
            "/v1/invoiceitems/{}?expand[]=invoice",
            item["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(keys(&expanded.body), members("StripeInvoiceItem"));
    assert_eq!(keys(&expanded.body["invoice"]), members("StripeInvoice"));
    assert_eq!(
        keys(&expanded.body["invoice"]["lines"]),
        members("StripeLineItemList")
    );
    assert_eq!(
        keys(&expanded.body["invoice"]["lines"]["data"][0]),
        members("StripeLineItem")
    );
    let invoice_schema = &schemas["StripeInvoiceItem"]["properties"]["invoice"];
    let text = invoice_schema.to_string();
    assert!(
        text.contains("#/components/schemas/StripeInvoice\""),
        "the item's invoice may be the invoice object: {text}"
    );
    let lines = stripe
        .get(&format!(
            "/v1/invoices/{invoice_id}/lines?expand[]=data.invoice_item"
        ))
        .await;
    assert_eq!(
        keys(&lines.body["data"][0]["invoice_item"]),
        members("StripeInvoiceItem")
    );
    let item_schema = schemas["StripeLineItem"]["properties"]["invoice_item"].to_string();
    assert!(
        item_schema.contains("#/components/schemas/StripeInvoiceItem\""),
        "a line's item may be the item object: {item_schema}"
    );
}

/// Concurrent `/v1` updates of one item on an invoice, each adding its own metadata key, lose
/// none: an update made from a version another changed meanwhile is made again from the item
/// as its invoice's lock leaves it.
#[sqlx::test]
async fn concurrent_updates_of_an_item_on_an_invoice_lose_no_change(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let stripe = Stripe::of(&app);
    let invoice = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_1"), ("currency", "usd")],
        )
        .await;
    assert_eq!(invoice.status, StatusCode::OK, "{}", invoice.text);
    let invoice_id = invoice.body["id"].as_str().unwrap().to_owned();
    let item = stripe
        .create(&[
            ("customer", "cus_1"),
            ("invoice", &invoice_id),
            ("amount", "100"),
        ])
        .await;
    let path = format!("/v1/invoiceitems/{}", item["id"].as_str().unwrap());
    let updates: Vec<_> = (0..12)
        .map(|n| {
            let app = std::sync::Arc::clone(&app);
            let path = path.clone();
            tokio::spawn(async move {
                let key = format!("metadata[k{n}]");
                let amount = (100 + n).to_string();
                Stripe::of(&app)
                    .post(&path, &[(key.as_str(), "v"), ("amount", amount.as_str())])
                    .await
            })
        })
        .collect();
    for update in updates {
        let answer = update.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let read = stripe.get(&path).await;
    let metadata = read.body["metadata"].as_object().unwrap();
    assert_eq!(metadata.len(), 12, "{metadata:?}");
    let shown = stripe.get(&format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(
        shown.body["total"], read.body["amount"],
        "the invoice's total is its item"
    );
}

#[sqlx::test]
async fn an_unknown_parameter_is_named_in_a_bounded_answer_however_long_its_name(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let name = "x".repeat(20_000);
    let refused = stripe
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", "cus_42"),
                ("currency", "usd"),
                ("amount", "500"),
                (&name, "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "parameter_unknown");
    let param = refused.body["error"]["param"].as_str().unwrap();
    assert_eq!(param, format!("{}...", "x".repeat(100)));
    assert!(refused.text.len() < 2_000, "{} bytes", refused.text.len());
}

#[sqlx::test]
async fn a_credential_header_sent_twice_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let twice = stripe
        .send(
            stripe.request(Method::GET, "/v1/invoiceitems").header(
                "authorization",
                basic("sk_sandbox_someoneelse0000000000000000"),
            ),
            Body::empty(),
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNAUTHORIZED, "{}", twice.text);
    assert!(twice.text.contains("must be sent once"), "{}", twice.text);
    let accounts = stripe
        .send(
            stripe
                .request(Method::GET, "/v1/invoiceitems")
                .header("stripe-account", ORGANIZATION)
                .header("stripe-account", "org_other"),
            Body::empty(),
        )
        .await;
    assert_eq!(
        accounts.status,
        StatusCode::BAD_REQUEST,
        "{}",
        accounts.text
    );
    assert!(
        accounts.text.contains("must be sent once"),
        "{}",
        accounts.text
    );
    let once = stripe
        .send(
            stripe
                .request(Method::GET, "/v1/invoiceitems")
                .header("stripe-account", ORGANIZATION),
            Body::empty(),
        )
        .await;
    assert_eq!(once.status, StatusCode::OK, "{}", once.text);
}

#[sqlx::test]
async fn a_customer_has_at_most_a_thousand_pending_items(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    sqlx::query(
        "insert into pending_items (organization_id, id, customer_id, currency, type, unit_price,
                                    quantity, price, created_time, updated_time)
         select $1, 'ii_' || lpad(n::text, 26, '0'), 'cus_full', 'USD', 'debit', 1, 1, 1,
                now(), now()
         from generate_series(1, 1000) as n",
    )
    .bind(ORGANIZATION)
    .execute(&pool)
    .await
    .unwrap();
    let item = |customer: &'static str| {
        [
            ("customer", customer),
            ("currency", "usd"),
            ("amount", "100"),
        ]
    };
    // As Stripe answers a limit: 400, with no parameter to blame.
    let refused = stripe.post("/v1/invoiceitems", &item("cus_full")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.body["error"]["type"], "invalid_request_error");
    assert!(
        refused.body["error"]
            .get("param")
            .is_none_or(Value::is_null)
    );
    assert!(
        refused.text.contains("has 1000 pending items"),
        "{}",
        refused.text
    );
    let other = stripe.post("/v1/invoiceitems", &item("cus_other")).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
}
