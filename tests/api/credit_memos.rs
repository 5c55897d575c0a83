//! Credit memos on the Rebilly routes: issued for an invoice, crediting its items with their
//! share of discount and tax, allocated to invoices (which lowers what they have due and can
//! pay them), moved, voided, numbered without gaps, and refused with the field named.

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse, assert_invalid_fields, assert_problem};

fn amount(value: &Value) -> Decimal {
    value.to_string().trim_matches('"').parse().unwrap()
}

/// An issued invoice of `cus_1` in USD: 3 seats at 10.00 taxed 2.40 by hand, and 20.00 of
/// support; its id and the seats item's id.
async fn issued_invoice(app: &TestApp) -> (String, String) {
    let invoice = app.create_invoice("USD").await;
    let seats = app
        .create_item(
            &invoice,
            json!({"type": "debit", "unitPrice": 10, "quantity": 3, "description": "Seats",
                   "tax": {"amount": 2.40, "description": "VAT"}}),
        )
        .await;
    app.create_item(&invoice, json!({"type": "debit", "unitPrice": 20}))
        .await;
    let issued = app
        .post(&format!("/invoices/{invoice}/issue"), json!({}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert_eq!(amount(&issued.body["amountDue"]), Decimal::new(5240, 2));
    (invoice, seats["id"].as_str().unwrap().to_owned())
}

async fn issue_memo(app: &TestApp, body: Value) -> TestResponse {
    app.post("/credit-memos", body).await
}

fn memo_body(invoice: &str, items: Value) -> Value {
    json!({"customerId": "cus_1", "currency": "USD", "invoiceId": invoice, "items": items})
}

#[sqlx::test]
async fn a_memo_credits_an_item_with_its_share_of_tax_and_lowers_what_is_due(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice, seats) = issued_invoice(&app).await;
    let mut body = memo_body(&invoice, json!([{"invoiceItemId": seats, "quantity": 1}]));
    body["reason"] = json!("product-unsatisfactory");
    body["description"] = json!("One seat was never used");
    body["allocations"] = json!({"invoices": [{"invoiceId": invoice}]});
    let created = issue_memo(&app, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let memo = &created.body;
    let id = memo["id"].as_str().unwrap();
    assert!(id.starts_with("crmm_"), "{id}");
    assert_eq!(
        created.header("location"),
        Some(format!("http://invoices.test/credit-memos/{id}").as_str())
    );
    assert_eq!(memo["number"], 1);
    assert_eq!(memo["invoiceId"], json!(invoice));
    assert_eq!(memo["reason"], "product-unsatisfactory");
    // A third of the seats: 10.00, with a third of their 2.40 of tax.
    let line = &memo["items"][0];
    assert_eq!(line["invoiceItemId"], json!(seats));
    assert_eq!(line["description"], "Seats");
    assert_eq!(
        (amount(&line["price"]), amount(&line["tax"]["amount"])),
        (Decimal::new(10, 0), Decimal::new(80, 2))
    );
    assert_eq!(line["tax"]["description"], "VAT");
    assert_eq!(amount(&memo["taxAmount"]), Decimal::new(80, 2));
    assert_eq!(amount(&memo["totalAmount"]), Decimal::new(1080, 2));
    assert_eq!(amount(&memo["unusedAmount"]), Decimal::ZERO);
    assert_eq!(memo["status"], "applied");
    assert_eq!(
        amount(&memo["allocations"]["invoices"][0]["amount"]),
        Decimal::new(1080, 2)
    );

    let credited = app.invoice(&invoice).await;
    assert_eq!(credited["status"], "partially-paid");
    assert_eq!(amount(&credited["amountDue"]), Decimal::new(4160, 2));
    assert_eq!(
        credited["creditMemoAllocations"][0]["creditMemoId"],
        json!(id)
    );
    assert_eq!(
        amount(&credited["creditMemoAllocations"][0]["amount"]),
        Decimal::new(1080, 2)
    );

    let read = app.get(&format!("/credit-memos/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);
    let listed = app
        .get(&format!("/credit-memos?filter=invoiceId:{invoice}"))
        .await;
    assert_eq!(listed.header("pagination-total"), Some("1"));
    assert_eq!(listed.body[0]["id"], json!(id));
    let none = app.get("/credit-memos?filter=customerId:cus_2").await;
    assert_eq!(none.header("pagination-total"), Some("0"));
    let missing = app.get("/credit-memos/crmm_none").await;
    assert_problem(
        &missing,
        StatusCode::NOT_FOUND,
        "Not Found",
        "/credit-memos/crmm_none",
    );
}

#[sqlx::test]
async fn credit_that_covers_what_is_due_pays_the_invoice_and_then_stays(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice, seats) = issued_invoice(&app).await;
    // The whole seats item (32.40 with its tax), and 20.00 said in words.
    let items = json!([{"invoiceItemId": seats},
                       {"description": "Support not given", "unitPrice": 20, "quantity": 1}]);
    let mut body = memo_body(&invoice, items);
    body["allocations"] = json!({"invoices": [{"invoiceId": invoice}]});
    let created = issue_memo(&app, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(amount(&created.body["totalAmount"]), Decimal::new(5240, 2));
    let paid = app.invoice(&invoice).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(amount(&paid["amountDue"]), Decimal::ZERO);
    assert!(paid["paidTime"].is_string());

    // Credit on a paid invoice no longer moves, nor can the memo be voided.
    let id = created.body["id"].as_str().unwrap();
    let void = app
        .post(&format!("/credit-memos/{id}/void"), json!({}))
        .await;
    assert_problem(
        &void,
        StatusCode::CONFLICT,
        "Conflict",
        &format!("/credit-memos/{id}/void"),
    );
    assert!(
        void.body["detail"].as_str().unwrap().contains("is paid"),
        "{}",
        void.text
    );
    // All the invoice charged is credited: no memo credits it again.
    let second = memo_body(&invoice, json!([{"description": "More", "unitPrice": 1}]));
    assert_invalid_fields(
        &issue_memo(&app, second).await,
        "/credit-memos",
        &[(
            "items",
            "must come to at most what earlier credit memos left to credit of the invoice, 0 USD",
        )],
    );
    // A memo of another invoice, not allocated yet: the refused one gave its number back.
    let (other, _) = issued_invoice(&app).await;
    let body = memo_body(&other, json!([{"description": "More", "unitPrice": 1}]));
    let unallocated = issue_memo(&app, body).await;
    assert_eq!(
        unallocated.status,
        StatusCode::CREATED,
        "{}",
        unallocated.text
    );
    assert_eq!(unallocated.body["number"], 2);
    assert_eq!(unallocated.body["status"], "issued");
    assert_eq!(amount(&unallocated.body["unusedAmount"]), Decimal::ONE);
    // It cannot go to the paid invoice, which credit no longer changes.
    let unallocated_id = unallocated.body["id"].as_str().unwrap();
    let refused = app
        .call(
            axum::http::Method::PATCH,
            &format!("/credit-memos/{unallocated_id}"),
            Some(json!({"allocations": {"invoices": [{"invoiceId": invoice}]}})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
}

#[sqlx::test]
async fn allocations_move_between_invoices_and_voiding_gives_back_what_was_due(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (first, _) = issued_invoice(&app).await;
    let (second, _) = issued_invoice(&app).await;
    let mut body = memo_body(
        &first,
        json!([{"description": "Goodwill", "unitPrice": 15}]),
    );
    body["allocations"] = json!({"invoices": [{"invoiceId": first, "amount": 5},
                                              {"invoiceId": second, "amount": 10}]});
    let created = issue_memo(&app, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        amount(&app.invoice(&first).await["amountDue"]),
        Decimal::new(4740, 2)
    );
    assert_eq!(
        amount(&app.invoice(&second).await["amountDue"]),
        Decimal::new(4240, 2)
    );

    // Listed alone, the second invoice takes all of it; the first has its credit withdrawn.
    let moved = app
        .call(
            axum::http::Method::PATCH,
            &format!("/credit-memos/{id}"),
            Some(json!({"reason": "waiver",
                        "allocations": {"invoices": [{"invoiceId": second}]}})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["reason"], "waiver");
    assert_eq!(moved.body["revision"], 1);
    assert_eq!(
        moved.body["allocations"]["invoices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let first_read = app.invoice(&first).await;
    assert_eq!(first_read["status"], "unpaid");
    assert_eq!(amount(&first_read["amountDue"]), Decimal::new(5240, 2));
    assert_eq!(first_read["creditMemoAllocations"], json!([]));
    assert_eq!(
        amount(&app.invoice(&second).await["amountDue"]),
        Decimal::new(3740, 2)
    );

    // Credit taken off an invoice makes it partially paid, which is not voided.
    let void_invoice = app
        .post(&format!("/invoices/{second}/void"), json!({}))
        .await;
    assert_eq!(
        void_invoice.status,
        StatusCode::CONFLICT,
        "{}",
        void_invoice.text
    );
    let voided = app
        .post(&format!("/credit-memos/{id}/void"), json!({}))
        .await;
    assert_eq!(voided.status, StatusCode::CREATED, "{}", voided.text);
    assert_eq!(voided.body["status"], "voided");
    assert_eq!(amount(&voided.body["unusedAmount"]), Decimal::ZERO);
    let second_read = app.invoice(&second).await;
    assert_eq!(second_read["status"], "unpaid");
    assert_eq!(amount(&second_read["amountDue"]), Decimal::new(5240, 2));
    let again = app
        .post(&format!("/credit-memos/{id}/void"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
}

#[sqlx::test]
async fn a_bad_memo_names_the_field_and_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice, seats) = issued_invoice(&app).await;
    let missing = app.post("/credit-memos", json!({"items": []})).await;
    assert_invalid_fields(
        &missing,
        "/credit-memos",
        &[
            ("customerId", "is required"),
            ("currency", "is required"),
            ("items", "must list at least one line"),
            (
                "invoiceId",
                "is required unless allocations.invoices names an invoice: a credit memo credits an invoice",
            ),
        ],
    );
    let more = issue_memo(
        &app,
        memo_body(&invoice, json!([{"invoiceItemId": seats, "quantity": 4}])),
    )
    .await;
    assert_invalid_fields(
        &more,
        "/credit-memos",
        &[(
            "items",
            "line 0: must credit at most the 3 units the item bills",
        )],
    );
    let unknown = issue_memo(
        &app,
        memo_body(&invoice, json!([{"invoiceItemId": "ii_none"}])),
    )
    .await;
    assert_invalid_fields(
        &unknown,
        "/credit-memos",
        &[("items", "line 0: must name an item of the credited invoice")],
    );
    let mut other = memo_body(&invoice, json!([{"description": "x", "unitPrice": 1}]));
    other["customerId"] = json!("cus_2");
    assert_invalid_fields(
        &issue_memo(&app, other).await,
        "/credit-memos",
        &[(
            "customerId",
            "must be the credited invoice's customer, cus_1",
        )],
    );
    let mut too_much = memo_body(&invoice, json!([{"description": "x", "unitPrice": 10}]));
    too_much["allocations"] = json!({"invoices": [{"invoiceId": invoice, "amount": 11}]});
    assert_invalid_fields(
        &issue_memo(&app, too_much).await,
        "/credit-memos",
        &[(
            "allocations.invoices.amount",
            "must not exceed what the credit memo has left to allocate, 10 USD",
        )],
    );
    let mut refund = memo_body(&invoice, json!([{"description": "x", "unitPrice": 10}]));
    refund["allocations"] = json!({"transactions": [{"transactionId": "txn_1"}]});
    assert_invalid_fields(
        &issue_memo(&app, refund).await,
        "/credit-memos",
        &[(
            "allocations.transactions",
            "is not taken: give money back with a refund transaction (POST /transactions)",
        )],
    );
    let draft = app.create_invoice("USD").await;
    let on_draft = issue_memo(
        &app,
        memo_body(&draft, json!([{"description": "x", "unitPrice": 1}])),
    )
    .await;
    assert_eq!(on_draft.status, StatusCode::CONFLICT, "{}", on_draft.text);
    // None of it left a memo, or a number.
    let listed = app.get("/credit-memos").await;
    assert_eq!(listed.header("pagination-total"), Some("0"));
    assert_eq!(
        amount(&app.invoice(&invoice).await["amountDue"]),
        Decimal::new(5240, 2)
    );
    let first = issue_memo(
        &app,
        memo_body(&invoice, json!([{"description": "x", "unitPrice": 1}])),
    )
    .await;
    assert_eq!(first.body["number"], 1);
}

#[sqlx::test]
async fn credit_events_join_the_invoice_timeline_in_order(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (invoice, _) = issued_invoice(&app).await;
    let mut body = memo_body(
        &invoice,
        json!([{"description": "Goodwill", "unitPrice": 5}]),
    );
    body["allocations"] = json!({"invoices": [{"invoiceId": invoice}]});
    let created = issue_memo(&app, body).await;
    let id = created.body["id"].as_str().unwrap();
    let voided = app
        .post(&format!("/credit-memos/{id}/void"), json!({}))
        .await;
    assert_eq!(voided.status, StatusCode::CREATED, "{}", voided.text);
    let timeline = app
        .get(&format!("/invoices/{invoice}/timeline?limit=100"))
        .await;
    let mut types: Vec<String> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["type"].as_str().unwrap().to_owned())
        .collect();
    types.reverse();
    // Each event is a revision of its own.
    let mut revisions: Vec<i64> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["revision"].as_i64().unwrap())
        .collect();
    revisions.reverse();
    assert!(
        revisions.windows(2).all(|pair| pair[0] < pair[1]),
        "{revisions:?}"
    );
    let tail = &types[types.len() - 5..];
    assert_eq!(
        tail,
        [
            "credit-memo-created",
            "credit-memo-applied",
            "invoice-partially-paid",
            "invoice-modified",
            "credit-memo-voided",
        ],
        "{types:?}"
    );
    let message = &timeline.body[0];
    assert_eq!(
        message["message"],
        json!(format!("Credit memo {id} voided.")),
        "{message}"
    );
}

#[sqlx::test]
async fn an_item_is_credited_once_in_all_and_credit_left_over_goes_elsewhere(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (first, seats) = issued_invoice(&app).await;
    let (second, _) = issued_invoice(&app).await;
    let whole = issue_memo(&app, memo_body(&first, json!([{"invoiceItemId": seats}]))).await;
    assert_eq!(whole.status, StatusCode::CREATED, "{}", whole.text);
    let again = issue_memo(
        &app,
        memo_body(&first, json!([{"invoiceItemId": seats, "quantity": 1}])),
    )
    .await;
    assert_invalid_fields(
        &again,
        "/credit-memos",
        &[(
            "items",
            "line 0: must credit at most what earlier credit memos left of the item's price, 0",
        )],
    );
    // A memo of 52.40 gives 50.00 to the second invoice, which a payment of the rest then
    // pays; the 2.40 it kept may still go to another invoice while the paid one keeps its part.
    let mut body = memo_body(
        &second,
        json!([{"description": "Goodwill", "unitPrice": 52.40}]),
    );
    body["invoiceId"] = json!(second);
    body["allocations"] = json!({"invoices": [{"invoiceId": second, "amount": 50}]});
    let memo = issue_memo(&app, body).await;
    assert_eq!(memo.status, StatusCode::CREATED, "{}", memo.text);
    let id = memo.body["id"].as_str().unwrap();
    let paid_by_other = app
        .post(
            "/transactions",
            json!({"type": "sale", "customerId": "cus_1", "websiteId": "web_1",
                   "currency": "USD", "amount": 2.40, "paymentInstrument": {"method": "cash"}}),
        )
        .await;
    let applied = app
        .post(
            &format!("/invoices/{second}/transaction"),
            json!({"transactionId": paid_by_other.body["id"]}),
        )
        .await;
    assert_eq!(applied.body["status"], "paid", "{}", applied.text);
    let moved = app
        .call(
            axum::http::Method::PATCH,
            &format!("/credit-memos/{id}"),
            Some(json!({"allocations": {"invoices": [{"invoiceId": second},
                                                      {"invoiceId": first}]}})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["status"], "applied");
    assert_eq!(
        amount(&app.invoice(&first).await["amountDue"]),
        Decimal::new(5000, 2)
    );
}
