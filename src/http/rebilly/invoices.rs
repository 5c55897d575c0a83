//! `/invoices`: create, upsert, read, list and move invoices along their lifecycle.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use super::allocations::AllocationResponse;
use super::contact::{ContactObjectResponse, ElectronicAddressResponse, TaxIdResponse};
use super::credit_memos::CreditAllocationResponse;
use super::etag::{Precondition, answer_unless_current, representation_etag, with_etag};
use super::fields::{FieldReader, canonical_body};
use super::invoice_body::{EmptyRequest, InvoiceRequest, IssueRequest};
use super::invoice_body::{invoice_example, parse_invoice, parse_issue_times};
use super::invoice_items::ItemResponse;
use super::invoice_query::InvoiceQuery;
use super::invoice_stream::{ItemsMark, invoice_array, invoice_json};
use super::openapi::{currency, discount_kind, invoice_status};
use super::pagination::Page;
use super::paths::{IdPath, invoice_path};
use super::representation::{document_representation, varied_by_accept};
use super::tax::InvoiceTaxResponse;
use super::wire::{Link, created, json_ok, time, time_option};
use crate::domain::currency::Currency;
use crate::domain::discount::{AppliedDiscount, DiscountKind};
use crate::domain::ids::{CustomerId, InvoiceId, WebsiteId};
use crate::domain::invoice::{Invoice, InvoiceAction, InvoiceStatus};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::money;
use crate::domain::vat_totals::{VatTotal, vat_totals};
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::document_body::{PdfDocument, UblDocument};
use crate::http::extract::{JsonBody, OptionalJsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, WriteRequest, run_unkeyed_write, run_write};
use crate::http::negotiation::MediaType;
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::service::invoice_reads;
use crate::service::invoices::{self as service, IssueTimes};

/// Creates a draft invoice.
#[utoipa::path(
    post,
    path = "/invoices",
    operation_id = "PostInvoice",
    tag = "Invoices",
    request_body(content = InvoiceRequest, example = invoice_example),
    responses(
        (status = 201, description = "The draft invoice", body = InvoiceResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let (input, pending) = parse_invoice(body)?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let (invoice, items) = service::create_invoice(tx, organization_id, input, pending).await?;
        Ok(invoice_answer(&state, &invoice, &items, true))
    })
    .await
}

/// Creates or replaces the draft invoice of a given id.
///
/// Creates the invoice with that id (201), or replaces the fields of the draft that has it (200);
/// with `If-Match`, only the version it names is replaced and nothing is created.
#[utoipa::path(
    put,
    path = "/invoices/{id}",
    operation_id = "PutInvoice",
    tag = "Invoices",
    params(IdPath<InvoiceId>),
    request_body(content = InvoiceRequest, example = invoice_example),
    responses(
        (status = 200, description = "The draft, replaced", body = InvoiceResponse),
        (status = 201, description = "The draft, created with this id", body = InvoiceResponse),
        (status = 404, description = "The id cannot name an invoice (wrong characters, too long)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is not a draft", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn upsert(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    Precondition(if_match): Precondition,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let (input, pending) = parse_invoice(body)?;
    let invoice_id = path.id()?;
    let organization_id = &principal.organization_id;
    run_unkeyed_write(&state, &principal, async |tx| {
        let if_match = if_match.as_ref();
        let ((invoice, items), was_created) =
            service::upsert_invoice(tx, organization_id, &invoice_id, input, if_match, pending)
                .await?;
        Ok(invoice_answer(&state, &invoice, &items, was_created))
    })
    .await
}

/// Reads an invoice with its items, as JSON, as a PDF or as an e-invoice.
///
/// The invoice with its items, as JSON or, when `Accept` prefers it, as a PDF document (a
/// Factur-X PDF/A-3 when the invoice has an e-invoice) or as a UBL 2.1 e-invoice
/// (`application/vnd.oasis.ubl+xml` or `application/xml`).
#[utoipa::path(
    get,
    path = "/invoices/{id}",
    operation_id = "GetInvoice",
    tag = "Invoices",
    params(IdPath<InvoiceId>),
    responses(
        (status = 200, description = "The invoice, as JSON, as a PDF document (`Accept: application/pdf`) or as a UBL 2.1 e-invoice (`Accept: application/vnd.oasis.ubl+xml` or `application/xml`)", content(
            (InvoiceResponse = "application/json"),
            (PdfDocument = "application/pdf"),
            (UblDocument = "application/vnd.oasis.ubl+xml"),
            (UblDocument = "application/xml"),
        )),
        (status = 304, description = "`If-None-Match` names this representation's current `ETag`"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "`Accept` accepts none of JSON, PDF and UBL, or the invoice's taxes cannot be stated as EN 16931 VAT (the `detail` says why)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An e-invoice of a draft, or of an invoice that lacks what EN 16931 requires (each named in `invalidFields`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let invoice_id = path.id()?;
    let media_type = document_representation(&headers)?;
    // A document waits for its render's slot before it reads anything: requests waiting for
    // one hold no invoice and no connection.
    let slot = match media_type {
        MediaType::Json => None,
        MediaType::Pdf | MediaType::Ubl | MediaType::Xml => Some(state.renders.slot().await?),
    };
    // A document shows the seller too: its tag changes when either changes. It is read first,
    // so that the invoice's snapshot, which a large invoice keeps while its items are read,
    // is the only connection the request then holds.
    let seller = match slot {
        None => None,
        Some(_) => Some(
            state
                .db
                .find_organization(&principal.organization_id)
                .await?,
        ),
    };
    let read =
        invoice_reads::read_invoice(&state.db, &principal.organization_id, &invoice_id).await?;
    let seller_version = seller
        .as_ref()
        .and_then(|seller| seller.updated_time)
        .map_or(0, |time| time.timestamp_millis());
    let tag = representation_etag(read.invoice().revision, media_type, seller_version);
    let response = answer_unless_current(&headers, tag, async || match (slot, seller) {
        (Some(slot), Some(seller)) => {
            let (invoice, items) = read.into_whole().await?;
            if media_type == MediaType::Pdf {
                slot.invoice_pdf(invoice, items, seller).await
            } else {
                slot.invoice_ubl(invoice, items, seller, media_type.as_str())
                    .await
            }
        }
        _ => invoice_json(state, read).await,
    })
    .await?;
    Ok(varied_by_accept(response))
}

/// Lists invoices.
///
/// Filtered, sorted and paginated, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/invoices",
    operation_id = "GetInvoiceCollection",
    tag = "Invoices",
    params(Page, InvoiceQuery),
    responses(
        (status = 200, description = "A page of invoices", body = Vec<InvoiceResponse>),
        (status = 422, description = "A bad `limit`, `offset`, `filter` or `sort`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Query,
) -> Result<Response, Failure> {
    let mut errors = Vec::new();
    let page = Page::from_query(&query, &mut errors);
    let selection = InvoiceQuery::from_query(&query, &mut errors);
    ApiError::unless_invalid(errors)?;
    let (total, chunks) = invoice_reads::list_invoices(
        &state.db,
        &principal.organization_id,
        &selection.filter,
        &selection.order,
        page.limit,
        page.offset,
    )
    .await?;
    Ok((page.headers(total), invoice_array(state, chunks)).into_response())
}

/// Issues a draft invoice.
///
/// A draft becomes unpaid; the optional body sets `issuedTime` and `dueTime`.
#[utoipa::path(
    post,
    path = "/invoices/{id}/issue",
    operation_id = "PostInvoiceIssuance",
    tag = "Invoices",
    params(IdPath<InvoiceId>),
    request_body(content = Option<IssueRequest>, example = json!({"issuedTime": "2026-11-21T00:00:00Z", "dueTime": "2026-12-21T00:00:00Z"})),
    responses(
        (status = 201, description = "The invoice, issued: `unpaid`", body = InvoiceResponse),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice's status does not allow this", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    idempotency: Idempotency,
    body: OptionalJsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(body.0.as_ref().and_then(canonical_body));
    let times = parse_issue_times(body.0)?;
    act(state, principal, path, request, InvoiceAction::Issue, times).await
}

/// Voids an invoice.
///
/// An unpaid or past-due invoice is voided.
#[utoipa::path(
    post,
    path = "/invoices/{id}/void",
    operation_id = "PostInvoiceVoid",
    tag = "Invoices",
    params(IdPath<InvoiceId>),
    request_body(content = Option<EmptyRequest>),
    responses(
        (status = 201, description = "The invoice, `voided`", body = InvoiceResponse),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice's status does not allow this", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn void(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    idempotency: Idempotency,
    body: OptionalJsonBody,
) -> Result<Response, Failure> {
    act_without_body(
        state,
        principal,
        path,
        idempotency,
        InvoiceAction::Void,
        body,
    )
    .await
}

/// Abandons an invoice.
///
/// A draft or unpaid invoice is abandoned.
#[utoipa::path(
    post,
    path = "/invoices/{id}/abandon",
    operation_id = "PostInvoiceAbandonment",
    tag = "Invoices",
    params(IdPath<InvoiceId>),
    request_body(content = Option<EmptyRequest>),
    responses(
        (status = 201, description = "The invoice, `abandoned`", body = InvoiceResponse),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice's status does not allow this", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn abandon(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    idempotency: Idempotency,
    body: OptionalJsonBody,
) -> Result<Response, Failure> {
    act_without_body(
        state,
        principal,
        path,
        idempotency,
        InvoiceAction::Abandon,
        body,
    )
    .await
}

/// An action that takes no fields: the body may be absent or `{}`, anything in it is 422.
async fn act_without_body(
    state: AppState,
    principal: Principal,
    path: IdPath<InvoiceId>,
    idempotency: Idempotency,
    action: InvoiceAction,
    body: OptionalJsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(body.0.as_ref().and_then(canonical_body));
    FieldReader::new(body.0.unwrap_or_default()).finish(&[])?;
    act(
        state,
        principal,
        path,
        request,
        action,
        IssueTimes::default(),
    )
    .await
}

/// Applies an action and answers as Rebilly does: 201, `Location` and the invoice.
async fn act(
    state: AppState,
    principal: Principal,
    path: IdPath<InvoiceId>,
    request: WriteRequest,
    action: InvoiceAction,
    times: IssueTimes,
) -> Result<Response, Failure> {
    let invoice_id = path.id()?;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let (invoice, items) =
            service::apply_action(tx, organization_id, &invoice_id, action, times).await?;
        Ok(invoice_answer(&state, &invoice, &items, true))
    })
    .await
}

/// An invoice with its `ETag`: a 201 with `Location` when the write created it (or moved it
/// along its lifecycle, which Rebilly answers so too), else a 200.
pub(super) fn invoice_answer(
    state: &AppState,
    invoice: &Invoice,
    items: &[InvoiceItem],
    was_created: bool,
) -> Response {
    let body = InvoiceResponse::new(state, invoice, items);
    let response = if was_created {
        created(&state.url(&invoice_path(&invoice.id)), &body)
    } else {
        json_ok(&body)
    };
    with_etag(response, invoice.revision)
}

/// An invoice on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Invoice)]
pub(super) struct InvoiceResponse<'a> {
    #[schema(value_type = String, example = "in_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: InvoiceId,
    #[schema(value_type = String)]
    customer_id: CustomerId,
    #[schema(value_type = String)]
    website_id: WebsiteId,
    #[schema(schema_with = currency)]
    currency: Currency,
    #[schema(schema_with = invoice_status)]
    status: InvoiceStatus,
    /// The invoice's number in its organization, 1, 2, 3, ... with no gap, given when it is
    /// issued; `null` for a draft.
    invoice_number: Option<i64>,
    #[serde(serialize_with = "money::serialize")]
    subtotal_amount: Decimal,
    #[serde(serialize_with = "money::serialize")]
    discount_amount: Decimal,
    discounts: Vec<DiscountResponse>,
    tax: InvoiceTaxResponse,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    /// What is left to pay: `amount`, less the payments applied, plus the refunds.
    #[serde(serialize_with = "money::serialize")]
    amount_due: Decimal,
    /// When it was paid in full; `null` until then.
    #[serde(serialize_with = "time_option")]
    paid_time: Option<DateTime<Utc>>,
    /// Its newest applications of transactions, at most 10, oldest first; all of them are at
    /// `/invoices/{id}/transaction-allocations`.
    transactions: Vec<AllocationResponse>,
    /// The credit memos taken off it, oldest first.
    credit_memo_allocations: Vec<CreditAllocationResponse>,
    #[serde(serialize_with = "time_option")]
    due_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    issued_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    abandoned_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    voided_time: Option<DateTime<Utc>>,
    notes: Option<String>,
    po_number: Option<String>,
    billing_address: Option<ContactObjectResponse>,
    delivery_address: Option<ContactObjectResponse>,
    organization_tax_id_number: Option<TaxIdResponse>,
    customer_tax_id_number: Option<TaxIdResponse>,
    /// The buyer's address on an e-invoicing network such as Peppol, where given.
    customer_electronic_address: Option<ElectronicAddressResponse>,
    /// What the buyer asks its invoices to quote (a German Leitweg-ID, say), where given.
    buyer_reference: Option<String>,
    /// Grows by one with every change to the invoice or its items; the `ETag`.
    revision: i64,
    #[schema(value_type = Vec<ItemResponse>)]
    items: ItemsResponse<'a>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

/// A discount as set, with what it took off.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Discount)]
struct DiscountResponse {
    description: Option<String>,
    #[serde(rename = "type")]
    #[schema(schema_with = discount_kind)]
    kind: DiscountKind,
    #[serde(serialize_with = "money::serialize")]
    value: Decimal,
    /// What it took off the invoice.
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
}

impl DiscountResponse {
    fn new(applied: &AppliedDiscount) -> Self {
        let discount = &applied.discount;
        Self {
            description: discount
                .description
                .as_ref()
                .map(|text| text.as_str().to_owned()),
            kind: discount.kind,
            value: discount.value(),
            amount: applied.amount,
        }
    }
}

impl<'a> InvoiceResponse<'a> {
    pub(super) fn new(state: &'a AppState, invoice: &Invoice, items: &'a [InvoiceItem]) -> Self {
        let vat_totals = vat_totals(&invoice.tax, items);
        let items = ItemsResponse::Listed { state, items };
        Self::with(state, invoice, &vat_totals, items)
    }

    /// The invoice with an empty list of items, whose place `mark` notes as it is written:
    /// for an invoice whose items are written after it, chunk by chunk.
    pub(super) fn without_items(
        state: &'a AppState,
        invoice: &Invoice,
        vat_totals: &[VatTotal],
        mark: &'a ItemsMark,
    ) -> Self {
        Self::with(state, invoice, vat_totals, ItemsResponse::Marked(mark))
    }

    fn with(
        state: &'a AppState,
        invoice: &Invoice,
        vat_totals: &[VatTotal],
        items: ItemsResponse<'a>,
    ) -> Self {
        let totals = &invoice.totals;
        let parties = &invoice.parties;
        Self {
            id: invoice.id.clone(),
            customer_id: invoice.customer_id.clone(),
            website_id: invoice.website_id.clone(),
            currency: invoice.currency,
            status: invoice.status,
            invoice_number: invoice.invoice_number,
            subtotal_amount: totals.subtotal_amount,
            discount_amount: totals.discount_amount,
            discounts: invoice
                .discounts
                .iter()
                .map(DiscountResponse::new)
                .collect(),
            tax: InvoiceTaxResponse::new(&invoice.tax, totals.tax_amount, vat_totals),
            amount: totals.amount,
            amount_due: totals.amount_due,
            paid_time: invoice.payments.paid_time,
            transactions: invoice
                .payments
                .recent_allocations
                .iter()
                .map(|allocation| AllocationResponse::new(state, allocation))
                .collect(),
            credit_memo_allocations: invoice
                .payments
                .credit_allocations
                .iter()
                .map(CreditAllocationResponse::new)
                .collect(),
            due_time: invoice.due_time,
            issued_time: invoice.issued_time,
            abandoned_time: invoice.abandoned_time,
            voided_time: invoice.voided_time,
            notes: invoice.notes.clone(),
            po_number: invoice.po_number.clone(),
            billing_address: parties
                .billing_address
                .as_ref()
                .map(ContactObjectResponse::new),
            delivery_address: parties
                .delivery_address
                .as_ref()
                .map(ContactObjectResponse::new),
            organization_tax_id_number: parties
                .organization_tax_id
                .as_ref()
                .map(TaxIdResponse::new),
            customer_tax_id_number: parties.customer_tax_id.as_ref().map(TaxIdResponse::new),
            customer_electronic_address: parties
                .customer_electronic_address
                .as_ref()
                .map(ElectronicAddressResponse::new),
            buyer_reference: parties
                .buyer_reference
                .as_ref()
                .map(|reference| reference.as_str().to_owned()),
            revision: invoice.revision,
            items,
            created_time: invoice.created_time,
            updated_time: invoice.updated_time,
            links: vec![Link::to(state, "self", &invoice_path(&invoice.id))],
        }
    }
}

/// An invoice's items on the wire.
enum ItemsResponse<'a> {
    /// Each rendered as it is written: the answer of an invoice of hundreds of items holds no
    /// second copy of them.
    Listed {
        state: &'a AppState,
        items: &'a [InvoiceItem],
    },
    /// None yet, written `[]` where the mark notes: the items are written there afterwards.
    Marked(&'a ItemsMark),
}

impl Serialize for ItemsResponse<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Listed { state, items } => {
                let rendered = items.iter().map(|item| ItemResponse::new(state, item));
                serializer.collect_seq(rendered)
            }
            Self::Marked(mark) => {
                mark.note();
                serializer.collect_seq(std::iter::empty::<()>())
            }
        }
    }
}

impl std::fmt::Debug for ItemsResponse<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Listed { items, .. } => formatter.debug_list().entries(*items).finish(),
            Self::Marked(_) => formatter.write_str("[..]"),
        }
    }
}
