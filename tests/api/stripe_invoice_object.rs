//! `/v1/invoices`' invoice object: Stripe's fields from the invoice's parties, discounts, taxes
//! and seller, figures that add up to its total, its PDF at `invoice_pdf` with the same key,
//! and the fields with no meaning here present and null.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::helpers::{ORGANIZATION, PUBLIC_URL, TestApp};
use crate::stripe_client::Stripe;

/// The fields Stripe shows null when unset, and that have no meaning here.
const ALWAYS_NULL: [&str; 30] = [
    "account_tax_ids",
    "application",
    "application_fee_amount",
    "automatically_finalizes_at",
    "charge",
    "confirmation_secret",
    "custom_fields",
    "customer_tax_exempt",
    "default_payment_method",
    "default_source",
    "discount",
    "footer",
    "from_invoice",
    "last_finalization_error",
    "latest_revision",
    "next_payment_attempt",
    "on_behalf_of",
    "parent",
    "payment_intent",
    "quote",
    "receipt_number",
    "rendering",
    "shipping_cost",
    "statement_descriptor",
    "subscription",
    "subscription_details",
    "test_clock",
    "threshold_reason",
    "transfer_data",
    "webhooks_delivered_at",
];

/// The README's first invoice: a Los Angeles buyer with a billing and a delivery address and
/// a tax number, a 10% discount, Los Angeles sales tax, three items and a credit; issued.
async fn issued_invoice(app: &TestApp) -> String {
    let seller = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(json!({"name": "Acme Inc.", "city": "Los Angeles", "country": "US"})),
        )
        .await;
    assert_eq!(seller.status, StatusCode::OK, "{}", seller.text);
    let created = app
        .put(
            "/invoices/inv-object",
            json!({
                "customerId": "cus_1", "websiteId": "web_1", "currency": "USD",
                "billingAddress": {
                    "firstName": "Dana", "lastName": "Lee", "organization": "Globex LLC",
                    "address": "6060 Center Dr", "city": "Los Angeles", "region": "CA",
                    "postalCode": "90045", "country": "US",
                    "emails": [
                        {"label": "main", "value": "dana@globex.example", "primary": false},
                        {"label": "billing", "value": "ap@globex.example", "primary": true}
                    ],
                    "phoneNumbers": [{"label": "main", "value": "+1 310 555 0100", "primary": true}]
                },
                "deliveryAddress": {
                    "organization": "Globex Warehouse", "address": "1 World Way",
                    "address2": "Dock 4", "city": "Los Angeles", "region": "CA",
                    "postalCode": "90045", "country": "US"
                },
                "customerTaxIdNumber": {"type": "other", "value": "95-7654321"},
                "discounts": [{"description": "Loyalty", "type": "percent", "value": 10}],
                "tax": {"calculator": "rates", "stateRate": 0.0625, "countyRate": 0.01,
                        "cityRate": 0.005, "specialDistrictRate": 0.0025}
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    for item in [
        json!({"type": "debit", "description": "Seats", "unitPrice": 19.99, "quantity": 3}),
        json!({"type": "debit", "description": "Setup", "unitPrice": 10.01}),
        json!({"type": "debit", "description": "Support", "unitPrice": 5, "quantity": 2}),
        json!({"type": "credit", "description": "Welcome credit", "unitPrice": 5}),
    ] {
        app.create_item("inv-object", item).await;
    }
    "inv-object".to_owned()
}

fn sum(values: &[Value], field: &str) -> i64 {
    values
        .iter()
        .map(|value| value[field].as_i64().unwrap())
        .sum()
}

/// The lines' amounts of one kind (`tax_amounts`, `discount_amounts`), each line's summed.
fn line_amounts(invoice: &Value, field: &str) -> Vec<i64> {
    invoice["lines"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| sum(line[field].as_array().unwrap(), "amount"))
        .collect()
}

#[sqlx::test]
async fn an_invoice_shows_its_parties_seller_taxes_and_discounts_as_stripe_does(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let id = issued_invoice(&app).await;
    let draft = stripe.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text);
    assert_eq!(
        draft.body["invoice_pdf"],
        Value::Null,
        "a draft has no document yet"
    );
    assert_eq!(
        (&draft.body["effective_at"], &draft.body["ending_balance"]),
        (&Value::Null, &Value::Null)
    );
    let finalized = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.text);
    let invoice = &stripe.get(&format!("/v1/invoices/{id}")).await.body;

    assert_eq!(invoice["account_name"], "Acme Inc.");
    assert_eq!(invoice["account_country"], "US");
    assert_eq!(invoice["customer_name"], "Dana Lee");
    assert_eq!(
        invoice["customer_email"], "ap@globex.example",
        "the primary"
    );
    assert_eq!(invoice["customer_phone"], "+1 310 555 0100");
    assert_eq!(
        invoice["customer_address"],
        json!({"city": "Los Angeles", "country": "US", "line1": "6060 Center Dr", "line2": null,
               "postal_code": "90045", "state": "CA"})
    );
    let shipping = json!({
        "address": {"city": "Los Angeles", "country": "US", "line1": "1 World Way",
                    "line2": "Dock 4", "postal_code": "90045", "state": "CA"},
        "carrier": null, "name": "Globex Warehouse", "phone": null, "tracking_number": null
    });
    assert_eq!(invoice["customer_shipping"], shipping);
    assert_eq!(invoice["shipping_details"], shipping);
    assert_eq!(
        invoice["customer_tax_ids"],
        json!([{"type": "unknown", "value": "95-7654321"}])
    );

    // 74.98 of items less the credit, 8.00 of discount, 5.75 of tax: 72.73.
    assert_eq!(
        [
            &invoice["subtotal"],
            &invoice["subtotal_excluding_tax"],
            &invoice["total_excluding_tax"],
            &invoice["tax"],
            &invoice["total"],
        ],
        [
            &json!(7498),
            &json!(7498),
            &json!(6698),
            &json!(575),
            &json!(7273)
        ]
    );
    assert_eq!(
        invoice["total_tax_amounts"],
        json!([{"amount": 575, "inclusive": false, "tax_rate": null,
                "taxability_reason": null, "taxable_amount": null}])
    );
    assert_eq!(
        invoice["total_discount_amounts"],
        json!([{"amount": 800, "discount": null}])
    );
    let taxes = invoice["total_tax_amounts"].as_array().unwrap();
    let discounts = invoice["total_discount_amounts"].as_array().unwrap();
    let total = invoice["total"].as_i64().unwrap();
    assert_eq!(
        invoice["total_excluding_tax"].as_i64().unwrap() + sum(taxes, "amount"),
        total
    );
    assert_eq!(
        invoice["subtotal_excluding_tax"].as_i64().unwrap() - sum(discounts, "amount")
            + sum(taxes, "amount"),
        total
    );

    // Newest first: the credit, Support, Setup, Seats; each debit taxed on its price less its
    // share of the discount, and the lines' shares add up to the invoice's.
    let lines = invoice["lines"]["data"].as_array().unwrap();
    assert_eq!(
        line_amounts(invoice, "discount_amounts"),
        [0, 100, 100, 600]
    );
    assert_eq!(line_amounts(invoice, "tax_amounts"), [0, 72, 72, 431]);
    assert_eq!(
        line_amounts(invoice, "tax_amounts").iter().sum::<i64>(),
        sum(taxes, "amount")
    );
    assert_eq!(
        line_amounts(invoice, "discount_amounts")
            .iter()
            .sum::<i64>(),
        sum(discounts, "amount")
    );
    assert_eq!(
        lines[3]["tax_amounts"],
        json!([{"amount": 431, "inclusive": false, "tax_rate": null,
                "taxability_reason": null, "taxable_amount": 5397}])
    );
    assert_eq!(
        lines[3]["discount_amounts"],
        json!([{"amount": 600, "discount": null}])
    );
    assert_eq!(
        (&lines[3]["amount"], &lines[3]["amount_excluding_tax"]),
        (&json!(5997), &json!(5997))
    );
    assert_eq!(lines[0]["amount"], -500);
    assert_eq!(
        (&lines[0]["tax_amounts"], &lines[0]["discount_amounts"]),
        (&json!([]), &json!([]))
    );

    let created = &invoice["created"];
    assert_eq!(
        (&invoice["period_start"], &invoice["period_end"]),
        (created, created)
    );
    assert_eq!(
        invoice["effective_at"],
        invoice["status_transitions"]["finalized_at"]
    );
    assert!(invoice["effective_at"].is_i64());
    assert_eq!(
        (&invoice["starting_balance"], &invoice["ending_balance"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(
        (&invoice["attempted"], &invoice["attempt_count"]),
        (&json!(false), &json!(0))
    );
    assert_eq!(
        (&invoice["amount_shipping"], &invoice["amount_overpaid"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(invoice["billing_reason"], "manual");
    assert_eq!(invoice["issuer"], json!({"type": "self"}));
    assert_eq!(
        invoice["automatic_tax"],
        json!({"enabled": false, "liability": null, "status": null})
    );
    assert_eq!(
        invoice["payment_settings"],
        json!({"default_mandate": null, "payment_method_options": null,
               "payment_method_types": null})
    );
    assert_eq!(
        (&invoice["discounts"], &invoice["default_tax_rates"]),
        (&json!([]), &json!([]))
    );
    for field in ALWAYS_NULL {
        assert!(
            invoice.get(field).is_some_and(Value::is_null),
            "{field} is present and null: {}",
            invoice[field]
        );
    }

    // Paid out of band, it was attempted, and nothing was paid over.
    let paid = stripe
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(
        (
            &paid.body["paid"],
            &paid.body["attempted"],
            &paid.body["amount_paid"],
            &paid.body["amount_overpaid"]
        ),
        (&json!(true), &json!(true), &json!(7273), &json!(0))
    );
}

#[sqlx::test]
async fn invoice_pdf_is_the_invoices_document_read_with_the_same_key(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let stripe = Stripe::of(&app);
    let id = issued_invoice(&app).await;
    let finalized = stripe
        .post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    let url = finalized.body["invoice_pdf"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{PUBLIC_URL}/v1/invoices/{id}/pdf"));
    let path = url.strip_prefix(PUBLIC_URL).unwrap();

    let answer = app
        .router
        .clone()
        .oneshot(
            stripe
                .request(Method::GET, path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.headers().get("content-type").unwrap(),
        "application/pdf"
    );
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");

    // Without the key it is refused, and another invoice's id is Stripe's 404.
    let anonymous = axum::http::Request::builder()
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let refused = app.send(anonymous).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    let missing = stripe.get("/v1/invoices/in_missing/pdf").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    assert_eq!(missing.body["error"]["code"], "resource_missing");
}
