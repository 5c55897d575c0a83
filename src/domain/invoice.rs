//! Invoices: parsed request values, the stored invoice and its totals.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::contact::InvoiceParties;
use super::credit_memo::CreditAllocation;
use super::currency::Currency;
use super::discount::{AppliedDiscount, Discount};
use super::ids::{CustomerId, InvoiceId, WebsiteId};
use super::metadata::{Metadata, MetadataChange};
use super::spelling::spellings;
use super::tax::TaxSettings;
use super::text::BoundedText;
use super::transaction::Allocation;

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
    /// Paid, then given back in part.
    PartiallyRefunded,
    /// Paid, then given back in full.
    Refunded,
}

spellings! {
    InvoiceStatus {
        Draft => "draft",
        Unpaid => "unpaid",
        Paid => "paid",
        PartiallyPaid => "partially-paid",
        PastDue => "past-due",
        Abandoned => "abandoned",
        Voided => "voided",
        PartiallyRefunded => "partially-refunded",
        Refunded => "refunded",
    }
}

/// What creating (or replacing) a draft does with its customer's pending items of its
/// currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PendingItems {
    /// Leaves them pending.
    #[default]
    Exclude,
    /// Moves them onto the draft, in the same transaction.
    Include,
}

impl PendingItems {
    /// Parses `include` or `exclude`.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        match value {
            "include" => Ok(Self::Include),
            "exclude" => Ok(Self::Exclude),
            _ => Err("must be one of: include, exclude"),
        }
    }
}

/// A change of status a client can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    /// `POST /invoices/{id}/issue`: a draft becomes unpaid.
    Issue,
    /// `POST /invoices/{id}/void`: an issued invoice is cancelled.
    Void,
    /// `POST /invoices/{id}/abandon`: a draft or unpaid invoice is given up.
    Abandon,
    /// An issued invoice still awaiting payment is given up as uncollectible (Stripe's
    /// `mark_uncollectible`): it ends abandoned, and can still be paid or voided.
    WriteOff,
}

impl InvoiceAction {
    /// The statuses the action applies to.
    pub fn applies_to(self) -> &'static [InvoiceStatus] {
        match self {
            Self::Issue => &[InvoiceStatus::Draft],
            Self::Void => &[InvoiceStatus::Unpaid, InvoiceStatus::PastDue],
            Self::Abandon => &[InvoiceStatus::Draft, InvoiceStatus::Unpaid],
            Self::WriteOff => &[
                InvoiceStatus::Unpaid,
                InvoiceStatus::PartiallyPaid,
                InvoiceStatus::PastDue,
            ],
        }
    }

    /// Whether the action applies to the invoice: its status is one of
    /// [`InvoiceAction::applies_to`]; besides, an invoice abandoned after it was issued (written
    /// off) may still be voided, as Stripe voids an uncollectible one (a draft given up was
    /// never an invoice to void).
    pub fn admits(self, invoice: &Invoice) -> bool {
        self.applies_to().contains(&invoice.status)
            || (self == Self::Void
                && invoice.status == InvoiceStatus::Abandoned
                && invoice.issued_time.is_some())
    }

    /// The status the action leads to.
    pub fn target(self) -> InvoiceStatus {
        match self {
            Self::Issue => InvoiceStatus::Unpaid,
            Self::Void => InvoiceStatus::Voided,
            Self::Abandon | Self::WriteOff => InvoiceStatus::Abandoned,
        }
    }

    /// The verb, as in the path.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Void => "void",
            Self::Abandon => "abandon",
            Self::WriteOff => "write off",
        }
    }

    /// The verb's past participle, as in "can be issued".
    pub fn done(self) -> &'static str {
        match self {
            Self::Issue => "issued",
            Self::Void => "voided",
            Self::Abandon => "abandoned",
            Self::WriteOff => "written off",
        }
    }
}

/// How the customer is to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CollectionMethod {
    /// The seller takes the payment itself: no due date unless one is given.
    #[default]
    ChargeAutomatically,
    /// The invoice is sent for the customer to pay by its due date.
    SendInvoice,
}

spellings! {
    CollectionMethod {
        ChargeAutomatically => "charge_automatically",
        SendInvoice => "send_invoice",
    }
}

/// The most days an invoice may be due after it is issued.
pub const MAX_DAYS_UNTIL_DUE: u16 = 3650;

/// How the customer is to pay, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Collection {
    /// How.
    pub method: CollectionMethod,
    /// With [`CollectionMethod::SendInvoice`] and no due time of its own: due this many days
    /// after it is issued.
    pub days_until_due: Option<u16>,
}

/// Why a way of collecting does not fit an invoice's due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionMisfit {
    /// Days until due, on an invoice charged automatically.
    DaysWhenCharged,
    /// Days until due beside a due date.
    DaysBesideDueDate,
    /// An invoice sent for payment with neither days until due nor a due date.
    SentWithoutDueDate,
}

impl Collection {
    /// Whether it fits an invoice due at `due_time`.
    pub fn check(self, due_time: Option<DateTime<Utc>>) -> Result<(), CollectionMisfit> {
        match (self.method, self.days_until_due, due_time) {
            (CollectionMethod::ChargeAutomatically, Some(_), _) => {
                Err(CollectionMisfit::DaysWhenCharged)
            }
            (CollectionMethod::SendInvoice, Some(_), Some(_)) => {
                Err(CollectionMisfit::DaysBesideDueDate)
            }
            (CollectionMethod::SendInvoice, None, None) => {
                Err(CollectionMisfit::SentWithoutDueDate)
            }
            _ => Ok(()),
        }
    }
}

/// A change of a draft's own fields that leaves its prices as they are; each `None` keeps
/// the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvoicePatch {
    /// Its notes (`Some(None)` clears them).
    pub notes: Option<Option<Notes>>,
    /// When it is due (`Some(None)`: no due date).
    pub due_time: Option<Option<DateTime<Utc>>>,
    /// Its metadata.
    pub metadata: Option<MetadataChange>,
    /// How it is collected.
    pub collection_method: Option<CollectionMethod>,
    /// Days until due (`Some(None)`: none).
    pub days_until_due: Option<Option<u16>>,
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
    /// Discounts, applied in order.
    pub discounts: Vec<Discount>,
    /// How item taxes come about.
    pub tax: TaxSettings,
    /// The parties' addresses and tax numbers.
    pub parties: InvoiceParties,
    /// The caller's own keys and values; `None` keeps what is stored (none, on a new invoice).
    pub metadata: Option<Metadata>,
    /// How the customer is to pay; `None` keeps what is stored (charged automatically, on a
    /// new invoice).
    pub collection: Option<Collection>,
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
    /// What is left to pay: `amount - paid + refunded - credited` (see [`InvoicePayments`]).
    pub amount_due: Decimal,
}

/// What an issued invoice has received and given back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoicePayments {
    /// The sales applied to it.
    pub paid_amount: Decimal,
    /// The refunds applied to it; never more than `paid_amount`.
    pub refunded_amount: Decimal,
    /// What credit memos took off it.
    pub credited_amount: Decimal,
    /// When it was last paid in full.
    pub paid_time: Option<DateTime<Utc>>,
    /// Its newest applications of transactions, at most [`RECENT_ALLOCATIONS`], oldest first.
    pub recent_allocations: Vec<Allocation>,
    /// The credit memos taken off it, oldest first.
    pub credit_allocations: Vec<CreditAllocation>,
}

/// How many of its newest allocations an invoice is read with.
pub const RECENT_ALLOCATIONS: usize = 10;

impl InvoicePayments {
    /// What it holds of the customer's money: paid minus refunded.
    pub fn net_paid(&self) -> Decimal {
        self.paid_amount - self.refunded_amount
    }
}

/// What the link to an issued invoice's page carries in place of a key: 64 hex digits of 32
/// random bytes, which no one guesses; replacing it revokes the old link.
#[derive(Clone, PartialEq, Eq)]
pub struct HostedToken(String);

impl HostedToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        Self(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// A token as a link or the database gives it; `None` unless it is one.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 64
            && text
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| Self(text.to_owned()))
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for HostedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostedToken(..)")
    }
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
    /// Its number in the organization's sequence, given when it is issued.
    pub invoice_number: Option<i64>,
    /// Its figures.
    pub totals: InvoiceTotals,
    /// What it has received and given back.
    pub payments: InvoicePayments,
    /// When payment is due.
    pub due_time: Option<DateTime<Utc>>,
    /// When it was issued.
    pub issued_time: Option<DateTime<Utc>>,
    /// When it was abandoned.
    pub abandoned_time: Option<DateTime<Utc>>,
    /// When it was voided.
    pub voided_time: Option<DateTime<Utc>>,
    /// Discounts with what each took off.
    pub discounts: Vec<AppliedDiscount>,
    /// How item taxes come about.
    pub tax: TaxSettings,
    /// Notes for the customer.
    pub notes: Option<String>,
    /// Purchase order number.
    pub po_number: Option<String>,
    /// The parties' addresses and tax numbers.
    pub parties: InvoiceParties,
    /// The caller's own keys and values.
    pub metadata: Metadata,
    /// How the customer is to pay.
    pub collection: Collection,
    /// What its customer's link to its page carries, once it is issued.
    pub hosted_token: Option<HostedToken>,
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
    fn hosted_tokens_are_64_random_hex_digits() {
        let token = HostedToken::generate();
        assert_eq!(HostedToken::parse(token.as_str()), Some(token.clone()));
        assert_ne!(token, HostedToken::generate());
        assert_eq!(HostedToken::parse("abc"), None);
        assert_eq!(HostedToken::parse(&"G".repeat(64)), None);
        assert_eq!(format!("{token:?}"), "HostedToken(..)");
    }

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

    #[test]
    fn actions_lead_from_their_statuses_only() {
        use InvoiceStatus::*;
        assert_eq!(InvoiceAction::Issue.applies_to(), [Draft]);
        assert_eq!(InvoiceAction::Issue.target(), Unpaid);
        assert!(!InvoiceAction::Void.applies_to().contains(&Draft));
        assert!(InvoiceAction::Void.applies_to().contains(&PastDue));
        assert!(InvoiceAction::Abandon.applies_to().contains(&Unpaid));
        assert!(!InvoiceAction::Abandon.applies_to().contains(&Voided));
    }
}
