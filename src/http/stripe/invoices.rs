//! `/v1/invoices`: Stripe's invoices over the same invoices as `/invoices`, enough for Stripe's
//! flow (make a draft, taking in pending items; read it; finalize it; void it or mark it
//! uncollectible; list them). Statuses map from Rebilly's: draft is `draft`, unpaid `open`,
//! voided `void`, abandoned `uncollectible`, paid `paid`.

use axum::extract::State;
use axum::response::Response;

use super::auth::StripeCaller;
use super::contract::{
    INVOICES_TAG, IdPath, InvoiceExpandQuery, InvoiceList, InvoiceListExpandQuery,
    InvoiceListQuery, LineList, LineListExpandQuery, PageQuery,
};
use super::deletes::delete_object;
use super::error::{Bad, StripeError, missing_as};
use super::expand::{Expansions, Subject};
use super::invoice_object::{
    ITEMS_TO_READ, InvoiceContext, InvoiceObject, lines_url, statuses_named,
};
use super::invoice_params::{
    InvoiceActionParams, InvoiceCreateParams, InvoicePayParams, InvoiceUpdateParams, read_update,
};
use super::invoice_params::{InvoiceParams, collection_method, refuse_advancing};
use super::item_params::time_range;
use super::pages::PageParams;
use super::params::{Reader, StripeBody, StripeQuery};
use super::wire::{Deleted, LineObject, ok};
use crate::domain::ids::{CustomerId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice::InvoiceAction;
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::idempotency::{WriteRequest, run_write};
use crate::http::state::AppState;
use crate::repository::{InvoiceListing, Tx};
use crate::service::invoices::{self as service, InvoiceWithItems, IssueTimes};
use crate::service::placed_items::invoice_lines;
use crate::service::settlement;

/// How an invoice is finalized here: at once, and without a due date unless it has one, so
/// that one Stripe would charge automatically never turns past due.
const STRIPE_ISSUE: IssueTimes = IssueTimes {
    issued_time: None,
    due_time: None,
    open_ended: true,
};

pub(super) fn invoice_id(id: &str) -> Result<InvoiceId, StripeError> {
    InvoiceId::parse(id).map_err(|_| StripeError::no_such("invoice", id, "id"))
}

/// A core error, with a missing invoice named as Stripe names it.
pub(super) fn invoice_error(id: &InvoiceId) -> impl Fn(ApiError) -> StripeError + '_ {
    missing_as(|| StripeError::no_such("invoice", id.as_str(), "id"))
}

/// A write's answer: the invoice it left, with its items, which a write gives oldest first.
fn written(
    (invoice, items): &InvoiceWithItems,
    context: &InvoiceContext,
    expand: Expansions,
) -> Result<Response, StripeError> {
    ok(&InvoiceObject::new(
        invoice,
        items.iter().rev(),
        context,
        expand.invoice_item,
    ))
}

/// A write on the invoice a path names (a 404 when it cannot be an id), run in the write's
/// transaction and answered with the invoice it leaves.
async fn write_invoice(
    state: &AppState,
    caller: &StripeCaller,
    id: &str,
    request: WriteRequest,
    expand: Expansions,
    write: impl AsyncFnOnce(
        &mut Tx,
        &OrganizationId,
        &InvoiceId,
    ) -> Result<InvoiceWithItems, StripeError>,
) -> Result<Response, StripeError> {
    let invoice_id = invoice_id(id)?;
    let context = InvoiceContext::load(state, caller, true).await?;
    let principal = &caller.principal;
    run_write(state, principal, request, async |tx| {
        let left = write(tx, &principal.organization_id, &invoice_id).await?;
        written(&left, &context, expand)
    })
    .await
}

/// Creates a draft invoice.
///
/// A draft for `customer` in `currency`; with `pending_invoice_items_behavior=include`, the
/// customer's pending items of that currency move onto it in the same transaction.
#[utoipa::path(
    post,
    path = "/v1/invoices",
    operation_id = "PostInvoices",
    tag = INVOICES_TAG,
    request_body(content(
        (InvoiceCreateParams = "application/x-www-form-urlencoded"),
        (InvoiceCreateParams = "application/json"),
    )),
    responses((status = 200, description = "The draft, with the pending items it took in", body = InvoiceObject)),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    let invoice = InvoiceParams::read(&mut reader);
    let expand = Expansions::read(&mut reader, Subject::Invoice);
    reader.finish()?;
    let organization_id = &caller.principal.organization_id;
    let organization = state.db.find_organization(organization_id).await?;
    let default_currency = if invoice.lacks_currency() {
        organization.details.default_currency
    } else {
        None
    };
    let (input, pending) = invoice.input(default_currency)?;
    let context = InvoiceContext::new(
        &state,
        &caller.principal.organization_id,
        caller.livemode,
        Some(&organization.details),
    );
    run_write(&state, &caller.principal, request, async |tx| {
        let created = service::create_invoice(tx, organization_id, input, pending).await?;
        written(&created, &context, expand)
    })
    .await
}

/// Updates a draft invoice.
///
/// Its `description`, `due_date`, `collection_method`, `days_until_due` and `metadata`; an
/// empty value unsets a field. A due date replaces days until due, and days replace a due
/// date. An invoice that is no longer a draft is 400.
#[utoipa::path(
    post,
    path = "/v1/invoices/{id}",
    operation_id = "PostInvoicesInvoice",
    tag = INVOICES_TAG,
    params(IdPath),
    request_body(content(
        (Option<InvoiceUpdateParams> = "application/x-www-form-urlencoded"),
        (Option<InvoiceUpdateParams> = "application/json"),
    )),
    responses((status = 200, description = "The draft, changed", body = InvoiceObject)),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    let patch = read_update(&mut reader);
    let expand = Expansions::read(&mut reader, Subject::Invoice);
    reader.finish()?;
    write_invoice(
        &state,
        &caller,
        &id,
        request,
        expand,
        async |tx, organization_id, invoice_id| {
            service::patch_draft(tx, organization_id, invoice_id, patch)
                .await
                .map_err(invoice_error(invoice_id))
        },
    )
    .await
}

/// Retrieves an invoice.
#[utoipa::path(
    get,
    path = "/v1/invoices/{id}",
    operation_id = "GetInvoicesInvoice",
    tag = INVOICES_TAG,
    params(IdPath, InvoiceExpandQuery),
    responses((status = 200, description = "The invoice, with its first lines", body = InvoiceObject)),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let expand = Expansions::read(&mut reader, Subject::Invoice);
    reader.finish()?;
    let invoice_id = invoice_id(&id)?;
    let context = InvoiceContext::load(&state, &caller, true).await?;
    let (invoice, newest) = service::get_invoice_with_newest_items(
        &state.db,
        &caller.principal.organization_id,
        &invoice_id,
        ITEMS_TO_READ,
    )
    .await
    .map_err(invoice_error(&invoice_id))?;
    ok(&InvoiceObject::new(
        &invoice,
        &newest,
        &context,
        expand.invoice_item,
    ))
}

/// An invoice action's handler: its contract, and [`act`] with the action.
macro_rules! action_handler {
    ($(#[doc = $doc:literal])* $name:ident, $path:literal, $operation:literal, $answer:literal, $action:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $operation,
            tag = INVOICES_TAG,
            params(IdPath),
            request_body(content(
                (Option<InvoiceActionParams> = "application/x-www-form-urlencoded"),
                (Option<InvoiceActionParams> = "application/json"),
            )),
            responses((status = 200, description = $answer, body = InvoiceObject)),
        )]
        pub async fn $name(
            state: State<AppState>,
            caller: StripeCaller,
            path: Path<IdPath>,
            body: StripeBody,
        ) -> Result<Response, StripeError> {
            act(state, caller, path, body, $action).await
        }
    };
}

action_handler!(
    /// Finalizes a draft invoice.
    ///
    /// The draft becomes `open` (Rebilly's issue), numbered.
    finalize,
    "/v1/invoices/{id}/finalize",
    "PostInvoicesInvoiceFinalize",
    "The invoice, open and numbered",
    InvoiceAction::Issue
);

action_handler!(
    /// Voids an invoice.
    ///
    /// An open invoice becomes `void`.
    void,
    "/v1/invoices/{id}/void",
    "PostInvoicesInvoiceVoid",
    "The invoice, void",
    InvoiceAction::Void
);

action_handler!(
    /// Marks an invoice uncollectible.
    ///
    /// An open invoice becomes `uncollectible` (Rebilly's abandon).
    mark_uncollectible,
    "/v1/invoices/{id}/mark_uncollectible",
    "PostInvoicesInvoiceMarkUncollectible",
    "The invoice, uncollectible",
    InvoiceAction::WriteOff
);

async fn act(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, reader): StripeBody,
    action: InvoiceAction,
) -> Result<Response, StripeError> {
    let expand = read_action(reader)?;
    write_invoice(
        &state,
        &caller,
        &id,
        request,
        expand,
        async |tx, organization_id, invoice_id| {
            let acted =
                service::apply_action(tx, organization_id, invoice_id, action, STRIPE_ISSUE)
                    .await
                    .map_err(invoice_error(invoice_id))?;
            // As on Stripe, an invoice finalized with nothing to pay is paid.
            Ok(match action {
                InvoiceAction::Issue => {
                    settlement::close_if_nothing_due(tx, organization_id, acted).await?
                }
                _ => acted,
            })
        },
    )
    .await
}

/// The parameters of an action on an invoice: `auto_advance` refused, and `expand`.
fn read_action(mut reader: Reader) -> Result<Expansions, StripeError> {
    refuse_advancing(&mut reader);
    let expand = Expansions::read(&mut reader, Subject::Invoice);
    reader.finish()?;
    Ok(expand)
}

/// Pays an invoice out of band.
///
/// Records that what the invoice has left to pay was paid elsewhere (`paid_out_of_band=true`,
/// the only way here: this server charges no card); a draft is finalized first, as on Stripe.
#[utoipa::path(
    post,
    path = "/v1/invoices/{id}/pay",
    operation_id = "PostInvoicesInvoicePay",
    tag = INVOICES_TAG,
    params(IdPath),
    request_body(content(
        (InvoicePayParams = "application/x-www-form-urlencoded"),
        (InvoicePayParams = "application/json"),
    )),
    responses((status = 200, description = "The invoice, paid", body = InvoiceObject)),
)]
pub async fn pay(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    match reader.boolean("paid_out_of_band") {
        Some(true) => {}
        Some(false) => reader.reject_key(
            "paid_out_of_band",
            "must be true: this server records payments made elsewhere and charges no card",
        ),
        None if reader.has_bad() => {}
        None => reader.reject(Bad::missing("paid_out_of_band")),
    }
    reader.refuse_unsupported(&[
        "forgive",
        "mandate",
        "off_session",
        "payment_method",
        "source",
    ]);
    let expand = Expansions::read(&mut reader, Subject::Invoice);
    reader.finish()?;
    let permissions = caller.principal.permissions;
    write_invoice(
        &state,
        &caller,
        &id,
        request,
        expand,
        async |tx, organization_id, invoice_id| {
            settlement::pay_out_of_band(tx, organization_id, invoice_id, permissions, STRIPE_ISSUE)
                .await
                .map_err(invoice_error(invoice_id))
        },
    )
    .await
}

/// Sends an invoice.
///
/// Records that the invoice was sent to its customer and emits `invoice.sent`; this server
/// mails nothing itself. A draft is finalized first, as on Stripe (which needs the
/// finalize permission too); a void invoice is refused.
#[utoipa::path(
    post,
    path = "/v1/invoices/{id}/send",
    operation_id = "PostInvoicesInvoiceSend",
    tag = INVOICES_TAG,
    params(IdPath),
    request_body(content(
        (Option<InvoiceActionParams> = "application/x-www-form-urlencoded"),
        (Option<InvoiceActionParams> = "application/json"),
    )),
    responses((status = 200, description = "The invoice, sent", body = InvoiceObject)),
)]
pub async fn send(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, reader): StripeBody,
) -> Result<Response, StripeError> {
    let expand = read_action(reader)?;
    let permissions = caller.principal.permissions;
    write_invoice(
        &state,
        &caller,
        &id,
        request,
        expand,
        async |tx, organization_id, invoice_id| {
            settlement::send_invoice(tx, organization_id, invoice_id, permissions, STRIPE_ISSUE)
                .await
                .map_err(invoice_error(invoice_id))
        },
    )
    .await
}

/// Deletes a draft invoice.
///
/// With its lines; an invoice that is no longer a draft is refused (void it instead). Its
/// events stay, the last of them `invoice.deleted`.
#[utoipa::path(
    delete,
    path = "/v1/invoices/{id}",
    operation_id = "DeleteInvoicesInvoice",
    tag = INVOICES_TAG,
    params(IdPath),
    responses((status = 200, description = "The draft is gone", body = Deleted)),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let invoice_id = invoice_id(&id)?;
    delete_object(
        &state,
        &caller,
        invoice_id,
        "invoice",
        async |tx, organization_id, invoice_id| {
            service::delete_draft(tx, organization_id, invoice_id)
                .await
                .map_err(invoice_error(invoice_id))
        },
    )
    .await
}

/// Lists invoices.
///
/// Newest first, by cursor; `customer`, `status`, `collection_method`, `created` and
/// `due_date` (Unix seconds, or a range of them) keep those that match.
#[utoipa::path(
    get,
    path = "/v1/invoices",
    operation_id = "GetInvoices",
    tag = INVOICES_TAG,
    params(PageQuery, InvoiceListQuery, InvoiceListExpandQuery),
    responses((status = 200, description = "A page of invoices, newest first", body = InvoiceList)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    let listing = read_listing(&mut reader);
    let expand = Expansions::read(&mut reader, Subject::InvoiceList);
    reader.finish()?;
    let cursor_id = page.cursor_id("invoice", |id| InvoiceId::parse(id).ok())?;
    let cursor = page.from(cursor_id.as_ref());
    let organization_id = &caller.principal.organization_id;
    let invoices = service::page_invoices(
        &state.db,
        organization_id,
        &listing,
        cursor,
        page.to_read(),
        ITEMS_TO_READ,
    )
    .await?
    .ok_or_else(|| page.no_such("invoice"))?;
    let context = InvoiceContext::load(&state, &caller, true).await?;
    page.answer(
        invoices,
        |(invoice, newest)| InvoiceObject::new(invoice, newest, &context, expand.invoice_item),
        "/v1/invoices",
    )
}

/// The filters of a list of invoices.
fn read_listing(reader: &mut Reader) -> InvoiceListing {
    let mut listing = InvoiceListing {
        customer_id: reader.parsed("customer", CustomerId::parse),
        statuses: reader.parsed("status", |name| {
            statuses_named(name).ok_or("must be one of: draft, open, paid, uncollectible, void")
        }),
        collection_method: reader.parsed("collection_method", collection_method),
        ..InvoiceListing::default()
    };
    (listing.created_from, listing.created_before) = time_range(reader, "created");
    (listing.due_from, listing.due_before) = time_range(reader, "due_date");
    listing
}

/// Lists an invoice's line items.
///
/// The invoice's lines, newest first as in its `lines`, by cursor; a line's id is its item's.
#[utoipa::path(
    get,
    path = "/v1/invoices/{id}/lines",
    operation_id = "GetInvoicesInvoiceLines",
    tag = INVOICES_TAG,
    params(IdPath, PageQuery, LineListExpandQuery),
    responses((status = 200, description = "A page of the invoice's lines, newest first", body = LineList)),
)]
pub async fn lines(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    let expand = Expansions::read(&mut reader, Subject::LineList);
    reader.finish()?;
    let invoice_id = invoice_id(&id)?;
    let cursor_id = page.cursor_id("line_item", |id| InvoiceItemId::parse(id).ok())?;
    let cursor = page.from(cursor_id.as_ref());
    let items = invoice_lines(
        &state.db,
        &caller.principal.organization_id,
        &invoice_id,
        cursor,
        page.to_read(),
    )
    .await
    .map_err(invoice_error(&invoice_id))?
    .ok_or_else(|| page.no_such("line_item"))?;
    page.answer(
        items,
        |item| LineObject::new(item, caller.livemode, expand.invoice_item),
        lines_url(&invoice_id),
    )
}
