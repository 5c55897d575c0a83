//! Limits on the request line and headers, below hyper's own, so that a request past them is
//! answered as problem JSON (414, 431) rather than with hyper's empty body.

use axum::extract::Request;

use super::failure::Rejection;

/// The longest request target (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header fields a request may have (hyper itself refuses more than 100).
pub const MAX_HEADER_COUNT: usize = 64;
/// The most bytes of header names and values together.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The refusal of a request head past the limits: 414 past [`MAX_URI_BYTES`], 431 past
/// [`MAX_HEADER_COUNT`] or [`MAX_HEADER_BYTES`]. Checked first on admission
/// ([`super::admission`]), before credentials or the body, and inside the request id, tracing
/// and CORS layers, so that the refusal has a request id and reaches a page.
pub fn check(request: &Request) -> Result<(), Rejection> {
    let uri = request.uri();
    let target_bytes = uri
        .path_and_query()
        .map_or(0, |target| target.as_str().len())
        + uri
            .authority()
            .map_or(0, |authority| authority.as_str().len());
    if target_bytes > MAX_URI_BYTES {
        return Err(Rejection::UriTooLong {
            limit: MAX_URI_BYTES,
        });
    }
    let headers = request.headers();
    if headers.len() > MAX_HEADER_COUNT {
        return Err(Rejection::HeadersTooLarge(format!(
            "The request has {} header fields; at most {MAX_HEADER_COUNT} are accepted.",
            headers.len()
        )));
    }
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(Rejection::HeadersTooLarge(format!(
            "The request's header fields take {header_bytes} bytes; at most {MAX_HEADER_BYTES} are accepted."
        )));
    }
    Ok(())
}
