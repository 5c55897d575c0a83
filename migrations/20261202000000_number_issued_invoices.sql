-- An invoice gets its number when it is issued: 1, 2, 3, ... per organization, with no gap and
-- no repeat, as many jurisdictions require of invoices. The counter is one row per
-- organization, taken (and so locked) by the issuing transaction: concurrent issues queue on
-- it, and an issue that rolls back gives its number back. Invoices issued before this change
-- keep no number.
create table invoice_number_sequences (
    organization_id text not null,
    last_number bigint not null,
    constraint invoice_number_sequences_pkey primary key (organization_id),
    constraint invoice_number_sequences_last_number_positive check (last_number > 0)
);

alter table invoices add column invoice_number bigint;
alter table invoices add constraint invoices_number_positive check (invoice_number > 0);
alter table invoices add constraint invoices_number_key unique (organization_id, invoice_number);
-- Only an invoice that has been issued has a number; a draft never does.
alter table invoices add constraint invoices_number_only_once_issued
    check (invoice_number is null or status <> 'draft');
