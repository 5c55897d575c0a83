//! The real binary: `create-api-key`, serving over TCP with a bootstrap key, and SIGTERM.

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{database_url, url_of_database};
use crate::process::{BINARY, ServerProcess, exchange};

#[sqlx::test]
async fn create_api_key_prints_a_key_that_the_server_accepts(pool: PgPool) {
    let url = database_url(&pool);
    let output = Command::new(BINARY)
        .args(["create-api-key", "--organization", "org_cli"])
        .env("DATABASE_URL", &url)
        // Every log line goes to standard error: the key alone is the answer on standard
        // output, however much is logged.
        .env("RUST_LOG", "debug")
        .env_remove("BOOTSTRAP_ORGANIZATION_ID")
        .env_remove("BOOTSTRAP_API_KEY")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("sk_sandbox_") && key.len() == 43, "{key}");
    let stored: Vec<u8> =
        sqlx::query_scalar("select key_hash from api_keys where organization_id = 'org_cli'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 32, "only the SHA-256 is kept");
    assert!(!String::from_utf8_lossy(&stored).contains(&key[11..]));

    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", &url),
        ("BOOTSTRAP_ORGANIZATION_ID", "org_boot"),
        (
            "BOOTSTRAP_API_KEY",
            "sk_sandbox_bootstrapbootstrapbootstrap00",
        ),
    ]);
    let port = server.port;

    let health = exchange(port, "GET", "/health", &[], None);
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"status":"ok"}"#)
    );
    let invoice = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
    let created = exchange(
        port,
        "POST",
        "/invoices",
        &[("REB-APIKEY", &key)],
        Some(&invoice),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let link = format!("http://127.0.0.1:{port}/invoices/{id}");
    assert!(
        created.body.contains(&link),
        "PUBLIC_URL defaults to http:// + BIND_ADDR: {}",
        created.body
    );
    let boot = [("REB-APIKEY", "sk_sandbox_bootstrapbootstrapbootstrap00")];
    let other = exchange(port, "GET", &format!("/invoices/{id}"), &boot, None);
    assert_eq!(
        other.status, 404,
        "the bootstrap key belongs to another organization"
    );
    let booted = exchange(port, "POST", "/invoices", &boot, Some(&invoice));
    assert_eq!(booted.status, 201, "the bootstrap key works");

    server.terminate();
    let exit = server.wait_for_exit(Duration::from_secs(10));
    assert!(exit.success(), "graceful exit: {exit:?}");
}

#[test]
fn a_missing_database_url_fails_fast_naming_the_variable() {
    let output = Command::new(BINARY)
        .env_remove("DATABASE_URL")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL"));
}

#[sqlx::test]
async fn create_api_key_restricts_a_key_to_its_permissions(pool: PgPool) {
    let url = database_url(&pool);
    let run = |permissions: &str| {
        Command::new(BINARY)
            .args(["create-api-key", "--organization", "org_cli"])
            .args(["--permissions", permissions])
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let refused = run("GetInvoice,EverythingElse");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("unknown permission \"EverythingElse\"")
            && stderr.contains("PostInvoiceItem"),
        "{stderr}"
    );
    let made = run("GetInvoice,GetInvoiceItemCollection");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let stored: Vec<String> = sqlx::query_scalar(
        "select unnest(permissions) from api_keys where organization_id = 'org_cli'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(stored, ["GetInvoice", "GetInvoiceItemCollection"]);
}

#[sqlx::test]
async fn the_database_is_created_when_missing(pool: PgPool) {
    let name = format!("invoice_api_created_{}", uuid::Uuid::new_v4().simple());
    let url = url_of_database(&pool, &name);
    let output = Command::new(BINARY)
        .args(["create-api-key", "--organization", "org_new", "--live"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .starts_with("sk_live_")
    );
    let created: bool =
        sqlx::query_scalar("select exists (select from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(created);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database \"{name}\" with (force)"
    )))
    .execute(&pool)
    .await
    .unwrap();
}
