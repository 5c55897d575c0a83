//! The real binary as a child process: free ports, a guard that never leaves a server behind,
//! and a small HTTP/1.1 client over plain TCP (one exchange per connection, or keep-alive).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::postgres::PgConnectOptions;

/// The server binary cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_invoice-api");

/// How long a client waits for an answer: a guard against a hang, never a measure of speed.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An HTTP answer: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// Whether the server closes the connection after this answer.
    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"))
    }
}

/// One HTTP/1.1 exchange over a fresh connection that the server closes afterwards.
pub fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    try_exchange(port, method, path, headers, body)
        .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
}

/// [`exchange`], with a failure to connect, send or read as an error rather than a panic.
pub fn try_exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> io::Result<Answer> {
    let mut connection = HttpConnection::open(port)?;
    let mut headers = headers.to_vec();
    headers.push(("Connection", "close"));
    connection.send(method, path, &headers, body)
}

/// A client connection that may carry several requests one after another (keep-alive).
pub struct HttpConnection {
    reader: BufReader<TcpStream>,
    open: bool,
}

impl HttpConnection {
    /// Connects to the server on `port`.
    pub fn open(port: u16) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        Ok(Self {
            reader: BufReader::new(stream),
            open: true,
        })
    }

    /// Whether the server has not said it closes the connection.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Sends one request and reads its answer.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> io::Result<Answer> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        self.reader.get_mut().write_all(request.as_bytes())?;
        let answer = self.read_answer()?;
        self.open = !answer.closes();
        Ok(answer)
    }

    fn read_answer(&mut self) -> io::Result<Answer> {
        let status_line = self.read_line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| malformed(&status_line))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| malformed(&line))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut answer = Answer {
            status,
            headers,
            body: String::new(),
        };
        let body = if answer
            .header("transfer-encoding")
            .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
        {
            self.read_chunked()?
        } else if let Some(length) = answer.header("content-length") {
            let mut body = vec![0; length.parse().map_err(|_| malformed(length))?];
            self.reader.read_exact(&mut body)?;
            body
        } else {
            let mut body = Vec::new();
            self.reader.read_to_end(&mut body)?;
            body
        };
        answer.body = String::from_utf8(body).map_err(|error| malformed(&error.to_string()))?;
        Ok(answer)
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let size_line = self.read_line()?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| malformed(&size_line))?;
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..])?;
            self.read_line()?;
        }
    }

    /// One line without its CRLF; the end of the stream is an error (the answer is cut short).
    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed answer: {what:?}"),
    )
}

/// The server binary running on a free port; killed when dropped, so no test leaves one behind.
/// Its output (logs on stdout, failures on stderr) goes to a file that is printed when the test
/// fails.
pub struct ServerProcess {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts the server with `env` (and `BIND_ADDR` on a free port) and waits until it listens.
    /// It runs in the temporary directory, so a developer's `.env` does not leak in.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "invoice-api-test-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let log_file = File::create(&log).unwrap();
        let child = Command::new(BINARY)
            .current_dir(std::env::temp_dir())
            .env("RUST_LOG", "warn")
            .env("LOG_FORMAT", "text")
            .env("NO_COLOR", "1")
            .envs(through_the_runs_pooler(env))
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let mut server = Self { child, port, log };
        server.wait_until_serving();
        server
    }

    fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(self.is_running(), "the server exited early");
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it to end.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit, failing the test after `limit`.
    pub fn wait_for_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `env`, with the database reached as the test run reaches it: when the run goes through a
/// PgBouncer ([`crate::helpers::pooler_port`]) and `DATABASE_URL` names the test PostgreSQL, the
/// server is given it through the pooler, with the settings of a replica behind one.
fn through_the_runs_pooler(env: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let Some(pooler_port) = crate::helpers::pooler_port() else {
        return env;
    };
    let chooses_itself = env
        .iter()
        .any(|(name, _)| name == "DATABASE_TRANSACTION_POOLER");
    let test_postgres: PgConnectOptions = std::env::var("DATABASE_URL").unwrap().parse().unwrap();
    let Some(position) = env.iter().position(|(name, _)| name == "DATABASE_URL") else {
        return env;
    };
    let url = env[position].1.clone();
    let options: PgConnectOptions = url.parse().unwrap();
    let on_test_postgres = options.get_host() == test_postgres.get_host()
        && options.get_port() == test_postgres.get_port();
    if chooses_itself || !on_test_postgres {
        return env;
    }
    let database = options.get_database().unwrap_or("postgres");
    env[position].1 = format!(
        "postgres://{}@127.0.0.1:{pooler_port}/{database}",
        options.get_username()
    );
    env.push(("DATABASE_DIRECT_URL".to_owned(), url));
    env.push(("DATABASE_TRANSACTION_POOLER".to_owned(), "true".to_owned()));
    env
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("----- server log (last lines) -----");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        let _ = std::fs::remove_file(&self.log);
    }
}
