//! Settlement: transactions recorded and applied to invoices on the Rebilly routes, `pay` on
//! `/v1`, over the same rows: amounts due, statuses, events and the refusals that name why.

use axum::http::StatusCode;
use chrono::Utc;
use invoice_api::service::past_due;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_invalid_fields, assert_problem};
use crate::stripe_client::{Stripe, assert_stripe_error};

fn amount(value: &Value) -> Decimal {
    value.to_string().trim_matches('"').parse().unwrap()
}

/// An issued invoice of `cus_1` in USD, of one item at `price`; its id.
async fn issued_invoice(app: &TestApp, price: f64) -> String {
    let invoice = app.create_invoice("USD").await;
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": price}))
        .await;
    let issued = app
        .post(&format!("/invoices/{invoice}/issue"), json!({}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    invoice
}

fn transaction_body(kind: &str, amount: f64) -> Value {
    json!({"type": kind, "customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
           "amount": amount, "paymentInstrument": {"method": "bank-transfer"}})
}

/// Records a transaction; its id.
async fn record(app: &TestApp, kind: &str, amount: f64) -> String {
    let created = app
        .post("/transactions", transaction_body(kind, amount))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().unwrap().to_owned()
}

async fn apply(app: &TestApp, invoice: &str, body: Value) -> crate::helpers::TestResponse {
    app.post(&format!("/invoices/{invoice}/transaction"), body)
        .await
}

#[sqlx::test]
async fn a_transaction_is_recorded_completed_and_read_back(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut body = transaction_body("sale", 30.5);
    body["description"] = json!("Wire of 2026-12-01");
    let created = app.post("/transactions", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    assert!(id.starts_with("txn_"), "{id}");
    assert_eq!(
        created.header("location"),
        Some(format!("http://invoices.test/transactions/{id}").as_str())
    );
    assert_eq!(created.body["status"], "completed");
    assert_eq!(created.body["result"], "approved");
    assert_eq!(created.body["type"], "sale");
    assert_eq!(created.body["amount"], json!(30.5));
    assert_eq!(created.body["unusedAmount"], json!(30.5));
    assert_eq!(
        created.body["paymentInstrument"],
        json!({"method": "bank-transfer"})
    );
    assert_eq!(created.body["description"], "Wire of 2026-12-01");
    assert_eq!(created.body["invoiceIds"], json!([]));

    let read = app.get(&format!("/transactions/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);
    let second = record(&app, "refund", 5.0).await;
    let listed = app.get("/transactions?limit=1").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.header("pagination-total"), Some("2"));
    assert_eq!(listed.body[0]["id"], json!(second), "newest first");
    let missing = app.get("/transactions/txn_none").await;
    assert_problem(
        &missing,
        StatusCode::NOT_FOUND,
        "Not Found",
        "/transactions/txn_none",
    );
}

#[sqlx::test]
async fn a_bad_transaction_names_every_bad_field_and_gateway_fields_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .post(
            "/transactions",
            json!({"type": "authorize", "customerId": "cus_1", "websiteId": "web_1",
                   "currency": "USD", "amount": 1.005, "gatewayAccountId": "gw_1",
                   "paymentInstrument": {"method": "card"}}),
        )
        .await;
    assert_invalid_fields(
        &response,
        "/transactions",
        &[
            (
                "gatewayAccountId",
                "is a payment gateway's field: this server records payments made elsewhere",
            ),
            ("type", "must be one of: sale, refund"),
            ("amount", "must have at most 2 decimal places in USD"),
            (
                "paymentInstrument.method",
                "must be one of: cash, check, bank-transfer, other",
            ),
        ],
    );
    let missing = app
        .post(
            "/transactions",
            json!({"type": "sale", "customerId": "cus_1", "websiteId": "web_1",
                   "currency": "USD", "amount": 0}),
        )
        .await;
    assert_invalid_fields(
        &missing,
        "/transactions",
        &[
            ("amount", "must be greater than 0"),
            ("paymentInstrument", "is required"),
        ],
    );
    let nulls = app
        .post(
            "/transactions",
            json!({"type": "sale", "customerId": "cus_1", "websiteId": "web_1",
                   "currency": "USD", "amount": 1, "token": null,
                   "paymentInstrument": "cash"}),
        )
        .await;
    assert_invalid_fields(
        &nulls,
        "/transactions",
        &[
            (
                "token",
                "is a payment gateway's field: this server records payments made elsewhere",
            ),
            ("paymentInstrument", "must be an object"),
        ],
    );
    let listed = app.get("/transactions").await;
    assert_eq!(listed.header("pagination-total"), Some("0"), "nothing kept");
}

#[sqlx::test]
async fn an_invoice_paid_in_two_parts_reads_paid_on_both_dialects(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = issued_invoice(&app, 100.0).await;
    let payment = record(&app, "sale", 30.0).await;

    let first = apply(&app, &invoice, json!({"transactionId": payment})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["status"], "partially-paid");
    assert_eq!(first.body["amountDue"], json!(70));
    assert_eq!(first.body["paidTime"], Value::Null);
    let allocation = &first.body["transactions"][0];
    assert_eq!(allocation["transactionId"], json!(payment));
    assert_eq!(allocation["amount"], json!(30));
    assert_eq!(
        first.header("etag"),
        Some(format!("\"r{}\"", first.body["revision"]).as_str())
    );

    let rest = record(&app, "sale", 500.0).await;
    let second = apply(&app, &invoice, json!({"transactionId": rest})).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.body["status"], "paid");
    assert_eq!(second.body["amountDue"], json!(0));
    assert!(second.body["paidTime"].is_string());
    assert_eq!(second.body["transactions"].as_array().unwrap().len(), 2);
    let used = app.get(&format!("/transactions/{rest}")).await;
    assert_eq!(
        used.body["unusedAmount"],
        json!(430),
        "the default is what was due"
    );
    assert_eq!(used.body["invoiceIds"], json!([invoice]));

    let allocations = app
        .get(&format!("/invoices/{invoice}/transaction-allocations"))
        .await;
    assert_eq!(allocations.status, StatusCode::OK);
    assert_eq!(allocations.header("pagination-total"), Some("2"));
    let applied: Decimal = allocations
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|allocation| amount(&allocation["amount"]))
        .sum();
    assert_eq!(applied, Decimal::from(100));

    let stripe = Stripe::of(&app);
    let on_v1 = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(on_v1.status, StatusCode::OK, "{}", on_v1.text);
    assert_eq!(on_v1.body["status"], "paid");
    assert_eq!(on_v1.body["paid"], json!(true));
    assert_eq!(on_v1.body["amount_paid"], json!(10000));
    assert_eq!(on_v1.body["amount_remaining"], json!(0));
    assert_eq!(on_v1.body["amount_due"], json!(10000));
    assert!(on_v1.body["status_transitions"]["paid_at"].is_i64());

    let timeline = app.get(&format!("/invoices/{invoice}/timeline")).await;
    let types: Vec<&str> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        &types[..2],
        ["invoice-paid", "invoice-partially-paid"],
        "newest first"
    );

    let void = app
        .post(&format!("/invoices/{invoice}/void"), json!({}))
        .await;
    assert_problem(
        &void,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("/invoices/{invoice}/void"),
    );
    let paid_again = apply(&app, &invoice, json!({"transactionId": rest})).await;
    assert_eq!(
        paid_again.status,
        StatusCode::CONFLICT,
        "{}",
        paid_again.text
    );
}

#[sqlx::test]
async fn applications_beyond_what_is_due_or_left_are_refused_naming_the_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = issued_invoice(&app, 50.0).await;
    let path = format!("/invoices/{invoice}/transaction");
    let large = record(&app, "sale", 80.0).await;
    let small = record(&app, "sale", 10.0).await;

    let over_due = apply(
        &app,
        &invoice,
        json!({"transactionId": large, "amount": 50.01}),
    )
    .await;
    assert_invalid_fields(
        &over_due,
        &path,
        &[("amount", "must not exceed the amount due, 50 USD")],
    );
    let over_unused = apply(
        &app,
        &invoice,
        json!({"transactionId": small, "amount": 11}),
    )
    .await;
    assert_invalid_fields(
        &over_unused,
        &path,
        &[(
            "amount",
            "must not exceed what the transaction has left to apply, 10 USD",
        )],
    );
    let unknown = apply(&app, &invoice, json!({"transactionId": "txn_none"})).await;
    assert_invalid_fields(
        &unknown,
        &path,
        &[(
            "transactionId",
            "must name a transaction of the organization",
        )],
    );
    let mut other_body = transaction_body("sale", 5.0);
    other_body["customerId"] = json!("cus_2");
    let other = app.post("/transactions", other_body).await.body["id"].clone();
    let other_customer = apply(&app, &invoice, json!({"transactionId": other})).await;
    assert_invalid_fields(
        &other_customer,
        &path,
        &[(
            "transactionId",
            "must be a transaction of the invoice's customer",
        )],
    );
    let refund = record(&app, "refund", 5.0).await;
    let unpaid_refund = apply(&app, &invoice, json!({"transactionId": refund})).await;
    assert_problem(&unpaid_refund, StatusCode::CONFLICT, "Conflict", &path);

    let draft = app.create_invoice("USD").await;
    let on_draft = apply(&app, &draft, json!({"transactionId": small})).await;
    assert_problem(
        &on_draft,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("/invoices/{draft}/transaction"),
    );

    let read = app.invoice(&invoice).await;
    assert_eq!(read["status"], "unpaid", "nothing refused was kept");
    assert_eq!(read["amountDue"], json!(50));
    assert_eq!(read["transactions"], json!([]));
}

#[sqlx::test]
async fn refunds_give_money_back_to_a_paid_invoice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = issued_invoice(&app, 40.0).await;
    let sale = record(&app, "sale", 40.0).await;
    apply(&app, &invoice, json!({"transactionId": sale})).await;
    let refund = record(&app, "refund", 100.0).await;
    let path = format!("/invoices/{invoice}/transaction");

    let too_much = apply(
        &app,
        &invoice,
        json!({"transactionId": refund, "amount": 41}),
    )
    .await;
    assert_invalid_fields(
        &too_much,
        &path,
        &[(
            "amount",
            "must not exceed what the invoice holds of the customer's money, 40 USD",
        )],
    );
    let part = apply(
        &app,
        &invoice,
        json!({"transactionId": refund, "amount": 15}),
    )
    .await;
    assert_eq!(part.status, StatusCode::OK, "{}", part.text);
    assert_eq!(part.body["status"], "partially-refunded");
    assert_eq!(part.body["amountDue"], json!(15));
    let rest = apply(&app, &invoice, json!({"transactionId": refund})).await;
    assert_eq!(rest.body["status"], "refunded");
    assert_eq!(rest.body["amountDue"], json!(40));
    let refund_read = app.get(&format!("/transactions/{refund}")).await;
    assert_eq!(refund_read.body["unusedAmount"], json!(60));
    assert_eq!(
        refund_read.body["invoiceIds"],
        json!([invoice]),
        "applied twice, named once"
    );
    let void = app
        .post(&format!("/invoices/{invoice}/void"), json!({}))
        .await;
    assert_eq!(void.status, StatusCode::CONFLICT, "{}", void.text);
}

#[sqlx::test]
async fn a_past_due_invoice_that_holds_payments_cannot_be_voided(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = issued_invoice(&app, 20.0).await;
    let sale = record(&app, "sale", 5.0).await;
    apply(&app, &invoice, json!({"transactionId": sale})).await;
    // As the past-due check leaves it once its due time has passed.
    sqlx::query("update invoices set status = 'past-due' where id = $1")
        .bind(&invoice)
        .execute(&app.pool)
        .await
        .unwrap();
    let void = app
        .post(&format!("/invoices/{invoice}/void"), json!({}))
        .await;
    assert_eq!(void.status, StatusCode::CONFLICT, "{}", void.text);
    assert!(
        void.body["detail"]
            .as_str()
            .unwrap()
            .contains("holds 5 USD of the customer's money"),
        "{}",
        void.text
    );
}

#[sqlx::test]
async fn concurrent_applications_of_one_transaction_never_spend_more_than_it_holds(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    let mut invoices = Vec::new();
    for _ in 0..8 {
        invoices.push(issued_invoice(&app, 10.0).await);
    }
    let payment = record(&app, "sale", 35.0).await;
    let tasks: Vec<_> = invoices
        .iter()
        .map(|invoice| {
            let (app, invoice, payment) = (app.clone(), invoice.clone(), payment.clone());
            tokio::spawn(
                async move { apply(&app, &invoice, json!({"transactionId": payment})).await },
            )
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let applied = answers
        .iter()
        .filter(|answer| answer.status == StatusCode::OK)
        .count();
    assert_eq!(applied, 4, "10 + 10 + 10 + 5");
    for answer in answers
        .iter()
        .filter(|answer| answer.status != StatusCode::OK)
    {
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text
        );
    }
    let mut due = Decimal::ZERO;
    for invoice in &invoices {
        due += amount(&app.invoice(invoice).await["amountDue"]);
    }
    assert_eq!(due, Decimal::from(80 - 35));
    let read = app.get(&format!("/transactions/{payment}")).await;
    assert_eq!(read.body["unusedAmount"], json!(0));
}

#[sqlx::test]
async fn pay_on_v1_records_a_payment_made_out_of_band(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = issued_invoice(&app, 12.34).await;
    let path = format!("/v1/invoices/{invoice}/pay");

    let refused = stripe.post(&path, &[]).await;
    assert_stripe_error(
        &refused,
        StatusCode::BAD_REQUEST,
        Some("parameter_missing"),
        Some("paid_out_of_band"),
    );
    let card = stripe
        .post(
            &path,
            &[("paid_out_of_band", "true"), ("payment_method", "pm_1")],
        )
        .await;
    assert_stripe_error(
        &card,
        StatusCode::BAD_REQUEST,
        Some("parameter_unknown"),
        Some("payment_method"),
    );

    let paid = stripe.post(&path, &[("paid_out_of_band", "true")]).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["paid"], json!(true));
    assert_eq!(paid.body["paid_out_of_band"], json!(true));
    assert_eq!(paid.body["amount_paid"], json!(1234));
    assert_eq!(paid.body["amount_remaining"], json!(0));
    let rebilly = app.invoice(&invoice).await;
    assert_eq!(rebilly["status"], "paid");
    assert_eq!(rebilly["amountDue"], json!(0));
    let transaction = rebilly["transactions"][0]["transactionId"]
        .as_str()
        .unwrap();
    let recorded = app.get(&format!("/transactions/{transaction}")).await;
    assert_eq!(recorded.body["paymentInstrument"]["method"], "other");
    assert_eq!(recorded.body["amount"], json!(12.34));

    let again = stripe.post(&path, &[("paid_out_of_band", "true")]).await;
    assert_stripe_error(&again, StatusCode::BAD_REQUEST, None, None);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("is paid: only an open or uncollectible invoice can be paid."),
        "in this dialect's words: {}",
        again.text
    );
}

#[sqlx::test]
async fn pay_finalizes_a_draft_and_a_total_of_zero_is_paid_when_finalized(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let draft = app.create_invoice("USD").await;
    app.create_item(&draft, json!({"type": "debit", "unitPrice": 7}))
        .await;
    let paid = stripe
        .post(
            &format!("/v1/invoices/{draft}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["status"], "paid");
    assert!(paid.body["number"].is_string(), "finalized on the way");
    assert_eq!(paid.body["amount_paid"], json!(700));

    let empty = app.create_invoice("USD").await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{empty}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    assert_eq!(finalized.body["status"], "paid");
    assert_eq!(finalized.body["amount_paid"], json!(0));
    assert!(finalized.body["status_transitions"]["paid_at"].is_i64());
    assert_eq!(app.invoice(&empty).await["status"], "paid");
}

/// An invoice of one item at `price`, issued long ago and due a month later.
async fn overdue_invoice(app: &TestApp, price: f64) -> String {
    let invoice = app.create_invoice("USD").await;
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": price}))
        .await;
    let issued = app
        .post(
            &format!("/invoices/{invoice}/issue"),
            json!({"issuedTime": "2026-01-01T00:00:00Z", "dueTime": "2026-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    invoice
}

async fn event_types(app: &TestApp, invoice: &str) -> Vec<String> {
    let timeline = app.get(&format!("/invoices/{invoice}/timeline")).await;
    timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["type"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test]
async fn an_invoice_whose_due_time_passed_unpaid_turns_past_due_once(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let db = crate::helpers::app_db(&pool);
    let unpaid = overdue_invoice(&app, 10.0).await;
    let partly = overdue_invoice(&app, 10.0).await;
    let paid = overdue_invoice(&app, 10.0).await;
    let payment = record(&app, "sale", 14.0).await;
    apply(
        &app,
        &partly,
        json!({"transactionId": payment, "amount": 4}),
    )
    .await;
    apply(&app, &paid, json!({"transactionId": payment})).await;
    let not_yet = issued_invoice(&app, 10.0).await;
    app.post(&format!("/invoices/{not_yet}/void"), json!({}))
        .await;
    let nothing_due = app.create_invoice("USD").await;
    app.post(
        &format!("/invoices/{nothing_due}/issue"),
        json!({"issuedTime": "2026-01-01T00:00:00Z", "dueTime": "2026-02-01T00:00:00Z"}),
    )
    .await;
    let future = app.create_invoice("USD").await;
    app.post(
        &format!("/invoices/{future}/issue"),
        json!({"dueTime": "2099-01-01T00:00:00Z"}),
    )
    .await;

    let moved = past_due::mark_past_due(&db, Utc::now()).await.unwrap();
    assert_eq!(moved, 2);
    for invoice in [&unpaid, &partly] {
        let read = app.invoice(invoice).await;
        assert_eq!(read["status"], "past-due", "{read}");
        assert_eq!(event_types(&app, invoice).await[0], "invoice-past-due");
    }
    assert_eq!(app.invoice(&partly).await["amountDue"], json!(6));
    assert_eq!(app.invoice(&paid).await["status"], "paid");
    assert_eq!(app.invoice(&not_yet).await["status"], "voided");
    assert_eq!(app.invoice(&future).await["status"], "unpaid");
    assert_eq!(
        app.invoice(&nothing_due).await["status"],
        "unpaid",
        "nothing due, nothing late"
    );

    assert_eq!(past_due::mark_past_due(&db, Utc::now()).await.unwrap(), 0);
    let events = event_types(&app, &unpaid).await;
    assert_eq!(
        events
            .iter()
            .filter(|kind| *kind == "invoice-past-due")
            .count(),
        1,
        "{events:?}"
    );
    // Paid in full later, it is paid; voided, it would be voided.
    let rest = record(&app, "sale", 10.0).await;
    let settled = apply(&app, &unpaid, json!({"transactionId": rest})).await;
    assert_eq!(settled.body["status"], "paid", "{}", settled.text);
}

#[sqlx::test]
async fn paying_a_draft_on_v1_needs_the_permission_to_finalize_it(pool: PgPool) {
    use axum::body::Body;
    use axum::http::Method;
    use invoice_api::domain::permission::{Operation, Permissions};

    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    let key = TestApp::restricted_key_for(
        &pool,
        crate::helpers::ORGANIZATION,
        Some(Permissions::of([Operation::PostInvoiceTransaction])),
    )
    .await;
    let pay = |invoice: String| {
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/invoices/{invoice}/pay"))
            .header("authorization", crate::stripe_client::basic(&key))
            .header("content-type", "application/x-www-form-urlencoded");
        stripe.send(request, Body::from("paid_out_of_band=true"))
    };
    let draft = app.create_invoice("USD").await;
    app.create_item(&draft, json!({"type": "debit", "unitPrice": 3}))
        .await;
    let refused = pay(draft.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(app.invoice(&draft).await["status"], "draft", "nothing kept");
    let issued = issued_invoice(&app, 3.0).await;
    let paid = pay(issued).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["status"], "paid");
}

#[sqlx::test]
async fn an_uncollectible_invoice_can_still_be_paid_or_voided_and_a_draft_is_not_written_off(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let draft = app.create_invoice("USD").await;
    let refused = stripe
        .post(&format!("/v1/invoices/{draft}/mark_uncollectible"), &[])
        .await;
    assert_stripe_error(&refused, StatusCode::BAD_REQUEST, None, None);
    assert_eq!(app.invoice(&draft).await["status"], "draft");

    let late_payer = issued_invoice(&app, 8.0).await;
    let written_off = stripe
        .post(
            &format!("/v1/invoices/{late_payer}/mark_uncollectible"),
            &[],
        )
        .await;
    assert_eq!(
        written_off.body["status"], "uncollectible",
        "{}",
        written_off.text
    );
    let paid = stripe
        .post(
            &format!("/v1/invoices/{late_payer}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(app.invoice(&late_payer).await["amountDue"], json!(0));

    let gone = issued_invoice(&app, 8.0).await;
    stripe
        .post(&format!("/v1/invoices/{gone}/mark_uncollectible"), &[])
        .await;
    let voided = stripe.post(&format!("/v1/invoices/{gone}/void"), &[]).await;
    assert_eq!(voided.body["status"], "void", "{}", voided.text);

    // A draft abandoned on the Rebilly routes was never issued: nothing to void.
    let abandoned = app.create_invoice("USD").await;
    app.post(&format!("/invoices/{abandoned}/abandon"), json!({}))
        .await;
    let void = app
        .post(&format!("/invoices/{abandoned}/void"), json!({}))
        .await;
    assert_eq!(void.status, StatusCode::CONFLICT, "{}", void.text);
}

#[sqlx::test]
async fn an_invoice_finalized_on_v1_without_a_due_date_never_turns_past_due(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let stripe = Stripe::of(&app);
    let open_ended = app.create_invoice("USD").await;
    app.create_item(&open_ended, json!({"type": "debit", "unitPrice": 4}))
        .await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{open_ended}/finalize"), &[])
        .await;
    assert_eq!(finalized.body["status"], "open", "{}", finalized.text);
    assert_eq!(finalized.body["due_date"], Value::Null);
    // On the Rebilly routes, issued without a dueTime, an invoice is due when issued.
    let due_on_issue = issued_invoice(&app, 4.0).await;
    let later = Utc::now() + chrono::Duration::seconds(1);
    let db = crate::helpers::app_db(&pool);
    assert_eq!(past_due::mark_past_due(&db, later).await.unwrap(), 1);
    assert_eq!(app.invoice(&open_ended).await["status"], "unpaid");
    assert_eq!(app.invoice(&due_on_issue).await["status"], "past-due");
}

/// A payment that leaves nothing due is, on `/v1/events`, `invoice.paid` and
/// `invoice.payment_succeeded`, as is an invoice with nothing to pay when finalized; a partial
/// one only `invoice.updated`, and one marked paid out of band only `invoice.paid`. The timeline shows the invoice paid, once.
#[sqlx::test]
async fn a_payment_that_pays_an_invoice_succeeds_and_one_made_elsewhere_only_pays(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let invoice = issued_invoice(&app, 100.0).await;
    let part = record(&app, "sale", 40.0).await;
    let rest = record(&app, "sale", 60.0).await;
    for payment in [part, rest] {
        let applied = apply(&app, &invoice, json!({"transactionId": payment})).await;
        assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    }
    // Nothing to pay is paid, by a payment that succeeds at once.
    let nothing = app.create_invoice("USD").await;
    let closed = stripe
        .post(&format!("/v1/invoices/{nothing}/finalize"), &[])
        .await;
    assert_eq!(closed.body["status"], "paid", "{}", closed.text);
    let elsewhere = issued_invoice(&app, 5.0).await;
    let marked = stripe
        .post(
            &format!("/v1/invoices/{elsewhere}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.text);

    let log = crate::stripe_events::settled_log(&stripe, 16).await;
    let of = |invoice: &str| -> Vec<String> {
        log["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["data"]["object"]["id"] == invoice)
            .map(|event| event["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        of(&invoice),
        [
            "invoice.payment_succeeded",
            "invoice.paid",
            "invoice.updated",
            "invoice.finalized",
            "invoice.updated",
            "invoice.created"
        ]
    );
    let succeeded = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| {
            event["type"] == "invoice.payment_succeeded" && event["data"]["object"]["id"] == invoice
        })
        .unwrap();
    assert_eq!(succeeded["data"]["object"]["status"], "paid");
    assert_eq!(succeeded["data"]["object"]["amount_paid"], json!(10000));
    assert_eq!(of(&elsewhere)[..2], ["invoice.paid", "invoice.finalized"]);
    assert_eq!(
        of(&nothing),
        [
            "invoice.payment_succeeded",
            "invoice.paid",
            "invoice.finalized",
            "invoice.created"
        ]
    );
    assert_eq!(
        event_types(&app, &invoice).await[..2],
        ["invoice-paid", "invoice-partially-paid"]
    );
}
