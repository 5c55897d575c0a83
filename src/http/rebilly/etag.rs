//! `ETag` on invoices and items, made from their revision, and `If-Match` on `PUT`/`DELETE`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::precondition::ExpectedVersion;
use crate::error::ApiError;
use crate::http::negotiation::MediaType;

/// The strong entity tag of a resource at `revision`: `"r3"`.
pub fn etag(revision: i64) -> HeaderValue {
    // Digits, quotes and a letter are always a valid header value.
    HeaderValue::from_str(&format!("\"r{revision}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// The response with an `ETag` for `revision`.
pub fn with_etag(mut response: Response, revision: i64) -> Response {
    response.headers_mut().insert(header::ETAG, etag(revision));
    response
}

/// The strong entity tag of one representation of a resource at `revision`: the JSON's is
/// [`etag`]'s; a document's, `"r3-pdf-<seller version>-d2"`, also names the version of the seller it
/// prints (0 while its details never changed). Two representations never share a strong tag.
pub fn representation_etag(
    revision: i64,
    media_type: MediaType,
    seller_version: i64,
) -> HeaderValue {
    match media_type {
        MediaType::Json => etag(revision),
        // `d2`: documents drawn since PDFs carry their e-invoice; a tag of an older drawing
        // names another document.
        document => HeaderValue::from_str(&format!(
            "\"r{revision}-{}-{seller_version}-d2\"",
            document.short_name()
        ))
        .unwrap_or(HeaderValue::from_static("\"\"")),
    }
}

/// Whether `If-None-Match` names `tag` (or is `*`), compared weakly as RFC 9110 asks: the
/// client's copy is current, and a 304 answers.
pub fn is_not_modified(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let Ok(tag) = tag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

/// The answer to a read of the representation tagged `tag`, carrying the tag: a 304 when
/// `If-None-Match` names it, else what `answer` makes (which is then not made for nothing).
pub async fn answer_unless_current(
    headers: &HeaderMap,
    tag: HeaderValue,
    answer: impl AsyncFnOnce() -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let mut response = if is_not_modified(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        answer().await?
    };
    response.headers_mut().insert(header::ETAG, tag);
    Ok(response)
}

/// The request's `If-Match`, if it has one.
#[derive(Debug)]
pub struct Precondition(pub Option<ExpectedVersion>);

impl<S: Send + Sync> FromRequestParts<S> for Precondition {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let values: Vec<&str> = parts
            .headers
            .get_all(header::IF_MATCH)
            .iter()
            .map(|value| value.to_str().unwrap_or(""))
            .collect();
        Ok(Self((!values.is_empty()).then(|| parse_if_match(&values))))
    }
}

/// `*`, or a list of entity tags compared strongly, character for character: a weak tag
/// (`W/"r3"`) or one we never made (`"r03"`, `"r+3"`) matches nothing.
fn parse_if_match(values: &[&str]) -> ExpectedVersion {
    let tags: Vec<&str> = values
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .collect();
    if tags == ["*"] {
        return ExpectedVersion::Any;
    }
    ExpectedVersion::Revisions(tags.iter().filter_map(|tag| revision_of(tag)).collect())
}

/// The revision an entity tag of ours names: exactly the text [`etag`] writes for it.
fn revision_of(tag: &str) -> Option<i64> {
    let digits = tag.strip_prefix("\"r")?.strip_suffix('"')?;
    let revision: i64 = digits.parse().ok()?;
    (revision.to_string() == digits).then_some(revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_per_representation() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"r1\", W/\"r3-pdf-0-d2\""),
        );
        let pdf = |revision, seller| representation_etag(revision, MediaType::Pdf, seller);
        let json = |revision| representation_etag(revision, MediaType::Json, 0);
        assert!(is_not_modified(&headers, &pdf(3, 0)));
        assert!(!is_not_modified(&headers, &pdf(3, 7)));
        assert!(!is_not_modified(&headers, &json(3)));
        assert!(is_not_modified(&headers, &json(1)));
        assert!(!is_not_modified(&HeaderMap::new(), &etag(1)));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(is_not_modified(&headers, &etag(9)));
    }

    #[test]
    fn if_match_reads_star_and_strong_tags_only() {
        assert_eq!(parse_if_match(&["*"]), ExpectedVersion::Any);
        assert_eq!(
            parse_if_match(&["\"r3\", \"r4\"", "\"r7\""]),
            ExpectedVersion::Revisions(vec![3, 4, 7])
        );
        assert_eq!(
            parse_if_match(&["W/\"r3\", \"x\", r5, \"r-\""]),
            ExpectedVersion::Revisions(Vec::new())
        );
        assert_eq!(etag(12), HeaderValue::from_static("\"r12\""));
        assert_eq!(
            parse_if_match(&["\"r03\", \"r+3\", \"r-0\", \"r 3\", \"r3\""]),
            ExpectedVersion::Revisions(vec![3]),
            "only the tag written for revision 3 names it"
        );
        assert_eq!(
            parse_if_match(&["\"r0\""]),
            ExpectedVersion::Revisions(vec![0])
        );
    }
}
