//! How the Stripe-style edge answers an error: Stripe's status and `error` member
//! (`{type, code, message, param}`), which Stripe's client libraries turn into their usual
//! exceptions, beside the RFC 7807 members and `invalidFields` in bracket notation, in one body.
//!
//! Errors this edge makes itself (bad parameters, a missing resource) carry their own code and
//! parameter. Errors of the shared plumbing (401, 403, 413, 429, 503, ...) arrive as problem
//! JSON and [`restyle_errors`] adds the `error` member, so that every error under `/v1` has it.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, DomainField, InvalidField};
use crate::http::OwnErrorShape;
use crate::http::rebilly::problem::{PROBLEM_JSON, Problem};

/// The prefix of the dialect's routes.
pub const PREFIX: &str = "/v1";

/// One bad parameter (or a bad request naming none), with Stripe's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    /// The parameter in bracket notation (`period[end]`), if one is at fault.
    pub param: Option<String>,
    /// Stripe's code for it (`parameter_missing`, ...), if it has one.
    pub code: Option<&'static str>,
    /// What is wrong, for people: short, after the parameter's name.
    pub message: String,
}

impl Bad {
    /// The request as a whole cannot be read.
    pub fn request(message: impl Into<String>) -> Self {
        Self {
            param: None,
            code: None,
            message: message.into(),
        }
    }

    /// A parameter whose value breaks a rule.
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param.to_owned()),
            code: None,
            message: message.into(),
        }
    }

    /// A parameter with Stripe's code for what is wrong.
    pub fn coded(param: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param.to_owned()),
            code: Some(code),
            message: message.into(),
        }
    }

    /// A required parameter left out.
    pub fn missing(param: &str) -> Self {
        Self::coded(param, "parameter_missing", "is required")
    }

    /// A parameter the operation does not have.
    pub fn unknown(param: &str) -> Self {
        Self::coded(
            param,
            "parameter_unknown",
            "is not a parameter of this operation",
        )
    }

    /// Stripe's sentence for it.
    fn sentence(&self) -> String {
        match (&self.param, self.code) {
            (Some(param), Some("parameter_missing")) => format!("Missing required param: {param}."),
            (Some(param), Some("parameter_unknown")) => {
                format!("Received unknown parameter: {param}.")
            }
            (Some(param), _) => format!("Invalid {param}: {}.", self.message),
            (None, _) => self.message.clone(),
        }
    }
}

/// Everything a `/v1` request can fail with.
#[derive(Debug)]
pub enum StripeError {
    /// Rendered as problem JSON by the shared renderer, with its headers (`Retry-After`, the
    /// rate-limit headers); [`restyle_errors`] adds the `error` member.
    Shared(ApiError),
    /// 400: bad parameters, each named.
    Params(Vec<Bad>),
    /// An answer of this edge's own.
    Own {
        /// Its status.
        status: StatusCode,
        /// Stripe's error type.
        kind: &'static str,
        /// Stripe's code, if any.
        code: Option<&'static str>,
        /// The parameter at fault, if any.
        param: Option<String>,
        /// What went wrong.
        message: String,
    },
}

impl StripeError {
    /// A 404 for an object of `kind` (`invoiceitem`) that the organization does not have.
    pub fn no_such(kind: &str, id: &str, param: &str) -> Self {
        Self::Own {
            status: StatusCode::NOT_FOUND,
            kind: INVALID_REQUEST,
            code: Some("resource_missing"),
            param: Some(param.to_owned()),
            message: format!("No such {kind}: '{id}'"),
        }
    }

    /// A 400 for a parameter naming an object of `kind` that the organization does not have
    /// (`price`, `invoice`), as Stripe answers it.
    pub fn no_such_param(kind: &str, id: &str, param: &str) -> Self {
        Self::Own {
            status: StatusCode::BAD_REQUEST,
            kind: INVALID_REQUEST,
            code: Some("resource_missing"),
            param: Some(param.to_owned()),
            message: format!("No such {kind}: '{id}'"),
        }
    }

    /// A 415.
    pub fn unsupported_media_type(message: &str) -> Self {
        Self::Own {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            kind: INVALID_REQUEST,
            code: None,
            param: None,
            message: message.to_owned(),
        }
    }

    /// A 400 for a request whose parameters are each fine but do not go together, or do not
    /// suit the object's state.
    pub fn invalid_request(param: Option<&str>, message: impl Into<String>) -> Self {
        Self::Own {
            status: StatusCode::BAD_REQUEST,
            kind: INVALID_REQUEST,
            code: None,
            param: param.map(str::to_owned),
            message: message.into(),
        }
    }

    /// `Ok` when nothing is bad, else one 400 naming every bad parameter.
    pub fn unless_bad(bad: Vec<Bad>) -> Result<(), Self> {
        if bad.is_empty() {
            Ok(())
        } else {
            Err(Self::Params(bad))
        }
    }
}

const INVALID_REQUEST: &str = "invalid_request_error";
const IDEMPOTENCY: &str = "idempotency_error";
const API: &str = "api_error";

/// A field the core checks, as this dialect names it.
fn param_name(field: DomainField) -> &'static str {
    match field {
        DomainField::ItemProduct => "price_data[product]",
        DomainField::ItemManualTaxAmount => "tax_rates",
        DomainField::InvoiceDueTime => "due_date",
        DomainField::IdempotencyKey => "Idempotency-Key",
        DomainField::WebhookUrl => "url",
    }
}

impl From<ApiError> for StripeError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Validation {
                detail,
                invalid_fields,
            } if invalid_fields.is_empty() => Self::invalid_request(None, detail),
            ApiError::Validation { invalid_fields, .. } => Self::Params(
                invalid_fields
                    .into_iter()
                    .map(|field| Bad::invalid(&brackets(&field.field), field.message))
                    .collect(),
            ),
            ApiError::InvalidInput {
                field: DomainField::IdempotencyKey,
                message,
            } => Self::Own {
                status: StatusCode::BAD_REQUEST,
                kind: IDEMPOTENCY,
                code: None,
                param: None,
                message: format!("The Idempotency-Key {message}."),
            },
            ApiError::InvalidInput { field, message } => {
                Self::Params(vec![Bad::invalid(param_name(field), message)])
            }
            ApiError::NotFound(message) => Self::Own {
                status: StatusCode::NOT_FOUND,
                kind: INVALID_REQUEST,
                code: Some("resource_missing"),
                param: Some("id".to_owned()),
                message,
            },
            ApiError::BadRequest(message) | ApiError::Conflict(message) => {
                Self::invalid_request(None, message)
            }
            ApiError::RequestInFlight => Self::Own {
                status: StatusCode::CONFLICT,
                kind: IDEMPOTENCY,
                code: Some("idempotency_key_in_use"),
                param: None,
                message: "There is currently another in-progress request using this Idempotency-Key; retry once it has been answered.".to_owned(),
            },
            ApiError::UnsupportedMediaType => Self::unsupported_media_type(
                "The request body must be sent as application/x-www-form-urlencoded or application/json.",
            ),
            other => Self::Shared(other),
        }
    }
}

impl crate::http::idempotency::WriteError for StripeError {
    fn is_server_error(&self) -> bool {
        matches!(self, Self::Shared(error) if error.is_server_error())
    }
}

/// A field path the shared plumbing names in dot notation (`metadata.a`), as this dialect
/// names it (`metadata[a]`).
fn brackets(path: &str) -> String {
    let mut parts = path.split('.');
    let mut name = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        name.push('[');
        name.push_str(part);
        name.push(']');
    }
    name
}

impl From<Bad> for StripeError {
    fn from(bad: Bad) -> Self {
        Self::Params(vec![bad])
    }
}

impl IntoResponse for StripeError {
    fn into_response(self) -> Response {
        let (status, kind, code, param, message, invalid_fields) = match self {
            Self::Shared(error) => return error.into_response(),
            Self::Params(bad) => {
                let first = bad
                    .first()
                    .cloned()
                    .unwrap_or_else(|| Bad::request("The request is not valid."));
                let invalid_fields = bad
                    .iter()
                    .map(|bad| {
                        InvalidField::new(
                            bad.param.clone().unwrap_or_default(),
                            bad.message.clone(),
                        )
                    })
                    .collect();
                let message = first.sentence();
                (
                    StatusCode::BAD_REQUEST,
                    INVALID_REQUEST,
                    first.code,
                    first.param,
                    message,
                    Some(invalid_fields),
                )
            }
            Self::Own {
                status,
                kind,
                code,
                param,
                message,
            } => (status, kind, code, param, message, None),
        };
        let mut problem = Problem::new(status, message.clone());
        if let Some(invalid_fields) = invalid_fields {
            problem = problem.with_invalid_fields(invalid_fields);
        }
        let mut body = match serde_json::to_value(&problem) {
            Ok(Value::Object(body)) => body,
            _ => Map::new(),
        };
        body.insert(
            "error".to_owned(),
            error_member(kind, code, &message, param.as_deref()),
        );
        // Plain JSON until the edge's layer completes it: a kept copy given again is then left
        // to that layer too, not read back as a problem by the shared one.
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            Value::Object(body).to_string(),
        )
            .into_response();
        response.extensions_mut().insert(OwnErrorShape);
        response
    }
}

fn error_member(kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Value {
    let mut error = json!({"type": kind, "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    error
}

/// The most of an error body this layer reads: far more than any error this server writes.
const MAX_ERROR_BYTES: usize = 1 << 20;

/// Completes every error answered under `/v1`: the RFC 7807 `instance` and `requestId`, and
/// Stripe's `error` member where the answer came from the shared plumbing without one (its
/// type and code follow from the status; its parameter is the first bad field). A 422 of the
/// shared plumbing answers 400 here, as Stripe answers every bad parameter, and a 401 names the
/// Basic scheme Stripe's clients use.
pub async fn restyle_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path != PREFIX && !path.starts_with("/v1/") {
        return next.run(request).await;
    }
    let instance = path.to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    if !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_ERROR_BYTES).await.unwrap_or_default();
    let mut body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(body)) => body,
        _ => Map::new(),
    };
    if !body.contains_key("error") {
        if parts.status == StatusCode::UNPROCESSABLE_ENTITY {
            parts.status = StatusCode::BAD_REQUEST;
        }
        let detail = body
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("The request could not be completed.")
            .to_owned();
        let invalid_fields = body.get("invalidFields").cloned();
        let mut problem = Problem::new(parts.status, detail.clone());
        if let Some(fields) = invalid_fields.and_then(|fields| serde_json::from_value(fields).ok())
        {
            problem = problem.with_invalid_fields(fields);
        }
        let param = body
            .get("invalidFields")
            .and_then(|fields| fields.get(0))
            .and_then(|field| field.get("field"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        body = match serde_json::to_value(&problem) {
            Ok(Value::Object(problem)) => problem,
            _ => Map::new(),
        };
        let (kind, code) = match parts.status.as_u16() {
            429 => (INVALID_REQUEST, Some("rate_limit")),
            500..=599 => (API, None),
            _ => (INVALID_REQUEST, None),
        };
        body.insert(
            "error".to_owned(),
            error_member(kind, code, &detail, param.as_deref()),
        );
    }
    body.insert("instance".to_owned(), json!(instance));
    match request_id {
        Some(id) => body.insert("requestId".to_owned(), json!(id)),
        None => body.remove("requestId"),
    };
    if parts.status == StatusCode::UNAUTHORIZED {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"invoice-api\""),
        );
    }
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(Value::Object(body).to_string()))
}
