//! Integration tests: the real router against a real PostgreSQL, one fresh database per test.

mod auth;
mod cluster;
mod concurrency;
mod cors;
mod docs_page;
mod errors;
mod faults;
mod helpers;
mod idempotency;
mod invoice_collection;
mod invoice_items;
mod invoices;
mod lifecycle;
mod metrics;
mod money;
mod outage;
mod permissions;
mod preconditions;
mod pricing;
mod process;
mod products;
mod rate_limits;
mod redis_server;
mod server;
mod shared_limits;
mod shutdown;
