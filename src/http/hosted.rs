//! `/hosted-invoices/{organizationId}/{token}`: an issued invoice's page for its customer, its
//! PDF and its e-invoice, opened with no key: the link's token (see `HostedToken`) is the
//! credential, and replacing it revokes the link. Neither dialect's: the same page for an invoice made on either.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use axum::Extension;
use axum::http::Method;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Principal, RouteOperations};
use super::document_body::{PdfDocument, UblDocument};
use super::extract::Path;
use super::failure::Failure;
use super::idempotency::run_unkeyed_write;
use super::problem::Problem;
use super::renders::RenderSlot;
use super::state::AppState;
use crate::document::InvoiceDocument;
use crate::document::hosted_page::{self, Downloads};
use crate::domain::ids::OrganizationId;
use crate::domain::invoice::{HostedToken, Invoice};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::organization::Organization;
use crate::domain::permission::Operation;
use crate::einvoice::of_invoice::invoice_einvoice;
use crate::error::{ApiError, Resource};
use crate::service::invoices as service;

/// Where the pages are, below the server's public URL.
pub const HOSTED_PATH: &str = "/hosted-invoices";

/// The URL of the page of `organization_id`'s invoice whose link carries `token`.
pub fn page_url(state: &AppState, organization_id: &OrganizationId, token: &HostedToken) -> String {
    state.url(&format!(
        "{HOSTED_PATH}/{organization_id}/{}",
        token.as_str()
    ))
}

/// The link in the path: the organization, whose invoices alone are looked through (so that
/// a link leads to one organization's rows, wherever they are kept), and the token.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The organization of the invoice.
    #[serde(rename = "organizationId")]
    #[param(rename = "organizationId")]
    pub organization_id: String,
    /// The token of the invoice's link: 64 hex digits.
    pub token: String,
}

impl TokenPath {
    /// The organization and token it names, or the 404 of a link that names none.
    fn link(&self) -> Result<(OrganizationId, HostedToken), Failure> {
        let missing = || Failure::from(ApiError::not_found(Resource::InvoicePage, &self.token));
        let organization_id =
            OrganizationId::parse(&self.organization_id).map_err(|_| missing())?;
        let token = HostedToken::parse(&self.token).ok_or_else(missing)?;
        Ok((organization_id, token))
    }
}

/// An invoice's page: HTML, not JSON.
pub struct HtmlPage;

impl PartialSchema for HtmlPage {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The invoice as an HTML page."))
                .into(),
        )
    }
}

impl ToSchema for HtmlPage {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("HostedInvoicePage")
    }
}

/// Shows an issued invoice's page.
///
/// For the invoice's customer, with no key: the invoice's figures as on its PDF, "Paid" once
/// it is paid, and links to the PDF and, when it has one, the e-invoice. 404 when no invoice's link carries the token, or no
/// longer does.
#[utoipa::path(
    get,
    path = "/hosted-invoices/{organizationId}/{token}",
    operation_id = "GetHostedInvoice",
    tag = "Hosted invoice pages",
    security(()),
    params(TokenPath),
    responses(
        (status = 200, description = "The invoice's page", body = HtmlPage, content_type = "text/html"),
        (status = 404, description = "No invoice's link carries the token", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn page(
    State(state): State<AppState>,
    Path(path): Path<TokenPath>,
) -> Result<Response, Failure> {
    let (organization_id, token) = path.link()?;
    let (invoice, items, seller) =
        service::hosted_invoice(&state.db, &organization_id, &token).await?;
    let url = page_url(&state, &organization_id, &token);
    let pdf_url = format!("{url}/pdf");
    // The e-invoice is offered when there is one: building it is what says so.
    let einvoice_url = invoice_einvoice(&invoice, &items, &seller)
        .is_ok()
        .then(|| format!("{url}/einvoice"));
    let document = InvoiceDocument {
        invoice: &invoice,
        items: &items,
        seller: &seller,
    };
    let downloads = Downloads {
        pdf: &pdf_url,
        einvoice: einvoice_url.as_deref(),
    };
    let html = hosted_page::render(&document, downloads);
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    private(headers);
    // Nothing runs on the page and nothing outside it loads: styles are its own.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}

/// Downloads an issued invoice's PDF from its page.
///
/// The same document as `GET /invoices/{id}` with `Accept: application/pdf`, with no key.
#[utoipa::path(
    get,
    path = "/hosted-invoices/{organizationId}/{token}/pdf",
    operation_id = "GetHostedInvoicePdf",
    tag = "Hosted invoice pages",
    security(()),
    params(TokenPath),
    responses(
        (status = 200, description = "The invoice as a PDF document", body = PdfDocument, content_type = "application/pdf"),
        (status = 404, description = "No invoice's link carries the token", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn pdf(
    State(state): State<AppState>,
    Path(path): Path<TokenPath>,
) -> Result<Response, Failure> {
    let (slot, invoice, items, seller) = linked_for_render(&state, &path).await?;
    let mut response = slot.invoice_pdf(invoice, items, seller).await?;
    private(response.headers_mut());
    Ok(response)
}

/// The linked invoice with its items and seller, and a render's slot. The link is checked
/// before a render's place is taken: a made-up one takes none.
async fn linked_for_render(
    state: &AppState,
    path: &TokenPath,
) -> Result<(RenderSlot, Invoice, Vec<InvoiceItem>, Organization), Failure> {
    let (organization_id, token) = path.link()?;
    let (invoice, items, seller) =
        service::hosted_invoice(&state.db, &organization_id, &token).await?;
    let slot = state.renders.slot().await?;
    Ok((slot, invoice, items, seller))
}

/// Downloads an issued invoice's e-invoice from its page.
///
/// The same UBL 2.1 document as `GET /invoices/{id}` with `Accept:
/// application/vnd.oasis.ubl+xml`, with no key: what the customer's accounting system reads.
/// 409 or 406, saying why, for an invoice that has none.
#[utoipa::path(
    get,
    path = "/hosted-invoices/{organizationId}/{token}/einvoice",
    operation_id = "GetHostedInvoiceEinvoice",
    tag = "Hosted invoice pages",
    security(()),
    params(TokenPath),
    responses(
        (status = 200, description = "The invoice as a UBL 2.1 e-invoice", body = UblDocument, content_type = "application/vnd.oasis.ubl+xml"),
        (status = 404, description = "No invoice's link carries the token", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The invoice's taxes cannot be stated as EN 16931 VAT (the `detail` says why)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice lacks what EN 16931 requires, or is voided", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every render slot is taken and enough requests wait for one; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn einvoice(
    State(state): State<AppState>,
    Path(path): Path<TokenPath>,
) -> Result<Response, Failure> {
    let (slot, invoice, items, seller) = linked_for_render(&state, &path).await?;
    let mut response = slot
        .invoice_ubl(invoice, items, seller, "application/vnd.oasis.ubl+xml")
        .await?;
    private(response.headers_mut());
    Ok(response)
}

/// Revokes an invoice's link.
///
/// With the invoice's organization's key: the link opens nothing from now on, and the invoice
/// gets a new one (the Stripe-style invoice's `hosted_invoice_url` gives it). 404 when none of
/// the organization's invoices' links carries the token.
#[utoipa::path(
    delete,
    path = "/hosted-invoices/{organizationId}/{token}",
    operation_id = "DeleteHostedInvoice",
    tag = "Hosted invoice pages",
    params(TokenPath),
    responses(
        (status = 204, description = "The link is revoked; the invoice has a new one"),
        (status = 404, description = "None of the organization's links carries the token", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<TokenPath>,
) -> Result<Response, Failure> {
    let (linked, token) = path.link()?;
    let organization_id = &principal.organization_id;
    if linked != *organization_id {
        return Err(ApiError::not_found(Resource::InvoicePage, token.as_str()).into());
    }
    run_unkeyed_write(
        &state,
        &principal,
        async |tx| -> Result<Response, Failure> {
            service::revoke_hosted_link(tx, organization_id, &token).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

/// The routes of the pages: opening one needs no key, revoking its link the permission to
/// change invoices.
pub fn routes() -> OpenApiRouter<AppState> {
    let (schemas, paths, method_router) = routes!(page, revoke);
    let operations = RouteOperations::new(&[(Method::DELETE, Operation::PutInvoice)]);
    OpenApiRouter::new()
        .routes((schemas, paths, method_router.layer(Extension(operations))))
        .routes(routes!(pdf))
        .routes(routes!(einvoice))
}

/// The link is a credential: kept by no shared cache, sent on to no other site, and indexed
/// by no search engine.
fn private(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
}
