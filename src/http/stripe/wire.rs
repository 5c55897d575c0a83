//! The dialect's objects as Stripe's clients read them: integer minor units, lower-case
//! currency codes, Unix seconds.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::StripeError;
use super::invoice_parts::{DiscountAmount, TaxAmount};
use super::words::{minor_text, whole_minor_units};
use crate::domain::currency::Currency;
use crate::domain::invoice_item::{ItemExtras, ItemType, PlacedItem, UnitPrice};
use crate::domain::metadata::Metadata;
use crate::error::ApiError;

/// A 200 with a JSON body, as Stripe answers every call.
pub fn ok<T: Serialize>(body: &T) -> Result<Response, StripeError> {
    let bytes = serde_json::to_vec(body).map_err(|error| ApiError::Internal(Box::new(error)))?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}

/// A unit price with its sign: negative for a credit.
pub fn signed_unit_price(item_type: ItemType, unit_price: UnitPrice) -> Decimal {
    match item_type {
        ItemType::Debit => unit_price.amount(),
        ItemType::Credit => -unit_price.amount(),
    }
}

/// An amount in minor units when it is whole in them.
fn minor(currency: Currency, amount: Decimal) -> Option<i64> {
    currency.minor_units_of(amount)
}

/// Unix seconds.
pub fn unix(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

/// An invoice item (`object: "invoiceitem"`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeInvoiceItem)]
pub struct ItemObject {
    id: String,
    object: &'static str,
    amount: i64,
    currency: String,
    customer: String,
    date: i64,
    description: Option<String>,
    discountable: bool,
    #[schema(value_type = Vec<String>)]
    discounts: [String; 0],
    #[schema(schema_with = invoice_ref)]
    invoice: Option<InvoiceRef>,
    livemode: bool,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    period: Period,
    price: PriceObject,
    proration: bool,
    quantity: i64,
    subscription: Option<String>,
    #[schema(value_type = Vec<String>)]
    tax_rates: [String; 0],
    test_clock: Option<String>,
    unit_amount: Option<i64>,
    unit_amount_decimal: String,
}

/// An item's invoice: its id, or, when `expand` asks, the invoice itself.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum InvoiceRef {
    /// The invoice's id.
    Id(String),
    /// The invoice, with its first lines, as `invoice_object` renders it. Held rendered, so
    /// that items here need not know invoices, whose lines are items.
    Expanded(Box<serde_json::Value>),
}

impl InvoiceRef {
    fn into_id(self) -> String {
        match self {
            Self::Id(id) => id,
            Self::Expanded(invoice) => invoice["id"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// `invoice`'s schema: null, an id, or the expanded invoice.
fn invoice_ref() -> utoipa::openapi::schema::Schema {
    id_or(
        "StripeInvoice",
        "The invoice's id, or the invoice with `expand[]=invoice`; null while pending.",
    )
    .item(utoipa::openapi::schema::Object::with_type(
        utoipa::openapi::schema::Type::Null,
    ))
    .build()
    .into()
}

/// A line's `invoice_item`'s schema: an id, or the expanded item.
fn item_ref() -> utoipa::openapi::schema::Schema {
    id_or(
        "StripeInvoiceItem",
        "The item's id, or the item with `expand[]=lines.data.invoice_item` (`data.invoice_item` \
         on a list of lines).",
    )
    .build()
    .into()
}

/// An id, or the object `schema_name` names in its place.
fn id_or(schema_name: &str, description: &str) -> utoipa::openapi::schema::OneOfBuilder {
    use utoipa::openapi::schema::{Object, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(Object::with_type(Type::String))
        .item(utoipa::openapi::Ref::from_schema_name(schema_name))
        .description(Some(description))
}

/// A line's item: its id, or, when `expand` asks, the item itself.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ItemRef {
    Id(String),
    Expanded(Box<ItemObject>),
}

/// The span an item bills, in Unix seconds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripePeriod)]
struct Period {
    start: i64,
    end: i64,
}

/// The price an item was made with: its own, one-time, per unit.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripePrice)]
struct PriceObject {
    id: String,
    object: &'static str,
    active: bool,
    billing_scheme: &'static str,
    created: i64,
    currency: String,
    livemode: bool,
    lookup_key: Option<String>,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    nickname: Option<String>,
    product: Option<String>,
    #[schema(value_type = Option<Object>)]
    recurring: Option<()>,
    #[serde(rename = "type")]
    kind: &'static str,
    unit_amount: Option<i64>,
    unit_amount_decimal: String,
}

/// The prefix of an item's own price id; the rest is the item id's.
pub const PRICE_PREFIX: &str = "price_";
/// The prefix of an item id.
pub const ITEM_PREFIX: &str = "ii_";

/// The id of an item's own price: `price_` and the item id after its `ii_`.
pub fn price_id(item_id: &str) -> String {
    format!(
        "{PRICE_PREFIX}{}",
        item_id.strip_prefix(ITEM_PREFIX).unwrap_or(item_id)
    )
}

/// The item whose own price an id names.
pub fn item_of_price(price_id: &str) -> Option<String> {
    price_id
        .strip_prefix(PRICE_PREFIX)
        .map(|rest| format!("{ITEM_PREFIX}{rest}"))
}

struct Fields<'a> {
    id: &'a str,
    invoice: Option<InvoiceRef>,
    customer: &'a str,
    currency: Currency,
    item_type: ItemType,
    description: Option<String>,
    unit_price: UnitPrice,
    quantity: i64,
    price: Decimal,
    product: Option<String>,
    period: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    extras: &'a ItemExtras,
    created: DateTime<Utc>,
}

/// The [`Fields`] of an invoice's item or a pending item, which name them alike, given where
/// the item stands: its invoice (none when pending), customer and currency.
macro_rules! item_fields {
    ($item:expr, $invoice:expr, $customer:expr, $currency:expr) => {
        Fields {
            id: $item.id.as_str(),
            invoice: $invoice,
            customer: $customer,
            currency: $currency,
            item_type: $item.item_type,
            description: $item
                .description
                .as_ref()
                .map(|text| text.as_str().to_owned()),
            unit_price: $item.unit_price,
            quantity: $item.quantity.get(),
            price: $item.price,
            product: $item.product_id.as_ref().map(ToString::to_string),
            period: ($item.period_start_time, $item.period_end_time),
            extras: &$item.extras,
            created: $item.created_time,
        }
    };
}

impl ItemObject {
    /// The item as Stripe shows it.
    pub fn new(placed: &PlacedItem, livemode: bool) -> Self {
        let fields = match placed {
            PlacedItem::OnInvoice {
                item,
                customer_id,
                currency,
            } => item_fields!(
                item,
                Some(InvoiceRef::Id(item.invoice_id.to_string())),
                customer_id.as_str(),
                *currency
            ),
            PlacedItem::Pending(item) => {
                item_fields!(item, None, item.customer_id.as_str(), item.currency)
            }
        };
        Self::of(fields, livemode)
    }

    /// The item with `invoice`, rendered, in place of its invoice's id.
    pub fn with_invoice(mut self, invoice: serde_json::Value) -> Self {
        self.invoice = Some(InvoiceRef::Expanded(Box::new(invoice)));
        self
    }

    fn of(fields: Fields<'_>, livemode: bool) -> Self {
        let currency = fields.currency;
        let unit = signed_unit_price(fields.item_type, fields.unit_price);
        let price = match fields.item_type {
            ItemType::Debit => fields.price,
            ItemType::Credit => -fields.price,
        };
        let date = fields.extras.date.unwrap_or(fields.created);
        let (start, end) = fields.period;
        let code = currency.code().to_ascii_lowercase();
        Self {
            id: fields.id.to_owned(),
            object: "invoiceitem",
            amount: whole_minor_units(currency, price),
            currency: code.clone(),
            customer: fields.customer.to_owned(),
            date: unix(date),
            description: fields.description,
            // Discounts are shared among an invoice's debit items only.
            discountable: fields.item_type == ItemType::Debit,
            discounts: [],
            invoice: fields.invoice,
            livemode,
            metadata: fields.extras.metadata.clone(),
            period: Period {
                start: unix(start.or(end).unwrap_or(date)),
                end: unix(end.or(start).unwrap_or(date)),
            },
            price: PriceObject {
                id: price_id(fields.id),
                object: "price",
                active: false,
                billing_scheme: "per_unit",
                created: unix(fields.created),
                currency: code,
                livemode,
                lookup_key: None,
                metadata: Metadata::default(),
                nickname: None,
                product: fields.product,
                recurring: None,
                kind: "one_time",
                unit_amount: minor(currency, unit),
                unit_amount_decimal: minor_text(currency, unit),
            },
            proration: false,
            quantity: fields.quantity,
            subscription: fields
                .extras
                .subscription_id
                .as_ref()
                .map(ToString::to_string),
            tax_rates: [],
            test_clock: None,
            unit_amount: minor(currency, unit),
            unit_amount_decimal: minor_text(currency, unit),
        }
    }
}

/// A page of a list (`object: "list"`).
#[derive(Debug, Serialize)]
pub struct ListObject<T> {
    object: &'static str,
    data: Vec<T>,
    has_more: bool,
    url: String,
}

impl<T> ListObject<T> {
    /// A page of `data` from the list at `url`.
    pub fn new(data: Vec<T>, has_more: bool, url: impl Into<String>) -> Self {
        Self {
            object: "list",
            data,
            has_more,
            url: url.into(),
        }
    }
}

/// An invoice's line for one of its items (`object: "line_item"`, `type: "invoiceitem"`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeLineItem)]
pub struct LineObject {
    id: String,
    object: &'static str,
    /// The item's price, before its discount and without tax.
    amount: i64,
    /// The same as `amount`: taxes here are never part of a price.
    amount_excluding_tax: i64,
    currency: String,
    description: Option<String>,
    /// The item's share of the invoice's discounts.
    discount_amounts: Vec<DiscountAmount>,
    discountable: bool,
    #[schema(value_type = Vec<String>)]
    discounts: [String; 0],
    invoice: Option<String>,
    #[schema(schema_with = item_ref)]
    invoice_item: ItemRef,
    livemode: bool,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    period: Period,
    #[schema(value_type = Option<Object>)]
    plan: Option<()>,
    price: PriceObject,
    proration: bool,
    proration_details: ProrationDetails,
    quantity: i64,
    subscription: Option<String>,
    subscription_item: Option<String>,
    /// The item's tax, levied on its price less its discount.
    tax_amounts: Vec<TaxAmount>,
    #[schema(value_type = Vec<String>)]
    tax_rates: [String; 0],
    #[serde(rename = "type")]
    kind: &'static str,
    /// The unit price, exactly, in minor units: taxes here are never part of a price.
    unit_amount_excluding_tax: String,
}

/// What a proration credits: nothing, as items here are never prorations.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeProrationDetails)]
struct ProrationDetails {
    #[schema(value_type = Option<Object>)]
    credited_items: Option<()>,
}

impl LineObject {
    /// The line of an item on an invoice: the item's figures; its id is the item's. With
    /// `item_expanded`, its `invoice_item` is the item as `GET /v1/invoiceitems/{id}` shows it
    /// (with its invoice's id), in place of the item's id.
    pub fn new(placed: &PlacedItem, livemode: bool, item_expanded: bool) -> Self {
        let (discount_amounts, tax_amounts) = match placed {
            PlacedItem::OnInvoice { item, currency, .. } => (
                DiscountAmount::of_item(*currency, item),
                TaxAmount::of_item(*currency, item),
            ),
            // A pending item has no invoice yet to share a discount or levy a tax.
            PlacedItem::Pending(_) => (Vec::new(), Vec::new()),
        };
        let item = ItemObject::new(placed, livemode);
        let invoice_item = if item_expanded {
            ItemRef::Expanded(Box::new(ItemObject::new(placed, livemode)))
        } else {
            ItemRef::Id(item.id.clone())
        };
        Self {
            invoice_item,
            id: item.id,
            object: "line_item",
            amount: item.amount,
            amount_excluding_tax: item.amount,
            currency: item.currency,
            description: item.description,
            discount_amounts,
            discountable: item.discountable,
            discounts: [],
            invoice: item.invoice.map(InvoiceRef::into_id),
            livemode,
            metadata: item.metadata,
            period: item.period,
            plan: None,
            price: item.price,
            proration: false,
            proration_details: ProrationDetails {
                credited_items: None,
            },
            quantity: item.quantity,
            subscription: item.subscription,
            subscription_item: None,
            tax_amounts,
            tax_rates: [],
            kind: "invoiceitem",
            unit_amount_excluding_tax: item.unit_amount_decimal,
        }
    }
}

/// What a delete answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeDeleted)]
pub struct Deleted {
    id: String,
    object: &'static str,
    deleted: bool,
}

impl Deleted {
    /// `{id, object, deleted: true}`.
    pub fn new(id: &str, object: &'static str) -> Self {
        Self {
            id: id.to_owned(),
            object,
            deleted: true,
        }
    }
}
