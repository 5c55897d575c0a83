//! HTTP: what every dialect shares (application state, credentials to a principal, rate
//! limits, CORS, request ids, metrics, timeouts, health, the limits of bodies and heads, the
//! transaction and idempotency of every write, failures and the problem document they are
//! answered with), the dialects' edges beside it (`rebilly/` speaks Rebilly's wire, `stripe/`
//! the Stripe-style one under `/v1`), and the router above them, which names the dialect of
//! each request. The shared modules know no dialect.

pub mod admission;
pub mod auth;
pub mod availability;
pub mod cors;
pub mod document_body;
pub mod extract;
pub mod failure;
mod health;
pub mod hosted;
pub mod idempotency;
pub mod json_shape;
pub mod metrics;
pub mod negotiation;
pub mod origins;
pub mod problem;
pub mod rate_limit;
pub mod rebilly;
pub mod renders;
pub mod request_head;
pub mod respond;
pub mod router;
pub mod shared_layer;
pub mod state;
pub mod stripe;
pub mod timeout;

pub use problem::{OwnErrorShape, Replayed};
pub use router::routes;
pub use state::{AppState, DEFAULT_REQUEST_TIMEOUT, StateParts};
