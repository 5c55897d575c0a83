//! Rebilly's wire: `/invoices`, `/products`, `/webhooks`, timelines, JSON bodies read field by field, problem JSON,
//! offset pages, `filter`/`sort`, `ETag`/`If-Match` and the OpenAPI contract. It parses its
//! wire into domain input, calls the core (`service`), and renders the core's answer or error
//! its own way. Another dialect is an edge beside it (`http/stripe/`, say), over the same core
//! and the same shared plumbing (`http/`).

mod allocations;
mod contact;
mod credit_memos;
pub mod error_response;
mod etag;
mod events;
pub mod fields;
mod invoice_body;
mod invoice_items;
mod invoice_query;
mod invoice_response;
mod invoice_stream;
mod invoices;
mod item_body;
mod item_vat;
pub(crate) mod openapi;
mod organizations;
mod pagination;
mod paths;
mod products;
mod representation;
mod tax;
mod timeline;
mod tracking;
mod transactions;
mod webhooks;
pub(crate) mod wire;

pub use events::RebillyPayload;

use axum::Extension;
use axum::http::Method;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::auth;
use super::state::AppState;
use crate::domain::permission::Operation;

/// Rebilly's routes, which all need credentials.
pub(super) fn resources() -> OpenApiRouter<AppState> {
    use Operation::*;
    let router = OpenApiRouter::new()
        .routes(permitted(
            routes!(invoices::get_one, invoices::upsert),
            &[(Method::GET, GetInvoice), (Method::PUT, PutInvoice)],
        ))
        .routes(permitted(
            routes!(invoices::issue),
            &[(Method::POST, PostInvoiceIssuance)],
        ))
        .routes(permitted(
            routes!(invoices::void),
            &[(Method::POST, PostInvoiceVoid)],
        ))
        .routes(permitted(
            routes!(invoices::abandon),
            &[(Method::POST, PostInvoiceAbandonment)],
        ))
        .routes(permitted(
            routes!(invoice_items::create, invoice_items::list),
            &[
                (Method::POST, PostInvoiceItem),
                (Method::GET, GetInvoiceItemCollection),
            ],
        ))
        .routes(permitted(
            routes!(
                invoice_items::get_one,
                invoice_items::replace,
                invoice_items::delete
            ),
            &[
                (Method::GET, GetInvoiceItem),
                (Method::PUT, PutInvoiceItem),
                (Method::DELETE, DeleteInvoiceItem),
            ],
        ))
        .routes(permitted(
            routes!(products::get_one),
            &[(Method::GET, GetProduct)],
        ))
        .routes(permitted(
            routes!(timeline::list, timeline::create),
            &[
                (Method::GET, GetInvoiceTimelineCollection),
                (Method::POST, PostInvoiceTimeline),
            ],
        ))
        .routes(permitted(
            routes!(timeline::get_one, timeline::delete),
            &[
                (Method::GET, GetInvoiceTimeline),
                (Method::DELETE, DeleteInvoiceTimeline),
            ],
        ))
        .routes(permitted(
            routes!(webhooks::get_one, webhooks::upsert, webhooks::delete),
            &[
                (Method::GET, GetWebhook),
                (Method::PUT, PutWebhook),
                (Method::DELETE, DeleteWebhook),
            ],
        ))
        .routes(permitted(
            routes!(tracking::list),
            &[(Method::GET, GetTrackingWebhookCollection)],
        ))
        .routes(permitted(
            routes!(tracking::get_one),
            &[(Method::GET, GetTrackingWebhook)],
        ))
        .routes(permitted(
            routes!(tracking::resend),
            &[(Method::POST, PostTrackingWebhookResendRequest)],
        ))
        .routes(permitted(
            routes!(transactions::get_one),
            &[(Method::GET, GetTransaction)],
        ))
        .routes(permitted(
            routes!(transactions::apply),
            &[(Method::POST, PostInvoiceTransaction)],
        ))
        .routes(permitted(
            routes!(transactions::allocations),
            &[(Method::GET, GetInvoiceTransactionAllocationCollection)],
        ))
        .routes(permitted(
            routes!(credit_memos::get_one, credit_memos::patch),
            &[
                (Method::GET, GetCreditMemo),
                (Method::PATCH, PatchCreditMemo),
            ],
        ))
        .routes(permitted(
            routes!(credit_memos::void),
            &[(Method::POST, PostCreditMemoVoid)],
        ));
    let router = with_alias(
        router,
        permitted(
            routes!(invoices::create, invoices::list),
            &[
                (Method::POST, PostInvoice),
                (Method::GET, GetInvoiceCollection),
            ],
        ),
    );
    let router = with_alias(
        router,
        permitted(
            routes!(products::create, products::list),
            &[
                (Method::POST, PostProduct),
                (Method::GET, GetProductCollection),
            ],
        ),
    );
    let router = with_alias(
        router,
        permitted(
            routes!(credit_memos::create, credit_memos::list),
            &[
                (Method::POST, PostCreditMemo),
                (Method::GET, GetCreditMemoCollection),
            ],
        ),
    );
    let router = with_alias(
        router,
        permitted(
            routes!(transactions::create, transactions::list),
            &[
                (Method::POST, PostTransaction),
                (Method::GET, GetTransactionCollection),
            ],
        ),
    );
    with_alias(
        router,
        permitted(
            routes!(webhooks::create, webhooks::list_all),
            &[
                (Method::POST, PostWebhook),
                (Method::GET, GetWebhookCollection),
            ],
        ),
    )
}

/// Marks each method of a path with the operation it performs, whose permission the
/// [`Principal`](auth::Principal) extractor checks (403 when missing). The declaration is the
/// authority; the contract's operation ids document it (a test holds the two together).
/// The caller's own organization, at the root only: under the `/organizations/{organizationId}`
/// prefix it would name the organization twice.
pub(super) fn organization_resources() -> OpenApiRouter<AppState> {
    use Operation::*;
    OpenApiRouter::new().routes(permitted(
        routes!(organizations::get_one, organizations::patch),
        &[
            (Method::GET, GetOrganization),
            (Method::PATCH, PatchOrganization),
        ],
    ))
}

fn permitted(
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
    operations: &[(Method, Operation)],
) -> UtoipaMethodRouter<AppState> {
    #[cfg(test)]
    tests::record_declared(&paths, operations);
    let operations = auth::RouteOperations::new(operations);
    (schemas, paths, method_router.layer(Extension(operations)))
}

/// Registers a collection's operations at its path and also, as an alias that the contract
/// does not list, at the path with a trailing slash (`/invoices/`).
fn with_alias(
    router: OpenApiRouter<AppState>,
    endpoints: UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let alias = endpoints
        .1
        .paths
        .keys()
        .next()
        .map(|path| format!("{path}/"));
    let method_router = endpoints.2.clone();
    let router = router.routes(endpoints);
    match alias {
        Some(alias) => router.route(&alias, method_router),
        None => router,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use utoipa::openapi::path::Paths;

    use super::*;

    /// A path, a method, the operation id its contract documents and the operation declared.
    type Declared = (String, Method, Option<String>, Operation);

    thread_local! {
        /// Every route's declarations, as [`permitted`] saw them.
        static DECLARED: RefCell<Vec<Declared>> = const { RefCell::new(Vec::new()) };
        /// Every documented method that no operation was declared for.
        static UNDECLARED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record_declared(paths: &Paths, operations: &[(Method, Operation)]) {
        for (path, item) in &paths.paths {
            let documented = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, _) in documented.iter().filter(|(_, op)| op.is_some()) {
                if !operations.iter().any(|(declared, _)| declared == method) {
                    UNDECLARED.with(|undeclared| {
                        undeclared.borrow_mut().push(format!("{method} {path}"))
                    });
                }
            }
            for (method, operation) in operations {
                let documented = match *method {
                    Method::GET => &item.get,
                    Method::PUT => &item.put,
                    Method::POST => &item.post,
                    Method::PATCH => &item.patch,
                    Method::DELETE => &item.delete,
                    _ => &None,
                };
                let id = documented.as_ref().and_then(|op| op.operation_id.clone());
                DECLARED.with(|declared| {
                    declared
                        .borrow_mut()
                        .push((path.clone(), method.clone(), id, *operation));
                });
            }
        }
    }

    #[test]
    fn every_route_declares_the_operation_its_contract_documents() {
        let _ = resources();
        let _ = organization_resources();
        let declared = DECLARED.with(|declared| declared.borrow().clone());
        let undeclared = UNDECLARED.with(|undeclared| undeclared.borrow().clone());
        assert_eq!(
            undeclared,
            Vec::<String>::new(),
            "methods without a permission"
        );
        assert_eq!(declared.len(), Operation::ALL.len(), "{declared:?}");
        for (path, method, documented, operation) in declared {
            assert_eq!(
                documented.as_deref(),
                Some(operation.name()),
                "{method} {path}"
            );
        }
    }
}
