//! Secret API keys: made here, shown once, stored only as their SHA-256.

use std::collections::HashMap;
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use uuid::Uuid;

use sha2::{Digest, Sha256};

use super::auth::Caller;
use crate::domain::ids::OrganizationId;
use crate::domain::permission::Permissions;
use crate::error::ApiError;
use crate::repository::{Db, KeyChange};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH: usize = 32;
/// Characters of a key kept in clear (its kind and a few more) to tell keys apart.
const PREFIX_LENGTH: usize = 16;

/// Makes a new secret key: `sk_sandbox_` (or `sk_live_`) and 32 random base62 characters.
pub fn generate_key(live: bool) -> Result<String, getrandom::Error> {
    let mut secret = String::with_capacity(SECRET_LENGTH);
    while secret.len() < SECRET_LENGTH {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes)?;
        let missing = SECRET_LENGTH - secret.len();
        // 248 = 4 * 62: larger bytes are dropped so that every character is equally likely.
        secret.extend(
            bytes
                .into_iter()
                .filter(|byte| *byte < 248)
                .map(|byte| char::from(BASE62[usize::from(byte % 62)]))
                .take(missing),
        );
    }
    let kind = if live { "sk_live_" } else { "sk_sandbox_" };
    Ok(format!("{kind}{secret}"))
}

/// The SHA-256 of a key, the only form in which keys are stored.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn prefix_of(key: &str) -> String {
    key.chars().take(PREFIX_LENGTH).collect()
}

/// Creates a key for an organization (creating the organization if needed) and returns the
/// secret, which is not kept anywhere. `permissions` restricts the key to those operations;
/// `None` allows every one.
pub async fn create_api_key(
    db: &Db,
    organization_id: &OrganizationId,
    live: bool,
    permissions: Option<Permissions>,
) -> Result<String, ApiError> {
    let key = generate_key(live).map_err(|error| ApiError::Internal(Box::new(error)))?;
    let names = permissions.map(Permissions::names);
    db.ensure_api_key(
        organization_id,
        &hash_key(&key),
        &prefix_of(&key),
        live,
        names.as_deref(),
    )
    .await?;
    Ok(key)
}

/// Why a bootstrap key cannot be registered.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The key is too short to be a secret.
    #[error("BOOTSTRAP_API_KEY must be at least 20 characters of printable ASCII")]
    WeakKey,
    /// The key is registered to another organization.
    #[error("BOOTSTRAP_API_KEY is already registered to another organization")]
    OtherOrganization,
    /// The database refused.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Makes sure the development organization and key from the environment exist.
pub async fn ensure_bootstrap_key(
    db: &Db,
    organization_id: &OrganizationId,
    key: &str,
) -> Result<(), BootstrapError> {
    if key.len() < 20 || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(BootstrapError::WeakKey);
    }
    let live = key.starts_with("sk_live_");
    let owner = db
        .ensure_api_key(organization_id, &hash_key(key), &prefix_of(key), live, None)
        .await?;
    if &owner == organization_id {
        Ok(())
    } else {
        Err(BootstrapError::OtherOrganization)
    }
}

/// Finds who an API key speaks for, remembering answers so that a busy client does not cost
/// a database lookup per request:
/// - a key that exists is remembered for a minute, but only while the resolver hears of key
///   changes ([`watch_key_changes`]): a revoked key is forgotten as soon as the database
///   announces it, and everything is forgotten when that connection is lost or falls silent;
/// - a key that does not exist is remembered for [`REMEMBER_UNKNOWN_FOR`], so that a client
///   repeating a wrong key costs one lookup, not one per request. New keys are random, so no
///   client can have tried one before it was made.
#[derive(Debug)]
pub struct KeyResolver {
    db: Db,
    known: Mutex<KnownKeys>,
    unknown: Mutex<Remembered<()>>,
}

/// The keys that exist, as remembered, and what may be remembered.
#[derive(Debug)]
struct KnownKeys {
    remembered: Remembered<Caller>,
    /// Whether key changes are heard of: only then is anything remembered.
    hearing_changes: bool,
    /// Counts the changes heard of and the starts and ends of hearing them, so that a lookup
    /// that one of them overtook is not remembered.
    changes: u64,
}

/// How long a key that exists is remembered (while key changes are heard of).
pub const REMEMBER_KNOWN_FOR: Duration = Duration::from_secs(60);
/// How long a key that does not exist is remembered.
pub const REMEMBER_UNKNOWN_FOR: Duration = Duration::from_secs(10);
/// The most keys of each kind remembered at once.
const REMEMBER_AT_MOST: usize = 10_000;
/// How often each server sends a heartbeat on the key changes' channel.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// How long the channel may stay silent before its connection is taken for lost: three
/// heartbeats missed.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);
/// How long to wait before listening again after the connection was lost.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// Key hashes remembered with the time they were looked up, at most [`REMEMBER_AT_MOST`].
#[derive(Debug)]
struct Remembered<T> {
    entries: HashMap<[u8; 32], (T, Instant)>,
    lifetime: Duration,
}

impl<T: Clone> Remembered<T> {
    fn new(lifetime: Duration) -> Self {
        Self {
            entries: HashMap::new(),
            lifetime,
        }
    }

    fn get(&self, hash: &[u8; 32]) -> Option<T> {
        self.entries
            .get(hash)
            .filter(|(_, since)| since.elapsed() < self.lifetime)
            .map(|(value, _)| value.clone())
    }

    fn insert(&mut self, hash: [u8; 32], value: T) {
        if self.entries.len() >= REMEMBER_AT_MOST {
            let lifetime = self.lifetime;
            self.entries
                .retain(|_, (_, since)| since.elapsed() < lifetime);
            if self.entries.len() >= REMEMBER_AT_MOST {
                self.entries.clear();
            }
        }
        self.entries.insert(hash, (value, Instant::now()));
    }
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl KeyResolver {
    /// A resolver over the database. Until [`watch_key_changes`] runs for it, it remembers
    /// only unknown keys.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            known: Mutex::new(KnownKeys {
                remembered: Remembered::new(REMEMBER_KNOWN_FOR),
                hearing_changes: false,
                changes: 0,
            }),
            unknown: Mutex::new(Remembered::new(REMEMBER_UNKNOWN_FOR)),
        }
    }

    /// The organization owning the key and what the key may do, if the key exists.
    pub async fn caller_of(&self, key: &str) -> Result<Option<Caller>, ApiError> {
        let hash = hash_key(key);
        let changes_before = {
            let known = locked(&self.known);
            if let Some(caller) = known.remembered.get(&hash) {
                return Ok(Some(caller));
            }
            known.changes
        };
        if locked(&self.unknown).get(&hash).is_some() {
            return Ok(None);
        }
        let Some(owner) = self.db.owner_of_key(&hash).await? else {
            locked(&self.unknown).insert(hash, ());
            return Ok(None);
        };
        let permissions = match owner.permissions {
            None => Permissions::ALL,
            // The database's check constraint admits only known names.
            Some(names) => Permissions::parse_known(names.iter().map(String::as_str)),
        };
        let caller = Caller {
            organization_id: owner.organization_id,
            permissions,
        };
        // A change heard of while the lookup ran may be this key's, read before it committed:
        // such an answer is used once, not remembered. Checked under the lock every change
        // takes, so none can slip between the check and the insert.
        let mut known = locked(&self.known);
        if known.hearing_changes && known.changes == changes_before {
            known.remembered.insert(hash, caller.clone());
        }
        Ok(Some(caller))
    }

    fn heard(&self, change: KeyChange) {
        let mut known = locked(&self.known);
        match change {
            KeyChange::Key(hash) => {
                known.changes += 1;
                known.remembered.entries.remove(&hash);
            }
            KeyChange::All => {
                known.changes += 1;
                known.remembered.entries.clear();
            }
            KeyChange::Heartbeat => {}
        }
    }

    fn set_hearing_changes(&self, hearing: bool) {
        let mut known = locked(&self.known);
        known.hearing_changes = hearing;
        known.changes += 1;
        if !hearing {
            known.remembered.entries.clear();
        }
    }
}

/// Listens for key changes for as long as `resolver` lives, so that it may remember known
/// keys: each changed key is forgotten as the database announces it, within moments of its
/// commit on every server. Every server also sends a heartbeat on the channel; when nothing
/// at all is heard for [`SILENCE_LIMIT`] (a connection that died without a word), or the
/// connection is lost, nothing known is remembered until it listens again, every
/// [`RELISTEN_AFTER`].
pub async fn watch_key_changes(resolver: Weak<KeyResolver>) {
    let Some(db) = resolver.upgrade().map(|resolver| resolver.db.clone()) else {
        return;
    };
    tokio::spawn(send_heartbeats(db.clone(), resolver.clone()));
    loop {
        match db.listen_for_key_changes().await {
            Ok(mut changes) => {
                match resolver.upgrade() {
                    Some(resolver) => resolver.set_hearing_changes(true),
                    None => return,
                }
                tracing::debug!("listening for API key changes");
                while let Ok(Some(change)) =
                    tokio::time::timeout(SILENCE_LIMIT, changes.next()).await
                {
                    let Some(resolver) = resolver.upgrade() else {
                        return;
                    };
                    resolver.heard(change);
                }
                tracing::warn!(
                    "lost the connection that hears of API key changes; listening again"
                );
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for API key changes; retrying");
            }
        }
        match resolver.upgrade() {
            Some(resolver) => resolver.set_hearing_changes(false),
            None => return,
        }
        tokio::time::sleep(RELISTEN_AFTER).await;
    }
}

async fn send_heartbeats(db: Db, resolver: Weak<KeyResolver>) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    while resolver.strong_count() > 0 {
        ticks.tick().await;
        // A failure is the listener's to notice: it hears nothing, and stops remembering.
        let _ = db.send_key_changes_heartbeat().await;
    }
}

/// A key as listed for people: its id, organization, prefix and state, never its secret.
pub use crate::repository::KeyListing;

/// Every key, or one organization's.
pub async fn list_api_keys(
    db: &Db,
    organization_id: Option<&OrganizationId>,
) -> Result<Vec<KeyListing>, ApiError> {
    Ok(db.list_api_keys(organization_id).await?)
}

/// Revokes a key by its id; `None` if no key with that id is active. Every server refuses it
/// as soon as the revocation commits.
pub async fn revoke_api_key(db: &Db, id: Uuid) -> Result<Option<KeyListing>, ApiError> {
    Ok(db.revoke_api_key(id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_their_kind_and_32_base62_characters() {
        let sandbox = generate_key(false).unwrap();
        let secret = sandbox.strip_prefix("sk_sandbox_").expect("sandbox prefix");
        assert_eq!(secret.len(), 32);
        assert!(secret.bytes().all(|byte| BASE62.contains(&byte)));
        let live = generate_key(true).unwrap();
        assert_eq!(live.strip_prefix("sk_live_").map(str::len), Some(32));
        assert_ne!(generate_key(false).unwrap(), sandbox);
    }

    #[test]
    fn keys_are_hashed_with_sha256() {
        assert_eq!(
            hex::encode(hash_key("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
