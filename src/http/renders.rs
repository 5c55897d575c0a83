//! Documents rendered at once, and those waiting to be: bounded per server. A render holds its
//! slot until it stops, not until its request ends, so clients that hang up cannot leave more
//! renders running than there are slots; a render whose asker has gone stops at its next item.
//! Requests wait for a slot before they read the invoice, so those waiting hold no invoice and
//! no connection, and past [`WAITING`] of them a request is refused at once (503).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::failure::Rejection;
use crate::document::credit_memo::CreditMemoDocument;
use crate::document::facturx::FacturX;
use crate::document::{self, InvoiceDocument};
use crate::domain::credit_memo::CreditMemo;
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::organization::Organization;
use crate::einvoice::of_invoice::{credit_memo_einvoice, invoice_einvoice};
use crate::einvoice::{cii, ubl};
use crate::error::ApiError;

/// Renders running at once: each takes a core for up to seconds, and more than the machine's
/// two would only slow each one.
pub const RUNNING: usize = 2;
/// Requests that may wait for a slot; the next is refused (503, `Retry-After`).
pub const WAITING: usize = 8;

/// Slots for renders, and the count of requests waiting for one.
#[derive(Debug)]
pub struct Renders {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// One render's slot, held by the render itself.
#[derive(Debug)]
pub struct RenderSlot {
    _held: OwnedSemaphorePermit,
}

impl Default for Renders {
    fn default() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(RUNNING)),
            waiting: AtomicUsize::new(0),
        }
    }
}

impl Renders {
    /// A slot, once one is free; refused at once while [`WAITING`] requests already wait.
    pub async fn slot(&self) -> Result<RenderSlot, Rejection> {
        let busy = Rejection::RendersBusy {
            running: RUNNING,
            waiting: WAITING,
        };
        if let Ok(held) = Arc::clone(&self.slots).try_acquire_owned() {
            return Ok(RenderSlot { _held: held });
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy);
        }
        // Counted out however the wait ends: with a slot, or with its request dropped.
        let _waiting = Waiting(&self.waiting);
        // The semaphore is never closed, so the wait ends with a slot.
        let held = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| busy)?;
        Ok(RenderSlot { _held: held })
    }

    /// Renders running now.
    pub fn running(&self) -> usize {
        RUNNING - self.slots.available_permits()
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

/// A request in the queue; leaving it, however, counts it out.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl RenderSlot {
    /// Runs `render` on a blocking thread, which keeps the slot until it returns. `render` is
    /// given whether its asker still waits, to stop early when nobody does.
    pub async fn run<T: Send + 'static>(
        self,
        render: impl FnOnce(&dyn Fn() -> bool) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let gone = Arc::new(AtomicBool::new(false));
        let _asker = Asker(Arc::clone(&gone));
        tokio::task::spawn_blocking(move || {
            let _slot = self;
            render(&|| !gone.load(Ordering::Acquire))
        })
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))
    }
}

/// The request waiting for a render: dropped with it, it tells the render nobody waits.
struct Asker(Arc<AtomicBool>);

impl Drop for Asker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

impl RenderSlot {
    /// Renders a PDF document with `render` (see [`RenderSlot::run`]) and answers it, shown
    /// inline as `filename`.
    pub async fn pdf(
        self,
        filename: &str,
        render: impl FnOnce(&dyn Fn() -> bool) -> Result<Option<Vec<u8>>, String> + Send + 'static,
    ) -> Result<Response, ApiError> {
        let rendered = self
            .run(render)
            .await?
            .map_err(|error| ApiError::Internal(error.into()))?;
        // Only a render nobody waits for stops early, and then nobody reads this.
        let pdf = rendered.ok_or_else(|| ApiError::Internal("the render was abandoned".into()))?;
        Ok(inline("application/pdf", filename, pdf))
    }
}

/// What a Factur-X PDF carries, when there is an e-invoice to carry.
fn factur_x(xml: Option<&str>, modified: DateTime<Utc>) -> Option<FacturX<'_>> {
    xml.map(|xml| FacturX { xml, modified })
}

/// A document answered to be shown inline, as `filename` when saved.
fn inline(content_type: &'static str, filename: &str, body: impl IntoResponse) -> Response {
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

impl RenderSlot {
    /// Renders an invoice's PDF document, as both dialects answer it, and answers it: an
    /// invoice that has an e-invoice is a Factur-X PDF that carries it, the page unchanged.
    pub async fn invoice_pdf(
        self,
        invoice: Invoice,
        items: Vec<InvoiceItem>,
        seller: Organization,
    ) -> Result<Response, ApiError> {
        let filename = format!("invoice-{}.pdf", invoice.id);
        self.pdf(&filename, move |wanted| {
            let document = InvoiceDocument {
                invoice: &invoice,
                items: &items,
                seller: &seller,
            };
            // Not every invoice can be an e-invoice; each is a document for people.
            let xml =
                invoice_einvoice(&invoice, &items, &seller).map(|einvoice| cii::write(&einvoice));
            let factur_x = factur_x(xml.as_deref().ok(), invoice.updated_time);
            document::render(&document, factur_x.as_ref(), wanted)
        })
        .await
    }

    /// Writes an invoice's e-invoice as UBL 2.1 and answers it as `media_type`, or why it has
    /// none.
    pub async fn invoice_ubl(
        self,
        invoice: Invoice,
        items: Vec<InvoiceItem>,
        seller: Organization,
        media_type: &'static str,
    ) -> Result<Response, ApiError> {
        let filename = format!("invoice-{}.xml", invoice.id);
        let xml = self
            .run(move |_| {
                invoice_einvoice(&invoice, &items, &seller).map(|einvoice| ubl::write(&einvoice))
            })
            .await??;
        Ok(inline(media_type, &filename, xml))
    }

    /// Renders a credit memo's PDF document, which shows the invoice it credits, and answers
    /// it: a memo that has an e-invoice is a Factur-X PDF that carries it.
    pub async fn credit_memo_pdf(self, credited: MemoAndInvoice) -> Result<Response, ApiError> {
        let filename = format!("credit-memo-{}.pdf", credited.memo.id);
        self.pdf(&filename, move |wanted| {
            let MemoAndInvoice {
                memo,
                invoice,
                items,
                seller,
            } = &credited;
            let document = CreditMemoDocument {
                credit_memo: memo,
                invoice,
                seller,
            };
            let xml = credit_memo_einvoice(memo, invoice, items, seller)
                .map(|einvoice| cii::write(&einvoice));
            let factur_x = factur_x(xml.as_deref().ok(), memo.updated_time);
            document::credit_memo::render(&document, factur_x.as_ref(), wanted)
        })
        .await
    }

    /// Writes a credit memo's e-invoice, a UBL 2.1 credit note, and answers it as
    /// `media_type`, or why it has none.
    pub async fn credit_memo_ubl(
        self,
        credited: MemoAndInvoice,
        media_type: &'static str,
    ) -> Result<Response, ApiError> {
        let filename = format!("credit-memo-{}.xml", credited.memo.id);
        let xml = self
            .run(move |_| {
                let MemoAndInvoice {
                    memo,
                    invoice,
                    items,
                    seller,
                } = &credited;
                credit_memo_einvoice(memo, invoice, items, seller)
                    .map(|einvoice| ubl::write(&einvoice))
            })
            .await??;
        Ok(inline(media_type, &filename, xml))
    }
}

/// A credit memo with what its documents show of the invoice it credits.
pub struct MemoAndInvoice {
    /// The memo.
    pub memo: CreditMemo,
    /// The invoice it credits.
    pub invoice: Invoice,
    /// That invoice's items, whose VAT categories its lines take.
    pub items: Vec<InvoiceItem>,
    /// The organization that issues both.
    pub seller: Organization,
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_render_whose_asker_went_stops_and_frees_its_slot() {
        let renders = Renders::default();
        let slot = renders.slot().await.unwrap();
        let (tell, told) = mpsc::channel();
        let asking = tokio::spawn(slot.run(move |wanted| {
            tell.send("started").unwrap();
            // Bounded: at most 60 s, far more than the asker takes to go.
            for _ in 0..60_000 {
                if !wanted() {
                    tell.send("stopped early").unwrap();
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            tell.send("ran to the end").unwrap();
        }));
        let told = Arc::new(std::sync::Mutex::new(told));
        let next = || {
            let told = Arc::clone(&told);
            tokio::task::spawn_blocking(move || told.lock().unwrap().recv().unwrap())
        };
        assert_eq!(next().await.unwrap(), "started");
        asking.abort();
        assert_eq!(next().await.unwrap(), "stopped early");
        for _ in 0..1000 {
            if renders.running() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the slot was not freed");
    }

    #[tokio::test]
    async fn past_the_waiting_requests_one_more_is_refused_at_once() {
        let renders = Arc::new(Renders::default());
        let held = [renders.slot().await.unwrap(), renders.slot().await.unwrap()];
        let mut waiting = Vec::new();
        for _ in 0..WAITING {
            let renders = Arc::clone(&renders);
            waiting.push(tokio::spawn(async move { renders.slot().await.is_ok() }));
        }
        while renders.waiting() < WAITING {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            renders.slot().await,
            Err(Rejection::RendersBusy { .. })
        ));
        drop(held);
        for request in waiting {
            assert!(request.await.unwrap(), "a waiting request got its slot");
        }
        assert_eq!(renders.waiting(), 0);
    }
}
