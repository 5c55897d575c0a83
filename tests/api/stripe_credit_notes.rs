//! `/v1/credit_notes`: Stripe's credit notes over the same credit memos as `/credit-memos`,
//! taken off what an open invoice has left to pay, or given back out of band on a paid one.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse};
use crate::stripe_client::{Stripe, assert_stripe_error};

fn ids(page: &TestResponse) -> Vec<String> {
    page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|object| object["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A bad request: what it is, its parameters, and the error's `code` and `param`.
type BadCase<'a> = (
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
    Option<&'a str>,
);

fn id(object: &Value) -> String {
    object["id"].as_str().unwrap().to_owned()
}

/// An open invoice of `cus_9` in USD: 2 seats at 12.50 and a 5.00 setup fee (30.00 in all);
/// its id and its seats' item id.
async fn open_invoice(stripe: &Stripe<'_>) -> (String, String) {
    let seats = stripe
        .create(&[
            ("customer", "cus_9"),
            ("currency", "usd"),
            ("unit_amount", "1250"),
            ("quantity", "2"),
            ("description", "Seats"),
        ])
        .await;
    stripe
        .create(&[
            ("customer", "cus_9"),
            ("currency", "usd"),
            ("amount", "500"),
        ])
        .await;
    let draft = stripe
        .post(
            "/v1/invoices",
            &[
                ("customer", "cus_9"),
                ("currency", "usd"),
                ("pending_invoice_items_behavior", "include"),
            ],
        )
        .await;
    let invoice = id(&draft.body);
    let finalized = stripe
        .post(&format!("/v1/invoices/{invoice}/finalize"), &[])
        .await;
    assert_eq!(
        finalized.body["amount_remaining"], 3000,
        "{}",
        finalized.text
    );
    (invoice, id(&seats))
}

#[sqlx::test]
async fn a_note_on_an_open_invoice_lowers_what_it_has_left_to_pay_on_both_dialects(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, seats) = open_invoice(&stripe).await;
    let created = stripe
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", &invoice),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", &seats),
                ("lines[0][quantity]", "1"),
                ("lines[1][type]", "custom_line_item"),
                ("lines[1][unit_amount]", "150"),
                ("lines[1][quantity]", "2"),
                ("lines[1][description]", "Goodwill"),
                ("amount", "1550"),
                ("reason", "order_change"),
                ("memo", "One seat fewer"),
                ("metadata[ticket]", "T-7"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let note = &created.body;
    let note_id = id(note);
    assert!(note_id.starts_with("crmm_"), "the same row as a memo");
    assert_eq!(
        (
            note["object"].clone(),
            note["amount"].clone(),
            note["total"].clone(),
            note["subtotal"].clone(),
            note["currency"].clone(),
            note["customer"].clone(),
            note["invoice"].clone(),
        ),
        (
            json!("credit_note"),
            json!(1550),
            json!(1550),
            json!(1550),
            json!("usd"),
            json!("cus_9"),
            json!(invoice),
        )
    );
    assert_eq!(
        (
            note["status"].clone(),
            note["type"].clone(),
            note["pre_payment_amount"].clone(),
            note["post_payment_amount"].clone(),
            note["out_of_band_amount"].clone(),
            note["reason"].clone(),
            note["memo"].clone(),
            note["metadata"].clone(),
        ),
        (
            json!("issued"),
            json!("pre_payment"),
            json!(1550),
            json!(0),
            Value::Null,
            json!("order_change"),
            json!("One seat fewer"),
            json!({"ticket": "T-7"}),
        )
    );
    assert!(note["number"].is_string());
    assert!(
        note["pdf"]
            .as_str()
            .is_some_and(|pdf| pdf.ends_with(&format!("/credit-memos/{note_id}"))),
        "{}",
        note["pdf"]
    );
    let lines = note["lines"]["data"].as_array().unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|line| {
                (
                    line["type"].clone(),
                    line["invoice_line_item"].clone(),
                    line["amount"].clone(),
                    line["unit_amount"].clone(),
                    line["quantity"].clone(),
                )
            })
            .collect::<Vec<_>>(),
        [
            (
                json!("invoice_line_item"),
                json!(seats),
                json!(1250),
                json!(1250),
                json!(1)
            ),
            (
                json!("custom_line_item"),
                Value::Null,
                json!(300),
                json!(150),
                json!(2)
            ),
        ]
    );
    assert_eq!(lines[0]["object"], "credit_note_line_item");
    assert_eq!(lines[0]["description"], "Seats");
    let read = stripe.get(&format!("/v1/credit_notes/{note_id}")).await;
    assert_eq!(read.body, created.body);
    let paged = stripe
        .get(&format!("/v1/credit_notes/{note_id}/lines?limit=1"))
        .await;
    assert_eq!(
        (ids(&paged), paged.body["has_more"].clone()),
        (vec![id(&lines[0])], json!(true))
    );
    let rest = stripe
        .get(&format!(
            "/v1/credit_notes/{note_id}/lines?starting_after={}",
            id(&lines[0])
        ))
        .await;
    assert_eq!(ids(&rest), [id(&lines[1])]);
    // The invoice has 15.50 less to pay, on both dialects.
    let after = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(
        (
            after.body["status"].clone(),
            after.body["amount_remaining"].clone(),
            after.body["pre_payment_credit_notes_amount"].clone(),
            after.body["post_payment_credit_notes_amount"].clone(),
        ),
        (json!("open"), json!(1450), json!(1550), json!(0))
    );
    let rebilly = app.invoice(&invoice).await;
    assert_eq!(rebilly["amountDue"], json!(14.5), "{rebilly}");
}

#[sqlx::test]
async fn a_note_of_all_that_is_left_pays_the_invoice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, _) = open_invoice(&stripe).await;
    let created = stripe
        .post(
            "/v1/credit_notes",
            &[("invoice", &invoice), ("amount", "3000")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let lines = created.body["lines"]["data"].as_array().unwrap();
    assert_eq!(
        (
            lines.len(),
            lines[0]["type"].clone(),
            lines[0]["description"].clone()
        ),
        (1, json!("custom_line_item"), json!("Credit"))
    );
    let paid = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(
        (
            paid.body["status"].clone(),
            paid.body["amount_remaining"].clone(),
            paid.body["pre_payment_credit_notes_amount"].clone(),
        ),
        (json!("paid"), json!(0), json!(3000))
    );
    // Notes have credited all the invoice charged: no more can be.
    let more = stripe
        .post(
            "/v1/credit_notes",
            &[("invoice", &invoice), ("amount", "100")],
        )
        .await;
    assert_stripe_error(&more, StatusCode::BAD_REQUEST, None, Some("amount"));
}

#[sqlx::test]
async fn a_note_on_a_paid_invoice_is_given_back_out_of_band(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, seats) = open_invoice(&stripe).await;
    let paid = stripe
        .post(
            &format!("/v1/invoices/{invoice}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.text);
    let wrong = stripe
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", &invoice),
                ("amount", "500"),
                ("out_of_band_amount", "100"),
            ],
        )
        .await;
    assert_stripe_error(
        &wrong,
        StatusCode::BAD_REQUEST,
        None,
        Some("out_of_band_amount"),
    );
    let created = stripe
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", &invoice),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", &seats),
                ("lines[0][quantity]", "1"),
                ("out_of_band_amount", "1250"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(
        (
            created.body["type"].clone(),
            created.body["out_of_band_amount"].clone(),
            created.body["post_payment_amount"].clone(),
            created.body["pre_payment_amount"].clone(),
            created.body["total"].clone(),
        ),
        (
            json!("post_payment"),
            json!(1250),
            json!(1250),
            json!(0),
            json!(1250)
        )
    );
    let after = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(
        (
            after.body["status"].clone(),
            after.body["amount_remaining"].clone(),
            after.body["pre_payment_credit_notes_amount"].clone(),
            after.body["post_payment_credit_notes_amount"].clone(),
        ),
        (json!("paid"), json!(0), json!(0), json!(1250))
    );
    // What was given back cannot be taken back by voiding the note.
    let void = stripe
        .post(&format!("/v1/credit_notes/{}/void", id(&created.body)), &[])
        .await;
    assert_stripe_error(&void, StatusCode::BAD_REQUEST, None, None);
}

#[sqlx::test]
async fn a_preview_stores_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, seats) = open_invoice(&stripe).await;
    let preview = stripe
        .get(&format!(
            "/v1/credit_notes/preview?invoice={invoice}&lines[0][type]=invoice_line_item\
             &lines[0][invoice_line_item]={seats}&reason=duplicate"
        ))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(
        (
            preview.body["object"].clone(),
            preview.body["total"].clone(),
            preview.body["reason"].clone(),
            preview.body["type"].clone(),
        ),
        (
            json!("credit_note"),
            json!(2500),
            json!("duplicate"),
            json!("pre_payment")
        )
    );
    let listed = stripe.get("/v1/credit_notes").await;
    assert_eq!(ids(&listed), Vec::<String>::new());
    let invoice_after = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(invoice_after.body["amount_remaining"], 3000);
    let previewed = stripe
        .get(&format!("/v1/credit_notes/{}", id(&preview.body)))
        .await;
    assert_stripe_error(
        &previewed,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
    let bad = stripe
        .get(&format!(
            "/v1/credit_notes/preview?invoice={invoice}&amount=x"
        ))
        .await;
    assert_stripe_error(
        &bad,
        StatusCode::BAD_REQUEST,
        Some("parameter_invalid_integer"),
        Some("amount"),
    );
}

#[sqlx::test]
async fn notes_list_newest_first_by_cursor_and_by_invoice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (first, _) = open_invoice(&stripe).await;
    let (second, _) = open_invoice(&stripe).await;
    let mut made = Vec::new();
    for invoice in [&first, &second, &first] {
        let note = stripe
            .post(
                "/v1/credit_notes",
                &[("invoice", invoice), ("amount", "100")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.text);
        made.push(id(&note.body));
    }
    let newest: Vec<String> = made.iter().rev().cloned().collect();
    let all = stripe.get("/v1/credit_notes").await;
    assert_eq!(
        (ids(&all), all.body["url"].clone()),
        (newest.clone(), json!("/v1/credit_notes"))
    );
    let page = stripe.get("/v1/credit_notes?limit=2").await;
    assert_eq!(
        (ids(&page), page.body["has_more"].clone()),
        (newest[..2].to_vec(), json!(true))
    );
    let next = stripe
        .get(&format!(
            "/v1/credit_notes?limit=2&starting_after={}",
            newest[1]
        ))
        .await;
    assert_eq!(
        (ids(&next), next.body["has_more"].clone()),
        (newest[2..].to_vec(), json!(false))
    );
    let back = stripe
        .get(&format!(
            "/v1/credit_notes?limit=1&ending_before={}",
            newest[2]
        ))
        .await;
    assert_eq!(
        (ids(&back), back.body["has_more"].clone()),
        (vec![newest[1].clone()], json!(true))
    );
    let of_first = stripe
        .get(&format!("/v1/credit_notes?invoice={first}"))
        .await;
    assert_eq!(ids(&of_first), [made[2].clone(), made[0].clone()]);
    let after_in_first = stripe
        .get(&format!(
            "/v1/credit_notes?invoice={first}&starting_after={}",
            made[1]
        ))
        .await;
    assert_eq!(
        ids(&after_in_first),
        [made[0].clone()],
        "a cursor of another invoice's note still marks a place in time"
    );
    let of_customer = stripe.get("/v1/credit_notes?customer=cus_9").await;
    assert_eq!(ids(&of_customer), newest);
    let missing = stripe
        .get("/v1/credit_notes?starting_after=crmm_gone")
        .await;
    assert_stripe_error(
        &missing,
        StatusCode::BAD_REQUEST,
        Some("resource_missing"),
        Some("starting_after"),
    );
}

#[sqlx::test]
async fn voiding_a_note_gives_back_what_it_took_off(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, _) = open_invoice(&stripe).await;
    let note = stripe
        .post(
            "/v1/credit_notes",
            &[("invoice", &invoice), ("amount", "1000")],
        )
        .await;
    let note_id = id(&note.body);
    let lowered = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(lowered.body["amount_remaining"], 2000);
    let voided = stripe
        .post(&format!("/v1/credit_notes/{note_id}/void"), &[])
        .await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.text);
    assert_eq!(voided.body["status"], "void");
    assert!(voided.body["voided_at"].is_i64());
    let restored = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(
        (
            restored.body["amount_remaining"].clone(),
            restored.body["pre_payment_credit_notes_amount"].clone(),
        ),
        (json!(3000), json!(0))
    );
    assert_eq!(app.invoice(&invoice).await["amountDue"], json!(30));
    let again = stripe
        .post(&format!("/v1/credit_notes/{note_id}/void"), &[])
        .await;
    assert_stripe_error(&again, StatusCode::BAD_REQUEST, None, None);
    let unknown = stripe.post("/v1/credit_notes/crmm_gone/void", &[]).await;
    assert_stripe_error(
        &unknown,
        StatusCode::NOT_FOUND,
        Some("resource_missing"),
        Some("id"),
    );
}

#[sqlx::test]
async fn bad_parameters_are_400_naming_them_and_credit_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, seats) = open_invoice(&stripe).await;
    let draft = stripe
        .post(
            "/v1/invoices",
            &[("customer", "cus_9"), ("currency", "usd")],
        )
        .await;
    let draft = id(&draft.body);
    let cases: Vec<BadCase> = vec![
        (
            "no invoice",
            vec![("amount", "100")],
            Some("parameter_missing"),
            Some("invoice"),
        ),
        (
            "neither amount nor lines",
            vec![("invoice", &invoice)],
            Some("parameter_missing"),
            Some("lines"),
        ),
        (
            "an amount of nothing",
            vec![("invoice", &invoice), ("amount", "0")],
            None,
            Some("amount"),
        ),
        (
            "an invoice of no one",
            vec![("invoice", "in_gone"), ("amount", "100")],
            Some("resource_missing"),
            Some("invoice"),
        ),
        (
            "a line of no known type",
            vec![("invoice", &invoice), ("lines[0][type]", "discount")],
            None,
            Some("lines[0][type]"),
        ),
        (
            "a custom line without words",
            vec![
                ("invoice", &invoice),
                ("lines[0][type]", "custom_line_item"),
                ("lines[0][unit_amount]", "100"),
            ],
            Some("parameter_missing"),
            Some("lines[0][description]"),
        ),
        (
            "an invoice line naming no line",
            vec![
                ("invoice", &invoice),
                ("lines[0][type]", "invoice_line_item"),
            ],
            Some("parameter_missing"),
            Some("lines[0][invoice_line_item]"),
        ),
        (
            "more units than billed",
            vec![
                ("invoice", &invoice),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", &seats),
                ("lines[0][quantity]", "3"),
            ],
            None,
            Some("lines[0][quantity]"),
        ),
        (
            "a line of another invoice",
            vec![
                ("invoice", &invoice),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", "ii_gone"),
            ],
            None,
            Some("lines[0][invoice_line_item]"),
        ),
        (
            "an amount the lines do not come to",
            vec![
                ("invoice", &invoice),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", &seats),
                ("amount", "100"),
            ],
            None,
            Some("amount"),
        ),
        (
            "more than the invoice has left to pay",
            vec![("invoice", &invoice), ("amount", "3001")],
            None,
            Some("amount"),
        ),
        (
            "a reason Stripe does not have",
            vec![
                ("invoice", &invoice),
                ("amount", "100"),
                ("reason", "waiver"),
            ],
            None,
            Some("reason"),
        ),
        (
            "money given back on an open invoice",
            vec![
                ("invoice", &invoice),
                ("amount", "100"),
                ("out_of_band_amount", "100"),
            ],
            None,
            Some("out_of_band_amount"),
        ),
        (
            "a refund, which this server never makes",
            vec![
                ("invoice", &invoice),
                ("amount", "100"),
                ("refund_amount", "100"),
            ],
            Some("parameter_unknown"),
            Some("refund_amount"),
        ),
        (
            "credit to a customer balance, which this server does not keep",
            vec![
                ("invoice", &invoice),
                ("amount", "100"),
                ("credit_amount", "100"),
            ],
            Some("parameter_unknown"),
            Some("credit_amount"),
        ),
        (
            "a line's tax rates",
            vec![
                ("invoice", &invoice),
                ("lines[0][type]", "custom_line_item"),
                ("lines[0][unit_amount]", "100"),
                ("lines[0][description]", "Fee"),
                ("lines[0][tax_rates][0]", "txr_1"),
            ],
            Some("parameter_unknown"),
            Some("lines[0][tax_rates]"),
        ),
        (
            "a draft invoice",
            vec![("invoice", &draft), ("amount", "100")],
            None,
            None,
        ),
    ];
    for (case, pairs, code, param) in cases {
        let response = stripe.post("/v1/credit_notes", &pairs).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            response.text
        );
        assert_stripe_error(&response, StatusCode::BAD_REQUEST, code, param);
    }
    let listed = stripe.get("/v1/credit_notes").await;
    assert_eq!(ids(&listed), Vec::<String>::new());
    let untouched = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    assert_eq!(untouched.body["amount_remaining"], 3000);
}

#[sqlx::test]
async fn a_note_past_what_a_partly_paid_invoice_has_due_is_mixed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let (invoice, _) = open_invoice(&stripe).await;
    // 10.00 of its 30.00 paid on the Rebilly routes.
    let sale = app
        .post(
            "/transactions",
            json!({"type": "sale", "customerId": "cus_9", "websiteId": "web_1",
                   "currency": "USD", "amount": 10, "paymentInstrument": {"method": "cash"}}),
        )
        .await;
    let applied = app
        .post(
            &format!("/invoices/{invoice}/transaction"),
            json!({"transactionId": sale.body["id"]}),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    // Out of band must be the part past what is due.
    let wrong = stripe
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", &invoice),
                ("amount", "2500"),
                ("out_of_band_amount", "100"),
            ],
        )
        .await;
    assert_stripe_error(
        &wrong,
        StatusCode::BAD_REQUEST,
        None,
        Some("out_of_band_amount"),
    );
    let note = stripe
        .post(
            "/v1/credit_notes",
            &[("invoice", &invoice), ("amount", "2500")],
        )
        .await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.text);
    assert_eq!(
        (
            note.body["type"].clone(),
            note.body["pre_payment_amount"].clone(),
            note.body["post_payment_amount"].clone(),
            note.body["out_of_band_amount"].clone(),
        ),
        (json!("mixed"), json!(2000), json!(500), json!(500))
    );
    let read = stripe.get(&format!("/v1/invoices/{invoice}")).await;
    let body = &read.body;
    assert_eq!(body["status"], "paid", "{body}");
    assert_eq!(body["amount_remaining"], 0);
    assert_eq!(body["pre_payment_credit_notes_amount"], 2000);
    assert_eq!(body["post_payment_credit_notes_amount"], 500);
    // What it asks once credit before payment is off, paid in full.
    assert_eq!(body["amount_due"], 1000);
    assert_eq!(body["amount_paid"], 1000);
    let rebilly = app.invoice(&invoice).await;
    assert_eq!(rebilly["amountDue"], json!(0));
}
