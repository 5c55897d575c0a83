//! `/invoices`: create and read invoices.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Principal;
use super::extract::{JsonBody, Path};
use super::fields::{FieldReader, RawObject, date_time, string};
use super::invoice_items::ItemResponse;
use super::wire::{Link, created, json_response, time, time_option};
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, InvoiceId, WebsiteId};
use crate::domain::invoice::{Invoice, InvoiceInput, InvoiceStatus, Notes, PoNumber};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::money;
use crate::error::ApiError;
use crate::service::invoices as service;

/// Read-only fields of Rebilly's Invoice: accepted in a request and ignored, so that a client
/// can send back what it read.
const READ_ONLY: &[&str] = &[
    "id",
    "invoiceNumber",
    "orderId",
    "subscriptionId",
    "quoteId",
    "amount",
    "amountDue",
    "subtotalAmount",
    "discountAmount",
    "discounts",
    "items",
    "autopayRetryNumber",
    "status",
    "delinquentCollectionPeriod",
    "collectionPeriod",
    "abandonedTime",
    "voidedTime",
    "paidTime",
    "issuedTime",
    "createdTime",
    "updatedTime",
    "paymentFormUrl",
    "creditMemoAllocations",
    "isNewOrder",
    "transactions",
    "revision",
    "type",
    "dueReminderTime",
    "dueReminderNumber",
    "organizationId",
    "_links",
    "_embedded",
];

/// Path of one invoice.
#[derive(Debug, Deserialize)]
pub struct InvoicePath {
    /// The invoice id.
    pub id: String,
}

impl InvoicePath {
    /// The invoice id; one that cannot exist names no invoice (404).
    pub fn invoice_id(&self) -> Result<InvoiceId, ApiError> {
        InvoiceId::parse(&self.id).map_err(|_| service::invoice_not_found(&self.id))
    }
}

/// `POST /invoices`: a draft invoice.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input = parse_invoice(body)?;
    let invoice = service::create_invoice(&state.db, &principal.organization_id, input).await?;
    let response = InvoiceResponse::new(&state, &invoice, &[]);
    Ok(created(&state.url(&invoice_path(&invoice.id)), &response))
}

/// `GET /invoices/{id}`: the invoice with its items.
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<InvoicePath>,
) -> Result<Response, ApiError> {
    let invoice_id = path.invoice_id()?;
    let (invoice, items) =
        service::get_invoice(&state.db, &principal.organization_id, &invoice_id).await?;
    Ok(json_response(
        axum::http::StatusCode::OK,
        &InvoiceResponse::new(&state, &invoice, &items),
    ))
}

/// Turns a request body into an invoice input, naming every bad field at once.
fn parse_invoice(body: RawObject) -> Result<InvoiceInput, ApiError> {
    let mut fields = FieldReader::new(body);
    let customer_id = fields.required("customerId", |raw| {
        CustomerId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let website_id = fields.required("websiteId", |raw| {
        WebsiteId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let currency = fields.required("currency", |raw| {
        Currency::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let due_time = fields.optional("dueTime", date_time);
    let notes = fields.optional("notes", |raw| Notes::parse(string(raw)?));
    let po_number = fields.optional("poNumber", |raw| PoNumber::parse(string(raw)?));
    check_derived_tax(&mut fields);
    fields.finish(READ_ONLY)?;
    match (customer_id, website_id, currency) {
        (Some(customer_id), Some(website_id), Some(currency)) => Ok(InvoiceInput {
            customer_id,
            website_id,
            currency,
            due_time,
            notes,
            po_number,
        }),
        // `finish` has refused every missing required field.
        _ => Err(ApiError::validation(Vec::new())),
    }
}

/// The invoice's `tax` is derived (the sum of its items' manual taxes), so a request may carry
/// only what the server shows: `calculator` `manual` and the read-only `amount`.
fn check_derived_tax(fields: &mut FieldReader) {
    let Some(mut tax) = fields.optional_object("tax") else {
        return;
    };
    tax.optional("calculator", |raw| match string(raw)?.as_str() {
        "manual" => Ok(()),
        _ => Err("must be manual: an invoice's tax is the sum of its items' taxes".to_owned()),
    });
    fields.adopt(tax, &["amount"]);
}

/// The path of an invoice, relative to the server root.
pub fn invoice_path(invoice_id: &InvoiceId) -> String {
    format!("/invoices/{invoice_id}")
}

/// An invoice on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceResponse {
    id: InvoiceId,
    customer_id: CustomerId,
    website_id: WebsiteId,
    currency: Currency,
    status: InvoiceStatus,
    #[serde(serialize_with = "money::serialize")]
    subtotal_amount: Decimal,
    #[serde(serialize_with = "money::serialize")]
    discount_amount: Decimal,
    tax: InvoiceTax,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    #[serde(serialize_with = "money::serialize")]
    amount_due: Decimal,
    #[serde(serialize_with = "time_option")]
    due_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    issued_time: Option<DateTime<Utc>>,
    notes: Option<String>,
    po_number: Option<String>,
    revision: i64,
    items: Vec<ItemResponse>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

/// The invoice's tax: the sum of its items' manual taxes.
#[derive(Debug, Serialize)]
struct InvoiceTax {
    calculator: &'static str,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
}

impl InvoiceResponse {
    fn new(state: &AppState, invoice: &Invoice, items: &[InvoiceItem]) -> Self {
        let totals = &invoice.totals;
        Self {
            id: invoice.id.clone(),
            customer_id: invoice.customer_id.clone(),
            website_id: invoice.website_id.clone(),
            currency: invoice.currency,
            status: invoice.status,
            subtotal_amount: totals.subtotal_amount,
            discount_amount: totals.discount_amount,
            tax: InvoiceTax {
                calculator: "manual",
                amount: totals.tax_amount,
            },
            amount: totals.amount,
            amount_due: totals.amount_due,
            due_time: invoice.due_time,
            issued_time: invoice.issued_time,
            notes: invoice.notes.clone(),
            po_number: invoice.po_number.clone(),
            revision: invoice.revision,
            items: items
                .iter()
                .map(|item| ItemResponse::new(state, item))
                .collect(),
            created_time: invoice.created_time,
            updated_time: invoice.updated_time,
            links: vec![Link {
                rel: "self",
                href: state.url(&invoice_path(&invoice.id)),
            }],
        }
    }
}
