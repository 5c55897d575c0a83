//! The dialect's part of the published contract: its operations' parameters and objects, and
//! what every `/v1` operation shares: Stripe's credentials (the secret key as Basic user name,
//! or as a bearer token), `Idempotency-Key`, `Stripe-Version` and `Stripe-Account`, and its
//! errors (problem JSON with Stripe's `error` member; 400 for any bad parameter).

mod shapes;

use std::collections::BTreeMap;

use utoipa::openapi::encoding::{Encoding, EncodingBuilder};
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Components, ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use super::item_params::{PeriodParams, PriceDataParams};

use super::error::PREFIX;
use crate::http::request_head::MAX_URI_BYTES;
pub use shapes::*;

/// The secret key as the HTTP Basic user name, as Stripe's clients send it.
pub const BASIC: &str = "StripeBasic";
/// The secret key (or a JWT) as a bearer token.
pub const BEARER: &str = "StripeBearer";

/// The tag of the dialect's item operations.
pub const ITEMS_TAG: &str = "Stripe-style invoice items";
/// The tag of the dialect's invoice operations.
pub const INVOICES_TAG: &str = "Stripe-style invoices";

/// The tag of the dialect's credit note operations.
pub const CREDIT_NOTES_TAG: &str = "Stripe-style credit notes";

/// The tag of the dialect's event operations.
pub const EVENTS_TAG: &str = "Stripe-style events";

/// The tag of the dialect's webhook endpoint operations.
pub const WEBHOOK_ENDPOINTS_TAG: &str = "Stripe-style webhook endpoints";

/// Adds what every `/v1` operation of `spec` shares, once the dialect's paths are merged in.
pub fn finish(spec: &mut OpenApi) {
    let components = spec.components.get_or_insert_with(Components::new);
    add_components(components);
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
        (
            CREDIT_NOTES_TAG,
            "`/v1/credit_notes`: the same credit memos, Stripe's way",
        ),
        (
            EVENTS_TAG,
            "`/v1/events`: what happened to invoices and items, each object as it was",
        ),
        (
            WEBHOOK_ENDPOINTS_TAG,
            "`/v1/webhook_endpoints`: where the events are sent, signed as Stripe signs them",
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
                add_common(operation, write, path.contains("{id}"), components);
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

fn add_common(operation: &mut Operation, write: bool, by_id: bool, components: &Components) {
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
                let properties = form
                    .schema
                    .as_ref()
                    .map(|schema| properties_of(schema, components))
                    .unwrap_or_default();
                form.encoding = bracket_encoding(&properties);
            }
        }
    }
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            add_headers(response);
        }
    }
    // Any call can carry a query past the limit, whatever its own parameters.
    let too_long =
        format!("The request target (path and query) is longer than {MAX_URI_BYTES} bytes.");
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
        (414, too_long.as_str()),
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

/// The property names of a body's schema, found among `components` when it is a reference.
fn properties_of(schema: &RefOr<Schema>, components: &Components) -> Vec<String> {
    let schema = match schema {
        RefOr::T(schema) => Some(schema),
        RefOr::Ref(reference) => reference
            .ref_location
            .rsplit('/')
            .next()
            .and_then(|name| components.schemas.get(name))
            .and_then(|found| match found {
                RefOr::T(schema) => Some(schema),
                RefOr::Ref(_) => None,
            }),
    };
    match schema {
        Some(Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Nested parameters are written with brackets (`metadata[order]=42`): those of the body's
/// `properties` that nest.
fn bracket_encoding(properties: &[String]) -> BTreeMap<String, Encoding> {
    ["metadata", "period", "price_data", "expand", "lines"]
        .into_iter()
        .filter(|name| properties.iter().any(|property| property == name))
        .map(|name| {
            let encoding = EncodingBuilder::new()
                .style(Some(ParameterStyle::DeepObject))
                .explode(Some(true))
                .build();
            (name.to_owned(), encoding)
        })
        .collect()
}

/// Every answer's `X-Request-Id`, `Request-Id` and `Stripe-Version`.
fn add_headers(response: &mut Response) {
    response
        .headers
        .entry("X-Request-Id".to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::new("#/components/headers/X-Request-Id")));
    response
        .headers
        .entry("Request-Id".to_owned())
        .or_insert_with(|| {
            text_header(
                "The request's id, as `X-Request-Id` names it: what its events' `request.id` \
                 shows.",
            )
        });
    response
        .headers
        .entry("Stripe-Version".to_owned())
        .or_insert_with(|| text_header("The request's `Stripe-Version`, or 2024-06-20."));
}

/// An answer's header whose value is text.
fn text_header(description: &str) -> RefOr<Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(description))
            .build(),
    )
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
