//! `/v1/events`: the event log, Stripe's way. Each event shows its invoice or item as the
//! event left it.

use axum::extract::State;
use axum::response::Response;

use super::auth::StripeCaller;
use super::contract::{EVENTS_TAG, EventList, EventListQuery, IdPath, PageQuery};
use super::error::{Bad, StripeError, missing_as};
use super::event_object::{EventObject, logged_id, types_named_by};
use super::invoice_object::InvoiceContext;
use super::item_params::time_range;
use super::pages::PageParams;
use super::params::{Reader, StripeQuery};
use super::wire::ok;
use crate::http::extract::Path;
use crate::http::state::AppState;
use crate::repository::EventLogListing;
use crate::service::event_log as service;

/// The most types `types[]` may name.
const MAX_TYPES: usize = 20;

/// Lists events.
///
/// Newest first, by cursor; `type` (one, or a prefix with `*`), `types[]` and `created`
/// (Unix seconds, or a range) keep those that match. Events written before this server kept
/// what they were about are not listed.
#[utoipa::path(
    get,
    path = "/v1/events",
    operation_id = "GetEvents",
    tag = EVENTS_TAG,
    params(PageQuery, EventListQuery),
    responses((status = 200, description = "A page of events, newest first", body = EventList)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    let listing = read_listing(&mut reader);
    reader.finish()?;
    let cursor_id = page.cursor_id("event", logged_id)?;
    let cursor = page.from(cursor_id.as_ref());
    let organization_id = &caller.principal.organization_id;
    let events = match listing {
        // A filter that names no type of the log keeps none.
        None => Vec::new(),
        Some(listing) => {
            service::page_events(&state.db, organization_id, &listing, cursor, page.to_read())
                .await?
                .ok_or_else(|| page.no_such("event"))?
        }
    };
    let context = InvoiceContext::load(&state, &caller, true).await?;
    page.answer(
        events,
        |event| EventObject::new(event, &context),
        "/v1/events",
    )
}

/// The filters of a list of events; `None` when they name no type of the log.
fn read_listing(reader: &mut Reader) -> Option<EventLogListing> {
    let one = reader.text("type");
    let many = reader.texts("types");
    if one.is_some() && !many.is_empty() {
        reader.reject(Bad::coded(
            "types",
            "parameters_exclusive",
            "cannot be given with type",
        ));
    }
    if many.len() > MAX_TYPES {
        reader.reject(Bad::invalid(
            "types",
            format!("must name at most {MAX_TYPES} types"),
        ));
    }
    let mut listing = EventLogListing::default();
    (listing.from, listing.before) = time_range(reader, "created");
    let one = one.filter(|name| well_formed(reader, "type", name));
    let many: Vec<String> = many
        .into_iter()
        .filter(|name| well_formed(reader, "types", name))
        .collect();
    let named: Vec<String> = one.into_iter().chain(many).collect();
    if named.is_empty() {
        return Some(listing);
    }
    listing.types = types_named_by(&named);
    (!listing.types.is_empty()).then_some(listing)
}

/// Whether a type's name is made as Stripe's are (`invoice.paid`, `invoice.*`): 1 to 100
/// lower-case letters, `_`, `.` and `*`; a 400 on `param` when not.
fn well_formed(reader: &mut Reader, param: &str, name: &str) -> bool {
    let valid = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || matches!(c, '_' | '.' | '*'));
    if !valid {
        reader.reject(Bad::invalid(
            param,
            "must be an event type such as invoice.paid, or a prefix such as invoice.*",
        ));
    }
    valid
}

/// Retrieves an event.
#[utoipa::path(
    get,
    path = "/v1/events/{id}",
    operation_id = "GetEventsId",
    tag = EVENTS_TAG,
    params(IdPath),
    responses((status = 200, description = "The event", body = EventObject)),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    reader.finish()?;
    let missing = || StripeError::no_such("event", &id, "id");
    let event_id = logged_id(&id).ok_or_else(missing)?;
    let event = service::get_event(&state.db, &caller.principal.organization_id, &event_id)
        .await
        .map_err(missing_as(missing))?;
    let context = InvoiceContext::load(&state, &caller, true).await?;
    ok(&EventObject::new(&event, &context))
}
