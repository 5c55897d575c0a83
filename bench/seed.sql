-- Items `it-N-K` (K from :first to :last) on each draft invoice `bench-N` the harness made,
-- and the invoices' totals brought to the sum of their items. Invoices without discounts or
-- taxes: an item's price is its unit price times its quantity, and the totals its sum.
insert into invoice_items (organization_id, id, invoice_id, type, unit_price, quantity, price,
                           created_time, updated_time)
select 'org_bench', 'it-' || n || '-' || k, 'bench-' || n, 'debit', 1.25, 2, 2.50,
       now() + k * interval '1 microsecond', now()
from generate_series(1, :invoices) n, generate_series(:first, :last) k;

update invoices v
set subtotal_amount = s.total, amount = s.total, amount_due = s.total
from (select invoice_id, sum(price) as total from invoice_items
      where organization_id = 'org_bench' and invoice_id like 'bench-%' group by invoice_id) s
where v.organization_id = 'org_bench' and v.id = s.invoice_id;
analyze invoice_items;
analyze invoices;
