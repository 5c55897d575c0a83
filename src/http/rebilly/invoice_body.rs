//! The bodies of an invoice's create and upsert, and of its issue: read field by field, naming
//! every bad field, and described to the contract from the same constants the readers check.

use rust_decimal::Decimal;
use utoipa::openapi::{RefOr, Schema};

use super::contact::{contact_object, electronic_address_schema, parse_parties, tax_id_number};
use super::fields::{FieldReader, RawObject, date_time, number, string};
use super::openapi::schema::{
    self, any_of, closed_object, id, named_schema, nullable, nullable_array, one_of,
    positive_number, read_only, text, with_read_only,
};
use super::tax::{parse_tax_settings, tax_settings};
use crate::domain::contact::BuyerReference;
use crate::domain::currency::Currency;
use crate::domain::discount::{
    Discount, DiscountDescription, DiscountKind, MAX_DISCOUNTS, MAX_PERCENT_PLACES,
};
use crate::domain::ids::{CustomerId, WebsiteId};
use crate::domain::invoice::{InvoiceInput, Notes, PendingItems, PoNumber};
use crate::domain::money::MAX_EXTENDED_PRICE;
use crate::error::ApiError;
use crate::service::invoices::IssueTimes;

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

pub(super) fn parse_issue_times(body: Option<RawObject>) -> Result<IssueTimes, ApiError> {
    let mut fields = FieldReader::new(body.unwrap_or_default());
    let issued_time = fields.optional("issuedTime", date_time);
    let due_time = fields.optional("dueTime", date_time);
    if let (Some(issued), Some(due)) = (issued_time, due_time)
        && due < issued
    {
        fields.reject("dueTime", "must not be before issuedTime");
    }
    fields.finish(&[])?;
    Ok(IssueTimes {
        issued_time,
        due_time,
        open_ended: false,
    })
}

/// Turns a request body into an invoice input, naming every bad field at once.
/// An invoice's fields, and what to do with its customer's pending items
/// (`pendingInvoiceItemsBehavior`).
pub(super) fn parse_invoice(body: RawObject) -> Result<(InvoiceInput, PendingItems), ApiError> {
    let mut fields = FieldReader::new(body);
    let pending = fields
        .optional("pendingInvoiceItemsBehavior", |raw| {
            PendingItems::parse(&string(raw)?).map_err(str::to_owned)
        })
        .unwrap_or_default();
    let (customer_id, website_id, currency) = read_sale(&mut fields);
    let due_time = fields.optional("dueTime", date_time);
    let notes = fields.optional("notes", |raw| Notes::parse(string(raw)?));
    let po_number = fields.optional("poNumber", |raw| PoNumber::parse(string(raw)?));
    let discounts = parse_discounts(&mut fields, currency);
    let tax = parse_tax_settings(&mut fields);
    let parties = parse_parties(&mut fields);
    fields.finish(READ_ONLY)?;
    match (customer_id, website_id, currency) {
        (Some(customer_id), Some(website_id), Some(currency)) => Ok((
            InvoiceInput {
                customer_id,
                website_id,
                currency,
                due_time,
                notes,
                po_number,
                discounts,
                tax,
                parties,
                metadata: None,
                // Rebilly's invoice has no collection method: a replace keeps what /v1 set.
                collection: None,
            },
            pending,
        )),
        // `finish` has refused every missing required field.
        _ => Err(ApiError::validation(Vec::new())),
    }
}

/// `customerId`, `websiteId` and `currency`, each required: who is billed or paid, where the
/// sale was made, and in what money (an invoice's, a transaction's).
pub(super) fn read_sale(
    fields: &mut FieldReader,
) -> (Option<CustomerId>, Option<WebsiteId>, Option<Currency>) {
    let customer_id = fields.required("customerId", |raw| {
        CustomerId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let website_id = fields.required("websiteId", |raw| {
        WebsiteId::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    let currency = fields.required("currency", |raw| {
        Currency::parse(&string(raw)?).map_err(|error| error.to_string())
    });
    (customer_id, website_id, currency)
}

/// `discounts`: `[{description, type, value}]`, at most [`MAX_DISCOUNTS`]; the computed
/// `amount` of a discount read back is ignored. A fixed value is checked against the
/// currency's decimals when the currency is valid.
fn parse_discounts(fields: &mut FieldReader, currency: Option<Currency>) -> Vec<Discount> {
    // With no valid currency, the currency is the error to report, not the decimals.
    let minor_units = currency.map_or(28, Currency::minor_units);
    let mut discounts = Vec::new();
    for mut element in fields.optional_objects("discounts", MAX_DISCOUNTS) {
        let description = element.optional("description", |raw| {
            DiscountDescription::parse(string(raw)?)
        });
        let kind = element.required("type", |raw| {
            DiscountKind::parse(&string(raw)?).map_err(str::to_owned)
        });
        let value = element.required("value", number);
        if let (Some(kind), Some(value)) = (kind, value) {
            match Discount::new(description, kind, value, minor_units) {
                Ok(discount) => discounts.push(discount),
                Err(message) => element.reject("value", message),
            }
        }
        fields.adopt(element, &["amount"]);
    }
    discounts
}

/// The contract's example of an invoice body.
pub(super) fn invoice_example() -> serde_json::Value {
    serde_json::json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD", "discounts": [{"type": "percent", "value": 10, "description": "Loyalty"}], "tax": {"calculator": "rates", "stateRate": 0.0625, "jurisdictions": {"country": "US", "state": "CA"}}})
}

named_schema!(
    /// The body of `POST /invoices` and `PUT /invoices/{id}`.
    InvoiceRequest => {
        let object = closed_object(
            &["customerId", "websiteId", "currency"],
            [
                ("customerId", id().into()),
                ("websiteId", id().into()),
                ("currency", one_of(Currency::codes()).into()),
                ("dueTime", nullable(schema::date_time()).into()),
                ("notes", nullable(text(Notes::MAX_CHARS)).into()),
                ("poNumber", nullable(text(PoNumber::MAX_CHARS)).into()),
                ("discounts", discounts()),
                ("tax", tax_settings()),
                ("billingAddress", contact_object().into()),
                ("deliveryAddress", contact_object().into()),
                ("organizationTaxIdNumber", tax_id_number().into()),
                ("customerTaxIdNumber", tax_id_number().into()),
                (
                    "buyerReference",
                    nullable(text(BuyerReference::MAX_CHARS))
                        .description(Some(
                            "What the buyer asks its invoices to quote, such as a German Leitweg-ID: the e-invoice's buyer reference (BT-10).",
                        ))
                        .into(),
                ),
                (
                    "customerElectronicAddress",
                    electronic_address_schema()
                        .description(Some(
                            "The buyer's address on an e-invoicing network such as Peppol: with the organization's own, the e-invoice declares Peppol BIS Billing 3.0.",
                        ))
                        .into(),
                ),
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
        with_read_only(object, READ_ONLY).into()
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

named_schema!(
    /// The optional body of `POST /invoices/{id}/issue`.
    IssueRequest => closed_object(
        &[],
        [
            ("issuedTime", nullable(schema::date_time()).description(Some("Now when absent.")).into()),
            (
                "dueTime",
                nullable(schema::date_time())
                    .description(Some("Not before `issuedTime`; kept when absent."))
                    .into(),
            ),
        ],
    )
    .into()
);

named_schema!(
    /// The optional body of `POST /invoices/{id}/void` and `/abandon`: nothing, or `{}`.
    EmptyRequest => closed_object(&[], []).into()
);
