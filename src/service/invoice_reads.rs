//! Reading invoices with their items for their answers: an invoice at once when it has a few
//! hundred items, else chunk by chunk in one snapshot, and a page of invoices a few at a time,
//! so that an answer's memory grows neither with its invoices nor with its page.

use std::collections::{HashMap, VecDeque};

use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::invoice_listing::{InvoiceFilter, SortKey};
use crate::domain::tax::TaxSettings;
use crate::domain::vat_totals::{VatTotal, VatTotalling};
use crate::error::ApiError;
use crate::repository::{AtOnce, Db, ItemKey, Tx};

use super::invoices::{InvoiceWithItems, invoice_not_found, with_items};

/// The most items an invoice's read holds at once, and so the size of its chunks: an invoice
/// with more is read in chunks. A chunk of a page holds at most as many, however many
/// invoices have them.
pub const ITEMS_HELD: usize = 500;
/// The most invoices in one chunk of a page.
const MAX_INVOICES_PER_CHUNK: usize = 16;

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
    snapshot: Tx,
    organization_id: OrganizationId,
    items: ItemCursor,
}

impl ChunkedInvoice {
    /// The invoice's VAT breakdown from all its items, read once through; the items are then
    /// read from the first again (so this comes before [`Self::next_items`]). Empty unless its
    /// calculator is `vat`.
    pub async fn vat_totals(&mut self) -> Result<Vec<VatTotal>, ApiError> {
        self.items
            .vat_totals(&mut self.snapshot, &self.organization_id, &self.invoice.tax)
            .await
    }

    /// The invoice's next [`ITEMS_HELD`] items at most, oldest first; `None` when all are read.
    pub async fn next_items(&mut self) -> Result<Option<Vec<InvoiceItem>>, ApiError> {
        self.items
            .next(&mut self.snapshot, &self.organization_id)
            .await
    }
}

/// How far a reading of one invoice's items, oldest first, has got.
struct ItemCursor {
    invoice_id: InvoiceId,
    /// The last item read; `None` before the first chunk.
    after: Option<ItemKey>,
    done: bool,
}

impl ItemCursor {
    fn new(invoice_id: InvoiceId) -> Self {
        Self {
            invoice_id,
            after: None,
            done: false,
        }
    }

    /// The next [`ITEMS_HELD`] items at most; `None` when all are read.
    async fn next(
        &mut self,
        snapshot: &mut Tx,
        organization_id: &OrganizationId,
    ) -> Result<Option<Vec<InvoiceItem>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let chunk = snapshot
            .items_from_key(
                organization_id,
                Some(&self.invoice_id),
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

    /// The invoice's VAT breakdown under `tax`, summed over a reading of every item from the
    /// first; the cursor then starts again from the first, since the breakdown comes before the
    /// items in an answer.
    async fn vat_totals(
        &mut self,
        snapshot: &mut Tx,
        organization_id: &OrganizationId,
        tax: &TaxSettings,
    ) -> Result<Vec<VatTotal>, ApiError> {
        if !matches!(tax, TaxSettings::Vat(_)) {
            return Ok(Vec::new());
        }
        let mut totals = VatTotalling::new(tax);
        *self = Self::new(self.invoice_id.clone());
        while let Some(chunk) = self.next(snapshot, organization_id).await? {
            totals.add(&chunk);
        }
        *self = Self::new(self.invoice_id.clone());
        Ok(totals.finish())
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
    Ok(InvoiceRead::Chunked(ChunkedInvoice {
        items: ItemCursor::new(invoice.id.clone()),
        invoice,
        snapshot,
        organization_id: organization_id.clone(),
    }))
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

/// A page of invoices, read in one snapshot a few at a time, each with its discounts and items:
/// for an answer written as it is read, whose memory grows neither with the page nor with its
/// invoices.
pub struct InvoiceChunks {
    snapshot: Tx,
    organization_id: OrganizationId,
    unread: VecDeque<Invoice>,
    /// How many items the unread invoices counted so far have (none: left out).
    counted: HashMap<InvoiceId, usize>,
    /// How many of the first unread invoices are counted.
    counted_ahead: usize,
    /// The items of the invoice of many last given, still to read.
    open: Option<ItemCursor>,
}

/// What a page gives next.
pub enum PageChunk {
    /// Its next invoices, each with its items, oldest first: as many as hold at most
    /// [`ITEMS_HELD`] items together, up to 16.
    Invoices(Vec<InvoiceWithItems>),
    /// Its next invoice, of more than [`ITEMS_HELD`] items, with its VAT breakdown (as
    /// [`ChunkedInvoice::vat_totals`] sums it): its items follow from
    /// [`InvoiceChunks::next_items`].
    Chunked(Box<Invoice>, Vec<VatTotal>),
}

impl InvoiceChunks {
    /// The page's next invoices, in its order; `None` when none is left. The snapshot ends when
    /// the chunks are dropped (it only read).
    pub async fn next_chunk(&mut self) -> Result<Option<PageChunk>, ApiError> {
        self.open = None;
        let window = self.unread.len().min(MAX_INVOICES_PER_CHUNK);
        if window == 0 {
            return Ok(None);
        }
        // Each invoice is counted once: the window's last ones were counted with the chunk before.
        let uncounted: Vec<InvoiceId> = self
            .unread
            .iter()
            .take(window)
            .skip(self.counted_ahead)
            .map(|invoice| invoice.id.clone())
            .collect();
        let counts = self
            .snapshot
            .item_counts(&self.organization_id, &uncounted)
            .await?;
        self.counted.extend(counts);
        let (mut taken, mut held) = (0, 0);
        for invoice in self.unread.iter().take(window) {
            let items = self.counted.get(&invoice.id).copied().unwrap_or(0);
            if taken > 0 && held + items > ITEMS_HELD {
                break;
            }
            taken += 1;
            held += items;
        }
        let chunk: Vec<Invoice> = self.unread.drain(..taken).collect();
        self.counted_ahead = window - taken;
        for invoice in &chunk {
            self.counted.remove(&invoice.id);
        }
        let organization_id = &self.organization_id;
        if held <= ITEMS_HELD {
            let read = with_items(&mut self.snapshot, organization_id, chunk, None).await?;
            return Ok(Some(PageChunk::Invoices(read)));
        }
        // One invoice of more: read without its items, which follow chunk by chunk; its answer
        // needs its breakdown first.
        let read = with_items(&mut self.snapshot, organization_id, chunk, Some(0)).await?;
        let Some((invoice, _)) = read.into_iter().next() else {
            return Err(ApiError::Internal(
                "a page's invoice was read as none".into(),
            ));
        };
        let mut items = ItemCursor::new(invoice.id.clone());
        let vat_totals = items
            .vat_totals(&mut self.snapshot, organization_id, &invoice.tax)
            .await?;
        self.open = Some(items);
        Ok(Some(PageChunk::Chunked(Box::new(invoice), vat_totals)))
    }

    /// The next [`ITEMS_HELD`] items at most of the invoice the last chunk gave, when it was
    /// [`PageChunk::Chunked`]; `None` when all are read.
    pub async fn next_items(&mut self) -> Result<Option<Vec<InvoiceItem>>, ApiError> {
        match &mut self.open {
            Some(items) => items.next(&mut self.snapshot, &self.organization_id).await,
            None => Ok(None),
        }
    }
}

/// A page of invoices, to be read with their items chunk by chunk in the snapshot that counted
/// them, and how many invoices pass the filter.
#[tracing::instrument(skip_all)]
pub async fn list_invoices(
    db: &Db,
    organization_id: &OrganizationId,
    filter: &InvoiceFilter,
    order: &[SortKey],
    limit: i64,
    offset: i64,
) -> Result<(i64, InvoiceChunks), ApiError> {
    let mut snapshot = db.snapshot().await?;
    let page = snapshot
        .list_invoices(organization_id, filter, order, limit, offset)
        .await?;
    let chunks = InvoiceChunks {
        snapshot,
        organization_id: organization_id.clone(),
        unread: page.invoices.into(),
        counted: HashMap::new(),
        counted_ahead: 0,
        open: None,
    };
    Ok((page.total, chunks))
}
