//! Invoice items. Every write also stores the invoice's new totals in the same statement.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Db, Tx, corrupt};
use crate::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId, ProductId};
use crate::domain::invoice::InvoiceTotals;
use crate::domain::invoice_item::{InvoiceItem, ItemType};

/// The figures of an item that an invoice's totals depend on, read under the invoice lock.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedItem {
    /// Debit or credit.
    pub item_type: ItemType,
    /// Its price.
    pub price: Decimal,
    /// Its tax amount.
    pub tax_amount: Option<Decimal>,
    /// When it was created (kept by a replacement).
    pub created_time: DateTime<Utc>,
}

/// One page of an invoice's items.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPage {
    /// How many items the invoice has in all.
    pub total: i64,
    /// The items of the page, oldest first.
    pub items: Vec<InvoiceItem>,
}

struct ItemRow {
    id: InvoiceItemId,
    invoice_id: InvoiceId,
    r#type: String,
    description: Option<String>,
    unit_price: Decimal,
    quantity: i64,
    price: Decimal,
    discount_amount: Decimal,
    product_id: Option<ProductId>,
    period_start_time: Option<DateTime<Utc>>,
    period_end_time: Option<DateTime<Utc>>,
    period_number: Option<i32>,
    tax_amount: Option<Decimal>,
    tax_description: Option<String>,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
}

fn parse_item_type(value: &str) -> Result<ItemType, sqlx::Error> {
    ItemType::parse(value).map_err(|_| corrupt("item type", value))
}

impl TryFrom<ItemRow> for InvoiceItem {
    type Error = sqlx::Error;

    fn try_from(row: ItemRow) -> Result<Self, Self::Error> {
        Ok(Self {
            item_type: parse_item_type(&row.r#type)?,
            id: row.id,
            invoice_id: row.invoice_id,
            description: row.description,
            unit_price: row.unit_price,
            quantity: row.quantity,
            price: row.price,
            discount_amount: row.discount_amount,
            product_id: row.product_id,
            period_start_time: row.period_start_time,
            period_end_time: row.period_end_time,
            period_number: row.period_number,
            tax_amount: row.tax_amount,
            tax_description: row.tax_description,
            created_time: row.created_time,
            updated_time: row.updated_time,
        })
    }
}

impl Db {
    /// One item of one invoice.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn find_item(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<InvoiceItem>, sqlx::Error> {
        sqlx::query_as!(
            ItemRow,
            r#"select id as "id: InvoiceItemId", invoice_id as "invoice_id: InvoiceId", type,
                   description, unit_price, quantity, price, discount_amount,
                   product_id as "product_id: ProductId", period_start_time, period_end_time,
                   period_number, tax_amount, tax_description, created_time, updated_time
               from invoice_items
               where organization_id = $1 and invoice_id = $2 and id = $3"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            item_id as &InvoiceItemId,
        )
        .fetch_optional(&self.pool)
        .await?
        .map(InvoiceItem::try_from)
        .transpose()
    }
}

impl Tx {
    /// A page of an invoice's items, oldest first, then by id; `None` when there is no such
    /// invoice.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn list_items(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        limit: i64,
        offset: i64,
    ) -> Result<Option<ItemPage>, sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select (select count(*) from invoice_items
                       where organization_id = i.organization_id and invoice_id = i.id) as "total!"
               from invoices i where i.organization_id = $1 and i.id = $2"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        let Some(total) = total else { return Ok(None) };
        let items = self
            .items_of_invoice(organization_id, invoice_id, Some(limit), offset)
            .await?;
        Ok(Some(ItemPage { total, items }))
    }

    /// An invoice's items, oldest first, then by id; all of them when `limit` is `None`.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn items_of_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        limit: Option<i64>,
        offset: i64,
    ) -> Result<Vec<InvoiceItem>, sqlx::Error> {
        let rows = sqlx::query_as!(
            ItemRow,
            r#"select id as "id: InvoiceItemId", invoice_id as "invoice_id: InvoiceId", type,
                   description, unit_price, quantity, price, discount_amount,
                   product_id as "product_id: ProductId", period_start_time, period_end_time,
                   period_number, tax_amount, tax_description, created_time, updated_time
               from invoice_items
               where organization_id = $1 and invoice_id = $2
               order by created_time, id
               limit $3 offset $4"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter().map(InvoiceItem::try_from).collect()
    }

    /// The figures of an item of an invoice. Read after [`Tx::lock_invoice`], in a statement
    /// of its own, so that it sees every change committed by whoever held the lock before.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn locked_item(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<LockedItem>, sqlx::Error> {
        let row = sqlx::query!(
            "select type, price, tax_amount, created_time from invoice_items
             where organization_id = $1 and invoice_id = $2 and id = $3",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            item_id as &InvoiceItemId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| {
            Ok(LockedItem {
                item_type: parse_item_type(&row.r#type)?,
                price: row.price,
                tax_amount: row.tax_amount,
                created_time: row.created_time,
            })
        })
        .transpose()
    }

    /// Stores an item, new or replaced (keeping its `created_time`), with its invoice's new
    /// totals, adding one to the invoice's revision. The caller holds the invoice lock and, for
    /// a replacement, has read the item under it ([`Tx::locked_item`]): every writer of an
    /// invoice's items takes that lock first, so the item cannot have been deleted meanwhile.
    #[tracing::instrument(skip_all, fields(item = %item.id))]
    pub async fn save_item(
        &mut self,
        organization_id: &OrganizationId,
        item: &InvoiceItem,
        totals: &InvoiceTotals,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "with item as (
                 insert into invoice_items (organization_id, id, invoice_id, type, description,
                     unit_price, quantity, price, discount_amount, product_id, period_start_time,
                     period_end_time, period_number, tax_amount, tax_description, created_time,
                     updated_time)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 on conflict (organization_id, id) do update set type = excluded.type,
                     description = excluded.description, unit_price = excluded.unit_price,
                     quantity = excluded.quantity, price = excluded.price,
                     discount_amount = excluded.discount_amount, product_id = excluded.product_id,
                     period_start_time = excluded.period_start_time,
                     period_end_time = excluded.period_end_time,
                     period_number = excluded.period_number, tax_amount = excluded.tax_amount,
                     tax_description = excluded.tax_description,
                     updated_time = excluded.updated_time
             )
             update invoices set subtotal_amount = $18, discount_amount = $19, tax_amount = $20,
                 amount = $21, amount_due = $22, revision = revision + 1, updated_time = $17
             where organization_id = $1 and id = $3",
            organization_id as &OrganizationId,
            &item.id as &InvoiceItemId,
            &item.invoice_id as &InvoiceId,
            item.item_type.as_str(),
            item.description.as_deref(),
            item.unit_price,
            item.quantity,
            item.price,
            item.discount_amount,
            item.product_id.as_ref().map(ProductId::as_str),
            item.period_start_time,
            item.period_end_time,
            item.period_number,
            item.tax_amount,
            item.tax_description.as_deref(),
            item.created_time,
            item.updated_time,
            totals.subtotal_amount,
            totals.discount_amount,
            totals.tax_amount,
            totals.amount,
            totals.amount_due,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// Deletes an item and stores its invoice's new totals, adding one to the revision.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn delete_item(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        item_id: &InvoiceItemId,
        totals: &InvoiceTotals,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "with item as (
                 delete from invoice_items
                 where organization_id = $1 and invoice_id = $2 and id = $3
             )
             update invoices set subtotal_amount = $4, discount_amount = $5, tax_amount = $6,
                 amount = $7, amount_due = $8, revision = revision + 1, updated_time = $9
             where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            item_id as &InvoiceItemId,
            totals.subtotal_amount,
            totals.discount_amount,
            totals.tax_amount,
            totals.amount,
            totals.amount_due,
            now,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }
}
