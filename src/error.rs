//! The core's error: what happened, as data. It knows no wire: each edge words and shapes it its
//! own way (the Rebilly edge as RFC 7807 problem JSON, the Stripe-style one with Stripe's
//! `error` member). `Display` gives the plain English sentence both edges use by default.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::credit_memo::LineError;
use crate::domain::currency::Currency;
use crate::domain::event::EventType;
use crate::domain::invoice::{CollectionMisfit, InvoiceAction, InvoiceStatus};
use crate::domain::metadata::MetadataError;
use crate::domain::transaction::TransactionType;
use crate::einvoice::refusal::Refusal;
use rust_decimal::Decimal;

/// One bad field of a 422: `field` in dot notation (`tax.amount`, `discounts.1.value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidField {
    /// The field's path.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidField {
    /// A bad field and its message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A field the core checks itself, against what is stored or against other fields, named
/// here by what it is in the domain; each edge names it in its own words (the Rebilly edge:
/// `productId`, `tax.amount`, `dueTime`, the `Idempotency-Key` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainField {
    /// The product an item bills.
    ItemProduct,
    /// The invoice an item is placed on.
    ItemInvoice,
    /// The amount of an item's manual tax.
    ItemManualTaxAmount,
    /// When an issued invoice is due.
    InvoiceDueTime,
    /// The client's name for one request, kept to answer its retries.
    IdempotencyKey,
    /// Where a webhook sends its deliveries.
    WebhookUrl,
    /// The transaction applied to an invoice.
    AppliedTransaction,
    /// How much of a transaction is applied to an invoice.
    AppliedAmount,
    /// The invoice a credit memo credits.
    CreditedInvoice,
    /// The customer a credit memo credits.
    CreditCustomer,
    /// The currency of a credit memo.
    CreditCurrency,
    /// A credit memo's lines.
    CreditLines,
    /// The shipping a credit memo credits.
    CreditShipping,
    /// How much of a credit memo was given back elsewhere.
    CreditOutOfBand,
    /// An invoice a credit memo is allocated to.
    AllocatedInvoice,
    /// An invoice's days until due, beside how it is collected.
    InvoiceDaysUntilDue,
    /// An invoice's metadata.
    InvoiceMetadata,
    /// How much of a credit memo is allocated to an invoice.
    AllocatedAmount,
}

/// A kind of resource the core looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// An invoice.
    Invoice,
    /// An invoice item (pending or on an invoice).
    Item,
    /// A product.
    Product,
    /// A webhook.
    Webhook,
    /// An entry of the webhook delivery log.
    WebhookAttempt,
    /// A message of an invoice's timeline.
    TimelineMessage,
    /// A transaction.
    Transaction,
    /// A credit memo.
    CreditMemo,
    /// An event of the log.
    Event,
    /// An issued invoice's page, by the token of its link.
    InvoicePage,
}

impl Resource {
    /// Its name in a sentence ("No invoice with id ...").
    pub fn noun(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Item => "item",
            Self::Product => "product",
            Self::Webhook => "webhook",
            Self::WebhookAttempt => "webhook tracking log",
            Self::TimelineMessage => "timeline message",
            Self::Transaction => "transaction",
            Self::CreditMemo => "credit memo",
            Self::Event => "event",
            Self::InvoicePage => "invoice page",
        }
    }

    /// Its name at the start of a sentence ("Item ii_... has changed").
    pub fn title(self) -> &'static str {
        match self {
            Self::Invoice => "Invoice",
            Self::Item => "Item",
            Self::Product => "Product",
            Self::Webhook => "Webhook",
            Self::WebhookAttempt => "Webhook tracking log",
            Self::TimelineMessage => "Message",
            Self::Transaction => "Transaction",
            Self::CreditMemo => "Credit memo",
            Self::Event => "Event",
            Self::InvoicePage => "Invoice page",
        }
    }
}

/// What the core looked for and did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What kind of resource.
    pub resource: Resource,
    /// The id asked for.
    pub id: String,
    /// The invoice it was looked for in, when the lookup was within one.
    pub invoice: Option<String>,
}

impl Missing {
    /// A resource of the organization.
    pub fn of(resource: Resource, id: impl fmt::Display) -> Self {
        Self {
            resource,
            id: id.to_string(),
            invoice: None,
        }
    }

    /// A resource of one invoice.
    pub fn within(resource: Resource, id: impl fmt::Display, invoice: impl fmt::Display) -> Self {
        Self {
            resource,
            id: id.to_string(),
            invoice: Some(invoice.to_string()),
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            resource,
            id,
            invoice,
        } = self;
        let noun = resource.noun();
        match invoice {
            Some(invoice) => write!(f, "Invoice {invoice} has no {noun} with id {id}."),
            None => write!(f, "No {noun} with id {id}."),
        }
    }
}

/// Which change only a draft takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftChange {
    /// Its items.
    Items,
    /// The invoice's own fields.
    Invoice,
}

/// Why the state of what a request names forbids its change (409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clash {
    /// The invoice is no longer a draft.
    NotDraft {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
        /// What was to change.
        change: DraftChange,
    },
    /// The invoice's status is not one the action applies to.
    NotActionable {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
        /// The action asked for.
        action: InvoiceAction,
    },
    /// A webhook of that id sends its events in another format, and is changed where it was
    /// made.
    OtherWebhookFormat {
        /// The webhook.
        webhook: String,
    },
    /// A void invoice is not sent.
    NotSendable {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
    },
    /// Concurrent requests created and changed the invoice while this one ran.
    CreatedConcurrently {
        /// The invoice.
        invoice: String,
    },
    /// The invoice has items priced in its currency, which therefore cannot change.
    CurrencyInUse {
        /// The invoice.
        invoice: String,
        /// Its currency.
        currency: Currency,
        /// The currency asked for.
        asked: Currency,
    },
    /// A timeline message that records a change, not a comment, cannot be deleted.
    NotAComment {
        /// The message.
        message: String,
        /// What it records.
        event_type: EventType,
    },
    /// A delivery log entry's webhook is gone: it cannot be sent again.
    WebhookDeleted {
        /// The webhook.
        webhook: String,
        /// The log entry.
        attempt: String,
    },
    /// A pending item has no invoice to be taxed on or to number its period.
    PendingItemUnplaced,
    /// The invoice's customer or currency changed while an item was made for them.
    TermsChanged {
        /// The invoice.
        invoice: String,
    },
    /// The invoice's status takes no transaction of that type.
    NotSettleable {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
        /// The transaction's type.
        kind: TransactionType,
    },
    /// The invoice holds money paid: it cannot be voided before that is refunded.
    HoldsPayments {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
        /// What it holds: paid minus refunded.
        held: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// Credit memos were taken off the invoice: it cannot be voided before they are withdrawn.
    HoldsCredit {
        /// The invoice.
        invoice: String,
        /// What the memos took off it.
        credited: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// The invoice's amount due cannot be paid in one transaction: nothing is due, or more
    /// than one transaction may record.
    NotPayableAtOnce {
        /// The invoice.
        invoice: String,
        /// Its amount due.
        due: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// The invoice's status takes no credit: a draft is not billed yet, a voided invoice
    /// bills nothing.
    NotCreditable {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
    },
    /// A credit memo's allocation to an invoice that is no longer open cannot change.
    CreditSettled {
        /// The invoice.
        invoice: String,
        /// Its status.
        status: InvoiceStatus,
    },
    /// The credit memo was voided: it changes no more.
    CreditMemoVoided {
        /// The memo.
        credit_memo: String,
    },
    /// The credit memo's amount was given back elsewhere: voiding it cannot take that back.
    CreditGivenBack {
        /// The memo.
        credit_memo: String,
        /// How much was given back.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// The holder already has the most rows of a kind it may have.
    Full {
        /// Which kind.
        quota: Quota,
        /// The organization, invoice or customer that has them.
        holder: String,
    },
}

/// A kind of row a holder may have only so many of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Webhooks of an organization.
    Webhooks,
    /// Comments on an invoice's timeline.
    Comments,
    /// Pending items of a customer.
    PendingItems,
    /// Deliveries waiting to be sent to a webhook, as far as resends may add to them.
    WaitingDeliveries,
}

impl Quota {
    /// The most a holder may have.
    pub const fn most(self) -> i64 {
        match self {
            Self::Webhooks => 20,
            Self::Comments => 1_000,
            Self::PendingItems => 1_000,
            Self::WaitingDeliveries => 100,
        }
    }

    /// Whether a holder that has `held` may have one more; past it, [`Clash::Full`].
    pub fn admits_one_more(self, held: i64, holder: &str) -> Result<(), ApiError> {
        if held < self.most() {
            Ok(())
        } else {
            Err(ApiError::Conflict(Clash::Full {
                quota: self,
                holder: holder.to_owned(),
            }))
        }
    }
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDraft {
                invoice,
                status,
                change: DraftChange::Items,
            } => write!(
                f,
                "Invoice {invoice} is {}: its items can change only while it is a draft.",
                status.as_str()
            ),
            Self::NotDraft {
                invoice,
                status,
                change: DraftChange::Invoice,
            } => write!(
                f,
                "Invoice {invoice} is {}: only a draft can be changed.",
                status.as_str()
            ),
            Self::NotActionable {
                invoice,
                status,
                action,
            } => {
                let from: Vec<&str> = action.applies_to().iter().map(|s| s.as_str()).collect();
                write!(
                    f,
                    "Invoice {invoice} is {}: only an invoice that is {} can be {}.",
                    status.as_str(),
                    from.join(" or "),
                    action.done(),
                )
            }
            Self::OtherWebhookFormat { webhook } => write!(
                f,
                "Webhook {webhook} sends its events in another format: it is changed by the routes that made it."
            ),
            Self::NotSendable { invoice, status } => write!(
                f,
                "Invoice {invoice} is {}: a void invoice is not sent.",
                status.as_str()
            ),
            Self::CreatedConcurrently { invoice } => write!(
                f,
                "Invoice {invoice} was created and changed by concurrent requests; retry."
            ),
            Self::CurrencyInUse {
                invoice,
                currency,
                asked,
            } => write!(
                f,
                "Invoice {invoice} has items priced in {currency}: its currency cannot change to {asked}."
            ),
            Self::NotAComment {
                message,
                event_type,
            } => write!(
                f,
                "Message {message} records the invoice's {}: only a comment can be deleted.",
                event_type.as_str()
            ),
            Self::WebhookDeleted { webhook, attempt } => write!(
                f,
                "Webhook {webhook} of log {attempt} has been deleted: there is nowhere to resend it."
            ),
            Self::TermsChanged { invoice } => write!(
                f,
                "Invoice {invoice} changed its customer or currency while the item was made for them; retry."
            ),
            Self::Full { quota, holder } => {
                let most = quota.most();
                match quota {
                    Quota::Webhooks => write!(
                        f,
                        "Organization {holder} has {most} webhooks, the most it may have: delete one first."
                    ),
                    Quota::Comments => write!(
                        f,
                        "Invoice {holder} has {most} comments, the most its timeline may have: delete one first."
                    ),
                    Quota::WaitingDeliveries => write!(
                        f,
                        "Webhook {holder} has {most} deliveries waiting, the most a resend may add to: resend once some have been sent."
                    ),
                    Quota::PendingItems => write!(
                        f,
                        "Customer {holder} has {most} pending items, the most they may have: take them into an invoice or delete some first."
                    ),
                }
            }
            Self::NotSettleable {
                invoice,
                status,
                kind: TransactionType::Sale,
            } => write!(
                f,
                "Invoice {invoice} is {}: a payment applies only to an invoice that is unpaid, partially-paid, past-due, or abandoned after it was issued.",
                status.as_str()
            ),
            Self::NotSettleable {
                invoice,
                status,
                kind: TransactionType::Refund,
            } => write!(
                f,
                "Invoice {invoice} is {}: a refund applies only to an invoice that has been paid, in part or in full.",
                status.as_str()
            ),
            Self::HoldsPayments {
                invoice,
                status,
                held,
                currency,
            } => write!(
                f,
                "Invoice {invoice} is {} and holds {held} {currency} of the customer's money: refund it before voiding the invoice.",
                status.as_str()
            ),
            Self::NotPayableAtOnce {
                invoice,
                due,
                currency,
            } if *due <= Decimal::ZERO => write!(
                f,
                "Invoice {invoice} has nothing due ({due} {currency}): there is nothing to pay."
            ),
            Self::NotPayableAtOnce {
                invoice,
                due,
                currency,
            } => write!(
                f,
                "Invoice {invoice} has {due} {currency} due, more than one transaction may record: record the payment in parts."
            ),
            Self::HoldsCredit {
                invoice,
                credited,
                currency,
            } => write!(
                f,
                "Invoice {invoice} has {credited} {currency} of credit memos taken off it: withdraw them (void the memos) before voiding the invoice."
            ),
            Self::NotCreditable { invoice, status } => write!(
                f,
                "Invoice {invoice} is {}: only an issued invoice that is not voided can be credited.",
                status.as_str()
            ),
            Self::CreditSettled { invoice, status } => write!(
                f,
                "Invoice {invoice} is {}: credit taken off it can change only while it is unpaid, partially-paid or past-due.",
                status.as_str()
            ),
            Self::CreditMemoVoided { credit_memo } => write!(
                f,
                "Credit memo {credit_memo} is voided: it changes no more."
            ),
            Self::CreditGivenBack {
                credit_memo,
                amount,
                currency,
            } => write!(
                f,
                "Credit memo {credit_memo} gave back {amount} {currency} of a paid invoice elsewhere: it can be neither voided nor allocated anew."
            ),
            Self::PendingItemUnplaced => f.write_str(
                "A pending item has no invoice to tax it or to number its period: give it an invoice first.",
            ),
        }
    }
}

/// A rule of a field the core checks, broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// It names no product of the organization.
    UnknownProduct,
    /// It has more decimal places than the currency.
    TooPrecise {
        /// The currency.
        currency: Currency,
    },
    /// A due time before the issue time.
    DueBeforeIssue,
    /// An idempotency key that is not 1 to 255 printable ASCII characters.
    MalformedKey,
    /// An idempotency key header given more than once.
    RepeatedKey,
    /// An idempotency key first used on another path.
    KeyUsedElsewhere {
        /// The path it was first used for.
        path: String,
    },
    /// An idempotency key first used with another body.
    KeyUsedWithAnotherBody,
    /// An invoice that bills another customer than the item's.
    OtherCustomer,
    /// A webhook URL that may not be reached, and why.
    Unreachable {
        /// Why, for people.
        reason: String,
    },
    /// It names no transaction of the organization.
    UnknownTransaction,
    /// A transaction of another customer than the invoice's.
    TransactionOfOtherCustomer,
    /// A transaction in another currency than the invoice's.
    TransactionInOtherCurrency {
        /// The invoice's currency.
        invoice: Currency,
    },
    /// A transaction all of which has been applied.
    TransactionUsedUp,
    /// An invoice with nothing left to pay.
    NothingDue,
    /// More than the invoice has left to pay.
    MoreThanDue {
        /// What it has left to pay.
        due: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// More than the transaction has left to apply.
    MoreThanUnused {
        /// What it has left.
        unused: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// A refund of more than the invoice holds of the customer's money.
    MoreThanPaid {
        /// What it holds: paid minus refunded.
        held: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// Zero or less.
    NotPositive,
    /// It names no invoice of the organization.
    UnknownInvoice,
    /// Another customer than the credited invoice's.
    NotTheInvoiceCustomer {
        /// The invoice's customer.
        customer: String,
    },
    /// Another currency than the credited invoice's.
    NotTheInvoiceCurrency {
        /// The invoice's currency.
        currency: Currency,
    },
    /// An invoice in another currency than the credit memo's.
    InvoiceInOtherCurrency {
        /// The memo's currency.
        currency: Currency,
    },
    /// A line of a credit memo that cannot credit what it asks.
    CreditLine {
        /// Its place in the list, from 0.
        index: usize,
        /// Why.
        error: LineError,
    },
    /// A credit memo must credit something, and no more than one memo may hold.
    CreditTotal {
        /// The total it came to.
        total: Decimal,
    },
    /// More than the credit memo has left to allocate.
    MoreThanCreditLeft {
        /// What it has left.
        unused: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// Money given back elsewhere, on an invoice that is not paid.
    OutOfBandOnOpenInvoice,
    /// An amount given back elsewhere that is not what the credit memo comes to past what the
    /// invoice has due.
    OutOfBandNotTotal {
        /// What is given back.
        total: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// More than the credit memos of an invoice have left to credit of it.
    MoreThanInvoiceLeft {
        /// What is left to credit.
        left: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// A way of collecting that does not fit the invoice's due date.
    Collection(CollectionMisfit),
    /// Metadata past its limits.
    Metadata(MetadataError),
    /// The same invoice listed twice.
    InvoiceListedTwice {
        /// The invoice.
        invoice: String,
    },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownProduct => f.write_str("must name a product of the organization"),
            Self::TooPrecise { currency } => write!(
                f,
                "must have at most {} decimal places in {currency}",
                currency.minor_units()
            ),
            Self::DueBeforeIssue => f.write_str("must not be before issuedTime"),
            Self::MalformedKey => f.write_str(crate::domain::idempotency::IdempotencyKey::RULE),
            Self::RepeatedKey => f.write_str("must be given once"),
            Self::KeyUsedElsewhere { path } => {
                write!(f, "was already used for a request to {path}")
            }
            Self::KeyUsedWithAnotherBody => {
                f.write_str("was already used with another request body")
            }
            Self::OtherCustomer => f.write_str("must be an invoice of the customer"),
            Self::Unreachable { reason } => f.write_str(reason),
            Self::UnknownTransaction => f.write_str("must name a transaction of the organization"),
            Self::TransactionOfOtherCustomer => {
                f.write_str("must be a transaction of the invoice's customer")
            }
            Self::TransactionInOtherCurrency { invoice } => {
                write!(
                    f,
                    "must be a transaction in the invoice's currency, {invoice}"
                )
            }
            Self::TransactionUsedUp => {
                f.write_str("must have an amount left to apply; all of it has been applied")
            }
            Self::NothingDue => f.write_str("cannot be applied: the invoice has nothing left due"),
            Self::MoreThanDue { due, currency } => {
                write!(f, "must not exceed the amount due, {due} {currency}")
            }
            Self::MoreThanUnused { unused, currency } => write!(
                f,
                "must not exceed what the transaction has left to apply, {unused} {currency}"
            ),
            Self::MoreThanPaid { held, currency } => write!(
                f,
                "must not exceed what the invoice holds of the customer's money, {held} {currency}"
            ),
            Self::NotPositive => f.write_str("must be greater than 0"),
            Self::UnknownInvoice => f.write_str("must name an invoice of the organization"),
            Self::NotTheInvoiceCustomer { customer } => {
                write!(f, "must be the credited invoice's customer, {customer}")
            }
            Self::NotTheInvoiceCurrency { currency } => {
                write!(f, "must be the credited invoice's currency, {currency}")
            }
            Self::InvoiceInOtherCurrency { currency } => {
                write!(f, "must be an invoice in the credit memo's currency, {currency}")
            }
            Self::CreditLine { index, error } => write!(f, "line {index}: {error}"),
            Self::CreditTotal { total } => write!(
                f,
                "must come to more than 0 and at most {}; they come to {total}",
                crate::domain::transaction::MAX_AMOUNT
            ),
            Self::MoreThanCreditLeft { unused, currency } => write!(
                f,
                "must not exceed what the credit memo has left to allocate, {unused} {currency}"
            ),
            Self::OutOfBandOnOpenInvoice => f.write_str(
                "must be 0 unless the invoice has been paid: credit on an open invoice is taken off what it has due",
            ),
            Self::OutOfBandNotTotal { total, currency } => write!(
                f,
                "must be {total} {currency}: what the credit memo comes to past what the invoice has due is given back elsewhere"
            ),
            Self::MoreThanInvoiceLeft { left, currency } => write!(
                f,
                "must come to at most what earlier credit memos left to credit of the invoice, {left} {currency}"
            ),
            Self::Collection(CollectionMisfit::DaysWhenCharged) => {
                f.write_str("can be set only on an invoice sent for payment")
            }
            Self::Collection(CollectionMisfit::DaysBesideDueDate) => {
                f.write_str("cannot be set beside a due date: give one of them")
            }
            Self::Collection(CollectionMisfit::SentWithoutDueDate) => f.write_str(
                "is required for an invoice sent for payment without a due date",
            ),
            Self::Metadata(error) => write!(f, "{error}"),
            Self::InvoiceListedTwice { invoice } => {
                write!(f, "must list each invoice once; {invoice} is listed twice")
            }
        }
    }
}

/// Why the caller may not do what it asks (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Credentials of one organization asked for another's details.
    OtherOrganization {
        /// The organization the credentials act for.
        caller: String,
    },
    /// The credentials lack the operation's permission.
    Permission {
        /// The operation.
        operation: String,
    },
    /// The credentials belong to another organization than the path names.
    PathOrganization,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OtherOrganization { caller } => write!(
                f,
                "These credentials act for organization {caller}: they can read and change its details only."
            ),
            Self::Permission { operation } => {
                write!(f, "The credentials do not have the {operation} permission.")
            }
            Self::PathOrganization => {
                f.write_str("The credentials do not belong to the organization in the path.")
            }
        }
    }
}

/// Everything the core can fail with, as data; each variant names the status it stands for.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: no such resource for this organization.
    #[error("{0}")]
    NotFound(Missing),
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(Denial),
    /// 412: the client's precondition names another version of the resource than the current
    /// one, or the resource does not exist.
    #[error("{} {id} has changed since the version the precondition names (or does not exist)", resource.title())]
    VersionMismatch {
        /// What kind of resource.
        resource: Resource,
        /// Its id.
        id: String,
    },
    /// 409: the resource's state forbids the change.
    #[error("{0}")]
    Conflict(Clash),
    /// 409 or 406: no e-invoice can be made of the invoice or credit memo, and why.
    #[error("{0}")]
    NoEInvoice(Refusal),
    /// 409: another request with the same idempotency key is still being worked on.
    #[error("a request with the same idempotency key is still being processed")]
    RequestInFlight,
    /// 422: a field the core checks breaks its rule.
    #[error("{rule}")]
    InvalidInput {
        /// The field, in the domain's terms.
        field: DomainField,
        /// The rule it breaks.
        rule: Rule,
    },
    /// 422: fields break the rules; every bad field is listed (an edge's parse of its wire).
    #[error("{detail}")]
    Validation {
        /// A summary.
        detail: String,
        /// Every bad field with its message.
        invalid_fields: Vec<InvalidField>,
    },
    /// 503: the database does not answer; the cause is logged, never sent.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// 500: anything else; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self::NoEInvoice(refusal)
    }
}

impl ApiError {
    /// A 422 listing bad fields.
    pub fn validation(invalid_fields: Vec<InvalidField>) -> Self {
        Self::Validation {
            detail: "The request has invalid fields.".to_owned(),
            invalid_fields,
        }
    }

    /// `Ok` when no field is bad, else one 422 naming them all.
    pub fn unless_invalid(invalid_fields: Vec<InvalidField>) -> Result<(), Self> {
        if invalid_fields.is_empty() {
            Ok(())
        } else {
            Err(Self::validation(invalid_fields))
        }
    }

    /// A 422 naming one field the core checks.
    pub fn invalid_input(field: DomainField, rule: Rule) -> Self {
        Self::InvalidInput { field, rule }
    }

    /// A 404 for a resource of the organization.
    pub fn not_found(resource: Resource, id: impl fmt::Display) -> Self {
        Self::NotFound(Missing::of(resource, id))
    }

    /// A 412 for a resource whose version is not the one the precondition names.
    pub fn version_mismatch(resource: Resource, id: impl fmt::Display) -> Self {
        Self::VersionMismatch {
            resource,
            id: id.to_string(),
        }
    }

    /// Whether the failure is the server's (the database away, a fault), so that the same
    /// request may succeed later.
    pub fn is_server_error(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Internal(_))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        // Errors that mean "the database cannot be reached right now" are worth a retry (503);
        // anything else is a fault of ours (500).
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            sqlx::Error::Database(ref db) if is_unavailable_code(db.code().as_deref()) => {
                Self::Unavailable(error)
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

/// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
/// cannot connect now), and 55P03 (a lock not granted within the lock timeout).
fn is_unavailable_code(code: Option<&str>) -> bool {
    code.is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "55P03")
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn a_database_that_cannot_be_reached_is_503_and_other_database_errors_are_500() {
        let unreachable = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            // PostgreSQL stopped or crashed under a connection: it reads the end of the stream.
            sqlx::Error::Io(io::Error::from(io::ErrorKind::UnexpectedEof)),
            sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset)),
            sqlx::Error::WorkerCrashed,
        ];
        for error in unreachable {
            let shown = error.to_string();
            assert!(
                matches!(ApiError::from(error), ApiError::Unavailable(_)),
                "{shown}"
            );
        }
        let faults = [
            sqlx::Error::RowNotFound,
            sqlx::Error::Protocol("unexpected message".to_owned()),
            sqlx::Error::ColumnNotFound("price".to_owned()),
        ];
        for error in faults {
            let shown = error.to_string();
            assert!(
                matches!(ApiError::from(error), ApiError::Internal(_)),
                "{shown}"
            );
        }
    }

    #[test]
    fn sqlstates_of_lost_connections_and_shutdowns_are_unavailable() {
        // 08006 connection failure, 08001 cannot connect, 57P01 admin shutdown,
        // 57P02 crash shutdown, 57P03 cannot connect now (starting up or shutting down).
        // 55P03 lock not available (the lock timeout).
        for code in ["08006", "08001", "57P01", "57P02", "57P03", "55P03"] {
            assert!(is_unavailable_code(Some(code)), "{code}");
        }
        // Unique violation, serialization failure, and a cancelled statement (class 57, but
        // not 57P): errors of the request, not of the database's reachability.
        for code in ["23505", "40001", "57014"] {
            assert!(!is_unavailable_code(Some(code)), "{code}");
        }
        assert!(!is_unavailable_code(None));
    }
}
