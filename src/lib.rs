//! invoice-api: a Rebilly-compatible invoice and invoice-item API server on PostgreSQL.
//!
//! Dependencies run one way: `http` -> `service` -> `domain` <- `repository`.

pub mod config;
pub mod delivery;
pub mod document;
pub mod domain;
pub mod einvoice;
pub mod error;
pub mod http;
pub mod repository;
pub mod server;
pub mod service;
pub mod startup;
pub mod telemetry;
