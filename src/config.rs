//! Configuration from the environment (and `.env`), with `--help` listing every variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::delivery::schedule::RetrySchedule;
use crate::delivery::{DEFAULT_CONCURRENCY, DeliverySettings};
use crate::http::cors::AllowedOrigins;
use crate::server::{
    ConnectionLimits, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_WRITE_STALL_TIMEOUT,
};
use crate::service::destinations::Destinations;
use crate::service::rate_limit::{DEFAULT_REQUESTS, DEFAULT_WINDOW, MAX_REQUESTS, MAX_WINDOW};

/// A Rebilly-compatible invoice and invoice-item API server on PostgreSQL.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// PostgreSQL connection URL; the database is created if missing.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,

    /// PostgreSQL itself, when DATABASE_URL goes through a pooler: for creating the database,
    /// the migrations (which hold a session lock) and LISTEN. Unset, DATABASE_URL is used.
    #[arg(long, env = "DATABASE_DIRECT_URL", hide_env_values = true)]
    pub database_direct_url: Option<String>,

    /// DATABASE_URL goes through a transaction-mode pooler (PgBouncer's `pool_mode =
    /// transaction`, Supavisor, RDS Proxy): no statement outlives its transaction.
    #[arg(
        long,
        env = "DATABASE_TRANSACTION_POOLER",
        default_value_t = false,
        action = clap::ArgAction::Set
    )]
    pub database_transaction_pooler: bool,

    /// Most connections the server keeps open to PostgreSQL.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    pub database_max_connections: u32,

    /// Seconds a request waits for a free database connection before it is answered 503.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub database_acquire_timeout_secs: u64,

    /// Settings of the server.
    #[command(flatten)]
    pub serve: ServeConfig,

    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a new secret API key for an organization (created if missing). It is shown once.
    CreateApiKey {
        /// The organization the key acts for.
        #[arg(long)]
        organization: String,
        /// Make an `sk_live_` key rather than an `sk_sandbox_` one.
        #[arg(long)]
        live: bool,
        /// Restrict the key to these Rebilly operation ids, comma-separated (for example
        /// `GetInvoice,GetInvoiceItemCollection`); without it the key may call every operation.
        #[arg(long, value_delimiter = ',')]
        permissions: Option<Vec<String>>,
    },
    /// List API keys (id, organization, prefix, kind, permissions, created, revoked), never
    /// their secrets.
    ListApiKeys {
        /// Only this organization's keys.
        #[arg(long)]
        organization: Option<String>,
    },
    /// Revoke an API key by the id `list-api-keys` shows. Every running server refuses it
    /// within moments.
    RevokeApiKey {
        /// The key's id.
        id: uuid::Uuid,
    },
}

/// Settings of the server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,

    /// Public base URL for `Location` headers and `_links` (default: `http://` + BIND_ADDR).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Secret that enables HS256 bearer tokens (claims `organizationId`, `exp`, optional
    /// `nbf`, `iat` and `permissions`); at least 32 bytes, or the server does not start.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Organization ensured at start-up with BOOTSTRAP_API_KEY (development convenience).
    #[arg(
        long,
        env = "BOOTSTRAP_ORGANIZATION_ID",
        requires = "bootstrap_api_key"
    )]
    pub bootstrap_organization_id: Option<String>,

    /// Secret API key ensured at start-up for BOOTSTRAP_ORGANIZATION_ID.
    #[arg(
        long,
        env = "BOOTSTRAP_API_KEY",
        hide_env_values = true,
        requires = "bootstrap_organization_id"
    )]
    pub bootstrap_api_key: Option<String>,

    /// Seconds a request may take before it is answered 503 and abandoned (its transaction
    /// rolled back).
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// Writes (POST, PUT, DELETE) each organization may make per RATE_LIMIT_WINDOW_SECS, at
    /// most 1000000; 0 turns rate limits off (and with them the `X-RateLimit-*` headers).
    #[arg(long, env = "RATE_LIMIT_REQUESTS", default_value_t = DEFAULT_REQUESTS, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_REQUESTS)))]
    pub rate_limit_requests: u32,

    /// The window of RATE_LIMIT_REQUESTS, in seconds (1 to 31536000, a year). The budget
    /// refills continuously: one write every window / requests.
    #[arg(long, env = "RATE_LIMIT_WINDOW_SECS", default_value_t = DEFAULT_WINDOW.as_secs(), value_parser = clap::value_parser!(u64).range(1..=MAX_WINDOW.as_secs()))]
    pub rate_limit_window_secs: u64,

    /// Redis URL (`redis://host:port/db`) where the rate-limit counters live, shared by every
    /// replica; unset keeps them in process. While Redis cannot be reached, each server
    /// counts in process and says so in its log.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Milliseconds a Redis call may take before the server counts that write in process.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub redis_timeout_ms: u64,

    /// Web origins whose pages may call the API from a browser (CORS), comma-separated, each
    /// as browsers send it (`https://billing.example.com,http://localhost:5173`), or `*` for
    /// every origin; unset, none.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_parser = AllowedOrigins::parse)]
    pub cors_allowed_origins: Option<AllowedOrigins>,

    /// Seconds a client has to send a whole request head (request line and headers), counted
    /// from the connection's opening or from the end of the previous answer: also how long an
    /// idle kept-alive connection stays open.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,

    /// Most client connections open at once; past it, new ones wait to be accepted until one
    /// closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Seconds a write to a client may make no progress (a client that stopped reading its
    /// answer) before its connection is closed.
    #[arg(long, env = "WRITE_STALL_TIMEOUT_SECS", default_value_t = DEFAULT_WRITE_STALL_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_stall_timeout_secs: u64,

    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Lets webhooks reach loopback, private and link-local addresses (local development and
    /// tests); off, such a URL is refused when saved and when delivered to.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE_NETWORKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private_networks: bool,

    /// Milliseconds one delivery attempt may take, connecting included.
    #[arg(long, env = "WEBHOOK_ATTEMPT_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub webhook_attempt_timeout_ms: u64,

    /// Milliseconds before the first retry of a failed delivery; each later wait is 4 times
    /// longer, at most 6 hours.
    #[arg(long, env = "WEBHOOK_RETRY_INITIAL_DELAY_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_initial_delay_ms: u64,

    /// Seconds after its event a delivery is still retried; then it is given up.
    #[arg(long, env = "WEBHOOK_RETRY_MAX_AGE_SECS", default_value_t = 3 * 24 * 60 * 60, value_parser = clap::value_parser!(u64).range(1..=30 * 24 * 60 * 60))]
    pub webhook_retry_max_age_secs: u64,

    /// Seconds between two looks for unpaid invoices whose due time has passed, which become
    /// past due.
    #[arg(long, env = "PAST_DUE_CHECK_INTERVAL_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub past_due_check_interval_secs: u64,

    /// Days the delivery log keeps an attempt; older ones are deleted hourly.
    #[arg(long, env = "WEBHOOK_LOG_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub webhook_log_retention_days: u64,

    /// Delivery attempts of one organization this process makes at once; a quarter of
    /// WEBHOOK_CONCURRENCY when unset.
    #[arg(long, env = "WEBHOOK_CONCURRENCY_PER_ORGANIZATION", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub webhook_concurrency_per_organization: Option<u32>,

    /// Bytes of each body sent that the delivery log keeps; the rest is cut off.
    #[arg(long, env = "WEBHOOK_LOG_BODY_BYTES", default_value_t = 64 * 1024, value_parser = clap::value_parser!(u32).range(1024..=16 * 1024 * 1024))]
    pub webhook_log_body_bytes: u32,

    /// Delivery attempts this process makes at once (each replica has its own).
    #[arg(long, env = "WEBHOOK_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub webhook_concurrency: u32,
}

impl ServeConfig {
    /// How webhooks are delivered.
    pub fn delivery_settings(&self) -> DeliverySettings {
        let defaults = DeliverySettings::default();
        let concurrency = self.webhook_concurrency as usize;
        let per_organization = self
            .webhook_concurrency_per_organization
            .map_or(concurrency / 4, |per_organization| {
                per_organization as usize
            })
            .clamp(1, concurrency);
        // One webhook is one organization's: it may take all of that organization's share, and
        // never more than half of the process's.
        let per_webhook = per_organization.min(concurrency / 2).max(1);
        DeliverySettings {
            destinations: self.webhook_destinations(),
            schedule: RetrySchedule {
                initial_delay: Duration::from_millis(self.webhook_retry_initial_delay_ms),
                max_age: Duration::from_secs(self.webhook_retry_max_age_secs),
                ..RetrySchedule::default()
            },
            attempt_timeout: Duration::from_millis(self.webhook_attempt_timeout_ms),
            concurrency,
            per_webhook,
            per_organization,
            kept_request_bytes: self.webhook_log_body_bytes as usize,
            ..defaults
        }
    }

    /// Which addresses webhooks may reach.
    pub fn webhook_destinations(&self) -> Destinations {
        if self.webhook_allow_private_networks {
            Destinations::Any
        } else {
            Destinations::PublicOnly
        }
    }

    /// What each client connection may take.
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_connections: self.max_connections as usize,
            write_stall_timeout: Duration::from_secs(self.write_stall_timeout_secs),
            // A request in flight ends within its timeout, then its answer is written.
            shutdown_grace: Duration::from_secs(
                self.request_timeout_secs + self.write_stall_timeout_secs,
            ),
        }
    }

    /// PUBLIC_URL, or `http://` + BIND_ADDR.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind_addr))
    }
}
