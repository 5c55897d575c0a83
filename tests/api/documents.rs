//! `GET /invoices/{id}` with `Accept: application/pdf`: the document, read back by a real PDF
//! reader (poppler's `pdftotext` and `pdfinfo`), shows the parties, every item and every total
//! exactly as the JSON does; long invoices flow over pages; `Accept` and `If-None-Match` work as
//! RFC 9110 has them.

use std::process::Command;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::helpers::{ORGANIZATION, TestApp, request};

/// An answer's status, headers and bytes.
pub(crate) struct Raw {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) bytes: Vec<u8>,
}

impl Raw {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

pub(crate) async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Raw {
    let mut builder = request(Method::GET, path, None).header("REB-APIKEY", &app.api_key);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request: axum::http::Request<Body> = builder.body_json();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Raw {
        status,
        headers,
        bytes: bytes.to_vec(),
    }
}

async fn pdf(app: &TestApp, invoice_id: &str) -> Vec<u8> {
    let answer = get(
        app,
        &format!("/invoices/{invoice_id}"),
        &[("Accept", "application/pdf")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/pdf"));
    assert!(answer.bytes.starts_with(b"%PDF-"), "not a PDF");
    answer.bytes
}

/// Runs a poppler tool on the PDF; `pdftotext` and `pdfinfo` come with Debian's poppler-utils.
fn poppler(tool: &str, arguments: &[&str], pdf: &[u8]) -> String {
    let file = std::env::temp_dir().join(format!(
        "invoice-api-test-{}.pdf",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, pdf).unwrap();
    let output = Command::new(tool)
        .args(arguments)
        .arg(&file)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run {tool} ({error}): apt-get install poppler-utils (.ci/run does)")
        });
    let _ = std::fs::remove_file(&file);
    assert!(output.status.success(), "{tool} failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

pub(crate) fn text_of(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-layout"], pdf)
}

/// A JSON amount as the document prints it: the currency's decimals, thousands grouped.
fn printed(value: &Value, places: usize) -> String {
    let text = value.to_string();
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if places > 0 {
        grouped.push('.');
        grouped.push_str(&format!("{fraction:0<places$}"));
    }
    if negative {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A draft with a discount, two tax rates and three items (one a credit) in `currency`.
async fn invoice_in(app: &TestApp, id: &str, currency: &str, unit_price: f64) -> Value {
    let created = app
        .put(
            &format!("/invoices/{id}"),
            json!({"customerId": "cus_doc", "websiteId": "web_doc", "currency": currency,
                   "poNumber": "PO-4471", "notes": "Payable within 30 days.",
                   "discounts": [{"type": "percent", "value": 10, "description": "Loyalty"}],
                   "tax": {"calculator": "rates", "stateRate": 0.0625, "cityRate": 0.01}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let items = [
        json!({"type": "debit", "description": "Annual plan — Ελληνικά, Кириллица", "unitPrice": unit_price, "quantity": 12,
               "periodStartTime": "2026-01-01T00:00:00Z", "periodEndTime": "2026-12-31T00:00:00Z"}),
        json!({"type": "debit", "description": "Onboarding", "unitPrice": unit_price * 3.0, "quantity": 1}),
        // Characters DejaVu Sans has no glyph for: drawn from the fallback face.
        json!({"type": "debit", "description": "座席 年間 한국어", "unitPrice": unit_price, "quantity": 2}),
        json!({"type": "credit", "description": "Goodwill", "unitPrice": unit_price, "quantity": 1}),
    ];
    for item in items {
        app.create_item(id, item).await;
    }
    app.invoice(id).await
}

#[sqlx::test]
async fn the_document_shows_the_parties_every_item_and_every_total_as_the_json_does(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for (currency, places, unit_price) in [("USD", 2, 1234.5), ("JPY", 0, 1000.0), ("BHD", 3, 1.25)]
    {
        let id = format!("inv-doc-{}", currency.to_lowercase());
        let invoice = invoice_in(&app, &id, currency, unit_price).await;
        let text = text_of(&pdf(&app, &id).await);
        for expected in [&id, ORGANIZATION, "cus_doc", "web_doc", "PO-4471", currency] {
            assert!(
                text.contains(expected),
                "{currency}: no {expected:?} in\n{text}"
            );
        }
        assert!(text.contains("Payable within 30 days."), "{text}");
        assert!(text.contains("Page 1 of 1"), "{text}");
        for item in invoice["items"].as_array().unwrap() {
            let description = item["description"].as_str().unwrap();
            assert!(
                text.contains(description),
                "{currency}: no {description:?} in\n{text}"
            );
            let mut price = printed(&item["price"], places);
            if item["type"] == "credit" {
                price = format!("-{price}");
            }
            let row = text
                .lines()
                .find(|line| line.contains(description))
                .unwrap();
            assert!(row.contains(&price), "{currency}: {price} not in {row:?}");
            let discount = printed(&item["discountAmount"], places);
            assert!(
                row.contains(&discount),
                "{currency}: {discount} not in {row:?}"
            );
        }
        let totals = [
            ("Subtotal", printed(&invoice["subtotalAmount"], places)),
            ("Tax", printed(&invoice["tax"]["amount"], places)),
            ("Total", printed(&invoice["amount"], places)),
            ("Amount due", printed(&invoice["amountDue"], places)),
            (
                "Discount: Loyalty (10%)",
                format!("-{}", printed(&invoice["discountAmount"], places)),
            ),
        ];
        for (label, amount) in totals {
            let line = text
                .lines()
                .find(|line| line.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("{currency}: no {label} line in\n{text}"));
            assert!(
                line.trim_end().ends_with(&amount),
                "{currency}: {label} should read {amount}: {line:?}"
            );
        }
        assert!(
            text.contains("State tax 6.25%") && text.contains("City tax 1%"),
            "{text}"
        );
    }
}

#[sqlx::test]
async fn the_seller_is_the_organization_and_dates_are_in_its_time_zone(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let details = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(
                json!({"name": "Acme Ltd", "address": "36 Craven St", "city": "London",
                        "postalCode": "WC2N 5NF", "country": "GB",
                        "emails": [{"value": "billing@acme.example", "primary": true}],
                        "invoiceTimeZone": "America/New_York"}),
            ),
        )
        .await;
    assert_eq!(details.status, StatusCode::OK, "{}", details.text);
    invoice_in(&app, "inv-zone", "USD", 10.0).await;
    // 03:00 UTC on 1 December is still 30 November in New York.
    let issued = app
        .post(
            "/invoices/inv-zone/issue",
            json!({"issuedTime": "2026-12-01T03:00:00Z", "dueTime": "2026-12-31T12:00:00Z"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let text = text_of(&pdf(&app, "inv-zone").await);
    for expected in [
        "Acme Ltd",
        "36 Craven St",
        "WC2N 5NF London GB",
        "billing@acme.example",
        "America/New_York",
        "2026-11-30",
        "2026-12-31",
        // The item's period, 2026-01-01 to 2026-12-31 at midnight UTC, on two lines.
        "2025-12-31 –",
        "2026-12-30",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    assert!(!text.contains("2026-12-01"), "{text}");
}

#[sqlx::test]
async fn a_draft_says_so_and_an_issued_invoice_shows_its_status_and_dates(pool: PgPool) {
    let app = TestApp::new(pool).await;
    invoice_in(&app, "inv-life", "USD", 10.0).await;
    let draft = text_of(&pdf(&app, "inv-life").await);
    assert!(draft.contains("Draft"), "{draft}");
    assert!(!draft.contains("No. "), "{draft}");
    let issued = app
        .post(
            "/invoices/inv-life/issue",
            json!({"issuedTime": "2026-11-30T10:00:00Z", "dueTime": "2026-12-30T10:00:00Z"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let text = text_of(&pdf(&app, "inv-life").await);
    assert!(!text.contains("Draft"), "{text}");
    assert!(text.contains("No. 1"), "its number: {text}");
    assert!(text.contains("unpaid"), "{text}");
    assert!(
        text.contains("2026-11-30") && text.contains("2026-12-30"),
        "{text}"
    );
}

#[sqlx::test]
async fn a_long_invoice_flows_over_pages_with_the_table_header_on_each(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    for n in 1..=150 {
        app.create_item(
            &id,
            json!({"type": "debit", "description": format!("Line item number {n:03}"), "unitPrice": n}),
        )
        .await;
    }
    let document = pdf(&app, &id).await;
    let info = poppler("pdfinfo", &[], &document);
    let pages: usize = info
        .lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages >= 3, "{info}");
    for page in 1..=pages {
        let number = page.to_string();
        let text = poppler(
            "pdftotext",
            &["-layout", "-f", &number, "-l", &number],
            &document,
        );
        assert!(
            text.contains("Description"),
            "page {page}: no header\n{text}"
        );
        assert!(
            text.contains(&format!("Page {page} of {pages}")),
            "page {page}: no page number\n{text}"
        );
    }
    let text = text_of(&document);
    for n in 1..=150 {
        assert!(
            text.contains(&format!("Line item number {n:03}")),
            "item {n}"
        );
    }
    assert!(text.contains("11,325.00"), "the subtotal of 1..=150");
}

#[sqlx::test]
async fn accept_chooses_json_or_pdf_and_anything_else_is_406(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("EUR").await;
    let path = format!("/invoices/{id}");
    for (accept, expected) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some("application/pdf"), "application/pdf"),
        (
            Some("application/json;q=0.4, application/pdf;q=0.8"),
            "application/pdf",
        ),
        (
            Some("application/*, application/json;q=0"),
            "application/pdf",
        ),
        (Some("text/html, */*;q=0.1"), "application/json"),
    ] {
        let headers: Vec<(&str, &str)> = accept.iter().map(|value| ("Accept", *value)).collect();
        let answer = get(&app, &path, &headers).await;
        assert_eq!(answer.status, StatusCode::OK, "{accept:?}");
        assert_eq!(answer.header("content-type"), Some(expected), "{accept:?}");
        assert_eq!(answer.header("vary"), Some("accept"));
    }
    for accept in [
        "text/html",
        "text/xml, image/*",
        "application/pdf;q=0, application/json;q=0, application/*;q=0",
    ] {
        let answer = get(&app, &path, &[("Accept", accept)]).await;
        assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json")
        );
        let problem: Value = serde_json::from_slice(&answer.bytes).unwrap();
        assert_eq!(problem["status"], 406);
        assert_eq!(problem["type"], "/problems/not-acceptable");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("application/json, application/pdf, application/vnd.oasis.ubl+xml and application/xml"),
            "{problem}"
        );
    }
    let prefixed = get(
        &app,
        &format!("/organizations/{ORGANIZATION}/invoices/{id}"),
        &[("Accept", "application/pdf")],
    )
    .await;
    assert_eq!(prefixed.status, StatusCode::OK);
    assert!(prefixed.bytes.starts_with(b"%PDF-"));
}

#[sqlx::test]
async fn each_representation_has_its_own_etag_and_if_none_match_answers_304(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let id = app.create_invoice("USD").await;
    let path = format!("/invoices/{id}");
    let first = get(&app, &path, &[("Accept", "application/pdf")]).await;
    assert_eq!(first.header("etag"), Some("\"r0-pdf-0-d2\""));
    let json = get(&app, &path, &[]).await;
    assert_eq!(json.header("etag"), Some("\"r0\""));

    let unchanged = get(
        &app,
        &path,
        &[
            ("Accept", "application/pdf"),
            ("If-None-Match", "\"r0-pdf-0-d2\""),
        ],
    )
    .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.bytes.is_empty());
    assert_eq!(unchanged.header("etag"), Some("\"r0-pdf-0-d2\""));
    let other_representation = get(
        &app,
        &path,
        &[("Accept", "application/pdf"), ("If-None-Match", "\"r0\"")],
    )
    .await;
    assert_eq!(other_representation.status, StatusCode::OK);

    app.create_item(&id, json!({"type": "debit", "unitPrice": 5}))
        .await;
    let pdf_since = |tag: &str| {
        let tag = tag.to_owned();
        let (app, path) = (&app, &path);
        async move {
            get(
                app,
                path,
                &[("Accept", "application/pdf"), ("If-None-Match", &tag)],
            )
            .await
        }
    };
    let changed = pdf_since("\"r0-pdf-0-d2\"").await;
    assert_eq!(changed.status, StatusCode::OK);
    let tag = changed.header("etag").unwrap().to_owned();
    assert_eq!(tag, "\"r1-pdf-0-d2\"");

    // The document prints the seller: a change to it is a new document, and a new tag.
    let seller = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(json!({"invoiceTimeZone": "Asia/Tokyo"})),
        )
        .await;
    assert_eq!(seller.status, StatusCode::OK, "{}", seller.text);
    let after = pdf_since(&tag).await;
    assert_eq!(after.status, StatusCode::OK);
    let new_tag = after.header("etag").unwrap();
    assert!(
        new_tag.starts_with("\"r1-pdf-") && new_tag != tag,
        "{new_tag}"
    );
    // The JSON shows no seller: its tag stays.
    assert_eq!(get(&app, &path, &[]).await.header("etag"), Some("\"r1\""));
}

#[sqlx::test]
async fn addresses_and_tax_numbers_are_kept_and_printed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let parties = json!({
        "billingAddress": {"firstName": "Benjamin", "lastName": "Franklin", "organization": "Ψ Labs",
                           "address": "36 Craven St", "city": "London", "postalCode": "WC2N 5NF",
                           "country": "GB", "emails": [{"value": "ben@psi.example", "primary": true}]},
        "deliveryAddress": {"organization": "Warehouse 7", "address": "1 Dock Rd", "city": "Dover",
                            "country": "GB"},
        "organizationTaxIdNumber": {"type": "eu-vat", "value": "IE6388047V"},
        "customerTaxIdNumber": {"type": "other", "value": "GB980780684"}
    });
    let mut body = json!({"customerId": "cus_doc", "websiteId": "web_doc", "currency": "EUR"});
    body.as_object_mut()
        .unwrap()
        .extend(parties.as_object().unwrap().clone());
    let created = app.put("/invoices/inv-parties", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    for (field, value) in parties.as_object().unwrap() {
        let shown = &created.body[field];
        for (member, expected) in value.as_object().unwrap() {
            if member == "emails" {
                assert_eq!(shown[member][0]["value"], expected[0]["value"]);
            } else {
                assert_eq!(&shown[member], expected, "{field}.{member}");
            }
        }
    }
    assert_eq!(created.body["deliveryAddress"]["firstName"], Value::Null);
    assert_eq!(
        app.invoice("inv-parties").await["billingAddress"],
        created.body["billingAddress"]
    );

    let text = text_of(&pdf(&app, "inv-parties").await);
    for expected in [
        "Bill to",
        "Benjamin Franklin",
        "Ψ Labs",
        "WC2N 5NF London GB",
        "ben@psi.example",
        "Ship to",
        "Warehouse 7",
        "1 Dock Rd",
        "VAT number IE6388047V",
        "Tax number GB980780684",
        "Customer cus_doc",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }

    // Sent back without them, a PUT clears them, as it does every other field.
    let cleared = app
        .put(
            "/invoices/inv-parties",
            json!({"customerId": "cus_doc", "websiteId": "web_doc", "currency": "EUR"}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.body["billingAddress"], Value::Null);
    assert_eq!(cleared.body["customerTaxIdNumber"], Value::Null);
}

#[sqlx::test]
async fn a_bad_address_or_tax_number_is_422_naming_the_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let answer = app
        .post(
            "/invoices",
            json!({"customerId": "c", "websiteId": "w", "currency": "USD",
                   "billingAddress": {"country": "Britain", "city": "x".repeat(46), "zip": "1"},
                   "deliveryAddress": "nowhere",
                   "customerTaxIdNumber": {"type": "ssn", "value": ""},
                   "organizationTaxIdNumber": {"value": "IE1"}}),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    let fields: Vec<&str> = answer.body["invalidFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap())
        .collect();
    for field in [
        "billingAddress.country",
        "billingAddress.city",
        "billingAddress.zip",
        "deliveryAddress",
        "customerTaxIdNumber.type",
        "customerTaxIdNumber.value",
        "organizationTaxIdNumber.type",
    ] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
}

/// The line of the document's text that starts with `label`, spaces folded.
fn line_of(text: &str, label: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|line| line.starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in {text}"))
}

#[sqlx::test]
async fn a_paid_invoice_shows_its_payments_refunds_and_the_amount_left_due(pool: PgPool) {
    let app = TestApp::new(pool).await;
    invoice_in(&app, "inv-paid", "USD", 10.0).await;
    let issued = app.post("/invoices/inv-paid/issue", json!({})).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let amount = issued.body["amount"].clone();
    let unpaid = text_of(&pdf(&app, "inv-paid").await);
    assert!(!unpaid.contains("Payments"), "{unpaid}");
    assert!(!unpaid.contains("Paid"), "{unpaid}");

    let transaction = |kind: &str, amount: Value| {
        json!({"type": kind, "customerId": "cus_doc", "websiteId": "web_doc", "currency": "USD",
               "amount": amount, "paymentInstrument": {"method": "check"}})
    };
    let sale = app
        .post("/transactions", transaction("sale", amount.clone()))
        .await;
    let paid = app
        .post(
            "/invoices/inv-paid/transaction",
            json!({"transactionId": sale.body["id"]}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.text);
    let text = text_of(&pdf(&app, "inv-paid").await);
    assert!(
        line_of(&text, "Invoice Paid").ends_with("No. 1"),
        "the title says so: {text}"
    );
    assert_eq!(
        line_of(&text, "Payments"),
        format!("Payments -{}", printed(&amount, 2))
    );
    assert_eq!(line_of(&text, "Amount due (USD)"), "Amount due (USD) 0.00");

    let refund = app
        .post("/transactions", transaction("refund", json!(5)))
        .await;
    app.post(
        "/invoices/inv-paid/transaction",
        json!({"transactionId": refund.body["id"]}),
    )
    .await;
    let refunded = text_of(&pdf(&app, "inv-paid").await);
    assert_eq!(line_of(&refunded, "Refunds"), "Refunds 5.00");
    assert_eq!(
        line_of(&refunded, "Amount due (USD)"),
        "Amount due (USD) 5.00"
    );
    assert!(refunded.contains("partially-refunded"), "{refunded}");
}

#[sqlx::test]
async fn a_credit_memo_reads_as_a_pdf_with_its_lines_totals_and_where_it_went(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let invoice = app.create_invoice("USD").await;
    let item = app
        .create_item(
            &invoice,
            json!({"type": "debit", "unitPrice": 40, "quantity": 2, "description": "Seats"}),
        )
        .await;
    let issued = app
        .post(&format!("/invoices/{invoice}/issue"), json!({}))
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let memo = app
        .post(
            "/credit-memos",
            json!({"customerId": "cus_1", "currency": "USD", "invoiceId": invoice,
                   "reason": "return", "description": "Two seats came back",
                   "items": [{"invoiceItemId": item["id"], "quantity": 1},
                             {"description": "Goodwill", "unitPrice": 5}],
                   "allocations": {"invoices": [{"invoiceId": invoice, "amount": 30}]}}),
        )
        .await;
    assert_eq!(memo.status, StatusCode::CREATED, "{}", memo.text);
    let id = memo.body["id"].as_str().unwrap();
    let answer = get(
        &app,
        &format!("/credit-memos/{id}"),
        &[("Accept", "application/pdf")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/pdf"));
    assert!(answer.bytes.starts_with(b"%PDF-"), "not a PDF");
    let tag = answer.header("etag").unwrap().to_owned();
    let text = text_of(&answer.bytes);
    for expected in [
        "Credit memo",
        "No. 1",
        "Seats",
        "Goodwill",
        "Two seats came back",
        "Total credit",
        "45.00",
        "Unused credit (USD)",
        "15.00",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let again = get(
        &app,
        &format!("/credit-memos/{id}"),
        &[("Accept", "application/pdf"), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let json = get(&app, &format!("/credit-memos/{id}"), &[]).await;
    assert_ne!(
        json.header("etag"),
        Some(tag.as_str()),
        "JSON and PDF differ"
    );

    // The credited invoice shows the credit taken off it, and what is left due.
    let credited = text_of(&pdf(&app, &invoice).await);
    assert_eq!(line_of(&credited, "Credit memos"), "Credit memos -30.00");
    assert_eq!(
        line_of(&credited, "Amount due (USD)"),
        "Amount due (USD) 50.00"
    );
}

#[sqlx::test]
async fn the_organizations_vat_number_and_bank_account_are_on_its_invoices(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let details = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(
                json!({"name": "Muster", "legalName": "Muster GmbH", "vatId": "DE123456789",
                        "registrationNumber": "HRB 12345",
                        "bankAccount": {"iban": "DE02 1203 0000 0000 2020 51",
                                        "bic": "BYLADEM1001"}}),
            ),
        )
        .await;
    assert_eq!(details.status, StatusCode::OK, "{}", details.text);
    invoice_in(&app, "inv-bank", "EUR", 10.0).await;
    let text = text_of(&pdf(&app, "inv-bank").await);
    for expected in [
        "Muster GmbH",
        "VAT number DE123456789",
        "Registration HRB 12345",
        "Pay to",
        "BIC BYLADEM1001",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    // In its narrow block the IBAN wraps after its label.
    assert!(
        text.contains("IBAN") && text.contains("DE02120300000000202051"),
        "{text}"
    );
}

#[sqlx::test]
async fn a_vat_invoice_states_each_rate_and_the_amount_it_is_on(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let created = app
        .put(
            "/invoices/inv-vat",
            json!({"customerId": "cus_doc", "websiteId": "web_doc", "currency": "EUR",
                   "discounts": [{"type": "percent", "value": 10}],
                   "tax": {"calculator": "vat", "rate": 0.19}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    for item in [
        json!({"type": "debit", "unitPrice": 1000, "quantity": 1}),
        json!({"type": "credit", "unitPrice": 100, "quantity": 1}),
    ] {
        app.create_item("inv-vat", item).await;
    }
    // 1,000.00 less 10% is 900.00; the credit takes 100.00 off: 800.00 at 19% is 152.00.
    let text = text_of(&pdf(&app, "inv-vat").await);
    let line = text
        .lines()
        .find(|line| line.contains("VAT 19% on 800.00"))
        .unwrap_or_else(|| panic!("no VAT line in\n{text}"));
    assert!(line.trim_end().ends_with("152.00"), "{line}");
}
