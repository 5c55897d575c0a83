//! An organization's own details: read and changed by the organization itself only.

use chrono::Utc;

use crate::domain::ids::OrganizationId;
use crate::domain::organization::{Organization, OrganizationChange};
use crate::error::{ApiError, Denial};
use crate::repository::{Db, Tx};

/// The caller's organization; another one's is 403.
pub async fn get_organization(
    db: &Db,
    caller: &OrganizationId,
    organization_id: &str,
) -> Result<Organization, ApiError> {
    own_only(caller, organization_id)?;
    Ok(db.find_organization(caller).await?)
}

/// Changes the caller's organization's details, in the caller's transaction.
pub async fn change_organization(
    tx: &mut Tx,
    caller: &OrganizationId,
    organization_id: &str,
    change: OrganizationChange,
) -> Result<Organization, ApiError> {
    own_only(caller, organization_id)?;
    let mut organization = tx.lock_organization(caller).await?;
    organization.details = change.apply(organization.details);
    organization.updated_time = Some(Utc::now());
    tx.save_organization(&organization).await?;
    Ok(organization)
}

fn own_only(caller: &OrganizationId, organization_id: &str) -> Result<(), ApiError> {
    if caller.as_str() == organization_id {
        Ok(())
    } else {
        Err(ApiError::Forbidden(Denial::OtherOrganization {
            caller: caller.to_string(),
        }))
    }
}
