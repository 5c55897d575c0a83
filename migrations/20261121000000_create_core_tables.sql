-- Tenants, their API keys, invoices and invoice items.
-- Every tenant table is keyed by (organization_id, id) so it can be distributed by organization.

create table organizations (
    id text not null,
    created_time timestamptz not null default now(),
    constraint organizations_pkey primary key (id),
    constraint organizations_id_format check (id ~ '^[A-Za-z0-9_@~.-]{1,50}$')
);

create table api_keys (
    organization_id text not null,
    id uuid not null,
    -- SHA-256 of the secret key; the key itself is never stored.
    key_hash bytea not null,
    -- The first characters of the key, to tell keys apart in logs and listings.
    key_prefix text not null,
    live boolean not null,
    created_time timestamptz not null default now(),
    constraint api_keys_pkey primary key (organization_id, id),
    constraint api_keys_organization_fk foreign key (organization_id) references organizations (id),
    constraint api_keys_key_hash_key unique (key_hash),
    constraint api_keys_key_hash_length check (octet_length(key_hash) = 32)
);

create table invoices (
    organization_id text not null,
    id text not null,
    customer_id text not null,
    website_id text not null,
    currency text not null,
    status text not null default 'draft',
    subtotal_amount numeric not null default 0,
    discount_amount numeric not null default 0,
    tax_amount numeric not null default 0,
    amount numeric not null default 0,
    amount_due numeric not null default 0,
    due_time timestamptz,
    issued_time timestamptz,
    notes text,
    po_number text,
    revision bigint not null default 0,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint invoices_pkey primary key (organization_id, id),
    constraint invoices_status_known check (
        status in ('draft', 'unpaid', 'paid', 'partially-paid', 'past-due', 'abandoned', 'voided')
    ),
    constraint invoices_currency_format check (currency ~ '^[A-Z]{3}$'),
    constraint invoices_discount_not_negative check (discount_amount >= 0),
    constraint invoices_tax_not_negative check (tax_amount >= 0),
    constraint invoices_amount_adds_up check (amount = subtotal_amount - discount_amount + tax_amount),
    constraint invoices_revision_not_negative check (revision >= 0)
);

create index invoices_created_idx on invoices (organization_id, created_time desc, id desc);

create table invoice_items (
    organization_id text not null,
    id text not null,
    invoice_id text not null,
    type text not null,
    description text,
    unit_price numeric not null,
    quantity bigint not null,
    price numeric not null,
    discount_amount numeric not null default 0,
    product_id text,
    period_start_time timestamptz,
    period_end_time timestamptz,
    period_number integer,
    tax_amount numeric,
    tax_description text,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint invoice_items_pkey primary key (organization_id, id),
    constraint invoice_items_invoice_fk foreign key (organization_id, invoice_id)
        references invoices (organization_id, id) on delete cascade,
    constraint invoice_items_type_known check (type in ('debit', 'credit')),
    constraint invoice_items_unit_price_range check (unit_price between 0 and 1000000000),
    constraint invoice_items_quantity_range check (quantity between 0 and 1000000000),
    constraint invoice_items_price_not_negative check (price >= 0),
    constraint invoice_items_discount_within_price check (discount_amount between 0 and price),
    constraint invoice_items_period_ordered check (period_end_time >= period_start_time),
    constraint invoice_items_period_number_not_negative check (period_number >= 0),
    constraint invoice_items_tax_complete check ((tax_amount is null) = (tax_description is null)),
    constraint invoice_items_tax_not_negative check (tax_amount >= 0)
);

-- The items list: oldest first, then by id.
create index invoice_items_invoice_idx
    on invoice_items (organization_id, invoice_id, created_time, id);
