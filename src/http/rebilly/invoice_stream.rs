//! Invoices' answers written as they are read, so that an answer's memory does not grow with
//! its invoices: a page of invoices a few at a time, an invoice of many items a chunk of items
//! at a time. A failure once an answer has begun can no longer change its status: it is logged
//! and the connection is cut, so the client sees an answer that ends early, never a
//! complete-looking one. The reading holds its snapshot, and a connection of the pool, until
//! the last byte is written or the answer is dropped: when the client leaves, or when the
//! server closes a connection whose client stopped reading (`WRITE_STALL_TIMEOUT_SECS`).

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};

use super::invoice_items::ItemResponse;
use super::invoice_response::{InvoiceResponse, ItemsMark};
use super::wire::json_ok;
use crate::domain::invoice_item::InvoiceItem;
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
            let body = Body::from_stream(invoice_by_chunks(state, chunked, around));
            Ok((json_content(), body).into_response())
        }
    }
}

/// A page of invoices as one JSON array, written a few invoices at a time as they are read.
pub(super) fn invoice_array(state: AppState, chunks: InvoiceChunks) -> Response {
    let body = Body::from_stream(invoice_array_chunks(state, chunks));
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

fn cut_short(error: &dyn std::fmt::Display) -> std::io::Error {
    tracing::error!(%error, "an answer was cut short");
    std::io::Error::other("the answer was cut short")
}
