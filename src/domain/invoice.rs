//! Invoices: parsed request values, the stored invoice and its totals.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::currency::Currency;
use super::ids::{CustomerId, InvoiceId, WebsiteId};
use super::invoice_item::BoundedText;

/// Notes shown to the customer, at most 65535 characters.
pub type Notes = BoundedText<65535>;
/// A purchase order number, at most 50 characters.
pub type PoNumber = BoundedText<50>;

/// Where an invoice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InvoiceStatus {
    /// Being written; the only status whose items may change.
    Draft,
    /// Issued and awaiting payment.
    Unpaid,
    /// Paid in full.
    Paid,
    /// Paid in part.
    PartiallyPaid,
    /// Not paid by its due time.
    PastDue,
    /// Given up.
    Abandoned,
    /// Cancelled after issue.
    Voided,
}

impl InvoiceStatus {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Unpaid => "unpaid",
            Self::Paid => "paid",
            Self::PartiallyPaid => "partially-paid",
            Self::PastDue => "past-due",
            Self::Abandoned => "abandoned",
            Self::Voided => "voided",
        }
    }

    /// Reads the database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Unpaid,
            Self::Paid,
            Self::PartiallyPaid,
            Self::PastDue,
            Self::Abandoned,
            Self::Voided,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// An invoice as a client asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceInput {
    /// The customer billed.
    pub customer_id: CustomerId,
    /// The website of the sale.
    pub website_id: WebsiteId,
    /// The currency of every amount on the invoice.
    pub currency: Currency,
    /// When payment is due.
    pub due_time: Option<DateTime<Utc>>,
    /// Notes for the customer.
    pub notes: Option<Notes>,
    /// Purchase order number.
    pub po_number: Option<PoNumber>,
}

/// The figures an invoice keeps in step with its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvoiceTotals {
    /// Debit prices minus credit prices.
    pub subtotal_amount: Decimal,
    /// Sum of the discounts.
    pub discount_amount: Decimal,
    /// Sum of the item taxes.
    pub tax_amount: Decimal,
    /// `subtotal - discount + tax`.
    pub amount: Decimal,
    /// What is left to pay: `amount`, as there are no payments yet.
    pub amount_due: Decimal,
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// Its id.
    pub id: InvoiceId,
    /// The customer billed.
    pub customer_id: CustomerId,
    /// The website of the sale.
    pub website_id: WebsiteId,
    /// The currency of every amount.
    pub currency: Currency,
    /// Where it is in its life.
    pub status: InvoiceStatus,
    /// Its figures.
    pub totals: InvoiceTotals,
    /// When payment is due.
    pub due_time: Option<DateTime<Utc>>,
    /// When it was issued.
    pub issued_time: Option<DateTime<Utc>>,
    /// Notes for the customer.
    pub notes: Option<String>,
    /// Purchase order number.
    pub po_number: Option<String>,
    /// Number of changes since creation.
    pub revision: i64,
    /// When it was created.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_their_spelling() {
        for status in [
            InvoiceStatus::Draft,
            InvoiceStatus::PartiallyPaid,
            InvoiceStatus::PastDue,
        ] {
            assert_eq!(InvoiceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(InvoiceStatus::parse("Draft"), None);
    }
}
