-- The event log is read in the order its events' transactions began (then their own order),
-- and only up to the oldest transaction still running: an event whose number was taken early
-- but committed late would otherwise land behind a reader who already paged past its place,
-- and be missed for good. Every later commit writes a larger transaction id than any a reader
-- has been shown.
alter table invoice_events
    add column transaction_id bigint not null default pg_current_xact_id()::text::bigint;

drop index invoice_events_log_idx;
create index invoice_events_log_idx
    on invoice_events (organization_id, transaction_id desc, sequence desc)
    where snapshot is not null;
