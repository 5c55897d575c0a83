-- Settlement: payments recorded against invoices. We record money that moved elsewhere (cash,
-- a check, a bank transfer); we process none. A transaction is applied to invoices in parts,
-- each part an allocation; the database refuses any write that would apply more than a
-- transaction holds or pay more than an invoice asks.

create table transactions (
    organization_id text not null,
    -- `txn_` + ULID.
    id text not null,
    -- `sale`: money received; `refund`: money given back.
    type text not null,
    customer_id text not null,
    website_id text not null,
    currency text not null,
    amount numeric not null,
    -- How much of `amount` has been applied to invoices.
    allocated_amount numeric not null default 0,
    -- `paymentInstrument.method`: cash, check, bank-transfer or other.
    method text not null,
    description text,
    revision bigint not null default 0,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint transactions_pkey primary key (organization_id, id),
    constraint transactions_organization_fk foreign key (organization_id) references organizations (id),
    constraint transactions_type_known check (type in ('sale', 'refund')),
    constraint transactions_method_known check (method in ('cash', 'check', 'bank-transfer', 'other')),
    constraint transactions_currency_format check (currency ~ '^[A-Z]{3}$'),
    constraint transactions_amount_positive check (amount > 0),
    constraint transactions_allocated_within_amount check (allocated_amount between 0 and amount),
    constraint transactions_description_length check (char_length(description) <= 255)
);

create index transactions_created_idx on transactions (organization_id, created_time desc, id desc);

-- One application of a transaction to an invoice.
create table invoice_transactions (
    organization_id text not null,
    -- Application order, across the organization.
    sequence bigint generated always as identity,
    invoice_id text not null,
    transaction_id text not null,
    amount numeric not null,
    created_time timestamptz not null,
    constraint invoice_transactions_pkey primary key (organization_id, sequence),
    constraint invoice_transactions_invoice_fk foreign key (organization_id, invoice_id)
        references invoices (organization_id, id),
    constraint invoice_transactions_transaction_fk foreign key (organization_id, transaction_id)
        references transactions (organization_id, id),
    constraint invoice_transactions_amount_positive check (amount > 0)
);

create index invoice_transactions_invoice_idx
    on invoice_transactions (organization_id, invoice_id, sequence);

-- What an invoice has received and given back; `amount_due` is what is left:
-- amount - paid + refunded.
alter table invoices
    add column paid_amount numeric not null default 0,
    add column refunded_amount numeric not null default 0,
    add column paid_time timestamptz,
    add constraint invoices_paid_not_negative check (paid_amount >= 0),
    add constraint invoices_refunded_within_paid check (refunded_amount between 0 and paid_amount),
    add constraint invoices_amount_due_adds_up check (
        amount_due = amount - paid_amount + refunded_amount),
    drop constraint invoices_status_known,
    add constraint invoices_status_known check (
        status in ('draft', 'unpaid', 'paid', 'partially-paid', 'past-due', 'abandoned', 'voided',
                   'partially-refunded', 'refunded'));

alter table invoice_events drop constraint invoice_events_type_known;
alter table invoice_events add constraint invoice_events_type_known check (event_type in (
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded', 'invoice-partially-refunded',
    'invoice-past-due', 'timeline-comment-created'));

alter table webhooks drop constraint webhooks_events_known;
alter table webhooks add constraint webhooks_events_known check (events_filter <@ array[
    'invoice-created', 'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
    'invoice-paid', 'invoice-partially-paid', 'invoice-refunded',
    'invoice-partially-refunded', 'invoice-past-due']::text[]);

-- The past-due check's scan: the invoices still awaiting payment, by when they fall due.
create index invoices_awaiting_payment_idx on invoices (due_time)
    where status in ('unpaid', 'partially-paid') and amount_due > 0;

-- A restricted key may name the operations on transactions too.
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
        'PostInvoiceTransaction', 'GetInvoiceTransactionAllocationCollection']::text[]
);
