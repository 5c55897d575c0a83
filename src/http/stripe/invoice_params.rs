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
            .parsed("pending_invoice_items_behavior", PendingItems::parse)
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

/// The parameters as the contract describes them, beside the reader above: the descriptions
/// and limits a person or a generator reads.
#[expect(
    dead_code,
    reason = "their fields are read by the schema derives alone"
)]
mod contract {
    use std::collections::HashMap;

    use utoipa::ToSchema;

    use crate::http::stripe::param_schemas::{
        currency, metadata, never_advance, paid_out_of_band, timestamp,
    };

    /// `POST /v1/invoices`: a draft.
    #[derive(ToSchema)]
    #[schema(as = StripeInvoiceCreate)]
    pub struct InvoiceCreateParams {
        /// The customer billed.
        #[schema(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        customer: String,
        /// ISO 4217 (`usd`, in either case; answers give it lower-case).
        #[schema(schema_with = currency)]
        currency: String,
        /// Notes for the customer; null or empty for none.
        #[schema(required = false, max_length = 65535)]
        description: Option<String>,
        /// When payment is due, Unix seconds.
        #[schema(required = false, schema_with = timestamp)]
        due_date: i64,
        /// Up to 50 keys of up to 40 characters, values of up to 500 characters.
        #[schema(required = false, schema_with = metadata)]
        metadata: Option<HashMap<String, String>>,
        /// `include` moves the customer's pending items of this currency onto the draft.
        #[schema(required = false, value_type = String, pattern = "^(include|exclude)$")]
        pending_invoice_items_behavior: String,
    }

    /// `POST /v1/invoices/{id}/finalize`, `/void` and `/mark_uncollectible`.
    #[derive(ToSchema)]
    #[schema(as = StripeInvoiceAction)]
    pub struct InvoiceActionParams {
        /// Only `false`: invoices here never advance by themselves.
        #[schema(required = false, schema_with = never_advance)]
        auto_advance: bool,
    }

    /// `POST /v1/invoices/{id}/pay`.
    #[derive(ToSchema)]
    #[schema(as = StripeInvoicePay)]
    pub struct InvoicePayParams {
        /// Only `true`: the payment was made elsewhere; this server charges no card.
        #[schema(schema_with = paid_out_of_band)]
        paid_out_of_band: bool,
    }
}

pub use self::contract::{InvoiceActionParams, InvoiceCreateParams, InvoicePayParams};
