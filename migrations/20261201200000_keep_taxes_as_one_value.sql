-- An invoice's tax settings and an item's tax are one JSON value each (`tax`), written and read
-- by one mapping in the repository (`repository/tax_record.rs`), so that a new tax component or
-- rate needs no new column. Numbers are JSON strings, the decimal's exact text: JSON numbers
-- could pass through a float.
--
-- An invoice's settings:
--   {"calculator": "manual"}
--   {"calculator": "rates", "rates": {"state": "0.0625", "county": "0.01", ...},
--    "jurisdictions": {"country": "US", "state": "TX", ...}}
--
-- An item's tax:
--   manual:   {"calculator": "manual", "amount": "1.50", "description": "VAT"}
--   computed: {"calculator": "rates", "amount": "0.83", "rate": "0.0825",
--              "components": {"state": {"rate": "0.0625", "amount": "0.63"}, ...},
--              "jurisdictions": {"country": "US", "state": "TX", ...}}

-- A computed tax's amount is the sum of its components' amounts, whatever they are.
create function item_tax_adds_up(tax jsonb) returns boolean
    language sql immutable
    as $$
        select tax is null
            or tax ->> 'calculator' = 'manual'
            or (tax ->> 'amount')::numeric = coalesce(
                (select sum((component.value ->> 'amount')::numeric)
                 from jsonb_each(tax -> 'components') as component), 0)
    $$;

alter table invoice_items add column tax jsonb;

update invoice_items set tax = case
    when tax_amount is null then null
    when tax_rate is null then jsonb_build_object(
        'calculator', 'manual',
        'amount', tax_amount::text,
        'description', tax_description)
    else jsonb_strip_nulls(jsonb_build_object(
        'calculator', 'rates',
        'amount', tax_amount::text,
        'rate', tax_rate::text,
        'components', jsonb_build_object(
            'state', jsonb_build_object('rate', tax_state_rate::text,
                                        'amount', tax_state_amount::text),
            'county', jsonb_build_object('rate', tax_county_rate::text,
                                         'amount', tax_county_amount::text),
            'city', jsonb_build_object('rate', tax_city_rate::text,
                                       'amount', tax_city_amount::text),
            'specialDistrict', jsonb_build_object('rate', tax_special_district_rate::text,
                                                  'amount', tax_special_district_amount::text)),
        'jurisdictions', case
            when num_nonnulls(tax_country, tax_state, tax_county, tax_city) = 0 then null
            else jsonb_build_object('country', tax_country, 'state', tax_state,
                                    'county', tax_county, 'city', tax_city)
        end))
end;

alter table invoice_items
    drop constraint invoice_items_tax_complete,
    drop constraint invoice_items_tax_not_negative,
    drop constraint invoice_items_computed_tax_complete,
    drop constraint invoice_items_computed_tax_adds_up,
    drop constraint invoice_items_credit_untaxed,
    drop column tax_amount,
    drop column tax_description,
    drop column tax_rate,
    drop column tax_state_rate,
    drop column tax_state_amount,
    drop column tax_county_rate,
    drop column tax_county_amount,
    drop column tax_city_rate,
    drop column tax_city_amount,
    drop column tax_special_district_rate,
    drop column tax_special_district_amount,
    drop column tax_country,
    drop column tax_state,
    drop column tax_county,
    drop column tax_city,
    add constraint invoice_items_tax_known check (
        tax is null or (jsonb_typeof(tax) = 'object'
                        and tax ->> 'calculator' in ('manual', 'rates')
                        and (tax ->> 'amount')::numeric >= 0)
    ),
    add constraint invoice_items_tax_adds_up check (item_tax_adds_up(tax));

-- Credits are never taxed. NOT VALID, as before: rows written before this rule stay as they were.
alter table invoice_items
    add constraint invoice_items_credit_untaxed check (type = 'debit' or tax is null) not valid;

-- Every rate of an invoice's settings is a fraction, whichever rates there are.
create function invoice_tax_rates_in_range(tax jsonb) returns boolean
    language sql immutable
    as $$
        select coalesce(bool_and((rate.value #>> '{}')::numeric between 0 and 1), true)
        from jsonb_each(coalesce(tax -> 'rates', '{}')) as rate
    $$;

alter table invoices add column tax jsonb not null default '{"calculator": "manual"}';

update invoices set tax = case tax_calculator
    when 'rates' then jsonb_strip_nulls(jsonb_build_object(
        'calculator', 'rates',
        'rates', jsonb_build_object('state', tax_state_rate::text,
                                    'county', tax_county_rate::text,
                                    'city', tax_city_rate::text,
                                    'specialDistrict', tax_special_district_rate::text),
        'jurisdictions', case
            when num_nonnulls(tax_country, tax_state, tax_county, tax_city) = 0 then null
            else jsonb_build_object('country', tax_country, 'state', tax_state,
                                    'county', tax_county, 'city', tax_city)
        end))
    else '{"calculator": "manual"}'
end;

alter table invoices
    drop constraint invoices_tax_calculator_known,
    drop constraint invoices_tax_rates_set,
    drop constraint invoices_tax_rates_range,
    drop column tax_calculator,
    drop column tax_state_rate,
    drop column tax_county_rate,
    drop column tax_city_rate,
    drop column tax_special_district_rate,
    drop column tax_country,
    drop column tax_state,
    drop column tax_county,
    drop column tax_city,
    add constraint invoices_tax_known check (
        jsonb_typeof(tax) = 'object' and tax ->> 'calculator' in ('manual', 'rates')
        and (tax ->> 'calculator' = 'rates') = (tax ? 'rates')
    ),
    add constraint invoices_tax_rates_in_range check (invoice_tax_rates_in_range(tax));
