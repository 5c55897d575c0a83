-- Pages of an organization's items across its invoices, by cursor: (created_time, id) after
-- the cursor's item.
create index invoice_items_created_idx on invoice_items (organization_id, created_time, id);
