//! The real binary: `create-api-key`, serving over TCP with a bootstrap key, and SIGTERM.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

const BINARY: &str = env!("CARGO_BIN_EXE_invoice-api");

/// The URL of the test's own database.
fn database_url(pool: &PgPool) -> String {
    url_of_database(pool, pool.connect_options().get_database().unwrap())
}

/// The URL of another database on the test's server.
fn url_of_database(pool: &PgPool, database: &str) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{database}",
        options.get_username(),
        options.get_host(),
        options.get_port()
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange over a fresh connection: status and body.
fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn wait_until_serving(server: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            server.try_wait().unwrap().is_none(),
            "the server exited early"
        );
        assert!(
            Instant::now() < deadline,
            "the server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[sqlx::test]
async fn create_api_key_prints_a_key_that_the_server_accepts(pool: PgPool) {
    let url = database_url(&pool);
    let output = Command::new(BINARY)
        .args(["create-api-key", "--organization", "org_cli"])
        .env("DATABASE_URL", &url)
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

    let port = free_port();
    let mut server = Command::new(BINARY)
        .env("DATABASE_URL", &url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("BOOTSTRAP_ORGANIZATION_ID", "org_boot")
        .env(
            "BOOTSTRAP_API_KEY",
            "sk_sandbox_bootstrapbootstrapbootstrap00",
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_serving(&mut server, port);

    let (status, body) = exchange(port, "GET", "/health", &[], None);
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let invoice = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
    let (status, body) = exchange(
        port,
        "POST",
        "/invoices",
        &[("REB-APIKEY", &key)],
        Some(&invoice),
    );
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = format!("http://127.0.0.1:{port}/invoices/{id}");
    assert!(
        body.contains(&link),
        "PUBLIC_URL defaults to http:// + BIND_ADDR: {body}"
    );
    let boot = [("REB-APIKEY", "sk_sandbox_bootstrapbootstrapbootstrap00")];
    let (status, _) = exchange(port, "GET", &format!("/invoices/{id}"), &boot, None);
    assert_eq!(
        status, 404,
        "the bootstrap key belongs to another organization"
    );
    let (status, _) = exchange(port, "POST", "/invoices", &boot, Some(&invoice));
    assert_eq!(status, 201, "the bootstrap key works");

    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
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
