//! Rate limits in the real binary: two servers sharing one Redis, a Redis that is down, a
//! Redis that comes up late, and the settings' checks.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::database_url;
use crate::process::{Answer, BINARY, HttpConnection, ServerProcess, exchange, free_port};
use crate::redis_server::{RedisServer, url_of_port};

const ORGANIZATION: &str = "org_shared";
const KEY: &str = "sk_sandbox_sharedlimitssharedlimits0000";

/// The settings of a server acting for [`ORGANIZATION`] with [`KEY`], plus `extra`.
fn settings<'a>(database_url: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("DATABASE_URL", database_url),
        ("BOOTSTRAP_ORGANIZATION_ID", ORGANIZATION),
        ("BOOTSTRAP_API_KEY", KEY),
    ];
    env.extend_from_slice(extra);
    env
}

fn create_product(server: &ServerProcess) -> Answer {
    exchange(
        server.port,
        "POST",
        "/products",
        &[("REB-APIKEY", KEY)],
        Some(&json!({"name": "Seat"})),
    )
}

#[sqlx::test]
async fn two_servers_on_one_redis_admit_the_limit_once_in_all(pool: PgPool) {
    let redis = RedisServer::start();
    let (database, redis_url) = (database_url(&pool), redis.url());
    let env = settings(
        &database,
        &[
            ("RATE_LIMIT_REQUESTS", "5"),
            ("RATE_LIMIT_WINDOW_SECS", "600"),
            ("REDIS_URL", &redis_url),
            // A hang guard only: on a loaded machine a slow Redis answer must not make a
            // server count in process and so admit more than the shared limit.
            ("REDIS_TIMEOUT_MS", "10000"),
        ],
    );
    let servers = [ServerProcess::start(&env), ServerProcess::start(&env)];
    let answers: Vec<(usize, Answer)> = (0..12)
        .map(|write| (write % 2, create_product(&servers[write % 2])))
        .collect();
    let admitted: Vec<&str> = answers
        .iter()
        .filter(|(_, answer)| answer.status == 201)
        .map(|(_, answer)| answer.header("x-ratelimit-remaining").unwrap())
        .collect();
    assert_eq!(admitted, ["4", "3", "2", "1", "0"], "one budget in all");
    for (server, answer) in &answers[5..] {
        assert_eq!(answer.status, 429, "server {server}: {}", answer.body);
        assert_eq!(answer.header("x-ratelimit-limit"), Some("5"));
        assert_eq!(answer.header("x-ratelimit-remaining"), Some("0"));
        let retry_after: u64 = answer.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=120).contains(&retry_after), "{retry_after}");
        assert!(answer.header("x-ratelimit-retry-after").is_some());
        assert_eq!(answer.json()["title"], "Rate Limit Exceeded");
    }
    let refusing: Vec<usize> = answers[5..].iter().map(|(server, _)| *server).collect();
    assert!(refusing.contains(&0) && refusing.contains(&1));
    let stored: i64 = sqlx::query_scalar("select count(*) from products")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 5);
    for server in &servers {
        assert!(
            !server.log().contains("Redis cannot be reached"),
            "{}",
            server.log()
        );
    }
}

#[sqlx::test]
async fn with_redis_down_the_server_starts_and_limits_in_process(pool: PgPool) {
    let database = database_url(&pool);
    let nowhere = url_of_port(free_port());
    let env = settings(
        &database,
        &[
            ("RATE_LIMIT_REQUESTS", "3"),
            ("REDIS_URL", &nowhere),
            ("RUST_LOG", "info"),
        ],
    );
    let server = ServerProcess::start(&env);
    let remaining: Vec<(u16, Option<String>)> = (0..3)
        .map(|_| {
            let answer = create_product(&server);
            let remaining = answer.header("x-ratelimit-remaining").map(str::to_owned);
            (answer.status, remaining)
        })
        .collect();
    assert_eq!(
        remaining,
        [
            (201, Some("2".to_owned())),
            (201, Some("1".to_owned())),
            (201, Some("0".to_owned()))
        ]
    );
    let refused = create_product(&server);
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.json()["title"], "Rate Limit Exceeded");
    // Reads go on, over one kept-alive connection, with no rate-limit headers.
    let mut connection = HttpConnection::open(server.port).unwrap();
    for _ in 0..5 {
        let read = connection
            .send("GET", "/products", &[("REB-APIKEY", KEY)], None)
            .unwrap();
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.header("x-ratelimit-limit"), None);
        assert_eq!(read.header("x-ratelimit-remaining"), None);
        assert!(connection.is_open());
    }
    let log = server.log();
    assert_eq!(
        log.matches("Redis cannot be reached").count(),
        1,
        "one warning per outage, not one per write: {log}"
    );
}

#[sqlx::test]
async fn a_server_started_before_redis_shares_its_limits_once_redis_answers(pool: PgPool) {
    let database = database_url(&pool);
    let port = free_port();
    let redis_url = url_of_port(port);
    let env = settings(
        &database,
        &[
            ("RATE_LIMIT_REQUESTS", "1000"),
            ("REDIS_URL", &redis_url),
            ("RUST_LOG", "info"),
        ],
    );
    let server = ServerProcess::start(&env);
    assert_eq!(create_product(&server).status, 201);

    let redis = RedisServer::start_on(port);
    let mut connection = redis.connection().await;
    let key = format!("invoice-api:rate:{ORGANIZATION}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert_eq!(create_product(&server).status, 201);
        let counted_in_redis: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        if counted_in_redis {
            break;
        }
        assert!(Instant::now() < deadline, "writes never reached Redis");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.log();
    assert!(log.contains("Redis cannot be reached"), "{log}");
    assert!(log.contains("Redis answers again"), "{log}");
}

#[sqlx::test]
async fn bad_rate_limit_settings_stop_the_server_naming_the_variable(pool: PgPool) {
    let database = database_url(&pool);
    for (variable, value) in [
        ("RATE_LIMIT_WINDOW_SECS", "0"),
        ("RATE_LIMIT_REQUESTS", "-1"),
        ("RATE_LIMIT_REQUESTS", "1000001"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
    ] {
        let mut server = Command::new(BINARY)
            .current_dir(std::env::temp_dir())
            .env("DATABASE_URL", &database)
            .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
            .env(variable, value)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A hang guard: a server that accepted the setting would serve until killed.
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = server.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = server.kill();
                panic!("{variable}={value} was accepted");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(!status.success(), "{variable}={value} was accepted");
        let mut stderr = String::new();
        server
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(stderr.contains(variable), "{variable}={value}: {stderr}");
    }
}
