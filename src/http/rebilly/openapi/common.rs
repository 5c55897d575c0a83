//! What every operation of a kind has in common, added to the contract after the handlers'
//! own annotations: the credentials, the shared headers and parameters, and the problem
//! answers that the layers and extractors give (not the handlers).
//!
//! Each rule here mirrors a piece of code: `Principal` (401, 403, 429), the rate-limit
//! middleware (`X-RateLimit-*`), `Idempotency` on every POST, `Precondition` on PUT and
//! DELETE, `JsonBody` (400, 413, 415, 422), `Page` (its headers, and 422 for a bad `limit` or
//! `offset`), the request-id layer and the timeout (503).

use utoipa::ToSchema;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Components, Content, OpenApi, RefOr, Response};

use super::super::pagination::{document_headers, is_paged};
use super::parts::{
    API_KEY, BAD_PAGE, BEARER, ETAG, FORBIDDEN, IDEMPOTENCY_KEY, IF_MATCH, INTERNAL, INVALID,
    KEY_IN_USE, LOCATION, MALFORMED, MEDIA_TYPE, PRECONDITION, ProblemAnswer, RATE_LIMIT,
    RATE_LIMIT_REMAINING, RATE_LIMITED, REPLAYED, REQUEST_ID, RETRY_AFTER, RETRY_AT, SharedHeader,
    SharedParameter, TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, WWW_AUTHENTICATE, add_components,
    problem_response,
};
use crate::http::rebilly::invoice_items::ItemResponse;
use crate::http::rebilly::invoice_response::InvoiceResponse;

/// Adds the common parts to a contract built from the handlers.
pub fn finish(spec: &mut OpenApi) {
    let components = spec.components.get_or_insert_with(Components::new);
    add_components(components);
    super::resources::shape_resources(components);
    spec.security = Some(vec![
        SecurityRequirement::new(API_KEY, Vec::<String>::new()),
        SecurityRequirement::new(BEARER, Vec::<String>::new()),
    ]);
    super::links::add_links(spec);
    for item in spec.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put, &mut item.patch]
            .into_iter()
            .flatten()
        {
            body_is_never_null(operation);
        }
        let methods = [
            (Method::Get, item.get.as_mut()),
            (Method::Put, item.put.as_mut()),
            (Method::Post, item.post.as_mut()),
            (Method::Patch, item.patch.as_mut()),
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
    Patch,
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
    if is_paged(operation) {
        add_problem(operation, 422, BAD_PAGE);
        if let Some(RefOr::T(page)) = operation.responses.responses.get_mut("200") {
            document_headers(page);
        }
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

fn add_header(response: &mut Response, shared: SharedHeader) {
    let (name, reference) = shared.reference();
    response.headers.insert(name, reference);
}

fn add_parameter(operation: &mut Operation, shared: SharedParameter) {
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(shared.reference());
}
