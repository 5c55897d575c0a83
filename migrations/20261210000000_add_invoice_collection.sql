-- How an invoice is to be paid, as the Stripe-style dialect says it: charged automatically
-- (no due date unless one is given) or sent for the customer to pay, due a number of days
-- after it is issued.
alter table invoices
    add column collection_method text not null default 'charge_automatically',
    add column days_until_due integer,
    add constraint invoices_collection_method_known check (
        collection_method in ('charge_automatically', 'send_invoice')),
    add constraint invoices_days_until_due_range check (days_until_due between 0 and 3650),
    add constraint invoices_days_until_due_when_sent check (
        days_until_due is null or collection_method = 'send_invoice');
