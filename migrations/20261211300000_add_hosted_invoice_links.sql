-- An issued invoice has a page its customer opens without a key: the link carries a random
-- token of 64 hex digits (256 bits), made when the invoice is issued and replaced when the
-- organization revokes it. Invoices issued before this get theirs here.
alter table invoices
    add column hosted_token text,
    add constraint invoices_hosted_token_format check (hosted_token ~ '^[0-9a-f]{64}$');

update invoices
set hosted_token = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
where status <> 'draft';

create unique index invoices_hosted_token_idx on invoices (hosted_token);
