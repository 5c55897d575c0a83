//! Reading one invoice with its items for its answer: at once when it has a few hundred items,
//! else chunk by chunk in one snapshot, so that an answer's memory does not grow with its
//! invoice.

use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::tax::TaxSettings;
use crate::domain::vat_totals::{VatTotal, VatTotalling};
use crate::error::ApiError;
use crate::repository::{AtOnce, Db, ItemKey, Tx};

use super::invoices::{InvoiceWithItems, invoice_not_found};

/// The most items an invoice's read holds at once, and so the size of its chunks: an invoice
/// with more is read in chunks.
pub const ITEMS_HELD: usize = 500;

/// An invoice as read for its answer.
pub enum InvoiceRead {
    /// The invoice with its items, oldest first: at most [`ITEMS_HELD`] of them.
    Whole(InvoiceWithItems),
    /// An invoice of more items, whose items are read chunk by chunk.
    Chunked(ChunkedInvoice),
}

impl InvoiceRead {
    /// The invoice, read without its items or with them.
    pub fn invoice(&self) -> &Invoice {
        match self {
            Self::Whole((invoice, _)) => invoice,
            Self::Chunked(chunked) => &chunked.invoice,
        }
    }

    /// The invoice with all its items, oldest first, however many: for an answer that needs
    /// them all at once (a document).
    pub async fn into_whole(self) -> Result<InvoiceWithItems, ApiError> {
        match self {
            Self::Whole(whole) => Ok(whole),
            Self::Chunked(mut chunked) => {
                let mut items = Vec::new();
                while let Some(chunk) = chunked.next_items().await? {
                    items.extend(chunk);
                }
                Ok((chunked.invoice, items))
            }
        }
    }
}

/// An invoice of more than [`ITEMS_HELD`] items, with its items still to read, oldest first,
/// in the snapshot that read it: what its totals say is what its items add up to. The
/// snapshot ends when this is dropped (it only read).
pub struct ChunkedInvoice {
    /// The invoice, with its discounts, payments and credits.
    pub invoice: Invoice,
    /// Its VAT breakdown from all its items; empty unless its calculator is `vat`.
    pub vat_totals: Vec<VatTotal>,
    snapshot: Tx,
    organization_id: OrganizationId,
    /// The last item read; `None` before the first chunk.
    after: Option<ItemKey>,
    done: bool,
}

impl ChunkedInvoice {
    /// The invoice's next [`ITEMS_HELD`] items at most, oldest first; `None` when all are read.
    pub async fn next_items(&mut self) -> Result<Option<Vec<InvoiceItem>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let chunk = self
            .snapshot
            .items_from_key(
                &self.organization_id,
                Some(&self.invoice.id),
                self.after.as_ref(),
                ITEMS_HELD as i64,
            )
            .await?;
        self.done = chunk.len() < ITEMS_HELD;
        let Some(last) = chunk.last() else {
            return Ok(None);
        };
        self.after = Some(ItemKey::of(last));
        Ok(Some(chunk))
    }

    /// Sums the VAT breakdown over a first reading of every item, then starts again from the
    /// first: the breakdown comes before the items in an answer.
    async fn sum_vat(mut self) -> Result<Self, ApiError> {
        if !matches!(self.invoice.tax, TaxSettings::Vat(_)) {
            return Ok(self);
        }
        let mut totals = VatTotalling::new(&self.invoice.tax);
        while let Some(chunk) = self.next_items().await? {
            totals.add(&chunk);
        }
        self.vat_totals = totals.finish();
        self.after = None;
        self.done = false;
        Ok(self)
    }
}

/// An invoice with its items, oldest first: whole when it has at most [`ITEMS_HELD`] items,
/// else to be read in chunks.
#[tracing::instrument(skip_all)]
pub async fn read_invoice(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<InvoiceRead, ApiError> {
    // One snapshot, so that the totals shown are those of the items shown: one statement's
    // when the invoice has nothing more to read.
    match db
        .invoice_with_items_at_once(organization_id, invoice_id, ITEMS_HELD)
        .await?
    {
        AtOnce::Read(invoice, items) => return Ok(InvoiceRead::Whole((*invoice, items))),
        AtOnce::Missing => return Err(invoice_not_found(invoice_id.as_str())),
        AtOnce::NeedsSnapshot => {}
    }
    let mut snapshot = db.snapshot().await?;
    let invoice = snapshot
        .find_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    let first = snapshot
        .items_from_key(
            organization_id,
            Some(invoice_id),
            None,
            ITEMS_HELD as i64 + 1,
        )
        .await?;
    if first.len() <= ITEMS_HELD {
        snapshot.commit().await?;
        return Ok(InvoiceRead::Whole((invoice, first)));
    }
    let chunked = ChunkedInvoice {
        invoice,
        vat_totals: Vec::new(),
        snapshot,
        organization_id: organization_id.clone(),
        after: None,
        done: false,
    };
    Ok(InvoiceRead::Chunked(chunked.sum_vat().await?))
}

/// An invoice with all its items, oldest first, held at once.
#[tracing::instrument(skip_all)]
pub async fn get_invoice(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<InvoiceWithItems, ApiError> {
    read_invoice(db, organization_id, invoice_id)
        .await?
        .into_whole()
        .await
}
