-- The checks the migration before this one added `not valid`, checked against the rows already
-- there with a lock that lets writes go on.
alter table invoices validate constraint invoices_tax_known;
alter table invoice_items validate constraint invoice_items_tax_known;
