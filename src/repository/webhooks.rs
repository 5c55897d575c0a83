//! Webhooks.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::{Db, Tx, corrupt};
use crate::domain::event::EventType;
use crate::domain::ids::{OrganizationId, WebhookId};
use crate::domain::metadata::Metadata;
use crate::domain::webhook::{
    DeliveryMethod, Webhook, WebhookFormat, WebhookHeader, WebhookLabels, WebhookSecret, WebhookUrl,
};

/// One page of an organization's webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookPage {
    /// How many webhooks the organization has in all.
    pub total: i64,
    /// The webhooks of the page, newest first.
    pub webhooks: Vec<Webhook>,
}

pub(super) struct WebhookRow {
    pub id: WebhookId,
    pub url: String,
    pub method: String,
    pub headers: Json<Vec<WebhookHeader>>,
    pub events_filter: Vec<String>,
    pub status: String,
    pub secret: String,
    pub revision: i64,
    pub created_time: DateTime<Utc>,
    pub updated_time: DateTime<Utc>,
    pub format: String,
    pub description: Option<String>,
    pub metadata: Json<Metadata>,
    pub event_names: Vec<String>,
}

/// A read of webhooks, `$tail` from `where` on: every column a [`WebhookRow`] holds.
macro_rules! select_webhooks {
    ($tail:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            WebhookRow,
            r#"select id as "id: WebhookId", url, method,
                   headers as "headers: Json<Vec<WebhookHeader>>", events_filter, status,
                   secret, revision, created_time, updated_time, format, description,
                   metadata as "metadata: Json<Metadata>", event_names
               from webhooks "# + $tail,
            $($arguments)*
        )
    };
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = sqlx::Error;

    fn try_from(row: WebhookRow) -> Result<Self, Self::Error> {
        let events_filter = row
            .events_filter
            .iter()
            .map(|name| EventType::parse(name).ok_or_else(|| corrupt("event type", name)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            url: WebhookUrl::parse(&row.url).map_err(|_| corrupt("webhook url", &row.url))?,
            method: DeliveryMethod::parse(&row.method)
                .ok_or_else(|| corrupt("webhook method", &row.method))?,
            headers: row.headers.0,
            events_filter,
            active: row.status == "active",
            format: WebhookFormat::parse(&row.format)
                .ok_or_else(|| corrupt("webhook format", &row.format))?,
            labels: WebhookLabels {
                description: row.description,
                metadata: row.metadata.0,
                event_names: row.event_names,
            },
            secret: WebhookSecret::from_stored(row.secret),
            id: row.id,
            revision: row.revision,
            created_time: row.created_time,
            updated_time: row.updated_time,
        })
    }
}

fn status(webhook: &Webhook) -> &'static str {
    if webhook.active { "active" } else { "inactive" }
}

fn filter(webhook: &Webhook) -> Vec<&'static str> {
    webhook.events_filter.iter().map(|t| t.as_str()).collect()
}

impl Tx {
    /// Inserts a webhook, or replaces the one of its id and format; `Some(true)` when it was
    /// inserted, `None` when a webhook of another format has its id (and stays as it was).
    pub async fn save_webhook(
        &mut self,
        organization_id: &OrganizationId,
        webhook: &Webhook,
    ) -> Result<Option<bool>, sqlx::Error> {
        sqlx::query_scalar!(
            r#"insert into webhooks (organization_id, id, url, method, headers, events_filter,
                   status, secret, revision, created_time, updated_time, format, description,
                   metadata, event_names)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               on conflict (organization_id, id) do update set url = excluded.url,
                   method = excluded.method, headers = excluded.headers,
                   events_filter = excluded.events_filter, status = excluded.status,
                   revision = excluded.revision, updated_time = excluded.updated_time,
                   description = excluded.description, metadata = excluded.metadata,
                   event_names = excluded.event_names
               where webhooks.format = excluded.format
               returning (xmax = 0) as "inserted!""#,
            organization_id as &OrganizationId,
            &webhook.id as &WebhookId,
            webhook.url.as_str(),
            webhook.method.as_str(),
            Json(&webhook.headers) as Json<&Vec<WebhookHeader>>,
            &filter(webhook) as &[&str],
            status(webhook),
            webhook.secret.expose(),
            webhook.revision,
            webhook.created_time,
            webhook.updated_time,
            webhook.format.as_str(),
            webhook.labels.description.as_deref(),
            Json(&webhook.labels.metadata) as Json<&Metadata>,
            &webhook.labels.event_names,
        )
        .fetch_optional(&mut *self.inner)
        .await
    }

    /// The webhook of that id, locked until the transaction ends.
    pub async fn lock_webhook(
        &mut self,
        organization_id: &OrganizationId,
        webhook_id: &WebhookId,
        format: WebhookFormat,
    ) -> Result<Option<Webhook>, sqlx::Error> {
        select_webhooks!(
            "where organization_id = $1 and id = $2 and format = $3
             for update",
            organization_id as &OrganizationId,
            webhook_id as &WebhookId,
            format.as_str(),
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(Webhook::try_from)
        .transpose()
    }

    /// Deletes a webhook and what it has still to send; `false` when there was none.
    pub async fn delete_webhook(
        &mut self,
        organization_id: &OrganizationId,
        webhook_id: &WebhookId,
        format: WebhookFormat,
    ) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query!(
            "delete from webhooks where organization_id = $1 and id = $2 and format = $3",
            organization_id as &OrganizationId,
            webhook_id as &WebhookId,
            format.as_str(),
        )
        .execute(&mut *self.inner)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// A page of the organization's webhooks, newest first.
    pub async fn list_webhooks(
        &mut self,
        organization_id: &OrganizationId,
        format: WebhookFormat,
        limit: i64,
        offset: i64,
    ) -> Result<WebhookPage, sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from webhooks
               where organization_id = $1 and format = $2"#,
            organization_id as &OrganizationId,
            format.as_str(),
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let rows = select_webhooks!(
            "where organization_id = $1 and format = $4
             order by created_time desc, id desc limit $2 offset $3",
            organization_id as &OrganizationId,
            limit,
            offset,
            format.as_str(),
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let webhooks = rows
            .into_iter()
            .map(Webhook::try_from)
            .collect::<Result<_, _>>()?;
        Ok(WebhookPage { total, webhooks })
    }
}

impl Db {
    /// The webhook of that id and format.
    pub async fn find_webhook(
        &self,
        organization_id: &OrganizationId,
        webhook_id: &WebhookId,
        format: WebhookFormat,
    ) -> Result<Option<Webhook>, sqlx::Error> {
        self.on_connection(async |connection| {
            select_webhooks!(
                "where organization_id = $1 and id = $2 and format = $3",
                organization_id as &OrganizationId,
                webhook_id as &WebhookId,
                format.as_str(),
            )
            .fetch_optional(connection)
            .await
        })
        .await?
        .map(Webhook::try_from)
        .transpose()
    }
}
