//! `GET /v1/invoices/{id}/pdf` and `GET /v1/invoices/{id}/einvoice`: the invoice's PDF
//! document and its UBL 2.1 e-invoice, those the Rebilly route answers for `Accept:
//! application/pdf` and `application/vnd.oasis.ubl+xml`, at the URLs the invoice object's
//! `invoice_pdf` and `einvoice_url` give, read with the same key.

use axum::extract::State;
use axum::response::Response;

use super::auth::StripeCaller;
use super::contract::{INVOICES_TAG, IdPath};
use super::error::StripeError;
use super::invoices::{invoice_error, invoice_id};
use super::params::StripeQuery;
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::organization::Organization;
use crate::http::document_body::{PdfDocument, UblDocument};
use crate::http::extract::Path;
use crate::http::renders::RenderSlot;
use crate::http::state::AppState;
use crate::service::invoice_reads;

/// Downloads an invoice's PDF document.
///
/// The invoice as a PDF document, drafts too: the same document as `GET /invoices/{id}` with
/// `Accept: application/pdf`.
#[utoipa::path(
    get,
    path = "/v1/invoices/{id}/pdf",
    operation_id = "GetInvoicesInvoicePdf",
    tag = INVOICES_TAG,
    params(IdPath),
    responses((status = 200, description = "The invoice as a PDF document", body = PdfDocument, content_type = "application/pdf")),
)]
pub async fn pdf(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let (slot, invoice, items, seller) = read_for_render(&state, &caller, &id).await?;
    Ok(slot.invoice_pdf(invoice, items, seller).await?)
}

/// A render slot, then the invoice with its items and its seller. As on the Rebilly route, a
/// document waits for its slot before it reads anything: requests waiting for one hold no
/// invoice and no connection.
async fn read_for_render(
    state: &AppState,
    caller: &StripeCaller,
    id: &str,
) -> Result<(RenderSlot, Invoice, Vec<InvoiceItem>, Organization), StripeError> {
    let invoice_id = invoice_id(id)?;
    let slot = state.renders.slot().await?;
    let organization_id = &caller.principal.organization_id;
    let (invoice, items) = invoice_reads::get_invoice(&state.db, organization_id, &invoice_id)
        .await
        .map_err(invoice_error(&invoice_id))?;
    let seller = state.db.find_organization(organization_id).await?;
    Ok((slot, invoice, items, seller))
}

/// Downloads an invoice's e-invoice.
///
/// The finalized invoice as a UBL 2.1 e-invoice conforming to EN 16931: the same document as
/// `GET /invoices/{id}` with `Accept: application/vnd.oasis.ubl+xml`. A draft, or an invoice
/// whose taxes are not VAT, has none: 400, `invalid_request_error`, the message says why.
#[utoipa::path(
    get,
    path = "/v1/invoices/{id}/einvoice",
    operation_id = "GetInvoicesInvoiceEinvoice",
    tag = INVOICES_TAG,
    params(IdPath),
    responses((status = 200, description = "The invoice as a UBL 2.1 e-invoice", body = UblDocument, content_type = "application/vnd.oasis.ubl+xml")),
)]
pub async fn einvoice(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let (slot, invoice, items, seller) = read_for_render(&state, &caller, &id).await?;
    Ok(slot
        .invoice_ubl(invoice, items, seller, "application/vnd.oasis.ubl+xml")
        .await?)
}
