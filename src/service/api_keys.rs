//! Secret API keys: made here, shown once, stored only as their SHA-256.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::auth::Caller;
use crate::domain::ids::OrganizationId;
use crate::domain::permission::Permissions;
use crate::error::ApiError;
use crate::repository::Db;

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

/// Finds who an API key speaks for, remembering answers for a minute so that a busy client
/// costs one lookup a minute rather than one per request. Unknown keys are not remembered, so
/// a key works as soon as it is created.
#[derive(Debug)]
pub struct KeyResolver {
    db: Db,
    known: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

const REMEMBER_FOR: Duration = Duration::from_secs(60);
const REMEMBER_AT_MOST: usize = 10_000;

impl KeyResolver {
    /// A resolver over the database.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The organization owning the key and what the key may do, if the key exists.
    pub async fn caller_of(&self, key: &str) -> Result<Option<Caller>, ApiError> {
        let hash = hash_key(key);
        if let Some(caller) = self.remembered(&hash) {
            return Ok(Some(caller));
        }
        let Some(owner) = self.db.owner_of_key(&hash).await? else {
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
        self.remember(hash, caller.clone());
        Ok(Some(caller))
    }

    fn remembered(&self, hash: &[u8; 32]) -> Option<Caller> {
        let known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known
            .get(hash)
            .filter(|(_, since)| since.elapsed() < REMEMBER_FOR)
            .map(|(caller, _)| caller.clone())
    }

    fn remember(&self, hash: [u8; 32], caller: Caller) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if known.len() >= REMEMBER_AT_MOST {
            known.retain(|_, (_, since)| since.elapsed() < REMEMBER_FOR);
            if known.len() >= REMEMBER_AT_MOST {
                known.clear();
            }
        }
        known.insert(hash, (caller, Instant::now()));
    }
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
