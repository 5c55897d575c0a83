//! How many rows one holder has of a kind that is capped, read so that the count stays true
//! until the transaction ends: each count first takes a lock of that holder and kind, which
//! every transaction adding to them takes too, so two cannot both see room for one more.

use super::Tx;
use crate::domain::ids::{CustomerId, InvoiceId, OrganizationId, WebhookId};

/// Counts a holder's rows in `$tx` under the holder's lock: `$holder` names the holder (its
/// kind, then its ids), and `$rows` (with `$arguments`) says which rows, from the table on.
macro_rules! count_held {
    ($tx:expr, $holder:expr, $rows:literal, $($arguments:tt)*) => {{
        $tx.hold(&$holder).await?;
        sqlx::query_scalar!(r#"select count(*) as "held!" from "# + $rows, $($arguments)*)
            .fetch_one(&mut *$tx.inner)
            .await
    }};
}

impl Tx {
    /// How many webhooks the organization has.
    pub async fn webhooks_held(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<i64, sqlx::Error> {
        count_held!(
            self,
            ["webhooks", organization_id.as_str()],
            "webhooks where organization_id = $1",
            organization_id as &OrganizationId,
        )
    }

    /// How many comments the invoice's timeline has.
    pub async fn comments_held(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<i64, sqlx::Error> {
        count_held!(
            self,
            ["comments", organization_id.as_str(), invoice_id.as_str()],
            "invoice_events
             where organization_id = $1 and invoice_id = $2
               and event_type = 'timeline-comment-created'",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
    }

    /// How many pending items the customer has.
    pub async fn pending_items_held(
        &mut self,
        organization_id: &OrganizationId,
        customer_id: &CustomerId,
    ) -> Result<i64, sqlx::Error> {
        count_held!(
            self,
            ["pending", organization_id.as_str(), customer_id.as_str()],
            "pending_items where organization_id = $1 and customer_id = $2",
            organization_id as &OrganizationId,
            customer_id as &CustomerId,
        )
    }

    /// How many deliveries of the webhook wait to be sent.
    pub async fn deliveries_waiting(
        &mut self,
        organization_id: &OrganizationId,
        webhook_id: &WebhookId,
    ) -> Result<i64, sqlx::Error> {
        count_held!(
            self,
            ["deliveries", organization_id.as_str(), webhook_id.as_str()],
            "webhook_deliveries
             where organization_id = $1 and webhook_id = $2 and state = 'pending'",
            organization_id as &OrganizationId,
            webhook_id as &WebhookId,
        )
    }

    /// Takes the lock of a holder's capped rows until the transaction ends. Ids never hold a
    /// control character, so joining the parts with U+0001 names each holder once.
    async fn hold(&mut self, holder: &[&str]) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "select pg_advisory_xact_lock(hashtextextended($1, 0))",
            holder.join("\u{1}"),
        )
        .fetch_one(&mut *self.inner)
        .await
        .map(drop)
    }
}
