//! Events on Rebilly's wire: what a change touched, in Rebilly's field names; an invoice
//! webhook's payload; and a timeline message.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::credit_memos::{CreditMemoResponse, credit_memo_path};
use super::invoice_response::InvoiceResponse;
use super::paths::invoice_path;
use super::wire::{Link, time};
use crate::delivery::{Payload, Subject};
use crate::domain::event::{EventChanges, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{CreditMemoId, EventId, InvoiceId, InvoiceItemId};
use crate::http::state::AppState;
use crate::repository::ClaimedDelivery;

/// The invoice field's name on this wire.
fn field_name(field: InvoiceField) -> &'static str {
    match field {
        InvoiceField::Customer => "customerId",
        InvoiceField::Website => "websiteId",
        InvoiceField::Currency => "currency",
        InvoiceField::DueTime => "dueTime",
        InvoiceField::Discounts => "discounts",
        InvoiceField::Tax => "tax",
        InvoiceField::Notes => "notes",
        InvoiceField::PoNumber => "poNumber",
        InvoiceField::BillingAddress => "billingAddress",
        InvoiceField::DeliveryAddress => "deliveryAddress",
        InvoiceField::OrganizationTaxId => "organizationTaxIdNumber",
        InvoiceField::CustomerTaxId => "customerTaxIdNumber",
        InvoiceField::CustomerElectronicAddress => "customerElectronicAddress",
        InvoiceField::BuyerReference => "buyerReference",
        InvoiceField::Status => "status",
        InvoiceField::Totals => "amount",
        InvoiceField::Payments => "transactions",
    }
}

/// What a change touched: the invoice's fields by their names here, and the items created,
/// updated, deleted, and repriced with it (their discount share or tax moved).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangesResponse {
    fields: Vec<&'static str>,
    #[schema(value_type = Vec<String>)]
    items_created: Vec<InvoiceItemId>,
    #[schema(value_type = Vec<String>)]
    items_updated: Vec<InvoiceItemId>,
    #[schema(value_type = Vec<String>)]
    items_deleted: Vec<InvoiceItemId>,
    #[schema(value_type = Vec<String>)]
    items_repriced: Vec<InvoiceItemId>,
}

impl ChangesResponse {
    fn new(changes: &EventChanges) -> Self {
        Self {
            fields: changes
                .fields
                .iter()
                .map(|field| field_name(*field))
                .collect(),
            items_created: changes.items_created.clone(),
            items_updated: changes.items_updated.clone(),
            items_deleted: changes.items_deleted.clone(),
            items_repriced: changes.items_repriced.clone(),
        }
    }
}

/// An invoice webhook's body: Rebilly's (`eventType`, `invoiceId`, `_embedded.invoice`,
/// `_links`), with the invoice's `revision` after the event and what it changed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceWebhook<'a> {
    event_type: &'static str,
    invoice_id: Option<&'a InvoiceId>,
    /// The credit memo of a `credit-memo-*` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_memo_id: Option<&'a CreditMemoId>,
    /// The event's id, also the `webhook-id` header.
    event_id: &'a EventId,
    /// The invoice's revision after the event: order and de-duplicate by it.
    revision: i64,
    changes: ChangesResponse,
    #[serde(serialize_with = "time")]
    occurred_time: DateTime<Utc>,
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    embedded: Option<Embedded<'a>>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Embedded<'a> {
    /// The invoice as `GET /invoices/{id}` returns it when the delivery is made.
    invoice: InvoiceResponse<'a>,
    /// The credit memo of a `credit-memo-*` event, as `GET /credit-memos/{id}` returns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_memo: Option<CreditMemoResponse>,
}

/// Renders deliveries as Rebilly's invoice webhooks.
pub struct RebillyPayload {
    state: AppState,
}

impl RebillyPayload {
    /// Payloads whose links point at `state`'s public URL.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl Payload for RebillyPayload {
    fn render(&self, delivery: &ClaimedDelivery, subject: &Subject) -> Vec<u8> {
        let credit_memo_id = delivery.changes.credit_memo.as_ref();
        // Webhooks of this format are sent only events of invoices.
        let mut links: Vec<Link> = (delivery.invoice_id.iter())
            .map(|invoice_id| Link {
                rel: "invoice",
                href: self.state.url(&invoice_path(invoice_id)),
            })
            .collect();
        links.extend(credit_memo_id.map(|id| Link {
            rel: "creditMemo",
            href: self.state.url(&credit_memo_path(id)),
        }));
        let invoice = subject.invoice.as_ref();
        let body = InvoiceWebhook {
            event_type: delivery.event_type.as_str(),
            invoice_id: delivery.invoice_id.as_ref(),
            credit_memo_id,
            event_id: &delivery.event_id,
            revision: delivery.revision,
            changes: ChangesResponse::new(&delivery.changes),
            occurred_time: delivery.occurred_time,
            embedded: invoice.map(|(invoice, items)| Embedded {
                invoice: InvoiceResponse::new(&self.state, invoice, items),
                credit_memo: subject
                    .credit_memo
                    .as_ref()
                    .map(|memo| CreditMemoResponse::new(&self.state, memo)),
            }),
            links,
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// A link of a timeline message to what it is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineLink {
    /// Always `invoice`.
    resource_type: &'static str,
    resource_id: String,
}

/// Rebilly's TimelineExtraData: no actions nor tables here; a link to the invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineExtraData {
    actions: Vec<serde_json::Value>,
    tables: Vec<serde_json::Value>,
    links: Vec<TimelineLink>,
}

/// A message of an invoice's timeline on the wire (Rebilly's InvoiceTimeline), with the
/// invoice's `revision` after it and what it changed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceTimeline)]
pub struct TimelineResponse {
    #[schema(value_type = String, example = "tmln_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: EventId,
    /// `invoice-created`, `invoice-modified`, `invoice-issued`, `invoice-voided`,
    /// `invoice-abandoned`, `invoice-paid`, `invoice-partially-paid`, `invoice-refunded`,
    /// `invoice-partially-refunded`, `invoice-past-due` or `timeline-comment-created`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Always `direct-api`: every change here comes through the API.
    triggered_by: &'static str,
    message: String,
    extra_data: TimelineExtraData,
    revision: i64,
    changes: ChangesResponse,
    #[serde(serialize_with = "time")]
    occurred_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl TimelineResponse {
    /// The wire form of a message of `invoice_id`'s timeline.
    pub fn new(state: &AppState, invoice_id: &InvoiceId, event: &InvoiceEvent) -> Self {
        Self {
            id: event.id.clone(),
            kind: event.event_type.as_str(),
            triggered_by: "direct-api",
            message: event
                .message
                .clone()
                .unwrap_or_else(|| describe(event.event_type, &event.changes)),
            extra_data: TimelineExtraData {
                actions: Vec::new(),
                tables: Vec::new(),
                links: vec![TimelineLink {
                    resource_type: "invoice",
                    resource_id: invoice_id.to_string(),
                }],
            },
            revision: event.revision,
            changes: ChangesResponse::new(&event.changes),
            occurred_time: event.occurred_time,
            links: vec![Link::to(
                state,
                "self",
                &timeline_message_path(invoice_id, &event.id),
            )],
        }
    }
}

/// The path of a timeline message, relative to the server root.
pub fn timeline_message_path(invoice_id: &InvoiceId, message_id: &EventId) -> String {
    format!("/invoices/{invoice_id}/timeline/{message_id}")
}

/// "Credit memo crmm_... applied."
fn credit_memo_sentence(done: &str, changes: &EventChanges) -> String {
    match &changes.credit_memo {
        Some(memo) => format!("Credit memo {memo} {done}."),
        None => format!("Credit memo {done}."),
    }
}

/// A sentence for an event, as the timeline shows it.
fn describe(event_type: EventType, changes: &EventChanges) -> String {
    let what = match event_type {
        EventType::InvoiceCreated => return "Invoice created.".into(),
        EventType::InvoiceIssued => return "Invoice issued.".into(),
        EventType::InvoiceVoided => return "Invoice voided.".into(),
        EventType::InvoiceAbandoned => return "Invoice abandoned.".into(),
        EventType::InvoicePaid => return "Invoice paid.".into(),
        EventType::InvoicePartiallyPaid => return "Invoice partially paid.".into(),
        EventType::InvoiceRefunded => return "Invoice refunded.".into(),
        EventType::InvoicePartiallyRefunded => return "Invoice partially refunded.".into(),
        EventType::InvoicePastDue => return "Invoice past due.".into(),
        EventType::InvoiceSent => return "Invoice sent.".into(),
        EventType::InvoiceDeleted => return "Draft deleted.".into(),
        EventType::TimelineCommentCreated => return "Comment.".into(),
        EventType::CreditMemoCreated => return credit_memo_sentence("issued", changes),
        EventType::CreditMemoApplied => return credit_memo_sentence("applied", changes),
        EventType::CreditMemoVoided => return credit_memo_sentence("voided", changes),
        // Items' own events join no timeline; their invoice's `invoice-modified` tells.
        EventType::ItemCreated => return "Item added.".into(),
        EventType::ItemUpdated => return "Item replaced.".into(),
        EventType::ItemDeleted => return "Item deleted.".into(),
        EventType::InvoicePaymentSucceeded => return "Payment succeeded.".into(),
        EventType::InvoiceModified => changes,
    };
    let mut parts = Vec::new();
    let items = |verb: &str, ids: &[InvoiceItemId]| match ids {
        [] => None,
        [one] => Some(format!("item {one} {verb}")),
        many => Some(format!("{} items {verb}", many.len())),
    };
    parts.extend(items("added", &what.items_created));
    parts.extend(items("replaced", &what.items_updated));
    parts.extend(items("deleted", &what.items_deleted));
    parts.extend(items("repriced", &what.items_repriced));
    let fields: Vec<&str> = what.fields.iter().map(|field| field_name(*field)).collect();
    if !fields.is_empty() {
        parts.push(format!("changed {}", fields.join(", ")));
    }
    if parts.is_empty() {
        "Invoice saved unchanged.".into()
    } else {
        format!("Invoice modified: {}.", parts.join("; "))
    }
}
