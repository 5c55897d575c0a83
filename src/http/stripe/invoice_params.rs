//! A Stripe-style invoice's parameters on `POST /v1/invoices`, read from either encoding into
//! the core's input for a new draft.

use super::error::{Bad, StripeError};
use super::item_params::{currency, new_metadata, read_metadata, timestamp};
use super::params::Reader;
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, WebsiteId};
use crate::domain::invoice::{
    Collection, CollectionMethod, InvoiceInput, InvoicePatch, MAX_DAYS_UNTIL_DUE, Notes,
    PendingItems,
};
use crate::domain::metadata::Metadata;
use crate::error::ApiError;

/// The website an invoice made here names: Stripe's invoices have none, Rebilly's need one.
pub const WEBSITE_ID: &str = "v1";

/// Parameters of Stripe's invoice that this server does not implement: refused by name, never
/// dropped.
const UNSUPPORTED: [&str; 3] = ["default_tax_rates", "discounts", "subscription"];

/// The parameters of a new invoice, each read and checked (the bad ones named in the reader).
#[derive(Debug)]
pub struct InvoiceParams {
    customer: Option<CustomerId>,
    currency: Option<Currency>,
    notes: Option<Notes>,
    due_time: Option<chrono::DateTime<chrono::Utc>>,
    pending: PendingItems,
    metadata: Metadata,
    collection: Collection,
}

impl InvoiceParams {
    /// Reads every parameter of a create, naming each bad one in `reader`.
    pub fn read(reader: &mut Reader) -> Self {
        reader.refuse_unsupported(&UNSUPPORTED);
        let customer = reader.required("customer", CustomerId::parse);
        // Without it, the organization's default, when it has one: see `input`.
        let currency = reader
            .text("currency")
            .and_then(|text| currency(reader, "currency", &text));
        let notes = reader
            .text("description")
            .filter(|text| !text.is_empty())
            .and_then(|text| {
                Notes::parse(text)
                    .map_err(|message| reader.reject_key("description", message))
                    .ok()
            });
        let due_date_given = reader.has("due_date");
        let due_time = reader
            .integer("due_date")
            .and_then(|seconds| timestamp(reader, "due_date", seconds));
        let pending = reader
            .parsed("pending_invoice_items_behavior", PendingItems::parse)
            .unwrap_or_default();
        let metadata = new_metadata(reader);
        refuse_advancing(reader);
        let collection = read_collection(reader, due_date_given);
        Self {
            customer,
            currency,
            notes,
            due_time,
            pending,
            metadata,
            collection,
        }
    }

    /// Whether no `currency` was given, so that the organization's default is needed.
    pub fn lacks_currency(&self) -> bool {
        self.currency.is_none()
    }

    /// The core's input for the draft, and whether it takes in pending items; called once
    /// every parameter was read without fault. Without `currency`, the invoice is in
    /// `default_currency`, the organization's, which it must then have.
    pub fn input(
        self,
        default_currency: Option<Currency>,
    ) -> Result<(InvoiceInput, PendingItems), StripeError> {
        let Some(currency) = self.currency.or(default_currency) else {
            return Err(Bad::coded(
                "currency",
                "parameter_missing",
                "is required: the organization has no defaultCurrency (PATCH /organizations/{id} sets one)",
            )
            .into());
        };
        let Some(customer_id) = self.customer else {
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
            collection: Some(self.collection),
        };
        Ok((input, self.pending))
    }
}

/// The parameters of `POST /v1/invoices/{id}`: a draft's description, due date, collection
/// and metadata; an empty value unsets a field.
pub fn read_update(reader: &mut Reader) -> InvoicePatch {
    refuse_advancing(reader);
    let notes = reader.text("description").and_then(|text| {
        if text.is_empty() {
            return Some(None);
        }
        Notes::parse(text)
            .map(Some)
            .map_err(|message| reader.reject_key("description", message))
            .ok()
    });
    let due_time = cleared_or(reader, "due_date", |reader, seconds| {
        timestamp(reader, "due_date", seconds)
    });
    let collection_method = reader.parsed("collection_method", collection_method);
    let days_until_due = cleared_or(reader, "days_until_due", days_until_due);
    InvoicePatch {
        notes,
        due_time,
        metadata: read_metadata(reader),
        collection_method,
        days_until_due,
    }
}

/// `collection_method`, by Stripe's name of it.
pub fn collection_method(name: &str) -> Result<CollectionMethod, &'static str> {
    CollectionMethod::parse(name).ok_or("must be one of: charge_automatically, send_invoice")
}

/// `days_until_due`, when the days are within bounds; a 400 on it when not.
fn days_until_due(reader: &mut Reader, days: i64) -> Option<u16> {
    u16::try_from(days)
        .ok()
        .filter(|days| *days <= MAX_DAYS_UNTIL_DUE)
        .or_else(|| {
            reader.reject_key(
                "days_until_due",
                format!("must be between 0 and {MAX_DAYS_UNTIL_DUE}"),
            );
            None
        })
}

/// An integer parameter read by `parse`, or the empty value that unsets it (`Some(None)`);
/// `None` when absent or refused.
fn cleared_or<T>(
    reader: &mut Reader,
    key: &str,
    parse: impl FnOnce(&mut Reader, i64) -> Option<T>,
) -> Option<Option<T>> {
    if !reader.has(key) {
        return None;
    }
    if reader.peek_is_empty(key) {
        reader.text(key);
        return Some(None);
    }
    let value = reader.integer(key)?;
    parse(reader, value).map(Some)
}

/// `auto_advance`: Stripe's clients may send it, and only `false` is true here.
pub fn refuse_advancing(reader: &mut Reader) {
    if reader.boolean("auto_advance") == Some(true) {
        reader.reject_key(
            "auto_advance",
            "must be false: invoices here never advance by themselves",
        );
    }
}

/// `collection_method` and `days_until_due`, as Stripe pairs them: an invoice sent for
/// payment says when it is due (`days_until_due`, or `due_date`, never both), and one charged
/// automatically takes no days.
fn read_collection(reader: &mut Reader, has_due_date: bool) -> Collection {
    let method = reader
        .parsed("collection_method", collection_method)
        .unwrap_or_default();
    let days_given = reader.has("days_until_due");
    let days = reader
        .integer("days_until_due")
        .and_then(|days| days_until_due(reader, days));
    match (method, days) {
        (CollectionMethod::ChargeAutomatically, Some(_)) => reader.reject_key(
            "days_until_due",
            "can be set only when collection_method is send_invoice",
        ),
        (CollectionMethod::SendInvoice, Some(_)) if has_due_date => reader.reject_key(
            "days_until_due",
            "cannot be set with due_date: give one of them",
        ),
        (CollectionMethod::SendInvoice, None) if !has_due_date && !days_given => {
            reader.reject(Bad::missing("days_until_due"))
        }
        _ => {}
    }
    Collection {
        method,
        days_until_due: days,
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
        clearable_days, clearable_timestamp, currency, expansions, metadata, never_advance,
        paid_out_of_band, timestamp,
    };

    /// `POST /v1/invoices`: a draft.
    #[derive(ToSchema)]
    #[schema(as = StripeInvoiceCreate)]
    pub struct InvoiceCreateParams {
        /// The customer billed.
        #[schema(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        customer: String,
        /// ISO 4217 (`usd`, in either case; answers give it lower-case); by default the
        /// organization's `defaultCurrency`.
        #[schema(required = false, schema_with = currency)]
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
        /// `lines.data.invoice_item` shows each line's item in place of its id.
        #[schema(required = false, schema_with = expansions)]
        expand: Vec<String>,
        /// `include` moves the customer's pending items of this currency onto the draft.
        #[schema(required = false, value_type = String, pattern = "^(include|exclude)$")]
        pending_invoice_items_behavior: String,
        /// `charge_automatically` (the default: no due date unless `due_date` gives one) or
        /// `send_invoice` (which needs `days_until_due` or `due_date`).
        #[schema(required = false, value_type = String, pattern = "^(charge_automatically|send_invoice)$")]
        collection_method: String,
        /// With `send_invoice` and no `due_date`: due this many days after it is finalized.
        #[schema(required = false, minimum = 0, maximum = 3650)]
        days_until_due: i64,
        /// Only `false`: invoices here never advance by themselves.
        #[schema(required = false, schema_with = never_advance)]
        auto_advance: bool,
    }

    /// `POST /v1/invoices/{id}`: a draft's fields; an empty value unsets one.
    #[derive(ToSchema)]
    #[schema(as = StripeInvoiceUpdate)]
    pub struct InvoiceUpdateParams {
        /// Notes for the customer; empty for none.
        #[schema(required = false, max_length = 65535)]
        description: Option<String>,
        /// When payment is due, Unix seconds; replaces `days_until_due`. Empty to clear.
        #[schema(required = false, schema_with = clearable_timestamp)]
        due_date: i64,
        /// `charge_automatically` or `send_invoice`.
        #[schema(required = false, value_type = String, pattern = "^(charge_automatically|send_invoice)$")]
        collection_method: String,
        /// Due this many days after it is finalized; replaces `due_date`. Empty to clear.
        #[schema(required = false, schema_with = clearable_days)]
        days_until_due: i64,
        /// `lines.data.invoice_item` shows each line's item in place of its id.
        #[schema(required = false, schema_with = expansions)]
        expand: Vec<String>,
        /// Keys to set (an empty value removes one).
        #[schema(required = false, schema_with = metadata)]
        metadata: Option<HashMap<String, String>>,
        /// Only `false`: invoices here never advance by themselves.
        #[schema(required = false, schema_with = never_advance)]
        auto_advance: bool,
    }

    /// `POST /v1/invoices/{id}/finalize`, `/void`, `/mark_uncollectible` and `/send`.
    #[derive(ToSchema)]
    #[schema(as = StripeInvoiceAction)]
    pub struct InvoiceActionParams {
        /// `lines.data.invoice_item` shows each line's item in place of its id.
        #[schema(required = false, schema_with = expansions)]
        expand: Vec<String>,
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
        /// `lines.data.invoice_item` shows each line's item in place of its id.
        #[schema(required = false, schema_with = expansions)]
        expand: Vec<String>,
    }
}

pub use self::contract::{
    InvoiceActionParams, InvoiceCreateParams, InvoicePayParams, InvoiceUpdateParams,
};
