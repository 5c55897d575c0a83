//! Hostile and careless clients against the real binary: slow and idle connections are cut
//! off, made-up methods and paths do not grow `/metrics`, a guessable `JWT_SECRET` stops the
//! server, and a revoked API key is refused by every replica as soon as the revocation commits.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::helpers::database_url;
use crate::process::{BINARY, ServerProcess, exchange, free_port};

/// How long anything may take: a guard against a hang, never a measure of speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// Connections that send half a request line and nothing more.
const SLOW_CLIENTS: usize = 40;

/// Opens a raw connection to the server on `port`.
fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|error| panic!("connect to 127.0.0.1:{port}: {error}"));
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// What a read from a connection the client has stopped writing to tells: `Ok(())` when the
/// server closed it (end of stream, or reset), the bytes when it sent something instead, and
/// an error when it is still open after the read timeout.
fn closed_by_server(stream: &mut TcpStream) -> Result<(), String> {
    let mut buffer = [0_u8; 1024];
    match stream.read(&mut buffer) {
        Ok(0) => Ok(()),
        Ok(read) => Err(format!(
            "the server sent {:?} rather than closing",
            String::from_utf8_lossy(&buffer[..read])
        )),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(format!("still open after the read timeout: {error}"))
        }
        // Reset, aborted: the server closed it with data unread, which is closing too.
        Err(_) => Ok(()),
    }
}

/// Reads one answer that carries a `Content-Length` from a raw stream, without reading past
/// it: its status, its head's lines (after the status line) and its body.
fn read_answer(stream: &mut TcpStream) -> (u16, Vec<String>, String) {
    let mut received = Vec::new();
    let mut byte = [0_u8; 1];
    // A head of at most 16 KiB, one byte at a time so that nothing past it is consumed.
    while !received.ends_with(b"\r\n\r\n") {
        assert!(received.len() < 16 * 1024, "an endless answer head");
        let read = stream.read(&mut byte).expect("read the answer head");
        assert_eq!(
            read,
            1,
            "the connection closed within the answer head: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.push(byte[0]);
    }
    let head = String::from_utf8(received).unwrap();
    let mut lines = head.trim_end().split("\r\n").map(str::to_owned);
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("malformed status line {status_line:?}"));
    let headers: Vec<String> = lines.collect();
    let length: usize = headers
        .iter()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
    let mut body = vec![0; length];
    stream.read_exact(&mut body).expect("read the answer body");
    (status, headers, String::from_utf8(body).unwrap())
}

/// Runs `command` to its end, killing it and failing the test if it is still running after
/// [`PATIENCE`] (a server that was meant to refuse to start, say).
fn run_bounded(mut command: Command) -> Output {
    let child = command
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(PATIENCE) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{command:?} was still running after {PATIENCE:?}");
        }
    }
}

/// Runs a command of the binary on the database at `url`, and fails the test unless it
/// succeeds; its standard output.
fn cli(url: &str, args: &[&str]) -> String {
    let output = cli_output(url, args);
    assert!(
        output.status.success(),
        "{args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs a command of the binary on the database at `url`, whatever its outcome.
fn cli_output(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("BOOTSTRAP_ORGANIZATION_ID")
        .env_remove("BOOTSTRAP_API_KEY")
        .env_remove("JWT_SECRET");
    run_bounded(command)
}

#[sqlx::test]
async fn slow_clients_are_cut_off_and_others_are_still_served(pool: PgPool) {
    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", &database_url(&pool)),
        ("HEADER_READ_TIMEOUT_SECS", "1"),
        ("MAX_CONNECTIONS", "16"),
    ]);
    let port = server.port;
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..SLOW_CLIENTS)
        .map(|_| {
            let mut stream = connect(port);
            stream.write_all(b"GET /health HT").unwrap();
            stream
        })
        .collect();

    let health = exchange(port, "GET", "/health", &[], None);
    eprintln!(
        "with {SLOW_CLIENTS} slow clients holding 16 slots, a normal request was answered after {:?}",
        started.elapsed()
    );
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"status":"ok"}"#),
        "a normal client is served once slow ones are cut off"
    );

    // One deadline for all of them, so that a server that never closes fails in PATIENCE.
    let deadline = Instant::now() + PATIENCE;
    let mut still_open = Vec::new();
    for (number, stream) in slow.iter_mut().enumerate() {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).unwrap();
        if let Err(what) = closed_by_server(stream) {
            still_open.push(format!("slow client {number}: {what}"));
        }
    }
    eprintln!(
        "all {SLOW_CLIENTS} slow clients were closed {:?} after they connected",
        started.elapsed()
    );
    assert!(
        still_open.is_empty(),
        "every slow client is closed by the server:\n{}",
        still_open.join("\n")
    );
    assert!(server.is_running(), "the server survived its slow clients");
    let again = exchange(port, "GET", "/health", &[], None);
    assert_eq!(again.status, 200, "{}", again.body);
}

#[sqlx::test]
async fn an_idle_kept_alive_connection_is_closed_by_the_server(pool: PgPool) {
    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", &database_url(&pool)),
        ("HEADER_READ_TIMEOUT_SECS", "1"),
    ]);
    let mut stream = connect(server.port);
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, headers, body) = read_answer(&mut stream);
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":"ok"}"#),
        "{headers:?}"
    );
    assert!(
        !headers
            .iter()
            .any(|line| line.to_ascii_lowercase().replace(' ', "") == "connection:close"),
        "the answer keeps the connection alive: {headers:?}"
    );

    let answered = Instant::now();
    let closed = closed_by_server(&mut stream);
    eprintln!(
        "the idle kept-alive connection ended {:?} after its answer: {closed:?}",
        answered.elapsed()
    );
    assert_eq!(closed, Ok(()), "an idle kept-alive connection is closed");
    assert!(server.is_running());
}

/// The value of the `http_connections_open` gauge, as `/metrics` shows it (its own connection
/// included).
fn connections_open(port: u16) -> u64 {
    let metrics = exchange(port, "GET", "/metrics", &[], None);
    metrics
        .body
        .lines()
        .find_map(|line| line.strip_prefix("http_connections_open "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no http_connections_open in {}", metrics.body))
}

#[sqlx::test]
async fn a_client_that_stops_reading_its_answers_is_cut_off(pool: PgPool) {
    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", &database_url(&pool)),
        ("WRITE_STALL_TIMEOUT_SECS", "1"),
    ]);
    let port = server.port;
    const ASSET: &str = "/docs/swagger-ui-bundle.js";
    let asset = exchange(port, "GET", ASSET, &[], None);
    assert_eq!(asset.status, 200, "{ASSET} is served");
    let one_answer = asset.body.len();

    // Fifty pipelined requests for a large asset whose answers are never read: far more than
    // the two sockets' buffers hold, so the server's writes stall.
    const REQUESTS: usize = 50;
    let mut stalled = connect(port);
    let request = format!("GET {ASSET} HTTP/1.1\r\nHost: x\r\n\r\n").repeat(REQUESTS);
    stalled.write_all(request.as_bytes()).unwrap();
    let stalled_since = Instant::now();
    // Only the connection asking remains once the server has let go of the stalled one.
    while connections_open(port) > 1 {
        assert!(
            stalled_since.elapsed() < PATIENCE,
            "the stalled connection was never closed by the server"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "the client that stopped reading was cut off {:?} after its requests",
        stalled_since.elapsed()
    );
    let mut received = Vec::new();
    // What the buffers held, then the end (or a reset): not all fifty answers.
    let _ = stalled.read_to_end(&mut received);
    assert!(
        received.len() < REQUESTS * one_answer,
        "received {} bytes, as much as {REQUESTS} answers of {one_answer} bytes",
        received.len()
    );
    assert!(server.is_running());
    assert_eq!(exchange(port, "GET", ASSET, &[], None).status, 200);
}

#[sqlx::test]
async fn made_up_methods_and_paths_do_not_add_metric_series(pool: PgPool) {
    // Metrics are per process: this server's are this test's alone.
    let server = ServerProcess::start(&[("DATABASE_URL", &database_url(&pool))]);
    let port = server.port;
    let mut made_up = Vec::new();
    let mut send_batch = |batch: &str, count: usize| {
        let mut statuses = std::collections::BTreeMap::<String, usize>::new();
        for number in 1..=count {
            let method = format!("X{batch}METHOD{number}");
            let path = format!("/no/such/{}", uuid::Uuid::new_v4());
            for (method, path) in [
                (method.as_str(), "/health"),
                ("GET", path.as_str()),
                (method.as_str(), path.as_str()),
            ] {
                let answer = exchange(port, method, path, &[], None);
                let kind = if path == "/health" {
                    "made-up method on /health"
                } else if method == "GET" {
                    "GET on an unknown path"
                } else {
                    "made-up method on an unknown path"
                };
                *statuses
                    .entry(format!("{kind}: {}", answer.status))
                    .or_default() += 1;
            }
            made_up.push(method);
        }
        eprintln!("{batch}: {statuses:?}");
    };
    let metrics = || {
        let answer = exchange(port, "GET", "/metrics", &[], None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    };

    send_batch("WARM", 10);
    // The first read of /metrics is itself counted only after it is rendered: read twice.
    metrics();
    let before = metrics();
    send_batch("MORE", 100);
    let after = metrics();

    // The exporter writes series in no fixed order.
    let series = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|line| line.starts_with("http_requests_total{"))
            .map(|line| line.rsplit_once(' ').unwrap().0.to_owned())
            .collect()
    };
    eprintln!(
        "/metrics had {} lines after the warm-up and {} after 300 more requests; series: {:#?}",
        before.lines().count(),
        after.lines().count(),
        series(&after)
    );
    assert_eq!(
        series(&after),
        series(&before),
        "the same request series after 300 more made-up requests"
    );
    assert_eq!(
        after.lines().count(),
        before.lines().count(),
        "as many lines after 300 more made-up requests:\nbefore:\n{before}\nafter:\n{after}"
    );
    for method in &made_up {
        assert!(
            !after.contains(method.as_str()),
            "{method} appears in /metrics:\n{after}"
        );
    }
    assert!(
        !after.contains("/no/such"),
        "an unknown path appears in /metrics:\n{after}"
    );
    for expected in [
        r#"method="other",route="/health",status="405""#,
        r#"method="GET",route="unmatched",status="404""#,
    ] {
        assert!(after.contains(expected), "{expected} missing:\n{after}");
    }
}

#[sqlx::test]
async fn a_jwt_secret_shorter_than_32_bytes_stops_the_server_naming_the_variable(pool: PgPool) {
    let url = database_url(&pool);
    // The last one is 31 bytes: one short.
    for secret in ["", "short", "leakcheck-leakcheck-leakcheck-1"] {
        let mut command = Command::new(BINARY);
        command
            .env("DATABASE_URL", &url)
            .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("JWT_SECRET", secret)
            .env("RUST_LOG", "warn")
            .env_remove("BOOTSTRAP_ORGANIZATION_ID")
            .env_remove("BOOTSTRAP_API_KEY");
        let output = run_bounded(command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "JWT_SECRET={secret:?} must stop the server: {}\n{stderr}",
            output.status
        );
        assert!(
            stderr.contains("JWT_SECRET"),
            "JWT_SECRET={secret:?}: stderr names the variable: {stderr}"
        );
        if secret.len() > "short".len() {
            assert!(
                !stderr.contains(secret),
                "the secret is not echoed: {stderr}"
            );
        }
        eprintln!("JWT_SECRET={secret:?}: {} {}", output.status, stderr.trim());
    }

    let mut server = ServerProcess::start(&[
        ("DATABASE_URL", &url),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
    ]);
    let health = exchange(server.port, "GET", "/health", &[], None);
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"status":"ok"}"#),
        "a 32-byte secret is enough"
    );
    assert!(server.is_running());
}

/// One line of `list-api-keys`, by column.
#[derive(Debug)]
struct Listed {
    id: String,
    organization: String,
    prefix: String,
    revoked: String,
}

fn list_api_keys(url: &str, organization: &str) -> Vec<Listed> {
    let out = cli(url, &["list-api-keys", "--organization", organization]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("id\torganization\tprefix\tkind\tpermissions\tcreated\trevoked"),
        "{out}"
    );
    lines
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            assert_eq!(columns.len(), 7, "{line:?}");
            Listed {
                id: columns[0].to_owned(),
                organization: columns[1].to_owned(),
                prefix: columns[2].to_owned(),
                revoked: columns[6].to_owned(),
            }
        })
        .collect()
}

/// The one listed key that `key` starts with.
fn listing_of<'a>(listed: &'a [Listed], key: &str) -> &'a Listed {
    let matching: Vec<&Listed> = listed
        .iter()
        .filter(|row| key.starts_with(&row.prefix))
        .collect();
    assert_eq!(matching.len(), 1, "one listed key of {key:.16}: {listed:?}");
    matching[0]
}

fn invoices_status(port: u16, key: &str) -> u16 {
    exchange(port, "GET", "/invoices", &[("REB-APIKEY", key)], None).status
}

#[sqlx::test]
async fn a_revoked_key_is_refused_by_every_replica_as_soon_as_the_revocation_commits(pool: PgPool) {
    const ORGANIZATION: &str = "org_revoke";
    let url = database_url(&pool);
    let replicas = [
        ServerProcess::start(&[("DATABASE_URL", &url)]),
        ServerProcess::start(&[("DATABASE_URL", &url)]),
    ];
    // Each replica remembers keys only once it hears of revocations: wait for both to listen,
    // so that the keys used below are certainly remembered.
    let waiting = Instant::now();
    loop {
        let listening: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where datname = current_database() and query ilike 'listen %api_key_changed%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if listening >= 2 {
            break;
        }
        assert!(
            waiting.elapsed() < PATIENCE,
            "{listening} of 2 replicas listen for revoked keys"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let create = || {
        let key = cli(&url, &["create-api-key", "--organization", ORGANIZATION]);
        key.trim().to_owned()
    };
    let revoked_key = create();
    let kept_key = create();
    for replica in &replicas {
        for _ in 0..3 {
            for key in [&revoked_key, &kept_key] {
                assert_eq!(invoices_status(replica.port, key), 200, "before revocation");
            }
        }
    }

    let listed = list_api_keys(&url, ORGANIZATION);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let target = listing_of(&listed, &revoked_key);
    assert_eq!(
        (target.organization.as_str(), target.revoked.as_str()),
        (ORGANIZATION, "-"),
        "an active key: {target:?}"
    );
    let id = target.id.clone();
    let prefix = target.prefix.clone();

    let revoked = cli(&url, &["revoke-api-key", &id]);
    let revoked_at = Instant::now();
    assert_eq!(
        revoked.trim_end(),
        format!("revoked {id} ({prefix}) of {ORGANIZATION}")
    );
    for (number, replica) in replicas.iter().enumerate() {
        let status = loop {
            let status = invoices_status(replica.port, &revoked_key);
            if status != 200 || revoked_at.elapsed() >= PATIENCE {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        eprintln!(
            "replica {number} answered {status} to the revoked key {:?} after the revocation",
            revoked_at.elapsed()
        );
        assert_eq!(
            status, 401,
            "replica {number} refuses the revoked key well before it would forget it (60 s)"
        );
    }
    for (number, replica) in replicas.iter().enumerate() {
        assert_eq!(
            invoices_status(replica.port, &kept_key),
            200,
            "replica {number} still accepts the organization's other key"
        );
    }

    let listed = list_api_keys(&url, ORGANIZATION);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let target = listing_of(&listed, &revoked_key);
    assert_eq!(target.id, id);
    assert!(
        target.revoked.len() == "2026-01-01T00:00:00Z".len()
            && target.revoked.ends_with('Z')
            && target.revoked.as_bytes()[10] == b'T',
        "a revocation time: {target:?}"
    );
    let kept = listing_of(&listed, &kept_key);
    assert_eq!(kept.revoked, "-", "the other key stays active: {kept:?}");

    let again = cli_output(&url, &["revoke-api-key", &id]);
    assert!(
        !again.status.success(),
        "a second revocation fails: {}",
        String::from_utf8_lossy(&again.stdout)
    );
    eprintln!(
        "a second revocation: {} {}",
        again.status,
        String::from_utf8_lossy(&again.stderr).trim()
    );
}

#[sqlx::test]
async fn heads_hyper_refuses_by_itself_are_problems_too(pool: PgPool) {
    let mut server = ServerProcess::start(&[("DATABASE_URL", &database_url(&pool))]);
    let many_fields: String = (0..120)
        .map(|index| format!("x-extra-{index}: 1\r\n"))
        .collect();
    let heads = [
        (
            format!("GET /invoices HTTP/1.1\r\nHost: x\r\n{many_fields}\r\n"),
            431,
            "/problems/request-header-fields-too-large",
        ),
        (
            format!(
                "GET /invoices HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n\r\n",
                "b".repeat(300 * 1024)
            ),
            431,
            "/problems/request-header-fields-too-large",
        ),
        (
            "NOT HTTP AT ALL\r\n\r\n".to_owned(),
            400,
            "/problems/bad-request",
        ),
    ];
    for (head, expected, kind) in heads {
        let mut stream = connect(server.port);
        // A head past hyper's buffer is answered before it is all sent: the rest may not go.
        let _ = stream.write_all(head.as_bytes());
        let (status, headers, body) = read_answer(&mut stream);
        assert_eq!(status, expected, "{headers:?} {body}");
        assert!(
            headers
                .iter()
                .any(|line| line.eq_ignore_ascii_case("content-type: application/problem+json")),
            "{headers:?}"
        );
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["type"], kind, "{problem}");
        assert_eq!(problem["status"], expected, "{problem}");
    }
    // The server answers as before.
    assert_eq!(
        exchange(server.port, "GET", "/health", &[], None).status,
        200
    );
    assert!(server.is_running());
}
