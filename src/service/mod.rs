//! Use cases and pricing. Knows the domain and the repository's `Db`, never HTTP.

pub mod api_keys;
pub mod auth;
pub mod credit_memos;
pub mod destinations;
pub mod event_log;
mod events;
pub mod idempotency;
pub mod invoice_items;
pub mod invoice_reads;
pub mod invoices;
pub mod item_batches;
pub mod item_reads;
pub mod item_writes;
pub mod organizations;
pub mod past_due;
pub mod placed_items;
pub mod pricing;
pub mod products;
pub mod rate_limit;
mod repricing;
pub mod settlement;
pub mod timeline;
pub mod webhooks;
