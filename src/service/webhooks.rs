//! Webhook use cases, and the delivery log's.

use std::time::Duration;

use chrono::Utc;

use super::destinations::Destinations;
use crate::domain::ids::{AttemptId, OrganizationId, WebhookId};
use crate::domain::webhook::{Webhook, WebhookFormat, WebhookInput, WebhookSecret, WebhookUrl};
use crate::error::{ApiError, Clash, DomainField, Quota, Resource, Rule};
use crate::repository::{Attempt, AttemptPage, Db, Tx, WebhookPage};

/// A webhook's fields, its URL's host found to resolve to addresses `destinations` admits.
/// The lookup can take seconds, so it is made before the write's transaction begins: no
/// connection of the pool waits on it.
#[derive(Debug)]
pub struct ReachableWebhook(WebhookInput);

/// Looks up the URL's host: [`ReachableWebhook`] when `destinations` admits its addresses, 422
/// on `url` otherwise.
#[tracing::instrument(skip_all)]
pub async fn check_reachable(
    input: WebhookInput,
    destinations: Destinations,
) -> Result<ReachableWebhook, ApiError> {
    check_url(&input.url, destinations).await?;
    Ok(ReachableWebhook(input))
}

/// Looks up a URL's host: 422 on `url` unless `destinations` admits its addresses.
pub async fn check_url(url: &WebhookUrl, destinations: Destinations) -> Result<(), ApiError> {
    destinations
        .check(url.as_url())
        .await
        .map(drop)
        .map_err(|reason| {
            ApiError::invalid_input(DomainField::WebhookUrl, Rule::Unreachable { reason })
        })
}

/// Changes a webhook of one format as `change` makes its fields from the current ones (a URL
/// it sets must have passed [`check_url`]), keeping its secret, in the caller's transaction;
/// 404 when there is none.
#[tracing::instrument(skip_all, fields(webhook = %webhook_id))]
pub async fn change_webhook(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    webhook_id: &WebhookId,
    format: WebhookFormat,
    change: impl FnOnce(&Webhook) -> WebhookInput,
) -> Result<Webhook, ApiError> {
    let current = tx
        .lock_webhook(organization_id, webhook_id, format)
        .await?
        .ok_or_else(|| webhook_not_found(webhook_id.as_str()))?;
    let input = change(&current);
    let (webhook, _) = save(
        tx,
        organization_id,
        webhook_id.clone(),
        Some(current),
        input,
    )
    .await?;
    Ok(webhook)
}

/// Creates a webhook with a new id and signing secret, in the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn create_webhook(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    ReachableWebhook(input): ReachableWebhook,
) -> Result<Webhook, ApiError> {
    let held = tx.webhooks_held(organization_id).await?;
    Quota::Webhooks.admits_one_more(held, organization_id.as_str())?;
    let (webhook, _) = save(tx, organization_id, WebhookId::generate(), None, input).await?;
    Ok(webhook)
}

/// Creates the webhook with that id (`true`) or replaces the one that has it (`false`),
/// keeping its secret, in the caller's transaction.
#[tracing::instrument(skip_all, fields(webhook = %webhook_id))]
pub async fn upsert_webhook(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    webhook_id: &WebhookId,
    ReachableWebhook(input): ReachableWebhook,
) -> Result<(Webhook, bool), ApiError> {
    let current = tx
        .lock_webhook(organization_id, webhook_id, input.format)
        .await?;
    if current.is_none() {
        let held = tx.webhooks_held(organization_id).await?;
        Quota::Webhooks.admits_one_more(held, organization_id.as_str())?;
    }
    save(tx, organization_id, webhook_id.clone(), current, input).await
}

async fn save(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    id: WebhookId,
    current: Option<Webhook>,
    input: WebhookInput,
) -> Result<(Webhook, bool), ApiError> {
    let now = Utc::now();
    let (secret, revision, created_time) = match current {
        Some(current) => (current.secret, current.revision + 1, current.created_time),
        None => (WebhookSecret::generate(), 0, now),
    };
    let webhook = Webhook {
        id,
        url: input.url,
        method: input.method,
        headers: input.headers,
        events_filter: input.events_filter,
        active: input.active,
        format: input.format,
        labels: input.labels,
        secret,
        revision,
        created_time,
        updated_time: now,
    };
    let created = tx
        .save_webhook(organization_id, &webhook)
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(Clash::OtherWebhookFormat {
                webhook: webhook.id.to_string(),
            })
        })?;
    Ok((webhook, created))
}

/// The most log entries one statement of [`prune_log`] deletes, so that no statement holds
/// its locks or the disk long.
const PRUNED_PER_STATEMENT: i64 = 10_000;

/// Deletes the delivery log's entries older than `retention`, a batch at a time; returns how
/// many.
#[tracing::instrument(skip_all)]
pub async fn prune_log(db: &Db, retention: Duration) -> Result<u64, ApiError> {
    let mut pruned = 0;
    loop {
        let deleted = db
            .delete_attempts_older_than(retention, PRUNED_PER_STATEMENT)
            .await?;
        pruned += deleted;
        if deleted < PRUNED_PER_STATEMENT as u64 {
            return Ok(pruned);
        }
    }
}

/// One webhook of the organization, of one format.
#[tracing::instrument(skip_all)]
pub async fn get_webhook(
    db: &Db,
    organization_id: &OrganizationId,
    webhook_id: &WebhookId,
    format: WebhookFormat,
) -> Result<Webhook, ApiError> {
    db.find_webhook(organization_id, webhook_id, format)
        .await?
        .ok_or_else(|| webhook_not_found(webhook_id.as_str()))
}

/// A page of the organization's webhooks of one format, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_webhooks(
    db: &Db,
    organization_id: &OrganizationId,
    format: WebhookFormat,
    limit: i64,
    offset: i64,
) -> Result<WebhookPage, ApiError> {
    let page = db.read(async |snapshot| {
        (snapshot.list_webhooks(organization_id, format, limit, offset)).await
    });
    Ok(page.await?)
}

/// Deletes a webhook of one format and the deliveries it has still to make; its log stays.
#[tracing::instrument(skip_all)]
pub async fn delete_webhook(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    webhook_id: &WebhookId,
    format: WebhookFormat,
) -> Result<(), ApiError> {
    if tx
        .delete_webhook(organization_id, webhook_id, format)
        .await?
    {
        Ok(())
    } else {
        Err(webhook_not_found(webhook_id.as_str()))
    }
}

/// A page of the organization's delivery log, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_attempts(
    db: &Db,
    organization_id: &OrganizationId,
    limit: i64,
    offset: i64,
) -> Result<AttemptPage, ApiError> {
    Ok(db.list_attempts(organization_id, limit, offset).await?)
}

/// One attempt of the organization's delivery log.
#[tracing::instrument(skip_all)]
pub async fn get_attempt(
    db: &Db,
    organization_id: &OrganizationId,
    attempt_id: &AttemptId,
) -> Result<Attempt, ApiError> {
    db.find_attempt(organization_id, attempt_id)
        .await?
        .ok_or_else(|| attempt_not_found(attempt_id.as_str()))
}

/// Sends a logged attempt's event to its webhook again, now; 409 when the webhook is gone.
#[tracing::instrument(skip_all)]
pub async fn resend(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    attempt_id: &AttemptId,
) -> Result<(), ApiError> {
    let webhook_id = tx
        .attempt_webhook(organization_id, attempt_id)
        .await?
        .ok_or_else(|| attempt_not_found(attempt_id.as_str()))?;
    let waiting = tx.deliveries_waiting(organization_id, &webhook_id).await?;
    Quota::WaitingDeliveries.admits_one_more(waiting, webhook_id.as_str())?;
    match tx.resend(organization_id, attempt_id).await? {
        Some(None) => Ok(()),
        Some(Some(webhook_id)) => Err(ApiError::Conflict(Clash::WebhookDeleted {
            webhook: webhook_id.to_string(),
            attempt: attempt_id.to_string(),
        })),
        None => Err(attempt_not_found(attempt_id.as_str())),
    }
}

/// The 404 for a webhook the organization does not have.
pub fn webhook_not_found(webhook_id: &str) -> ApiError {
    ApiError::not_found(Resource::Webhook, webhook_id)
}

/// The 404 for a log entry the organization does not have.
pub fn attempt_not_found(attempt_id: &str) -> ApiError {
    ApiError::not_found(Resource::WebhookAttempt, attempt_id)
}
