-- Each event keeps the request that caused it: its id (as its answer's `X-Request-Id` names
-- it) and the idempotency key it named. Events no request caused (an invoice falling past
-- due), and those written before this, have neither.
alter table invoice_events
    add column request_id text,
    add column idempotency_key text;
