-- A kept answer is what any dialect answered: its status, the headers that matter (as a JSON
-- array of [name, value] pairs, in the order they were sent) and the body's bytes, given again
-- unchanged. Answers kept before this kept only `Location` and `ETag`; their content type was
-- the one Rebilly's edge gives for the status.

alter table idempotency_keys
    add column response_headers jsonb not null default '[]',
    add column response_body_bytes bytea;

update idempotency_keys set
    response_headers = jsonb_build_array(
            jsonb_build_array('content-type', case when response_status >= 400
                                                   then 'application/problem+json'
                                                   else 'application/json' end))
        || case when response_location is null then '[]'
                else jsonb_build_array(jsonb_build_array('location', response_location)) end
        || case when response_etag is null then '[]'
                else jsonb_build_array(jsonb_build_array('etag', response_etag)) end,
    response_body_bytes = convert_to(response_body, 'UTF8');

alter table idempotency_keys
    drop column response_location,
    drop column response_etag,
    drop column response_body,
    alter column response_body_bytes set not null,
    add constraint idempotency_keys_headers_array check (jsonb_typeof(response_headers) = 'array');

alter table idempotency_keys rename column response_body_bytes to response_body;
