//! A delete, as every `/v1` object is deleted: in a write of its own (a delete has no body, so
//! no `Idempotency-Key` keeps its answer), answered with Stripe's `deleted` object.

use std::fmt::Display;

use axum::response::Response;

use super::auth::StripeCaller;
use super::error::StripeError;
use super::wire::{Deleted, ok};
use crate::domain::ids::OrganizationId;
use crate::http::idempotency::{WriteRequest, run_write};
use crate::http::state::AppState;
use crate::repository::Tx;

/// Deletes the object `id` by `delete`, and answers that the `object` (`invoiceitem`) is
/// gone.
pub async fn delete_object<Id: Display>(
    state: &AppState,
    caller: &StripeCaller,
    id: Id,
    object: &'static str,
    delete: impl AsyncFnOnce(&mut Tx, &OrganizationId, &Id) -> Result<(), StripeError>,
) -> Result<Response, StripeError> {
    let principal = &caller.principal;
    run_write(state, principal, WriteRequest::without_key(), async |tx| {
        delete(tx, &principal.organization_id, &id).await?;
        ok(&Deleted::new(&id.to_string(), object))
    })
    .await
}
