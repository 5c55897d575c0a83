//! How many rows one holder has of a kind that is capped, read so that the count stays true
//! until the transaction ends: each count first takes a lock of that holder and kind, which
//! every transaction adding to them takes too, so two cannot both see room for one more.

use super::Tx;
use crate::domain::ids::{CustomerId, InvoiceId, OrganizationId, WebhookId};

impl Tx {
    /// How many webhooks the organization has.
    pub async fn webhooks_held(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<i64, sqlx::Error> {
        self.hold(&["webhooks", organization_id.as_str()]).await?;
        sqlx::query_scalar!(
            r#"select count(*) as "held!" from webhooks where organization_id = $1"#,
            organization_id as &OrganizationId,
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// How many comments the invoice's timeline has.
    pub async fn comments_held(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<i64, sqlx::Error> {
        let holder = ["comments", organization_id.as_str(), invoice_id.as_str()];
        self.hold(&holder).await?;
        sqlx::query_scalar!(
            r#"select count(*) as "held!" from invoice_events
               where organization_id = $1 and invoice_id = $2
                 and event_type = 'timeline-comment-created'"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// How many pending items the customer has.
    pub async fn pending_items_held(
        &mut self,
        organization_id: &OrganizationId,
        customer_id: &CustomerId,
    ) -> Result<i64, sqlx::Error> {
        let holder = ["pending", organization_id.as_str(), customer_id.as_str()];
        self.hold(&holder).await?;
        sqlx::query_scalar!(
            r#"select count(*) as "held!" from pending_items
               where organization_id = $1 and customer_id = $2"#,
            organization_id as &OrganizationId,
            customer_id as &CustomerId,
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// How many deliveries of the webhook wait to be sent.
    pub async fn deliveries_waiting(
        &mut self,
        organization_id: &OrganizationId,
        webhook_id: &WebhookId,
    ) -> Result<i64, sqlx::Error> {
        let holder = ["deliveries", organization_id.as_str(), webhook_id.as_str()];
        self.hold(&holder).await?;
        sqlx::query_scalar!(
            r#"select count(*) as "held!" from webhook_deliveries
               where organization_id = $1 and webhook_id = $2 and state = 'pending'"#,
            organization_id as &OrganizationId,
            webhook_id as &WebhookId,
        )
        .fetch_one(&mut *self.inner)
        .await
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
