//! E-invoices through the API: an issued VAT invoice read as UBL 2.1 (`Accept:
//! application/vnd.oasis.ubl+xml` or `application/xml`) and as a Factur-X PDF, from the same
//! figures as its JSON; an item's own VAT category; and the refusals, each saying why.
//!
//! With `EINVOICE_SERVED_OUT` set to a directory, the documents served are written there, for
//! `scripts/check-einvoices` to check against the official rules.

use axum::body::Body;
use axum::http::Request;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::documents::{Raw, get, text_of};
use crate::helpers::{ORGANIZATION, PUBLIC_URL, TestApp, invoice_body};
use crate::stripe_client::Stripe;

const UBL: &str = "application/vnd.oasis.ubl+xml";

/// The seller as a German company with everything a legal invoice states of it.
async fn legal_seller(app: &TestApp) {
    let patched = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(json!({
                "name": "Muster", "legalName": "Muster GmbH", "address": "Hauptstraße 1",
                "city": "Berlin", "postalCode": "10115", "country": "DE",
                "emails": [{"value": "rechnung@muster.example", "primary": true}],
                "vatId": "DE123456789", "registrationNumber": "HRB 12345 B",
                "electronicAddress": {"scheme": "9930", "id": "DE123456789"},
                "bankAccount": {"iban": "DE02120300000000202051", "bic": "BYLADEM1001"}
            })),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
}

/// A draft VAT invoice to a German buyer.
async fn vat_invoice(app: &TestApp, id: &str) {
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat", "rate": 0.19});
    body["discounts"] = json!([{"type": "percent", "value": 10}]);
    body["poNumber"] = json!("PO-77");
    body["billingAddress"] = json!({
        "organization": "Käufer & Söhne AG", "address": "Marienplatz 8", "city": "München",
        "postalCode": "80331", "country": "DE"
    });
    body["customerTaxIdNumber"] = json!({"type": "eu-vat", "value": "DE987654321"});
    body["customerElectronicAddress"] = json!({"scheme": "0088", "id": "4000001123452"});
    body["buyerReference"] = json!("04011000-12345-67");
    let created = app.put(&format!("/invoices/{id}"), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}

async fn issue(app: &TestApp, id: &str) {
    let issued = app
        .post(
            &format!("/invoices/{id}/issue"),
            json!({"issuedTime": "2026-12-01T09:00:00Z", "dueTime": "2026-12-15T09:00:00Z"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
}

async fn read(app: &TestApp, id: &str, accept: &str) -> Raw {
    get(app, &format!("/invoices/{id}"), &[("Accept", accept)]).await
}

fn text(raw: &Raw) -> String {
    String::from_utf8(raw.bytes.clone()).unwrap()
}

/// Writes a served document where `scripts/check-einvoices` reads it.
fn keep(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("EINVOICE_SERVED_OUT") {
        std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
    }
}

/// The text of `element`'s first occurrence after `from`.
fn element<'a>(xml: &'a str, from: &str, element: &str) -> &'a str {
    let start = xml
        .find(from)
        .unwrap_or_else(|| panic!("no {from} in\n{xml}"));
    let rest = &xml[start..];
    let open = rest.find(&format!("<{element}")).unwrap();
    let body = &rest[open..];
    let text = &body[body.find('>').unwrap() + 1..];
    &text[..text.find('<').unwrap()]
}

/// The fields a problem names, in its order.
fn named_fields(problem: &Value) -> Vec<&str> {
    problem["invalidFields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|field| field["field"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn amount(value: &Value) -> String {
    format!("{:.2}", value.as_f64().unwrap())
}

#[sqlx::test]
async fn an_issued_vat_invoice_is_a_ubl_invoice_with_the_jsons_figures(pool: PgPool) {
    let app = TestApp::new(pool).await;
    legal_seller(&app).await;
    vat_invoice(&app, "inv-ubl").await;
    for (kind, price, vat) in [
        ("debit", 120.0, Value::Null),
        ("debit", 33.33, Value::Null),
        ("credit", 10.0, Value::Null),
        (
            "debit",
            50.0,
            json!({"category": "E", "rate": 0, "exemptionCode": "VATEX-EU-132",
                   "exemptionReason": "Medical care"}),
        ),
    ] {
        let mut item = json!({"type": kind, "unitPrice": price, "quantity": 1,
                              "description": format!("{kind} {price}")});
        if !vat.is_null() {
            item["vat"] = vat;
        }
        app.create_item("inv-ubl", item).await;
    }
    issue(&app, "inv-ubl").await;
    let invoice = app.invoice("inv-ubl").await;

    let answer = read(&app, "inv-ubl", UBL).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", text(&answer));
    assert_eq!(answer.header("content-type"), Some(UBL));
    assert_eq!(answer.header("vary"), Some("accept"));
    let xml = text(&answer);
    keep("served-invoice.ubl.xml", &answer.bytes);
    assert!(xml.contains("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"));
    // Both parties have an electronic address: Peppol BIS Billing 3.0.
    assert!(xml.contains("<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>"), "{xml}");
    assert!(xml.contains("<cbc:EndpointID schemeID=\"0088\">4000001123452</cbc:EndpointID>"));
    assert!(xml.contains("<cbc:EndpointID schemeID=\"9930\">DE123456789</cbc:EndpointID>"));
    assert_eq!(
        invoice["customerElectronicAddress"],
        json!({"scheme": "0088", "id": "4000001123452"})
    );
    assert_eq!(invoice["buyerReference"], "04011000-12345-67");
    assert!(xml.contains("<cbc:BuyerReference>04011000-12345-67</cbc:BuyerReference>"));
    assert!(
        xml.contains("<cbc:ID>PO-77</cbc:ID>"),
        "the order reference"
    );
    assert_eq!(
        element(&xml, "<cac:LegalMonetaryTotal>", "cbc:PayableAmount"),
        amount(&invoice["amountDue"])
    );
    assert_eq!(
        element(&xml, "<cac:LegalMonetaryTotal>", "cbc:TaxInclusiveAmount"),
        amount(&invoice["amount"])
    );
    assert_eq!(
        element(&xml, "<cac:TaxTotal>", "cbc:TaxAmount"),
        amount(&invoice["tax"]["amount"])
    );
    assert_eq!(
        element(&xml, "<cac:LegalMonetaryTotal>", "cbc:AllowanceTotalAmount"),
        amount(&invoice["discountAmount"])
    );
    // One breakdown group per category, as the JSON's.
    let breakdown = invoice["tax"]["breakdown"].as_array().unwrap();
    assert_eq!(breakdown.len(), 2, "{breakdown:?}");
    assert_eq!(xml.matches("<cac:TaxSubtotal>").count(), 2);
    for group in breakdown {
        let taxable = amount(&group["taxableAmount"]);
        assert!(
            xml.contains(&format!(
                "<cbc:TaxableAmount currencyID=\"EUR\">{taxable}</cbc:TaxableAmount>"
            )),
            "no {taxable} in\n{xml}"
        );
    }
    assert!(xml.contains("<cbc:TaxExemptionReasonCode>VATEX-EU-132</cbc:TaxExemptionReasonCode>"));
    assert!(xml.contains("Käufer &amp; Söhne AG"));
    assert!(xml.contains("<cbc:ID>DE02120300000000202051</cbc:ID>"));
    assert!(xml.contains("<cbc:IssueDate>2026-12-01</cbc:IssueDate>"));
    assert!(xml.contains("<cbc:DueDate>2026-12-15</cbc:DueDate>"));

    // The same document as `application/xml`, with its own tag.
    let plain = read(&app, "inv-ubl", "application/xml").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("content-type"), Some("application/xml"));
    assert_eq!(plain.bytes, answer.bytes);
    let tag = answer.header("etag").unwrap().to_owned();
    assert_ne!(plain.header("etag"), Some(tag.as_str()));
    let current = get(
        &app,
        "/invoices/inv-ubl",
        &[("Accept", UBL), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(current.status, StatusCode::NOT_MODIFIED);

    // The PDF is a Factur-X invoice carrying the same figures as CII.
    let pdf = read(&app, "inv-ubl", "application/pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    keep("served-invoice.factur-x.pdf", &pdf.bytes);
    let raw = String::from_utf8_lossy(&pdf.bytes);
    assert!(raw.contains("<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>"));
    assert!(raw.contains("<pdfaid:part>3</pdfaid:part>"));
    // The page says why the exempt supply bears no VAT, as a legal invoice must.
    let page = text_of(&pdf.bytes);
    assert!(page.contains("VAT exemptions"), "{page}");
    assert!(page.contains("Medical care (VATEX-EU-132)"), "{page}");
    assert!(
        page.contains("04011000-12345-67"),
        "the buyer's reference\n{page}"
    );

    // On /v1, the invoice gives the URL of the same e-invoice, read with the same key.
    let stripe = Stripe::of(&app);
    let object = stripe.get("/v1/invoices/inv-ubl").await;
    let url = object.body["einvoice_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{PUBLIC_URL}/v1/invoices/inv-ubl/einvoice"));
    let request = stripe
        .request(Method::GET, url.strip_prefix(PUBLIC_URL).unwrap())
        .body(Body::empty())
        .unwrap();
    let served = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], UBL);
    let bytes = served.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes, answer.bytes);

    // Its page for the customer offers the same e-invoice, with no key.
    let page_url = object.body["hosted_invoice_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page_path = page_url.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    let opened = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(&page_path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let page = opened.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(
        page.contains(&format!("href=\"{page_url}/einvoice\"")),
        "{page}"
    );
    let anonymous = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("{page_path}/einvoice"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::OK);
    assert_eq!(anonymous.headers()["content-type"], UBL);
    assert_eq!(anonymous.headers()["cache-control"], "private, no-store");
    let bytes = anonymous.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes, answer.bytes);

    // A change of the seller changes the document, and its tag.
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(json!({"legalName": "Muster Berlin GmbH"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let changed = get(
        &app,
        "/invoices/inv-ubl",
        &[("Accept", UBL), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert!(text(&changed).contains("Muster Berlin GmbH"));
}

#[sqlx::test]
async fn an_items_vat_category_is_kept_checked_and_priced(pool: PgPool) {
    let app = TestApp::new(pool).await;
    vat_invoice(&app, "inv-cat").await;
    let exempt = app
        .create_item(
            "inv-cat",
            json!({"type": "debit", "unitPrice": 100, "vat": {"category": "E", "rate": 0,
                   "exemptionReason": "Exempt under Article 132"}}),
        )
        .await;
    assert_eq!(
        exempt["vat"],
        json!({"category": "E", "rate": 0, "exemptionReason": "Exempt under Article 132",
               "exemptionCode": null})
    );
    let reduced = app
        .create_item(
            "inv-cat",
            json!({"type": "debit", "unitPrice": 100, "vat": {"category": "S", "rate": 0.07}}),
        )
        .await;
    app.create_item("inv-cat", json!({"type": "debit", "unitPrice": 100}))
        .await;
    let invoice = app.invoice("inv-cat").await;
    // 10% off each: 90 exempt, 90 at 7% (6.30), 90 at 19% (17.10).
    assert_eq!(
        invoice["tax"]["breakdown"],
        json!([
            {"category": "S", "rate": 0.07, "taxableAmount": 90, "amount": 6.3},
            {"category": "S", "rate": 0.19, "taxableAmount": 90, "amount": 17.1},
            {"category": "E", "rate": 0, "taxableAmount": 90, "amount": 0},
        ])
    );
    assert_eq!(invoice["tax"]["amount"], json!(23.4));
    // Stored, it reads back the same, and the item's tax states its category's rate.
    let read = app
        .get(&format!(
            "/invoices/inv-cat/items/{}",
            reduced["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        read.body["vat"],
        json!({"category": "S", "rate": 0.07,
        "exemptionReason": null, "exemptionCode": null})
    );
    assert_eq!(read.body["tax"]["rate"], json!(0.07));

    // Each category's rules, named on the field that breaks them.
    for (vat, field) in [
        (json!({"category": "E", "rate": 0}), "vat.exemptionReason"),
        (json!({"category": "S", "rate": 0}), "vat.rate"),
        (json!({"category": "Z", "rate": 0.05}), "vat.rate"),
        (
            json!({"category": "O", "rate": 0, "exemptionReason": "Outside"}),
            "vat.rate",
        ),
        (
            json!({"category": "S", "rate": 0.2, "exemptionReason": "No"}),
            "vat.exemptionReason",
        ),
        (json!({"category": "X", "rate": 0.2}), "vat.category"),
        (
            json!({"category": "E", "rate": 0, "exemptionCode": "VATEX-EU-999"}),
            "vat.exemptionCode",
        ),
        (json!({"rate": 0.2}), "vat.category"),
        (
            json!({"category": "S", "rate": 0.2, "share": 1}),
            "vat.share",
        ),
    ] {
        let refused = app
            .post(
                "/invoices/inv-cat/items",
                json!({"type": "debit", "unitPrice": 1, "vat": vat}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{vat}");
        assert_eq!(named_fields(&refused.body), [field], "{vat}");
    }
    let mut body = invoice_body("EUR");
    body["customerElectronicAddress"] = json!({"scheme": "0000", "id": "x"});
    let unknown_scheme = app.post("/invoices", body).await;
    assert_eq!(unknown_scheme.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        named_fields(&unknown_scheme.body),
        ["customerElectronicAddress.scheme"]
    );
    let both = app
        .post(
            "/invoices/inv-cat/items",
            json!({"type": "debit", "unitPrice": 1, "vat": {"category": "S", "rate": 0.2},
                   "tax": {"amount": 1, "description": "Own"}}),
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(named_fields(&both.body), ["vat"]);
    // Nothing refused was kept.
    assert_eq!(
        app.invoice("inv-cat").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(exempt["tax"]["amount"] == json!(0));
}

#[sqlx::test]
async fn an_invoice_without_an_e_invoice_says_why(pool: PgPool) {
    let app = TestApp::new(pool).await;
    legal_seller(&app).await;

    // A draft is not an invoice yet.
    vat_invoice(&app, "inv-draft").await;
    app.create_item("inv-draft", json!({"type": "debit", "unitPrice": 10}))
        .await;
    let draft = read(&app, "inv-draft", UBL).await;
    assert_eq!(draft.status, StatusCode::CONFLICT);
    let problem: Value = serde_json::from_slice(&draft.bytes).unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("draft"),
        "{problem}"
    );
    // On /v1, as any state that forbids a call there: 400, saying why.
    let on_v1 = Stripe::of(&app)
        .get("/v1/invoices/inv-draft/einvoice")
        .await;
    assert_eq!(on_v1.status, StatusCode::BAD_REQUEST, "{}", on_v1.text);
    assert_eq!(on_v1.body["error"]["type"], "invalid_request_error");
    assert!(
        on_v1.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("draft")
    );
    // Its PDF is the plain document, as before.
    let pdf = read(&app, "inv-draft", "application/pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&pdf.bytes).contains("factur-x"));

    // Sales tax is not VAT: 406, the reason in the detail.
    let id = app.create_invoice("USD").await;
    app.create_item(&id, json!({"type": "debit", "unitPrice": 10}))
        .await;
    issue(&app, &id).await;
    let sales_tax = read(&app, &id, UBL).await;
    assert_eq!(sales_tax.status, StatusCode::NOT_ACCEPTABLE);
    let problem: Value = serde_json::from_slice(&sales_tax.bytes).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("manual calculator"),
        "{problem}"
    );
    let pdf = read(&app, &id, "application/pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&pdf.bytes).contains("factur-x"));

    // A buyer without a country, named; the PDF is still a document for people.
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat", "rate": 0.19});
    body["billingAddress"] = json!({"firstName": "Ada", "lastName": "Lovelace"});
    app.put("/invoices/inv-nowhere", body).await;
    app.create_item(
        "inv-nowhere",
        json!({"type": "debit", "unitPrice": 10, "vat": {"category": "AE", "rate": 0,
               "exemptionCode": "VATEX-EU-AE"}}),
    )
    .await;
    issue(&app, "inv-nowhere").await;
    let incomplete = read(&app, "inv-nowhere", UBL).await;
    assert_eq!(incomplete.status, StatusCode::CONFLICT);
    let problem: Value = serde_json::from_slice(&incomplete.bytes).unwrap();
    assert_eq!(
        named_fields(&problem),
        ["billingAddress.country", "customerTaxIdNumber"],
        "{problem}"
    );
    assert_eq!(
        read(&app, "inv-nowhere", "application/pdf").await.status,
        StatusCode::OK
    );

    // Abandoned before it was issued, or voided, an invoice has none either.
    vat_invoice(&app, "inv-abandoned").await;
    app.create_item("inv-abandoned", json!({"type": "debit", "unitPrice": 10}))
        .await;
    let abandoned = app.post("/invoices/inv-abandoned/abandon", json!({})).await;
    assert_eq!(abandoned.status, StatusCode::CREATED, "{}", abandoned.text);
    assert_eq!(
        read(&app, "inv-abandoned", UBL).await.status,
        StatusCode::CONFLICT
    );
    vat_invoice(&app, "inv-voided").await;
    app.create_item("inv-voided", json!({"type": "debit", "unitPrice": 10}))
        .await;
    issue(&app, "inv-voided").await;
    let voided = app.post("/invoices/inv-voided/void", json!({})).await;
    assert_eq!(voided.status, StatusCode::CREATED, "{}", voided.text);
    let gone = read(&app, "inv-voided", UBL).await;
    assert_eq!(gone.status, StatusCode::CONFLICT);
    let problem: Value = serde_json::from_slice(&gone.bytes).unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("voided"),
        "{problem}"
    );

    // A tax number of type eu-vat without its country prefix is no VAT identifier.
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat", "rate": 0.19});
    body["billingAddress"] = json!({"organization": "Käufer AG", "country": "DE"});
    body["customerTaxIdNumber"] = json!({"type": "eu-vat", "value": "987654321"});
    app.put("/invoices/inv-bad-vat", body).await;
    app.create_item("inv-bad-vat", json!({"type": "debit", "unitPrice": 10}))
        .await;
    issue(&app, "inv-bad-vat").await;
    let malformed = read(&app, "inv-bad-vat", UBL).await;
    assert_eq!(malformed.status, StatusCode::CONFLICT);
    let problem: Value = serde_json::from_slice(&malformed.bytes).unwrap();
    assert_eq!(
        named_fields(&problem),
        ["customerTaxIdNumber.value"],
        "{problem}"
    );

    // Outside the scope of VAT the seller states no VAT id: its registration identifies it.
    let cleared = app
        .call(
            Method::PATCH,
            &format!("/organizations/{ORGANIZATION}"),
            Some(json!({"registrationNumber": null})),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat", "rate": 0.19});
    body["billingAddress"] = json!({"organization": "Käufer AG", "country": "DE"});
    app.put("/invoices/inv-outside", body).await;
    app.create_item(
        "inv-outside",
        json!({"type": "debit", "unitPrice": 10, "vat": {"category": "O",
               "exemptionReason": "Not subject to VAT"}}),
    )
    .await;
    issue(&app, "inv-outside").await;
    let unidentified = read(&app, "inv-outside", UBL).await;
    assert_eq!(unidentified.status, StatusCode::CONFLICT);
    let problem: Value = serde_json::from_slice(&unidentified.bytes).unwrap();
    assert_eq!(
        named_fields(&problem),
        ["organization.registrationNumber"],
        "{problem}"
    );

    // An Accept that takes nothing offered names what is.
    let nothing = read(&app, "inv-nowhere", "text/csv").await;
    assert_eq!(nothing.status, StatusCode::NOT_ACCEPTABLE);
    let problem: Value = serde_json::from_slice(&nothing.bytes).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/vnd.oasis.ubl+xml"),
        "{problem}"
    );
}

#[sqlx::test]
async fn a_credit_memo_of_a_vat_invoice_is_a_ubl_credit_note(pool: PgPool) {
    let app = TestApp::new(pool).await;
    legal_seller(&app).await;
    vat_invoice(&app, "inv-credited").await;
    let seats = app
        .create_item(
            "inv-credited",
            json!({"type": "debit", "description": "Seats", "unitPrice": 33.33, "quantity": 3}),
        )
        .await;
    let books = app
        .create_item(
            "inv-credited",
            json!({"type": "debit", "description": "Books", "unitPrice": 25,
                   "vat": {"category": "S", "rate": 0.07}}),
        )
        .await;
    issue(&app, "inv-credited").await;
    let created = app
        .post(
            "/credit-memos",
            json!({"customerId": "cus_1", "currency": "EUR", "invoiceId": "inv-credited",
                   "items": [{"invoiceItemId": seats["id"], "quantity": 1},
                             {"invoiceItemId": books["id"]}],
                   "description": "A seat and the books returned"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let memo = &created.body;
    let path = format!("/credit-memos/{}", memo["id"].as_str().unwrap());

    let answer = get(&app, &path, &[("Accept", UBL)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", text(&answer));
    assert_eq!(answer.header("content-type"), Some(UBL));
    let xml = text(&answer);
    keep("served-credit-note.ubl.xml", &answer.bytes);
    assert!(
        xml.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"),
        "{xml}"
    );
    assert!(xml.contains("<cac:BillingReference>"));
    assert_eq!(
        element(&xml, "<cac:LegalMonetaryTotal>", "cbc:PayableAmount"),
        amount(&memo["totalAmount"])
    );
    assert_eq!(
        element(&xml, "<cac:TaxTotal>", "cbc:TaxAmount"),
        amount(&memo["taxAmount"])
    );
    assert_eq!(xml.matches("<cac:TaxSubtotal>").count(), 2, "{xml}");

    let pdf = get(&app, &path, &[("Accept", "application/pdf")]).await;
    assert_eq!(pdf.status, StatusCode::OK);
    keep("served-credit-note.factur-x.pdf", &pdf.bytes);
    assert!(
        String::from_utf8_lossy(&pdf.bytes)
            .contains("<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>")
    );

    // Voided, it credits nothing and has no e-invoice.
    let voided = app.post(&format!("{path}/void"), json!({})).await;
    assert_eq!(voided.status, StatusCode::CREATED, "{}", voided.text);
    let gone = get(&app, &path, &[("Accept", UBL)]).await;
    assert_eq!(gone.status, StatusCode::CONFLICT);
    let problem: Value = serde_json::from_slice(&gone.bytes).unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("voided"),
        "{problem}"
    );
}

#[sqlx::test]
async fn without_an_order_reference_the_ubl_is_plain_en_16931_not_peppol(pool: PgPool) {
    let app = TestApp::new(pool).await;
    legal_seller(&app).await;
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat", "rate": 0.19});
    body["billingAddress"] = json!({"organization": "Käufer AG", "country": "DE"});
    body["customerElectronicAddress"] = json!({"scheme": "0088", "id": "4000001123452"});
    app.put("/invoices/inv-no-po", body).await;
    app.create_item("inv-no-po", json!({"type": "debit", "unitPrice": 10}))
        .await;
    issue(&app, "inv-no-po").await;
    let answer = read(&app, "inv-no-po", UBL).await;
    assert_eq!(answer.status, StatusCode::OK);
    let xml = text(&answer);
    keep("served-without-reference.ubl.xml", &answer.bytes);
    // Peppol wants a buyer or order reference (PEPPOL-EN16931-R003): without one, plain EN 16931.
    assert!(
        xml.contains("<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>"),
        "{xml}"
    );
    assert!(!xml.contains("peppol"));

    // A buyer reference alone is reference enough.
    let mut body = invoice_body("EUR");
    body["tax"] = json!({"calculator": "vat", "rate": 0.19});
    body["billingAddress"] = json!({"organization": "Käufer AG", "country": "DE"});
    body["customerElectronicAddress"] = json!({"scheme": "0088", "id": "4000001123452"});
    body["buyerReference"] = json!("991-12345-67");
    app.put("/invoices/inv-buyer-ref", body).await;
    app.create_item("inv-buyer-ref", json!({"type": "debit", "unitPrice": 10}))
        .await;
    issue(&app, "inv-buyer-ref").await;
    let xml = text(&read(&app, "inv-buyer-ref", UBL).await);
    assert!(xml.contains("peppol"), "{xml}");
    assert!(xml.contains("<cbc:BuyerReference>991-12345-67</cbc:BuyerReference>"));
    // A blank one is refused, named.
    let mut body = invoice_body("EUR");
    body["buyerReference"] = json!("  ");
    let blank = app.post("/invoices", body).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(named_fields(&blank.body), ["buyerReference"]);
}
