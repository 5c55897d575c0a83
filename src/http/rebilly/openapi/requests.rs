//! The request bodies' schemas. Bodies are read field by field (`fields.rs`), so each schema
//! is written here from the same constants the readers check: lengths, ranges, enums, which
//! fields are read-only, and which are unknown (`additionalProperties: false`). Rules that
//! JSON Schema cannot state are in the descriptions.

use std::borrow::Cow;

use rust_decimal::Decimal;
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::schema::{
    any_of, closed_object, date_time, id, integer, null, nullable, nullable_array, number, one_of,
    positive_number, present, read_only, text, with_read_only,
};
use crate::domain::contact::TaxIdKind;
use crate::domain::currency::Currency;
use crate::domain::discount::{
    DiscountDescription, DiscountKind, MAX_DISCOUNTS, MAX_PERCENT_PLACES,
};
use crate::domain::event::{CommentText, EventType};
use crate::domain::invoice::{Notes, PoNumber};
use crate::domain::invoice_item::{
    Description, ItemType, MAX_QUANTITY, MAX_UNIT_PRICE, MAX_UNIT_PRICE_PLACES,
};
use crate::domain::money::MAX_EXTENDED_PRICE;
use crate::domain::organization::MAX_CONTACT_POINTS;
use crate::domain::product::{MAX_NAME_CHARS, ProductDescription, UnitLabel};
use crate::domain::tax::{JurisdictionName, MAX_RATE_PLACES, TaxDescription};
use crate::domain::webhook::{MAX_HEADER_LENGTH, MAX_HEADERS, MAX_URL_LENGTH};
use crate::http::rebilly::{invoice_items, invoices, organizations, products, timeline, webhooks};

macro_rules! request_schema {
    ($(#[$meta:meta])* $name:ident => $build:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T($build)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

request_schema!(
    /// The body of `POST /invoices/{id}/items` and `PUT /invoices/{id}/items/{itemId}`.
    ItemRequest => any_of([
        item(ItemType::Debit).into(),
        item(ItemType::Credit).into(),
    ])
    .description(Some(
        "An invoice item. Also checked: `unitPrice` × `quantity` is at most 1000000000000; \
         `periodEndTime` is not before `periodStartTime`; `productId` names a product of the \
         organization; a manual `tax.amount` has at most the invoice currency's decimals.",
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
                number(Decimal::ZERO, MAX_UNIT_PRICE)
                    .description(Some(format!(
                        "At most {MAX_UNIT_PRICE_PLACES} decimal places."
                    )))
                    .into(),
            ),
            (
                "quantity",
                nullable(integer(0, MAX_QUANTITY))
                    .description(Some("1 when absent or null."))
                    .into(),
            ),
            (
                "productId",
                nullable(id())
                    .description(Some("A product of the organization (422 otherwise)."))
                    .into(),
            ),
            ("periodStartTime", nullable(date_time()).into()),
            (
                "periodEndTime",
                nullable(date_time())
                    .description(Some("Not before `periodStartTime`."))
                    .into(),
            ),
            ("periodNumber", nullable(integer(0, i32::MAX.into())).into()),
            ("tax", tax.into()),
        ],
    )
    .title(Some(format!("{} item", item_type.as_str())));
    with_read_only(object, invoice_items::READ_ONLY)
}

/// A tax set by hand: its computed fields are absent or `null`.
fn manual_tax() -> ObjectBuilder {
    let computed = invoice_items::COMPUTED_TAX
        .iter()
        .map(|name| (*name, null().into()));
    closed_object(
        &["amount", "description"],
        [
            (
                "amount",
                number(Decimal::ZERO, MAX_EXTENDED_PRICE)
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
    any_of(invoice_items::COMPUTED_TAX.iter().map(|name| {
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

request_schema!(
    /// The body of `POST /invoices` and `PUT /invoices/{id}`.
    InvoiceRequest => {
        let object = closed_object(
            &["customerId", "websiteId", "currency"],
            [
                ("customerId", id().into()),
                ("websiteId", id().into()),
                ("currency", one_of(Currency::codes()).into()),
                ("dueTime", nullable(date_time()).into()),
                ("notes", nullable(text(Notes::MAX_CHARS)).into()),
                ("poNumber", nullable(text(PoNumber::MAX_CHARS)).into()),
                ("discounts", discounts()),
                ("tax", tax_settings()),
                ("billingAddress", contact_object().into()),
                ("deliveryAddress", contact_object().into()),
                ("organizationTaxIdNumber", tax_id_number().into()),
                ("customerTaxIdNumber", tax_id_number().into()),
                (
                    "pendingInvoiceItemsBehavior",
                    nullable(one_of(["include", "exclude"]))
                        .description(Some(
                            "`include` moves the customer's pending items of the invoice's currency onto the draft; `exclude`, the default, leaves them pending.",
                        ))
                        .into(),
                ),
            ],
        )
        .description(Some("An invoice; its items are added through its items."));
        with_read_only(object, invoices::READ_ONLY).into()
    }
);

fn discounts() -> RefOr<Schema> {
    let discount = |kind: DiscountKind, maximum: Decimal, decimals: String| {
        let value = positive_number(maximum).description(Some(decimals));
        closed_object(
            &["type", "value"],
            [
                (
                    "description",
                    nullable(text(DiscountDescription::MAX_CHARS)).into(),
                ),
                ("type", one_of([kind.as_str()]).into()),
                ("value", value.into()),
                ("amount", read_only().into()),
            ],
        )
        .title(Some(format!("{} discount", kind.as_str())))
        .into()
    };
    let element = any_of([
        discount(
            DiscountKind::Percent,
            Decimal::ONE_HUNDRED,
            format!("A percentage: 10 is 10%. At most {MAX_PERCENT_PLACES} decimal places."),
        ),
        discount(
            DiscountKind::Fixed,
            MAX_EXTENDED_PRICE,
            "An amount with at most the invoice currency's decimal places.".to_owned(),
        ),
    ]);
    nullable_array(element, MAX_DISCOUNTS)
        .description(Some(
            "Applied in order, each to what the ones before left; null is none.",
        ))
        .into()
}

fn tax_settings() -> RefOr<Schema> {
    let read_back = || {
        [
            ("amount", read_only().into()),
            ("items", read_only().into()),
        ]
    };
    let manual = closed_object(
        &["calculator"],
        [("calculator", one_of(["manual"]).into())]
            .into_iter()
            .chain(read_back()),
    )
    .title(Some("manual"))
    .description(Some("Each item's tax is set by hand on the item."));
    let rate = || {
        nullable(number(Decimal::ZERO, Decimal::ONE))
            .description(Some(format!(
                "A fraction (0.0625 is 6.25%) with at most {MAX_RATE_PLACES} decimal places; \
                 0 when absent or null."
            )))
            .into()
    };
    let name = || nullable(text(JurisdictionName::MAX_CHARS)).into();
    let jurisdictions = nullable(closed_object(
        &[],
        [
            ("country", name()),
            ("state", name()),
            ("county", name()),
            ("city", name()),
        ],
    ));
    let rates = closed_object(
        &["calculator"],
        [
            ("calculator", one_of(["rates"]).into()),
            ("stateRate", rate()),
            ("countyRate", rate()),
            ("cityRate", rate()),
            ("specialDistrictRate", rate()),
            ("jurisdictions", jurisdictions.into()),
        ]
        .into_iter()
        .chain(read_back()),
    )
    .title(Some("rates"))
    .description(Some(
        "Each debit item is taxed at these rates, on its price after discounts.",
    ));
    any_of([manual.into(), rates.into(), null().into()])
        .description(Some(
            "How the items' taxes are computed; `manual` when absent or null.",
        ))
        .into()
}

request_schema!(
    /// The optional body of `POST /invoices/{id}/issue`.
    IssueRequest => closed_object(
        &[],
        [
            ("issuedTime", nullable(date_time()).description(Some("Now when absent.")).into()),
            (
                "dueTime",
                nullable(date_time())
                    .description(Some("Not before `issuedTime`; kept when absent."))
                    .into(),
            ),
        ],
    )
    .into()
);

request_schema!(
    /// The optional body of `POST /invoices/{id}/void` and `/abandon`: nothing, or `{}`.
    EmptyRequest => closed_object(&[], []).into()
);

request_schema!(
    /// The body of `POST /products`.
    ProductRequest => {
        let name = text(MAX_NAME_CHARS).min_length(Some(1));
        let object = closed_object(
            &["name"],
            [
                ("name", name.into()),
                (
                    "description",
                    nullable(text(ProductDescription::MAX_CHARS)).into(),
                ),
                ("unitLabel", nullable(text(UnitLabel::MAX_CHARS)).into()),
            ],
        );
        with_read_only(object, products::READ_ONLY).into()
    }
);

request_schema!(
    /// The body of `POST /webhooks` and `PUT /webhooks/{id}`.
    WebhookRequest => {
        let active = || nullable(one_of(["active", "inactive"]).default(Some("active".into())));
        let header = closed_object(
            &["name", "value"],
            [
                ("name", text(MAX_HEADER_LENGTH).min_length(Some(1)).into()),
                ("value", text(MAX_HEADER_LENGTH).into()),
                ("status", active().into()),
            ],
        );
        let events = one_of(EventType::SENT.map(EventType::as_str));
        let object = closed_object(
            &["url", "method"],
            [
                ("url", text(MAX_URL_LENGTH).format(Some(SchemaFormat::Custom("uri".into()))).into()),
                ("method", one_of(["GET", "POST", "PUT", "PATCH", "DELETE"]).into()),
                ("status", active().into()),
                ("eventsFilter", nullable_array(events, EventType::SENT.len()).into()),
                ("headers", nullable_array(header, MAX_HEADERS).into()),
                ("body", null().into()),
                ("filter", null().into()),
            ],
        );
        with_read_only(object, webhooks::READ_ONLY)
            .description(Some(
                "A webhook. The URL's host must not resolve to a loopback, private or \
                 link-local address unless the server runs with \
                 WEBHOOK_ALLOW_PRIVATE_NETWORKS=true. `body` and `filter` (Rebilly's templates \
                 and filters) are not supported: only `null`.",
            ))
            .into()
    }
);

request_schema!(
    /// The body of `POST /invoices/{id}/timeline`.
    CommentRequest => {
        let message = text(CommentText::MAX_CHARS).min_length(Some(1)).pattern(Some(NOT_BLANK));
        with_read_only(closed_object(&["message"], [("message", message.into())]), timeline::READ_ONLY).into()
    }
);

/// Text with a character other than white space (and no NUL).
const NOT_BLANK: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";

/// The body of an invoice's PDF document: binary, not JSON.
pub struct PdfDocument;

impl PartialSchema for PdfDocument {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Binary,
                )))
                .description(Some("The invoice as a PDF document."))
                .into(),
        )
    }
}

impl ToSchema for PdfDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PdfDocument")
    }
}

/// A country as ISO 3166-1 alpha-2 writes it, or `null`.
fn country() -> ObjectBuilder {
    nullable(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Z]{2}$")),
    )
}

/// Rebilly's ContactObject: a billing or delivery address, or `null`.
fn contact_object() -> ObjectBuilder {
    let object = closed_object(
        &[],
        [
            ("firstName", nullable(text(45)).into()),
            ("lastName", nullable(text(45)).into()),
            ("organization", nullable(text(255)).into()),
            ("address", nullable(text(60)).into()),
            ("address2", nullable(text(60)).into()),
            ("city", nullable(text(45)).into()),
            ("region", nullable(text(45)).into()),
            ("country", country().into()),
            ("postalCode", nullable(text(10)).into()),
            (
                "emails",
                nullable_array(contact_point(), MAX_CONTACT_POINTS).into(),
            ),
            (
                "phoneNumbers",
                nullable_array(contact_point(), MAX_CONTACT_POINTS).into(),
            ),
        ],
    );
    nullable(object)
}

/// A tax id number shown on the invoice, or `null`.
fn tax_id_number() -> ObjectBuilder {
    let value = text(50).pattern(Some(NOT_BLANK));
    nullable(closed_object(
        &["type", "value"],
        [
            ("type", one_of(TaxIdKind::ALL.map(TaxIdKind::as_str)).into()),
            ("value", value.into()),
        ],
    ))
}

/// An email or phone number of an organization.
fn contact_point() -> ObjectBuilder {
    let value = text(100).pattern(Some(NOT_BLANK));
    closed_object(
        &["value"],
        [
            ("label", nullable(text(45)).into()),
            ("value", value.into()),
            (
                "primary",
                nullable(ObjectBuilder::new().schema_type(Type::Boolean)).into(),
            ),
        ],
    )
    .description(Some(
        "At most one of a list may be `primary`; absent or `null` is `false`.",
    ))
}

request_schema!(
    /// The body of `PATCH /organizations/{organizationId}`: the fields to change; `null`
    /// clears one (`invoiceTimeZone` back to UTC).
    OrganizationRequest => {
        let time_zone = nullable(text(50)).description(Some(
            "An IANA time zone (`America/New_York`, `Europe/London`, `UTC`), in which invoice \
             documents print their dates.",
        ));
        let object = closed_object(
            &[],
            [
                ("name", nullable(text(60)).into()),
                ("address", nullable(text(60)).into()),
                ("address2", nullable(text(60)).into()),
                ("city", nullable(text(45)).into()),
                ("region", nullable(text(45)).into()),
                ("country", country().into()),
                ("postalCode", nullable(text(10)).into()),
                ("emails", nullable_array(contact_point(), MAX_CONTACT_POINTS).into()),
                ("phoneNumbers", nullable_array(contact_point(), MAX_CONTACT_POINTS).into()),
                ("invoiceTimeZone", time_zone.into()),
            ],
        );
        with_read_only(object, organizations::READ_ONLY).into()
    }
);
