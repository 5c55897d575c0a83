//! The published contract: OpenAPI 3.1 built from the handlers' `#[utoipa::path]`
//! annotations and the routes they are registered on, served at `/openapi.json`, with
//! Swagger UI at `/docs`.

mod common;
mod links;
mod parts;
mod resources;
pub(super) mod schema;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::state::AppState;

pub use self::common::finish;

use crate::domain::currency::Currency;
use crate::domain::discount::DiscountKind;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::invoice_item::ItemType;
use crate::domain::transaction::TransactionType;

/// `debit` or `credit`.
pub fn item_type() -> utoipa::openapi::Object {
    schema::one_of(ItemType::ALL.map(ItemType::as_str)).build()
}

/// An invoice's status.
pub fn invoice_status() -> utoipa::openapi::Object {
    schema::one_of(InvoiceStatus::ALL.map(InvoiceStatus::as_str)).build()
}

/// `percent` or `fixed`.
pub fn discount_kind() -> utoipa::openapi::Object {
    schema::one_of(DiscountKind::ALL.map(DiscountKind::as_str)).build()
}

/// An ISO 4217 code with a minor unit.
pub fn currency() -> utoipa::openapi::Object {
    schema::one_of(Currency::codes()).build()
}

/// A transaction's type: `sale` or `refund`.
pub fn transaction_type() -> utoipa::openapi::Object {
    schema::one_of(TransactionType::ALL.map(TransactionType::as_str)).build()
}

/// Where the contract is served.
pub const CONTRACT_PATH: &str = "/openapi.json";

/// The parts of the contract that no handler states: what it is, who may call it, where.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "invoice-api",
        description = "Invoices and invoice items, wire-compatible with Rebilly's API, with \
            exact prices, discounts, taxes and totals.\n\n\
            Every operation answers both at the server root and under \
            `/organizations/{organizationId}` (pick the second server below); the prefix must \
            name the caller's own organization (403 otherwise).\n\n\
            Errors are RFC 7807 problem JSON (`application/problem+json`); a 422 lists every \
            bad field in `invalidFields`. Money is a JSON number, read exactly from its digits.",
        license(name = "MIT OR Apache-2.0"),
    ),
    servers(
        (url = "/", description = "The server root"),
        (
            url = "/organizations/{organizationId}",
            description = "The same operations, scoped to an organization",
            variables(("organizationId" = (
                default = "my-organization",
                description = "The caller's own organization"
            )))
        ),
    ),
    tags(
        (name = "Invoices", description = "Invoices, their totals and their lifecycle"),
        (name = "Invoice items", description = "The items of an invoice"),
        (name = "Products", description = "What items may name"),
        (name = "Service", description = "Health, metrics and this contract; no credentials"),
    ),
)]
pub struct ApiDoc;

/// The contract as served: rendered once.
#[derive(Debug, Clone)]
pub struct Contract(Bytes);

impl Contract {
    /// The JSON text of a contract.
    pub fn new(spec: &utoipa::openapi::OpenApi) -> Self {
        let text = spec
            .to_pretty_json()
            .unwrap_or_else(|error| panic!("the contract must render as JSON: {error}"));
        Self(Bytes::from(text))
    }
}

/// Serves this contract: the OpenAPI 3.1 document of this server.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "GetContract",
    tag = "Service",
    security(()),
    responses((status = 200, description = "This document", content_type = "application/json")),
)]
pub async fn contract(Extension(contract): Extension<Contract>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        contract.0,
    )
        .into_response()
}

/// Swagger UI at `/docs`, its assets built into the binary, reading [`CONTRACT_PATH`].
pub fn docs() -> Router<AppState> {
    let config = Config::new([CONTRACT_PATH])
        .display_operation_id(true)
        .try_it_out_enabled(true)
        .persist_authorization(true);
    Router::from(SwaggerUi::new("/docs").config(config))
}
