//! Organizations and their API keys.

use uuid::Uuid;

use super::Db;
use crate::domain::ids::OrganizationId;

/// Whom a key belongs to, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The operation ids the key may call; `None`: every one.
    pub permissions: Option<Vec<String>>,
}

impl Db {
    /// The organization owning the key whose SHA-256 is `key_hash`, and the key's permissions
    /// (`None`: every operation).
    #[tracing::instrument(skip_all)]
    pub async fn owner_of_key(&self, key_hash: &[u8]) -> Result<Option<KeyOwner>, sqlx::Error> {
        sqlx::query_as!(
            KeyOwner,
            r#"select organization_id as "organization_id: OrganizationId", permissions
               from api_keys where key_hash = $1"#,
            key_hash
        )
        .fetch_optional(&self.pool)
        .await
    }

    /// Stores a key (by hash) with its permissions (`None`: every operation), creating its
    /// organization if needed. Returns the organization that owns the key afterwards: another
    /// one when that key was already registered to it.
    #[tracing::instrument(skip_all, fields(organization = %organization_id))]
    pub async fn ensure_api_key(
        &self,
        organization_id: &OrganizationId,
        key_hash: &[u8],
        key_prefix: &str,
        live: bool,
        permissions: Option<&[&str]>,
    ) -> Result<OrganizationId, sqlx::Error> {
        sqlx::query_scalar!(
            r#"with organization as (
                   insert into organizations (id) values ($1) on conflict (id) do nothing
               ), key as (
                   insert into api_keys (organization_id, id, key_hash, key_prefix, live,
                       permissions)
                   values ($1, $2, $3, $4, $5, $6)
                   on conflict (key_hash) do nothing
                   returning organization_id
               )
               select organization_id as "organization_id!: OrganizationId" from key
               union all
               select organization_id from api_keys where key_hash = $3"#,
            organization_id as &OrganizationId,
            Uuid::new_v4(),
            key_hash,
            key_prefix,
            live,
            permissions as Option<&[&str]>,
        )
        .fetch_one(&self.pool)
        .await
    }
}
