-- The two tax checks as PL/pgSQL, whose plans each session keeps. As SQL functions they were
-- parsed and planned again by every statement that wrote an item or an invoice (an SQL
-- function is inlined or planned per statement): in a profile of item creates, checking
-- constraints took two fifths of PostgreSQL's time, most of it on these two. Same rules, same
-- results; the constraints that call them stay as they are.
create or replace function item_tax_adds_up(tax jsonb) returns boolean
    language plpgsql immutable
    as $$
begin
    return tax is null
        or tax ->> 'calculator' = 'manual'
        or (tax ->> 'amount')::numeric = coalesce(
            (select sum((component.value ->> 'amount')::numeric)
             from jsonb_each(tax -> 'components') as component), 0);
end
$$;

create or replace function invoice_tax_rates_in_range(tax jsonb) returns boolean
    language plpgsql immutable
    as $$
begin
    return coalesce(
        (select bool_and((rate.value #>> '{}')::numeric between 0 and 1)
         from jsonb_each(coalesce(tax -> 'rates', '{}')) as rate), true);
end
$$;
