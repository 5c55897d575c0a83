-- An item create's least SQL in one round trip: lock the invoice, insert the item, write the
-- invoice's event, move its totals and revision.
\set inv random(1, 1000)
\set cents random(100, 9999)
with invoice as (
    select organization_id, id, revision from invoices
    where organization_id = 'org_bench' and id = 'bench-' || :inv
    for update
), item as (
    insert into invoice_items (organization_id, id, invoice_id, type, unit_price, quantity, price,
                               created_time, updated_time)
    select organization_id, 'pg-' || gen_random_uuid(), id, 'debit', :cents / 100.0, 1,
           :cents / 100.0, now(), now()
    from invoice
    returning price
), event as (
    insert into invoice_events (organization_id, id, invoice_id, event_type, revision, occurred_time)
    select organization_id, 'pg-' || gen_random_uuid(), id, 'invoice-modified', revision + 1, now()
    from invoice
)
update invoices v
set subtotal_amount = v.subtotal_amount + item.price, amount = v.amount + item.price,
    amount_due = v.amount_due + item.price, revision = v.revision + 1, updated_time = now()
from invoice, item
where v.organization_id = invoice.organization_id and v.id = invoice.id;
