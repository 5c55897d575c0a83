//! Transactions and their applications to invoices.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::parse_currency;
use super::{Tx, corrupt};
use crate::domain::ids::{CustomerId, InvoiceId, OrganizationId, TransactionId, WebsiteId};
use crate::domain::invoice::RECENT_ALLOCATIONS;
use crate::domain::transaction::{Allocation, PaymentMethod, Transaction, TransactionType};

/// One page of an organization's transactions.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionPage {
    /// How many transactions the organization has in all.
    pub total: i64,
    /// The transactions of the page, newest first.
    pub transactions: Vec<Transaction>,
}

/// One page of an invoice's allocations.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationPage {
    /// How many allocations the invoice has in all.
    pub total: i64,
    /// The allocations of the page, oldest first.
    pub allocations: Vec<Allocation>,
}

struct TransactionRow {
    id: TransactionId,
    r#type: String,
    customer_id: CustomerId,
    website_id: WebsiteId,
    currency: String,
    amount: Decimal,
    allocated_amount: Decimal,
    method: String,
    description: Option<String>,
    invoice_ids: Vec<String>,
    revision: i64,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
}

impl TransactionRow {
    fn into_transaction(self) -> Result<Transaction, sqlx::Error> {
        Ok(Transaction {
            kind: parse_type(&self.r#type)?,
            currency: parse_currency(&self.currency)?,
            method: PaymentMethod::parse(&self.method)
                .ok_or_else(|| corrupt("payment method", &self.method))?,
            invoice_ids: self
                .invoice_ids
                .iter()
                .map(|id| InvoiceId::parse(id).map_err(|_| corrupt("invoice id", id)))
                .collect::<Result<_, _>>()?,
            id: self.id,
            customer_id: self.customer_id,
            website_id: self.website_id,
            amount: self.amount,
            allocated_amount: self.allocated_amount,
            description: self.description,
            revision: self.revision,
            created_time: self.created_time,
            updated_time: self.updated_time,
        })
    }
}

struct AllocationRow {
    invoice_id: InvoiceId,
    transaction_id: TransactionId,
    r#type: String,
    amount: Decimal,
    currency: String,
    created_time: DateTime<Utc>,
}

impl AllocationRow {
    fn into_allocation(self) -> Result<Allocation, sqlx::Error> {
        Ok(Allocation {
            kind: parse_type(&self.r#type)?,
            currency: parse_currency(&self.currency)?,
            invoice_id: self.invoice_id,
            transaction_id: self.transaction_id,
            amount: self.amount,
            created_time: self.created_time,
        })
    }
}

fn parse_type(kind: &str) -> Result<TransactionType, sqlx::Error> {
    TransactionType::parse(kind).ok_or_else(|| corrupt("transaction type", kind))
}

/// `query_as!` over every column of a transaction (with the invoices it was applied to),
/// followed by `tail` (the `where` and after) and the tail's arguments: the one place that
/// lists the columns.
macro_rules! select_transactions {
    ($tail:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            TransactionRow,
            r#"select t.id as "id: TransactionId", t.type, t.customer_id as "customer_id: CustomerId",
                   t.website_id as "website_id: WebsiteId", t.currency, t.amount,
                   t.allocated_amount, t.method, t.description,
                   array(select a.invoice_id from invoice_transactions a
                         where a.organization_id = t.organization_id and a.transaction_id = t.id
                         group by a.invoice_id order by min(a.sequence) limit 100)
                       as "invoice_ids!",
                   t.revision, t.created_time, t.updated_time
               from transactions t "# + $tail,
            $($arguments)*
        )
    };
}

impl Tx {
    /// Stores a new transaction, and its organization if it has no row yet.
    #[tracing::instrument(skip_all, fields(transaction = %transaction.id))]
    pub async fn insert_transaction(
        &mut self,
        organization_id: &OrganizationId,
        transaction: &Transaction,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "with organization as (
                 insert into organizations (id) values ($1) on conflict (id) do nothing
             )
             insert into transactions (organization_id, id, type, customer_id, website_id,
                 currency, amount, allocated_amount, method, description, revision,
                 created_time, updated_time)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            organization_id as &OrganizationId,
            &transaction.id as &TransactionId,
            transaction.kind.as_str(),
            &transaction.customer_id as &CustomerId,
            &transaction.website_id as &WebsiteId,
            transaction.currency.code(),
            transaction.amount,
            transaction.allocated_amount,
            transaction.method.as_str(),
            transaction.description.as_deref(),
            transaction.revision,
            transaction.created_time,
            transaction.updated_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// The transaction of that id, if the organization has one.
    #[tracing::instrument(skip_all, fields(transaction = %transaction_id))]
    pub async fn find_transaction(
        &mut self,
        organization_id: &OrganizationId,
        transaction_id: &TransactionId,
    ) -> Result<Option<Transaction>, sqlx::Error> {
        select_transactions!(
            "where t.organization_id = $1 and t.id = $2",
            organization_id as &OrganizationId,
            transaction_id as &TransactionId,
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(TransactionRow::into_transaction)
        .transpose()
    }

    /// The transaction of that id, locked until the transaction ends, so that no concurrent
    /// application spends the same amount.
    #[tracing::instrument(skip_all, fields(transaction = %transaction_id))]
    pub async fn lock_transaction(
        &mut self,
        organization_id: &OrganizationId,
        transaction_id: &TransactionId,
    ) -> Result<Option<Transaction>, sqlx::Error> {
        select_transactions!(
            "where t.organization_id = $1 and t.id = $2 for update of t",
            organization_id as &OrganizationId,
            transaction_id as &TransactionId,
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(TransactionRow::into_transaction)
        .transpose()
    }

    /// A page of the organization's transactions, newest first, then by id descending, with
    /// how many there are in all.
    #[tracing::instrument(skip_all)]
    pub async fn list_transactions(
        &mut self,
        organization_id: &OrganizationId,
        limit: i64,
        offset: i64,
    ) -> Result<TransactionPage, sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from transactions where organization_id = $1"#,
            organization_id as &OrganizationId,
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let transactions = select_transactions!(
            "where t.organization_id = $1 order by t.created_time desc, t.id desc
             limit $2 offset $3",
            organization_id as &OrganizationId,
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?
        .into_iter()
        .map(TransactionRow::into_transaction)
        .collect::<Result<_, _>>()?;
        Ok(TransactionPage {
            total,
            transactions,
        })
    }

    /// Records that `allocation.amount` of a locked transaction went to a locked invoice, and
    /// counts it as used on the transaction (whose check refuses more than its amount).
    #[tracing::instrument(skip_all, fields(transaction = %allocation.transaction_id))]
    pub async fn insert_allocation(
        &mut self,
        organization_id: &OrganizationId,
        allocation: &Allocation,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "with used as (
                 update transactions
                 set allocated_amount = allocated_amount + $4, revision = revision + 1,
                     updated_time = $5
                 where organization_id = $1 and id = $3
             )
             insert into invoice_transactions (organization_id, invoice_id, transaction_id,
                 amount, created_time)
             values ($1, $2, $3, $4, $5)",
            organization_id as &OrganizationId,
            &allocation.invoice_id as &InvoiceId,
            &allocation.transaction_id as &TransactionId,
            allocation.amount,
            allocation.created_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// The newest [`RECENT_ALLOCATIONS`] allocations of each of the invoices, each invoice's
    /// oldest first, in one statement.
    #[tracing::instrument(skip_all, fields(count = invoice_ids.len()))]
    pub async fn recent_allocations(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
    ) -> Result<Vec<Allocation>, sqlx::Error> {
        let limit = i64::try_from(RECENT_ALLOCATIONS).unwrap_or(i64::MAX);
        let rows = sqlx::query_as!(
            AllocationRow,
            r#"select invoice_id as "invoice_id!: InvoiceId",
                   transaction_id as "transaction_id!: TransactionId", type as "type!",
                   amount as "amount!", currency as "currency!", created_time as "created_time!"
               from (select a.invoice_id, a.transaction_id, t.type, a.amount, t.currency,
                         a.created_time, a.sequence,
                         row_number() over (partition by a.invoice_id order by a.sequence desc)
                             as newness
                     from invoice_transactions a
                     join transactions t on t.organization_id = a.organization_id
                                        and t.id = a.transaction_id
                     where a.organization_id = $1 and a.invoice_id = any($2)) recent
               where newness <= $3
               order by invoice_id, sequence"#,
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
            limit,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter()
            .map(AllocationRow::into_allocation)
            .collect()
    }

    /// A page of the invoice's allocations, oldest first, with how many there are in all.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn list_allocations(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        limit: i64,
        offset: i64,
    ) -> Result<AllocationPage, sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from invoice_transactions
               where organization_id = $1 and invoice_id = $2"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let rows = sqlx::query_as!(
            AllocationRow,
            r#"select a.invoice_id as "invoice_id: InvoiceId",
                   a.transaction_id as "transaction_id: TransactionId", t.type, a.amount,
                   t.currency, a.created_time
               from invoice_transactions a
               join transactions t on t.organization_id = a.organization_id
                                  and t.id = a.transaction_id
               where a.organization_id = $1 and a.invoice_id = $2
               order by a.sequence limit $3 offset $4"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let allocations = rows
            .into_iter()
            .map(AllocationRow::into_allocation)
            .collect::<Result<_, _>>()?;
        Ok(AllocationPage { total, allocations })
    }
}
