-- An item's revision: 0 at creation, plus 1 per change (its own, or a move of its discount share
-- or tax by another change). Its ETag is made from it, as an invoice's is from its revision.
alter table invoice_items
    add column revision bigint not null default 0,
    add constraint invoice_items_revision_not_negative check (revision >= 0);
