-- What an organization says of itself on its invoices (Rebilly's Organization: name, address,
-- city, region, country, postalCode, emails, phoneNumbers, invoiceTimeZone), kept as one JSON
-- value like a tax, mapped in repository/organizations.rs. Set by PATCH /organizations/{id}.
alter table organizations add column details jsonb not null default '{}';
alter table organizations add column updated_time timestamptz;
alter table organizations add constraint organizations_details_object
    check (jsonb_typeof(details) = 'object');
