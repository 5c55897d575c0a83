-- A webhook sends its events in one of two formats: an invoice's events with the invoice as it
-- is when sent, signed with Standard Webhooks headers (`invoice-events`, every webhook so far),
-- or each event of the log with its object as the event left it, signed with a `t=...,v1=...`
-- header of HMAC-SHA256 over `{t}.{body}` (`object-events`). Each dialect lists and changes its
-- own; the delivery log shows both. `event_names` keeps the types as the client named them
-- (`invoice.*`), while `events_filter` keeps the log's types they stand for.
alter table webhooks
    add column format text not null default 'invoice-events',
    add column description text,
    add column metadata jsonb not null default '{}',
    add column event_names text[] not null default '{}',
    add constraint webhooks_format_known check (format in ('invoice-events', 'object-events')),
    add constraint webhooks_description_length check (char_length(description) <= 5000),
    add constraint webhooks_metadata_object check (jsonb_typeof(metadata) = 'object');

alter table webhooks drop constraint webhooks_events_known;
alter table webhooks add constraint webhooks_events_known check (events_filter <@ array[
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded',
    'invoice-partially-refunded', 'invoice-past-due', 'credit-memo-created',
    'credit-memo-applied', 'credit-memo-voided', 'item-created', 'item-updated',
    'item-deleted']::text[]);
