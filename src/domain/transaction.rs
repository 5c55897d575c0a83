//! Transactions: money received from a customer or given back, recorded here and applied to
//! invoices in parts. We record payments made elsewhere; we process none.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::currency::Currency;
use super::ids::{CustomerId, InvoiceId, TransactionId, WebsiteId};
use super::spelling::spellings;
use super::text::BoundedText;

/// Which way the money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionType {
    /// The customer paid.
    Sale,
    /// The customer was paid back.
    Refund,
}

spellings! {
    TransactionType {
        Sale => "sale",
        Refund => "refund",
    }
}

/// How the money moved, outside this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    /// Cash.
    Cash,
    /// A check.
    Check,
    /// A bank transfer.
    BankTransfer,
    /// Anything else.
    Other,
}

spellings! {
    PaymentMethod {
        Cash => "cash",
        Check => "check",
        BankTransfer => "bank-transfer",
        Other => "other",
    }
}

/// The largest amount one transaction may record: 1,000,000,000,000, as for one item.
pub const MAX_AMOUNT: Decimal = super::money::MAX_EXTENDED_PRICE;

/// Checks an amount of money moved in `currency`: above zero, at most [`MAX_AMOUNT`], in
/// whole minor units of the currency.
pub fn check_amount(amount: Decimal, currency: Currency) -> Result<Decimal, String> {
    if amount <= Decimal::ZERO {
        return Err("must be greater than 0".to_owned());
    }
    if amount > MAX_AMOUNT {
        return Err(format!("must be at most {MAX_AMOUNT}"));
    }
    let places = currency.minor_units();
    if super::money::decimal_places(amount) > places {
        return Err(format!(
            "must have at most {places} decimal places in {currency}"
        ));
    }
    Ok(amount.normalize())
}

/// A transaction's description, at most 255 characters.
pub type TransactionDescription = BoundedText<255>;

/// A transaction as a client records it.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionInput {
    /// Which way the money moved.
    pub kind: TransactionType,
    /// Who paid or was paid back.
    pub customer_id: CustomerId,
    /// The website of the sale.
    pub website_id: WebsiteId,
    /// The currency of the amount.
    pub currency: Currency,
    /// How much; above zero, in the currency's minor units at most.
    pub amount: Decimal,
    /// How the money moved.
    pub method: PaymentMethod,
    /// A note.
    pub description: Option<TransactionDescription>,
}

/// A stored transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// `txn_` + ULID.
    pub id: TransactionId,
    /// Which way the money moved.
    pub kind: TransactionType,
    /// Who paid or was paid back.
    pub customer_id: CustomerId,
    /// The website of the sale.
    pub website_id: WebsiteId,
    /// The currency of the amount.
    pub currency: Currency,
    /// How much.
    pub amount: Decimal,
    /// How much of it has been applied to invoices.
    pub allocated_amount: Decimal,
    /// How the money moved.
    pub method: PaymentMethod,
    /// A note.
    pub description: Option<String>,
    /// The invoices it was applied to, each once, in the order it was first applied to them;
    /// the first 100.
    pub invoice_ids: Vec<InvoiceId>,
    /// Number of changes since it was recorded.
    pub revision: i64,
    /// When it was recorded.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

impl Transaction {
    /// What is left to apply.
    pub fn unused_amount(&self) -> Decimal {
        self.amount - self.allocated_amount
    }
}

/// One application of a transaction to an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// The transaction.
    pub transaction_id: TransactionId,
    /// Which way the transaction moved money.
    pub kind: TransactionType,
    /// How much of it went to the invoice.
    pub amount: Decimal,
    /// The currency.
    pub currency: Currency,
    /// When it was applied.
    pub created_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_methods_read_back_their_spelling() {
        for kind in TransactionType::ALL {
            assert_eq!(TransactionType::parse(kind.as_str()), Some(kind));
        }
        for method in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::parse(method.as_str()), Some(method));
        }
        assert_eq!(PaymentMethod::parse("card"), None);
    }

    #[test]
    fn amounts_are_positive_bounded_and_in_minor_units() {
        let usd = Currency::parse("USD").unwrap();
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(
            check_amount(Decimal::new(1050, 2), usd),
            Ok(Decimal::new(105, 1))
        );
        assert!(check_amount(Decimal::ZERO, usd).is_err());
        assert!(check_amount(Decimal::new(-1, 0), usd).is_err());
        assert!(check_amount(Decimal::new(1001, 3), usd).is_err());
        assert!(check_amount(Decimal::new(15, 1), yen).is_err());
        assert!(check_amount(MAX_AMOUNT + Decimal::ONE, usd).is_err());
        assert_eq!(check_amount(MAX_AMOUNT, usd), Ok(MAX_AMOUNT));
    }
}
