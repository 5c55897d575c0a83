//! What every operation of a kind has in common, added to the contract after the handlers'
//! own annotations: the credentials, the shared headers and parameters, and the problem
//! answers that the layers and extractors give (not the handlers).
//!
//! Each rule here mirrors a piece of code: `Principal` (401, 403, 429), the rate-limit
//! middleware (`X-RateLimit-*`), `Idempotency` on every POST, `Precondition` on PUT and
//! DELETE, `JsonBody` (400, 413, 415, 422), the request-id layer and the timeout (503).

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Components, Content, ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use crate::http::invoice_items::ItemResponse;
use crate::http::invoices::InvoiceResponse;
use crate::http::problem::{InvalidField, Problem};

const API_KEY: &str = "ApiKey";
const BEARER: &str = "BearerJwt";

/// Adds the common parts to a contract built from the handlers.
pub fn finish(spec: &mut OpenApi) {
    let components = spec.components.get_or_insert_with(Components::new);
    add_components(components);
    for (name, schema) in &mut components.schemas {
        let RefOr::T(schema) = schema else {
            continue;
        };
        money_without_format(schema);
        if !NOT_RESPONSES.contains(&name.as_str()) {
            every_property_written(schema);
        }
    }
    spec.security = Some(vec![
        SecurityRequirement::new(API_KEY, Vec::<String>::new()),
        SecurityRequirement::new(BEARER, Vec::<String>::new()),
    ]);
    super::links::add_links(spec);
    for item in spec.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put].into_iter().flatten() {
            body_is_never_null(operation);
        }
        let methods = [
            (Method::Get, item.get.as_mut()),
            (Method::Put, item.put.as_mut()),
            (Method::Post, item.post.as_mut()),
            (Method::Delete, item.delete.as_mut()),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                add_common(method, operation);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Put,
    Post,
    Delete,
}

fn add_common(method: Method, operation: &mut Operation) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.contains(&SecurityRequirement::default()));
    let write = method != Method::Get && !public;
    if !public {
        add_problem(operation, 401, UNAUTHORIZED);
        add_problem(operation, 403, FORBIDDEN);
        add_problem(operation, 500, INTERNAL);
        add_problem(operation, 503, UNAVAILABLE);
    }
    if write {
        add_problem(operation, 429, RATE_LIMITED);
    }
    if operation.request_body.is_some() {
        add_problem(operation, 400, MALFORMED);
        add_problem(operation, 413, TOO_LARGE);
        add_problem(operation, 415, MEDIA_TYPE);
        add_problem(operation, 422, INVALID);
    }
    if method == Method::Post && !public {
        add_parameter(operation, IDEMPOTENCY_KEY);
        add_problem(operation, 422, INVALID);
        add_problem_or_reason(operation, 409, KEY_IN_USE);
    }
    if matches!(method, Method::Put | Method::Delete) {
        add_parameter(operation, IF_MATCH);
        add_problem(operation, 412, PRECONDITION);
    }
    for (status, response) in &mut operation.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        add_header(response, REQUEST_ID);
        match status.as_str() {
            "201" => add_header(response, LOCATION),
            "401" => add_header(response, WWW_AUTHENTICATE),
            _ => {}
        }
        if status.starts_with('2') && has_revision(response) {
            add_header(response, ETAG);
        }
        if write && !matches!(status.as_str(), "401" | "403") {
            add_header(response, RATE_LIMIT);
            add_header(response, RATE_LIMIT_REMAINING);
        }
        if method == Method::Post && !public && status.starts_with(['2', '4']) {
            add_header(response, REPLAYED);
        }
        if status == "429" {
            add_header(response, RETRY_AFTER);
            add_header(response, RETRY_AT);
        }
    }
}

/// The component schemas that are not resources as the server writes them.
const NOT_RESPONSES: [&str; 7] = [
    "ItemRequest",
    "InvoiceRequest",
    "IssueRequest",
    "EmptyRequest",
    "ProductRequest",
    "Problem",
    "InvalidField",
];

/// A resource is written with every property, `null` when it has no value (`Option` fields
/// are not left out), so every property is required; only `_embedded` comes on request.
fn every_property_written(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            object.required = object
                .properties
                .keys()
                .filter(|name| name.as_str() != "_embedded")
                .cloned()
                .collect();
            for property in object.properties.values_mut() {
                if let RefOr::T(property) = property {
                    every_property_written(property);
                }
            }
        }
        Schema::OneOf(one_of) => {
            for item in &mut one_of.items {
                if let RefOr::T(item) = item {
                    every_property_written(item);
                }
            }
        }
        _ => {}
    }
}

/// Money is a JSON number read and written exactly; utoipa's `format: double` for `Decimal`
/// would say a binary float.
fn money_without_format(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            if object.format == Some(SchemaFormat::KnownFormat(KnownFormat::Double)) {
                object.format = None;
            }
            for property in object.properties.values_mut() {
                if let RefOr::T(property) = property {
                    money_without_format(property);
                }
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(item) = &mut array.items
                && let RefOr::T(item) = item.as_mut()
            {
                money_without_format(item);
            }
        }
        Schema::OneOf(one_of) => {
            for item in &mut one_of.items {
                if let RefOr::T(item) = item {
                    money_without_format(item);
                }
            }
        }
        _ => {}
    }
}

/// Whether an answer's body is one invoice or one item: those carry their `revision` as an
/// `ETag` (`with_etag`).
fn has_revision(response: &Response) -> bool {
    response.content.values().any(|content| {
        matches!(
            content,
            RefOr::T(Content {
                schema: Some(RefOr::Ref(reference)),
                ..
            }) if [InvoiceResponse::name(), ItemResponse::name()]
                .iter()
                .any(|name| reference.ref_location == format!("#/components/schemas/{name}"))
        )
    })
}

/// A body that may be left out (`Option<...>` in an annotation) is documented as
/// `oneOf: [body, null]`; but `OptionalJsonBody` reads an empty body as absent and `null` as a
/// body that is not an object (422), so the `null` alternative goes.
fn body_is_never_null(operation: &mut Operation) {
    let Some(RefOr::T(body)) = &mut operation.request_body else {
        return;
    };
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else {
            continue;
        };
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema
            && let [schema, RefOr::T(Schema::Object(null))] = one_of.items.as_slice()
            && null.schema_type == SchemaType::Type(Type::Null)
        {
            content.schema = Some(schema.clone());
        }
    }
}

/// A problem answer that the layers or extractors give.
struct ProblemAnswer {
    description: &'static str,
}

const MALFORMED: ProblemAnswer = ProblemAnswer {
    description: "The body is not JSON, or not a JSON object.",
};
const UNAUTHORIZED: ProblemAnswer = ProblemAnswer {
    description: "No credentials, or credentials that are not valid.",
};
const FORBIDDEN: ProblemAnswer = ProblemAnswer {
    description: "The credentials lack this operation's permission, or the \
        `/organizations/{organizationId}` prefix names another organization.",
};
const KEY_IN_USE: ProblemAnswer = ProblemAnswer {
    description: "A request with the same `Idempotency-Key` is still running.",
};
const PRECONDITION: ProblemAnswer = ProblemAnswer {
    description: "`If-Match` names another version than the current one, or the resource does \
        not exist.",
};
const TOO_LARGE: ProblemAnswer = ProblemAnswer {
    description: "The body is larger than 1 MiB.",
};
const MEDIA_TYPE: ProblemAnswer = ProblemAnswer {
    description: "A body whose `Content-Type` is not `application/json`.",
};
const INVALID: ProblemAnswer = ProblemAnswer {
    description: "Bad fields, each named in `invalidFields` (dot notation: `tax.amount`, \
        `discounts.1.value`); or an `Idempotency-Key` that is malformed, given twice, or \
        reused with another path or body.",
};
const RATE_LIMITED: ProblemAnswer = ProblemAnswer {
    description: "The organization's writes exceed `RATE_LIMIT_REQUESTS` per \
        `RATE_LIMIT_WINDOW_SECS`; retry after `Retry-After` seconds.",
};
const INTERNAL: ProblemAnswer = ProblemAnswer {
    description: "An unexpected failure; nothing was written.",
};
const UNAVAILABLE: ProblemAnswer = ProblemAnswer {
    description: "The database did not answer in time, or the request took longer than \
        `REQUEST_TIMEOUT_SECS`; nothing was written.",
};

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build()
}

/// Adds a problem answer; when the handler documents that status itself, adds this reason to
/// its description.
fn add_problem_or_reason(operation: &mut Operation, status: u16, answer: ProblemAnswer) {
    match operation.responses.responses.get_mut(&status.to_string()) {
        Some(RefOr::T(documented)) => {
            documented.description =
                format!("{} Or: {}", documented.description, answer.description);
        }
        _ => add_problem(operation, status, answer),
    }
}

/// Adds a problem answer, unless the handler documents that status itself. Each operation
/// has its own copy, since the headers differ by kind of operation.
fn add_problem(operation: &mut Operation, status: u16, answer: ProblemAnswer) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(problem_response(answer.description)));
}

/// A header, kept in `components/headers`.
struct SharedHeader {
    name: &'static str,
    description: &'static str,
    integer: bool,
}

const REQUEST_ID: SharedHeader = SharedHeader {
    name: "X-Request-Id",
    description: "The request's id (a UUID, or the client's own `X-Request-Id`); problem JSON \
        repeats it as `requestId`, and the server's log lines for the request carry it.",
    integer: false,
};
const RATE_LIMIT: SharedHeader = SharedHeader {
    name: "X-RateLimit-Limit",
    description: "The organization's writes per window (absent when rate limits are off).",
    integer: true,
};
const RATE_LIMIT_REMAINING: SharedHeader = SharedHeader {
    name: "X-RateLimit-Remaining",
    description: "How many more writes the organization may make now.",
    integer: true,
};
const RETRY_AFTER: SharedHeader = SharedHeader {
    name: "Retry-After",
    description: "Seconds until a write will be admitted.",
    integer: true,
};
const RETRY_AT: SharedHeader = SharedHeader {
    name: "X-RateLimit-Retry-After",
    description: "The Unix time (seconds) when a write will be admitted.",
    integer: true,
};
const REPLAYED: SharedHeader = SharedHeader {
    name: "Idempotent-Replayed",
    description: "`true` when this is the answer kept for the request's `Idempotency-Key`, \
        replayed.",
    integer: false,
};

const LOCATION: SharedHeader = SharedHeader {
    name: "Location",
    description: "The URL of the resource.",
    integer: false,
};
const ETAG: SharedHeader = SharedHeader {
    name: "ETag",
    description: "The resource's revision (`\"r7\"`), for `If-Match`.",
    integer: false,
};
const WWW_AUTHENTICATE: SharedHeader = SharedHeader {
    name: "WWW-Authenticate",
    description: "`Bearer realm=\"invoice-api\"`.",
    integer: false,
};

const ALL_HEADERS: [SharedHeader; 9] = [
    REQUEST_ID,
    RATE_LIMIT,
    RATE_LIMIT_REMAINING,
    RETRY_AFTER,
    RETRY_AT,
    REPLAYED,
    LOCATION,
    ETAG,
    WWW_AUTHENTICATE,
];

fn header(shared: &SharedHeader) -> Header {
    let schema_type = if shared.integer {
        Type::Integer
    } else {
        Type::String
    };
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(schema_type)))
        .description(Some(shared.description))
        .build()
}

fn add_header(response: &mut Response, shared: SharedHeader) {
    response.headers.insert(
        shared.name.to_owned(),
        RefOr::Ref(Ref::new(format!("#/components/headers/{}", shared.name))),
    );
}

/// A request header parameter, kept in `components/parameters`.
struct SharedParameter {
    name: &'static str,
    build: fn() -> Parameter,
}

const IDEMPOTENCY_KEY: SharedParameter = SharedParameter {
    name: "Idempotency-Key",
    build: || {
        ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the first answer to a key is kept for 24 hours and \
                 replayed (with `Idempotent-Replayed: true`) for the same path and body. \
                 1 to 255 printable ASCII characters.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[ -~]+$")),
            ))
            .build()
    },
};
const IF_MATCH: SharedParameter = SharedParameter {
    name: "If-Match",
    build: || {
        ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Changes only the version this `ETag` names (412 otherwise); `*` matches any.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    },
};

fn add_parameter(operation: &mut Operation, shared: SharedParameter) {
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::Ref(Ref::new(format!(
            "#/components/parameters/{}",
            shared.name
        ))));
}

fn add_components(components: &mut Components) {
    components.security_schemes.insert(
        API_KEY.to_owned(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Header(
            ApiKeyValue::with_description(
                "REB-APIKEY",
                "A secret API key (`sk_sandbox_...` or `sk_live_...`), as Rebilly names it.",
            ),
        ))),
    );
    components.security_schemes.insert(
        BEARER.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An HS256 JWT signed with `JWT_SECRET`, naming its organization in \
                     `organizationId`. When a key and a token both come, either valid one \
                     admits (both valid for different organizations is 401).",
                ))
                .build(),
        )),
    );
    for shared in ALL_HEADERS {
        components
            .headers
            .insert(shared.name.to_owned(), RefOr::T(header(&shared)));
    }
    for shared in [IDEMPOTENCY_KEY, IF_MATCH] {
        components
            .parameters
            .insert(shared.name.to_owned(), RefOr::T((shared.build)()));
    }
    for (name, schema) in [
        (Problem::name(), Problem::schema()),
        (InvalidField::name(), InvalidField::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
}
