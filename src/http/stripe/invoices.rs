//! `/v1/invoices`: Stripe's invoices over the same invoices as `/invoices`, enough for Stripe's
//! flow (make a draft, taking in pending items; read it; finalize it; void it or mark it
//! uncollectible; list them). Statuses map from Rebilly's: draft is `draft`, unpaid `open`,
//! voided `void`, abandoned `uncollectible`, paid `paid`.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::auth::StripeCaller;
use super::error::{Bad, StripeError};
use super::item_params::timestamp;
use super::pages::{PageParams, PageStart};
use super::params::{Reader, StripeParams, StripeQuery};
use super::wire::{LineObject, ListObject, ok, unix, whole_minor_units};
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, InvoiceId, WebsiteId};
use crate::domain::invoice::{
    Invoice, InvoiceAction, InvoiceInput, InvoiceStatus, Notes, PendingItems,
};
use crate::domain::invoice_item::{InvoiceItem, PlacedItem};
use crate::domain::metadata::Metadata;
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::extract::Path;
use crate::http::idempotency::{Idempotency, run_write};
use crate::repository::InvoiceCursor;
use crate::service::invoice_items::take_in_pending_items;
use crate::service::invoices::{self as service, IssueTimes};

/// The website an invoice made here names: Stripe's invoices have none, Rebilly's need one.
pub const WEBSITE_ID: &str = "v1";

/// An invoice (`object: "invoice"`), with all its lines.
#[derive(Debug, Serialize)]
struct InvoiceObject {
    id: String,
    object: &'static str,
    amount_due: i64,
    amount_paid: i64,
    amount_remaining: i64,
    created: i64,
    currency: String,
    customer: String,
    description: Option<String>,
    due_date: Option<i64>,
    lines: ListObject<LineObject>,
    livemode: bool,
    metadata: Metadata,
    number: Option<String>,
    status: &'static str,
    status_transitions: StatusTransitions,
    subtotal: i64,
    tax: Option<i64>,
    total: i64,
    total_discount_amounts: Vec<DiscountAmount>,
}

#[derive(Debug, Serialize)]
struct StatusTransitions {
    finalized_at: Option<i64>,
    marked_uncollectible_at: Option<i64>,
    paid_at: Option<i64>,
    voided_at: Option<i64>,
}

#[derive(Debug, Serialize)]
struct DiscountAmount {
    amount: i64,
    discount: Option<String>,
}

fn status(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "draft",
        InvoiceStatus::Unpaid | InvoiceStatus::PartiallyPaid | InvoiceStatus::PastDue => "open",
        InvoiceStatus::Paid => "paid",
        InvoiceStatus::Voided => "void",
        InvoiceStatus::Abandoned => "uncollectible",
    }
}

impl InvoiceObject {
    fn new(invoice: &Invoice, items: &[InvoiceItem], livemode: bool) -> Self {
        let currency = invoice.currency;
        let minor = |amount| whole_minor_units(currency, amount);
        let totals = &invoice.totals;
        let lines = items
            .iter()
            .map(|item| {
                let placed = PlacedItem::OnInvoice {
                    item: Box::new(item.clone()),
                    customer_id: invoice.customer_id.clone(),
                    currency,
                };
                LineObject::new(&placed, livemode)
            })
            .collect();
        Self {
            id: invoice.id.to_string(),
            object: "invoice",
            amount_due: minor(totals.amount_due),
            amount_paid: 0,
            amount_remaining: minor(totals.amount_due),
            created: unix(invoice.created_time),
            currency: currency.code().to_ascii_lowercase(),
            customer: invoice.customer_id.to_string(),
            description: invoice
                .notes
                .as_ref()
                .map(|notes| notes.as_str().to_owned()),
            due_date: invoice.due_time.map(unix),
            lines: ListObject::new(lines, false, format!("/v1/invoices/{}/lines", invoice.id)),
            livemode,
            metadata: Metadata::default(),
            number: invoice.invoice_number.map(|number| number.to_string()),
            status: status(invoice.status),
            status_transitions: StatusTransitions {
                finalized_at: invoice.issued_time.map(unix),
                marked_uncollectible_at: invoice.abandoned_time.map(unix),
                paid_at: None,
                voided_at: invoice.voided_time.map(unix),
            },
            subtotal: minor(totals.subtotal_amount),
            tax: (invoice.tax != Default::default() || !totals.tax_amount.is_zero())
                .then(|| minor(totals.tax_amount)),
            total: minor(totals.amount),
            total_discount_amounts: invoice
                .discounts
                .iter()
                .map(|discount| DiscountAmount {
                    amount: minor(discount.amount),
                    discount: None,
                })
                .collect(),
        }
    }
}

fn invoice_id(id: &str) -> Result<InvoiceId, StripeError> {
    InvoiceId::parse(id).map_err(|_| StripeError::no_such("invoice", id, "id"))
}

/// A core error, with a missing invoice named as Stripe names it.
fn invoice_error(id: &InvoiceId) -> impl Fn(ApiError) -> ApiError + '_ {
    move |error| match error {
        ApiError::NotFound(_) => ApiError::NotFound(format!("No such invoice: '{id}'")),
        other => other,
    }
}

/// `POST /v1/invoices`: a draft for `customer` in `currency`; with
/// `pending_invoice_items_behavior=include`, the customer's pending items of that currency
/// move onto it in the same transaction.
pub async fn create(
    State(state): State<AppState>,
    caller: StripeCaller,
    idempotency: Idempotency,
    params: StripeParams,
) -> Result<Response, StripeError> {
    let request = idempotency.request(params.canonical());
    let mut reader = Reader::new(params);
    reader.refuse_unsupported(&[
        "metadata",
        "auto_advance",
        "collection_method",
        "days_until_due",
        "default_tax_rates",
        "discounts",
        "subscription",
    ]);
    let customer = match reader.text("customer") {
        Some(text) => CustomerId::parse(&text)
            .map_err(|error| reader.reject_key("customer", error.to_string()))
            .ok(),
        None => {
            reader.reject(Bad::missing("customer"));
            None
        }
    };
    let currency = match reader.text("currency") {
        Some(text) => Currency::parse(&text.to_ascii_uppercase())
            .map_err(|_| {
                reader.reject_key(
                    "currency",
                    "must be a three-letter ISO 4217 currency code with a minor unit, such as usd",
                );
            })
            .ok(),
        None => {
            reader.reject(Bad::missing("currency"));
            None
        }
    };
    let notes = reader
        .text("description")
        .filter(|text| !text.is_empty())
        .and_then(|text| {
            Notes::parse(text)
                .map_err(|message| reader.reject_key("description", message))
                .ok()
        });
    let due_time = reader
        .integer("due_date")
        .and_then(|seconds| timestamp(&mut reader, "due_date", seconds));
    let pending = reader
        .text("pending_invoice_items_behavior")
        .and_then(|text| {
            PendingItems::parse(&text)
                .map_err(|message| reader.reject_key("pending_invoice_items_behavior", message))
                .ok()
        })
        .unwrap_or_default();
    reader.finish()?;
    let (Some(customer_id), Some(currency)) = (customer, currency) else {
        return Err(StripeError::Params(Vec::new()));
    };
    let website_id =
        WebsiteId::parse(WEBSITE_ID).map_err(|error| ApiError::Internal(error.into()))?;
    let input = InvoiceInput {
        customer_id,
        website_id,
        currency,
        due_time,
        notes,
        po_number: None,
        discounts: Vec::new(),
        tax: Default::default(),
        parties: Default::default(),
    };
    let organization_id = &caller.principal.organization_id;
    let livemode = caller.livemode;
    run_write(&state, &caller.principal, request, async |tx| {
        let invoice = service::create_invoice(tx, organization_id, input).await?;
        let (invoice, items) = match pending {
            PendingItems::Exclude => (invoice, Vec::new()),
            PendingItems::Include => {
                take_in_pending_items(tx, organization_id, &invoice.id).await?
            }
        };
        ok(&InvoiceObject::new(&invoice, &items, livemode))
    })
    .await
}

/// `GET /v1/invoices/{id}`.
pub async fn retrieve(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(id): Path<String>,
    StripeQuery(query): StripeQuery,
) -> Result<Response, StripeError> {
    Reader::new(query).finish()?;
    let invoice_id = invoice_id(&id)?;
    let (invoice, items) =
        service::get_invoice(&state.db, &caller.principal.organization_id, &invoice_id)
            .await
            .map_err(invoice_error(&invoice_id))?;
    ok(&InvoiceObject::new(&invoice, &items, caller.livemode))
}

/// `POST /v1/invoices/{id}/finalize`: a draft becomes `open` (Rebilly's issue), numbered.
pub async fn finalize(
    state: State<AppState>,
    caller: StripeCaller,
    path: Path<String>,
    idempotency: Idempotency,
    params: StripeParams,
) -> Result<Response, StripeError> {
    act(
        state,
        caller,
        path,
        idempotency,
        params,
        InvoiceAction::Issue,
    )
    .await
}

/// `POST /v1/invoices/{id}/void`: an open invoice becomes `void`.
pub async fn void(
    state: State<AppState>,
    caller: StripeCaller,
    path: Path<String>,
    idempotency: Idempotency,
    params: StripeParams,
) -> Result<Response, StripeError> {
    act(
        state,
        caller,
        path,
        idempotency,
        params,
        InvoiceAction::Void,
    )
    .await
}

/// `POST /v1/invoices/{id}/mark_uncollectible`: an open invoice becomes `uncollectible`
/// (Rebilly's abandon).
pub async fn mark_uncollectible(
    state: State<AppState>,
    caller: StripeCaller,
    path: Path<String>,
    idempotency: Idempotency,
    params: StripeParams,
) -> Result<Response, StripeError> {
    act(
        state,
        caller,
        path,
        idempotency,
        params,
        InvoiceAction::Abandon,
    )
    .await
}

async fn act(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(id): Path<String>,
    idempotency: Idempotency,
    params: StripeParams,
    action: InvoiceAction,
) -> Result<Response, StripeError> {
    let request = idempotency.request(params.canonical());
    let mut reader = Reader::new(params);
    // Stripe's clients may send it; invoices here never advance by themselves.
    if reader.boolean("auto_advance") == Some(true) {
        reader.reject_key(
            "auto_advance",
            "must be false: invoices here never advance by themselves",
        );
    }
    reader.finish()?;
    let invoice_id = invoice_id(&id)?;
    let organization_id = &caller.principal.organization_id;
    let livemode = caller.livemode;
    run_write(&state, &caller.principal, request, async |tx| {
        let (invoice, items) = service::apply_action(
            tx,
            organization_id,
            &invoice_id,
            action,
            IssueTimes::default(),
        )
        .await
        .map_err(invoice_error(&invoice_id))?;
        ok(&InvoiceObject::new(&invoice, &items, livemode))
    })
    .await
}

/// `GET /v1/invoices`: newest first, by cursor, of one `customer` when given.
pub async fn list(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(query): StripeQuery,
) -> Result<Response, StripeError> {
    let mut reader = Reader::new(query);
    let page = PageParams::read(&mut reader);
    let customer = reader.text("customer").and_then(|text| {
        CustomerId::parse(&text)
            .map_err(|error| reader.reject_key("customer", error.to_string()))
            .ok()
    });
    reader.finish()?;
    let cursor_id = page.cursor_id("invoice", |id| InvoiceId::parse(id).ok())?;
    let cursor = match page.from(cursor_id.as_ref()) {
        PageStart::Newest => InvoiceCursor::Newest,
        PageStart::OlderThan(id) => InvoiceCursor::OlderThan(id),
        PageStart::NewerThan(id) => InvoiceCursor::NewerThan(id),
    };
    let organization_id = &caller.principal.organization_id;
    let mut invoices = service::page_invoices(
        &state.db,
        organization_id,
        customer.as_ref(),
        cursor,
        page.to_read(),
    )
    .await?
    .ok_or_else(|| page.no_such("invoice"))?;
    let has_more = page.cut(&mut invoices);
    let data = invoices
        .iter()
        .map(|(invoice, items)| InvoiceObject::new(invoice, items, caller.livemode))
        .collect();
    ok(&ListObject::new(data, has_more, "/v1/invoices"))
}
