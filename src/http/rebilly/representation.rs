//! A resource read as JSON, as a PDF document or as an e-invoice (an invoice, a credit memo):
//! which one `Accept` asks for, and the `Vary` that says so to caches.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::http::failure::Rejection;
use crate::http::negotiation::{MediaType, negotiate};

/// What an invoice or a credit memo offers, in the server's order of preference.
const OFFERED: [MediaType; 4] = [
    MediaType::Json,
    MediaType::Pdf,
    MediaType::Ubl,
    MediaType::Xml,
];

/// The representation `Accept` prefers, or the 406 of an `Accept` that takes none.
pub fn document_representation(headers: &HeaderMap) -> Result<MediaType, Rejection> {
    negotiate(headers, &OFFERED)
        .ok_or_else(|| Rejection::NotAcceptable(OFFERED.map(MediaType::as_str).to_vec()))
}

/// The answer, marked as chosen by `Accept`: the same URL answers JSON or PDF, so caches must
/// key on it.
pub fn varied_by_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}
