//! Idempotency keys and the answers kept for them.

use sqlx::types::Json;

use super::{Db, Tx};
use crate::domain::idempotency::{IdempotencyKey, KEY_LIFETIME, RequestFingerprint, StoredAnswer};
use crate::domain::ids::OrganizationId;

/// A key's first request and answer, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRequest {
    /// What the key was first used for.
    pub fingerprint: RequestFingerprint,
    /// The answer it got.
    pub answer: StoredAnswer,
}

impl Tx {
    /// Takes the key's lock for the rest of the transaction, without waiting: `false` when
    /// another transaction holds it.
    pub async fn try_lock_idempotency_key(&mut self, lock_id: i64) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select pg_try_advisory_xact_lock($1) as "locked!""#,
            lock_id
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// The request and answer kept for a key, unless it has expired.
    pub async fn find_kept_request(
        &mut self,
        organization_id: &OrganizationId,
        key: &IdempotencyKey,
    ) -> Result<Option<KeptRequest>, sqlx::Error> {
        let row = sqlx::query!(
            r#"select request_path, request_body_sha256, response_status,
                 response_headers as "response_headers: Json<Vec<(String, String)>>",
                 response_body
             from idempotency_keys
             where organization_id = $1 and key = $2
                 and created_time > now() - make_interval(secs => $3)"#,
            organization_id as &OrganizationId,
            key.as_str(),
            KEY_LIFETIME.as_secs_f64(),
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|row| {
            let body_sha256 = row
                .request_body_sha256
                .map(|digest| {
                    <[u8; 32]>::try_from(digest.as_slice()).map_err(|_| {
                        super::corrupt("body digest length", &digest.len().to_string())
                    })
                })
                .transpose()?;
            let status = u16::try_from(row.response_status)
                .map_err(|_| super::corrupt("status", &row.response_status.to_string()))?;
            Ok(KeptRequest {
                fingerprint: RequestFingerprint {
                    path: row.request_path,
                    body_sha256,
                },
                answer: StoredAnswer {
                    status,
                    headers: row.response_headers.0,
                    body: row.response_body,
                },
            })
        })
        .transpose()
    }

    /// Keeps the answer to a key's first request, replacing an expired one; `false` (nothing
    /// kept) if the key has an answer that has not expired.
    pub async fn keep_request(
        &mut self,
        organization_id: &OrganizationId,
        key: &IdempotencyKey,
        kept: &KeptRequest,
    ) -> Result<bool, sqlx::Error> {
        let status = i16::try_from(kept.answer.status).unwrap_or(i16::MAX);
        sqlx::query!(
            "insert into idempotency_keys (organization_id, key, request_path, request_body_sha256,
                 response_status, response_headers, response_body)
             values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (organization_id, key) do update set
                 request_path = excluded.request_path,
                 request_body_sha256 = excluded.request_body_sha256,
                 response_status = excluded.response_status,
                 response_headers = excluded.response_headers,
                 response_body = excluded.response_body,
                 created_time = excluded.created_time
             where idempotency_keys.created_time <= now() - make_interval(secs => $8)",
            organization_id as &OrganizationId,
            key.as_str(),
            kept.fingerprint.path,
            kept.fingerprint
                .body_sha256
                .as_ref()
                .map(|digest| &digest[..]),
            status,
            Json(&kept.answer.headers) as Json<&Vec<(String, String)>>,
            kept.answer.body,
            KEY_LIFETIME.as_secs_f64(),
        )
        .execute(&mut *self.inner)
        .await
        .map(|done| done.rows_affected() == 1)
    }

    /// Marks the point [`Tx::roll_back_to_savepoint`] returns to.
    pub async fn savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("savepoint work")
            .execute(&mut *self.inner)
            .await
            .map(drop)
    }

    /// Undoes what the transaction did since [`Tx::savepoint`], keeping what it did before.
    pub async fn roll_back_to_savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("rollback to savepoint work")
            .execute(&mut *self.inner)
            .await
            .map(drop)
    }
}

impl Db {
    /// Deletes the keys that have expired; returns how many.
    pub async fn delete_expired_idempotency_keys(&self) -> Result<u64, sqlx::Error> {
        // Planned for the age: the keys older than it are few of many.
        self.on_connection_planned_for_arguments(async |connection| {
            sqlx::query!(
                "delete from idempotency_keys where created_time <= now() - make_interval(secs => $1)",
                KEY_LIFETIME.as_secs_f64(),
            )
            .execute(connection)
            .await
            .map(|done| done.rows_affected())
        })
        .await
    }
}
