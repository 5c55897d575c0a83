-- The `vat` calculator: an invoice's settings {"calculator": "vat", "rate": "0.19"}, and an
-- item's share of the invoice's VAT {"calculator": "vat", "amount": "1.71", "rate": "0.19",
-- "category": "S"}. The checks that named the calculators learn the new one. They are added
-- `not valid` (every row already there passes them: they only allow more) and validated in
-- the next migration, whose lock lets writes go on.

-- A VAT share has no components: its amount is its share of its category's VAT.
create or replace function item_tax_adds_up(tax jsonb) returns boolean
    language plpgsql immutable
    as $$
begin
    return tax is null
        or tax ->> 'calculator' in ('manual', 'vat')
        or (tax ->> 'amount')::numeric = coalesce(
            (select sum((component.value ->> 'amount')::numeric)
             from jsonb_each(tax -> 'components') as component), 0);
end
$$;

-- The default VAT rate is a fraction, as the sales-tax rates are.
create or replace function invoice_tax_rates_in_range(tax jsonb) returns boolean
    language plpgsql immutable
    as $$
begin
    return coalesce(
        (select bool_and((rate.value #>> '{}')::numeric between 0 and 1)
         from jsonb_each(coalesce(tax -> 'rates', '{}')) as rate), true)
        and (tax ->> 'calculator' <> 'vat' or (tax ->> 'rate')::numeric between 0 and 1);
end
$$;

alter table invoices
    drop constraint invoices_tax_known,
    add constraint invoices_tax_known check (
        jsonb_typeof(tax) = 'object' and tax ->> 'calculator' in ('manual', 'rates', 'vat')
        and (tax ->> 'calculator' = 'rates') = (tax ? 'rates')
        and (tax ->> 'calculator' = 'vat') = (tax ? 'rate')
    ) not valid;

alter table invoice_items
    drop constraint invoice_items_tax_known,
    add constraint invoice_items_tax_known check (
        tax is null or (jsonb_typeof(tax) = 'object'
                        and tax ->> 'calculator' in ('manual', 'rates', 'vat')
                        and (tax ->> 'amount')::numeric >= 0
                        and (tax ->> 'calculator' <> 'vat'
                             or tax ->> 'category' in ('S', 'Z', 'E', 'AE', 'K', 'G', 'O', 'L', 'M')))
    ) not valid;
