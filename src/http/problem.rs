//! RFC 7807 problem JSON, the document every dialect answers errors with, and the layer that
//! completes every error answer: it has the request's dialect render an unrendered failure,
//! and adds the request's own members (`instance`, `requestId`).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::failure::Dialect;

/// The header naming a request's id, the caller's or one made for it.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Marks an error answer that an edge shaped its own way (another dialect's JSON error), which
/// the problem completion leaves as it is.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorShape;

/// Marks a response as a kept answer given again (`idempotency::run_write`): its body is the
/// first answer's bytes, so an edge that completes its error bodies after the handler does so
/// from those bytes.
#[derive(Debug, Clone, Copy)]
pub struct Replayed;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

pub use crate::error::InvalidField;

// The schema of `InvalidField` in the contract: the type itself lives with the error, which
// knows no wire.
/// One bad field of a 422: `field` in dot notation (`tax.amount`, `discounts.1.value`).
#[derive(ToSchema)]
#[schema(as = InvalidField)]
#[allow(dead_code)]
pub struct InvalidFieldSchema {
    /// The field's path.
    field: String,
    /// What is wrong with it.
    message: String,
}

/// A problem document (RFC 7807). `instance` and `requestId` are filled in by
/// [`complete`], which knows the request.
#[derive(Debug, Clone, Serialize, ToSchema)]
// The published contract's wording, kept as it was published.
#[schema(
    description = "A problem document (RFC 7807). `instance` and `requestId` are filled in by\n[`complete_problems`], which knows the request."
)]
pub struct Problem {
    /// `/problems/<kind>`, one per kind of error, or `about:blank`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "/problems/validation-error")]
    kind: &'static str,
    /// The status's title: `Validation error`, `Not Found`, ...
    #[schema(value_type = String, example = "Validation error")]
    title: &'static str,
    /// The HTTP status.
    #[schema(example = 422)]
    status: u16,
    /// What went wrong, for people.
    detail: String,
    /// The request's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = String)]
    instance: Option<String>,
    /// The request's `X-Request-Id`.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = String)]
    request_id: Option<String>,
    /// Every bad field (422 only).
    #[serde(rename = "invalidFields", skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = Vec<InvalidFieldSchema>)]
    invalid_fields: Option<Vec<InvalidField>>,
    /// A dialect's own extension members (RFC 7807 section 3.2), after the others.
    #[serde(flatten)]
    #[schema(ignore)]
    members: Map<String, Value>,
}

impl Problem {
    /// A problem of the kind that `status` stands for.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let (kind, title) = kind_and_title(status);
        Self {
            kind,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            request_id: None,
            invalid_fields: (status == StatusCode::UNPROCESSABLE_ENTITY).then(Vec::new),
            members: Map::new(),
        }
    }

    /// The same problem with an extension member of a dialect's.
    pub fn with_member(mut self, name: &str, value: Value) -> Self {
        self.members.insert(name.to_owned(), value);
        self
    }

    /// The bad fields of a 422, if any.
    pub fn invalid_fields(&self) -> Option<&[InvalidField]> {
        self.invalid_fields.as_deref()
    }

    /// A problem read back from its JSON (an answer kept for an idempotency key, given again):
    /// its kind and title follow from `status`, `instance` and `requestId` from the request it
    /// answers.
    pub fn from_kept(status: StatusCode, body: &str) -> Self {
        #[derive(Deserialize)]
        struct Kept {
            detail: String,
            #[serde(rename = "invalidFields")]
            invalid_fields: Option<Vec<InvalidField>>,
            #[serde(flatten)]
            members: Map<String, Value>,
        }
        match serde_json::from_str::<Kept>(body) {
            Ok(mut kept) => {
                for own in ["type", "title", "status", "instance", "requestId"] {
                    kept.members.remove(own);
                }
                Self {
                    invalid_fields: kept.invalid_fields,
                    members: kept.members,
                    ..Self::new(status, kept.detail)
                }
            }
            Err(_) => Self::new(status, default_detail(status)),
        }
    }

    /// Lists the bad fields of a 422.
    pub fn with_invalid_fields(mut self, invalid_fields: Vec<InvalidField>) -> Self {
        self.invalid_fields = Some(invalid_fields);
        self
    }

    fn body(&self) -> Vec<u8> {
        // A struct of strings and numbers always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// One `type` URI and title per kind of error.
fn kind_and_title(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("/problems/bad-request", "Bad Request"),
        401 => ("/problems/unauthorized", "Unauthorized"),
        403 => ("/problems/forbidden", "Forbidden"),
        404 => ("/problems/not-found", "Not Found"),
        405 => ("/problems/method-not-allowed", "Method Not Allowed"),
        406 => ("/problems/not-acceptable", "Not Acceptable"),
        409 => ("/problems/conflict", "Conflict"),
        412 => ("/problems/precondition-failed", "Precondition Failed"),
        413 => ("/problems/payload-too-large", "Payload Too Large"),
        414 => ("/problems/uri-too-long", "URI Too Long"),
        415 => ("/problems/unsupported-media-type", "Unsupported Media Type"),
        422 => ("/problems/validation-error", "Validation error"),
        429 => ("/problems/rate-limit-exceeded", "Rate Limit Exceeded"),
        431 => (
            "/problems/request-header-fields-too-large",
            "Request Header Fields Too Large",
        ),
        500 => ("/problems/internal-server-error", "Internal Server Error"),
        503 => ("/problems/service-unavailable", "Service Unavailable"),
        _ => ("about:blank", status.canonical_reason().unwrap_or("Error")),
    }
}

/// What to say when a layer answered an error with no body of its own.
pub fn default_detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "No such route.",
        405 => "The method is not allowed on this resource; the Allow header lists those that are.",
        408 | 503 => "The server could not answer in time; retry later.",
        413 => "The request body is too large.",
        500 => "The server could not complete the request.",
        _ => "The request could not be completed.",
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response =
            (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], self.body()).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Completes every error response in the request's dialect: an unrendered failure is
/// rendered; a [`Problem`] gains `instance` (the request path) and `requestId`, whether it was
/// just made or is a kept answer given again ([`Replayed`], whose problem is read back from
/// its bytes); an error without a JSON body (axum's 405, a layer's empty or plain-text answer,
/// a panic) is replaced by the dialect's answer for its status, keeping its headers (such as
/// `Allow`). An error that an edge marks as shaped its own way ([`OwnErrorShape`]), or a kept
/// answer of such an error, is left as it is.
pub async fn complete(dialect: Dialect, request: Request, next: Next) -> Response {
    let instance = request.uri().path().to_owned();
    let request_id_header = request.headers().get(REQUEST_ID).cloned();
    let request_id = request_id_header
        .as_ref()
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut request = request;
    request.extensions_mut().insert(dialect);
    let response = dialect.render_unrendered(next.run(request).await);
    let (mut parts, body) = response.into_parts();
    if let Some(request_id) = &request_id_header {
        dialect.0.name_request_id(request_id, &mut parts.headers);
    }
    let replayed = parts.extensions.get::<Replayed>().is_some();
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None if !is_error(parts.status) || parts.extensions.get::<OwnErrorShape>().is_some() => {
            return Response::from_parts(parts, body);
        }
        None if replayed && is_problem(&parts.headers) => {
            // A body this server made and kept; the bound only stops reading a wrong one.
            let text = to_bytes(body, MAX_KEPT_PROBLEM_BYTES)
                .await
                .unwrap_or_default();
            Problem::from_kept(parts.status, &String::from_utf8_lossy(&text))
        }
        None if replayed => return Response::from_parts(parts, body),
        None => {
            let (rendered, _) = dialect.0.render_status(parts.status).into_parts();
            parts.status = rendered.status;
            parts.headers.extend(rendered.headers);
            let mut rendered = rendered.extensions;
            match rendered.remove::<Problem>() {
                Some(problem) => problem,
                None => Problem::new(parts.status, default_detail(parts.status)),
            }
        }
    };
    problem.instance = Some(instance);
    problem.request_id = request_id;
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(problem.body()))
}

/// The most of a kept problem's body that is read back: far more than any problem this server
/// writes.
const MAX_KEPT_PROBLEM_BYTES: usize = 1 << 20;

fn is_problem(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes) == Some(PROBLEM_JSON.as_bytes())
}

fn is_error(status: StatusCode) -> bool {
    status.is_client_error() || status.is_server_error()
}

/// The answer to a panic in a handler: a 500 with no internals (the hook has logged it),
/// which the dialect's layer words.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
