//! `/v1/invoiceitems`: Stripe's invoice items over the same items as `/invoices/{id}/items`,
//! and pending items (on no invoice yet) beside them.

use axum::extract::State;
use axum::response::Response;

use super::auth::StripeCaller;
use super::contract::{
    ITEMS_TAG, IdPath, ItemExpandQuery, ItemList, ItemListExpandQuery, ItemListQuery, PageQuery,
};
use super::deletes::delete_object;
use super::error::{Bad, StripeError};
use super::expand::{Expansions, Subject};
use super::invoice_object::{InvoiceContext, expanded_item};
use super::item_params::{Call, ItemParams, time_range};
use super::item_params::{ItemCreateParams, ItemUpdateParams};
use super::pages::PageParams;
use super::params::{StripeBody, StripeQuery};
use super::wire::{Deleted, ItemObject, item_of_price, ok, signed_unit_price};
use crate::domain::ids::{CustomerId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice_item::PlacedItem;
use crate::error::{ApiError, Clash};
use crate::http::extract::Path;
use crate::http::failure::Failure;
use crate::http::idempotency::run_item_write;
use crate::http::state::AppState;
use crate::repository::{ItemListing, Tx};
use crate::service::placed_items::{self as service, Destination};

/// The list's own path, as Stripe's `url` member names it.
const LIST_URL: &str = "/v1/invoiceitems";

/// An item id from a path, or the 404 for it.
fn item_id(id: &str) -> Result<InvoiceItemId, StripeError> {
    InvoiceItemId::parse(id).map_err(|_| no_such_item(id))
}

fn no_such_item(id: &str) -> StripeError {
    StripeError::no_such("invoiceitem", id, "id")
}

/// An error, with a missing item named as Stripe names it.
fn item_error(id: &InvoiceItemId) -> impl Fn(StripeError) -> StripeError + '_ {
    move |error| match error {
        StripeError::Shared(Failure::Core(ApiError::NotFound(_))) => no_such_item(id.as_str()),
        other => other,
    }
}

/// Creates an invoice item, pending or on a draft invoice.
///
/// A pending item, or an item on the draft invoice `invoice` names (which must bill the same
/// customer, in the same currency).
#[utoipa::path(
    post,
    path = "/v1/invoiceitems",
    operation_id = "PostInvoiceitems",
    tag = ITEMS_TAG,
    request_body(content(
        (ItemCreateParams = "application/x-www-form-urlencoded"),
        (ItemCreateParams = "application/json"),
    )),
    responses((status = 200, description = "The item, pending or on its invoice", body = ItemObject)),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    let mut item = ItemParams::read(&mut reader, Call::Create);
    let expand = Expansions::read(&mut reader, Subject::Item);
    reader.finish()?;
    let customer = item.customer.clone().ok_or(Bad::missing("customer"))?;
    let organization_id = &caller.principal.organization_id;
    let context = InvoiceContext::load(&state, &caller, expand.invoices().is_some()).await?;
    run_item_write(&state, &caller.principal, request, async |lanes, mut tx| {
        take_price_in(&state, tx.as_deref_mut(), organization_id, &mut item).await?;
        let destination = destination(&item)?;
        let invoice_id = item.invoice.clone();
        let placed = service::place_item(
            &state.db,
            lanes,
            tx.as_deref_mut(),
            organization_id,
            customer,
            destination,
            |currency| {
                if invoice_id.is_some() {
                    item.check_currency(currency)?;
                }
                item.input(currency, None).map_err(StripeError::Params)
            },
        )
        .await
        .map_err(|error| placement_error(invoice_id.as_ref(), error))?;
        answer_in(&state, tx, organization_id, placed, expand, &context).await
    })
    .await
}

/// Retrieves an invoice item.
#[utoipa::path(
    get,
    path = "/v1/invoiceitems/{id}",
    operation_id = "GetInvoiceitemsInvoiceitem",
    tag = ITEMS_TAG,
    params(IdPath, ItemExpandQuery),
    responses((status = 200, description = "The item", body = ItemObject)),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let expand = Expansions::read(&mut reader, Subject::Item);
    reader.finish()?;
    let item_id = item_id(&id)?;
    let organization_id = &caller.principal.organization_id;
    let context = InvoiceContext::load(&state, &caller, expand.invoices().is_some()).await?;
    let (placed, invoices) =
        service::get_placed_item(&state.db, organization_id, &item_id, expand.invoices())
            .await
            .map_err(|error| item_error(&item_id)(error.into()))?;
    ok(&expanded_item(&placed, &context, &invoices))
}

/// Updates an invoice item.
///
/// Changes the parameters given, keeping the others.
#[utoipa::path(
    post,
    path = "/v1/invoiceitems/{id}",
    operation_id = "PostInvoiceitemsInvoiceitem",
    tag = ITEMS_TAG,
    params(IdPath),
    request_body(content(
        (Option<ItemUpdateParams> = "application/x-www-form-urlencoded"),
        (Option<ItemUpdateParams> = "application/json"),
    )),
    responses((status = 200, description = "The item, changed", body = ItemObject)),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    let mut item = ItemParams::read(&mut reader, Call::Update);
    let expand = Expansions::read(&mut reader, Subject::Item);
    reader.finish()?;
    let item_id = item_id(&id)?;
    let organization_id = &caller.principal.organization_id;
    let context = InvoiceContext::load(&state, &caller, expand.invoices().is_some()).await?;
    run_item_write(&state, &caller.principal, request, async |lanes, mut tx| {
        take_price_in(&state, tx.as_deref_mut(), organization_id, &mut item).await?;
        let changed = service::change_placed_item(
            &state.db,
            lanes,
            tx.as_deref_mut(),
            organization_id,
            &item_id,
            |current| {
                item.check_currency(current.currency())?;
                item.clone()
                    .input(current.currency(), Some(current.as_input()))
                    .map_err(StripeError::Params)
            },
        )
        .await
        .map_err(item_error(&item_id))?;
        answer_in(&state, tx, organization_id, changed, expand, &context).await
    })
    .await
}

/// Deletes an invoice item.
///
/// A pending item, or an item of a draft invoice.
#[utoipa::path(
    delete,
    path = "/v1/invoiceitems/{id}",
    operation_id = "DeleteInvoiceitemsInvoiceitem",
    tag = ITEMS_TAG,
    params(IdPath),
    responses((status = 200, description = "The item is gone", body = Deleted)),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let item_id = item_id(&id)?;
    delete_object(
        &state,
        &caller,
        item_id,
        "invoiceitem",
        async |tx, organization_id, item_id| {
            service::delete_placed_item(tx, organization_id, item_id)
                .await
                .map_err(|error| item_error(item_id)(error.into()))
        },
    )
    .await
}

/// Lists invoice items.
///
/// Newest first, by cursor (`starting_after` or `ending_before`), filtered by `customer`,
/// `invoice`, `pending` and `created`.
#[utoipa::path(
    get,
    path = "/v1/invoiceitems",
    operation_id = "GetInvoiceitems",
    tag = ITEMS_TAG,
    params(PageQuery, ItemListQuery, ItemListExpandQuery),
    responses((status = 200, description = "A page of items, newest first", body = ItemList)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    let mut listing = ItemListing {
        customer_id: reader.parsed("customer", CustomerId::parse),
        invoice_id: reader.parsed("invoice", InvoiceId::parse),
        pending: reader.boolean("pending"),
        ..ItemListing::default()
    };
    (listing.created_from, listing.created_before) = time_range(&mut reader, "created");
    let expand = Expansions::read(&mut reader, Subject::ItemList);
    reader.finish()?;
    let cursor_id = page.cursor_id("invoiceitem", |id| InvoiceItemId::parse(id).ok())?;
    let cursor = page.from(cursor_id.as_ref());
    let organization_id = &caller.principal.organization_id;
    let (items, invoices) = service::list_placed_items(
        &state.db,
        organization_id,
        &listing,
        cursor,
        page.to_read(),
        expand.invoices(),
    )
    .await?
    .ok_or_else(|| page.no_such("invoiceitem"))?;
    let context = InvoiceContext::load(&state, &caller, expand.invoices().is_some()).await?;
    page.answer(
        items,
        |item| expanded_item(item, &context, &invoices),
        LIST_URL,
    )
}

/// A write's answer: the item, with its invoice as the transaction sees it when `expand`
/// asks.
async fn answer(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    placed: PlacedItem,
    expand: Expansions,
    context: &InvoiceContext,
) -> Result<Response, StripeError> {
    let invoices = match expand.invoices() {
        Some(shown) => {
            service::invoices_of(tx, organization_id, std::slice::from_ref(&placed), shown).await?
        }
        None => Vec::new(),
    };
    ok(&expanded_item(&placed, context, &invoices))
}

/// Where a new item goes: on the invoice it names, else pending in its currency (which is
/// then required).
fn destination(item: &ItemParams) -> Result<Destination, StripeError> {
    match (item.invoice.clone(), item.currency) {
        (Some(invoice_id), _) => Ok(Destination::Invoice(invoice_id)),
        (None, Some(currency)) => Ok(Destination::Pending(currency)),
        (None, None) => Err(Bad::coded(
            "currency",
            "parameter_missing",
            "is required without an invoice",
        )
        .into()),
    }
}

/// A placement's error, with its invoice named as Stripe names a parameter's object: a
/// missing invoice is 400 `resource_missing` on `invoice`, and an invoice that cannot take
/// the item is a bad `invoice`.
fn placement_error(invoice_id: Option<&InvoiceId>, error: StripeError) -> StripeError {
    match (invoice_id, error) {
        (Some(invoice_id), StripeError::Shared(Failure::Core(ApiError::NotFound(_)))) => {
            StripeError::no_such_param("invoice", invoice_id.as_str(), "invoice")
        }
        // The customer's pending items, not the invoice, are what is full.
        (_, StripeError::Shared(Failure::Core(ApiError::Conflict(clash @ Clash::Full { .. })))) => {
            StripeError::invalid_request(None, clash.to_string())
        }
        (_, StripeError::Shared(Failure::Core(ApiError::Conflict(clash)))) => {
            StripeError::invalid_request(Some("invoice"), clash.to_string())
        }
        (_, other) => other,
    }
}

/// [`take_price`] in the write's transaction when it has one, else in a snapshot of its own.
async fn take_price_in(
    state: &AppState,
    tx: Option<&mut Tx>,
    organization_id: &OrganizationId,
    item: &mut ItemParams,
) -> Result<(), StripeError> {
    let db = &state.db;
    db.read_in(tx, async |tx| take_price(tx, organization_id, item).await)
        .await
}

/// A write's answer ([`answer`]), read in the write's transaction when it has one, else (when
/// `expand` asks for the invoice) in a snapshot taken after its commit.
async fn answer_in(
    state: &AppState,
    tx: Option<&mut Tx>,
    organization_id: &OrganizationId,
    placed: PlacedItem,
    expand: Expansions,
    context: &InvoiceContext,
) -> Result<Response, StripeError> {
    if let Some(tx) = tx {
        return answer(tx, organization_id, placed, expand, context).await;
    }
    if expand.invoices().is_none() {
        // Nothing to read: the write, committed, is answered without another connection.
        return ok(&expanded_item(&placed, context, &[]));
    }
    let db = &state.db;
    db.read(async |snapshot| answer(snapshot, organization_id, placed, expand, context).await)
        .await
}

/// `price`: another item's own price, whose unit amount, currency and product this item
/// takes, read in the write's transaction.
async fn take_price(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    item: &mut ItemParams,
) -> Result<(), StripeError> {
    let Some(price) = item.price.clone() else {
        return Ok(());
    };
    let missing = || StripeError::no_such_param("price", &price, "price");
    let source = item_of_price(&price)
        .and_then(|id| InvoiceItemId::parse(&id).ok())
        .ok_or_else(missing)?;
    let placed = service::placed_item_in(tx, organization_id, &source)
        .await?
        .ok_or_else(missing)?;
    let input = placed.as_input();
    item.take_price(
        signed_unit_price(input.item_type, input.unit_price),
        placed.currency(),
        input.product_id,
    )?;
    Ok(())
}
