//! The delivery worker: claim, send, log, retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use tokio::sync::Notify;

use super::destination::CheckingResolver;
use super::{DeliverySettings, Payloads, Subject};
use crate::domain::ids::AttemptId;
use crate::domain::webhook::WebhookFormat;
use crate::error::ApiError;
use crate::repository::{Attempt, ClaimedDelivery, Db, DeliveryState, OrganizationRoom};
use crate::service::{credit_memos, event_log, invoice_reads};

/// Deliveries sent, by outcome: `delivered`, `retried` (failed, to be tried again) and
/// `failed` (given up).
pub const DELIVERIES: &str = "webhook_deliveries_total";

/// How many deliveries of one webhook and invoice one task sends in a row before the next
/// round of claims shares the places out again.
const MAX_IN_TURN: usize = 100;

/// How long the worker waits, once woken, before it claims: under load, commits and
/// finished attempts wake it hundreds of times a second, and each claim looks through what
/// is due, so one claim serves all of those of this interval (each invoice's later events
/// follow its first without a claim, see [`DeliveryWorker::deliver_in_turn`]).
const CLAIM_BATCHING: std::time::Duration = std::time::Duration::from_millis(25);

/// A worker: sends this process's share of the due deliveries.
pub struct DeliveryWorker {
    db: Db,
    settings: DeliverySettings,
    payloads: Payloads,
    client: reqwest::Client,
    /// Attempts under way, by `organization/webhook`.
    in_flight: Mutex<HashMap<String, usize>>,
    /// Told when a delivery is written or an attempt ends.
    wake: Notify,
}

impl DeliveryWorker {
    /// A worker over `db`, rendering bodies with the payload of each webhook's format.
    pub fn new(
        db: Db,
        settings: DeliverySettings,
        payloads: Payloads,
    ) -> Result<Self, reqwest::Error> {
        // Several callers may get here; the first provider installed stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let resolver: Arc<CheckingResolver> = settings.destinations.into();
        let client = reqwest::Client::builder()
            .dns_resolver(resolver)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.attempt_timeout)
            .connect_timeout(settings.attempt_timeout)
            .user_agent(concat!("invoice-api-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            settings,
            payloads,
            client,
            in_flight: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        })
    }

    /// Claims and sends due deliveries until the process ends: when this process commits new
    /// ones, when an attempt ends, and every poll interval for those other replicas wrote and
    /// for retries that have come due.
    pub async fn run(self: Arc<Self>) {
        let written = self.db.deliveries_written();
        loop {
            let claimed = self.claim_some().await;
            if claimed == 0 {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = written.notified() => {}
                    () = tokio::time::sleep(self.settings.poll_interval) => {}
                }
                tokio::time::sleep(CLAIM_BATCHING).await;
            }
        }
    }

    /// Claims as many due deliveries as there are free places and starts sending each; how
    /// many it claimed.
    async fn claim_some(self: &Arc<Self>) -> usize {
        let (free, busy, room) = {
            let in_flight = self.in_flight.lock().expect("in-flight counts");
            let running: usize = in_flight.values().sum();
            let busy: Vec<String> = in_flight
                .iter()
                .filter(|(_, count)| **count >= self.settings.per_webhook)
                .map(|(webhook, _)| webhook.clone())
                .collect();
            let room = organization_room(&in_flight, self.settings.per_organization);
            (
                self.settings.concurrency.saturating_sub(running),
                busy,
                room,
            )
        };
        if free == 0 {
            return 0;
        }
        let lease = self.settings.attempt_timeout * 2 + std::time::Duration::from_secs(1);
        let claimed_at = Instant::now();
        let claimed = match self
            .db
            .claim_deliveries(
                i64::try_from(free).unwrap_or(i64::MAX),
                i64::try_from(self.settings.per_webhook).unwrap_or(i64::MAX),
                &busy,
                &room,
                lease,
            )
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim webhook deliveries");
                return 0;
            }
        };
        let count = claimed.len();
        for delivery in claimed {
            let key = webhook_key(&delivery);
            *self
                .in_flight
                .lock()
                .expect("in-flight counts")
                .entry(key.clone())
                .or_default() += 1;
            let under_way = UnderWay {
                worker: Arc::clone(self),
                key,
            };
            tokio::spawn(async move {
                under_way
                    .worker
                    .deliver_in_turn(delivery, claimed_at, lease)
                    .await;
            });
        }
        count
    }

    /// Sends a delivery and, while they are delivered, the next ones of its webhook and
    /// invoice, in order, up to [`MAX_IN_TURN`] in all.
    async fn deliver_in_turn(
        &self,
        first: ClaimedDelivery,
        claimed_at: Instant,
        lease: std::time::Duration,
    ) {
        let mut next = Some((first, claimed_at));
        let mut sent = 0;
        while let Some((delivery, claimed_at)) = next.take() {
            sent += 1;
            let lease = Lease {
                claimed_at,
                length: lease,
                chain: sent < MAX_IN_TURN,
            };
            next = self.deliver(&delivery, lease).await;
        }
    }

    /// One attempt at one delivery, logged, and what becomes of the delivery after it; the
    /// next delivery of its webhook and invoice (with when it was claimed) when this one was
    /// delivered and the lease says to chain.
    async fn deliver(
        &self,
        delivery: &ClaimedDelivery,
        lease: Lease,
    ) -> Option<(ClaimedDelivery, Instant)> {
        if !delivery.webhook.active {
            if let Err(error) = self.db.cancel_delivery(delivery).await {
                tracing::warn!(%error, "cannot cancel a delivery of an inactive webhook");
            }
            return None;
        }
        let Some(subject) = self.subject(delivery).await else {
            // Sent without what it is about it would count as delivered: the lease runs out
            // instead, and it is sent later, whole.
            return None;
        };
        // A send must end before the lease does, or another worker may send the delivery
        // too, and after it the next one: a delivery whose claim waited too long (for a
        // database connection, say) is left for its lease to lapse.
        if lease.claimed_at.elapsed() + self.settings.attempt_timeout >= lease.length {
            tracing::warn!(event = %delivery.event_id, "a webhook delivery's lease ran short; left for later");
            return None;
        }
        let body = self
            .payloads
            .of(delivery.webhook.format)
            .render(delivery, &subject);
        let attempt = self.send(delivery, body).await;
        let delivered = attempt
            .status
            .is_some_and(|status| (200..300).contains(&status));
        let state = if delivered {
            DeliveryState::Delivered
        } else {
            let jitter = (getrandom::u64().unwrap_or(0) % 1_000_000) as f64 / 1_000_000.0;
            let next = self.settings.schedule.next_attempt(
                delivery.attempt,
                delivery.created_time,
                Utc::now(),
                jitter,
            );
            next.map_or(DeliveryState::Failed, DeliveryState::RetryAt)
        };
        let outcome = match state {
            DeliveryState::Delivered => "delivered",
            DeliveryState::RetryAt(_) => "retried",
            DeliveryState::Failed => "failed",
        };
        metrics::counter!(DELIVERIES, "outcome" => outcome).increment(1);
        tracing::info!(
            webhook = %delivery.webhook.id,
            event = %delivery.event_id,
            attempt = delivery.attempt,
            status = attempt.status,
            error = attempt.error.as_deref(),
            outcome,
            "webhook delivery attempted"
        );
        let chain = lease.chain.then_some(lease.length);
        let claimed_at = Instant::now();
        match self
            .db
            .finish_attempt(delivery, &attempt, state, chain)
            .await
        {
            Ok(next) => next.map(|next| (next, claimed_at)),
            Err(error) => {
                // The lease runs out and another attempt is made: at least once.
                tracing::warn!(%error, "cannot record a webhook delivery attempt");
                None
            }
        }
    }

    /// What the event is about, as its webhook's format sends it; `None` when it cannot be
    /// read now (a resource that does not exist any more is sent without it).
    async fn subject(&self, delivery: &ClaimedDelivery) -> Option<Subject> {
        if delivery.webhook.format == WebhookFormat::ObjectEvents {
            return self.logged_subject(delivery).await;
        }
        let organization_id = &delivery.organization_id;
        // Every event this format is sent has its invoice (a pending item's has none).
        let invoice = match &delivery.invoice_id {
            None => None,
            Some(invoice_id) => {
                match invoice_reads::get_invoice(&self.db, organization_id, invoice_id).await {
                    Ok(invoice) => Some(invoice),
                    Err(ApiError::NotFound(_)) => None,
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the invoice of a webhook delivery");
                        return None;
                    }
                }
            }
        };
        let credit_memo = match &delivery.changes.credit_memo {
            None => None,
            Some(id) => match credit_memos::get_credit_memo(&self.db, organization_id, id).await {
                Ok(memo) => Some(memo),
                Err(ApiError::NotFound(_)) => None,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the credit memo of a webhook delivery");
                    return None;
                }
            },
        };
        Some(Subject {
            invoice,
            credit_memo,
            ..Subject::default()
        })
    }

    /// The event as the log keeps it, with the seller.
    async fn logged_subject(&self, delivery: &ClaimedDelivery) -> Option<Subject> {
        let organization_id = &delivery.organization_id;
        let read = async {
            let logged = event_log::get_event(&self.db, organization_id, &delivery.event_id);
            let logged = logged.await?;
            let seller = self.db.find_organization(organization_id).await?.details;
            Ok::<_, ApiError>((logged, seller))
        };
        match read.await {
            Ok((logged, seller)) => Some(Subject {
                logged: Some(logged),
                seller: Some(seller),
                ..Subject::default()
            }),
            Err(error) => {
                tracing::warn!(%error, "cannot read the event of a webhook delivery");
                None
            }
        }
    }

    /// Sends the signed request; the attempt as the log keeps it.
    async fn send(&self, delivery: &ClaimedDelivery, body: Vec<u8>) -> Attempt {
        let webhook = &delivery.webhook;
        let initiated_time = Utc::now();
        let timestamp = initiated_time.timestamp();
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(
            self.payloads
                .of(webhook.format)
                .signature(delivery, timestamp, &body),
        );
        headers.extend(
            webhook
                .headers
                .iter()
                .filter(|header| header.active)
                .map(|header| (header.name.clone(), header.value.clone())),
        );
        let mut attempt = Attempt {
            id: AttemptId::generate(),
            delivery_id: delivery.id,
            webhook_id: webhook.id.clone(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type,
            invoice_id: delivery.invoice_id.clone(),
            item_id: delivery.item_id.clone(),
            attempt: delivery.attempt,
            url: webhook.url.as_str().to_owned(),
            method: webhook.method.as_str().to_owned(),
            status: None,
            error: None,
            duration_ms: 0,
            request: kept_text(&body, self.settings.kept_request_bytes),
            request_headers: headers.clone(),
            response: None,
            response_headers: None,
            initiated_time,
            sent_time: initiated_time,
        };
        let started = Instant::now();
        let outcome = self.exchange(delivery, headers, body).await;
        attempt.duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        attempt.sent_time = Utc::now();
        match outcome {
            Ok((status, response_headers, response)) => {
                attempt.status = Some(i32::from(status));
                attempt.response_headers = Some(response_headers);
                attempt.response = Some(response);
            }
            Err(error) => attempt.error = Some(error),
        }
        attempt
    }

    /// The exchange itself: the status, headers and (truncated) body of the response, or why
    /// none came.
    async fn exchange(
        &self,
        delivery: &ClaimedDelivery,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<(String, String)>, String), String> {
        let webhook = &delivery.webhook;
        let url = webhook.url.as_url();
        // A name is checked by the client's resolver as it connects; an address in the URL
        // never reaches a resolver, so it is checked here.
        if matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
            self.settings.destinations.check(url).await?;
        }
        let method = reqwest::Method::from_bytes(webhook.method.as_str().as_bytes())
            .map_err(|error| error.to_string())?;
        let mut request = self.client.request(method, url.clone()).body(body);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let response_headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let mut kept = Vec::new();
        let limit = self.settings.kept_response_bytes;
        // Only what the log keeps is read; the rest of a long answer is left unread.
        while kept.len() < limit {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit - kept.len();
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
        Ok((status, response_headers, kept_text(&kept, limit)))
    }
}

/// Runs a worker until the process ends.
pub async fn deliver_until_shutdown(worker: DeliveryWorker) {
    Arc::new(worker).run().await;
}

/// A claimed delivery's lease: when it began and how long it lasts, and whether its task may
/// claim the next delivery of the invoice when this one is delivered.
#[derive(Debug, Clone, Copy)]
struct Lease {
    claimed_at: Instant,
    length: std::time::Duration,
    chain: bool,
}

/// An attempt under way, counted in its worker's places until it is dropped, however its task
/// ends (a panic too: a count left behind would keep its organization's place for good).
struct UnderWay {
    worker: Arc<DeliveryWorker>,
    key: String,
}

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut in_flight = self.worker.in_flight.lock().expect("in-flight counts");
        if let Some(count) = in_flight.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                in_flight.remove(&self.key);
            }
        }
        drop(in_flight);
        self.worker.wake.notify_one();
    }
}

fn webhook_key(delivery: &ClaimedDelivery) -> String {
    format!("{}/{}", delivery.organization_id, delivery.webhook.id)
}

/// What each organization may still start, from the attempts under way by webhook key
/// (`organization/webhook`; an organization's id holds no `/`).
fn organization_room(
    in_flight: &HashMap<String, usize>,
    per_organization: usize,
) -> OrganizationRoom {
    let mut attempts: HashMap<&str, usize> = HashMap::new();
    for (key, count) in in_flight {
        let organization = key
            .split_once('/')
            .map_or(key.as_str(), |(organization, _)| organization);
        *attempts.entry(organization).or_default() += count;
    }
    let as_i64 = |count: usize| i64::try_from(count).unwrap_or(i64::MAX);
    OrganizationRoom {
        per_organization: as_i64(per_organization),
        full: attempts
            .iter()
            .filter(|(_, count)| **count >= per_organization)
            .map(|(organization, _)| (*organization).to_owned())
            .collect(),
        under_way: attempts
            .iter()
            .map(|(organization, count)| ((*organization).to_owned(), as_i64(*count)))
            .collect(),
    }
}

/// At most the first `limit` bytes of `body` as text, cut at a character's start, with each
/// NUL (which a receiver may answer, and PostgreSQL's text cannot hold) as U+FFFD.
fn kept_text(body: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(body);
    text[..text.floor_char_boundary(limit)].replace('\0', "\u{FFFD}")
}

/// Why a request failed, with its causes (the resolver's refusal among them).
fn describe(error: reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::kept_text;

    #[test]
    fn a_kept_body_is_cut_at_a_character_start() {
        assert_eq!(kept_text(b"{\"a\":1}", 64), "{\"a\":1}");
        assert_eq!(kept_text(b"{\"a\":1}", 3), "{\"a");
        // "é" is two bytes: a cut between them keeps neither.
        assert_eq!(kept_text("aé".as_bytes(), 2), "a");
        assert_eq!(kept_text("aé".as_bytes(), 3), "aé");
        assert_eq!(kept_text(b"a\0b", 64), "a\u{FFFD}b");
    }
}
