//! Logs: `RUST_LOG` filters, `LOG_FORMAT` picks text or JSON.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call does nothing.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _already_set = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
