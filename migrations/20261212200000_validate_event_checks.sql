-- The checks the two migrations before this one added `not valid` are checked against the
-- rows already there. Validating takes a lock that lets writes go on while the tables are
-- read.
alter table invoice_events validate constraint invoice_events_type_known;
alter table invoice_events validate constraint invoice_events_invoice_or_pending_item;
alter table webhooks validate constraint webhooks_events_known;
alter table webhook_deliveries validate constraint webhook_deliveries_invoice_or_item;
alter table webhook_attempts validate constraint webhook_attempts_invoice_or_item;
