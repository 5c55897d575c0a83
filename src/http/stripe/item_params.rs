//! An item's parameters on `/v1/invoiceitems`, read from either encoding into one shape, and
//! the amount rules that turn them into the core's input once the currency is known.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::error::Bad;
use super::param_schemas::MAX_UNIX_SECONDS;
use super::params::Reader;
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, IdError, InvoiceId, ProductId, SubscriptionId};
use crate::domain::invoice_item::{
    Description, ItemInput, ItemPatch, ItemType, Quantity, UnitPrice, extended_price_too_large,
};
use crate::domain::metadata::{MAX_KEYS, Metadata, MetadataChange, MetadataError};

/// Fields of Stripe's item that this server does not implement: refused by name, never
/// dropped.
const UNSUPPORTED: [&str; 5] = [
    "discountable",
    "discounts",
    "tax_rates",
    "tax_behavior",
    "unit_amount_decimal",
];

/// What `price_data` may not hold here.
const UNSUPPORTED_PRICE_DATA: [&str; 6] = [
    "unit_amount_decimal",
    "tax_behavior",
    "tiers",
    "tiers_mode",
    "transform_quantity",
    "custom_unit_amount",
];

/// A unit amount, and where it was given.
#[derive(Debug, Clone, Copy)]
enum GivenUnit {
    /// In minor units, by `param`.
    Minor {
        minor_units: i64,
        param: &'static str,
    },
    /// Exactly, signed, from another item's own price.
    OfPrice(Decimal),
}

/// The parameters of a create or an update, read but not yet combined.
#[derive(Debug, Clone, Default)]
pub struct ItemParams {
    /// `customer` (create).
    pub customer: Option<CustomerId>,
    /// `currency`, or `price_data[currency]`, or the `price`'s.
    pub currency: Option<Currency>,
    /// The parameter that gave the currency.
    currency_param: &'static str,
    /// `invoice` (create).
    pub invoice: Option<InvoiceId>,
    /// `price`: the id of another item's own price, whose figures this item takes.
    pub price: Option<String>,
    amount: Option<i64>,
    unit: Option<GivenUnit>,
    quantity: Option<i64>,
    /// `price_data[product]`: `Some(None)` clears it.
    product: Option<Option<ProductId>>,
    description: Option<Option<Description>>,
    metadata: Option<MetadataChange>,
    period: Option<Option<(DateTime<Utc>, DateTime<Utc>)>>,
    subscription: Option<SubscriptionId>,
    date: Option<DateTime<Utc>>,
}

/// Which call the parameters are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `POST /v1/invoiceitems`.
    Create,
    /// `POST /v1/invoiceitems/{id}`.
    Update,
}

impl ItemParams {
    /// Reads every parameter of `call`, naming each bad one in `reader`.
    pub fn read(reader: &mut Reader, call: Call) -> Self {
        let mut params = Self::default();
        reader.refuse_unsupported(&UNSUPPORTED);
        let amount_given = ["amount", "unit_amount", "price", "price_data"]
            .iter()
            .any(|key| reader.has(key));
        if call == Call::Create {
            params.customer = reader.required("customer", CustomerId::parse);
            params.invoice = reader.parsed("invoice", InvoiceId::parse);
            params.currency = reader
                .text("currency")
                .and_then(|text| currency(reader, "currency", &text));
            params.currency_param = "currency";
            params.subscription = reader.parsed("subscription", SubscriptionId::parse);
            params.date = reader
                .integer("date")
                .and_then(|seconds| timestamp(reader, "date", seconds));
            if let Some(clock) = reader.text("test_clock") {
                reader.reject(Bad::coded(
                    "test_clock",
                    "resource_missing",
                    format!("names no test clock ({clock:?}): this server has none"),
                ));
            }
        }
        params.amount = reader.integer("amount");
        params.unit = reader
            .integer("unit_amount")
            .map(|minor_units| GivenUnit::Minor {
                minor_units,
                param: "unit_amount",
            });
        params.quantity = reader.integer("quantity");
        if let Some(quantity) = params.quantity
            && Quantity::parse(quantity).is_err()
        {
            reader.reject_key("quantity", "must be between 0 and 1000000000");
        }
        params.price = reader.text("price");
        params.read_price_data(reader);
        params.description = reader.text("description").map(|text| {
            if text.is_empty() {
                return None;
            }
            Description::parse(text)
                .map_err(|message| reader.reject_key("description", message))
                .ok()
        });
        params.metadata = read_metadata(reader);
        params.period = reader.object("period").map(|period| {
            let mut period = period?;
            let start = period.integer("start");
            let end = period.integer("end");
            let [start, end] =
                [("start", start), ("end", end)].map(|(key, seconds)| match seconds {
                    Some(seconds) => timestamp(&mut period, key, seconds),
                    None => {
                        let name = period.name(key);
                        period.reject(Bad::missing(&name));
                        None
                    }
                });
            let both = start.zip(end);
            if let Some((start, end)) = both
                && end < start
            {
                period.reject_key("end", "must not be before period[start]");
            }
            reader.adopt(period);
            both
        });
        if params.price.is_some() && (params.unit.is_some() || params.product.is_some()) {
            reader.reject(Bad::coded(
                "price",
                "parameters_exclusive",
                "cannot be given with unit_amount or price_data",
            ));
        }
        if call == Call::Create && !amount_given {
            reader.reject(Bad::missing("amount"));
        }
        params
    }

    fn read_price_data(&mut self, reader: &mut Reader) {
        let mut data = match reader.object("price_data") {
            Some(Some(data)) => data,
            Some(None) => {
                reader.reject_key("price_data", "must be an object (price_data[key]=value)");
                return;
            }
            None => return,
        };
        data.refuse_unsupported(&UNSUPPORTED_PRICE_DATA);
        if let Some(text) = data.text("currency") {
            let name = data.name("currency");
            if let Some(given) = currency(&mut data, "currency", &text) {
                match self.currency {
                    Some(currency) if currency != given => {
                        data.reject(Bad::invalid(&name, "must be the item's currency"))
                    }
                    _ => {
                        self.currency = Some(given);
                        self.currency_param = "price_data[currency]";
                    }
                }
            }
        }
        self.product = data.text("product").map(|text| {
            if text.is_empty() {
                return None;
            }
            id(&mut data, "product", ProductId::parse(&text))
        });
        if let Some(minor_units) = data.integer("unit_amount") {
            if self.unit.is_some() {
                data.reject(Bad::coded(
                    "price_data[unit_amount]",
                    "parameters_exclusive",
                    "cannot be given with unit_amount",
                ));
            }
            self.unit = Some(GivenUnit::Minor {
                minor_units,
                param: "price_data[unit_amount]",
            });
        }
        reader.adopt(data);
    }

    /// Takes the figures of another item's own price (`price`): its signed unit amount,
    /// currency and product.
    pub fn take_price(
        &mut self,
        unit: Decimal,
        currency: Currency,
        product: Option<ProductId>,
    ) -> Result<(), Bad> {
        if self.currency.is_some_and(|given| given != currency) {
            return Err(Bad::invalid(
                self.currency_param,
                "must be the currency of the price",
            ));
        }
        self.currency = Some(currency);
        self.currency_param = "price";
        self.product = Some(product);
        self.unit = Some(GivenUnit::OfPrice(unit));
        Ok(())
    }

    /// `Ok` unless the parameters name another currency than `currency` (the invoice's, or
    /// the item's own on an update), naming the parameter that did.
    pub fn check_currency(&self, currency: Currency) -> Result<(), super::error::StripeError> {
        match self.currency {
            Some(given) if given != currency => Err(Bad::invalid(
                self.currency_param,
                format!(
                    "must be {}, the currency of the invoice or item",
                    currency.code().to_ascii_lowercase()
                ),
            )
            .into()),
            _ => Ok(()),
        }
    }

    /// The core's input in `currency`, from these parameters over `current` (an update's
    /// item as it stands; `None` on a create). The amount rules:
    /// - the unit amount is `unit_amount` (or `price_data[unit_amount]`, or the `price`'s);
    ///   without one, `amount / quantity`, which must then be whole; on an update without
    ///   either, the item's own;
    /// - `amount`, when given with a unit amount, must equal `unit_amount * quantity`;
    /// - a negative unit amount (or amount) makes a credit of its size;
    /// - `quantity` defaults to the item's own, else 1.
    pub fn input(
        self,
        currency: Currency,
        current: Option<ItemInput>,
    ) -> Result<ItemInput, Vec<Bad>> {
        let mut bad = Vec::new();
        let current_unit = current
            .as_ref()
            .map(|input| super::wire::signed_unit_price(input.item_type, input.unit_price));
        let quantity = self
            .quantity
            .or(current.as_ref().map(|input| input.quantity.get()))
            .unwrap_or(1);
        let given_unit = self.unit.map(|unit| match unit {
            GivenUnit::Minor { minor_units, param } => {
                (currency.amount_of_minor_units(minor_units), param)
            }
            GivenUnit::OfPrice(amount) => (amount, "price"),
        });
        let amount = self
            .amount
            .map(|amount| currency.amount_of_minor_units(amount));
        let unit = match (given_unit, amount) {
            (Some((unit, param)), Some(amount)) => {
                let expected = unit * Decimal::from(quantity);
                if amount != expected {
                    bad.push(Bad::invalid(
                        "amount",
                        format!(
                            "must equal unit_amount * quantity ({})",
                            super::words::minor_text(currency, expected)
                        ),
                    ));
                }
                Some((unit, param))
            }
            (Some(unit), None) => Some(unit),
            (None, Some(amount)) if quantity == 0 => {
                if !amount.is_zero() {
                    bad.push(Bad::invalid("amount", "must be 0 when quantity is 0"));
                }
                Some((current_unit.unwrap_or(Decimal::ZERO), "amount"))
            }
            (None, Some(amount)) => {
                let unit = amount / Decimal::from(quantity);
                if currency.minor_units_of(unit).is_none() {
                    bad.push(Bad::invalid(
                        "amount",
                        format!(
                            "must be a whole multiple of quantity ({quantity}) without unit_amount"
                        ),
                    ));
                }
                Some((unit, "amount"))
            }
            (None, None) => match current_unit {
                Some(unit) => Some((unit, "unit_amount")),
                None => {
                    bad.push(Bad::missing("amount"));
                    None
                }
            },
        };
        let item_type = match unit {
            Some((unit, _)) if unit.is_sign_negative() && !unit.is_zero() => ItemType::Credit,
            _ if amount.is_some_and(|amount| amount.is_sign_negative() && !amount.is_zero()) => {
                ItemType::Credit
            }
            _ => ItemType::Debit,
        };
        let unit_price = unit.and_then(|(unit, param)| {
            UnitPrice::parse(unit.abs())
                .map_err(|message| {
                    bad.push(Bad::invalid(param, format!("{message} in major units")));
                })
                .ok()
        });
        let quantity = Quantity::parse(quantity).ok();
        if let (Some(unit_price), Some(quantity)) = (unit_price, quantity)
            && extended_price_too_large(unit_price, quantity)
        {
            bad.push(Bad::invalid(
                "quantity",
                "makes the amount larger than 1000000000000 in major units",
            ));
        }
        let patch = match (unit_price, quantity) {
            (Some(unit_price), Some(quantity)) => ItemPatch {
                item_type,
                unit_price,
                quantity,
                description: self.description,
                product_id: self.product,
                period: self.period,
                metadata: self.metadata,
                subscription_id: self.subscription,
                date: self.date,
            },
            _ => {
                // Named with the others, though the item cannot be made.
                if let Some(change) = self.metadata {
                    let current = current.and_then(|input| input.extras).unwrap_or_default();
                    if let Err(error) = current.metadata.changed(change) {
                        bad.push(metadata_bad(&error));
                    }
                }
                return Err(bad);
            }
        };
        match ItemInput::patched(current, patch) {
            Ok(input) if bad.is_empty() => Ok(input),
            Ok(_) => Err(bad),
            Err(error) => {
                bad.push(metadata_bad(&error));
                Err(bad)
            }
        }
    }
}

fn metadata_bad(error: &MetadataError) -> Bad {
    let param = match error {
        MetadataError::ValueTooLong(key) => format!("metadata[{key}]"),
        MetadataError::KeyTooLong(_)
        | MetadataError::KeyWithBracket(_)
        | MetadataError::EmptyKey
        | MetadataError::TooManyKeys => "metadata".to_owned(),
    };
    Bad::invalid(&param, error.to_string())
}

/// The metadata of an object being made: its `metadata[key]=value` pairs, within the limits.
pub(super) fn new_metadata(reader: &mut Reader) -> Metadata {
    let Some(change) = read_metadata(reader) else {
        return Metadata::default();
    };
    Metadata::default()
        .changed(change)
        .map_err(|error| reader.reject(metadata_bad(&error)))
        .unwrap_or_default()
}

/// `metadata[key]=value` pairs (an empty value removes the key), or `metadata=` (every key).
pub fn read_metadata(reader: &mut Reader) -> Option<MetadataChange> {
    let mut metadata = match reader.object("metadata")? {
        None => return Some(MetadataChange::Clear),
        Some(metadata) => metadata,
    };
    let given = metadata.drain();
    // Counted as given, removals too: the contract's limit is on what a request sends.
    if given.len() > MAX_KEYS {
        let name = reader.name("metadata");
        reader.reject(Bad::invalid(
            &name,
            format!("may have at most {MAX_KEYS} keys"),
        ));
        return None;
    }
    let mut pairs = Vec::new();
    for (key, value) in given {
        let value = match value {
            serde_json::Value::String(text) => text,
            serde_json::Value::Null => String::new(),
            _ => {
                metadata.reject_key(&key, "must be a string");
                continue;
            }
        };
        pairs.push((key, (!value.is_empty()).then_some(value)));
    }
    reader.adopt(metadata);
    Some(MetadataChange::Merge(pairs))
}

fn id<T>(reader: &mut Reader, key: &str, parsed: Result<T, IdError>) -> Option<T> {
    parsed
        .map_err(|error| reader.reject_key(key, error.to_string()))
        .ok()
}

/// A three-letter ISO 4217 code, in either case (Stripe shows it lower-case).
pub fn currency(reader: &mut Reader, key: &str, text: &str) -> Option<Currency> {
    Currency::parse(&text.to_ascii_uppercase())
        .map_err(|_| {
            reader.reject_key(
                key,
                "must be a three-letter ISO 4217 currency code with a minor unit, such as usd",
            );
        })
        .ok()
}

/// Unix seconds, from 1970 to the end of the year 9999.
pub fn timestamp(reader: &mut Reader, key: &str, seconds: i64) -> Option<DateTime<Utc>> {
    (0..=MAX_UNIX_SECONDS)
        .contains(&seconds)
        .then(|| DateTime::from_timestamp(seconds, 0))
        .flatten()
        .or_else(|| {
            reader.reject_key(key, "must be Unix seconds from 0 to 253402300799");
            None
        })
}

/// `key=<seconds>` or `key[gt|gte|lt|lte]=<seconds>`, as a range of times: from (at or
/// after), and before.
pub fn time_range(
    reader: &mut Reader,
    key: &str,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let one_second = chrono::TimeDelta::seconds(1);
    if !reader.has(key) {
        return (None, None);
    }
    if !reader.is_object(key) {
        let time = reader
            .integer(key)
            .and_then(|seconds| timestamp(reader, key, seconds));
        return (time, time.map(|time| time + one_second));
    }
    let Some(Some(mut range)) = reader.object(key) else {
        return (None, None);
    };
    let bound = |range: &mut Reader, key: &str| {
        let seconds = range.integer(key)?;
        timestamp(range, key, seconds)
    };
    let gt = bound(&mut range, "gt").map(|time| time + one_second);
    let gte = bound(&mut range, "gte");
    let lt = bound(&mut range, "lt");
    let lte = bound(&mut range, "lte").map(|time| time + one_second);
    reader.adopt(range);
    (
        gt.into_iter().chain(gte).max(),
        lt.into_iter().chain(lte).min(),
    )
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

    use crate::http::stripe::param_schemas::{currency, expansions, metadata, timestamp};

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
}

pub use self::contract::{ItemCreateParams, ItemUpdateParams, PeriodParams, PriceDataParams};
