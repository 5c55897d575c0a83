//! Webhook deliveries: claiming what is due, recording each attempt, the delivery log.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::webhooks::WebhookRow;
use super::{Db, PAGE_BYTES, Tx, corrupt};
use crate::domain::event::{EventChanges, EventType};
use crate::domain::ids::{AttemptId, EventId, InvoiceId, InvoiceItemId, OrganizationId, WebhookId};
use crate::domain::metadata::Metadata;
use crate::domain::webhook::{Webhook, WebhookHeader};

/// A delivery a worker has claimed: it alone sends it until its lease runs out.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery's number.
    pub id: i64,
    /// Whose it is.
    pub organization_id: OrganizationId,
    /// Where it goes (as the webhook is now).
    pub webhook: Webhook,
    /// The event sent.
    pub event_id: EventId,
    /// Its type.
    pub event_type: EventType,
    /// The invoice's revision after the event.
    pub revision: i64,
    /// What the event touched.
    pub changes: EventChanges,
    /// When it happened.
    pub occurred_time: DateTime<Utc>,
    /// The invoice; `None` for a pending item's event.
    pub invoice_id: Option<InvoiceId>,
    /// The item of an item's event.
    pub item_id: Option<InvoiceItemId>,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// When the delivery was made (its event committed).
    pub created_time: DateTime<Utc>,
}

/// A claimed delivery as its statement returns it, with its event and its webhook.
struct ClaimedRow {
    id: i64,
    organization_id: OrganizationId,
    event_id: EventId,
    event_type: String,
    revision: i64,
    changes: Json<EventChanges>,
    occurred_time: DateTime<Utc>,
    invoice_id: Option<InvoiceId>,
    item_id: Option<InvoiceItemId>,
    attempts: i32,
    created_time: DateTime<Utc>,
    webhook_id: WebhookId,
    url: String,
    method: String,
    headers: Json<Vec<WebhookHeader>>,
    events_filter: Vec<String>,
    status: String,
    secret: String,
    webhook_revision: i64,
    webhook_created_time: DateTime<Utc>,
    webhook_updated_time: DateTime<Utc>,
    format: String,
    description: Option<String>,
    metadata: Json<Metadata>,
    event_names: Vec<String>,
}

impl TryFrom<ClaimedRow> for ClaimedDelivery {
    type Error = sqlx::Error;

    fn try_from(row: ClaimedRow) -> Result<Self, Self::Error> {
        let webhook = Webhook::try_from(WebhookRow {
            id: row.webhook_id,
            url: row.url,
            method: row.method,
            headers: row.headers,
            events_filter: row.events_filter,
            status: row.status,
            secret: row.secret,
            revision: row.webhook_revision,
            created_time: row.webhook_created_time,
            updated_time: row.webhook_updated_time,
            format: row.format,
            description: row.description,
            metadata: row.metadata,
            event_names: row.event_names,
        })?;
        Ok(Self {
            id: row.id,
            organization_id: row.organization_id,
            webhook,
            event_id: row.event_id,
            event_type: EventType::parse(&row.event_type)
                .ok_or_else(|| corrupt("event type", &row.event_type))?,
            revision: row.revision,
            changes: row.changes.0,
            occurred_time: row.occurred_time,
            invoice_id: row.invoice_id,
            item_id: row.item_id,
            attempt: row.attempts,
            created_time: row.created_time,
        })
    }
}

/// A statement that claims deliveries: `$claim` is its `with` list, down to a `claimed` that
/// returns the claimed rows of `webhook_deliveries`; each comes back with its event and its
/// webhook, as the worker sends it, in the claim's round trip.
macro_rules! claim_with_details {
    ($claim:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            ClaimedRow,
            $claim + r#"
               select c.id as "id!", c.organization_id as "organization_id!: OrganizationId",
                   c.event_id as "event_id!: EventId", e.event_type as "event_type!",
                   e.revision as "revision!", e.changes as "changes!: Json<EventChanges>",
                   e.occurred_time as "occurred_time!", c.invoice_id as "invoice_id?: InvoiceId",
                   c.item_id as "item_id?: InvoiceItemId", c.attempts as "attempts!",
                   c.created_time as "created_time!", w.id as "webhook_id!: WebhookId",
                   w.url as "url!", w.method as "method!",
                   w.headers as "headers!: Json<Vec<WebhookHeader>>",
                   w.events_filter as "events_filter!", w.status as "status!",
                   w.secret as "secret!", w.revision as "webhook_revision!",
                   w.created_time as "webhook_created_time!",
                   w.updated_time as "webhook_updated_time!", w.format as "format!",
                   w.description as "description?", w.metadata as "metadata!: Json<Metadata>",
                   w.event_names as "event_names!"
               from claimed c
               -- Each a lookup by its key (`offset 0` keeps it one), whatever the statistics
               -- say: joined with the rest, a fresh database's statistics had an event matched
               -- on its organization alone, every event of the organization read for one.
               cross join lateral (
                   select event_type, revision, changes, occurred_time from invoice_events e
                   where e.organization_id = c.organization_id and e.id = c.event_id
                   offset 0) e
               cross join lateral (
                   select * from webhooks w
                   where w.organization_id = c.organization_id and w.id = c.webhook_id
                   offset 0) w
               order by c.id"#,
            $($arguments)*
        )
    };
}

/// How many more attempts each organization may start: a tenant whose receivers stall holds
/// at most `per_organization` of a process's attempts, and the others go on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationRoom {
    /// The most attempts of one organization under way at once.
    pub per_organization: i64,
    /// The organizations with that many under way.
    pub full: Vec<String>,
    /// How many attempts each organization with any has under way.
    pub under_way: HashMap<String, i64>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// A 2xx came: done.
    Delivered,
    /// To try again at this time.
    RetryAt(DateTime<Utc>),
    /// Given up.
    Failed,
}

/// One attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// `hook_log_` + ULID.
    pub id: AttemptId,
    /// The delivery.
    pub delivery_id: i64,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// The event.
    pub event_id: EventId,
    /// Its type.
    pub event_type: EventType,
    /// The invoice; `None` for a pending item's event.
    pub invoice_id: Option<InvoiceId>,
    /// The item of an item's event.
    pub item_id: Option<InvoiceItemId>,
    /// Which attempt, from 1.
    pub attempt: i32,
    /// Where it went.
    pub url: String,
    /// How.
    pub method: String,
    /// The response's status; `None` when no response came.
    pub status: Option<i32>,
    /// Why no response came.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
    /// The body sent.
    pub request: String,
    /// The headers sent, the signature among them (never the secret).
    pub request_headers: Vec<(String, String)>,
    /// The response's body, truncated.
    pub response: Option<String>,
    /// The response's headers.
    pub response_headers: Option<Vec<(String, String)>>,
    /// When the attempt began.
    pub initiated_time: DateTime<Utc>,
    /// When the request went out.
    pub sent_time: DateTime<Utc>,
}

/// One page of the delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptPage {
    /// How many attempts the organization's log holds.
    pub total: i64,
    /// The attempts of the page, newest first.
    pub attempts: Vec<Attempt>,
}

/// How much is waiting to be sent, over every organization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backlog {
    /// Deliveries not yet delivered nor given up.
    pub pending: i64,
    /// Seconds since the oldest of them was made; 0 when there are none.
    pub oldest_age_seconds: f64,
}

struct AttemptRow {
    id: AttemptId,
    delivery_id: i64,
    webhook_id: WebhookId,
    event_id: EventId,
    event_type: String,
    invoice_id: Option<InvoiceId>,
    item_id: Option<InvoiceItemId>,
    attempt: i32,
    url: String,
    method: String,
    status: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
    request: String,
    request_headers: Json<Vec<(String, String)>>,
    response: Option<String>,
    response_headers: Option<Json<Vec<(String, String)>>>,
    initiated_time: DateTime<Utc>,
    sent_time: DateTime<Utc>,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = sqlx::Error;

    fn try_from(row: AttemptRow) -> Result<Self, Self::Error> {
        Ok(Self {
            event_type: EventType::parse(&row.event_type)
                .ok_or_else(|| corrupt("event type", &row.event_type))?,
            id: row.id,
            delivery_id: row.delivery_id,
            webhook_id: row.webhook_id,
            event_id: row.event_id,
            invoice_id: row.invoice_id,
            item_id: row.item_id,
            attempt: row.attempt,
            url: row.url,
            method: row.method,
            status: row.status,
            error: row.error,
            duration_ms: row.duration_ms,
            request: row.request,
            request_headers: row.request_headers.0,
            response: row.response,
            response_headers: row.response_headers.map(|headers| headers.0),
            initiated_time: row.initiated_time,
            sent_time: row.sent_time,
        })
    }
}

/// A due delivery that may go now, as the claim reads it, oldest first.
struct Candidate {
    organization_id: OrganizationId,
    id: i64,
    webhook_id: WebhookId,
}

/// The candidates a claim may take, in their order (organizations and numbers): those among
/// the first `per_webhook` candidates of their webhook and within what their organization's
/// `room` leaves, each counted in its webhook's and its organization's place whether or not
/// it is taken.
fn takeable(
    candidates: &[Candidate],
    per_webhook: i64,
    room: &OrganizationRoom,
) -> (Vec<OrganizationId>, Vec<i64>) {
    let mut webhook_places: HashMap<(&str, &str), i64> = HashMap::new();
    let mut organization_places: HashMap<&str, i64> = HashMap::new();
    let mut organizations = Vec::new();
    let mut ids = Vec::new();
    for candidate in candidates {
        let organization = candidate.organization_id.as_str();
        let webhook_place = webhook_places
            .entry((organization, candidate.webhook_id.as_str()))
            .or_default();
        *webhook_place += 1;
        let organization_place = organization_places.entry(organization).or_default();
        *organization_place += 1;
        let left = room.per_organization - room.under_way.get(organization).copied().unwrap_or(0);
        if *webhook_place <= per_webhook && *organization_place <= left {
            organizations.push(candidate.organization_id.clone());
            ids.push(candidate.id);
        }
    }
    (organizations, ids)
}

impl Tx {
    /// The webhook a logged attempt was made to, if the organization has such an attempt.
    pub async fn attempt_webhook(
        &mut self,
        organization_id: &OrganizationId,
        attempt_id: &AttemptId,
    ) -> Result<Option<WebhookId>, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select webhook_id as "webhook_id: WebhookId" from webhook_attempts
               where organization_id = $1 and id = $2"#,
            organization_id as &OrganizationId,
            attempt_id as &AttemptId,
        )
        .fetch_optional(&mut *self.inner)
        .await
    }

    /// Sends a logged attempt's event to its webhook again, as a new delivery due now (after
    /// any earlier one of its invoice or item still pending): `Some(None)` when it is scheduled,
    /// `Some(Some(webhook))` when that webhook is gone, `None` when there is no such attempt.
    pub async fn resend(
        &mut self,
        organization_id: &OrganizationId,
        attempt_id: &AttemptId,
    ) -> Result<Option<Option<WebhookId>>, sqlx::Error> {
        let row = sqlx::query!(
            r#"with attempt as (
                   select webhook_id, event_id, invoice_id, item_id from webhook_attempts
                   where organization_id = $1 and id = $2),
               resent as (
                   insert into webhook_deliveries (organization_id, webhook_id, event_id,
                       invoice_id, item_id, next_attempt_time, created_time)
                   select w.organization_id, w.id, a.event_id, a.invoice_id, a.item_id,
                       greatest(now(), (
                           select p.next_attempt_time from webhook_deliveries p
                           where p.organization_id = w.organization_id and p.webhook_id = w.id
                             and p.invoice_id = a.invoice_id and p.state = 'pending'
                           order by p.id desc limit 1), (
                           select p.next_attempt_time from webhook_deliveries p
                           where p.organization_id = w.organization_id and p.webhook_id = w.id
                             and p.item_id = a.item_id and p.state = 'pending'
                           order by p.id desc limit 1)),
                       now()
                   from attempt a
                   join webhooks w on w.organization_id = $1 and w.id = a.webhook_id
                   returning id)
               select a.webhook_id as "webhook_id: WebhookId",
                   exists (select 1 from resent) as "resent!"
               from attempt a"#,
            organization_id as &OrganizationId,
            attempt_id as &AttemptId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        self.wrote_deliveries |= row.as_ref().is_some_and(|row| row.resent);
        Ok(row.map(|row| (!row.resent).then_some(row.webhook_id)))
    }
}

impl Db {
    /// Claims up to `limit` due deliveries, at most `per_webhook` of any one webhook and none
    /// of the `busy` ones (`organization/webhook`), and no more of an organization than its
    /// `room` (what `per_organization` leaves of the attempts it has under way), leasing them
    /// for `lease`; each comes with its event and its webhook. It looks no further than the
    /// `4 × min(limit, per_organization)` oldest due deliveries that may go now.
    ///
    /// A delivery is due when its time has come, no worker holds its lease, and no earlier
    /// delivery of its webhook and invoice, or of its webhook and item, is still pending: an
    /// invoice's events, and an item's, go out one at a time, in order. The later deliveries
    /// of a webhook and invoice are written, and a failure reschedules them, no earlier than
    /// the first, so the deliveries waiting behind one that waits for its retry are not read
    /// at all; those behind one being sent at this moment are read past, and so is one
    /// written while its first's failure was being recorded (it read the first's time before
    /// the retry moved it), until the next retry moves it too. Order never depends on the
    /// times: it is the `not exists` below. `SKIP LOCKED` lets every replica's worker claim
    /// at once without taking the same.
    pub async fn claim_deliveries(
        &self,
        limit: i64,
        per_webhook: i64,
        busy: &[String],
        room: &OrganizationRoom,
        lease: Duration,
    ) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        // Planned for its arguments (the busy webhooks and organizations it leaves out) with
        // sequential, bitmap and sort steps turned off (a penalty in the planner's costs): the
        // candidates are read from the queue's index of pending deliveries in its order,
        // stopping at as many as are asked for, the one plan that needs no sort. Left to the
        // statistics, a fresh database's (a queue analyzed while nearly empty) had claims read
        // the whole queue, and the whole table with every delivery the log keeps, then sort
        // it: 13 to 20 ms a claim in the deliveries bench.
        let claimed = self
            .on_connection_read_in_index_order(async |connection| {
                let candidates = sqlx::query_as!(
                    Candidate,
                    r#"select d.organization_id as "organization_id: OrganizationId", d.id,
                           d.webhook_id as "webhook_id: WebhookId"
                       from webhook_deliveries d
                       where d.state = 'pending' and d.next_attempt_time <= now()
                         and (d.lease_until is null or d.lease_until < now())
                         and d.organization_id || '/' || d.webhook_id <> all($2)
                         and d.organization_id <> all($3)
                         and not exists (
                             select 1 from webhook_deliveries e
                             where e.organization_id = d.organization_id
                               and e.webhook_id = d.webhook_id
                               and e.invoice_id = d.invoice_id
                               and e.state = 'pending' and e.id < d.id)
                         -- Apart, not with `or`: each anti-join keeps its own key.
                         and not exists (
                             select 1 from webhook_deliveries e
                             where e.organization_id = d.organization_id
                               and e.webhook_id = d.webhook_id
                               and e.item_id = d.item_id
                               and e.state = 'pending' and e.id < d.id)
                       order by d.next_attempt_time, d.id
                       limit $1"#,
                    // Four for each place, counting no more places than one organization may
                    // take: four for every free place had a claim rank 932 of one
                    // organization's backlog to take the 41 its share left.
                    limit.min(room.per_organization).saturating_mul(4),
                    busy as &[String],
                    &room.full as &[String],
                )
                .fetch_all(&mut *connection)
                .await?;
                let (organizations, ids) = takeable(&candidates, per_webhook, room);
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                claim_with_details!(
                    r#"with due as (
                           select d.organization_id, d.id
                           from unnest($1::text[], $2::bigint[]) with ordinality
                               as c(organization_id, id, place)
                           -- One lookup by key each, taken in the candidates' order until the
                           -- claim has its fill: one locked by another worker is left to it.
                           cross join lateral (
                               select d.organization_id, d.id from webhook_deliveries d
                               where d.organization_id = c.organization_id and d.id = c.id
                                 and d.state = 'pending' and d.next_attempt_time <= now()
                                 and (d.lease_until is null or d.lease_until < now())
                               for update skip locked) d
                           order by c.place
                           limit $3),
                       claimed as (
                           update webhook_deliveries d
                           set lease_until = now() + make_interval(secs => $4::bigint / 1000.0),
                               attempts = d.attempts + 1
                           from due
                           where d.organization_id = due.organization_id and d.id = due.id
                           returning d.*)"#,
                    &organizations as &[OrganizationId],
                    &ids as &[i64],
                    limit,
                    lease_ms,
                )
                .fetch_all(connection)
                .await
            })
            .await?;
        claimed.into_iter().map(ClaimedDelivery::try_from).collect()
    }

    /// Records an attempt in the log and what became of its delivery (a retry takes the later
    /// deliveries of its webhook and invoice or item with it, to its time or later) and, when
    /// `chain` gives a lease and the delivery was delivered, claims the next delivery of its
    /// webhook and invoice or item if that is due and free, all in one statement (one commit): the worker sends an
    /// invoice's events one after another without waiting for its next round of claims. A
    /// delivery whose lease has passed to another worker meanwhile is left to that worker
    /// (and nothing is chained); the attempt is logged all the same.
    pub async fn finish_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &Attempt,
        state: DeliveryState,
        chain: Option<Duration>,
    ) -> Result<Option<ClaimedDelivery>, sqlx::Error> {
        let (state_name, next_attempt_time) = match state {
            DeliveryState::Delivered => ("delivered", None),
            DeliveryState::RetryAt(time) => ("pending", Some(time)),
            DeliveryState::Failed => ("failed", None),
        };
        let chain_ms = chain
            .filter(|_| state == DeliveryState::Delivered)
            .map(|lease| i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let next = self
            .on_connection(async |connection| {
                claim_with_details!(
                    r#"with finished as (
                           update webhook_deliveries
                           set state = $2, lease_until = null,
                               next_attempt_time = coalesce($3, next_attempt_time),
                               finished_time = case when $2 = 'pending' then null else now() end
                           where organization_id = $5 and id = $1 and attempts = $4
                             and state = 'pending'
                           returning id),
                       -- Those locked by another transaction are left as they are: the
                       -- webhook's deletion, whose cascade takes them in an order of its own,
                       -- would otherwise wait for this statement while it waits for them (a
                       -- deadlock, one of the two ended). One left sooner is read past by the
                       -- claims until a retry moves it.
                       deferred as (
                           update webhook_deliveries d
                           set next_attempt_time = $3
                           from (
                               select id from webhook_deliveries
                               where organization_id = $5 and webhook_id = $7
                                 and (invoice_id = $10 or item_id = $23)
                                 and state = 'pending' and id > $1 and next_attempt_time < $3
                                 and $2 = 'pending' and exists (select 1 from finished)
                               for update skip locked) later
                           where d.organization_id = $5 and d.id = later.id),
                       logged as (
                           insert into webhook_attempts (organization_id, id, delivery_id,
                               webhook_id, event_id, event_type, invoice_id, item_id, attempt, url,
                               method, status, error, duration_ms, request, request_headers,
                               response, response_headers, initiated_time, sent_time, created_time)
                           values ($5, $6, $1, $7, $8, $9, $10, $23, $4, $11, $12, $13, $14, $15,
                               $16, $17, $18, $19, $20, $21, now())),
                       next as (
                           select n.id from webhook_deliveries n
                           where n.organization_id = $5 and n.webhook_id = $7
                             and (n.invoice_id = $10 or n.item_id = $23)
                             and n.state = 'pending' and n.id <> $1
                             and $22::bigint is not null and exists (select 1 from finished)
                             -- Next on both of its keys, as a claim checks: one that shares
                             -- the finished one's invoice may still wait for its item's.
                             and not exists (
                                 select 1 from webhook_deliveries e
                                 where e.organization_id = n.organization_id
                                   and e.webhook_id = n.webhook_id
                                   and e.invoice_id = n.invoice_id
                                   and e.state = 'pending' and e.id < n.id and e.id <> $1)
                             and not exists (
                                 select 1 from webhook_deliveries e
                                 where e.organization_id = n.organization_id
                                   and e.webhook_id = n.webhook_id
                                   and e.item_id = n.item_id
                                   and e.state = 'pending' and e.id < n.id and e.id <> $1)
                           order by n.id
                           limit 1
                           for update of n skip locked),
                       claimed as (
                           update webhook_deliveries d
                           set lease_until = now() + make_interval(secs => $22::bigint / 1000.0),
                               attempts = d.attempts + 1
                           from next
                           where d.organization_id = $5 and d.id = next.id
                             and d.next_attempt_time <= now()
                             and (d.lease_until is null or d.lease_until < now())
                           returning d.*)"#,
                    delivery.id,
                    state_name,
                    next_attempt_time,
                    delivery.attempt,
                    &delivery.organization_id as &OrganizationId,
                    &attempt.id as &AttemptId,
                    &delivery.webhook.id as &WebhookId,
                    &delivery.event_id as &EventId,
                    delivery.event_type.as_str(),
                    delivery.invoice_id.as_ref() as Option<&InvoiceId>,
                    attempt.url,
                    attempt.method,
                    attempt.status,
                    attempt.error,
                    attempt.duration_ms,
                    attempt.request,
                    Json(&attempt.request_headers) as Json<&Vec<(String, String)>>,
                    attempt.response,
                    attempt.response_headers.as_ref().map(Json)
                        as Option<Json<&Vec<(String, String)>>>,
                    attempt.initiated_time,
                    attempt.sent_time,
                    chain_ms,
                    delivery.item_id.as_ref() as Option<&InvoiceItemId>,
                )
                .fetch_optional(connection)
                .await
            })
            .await?;
        next.map(ClaimedDelivery::try_from).transpose()
    }

    /// Ends a delivery without an attempt: its webhook was deactivated after the event.
    pub async fn cancel_delivery(&self, delivery: &ClaimedDelivery) -> Result<(), sqlx::Error> {
        self.on_connection(async |connection| {
            sqlx::query!(
                r#"update webhook_deliveries set state = 'failed', lease_until = null,
                       finished_time = now()
                   where organization_id = $1 and id = $2 and attempts = $3
                     and state = 'pending'"#,
                &delivery.organization_id as &OrganizationId,
                delivery.id,
                delivery.attempt,
            )
            .execute(connection)
            .await
            .map(drop)
        })
        .await
    }

    /// How much is waiting to be sent.
    pub async fn delivery_backlog(&self) -> Result<Backlog, sqlx::Error> {
        self.on_connection(async |connection| {
            sqlx::query_as!(
                Backlog,
                r#"select count(*) as "pending!",
                       coalesce(extract(epoch from now() - min(created_time)), 0)::float8
                           as "oldest_age_seconds!"
                   from webhook_deliveries where state = 'pending'"#,
            )
            .fetch_one(connection)
            .await
        })
        .await
    }

    /// Deletes up to `batch` of the delivery log's entries older than `age`, the oldest first,
    /// over every organization; returns how many.
    pub async fn delete_attempts_older_than(
        &self,
        age: Duration,
        batch: i64,
    ) -> Result<u64, sqlx::Error> {
        // Planned for its age and batch: the entries older than it are few of many.
        self.on_connection_planned_for_arguments(async |connection| {
            sqlx::query!(
                "delete from webhook_attempts where (organization_id, id) in (
                     select organization_id, id from webhook_attempts
                     where created_time < now() - make_interval(secs => $1)
                     order by created_time limit $2)",
                age.as_secs_f64(),
                batch,
            )
            .execute(connection)
            .await
            .map(|done| done.rows_affected())
        })
        .await
    }

    /// A page of the organization's delivery log, newest first, cut short once its bodies
    /// reach [`PAGE_BYTES`].
    pub async fn list_attempts(
        &self,
        organization_id: &OrganizationId,
        limit: i64,
        offset: i64,
    ) -> Result<AttemptPage, sqlx::Error> {
        let mut snapshot = self.snapshot().await?;
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from webhook_attempts where organization_id = $1"#,
            organization_id as &OrganizationId,
        )
        .fetch_one(&mut *snapshot.inner)
        .await?;
        let rows = sqlx::query_as!(
            AttemptRow,
            r#"select id as "id: AttemptId", delivery_id, webhook_id as "webhook_id: WebhookId",
                   event_id as "event_id: EventId", event_type,
                   invoice_id as "invoice_id: InvoiceId",
                   item_id as "item_id: InvoiceItemId", attempt, url, method, status, error,
                   duration_ms, request,
                   request_headers as "request_headers: Json<Vec<(String, String)>>", response,
                   response_headers as "response_headers: Json<Vec<(String, String)>>",
                   initiated_time, sent_time
               from (
                   select *, coalesce(sum(octet_length(request)
                           + coalesce(octet_length(response), 0)
                           + octet_length(request_headers::text)
                           + coalesce(octet_length(response_headers::text), 0) + 400) over (
                               order by created_time desc, id desc
                               rows between unbounded preceding and 1 preceding), 0) as before
                   from (
                       select * from webhook_attempts where organization_id = $1
                       order by created_time desc, id desc limit $2 offset $3) page) sized
               where before < $4
               order by created_time desc, id desc"#,
            organization_id as &OrganizationId,
            limit,
            offset,
            PAGE_BYTES,
        )
        .fetch_all(&mut *snapshot.inner)
        .await?;
        snapshot.commit().await?;
        let attempts = rows
            .into_iter()
            .map(Attempt::try_from)
            .collect::<Result<_, _>>()?;
        Ok(AttemptPage { total, attempts })
    }

    /// One attempt of the organization's delivery log.
    pub async fn find_attempt(
        &self,
        organization_id: &OrganizationId,
        attempt_id: &AttemptId,
    ) -> Result<Option<Attempt>, sqlx::Error> {
        self.on_connection(async |connection| {
            sqlx::query_as!(
                AttemptRow,
                r#"select id as "id: AttemptId", delivery_id,
                       webhook_id as "webhook_id: WebhookId", event_id as "event_id: EventId",
                       event_type, invoice_id as "invoice_id: InvoiceId",
                   item_id as "item_id: InvoiceItemId", attempt, url, method,
                       status, error, duration_ms, request,
                       request_headers as "request_headers: Json<Vec<(String, String)>>",
                       response,
                       response_headers as "response_headers: Json<Vec<(String, String)>>",
                       initiated_time, sent_time
                   from webhook_attempts where organization_id = $1 and id = $2"#,
                organization_id as &OrganizationId,
                attempt_id as &AttemptId,
            )
            .fetch_optional(connection)
            .await
        })
        .await?
        .map(Attempt::try_from)
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(organization: &str, webhook: &str, id: i64) -> Candidate {
        Candidate {
            organization_id: OrganizationId::parse(organization).unwrap(),
            id,
            webhook_id: WebhookId::parse(webhook).unwrap(),
        }
    }

    fn room(per_organization: i64, under_way: &[(&str, i64)]) -> OrganizationRoom {
        OrganizationRoom {
            per_organization,
            full: Vec::new(),
            under_way: under_way
                .iter()
                .map(|(org, count)| ((*org).to_owned(), *count))
                .collect(),
        }
    }

    fn ids(taken: (Vec<OrganizationId>, Vec<i64>)) -> Vec<i64> {
        assert_eq!(taken.0.len(), taken.1.len());
        taken.1
    }

    #[test]
    fn a_claim_takes_at_most_per_webhook_of_one_webhook_in_order() {
        let candidates = vec![
            candidate("org_a", "hook_1", 1),
            candidate("org_a", "hook_1", 2),
            candidate("org_a", "hook_2", 3),
            candidate("org_a", "hook_1", 4),
            candidate("org_a", "hook_2", 5),
        ];
        assert_eq!(ids(takeable(&candidates, 2, &room(64, &[]))), [1, 2, 3, 5]);
    }

    #[test]
    fn a_claim_leaves_an_organization_no_more_than_its_room() {
        let candidates = vec![
            candidate("org_a", "hook_1", 1),
            candidate("org_b", "hook_9", 2),
            candidate("org_a", "hook_2", 3),
            candidate("org_a", "hook_3", 4),
            candidate("org_b", "hook_9", 5),
        ];
        // org_a has 2 of its 3 under way; org_b none.
        let taken = takeable(&candidates, 64, &room(3, &[("org_a", 2)]));
        assert_eq!(
            taken
                .0
                .iter()
                .map(OrganizationId::as_str)
                .collect::<Vec<_>>(),
            ["org_a", "org_b", "org_b"]
        );
        assert_eq!(taken.1, [1, 2, 5]);
    }

    #[test]
    fn a_candidate_left_out_still_takes_its_places() {
        // The second of hook_1 is past per_webhook, and still counts in its organization's
        // places, as the claim ranks them: the third candidate is the organization's third.
        let candidates = vec![
            candidate("org_a", "hook_1", 1),
            candidate("org_a", "hook_1", 2),
            candidate("org_a", "hook_2", 3),
        ];
        assert_eq!(ids(takeable(&candidates, 1, &room(2, &[]))), [1]);
    }

    #[test]
    fn one_webhook_id_in_two_organizations_is_two_webhooks() {
        // Clients choose webhook ids on PUT: the same id may be another organization's too.
        let candidates = vec![
            candidate("org_a", "hook_same", 1),
            candidate("org_b", "hook_same", 2),
            candidate("org_a", "hook_same", 3),
        ];
        assert_eq!(ids(takeable(&candidates, 1, &room(64, &[]))), [1, 2]);
    }

    #[test]
    fn an_organization_past_its_share_gets_nothing() {
        // More under way than its share (the share was lowered while they ran).
        let candidates = vec![
            candidate("org_a", "hook_1", 1),
            candidate("org_b", "hook_2", 2),
        ];
        let taken = takeable(&candidates, 64, &room(2, &[("org_a", 3), ("org_b", 1)]));
        assert_eq!(taken.1, [2]);
    }
}
