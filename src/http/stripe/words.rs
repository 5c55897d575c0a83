//! The core's values in this dialect's words, for its objects and its error messages alike:
//! an invoice's status, an exact amount in minor units.

use rust_decimal::Decimal;

use crate::domain::currency::Currency;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::money::normalized_text;

/// An invoice's status in Stripe's words.
pub(super) fn status(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "draft",
        InvoiceStatus::Unpaid | InvoiceStatus::PartiallyPaid | InvoiceStatus::PastDue => "open",
        // Stripe keeps a refunded invoice paid: its refunds live on the charge.
        InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded => "paid",
        InvoiceStatus::Voided => "void",
        InvoiceStatus::Abandoned => "uncollectible",
    }
}

/// An amount in minor units, exactly, as Stripe's `*_decimal` texts show it (`"33.3"`).
pub fn minor_text(currency: Currency, amount: Decimal) -> String {
    let scale = Decimal::from(10_i64.pow(currency.minor_units()));
    normalized_text(amount * scale)
}

/// An amount in minor units; whole by the pricing rule (every figure is rounded to the
/// currency's minor unit).
pub fn whole_minor_units(currency: Currency, amount: Decimal) -> i64 {
    currency.minor_units_of(amount).unwrap_or_default()
}
