-- Brings each draft invoice `bench-N` the harness made back to its seeded items `it-N-K`
-- (those the creates made before, the server's and pgbench's, and deletable ones a run left
-- are taken away), then puts items `del-N-K` (K from 1 to :per_invoice) on each, for a run of
-- deletes to take one by one (bench/load.lua's delete, bench/pgbench/delete.sql); none with
-- :per_invoice 0. The invoices' totals brought to the sum of their items, as bench/seed.sql
-- does.
delete from invoice_items
where organization_id = 'org_bench' and invoice_id like 'bench-%' and id not like 'it-%';

insert into invoice_items (organization_id, id, invoice_id, type, unit_price, quantity, price,
                           created_time, updated_time)
select 'org_bench', 'del-' || n || '-' || k, 'bench-' || n, 'debit', 1.25, 2, 2.50,
       now() + k * interval '1 microsecond', now()
from generate_series(1, :invoices) n, generate_series(1, :per_invoice) k;

update invoices v
set subtotal_amount = s.total, amount = s.total, amount_due = s.total
from (select invoice_id, sum(price) as total from invoice_items
      where organization_id = 'org_bench' and invoice_id like 'bench-%' group by invoice_id) s
where v.organization_id = 'org_bench' and v.id = s.invoice_id;
