//! Invoices.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Db, Tx, corrupt};
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, InvoiceId, OrganizationId, WebsiteId};
use crate::domain::invoice::{Invoice, InvoiceStatus, InvoiceTotals};

/// An invoice whose row this transaction has locked: what an item change needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedInvoice {
    /// Where it is in its life.
    pub status: InvoiceStatus,
    /// Its currency.
    pub currency: Currency,
    /// Its figures before the change.
    pub totals: InvoiceTotals,
}

struct InvoiceRow {
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
    due_time: Option<DateTime<Utc>>,
    issued_time: Option<DateTime<Utc>>,
    notes: Option<String>,
    po_number: Option<String>,
    revision: i64,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
}

impl TryFrom<InvoiceRow> for Invoice {
    type Error = sqlx::Error;

    fn try_from(row: InvoiceRow) -> Result<Self, Self::Error> {
        Ok(Self {
            currency: parse_currency(&row.currency)?,
            status: parse_status(&row.status)?,
            totals: InvoiceTotals {
                subtotal_amount: row.subtotal_amount,
                discount_amount: row.discount_amount,
                tax_amount: row.tax_amount,
                amount: row.amount,
                amount_due: row.amount_due,
            },
            id: row.id,
            customer_id: row.customer_id,
            website_id: row.website_id,
            due_time: row.due_time,
            issued_time: row.issued_time,
            notes: row.notes,
            po_number: row.po_number,
            revision: row.revision,
            created_time: row.created_time,
            updated_time: row.updated_time,
        })
    }
}

fn parse_currency(code: &str) -> Result<Currency, sqlx::Error> {
    Currency::parse(code).map_err(|_| corrupt("currency", code))
}

fn parse_status(status: &str) -> Result<InvoiceStatus, sqlx::Error> {
    InvoiceStatus::parse(status).ok_or_else(|| corrupt("invoice status", status))
}

impl Db {
    /// Stores a new invoice.
    #[tracing::instrument(skip_all, fields(invoice = %invoice.id))]
    pub async fn insert_invoice(
        &self,
        organization_id: &OrganizationId,
        invoice: &Invoice,
    ) -> Result<(), sqlx::Error> {
        let totals = &invoice.totals;
        sqlx::query!(
            "insert into invoices (organization_id, id, customer_id, website_id, currency, status,
                 subtotal_amount, discount_amount, tax_amount, amount, amount_due,
                 due_time, issued_time, notes, po_number, revision, created_time, updated_time)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
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
            invoice.notes.as_deref(),
            invoice.po_number.as_deref(),
            invoice.revision,
            invoice.created_time,
            invoice.updated_time,
        )
        .execute(&self.pool)
        .await
        .map(drop)
    }
}

impl Tx {
    /// The invoice, if the organization has one of that id.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn find_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<Option<Invoice>, sqlx::Error> {
        sqlx::query_as!(
            InvoiceRow,
            r#"select id as "id: InvoiceId", customer_id as "customer_id: CustomerId",
                   website_id as "website_id: WebsiteId", currency, status,
                   subtotal_amount, discount_amount, tax_amount, amount, amount_due,
                   due_time, issued_time, notes, po_number, revision, created_time, updated_time
               from invoices where organization_id = $1 and id = $2"#,
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_optional(&mut *self.inner)
        .await?
        .map(Invoice::try_from)
        .transpose()
    }

    /// Locks the invoice row until the transaction ends, so item changes on one invoice run one
    /// at a time and its totals stay the sum of its items.
    #[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
    pub async fn lock_invoice(
        &mut self,
        organization_id: &OrganizationId,
        invoice_id: &InvoiceId,
    ) -> Result<Option<LockedInvoice>, sqlx::Error> {
        let row = sqlx::query!(
            "select status, currency, subtotal_amount, discount_amount, tax_amount, amount, amount_due
             from invoices where organization_id = $1 and id = $2
             for update",
            organization_id as &OrganizationId,
            invoice_id as &InvoiceId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| {
            let totals = InvoiceTotals {
                subtotal_amount: row.subtotal_amount,
                discount_amount: row.discount_amount,
                tax_amount: row.tax_amount,
                amount: row.amount,
                amount_due: row.amount_due,
            };
            Ok(LockedInvoice {
                status: parse_status(&row.status)?,
                currency: parse_currency(&row.currency)?,
                totals,
            })
        })
        .transpose()
    }
}
