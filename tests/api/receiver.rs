//! A webhook receiver on loopback: it records every delivery and answers each with the next
//! status of its script (200 once the script is used up; 0 holds the request unanswered).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }

    /// Whether the Standard Webhooks signature is that of `secret` (`whsec_...`) over this
    /// delivery, computed here from the specification, not by the server's code.
    pub fn signed_by(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        let signed = format!(
            "{}.{}.",
            self.header("webhook-id"),
            self.header("webhook-timestamp")
        );
        mac.update(signed.as_bytes());
        mac.update(&self.body);
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.header("webhook-signature")
            .split(' ')
            .any(|signature| signature == expected)
    }
}

struct Log {
    received: Vec<Received>,
    script: VecDeque<u16>,
    /// The body of every answer.
    answer: &'static str,
}

/// The receiver, on a thread and runtime of its own (so that a test blocked on a server
/// process's answer does not hold it up); it stops when dropped.
pub struct Receiver {
    pub address: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    /// Listens on 127.0.0.1, answering with `script` first.
    pub fn start(script: &[u16]) -> Self {
        Self::answering(script, "thanks")
    }

    /// Listens on 127.0.0.1, answering with `script` first, each time with `answer` as body.
    pub fn answering(script: &[u16], answer: &'static str) -> Self {
        let log = Arc::new(Mutex::new(Log {
            received: Vec::new(),
            script: script.iter().copied().collect(),
            answer,
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(any(receive))
            .with_state(Arc::clone(&log));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
                let _ = serving.await;
            });
            runtime.shutdown_background();
        });
        Self {
            address,
            log,
            stop: Some(stop),
        }
    }

    /// The URL deliveries go to.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.address)
    }

    /// Every delivery so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }

    /// Waits until `count` deliveries have come (at most a minute, a guard against a hang).
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} deliveries came",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn receive(
    State(log): State<Arc<Mutex<Log>>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let (status, answer) = {
        let mut log = log.lock().unwrap();
        log.received.push(Received {
            method: method.to_string(),
            headers,
            body,
            at: Instant::now(),
        });
        (log.script.pop_front().unwrap_or(200), log.answer)
    };
    if status == 0 {
        std::future::pending::<()>().await;
    }
    (StatusCode::from_u16(status).unwrap(), answer)
}
