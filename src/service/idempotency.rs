//! Idempotent POSTs: the first request made with a key does the work and keeps its answer in
//! the same transaction; a retry gets that answer back.

use crate::domain::idempotency::{IdempotencyKey, RequestFingerprint, StoredAnswer};
use crate::domain::ids::OrganizationId;
use crate::error::{ApiError, DomainField, Rule};
use crate::repository::{Db, KeptRequest, Tx};

/// What a request made with a key is to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): do the work, then [`keep`] its answer.
    Fresh,
    /// The key's first request was this one: answer as it was answered.
    Replay(StoredAnswer),
}

/// Claims `key` for the rest of `tx`. A request still running with the key is a 409 at once
/// (the lock does not wait); a key first used for another path or body is a 422.
pub async fn claim(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    key: &IdempotencyKey,
    fingerprint: &RequestFingerprint,
) -> Result<Claim, ApiError> {
    if !tx
        .try_lock_idempotency_key(key.lock_id(organization_id))
        .await?
    {
        return Err(in_flight());
    }
    let Some(kept) = tx.find_kept_request(organization_id, key).await? else {
        return Ok(Claim::Fresh);
    };
    if kept.fingerprint.path != fingerprint.path {
        return Err(ApiError::invalid_input(
            DomainField::IdempotencyKey,
            Rule::KeyUsedElsewhere {
                path: kept.fingerprint.path.clone(),
            },
        ));
    }
    if kept.fingerprint.body_sha256 != fingerprint.body_sha256 {
        return Err(ApiError::invalid_input(
            DomainField::IdempotencyKey,
            Rule::KeyUsedWithAnotherBody,
        ));
    }
    Ok(Claim::Replay(kept.answer))
}

/// Keeps the answer to a claimed key's first request, in the transaction that did the work.
pub async fn keep(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    key: &IdempotencyKey,
    fingerprint: RequestFingerprint,
    answer: StoredAnswer,
) -> Result<(), ApiError> {
    let kept = KeptRequest {
        fingerprint,
        answer,
    };
    // The key's lock makes this the only request with the key, and it found no answer; one
    // appearing since could only come from a transaction that did not hold the lock.
    if !tx.keep_request(organization_id, key, &kept).await? {
        return Err(in_flight());
    }
    Ok(())
}

fn in_flight() -> ApiError {
    ApiError::RequestInFlight
}

/// Deletes expired keys; returns how many.
pub async fn purge_expired(db: &Db) -> Result<u64, ApiError> {
    Ok(db.delete_expired_idempotency_keys().await?)
}
