//! The dialect's part of the published contract: its operations' parameters and objects, and
//! what every `/v1` operation shares: Stripe's credentials (the secret key as Basic user name,
//! or as a bearer token), `Idempotency-Key`, `Stripe-Version` and `Stripe-Account`, and its
//! errors (problem JSON with Stripe's `error` member; 400 for any bad parameter).
//!
//! Every id is 1 to 50 letters, digits and `_@~.-` (the pattern the fields below repeat).
//! The parameter types here are for people and generators: only the request and response
//! schemas are read by the server's tests, never used to parse a request (`params` does that).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use utoipa::openapi::encoding::{Encoding, EncodingBuilder};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{
    Array, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::error::PREFIX;
use super::expand::MAX_EXPANSIONS;
use super::invoice_object::InvoiceObject;
use super::wire::{ItemObject, LineObject};
use crate::domain::currency::Currency;
use crate::http::rebilly::problem::InvalidFieldSchema;

/// A lower-case ISO 4217 code with a minor unit.
fn currency() -> Object {
    let codes: Vec<String> = Currency::codes()
        .map(|code| code.to_ascii_lowercase())
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .build()
}

/// `expand`: at most [`MAX_EXPANSIONS`] paths, none longer than 40 characters (the paths that
/// expand are shorter; a longer one is refused like any unknown path).
fn expansions() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(40)),
        )
        .max_items(Some(MAX_EXPANSIONS))
        .build()
}

/// The secret key as the HTTP Basic user name, as Stripe's clients send it.
pub const BASIC: &str = "StripeBasic";
/// The secret key (or a JWT) as a bearer token.
pub const BEARER: &str = "StripeBearer";

/// The tag of the dialect's item operations.
pub const ITEMS_TAG: &str = "Stripe-style invoice items";
/// The tag of the dialect's invoice operations.
pub const INVOICES_TAG: &str = "Stripe-style invoices";

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

/// An invoice's lines: all of them, on one page.
#[derive(ToSchema)]
#[schema(as = StripeLineItemList)]
pub struct LineList {
    /// `list`.
    object: String,
    /// In the order the items were added.
    data: Vec<LineObject>,
    /// Always `false`.
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

/// `period[start]` and `period[end]`, Unix seconds; the end is not before the start.
#[derive(ToSchema)]
#[schema(as = StripePeriodParams)]
pub struct PeriodParams {
    start: i64,
    end: i64,
}

/// `price_data[...]`: the item's own price.
#[derive(ToSchema)]
#[schema(as = StripePriceData)]
pub struct PriceDataParams {
    /// Lower-case ISO 4217; the item's currency when given.
    #[schema(required = false, schema_with = currency)]
    currency: String,
    /// A product of the organization (`/products`).
    #[schema(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    product: String,
    /// Minor units per unit; negative for a credit.
    #[schema(required = false)]
    unit_amount: i64,
}

/// `POST /v1/invoiceitems`. One of `amount`, `unit_amount`, `price` or `price_data` gives the
/// price; `amount` must equal `unit_amount * quantity` when both are given. `currency` is
/// required without `invoice` (and taken from it otherwise). Form encoded with Stripe's
/// brackets (`metadata[order]=42`), or JSON.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceItemCreate)]
pub struct ItemCreateParams {
    /// The customer billed.
    #[schema(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
    /// Minor units, whole; negative for a credit.
    #[schema(required = false)]
    amount: i64,
    /// Lower-case ISO 4217 (`usd`).
    #[schema(required = false, schema_with = currency)]
    currency: String,
    /// At most 1000 characters; null or empty for none.
    #[schema(required = false, max_length = 1000)]
    description: Option<String>,
    /// A draft invoice of the same customer and currency; the item is pending without it.
    #[schema(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    invoice: String,
    /// At most 50 keys of at most 40 characters, values of at most 500; null (or empty, in a
    /// form) for none.
    #[schema(required = false)]
    metadata: Option<HashMap<String, String>>,
    #[schema(required = false)]
    period: PeriodParams,
    /// Another item's own price (`price_...`), whose unit amount and product this item takes.
    #[schema(required = false)]
    price: String,
    #[schema(required = false)]
    price_data: PriceDataParams,
    /// 0 to 1000000000; 1 by default.
    #[schema(required = false, minimum = 0, maximum = 1_000_000_000)]
    quantity: i64,
    /// The subscription the item was accrued for.
    #[schema(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    subscription: String,
    /// Minor units per unit; negative for a credit.
    #[schema(required = false)]
    unit_amount: i64,
    /// The Unix time it is billed as; its creation time by default.
    #[schema(required = false)]
    date: i64,
    /// `invoice` shows the item's invoice in place of its id.
    #[schema(required = false, schema_with = expansions)]
    expand: Vec<String>,
}

/// `POST /v1/invoiceitems/{id}`: the parameters given change, the others stay. An empty
/// metadata value deletes its key; `metadata=` (empty) deletes them all.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceItemUpdate)]
pub struct ItemUpdateParams {
    #[schema(required = false)]
    amount: i64,
    /// At most 1000 characters; null or empty removes it.
    #[schema(required = false, max_length = 1000)]
    description: Option<String>,
    /// An empty value removes its key; null (or empty, in a form) removes every key.
    #[schema(required = false)]
    metadata: Option<HashMap<String, String>>,
    #[schema(required = false)]
    period: PeriodParams,
    #[schema(required = false)]
    price: String,
    #[schema(required = false)]
    price_data: PriceDataParams,
    #[schema(required = false, minimum = 0, maximum = 1_000_000_000)]
    quantity: i64,
    #[schema(required = false)]
    unit_amount: i64,
    /// `invoice` shows the item's invoice in place of its id.
    #[schema(required = false, schema_with = expansions)]
    expand: Vec<String>,
}

/// `POST /v1/invoices`: a draft.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceCreate)]
pub struct InvoiceCreateParams {
    /// The customer billed.
    #[schema(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
    /// Lower-case ISO 4217 (`usd`).
    #[schema(schema_with = currency)]
    currency: String,
    /// Notes for the customer; null or empty for none.
    #[schema(required = false, max_length = 65535)]
    description: Option<String>,
    /// When payment is due, Unix seconds.
    #[schema(required = false)]
    due_date: i64,
    /// At most 50 keys of at most 40 characters, values of at most 500; null (or empty, in a
    /// form) for none.
    #[schema(required = false)]
    metadata: Option<HashMap<String, String>>,
    /// `include` moves the customer's pending items of this currency onto the draft.
    #[schema(required = false, value_type = String, pattern = "^(include|exclude)$")]
    pending_invoice_items_behavior: String,
}

/// `POST /v1/invoices/{id}/finalize`, `/void` and `/mark_uncollectible`.
#[derive(ToSchema)]
#[schema(as = StripeInvoiceAction)]
pub struct InvoiceActionParams {
    /// Only `false`: invoices here never advance by themselves.
    #[schema(required = false)]
    auto_advance: bool,
}

/// `created[gt]`, `created[gte]`, `created[lt]`, `created[lte]`: Unix seconds.
#[derive(ToSchema)]
#[schema(as = StripeCreatedRange)]
pub struct CreatedRange {
    #[schema(required = false)]
    gt: i64,
    #[schema(required = false)]
    gte: i64,
    #[schema(required = false)]
    lt: i64,
    #[schema(required = false)]
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

/// What an item's answer expands.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemExpandQuery {
    /// `invoice` (`data.invoice` on a list) shows each item's invoice in place of its id
    /// (`expand[]=invoice`).
    #[param(required = false, style = DeepObject, explode, schema_with = expansions)]
    expand: Vec<String>,
}

/// `GET /v1/invoices`'s filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    /// One customer's invoices.
    #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
    customer: String,
}

/// An object's id in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// The object's id.
    id: String,
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

/// Adds what every `/v1` operation of `spec` shares, once the dialect's paths are merged in.
pub fn finish(spec: &mut OpenApi) {
    add_components(spec.components.get_or_insert_with(Components::new));
    let tags = spec.tags.get_or_insert_with(Vec::new);
    for (name, description) in [
        (
            ITEMS_TAG,
            "`/v1/invoiceitems`: the same items, Stripe's way",
        ),
        (
            INVOICES_TAG,
            "`/v1/invoices`: the same invoices, Stripe's way",
        ),
    ] {
        tags.push(
            TagBuilder::new()
                .name(name)
                .description(Some(description))
                .build(),
        );
    }
    for (path, item) in spec.paths.paths.iter_mut() {
        if !path.starts_with(PREFIX) {
            continue;
        }
        item.servers = Some(vec![Server::new("/")]);
        let operations = [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.delete.as_mut()),
        ];
        for (write, operation) in operations {
            if let Some(operation) = operation {
                add_common(operation, write, path.contains("{id}"));
            }
        }
    }
}

fn add_components(components: &mut Components) {
    components.security_schemes.insert(
        BASIC.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some(
                    "The secret key as the user name and no password, as Stripe's clients \
                     send it (`curl -u sk_...:`).",
                ))
                .build(),
        )),
    );
    components.security_schemes.insert(
        BEARER.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The secret key, or a JWT as on the Rebilly routes."))
                .build(),
        )),
    );
    for (name, schema) in [
        (StripeProblem::name(), StripeProblem::schema()),
        (ErrorMember::name(), ErrorMember::schema()),
        (PeriodParams::name(), PeriodParams::schema()),
        (PriceDataParams::name(), PriceDataParams::schema()),
        (CreatedRange::name(), CreatedRange::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
}

fn add_common(operation: &mut Operation, write: bool, by_id: bool) {
    operation.security = Some(vec![
        SecurityRequirement::new(BASIC, Vec::<String>::new()),
        SecurityRequirement::new(BEARER, Vec::<String>::new()),
    ]);
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.push(header_parameter(
        "Stripe-Version",
        "Echoed in the answer's `Stripe-Version`; objects follow 2024-06-20 whatever it names.",
    ));
    parameters.push(header_parameter(
        "Stripe-Account",
        "The caller's own organization id, if given (another is 403).",
    ));
    let has_body = operation.request_body.is_some();
    if has_body {
        parameters.push(RefOr::T(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes a retry safe: the first answer to a key is kept for 24 hours and \
                     replayed for the same path and parameters.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[ -~]+$")),
                ))
                .build(),
        ));
        if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content {
                    content.schema = content.schema.take().map(not_null);
                }
            }
            if let Some(RefOr::T(form)) = body.content.get_mut("application/x-www-form-urlencoded")
            {
                form.encoding = bracket_encoding();
            }
        }
    }
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            add_headers(response);
        }
    }
    let mut errors = vec![
        (
            400,
            "A bad or missing parameter, named in `error.param` and `invalidFields`; or a \
               state that forbids the call (an invoice that is no longer a draft).",
        ),
        (401, "No secret key, or one that is not valid."),
        (
            403,
            "The key lacks the operation's permission, or `Stripe-Account` names another \
               organization.",
        ),
        (500, "An unexpected failure; nothing was written."),
        (
            503,
            "The database did not answer in time; nothing was written.",
        ),
    ];
    if by_id {
        errors.push((
            404,
            "No such object (`code: resource_missing`, `param: id`).",
        ));
    }
    if write {
        errors.push((429, "The organization's writes exceed the rate limit."));
    }
    if has_body {
        errors.push((
            409,
            "A request with the same `Idempotency-Key` is still running.",
        ));
        errors.push((413, "The body is larger than 1 MiB."));
        errors.push((415, "A body that is neither form encoded nor JSON."));
    }
    for (status, description) in errors {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem(description)));
    }
}

fn header_parameter(name: &str, description: &str) -> RefOr<Parameter> {
    RefOr::T(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    )
}

/// An optional body's schema is its parameters' (an object), not "they or null": a body is
/// never null, and an empty one has none of the parameters.
fn not_null(schema: RefOr<Schema>) -> RefOr<Schema> {
    let is_null = |item: &RefOr<Schema>| {
        matches!(item, RefOr::T(Schema::Object(object))
            if object.schema_type == SchemaType::Type(Type::Null))
    };
    match schema {
        RefOr::T(Schema::OneOf(mut one_of))
            if one_of.items.len() == 2
                && one_of.items.iter().filter(|i| is_null(i)).count() == 1 =>
        {
            one_of.items.retain(|item| !is_null(item));
            one_of.items.remove(0)
        }
        other => other,
    }
}

/// Nested parameters are written with brackets (`metadata[order]=42`).
fn bracket_encoding() -> BTreeMap<String, Encoding> {
    ["metadata", "period", "price_data", "expand"]
        .into_iter()
        .map(|name| {
            let encoding = EncodingBuilder::new()
                .style(Some(ParameterStyle::DeepObject))
                .explode(Some(true))
                .build();
            (name.to_owned(), encoding)
        })
        .collect()
}

/// Every answer's `X-Request-Id` and `Stripe-Version`.
fn add_headers(response: &mut Response) {
    response
        .headers
        .entry("X-Request-Id".to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::new("#/components/headers/X-Request-Id")));
    response
        .headers
        .entry("Stripe-Version".to_owned())
        .or_insert_with(|| {
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("The request's `Stripe-Version`, or 2024-06-20."))
                    .build(),
            )
        });
}

fn problem(description: &str) -> Response {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(StripeProblem::name())))
                .build(),
        )
        .build();
    add_headers(&mut response);
    response
}
