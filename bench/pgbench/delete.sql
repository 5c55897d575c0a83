-- An item delete's least SQL in one round trip: lock the invoice, delete the item, write the
-- invoice's event, move its totals by the item's price and its revision. Each client takes the
-- items bench/seed-deletable.sql made in turn, as bench/load.lua's delete does, none twice:
-- the k-th delete of all is item `del-N-K` with N = k mod 1000 + 1 and K = k / 1000 + 1
-- (run with -D clients=C -D n=0).
\set n :n + 1
\set k (:n - 1) * :clients + :client_id
\set inv :k % 1000 + 1
\set item :k / 1000 + 1
with invoice as (
    select organization_id, id, revision from invoices
    where organization_id = 'org_bench' and id = 'bench-' || :inv
    for update
), item as (
    delete from invoice_items i
    using invoice
    where i.organization_id = invoice.organization_id and i.id = 'del-' || :inv || '-' || :item
    returning i.price
), event as (
    insert into invoice_events (organization_id, id, invoice_id, event_type, revision, occurred_time)
    select organization_id, 'pg-' || gen_random_uuid(), id, 'invoice-modified', revision + 1, now()
    from invoice
)
update invoices v
set subtotal_amount = v.subtotal_amount - item.price, amount = v.amount - item.price,
    amount_due = v.amount_due - item.price, revision = v.revision + 1, updated_time = now()
from invoice, item
where v.organization_id = invoice.organization_id and v.id = invoice.id;
