-- Each event keeps the request that caused it: its id (as its answer's `X-Request-Id` names
-- it) and the idempotency key it named. Events no request caused (an invoice falling past
-- due), and those written before this, have neither.
alter table invoice_events
    add column request_id text,
    add column idempotency_key text;

-- A payment that pays an invoice off is also `invoice-payment-succeeded` (the log's alone: no
-- webhook of invoices' events is sent it), and a webhook of the log's events may ask for it.
-- Added `not valid`, so that no write waits while the tables are read: the rows there already
-- pass the narrower checks these replace, and a later migration validates them.
alter table invoice_events drop constraint invoice_events_type_known;
alter table invoice_events add constraint invoice_events_type_known check (event_type in (
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded', 'invoice-partially-refunded',
    'invoice-past-due', 'invoice-sent', 'invoice-deleted', 'credit-memo-created',
    'credit-memo-applied', 'credit-memo-voided', 'item-created', 'item-updated', 'item-deleted',
    'invoice-payment-succeeded', 'timeline-comment-created')) not valid;

alter table webhooks drop constraint webhooks_events_known;
alter table webhooks add constraint webhooks_events_known check (events_filter <@ array[
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded',
    'invoice-partially-refunded', 'invoice-past-due', 'invoice-sent', 'invoice-deleted',
    'credit-memo-created', 'credit-memo-applied', 'credit-memo-voided', 'item-created',
    'item-updated', 'item-deleted', 'invoice-payment-succeeded']::text[]) not valid;
