-- Every event keeps what it is about as the change left it: a reader of an event long after
-- sees the object as it was then, not as it is now. An invoice's event keeps its row, its
-- discounts, its credit allocations and its newest items (those its shown lines hold, and one
-- more to tell there are more); an item's event keeps the item. Events written before this
-- keep none, and are listed by no reader that needs one.
alter table invoice_events add column snapshot jsonb;

-- An item's own events, beside its invoice's `invoice-modified`: the log of objects that a
-- dialect speaking of items as objects of their own reads. They join no timeline and go to no
-- webhook that sends invoices' events.
alter table invoice_events drop constraint invoice_events_type_known;
alter table invoice_events add constraint invoice_events_type_known check (event_type in (
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded', 'invoice-partially-refunded',
    'invoice-past-due', 'credit-memo-created', 'credit-memo-applied', 'credit-memo-voided',
    'item-created', 'item-updated', 'item-deleted', 'timeline-comment-created'));

-- An organization's events, newest first, as its event log lists them.
create index invoice_events_log_idx on invoice_events (organization_id, sequence desc)
    where snapshot is not null;
