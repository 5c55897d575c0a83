-- The first page of 20 of an invoice's items.
\set inv random(1, 1000)
select * from invoice_items
where organization_id = 'org_bench' and invoice_id = 'bench-' || :inv
order by created_time, id limit 20;
