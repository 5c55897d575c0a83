//! Invoice items, with their discount shares and taxes as last priced.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use sqlx::postgres::{PgHasArrayType, PgTypeInfo};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, Postgres};

use super::tax_record::{ItemTaxRecord, LineVatRecord};
use super::{Db, Tx, corrupt};
use crate::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId, ProductId, SubscriptionId};
use crate::domain::invoice_item::{
    Description, InvoiceItem, ItemExtras, ItemPricing, ItemType, PeriodNumber, Quantity, UnitPrice,
};
use crate::domain::kept_tax::{KeptTax, TaxTerms};
use crate::domain::metadata::Metadata;
use crate::domain::tax::ItemTax;
use crate::domain::vat::LineVat;

/// One page of an invoice's items.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPage {
    /// How many items the invoice has in all.
    pub total: i64,
    /// The items of the page, oldest first.
    pub items: Vec<InvoiceItem>,
}

/// An item's row, as the checked statements name its columns, as a statement read by name
/// does (`FromRow`, which takes `r#type` for `type`), and as an anonymous record of
/// [`item_record!`]'s columns, in the order of these fields (`Decode`).
#[derive(sqlx::FromRow, sqlx::Decode)]
pub(super) struct ItemRow {
    pub(super) id: InvoiceItemId,
    pub(super) invoice_id: InvoiceId,
    pub(super) r#type: String,
    pub(super) description: Option<String>,
    pub(super) unit_price: Decimal,
    pub(super) quantity: i64,
    pub(super) price: Decimal,
    pub(super) discount_amount: Decimal,
    pub(super) product_id: Option<ProductId>,
    pub(super) period_start_time: Option<DateTime<Utc>>,
    pub(super) period_end_time: Option<DateTime<Utc>>,
    pub(super) period_number: Option<i32>,
    pub(super) tax: Option<Json<ItemTaxRecord>>,
    pub(super) vat: Option<Json<LineVatRecord>>,
    pub(super) metadata: Json<Metadata>,
    pub(super) subscription_id: Option<SubscriptionId>,
    pub(super) item_date: Option<DateTime<Utc>>,
    pub(super) revision: i64,
    pub(super) created_time: DateTime<Utc>,
    pub(super) updated_time: DateTime<Utc>,
}

/// An item of `invoice_items i` as an anonymous record that [`ItemRow`] decodes: its columns
/// in the order of that struct's fields.
macro_rules! item_record {
    () => {
        "row(i.id, i.invoice_id, i.type, i.description, i.unit_price, i.quantity, i.price,
             i.discount_amount, i.product_id, i.period_start_time, i.period_end_time,
             i.period_number, i.tax, i.vat, i.metadata, i.subscription_id, i.item_date,
             i.revision, i.created_time, i.updated_time)"
    };
}
pub(super) use item_record;

/// An anonymous record, each field checked against its own column's type as it is decoded.
impl sqlx::Type<Postgres> for ItemRow {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("record")
    }
}

impl PgHasArrayType for ItemRow {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::array_of("record")
    }
}

pub(super) fn parse_item_type(value: &str) -> Result<ItemType, sqlx::Error> {
    ItemType::parse(value).map_err(|_| corrupt("item type", value))
}

pub(super) fn stored_description(text: String) -> Result<Description, sqlx::Error> {
    let shown = text.clone();
    Description::parse(text).map_err(|_| corrupt("item description", &shown))
}

pub(super) fn stored_unit_price(amount: Decimal) -> Result<UnitPrice, sqlx::Error> {
    UnitPrice::parse(amount).map_err(|_| corrupt("unit price", &amount.to_string()))
}

pub(super) fn stored_quantity(count: i64) -> Result<Quantity, sqlx::Error> {
    Quantity::parse(count).map_err(|_| corrupt("quantity", &count.to_string()))
}

/// An item with how many its invoice has.
#[derive(sqlx::FromRow)]
struct CountedItemRow {
    total: i64,
    #[sqlx(flatten)]
    row: ItemRow,
}

/// An item with its organization.
#[derive(sqlx::FromRow)]
struct KeyedItemRow {
    organization_id: OrganizationId,
    #[sqlx(flatten)]
    row: ItemRow,
}

/// What pricing reads and sets of an item, with its invoice.
struct PricingRow {
    invoice_id: InvoiceId,
    id: InvoiceItemId,
    r#type: String,
    unit_price: Decimal,
    quantity: i64,
    vat: Option<Json<LineVatRecord>>,
    price: Decimal,
    discount_amount: Decimal,
    tax: Option<Json<ItemTaxRecord>>,
    revision: i64,
    updated_time: DateTime<Utc>,
}

impl PricingRow {
    /// The item, its computed tax's terms shared with the rows before it where they are the
    /// same (`shared`).
    fn into_pricing(
        self,
        shared: &mut Option<Arc<TaxTerms>>,
    ) -> Result<(InvoiceId, ItemPricing), sqlx::Error> {
        let pricing = ItemPricing {
            id: self.id,
            item_type: parse_item_type(&self.r#type)?,
            unit_price: stored_unit_price(self.unit_price)?,
            quantity: stored_quantity(self.quantity)?,
            vat: self
                .vat
                .map(|Json(record)| LineVat::try_from(record).map(Box::new))
                .transpose()?,
            price: self.price,
            discount_amount: self.discount_amount,
            tax: self
                .tax
                .map(|Json(record)| ItemTax::try_from(record))
                .transpose()?
                .map(|tax| KeptTax::of(&tax, shared)),
            revision: self.revision,
            updated_time: self.updated_time,
        };
        Ok((self.invoice_id, pricing))
    }
}

impl ItemRow {
    pub(super) fn into_item(self) -> Result<InvoiceItem, sqlx::Error> {
        Ok(InvoiceItem {
            item_type: parse_item_type(&self.r#type)?,
            tax: self
                .tax
                .map(|Json(record)| ItemTax::try_from(record))
                .transpose()?,
            vat: self
                .vat
                .map(|Json(record)| LineVat::try_from(record))
                .transpose()?,
            id: self.id,
            invoice_id: self.invoice_id,
            description: self.description.map(stored_description).transpose()?,
            unit_price: stored_unit_price(self.unit_price)?,
            quantity: stored_quantity(self.quantity)?,
            price: self.price,
            discount_amount: self.discount_amount,
            product_id: self.product_id,
            period_start_time: self.period_start_time,
            period_end_time: self.period_end_time,
            period_number: self
                .period_number
                .map(|number| {
                    PeriodNumber::parse(i64::from(number))
                        .map_err(|_| corrupt("period number", &number.to_string()))
                })
                .transpose()?,
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

/// `query_as!` over every column of an item, followed by `tail` (the `where` and after) and
/// the tail's arguments: the one place that lists the columns.
macro_rules! select_items {
    ($tail:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            ItemRow,
            r#"select id as "id: InvoiceItemId", invoice_id as "invoice_id: InvoiceId", type,
                   description, unit_price, quantity, price, discount_amount,
                   product_id as "product_id: ProductId", period_start_time, period_end_time,
                   period_number, tax as "tax: Json<ItemTaxRecord>",
                   vat as "vat: Json<LineVatRecord>", metadata as "metadata: Json<Metadata>",
                   subscription_id as "subscription_id: SubscriptionId", item_date, revision,
                   created_time, updated_time
               from invoice_items "# + $tail,
            $($arguments)*
        )
    };
}

/// One item of one invoice, through the pool or a transaction.
async fn select_item<'e>(
    executor: impl PgExecutor<'e>,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
) -> Result<Option<InvoiceItem>, sqlx::Error> {
    select_items!(
        "where organization_id = $1 and invoice_id = $2 and id = $3",
        organization_id as &OrganizationId,
        invoice_id as &InvoiceId,
        item_id as &InvoiceItemId,
    )
    .fetch_optional(executor)
    .await?
    .map(ItemRow::into_item)
    .transpose()
}

impl Db {
    /// One item of the organization, whatever its invoice: items are keyed by organization
    /// and id alone.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn find_item_by_id(
        &self,
        organization_id: &OrganizationId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<InvoiceItem>, sqlx::Error> {
        self.on_kept_connection(|| {
            async |connection| {
                select_items!(
                    "where organization_id = $1 and id = $2",
                    organization_id as &OrganizationId,
                    item_id as &InvoiceItemId,
                )
                .fetch_optional(connection)
                .await
            }
        })
        .await?
        .map(ItemRow::into_item)
        .transpose()
    }

    /// A page of an invoice's items, oldest first, then by id, with how many it has in all;
    /// `None` when there is no such invoice. A page with items is read in one statement, whose
    /// count and items are of one snapshot; an empty one is read again in a snapshot, which
    /// tells an invoice without items (or a page past its last) from no invoice.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn list_items(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        limit: i64,
        offset: i64,
    ) -> Result<Option<ItemPage>, sqlx::Error> {
        // Read by name, as the event log reads kept items: the checked statements' row has no
        // count.
        let rows: Vec<CountedItemRow> = self
            .on_kept_connection(|| {
                async |connection| {
                    sqlx::query_as(
                        "select (select count(*) from invoice_items
                             where organization_id = $1 and invoice_id = $2) as total, i.*
                     from invoice_items i
                     where i.organization_id = $1 and i.invoice_id = $2
                     order by i.created_time, i.id
                     limit $3 offset $4",
                    )
                    .bind(organization_id)
                    .bind(invoice_id)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(connection)
                    .await
                }
            })
            .await?;
        let Some(total) = rows.first().map(|row| row.total) else {
            return self
                .read(async |snapshot| {
                    snapshot
                        .list_items(organization_id, invoice_id, limit, offset)
                        .await
                })
                .await;
        };
        let items = rows
            .into_iter()
            .map(|CountedItemRow { row, .. }| row.into_item())
            .collect::<Result<_, _>>()?;
        Ok(Some(ItemPage { total, items }))
    }

    /// The items of these keys, each `(organization, item id)`, whatever their invoices, in no
    /// set order and with their organizations: in one statement, for the reads of many
    /// requests at once, on a kept connection (see [`Db::on_kept_connection`]).
    #[tracing::instrument(skip_all, fields(items = keys.len()))]
    pub async fn items_by_keys(
        &self,
        keys: &[(OrganizationId, InvoiceItemId)],
    ) -> Result<Vec<(OrganizationId, InvoiceItem)>, sqlx::Error> {
        let (organization_ids, item_ids): (Vec<&str>, Vec<&str>) = keys
            .iter()
            .map(|(organization_id, item_id)| (organization_id.as_str(), item_id.as_str()))
            .unzip();
        let rows = self
            .on_kept_connection(|| {
                async |connection| {
                    select_keyed_items(connection, &organization_ids, &item_ids).await
                }
            })
            .await?;
        rows.into_iter()
            .map(
                |KeyedItemRow {
                     organization_id,
                     row,
                 }| Ok((organization_id, row.into_item()?)),
            )
            .collect()
    }

    /// A page of the organization's items (of one invoice, when given), oldest first, then by
    /// id, starting after the item `after` (a cursor: the page does not shift when items are
    /// added or deleted before it); `None` when `after` names no item of the organization (a
    /// deleted one included, as Stripe answers a cursor it no longer has).
    #[tracing::instrument(skip_all)]
    pub async fn items_after(
        &self,
        organization_id: &OrganizationId,
        invoice_id: Option<&InvoiceId>,
        after: Option<&InvoiceItemId>,
        limit: i64,
    ) -> Result<Option<Vec<InvoiceItem>>, sqlx::Error> {
        let mut tx = self.snapshot().await?;
        let cursor = match after {
            None => None,
            Some(after) => {
                let Some(cursor) = sqlx::query!(
                    r#"select created_time, id as "id: InvoiceItemId" from invoice_items
                       where organization_id = $1 and id = $2"#,
                    organization_id as &OrganizationId,
                    after as &InvoiceItemId,
                )
                .fetch_optional(&mut *tx.inner)
                .await?
                else {
                    return Ok(None);
                };
                Some(ItemKey {
                    created_time: cursor.created_time,
                    id: cursor.id,
                })
            }
        };
        let items = tx
            .items_from_key(organization_id, invoice_id, cursor.as_ref(), limit)
            .await?;
        tx.commit().await?;
        Ok(Some(items))
    }
}

/// Where an item stands in the items' order: by creation time, then by id.
#[derive(Debug, Clone)]
pub struct ItemKey {
    pub created_time: DateTime<Utc>,
    pub id: InvoiceItemId,
}

impl ItemKey {
    /// The key of this item.
    pub fn of(item: &InvoiceItem) -> Self {
        Self {
            created_time: item.created_time,
            id: item.id.clone(),
        }
    }
}

impl Tx {
    /// Up to `limit` of the organization's items (of one invoice, when given), oldest first,
    /// then by id, after the key `after`; from the first without one.
    pub async fn items_from_key(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: Option<&InvoiceId>,
        after: Option<&ItemKey>,
        limit: i64,
    ) -> Result<Vec<InvoiceItem>, sqlx::Error> {
        // Without a key, from before any item: every item was made after 1970, and every id
        // sorts after the empty text. One plan each, with and without an invoice, so that each
        // keeps to its index.
        let (after_time, after_id) = after.map_or((DateTime::UNIX_EPOCH, ""), |key| {
            (key.created_time, key.id.as_str())
        });
        let limit = limit.max(0);
        let rows = match invoice_id {
            Some(invoice_id) => {
                select_items!(
                    "where organization_id = $1 and invoice_id = $2
                       and (created_time, id) > ($3, $4)
                     order by created_time, id
                     limit $5",
                    organization_id as &OrganizationId,
                    invoice_id as &InvoiceId,
                    after_time,
                    after_id,
                    limit,
                )
                .fetch_all(&mut *self.inner)
                .await?
            }
            None => {
                select_items!(
                    "where organization_id = $1 and (created_time, id) > ($2, $3)
                     order by created_time, id
                     limit $4",
                    organization_id as &OrganizationId,
                    after_time,
                    after_id,
                    limit,
                )
                .fetch_all(&mut *self.inner)
                .await?
            }
        };
        rows.into_iter().map(ItemRow::into_item).collect()
    }

    /// One item of the organization, whatever its invoice, as this transaction sees it.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn item_by_id(
        &mut self,
        organization_id: &OrganizationId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<InvoiceItem>, sqlx::Error> {
        select_items!(
            "where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            item_id as &InvoiceItemId,
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(ItemRow::into_item)
        .transpose()
    }

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
            .items_of_invoices(
                organization_id,
                std::slice::from_ref(invoice_id),
                Some(limit),
                offset,
            )
            .await?;
        Ok(Some(ItemPage { total, items }))
    }

    /// How many items each of these invoices of the organization has; an invoice without
    /// any is left out.
    #[tracing::instrument(skip_all)]
    pub async fn item_counts(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
    ) -> Result<HashMap<InvoiceId, usize>, sqlx::Error> {
        let rows = sqlx::query!(
            r#"select invoice_id as "invoice_id: InvoiceId", count(*) as "count!"
               from invoice_items
               where organization_id = $1 and invoice_id = any($2)
               group by invoice_id"#,
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
        )
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                (
                    row.invoice_id,
                    usize::try_from(row.count).unwrap_or(usize::MAX),
                )
            })
            .collect())
    }

    /// The items of several invoices, each invoice's oldest first, then by id; all of them
    /// when `limit` is `None`.
    #[tracing::instrument(skip_all)]
    pub async fn items_of_invoices(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
        limit: Option<i64>,
        offset: i64,
    ) -> Result<Vec<InvoiceItem>, sqlx::Error> {
        let rows = select_items!(
            "where organization_id = $1 and invoice_id = any($2)
             order by invoice_id, created_time, id
             limit $3 offset $4",
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter().map(ItemRow::into_item).collect()
    }

    /// What pricing reads and sets of every item of several invoices, each with its invoice,
    /// in the order of [`Tx::items_of_invoices`]: the columns the write path holds of the
    /// items of invoices whose items move together, a fraction of each row.
    #[tracing::instrument(skip_all)]
    pub async fn pricing_of_invoices(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
    ) -> Result<Vec<(InvoiceId, ItemPricing)>, sqlx::Error> {
        let rows = sqlx::query_as!(
            PricingRow,
            r#"select invoice_id as "invoice_id: InvoiceId", id as "id: InvoiceItemId", type,
                      unit_price, quantity, vat as "vat: Json<LineVatRecord>", price,
                      discount_amount, tax as "tax: Json<ItemTaxRecord>", revision, updated_time
               from invoice_items
               where organization_id = $1 and invoice_id = any($2)
               order by invoice_id, created_time, id"#,
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let mut shared = None;
        rows.into_iter()
            .map(|row| row.into_pricing(&mut shared))
            .collect()
    }

    /// The newest `per_invoice` items of each of several invoices, each invoice's newest first,
    /// then by id descending: one index range per invoice, however many items it has.
    #[tracing::instrument(skip_all)]
    pub async fn newest_items_of_invoices(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
        per_invoice: i64,
    ) -> Result<Vec<InvoiceItem>, sqlx::Error> {
        let rows = select_items!(
            "where (organization_id, id) in (
                 select newest.organization_id, newest.id
                 from unnest($2::text[]) as shown(invoice_id)
                 cross join lateral (
                     select organization_id, id from invoice_items
                     where organization_id = $1 and invoice_id = shown.invoice_id
                     order by created_time desc, id desc limit $3
                 ) newest
             )
             order by invoice_id, created_time desc, id desc",
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
            per_invoice.max(0),
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter().map(ItemRow::into_item).collect()
    }

    /// One item of an invoice. Read after [`Tx::lock_invoice`], in a statement of its own, so
    /// that it sees every change committed by whoever held the lock before.
    #[tracing::instrument(skip_all, fields(item = %item_id))]
    pub async fn locked_item(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        item_id: &InvoiceItemId,
    ) -> Result<Option<InvoiceItem>, sqlx::Error> {
        select_item(&mut *self.inner, organization_id, invoice_id, item_id).await
    }

    /// The organization's items among `item_ids`, whatever their invoices. Read after their
    /// invoices are locked, as [`Tx::locked_item`] is.
    pub async fn items_by_ids(
        &mut self,
        organization_id: &OrganizationId,
        item_ids: &[String],
    ) -> Result<Vec<InvoiceItem>, sqlx::Error> {
        select_items!(
            "where organization_id = $1 and id = any($2)",
            organization_id as &OrganizationId,
            item_ids,
        )
        .fetch_all(&mut *self.inner)
        .await?
        .into_iter()
        .map(ItemRow::into_item)
        .collect()
    }

    /// Deletes items, each of its organization's, in one statement. The caller holds their
    /// invoices' locks and stores the invoices' new totals, revisions and update times (see
    /// [`Tx::save_items`]).
    #[tracing::instrument(skip_all, fields(items = items.len()))]
    pub async fn delete_items(
        &mut self,
        items: &[(&OrganizationId, &InvoiceItemId)],
    ) -> Result<(), sqlx::Error> {
        let organization_ids: Vec<&str> = items
            .iter()
            .map(|(organization, _)| organization.as_str())
            .collect();
        let item_ids: Vec<&str> = items.iter().map(|(_, item)| item.as_str()).collect();
        sqlx::query!(
            "delete from invoice_items i
             using unnest($1::text[], $2::text[]) as d(organization_id, id)
             where i.organization_id = d.organization_id and i.id = d.id",
            &organization_ids as &[&str],
            &item_ids as &[&str],
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }
}

/// The items of these keys (`organization_ids[i]`, `item_ids[i]`). Read by name, as the event
/// log reads kept items: the checked statements' row has no organization.
async fn select_keyed_items(
    connection: &mut PgConnection,
    organization_ids: &[&str],
    item_ids: &[&str],
) -> Result<Vec<KeyedItemRow>, sqlx::Error> {
    sqlx::query_as(
        "select i.* from invoice_items i
         where (i.organization_id, i.id) in (select * from unnest($1::text[], $2::text[]))",
    )
    .bind(organization_ids)
    .bind(item_ids)
    .fetch_all(connection)
    .await
}
