//! The body of an item's create and replacement: read field by field, naming every bad field,
//! and described to the contract from the same constants the reader checks.

use rust_decimal::Decimal;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use super::fields::{FieldReader, RawObject, date_time, integer, number, string};
use super::item_vat::{item_vat_schema, parse_item_vat};
use super::openapi::schema::{
    self, any_of, closed_object, id, named_schema, null, nullable, one_of, present, text,
    with_read_only,
};
use crate::domain::ids::ProductId;
use crate::domain::invoice_item::{
    Description, ItemInput, ItemType, MAX_QUANTITY, MAX_UNIT_PRICE, MAX_UNIT_PRICE_PLACES,
    PeriodNumber, Quantity, UnitPrice, extended_price_too_large, period_is_reversed,
};
use crate::domain::money::MAX_EXTENDED_PRICE;
use crate::domain::tax::{ManualTax, TaxAmount, TaxDescription};
use crate::error::ApiError;

/// Read-only fields of Rebilly's InvoiceItem: accepted and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "price",
    "planId",
    "subscriptionId",
    "discountAmount",
    "createdTime",
    "updatedTime",
    "_links",
    "_embedded",
];

/// Computed fields of a TaxItem. A `tax` carrying any of them with a value is one the client
/// read back from a computed tax, and is ignored; with `null`s it is a manual tax read back.
const COMPUTED_TAX: &[&str] = &[
    "rate",
    "stateAmount",
    "countyAmount",
    "cityAmount",
    "specialDistrictAmount",
    "stateRate",
    "countyRate",
    "cityRate",
    "specialDistrictRate",
    "jurisdictions",
];

/// Turns a request body into an item input, naming every bad field at once.
pub(super) fn parse_item(body: RawObject) -> Result<ItemInput, ApiError> {
    let mut fields = FieldReader::new(body);
    let item_type = fields.required("type", |raw| {
        ItemType::parse(&string(raw)?).map_err(str::to_owned)
    });
    let description = fields.optional("description", |raw| Description::parse(string(raw)?));
    let unit_price = fields.required("unitPrice", |raw| UnitPrice::parse(number(raw)?));
    let quantity = fields.optional("quantity", |raw| Quantity::parse(integer(raw)?));
    let product_id = fields.optional("productId", |raw| {
        ProductId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let period_start_time = fields.optional("periodStartTime", date_time);
    let period_end_time = fields.optional("periodEndTime", date_time);
    let period_number = fields.optional("periodNumber", |raw| PeriodNumber::parse(integer(raw)?));
    let tax = parse_tax(&mut fields);
    let vat = parse_item_vat(&mut fields);

    if period_is_reversed(period_start_time, period_end_time) {
        fields.reject("periodEndTime", "must not be before periodStartTime");
    }
    let quantity = quantity.unwrap_or(Quantity::DEFAULT);
    if let Some(unit_price) = unit_price
        && extended_price_too_large(unit_price, quantity)
    {
        fields.reject(
            "quantity",
            "makes unitPrice * quantity larger than 1000000000000",
        );
    }
    if item_type == Some(ItemType::Credit) && tax.is_some() {
        fields.reject(
            "tax",
            "must not be a manual tax on a credit item: credits are not taxed",
        );
    }
    if tax.is_some() && vat.is_some() {
        fields.reject(
            "vat",
            "must be absent on an item with a manual tax, which stays outside the VAT groups",
        );
    }
    fields.finish(READ_ONLY)?;
    match (item_type, unit_price) {
        (Some(item_type), Some(unit_price)) => Ok(ItemInput {
            item_type,
            description,
            unit_price,
            quantity,
            product_id,
            period_start_time,
            period_end_time,
            period_number,
            tax,
            vat,
            extras: None,
        }),
        // `finish` has refused every missing required field.
        _ => Err(ApiError::validation(Vec::new())),
    }
}

fn parse_tax(fields: &mut FieldReader) -> Option<ManualTax> {
    let mut tax = fields.optional_object("tax")?;
    if COMPUTED_TAX.iter().any(|name| tax.has_value(name)) {
        return None;
    }
    let amount = tax.required("amount", |raw| TaxAmount::parse(number(raw)?));
    let description = tax.required("description", |raw| TaxDescription::parse(string(raw)?));
    fields.adopt(tax, COMPUTED_TAX);
    Some(ManualTax::new(amount?, description?))
}

/// The contract's example of an item body.
pub(super) fn item_example() -> serde_json::Value {
    serde_json::json!({"type": "debit", "description": "Consulting hours", "unitPrice": 120.5, "quantity": 3})
}

named_schema!(
    /// The body of `POST /invoices/{id}/items` and `PUT /invoices/{id}/items/{itemId}`.
    ItemRequest => any_of([
        item(ItemType::Debit).into(),
        item(ItemType::Credit).into(),
    ])
    .description(Some(
        "An invoice item. Also checked: `unitPrice` × `quantity` is at most 1000000000000; \
         `periodEndTime` is not before `periodStartTime`; `productId` names a product of the \
         organization; a manual `tax.amount` has at most the invoice currency's decimals; `vat` \
         and a manual `tax` are not given together.",
    ))
    .into()
);

fn item(item_type: ItemType) -> ObjectBuilder {
    let tax = match item_type {
        ItemType::Debit => any_of([manual_tax().into(), tax_read_back(), null().into()]),
        // Credits are not taxed: only a tax read back (and ignored) may come with one.
        ItemType::Credit => any_of([tax_read_back(), null().into()]),
    };
    let object = closed_object(
        &["type", "unitPrice"],
        [
            ("type", one_of([item_type.as_str()]).into()),
            ("description", nullable(text(Description::MAX_CHARS)).into()),
            (
                "unitPrice",
                schema::number(Decimal::ZERO, MAX_UNIT_PRICE)
                    .description(Some(format!(
                        "At most {MAX_UNIT_PRICE_PLACES} decimal places."
                    )))
                    .into(),
            ),
            (
                "quantity",
                nullable(schema::integer(0, MAX_QUANTITY))
                    .description(Some("1 when absent or null."))
                    .into(),
            ),
            (
                "productId",
                nullable(id())
                    .description(Some("A product of the organization (422 otherwise)."))
                    .into(),
            ),
            ("periodStartTime", nullable(schema::date_time()).into()),
            (
                "periodEndTime",
                nullable(schema::date_time())
                    .description(Some("Not before `periodStartTime`."))
                    .into(),
            ),
            (
                "periodNumber",
                nullable(schema::integer(0, i32::MAX.into())).into(),
            ),
            ("tax", tax.into()),
            ("vat", item_vat_schema().into()),
        ],
    )
    .title(Some(format!("{} item", item_type.as_str())));
    with_read_only(object, READ_ONLY)
}

/// A tax set by hand: its computed fields are absent or `null`.
fn manual_tax() -> ObjectBuilder {
    let computed = COMPUTED_TAX.iter().map(|name| (*name, null().into()));
    closed_object(
        &["amount", "description"],
        [
            (
                "amount",
                schema::number(Decimal::ZERO, MAX_EXTENDED_PRICE)
                    .description(Some("At most the invoice currency's decimal places."))
                    .into(),
            ),
            ("description", text(TaxDescription::MAX_CHARS).into()),
        ]
        .into_iter()
        .chain(computed),
    )
    .title(Some("Manual tax"))
}

/// A computed tax read back: any object with a computed field set, ignored (the invoice's
/// calculator computes the tax again).
fn tax_read_back() -> RefOr<Schema> {
    any_of(COMPUTED_TAX.iter().map(|name| {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .required(*name)
            .property(*name, present())
            .into()
    }))
    .description(Some(
        "A computed tax read back (a computed field is set): ignored, and computed again.",
    ))
    .into()
}
