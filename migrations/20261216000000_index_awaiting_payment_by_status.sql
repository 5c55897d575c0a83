-- no-transaction
-- Every item write updates its invoice's totals. The amount due stood in the past-due index's
-- condition, so each such update was a new version of the row on another page, with a new
-- entry in each of the invoices' other indexes. Conditioned on the status alone, the index
-- holds no column an item write changes: PostgreSQL then keeps the new version on the row's
-- page and touches no index (a heap-only update), as long as the page has room (the fill
-- factor, two migrations on). The past-due scan checks the amount due on the row. Built
-- without blocking writes; the old index goes in the next migration.
create index concurrently invoices_awaiting_payment_by_status_idx on invoices (due_time)
    where status in ('unpaid', 'partially-paid');
