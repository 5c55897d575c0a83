-- Revoked keys stay, for the record, but admit no one. Every server caches keys it has seen,
-- so a revocation (or a key deleted by hand) is announced on the channel `api_key_revoked`,
-- with the key's SHA-256 in hex, when its transaction commits.
alter table api_keys add column revoked_time timestamptz;

create function announce_api_key_revoked() returns trigger
language plpgsql as $$
begin
    perform pg_notify('api_key_revoked', encode(old.key_hash, 'hex'));
    return null;
end
$$;

create trigger api_keys_revoked
    after update of revoked_time on api_keys
    for each row
    when (new.revoked_time is not null and old.revoked_time is null)
    execute function announce_api_key_revoked();

create trigger api_keys_deleted
    after delete on api_keys
    for each row
    execute function announce_api_key_revoked();
