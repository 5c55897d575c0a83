-- A restricted key may name the organization's own operations too.
alter table api_keys drop constraint api_keys_permissions_known;
alter table api_keys add constraint api_keys_permissions_known check (
    permissions <@ array['GetInvoiceCollection', 'PostInvoice', 'GetInvoice', 'PutInvoice',
        'PostInvoiceIssuance', 'PostInvoiceVoid', 'PostInvoiceAbandonment',
        'GetInvoiceItemCollection', 'PostInvoiceItem', 'GetInvoiceItem', 'PutInvoiceItem',
        'DeleteInvoiceItem', 'GetProductCollection', 'PostProduct', 'GetProduct',
        'GetOrganization', 'PatchOrganization']::text[]
);
