//! `/invoices`: create, upsert, read, list and move invoices along their lifecycle.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::etag::{Precondition, answer_unless_current, representation_etag, with_etag};
use super::fields::{FieldReader, canonical_body};
use super::invoice_body::{EmptyRequest, InvoiceRequest, IssueRequest};
use super::invoice_body::{invoice_example, parse_invoice, parse_issue_times};
use super::invoice_query::InvoiceQuery;
use super::invoice_response::InvoiceResponse;
use super::invoice_stream::{invoice_array, invoice_json};
use super::pagination::Page;
use super::paths::{IdPath, invoice_path};
use super::representation::{document_representation, varied_by_accept};
use super::wire::{created, json_ok};
use crate::domain::ids::InvoiceId;
use crate::domain::invoice::{Invoice, InvoiceAction};
use crate::domain::invoice_item::InvoiceItem;
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
