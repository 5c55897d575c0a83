//! The event log: what happened to an organization's invoices and items, newest first, each
//! event with what it was about as its change left it, for a dialect that sends objects as
//! they were.

use crate::domain::ids::{EventId, OrganizationId};
use crate::error::{ApiError, Resource};
use crate::repository::{Cursor, Db, EventLogListing, LoggedEvent};

/// A page of the organization's events that `listing` keeps, newest first, from `cursor`;
/// `None` when the cursor names no event of the log.
pub async fn page_events(
    db: &Db,
    organization_id: &OrganizationId,
    listing: &EventLogListing,
    cursor: Cursor<'_, EventId>,
    limit: i64,
) -> Result<Option<Vec<LoggedEvent>>, ApiError> {
    let page = db
        .read(async |snapshot| (snapshot.event_log(organization_id, listing, cursor, limit)).await)
        .await?;
    Ok(page)
}

/// One event of the organization's log; 404 when it has none of that id.
pub async fn get_event(
    db: &Db,
    organization_id: &OrganizationId,
    event_id: &EventId,
) -> Result<LoggedEvent, ApiError> {
    db.read(async |snapshot| (snapshot.logged_event(organization_id, event_id)).await)
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Event, event_id))
}
