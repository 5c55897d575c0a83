-- no-transaction
-- The past-due index conditioned on the amount due, which the one before replaces.
drop index concurrently invoices_awaiting_payment_idx;
