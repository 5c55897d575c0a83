-- Credit memos: money an organization owes back to a customer for an invoice, taken off what
-- invoices have left due (an allocation) or, on an invoice already paid, given back elsewhere.
-- Like invoices, they are numbered per organization with no gap; the database refuses any
-- write that would allocate more than a memo holds or credit more than an invoice has due.

create table credit_memo_number_sequences (
    organization_id text not null,
    last_number bigint not null,
    constraint credit_memo_number_sequences_pkey primary key (organization_id),
    constraint credit_memo_number_sequences_organization_fk foreign key (organization_id)
        references organizations (id)
);

create table credit_memos (
    organization_id text not null,
    -- `crmm_` + ULID.
    id text not null,
    number bigint not null,
    customer_id text not null,
    currency text not null,
    -- The invoice it credits; its events join that invoice's.
    invoice_id text not null,
    -- issued, partially-applied, applied or voided.
    status text not null,
    reason text,
    description text,
    -- [{id, invoiceItemId, description, unitPrice, quantity, price, discountAmount, taxAmount}]
    items jsonb not null,
    subtotal_amount numeric not null,
    discount_amount numeric not null,
    tax_amount numeric not null,
    shipping_amount numeric not null default 0,
    total_amount numeric not null,
    -- How much of the total is allocated to invoices.
    allocated_amount numeric not null default 0,
    -- How much of what is allocated was given back elsewhere, on an invoice already paid.
    out_of_band_amount numeric not null default 0,
    metadata jsonb not null default '{}',
    revision bigint not null default 0,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    voided_time timestamptz,
    constraint credit_memos_pkey primary key (organization_id, id),
    constraint credit_memos_number_unique unique (organization_id, number),
    constraint credit_memos_organization_fk foreign key (organization_id) references organizations (id),
    constraint credit_memos_invoice_fk foreign key (organization_id, invoice_id)
        references invoices (organization_id, id),
    constraint credit_memos_status_known check (
        status in ('issued', 'partially-applied', 'applied', 'voided')),
    constraint credit_memos_reason_known check (reason in ('return', 'product-unsatisfactory',
        'order-change', 'order-cancellation', 'chargeback', 'write-off', 'waiver',
        'customer-credit', 'prepayment', 'duplicate', 'fraudulent', 'other')),
    constraint credit_memos_currency_format check (currency ~ '^[A-Z]{3}$'),
    constraint credit_memos_description_length check (char_length(description) <= 1000),
    constraint credit_memos_total_adds_up check (
        total_amount = subtotal_amount - discount_amount + tax_amount + shipping_amount),
    constraint credit_memos_total_positive check (total_amount > 0),
    constraint credit_memos_shipping_not_negative check (shipping_amount >= 0),
    constraint credit_memos_allocated_within_total check (allocated_amount between 0 and total_amount),
    constraint credit_memos_out_of_band_within_allocated check (
        out_of_band_amount between 0 and allocated_amount)
);

create index credit_memos_created_idx on credit_memos (organization_id, created_time desc, id desc);
create index credit_memos_invoice_idx on credit_memos (organization_id, invoice_id);

-- How much of a credit memo is taken off an invoice.
create table credit_memo_allocations (
    organization_id text not null,
    credit_memo_id text not null,
    invoice_id text not null,
    amount numeric not null,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint credit_memo_allocations_pkey primary key (organization_id, credit_memo_id, invoice_id),
    constraint credit_memo_allocations_memo_fk foreign key (organization_id, credit_memo_id)
        references credit_memos (organization_id, id),
    constraint credit_memo_allocations_invoice_fk foreign key (organization_id, invoice_id)
        references invoices (organization_id, id),
    constraint credit_memo_allocations_amount_positive check (amount > 0)
);

create index credit_memo_allocations_invoice_idx
    on credit_memo_allocations (organization_id, invoice_id, created_time);

-- What credit memos took off an invoice: amount_due is now amount - paid + refunded - credited.
alter table invoices
    add column credited_amount numeric not null default 0,
    add constraint invoices_credited_not_negative check (credited_amount >= 0),
    drop constraint invoices_amount_due_adds_up,
    add constraint invoices_amount_due_adds_up check (
        amount_due = amount - paid_amount + refunded_amount - credited_amount);

alter table invoice_events drop constraint invoice_events_type_known;
alter table invoice_events add constraint invoice_events_type_known check (event_type in (
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded', 'invoice-partially-refunded',
    'invoice-past-due', 'credit-memo-created', 'credit-memo-applied', 'credit-memo-voided',
    'timeline-comment-created'));

alter table webhooks drop constraint webhooks_events_known;
alter table webhooks add constraint webhooks_events_known check (events_filter <@ array[
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded',
    'invoice-partially-refunded', 'invoice-past-due', 'credit-memo-created',
    'credit-memo-applied', 'credit-memo-voided']::text[]);

-- A restricted key may name the operations on credit memos too.
alter table api_keys drop constraint api_keys_permissions_known;
alter table api_keys add constraint api_keys_permissions_known check (
    permissions <@ array['GetInvoiceCollection', 'PostInvoice', 'GetInvoice', 'PutInvoice',
        'PostInvoiceIssuance', 'PostInvoiceVoid', 'PostInvoiceAbandonment',
        'GetInvoiceItemCollection', 'PostInvoiceItem', 'GetInvoiceItem', 'PutInvoiceItem',
        'DeleteInvoiceItem', 'GetProductCollection', 'PostProduct', 'GetProduct',
        'GetOrganization', 'PatchOrganization', 'GetWebhookCollection', 'PostWebhook',
        'GetWebhook', 'PutWebhook', 'DeleteWebhook', 'GetTrackingWebhookCollection',
        'GetTrackingWebhook', 'PostTrackingWebhookResendRequest',
        'GetInvoiceTimelineCollection', 'PostInvoiceTimeline', 'GetInvoiceTimeline',
        'DeleteInvoiceTimeline', 'GetTransactionCollection', 'PostTransaction', 'GetTransaction',
        'PostInvoiceTransaction', 'GetInvoiceTransactionAllocationCollection',
        'GetCreditMemoCollection', 'PostCreditMemo', 'GetCreditMemo', 'PatchCreditMemo',
        'PostCreditMemoVoid']::text[]
);
