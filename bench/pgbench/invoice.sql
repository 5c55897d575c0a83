-- An invoice with all its items, as JSON, in one round trip.
\set inv random(1, 1000)
select v.*, (select json_agg(i order by i.created_time, i.id) from invoice_items i
             where i.organization_id = v.organization_id and i.invoice_id = v.id) as items
from invoices v where v.organization_id = 'org_bench' and v.id = 'bench-' || :inv;
