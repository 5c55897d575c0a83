//! Invoices' answers written as they are read, so that an answer's memory does not grow with
//! its invoices: a page of invoices a few at a time, an invoice of many items a chunk of items
//! at a time. A failure once an answer has begun can no longer change its status: it is logged
//! and the connection is cut, so the client sees an answer that ends early, never a
//! complete-looking one.

use std::cell::{Cell, RefCell};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use tokio::time::Duration;

use super::invoice_items::ItemResponse;
use super::invoices::InvoiceResponse;
use super::wire::json_ok;
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::vat_totals::VatTotal;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::service::invoice_reads::{ChunkedInvoice, InvoiceChunks, InvoiceRead, PageChunk};

/// An invoice read for its answer, as JSON: written at once when it was read whole, else
/// chunk by chunk of its items.
pub(super) async fn invoice_json(state: AppState, read: InvoiceRead) -> Result<Response, ApiError> {
    match read {
        InvoiceRead::Whole((invoice, items)) => {
            Ok(json_ok(&InvoiceResponse::new(&state, &invoice, &items)))
        }
        InvoiceRead::Chunked(mut chunked) => {
            let vat_totals = chunked.vat_totals().await?;
            let around = ItemsMark::around_items(&state, &chunked.invoice, &vat_totals)
                .map_err(|error| ApiError::Internal(Box::new(error)))?;
            let answer = invoice_by_chunks(state, chunked, around);
            let body = Body::from_stream(released_when_stalled(answer, STALL_LIMIT));
            Ok((json_content(), body).into_response())
        }
    }
}

/// A page of invoices as one JSON array, written a few invoices at a time as they are read.
pub(super) fn invoice_array(state: AppState, chunks: InvoiceChunks) -> Response {
    let answer = invoice_array_chunks(state, chunks);
    let body = Body::from_stream(released_when_stalled(answer, STALL_LIMIT));
    (json_content(), body).into_response()
}

fn json_content() -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )]
}

fn invoice_array_chunks(
    state: AppState,
    chunks: InvoiceChunks,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let page = PageProgress {
        state,
        chunks,
        started: false,
        ended: false,
        open: None,
    };
    futures_util::stream::unfold(Some(page), |page| async move {
        let mut page = page?;
        match page.next_bytes().await {
            Ok(Some(bytes)) => Some((Ok(bytes), Some(page))),
            Ok(None) => None,
            Err(error) => Some((Err(error), None)),
        }
    })
}

/// How far a page's answer has got.
struct PageProgress {
    state: AppState,
    chunks: InvoiceChunks,
    /// Whether its `[` is written.
    started: bool,
    /// Whether its `]` is written.
    ended: bool,
    /// The rest of the invoice of many items being written, from its items' `]`, and whether
    /// any of its items is written yet.
    open: Option<(Bytes, bool)>,
}

impl PageProgress {
    /// The answer's next bytes; `None` once its `]` is written.
    async fn next_bytes(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        if let Some((_, items_written)) = &mut self.open {
            let items = self.chunks.next_items().await;
            return match items.map_err(|error| cut_short(&error))? {
                Some(items) => {
                    let bytes = items_json(&self.state, &items, *items_written)?;
                    *items_written = true;
                    Ok(Some(bytes))
                }
                None => Ok(self.open.take().map(|(tail, _)| tail)),
            };
        }
        if self.ended {
            return Ok(None);
        }
        let next = self.chunks.next_chunk().await;
        let Some(next) = next.map_err(|error| cut_short(&error))? else {
            self.ended = true;
            return Ok(Some(Bytes::from_static(if self.started {
                b"]"
            } else {
                b"[]"
            })));
        };
        let mut bytes = vec![if self.started { b',' } else { b'[' }];
        match next {
            PageChunk::Invoices(invoices) => {
                for (index, (invoice, items)) in invoices.iter().enumerate() {
                    if index > 0 {
                        bytes.push(b',');
                    }
                    let response = InvoiceResponse::new(&self.state, invoice, items);
                    serde_json::to_writer(&mut bytes, &response)
                        .map_err(|error| cut_short(&error))?;
                }
            }
            PageChunk::Chunked(invoice, vat_totals) => {
                let (head, tail) = ItemsMark::around_items(&self.state, &invoice, &vat_totals)
                    .map_err(|error| cut_short(&error))?;
                bytes.extend_from_slice(&head);
                self.open = Some((tail, false));
            }
        }
        self.started = true;
        Ok(Some(Bytes::from(bytes)))
    }
}
/// The invoice's JSON up to its items' `[`, then its items chunk by chunk, then from their
/// `]` to its end.
fn invoice_by_chunks(
    state: AppState,
    chunked: ChunkedInvoice,
    (head, tail): (Bytes, Bytes),
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let items =
        futures_util::stream::unfold(Some((state, chunked, tail, false)), |progress| async move {
            let (state, mut chunked, tail, items_written) = progress?;
            match chunked.next_items().await {
                Ok(Some(items)) => match items_json(&state, &items, items_written) {
                    Ok(bytes) => Some((Ok(bytes), Some((state, chunked, tail, true)))),
                    Err(error) => Some((Err(error), None)),
                },
                Ok(None) => Some((Ok(tail), None)),
                Err(error) => Some((Err(cut_short(&error)), None)),
            }
        });
    futures_util::stream::iter([Ok(head)]).chain(items)
}

/// Items as they follow others in a list (after a comma when `after_others`).
fn items_json(
    state: &AppState,
    items: &[InvoiceItem],
    after_others: bool,
) -> Result<Bytes, std::io::Error> {
    let mut bytes = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if index > 0 || after_others {
            bytes.push(b',');
        }
        let response = ItemResponse::new(state, item);
        serde_json::to_writer(&mut bytes, &response).map_err(|error| cut_short(&error))?;
    }
    Ok(Bytes::from(bytes))
}

/// How long a client may leave an answer's next bytes unread before the answer is cut and its
/// snapshot and connection given back to the pool.
const STALL_LIMIT: Duration = Duration::from_secs(30);

/// The answer's bytes, read ahead by a task of their own one chunk at a time. The task holds
/// what the reading holds (a snapshot, a connection of the pool) and lets go of it when the
/// client leaves, or takes more than `limit` ([`STALL_LIMIT`]) to take the next chunk: the
/// answer is then cut. A client that reads slowly or not at all holds no more than its socket.
fn released_when_stalled(
    answer: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    limit: Duration,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let mut answer = Box::pin(answer);
        while let Some(bytes) = answer.next().await {
            match tokio::time::timeout(limit, sender.send(bytes)).await {
                Ok(Ok(())) => {}
                // The client left: nothing more to send.
                Ok(Err(_)) => return,
                Err(_) => {
                    drop(answer);
                    let stalled = std::io::Error::other("the client stopped reading the answer");
                    let _ = sender.send(Err(cut_short(&stalled))).await;
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        let bytes = receiver.recv().await?;
        Some((bytes, receiver))
    })
}

fn cut_short(error: &dyn std::fmt::Display) -> std::io::Error {
    tracing::error!(%error, "an answer was cut short");
    std::io::Error::other("the answer was cut short")
}

/// An invoice's JSON as it is written without its items, and where in it their list begins:
/// the invoice is serialized as every other answer is, and the place is noted as the list is
/// reached.
#[derive(Default)]
pub(super) struct ItemsMark {
    written: RefCell<Vec<u8>>,
    at: Cell<Option<usize>>,
}

impl ItemsMark {
    /// Notes that the items' list begins at what is written so far.
    pub(super) fn note(&self) {
        self.at.set(Some(self.written.borrow().len()));
    }

    /// The invoice's JSON up to and with its items' `[`, and from their `]` to its end.
    fn around_items(
        state: &AppState,
        invoice: &Invoice,
        vat_totals: &[VatTotal],
    ) -> Result<(Bytes, Bytes), std::io::Error> {
        let mark = Self::default();
        let response = InvoiceResponse::without_items(state, invoice, vat_totals, &mark);
        serde_json::to_writer(MarkedWriter(&mark), &response)?;
        let (mut written, at) = (mark.written.take(), mark.at.get());
        // An empty list is written `[]` where it was noted.
        let Some(at) = at.filter(|at| written.get(*at..*at + 2) == Some(b"[]")) else {
            return Err(std::io::Error::other(
                "the invoice's items were not written",
            ));
        };
        let tail = written.split_off(at + 1);
        Ok((Bytes::from(written), Bytes::from(tail)))
    }
}

/// Writes into a mark's bytes, which the mark reads when it notes its place.
struct MarkedWriter<'a>(&'a ItemsMark);

impl std::io::Write for MarkedWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.written.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// Marks its flag when the answer's reading lets go of it.
    struct Held(Arc<AtomicBool>);

    impl Drop for Held {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// An answer that never ends, holding a [`Held`], and its flag.
    fn endless_answer() -> (
        impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
        Arc<AtomicBool>,
    ) {
        let released = Arc::new(AtomicBool::new(false));
        let held = Held(Arc::clone(&released));
        let answer = futures_util::stream::repeat_with(move || {
            let _holds = &held;
            Ok(Bytes::from_static(b"x"))
        });
        (answer, released)
    }

    /// Waits up to 5 s for the flag.
    async fn released_soon(released: &AtomicBool) -> bool {
        for _ in 0..500 {
            if released.load(Ordering::SeqCst) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn an_answer_left_unread_lets_go_of_its_reading_and_ends_cut() {
        let (answer, released) = endless_answer();
        let mut answer = Box::pin(released_when_stalled(answer, Duration::from_millis(20)));
        let first = answer.next().await.unwrap().unwrap();
        assert_eq!(first, "x");
        assert!(released_soon(&released).await);
        let mut rest = Vec::new();
        while let Some(next) = answer.next().await {
            rest.push(next);
        }
        // The chunk read ahead, then the cut.
        assert!(rest.len() <= 2, "{rest:?}");
        assert!(rest.last().unwrap().is_err(), "{rest:?}");
    }

    #[tokio::test]
    async fn an_answer_whose_client_left_lets_go_of_its_reading() {
        let (answer, released) = endless_answer();
        let mut answer = Box::pin(released_when_stalled(answer, Duration::from_secs(3600)));
        answer.next().await.unwrap().unwrap();
        drop(answer);
        assert!(released_soon(&released).await);
    }

    #[tokio::test]
    async fn an_answer_read_promptly_is_whole() {
        let chunks = ["[", "1", ",2", "]"].map(|chunk| Ok(Bytes::from_static(chunk.as_bytes())));
        let answer = futures_util::stream::iter(chunks);
        let read: Vec<Bytes> = released_when_stalled(answer, Duration::from_secs(3600))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(read.concat(), b"[1,2]");
    }
}
