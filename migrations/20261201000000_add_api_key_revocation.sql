-- Revoked keys stay, for the record, but admit no one. Every server remembers keys it has
-- seen, so a change that may make what it remembers wrong (a revocation, other permissions,
-- a key deleted by hand) is announced on the channel `api_key_changed` when its transaction
-- commits: the key's SHA-256 in hex, or `*` when the whole table was emptied.
alter table api_keys add column revoked_time timestamptz;

create function announce_api_key_changed() returns trigger
language plpgsql as $$
begin
    if tg_op = 'TRUNCATE' then
        perform pg_notify('api_key_changed', '*');
    else
        perform pg_notify('api_key_changed', encode(old.key_hash, 'hex'));
    end if;
    return null;
end
$$;

create trigger api_keys_changed
    after update of revoked_time, permissions, organization_id, key_hash or delete on api_keys
    for each row
    execute function announce_api_key_changed();

create trigger api_keys_emptied
    after truncate on api_keys
    for each statement
    execute function announce_api_key_changed();
