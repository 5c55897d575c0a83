//! `/credit-memos`: money owed back to a customer for an invoice, taken off what invoices have
//! left due; as JSON or, for people, as a PDF.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::etag::{answer_unless_current, representation_etag};
use super::fields::{FieldReader, RawObject, canonical_body, integer, number, string};
use super::openapi::currency;
use super::openapi::schema::{
    closed_object, id, named_schema, nullable, number as number_schema, one_of, positive_number,
    text, with_read_only,
};
use super::pagination::Page;
use super::paths::{IdPath, PathId, invoice_path};
use super::representation::{document_representation, varied_by_accept};
use super::wire::{Link, created, json_ok, time, time_option};
use crate::domain::credit_memo::{
    AllocationRequest, CreditAllocation, CreditLine, CreditLineInput, CreditMemo, CreditMemoInput,
    CreditMemoStatus, CreditReason, CreditSettlement,
};
use crate::domain::currency::Currency;
use crate::domain::ids::{CreditMemoId, CreditMemoLineId, CustomerId, InvoiceId, InvoiceItemId};
use crate::domain::invoice_item::{Description, MAX_QUANTITY, Quantity, UnitPrice};
use crate::domain::metadata::Metadata;
use crate::domain::money;
use crate::domain::transaction::MAX_AMOUNT;
use crate::error::{ApiError, InvalidField, Resource};
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, OptionalJsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, run_write};
use crate::http::negotiation::MediaType;
use crate::http::problem::Problem;
use crate::http::renders::MemoAndInvoice;
use crate::http::state::AppState;
use crate::repository::CreditMemoFilter;
use crate::service::credit_memos::{self as service, CreditMemoPatch};

/// The most lines one memo may have.
const MAX_LINES: usize = 100;
/// The most invoices one memo may be allocated to.
const MAX_ALLOCATIONS: usize = 100;

/// Read-only fields of a memo: accepted and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "number",
    "status",
    "taxAmount",
    "discountAmount",
    "totalAmount",
    "unusedAmount",
    "outOfBandAmount",
    "quoteId",
    "revision",
    "createdTime",
    "updatedTime",
    "voidedTime",
    "_links",
    "_embedded",
];

/// Read-only fields of a line.
const LINE_READ_ONLY: &[&str] = &["id", "price", "discountAmount", "tax"];

/// Read-only fields of an allocation.
const ALLOCATION_READ_ONLY: &[&str] = &["currency", "createdTime", "updatedTime"];

/// Issues a credit memo.
///
/// For an issued invoice (`invoiceId`, or the first invoice allocated to). A line that names
/// an `invoiceItemId` credits that item, by default all of it, with its share of the item's
/// discount and tax; a line of no item credits `unitPrice` x `quantity` as `description`
/// says. `allocations.invoices` takes the memo off what those invoices have due.
#[utoipa::path(
    post,
    path = "/credit-memos",
    operation_id = "PostCreditMemo",
    tag = "Credit memos",
    request_body(content = CreditMemoRequest, example = json!({"customerId": "cus_1", "currency": "USD", "invoiceId": "in_01JD3G8M9K2QW5X7Y8Z9A0B1C2", "reason": "product-unsatisfactory", "items": [{"invoiceItemId": "ii_01JD3G8M9K2QW5X7Y8Z9A0B1C3", "quantity": 1}], "allocations": {"invoices": [{"invoiceId": "in_01JD3G8M9K2QW5X7Y8Z9A0B1C2"}]}})),
    responses(
        (status = 201, description = "The credit memo", body = CreditMemoResponse),
        (status = 409, description = "The invoice cannot be credited, or not in that way", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let input = parse_credit_memo(body)?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let memo = service::issue_credit_memo(tx, organization_id, input).await?;
        Ok(created(
            &state.url(&credit_memo_path(&memo.id)),
            &CreditMemoResponse::new(&state, &memo),
        ))
    })
    .await
}

/// Reads a credit memo, as JSON, as a PDF or as an e-invoice.
///
/// As JSON or, when `Accept` prefers it, as a PDF document (a Factur-X PDF/A-3 when the memo
/// has an e-invoice) or as a UBL 2.1 credit note (`application/vnd.oasis.ubl+xml` or
/// `application/xml`).
#[utoipa::path(
    get,
    path = "/credit-memos/{id}",
    operation_id = "GetCreditMemo",
    tag = "Credit memos",
    params(IdPath<CreditMemoId>),
    responses(
        (status = 200, description = "The credit memo, as JSON, as a PDF document (`Accept: application/pdf`) or as a UBL 2.1 credit note (`Accept: application/vnd.oasis.ubl+xml` or `application/xml`)", content(
            (CreditMemoResponse = "application/json"),
            (crate::http::document_body::PdfDocument = "application/pdf"),
            (crate::http::document_body::UblDocument = "application/vnd.oasis.ubl+xml"),
            (crate::http::document_body::UblDocument = "application/xml"),
        )),
        (status = 304, description = "`If-None-Match` names this representation's current `ETag`"),
        (status = 404, description = "No such credit memo", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "`Accept` accepts none of JSON, PDF and UBL, or the memo's taxes cannot be stated as EN 16931 VAT (the `detail` says why)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An e-invoice of a voided memo, or of one whose invoice lacks what EN 16931 requires (each named in `invalidFields`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<CreditMemoId>>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let credit_memo_id = path.id()?;
    let media_type = document_representation(&headers)?;
    let organization_id = &principal.organization_id;
    let response = match media_type {
        MediaType::Json => {
            let memo =
                service::get_credit_memo(&state.db, organization_id, &credit_memo_id).await?;
            let tag = representation_etag(memo.revision, media_type, 0);
            answer_unless_current(&headers, tag, async || {
                Ok(json_ok(&CreditMemoResponse::new(&state, &memo)))
            })
            .await?
        }
        MediaType::Pdf | MediaType::Ubl | MediaType::Xml => {
            // A document waits for its render's slot before it reads anything.
            let slot = state.renders.slot().await?;
            let (memo, invoice, items) =
                service::get_credit_memo_with_invoice(&state.db, organization_id, &credit_memo_id)
                    .await?;
            let seller = state.db.find_organization(organization_id).await?;
            // The document shows the seller and the invoice too: its tag changes with them.
            let version = seller
                .updated_time
                .map_or(0, |time| time.timestamp_millis())
                .max(invoice.updated_time.timestamp_millis());
            let tag = representation_etag(memo.revision, media_type, version);
            let credited = MemoAndInvoice {
                memo,
                invoice,
                items,
                seller,
            };
            answer_unless_current(&headers, tag, async || match media_type {
                MediaType::Pdf => slot.credit_memo_pdf(credited).await,
                _ => slot.credit_memo_ubl(credited, media_type.as_str()).await,
            })
            .await?
        }
    };
    Ok(varied_by_accept(response))
}

/// Lists credit memos.
///
/// Newest first, then by id descending, with `Pagination-*` headers. `filter` keeps those of
/// one customer or invoice: `customerId:cus_1;invoiceId:in_1`.
#[utoipa::path(
    get,
    path = "/credit-memos",
    operation_id = "GetCreditMemoCollection",
    tag = "Credit memos",
    params(Page, CreditMemoQuery),
    responses(
        (status = 200, description = "A page of credit memos", body = Vec<CreditMemoResponse>),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Query,
) -> Result<Response, Failure> {
    let mut errors = Vec::new();
    let page = Page::from_query(&query, &mut errors);
    let filter = parse_filter(&query, &mut errors);
    ApiError::unless_invalid(errors)?;
    let organization_id = &principal.organization_id;
    let found =
        service::list_credit_memos(&state.db, organization_id, &filter, page.limit, page.offset)
            .await?;
    Ok(page.answer_each(found.total, &found.credit_memos, |memo| {
        CreditMemoResponse::new(&state, memo)
    }))
}

/// Changes a credit memo.
///
/// Its `reason`, its `description`, and where it goes: `allocations.invoices` lists every
/// invoice it is to be allocated to, with the amount; an invoice no longer listed has its
/// credit withdrawn. Credit on an invoice changes only while the invoice is `unpaid`,
/// `partially-paid` or `past-due`.
#[utoipa::path(
    patch,
    path = "/credit-memos/{id}",
    operation_id = "PatchCreditMemo",
    tag = "Credit memos",
    params(IdPath<CreditMemoId>),
    request_body(content = CreditMemoPatchRequest, example = json!({"allocations": {"invoices": [{"invoiceId": "in_01JD3G8M9K2QW5X7Y8Z9A0B1C2", "amount": 10}]}})),
    responses(
        (status = 200, description = "The credit memo", body = CreditMemoResponse),
        (status = 404, description = "No such credit memo", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The memo is voided, or an invoice's credit cannot change", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<CreditMemoId>>,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let patch = parse_patch(body)?;
    let credit_memo_id = path.id()?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let memo = service::patch_credit_memo(tx, organization_id, &credit_memo_id, patch).await?;
        Ok(json_ok(&CreditMemoResponse::new(&state, &memo)))
    })
    .await
}

/// Voids a credit memo.
///
/// Its credit is withdrawn from every invoice it was allocated to, which must all still be
/// `unpaid`, `partially-paid` or `past-due`.
#[utoipa::path(
    post,
    path = "/credit-memos/{id}/void",
    operation_id = "PostCreditMemoVoid",
    tag = "Credit memos",
    params(IdPath<CreditMemoId>),
    responses(
        (status = 201, description = "The credit memo, `voided`", body = CreditMemoResponse),
        (status = 404, description = "No such credit memo", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The memo is voided already, or an invoice's credit cannot change", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn void(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<CreditMemoId>>,
    idempotency: Idempotency,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(body.as_ref().and_then(canonical_body));
    if let Some(body) = body {
        FieldReader::new(body).finish(&[])?;
    }
    let credit_memo_id = path.id()?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let memo = service::void_credit_memo(tx, organization_id, &credit_memo_id).await?;
        Ok(created(
            &state.url(&credit_memo_path(&memo.id)),
            &CreditMemoResponse::new(&state, &memo),
        ))
    })
    .await
}

/// Turns a request body into a memo, naming every bad field at once.
fn parse_credit_memo(body: RawObject) -> Result<CreditMemoInput, ApiError> {
    let mut fields = FieldReader::new(body);
    let customer_id = fields.required("customerId", |raw| {
        CustomerId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let currency = fields.required("currency", |raw| {
        Currency::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let invoice_given = fields.has_value("invoiceId");
    let items_given = fields.has_value("items");
    let invoice_id = fields.optional("invoiceId", invoice_id);
    let lines = parse_lines(&mut fields);
    let shipping_amount = fields
        .optional("shippingAmount", |raw| {
            let amount = number(raw)?;
            if amount.is_sign_negative() && !amount.is_zero() {
                Err("must be at least 0".to_owned())
            } else if amount > MAX_AMOUNT {
                Err(format!("must be at most {MAX_AMOUNT}"))
            } else {
                Ok(amount.normalize())
            }
        })
        .unwrap_or_default();
    let reason = fields.optional("reason", reason);
    let description = fields.optional("description", |raw| Description::parse(string(raw)?));
    let allocations = parse_allocations(&mut fields).unwrap_or_default();
    // Without `invoiceId`, the memo credits the first invoice it goes to.
    let credited = invoice_id.or_else(|| {
        allocations
            .first()
            .map(|allocation| allocation.invoice_id.clone())
    });
    if credited.is_none() && !invoice_given {
        fields.reject(
            "invoiceId",
            "is required unless allocations.invoices names an invoice: a credit memo credits an invoice",
        );
    }
    if !items_given {
        fields.reject("items", "is required");
    }
    fields.finish(READ_ONLY)?;
    match (customer_id, currency, credited) {
        (Some(customer_id), Some(currency), Some(invoice_id)) if !lines.is_empty() => {
            Ok(CreditMemoInput {
                invoice_id,
                customer_id: Some(customer_id),
                currency: Some(currency),
                lines,
                shipping_amount,
                reason,
                description,
                metadata: Metadata::default(),
                allocations,
                settlement: CreditSettlement::AsAllocated,
            })
        }
        // `finish` has refused every missing or bad required field.
        _ => Err(ApiError::validation(Vec::new())),
    }
}

/// `items`: 1 to [`MAX_LINES`] lines.
fn parse_lines(fields: &mut FieldReader) -> Vec<CreditLineInput> {
    let given = fields.has_value("items");
    let mut lines = Vec::new();
    for mut element in fields.optional_objects("items", MAX_LINES) {
        let invoice_item_id = element.optional("invoiceItemId", |raw| {
            InvoiceItemId::parse(&string(raw)?).map_err(|error| error.to_string())
        });
        let description = element.optional("description", |raw| Description::parse(string(raw)?));
        let unit_price = element.optional("unitPrice", |raw| UnitPrice::parse(number(raw)?));
        let quantity = element.optional("quantity", |raw| {
            Quantity::parse(integer(raw)?).map_err(|_| format!("must be 1 to {MAX_QUANTITY}"))
        });
        for name in ["productId", "planId"] {
            if element.has_value(name) {
                element.reject(
                    name,
                    "is not taken: a line credits an invoice item (invoiceItemId) or says what it credits (description)",
                );
            }
            element.skip(name);
        }
        lines.push(CreditLineInput {
            invoice_item_id,
            description,
            unit_price,
            quantity,
        });
        fields.adopt(element, LINE_READ_ONLY);
    }
    if given && lines.is_empty() {
        fields.reject("items", "must list at least one line");
    }
    lines
}

/// `allocations`: `invoices` (at most [`MAX_ALLOCATIONS`]); `None` when it lists none (an
/// update then keeps them as they are). Allocations to transactions (refunds of credit) are
/// refused: money given back is a refund here.
fn parse_allocations(fields: &mut FieldReader) -> Option<Vec<AllocationRequest>> {
    let mut allocations = fields.optional_object("allocations")?;
    let listed = allocations.has_value("invoices");
    if allocations.has_value("transactions") {
        allocations.reject(
            "transactions",
            "is not taken: give money back with a refund transaction (POST /transactions)",
        );
    }
    allocations.skip("transactions");
    let mut requests = Vec::new();
    for mut element in allocations.optional_objects("invoices", MAX_ALLOCATIONS) {
        let invoice_id = element.required("invoiceId", invoice_id);
        let amount = element.optional("amount", number);
        if let Some(invoice_id) = invoice_id {
            requests.push(AllocationRequest { invoice_id, amount });
        }
        allocations.adopt(element, ALLOCATION_READ_ONLY);
    }
    fields.adopt(allocations, &[]);
    listed.then_some(requests)
}

/// `PATCH`: `reason`, `description`, `allocations`.
fn parse_patch(body: RawObject) -> Result<CreditMemoPatch, ApiError> {
    let mut fields = FieldReader::new(body);
    let reason = fields.change("reason", reason);
    let description = fields.change("description", |raw| Description::parse(string(raw)?));
    let allocations = parse_allocations(&mut fields);
    fields.finish(READ_ONLY)?;
    Ok(CreditMemoPatch {
        reason,
        description,
        allocations,
    })
}

fn invoice_id(raw: &serde_json::value::RawValue) -> Result<InvoiceId, String> {
    InvoiceId::parse(&string(raw)?).map_err(|error| error.to_string())
}

fn reason(raw: &serde_json::value::RawValue) -> Result<CreditReason, String> {
    let value = string(raw)?;
    CreditReason::parse(&value).ok_or_else(|| format!("must be one of: {}", reasons().join(", ")))
}

fn reasons() -> Vec<&'static str> {
    CreditReason::ALL.map(CreditReason::as_str).to_vec()
}

/// `filter`: `customerId:...;invoiceId:...`, one value each.
fn parse_filter(query: &Query, errors: &mut Vec<InvalidField>) -> CreditMemoFilter {
    let mut filter = CreditMemoFilter::default();
    let Some((_, text)) = query.0.iter().find(|(name, _)| name == "filter") else {
        return filter;
    };
    if text.chars().count() > 1000 {
        errors.push(InvalidField::new(
            "filter",
            "must be at most 1000 characters",
        ));
        return filter;
    }
    for clause in text.split(';').filter(|clause| !clause.trim().is_empty()) {
        let Some((field, value)) = clause.split_once(':') else {
            errors.push(InvalidField::new(
                "filter",
                format!("{clause:?} must be field:value"),
            ));
            continue;
        };
        let bad = |message: String| InvalidField::new("filter", message);
        match field.trim() {
            "customerId" => match CustomerId::parse(value.trim()) {
                Ok(id) => filter.customer_id = Some(id),
                Err(error) => errors.push(bad(format!("customerId {error}"))),
            },
            "invoiceId" => match InvoiceId::parse(value.trim()) {
                Ok(id) => filter.invoice_id = Some(id),
                Err(error) => errors.push(bad(format!("invoiceId {error}"))),
            },
            other => errors.push(bad(format!(
                "cannot filter on {other:?}; use customerId or invoiceId"
            ))),
        }
    }
    filter
}

/// `filter` of `GET /credit-memos`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "read from the raw query; described here for the contract"
)]
struct CreditMemoQuery {
    /// `customerId:cus_1;invoiceId:in_1`: only the memos of that customer, or crediting that
    /// invoice.
    filter: Option<String>,
}

/// The path of a credit memo, relative to the server root.
pub fn credit_memo_path(credit_memo_id: &CreditMemoId) -> String {
    format!("/credit-memos/{credit_memo_id}")
}

impl PathId for CreditMemoId {
    const DESCRIPTION: &'static str = "The credit memo id.";

    fn from_path(id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| ApiError::not_found(Resource::CreditMemo, id))
    }
}

fn memo_status() -> utoipa::openapi::Object {
    one_of(CreditMemoStatus::ALL.map(CreditMemoStatus::as_str)).build()
}

fn memo_reason() -> utoipa::openapi::Object {
    one_of(CreditReason::ALL.map(CreditReason::as_str)).build()
}

/// A line's tax on the wire: the share of its item's tax.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreditMemoTaxItem)]
struct LineTaxResponse {
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    description: String,
}

/// A memo's line on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CreditMemoItem)]
struct LineResponse {
    #[schema(value_type = String)]
    id: CreditMemoLineId,
    #[schema(value_type = Option<String>)]
    invoice_item_id: Option<InvoiceItemId>,
    description: Option<String>,
    #[serde(serialize_with = "money::serialize")]
    unit_price: Decimal,
    quantity: i64,
    /// `unitPrice` x `quantity`, rounded to the currency.
    #[serde(serialize_with = "money::serialize")]
    price: Decimal,
    /// Its share of the item's discount (not in Rebilly's schema).
    #[serde(serialize_with = "money::serialize")]
    discount_amount: Decimal,
    tax: Option<LineTaxResponse>,
}

impl LineResponse {
    fn new(line: &CreditLine) -> Self {
        Self {
            id: line.id.clone(),
            invoice_item_id: line.invoice_item_id.clone(),
            description: line.description.clone(),
            unit_price: line.unit_price,
            quantity: line.quantity,
            price: line.price,
            discount_amount: line.discount_amount,
            tax: line
                .tax_description
                .as_ref()
                .map(|description| LineTaxResponse {
                    amount: line.tax_amount,
                    description: description.clone(),
                }),
        }
    }
}

/// An allocation of a memo to an invoice on the wire; also an invoice's
/// `creditMemoAllocations`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CreditMemoInvoiceAllocation)]
pub struct CreditAllocationResponse {
    #[schema(value_type = String)]
    credit_memo_id: CreditMemoId,
    #[schema(value_type = String)]
    invoice_id: InvoiceId,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    #[schema(schema_with = currency)]
    currency: Currency,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
}

impl CreditAllocationResponse {
    /// The wire form of an allocation.
    pub fn new(allocation: &CreditAllocation) -> Self {
        Self {
            credit_memo_id: allocation.credit_memo_id.clone(),
            invoice_id: allocation.invoice_id.clone(),
            amount: allocation.amount,
            currency: allocation.currency,
            created_time: allocation.created_time,
            updated_time: allocation.updated_time,
        }
    }
}

/// Where a memo goes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreditMemoAllocations)]
struct AllocationsResponse {
    invoices: Vec<CreditAllocationResponse>,
    /// Always empty: money given back is a refund transaction here.
    #[schema(value_type = Vec<Object>)]
    transactions: [(); 0],
}

/// A credit memo on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CreditMemo)]
pub struct CreditMemoResponse {
    #[schema(value_type = String, example = "crmm_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: CreditMemoId,
    /// Its number in the organization's sequence of memos, with no gap.
    number: i64,
    #[schema(value_type = String)]
    customer_id: CustomerId,
    #[schema(schema_with = currency)]
    currency: Currency,
    /// The invoice it credits.
    #[schema(value_type = String)]
    invoice_id: InvoiceId,
    #[schema(schema_with = memo_status)]
    status: &'static str,
    #[schema(schema_with = memo_reason)]
    reason: Option<&'static str>,
    description: Option<String>,
    items: Vec<LineResponse>,
    #[serde(serialize_with = "money::serialize")]
    shipping_amount: Decimal,
    /// The lines' shares of their items' discounts (not in Rebilly's schema).
    #[serde(serialize_with = "money::serialize")]
    discount_amount: Decimal,
    #[serde(serialize_with = "money::serialize")]
    tax_amount: Decimal,
    /// `sum(price) - discountAmount + taxAmount + shippingAmount`.
    #[serde(serialize_with = "money::serialize")]
    total_amount: Decimal,
    #[serde(serialize_with = "money::serialize")]
    unused_amount: Decimal,
    /// What was given back elsewhere, of an invoice already paid (not in Rebilly's schema).
    #[serde(serialize_with = "money::serialize")]
    out_of_band_amount: Decimal,
    allocations: AllocationsResponse,
    revision: i64,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    /// When it was voided (not in Rebilly's schema).
    #[serde(serialize_with = "time_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    voided_time: Option<DateTime<Utc>>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl CreditMemoResponse {
    /// The wire form of a memo.
    pub fn new(state: &AppState, memo: &CreditMemo) -> Self {
        let totals = &memo.totals;
        Self {
            id: memo.id.clone(),
            number: memo.number,
            customer_id: memo.customer_id.clone(),
            currency: memo.currency,
            invoice_id: memo.invoice_id.clone(),
            status: memo.status.as_str(),
            reason: memo.reason.map(CreditReason::as_str),
            description: memo.description.clone(),
            items: memo.lines.iter().map(LineResponse::new).collect(),
            shipping_amount: totals.shipping_amount,
            discount_amount: totals.discount_amount,
            tax_amount: totals.tax_amount,
            total_amount: totals.total_amount,
            unused_amount: memo.unused_amount(),
            out_of_band_amount: memo.out_of_band_amount,
            allocations: AllocationsResponse {
                invoices: memo
                    .allocations
                    .iter()
                    .map(CreditAllocationResponse::new)
                    .collect(),
                transactions: [],
            },
            revision: memo.revision,
            created_time: memo.created_time,
            updated_time: memo.updated_time,
            voided_time: memo.voided_time,
            links: vec![
                Link::to(state, "self", &credit_memo_path(&memo.id)),
                Link::to(state, "invoice", &invoice_path(&memo.invoice_id)),
            ],
        }
    }
}

fn allocations_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let allocation = closed_object(
        &["invoiceId"],
        [
            ("invoiceId", id().into()),
            (
                "amount",
                nullable(positive_number(MAX_AMOUNT))
                    .description(Some(
                        "How much; by default the lesser of what the memo has left and what the invoice has due.",
                    ))
                    .into(),
            ),
        ],
    );
    let invoices = utoipa::openapi::schema::ArrayBuilder::new()
        .items(with_read_only(allocation, ALLOCATION_READ_ONLY))
        .max_items(Some(MAX_ALLOCATIONS));
    closed_object(&[], [("invoices", invoices.into())]).into()
}

named_schema!(
    /// The body of `POST /credit-memos`.
    CreditMemoRequest => {
        let line = closed_object(
            &[],
            [
                ("invoiceItemId", nullable(id()).into()),
                ("description", nullable(text(Description::MAX_CHARS)).into()),
                (
                    "unitPrice",
                    nullable(positive_number(Decimal::from(1_000_000_000)))
                        .description(Some("By default the invoice item's."))
                        .into(),
                ),
                (
                    "quantity",
                    nullable(
                        utoipa::openapi::schema::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::Integer)
                            .minimum(Some(1))
                            .maximum(Some(MAX_QUANTITY)),
                    )
                    .description(Some("By default the invoice item's quantity, or 1."))
                    .into(),
                ),
            ],
        );
        let items = utoipa::openapi::schema::ArrayBuilder::new()
            .items(with_read_only(line, LINE_READ_ONLY))
            .min_items(Some(1))
            .max_items(Some(MAX_LINES));
        let object = closed_object(
            &["customerId", "currency", "items"],
            [
                ("customerId", id().into()),
                ("currency", one_of(Currency::codes()).into()),
                ("invoiceId", nullable(id()).into()),
                ("items", items.into()),
                ("shippingAmount", nullable(number_schema(Decimal::ZERO, MAX_AMOUNT)).into()),
                ("reason", nullable(one_of(reasons())).into()),
                ("description", nullable(text(Description::MAX_CHARS)).into()),
                ("allocations", allocations_schema()),
            ],
        )
        .description(Some("A credit memo to issue for an invoice."));
        with_read_only(object, READ_ONLY).into()
    }
);

named_schema!(
    /// The body of `PATCH /credit-memos/{id}`.
    CreditMemoPatchRequest => {
        let object = closed_object(
            &[],
            [
                ("reason", nullable(one_of(reasons())).into()),
                ("description", nullable(text(Description::MAX_CHARS)).into()),
                ("allocations", allocations_schema()),
            ],
        );
        with_read_only(object, READ_ONLY).into()
    }
);
