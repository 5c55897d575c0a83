-- A pending item (on no invoice yet) has events of its own: created, changed, deleted, kept in
-- the log like any item's, with the item as the change left it (`pending_item`, and for a
-- change `pending_item_before`, rows of `pending_items`). Such an event has no invoice, and
-- joins no timeline. An invoice that takes a pending item in keeps `item`, the item on it,
-- with `pending_item_before`, the item as it was pending.
-- The checks are `not valid`: every row already there has its invoice, which passes them.
alter table invoice_events
    alter column invoice_id drop not null,
    add constraint invoice_events_invoice_or_pending_item check (invoice_id is not null or (
        event_type in ('item-created', 'item-updated', 'item-deleted')
        and snapshot ? 'pending_item')) not valid;

-- A delivery is sent after every earlier one of its webhook still pending that shares its
-- invoice or its item: an item's events go out in order across its taking in, when the item
-- moves from its own order to its invoice's. `item_id` is the item of an item's event.
alter table webhook_deliveries
    alter column invoice_id drop not null,
    add column item_id text,
    add constraint webhook_deliveries_invoice_or_item check (
        invoice_id is not null or item_id is not null) not valid;

-- What must go before a delivery of an item's event: the pending ones of its webhook and item
-- made earlier.
create index webhook_deliveries_item_order_idx
    on webhook_deliveries (organization_id, webhook_id, item_id, id)
    where state = 'pending' and item_id is not null;

-- The delivery log keeps both, so a resent attempt keeps its place in both orders.
alter table webhook_attempts
    alter column invoice_id drop not null,
    add column item_id text,
    add constraint webhook_attempts_invoice_or_item check (
        invoice_id is not null or item_id is not null) not valid;
