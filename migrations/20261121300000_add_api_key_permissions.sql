-- Restricted keys: the Rebilly operation ids a key may call; null means every operation.
alter table api_keys
    add column permissions text[],
    add constraint api_keys_permissions_known check (
        permissions <@ array['GetInvoiceCollection', 'PostInvoice', 'GetInvoice', 'PutInvoice',
            'PostInvoiceIssuance', 'PostInvoiceVoid', 'PostInvoiceAbandonment',
            'GetInvoiceItemCollection', 'PostInvoiceItem', 'GetInvoiceItem', 'PutInvoiceItem',
            'DeleteInvoiceItem', 'GetProductCollection', 'PostProduct', 'GetProduct']::text[]
    );
