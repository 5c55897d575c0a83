//! An event as Stripe shows it: its type in Stripe's names, and `data.object`, the invoice or
//! item as the event left it, with `previous_attributes` (the fields an update changed, as they
//! were) on `invoice.updated`.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::API_VERSION;
use super::credit_note_object::{CreditNoteObject, document_path};
use super::invoice_object::{InvoiceContext, InvoiceObject};
use super::wire::{ItemObject, unix};
use crate::domain::event::EventType;
use crate::domain::ids::EventId;
use crate::domain::invoice_item::PlacedItem;
use crate::repository::{EventSubject, InvoiceSnapshot, LoggedEvent};

/// The prefix of an event's id here; the log's own id follows it without its prefix.
const ID_PREFIX: &str = "evt_";

/// Each type of the log as Stripe names it. Changes Stripe has no event for of their own
/// (a partial payment, a refund, a credit memo's allocation) are the invoice's
/// `invoice.updated`.
const NAMES: [(EventType, &str); 19] = [
    (EventType::InvoiceCreated, "invoice.created"),
    (EventType::InvoiceModified, "invoice.updated"),
    (EventType::InvoicePartiallyPaid, "invoice.updated"),
    (EventType::InvoiceRefunded, "invoice.updated"),
    (EventType::InvoicePartiallyRefunded, "invoice.updated"),
    (EventType::CreditMemoApplied, "invoice.updated"),
    (EventType::InvoiceIssued, "invoice.finalized"),
    (EventType::InvoiceVoided, "invoice.voided"),
    (EventType::InvoiceAbandoned, "invoice.marked_uncollectible"),
    (EventType::InvoicePaid, "invoice.paid"),
    (
        EventType::InvoicePaymentSucceeded,
        "invoice.payment_succeeded",
    ),
    (EventType::InvoicePastDue, "invoice.overdue"),
    (EventType::CreditMemoCreated, "credit_note.created"),
    (EventType::CreditMemoVoided, "credit_note.voided"),
    (EventType::InvoiceSent, "invoice.sent"),
    (EventType::InvoiceDeleted, "invoice.deleted"),
    (EventType::ItemCreated, "invoiceitem.created"),
    (EventType::ItemUpdated, "invoiceitem.updated"),
    (EventType::ItemDeleted, "invoiceitem.deleted"),
];

/// The Stripe name of a type of the log.
fn name_of(event_type: EventType) -> &'static str {
    NAMES
        .iter()
        .find(|(kept, _)| *kept == event_type)
        .map_or("invoice.updated", |(_, name)| name)
}

/// The types of the log a Stripe type names: one name (`invoice.paid`) or every name under a
/// prefix (`invoice.*`, or `*`); empty when it names none.
pub fn types_named(pattern: &str) -> Vec<EventType> {
    let matches = |name: &str| match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    };
    NAMES
        .iter()
        .filter(|(_, name)| matches(name))
        .map(|(event_type, _)| *event_type)
        .collect()
}

/// The types of the log that any of `patterns` names ([`types_named`]), each once, in the
/// order they are first named.
pub fn types_named_by(patterns: &[String]) -> Vec<EventType> {
    let mut types = Vec::new();
    for pattern in patterns {
        for event_type in types_named(pattern) {
            if !types.contains(&event_type) {
                types.push(event_type);
            }
        }
    }
    types
}

/// Whether `name` is a type of event this server makes (`invoice.paid`).
pub fn is_event_name(name: &str) -> bool {
    NAMES.iter().any(|(_, known)| *known == name)
}

/// Every type of event this server makes, by name, each once.
pub fn event_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = NAMES.iter().map(|(_, name)| *name).collect();
    names.dedup();
    names
}

/// An event's id as Stripe's clients see it.
pub fn event_id(id: &EventId) -> String {
    let ulid = id
        .as_str()
        .strip_prefix(EventId::PREFIX)
        .unwrap_or(id.as_str());
    format!("{ID_PREFIX}{ulid}")
}

/// The log's id of an event's id; `None` when it cannot be one.
pub fn logged_id(id: &str) -> Option<EventId> {
    let ulid = id.strip_prefix(ID_PREFIX)?;
    EventId::parse(&format!("{}{ulid}", EventId::PREFIX)).ok()
}

/// An event (`object: "event"`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeEvent)]
pub struct EventObject {
    /// `evt_` and the event's id.
    id: String,
    /// `event`.
    object: &'static str,
    /// The API version the object follows.
    api_version: &'static str,
    /// When it happened, Unix seconds.
    created: i64,
    data: EventData,
    livemode: bool,
    /// Always 0: deliveries of the log are not counted here.
    pending_webhooks: u32,
    request: EventRequest,
    /// `invoice.created`, `invoice.updated`, `invoiceitem.created`, ...
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeEventData)]
struct EventData {
    /// The invoice or item as the event left it.
    #[schema(value_type = Object)]
    object: Value,
    /// On an update, the fields it changed, as they were before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, required = false)]
    previous_attributes: Option<Map<String, Value>>,
}

/// The call that made the event: not kept here, so both are null.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeEventRequest)]
struct EventRequest {
    /// The id of the request that caused the event (its answer's `Request-Id`); null when no
    /// request did.
    #[schema(value_type = Option<String>)]
    id: Option<String>,
    /// The `Idempotency-Key` that request named.
    #[schema(value_type = Option<String>)]
    idempotency_key: Option<String>,
}

impl EventObject {
    /// The event as Stripe shows it.
    pub fn new(logged: &LoggedEvent, context: &InvoiceContext) -> Self {
        let livemode = context.livemode();
        let event = &logged.event;
        let cause = event.cause.as_ref();
        let kind = name_of(event.event_type);
        let (object, previous_attributes) = match (&logged.subject, &event.item) {
            // On its invoice or pending (`invoice: null`), as `GET /v1/invoiceitems/{id}`
            // shows it; an invoice taking a pending item in moves its `invoice` from null.
            (EventSubject::Item, Some(item)) => {
                let object = |item: &PlacedItem| json(&ItemObject::new(item, livemode));
                let after = object(item);
                let previous = event
                    .item_before
                    .as_deref()
                    .map(|before| changed(&object(before), &after));
                (after, previous)
            }
            (
                EventSubject::Invoice {
                    credit_memo: Some(memo),
                    ..
                },
                _,
            ) if kind.starts_with("credit_note.") => {
                let pdf = context.url(&document_path(&memo.id));
                (json(&CreditNoteObject::new(memo, livemode, pdf)), None)
            }
            (EventSubject::Invoice { after, before, .. }, _) => {
                let after = invoice_json(after, context);
                let previous = (kind == "invoice.updated")
                    .then_some(before.as_deref())
                    .flatten()
                    .map(|before| changed(&invoice_json(before, context), &after));
                (after, previous)
            }
            (EventSubject::Item, None) => (Value::Null, None),
        };
        Self {
            id: event_id(&event.id),
            object: "event",
            api_version: API_VERSION,
            created: unix(event.occurred_time),
            data: EventData {
                object,
                previous_attributes,
            },
            livemode,
            pending_webhooks: 0,
            request: EventRequest {
                id: cause.and_then(|cause| cause.request_id.clone()),
                idempotency_key: cause.and_then(|cause| cause.idempotency_key.clone()),
            },
            kind,
        }
    }
}

fn invoice_json(snapshot: &InvoiceSnapshot, context: &InvoiceContext) -> Value {
    json(&InvoiceObject::new(
        &snapshot.invoice,
        &snapshot.newest_items,
        context,
        false,
    ))
}

fn json(object: &impl Serialize) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// The top-level fields of `before` that `after` changed, with their values before.
fn changed(before: &Value, after: &Value) -> Map<String, Value> {
    let empty = Map::new();
    let after: HashMap<&String, &Value> = after.as_object().unwrap_or(&empty).iter().collect();
    before
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .filter(|(key, value)| after.get(key) != Some(value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_both_ways() {
        let id = EventId::generate();
        let shown = event_id(&id);
        assert!(shown.starts_with("evt_"));
        assert_eq!(logged_id(&shown), Some(id));
        assert_eq!(logged_id("tmln_01JABC"), None);
    }

    #[test]
    fn a_pattern_names_its_types() {
        assert_eq!(types_named("invoice.paid"), vec![EventType::InvoicePaid]);
        assert_eq!(types_named("invoiceitem.*").len(), 3);
        assert_eq!(types_named("*").len(), NAMES.len());
        assert!(types_named("customer.created").is_empty());
        assert!(types_named("invoice.updated").contains(&EventType::CreditMemoApplied));
        assert_eq!(types_named("credit_note.*").len(), 2);
    }

    #[test]
    fn only_changed_fields_are_previous() {
        let before = serde_json::json!({"total": 100, "currency": "usd", "lines": []});
        let after = serde_json::json!({"total": 250, "currency": "usd", "lines": []});
        let changed = changed(&before, &after);
        assert_eq!(Value::Object(changed), serde_json::json!({"total": 100}));
    }
}
