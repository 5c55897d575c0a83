-- How much of a credit memo's allocation to an invoice was given back elsewhere, because the
-- invoice had been paid: what the Stripe-style dialect calls post-payment credit, kept per
-- allocation so that an invoice's split between credit before and after payment is exact.
alter table credit_memo_allocations
    add column out_of_band_amount numeric not null default 0,
    add constraint credit_memo_allocations_out_of_band_within_amount check (
        out_of_band_amount between 0 and amount);
