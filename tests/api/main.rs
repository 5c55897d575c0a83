//! Integration tests: the real router against a real PostgreSQL, one fresh database per test.

mod auth;
mod concurrency;
mod errors;
mod helpers;
mod invoice_items;
mod invoices;
mod money;
mod products;
mod server;
