-- Invoice discounts and tax settings, computed item taxes, and the lifecycle's timestamps.

alter table invoices
    add column tax_calculator text not null default 'manual',
    -- The `rates` calculator's rates (fractions: 0.0625 is 6.25%), null under `manual`.
    add column tax_state_rate numeric,
    add column tax_county_rate numeric,
    add column tax_city_rate numeric,
    add column tax_special_district_rate numeric,
    add column tax_country text,
    add column tax_state text,
    add column tax_county text,
    add column tax_city text,
    add column abandoned_time timestamptz,
    -- How many rows of invoice_discounts the invoice has: read with the locked row, it tells
    -- an item write whether the invoice's discounts need reading at all.
    add column discount_count integer not null default 0,
    add column voided_time timestamptz,
    add constraint invoices_discount_count_range check (discount_count between 0 and 20),
    add constraint invoices_tax_calculator_known check (tax_calculator in ('manual', 'rates')),
    add constraint invoices_tax_rates_set check (
        case tax_calculator
            when 'rates' then num_nulls(tax_state_rate, tax_county_rate, tax_city_rate,
                                        tax_special_district_rate) = 0
            else num_nonnulls(tax_state_rate, tax_county_rate, tax_city_rate,
                              tax_special_district_rate, tax_country, tax_state, tax_county,
                              tax_city) = 0
        end
    ),
    add constraint invoices_tax_rates_range check (
        tax_state_rate between 0 and 1 and tax_county_rate between 0 and 1
        and tax_city_rate between 0 and 1 and tax_special_district_rate between 0 and 1
    );

-- An invoice's discounts, applied in `position` order; `amount` is what each took off.
create table invoice_discounts (
    organization_id text not null,
    invoice_id text not null,
    position integer not null,
    description text,
    type text not null,
    value numeric not null,
    amount numeric not null,
    constraint invoice_discounts_pkey primary key (organization_id, invoice_id, position),
    constraint invoice_discounts_invoice_fk foreign key (organization_id, invoice_id)
        references invoices (organization_id, id) on delete cascade,
    constraint invoice_discounts_type_known check (type in ('percent', 'fixed')),
    constraint invoice_discounts_value_range check (
        value > 0 and (type = 'fixed' or value <= 100)
    ),
    constraint invoice_discounts_amount_not_negative check (amount >= 0),
    constraint invoice_discounts_position_not_negative check (position >= 0)
);

-- An item's tax is manual when `tax_rate` is null, computed by the `rates` calculator otherwise;
-- a computed tax keeps its rates, component amounts and jurisdictions as computed.
alter table invoice_items
    add column tax_rate numeric,
    add column tax_state_rate numeric,
    add column tax_state_amount numeric,
    add column tax_county_rate numeric,
    add column tax_county_amount numeric,
    add column tax_city_rate numeric,
    add column tax_city_amount numeric,
    add column tax_special_district_rate numeric,
    add column tax_special_district_amount numeric,
    add column tax_country text,
    add column tax_state text,
    add column tax_county text,
    add column tax_city text,
    add constraint invoice_items_computed_tax_complete check (
        num_nulls(tax_rate, tax_state_rate, tax_state_amount, tax_county_rate, tax_county_amount,
                  tax_city_rate, tax_city_amount, tax_special_district_rate,
                  tax_special_district_amount) in (0, 9)
        and (tax_rate is null or tax_amount is not null)
        and (tax_rate is not null or num_nonnulls(tax_country, tax_state, tax_county, tax_city) = 0)
    ),
    add constraint invoice_items_computed_tax_adds_up check (
        tax_rate is null or tax_amount = tax_state_amount + tax_county_amount + tax_city_amount
                                          + tax_special_district_amount
    );

-- Credits are never taxed. NOT VALID: rows written before this rule are left as they were.
alter table invoice_items
    add constraint invoice_items_credit_untaxed check (type = 'debit' or tax_amount is null)
    not valid;
