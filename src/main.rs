//! `invoice-api` serves; `invoice-api create-api-key --organization ORG` prints a new key.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use invoice_api::config::{Cli, Command, ServeConfig};
use invoice_api::delivery::{DeliveryWorker, Payloads, deliver_until_shutdown};
use invoice_api::domain::ids::OrganizationId;
use invoice_api::domain::permission::Permissions;
use invoice_api::http::cors::AllowedOrigins;
use invoice_api::http::rebilly::RebillyPayload;
use invoice_api::http::state::AppState;
use invoice_api::http::stripe::StripePayload;
use invoice_api::repository::{Db, Planning};
use invoice_api::service::auth::JwtVerifier;
use invoice_api::service::{api_keys, idempotency, past_due, webhooks};
use invoice_api::{server, startup, telemetry};
use sqlx::postgres::PgConnectOptions;

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the environment itself may hold everything.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let stream = if cli.command.is_some() {
        telemetry::LogStream::Stderr
    } else {
        telemetry::LogStream::Stdout
    };
    telemetry::init(cli.serve.log_format == "json", stream);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("invoice-api: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // Checked before anything else: a server must not start with a secret anyone can guess.
    // The key commands need no tokens, so a bad secret does not stop a revocation.
    let jwt = match (&cli.command, &cli.serve.jwt_secret) {
        (None, Some(secret)) => Some(
            JwtVerifier::new(secret.as_bytes()).map_err(|error| format!("JWT_SECRET {error}"))?,
        ),
        _ => None,
    };
    let acquire_timeout = Duration::from_secs(cli.database_acquire_timeout_secs);
    // Longer than a request may take, so a live request meets its own timeout first.
    let lock_timeout = Duration::from_secs(cli.serve.request_timeout_secs + 1);
    let direct = match &cli.database_direct_url {
        Some(url) => Some(
            url.parse::<PgConnectOptions>()
                .map_err(|error| format!("DATABASE_DIRECT_URL {error}"))?,
        ),
        None => None,
    };
    let direct_url = cli.database_direct_url.as_deref();
    startup::create_database_if_missing(direct_url.unwrap_or(&cli.database_url))
        .await
        .map_err(|error| format!("cannot create the database: {error}"))?;
    let mut options = cli
        .database_url
        .parse::<PgConnectOptions>()
        .map_err(|error| format!("DATABASE_URL {error}"))?;
    let planning = if cli.database_transaction_pooler {
        options = startup::through_transaction_pooler(options);
        Planning::AsPostgresqlChooses
    } else {
        Planning::Once
    };
    let pool = startup::connect(
        options,
        cli.database_max_connections,
        acquire_timeout,
        planning,
    )
    .await
    .map_err(|error| format!("cannot connect to DATABASE_URL: {error}"))?;
    // The migrations hold a session-level lock, which a pooler would not keep: they run on a
    // connection of their own, to PostgreSQL itself when DATABASE_DIRECT_URL names it.
    let migration_options = match &direct {
        Some(options) => options.clone(),
        None => (*pool.connect_options()).clone(),
    };
    startup::migrate(&migration_options, acquire_timeout, lock_timeout)
        .await
        .map_err(|error| format!("migrations failed: {error}"))?;
    let mut db = Db::new(pool).with_lock_timeout(lock_timeout);
    if let Some(options) = direct {
        db = db.with_direct_connection(options);
    }
    if cli.database_transaction_pooler {
        db = db.behind_transaction_pooler();
    }
    match cli.command {
        Some(Command::CreateApiKey {
            organization,
            live,
            permissions,
        }) => create_api_key(db, &organization, live, permissions).await,
        Some(Command::ListApiKeys { organization }) => {
            list_api_keys(db, organization.as_deref()).await
        }
        Some(Command::RevokeApiKey { id }) => revoke_api_key(db, id).await,
        None => serve(db, cli.serve, jwt).await,
    }
}

async fn create_api_key(
    db: Db,
    organization: &str,
    live: bool,
    permissions: Option<Vec<String>>,
) -> Result<(), Failure> {
    let organization_id =
        OrganizationId::parse(organization).map_err(|error| format!("--organization {error}"))?;
    let permissions = permissions
        .map(|names| {
            Permissions::parse(names.iter().map(String::as_str)).map_err(|error| {
                format!(
                    "--permissions: {error}; known: {}",
                    Permissions::ALL.names().join(", ")
                )
            })
        })
        .transpose()?;
    let key = api_keys::create_api_key(&db, &organization_id, live, permissions).await?;
    println!("{key}");
    Ok(())
}

async fn list_api_keys(db: Db, organization: Option<&str>) -> Result<(), Failure> {
    let organization_id = organization
        .map(OrganizationId::parse)
        .transpose()
        .map_err(|error| format!("--organization {error}"))?;
    let keys = api_keys::list_api_keys(&db, organization_id.as_ref()).await?;
    println!("id\torganization\tprefix\tkind\tpermissions\tcreated\trevoked");
    for key in keys {
        let permissions = key
            .permissions
            .map_or_else(|| "all".to_owned(), |names| names.join(","));
        let revoked = key
            .revoked_time
            .map_or_else(|| "-".to_owned(), |time| time.format(TIME).to_string());
        println!(
            "{}\t{}\t{}\t{}\t{permissions}\t{}\t{revoked}",
            key.id,
            key.organization_id,
            key.key_prefix,
            if key.live { "live" } else { "sandbox" },
            key.created_time.format(TIME),
        );
    }
    Ok(())
}

/// Times as the API writes them.
const TIME: &str = "%Y-%m-%dT%H:%M:%SZ";

async fn revoke_api_key(db: Db, id: uuid::Uuid) -> Result<(), Failure> {
    match api_keys::revoke_api_key(&db, id).await? {
        Some(key) => {
            println!(
                "revoked {} ({}) of {}",
                key.id, key.key_prefix, key.organization_id
            );
            Ok(())
        }
        None => Err(format!("no active API key has the id {id}").into()),
    }
}

async fn serve(db: Db, config: ServeConfig, jwt: Option<JwtVerifier>) -> Result<(), Failure> {
    if let (Some(organization), Some(key)) =
        (&config.bootstrap_organization_id, &config.bootstrap_api_key)
    {
        let organization_id = OrganizationId::parse(organization)
            .map_err(|error| format!("BOOTSTRAP_ORGANIZATION_ID {error}"))?;
        api_keys::ensure_bootstrap_key(&db, &organization_id, key).await?;
    }
    tokio::spawn(purge_expired_idempotency_keys(db.clone()));
    let retention = Duration::from_secs(config.webhook_log_retention_days * 24 * 60 * 60);
    tokio::spawn(prune_delivery_log(db.clone(), retention));
    let past_due_interval = Duration::from_secs(config.past_due_check_interval_secs);
    tokio::spawn(check_past_due(db.clone(), past_due_interval));
    let rate_limiter = Arc::new(startup::rate_limiter(&config)?);
    startup::spawn_rate_limit_upkeep(&rate_limiter);
    tokio::spawn(metrics_upkeep());
    let public_url = config.public_url();
    let cors_origins = config.cors_allowed_origins.clone().unwrap_or_default();
    if cors_origins != AllowedOrigins::None {
        tracing::info!(origins = %cors_origins, "CORS: pages of these origins may call the API");
    }
    let state = AppState::new(db.clone(), jwt, &public_url)
        .with_request_timeout(Duration::from_secs(config.request_timeout_secs))
        .with_rate_limiter(rate_limiter)
        .with_cors_origins(cors_origins)
        .with_webhook_destinations(config.webhook_destinations());
    tokio::spawn(api_keys::watch_key_changes(Arc::downgrade(&state.keys)));
    let payloads = Payloads {
        invoice_events: Arc::new(RebillyPayload::new(state.clone())),
        object_events: Arc::new(StripePayload::new(state.clone())),
    };
    let worker = DeliveryWorker::new(db, config.delivery_settings(), payloads)
        .map_err(|error| format!("cannot make the webhook delivery client: {error}"))?;
    tokio::spawn(deliver_until_shutdown(worker));
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .map_err(|error| format!("cannot listen on BIND_ADDR {}: {error}", config.bind_addr))?;
    tracing::info!(address = %config.bind_addr, %public_url, "serving");
    server::serve(
        listener,
        startup::build_app(state),
        config.connection_limits(),
        startup::shutdown_signal(),
    )
    .await?;
    Ok(())
}

/// Deletes expired idempotency keys once an hour. Lookups ignore expired keys anyway; this only
/// keeps the table from growing.
async fn purge_expired_idempotency_keys(db: Db) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        ticks.tick().await;
        match idempotency::purge_expired(&db).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency keys deleted"),
            Err(error) => tracing::warn!(%error, "could not delete expired idempotency keys"),
        }
    }
}

/// Deletes the delivery log's entries older than `retention` once an hour, so that the log
/// does not grow for ever.
async fn prune_delivery_log(db: Db, retention: Duration) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        ticks.tick().await;
        match webhooks::prune_log(&db, retention).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old delivery log entries deleted"),
            Err(error) => tracing::warn!(%error, "could not delete old delivery log entries"),
        }
    }
}

/// Moves the invoices whose due time has passed unpaid to past due, every `interval`.
async fn check_past_due(db: Db, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match past_due::mark_past_due(&db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(moved) => tracing::info!(moved, "invoices past due"),
            Err(error) => tracing::warn!(%error, "could not look for invoices past due"),
        }
    }
}

/// Installs the metrics recorder, then drains its histograms now and then, as the exporter
/// needs when no HTTP listener of its own does it.
async fn metrics_upkeep() {
    let Some(handle) = invoice_api::http::metrics::recorder() else {
        return;
    };
    let mut ticks = tokio::time::interval(Duration::from_secs(5));
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}
