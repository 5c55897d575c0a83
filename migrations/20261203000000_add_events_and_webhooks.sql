-- Events: every committed change of an invoice or its items writes its row here in the change's
-- own transaction (a transactional outbox), so no committed change goes without its event and
-- no rolled-back one has any. The invoice's timeline is read from the same rows, with the
-- comments written on it.
create table invoice_events (
    organization_id text not null,
    -- `tmln_` + ULID: the timeline message id, and the webhook delivery's `webhook-id`.
    id text not null,
    invoice_id text not null,
    event_type text not null,
    -- The invoice's revision after the change (for a comment, the revision it was written at),
    -- so that a receiver can order and de-duplicate.
    revision bigint not null,
    -- What the change touched: the invoice's fields, and the items created, changed, deleted
    -- and repriced.
    changes jsonb not null default '{}',
    -- A comment's text.
    message text,
    occurred_time timestamptz not null,
    -- Commit order within an invoice: rows of one invoice are written under its row lock.
    sequence bigint generated always as identity,
    constraint invoice_events_pkey primary key (organization_id, id),
    constraint invoice_events_invoice_fk foreign key (organization_id, invoice_id)
        references invoices (organization_id, id),
    constraint invoice_events_type_known check (event_type in ('invoice-created',
        'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned',
        'timeline-comment-created')),
    constraint invoice_events_comment_has_message check (
        (event_type = 'timeline-comment-created') = (message is not null)),
    constraint invoice_events_message_length check (char_length(message) between 1 and 10000)
);

-- The timeline: an invoice's messages, newest first.
create index invoice_events_timeline_idx on invoice_events (organization_id, invoice_id, sequence desc);

-- Where an organization's events are sent.
create table webhooks (
    organization_id text not null,
    -- `hook_` + ULID, or the client's own id (PUT).
    id text not null,
    url text not null,
    method text not null,
    -- [{name, value, status}]: headers sent with every delivery.
    headers jsonb not null default '[]',
    -- The event types sent; empty: every one.
    events_filter text[] not null default '{}',
    status text not null default 'active',
    -- `whsec_` + base64 of the signing key (Standard Webhooks).
    secret text not null,
    revision bigint not null default 0,
    created_time timestamptz not null,
    updated_time timestamptz not null,
    constraint webhooks_pkey primary key (organization_id, id),
    constraint webhooks_organization_fk foreign key (organization_id) references organizations (id),
    constraint webhooks_id_format check (id ~ '^[A-Za-z0-9_@~.-]{1,50}$'),
    constraint webhooks_url_length check (char_length(url) between 1 and 2048),
    constraint webhooks_method_known check (method in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    constraint webhooks_status_known check (status in ('active', 'inactive')),
    constraint webhooks_events_known check (events_filter <@ array['invoice-created',
        'invoice-modified', 'invoice-issued', 'invoice-voided', 'invoice-abandoned']::text[])
);

create index webhooks_created_idx on webhooks (organization_id, created_time desc, id desc);

-- One event to send to one webhook, written in the event's transaction. The worker of every
-- replica claims due rows with FOR UPDATE SKIP LOCKED and leases them while it sends.
create table webhook_deliveries (
    -- Creation order: within one webhook and invoice, the order deliveries are sent in.
    id bigint generated always as identity,
    organization_id text not null,
    webhook_id text not null,
    event_id text not null,
    invoice_id text not null,
    -- pending (to send, or to send again), delivered (a 2xx came), failed (gave up).
    state text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_time timestamptz not null,
    -- While a worker sends it, no other claims it; a worker that dies lets it lapse.
    lease_until timestamptz,
    created_time timestamptz not null,
    finished_time timestamptz,
    constraint webhook_deliveries_pkey primary key (organization_id, id),
    constraint webhook_deliveries_webhook_fk foreign key (organization_id, webhook_id)
        references webhooks (organization_id, id) on delete cascade,
    constraint webhook_deliveries_event_fk foreign key (organization_id, event_id)
        references invoice_events (organization_id, id),
    constraint webhook_deliveries_state_known check (state in ('pending', 'delivered', 'failed'))
);

-- What is due, oldest first.
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_time, id)
    where state = 'pending';
-- What must go before a delivery: the pending ones of its webhook and invoice made earlier.
create index webhook_deliveries_order_idx on webhook_deliveries (organization_id, webhook_id, invoice_id, id)
    where state = 'pending';
-- A claimed delivery, by its number alone (the workers' claim spans organizations).
create index webhook_deliveries_id_idx on webhook_deliveries (id);
create index webhook_deliveries_event_idx on webhook_deliveries (organization_id, event_id);

-- The delivery log: one row per attempt, kept when its webhook is deleted.
create table webhook_attempts (
    organization_id text not null,
    -- `hook_log_` + ULID.
    id text not null,
    delivery_id bigint not null,
    webhook_id text not null,
    event_id text not null,
    event_type text not null,
    invoice_id text not null,
    attempt integer not null,
    url text not null,
    method text not null,
    -- The response's status; null when none came (see error).
    status integer,
    error text,
    duration_ms integer not null,
    request text not null,
    request_headers jsonb not null,
    response text,
    response_headers jsonb,
    initiated_time timestamptz not null,
    sent_time timestamptz not null,
    created_time timestamptz not null,
    constraint webhook_attempts_pkey primary key (organization_id, id)
);

create index webhook_attempts_created_idx on webhook_attempts (organization_id, created_time desc, id desc);

-- A restricted key may name the operations on webhooks, their log and timelines too.
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
        'DeleteInvoiceTimeline']::text[]
);
