//! Invoice item use cases. Every change locks the invoice row, moves its totals by the item's
//! figures and bumps its revision, all in one transaction.

use chrono::{DateTime, Utc};

use super::invoices::invoice_not_found;
use super::pricing::{PricedItem, item_price, totals_after_change};
use crate::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::invoice_item::{InvoiceItem, ItemInput, ManualTax, TaxAmount, TaxDescription};
use crate::domain::tax::ItemTax;
use crate::error::ApiError;
use crate::repository::{Db, ItemPage, LockedInvoice, LockedItem, Tx};
use rust_decimal::Decimal;

/// Adds an item to a draft invoice.
#[tracing::instrument(skip_all)]
pub async fn create_item(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    input: ItemInput,
) -> Result<InvoiceItem, ApiError> {
    let mut tx = db.begin().await?;
    let invoice = tx
        .lock_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    ensure_draft(invoice_id, &invoice)?;
    let now = Utc::now();
    let item = priced_item(
        InvoiceItemId::generate(),
        invoice_id,
        input,
        &invoice,
        now,
        now,
    )?;
    let added = stored_figures(item.price, item.tax_amount)?;
    let totals = totals_after_change(invoice.totals, None, Some((item.item_type, &added)));
    tx.save_item(organization_id, &item, &totals).await?;
    tx.commit().await?;
    Ok(item)
}

/// Replaces every field of an item of a draft invoice.
#[tracing::instrument(skip_all)]
pub async fn replace_item(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
    input: ItemInput,
) -> Result<InvoiceItem, ApiError> {
    let mut tx = db.begin().await?;
    let (invoice, old) = lock(&mut tx, organization_id, invoice_id, item_id).await?;
    ensure_draft(invoice_id, &invoice)?;
    let item = priced_item(
        item_id.clone(),
        invoice_id,
        input,
        &invoice,
        old.created_time,
        Utc::now(),
    )?;
    let removed = stored_figures(old.price, old.tax_amount)?;
    let added = stored_figures(item.price, item.tax_amount)?;
    let totals = totals_after_change(
        invoice.totals,
        Some((old.item_type, &removed)),
        Some((item.item_type, &added)),
    );
    tx.save_item(organization_id, &item, &totals).await?;
    tx.commit().await?;
    Ok(item)
}

/// Deletes an item of a draft invoice.
#[tracing::instrument(skip_all)]
pub async fn delete_item(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    let (invoice, old) = lock(&mut tx, organization_id, invoice_id, item_id).await?;
    ensure_draft(invoice_id, &invoice)?;
    let removed = stored_figures(old.price, old.tax_amount)?;
    let totals = totals_after_change(invoice.totals, Some((old.item_type, &removed)), None);
    tx.delete_item(organization_id, invoice_id, item_id, &totals, Utc::now())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// One item of an invoice.
#[tracing::instrument(skip_all)]
pub async fn get_item(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
) -> Result<InvoiceItem, ApiError> {
    db.find_item(organization_id, invoice_id, item_id)
        .await?
        .ok_or_else(|| item_not_found(invoice_id.as_str(), item_id.as_str()))
}

/// A page of an invoice's items.
#[tracing::instrument(skip_all)]
pub async fn list_items(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    limit: i64,
    offset: i64,
) -> Result<ItemPage, ApiError> {
    let mut snapshot = db.snapshot().await?;
    let page = snapshot
        .list_items(organization_id, invoice_id, limit, offset)
        .await?;
    snapshot.commit().await?;
    page.ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}

/// The 404 for an item the invoice does not have.
pub fn item_not_found(invoice_id: &str, item_id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "Invoice {invoice_id} has no item with id {item_id}."
    ))
}

/// Locks the invoice, then reads the item in a statement of its own: in this order, the item
/// read is the one the last holder of the lock left.
async fn lock(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    item_id: &InvoiceItemId,
) -> Result<(LockedInvoice, LockedItem), ApiError> {
    let invoice = tx
        .lock_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    let item = tx
        .locked_item(organization_id, invoice_id, item_id)
        .await?
        .ok_or_else(|| item_not_found(invoice_id.as_str(), item_id.as_str()))?;
    Ok((invoice, item))
}

fn ensure_draft(invoice_id: &InvoiceId, invoice: &LockedInvoice) -> Result<(), ApiError> {
    if invoice.status == InvoiceStatus::Draft {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "Invoice {invoice_id} is {}: its items can change only while it is a draft.",
            invoice.status.as_str()
        )))
    }
}

/// Prices an item in its invoice's currency. A manual tax with more decimals than the currency
/// has is refused here, the first point where the currency is known.
fn priced_item(
    id: InvoiceItemId,
    invoice_id: &InvoiceId,
    input: ItemInput,
    invoice: &LockedInvoice,
    created_time: DateTime<Utc>,
    updated_time: DateTime<Utc>,
) -> Result<InvoiceItem, ApiError> {
    let currency = invoice.currency;
    if let Some(tax) = &input.tax
        && !tax.fits_currency(currency.minor_units())
    {
        return Err(ApiError::invalid_field(
            "tax.amount",
            format!(
                "must have at most {} decimal places in {currency}",
                currency.minor_units()
            ),
        ));
    }
    Ok(InvoiceItem {
        id,
        invoice_id: invoice_id.clone(),
        item_type: input.item_type,
        description: input
            .description
            .map(|description| description.into_string()),
        unit_price: input.unit_price.amount(),
        quantity: input.quantity.get(),
        price: item_price(input.unit_price, input.quantity, currency),
        product_id: input.product_id,
        discount_amount: Decimal::ZERO,
        period_start_time: input.period_start_time,
        period_end_time: input.period_end_time,
        period_number: input.period_number.map(|number| number.get()),
        tax_amount: input.tax.as_ref().map(|tax| tax.amount()),
        tax_description: input.tax.as_ref().map(|tax| tax.description().to_owned()),
        created_time,
        updated_time,
    })
}

/// A stored item's figures as pricing takes them. Only the price and the tax amount count
/// towards the totals (this invoice has no discounts), so the tax carries no description.
fn stored_figures(price: Decimal, tax_amount: Option<Decimal>) -> Result<PricedItem, ApiError> {
    let tax = tax_amount
        .map(|amount| {
            let amount = TaxAmount::parse(amount).map_err(|message| {
                ApiError::Internal(format!("stored tax amount {amount}: {message}").into())
            })?;
            let description = TaxDescription::parse(String::new())
                .map_err(|message| ApiError::Internal(message.into()))?;
            Ok::<_, ApiError>(ItemTax::Manual(ManualTax::new(amount, description)))
        })
        .transpose()?;
    Ok(PricedItem {
        price,
        discount_amount: Decimal::ZERO,
        tax,
    })
}
