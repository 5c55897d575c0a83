//! `/webhooks`: where the organization's invoice events are sent, in Rebilly's GlobalWebhook
//! shape, with the Standard Webhooks signing secret shown once, when the webhook is made.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa::openapi::schema::SchemaFormat;

use super::fields::{FieldReader, RawObject, canonical_body, list, string};
use super::openapi::schema::{
    closed_object, named_schema, null, nullable, nullable_array, one_of, text, with_read_only,
};
use super::pagination::Page;
use super::paths::IdPath;
use super::wire::{Link, created, json_ok, time};
use crate::domain::event::EventType;
use crate::domain::ids::WebhookId;
use crate::domain::webhook::{
    DeliveryMethod, MAX_HEADER_LENGTH, MAX_HEADERS, MAX_URL_LENGTH, Webhook, WebhookFormat,
    WebhookHeader, WebhookInput, WebhookLabels, WebhookUrl,
};

/// The format of every webhook of this dialect.
const FORMAT: WebhookFormat = WebhookFormat::InvoiceEvents;
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, KeptBody, run_unkeyed_write, run_write};
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::service::webhooks as service;

/// Read-only fields of a webhook: accepted and ignored. `credentialHash` names a Rebilly
/// credential; deliveries here are signed instead, so it is accepted and not used.
const READ_ONLY: &[&str] = &[
    "id",
    "secret",
    "credentialHash",
    "createdTime",
    "updatedTime",
    "_links",
];

/// Fields of Rebilly's webhook that change what is sent, which this server does not do: a
/// value other than `null` is refused.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "body",
        "is not supported: deliveries carry the event's own payload",
    ),
    (
        "filter",
        "is not supported: use eventsFilter to choose what is sent",
    ),
];

/// Creates a webhook.
#[utoipa::path(
    post,
    path = "/webhooks",
    operation_id = "PostWebhook",
    tag = "Webhooks",
    request_body(content = WebhookRequest, example = webhook_example),
    responses(
        (status = 201, description = "The webhook, with its signing `secret` (shown only now)", body = WebhookResponse),
        (status = 409, description = "The organization has 20 webhooks, the most it may have", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad field, or a URL that reaches a private address", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let input = parse_webhook(body)?;
    // Looked up before the transaction; a retry of a kept answer does not use the result.
    let reachable = service::check_reachable(input, state.webhook_destinations).await;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let webhook = service::create_webhook(tx, organization_id, reachable?).await?;
        let response = created(
            &state.url(&webhook_path(&webhook.id)),
            &WebhookResponse::new(&state, &webhook, true),
        );
        Ok(secret_shown_once(&state, &webhook, response)?)
    })
    .await
}

/// Creates or replaces the webhook of a given id.
///
/// Creates the webhook with that id (201, with its secret) or replaces the one that has it (200,
/// keeping its secret).
#[utoipa::path(
    put,
    path = "/webhooks/{id}",
    operation_id = "PutWebhook",
    tag = "Webhooks",
    params(IdPath<WebhookId>),
    request_body(content = WebhookRequest, example = webhook_example),
    responses(
        (status = 200, description = "The webhook, replaced", body = WebhookResponse),
        (status = 201, description = "The webhook, created, with its signing `secret`", body = WebhookResponse),
        (status = 404, description = "The id breaks Rebilly's id rule, so no webhook can have it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No webhook has the id, and the organization has 20 webhooks, the most it may have", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad field, or a URL that reaches a private address", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn upsert(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<WebhookId>>,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let input = parse_webhook(body)?;
    let webhook_id = path.id()?;
    // Looked up before the transaction; a retry of a kept answer does not use the result.
    let reachable = service::check_reachable(input, state.webhook_destinations).await;
    run_write(&state, &principal, request, async |tx| {
        let organization_id = &principal.organization_id;
        let (webhook, was_created) =
            service::upsert_webhook(tx, organization_id, &webhook_id, reachable?).await?;
        let body = WebhookResponse::new(&state, &webhook, was_created);
        Ok(if was_created {
            let response = created(&state.url(&webhook_path(&webhook.id)), &body);
            secret_shown_once(&state, &webhook, response)?
        } else {
            json_ok(&body)
        })
    })
    .await
}

/// The answer that made a webhook, with its secret; a retry with its `Idempotency-Key` is
/// answered without it, as every later read is, so that the secret is stored nowhere but on
/// the webhook.
fn secret_shown_once(
    state: &AppState,
    webhook: &Webhook,
    mut response: Response,
) -> Result<Response, ApiError> {
    let kept = serde_json::to_vec(&WebhookResponse::new(state, webhook, false))
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    response.extensions_mut().insert(KeptBody(kept));
    Ok(response)
}

/// Reads a webhook.
#[utoipa::path(
    get,
    path = "/webhooks/{id}",
    operation_id = "GetWebhook",
    tag = "Webhooks",
    params(IdPath<WebhookId>),
    responses(
        (status = 200, description = "The webhook (without its secret)", body = WebhookResponse),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<WebhookId>>,
) -> Result<Response, Failure> {
    let webhook_id = path.id()?;
    let webhook =
        service::get_webhook(&state.db, &principal.organization_id, &webhook_id, FORMAT).await?;
    Ok(json_ok(&WebhookResponse::new(&state, &webhook, false)))
}

/// Deletes a webhook.
///
/// What it had still to send is dropped; its log stays.
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    operation_id = "DeleteWebhook",
    tag = "Webhooks",
    params(IdPath<WebhookId>),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<WebhookId>>,
) -> Result<Response, Failure> {
    let webhook_id = path.id()?;
    let organization_id = &principal.organization_id;
    run_unkeyed_write(&state, &principal, async |tx| {
        service::delete_webhook(tx, organization_id, &webhook_id, FORMAT).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// Lists webhooks.
///
/// Newest first, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/webhooks",
    operation_id = "GetWebhookCollection",
    tag = "Webhooks",
    params(Page),
    responses(
        (status = 200, description = "A page of webhooks", body = Vec<WebhookResponse>),
    ),
)]
pub async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    query: Query,
) -> Result<Response, Failure> {
    let page = Page::only(&query)?;
    let found = service::list_webhooks(
        &state.db,
        &principal.organization_id,
        FORMAT,
        page.limit,
        page.offset,
    )
    .await?;
    Ok(page.answer_each(found.total, &found.webhooks, |webhook| {
        WebhookResponse::new(&state, webhook, false)
    }))
}

/// A webhook's or a header's `status`: whether it is `active`.
fn is_active(raw: &RawValue) -> Result<bool, String> {
    match string(raw)?.as_str() {
        "active" => Ok(true),
        "inactive" => Ok(false),
        _ => Err("must be active or inactive".into()),
    }
}

/// Turns a request body into a webhook input, naming every bad field at once.
fn parse_webhook(body: RawObject) -> Result<WebhookInput, ApiError> {
    let mut fields = FieldReader::new(body);
    let url = fields.required("url", |raw| WebhookUrl::parse(&string(raw)?));
    let method = fields.required("method", |raw| {
        let name = string(raw)?;
        DeliveryMethod::parse(&name)
            .ok_or_else(|| "must be one of GET, POST, PUT, PATCH, DELETE".into())
    });
    let active = fields.optional("status", is_active).unwrap_or(true);
    let events_filter = fields
        .optional("eventsFilter", |raw| {
            let mut types = Vec::new();
            for element in list(raw, EventType::SENT.len())? {
                let name = string(&element)?;
                let event_type = EventType::parse(&name)
                    .filter(|event_type| EventType::SENT.contains(event_type))
                    .ok_or_else(|| {
                        format!(
                            "{name} is not an event type sent here; known: {}",
                            sent_names()
                        )
                    })?;
                if !types.contains(&event_type) {
                    types.push(event_type);
                }
            }
            Ok(types)
        })
        .unwrap_or_default();
    let mut headers = Vec::new();
    for mut header in fields.optional_objects("headers", MAX_HEADERS) {
        let name = header.required("name", string);
        let value = header.required("value", string);
        let active = header.optional("status", is_active).unwrap_or(true);
        if let (Some(name), Some(value)) = (name, value) {
            match WebhookHeader::parse(name, value, active) {
                Ok(parsed) => headers.push(parsed),
                Err(message) => header.reject("name", message),
            }
        }
        fields.adopt(header, &[]);
    }
    for (name, message) in UNSUPPORTED {
        if fields.has_value(name) {
            fields.reject(name, *message);
        }
        fields.skip(name);
    }
    fields.finish(READ_ONLY)?;
    match (url, method) {
        (Some(url), Some(method)) => Ok(WebhookInput {
            url,
            method,
            headers,
            events_filter,
            active,
            format: FORMAT,
            labels: WebhookLabels::default(),
        }),
        // `finish` has refused what is missing.
        _ => Err(ApiError::validation(Vec::new())),
    }
}

fn sent_names() -> String {
    EventType::SENT.map(EventType::as_str).join(", ")
}

/// The path of a webhook, relative to the server root.
pub fn webhook_path(webhook_id: &WebhookId) -> String {
    format!("/webhooks/{webhook_id}")
}

/// The contract's example of a webhook body.
fn webhook_example() -> serde_json::Value {
    serde_json::json!({"url": "https://example.com/hooks/invoices", "method": "POST", "eventsFilter": ["invoice-issued", "invoice-voided"], "headers": [{"name": "X-Source", "value": "invoice-api"}]})
}

/// A header of a webhook on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookHeaderResponse {
    name: String,
    value: String,
    /// `active` or `inactive`.
    status: &'static str,
}

/// A webhook on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GlobalWebhook)]
pub struct WebhookResponse {
    #[schema(value_type = String, example = "hook_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: WebhookId,
    /// The event types sent; empty: every one.
    events_filter: Vec<&'static str>,
    /// `active` or `inactive`.
    status: &'static str,
    method: &'static str,
    url: String,
    headers: Vec<WebhookHeaderResponse>,
    /// Always `null`: deliveries are signed with `secret` instead.
    credential_hash: Option<String>,
    /// Always `null`: deliveries carry the event's own payload.
    body: Option<String>,
    /// Always `null`: `eventsFilter` chooses what is sent.
    filter: Option<String>,
    /// The Standard Webhooks signing secret (`whsec_...`) in the answer that creates the
    /// webhook; `null` in every other.
    secret: Option<String>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl WebhookResponse {
    fn new(state: &AppState, webhook: &Webhook, with_secret: bool) -> Self {
        let status = |active: bool| if active { "active" } else { "inactive" };
        Self {
            id: webhook.id.clone(),
            events_filter: webhook.events_filter.iter().map(|t| t.as_str()).collect(),
            status: status(webhook.active),
            method: webhook.method.as_str(),
            url: webhook.url.as_str().to_owned(),
            headers: webhook
                .headers
                .iter()
                .map(|header| WebhookHeaderResponse {
                    name: header.name.clone(),
                    value: header.value.clone(),
                    status: status(header.active),
                })
                .collect(),
            credential_hash: None,
            body: None,
            filter: None,
            secret: with_secret.then(|| webhook.secret.expose().to_owned()),
            created_time: webhook.created_time,
            updated_time: webhook.updated_time,
            links: vec![Link::to(state, "self", &webhook_path(&webhook.id))],
        }
    }
}

named_schema!(
    /// The body of `POST /webhooks` and `PUT /webhooks/{id}`.
    WebhookRequest => {
        let active = || nullable(one_of(["active", "inactive"]).default(Some("active".into())));
        let header = closed_object(
            &["name", "value"],
            [
                ("name", text(MAX_HEADER_LENGTH).min_length(Some(1)).into()),
                ("value", text(MAX_HEADER_LENGTH).into()),
                ("status", active().into()),
            ],
        );
        let events = one_of(EventType::SENT.map(EventType::as_str));
        let object = closed_object(
            &["url", "method"],
            [
                ("url", text(MAX_URL_LENGTH).format(Some(SchemaFormat::Custom("uri".into()))).into()),
                ("method", one_of(["GET", "POST", "PUT", "PATCH", "DELETE"]).into()),
                ("status", active().into()),
                ("eventsFilter", nullable_array(events, EventType::SENT.len()).into()),
                ("headers", nullable_array(header, MAX_HEADERS).into()),
                ("body", null().into()),
                ("filter", null().into()),
            ],
        );
        with_read_only(object, READ_ONLY)
            .description(Some(
                "A webhook. The URL's host must not resolve to a loopback, private or \
                 link-local address unless the server runs with \
                 WEBHOOK_ALLOW_PRIVATE_NETWORKS=true. `body` and `filter` (Rebilly's templates \
                 and filters) are not supported: only `null`.",
            ))
            .into()
    }
);
