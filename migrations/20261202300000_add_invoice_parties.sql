-- What an invoice shows of its parties beyond their ids: billingAddress and deliveryAddress
-- (Rebilly's ContactObject), organizationTaxIdNumber and customerTaxIdNumber, kept as one JSON
-- value mapped in repository/parties_record.rs.
alter table invoices add column parties jsonb not null default '{}';
alter table invoices add constraint invoices_parties_object check (jsonb_typeof(parties) = 'object');
