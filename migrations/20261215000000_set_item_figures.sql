-- Sets the figures (price, discount share, tax, revision, update time) of the items a set of
-- item writes moved by repricing their invoices without writing them, finding each one by its
-- key, (organization_id, id), as the upsert of the items written does. Returns how many of
-- them it found.
--
-- As a plain UPDATE joined to the rows, the plan came from the table's statistics: on an
-- invoice grown faster than they were gathered, PostgreSQL read every item of the organization
-- (or of the table) to join them to the few hundred rows, tens of milliseconds a batch, and a
-- plan kept by a session keeps such a choice after the table has grown. Here, for this
-- function alone, every plan but a nested loop that looks each row up by its key is off. JIT
-- is off too: a plan turned off is priced out, not removed, and a plan at such a price would
-- be compiled, which takes longer than the statement itself.
create or replace function set_item_figures(figures jsonb) returns bigint
    language plpgsql
    set enable_seqscan = off
    set enable_hashjoin = off
    set enable_mergejoin = off
    set jit = off
    as $$
declare
    found_items bigint;
begin
    update invoice_items t
    set price = r.price, discount_amount = r.discount_amount, tax = r.tax,
        revision = r.revision, updated_time = r.updated_time
    from jsonb_to_recordset(figures) as r(organization_id text, id text, price numeric,
        discount_amount numeric, tax jsonb, revision bigint, updated_time timestamptz)
    where t.organization_id = r.organization_id and t.id = r.id;
    get diagnostics found_items = row_count;
    return found_items;
end
$$;
