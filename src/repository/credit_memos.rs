//! Credit memos, their numbers, and their allocations to invoices.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use super::pages::page_rows;
use super::parse_currency;
use super::tax_record::StoredDecimal;
use super::{Cursor, Tx, corrupt};
use crate::domain::credit_memo::{
    CreditAllocation, CreditLine, CreditMemo, CreditMemoStatus, CreditReason, CreditTotals,
    Credited,
};
use crate::domain::ids::{
    CreditMemoId, CreditMemoLineId, CustomerId, InvoiceId, InvoiceItemId, OrganizationId,
};
use crate::domain::metadata::Metadata;

/// One page of an organization's credit memos.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditMemoPage {
    /// How many memos match in all.
    pub total: i64,
    /// The memos of the page, newest first.
    pub credit_memos: Vec<CreditMemo>,
}

/// Which memos a listing keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditMemoFilter {
    /// Only this customer's.
    pub customer_id: Option<CustomerId>,
    /// Only those crediting this invoice.
    pub invoice_id: Option<InvoiceId>,
}

/// A memo's line as the `items` column keeps it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineRecord {
    id: CreditMemoLineId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invoice_item_id: Option<crate::domain::ids::InvoiceItemId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    unit_price: StoredDecimal,
    quantity: i64,
    price: StoredDecimal,
    discount_amount: StoredDecimal,
    tax_amount: StoredDecimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tax_description: Option<String>,
}

impl From<&CreditLine> for LineRecord {
    fn from(line: &CreditLine) -> Self {
        Self {
            id: line.id.clone(),
            invoice_item_id: line.invoice_item_id.clone(),
            description: line.description.clone(),
            unit_price: StoredDecimal(line.unit_price),
            quantity: line.quantity,
            price: StoredDecimal(line.price),
            discount_amount: StoredDecimal(line.discount_amount),
            tax_amount: StoredDecimal(line.tax_amount),
            tax_description: line.tax_description.clone(),
        }
    }
}

impl From<LineRecord> for CreditLine {
    fn from(record: LineRecord) -> Self {
        Self {
            id: record.id,
            invoice_item_id: record.invoice_item_id,
            description: record.description,
            unit_price: record.unit_price.0,
            quantity: record.quantity,
            price: record.price.0,
            discount_amount: record.discount_amount.0,
            tax_amount: record.tax_amount.0,
            tax_description: record.tax_description,
        }
    }
}

/// A credit memo's row; events keep it as JSON, which their log reads back with the same names.
#[derive(sqlx::FromRow)]
pub(super) struct CreditMemoRow {
    id: CreditMemoId,
    number: i64,
    customer_id: CustomerId,
    currency: String,
    invoice_id: InvoiceId,
    status: String,
    reason: Option<String>,
    description: Option<String>,
    items: Json<Vec<LineRecord>>,
    subtotal_amount: Decimal,
    discount_amount: Decimal,
    tax_amount: Decimal,
    shipping_amount: Decimal,
    total_amount: Decimal,
    allocated_amount: Decimal,
    out_of_band_amount: Decimal,
    metadata: Json<Metadata>,
    revision: i64,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
    voided_time: Option<DateTime<Utc>>,
}

impl CreditMemoRow {
    pub(super) fn into_credit_memo(self) -> Result<CreditMemo, sqlx::Error> {
        let reason = match &self.reason {
            Some(reason) => {
                Some(CreditReason::parse(reason).ok_or_else(|| corrupt("credit reason", reason))?)
            }
            None => None,
        };
        Ok(CreditMemo {
            status: CreditMemoStatus::parse(&self.status)
                .ok_or_else(|| corrupt("credit memo status", &self.status))?,
            currency: parse_currency(&self.currency)?,
            reason,
            id: self.id,
            number: self.number,
            customer_id: self.customer_id,
            invoice_id: self.invoice_id,
            description: self.description,
            lines: self.items.0.into_iter().map(CreditLine::from).collect(),
            totals: CreditTotals {
                subtotal_amount: self.subtotal_amount,
                discount_amount: self.discount_amount,
                tax_amount: self.tax_amount,
                shipping_amount: self.shipping_amount,
                total_amount: self.total_amount,
            },
            allocated_amount: self.allocated_amount,
            out_of_band_amount: self.out_of_band_amount,
            allocations: Vec::new(),
            metadata: self.metadata.0,
            revision: self.revision,
            created_time: self.created_time,
            updated_time: self.updated_time,
            voided_time: self.voided_time,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CreditAllocationRow {
    credit_memo_id: CreditMemoId,
    pub(super) invoice_id: InvoiceId,
    amount: Decimal,
    out_of_band_amount: Decimal,
    currency: String,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
}

impl CreditAllocationRow {
    pub(super) fn into_allocation(self) -> Result<CreditAllocation, sqlx::Error> {
        Ok(CreditAllocation {
            currency: parse_currency(&self.currency)?,
            credit_memo_id: self.credit_memo_id,
            invoice_id: self.invoice_id,
            amount: self.amount,
            given_back: self.out_of_band_amount,
            created_time: self.created_time,
            updated_time: self.updated_time,
        })
    }
}

/// `query_as!` over every column of a memo, followed by `tail` (the `where` and after) and the
/// tail's arguments: the one place that lists the columns.
macro_rules! select_credit_memos {
    ($tail:literal $(+ $more:literal)*, $($arguments:tt)*) => {
        sqlx::query_as!(
            CreditMemoRow,
            r#"select m.id as "id: CreditMemoId", m.number,
                   m.customer_id as "customer_id: CustomerId", m.currency,
                   m.invoice_id as "invoice_id: InvoiceId", m.status, m.reason, m.description,
                   m.items as "items: Json<Vec<LineRecord>>", m.subtotal_amount,
                   m.discount_amount, m.tax_amount, m.shipping_amount, m.total_amount,
                   m.allocated_amount, m.out_of_band_amount,
                   m.metadata as "metadata: Json<Metadata>", m.revision, m.created_time,
                   m.updated_time, m.voided_time
               from credit_memos m "# + $tail $(+ $more)*,
            $($arguments)*
        )
    };
}

/// A page's statement, in one direction from the cursor (`$4`, `$5`): `$cmp` compares
/// `(created_time, id)` with it and `$order` sorts.
macro_rules! credit_memos_page {
    ($cmp:literal, $order:literal, $($arguments:tt)*) => {
        select_credit_memos!(
            "where m.organization_id = $1 and ($2::text is null or m.customer_id = $2)
               and ($3::text is null or m.invoice_id = $3) and (m.created_time, m.id) "
                + $cmp
                + " ($4, $5)
             order by m.created_time "
                + $order
                + ", m.id "
                + $order
                + " limit $6",
            $($arguments)*
        )
    };
}

/// The most allocations a memo, or an invoice, is read with.
const MAX_ALLOCATIONS: i64 = 100;

impl Tx {
    /// The organization's next credit memo number. The counter's row stays locked until the
    /// transaction ends, so concurrent memos take their numbers one after another, and a
    /// rolled-back memo gives its number back: no gap.
    pub async fn next_credit_memo_number(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar!(
            "insert into credit_memo_number_sequences (organization_id, last_number) values ($1, 1)
             on conflict (organization_id) do update
                 set last_number = credit_memo_number_sequences.last_number + 1
             returning last_number",
            organization_id as &OrganizationId,
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// Stores a new memo (its allocations are stored apart).
    #[tracing::instrument(skip_all, fields(credit_memo = %memo.id))]
    pub async fn insert_credit_memo(
        &mut self,
        organization_id: &OrganizationId,
        memo: &CreditMemo,
    ) -> Result<(), sqlx::Error> {
        let lines: Vec<LineRecord> = memo.lines.iter().map(LineRecord::from).collect();
        let totals = &memo.totals;
        sqlx::query!(
            "insert into credit_memos (organization_id, id, number, customer_id, currency,
                 invoice_id, status, reason, description, items, subtotal_amount,
                 discount_amount, tax_amount, shipping_amount, total_amount, allocated_amount,
                 out_of_band_amount, metadata, revision, created_time, updated_time, voided_time)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22)",
            organization_id as &OrganizationId,
            &memo.id as &CreditMemoId,
            memo.number,
            &memo.customer_id as &CustomerId,
            memo.currency.code(),
            &memo.invoice_id as &InvoiceId,
            memo.status.as_str(),
            memo.reason.map(CreditReason::as_str),
            memo.description.as_deref(),
            Json(&lines) as Json<&Vec<LineRecord>>,
            totals.subtotal_amount,
            totals.discount_amount,
            totals.tax_amount,
            totals.shipping_amount,
            totals.total_amount,
            memo.allocated_amount,
            memo.out_of_band_amount,
            Json(&memo.metadata) as Json<&Metadata>,
            memo.revision,
            memo.created_time,
            memo.updated_time,
            memo.voided_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// Stores what changes on a memo after it is issued.
    #[tracing::instrument(skip_all, fields(credit_memo = %memo.id))]
    pub async fn update_credit_memo(
        &mut self,
        organization_id: &OrganizationId,
        memo: &CreditMemo,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "update credit_memos
             set status = $3, reason = $4, description = $5, allocated_amount = $6,
                 out_of_band_amount = $7, metadata = $8, revision = $9, updated_time = $10,
                 voided_time = $11
             where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            &memo.id as &CreditMemoId,
            memo.status.as_str(),
            memo.reason.map(CreditReason::as_str),
            memo.description.as_deref(),
            memo.allocated_amount,
            memo.out_of_band_amount,
            Json(&memo.metadata) as Json<&Metadata>,
            memo.revision,
            memo.updated_time,
            memo.voided_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// The memo of that id, with its allocations, if the organization has one.
    #[tracing::instrument(skip_all, fields(credit_memo = %credit_memo_id))]
    pub async fn find_credit_memo(
        &mut self,
        organization_id: &OrganizationId,
        credit_memo_id: &CreditMemoId,
    ) -> Result<Option<CreditMemo>, sqlx::Error> {
        let row = select_credit_memos!(
            "where m.organization_id = $1 and m.id = $2",
            organization_id as &OrganizationId,
            credit_memo_id as &CreditMemoId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        self.with_allocations(organization_id, row).await
    }

    /// The memo of that id, locked until the transaction ends, with its allocations.
    #[tracing::instrument(skip_all, fields(credit_memo = %credit_memo_id))]
    pub async fn lock_credit_memo(
        &mut self,
        organization_id: &OrganizationId,
        credit_memo_id: &CreditMemoId,
    ) -> Result<Option<CreditMemo>, sqlx::Error> {
        let row = select_credit_memos!(
            "where m.organization_id = $1 and m.id = $2 for update of m",
            organization_id as &OrganizationId,
            credit_memo_id as &CreditMemoId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        self.with_allocations(organization_id, row).await
    }

    async fn with_allocations(
        &mut self,
        organization_id: &OrganizationId,
        row: Option<CreditMemoRow>,
    ) -> Result<Option<CreditMemo>, sqlx::Error> {
        let Some(row) = row else { return Ok(None) };
        let mut memo = row.into_credit_memo()?;
        if memo.allocated_amount > Decimal::ZERO {
            memo.allocations = self
                .credit_allocations(organization_id, std::slice::from_ref(&memo.id), &[])
                .await?;
        }
        Ok(Some(memo))
    }

    /// A page of the organization's memos that pass `filter`, newest first, then by id
    /// descending, with how many pass in all.
    #[tracing::instrument(skip_all)]
    pub async fn list_credit_memos(
        &mut self,
        organization_id: &OrganizationId,
        filter: &CreditMemoFilter,
        limit: i64,
        offset: i64,
    ) -> Result<CreditMemoPage, sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from credit_memos
               where organization_id = $1 and ($2::text is null or customer_id = $2)
                 and ($3::text is null or invoice_id = $3)"#,
            organization_id as &OrganizationId,
            filter.customer_id.as_ref() as Option<&CustomerId>,
            filter.invoice_id.as_ref() as Option<&InvoiceId>,
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let credit_memos = select_credit_memos!(
            "where m.organization_id = $1 and ($2::text is null or m.customer_id = $2)
               and ($3::text is null or m.invoice_id = $3)
             order by m.created_time desc, m.id desc limit $4 offset $5",
            organization_id as &OrganizationId,
            filter.customer_id.as_ref() as Option<&CustomerId>,
            filter.invoice_id.as_ref() as Option<&InvoiceId>,
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?
        .into_iter()
        .map(CreditMemoRow::into_credit_memo)
        .collect::<Result<Vec<_>, _>>()?;
        let credit_memos = self
            .with_allocations_of(organization_id, credit_memos)
            .await?;
        Ok(CreditMemoPage {
            total,
            credit_memos,
        })
    }

    /// A page of the organization's memos that pass `filter`, newest first (then by id,
    /// descending), from `cursor`; `None` when the cursor names no memo of the organization.
    #[tracing::instrument(skip_all)]
    pub async fn credit_memos_by_cursor(
        &mut self,
        organization_id: &OrganizationId,
        filter: &CreditMemoFilter,
        cursor: Cursor<'_, CreditMemoId>,
        limit: i64,
    ) -> Result<Option<Vec<CreditMemo>>, sqlx::Error> {
        let start = cursor.start(|id| {
            sqlx::query_scalar!(
                "select created_time from credit_memos where organization_id = $1 and id = $2",
                organization_id as &OrganizationId,
                id as &CreditMemoId,
            )
            .fetch_optional(&mut *self.inner)
        });
        let Some((time, id)) = start.await? else {
            return Ok(None);
        };
        let customer = filter.customer_id.as_ref().map(CustomerId::as_str);
        let invoice = filter.invoice_id.as_ref().map(InvoiceId::as_str);
        let limit = limit.max(0);
        let rows = page_rows!(
            self,
            cursor,
            credit_memos_page!(
                organization_id as &OrganizationId,
                customer,
                invoice,
                time,
                id,
                limit,
            )
        );
        let memos = rows
            .into_iter()
            .map(CreditMemoRow::into_credit_memo)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_allocations_of(organization_id, memos)
            .await
            .map(Some)
    }

    /// The memos with their allocations, read in one statement.
    async fn with_allocations_of(
        &mut self,
        organization_id: &OrganizationId,
        mut credit_memos: Vec<CreditMemo>,
    ) -> Result<Vec<CreditMemo>, sqlx::Error> {
        let allocated: Vec<CreditMemoId> = credit_memos
            .iter()
            .filter(|memo| memo.allocated_amount > Decimal::ZERO)
            .map(|memo| memo.id.clone())
            .collect();
        if allocated.is_empty() {
            return Ok(credit_memos);
        }
        let mut allocations = self
            .credit_allocations(organization_id, &allocated, &[])
            .await?;
        for memo in &mut credit_memos {
            let (own, rest) = allocations
                .into_iter()
                .partition(|allocation| allocation.credit_memo_id == memo.id);
            memo.allocations = own;
            allocations = rest;
        }
        Ok(credit_memos)
    }

    /// The allocations of the memos, or (when no memo is named) to the invoices, oldest
    /// first; at most [`MAX_ALLOCATIONS`] of each memo or invoice.
    #[tracing::instrument(skip_all)]
    pub async fn credit_allocations(
        &mut self,
        organization_id: &OrganizationId,
        credit_memo_ids: &[CreditMemoId],
        invoice_ids: &[InvoiceId],
    ) -> Result<Vec<CreditAllocation>, sqlx::Error> {
        let by_memo = !credit_memo_ids.is_empty();
        let rows = sqlx::query_as!(
            CreditAllocationRow,
            r#"select credit_memo_id as "credit_memo_id!: CreditMemoId",
                   invoice_id as "invoice_id!: InvoiceId", amount as "amount!",
                   out_of_band_amount as "out_of_band_amount!",
                   currency as "currency!", created_time as "created_time!",
                   updated_time as "updated_time!"
               from (select a.credit_memo_id, a.invoice_id, a.amount, a.out_of_band_amount,
                         m.currency,
                         a.created_time, a.updated_time,
                         row_number() over (
                             partition by case when $4 then a.credit_memo_id else a.invoice_id end
                             order by a.created_time, a.credit_memo_id, a.invoice_id) as place
                     from credit_memo_allocations a
                     join credit_memos m on m.organization_id = a.organization_id
                                        and m.id = a.credit_memo_id
                     where a.organization_id = $1
                       and (case when $4 then a.credit_memo_id = any($2)
                                 else a.invoice_id = any($3) end)) kept
               where place <= $5
               order by created_time, credit_memo_id, invoice_id"#,
            organization_id as &OrganizationId,
            credit_memo_ids as &[CreditMemoId],
            invoice_ids as &[InvoiceId],
            by_memo,
            MAX_ALLOCATIONS,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter()
            .map(CreditAllocationRow::into_allocation)
            .collect()
    }

    /// Sets how much of a locked memo a locked invoice takes: a new allocation, a changed
    /// one, or (at 0) none any more.
    #[tracing::instrument(skip_all, fields(credit_memo = %allocation.credit_memo_id))]
    pub async fn put_credit_allocation(
        &mut self,
        organization_id: &OrganizationId,
        allocation: &CreditAllocation,
    ) -> Result<(), sqlx::Error> {
        if allocation.amount.is_zero() {
            sqlx::query!(
                "delete from credit_memo_allocations
                 where organization_id = $1 and credit_memo_id = $2 and invoice_id = $3",
                organization_id as &OrganizationId,
                &allocation.credit_memo_id as &CreditMemoId,
                &allocation.invoice_id as &InvoiceId,
            )
            .execute(&mut *self.inner)
            .await?;
            return Ok(());
        }
        sqlx::query!(
            "insert into credit_memo_allocations (organization_id, credit_memo_id, invoice_id,
                 amount, out_of_band_amount, created_time, updated_time)
             values ($1, $2, $3, $4, $7, $5, $6)
             on conflict (organization_id, credit_memo_id, invoice_id) do update
                 set amount = excluded.amount, out_of_band_amount = excluded.out_of_band_amount,
                     updated_time = excluded.updated_time",
            organization_id as &OrganizationId,
            &allocation.credit_memo_id as &CreditMemoId,
            &allocation.invoice_id as &InvoiceId,
            allocation.amount,
            allocation.created_time,
            allocation.updated_time,
            allocation.given_back,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// What the invoice's memos that are not voided credit in all, and of each of its items;
    /// read under the invoice's lock, which every memo of it takes, so it stays so until the
    /// transaction ends.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn credited_of_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<(Decimal, HashMap<InvoiceItemId, Credited>), sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select coalesce(sum(total_amount), 0) as "total!" from credit_memos
               where organization_id = $1 and invoice_id = $2 and status <> 'voided'"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let rows = sqlx::query!(
            r#"select line->>'invoiceItemId' as "item!",
                   sum((line->>'price')::numeric) as "price!",
                   sum((line->>'discountAmount')::numeric) as "discount!",
                   sum((line->>'taxAmount')::numeric) as "tax!"
               from credit_memos m, jsonb_array_elements(m.items) line
               where m.organization_id = $1 and m.invoice_id = $2 and m.status <> 'voided'
                 and line ? 'invoiceItemId'
               group by 1"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let mut items = HashMap::with_capacity(rows.len());
        for row in rows {
            let item =
                InvoiceItemId::parse(&row.item).map_err(|_| corrupt("item id", &row.item))?;
            let credited = Credited {
                price: row.price,
                discount: row.discount,
                tax: row.tax,
            };
            items.insert(item, credited);
        }
        Ok((total, items))
    }
}
