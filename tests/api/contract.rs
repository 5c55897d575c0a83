//! The published contract: `/openapi.json` as the router serves it, checked against the
//! routes, the permissions and the wire rules it states.

use axum::http::{Method, StatusCode};
use invoice_api::domain::permission::Operation;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, request};

async fn contract(app: &TestApp) -> Value {
    let response = app
        .send(request(Method::GET, "/openapi.json", None).body_json())
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.header("content-type"), Some("application/json"));
    response.body
}

/// Every operation of the contract: (method, path, operation).
fn operations(contract: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in contract["paths"].as_object().unwrap() {
        // A path item holds its operations and, for a path served at the root only, `servers`.
        for (method, operation) in item.as_object().unwrap() {
            if method != "servers" {
                found.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

/// The Stripe-style dialect's paths, which follow its own rules.
fn is_stripe(path: &str) -> bool {
    path.starts_with("/v1/")
}

fn resolve<'a>(contract: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            contract.pointer(pointer).expect("a $ref names a component")
        }
        None => value,
    }
}

#[sqlx::test]
async fn the_contract_names_every_operation_by_its_rebilly_id_without_credentials(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    assert_eq!(contract["openapi"], "3.1.0");

    let mut ids: Vec<String> = operations(&contract)
        .iter()
        .map(|(_, _, operation)| operation["operationId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut expected: Vec<String> = Operation::ALL
        .iter()
        .map(|operation| operation.name().to_owned())
        .chain(
            [
                "GetHealth",
                "GetMetrics",
                "GetContract",
                "GetHostedInvoice",
                "GetHostedInvoiceEinvoice",
                "GetHostedInvoicePdf",
                "DeleteHostedInvoice",
            ]
            .map(str::to_owned),
        )
        .chain(
            [
                "GetInvoiceitems",
                "PostInvoiceitems",
                "GetInvoiceitemsInvoiceitem",
                "PostInvoiceitemsInvoiceitem",
                "DeleteInvoiceitemsInvoiceitem",
                "GetInvoices",
                "PostInvoices",
                "GetInvoicesInvoice",
                "PostInvoicesInvoice",
                "GetInvoicesInvoiceEinvoice",
                "GetInvoicesInvoiceLines",
                "GetInvoicesInvoicePdf",
                "PostInvoicesInvoiceFinalize",
                "PostInvoicesInvoiceVoid",
                "PostInvoicesInvoiceMarkUncollectible",
                "PostInvoicesInvoicePay",
                "PostInvoicesInvoiceSend",
                "DeleteInvoicesInvoice",
                "GetCreditNotes",
                "PostCreditNotes",
                "GetCreditNotesPreview",
                "GetCreditNotesId",
                "GetCreditNotesCreditNoteLines",
                "PostCreditNotesIdVoid",
                "GetEvents",
                "GetEventsId",
                "GetWebhookEndpoints",
                "PostWebhookEndpoints",
                "GetWebhookEndpointsWebhookEndpoint",
                "PostWebhookEndpointsWebhookEndpoint",
                "DeleteWebhookEndpointsWebhookEndpoint",
            ]
            .map(str::to_owned),
        )
        .collect();
    expected.sort();
    assert_eq!(ids, expected);

    let schemes = &contract["components"]["securitySchemes"];
    assert_eq!(schemes["ApiKey"]["name"], "REB-APIKEY");
    assert_eq!(schemes["ApiKey"]["in"], "header");
    assert_eq!(schemes["BearerJwt"]["scheme"], "bearer");
}

#[sqlx::test]
async fn every_operation_is_summed_up_in_one_sentence_that_is_not_its_method_and_path(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    for (method, path, operation) in operations(&contract) {
        let summary = operation["summary"].as_str().unwrap_or_default();
        let sentence = summary.chars().next().is_some_and(char::is_uppercase)
            && summary.ends_with('.')
            && !summary.contains('\n');
        assert!(sentence, "{method} {path}: {summary:?} is not one sentence");
        assert!(
            !summary.contains(&path) && !summary.contains('`'),
            "{method} {path}: {summary:?} repeats the method and path"
        );
    }
}

#[sqlx::test]
async fn every_documented_operation_is_routed_and_every_secured_one_wants_credentials(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    for (method, path, operation) in operations(&contract) {
        let concrete = path
            .replace("{id}", "in_x")
            .replace("{itemId}", "ii_x")
            .replace("{organizationId}", "org_1")
            .replace("{token}", &"0".repeat(64));
        for prefix in ["", "/organizations/org_1"] {
            // The service's routes, and the organization's own, are at the root only.
            let root_only = is_stripe(&path)
                || ["Service", "Organizations", "Hosted invoice pages"]
                    .contains(&operation["tags"][0].as_str().unwrap_or(""));
            if root_only && !prefix.is_empty() {
                continue;
            }
            let uri = format!("{prefix}{concrete}");
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let response = app.router.clone();
            let response = tower::ServiceExt::oneshot(
                response,
                request(method.clone(), &uri, None).body_json(),
            )
            .await
            .unwrap();
            let expected = if operation["security"] == json!([{}]) {
                // An invoice's page opens by its link's token alone: no invoice's carries this.
                if path.contains("{token}") {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::OK
                }
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(response.status(), expected, "{method} {uri}");
        }
    }
}

#[sqlx::test]
async fn the_contract_states_the_shared_rules_of_each_kind_of_operation(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    for (method, path, operation) in operations(&contract) {
        let label = format!("{method} {path}");
        let responses = operation["responses"].as_object().unwrap();
        let parameters: Vec<&str> = operation["parameters"]
            .as_array()
            .map(|parameters| {
                parameters
                    .iter()
                    .map(|parameter| resolve(&contract, parameter)["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        if operation["security"] == json!([{}]) || is_stripe(&path) {
            continue;
        }
        for status in ["401", "403", "500", "503"] {
            assert!(responses.contains_key(status), "{label} documents {status}");
        }
        if method != "GET" {
            assert!(responses.contains_key("429"), "{label} documents 429");
        }
        if method == "POST" {
            assert!(parameters.contains(&"Idempotency-Key"), "{label}");
        }
        if method == "PUT" || method == "DELETE" {
            assert!(parameters.contains(&"If-Match"), "{label}");
            assert!(responses.contains_key("412"), "{label} documents 412");
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{label} documents {status}");
            }
        }
        for (status, response) in responses {
            let response = resolve(&contract, response);
            assert!(
                response["headers"].get("X-Request-Id").is_some(),
                "{label} {status} documents X-Request-Id"
            );
            if status.starts_with(['4', '5']) {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{label} {status}"
                );
            }
        }
    }
    let created = &contract["paths"]["/invoices/{id}/items"]["post"]["responses"];
    for header in [
        "Location",
        "ETag",
        "X-RateLimit-Remaining",
        "Idempotent-Replayed",
    ] {
        assert!(created["201"]["headers"].get(header).is_some(), "{header}");
    }
    let conflict = created["409"]["description"].as_str().unwrap();
    assert!(
        conflict.contains("draft") && conflict.contains("Idempotency-Key"),
        "both reasons for a 409: {conflict}"
    );
    let problem = &contract["components"]["schemas"]["Problem"];
    assert_eq!(
        problem["properties"]["invalidFields"]["items"]["$ref"],
        "#/components/schemas/InvalidField"
    );
}

#[sqlx::test]
async fn money_is_a_number_and_request_schemas_state_the_servers_limits(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    let schemas = &contract["components"]["schemas"];
    for (schema, field) in [
        ("InvoiceItem", "unitPrice"),
        ("InvoiceItem", "price"),
        ("InvoiceItem", "discountAmount"),
        ("Invoice", "amount"),
        ("Invoice", "subtotalAmount"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["type"], "number",
            "{schema}.{field}"
        );
    }

    assert_eq!(
        schemas["InvoiceItem"]["properties"]["unitPrice"].get("format"),
        None
    );
    let written = schemas["Invoice"]["required"].as_array().unwrap();
    assert!(
        written.contains(&json!("dueTime")) && written.contains(&json!("notes")),
        "a resource writes its empty fields as null: {written:?}"
    );
    assert!(
        !schemas["InvoiceItem"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("_embedded")),
        "_embedded comes with ?expand only"
    );

    let debit = &schemas["ItemRequest"]["anyOf"][0];
    assert_eq!(debit["additionalProperties"], false);
    assert_eq!(debit["required"], json!(["type", "unitPrice"]));
    let unit_price = &debit["properties"]["unitPrice"];
    assert_eq!(unit_price["type"], "number");
    assert_eq!(unit_price["minimum"], 0);
    assert_eq!(unit_price["maximum"], 1_000_000_000);
    assert_eq!(debit["properties"]["quantity"]["maximum"], 1_000_000_000);
    assert_eq!(debit["properties"]["description"]["maxLength"], 1000);
    assert_eq!(
        debit["properties"]["productId"]["pattern"],
        "^[A-Za-z0-9_@~.-]{1,50}$"
    );
    assert!(
        debit["properties"]["price"]["description"]
            .as_str()
            .is_some_and(|text| text.starts_with("Read-only")),
        "read-only fields are accepted and ignored"
    );

    let invoice = &schemas["InvoiceRequest"];
    let currencies = invoice["properties"]["currency"]["enum"]
        .as_array()
        .unwrap();
    assert!(currencies.contains(&json!("USD")) && currencies.contains(&json!("JPY")));
    assert!(
        !currencies.contains(&json!("XAU")),
        "metals have no minor unit"
    );
    assert_eq!(invoice["properties"]["discounts"]["maxItems"], 20);
    assert_eq!(
        schemas["ProductRequest"]["properties"]["name"]["minLength"],
        1
    );
}

#[sqlx::test]
async fn the_stripe_style_operations_state_their_own_rules(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    let stripe: Vec<_> = operations(&contract)
        .into_iter()
        .filter(|(_, path, _)| is_stripe(path))
        .collect();
    assert_eq!(stripe.len(), 31);
    for (method, path, operation) in &stripe {
        let label = format!("{method} {path}");
        assert_eq!(
            operation["security"],
            json!([{"StripeBasic": []}, {"StripeBearer": []}]),
            "{label}"
        );
        assert_eq!(
            contract["paths"][path]["servers"],
            json!([{"url": "/"}]),
            "{label}"
        );
        let responses = operation["responses"].as_object().unwrap();
        let mut wanted = vec!["200", "400", "401", "403", "414", "500", "503"];
        if path.contains("{id}") {
            wanted.push("404");
        }
        if method != "GET" {
            wanted.push("429");
        }
        if operation.get("requestBody").is_some() {
            wanted.extend(["409", "413", "415"]);
            let parameters = operation["parameters"].as_array().unwrap();
            assert!(
                parameters
                    .iter()
                    .any(|parameter| parameter["name"] == "Idempotency-Key"),
                "{label}"
            );
            let content = &operation["requestBody"]["content"];
            assert!(content.get("application/json").is_some(), "{label}");
            assert!(
                content.get("application/x-www-form-urlencoded").is_some(),
                "{label}"
            );
        }
        for status in wanted {
            assert!(responses.contains_key(status), "{label} documents {status}");
        }
        for (status, response) in responses {
            for header in ["X-Request-Id", "Request-Id", "Stripe-Version"] {
                assert!(
                    response["headers"].get(header).is_some(),
                    "{label} {status} documents {header}"
                );
            }
            if status.starts_with(['4', '5']) {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/StripeProblem",
                    "{label} {status}"
                );
            }
        }
    }
    let create = &contract["paths"]["/v1/invoiceitems"]["post"]["requestBody"]["content"];
    assert_eq!(
        create["application/x-www-form-urlencoded"]["encoding"]["metadata"],
        json!({"style": "deepObject", "explode": true})
    );
    let schemas = &contract["components"]["schemas"];
    let params = &schemas["StripeInvoiceItemCreate"];
    assert_eq!(params["required"], json!(["customer"]));
    assert_eq!(params["properties"]["currency"]["pattern"], "^[A-Za-z]{3}$");
    let metadata = &params["properties"]["metadata"];
    assert_eq!(
        (
            metadata["maxProperties"].clone(),
            metadata["propertyNames"]["maxLength"].clone(),
            metadata["additionalProperties"]["maxLength"].clone(),
        ),
        (json!(50), json!(40), json!(500)),
        "Stripe's metadata limits"
    );
    assert_eq!(params["properties"]["date"]["maximum"], 253_402_300_799_i64);
    assert_eq!(
        schemas["StripePeriodParams"]["properties"]["end"]["minimum"],
        0
    );
    let action = &schemas["StripeInvoiceAction"]["properties"]["auto_advance"];
    assert_eq!(action["enum"], json!([false]));
    let item_form = &create["application/x-www-form-urlencoded"]["encoding"];
    let item_nested: Vec<&String> = item_form.as_object().unwrap().keys().collect();
    assert_eq!(item_nested, ["expand", "metadata", "period", "price_data"]);
    let expand = contract["paths"]["/v1/invoiceitems"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"].as_str().unwrap().starts_with("expand"))
        .unwrap();
    assert_eq!(
        (
            expand["name"].clone(),
            expand["style"].clone(),
            expand["explode"].clone(),
            expand["example"].clone()
        ),
        (
            json!("expand[]"),
            json!("form"),
            json!(true),
            json!(["data.invoice"])
        ),
        "the query's list as the server reads it"
    );
    // A form body's bracket encodings name only the parameters it has.
    let invoice_form = &contract["paths"]["/v1/invoices"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
        ["encoding"];
    let nested: Vec<&String> = invoice_form.as_object().unwrap().keys().collect();
    assert_eq!(nested, ["expand", "metadata"]);
    // Every invoice answer expands its lines' items: the query's paths start where its answer
    // does, and each body takes them.
    for (path, example) in [
        ("/v1/invoices/{id}", "lines.data.invoice_item"),
        ("/v1/invoices", "data.lines.data.invoice_item"),
        ("/v1/invoices/{id}/lines", "data.invoice_item"),
    ] {
        let expand = contract["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == "expand[]")
            .unwrap_or_else(|| panic!("{path} declares expand[]"));
        assert_eq!(
            (
                expand["example"].clone(),
                expand["schema"]["maxItems"].clone()
            ),
            (json!([example]), json!(10)),
            "{path}"
        );
    }
    for body in [
        "StripeInvoiceCreate",
        "StripeInvoiceUpdate",
        "StripeInvoiceAction",
        "StripeInvoicePay",
    ] {
        assert_eq!(
            schemas[body]["properties"]["expand"]["maxItems"], 10,
            "{body}"
        );
    }
    assert_eq!(params["properties"]["amount"]["type"], "integer");
    let item = &schemas["StripeInvoiceItem"]["properties"];
    assert_eq!(item["amount"]["type"], "integer", "minor units");
    assert_eq!(item["unit_amount"]["type"], json!(["integer", "null"]));
    let error = &schemas["StripeProblem"];
    assert_eq!(
        error["properties"]["error"]["$ref"],
        "#/components/schemas/StripeErrorMember"
    );
    assert_eq!(
        contract["components"]["securitySchemes"]["StripeBasic"]["scheme"],
        "basic"
    );
}

/// What the contract says an item request may be, the server takes: the example is created.
#[sqlx::test]
async fn the_contracts_examples_are_accepted(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let contract = contract(&app).await;
    let example = |path: &str, method: &str| {
        contract["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]
            .clone()
    };
    let invoice = app.post("/invoices", example("/invoices", "post")).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.text);
    let invoice_id = invoice.body["id"].as_str().unwrap();
    let items_path = format!("/invoices/{invoice_id}/items");
    let item = app
        .post(&items_path, example("/invoices/{id}/items", "post"))
        .await;
    assert_eq!(item.status, StatusCode::CREATED, "{}", item.text);
    let product = app.post("/products", example("/products", "post")).await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let issued = app
        .post(
            &format!("/invoices/{invoice_id}/issue"),
            example("/invoices/{id}/issue", "post"),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
}

#[sqlx::test]
async fn the_docs_page_is_served_without_credentials_and_the_root_leads_there(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for path in ["/docs/", "/docs/swagger-ui-bundle.js"] {
        let response = tower::ServiceExt::oneshot(
            app.router.clone(),
            request(Method::GET, path, None).body_json(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let home = tower::ServiceExt::oneshot(
        app.router.clone(),
        request(Method::GET, "/", None).body_json(),
    )
    .await
    .unwrap();
    assert_eq!(home.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(home.headers()[axum::http::header::LOCATION], "/docs/");
}
