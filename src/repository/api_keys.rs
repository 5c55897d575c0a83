//! Organizations and their API keys.

use chrono::{DateTime, Utc};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use uuid::Uuid;

use super::Db;
use crate::domain::ids::OrganizationId;

/// The channel on which the database announces changed keys (revoked, deleted, or with other
/// permissions) by their SHA-256 in hex, `*` for all of them (the migration's triggers), and
/// on which every server sends [`HEARTBEAT`] now and then.
const CHANGES_CHANNEL: &str = "api_key_changed";

/// What a server sends on the channel to tell that the connection still carries news.
const HEARTBEAT: &str = "heartbeat";

/// What the channel announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    /// The key with this SHA-256 changed: what was read of it may be stale.
    Key([u8; 32]),
    /// Any key may have changed (the table was truncated).
    All,
    /// Nothing changed; the connection still carries news.
    Heartbeat,
}

impl KeyChange {
    fn parse(payload: &str) -> Option<Self> {
        match payload {
            "*" => Some(Self::All),
            HEARTBEAT => Some(Self::Heartbeat),
            hex_digits => {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(hex_digits, &mut hash).ok()?;
                Some(Self::Key(hash))
            }
        }
    }
}

/// How long opening the listening connection may take.
const LISTEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// A connection of its own that hears of changed keys as their transactions commit.
#[derive(Debug)]
pub struct KeyChanges {
    listener: PgListener,
}

impl KeyChanges {
    /// The next change announced. `None` when the connection is lost: changes made meanwhile
    /// are not heard of, so the caller must forget what it remembers.
    pub async fn next(&mut self) -> Option<KeyChange> {
        loop {
            let notification = self.listener.try_recv().await.ok()??;
            // Anything else on the channel is not ours to act on.
            if let Some(change) = KeyChange::parse(notification.payload()) {
                return Some(change);
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
        self.on_connection(async |connection| {
            sqlx::query_as!(
                KeyOwner,
                r#"select organization_id as "organization_id: OrganizationId", permissions
               from api_keys where key_hash = $1 and revoked_time is null"#,
                key_hash
            )
            .fetch_optional(connection)
            .await
        })
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
        self.on_connection(async |connection| {
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
            .fetch_one(connection)
            .await
        })
        .await
    }

    /// Every key, or an organization's, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn list_api_keys(
        &self,
        organization_id: Option<&OrganizationId>,
    ) -> Result<Vec<KeyListing>, sqlx::Error> {
        // Planned for its argument: every key, or one organization's.
        self.on_connection_planned_for_arguments(async |connection| {
            sqlx::query_as!(
                KeyListing,
                r#"select id, organization_id as "organization_id: OrganizationId", key_prefix, live,
                   permissions, created_time, revoked_time
               from api_keys
               where $1::text is null or organization_id = $1
               order by created_time, id"#,
                organization_id as Option<&OrganizationId>,
            )
            .fetch_all(connection)
            .await
        })
        .await
    }

    /// Revokes the key with this id, if it is not revoked yet; its owner, if it was revoked
    /// now. The database announces it to every server when the statement commits.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_api_key(&self, id: Uuid) -> Result<Option<KeyListing>, sqlx::Error> {
        self.on_connection(async |connection| {
            sqlx::query_as!(
                KeyListing,
                r#"update api_keys set revoked_time = now()
               where id = $1 and revoked_time is null
               returning id, organization_id as "organization_id: OrganizationId", key_prefix,
                   live, permissions, created_time, revoked_time"#,
                id,
            )
            .fetch_optional(connection)
            .await
        })
        .await
    }

    /// Starts hearing of changed keys, on a connection of its own outside the pool, so that
    /// it takes none of the requests' connections.
    pub async fn listen_for_key_changes(&self) -> Result<KeyChanges, sqlx::Error> {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(LISTEN_CONNECT_TIMEOUT)
            .connect_with(self.direct_options())
            .await?;
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        Ok(KeyChanges { listener })
    }

    /// Sends a heartbeat on the key changes' channel, through the pool.
    pub async fn send_key_changes_heartbeat(&self) -> Result<(), sqlx::Error> {
        self.on_connection(async |connection| {
            sqlx::query_scalar!(
                r#"select true as "sent!" from pg_notify($1, $2)"#,
                CHANGES_CHANNEL,
                HEARTBEAT
            )
            .fetch_one(connection)
            .await
            .map(drop)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_are_a_hash_all_keys_or_a_heartbeat() {
        assert_eq!(
            KeyChange::parse(&"ab".repeat(32)),
            Some(KeyChange::Key([0xab; 32]))
        );
        assert_eq!(KeyChange::parse("*"), Some(KeyChange::All));
        assert_eq!(KeyChange::parse("heartbeat"), Some(KeyChange::Heartbeat));
        assert_eq!(KeyChange::parse("ab"), None);
        assert_eq!(KeyChange::parse(&"zz".repeat(32)), None);
    }
}
