//! Events: what happened to an invoice, in the order it happened, and the comments written on
//! its timeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::idempotency::IdempotencyKey;
use super::ids::{CreditMemoId, EventId, InvoiceId, InvoiceItemId};
use super::invoice::InvoiceAction;
use super::invoice_item::{PendingItem, PlacedItem};
use super::text::BoundedText;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A draft was made.
    InvoiceCreated,
    /// The invoice or its items changed.
    InvoiceModified,
    /// The draft was issued.
    InvoiceIssued,
    /// The issued invoice was voided.
    InvoiceVoided,
    /// The invoice was abandoned.
    InvoiceAbandoned,
    /// A payment left nothing due.
    InvoicePaid,
    /// A payment left some of the invoice due.
    InvoicePartiallyPaid,
    /// A refund gave back all that was paid.
    InvoiceRefunded,
    /// A refund gave back part of what was paid.
    InvoicePartiallyRefunded,
    /// Its due time passed with some of it unpaid.
    InvoicePastDue,
    /// It was sent to the customer.
    InvoiceSent,
    /// The draft was deleted.
    InvoiceDeleted,
    /// A credit memo was issued for it.
    CreditMemoCreated,
    /// A credit memo's allocation to it was made or changed.
    CreditMemoApplied,
    /// A credit memo issued for it was voided.
    CreditMemoVoided,
    /// An item was added to the invoice, or made pending.
    ItemCreated,
    /// An item of the invoice was replaced, a pending item changed, or an invoice took a
    /// pending item in.
    ItemUpdated,
    /// An item of the invoice, or a pending item, was deleted.
    ItemDeleted,
    /// A payment (not one made elsewhere and only marked) left nothing due; beside
    /// `InvoicePaid`, for a dialect that tells the two apart.
    InvoicePaymentSucceeded,
    /// Someone wrote a comment on the invoice's timeline.
    TimelineCommentCreated,
}

impl EventType {
    /// The types a webhook may be sent: every one but comments.
    pub const SENT: [Self; 13] = [
        Self::InvoiceCreated,
        Self::InvoiceModified,
        Self::InvoiceIssued,
        Self::InvoiceVoided,
        Self::InvoiceAbandoned,
        Self::InvoicePaid,
        Self::InvoicePartiallyPaid,
        Self::InvoiceRefunded,
        Self::InvoicePartiallyRefunded,
        Self::InvoicePastDue,
        Self::CreditMemoCreated,
        Self::CreditMemoApplied,
        Self::CreditMemoVoided,
    ];

    /// The type's name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvoiceCreated => "invoice-created",
            Self::InvoiceModified => "invoice-modified",
            Self::InvoiceIssued => "invoice-issued",
            Self::InvoiceVoided => "invoice-voided",
            Self::InvoiceAbandoned => "invoice-abandoned",
            Self::InvoicePaid => "invoice-paid",
            Self::InvoicePartiallyPaid => "invoice-partially-paid",
            Self::InvoiceRefunded => "invoice-refunded",
            Self::InvoicePartiallyRefunded => "invoice-partially-refunded",
            Self::InvoicePastDue => "invoice-past-due",
            Self::InvoiceSent => "invoice-sent",
            Self::InvoiceDeleted => "invoice-deleted",
            Self::CreditMemoCreated => "credit-memo-created",
            Self::CreditMemoApplied => "credit-memo-applied",
            Self::CreditMemoVoided => "credit-memo-voided",
            Self::ItemCreated => "item-created",
            Self::ItemUpdated => "item-updated",
            Self::ItemDeleted => "item-deleted",
            Self::InvoicePaymentSucceeded => "invoice-payment-succeeded",
            Self::TimelineCommentCreated => "timeline-comment-created",
        }
    }

    /// The events of an item, beside its invoice's: they join no timeline and go to no webhook
    /// of invoices' events.
    pub const OF_ITEMS: [Self; 3] = [Self::ItemCreated, Self::ItemUpdated, Self::ItemDeleted];

    /// The events that only webhooks of the log's events are sent: items' own, and an invoice
    /// sent or deleted (which invoices' events have no name for).
    pub const LOGGED_ONLY: [Self; 6] = [
        Self::ItemCreated,
        Self::ItemUpdated,
        Self::ItemDeleted,
        Self::InvoiceSent,
        Self::InvoiceDeleted,
        Self::InvoicePaymentSucceeded,
    ];

    /// The events no timeline shows: items' own, and a payment's success, which the invoice's
    /// `InvoicePaid` tells.
    pub const OFF_TIMELINE: [Self; 4] = [
        Self::ItemCreated,
        Self::ItemUpdated,
        Self::ItemDeleted,
        Self::InvoicePaymentSucceeded,
    ];

    /// The type of a name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::SENT
            .into_iter()
            .chain(Self::LOGGED_ONLY)
            .chain([Self::TimelineCommentCreated])
            .find(|event_type| event_type.as_str() == name)
    }

    /// The event a lifecycle action makes.
    pub fn of_action(action: InvoiceAction) -> Self {
        match action {
            InvoiceAction::Issue => Self::InvoiceIssued,
            InvoiceAction::Void => Self::InvoiceVoided,
            InvoiceAction::Abandon | InvoiceAction::WriteOff => Self::InvoiceAbandoned,
        }
    }
}

/// A field of an invoice that a change may touch, in the domain's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceField {
    /// The customer billed.
    Customer,
    /// The website.
    Website,
    /// The currency.
    Currency,
    /// When it is due.
    DueTime,
    /// Its discounts.
    Discounts,
    /// Its tax settings.
    Tax,
    /// Its notes.
    Notes,
    /// Its purchase order number.
    PoNumber,
    /// Its billing address.
    BillingAddress,
    /// Its delivery address.
    DeliveryAddress,
    /// The seller's tax number on it.
    OrganizationTaxId,
    /// The customer's tax number on it.
    CustomerTaxId,
    /// The customer's electronic address on it.
    CustomerElectronicAddress,
    /// What the buyer asks it to quote.
    BuyerReference,
    /// Its status (a lifecycle action).
    Status,
    /// What it has received and given back, and what is left due.
    Payments,
    /// Its totals.
    Totals,
}

/// What one change touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventChanges {
    /// The invoice's own fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<InvoiceField>,
    /// Items added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items_created: Vec<InvoiceItemId>,
    /// Items replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items_updated: Vec<InvoiceItemId>,
    /// Items deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items_deleted: Vec<InvoiceItemId>,
    /// Other items whose discount share or tax moved with the change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items_repriced: Vec<InvoiceItemId>,
    /// The credit memo the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_memo: Option<CreditMemoId>,
}

impl EventChanges {
    /// Whether the change touched nothing (a replace with the same values).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.items_created.is_empty()
            && self.items_updated.is_empty()
            && self.items_deleted.is_empty()
            && self.items_repriced.is_empty()
            && self.credit_memo.is_none()
    }
}

/// The text of a comment: 1 to 10,000 characters.
pub type CommentText = BoundedText<10_000>;

/// One message of an invoice's timeline: an event, or a comment; or an event of a pending
/// item, which has no invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceEvent {
    /// `tmln_` + ULID.
    pub id: EventId,
    /// The invoice; `None` for a pending item's event.
    pub invoice_id: Option<InvoiceId>,
    /// What happened.
    pub event_type: EventType,
    /// The invoice's revision after the change (a pending item's own, for its events).
    pub revision: i64,
    /// What the change touched.
    pub changes: EventChanges,
    /// A comment's text.
    pub message: Option<String>,
    /// When it happened.
    pub occurred_time: DateTime<Utc>,
    /// For an item's event, the item as the change left it (as it was, when deleted).
    pub item: Option<Box<PlacedItem>>,
    /// For an item's change, the item as it was before: on its invoice, or pending.
    pub item_before: Option<Box<PlacedItem>>,
    /// The request that caused it, when it is not its transaction's own (a write coalesced
    /// with others' in one transaction).
    pub cause: Option<Cause>,
}

impl InvoiceEvent {
    /// The event of the item a change of its invoice (this event) wrote, with the item as it
    /// was before when it replaced one.
    pub fn of_item(
        &self,
        event_type: EventType,
        item: PlacedItem,
        before: Option<PlacedItem>,
    ) -> Self {
        Self {
            id: EventId::generate(),
            invoice_id: self.invoice_id.clone(),
            event_type,
            revision: self.revision,
            changes: EventChanges::default(),
            message: None,
            occurred_time: self.occurred_time,
            item: Some(Box::new(item)),
            item_before: before.map(Box::new),
            cause: self.cause.clone(),
        }
    }

    /// The event of a change of a pending item, which has no invoice: `item` as the change
    /// left it (as it was, when deleted), at `revision`, and as it was before a change.
    pub fn of_pending_item(
        event_type: EventType,
        item: PendingItem,
        before: Option<PendingItem>,
        revision: i64,
        occurred_time: DateTime<Utc>,
    ) -> Self {
        Self {
            id: EventId::generate(),
            invoice_id: None,
            event_type,
            revision,
            changes: EventChanges::default(),
            message: None,
            occurred_time,
            item: Some(Box::new(PlacedItem::Pending(Box::new(item)))),
            item_before: before.map(|before| Box::new(PlacedItem::Pending(Box::new(before)))),
            cause: None,
        }
    }
}

tokio::task_local! {
    static REQUEST_CAUSE: Cause;
}

/// The request a change was made for, as its events keep it: its id and the idempotency key
/// it named. A change no request made (an invoice falling past due) has neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    /// The request's id, as its answer names it.
    pub request_id: Option<String>,
    /// The idempotency key it named.
    pub idempotency_key: Option<String>,
}

impl Cause {
    /// The longest request id kept: a caller may name its own, and a longer one is replaced.
    pub const MAX_REQUEST_ID: usize = 200;

    /// Whether a request id may be kept: 1 to [`Self::MAX_REQUEST_ID`] printable ASCII
    /// characters.
    pub fn keeps_request_id(id: &[u8]) -> bool {
        (1..=Self::MAX_REQUEST_ID).contains(&id.len())
            && id.iter().all(|byte| (b' '..=b'~').contains(byte))
    }

    /// The cause of a request with this id and key; an id [`Self::keeps_request_id`] refuses
    /// is not kept.
    pub fn new(request_id: Option<&[u8]>, idempotency_key: Option<IdempotencyKey>) -> Self {
        let request_id = request_id
            .filter(|id| Self::keeps_request_id(id))
            .map(|id| String::from_utf8_lossy(id).into_owned());
        Self {
            request_id,
            idempotency_key: idempotency_key.map(|key| key.as_str().to_owned()),
        }
    }

    /// Runs `work` (a request's handling) with `self` as the cause of every change it makes,
    /// which each transaction it begins takes ([`Cause::current`]).
    pub async fn scope<T>(self, work: impl Future<Output = T>) -> T {
        REQUEST_CAUSE.scope(self, work).await
    }

    /// The cause of the changes the running task makes: its request's, or none outside one.
    pub fn current() -> Self {
        REQUEST_CAUSE.try_with(Clone::clone).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name() {
        for event_type in EventType::SENT
            .into_iter()
            .chain(EventType::LOGGED_ONLY)
            .chain([EventType::TimelineCommentCreated])
        {
            assert_eq!(EventType::parse(event_type.as_str()), Some(event_type));
        }
        assert_eq!(EventType::parse("invoice-past-due-reminder"), None);
    }

    #[test]
    fn changes_keep_only_what_was_touched() {
        let changes = EventChanges {
            fields: vec![InvoiceField::DueTime],
            ..EventChanges::default()
        };
        let stored = serde_json::to_value(&changes).unwrap();
        assert_eq!(stored, serde_json::json!({"fields": ["due_time"]}));
        assert_eq!(
            serde_json::from_value::<EventChanges>(stored).unwrap(),
            changes
        );
        assert!(EventChanges::default().is_empty());
    }
}
