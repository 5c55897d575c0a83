//! The Stripe-style wire (seed 003): `/v1/invoiceitems`, `/v1/invoices` and
//! `/v1/credit_notes`, form bodies with bracket nesting or JSON, integer minor units, cursor
//! pages, HTTP Basic with the secret key, and Stripe's `error` member beside the problem
//! members. It reads its wire into the core's input, calls the same core as the Rebilly edge
//! (`service`), and renders the core's answer or error its own way. Items are the same rows on
//! both: an item made here reads and changes on `/invoices/{id}/items`, and the reverse; a
//! credit note is a credit memo of `/credit-memos`.

mod auth;
pub mod contract;
mod credit_note_object;
mod credit_note_pages;
mod credit_note_params;
mod credit_notes;
mod deletes;
pub mod error;
mod event_object;
mod event_payload;
mod events;
mod expand;
mod invoice_items;
mod invoice_object;
mod invoice_params;
mod invoice_parts;
mod invoice_pdf;
mod invoices;
mod item_params;
mod pages;
mod param_schemas;
pub mod params;
mod webhook_endpoints;
mod wire;
mod words;

pub use event_payload::StripePayload;

use axum::Extension;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::state::AppState;
use crate::domain::permission::Operation;
use crate::http::auth::RouteOperations;

/// The API version this dialect's objects follow, answered when a request names none.
pub const API_VERSION: &str = "2024-06-20";

const STRIPE_VERSION: HeaderName = HeaderName::from_static("stripe-version");

/// The dialect's routes, which all need credentials, with their part of the contract
/// ([`contract::finish`] completes it once merged).
pub fn routes() -> OpenApiRouter<AppState> {
    use Operation::*;
    OpenApiRouter::new()
        .routes(permitted(
            routes!(invoice_items::list, invoice_items::create),
            &[
                (Method::GET, GetInvoiceItemCollection),
                (Method::POST, PostInvoiceItem),
            ],
        ))
        .routes(permitted(
            routes!(
                invoice_items::retrieve,
                invoice_items::update,
                invoice_items::delete
            ),
            &[
                (Method::GET, GetInvoiceItem),
                (Method::POST, PutInvoiceItem),
                (Method::DELETE, DeleteInvoiceItem),
            ],
        ))
        .routes(permitted(
            routes!(invoices::list, invoices::create),
            &[
                (Method::GET, GetInvoiceCollection),
                (Method::POST, PostInvoice),
            ],
        ))
        // Deleting a draft is a change of the draft.
        .routes(permitted(
            routes!(invoices::retrieve, invoices::update, invoices::delete),
            &[
                (Method::GET, GetInvoice),
                (Method::POST, PutInvoice),
                (Method::DELETE, PutInvoice),
            ],
        ))
        .routes(permitted(
            routes!(invoices::lines),
            &[(Method::GET, GetInvoice)],
        ))
        .routes(permitted(
            routes!(invoice_pdf::pdf),
            &[(Method::GET, GetInvoice)],
        ))
        .routes(permitted(
            routes!(invoice_pdf::einvoice),
            &[(Method::GET, GetInvoice)],
        ))
        .routes(permitted(
            routes!(invoices::finalize),
            &[(Method::POST, PostInvoiceIssuance)],
        ))
        .routes(permitted(
            routes!(invoices::void),
            &[(Method::POST, PostInvoiceVoid)],
        ))
        .routes(permitted(
            routes!(invoices::mark_uncollectible),
            &[(Method::POST, PostInvoiceAbandonment)],
        ))
        // Sending a draft finalizes it; sending names no operation of its own.
        .routes(permitted(
            routes!(invoices::send),
            &[(Method::POST, PostInvoiceIssuance)],
        ))
        .routes(permitted(
            routes!(invoices::pay),
            &[(Method::POST, PostInvoiceTransaction)],
        ))
        .routes(permitted(
            routes!(credit_notes::list, credit_notes::create),
            &[
                (Method::GET, GetCreditMemoCollection),
                (Method::POST, PostCreditMemo),
            ],
        ))
        // A preview writes nothing, but needs what a create needs: it runs the same rules.
        .routes(permitted(
            routes!(credit_notes::preview),
            &[(Method::GET, PostCreditMemo)],
        ))
        .routes(permitted(
            routes!(credit_notes::retrieve),
            &[(Method::GET, GetCreditMemo)],
        ))
        .routes(permitted(
            routes!(credit_notes::lines),
            &[(Method::GET, GetCreditMemo)],
        ))
        .routes(permitted(
            routes!(credit_notes::void),
            &[(Method::POST, PostCreditMemoVoid)],
        ))
        .routes(permitted(
            routes!(events::list),
            &[(Method::GET, GetInvoiceCollection)],
        ))
        .routes(permitted(
            routes!(events::retrieve),
            &[(Method::GET, GetInvoice)],
        ))
        .routes(permitted(
            routes!(webhook_endpoints::list, webhook_endpoints::create),
            &[
                (Method::GET, GetWebhookCollection),
                (Method::POST, PostWebhook),
            ],
        ))
        .routes(permitted(
            routes!(
                webhook_endpoints::retrieve,
                webhook_endpoints::update,
                webhook_endpoints::delete
            ),
            &[
                (Method::GET, GetWebhook),
                (Method::POST, PutWebhook),
                (Method::DELETE, DeleteWebhook),
            ],
        ))
        .layer(axum::middleware::from_fn(echo_version))
}

/// Marks each method of a path with the operation whose permission it needs, as the Rebilly
/// routes do: the same keys allow the same operations on both dialects.
fn permitted(
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
    operations: &[(Method, Operation)],
) -> UtoipaMethodRouter<AppState> {
    let operations = RouteOperations::new(operations);
    (schemas, paths, method_router.layer(Extension(operations)))
}

/// Answers with the `Stripe-Version` the request named, as Stripe does, or the one this
/// dialect follows.
async fn echo_version(request: Request, next: Next) -> Response {
    let version = request
        .headers()
        .get(&STRIPE_VERSION)
        .cloned()
        .unwrap_or(HeaderValue::from_static(API_VERSION));
    let mut response = next.run(request).await;
    response.headers_mut().insert(STRIPE_VERSION, version);
    response
}

/// Whether a request path is this dialect's (under `/v1`).
pub fn owns(path: &str) -> bool {
    path == error::PREFIX || path.starts_with("/v1/")
}
