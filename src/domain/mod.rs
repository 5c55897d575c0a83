//! Parsed types of the billing domain: ids, money, currencies, invoices, their items and products.
//! Nothing here knows HTTP; the id types carry a transparent sqlx codec and nothing more.

pub mod contact;
pub mod credit_memo;
pub mod currency;
pub mod discount;
pub mod event;
pub mod idempotency;
pub mod ids;
pub mod invoice;
pub mod invoice_item;
pub mod invoice_listing;
pub mod kept_tax;
pub mod legal;
pub mod metadata;
pub mod money;
pub mod organization;
pub mod permission;
pub mod precondition;
pub mod product;
pub mod rate;
mod spelling;
pub mod tax;
pub mod text;
pub mod transaction;
pub mod vat;
pub mod vat_totals;
pub mod webhook;
