-- What the Stripe-style dialect keeps of an item beyond Rebilly's fields: metadata (at most 50
-- keys of at most 40 characters, values of at most 500), the subscription it was accrued for,
-- and the date it is billed as (its creation time when not set). Every item has them, whichever
-- dialect wrote it, so that an item reads the same on both.
-- The checks are `not valid`: the rows already there hold the new columns' defaults, which
-- pass them, and checking them would hold the table's lock for a scan of every item.
alter table invoice_items
    add column metadata jsonb not null default '{}',
    add column subscription_id text,
    add column item_date timestamptz,
    add constraint invoice_items_metadata_object check (jsonb_typeof(metadata) = 'object')
        not valid,
    add constraint invoice_items_subscription_id_format
        check (subscription_id ~ '^[A-Za-z0-9_@~.-]{1,50}$') not valid;

-- Pending items: billed to a customer in a currency, on no invoice yet. Creating an invoice with
-- `pending_invoice_items_behavior=include` moves the customer's pending items of its currency
-- onto it, keeping their ids; until then they count in no invoice's totals. They carry no
-- discount share and no tax, which only an invoice gives.
create table pending_items (
    organization_id text not null,
    id text not null,
    customer_id text not null,
    currency text not null,
    type text not null,
    description text,
    unit_price numeric not null,
    quantity bigint not null,
    price numeric not null,
    product_id text,
    period_start_time timestamptz,
    period_end_time timestamptz,
    metadata jsonb not null default '{}',
    subscription_id text,
    item_date timestamptz,
    revision bigint not null default 0,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint pending_items_pkey primary key (organization_id, id),
    constraint pending_items_organization_fk foreign key (organization_id)
        references organizations (id),
    constraint pending_items_product_fk foreign key (organization_id, product_id)
        references products (organization_id, id),
    constraint pending_items_customer_id_format check (customer_id ~ '^[A-Za-z0-9_@~.-]{1,50}$'),
    constraint pending_items_currency_format check (currency ~ '^[A-Z]{3}$'),
    constraint pending_items_type_known check (type in ('debit', 'credit')),
    constraint pending_items_unit_price_range check (unit_price between 0 and 1000000000),
    constraint pending_items_quantity_range check (quantity between 0 and 1000000000),
    constraint pending_items_price_not_negative check (price >= 0),
    constraint pending_items_period_ordered check (period_end_time >= period_start_time),
    constraint pending_items_metadata_object check (jsonb_typeof(metadata) = 'object'),
    constraint pending_items_subscription_id_format
        check (subscription_id ~ '^[A-Za-z0-9_@~.-]{1,50}$'),
    constraint pending_items_revision_not_negative check (revision >= 0)
);

-- A customer's pending items of one currency, oldest first: what an invoice takes in.
create index pending_items_customer_idx
    on pending_items (organization_id, customer_id, currency, created_time, id);
-- Pages of an organization's pending items by cursor, as for items on invoices.
create index pending_items_created_idx on pending_items (organization_id, created_time, id);
-- The pages of one customer's pending items.
create index pending_items_customer_created_idx
    on pending_items (organization_id, customer_id, created_time, id);
