-- An invoice's metadata (the Stripe-style dialect's `metadata`, with the same limits as an
-- item's). Every invoice has it, whichever dialect made it; the Rebilly routes keep it as it is.
-- The check is `not valid` for the reason the item columns' are: the rows already there hold the
-- default, and checking them would hold the table's lock for a scan of every invoice.
alter table invoices
    add column metadata jsonb not null default '{}',
    add constraint invoices_metadata_object check (jsonb_typeof(metadata) = 'object') not valid;
