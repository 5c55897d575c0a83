//! `/transactions` and an invoice's `/transaction` and `/transaction-allocations`: recording
//! money received or given back elsewhere, and applying it to invoices.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::allocations::AllocationResponse;
use super::fields::{FieldReader, RawObject, canonical_body, number, string};
use super::invoice_body::read_sale;
use super::invoice_response::InvoiceResponse;
use super::invoices::invoice_answer;
use super::openapi::schema::{
    closed_object, id, named_schema, nullable, one_of, positive_number, text, with_read_only,
};
use super::openapi::{currency, transaction_type};
use super::pagination::Page;
use super::paths::{IdPath, transaction_path};
use super::wire::{Link, created, json_ok, time};
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, InvoiceId, TransactionId, WebsiteId};
use crate::domain::money;
use crate::domain::transaction::{
    MAX_AMOUNT, PaymentMethod, Transaction, TransactionDescription, TransactionInput,
    TransactionType, check_amount,
};
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, run_write};
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::service::settlement as service;

/// Read-only fields of a transaction: accepted and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "result",
    "unusedAmount",
    "invoiceIds",
    "isProcessedOutside",
    "revision",
    "processedTime",
    "createdTime",
    "updatedTime",
    "_links",
];

/// Fields of Rebilly's transaction that only a payment gateway gives meaning to: this server
/// records payments made elsewhere, so each is refused by name rather than dropped.
const GATEWAY_ONLY: &[&str] = &[
    "gatewayAccountId",
    "gatewayName",
    "gatewayTransactionId",
    "token",
    "paymentInstrumentId",
    "redirectUrls",
    "redirectUrl",
    "notificationUrl",
    "billingAddress",
    "bumpOffer",
    "riskMetadata",
    "dcc",
    "isMerchantInitiated",
    "isRebill",
    "planId",
    "subscriptionIds",
    "orderId",
    "requestAmount",
    "purchaseAmount",
];

/// The payment methods an offline transaction may name.
const METHODS: [&str; 4] = ["cash", "check", "bank-transfer", "other"];

/// Records a transaction.
///
/// A payment (`sale`) or a refund made elsewhere: cash, a check, a bank transfer. It is
/// `completed` and `approved` at once; apply it to invoices with `POST /invoices/{id}/transaction`.
#[utoipa::path(
    post,
    path = "/transactions",
    operation_id = "PostTransaction",
    tag = "Transactions",
    request_body(content = TransactionRequest, example = json!({"type": "sale", "customerId": "cus_1", "websiteId": "web_1", "currency": "USD", "amount": 30, "paymentInstrument": {"method": "bank-transfer"}, "description": "Wire of 2026-12-01"})),
    responses(
        (status = 201, description = "The transaction", body = TransactionResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let input = parse_transaction(body)?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let transaction = service::record_transaction(tx, organization_id, input).await?;
        Ok(created(
            &state.url(&transaction_path(&transaction.id)),
            &TransactionResponse::new(&state, &transaction),
        ))
    })
    .await
}

/// Reads a transaction.
#[utoipa::path(
    get,
    path = "/transactions/{id}",
    operation_id = "GetTransaction",
    tag = "Transactions",
    params(IdPath<TransactionId>),
    responses(
        (status = 200, description = "The transaction", body = TransactionResponse),
        (status = 404, description = "No such transaction", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<TransactionId>>,
) -> Result<Response, Failure> {
    let transaction_id = path.id()?;
    let organization_id = &principal.organization_id;
    let transaction = service::get_transaction(&state.db, organization_id, &transaction_id).await?;
    Ok(json_ok(&TransactionResponse::new(&state, &transaction)))
}

/// Lists transactions.
///
/// Newest first, then by id descending, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/transactions",
    operation_id = "GetTransactionCollection",
    tag = "Transactions",
    params(Page),
    responses(
        (status = 200, description = "A page of transactions", body = Vec<TransactionResponse>),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Query,
) -> Result<Response, Failure> {
    let page = Page::only(&query)?;
    let organization_id = &principal.organization_id;
    let found =
        service::list_transactions(&state.db, organization_id, page.limit, page.offset).await?;
    Ok(
        page.answer_each(found.total, &found.transactions, |transaction| {
            TransactionResponse::new(&state, transaction)
        }),
    )
}

/// Applies a transaction to an invoice.
///
/// A payment applies to an `unpaid`, `partially-paid` or `past-due` invoice, a refund to one
/// that has been paid; both of the invoice's customer and currency. `amount` defaults to the
/// lesser of what the transaction has left and what the invoice can take.
#[utoipa::path(
    post,
    path = "/invoices/{id}/transaction",
    operation_id = "PostInvoiceTransaction",
    tag = "Invoices",
    params(IdPath<InvoiceId>),
    request_body(content = InvoiceTransactionRequest, example = json!({"transactionId": "txn_01JD3G8M9K2QW5X7Y8Z9A0B1C2", "amount": 30})),
    responses(
        (status = 200, description = "The invoice, with the transaction applied", body = InvoiceResponse),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice's status takes no transaction of that type", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn apply(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let (transaction_id, amount) = parse_application(body)?;
    let invoice_id = path.id()?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let (invoice, items) =
            service::apply_transaction(tx, organization_id, &invoice_id, &transaction_id, amount)
                .await?;
        Ok(invoice_answer(&state, &invoice, &items, false))
    })
    .await
}

/// Lists an invoice's transaction allocations.
///
/// The parts of transactions applied to the invoice, oldest first, with `Pagination-*`
/// headers.
#[utoipa::path(
    get,
    path = "/invoices/{id}/transaction-allocations",
    operation_id = "GetInvoiceTransactionAllocationCollection",
    tag = "Invoices",
    params(IdPath<InvoiceId>, Page),
    responses(
        (status = 200, description = "A page of the invoice's allocations", body = Vec<AllocationResponse>),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn allocations(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    query: Query,
) -> Result<Response, Failure> {
    let page = Page::only(&query)?;
    let invoice_id = path.id()?;
    let organization_id = &principal.organization_id;
    let found = service::list_allocations(
        &state.db,
        organization_id,
        &invoice_id,
        page.limit,
        page.offset,
    )
    .await?;
    Ok(
        page.answer_each(found.total, &found.allocations, |allocation| {
            AllocationResponse::new(&state, allocation)
        }),
    )
}

/// Turns a request body into a transaction input, naming every bad field at once.
fn parse_transaction(body: RawObject) -> Result<TransactionInput, ApiError> {
    let mut fields = FieldReader::new(body);
    for name in GATEWAY_ONLY {
        if fields.has(name) {
            fields.reject(
                name,
                "is a payment gateway's field: this server records payments made elsewhere",
            );
            fields.skip(name);
        }
    }
    let kind = fields.required("type", |raw| {
        let value = string(raw)?;
        TransactionType::parse(&value).ok_or_else(|| "must be one of: sale, refund".to_owned())
    });
    let (customer_id, website_id, currency) = read_sale(&mut fields);
    let amount = fields.required("amount", |raw| match currency {
        Some(currency) => check_amount(number(raw)?, currency),
        // With no valid currency, the currency is the error to report, not the decimals.
        None => number(raw),
    });
    let instrument_given = fields.has_value("paymentInstrument");
    let method = match fields.optional_object("paymentInstrument") {
        Some(mut instrument) => {
            let method = instrument.required("method", |raw| {
                let value = string(raw)?;
                PaymentMethod::parse(&value)
                    .ok_or_else(|| format!("must be one of: {}", METHODS.join(", ")))
            });
            fields.adopt(instrument, &[]);
            method
        }
        // Given but not an object: already refused as such.
        None if instrument_given => None,
        None => {
            fields.reject("paymentInstrument", "is required");
            None
        }
    };
    let description = fields.optional("description", |raw| {
        TransactionDescription::parse(string(raw)?)
    });
    fields.finish(READ_ONLY)?;
    match (kind, customer_id, website_id, currency, amount, method) {
        (
            Some(kind),
            Some(customer_id),
            Some(website_id),
            Some(currency),
            Some(amount),
            Some(method),
        ) => Ok(TransactionInput {
            kind,
            customer_id,
            website_id,
            currency,
            amount,
            method,
            description,
        }),
        // `finish` has refused every missing or bad required field.
        _ => Err(ApiError::validation(Vec::new())),
    }
}

/// Reads `PostInvoiceTransaction`: `transactionId` and an optional `amount`.
fn parse_application(body: RawObject) -> Result<(TransactionId, Option<Decimal>), ApiError> {
    let mut fields = FieldReader::new(body);
    let transaction_id = fields.required("transactionId", |raw| {
        TransactionId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let amount = fields.optional("amount", number);
    fields.finish(&[])?;
    match transaction_id {
        Some(transaction_id) => Ok((transaction_id, amount)),
        None => Err(ApiError::validation(Vec::new())),
    }
}

/// How a transaction's money moved, as Rebilly names the instrument.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PaymentInstrument)]
struct InstrumentResponse {
    #[schema(schema_with = payment_method)]
    method: &'static str,
}

fn payment_method() -> utoipa::openapi::Object {
    one_of(METHODS).build()
}

/// A transaction on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Transaction)]
pub struct TransactionResponse {
    #[schema(value_type = String, example = "txn_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: TransactionId,
    #[serde(rename = "type")]
    #[schema(schema_with = transaction_type)]
    kind: &'static str,
    /// Always `completed`: the money moved before it was recorded.
    status: &'static str,
    /// Always `approved`.
    result: &'static str,
    #[schema(value_type = String)]
    customer_id: CustomerId,
    #[schema(value_type = String)]
    website_id: WebsiteId,
    #[schema(schema_with = currency)]
    currency: Currency,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    /// What is left to apply to invoices (not in Rebilly's schema).
    #[serde(serialize_with = "money::serialize")]
    unused_amount: Decimal,
    payment_instrument: InstrumentResponse,
    description: Option<String>,
    /// The invoices it was applied to, in the order it was applied.
    #[schema(value_type = Vec<String>)]
    invoice_ids: Vec<InvoiceId>,
    /// Always `true`: the payment was made elsewhere.
    is_processed_outside: bool,
    revision: i64,
    #[serde(serialize_with = "time")]
    processed_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl TransactionResponse {
    fn new(state: &AppState, transaction: &Transaction) -> Self {
        Self {
            id: transaction.id.clone(),
            kind: transaction.kind.as_str(),
            status: "completed",
            result: "approved",
            customer_id: transaction.customer_id.clone(),
            website_id: transaction.website_id.clone(),
            currency: transaction.currency,
            amount: transaction.amount,
            unused_amount: transaction.unused_amount(),
            payment_instrument: InstrumentResponse {
                method: transaction.method.as_str(),
            },
            description: transaction.description.clone(),
            invoice_ids: transaction.invoice_ids.clone(),
            is_processed_outside: true,
            revision: transaction.revision,
            processed_time: transaction.created_time,
            created_time: transaction.created_time,
            updated_time: transaction.updated_time,
            links: vec![Link::to(state, "self", &transaction_path(&transaction.id))],
        }
    }
}

named_schema!(
    /// The body of `POST /transactions`.
    TransactionRequest => {
        let instrument = closed_object(&["method"], [("method", one_of(METHODS).into())]);
        let object = closed_object(
            &["type", "customerId", "websiteId", "currency", "amount", "paymentInstrument"],
            [
                ("type", one_of(TransactionType::ALL.map(TransactionType::as_str)).into()),
                ("customerId", id().into()),
                ("websiteId", id().into()),
                ("currency", one_of(Currency::codes()).into()),
                (
                    "amount",
                    positive_number(MAX_AMOUNT)
                        .description(Some("At most the currency's decimal places."))
                        .into(),
                ),
                ("paymentInstrument", instrument.into()),
                (
                    "description",
                    nullable(text(TransactionDescription::MAX_CHARS)).into(),
                ),
            ],
        )
        .description(Some("A payment or refund made elsewhere, to record."));
        with_read_only(object, READ_ONLY).into()
    }
);

named_schema!(
    /// The body of `POST /invoices/{id}/transaction`.
    InvoiceTransactionRequest => closed_object(
        &["transactionId"],
        [
            ("transactionId", id().into()),
            (
                "amount",
                nullable(positive_number(MAX_AMOUNT))
                    .description(Some(
                        "How much to apply; by default the lesser of what the transaction has left and what the invoice can take.",
                    ))
                    .into(),
            ),
        ],
    )
    .into()
);
