//! The dialect's lists, query parameters and error member as the contract describes them:
//! types for people and generators, which only the schema derives read (`params` parses
//! requests, and `wire` writes the objects). A body's parameters are described beside their
//! readers (`item_params.rs`, `invoice_params.rs`).
//!
//! Every id is 1 to 50 letters, digits and `_@~.-` (the pattern the fields below repeat).

#![expect(
    dead_code,
    reason = "their fields are read by the schema derives alone"
)]

use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{ArrayBuilder, Object, Type};
use utoipa::{IntoParams, ToSchema};

use crate::http::problem::InvalidFieldSchema;
use crate::http::stripe::event_object::EventObject;
use crate::http::stripe::expand::Subject;
use crate::http::stripe::invoice_object::InvoiceObject;
use crate::http::stripe::param_schemas::{MAX_EXPANSIONS, timestamp};
use crate::http::stripe::webhook_endpoints::EndpointObject;
use crate::http::stripe::wire::{ItemObject, LineObject};

/// A query's `expand[]`, whose paths are those of `$subject`.
macro_rules! expand_query {
    ($(#[doc = $doc:literal])* $name:ident, $subject:expr) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                vec![expand_parameter($subject)]
            }
        }
    };
}

/// `expand[]` in a query as the server reads it, with the paths that expand on `subject`'s
/// answer.
fn expand_parameter(subject: Subject) -> Parameter {
    let (shown, itself) = subject.described();
    let list = |paths: &[String]| {
        let named: Vec<String> = paths.iter().map(|path| format!("`{path}`")).collect();
        named.join(", ")
    };
    let description = format!(
        "{} show{} the object in place of its id; {}, always empty or null here, expand to \
         themselves; any other path is refused. At most {MAX_EXPANSIONS} paths, each its own \
         `expand[]` (`expand[0]=`, `expand[1]=`, ... and one bare `expand=` are read too).",
        list(&shown),
        if shown.len() == 1 { "s" } else { "" },
        list(&itself),
    );
    ParameterBuilder::new()
        .name("expand[]")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .style(Some(ParameterStyle::Form))
        .explode(Some(true))
        .schema(Some(
            ArrayBuilder::new()
                .items(Object::with_type(Type::String))
                .max_items(Some(MAX_EXPANSIONS)),
        ))
        .example(Some(serde_json::json!(shown)))
        .build()
}

/// A page of invoice items.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceItemList)]
pub struct ItemList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<ItemObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/invoiceitems`.
    url: String,
}

/// A page of an invoice's lines: in an invoice, its first 10.
#[derive(ToSchema)]
#[schema(as = StripeLineItemList)]
pub struct LineList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<LineObject>,
    /// Whether the invoice has lines past these.
    has_more: bool,
    /// `/v1/invoices/{id}/lines`.
    url: String,
}

/// A page of invoices.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceList)]
pub struct InvoiceList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<InvoiceObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/invoices`.
    url: String,
}

/// A page of webhook endpoints.
#[derive(ToSchema)]
#[schema(as = StripeWebhookEndpointList)]
pub struct WebhookEndpointList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<EndpointObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/webhook_endpoints`.
    url: String,
}

/// A page of events.
#[derive(ToSchema)]
#[schema(as = StripeEventList)]
pub struct EventList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<EventObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/events`.
    url: String,
}

/// `GET /v1/events`'s filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// One type (`invoice.paid`), or every type under a prefix (`invoice.*`).
    #[param(rename = "type", required = false, pattern = "^[a-z_.*]{1,100}$")]
    kind: String,
    /// Any of these types (not with `type`); at most 20.
    #[param(rename = "types[]", required = false, style = Form, explode, max_items = 20, example = json!(["invoice.paid"]))]
    types: Vec<String>,
    /// Created in this range.
    #[param(required = false, style = DeepObject, explode, value_type = CreatedRange)]
    created: CreatedRange,
}

/// `created[gt]`, `created[gte]`, `created[lt]`, `created[lte]`: Unix seconds.
#[derive(ToSchema)]
#[schema(as = StripeCreatedRange)]
pub struct CreatedRange {
    #[schema(required = false, schema_with = timestamp)]
    gt: i64,
    #[schema(required = false, schema_with = timestamp)]
    gte: i64,
    #[schema(required = false, schema_with = timestamp)]
    lt: i64,
    #[schema(required = false, schema_with = timestamp)]
    lte: i64,
}

/// A page of a list, newest first.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100; 10 by default.
    #[param(required = false, minimum = 1, maximum = 100)]
    limit: i64,
    /// The page after this object's id.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    starting_after: String,
    /// The page before this object's id (not with `starting_after`).
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    ending_before: String,
}

/// `GET /v1/invoiceitems`'s filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListQuery {
    /// One customer's items.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
    /// One invoice's items.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    invoice: String,
    /// Only pending items (`true`) or only invoiced ones (`false`).
    #[param(required = false)]
    pending: bool,
    /// Created in this range.
    #[param(required = false, style = DeepObject, explode, value_type = CreatedRange)]
    created: CreatedRange,
}

expand_query!(
    /// What an item's answer expands.
    ItemExpandQuery,
    Subject::Item
);
expand_query!(
    /// What a list of items expands.
    ItemListExpandQuery,
    Subject::ItemList
);
expand_query!(
    /// What an invoice's answer expands.
    InvoiceExpandQuery,
    Subject::Invoice
);
expand_query!(
    /// What a list of invoices expands.
    InvoiceListExpandQuery,
    Subject::InvoiceList
);
expand_query!(
    /// What a list of an invoice's lines expands.
    LineListExpandQuery,
    Subject::LineList
);

/// `GET /v1/invoices`'s filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    /// One customer's invoices.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
    /// Only invoices in this status.
    #[param(required = false, pattern = "^(draft|open|paid|uncollectible|void)$")]
    status: String,
    /// Only invoices collected this way.
    #[param(required = false, pattern = "^(charge_automatically|send_invoice)$")]
    collection_method: String,
    /// Created in this range.
    #[param(required = false, style = DeepObject, explode, value_type = CreatedRange)]
    created: CreatedRange,
    /// Due in this range.
    #[param(required = false, style = DeepObject, explode, value_type = CreatedRange)]
    due_date: CreatedRange,
}

/// An object's id in the path: the contract's parameter and the handlers' extractor alike.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// The object's id.
    pub id: String,
}

/// Stripe's error member.
#[derive(ToSchema)]
#[schema(as = StripeErrorMember)]
pub struct ErrorMember {
    /// `invalid_request_error`, `idempotency_error` or `api_error`.
    #[schema(rename = "type")]
    kind: String,
    /// Stripe's code (`parameter_missing`, `resource_missing`, ...), when there is one.
    #[schema(required = false)]
    code: String,
    /// What went wrong, for people.
    message: String,
    /// The first bad parameter, in bracket notation (`period[end]`).
    #[schema(required = false)]
    param: String,
}

/// Every `/v1` error: the RFC 7807 members and Stripe's `error` member in one body.
#[derive(ToSchema)]
#[schema(as = StripeProblem)]
pub struct StripeProblem {
    #[schema(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    #[schema(required = false)]
    instance: String,
    #[schema(rename = "requestId", required = false)]
    request_id: String,
    /// Every bad parameter, in bracket notation.
    #[schema(rename = "invalidFields", required = false)]
    invalid_fields: Vec<InvalidFieldSchema>,
    error: ErrorMember,
}
