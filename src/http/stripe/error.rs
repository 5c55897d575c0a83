//! How the Stripe-style edge answers an error: Stripe's status and `error` member
//! (`{type, code, message, param}`), which Stripe's client libraries turn into their usual
//! exceptions, beside the RFC 7807 members and `invalidFields` in bracket notation, in one body.
//!
//! Errors this edge makes itself (bad parameters, a missing resource) carry their own code and
//! parameter; the core's errors and the transport's refusals are shaped from their data, in
//! one pass ([`STRIPE`], the dialect the router names for every request under `/v1`).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::words::{minor_text, status as stripe_status};
use crate::domain::transaction::TransactionType;
use crate::error::{ApiError, Clash, DomainField, InvalidField};
use crate::http::failure::{ErrorDialect, Failure, Rejection};
use crate::http::problem::{Problem, default_detail};

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

/// The most characters of a parameter's name an answer repeats: a name is the caller's own
/// text (an unknown one can be as long as the body), and an answer names it several times.
const MAX_ECHOED: usize = 100;

/// A parameter's name as an answer repeats it: whole, or its first [`MAX_ECHOED`] characters
/// and `...`.
fn echoed(param: &str) -> String {
    match param.char_indices().nth(MAX_ECHOED) {
        Some((cut, _)) => format!("{}...", &param[..cut]),
        None => param.to_owned(),
    }
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
            param: Some(echoed(param)),
            code: None,
            message: message.into(),
        }
    }

    /// A parameter with Stripe's code for what is wrong.
    pub fn coded(param: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            param: Some(echoed(param)),
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
    /// A failure of the core or the transport, kept as data until it is answered: then in
    /// this edge's own shape where it has one, else with its type and code following from its
    /// status, with the headers every dialect sends.
    Shared(Failure),
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
        Self::missing(StatusCode::NOT_FOUND, kind, id, param)
    }

    /// A 400 for a parameter naming an object of `kind` that the organization does not have
    /// (`price`, `invoice`), as Stripe answers it.
    pub fn no_such_param(kind: &str, id: &str, param: &str) -> Self {
        Self::missing(StatusCode::BAD_REQUEST, kind, id, param)
    }

    fn missing(status: StatusCode, kind: &str, id: &str, param: &str) -> Self {
        Self::Own {
            status,
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

/// A core error, with a missing object answered by `missing`: named as Stripe names it, where
/// the core's own 404 names it as the core does.
pub fn missing_as(missing: impl Fn() -> StripeError) -> impl Fn(ApiError) -> StripeError {
    move |error| match error {
        ApiError::NotFound(_) => missing(),
        other => other.into(),
    }
}

const INVALID_REQUEST: &str = "invalid_request_error";
const IDEMPOTENCY: &str = "idempotency_error";
const API: &str = "api_error";

/// A field the core checks, as this dialect names it.
fn param_name(field: DomainField) -> &'static str {
    match field {
        DomainField::ItemProduct => "price_data[product]",
        DomainField::ItemInvoice => "invoice",
        DomainField::ItemManualTaxAmount => "tax_rates",
        DomainField::InvoiceDueTime => "due_date",
        DomainField::IdempotencyKey => "Idempotency-Key",
        DomainField::WebhookUrl => "url",
        DomainField::AppliedTransaction => "paid_out_of_band",
        DomainField::AppliedAmount => "amount",
        DomainField::CreditedInvoice | DomainField::AllocatedInvoice => "invoice",
        DomainField::CreditCustomer => "customer",
        DomainField::CreditCurrency => "currency",
        DomainField::CreditLines => "lines",
        DomainField::CreditShipping => "shipping_cost",
        DomainField::CreditOutOfBand => "out_of_band_amount",
        DomainField::AllocatedAmount => "amount",
        DomainField::InvoiceDaysUntilDue => "days_until_due",
        DomainField::InvoiceMetadata => "metadata",
    }
}

impl From<ApiError> for StripeError {
    fn from(error: ApiError) -> Self {
        Failure::from(error).into()
    }
}

impl From<sqlx::Error> for StripeError {
    fn from(error: sqlx::Error) -> Self {
        Failure::from(error).into()
    }
}

impl From<Rejection> for StripeError {
    fn from(rejection: Rejection) -> Self {
        Failure::from(rejection).into()
    }
}

impl From<Failure> for StripeError {
    fn from(failure: Failure) -> Self {
        Self::Shared(failure)
    }
}

/// A settlement or credit refusal in this dialect's words (its statuses, objects and minor
/// units, not Rebilly's), where it has them.
fn settlement_words(clash: &Clash) -> Option<String> {
    match clash {
        Clash::NotSettleable {
            invoice,
            status,
            kind: TransactionType::Sale,
        } => Some(format!(
            "Invoice {invoice} is {}: only an open or uncollectible invoice can be paid.",
            stripe_status(*status)
        )),
        Clash::HoldsPayments {
            invoice,
            held,
            currency,
            ..
        } => Some(format!(
            "Invoice {invoice} has been paid {held} {currency}: an invoice that was paid cannot be voided until that is refunded."
        )),
        Clash::NotCreditable { invoice, status } => Some(format!(
            "Invoice {invoice} is {}: only a finalized invoice that is not void can be credited.",
            stripe_status(*status)
        )),
        Clash::CreditSettled { invoice, status } => Some(format!(
            "Invoice {invoice} is {}: a credit note's credit can change only while its invoice is open.",
            stripe_status(*status)
        )),
        Clash::NotSendable { invoice, status } => Some(format!(
            "Invoice {invoice} is {}: a void invoice is not sent.",
            stripe_status(*status)
        )),
        Clash::CreditMemoVoided { credit_memo } => Some(format!(
            "Credit note {credit_memo} is void: it changes no more."
        )),
        Clash::CreditGivenBack {
            credit_memo,
            amount,
            currency,
        } => Some(format!(
            "Credit note {credit_memo} gave back {} {} of a paid invoice out of band: it cannot be voided.",
            minor_text(*currency, *amount),
            currency.code().to_ascii_lowercase()
        )),
        _ => None,
    }
}

/// This edge's own shape of a failure, where it has one.
fn own_shape(failure: &Failure) -> Option<StripeError> {
    let shaped = match failure {
        Failure::Core(ApiError::Validation {
            detail,
            invalid_fields,
        }) if invalid_fields.is_empty() => StripeError::invalid_request(None, detail.clone()),
        Failure::Core(ApiError::Validation { invalid_fields, .. }) => StripeError::Params(
            invalid_fields
                .iter()
                .map(|field| Bad::invalid(&brackets(&field.field), field.message.clone()))
                .collect(),
        ),
        Failure::Core(ApiError::InvalidInput {
            field: DomainField::IdempotencyKey,
            rule,
        }) => StripeError::Own {
            status: StatusCode::BAD_REQUEST,
            kind: IDEMPOTENCY,
            code: None,
            param: None,
            message: format!("The Idempotency-Key {rule}."),
        },
        Failure::Core(ApiError::InvalidInput { field, rule }) => {
            StripeError::Params(vec![Bad::invalid(param_name(*field), rule.to_string())])
        }
        Failure::Core(ApiError::NotFound(missing)) => StripeError::Own {
            status: StatusCode::NOT_FOUND,
            kind: INVALID_REQUEST,
            code: Some("resource_missing"),
            param: Some("id".to_owned()),
            message: missing.to_string(),
        },
        // As any state that forbids a call here: 400, saying why there is no e-invoice.
        Failure::Core(ApiError::NoEInvoice(refusal)) => {
            StripeError::invalid_request(None, refusal.to_string())
        }
        Failure::Core(ApiError::Conflict(clash)) => {
            StripeError::invalid_request(None, settlement_words(clash).unwrap_or_else(|| clash.to_string()))
        }
        Failure::Rejected(Rejection::BadRequest(message)) => {
            StripeError::invalid_request(None, message.clone())
        }
        Failure::Core(ApiError::RequestInFlight) => StripeError::Own {
            status: StatusCode::CONFLICT,
            kind: IDEMPOTENCY,
            code: Some("idempotency_key_in_use"),
            param: None,
            message: "There is currently another in-progress request using this Idempotency-Key; retry once it has been answered.".to_owned(),
        },
        Failure::Rejected(Rejection::UnsupportedMediaType) => StripeError::unsupported_media_type(
            "The request body must be sent as application/x-www-form-urlencoded or application/json.",
        ),
        _ => return None,
    };
    Some(shaped)
}

impl crate::http::idempotency::WriteError for StripeError {
    fn is_server_error(&self) -> bool {
        matches!(self, Self::Shared(failure) if failure.is_server_error())
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
            Self::Shared(failure) => return STRIPE.render(&failure),
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
        problem
            .with_member(
                "error",
                error_member(kind, code, &message, param.as_deref()),
            )
            .into_response()
    }
}

/// A failure this edge has no own shape for: Rebilly's sentence, Stripe's type and code by
/// its status (a 422 answers 400, as Stripe answers every bad parameter, its parameter the
/// first bad field), and a 401 naming the Basic scheme Stripe's clients use.
fn shared_answer(failure: &Failure) -> Response {
    let mut status = failure.status();
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        status = StatusCode::BAD_REQUEST;
    }
    let detail = failure.detail();
    let mut problem = Problem::new(status, detail.clone());
    if let Failure::Core(ApiError::Validation { invalid_fields, .. }) = failure {
        problem = problem.with_invalid_fields(invalid_fields.clone());
    }
    let param = problem
        .invalid_fields()
        .and_then(<[InvalidField]>::first)
        .map(|field| field.field.clone());
    let problem = problem.with_member(
        "error",
        error_member(kind_of(status), code_of(status), &detail, param.as_deref()),
    );
    let challenge = (status == StatusCode::UNAUTHORIZED)
        .then_some([(header::WWW_AUTHENTICATE, "Basic realm=\"invoice-api\"")]);
    failure.answer_with((challenge, problem))
}

/// Stripe's error type for a status of the shared plumbing.
fn kind_of(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        API
    } else {
        INVALID_REQUEST
    }
}

/// Stripe's error code for a status of the shared plumbing.
fn code_of(status: StatusCode) -> Option<&'static str> {
    (status == StatusCode::TOO_MANY_REQUESTS).then_some("rate_limit")
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

/// The Stripe-style way of answering errors.
#[derive(Debug, Clone, Copy)]
pub struct Stripe;

/// The one instance the router names.
pub static STRIPE: Stripe = Stripe;

/// The request's id as Stripe names it on its answers, which its libraries read.
const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("request-id");

impl ErrorDialect for Stripe {
    fn render(&self, failure: &Failure) -> Response {
        match own_shape(failure) {
            Some(own) => failure.answer_with(own),
            None => shared_answer(failure),
        }
    }

    fn render_status(&self, status: StatusCode) -> Response {
        let detail = default_detail(status);
        Problem::new(status, detail)
            .with_member(
                "error",
                error_member(kind_of(status), code_of(status), detail, None),
            )
            .into_response()
    }

    fn name_request_id(&self, request_id: &HeaderValue, answer: &mut HeaderMap) {
        answer.insert(REQUEST_ID_HEADER, request_id.clone());
    }
}
