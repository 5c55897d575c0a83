-- One item by its id.
\set inv random(1, 1000)
\set k random(1, 10)
select * from invoice_items where organization_id = 'org_bench' and id = 'it-' || :inv || '-' || :k;
