-- An item's own VAT category, rate and exemption under the `vat` calculator, where it is not
-- the invoice's default: {"category": "E", "rate": "0", "exemptionReason": ..., "exemptionCode": ...}.
-- Null for every existing item, which keeps the default. Adding a nullable column without a
-- default rewrites nothing.
alter table invoice_items add column vat jsonb;
alter table invoice_items add constraint invoice_items_vat_category_known check (
    vat is null
    or (jsonb_typeof(vat) = 'object'
        and vat->>'category' in ('S', 'Z', 'E', 'AE', 'K', 'G', 'O', 'L', 'M'))
);
