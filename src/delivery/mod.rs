//! Webhook deliveries: a worker in every replica claims due deliveries from PostgreSQL, sends
//! each signed, logs the attempt, and schedules a retry when it fails. What a delivery's body
//! holds is the dialect's: the worker is handed a [`Payload`] that renders it.

pub mod destination;
pub mod schedule;
pub mod signature;
mod worker;

use std::sync::Arc;
use std::time::Duration;

pub use worker::{DELIVERIES, DeliveryWorker, deliver_until_shutdown};

use crate::domain::credit_memo::CreditMemo;
use crate::domain::organization::OrganizationDetails;
use crate::domain::webhook::WebhookFormat;
use crate::repository::{ClaimedDelivery, LoggedEvent};
use crate::service::destinations::Destinations;
use crate::service::invoices::InvoiceWithItems;
use schedule::RetrySchedule;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Which addresses they may reach.
    pub destinations: Destinations,
    /// How failed ones are retried.
    pub schedule: RetrySchedule,
    /// How long one attempt may take, connecting included (`WEBHOOK_ATTEMPT_TIMEOUT_MS`).
    pub attempt_timeout: Duration,
    /// How many attempts run at once in this process (`WEBHOOK_CONCURRENCY`).
    pub concurrency: usize,
    /// How many of those may go to one webhook, so that a slow or dead one holds up no other.
    pub per_webhook: usize,
    /// How many of those may be one organization's (`WEBHOOK_CONCURRENCY_PER_ORGANIZATION`),
    /// so that a tenant whose receivers stall delays only itself.
    pub per_organization: usize,
    /// How often the worker looks for due deliveries without being told of new ones.
    pub poll_interval: Duration,
    /// How much of a response's body the log keeps.
    pub kept_response_bytes: usize,
    /// How much of the body sent the log keeps (`WEBHOOK_LOG_BODY_BYTES`): every attempt is
    /// logged, and each body holds the whole invoice, so a log that kept them whole would grow
    /// with the square of an invoice's items.
    pub kept_request_bytes: usize,
}

/// Delivery attempts a process makes at once unless told otherwise (`WEBHOOK_CONCURRENCY`).
pub const DEFAULT_CONCURRENCY: u32 = 256;

impl Default for DeliverySettings {
    fn default() -> Self {
        let concurrency = DEFAULT_CONCURRENCY as usize;
        Self {
            destinations: Destinations::PublicOnly,
            schedule: RetrySchedule::default(),
            attempt_timeout: Duration::from_secs(10),
            concurrency,
            // As the configuration derives them: a quarter each.
            per_webhook: concurrency / 4,
            per_organization: concurrency / 4,
            poll_interval: Duration::from_millis(250),
            kept_response_bytes: 16 * 1024,
            kept_request_bytes: 64 * 1024,
        }
    }
}

/// What an event is about. For a webhook of invoices' events, as it is when the delivery is
/// made: its invoice and, for an event of a credit memo, the memo (each `None` when it cannot
/// be read). For a webhook of the log's events, the event as the log keeps it, with its
/// object as the event left it, and the seller.
#[derive(Debug, Default)]
pub struct Subject {
    /// The invoice, with its items.
    pub invoice: Option<InvoiceWithItems>,
    /// The credit memo the event is about, if any.
    pub credit_memo: Option<CreditMemo>,
    /// The event as the log keeps it.
    pub logged: Option<LoggedEvent>,
    /// The organization's details.
    pub seller: Option<OrganizationDetails>,
}

/// What a delivery's body is: the dialect renders the event with what it is about, and signs
/// it.
pub trait Payload: Send + Sync + 'static {
    /// The body, as JSON.
    fn render(&self, delivery: &ClaimedDelivery, subject: &Subject) -> Vec<u8>;

    /// The headers that sign `body`, sent at `timestamp` (Unix seconds): Standard Webhooks'
    /// unless the dialect signs its own way.
    fn signature(
        &self,
        delivery: &ClaimedDelivery,
        timestamp: i64,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let message_id = delivery.event_id.as_str();
        vec![
            ("webhook-id".to_owned(), message_id.to_owned()),
            ("webhook-timestamp".to_owned(), timestamp.to_string()),
            (
                "webhook-signature".to_owned(),
                signature::sign(&delivery.webhook.secret, message_id, timestamp, body),
            ),
        ]
    }
}

/// The payload of each webhook format.
#[derive(Clone)]
pub struct Payloads {
    /// Invoices' events, each with the invoice as it is when sent.
    pub invoice_events: Arc<dyn Payload>,
    /// The log's events, each with its object as the event left it.
    pub object_events: Arc<dyn Payload>,
}

impl Payloads {
    /// The payload of a webhook of `format`.
    pub fn of(&self, format: WebhookFormat) -> &dyn Payload {
        match format {
            WebhookFormat::InvoiceEvents => self.invoice_events.as_ref(),
            WebhookFormat::ObjectEvents => self.object_events.as_ref(),
        }
    }
}
