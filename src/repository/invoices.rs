//! Invoices, with their discounts and tax settings.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use sqlx::types::Json;

use super::invoice_items::{ItemRow, item_record};
use super::pages::page_rows;
use super::parties_record::PartiesRecord;
use super::tax_record::TaxSettingsRecord;
use super::{Cursor, Db, Tx, corrupt, parse_currency};
use crate::domain::discount::{AppliedDiscount, Discount, DiscountDescription, DiscountKind};
use crate::domain::ids::{CustomerId, InvoiceId, OrganizationId, WebsiteId};
use crate::domain::invoice::{
    Collection, CollectionMethod, HostedToken, Invoice, InvoicePayments, InvoiceStatus,
    InvoiceTotals,
};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::invoice_listing::{InvoiceFilter, SortField, SortKey};
use crate::domain::metadata::Metadata;
use crate::domain::tax::TaxSettings;

/// How a list's statement names a sort key: one `CASE` per key and direction.
fn order_key(key: SortKey) -> &'static str {
    match (key.field, key.descending) {
        (SortField::CreatedTime, false) => "created",
        (SortField::CreatedTime, true) => "-created",
        (SortField::Amount, false) => "amount",
        (SortField::Amount, true) => "-amount",
    }
}

/// Values as the statement's text arrays take them.
fn texts<T>(values: Option<&[T]>, text: impl Fn(&T) -> &str) -> Option<Vec<String>> {
    values.map(|values| values.iter().map(|value| text(value).to_owned()).collect())
}

/// One page of invoices.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoicePage {
    /// How many invoices match in all.
    pub total: i64,
    /// The invoices of the page, without discounts (see [`Tx::discounts_of_invoices`]).
    pub invoices: Vec<Invoice>,
}

/// An invoice's row; events keep it as JSON, which their log reads back with the same names.
#[derive(sqlx::FromRow)]
pub(super) struct InvoiceRow {
    id: InvoiceId,
    customer_id: CustomerId,
    website_id: WebsiteId,
    currency: String,
    status: String,
    subtotal_amount: Decimal,
    discount_amount: Decimal,
    tax_amount: Decimal,
    amount: Decimal,
    amount_due: Decimal,
    paid_amount: Decimal,
    refunded_amount: Decimal,
    credited_amount: Decimal,
    paid_time: Option<DateTime<Utc>>,
    due_time: Option<DateTime<Utc>>,
    issued_time: Option<DateTime<Utc>>,
    abandoned_time: Option<DateTime<Utc>>,
    voided_time: Option<DateTime<Utc>>,
    notes: Option<String>,
    po_number: Option<String>,
    revision: i64,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
    tax: Json<TaxSettingsRecord>,
    discount_count: i32,
    invoice_number: Option<i64>,
    parties: Json<PartiesRecord>,
    metadata: Json<Metadata>,
    collection_method: String,
    days_until_due: Option<i32>,
    hosted_token: Option<String>,
}

/// Which of an invoice's rows in other tables than its items it has, as its own row counts
/// and sums them: each is read by a statement of its own, and only when it has some.
#[derive(Debug, Clone, Copy)]
struct RowsElsewhere {
    discounts: bool,
    allocations: bool,
    credits: bool,
}

impl RowsElsewhere {
    fn any(self) -> bool {
        self.discounts || self.allocations || self.credits
    }
}

impl InvoiceRow {
    fn rows_elsewhere(&self) -> RowsElsewhere {
        RowsElsewhere {
            discounts: self.discount_count > 0,
            // Every allocation pays the invoice or refunds what it was paid.
            allocations: self.paid_amount > Decimal::ZERO,
            credits: self.credited_amount > Decimal::ZERO,
        }
    }

    pub(super) fn into_invoice(self) -> Result<Invoice, sqlx::Error> {
        Ok(Invoice {
            currency: parse_currency(&self.currency)?,
            status: parse_status(&self.status)?,
            invoice_number: self.invoice_number,
            parties: self.parties.0.try_into()?,
            tax: TaxSettings::try_from(self.tax.0)?,
            totals: InvoiceTotals {
                subtotal_amount: self.subtotal_amount,
                discount_amount: self.discount_amount,
                tax_amount: self.tax_amount,
                amount: self.amount,
                amount_due: self.amount_due,
            },
            payments: InvoicePayments {
                paid_amount: self.paid_amount,
                refunded_amount: self.refunded_amount,
                credited_amount: self.credited_amount,
                paid_time: self.paid_time,
                // Read by statements of their own, for the invoices that have any.
                recent_allocations: Vec::new(),
                credit_allocations: Vec::new(),
            },
            discounts: Vec::new(),
            id: self.id,
            customer_id: self.customer_id,
            website_id: self.website_id,
            due_time: self.due_time,
            issued_time: self.issued_time,
            abandoned_time: self.abandoned_time,
            voided_time: self.voided_time,
            notes: self.notes,
            po_number: self.po_number,
            metadata: self.metadata.0,
            collection: Collection {
                method: CollectionMethod::parse(&self.collection_method)
                    .ok_or_else(|| corrupt("collection method", &self.collection_method))?,
                days_until_due: self
                    .days_until_due
                    .map(|days| {
                        u16::try_from(days)
                            .map_err(|_| corrupt("days until due", &days.to_string()))
                    })
                    .transpose()?,
            },
            hosted_token: self
                .hosted_token
                .map(|text| HostedToken::parse(&text).ok_or_else(|| corrupt("hosted token", "..")))
                .transpose()?,
            revision: self.revision,
            created_time: self.created_time,
            updated_time: self.updated_time,
        })
    }
}

/// The invoice's number of discounts, as its row keeps it.
fn discount_count(invoice: &Invoice) -> i32 {
    // At most MAX_DISCOUNTS (20), by validation.
    i32::try_from(invoice.discounts.len()).unwrap_or(i32::MAX)
}

fn parse_status(status: &str) -> Result<InvoiceStatus, sqlx::Error> {
    InvoiceStatus::parse(status).ok_or_else(|| corrupt("invoice status", status))
}

#[derive(sqlx::FromRow)]
pub(super) struct DiscountRow {
    pub(super) invoice_id: InvoiceId,
    currency: String,
    description: Option<String>,
    #[sqlx(rename = "type")]
    r#type: String,
    value: Decimal,
    amount: Decimal,
}

impl DiscountRow {
    pub(super) fn into_applied(self) -> Result<AppliedDiscount, sqlx::Error> {
        let currency = parse_currency(&self.currency)?;
        let kind = DiscountKind::parse(&self.r#type)
            .map_err(|_| corrupt("discount type", &self.r#type))?;
        let description = self
            .description
            .map(|text| {
                DiscountDescription::parse(text.clone())
                    .map_err(|_| corrupt("discount description", &text))
            })
            .transpose()?;
        let discount = Discount::new(description, kind, self.value, currency.minor_units())
            .map_err(|_| corrupt("discount value", &self.value.to_string()))?;
        Ok(AppliedDiscount {
            discount,
            amount: self.amount,
        })
    }
}

/// `query_as!` over every column of an invoice, followed by `tail` (the `where` and after)
/// and the tail's arguments: the one place that lists the columns.
macro_rules! select_invoices {
    ($tail:literal $(+ $more:literal)*, $($arguments:tt)*) => {
        sqlx::query_as!(
            InvoiceRow,
            r#"select id as "id: InvoiceId", customer_id as "customer_id: CustomerId",
                   website_id as "website_id: WebsiteId", currency, status,
                   subtotal_amount, discount_amount, tax_amount, amount, amount_due,
                   paid_amount, refunded_amount, credited_amount, paid_time, due_time,
                   issued_time, abandoned_time, voided_time, notes, po_number,
                   revision, created_time, updated_time, tax as "tax: Json<TaxSettingsRecord>",
                   discount_count, invoice_number, parties as "parties: Json<PartiesRecord>",
                   metadata as "metadata: Json<Metadata>", collection_method, days_until_due,
                   hosted_token
               from invoices "# + $tail $(+ $more)*,
            $($arguments)*
        )
    };
}

/// A page's statement, in one direction from the cursor (`$3`, `$4`): `$cmp` compares
/// `(created_time, id)` with it and `$order` sorts.
macro_rules! invoices_page {
    ($cmp:literal, $order:literal, $($arguments:tt)*) => {
        select_invoices!(
            "where organization_id = $1 and ($2::text is null or customer_id = $2)
               and ($6::text[] is null or status = any($6))
               and ($7::text is null or collection_method = $7)
               and ($8::timestamptz is null or created_time >= $8)
               and ($9::timestamptz is null or created_time < $9)
               and ($10::timestamptz is null or due_time >= $10)
               and ($11::timestamptz is null or due_time < $11)
               and (created_time, id) "
                + $cmp
                + " ($3, $4)
             order by created_time "
                + $order
                + ", id "
                + $order
                + " limit $5",
            $($arguments)*
        )
    };
}

/// Which invoices a page by cursor holds; each filter left `None` keeps them all.
#[derive(Debug, Clone, Default)]
pub struct InvoiceListing {
    /// Only the invoices billing this customer.
    pub customer_id: Option<CustomerId>,
    /// Only the invoices in one of these statuses.
    pub statuses: Option<Vec<InvoiceStatus>>,
    /// Only the invoices collected this way.
    pub collection_method: Option<CollectionMethod>,
    /// Only the invoices created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Only the invoices created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Only the invoices due at or after this time.
    pub due_from: Option<DateTime<Utc>>,
    /// Only the invoices due before this time.
    pub due_before: Option<DateTime<Utc>>,
}

impl Tx {
    /// A page of the organization's invoices that `listing` keeps, without their discounts,
    /// newest first (then by id, descending), from `cursor`; `None` when the cursor names no
    /// invoice of the organization.
    #[tracing::instrument(skip_all)]
    pub async fn invoices_by_cursor(
        &mut self,
        organization_id: &OrganizationId,
        listing: &InvoiceListing,
        cursor: Cursor<'_, InvoiceId>,
        limit: i64,
    ) -> Result<Option<Vec<Invoice>>, sqlx::Error> {
        let start = cursor.start(|id| {
            sqlx::query_scalar!(
                "select created_time from invoices where organization_id = $1 and id = $2",
                organization_id as &OrganizationId,
                id as &InvoiceId,
            )
            .fetch_optional(&mut *self.inner)
        });
        let Some((time, id)) = start.await? else {
            return Ok(None);
        };
        let customer = listing.customer_id.as_ref().map(CustomerId::as_str);
        let statuses: Option<Vec<&str>> = listing
            .statuses
            .as_ref()
            .map(|statuses| statuses.iter().map(|status| status.as_str()).collect());
        let collection = listing.collection_method.map(CollectionMethod::as_str);
        let limit = limit.max(0);
        let rows = page_rows!(
            self,
            cursor,
            invoices_page!(
                organization_id as &OrganizationId,
                customer,
                time,
                id,
                limit,
                statuses.as_deref() as Option<&[&str]>,
                collection,
                listing.created_from,
                listing.created_before,
                listing.due_from,
                listing.due_before,
            )
        );
        rows.into_iter()
            .map(InvoiceRow::into_invoice)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// Stores a new invoice without its discounts ([`Tx::save_discounts`]); `false` when the
    /// organization already has an invoice of that id (whose row is then locked, as the
    /// statement's `on conflict` locks the row it meets).
    #[tracing::instrument(skip_all, fields(invoice = %invoice.id))]
    pub async fn insert_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
    ) -> Result<bool, sqlx::Error> {
        self.write_invoice(organization_id, invoice, false).await
    }

    /// Stores every field of an existing invoice but its discounts and its `created_time`,
    /// setting its revision to `invoice.revision`. The caller holds the invoice's lock, so the
    /// row exists (the statement would insert it otherwise).
    #[tracing::instrument(skip_all, fields(invoice = %invoice.id))]
    pub async fn update_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
    ) -> Result<(), sqlx::Error> {
        self.write_invoice(organization_id, invoice, true)
            .await
            .map(drop)
    }

    /// The one statement that writes an invoice's row: inserted, or, when `replace` and the
    /// row exists, overwritten but for its `created_time`. `false` when nothing was written
    /// (the id was taken, and `replace` was not asked).
    async fn write_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
        replace: bool,
    ) -> Result<bool, sqlx::Error> {
        let totals = &invoice.totals;
        sqlx::query!(
            "insert into invoices (organization_id, id, customer_id, website_id, currency, status,
                 subtotal_amount, discount_amount, tax_amount, amount, amount_due,
                 due_time, issued_time, abandoned_time, voided_time, notes, po_number, revision,
                 created_time, updated_time, tax, discount_count, invoice_number, parties, metadata,
                 paid_amount, refunded_amount, paid_time, credited_amount, collection_method,
                 days_until_due, hosted_token)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)
             on conflict (organization_id, id) do update set
                 customer_id = excluded.customer_id, website_id = excluded.website_id,
                 currency = excluded.currency, status = excluded.status,
                 subtotal_amount = excluded.subtotal_amount,
                 discount_amount = excluded.discount_amount, tax_amount = excluded.tax_amount,
                 amount = excluded.amount, amount_due = excluded.amount_due,
                 due_time = excluded.due_time, issued_time = excluded.issued_time,
                 abandoned_time = excluded.abandoned_time, voided_time = excluded.voided_time,
                 notes = excluded.notes, po_number = excluded.po_number,
                 revision = excluded.revision, updated_time = excluded.updated_time,
                 tax = excluded.tax, discount_count = excluded.discount_count,
                 invoice_number = excluded.invoice_number, parties = excluded.parties,
                 metadata = excluded.metadata, paid_amount = excluded.paid_amount,
                 refunded_amount = excluded.refunded_amount, paid_time = excluded.paid_time,
                 credited_amount = excluded.credited_amount,
                 collection_method = excluded.collection_method,
                 days_until_due = excluded.days_until_due,
                 hosted_token = excluded.hosted_token
             where $23",
            organization_id as &OrganizationId,
            &invoice.id as &InvoiceId,
            &invoice.customer_id as &CustomerId,
            &invoice.website_id as &WebsiteId,
            invoice.currency.code(),
            invoice.status.as_str(),
            totals.subtotal_amount,
            totals.discount_amount,
            totals.tax_amount,
            totals.amount,
            totals.amount_due,
            invoice.due_time,
            invoice.issued_time,
            invoice.abandoned_time,
            invoice.voided_time,
            invoice.notes.as_deref(),
            invoice.po_number.as_deref(),
            invoice.revision,
            invoice.created_time,
            invoice.updated_time,
            Json(TaxSettingsRecord::from(&invoice.tax)) as Json<TaxSettingsRecord>,
            discount_count(invoice),
            replace,
            invoice.invoice_number,
            Json(PartiesRecord::from(&invoice.parties)) as Json<PartiesRecord>,
            Json(&invoice.metadata) as Json<&Metadata>,
            invoice.payments.paid_amount,
            invoice.payments.refunded_amount,
            invoice.payments.paid_time,
            invoice.payments.credited_amount,
            invoice.collection.method.as_str(),
            invoice.collection.days_until_due.map(i32::from),
            invoice.hosted_token.as_ref().map(HostedToken::as_str),
        )
        .execute(&mut *self.inner)
        .await
        .map(|done| done.rows_affected() == 1)
    }

    /// The organization's next invoice number. The counter's row stays locked until the
    /// transaction ends, so concurrent issues take their numbers one after another, and a
    /// transaction that rolls back takes none.
    #[tracing::instrument(skip_all)]
    pub async fn next_invoice_number(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar!(
            "insert into invoice_number_sequences (organization_id, last_number) values ($1, 1)
             on conflict (organization_id) do update
                 set last_number = invoice_number_sequences.last_number + 1
             returning last_number",
            organization_id as &OrganizationId,
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// Replaces an invoice's discounts.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn save_discounts(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        discounts: &[AppliedDiscount],
    ) -> Result<(), sqlx::Error> {
        let descriptions: Vec<Option<String>> = discounts
            .iter()
            .map(|applied| {
                let description = applied.discount.description.as_ref();
                description.map(|text| text.as_str().to_owned())
            })
            .collect();
        let types: Vec<&str> = discounts
            .iter()
            .map(|applied| applied.discount.kind.as_str())
            .collect();
        let values: Vec<Decimal> = discounts
            .iter()
            .map(|applied| applied.discount.value())
            .collect();
        let amounts: Vec<Decimal> = discounts.iter().map(|applied| applied.amount).collect();
        sqlx::query!(
            // The delete and the upsert touch different positions: the statements of one
            // WITH see one snapshot, so a row deleted and inserted again would collide.
            "with removed as (
                 delete from invoice_discounts
                 where organization_id = $1 and invoice_id = $2 and position >= cardinality($4::text[])
             )
             insert into invoice_discounts (organization_id, invoice_id, position, description,
                 type, value, amount)
             select $1, $2, (d.ordinality - 1)::integer, d.description, d.type, d.value, d.amount
             from unnest($3::text[], $4::text[], $5::numeric[], $6::numeric[])
                 with ordinality as d(description, type, value, amount, ordinality)
             on conflict (organization_id, invoice_id, position) do update
                 set description = excluded.description, type = excluded.type,
                     value = excluded.value, amount = excluded.amount",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            &descriptions as &[Option<String>],
            &types as &[&str],
            &values,
            &amounts,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// The id of the organization's invoice whose page link carries `token`.
    pub async fn invoice_of_hosted_token(
        &mut self,
        organization_id: &OrganizationId,
        token: &HostedToken,
    ) -> Result<Option<InvoiceId>, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select id as "id: InvoiceId" from invoices
               where organization_id = $1 and hosted_token = $2"#,
            organization_id as &OrganizationId,
            token.as_str(),
        )
        .fetch_optional(&mut *self.inner)
        .await
    }

    /// Deletes an invoice with its items and discounts (a draft's: no other row names one).
    pub async fn delete_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "delete from invoices where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// The invoice, if the organization has one of that id, with its discounts.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn find_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<Option<Invoice>, sqlx::Error> {
        let row = select_invoices!(
            "where organization_id = $1 and id = $2",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        self.with_discounts(organization_id, row).await
    }

    /// The organization's invoices of these ids, without their discounts, in no set order.
    #[tracing::instrument(skip_all)]
    pub async fn invoices_by_ids(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
    ) -> Result<Vec<Invoice>, sqlx::Error> {
        let rows = select_invoices!(
            "where organization_id = $1 and id = any($2)",
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter().map(InvoiceRow::into_invoice).collect()
    }

    /// Locks those of the organization's invoices among `invoice_ids` that no other
    /// transaction has locked, without waiting for the others; each with whether it has
    /// discounts (which are not read).
    pub async fn lock_free_invoices(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[String],
    ) -> Result<Vec<(Invoice, bool)>, sqlx::Error> {
        let rows = select_invoices!(
            "where organization_id = $1 and id = any($2) for update skip locked",
            organization_id as &OrganizationId,
            invoice_ids,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter()
            .map(|row| {
                let discounted = row.rows_elsewhere().discounts;
                Ok((row.into_invoice()?, discounted))
            })
            .collect()
    }

    /// Locks the invoice row until the transaction ends, so that changes to one invoice run
    /// one at a time and its totals stay the sum of its items. Its discounts are read in a
    /// statement of their own, after the lock, and only when the locked row counts some: a
    /// subquery of the locking statement would see the snapshot from before it waited, and
    /// miss discounts the previous holder committed, while the row's own columns are the ones
    /// that holder left.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn lock_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<Option<Invoice>, sqlx::Error> {
        let row = select_invoices!(
            "where organization_id = $1 and id = $2 for update",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        self.with_discounts(organization_id, row).await
    }

    async fn with_discounts(
        &mut self,
        organization_id: &OrganizationId,
        row: Option<InvoiceRow>,
    ) -> Result<Option<Invoice>, sqlx::Error> {
        let Some(row) = row else { return Ok(None) };
        let elsewhere = row.rows_elsewhere();
        let mut invoice = row.into_invoice()?;
        let ids = std::slice::from_ref(&invoice.id);
        if elsewhere.discounts {
            invoice.discounts = self
                .discounts_of_invoices(organization_id, ids)
                .await?
                .into_iter()
                .map(|(_, applied)| applied)
                .collect();
        }
        if elsewhere.allocations {
            invoice.payments.recent_allocations =
                self.recent_allocations(organization_id, ids).await?;
        }
        if elsewhere.credits {
            invoice.payments.credit_allocations =
                self.credit_allocations(organization_id, &[], ids).await?;
        }
        Ok(Some(invoice))
    }

    /// The discounts of several invoices, each invoice's in order.
    #[tracing::instrument(skip_all)]
    pub async fn discounts_of_invoices(
        &mut self,
        organization_id: &OrganizationId,
        invoice_ids: &[InvoiceId],
    ) -> Result<Vec<(InvoiceId, AppliedDiscount)>, sqlx::Error> {
        let rows = sqlx::query_as!(
            DiscountRow,
            r#"select d.invoice_id as "invoice_id: InvoiceId", i.currency, d.description,
                   d.type, d.value, d.amount
               from invoice_discounts d
               join invoices i on i.organization_id = d.organization_id and i.id = d.invoice_id
               where d.organization_id = $1 and d.invoice_id = any($2)
               order by d.invoice_id, d.position"#,
            organization_id as &OrganizationId,
            invoice_ids as &[InvoiceId],
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.into_iter()
            .map(|row| Ok((row.invoice_id.clone(), row.into_applied()?)))
            .collect()
    }

    /// A page of the organization's invoices that pass `filter`, in `order` then by id,
    /// without their discounts.
    #[tracing::instrument(skip_all)]
    pub async fn list_invoices(
        &mut self,
        organization_id: &OrganizationId,
        filter: &InvoiceFilter,
        order: &[SortKey],
        limit: i64,
        offset: i64,
    ) -> Result<InvoicePage, sqlx::Error> {
        let statuses = texts(filter.statuses.as_deref(), |status| status.as_str());
        let customer_ids = texts(filter.customer_ids.as_deref(), CustomerId::as_str);
        let currencies = texts(filter.currencies.as_deref(), |currency| currency.code());
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from invoices
               where organization_id = $1
                 and ($2::text[] is null or status = any($2))
                 and ($3::text[] is null or customer_id = any($3))
                 and ($4::text[] is null or currency = any($4))"#,
            organization_id as &OrganizationId,
            statuses.as_deref(),
            customer_ids.as_deref(),
            currencies.as_deref(),
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let first = order.first().copied().unwrap_or(SortKey::NEWEST_FIRST);
        let second = order.get(1).map(|key| order_key(*key));
        // The sort keys come as parameters, one CASE per key and direction, so that the query
        // stays one checked statement; ties go by id, in the direction of the first key.
        let rows = select_invoices!(
            "where organization_id = $1
                 and ($2::text[] is null or status = any($2))
                 and ($3::text[] is null or customer_id = any($3))
                 and ($4::text[] is null or currency = any($4))
               order by
                 case when $5 = 'amount' then amount end,
                 case when $5 = '-amount' then amount end desc,
                 case when $5 = 'created' then created_time end,
                 case when $5 = '-created' then created_time end desc,
                 case when $6::text = 'amount' then amount end,
                 case when $6::text = '-amount' then amount end desc,
                 case when $6::text = 'created' then created_time end,
                 case when $6::text = '-created' then created_time end desc,
                 case when $7 then id end desc,
                 case when not $7 then id end
               limit $8 offset $9",
            organization_id as &OrganizationId,
            statuses.as_deref(),
            customer_ids.as_deref(),
            currencies.as_deref(),
            order_key(first),
            second,
            first.descending,
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        let invoices = rows
            .into_iter()
            .map(InvoiceRow::into_invoice)
            .collect::<Result<_, _>>()?;
        Ok(InvoicePage { total, invoices })
    }
}

/// An invoice's row with its items, as one statement reads them: none when the invoice has
/// discounts, payments or credits, which is then read in a snapshot.
#[derive(sqlx::FromRow)]
struct InvoiceWithItemsRow {
    #[sqlx(flatten)]
    invoice: InvoiceRow,
    items: Option<Vec<ItemRow>>,
}

/// What one statement reads of an invoice and its items.
#[derive(Debug)]
pub enum AtOnce {
    /// The organization has no invoice of that id.
    Missing,
    /// The invoice, whole, with its items oldest first.
    Read(Box<Invoice>, Vec<InvoiceItem>),
    /// The invoice has discounts, payments or credits, whose rows statements of their own
    /// read, or more items than asked for: read it in a snapshot ([`Db::snapshot`]).
    NeedsSnapshot,
}

impl Db {
    /// An invoice with its items in one statement: one round trip and one snapshot without a
    /// transaction, for the invoices that have nothing more to read and at most `most_items`
    /// items (most of them).
    #[tracing::instrument(skip_all)]
    pub async fn invoice_with_items_at_once(
        &self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        most_items: usize,
    ) -> Result<AtOnce, sqlx::Error> {
        // Read by name, as the event log reads kept invoices; the items as records, which
        // the checked statements cannot type. They are not read for an invoice that will be
        // read again in a snapshot: the condition is `rows_elsewhere`'s, which decides (an
        // invoice read without its items is read in a snapshot too). One more than
        // `most_items` tells an invoice of more.
        let row: Option<InvoiceWithItemsRow> = self
            .on_kept_connection(|| {
                async |connection| {
                    sqlx::query_as(concat!(
                        "select v.*, case when v.discount_count = 0 and v.paid_amount <= 0
                                           and v.credited_amount <= 0
                                      then array(select ",
                        item_record!(),
                        " from invoice_items i
                       where i.organization_id = v.organization_id and i.invoice_id = v.id
                       order by i.created_time, i.id limit $3) end as items
                     from invoices v where v.organization_id = $1 and v.id = $2"
                    ))
                    .bind(organization_id)
                    .bind(invoice_id)
                    .bind(
                        i64::try_from(most_items)
                            .unwrap_or(i64::MAX)
                            .saturating_add(1),
                    )
                    .fetch_optional(connection)
                    .await
                }
            })
            .await?;
        let Some(InvoiceWithItemsRow { invoice, items }) = row else {
            return Ok(AtOnce::Missing);
        };
        let (false, Some(items)) = (invoice.rows_elsewhere().any(), items) else {
            return Ok(AtOnce::NeedsSnapshot);
        };
        if items.len() > most_items {
            return Ok(AtOnce::NeedsSnapshot);
        }
        let items = items
            .into_iter()
            .map(ItemRow::into_item)
            .collect::<Result<_, _>>()?;
        Ok(AtOnce::Read(Box::new(invoice.into_invoice()?), items))
    }

    /// Up to `limit` invoices of any organization still awaiting payment, with something due,
    /// whose due time is before `now`, soonest due first: the past-due check's candidates,
    /// each then taken by [`Tx::lock_if_overdue`].
    #[tracing::instrument(skip_all)]
    pub async fn overdue_invoices(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(OrganizationId, InvoiceId)>, sqlx::Error> {
        // Planned for its time: the invoices due before it are few of many.
        let rows = self
            .on_connection_planned_for_arguments(async |connection| {
                sqlx::query!(
                    r#"select organization_id as "organization_id: OrganizationId",
                           id as "id: InvoiceId"
                       from invoices
                       where status in ('unpaid', 'partially-paid') and amount_due > 0
                         and due_time < $1
                       order by due_time limit $2"#,
                    now,
                    limit,
                )
                .fetch_all(connection)
                .await
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.organization_id, row.id))
            .collect())
    }
}

impl Tx {
    /// Locks the invoice until the transaction ends when it is still awaiting payment with
    /// something due past its due time and no other transaction holds it (`SKIP LOCKED`):
    /// `false` otherwise, so that past-due checks running at once never take it twice.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn lock_if_overdue(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let locked = sqlx::query_scalar!(
            "select id from invoices
             where organization_id = $1 and id = $2
               and status in ('unpaid', 'partially-paid') and amount_due > 0 and due_time < $3
             for update skip locked",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
            now,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(locked.is_some())
    }
}
