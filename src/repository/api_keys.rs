//! Organizations and their API keys.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::Db;
use crate::domain::ids::OrganizationId;

/// The channel on which the database announces revoked (or deleted) keys, by their SHA-256 in
/// hex (the migration's trigger).
const REVOKED_CHANNEL: &str = "api_key_revoked";

/// A key as `list-api-keys` shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListing {
    /// The key's id, which `revoke-api-key` takes.
    pub id: Uuid,
    /// The organization it acts for.
    pub organization_id: OrganizationId,
    /// Its first characters.
    pub key_prefix: String,
    /// An `sk_live_` key rather than a sandbox one.
    pub live: bool,
    /// The operation ids it may call; `None`: every one.
    pub permissions: Option<Vec<String>>,
    /// When it was made.
    pub created_time: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_time: Option<DateTime<Utc>>,
}

/// A connection that hears of revoked keys as their transactions commit.
#[derive(Debug)]
pub struct RevokedKeys {
    listener: PgListener,
}

impl RevokedKeys {
    /// The SHA-256 of the next key revoked. `None` when the connection is lost: revocations
    /// made meanwhile are not heard of, so the caller must forget what it remembers.
    pub async fn next(&mut self) -> Option<[u8; 32]> {
        loop {
            let notification = self.listener.try_recv().await.ok()??;
            let mut hash = [0u8; 32];
            // The trigger always sends 64 hex digits; anything else is not ours to act on.
            if hex::decode_to_slice(notification.payload(), &mut hash).is_ok() {
                return Some(hash);
            }
        }
    }
}

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
               from api_keys where key_hash = $1 and revoked_time is null"#,
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

    /// Every key, or an organization's, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn list_api_keys(
        &self,
        organization_id: Option<&OrganizationId>,
    ) -> Result<Vec<KeyListing>, sqlx::Error> {
        sqlx::query_as!(
            KeyListing,
            r#"select id, organization_id as "organization_id: OrganizationId", key_prefix, live,
                   permissions, created_time, revoked_time
               from api_keys
               where $1::text is null or organization_id = $1
               order by created_time, id"#,
            organization_id as Option<&OrganizationId>,
        )
        .fetch_all(&self.pool)
        .await
    }

    /// Revokes the key with this id, if it is not revoked yet; its owner, if it was revoked
    /// now. The database announces it to every server when the statement commits.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_api_key(&self, id: Uuid) -> Result<Option<KeyListing>, sqlx::Error> {
        sqlx::query_as!(
            KeyListing,
            r#"update api_keys set revoked_time = now()
               where id = $1 and revoked_time is null
               returning id, organization_id as "organization_id: OrganizationId", key_prefix,
                   live, permissions, created_time, revoked_time"#,
            id,
        )
        .fetch_optional(&self.pool)
        .await
    }

    /// Starts hearing of revoked keys, on a connection of its own.
    pub async fn listen_for_revoked_keys(&self) -> Result<RevokedKeys, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(REVOKED_CHANNEL).await?;
        Ok(RevokedKeys { listener })
    }
}
