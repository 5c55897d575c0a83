-- An invoice may be sent (an event of its own) and a draft deleted. A deleted draft's events
-- stay in the log, the last of them its deletion, so an event no longer needs its invoice.
alter table invoice_events drop constraint invoice_events_invoice_fk;

alter table invoice_events drop constraint invoice_events_type_known;
alter table invoice_events add constraint invoice_events_type_known check (event_type in (
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded', 'invoice-partially-refunded',
    'invoice-past-due', 'invoice-sent', 'invoice-deleted', 'credit-memo-created',
    'credit-memo-applied', 'credit-memo-voided', 'item-created', 'item-updated', 'item-deleted',
    'timeline-comment-created'));

alter table webhooks drop constraint webhooks_events_known;
alter table webhooks add constraint webhooks_events_known check (events_filter <@ array[
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded',
    'invoice-partially-refunded', 'invoice-past-due', 'invoice-sent', 'invoice-deleted',
    'credit-memo-created', 'credit-memo-applied', 'credit-memo-voided', 'item-created',
    'item-updated', 'item-deleted']::text[]);
