//! Rate limits on the wire: which requests count, and the `X-RateLimit-*` headers.
//!
//! The limit is checked by the [`Principal`](super::auth::Principal) extractor, right after the
//! permission check and before any body is read (the order of checks puts 429 before 415).
//! An extractor cannot add response headers, so admission ([`super::admission`]) hands a
//! write an empty [`DecisionSlot`] ([`offer_slot`]) and writes the headers from what it finds
//! there once the handler is done, whatever the status ([`add_decision_headers`]).

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::Response;

use crate::service::rate_limit::{Decision, Refusal};

/// The most writes per window.
pub const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// How many more writes the organization may make right now.
pub const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// Rebilly's header on a 429: the Unix time (seconds) when a write will be admitted again.
pub const RETRY_AT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-retry-after");

/// Whether a request counts against the limit: writes only.
pub fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    )
}

/// Where the extractor leaves its decision for [`add_decision_headers`].
#[derive(Debug, Clone, Default)]
pub struct DecisionSlot(Arc<OnceLock<Decision>>);

impl DecisionSlot {
    /// Keeps the decision (the first one, should there ever be two).
    pub fn fill(&self, decision: Decision) {
        let _first_wins = self.0.set(decision);
    }

    fn get(&self) -> Option<&Decision> {
        self.0.get()
    }
}

/// Gives a write a [`DecisionSlot`] (only writes count, so only a write's is ever filled).
pub fn offer_slot(request: &mut Request) -> Option<DecisionSlot> {
    if !is_write(request.method()) {
        return None;
    }
    let slot = DecisionSlot::default();
    request.extensions_mut().insert(slot.clone());
    Some(slot)
}

/// Adds `X-RateLimit-Limit` and `X-RateLimit-Remaining` to the answer when the extractor
/// made a decision, whatever the status.
pub fn add_decision_headers(slot: Option<&DecisionSlot>, response: &mut Response) {
    if let Some(decision) = slot.and_then(DecisionSlot::get) {
        response
            .headers_mut()
            .extend(decision_headers(decision.limit, decision.remaining));
    }
}

/// `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
fn decision_headers(limit: u32, remaining: u32) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(LIMIT_HEADER, HeaderValue::from(limit));
    headers.insert(REMAINING_HEADER, HeaderValue::from(remaining));
    headers
}

/// The headers of a 429: the limit, nothing remaining, and when to retry, both as Rebilly's
/// Unix time and as the standard `Retry-After` in seconds.
pub fn refused_headers(limit: u32, refusal: &Refusal) -> HeaderMap {
    let mut headers = decision_headers(limit, 0);
    headers.insert(
        RETRY_AT_HEADER,
        HeaderValue::from(refusal.admitted_at_unix_secs()),
    );
    headers.insert(RETRY_AFTER, HeaderValue::from(refusal.retry_after_secs()));
    headers
}
