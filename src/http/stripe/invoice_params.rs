//! A Stripe-style invoice's parameters on `POST /v1/invoices`, read from either encoding into
//! the core's input for a new draft.

use super::error::{Bad, StripeError};
use super::item_params::{new_metadata, timestamp};
use super::params::Reader;
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, WebsiteId};
use crate::domain::invoice::{InvoiceInput, Notes, PendingItems};
use crate::domain::metadata::Metadata;
use crate::error::ApiError;

/// The website an invoice made here names: Stripe's invoices have none, Rebilly's need one.
pub const WEBSITE_ID: &str = "v1";

/// Parameters of Stripe's invoice that this server does not implement: refused by name, never
/// dropped.
const UNSUPPORTED: [&str; 6] = [
    "auto_advance",
    "collection_method",
    "days_until_due",
    "default_tax_rates",
    "discounts",
    "subscription",
];

/// The parameters of a new invoice, each read and checked (the bad ones named in the reader).
#[derive(Debug)]
pub struct InvoiceParams {
    customer: Option<CustomerId>,
    currency: Option<Currency>,
    notes: Option<Notes>,
    due_time: Option<chrono::DateTime<chrono::Utc>>,
    pending: PendingItems,
    metadata: Metadata,
}

impl InvoiceParams {
    /// Reads every parameter of a create, naming each bad one in `reader`.
    pub fn read(reader: &mut Reader) -> Self {
        reader.refuse_unsupported(&UNSUPPORTED);
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
            .and_then(|seconds| timestamp(reader, "due_date", seconds));
        let pending = reader
            .text("pending_invoice_items_behavior")
            .and_then(|text| {
                PendingItems::parse(&text)
                    .map_err(|message| reader.reject_key("pending_invoice_items_behavior", message))
                    .ok()
            })
            .unwrap_or_default();
        let metadata = new_metadata(reader);
        Self {
            customer,
            currency,
            notes,
            due_time,
            pending,
            metadata,
        }
    }

    /// The core's input for the draft, and whether it takes in pending items; called once
    /// every parameter was read without fault.
    pub fn input(self) -> Result<(InvoiceInput, PendingItems), StripeError> {
        let (Some(customer_id), Some(currency)) = (self.customer, self.currency) else {
            return Err(StripeError::Params(Vec::new()));
        };
        let website_id =
            WebsiteId::parse(WEBSITE_ID).map_err(|error| ApiError::Internal(error.into()))?;
        let input = InvoiceInput {
            customer_id,
            website_id,
            currency,
            due_time: self.due_time,
            notes: self.notes,
            po_number: None,
            discounts: Vec::new(),
            tax: Default::default(),
            parties: Default::default(),
            metadata: Some(self.metadata),
        };
        Ok((input, self.pending))
    }
}
