//! Pending items: billed to a customer in a currency, on no invoice yet.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgExecutor;
use sqlx::types::Json;

use super::Tx;
use super::invoice_items::{
    parse_item_type, stored_description, stored_quantity, stored_unit_price,
};
use super::parse_currency;
use super::times::timestamp;
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, InvoiceItemId, OrganizationId, ProductId, SubscriptionId};
use crate::domain::invoice_item::{Description, ItemExtras, PendingItem};
use crate::domain::metadata::Metadata;

#[derive(sqlx::FromRow)]
pub(super) struct PendingRow {
    pub(super) id: InvoiceItemId,
    pub(super) customer_id: CustomerId,
    pub(super) currency: String,
    #[sqlx(rename = "type")]
    pub(super) r#type: String,
    pub(super) description: Option<String>,
    pub(super) unit_price: Decimal,
    pub(super) quantity: i64,
    pub(super) price: Decimal,
    pub(super) product_id: Option<ProductId>,
    pub(super) period_start_time: Option<DateTime<Utc>>,
    pub(super) period_end_time: Option<DateTime<Utc>>,
    pub(super) metadata: Json<Metadata>,
    pub(super) subscription_id: Option<SubscriptionId>,
    pub(super) item_date: Option<DateTime<Utc>>,
    pub(super) revision: i64,
    pub(super) created_time: DateTime<Utc>,
    pub(super) updated_time: DateTime<Utc>,
}

impl PendingRow {
    pub(super) fn into_item(self) -> Result<PendingItem, sqlx::Error> {
        Ok(PendingItem {
            id: self.id,
            customer_id: self.customer_id,
            currency: parse_currency(&self.currency)?,
            item_type: parse_item_type(&self.r#type)?,
            description: self.description.map(stored_description).transpose()?,
            unit_price: stored_unit_price(self.unit_price)?,
            quantity: stored_quantity(self.quantity)?,
            price: self.price,
            product_id: self.product_id,
            period_start_time: self.period_start_time,
            period_end_time: self.period_end_time,
            extras: ItemExtras {
                metadata: self.metadata.0,
                subscription_id: self.subscription_id,
                date: self.item_date,
            },
            revision: self.revision,
            created_time: self.created_time,
            updated_time: self.updated_time,
        })
    }
}

/// A pending item as an event keeps it: a row of `pending_items` as JSON, which the event log
/// reads back with `jsonb_populate_record` into a [`PendingRow`].
#[derive(Serialize)]
pub(super) struct PendingItemRow<'a> {
    organization_id: &'a str,
    id: &'a str,
    customer_id: &'a str,
    currency: &'static str,
    r#type: &'a str,
    description: Option<&'a str>,
    unit_price: String,
    quantity: i64,
    price: String,
    product_id: Option<&'a str>,
    period_start_time: Option<String>,
    period_end_time: Option<String>,
    metadata: &'a Metadata,
    subscription_id: Option<&'a str>,
    item_date: Option<String>,
    revision: i64,
    created_time: String,
    updated_time: String,
}

impl<'a> PendingItemRow<'a> {
    pub(super) fn of(organization_id: &'a OrganizationId, item: &'a PendingItem) -> Self {
        Self {
            organization_id: organization_id.as_str(),
            id: item.id.as_str(),
            customer_id: item.customer_id.as_str(),
            currency: item.currency.code(),
            r#type: item.item_type.as_str(),
            description: item.description.as_ref().map(Description::as_str),
            unit_price: item.unit_price.amount().to_string(),
            quantity: item.quantity.get(),
            price: item.price.to_string(),
            product_id: item.product_id.as_ref().map(ProductId::as_str),
            period_start_time: item.period_start_time.map(timestamp),
            period_end_time: item.period_end_time.map(timestamp),
            metadata: &item.extras.metadata,
            subscription_id: item
                .extras
                .subscription_id
                .as_ref()
                .map(SubscriptionId::as_str),
            item_date: item.extras.date.map(timestamp),
            revision: item.revision,
            created_time: timestamp(item.created_time),
            updated_time: timestamp(item.updated_time),
        }
    }
}

/// `query_as!` over every column of a pending item, followed by `tail` and its arguments: the
/// one place that lists the columns. With `with`, the columns are read from the named common
/// table expression (rows a `delete ... returning *` took) rather than from the table.
macro_rules! select_pending {
    (with $cte:literal, $($arguments:tt)*) => {
        select_pending!(@query $cte, "taken", "", $($arguments)*)
    };
    ($tail:literal, $($arguments:tt)*) => {
        select_pending!(@query "", "pending_items ", $tail, $($arguments)*)
    };
    (@query $cte:literal, $source:literal, $tail:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            PendingRow,
            $cte + r#"select id as "id: InvoiceItemId", customer_id as "customer_id: CustomerId",
                   currency, type, description, unit_price, quantity, price,
                   product_id as "product_id: ProductId", period_start_time, period_end_time,
                   metadata as "metadata: Json<Metadata>",
                   subscription_id as "subscription_id: SubscriptionId", item_date, revision,
                   created_time, updated_time
               from "# + $source + $tail,
            $($arguments)*
        )
    };
}

async fn select_pending_item<'e>(
    executor: impl PgExecutor<'e>,
    organization_id: &OrganizationId,
    item_id: &InvoiceItemId,
) -> Result<Option<PendingItem>, sqlx::Error> {
    select_pending!(
        "where organization_id = $1 and id = $2",
        organization_id as &OrganizationId,
        item_id as &InvoiceItemId,
    )
    .fetch_optional(executor)
    .await?
    .map(PendingRow::into_item)
    .transpose()
}

impl Tx {
    /// One pending item of the organization, as this transaction sees it.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn pending_item(
        &mut self,
        organization_id: &OrganizationId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<PendingItem>, sqlx::Error> {
        select_pending_item(&mut *self.inner, organization_id, item_id).await
    }

    /// One pending item, locked until the transaction ends: an invoice taking it in waits,
    /// and so does another change of it.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn locked_pending_item(
        &mut self,
        organization_id: &OrganizationId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<PendingItem>, sqlx::Error> {
        select_pending!(
            "where organization_id = $1 and id = $2 for update",
            organization_id as &OrganizationId,
            item_id as &InvoiceItemId,
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(PendingRow::into_item)
        .transpose()
    }

    /// Stores a pending item, new or changed (keeping its `created_time`).
    #[tracing::instrument(skip_all, fields(item = %item.id))]
    pub async fn save_pending_item(
        &mut self,
        organization_id: &OrganizationId,
        item: &PendingItem,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "insert into pending_items (organization_id, id, customer_id, currency, type,
                 description, unit_price, quantity, price, product_id, period_start_time,
                 period_end_time, metadata, subscription_id, item_date, revision, created_time,
                 updated_time)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18)
             on conflict (organization_id, id) do update set type = excluded.type,
                 description = excluded.description, unit_price = excluded.unit_price,
                 quantity = excluded.quantity, price = excluded.price,
                 product_id = excluded.product_id, period_start_time = excluded.period_start_time,
                 period_end_time = excluded.period_end_time, metadata = excluded.metadata,
                 subscription_id = excluded.subscription_id, item_date = excluded.item_date,
                 revision = excluded.revision, updated_time = excluded.updated_time",
            organization_id as &OrganizationId,
            &item.id as &InvoiceItemId,
            &item.customer_id as &CustomerId,
            item.currency.code(),
            item.item_type.as_str(),
            item.description.as_ref().map(Description::as_str),
            item.unit_price.amount(),
            item.quantity.get(),
            item.price,
            item.product_id.as_ref().map(ProductId::as_str),
            item.period_start_time,
            item.period_end_time,
            Json(&item.extras.metadata) as Json<&Metadata>,
            item.extras
                .subscription_id
                .as_ref()
                .map(SubscriptionId::as_str),
            item.extras.date,
            item.revision,
            item.created_time,
            item.updated_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// Deletes a pending item the caller has locked.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn delete_pending_item(
        &mut self,
        organization_id: &OrganizationId,
        item_id: &InvoiceItemId,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "delete from pending_items where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            item_id as &InvoiceItemId,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// Removes and returns a customer's pending items in a currency, oldest first, for an
    /// invoice to take in. An item another transaction has locked is waited for, so none is
    /// taken while it is being changed.
    #[tracing::instrument(skip_all, fields(customer = %customer_id))]
    pub async fn take_pending_items(
        &mut self,
        organization_id: &OrganizationId,
        customer_id: &CustomerId,
        currency: Currency,
    ) -> Result<Vec<PendingItem>, sqlx::Error> {
        let rows = select_pending!(
            // Locked oldest first before they are deleted, so that two invoices taking in the
            // same customer's items wait for each other rather than deadlock.
            with "with locked as (
                select id from pending_items
                where organization_id = $1 and customer_id = $2 and currency = $3
                order by created_time, id
                for update
            ), taken as (
                delete from pending_items p using locked
                where p.organization_id = $1 and p.id = locked.id
                returning p.*
            ) ",
            organization_id as &OrganizationId,
            customer_id as &CustomerId,
            currency.code(),
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let mut items = rows
            .into_iter()
            .map(PendingRow::into_item)
            .collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| (a.created_time, &a.id).cmp(&(b.created_time, &b.id)));
        Ok(items)
    }
}
