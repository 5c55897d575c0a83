-- no-transaction
-- Pages of an organization's items across its invoices, by cursor: (created_time, id) after
-- the cursor's item. Built without blocking item writes on a large table.
create index concurrently invoice_items_created_idx on invoice_items (organization_id, created_time, id);
