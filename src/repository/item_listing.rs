//! Pages of an organization's items wherever they are, on invoices and pending, newest first.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;

use super::invoice_items::ItemRow;
use super::pages::{far_future, page_rows};
use super::parse_currency;
use super::pending_items::PendingRow;
use super::tax_record::{ItemTaxRecord, LineVatRecord};
use super::{Cursor, Tx};
use crate::domain::ids::{
    CustomerId, InvoiceId, InvoiceItemId, OrganizationId, ProductId, SubscriptionId,
};
use crate::domain::invoice_item::PlacedItem;
use crate::domain::metadata::Metadata;

/// Which items a page holds.
#[derive(Debug, Clone, Default)]
pub struct ItemListing {
    /// Only the items billed to this customer.
    pub customer_id: Option<CustomerId>,
    /// Only the items of this invoice.
    pub invoice_id: Option<InvoiceId>,
    /// Only pending items (`Some(true)`), or only items on invoices (`Some(false)`).
    pub pending: Option<bool>,
    /// Only items created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Only items created before this time.
    pub created_before: Option<DateTime<Utc>>,
}

/// A row of either table.
struct PlacedRow {
    id: InvoiceItemId,
    invoice_id: Option<InvoiceId>,
    customer_id: CustomerId,
    currency: String,
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
    tax: Option<Json<ItemTaxRecord>>,
    vat: Option<Json<LineVatRecord>>,
    metadata: Json<Metadata>,
    subscription_id: Option<SubscriptionId>,
    item_date: Option<DateTime<Utc>>,
    revision: i64,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
}

impl PlacedRow {
    fn into_item(self) -> Result<PlacedItem, sqlx::Error> {
        let Some(invoice_id) = self.invoice_id else {
            return PendingRow {
                id: self.id,
                customer_id: self.customer_id,
                currency: self.currency,
                r#type: self.r#type,
                description: self.description,
                unit_price: self.unit_price,
                quantity: self.quantity,
                price: self.price,
                product_id: self.product_id,
                period_start_time: self.period_start_time,
                period_end_time: self.period_end_time,
                metadata: self.metadata,
                subscription_id: self.subscription_id,
                item_date: self.item_date,
                revision: self.revision,
                created_time: self.created_time,
                updated_time: self.updated_time,
            }
            .into_item()
            .map(|item| PlacedItem::Pending(Box::new(item)));
        };
        let currency = parse_currency(&self.currency)?;
        let item = ItemRow {
            id: self.id,
            invoice_id,
            r#type: self.r#type,
            description: self.description,
            unit_price: self.unit_price,
            quantity: self.quantity,
            price: self.price,
            discount_amount: self.discount_amount,
            product_id: self.product_id,
            period_start_time: self.period_start_time,
            period_end_time: self.period_end_time,
            period_number: self.period_number,
            tax: self.tax,
            vat: self.vat,
            metadata: self.metadata,
            subscription_id: self.subscription_id,
            item_date: self.item_date,
            revision: self.revision,
            created_time: self.created_time,
            updated_time: self.updated_time,
        }
        .into_item()?;
        Ok(PlacedItem::OnInvoice {
            item: Box::new(item),
            customer_id: self.customer_id,
            currency,
        })
    }
}

/// The page's query, in one direction from the cursor (`$7`, `$8`): `$cmp` compares
/// `(created_time, id)` with it and `$order` sorts. Both tables are read in one statement, so
/// the page is one snapshot.
macro_rules! placed_items {
    ($cmp:literal, $order:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            PlacedRow,
            r#"select id as "id!: InvoiceItemId", invoice_id as "invoice_id: InvoiceId",
                   customer_id as "customer_id!: CustomerId", currency as "currency!",
                   type as "type!", description, unit_price as "unit_price!",
                   quantity as "quantity!", price as "price!",
                   discount_amount as "discount_amount!", product_id as "product_id: ProductId",
                   period_start_time, period_end_time, period_number,
                   tax as "tax: Json<ItemTaxRecord>", vat as "vat: Json<LineVatRecord>",
                   metadata as "metadata!: Json<Metadata>",
                   subscription_id as "subscription_id: SubscriptionId", item_date,
                   revision as "revision!", created_time as "created_time!",
                   updated_time as "updated_time!"
               from (
                   select i.id, i.invoice_id, v.customer_id, v.currency, i.type, i.description,
                       i.unit_price, i.quantity, i.price, i.discount_amount, i.product_id,
                       i.period_start_time, i.period_end_time, i.period_number, i.tax, i.vat,
                       i.metadata, i.subscription_id, i.item_date, i.revision, i.created_time,
                       i.updated_time
                   from invoice_items i
                   join invoices v on v.organization_id = i.organization_id and v.id = i.invoice_id
                   where i.organization_id = $1 and $2::boolean is not true
                     and ($3::text is null or v.customer_id = $3)
                     and ($4::text is null or i.invoice_id = $4)
                     and i.created_time >= $5 and i.created_time < $6
                     and (i.created_time, i.id) "# + $cmp + r#" ($7, $8)
                   union all
                   select p.id, null, p.customer_id, p.currency, p.type, p.description,
                       p.unit_price, p.quantity, p.price, 0, p.product_id, p.period_start_time,
                       p.period_end_time, null, null, null, p.metadata, p.subscription_id,
                       p.item_date, p.revision, p.created_time, p.updated_time
                   from pending_items p
                   where p.organization_id = $1 and $2::boolean is not false and $4::text is null
                     and ($3::text is null or p.customer_id = $3)
                     and p.created_time >= $5 and p.created_time < $6
                     and (p.created_time, p.id) "# + $cmp + r#" ($7, $8)
               ) items
               order by created_time "# + $order + ", id " + $order + " limit $9",
            $($arguments)*
        )
    };
}

impl Tx {
    /// A page of the organization's items that `listing` admits, newest first (then by id,
    /// descending), from `cursor`: at most `limit` of them, as the transaction sees them. `None` when the cursor names no
    /// item of the organization (a deleted one included).
    #[tracing::instrument(skip_all)]
    pub async fn placed_items(
        &mut self,
        organization_id: &OrganizationId,
        listing: &ItemListing,
        cursor: Cursor<'_, InvoiceItemId>,
        limit: i64,
    ) -> Result<Option<Vec<PlacedItem>>, sqlx::Error> {
        let start = cursor.start(|id| {
            sqlx::query_scalar!(
                r#"select created_time as "created_time!" from invoice_items
                   where organization_id = $1 and id = $2
                   union all
                   select created_time from pending_items
                   where organization_id = $1 and id = $2"#,
                organization_id as &OrganizationId,
                id as &InvoiceItemId,
            )
            .fetch_optional(&mut *self.inner)
        });
        let Some((cursor_time, cursor_id)) = start.await? else {
            return Ok(None);
        };
        let from = listing.created_from.unwrap_or(DateTime::UNIX_EPOCH);
        let before = listing.created_before.unwrap_or_else(far_future);
        let customer = listing.customer_id.as_ref().map(CustomerId::as_str);
        let invoice = listing.invoice_id.as_ref().map(InvoiceId::as_str);
        let limit = limit.max(0);
        let rows = page_rows!(
            self,
            cursor,
            placed_items!(
                organization_id as &OrganizationId,
                listing.pending,
                customer,
                invoice,
                from,
                before,
                cursor_time,
                cursor_id,
                limit,
            )
        );
        rows.into_iter()
            .map(PlacedRow::into_item)
            .collect::<Result<_, _>>()
            .map(Some)
    }
}
