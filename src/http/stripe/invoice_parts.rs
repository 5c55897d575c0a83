//! The smaller objects inside Stripe's invoice and its lines: the customer's address and
//! shipping, tax numbers, tax and discount amounts, and the settings Stripe always shows.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::words::whole_minor_units;
use crate::domain::contact::{ContactAddress, TaxIdKind, TaxIdNumber};
use crate::domain::currency::Currency;
use crate::domain::invoice_item::{InvoiceItem, ItemType};
use crate::domain::organization::ContactPoint;
use crate::domain::text::BoundedText;

/// A postal address as Stripe writes one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeAddress)]
pub struct Address {
    city: Option<String>,
    /// Two-letter ISO country code.
    country: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    postal_code: Option<String>,
    /// The region: a state, county, province or prefecture.
    state: Option<String>,
}

impl Address {
    /// The address part of a contact.
    pub fn of(contact: &ContactAddress) -> Self {
        Self {
            city: text(&contact.city),
            country: contact
                .country
                .as_ref()
                .map(|code| code.as_str().to_owned()),
            line1: text(&contact.address),
            line2: text(&contact.address2),
            postal_code: text(&contact.postal_code),
            state: text(&contact.region),
        }
    }
}

/// Where an invoice's goods go: its delivery address.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeShipping)]
pub struct Shipping {
    address: Address,
    /// Always null: no carrier is recorded here.
    carrier: Option<String>,
    /// The recipient: the person's name, else the company's; empty when the address has neither.
    name: String,
    phone: Option<String>,
    /// Always null: no tracking number is recorded here.
    tracking_number: Option<String>,
}

impl Shipping {
    /// The delivery address as Stripe's shipping.
    pub fn of(contact: &ContactAddress) -> Self {
        Self {
            address: Address::of(contact),
            carrier: None,
            name: name(contact).unwrap_or_default(),
            phone: first_choice(&contact.phone_numbers),
            tracking_number: None,
        }
    }
}

/// The person's name (first and last), else the company's.
pub fn name(contact: &ContactAddress) -> Option<String> {
    let parts: Vec<&str> = [&contact.first_name, &contact.last_name]
        .into_iter()
        .flatten()
        .map(BoundedText::as_str)
        .collect();
    if parts.is_empty() {
        text(&contact.organization)
    } else {
        Some(parts.join(" "))
    }
}

/// The primary email or phone number, else the first.
pub fn first_choice(points: &[ContactPoint]) -> Option<String> {
    points
        .iter()
        .find(|point| point.primary)
        .or_else(|| points.first())
        .map(|point| point.value.as_str().to_owned())
}

fn text<const MAX: usize>(value: &Option<BoundedText<MAX>>) -> Option<String> {
    value.as_ref().map(|value| value.as_str().to_owned())
}

/// A customer's tax number as an invoice shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeInvoiceTaxId)]
pub struct CustomerTaxId {
    /// `eu_vat`, or `unknown` for any other kind: numbers here are not told apart further.
    #[serde(rename = "type")]
    kind: &'static str,
    value: Option<String>,
}

impl CustomerTaxId {
    /// The number in Stripe's words.
    pub fn of(number: &TaxIdNumber) -> Self {
        Self {
            kind: match number.kind {
                TaxIdKind::EuVat => "eu_vat",
                TaxIdKind::Other => "unknown",
            },
            value: Some(number.value.as_str().to_owned()),
        }
    }
}

/// What one tax gives, on a line or over the invoice. Taxes here are exclusive: they are
/// added to the price less its discount, never part of it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeTaxAmount)]
pub struct TaxAmount {
    amount: i64,
    inclusive: bool,
    /// Always null: taxes here come from the invoice's rates or are set by hand on an item,
    /// not from tax rate objects.
    tax_rate: Option<String>,
    /// Always null: Stripe gives a reason only with its own tax calculation.
    taxability_reason: Option<String>,
    /// What the tax was levied on: a line's price less its discount; null over the invoice,
    /// whose figures count untaxed items too.
    taxable_amount: Option<i64>,
}

impl TaxAmount {
    /// An invoice's tax, when it has one: a single figure, the sum of its items' taxes.
    pub fn of_invoice(currency: Currency, tax_amount: Decimal) -> Vec<Self> {
        if tax_amount.is_zero() {
            return Vec::new();
        }
        vec![Self {
            amount: whole_minor_units(currency, tax_amount),
            inclusive: false,
            tax_rate: None,
            taxability_reason: None,
            taxable_amount: None,
        }]
    }

    /// An item's tax, when it has one, and what it was levied on.
    pub fn of_item(currency: Currency, item: &InvoiceItem) -> Vec<Self> {
        let Some(tax) = &item.tax else {
            return Vec::new();
        };
        let price = match item.item_type {
            ItemType::Debit => item.price,
            ItemType::Credit => -item.price,
        };
        vec![Self {
            amount: whole_minor_units(currency, tax.amount()),
            inclusive: false,
            tax_rate: None,
            taxability_reason: None,
            taxable_amount: Some(whole_minor_units(currency, price - item.discount_amount)),
        }]
    }
}

/// What one discount took off, on a line or over the invoice.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeDiscountAmount)]
pub struct DiscountAmount {
    amount: i64,
    /// Always null: discounts here are set on the invoice, not made from coupons.
    discount: Option<String>,
}

impl DiscountAmount {
    /// `amount` taken off.
    pub fn new(currency: Currency, amount: Decimal) -> Self {
        Self {
            amount: whole_minor_units(currency, amount),
            discount: None,
        }
    }

    /// An item's share of the invoice's discounts, when it has one.
    pub fn of_item(currency: Currency, item: &InvoiceItem) -> Vec<Self> {
        if item.discount_amount.is_zero() {
            Vec::new()
        } else {
            vec![Self::new(currency, item.discount_amount)]
        }
    }
}

/// Stripe's automatic tax, always off here: taxes come from the invoice's own rates.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeAutomaticTax)]
pub struct AutomaticTax {
    enabled: bool,
    #[schema(value_type = Option<Object>)]
    liability: Option<()>,
    status: Option<String>,
}

impl AutomaticTax {
    /// Off.
    pub const OFF: Self = Self {
        enabled: false,
        liability: None,
        status: None,
    };
}

/// Who issues the invoice: always the caller's own organization.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeIssuer)]
pub struct Issuer {
    /// Always `self`.
    #[serde(rename = "type")]
    kind: &'static str,
}

impl Issuer {
    /// The caller's own organization.
    pub const SELF: Self = Self { kind: "self" };
}

/// How Stripe would collect a payment; nothing is set, as this server charges no card.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripePaymentSettings)]
pub struct PaymentSettings {
    default_mandate: Option<String>,
    #[schema(value_type = Option<Object>)]
    payment_method_options: Option<()>,
    payment_method_types: Option<Vec<String>>,
}

impl PaymentSettings {
    /// Nothing set.
    pub const UNSET: Self = Self {
        default_mandate: None,
        payment_method_options: None,
        payment_method_types: None,
    };
}
