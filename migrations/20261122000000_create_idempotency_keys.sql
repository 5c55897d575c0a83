-- Idempotency keys: the first answer to a POST made with an `Idempotency-Key`, kept 24 hours
-- so that a retry gets that answer back instead of doing the work twice. Stored in the same
-- transaction as the work, so a key is kept exactly when the work is.

create table idempotency_keys (
    organization_id text not null,
    key text not null,
    -- What the key was first used for: a retry must send the same path and body.
    request_path text not null,
    -- SHA-256 of the body as parsed JSON, written canonically (keys sorted, no spacing), so that
    -- key order and spacing do not matter; null for a POST without a body.
    request_body_sha256 bytea,
    response_status smallint not null,
    response_location text,
    response_etag text,
    response_body text not null,
    created_time timestamptz not null default now(),
    constraint idempotency_keys_pkey primary key (organization_id, key),
    constraint idempotency_keys_key_format check (key ~ '^[ -~]{1,255}$'),
    constraint idempotency_keys_body_sha256_length check (octet_length(request_body_sha256) = 32),
    -- Server errors are never kept, so that the request may be retried.
    constraint idempotency_keys_status_kept check (response_status between 200 and 499)
);

-- For the purge of expired keys.
create index idempotency_keys_created_time_idx on idempotency_keys (created_time);
