//! `LOG_FORMAT=json`: the real binary's log lines of a request carry the id its answer's
//! `X-Request-Id` header carries, whether the server made the id or the client sent it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::database_url;
use crate::process::{Answer, ServerProcess, exchange};

const KEY: &str = "sk_sandbox_requestlogsrequestlogs000000";

/// The id a client chose for its request.
const CLIENT_ID: &str = "frontend-4f1c2a-retry-2";

#[sqlx::test]
async fn every_json_log_line_of_a_request_carries_the_id_of_its_x_request_id_header(pool: PgPool) {
    let server = ServerProcess::start(&[
        ("DATABASE_URL", &database_url(&pool)),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
        ("BOOTSTRAP_ORGANIZATION_ID", "org_logs"),
        ("BOOTSTRAP_API_KEY", KEY),
    ]);
    let port = server.port;
    // Whatever the server logged before it served is no request's.
    let serving = wait_for_lines(&server, |lines| {
        lines
            .iter()
            .position(|line| line["fields"]["message"] == "serving")
    });

    let missing = exchange(port, "GET", "/no/such/route", &[], None);
    let invoice = json!({"customerId": "cus_1", "websiteId": "web_1", "currency": "USD"});
    let created = exchange(
        port,
        "POST",
        "/invoices",
        &[("REB-APIKEY", KEY)],
        Some(&invoice),
    );
    let chosen = exchange(port, "GET", "/health", &[("X-Request-Id", CLIENT_ID)], None);
    assert_eq!(
        (missing.status, created.status, chosen.status),
        (404, 201, 200)
    );
    let answers = [&missing, &created, &chosen];
    let ids: Vec<&str> = answers.iter().map(|answer| request_id(answer)).collect();
    for id in &ids[..2] {
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "the server makes a UUID: {id}"
        );
    }
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[2], CLIENT_ID, "the client's X-Request-Id is kept");

    // Each answer's line ("finished processing request", with its status) is written before
    // the answer leaves, but a poll costs nothing and spares a slow disk a false failure.
    let lines = wait_for_lines(&server, |lines| {
        let logged = answers.iter().zip(&ids).all(|(answer, id)| {
            lines.iter().any(|line| {
                request_of(line) == Some(id) && line["fields"]["status"] == answer.status
            })
        });
        logged.then(|| lines.to_vec())
    });
    let of_requests = &lines[serving + 1..];
    for line in of_requests {
        let id = request_of(line).unwrap_or_else(|| {
            panic!("a line logged while serving is in no request's span: {line}")
        });
        assert!(
            ids.contains(&id),
            "a line of an unknown request {id}: {line}"
        );
    }
    for (answer, id) in answers.iter().zip(&ids) {
        let finished: Vec<&Value> = of_requests
            .iter()
            .filter(|line| {
                request_of(line) == Some(id)
                    && line["fields"]["message"] == "finished processing request"
            })
            .collect();
        assert_eq!(finished.len(), 1, "{id}: {of_requests:?}");
        assert_eq!(finished[0]["level"], "INFO");
        assert_eq!(finished[0]["fields"]["status"], answer.status);
    }
    let created_line = of_requests
        .iter()
        .find(|line| request_of(line) == Some(ids[1]))
        .unwrap();
    assert_eq!(created_line["span"]["method"], "POST");
    assert_eq!(created_line["span"]["route"], "/invoices");
    println!(
        "{} lines logged for 3 requests; the create's: {created_line}",
        of_requests.len()
    );
}

fn request_id(answer: &Answer) -> &str {
    answer
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id: {answer:?}"))
}

/// The id of the `request` span a line was logged in, if any (it is the outermost span; the
/// current one may be a function's inside it).
fn request_of(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|span| span["name"] == "request")?["request_id"]
        .as_str()
}

/// Polls the server's log, every complete line of which must be JSON, until `done` finds what
/// it needs (for at most 30 seconds).
fn wait_for_lines<T>(server: &ServerProcess, done: impl Fn(&[Value]) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = server.log();
        // A line still being written has no newline yet.
        let complete = &log[..log.rfind('\n').map_or(0, |end| end + 1)];
        let lines: Vec<Value> = complete
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("a log line that is not JSON ({error}): {line}"))
            })
            .collect();
        if let Some(found) = done(&lines) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "the log never showed what the test waits for:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[sqlx::test]
async fn text_logs_written_to_a_file_carry_no_colour_codes(pool: PgPool) {
    let server =
        ServerProcess::start(&[("DATABASE_URL", &database_url(&pool)), ("RUST_LOG", "info")]);
    let answer = exchange(server.port, "GET", "/no/such/route", &[], None);
    assert_eq!(answer.status, 404);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The answer's own line ends the request.
    while !server.log().contains("finished processing request") {
        assert!(
            Instant::now() < deadline,
            "no request line:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    assert!(log.contains("status=404"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a file:\n{log}");
}
