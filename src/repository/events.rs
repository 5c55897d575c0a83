//! Events (the outbox) and the timeline read from them: an invoice's own events and comments,
//! without its items' events (`item-*`), which only the event log reads.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::{Db, PAGE_BYTES, Tx, corrupt};
use crate::domain::event::{EventChanges, EventType, InvoiceEvent};
use crate::domain::ids::{EventId, InvoiceId, OrganizationId};

/// One page of an invoice's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePage {
    /// How many messages the invoice has in all.
    pub total: i64,
    /// The messages of the page, newest first.
    pub messages: Vec<InvoiceEvent>,
}

struct EventRow {
    id: EventId,
    invoice_id: Option<InvoiceId>,
    event_type: String,
    revision: i64,
    changes: Json<EventChanges>,
    message: Option<String>,
    occurred_time: DateTime<Utc>,
}

/// The names of the types no timeline shows.
fn off_timeline() -> Vec<String> {
    EventType::OFF_TIMELINE
        .into_iter()
        .map(|event_type| event_type.as_str().to_owned())
        .collect()
}

impl TryFrom<EventRow> for InvoiceEvent {
    type Error = sqlx::Error;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        Ok(Self {
            event_type: EventType::parse(&row.event_type)
                .ok_or_else(|| corrupt("event type", &row.event_type))?,
            id: row.id,
            invoice_id: row.invoice_id,
            revision: row.revision,
            changes: row.changes.0,
            message: row.message,
            occurred_time: row.occurred_time,
            item: None,
            item_before: None,
            cause: None,
        })
    }
}

impl Tx {
    /// Writes an event with its webhook deliveries ([`Tx::record_events`] of one).
    pub async fn record_event(
        &mut self,
        organization_id: &OrganizationId,
        event: &InvoiceEvent,
    ) -> Result<(), sqlx::Error> {
        self.record_events(&[(organization_id, event)]).await
    }

    /// The invoice's revision, if the organization has it (without locking it).
    pub async fn invoice_revision(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar!(
            "select revision from invoices where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_optional(&mut *self.inner)
        .await
    }

    /// A page of the invoice's timeline, newest first, cut short once its messages and changes
    /// reach [`PAGE_BYTES`]; `None` when there is no such invoice.
    pub async fn timeline(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        limit: i64,
        offset: i64,
    ) -> Result<Option<TimelinePage>, sqlx::Error> {
        if self
            .invoice_revision(organization_id, invoice_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let off_timeline = off_timeline();
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from invoice_events
               where organization_id = $1 and invoice_id = $2
                 and event_type <> all($3)"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            &off_timeline,
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let rows = sqlx::query_as!(
            EventRow,
            r#"select id as "id: EventId", invoice_id as "invoice_id: InvoiceId", event_type,
                   revision, changes as "changes: Json<EventChanges>", message, occurred_time
               from (
                   select *, coalesce(sum(coalesce(octet_length(message), 0)
                           + octet_length(changes::text) + 400) over (
                               order by sequence desc
                               rows between unbounded preceding and 1 preceding), 0) as before
                   from (
                       select * from invoice_events
                       where organization_id = $1 and invoice_id = $2
                         and event_type <> all($6)
                       order by sequence desc limit $3 offset $4) page) sized
               where before < $5
               order by sequence desc"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            limit,
            offset,
            PAGE_BYTES,
            &off_timeline,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let messages = rows
            .into_iter()
            .map(InvoiceEvent::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Some(TimelinePage { total, messages }))
    }

    /// Deletes a comment of the invoice; the message if there was one of that id (deleted only
    /// when it is a comment).
    pub async fn delete_comment(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        message_id: &EventId,
    ) -> Result<Option<InvoiceEvent>, sqlx::Error> {
        let found = self
            .find_message(organization_id, invoice_id, message_id)
            .await?;
        if let Some(message) = &found
            && message.event_type == EventType::TimelineCommentCreated
        {
            sqlx::query!(
                "delete from invoice_events where organization_id = $1 and id = $2",
                organization_id as &OrganizationId,
                message_id as &EventId,
            )
            .execute(&mut *self.inner)
            .await?;
        }
        Ok(found)
    }

    async fn find_message(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        message_id: &EventId,
    ) -> Result<Option<InvoiceEvent>, sqlx::Error> {
        sqlx::query_as!(
            EventRow,
            r#"select id as "id: EventId", invoice_id as "invoice_id: InvoiceId", event_type,
                   revision, changes as "changes: Json<EventChanges>", message, occurred_time
               from invoice_events
               where organization_id = $1 and invoice_id = $2 and id = $3
                 and event_type <> all($4)"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            message_id as &EventId,
            &off_timeline(),
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(InvoiceEvent::try_from)
        .transpose()
    }
}

impl Db {
    /// One message of the invoice's timeline.
    pub async fn find_timeline_message(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        message_id: &EventId,
    ) -> Result<Option<InvoiceEvent>, sqlx::Error> {
        self.read(async |snapshot| {
            (snapshot.find_message(organization_id, invoice_id, message_id)).await
        })
        .await
    }
}
