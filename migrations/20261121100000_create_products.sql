-- Products, and the link from invoice items to them.

create table products (
    organization_id text not null,
    id text not null,
    name text not null,
    description text,
    -- What one unit is called on an invoice line ("seat", "GB", "hour").
    unit_label text,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint products_pkey primary key (organization_id, id),
    constraint products_organization_fk foreign key (organization_id) references organizations (id),
    constraint products_id_format check (id ~ '^[A-Za-z0-9_@~.-]{1,50}$'),
    -- Lengths in characters, as the API counts them.
    constraint products_name_length check (char_length(name) between 1 and 255),
    constraint products_description_length check (char_length(description) <= 1000),
    constraint products_unit_label_length check (char_length(unit_label) <= 50)
);

-- The products list: newest first, then by id (descending).
create index products_created_idx on products (organization_id, created_time desc, id desc);

-- An item's productId must name a product of the item's organization. NOT VALID: rows written
-- before products existed (when only the id's shape was checked) do not block the migration;
-- every row written from now on is checked. A null product_id is not checked (MATCH SIMPLE).
alter table invoice_items
    add constraint invoice_items_product_fk foreign key (organization_id, product_id)
        references products (organization_id, id) not valid;
