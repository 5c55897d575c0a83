//! `/v1/webhook_endpoints`: where the log's events are sent, Stripe's way. An endpoint is a
//! webhook of the object-events format: each event goes as `GET /v1/events/{id}` shows it,
//! signed with `Stripe-Signature`, with the delivery guarantees and log of every webhook.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::API_VERSION;
use super::auth::StripeCaller;
use super::contract::{IdPath, PageQuery, WEBHOOK_ENDPOINTS_TAG, WebhookEndpointList};
use super::deletes::delete_object;
use super::error::{Bad, StripeError, missing_as};
use super::event_object::{event_names, is_event_name, types_named_by};
use super::item_params::read_metadata;
use super::pages::PageParams;
use super::params::{Reader, StripeBody, StripeQuery};
use super::wire::{Deleted, ok, unix};
use crate::domain::event::EventType;
use crate::domain::ids::WebhookId;
use crate::domain::metadata::{Metadata, MetadataChange};
use crate::domain::webhook::{
    DeliveryMethod, MAX_DESCRIPTION_LENGTH, Webhook, WebhookFormat, WebhookInput, WebhookLabels,
    WebhookUrl,
};
use crate::error::ApiError;
use crate::http::extract::Path;
use crate::http::idempotency::run_write;
use crate::http::state::AppState;
use crate::service::webhooks as service;

/// The format of every endpoint.
const FORMAT: WebhookFormat = WebhookFormat::ObjectEvents;
/// What every endpoint's id starts with, as on Stripe.
const ID_PREFIX: &str = "we_";
/// The most event types an endpoint may name.
const MAX_EVENT_NAMES: usize = 100;
/// The most endpoints a list reads (an organization has at most 20 webhooks).
const MOST_LISTED: i64 = 100;

/// A webhook endpoint (`object: "webhook_endpoint"`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeWebhookEndpoint)]
pub struct EndpointObject {
    /// `we_` and a ULID.
    id: String,
    /// `webhook_endpoint`.
    object: &'static str,
    /// The API version its events' objects follow.
    api_version: &'static str,
    /// Always null: there are no Connect applications.
    #[schema(value_type = Option<String>)]
    application: Option<String>,
    /// When it was made, Unix seconds.
    created: i64,
    description: Option<String>,
    /// The event types sent, or `["*"]` for every one.
    enabled_events: Vec<String>,
    livemode: bool,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    /// The signing secret, `whsec_...`: in the answer of the create only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    secret: Option<String>,
    /// `enabled` or `disabled`.
    status: &'static str,
    url: String,
}

impl EndpointObject {
    fn new(webhook: &Webhook, livemode: bool, with_secret: bool) -> Self {
        Self {
            id: webhook.id.to_string(),
            object: "webhook_endpoint",
            api_version: API_VERSION,
            application: None,
            created: unix(webhook.created_time),
            description: webhook.labels.description.clone(),
            enabled_events: webhook.labels.event_names.clone(),
            livemode,
            metadata: webhook.labels.metadata.clone(),
            secret: with_secret.then(|| webhook.secret.expose().to_owned()),
            status: if webhook.active {
                "enabled"
            } else {
                "disabled"
            },
            url: webhook.url.as_str().to_owned(),
        }
    }
}

/// An endpoint's parameters, read: each `None` when not given.
#[derive(Debug, Default)]
struct EndpointParams {
    url: Option<WebhookUrl>,
    /// The names as given, and the log's types they stand for (none: every one).
    events: Option<(Vec<String>, Vec<EventType>)>,
    description: Option<Option<String>>,
    metadata: Option<MetadataChange>,
    disabled: Option<bool>,
}

impl EndpointParams {
    fn read(reader: &mut Reader) -> Self {
        let url = reader.parsed("url", WebhookUrl::parse);
        let events = reader
            .has("enabled_events")
            .then(|| reader.texts("enabled_events"))
            .and_then(|names| read_events(reader, names));
        let description = reader.text("description").and_then(|text| {
            if text.is_empty() {
                return Some(None);
            }
            if text.chars().count() > MAX_DESCRIPTION_LENGTH {
                reader.reject_key(
                    "description",
                    format!("must be at most {MAX_DESCRIPTION_LENGTH} characters"),
                );
                return None;
            }
            Some(Some(text))
        });
        Self {
            url,
            events,
            description,
            metadata: read_metadata(reader),
            disabled: None,
        }
    }

    /// The endpoint's fields: these parameters over `current` (none for a new one).
    fn input(self, current: Option<&Webhook>) -> Result<WebhookInput, Bad> {
        let labels = current.map(|webhook| webhook.labels.clone());
        let labels = labels.unwrap_or_default();
        let metadata = match self.metadata {
            None => labels.metadata,
            Some(change) => labels
                .metadata
                .changed(change)
                .map_err(|error| Bad::invalid("metadata", error.to_string()))?,
        };
        let (event_names, events_filter) = match (self.events, current) {
            (Some(events), _) => events,
            (None, Some(current)) => (labels.event_names, current.events_filter.clone()),
            (None, None) => return Err(Bad::missing("enabled_events")),
        };
        let url = match (self.url, current) {
            (Some(url), _) => url,
            (None, Some(current)) => current.url.clone(),
            (None, None) => return Err(Bad::missing("url")),
        };
        let active = match (self.disabled, current) {
            (Some(disabled), _) => !disabled,
            (None, Some(current)) => current.active,
            (None, None) => true,
        };
        Ok(WebhookInput {
            url,
            method: DeliveryMethod::Post,
            headers: Vec::new(),
            events_filter,
            active,
            format: FORMAT,
            labels: WebhookLabels {
                description: self.description.unwrap_or(labels.description),
                metadata,
                event_names,
            },
        })
    }
}

/// `enabled_events[]`: `*`, or types this server makes; the log's types they stand for.
fn read_events(reader: &mut Reader, names: Vec<String>) -> Option<(Vec<String>, Vec<EventType>)> {
    if names.is_empty() || names.len() > MAX_EVENT_NAMES {
        reader.reject(Bad::invalid(
            "enabled_events",
            format!("must name 1 to {MAX_EVENT_NAMES} event types, or *"),
        ));
        return None;
    }
    if let Some(unknown) = names
        .iter()
        .find(|name| *name != "*" && !is_event_name(name))
    {
        let message = format!(
            "names {unknown:?}, which is not an event type here; one of *, {}",
            event_names().join(", ")
        );
        reader.reject(Bad::invalid("enabled_events", message));
        return None;
    }
    let mut names = names;
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(name.clone()));
    if names.iter().any(|name| name == "*") {
        return Some((vec!["*".to_owned()], Vec::new()));
    }
    let types = types_named_by(&names);
    Some((names, types))
}

/// The id of an endpoint in a path; 404 when it cannot be one.
fn endpoint_id(id: &str) -> Result<WebhookId, StripeError> {
    WebhookId::parse(id)
        .ok()
        .filter(|id| id.as_str().starts_with(ID_PREFIX))
        .ok_or_else(|| missing(id))
}

fn missing(id: &str) -> StripeError {
    StripeError::no_such("webhook_endpoint", id, "id")
}

/// A core error, with a missing endpoint named as Stripe names it.
fn endpoint_error(id: &WebhookId) -> impl Fn(ApiError) -> StripeError + '_ {
    missing_as(|| missing(id.as_str()))
}

/// Creates a webhook endpoint.
///
/// `url` and `enabled_events[]` (`*`, or types such as `invoice.paid`) are required;
/// `description`, `metadata` and `api_version` (which only this server's version may be) are
/// not. The answer alone shows the signing `secret`. The URL's host must resolve to public
/// addresses.
#[utoipa::path(
    post,
    path = "/v1/webhook_endpoints",
    operation_id = "PostWebhookEndpoints",
    tag = WEBHOOK_ENDPOINTS_TAG,
    request_body(content(
        (EndpointCreateParams = "application/x-www-form-urlencoded"),
        (EndpointCreateParams = "application/json"),
    )),
    responses((status = 200, description = "The endpoint, with its secret", body = EndpointObject)),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    let read = EndpointParams::read(&mut reader);
    if let Some(version) = reader.text("api_version")
        && version != API_VERSION
    {
        reader.reject_key(
            "api_version",
            format!("must be {API_VERSION}, the only version of this server's objects"),
        );
    }
    reader.finish()?;
    let input = read
        .input(None)
        .map_err(|bad| StripeError::Params(vec![bad]))?;
    let reachable = service::check_reachable(input, state.webhook_destinations).await?;
    let id = WebhookId::parse(&format!("{ID_PREFIX}{}", ulid::Ulid::generate()))
        .expect("a ULID after the prefix is an id");
    let organization_id = &caller.principal.organization_id;
    let livemode = caller.livemode;
    run_write(&state, &caller.principal, request, async |tx| {
        let (webhook, _) = service::upsert_webhook(tx, organization_id, &id, reachable).await?;
        ok(&EndpointObject::new(&webhook, livemode, true))
    })
    .await
}

/// Updates a webhook endpoint.
///
/// `url`, `enabled_events[]`, `description` (empty clears it), `metadata` (merged) and
/// `disabled`; what is not given stays.
#[utoipa::path(
    post,
    path = "/v1/webhook_endpoints/{id}",
    operation_id = "PostWebhookEndpointsWebhookEndpoint",
    tag = WEBHOOK_ENDPOINTS_TAG,
    params(IdPath),
    request_body(content(
        (Option<EndpointUpdateParams> = "application/x-www-form-urlencoded"),
        (Option<EndpointUpdateParams> = "application/json"),
    )),
    responses((status = 200, description = "The endpoint, changed", body = EndpointObject)),
)]
pub async fn update(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    let mut read = EndpointParams::read(&mut reader);
    read.disabled = reader.boolean("disabled");
    reader.finish()?;
    let webhook_id = endpoint_id(&id)?;
    if let Some(url) = &read.url {
        service::check_url(url, state.webhook_destinations).await?;
    }
    let organization_id = &caller.principal.organization_id;
    let livemode = caller.livemode;
    run_write(&state, &caller.principal, request, async |tx| {
        let mut refused = None;
        let changed =
            service::change_webhook(tx, organization_id, &webhook_id, FORMAT, |current| {
                read.input(Some(current)).unwrap_or_else(|bad| {
                    refused = Some(bad);
                    current_input(current)
                })
            });
        let webhook = changed.await.map_err(endpoint_error(&webhook_id))?;
        if let Some(bad) = refused {
            return Err(StripeError::Params(vec![bad]));
        }
        ok(&EndpointObject::new(&webhook, livemode, false))
    })
    .await
}

/// A webhook's fields as they are.
fn current_input(current: &Webhook) -> WebhookInput {
    WebhookInput {
        url: current.url.clone(),
        method: current.method,
        headers: current.headers.clone(),
        events_filter: current.events_filter.clone(),
        active: current.active,
        format: current.format,
        labels: current.labels.clone(),
    }
}

/// Retrieves a webhook endpoint (without its secret).
#[utoipa::path(
    get,
    path = "/v1/webhook_endpoints/{id}",
    operation_id = "GetWebhookEndpointsWebhookEndpoint",
    tag = WEBHOOK_ENDPOINTS_TAG,
    params(IdPath),
    responses((status = 200, description = "The endpoint", body = EndpointObject)),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let webhook_id = endpoint_id(&id)?;
    let organization_id = &caller.principal.organization_id;
    let webhook = service::get_webhook(&state.db, organization_id, &webhook_id, FORMAT)
        .await
        .map_err(endpoint_error(&webhook_id))?;
    ok(&EndpointObject::new(&webhook, caller.livemode, false))
}

/// Deletes a webhook endpoint and the deliveries it has still to make; its log stays.
#[utoipa::path(
    delete,
    path = "/v1/webhook_endpoints/{id}",
    operation_id = "DeleteWebhookEndpointsWebhookEndpoint",
    tag = WEBHOOK_ENDPOINTS_TAG,
    params(IdPath),
    responses((status = 200, description = "The endpoint is gone", body = Deleted)),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let webhook_id = endpoint_id(&id)?;
    delete_object(
        &state,
        &caller,
        webhook_id,
        "webhook_endpoint",
        async |tx, organization_id, webhook_id| {
            service::delete_webhook(tx, organization_id, webhook_id, FORMAT)
                .await
                .map_err(endpoint_error(webhook_id))
        },
    )
    .await
}

/// Lists webhook endpoints.
///
/// Newest first, by cursor.
#[utoipa::path(
    get,
    path = "/v1/webhook_endpoints",
    operation_id = "GetWebhookEndpoints",
    tag = WEBHOOK_ENDPOINTS_TAG,
    params(PageQuery),
    responses((status = 200, description = "A page of endpoints, newest first", body = WebhookEndpointList)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    reader.finish()?;
    let organization_id = &caller.principal.organization_id;
    let all = service::list_webhooks(&state.db, organization_id, FORMAT, MOST_LISTED, 0).await?;
    let read = page.window(all.webhooks, "webhook_endpoint", |webhook| {
        webhook.id.as_str()
    })?;
    page.answer(
        read,
        |webhook| EndpointObject::new(webhook, caller.livemode, false),
        "/v1/webhook_endpoints",
    )
}

pub use self::contract::{EndpointCreateParams, EndpointUpdateParams};

/// The parameters as the contract describes them, beside the reader above.
#[expect(
    dead_code,
    reason = "their fields are read by the schema derives alone"
)]
mod contract {
    use std::collections::HashMap;

    use utoipa::ToSchema;

    use crate::http::stripe::param_schemas::metadata;

    /// `POST /v1/webhook_endpoints`.
    #[derive(ToSchema)]
    #[schema(as = StripeWebhookEndpointCreate)]
    pub struct EndpointCreateParams {
        /// Where events are sent: an http or https URL of a public host, at most 2,048
        /// characters.
        #[schema(max_length = 2048)]
        url: String,
        /// `*`, or event types such as `invoice.paid`; 1 to 100.
        #[schema(min_items = 1, max_items = 100)]
        enabled_events: Vec<String>,
        /// What it is for.
        #[schema(required = false, max_length = 5000)]
        description: String,
        /// Up to 50 keys of up to 40 characters, values of up to 500 characters.
        #[schema(required = false, schema_with = metadata)]
        metadata: Option<HashMap<String, String>>,
        /// Only this server's API version, `2024-06-20`.
        #[schema(required = false, pattern = "^2024-06-20$")]
        api_version: String,
    }

    /// `POST /v1/webhook_endpoints/{id}`: what is not given stays.
    #[derive(ToSchema)]
    #[schema(as = StripeWebhookEndpointUpdate)]
    pub struct EndpointUpdateParams {
        /// Where events are sent.
        #[schema(required = false, max_length = 2048)]
        url: String,
        /// `*`, or event types such as `invoice.paid`; 1 to 100.
        #[schema(required = false, min_items = 1, max_items = 100)]
        enabled_events: Vec<String>,
        /// What it is for; empty to clear.
        #[schema(required = false, max_length = 5000)]
        description: String,
        /// Keys to set (an empty value removes one).
        #[schema(required = false, schema_with = metadata)]
        metadata: Option<HashMap<String, String>>,
        /// Whether deliveries stop.
        #[schema(required = false)]
        disabled: bool,
    }
}
