//! Debian's PgBouncer in transaction mode in front of the test PostgreSQL, started by
//! `scripts/pgbouncer-up` on a free port; stopped, and its directory removed, when dropped.

use std::path::PathBuf;
use std::process::Command;

use sqlx::postgres::PgConnectOptions;

/// A running PgBouncer with `pool_mode = transaction`.
pub struct PgBouncer {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    pid: String,
    dir: PathBuf,
}

impl PgBouncer {
    /// Starts one in front of the PostgreSQL server that `postgres` names.
    pub fn start_in_front_of(postgres: &PgConnectOptions) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pgbouncer-up");
        let target = format!(
            "postgres://{}@{}:{}/postgres",
            postgres.get_username(),
            postgres.get_host(),
            postgres.get_port()
        );
        let output = Command::new(script)
            .env("DATABASE_URL", target)
            .env_remove("PGBOUNCER_PORT")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "scripts/pgbouncer-up failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let printed = String::from_utf8(output.stdout).unwrap();
        let value = |name: &str| {
            printed
                .split_whitespace()
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("no {name} in {printed:?}"))
                .to_owned()
        };
        Self {
            port: value("PGBOUNCER_PORT").parse().unwrap(),
            pid: value("PGBOUNCER_PID"),
            dir: value("PGBOUNCER_DIR").into(),
        }
    }

    /// The URL of `database` through this PgBouncer.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
