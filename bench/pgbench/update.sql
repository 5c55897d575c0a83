-- An item replace's least SQL in one round trip: lock the invoice, rewrite the item, write the
-- invoice's event, move its totals by the change in price and its revision.
\set inv random(1, 1000)
\set k random(1, 10)
\set cents random(100, 9999)
with invoice as (
    select organization_id, id, revision from invoices
    where organization_id = 'org_bench' and id = 'bench-' || :inv
    for update
), old as (
    select price from invoice_items
    where organization_id = 'org_bench' and id = 'it-' || :inv || '-' || :k
), item as (
    update invoice_items i
    set unit_price = :cents / 100.0, quantity = 1, price = :cents / 100.0,
        revision = i.revision + 1, updated_time = now()
    from invoice
    where i.organization_id = invoice.organization_id and i.id = 'it-' || :inv || '-' || :k
    returning i.price
), event as (
    insert into invoice_events (organization_id, id, invoice_id, event_type, revision, occurred_time)
    select organization_id, 'pg-' || gen_random_uuid(), id, 'invoice-modified', revision + 1, now()
    from invoice
)
update invoices v
set subtotal_amount = v.subtotal_amount + item.price - old.price,
    amount = v.amount + item.price - old.price,
    amount_due = v.amount_due + item.price - old.price,
    revision = v.revision + 1, updated_time = now()
from invoice, item, old
where v.organization_id = invoice.organization_id and v.id = invoice.id;
