//! The dialect's parameters and lists as the contract describes them: types for people and
//! generators, which only the schema derives read (`params` parses requests, and `wire` writes
//! the objects).
//!
//! Every id is 1 to 50 letters, digits and `_@~.-` (the pattern the fields below repeat).

#![expect(
    dead_code,
    reason = "their fields are read by the schema derives alone"
)]

use std::collections::HashMap;

use utoipa::openapi::schema::{
    Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::{IntoParams, ToSchema};

use crate::domain::metadata::{MAX_KEY_CHARS, MAX_KEYS, MAX_VALUE_CHARS};
use crate::http::problem::InvalidFieldSchema;
use crate::http::stripe::expand::MAX_EXPANSIONS;
use crate::http::stripe::invoice_object::InvoiceObject;
use crate::http::stripe::item_params::MAX_UNIX_SECONDS;
use crate::http::stripe::wire::{ItemObject, LineObject};

/// A three-letter ISO 4217 code with a minor unit (`usd`), read in either case; answers give
/// it lower-case.
fn currency() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Za-z]{3}$"))
        .examples(["usd"])
        .build()
}

/// Unix seconds, from 1970 to the end of the year 9999.
fn timestamp() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(MAX_UNIX_SECONDS))
        .build()
}

/// `metadata`: at most 50 keys of 1 to 40 characters without brackets, each value at most 500 characters; a
/// null or empty value removes its key. Null itself (or `metadata=` in a form) removes every
/// key.
fn metadata() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .max_properties(Some(MAX_KEYS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_CHARS))
                .pattern(Some(r"^[^\[\]]*$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .max_length(Some(MAX_VALUE_CHARS)),
        ))
        .build()
}

/// `auto_advance`: only `false`, as invoices here never advance by themselves.
fn never_advance() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([false]))
        .build()
}

/// `expand`: at most [`MAX_EXPANSIONS`] paths, none longer than 40 characters (the paths that
/// expand are shorter; a longer one is refused like any unknown path).
fn expansions() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(40)),
        )
        .max_items(Some(MAX_EXPANSIONS))
        .build()
}

/// A page of invoice items.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceItemList)]
pub struct ItemList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<ItemObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/invoiceitems`.
    url: String,
}

/// A page of an invoice's lines: in an invoice, its first 10.
#[derive(ToSchema)]
#[schema(as = StripeLineItemList)]
pub struct LineList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<LineObject>,
    /// Whether the invoice has lines past these.
    has_more: bool,
    /// `/v1/invoices/{id}/lines`.
    url: String,
}

/// A page of invoices.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceList)]
pub struct InvoiceList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<InvoiceObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/invoices`.
    url: String,
}

/// `period[start]` and `period[end]`, Unix seconds; the end is not before the start.
#[derive(ToSchema)]
#[schema(as = StripePeriodParams)]
pub struct PeriodParams {
    #[schema(schema_with = timestamp)]
    start: i64,
    #[schema(schema_with = timestamp)]
    end: i64,
}

/// `price_data[...]`: the item's own price.
#[derive(ToSchema)]
#[schema(as = StripePriceData)]
pub struct PriceDataParams {
    /// ISO 4217 (`usd`, in either case); the item's currency when given.
    #[schema(required = false, schema_with = currency)]
    currency: String,
    /// A product of the organization (`/products`); null or empty for none.
    #[schema(required = false, pattern = "^([A-Za-z0-9_@~.-]{1,50})?$")]
    product: Option<String>,
    /// Minor units per unit; negative for a credit.
    #[schema(required = false)]
    unit_amount: i64,
}

/// `POST /v1/invoiceitems`. One of `amount`, `unit_amount`, `price` or `price_data` gives the
/// price; `amount` must equal `unit_amount * quantity` when both are given. `currency` is
/// required without `invoice` (and taken from it otherwise). Form encoded with Stripe's
/// brackets (`metadata[order]=42`), or JSON.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceItemCreate)]
pub struct ItemCreateParams {
    /// The customer billed.
    #[schema(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
    /// Minor units, whole; negative for a credit.
    #[schema(required = false)]
    amount: i64,
    /// ISO 4217 (`usd`, in either case; answers give it lower-case).
    #[schema(required = false, schema_with = currency)]
    currency: String,
    /// At most 1000 characters; null or empty for none.
    #[schema(required = false, max_length = 1000)]
    description: Option<String>,
    /// A draft invoice of the same customer and currency; the item is pending without it.
    #[schema(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    invoice: String,
    /// Up to 50 keys of up to 40 characters, values of up to 500 characters.
    #[schema(required = false, schema_with = metadata)]
    metadata: Option<HashMap<String, String>>,
    /// Null (or `period=` in a form) for none.
    #[schema(required = false)]
    period: Option<PeriodParams>,
    /// Another item's own price (`price_...`), whose unit amount and product this item takes.
    #[schema(required = false)]
    price: String,
    #[schema(required = false)]
    price_data: PriceDataParams,
    /// 0 to 1000000000; 1 by default.
    #[schema(required = false, minimum = 0, maximum = 1_000_000_000)]
    quantity: i64,
    /// The subscription the item was accrued for.
    #[schema(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    subscription: String,
    /// Minor units per unit; negative for a credit.
    #[schema(required = false)]
    unit_amount: i64,
    /// The Unix time it is billed as; its creation time by default.
    #[schema(required = false, schema_with = timestamp)]
    date: i64,
    /// `invoice` shows the item's invoice in place of its id.
    #[schema(required = false, schema_with = expansions)]
    expand: Vec<String>,
}

/// `POST /v1/invoiceitems/{id}`: the parameters given change, the others stay. An empty
/// metadata value deletes its key; `metadata=` (empty) deletes them all.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceItemUpdate)]
pub struct ItemUpdateParams {
    #[schema(required = false)]
    amount: i64,
    /// At most 1000 characters; null or empty removes it.
    #[schema(required = false, max_length = 1000)]
    description: Option<String>,
    /// Up to 50 keys of up to 40 characters, values of up to 500 characters; a null or empty
    /// value removes its key, and null (or `metadata=` in a form) every key.
    #[schema(required = false, schema_with = metadata)]
    metadata: Option<HashMap<String, String>>,
    /// Null (or `period=` in a form) for none.
    #[schema(required = false)]
    period: Option<PeriodParams>,
    #[schema(required = false)]
    price: String,
    #[schema(required = false)]
    price_data: PriceDataParams,
    #[schema(required = false, minimum = 0, maximum = 1_000_000_000)]
    quantity: i64,
    #[schema(required = false)]
    unit_amount: i64,
    /// `invoice` shows the item's invoice in place of its id.
    #[schema(required = false, schema_with = expansions)]
    expand: Vec<String>,
}

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

/// `created[gt]`, `created[gte]`, `created[lt]`, `created[lte]`: Unix seconds.
#[derive(ToSchema)]
#[schema(as = StripeCreatedRange)]
pub struct CreatedRange {
    #[schema(required = false, schema_with = timestamp)]
    gt: i64,
    #[schema(required = false, schema_with = timestamp)]
    gte: i64,
    #[schema(required = false, schema_with = timestamp)]
    lt: i64,
    #[schema(required = false, schema_with = timestamp)]
    lte: i64,
}

/// A page of a list, newest first.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100; 10 by default.
    #[param(required = false, minimum = 1, maximum = 100)]
    limit: i64,
    /// The page after this object's id.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    starting_after: String,
    /// The page before this object's id (not with `starting_after`).
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    ending_before: String,
}

/// `GET /v1/invoiceitems`'s filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListQuery {
    /// One customer's items.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
    /// One invoice's items.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    invoice: String,
    /// Only pending items (`true`) or only invoiced ones (`false`).
    #[param(required = false)]
    pending: bool,
    /// Created in this range.
    #[param(required = false, style = DeepObject, explode, value_type = CreatedRange)]
    created: CreatedRange,
}

/// What an item's answer expands.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemExpandQuery {
    /// `invoice` shows the item's invoice in place of its id. At most 10 paths, each its own
    /// `expand[]` (`expand[0]=`, `expand[1]=`, ... and one bare `expand=` are read too).
    #[param(rename = "expand[]", required = false, style = Form, explode, max_items = 10, example = json!(["invoice"]))]
    expand: Vec<String>,
}

/// What a list of items expands.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListExpandQuery {
    /// `data.invoice` shows each item's invoice in place of its id. At most 10 paths, each its
    /// own `expand[]` (`expand[0]=`, `expand[1]=`, ... and one bare `expand=` are read too).
    #[param(rename = "expand[]", required = false, style = Form, explode, max_items = 10, example = json!(["data.invoice"]))]
    expand: Vec<String>,
}

/// `GET /v1/invoices`'s filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    /// One customer's invoices.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
}

/// An object's id in the path: the contract's parameter and the handlers' extractor alike.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// The object's id.
    pub id: String,
}

/// Stripe's error member.
#[derive(ToSchema)]
#[schema(as = StripeErrorMember)]
pub struct ErrorMember {
    /// `invalid_request_error`, `idempotency_error` or `api_error`.
    #[schema(rename = "type")]
    kind: String,
    /// Stripe's code (`parameter_missing`, `resource_missing`, ...), when there is one.
    #[schema(required = false)]
    code: String,
    /// What went wrong, for people.
    message: String,
    /// The first bad parameter, in bracket notation (`period[end]`).
    #[schema(required = false)]
    param: String,
}

/// Every `/v1` error: the RFC 7807 members and Stripe's `error` member in one body.
#[derive(ToSchema)]
#[schema(as = StripeProblem)]
pub struct StripeProblem {
    #[schema(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    #[schema(required = false)]
    instance: String,
    #[schema(rename = "requestId", required = false)]
    request_id: String,
    /// Every bad parameter, in bracket notation.
    #[schema(rename = "invalidFields", required = false)]
    invalid_fields: Vec<InvalidFieldSchema>,
    error: ErrorMember,
}
