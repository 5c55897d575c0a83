//! A fast webhook receiver for `bench/deliveries`: it answers 204 to every request as soon as
//! its body has arrived and, when it is stopped (SIGTERM or Ctrl-C), writes one line per
//! request received: its `webhook-id` header, when it arrived (Unix microseconds) and its path.
//!
//!     cargo run --release --example receipt_log -- 127.0.0.1:18098 target/bench-receipts.tsv
//!
//! It verifies no signature: what it measures is how fast deliveries arrive, not what they
//! say (`examples/webhook_receiver.py` verifies them).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use tokio::signal::unix::{SignalKind, signal};

/// The receipts, as written at the end: `webhook-id`, microseconds and path, apart by tabs.
type Receipts = Arc<Mutex<Vec<(String, u128, String)>>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(output)) = (args.next(), args.next()) else {
        return Err("usage: receipt_log ADDRESS OUTPUT".into());
    };
    let address: SocketAddr = address.parse()?;
    let receipts = Receipts::default();
    let kept = Arc::clone(&receipts);
    // The body is read whole, so that the connection is kept alive for the next delivery.
    let app = axum::Router::new()
        .fallback(move |uri: Uri, headers: HeaderMap, _body: Bytes| {
            let kept = Arc::clone(&kept);
            async move {
                let received = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_micros());
                let id = headers
                    .get("webhook-id")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                let path = uri.path().to_owned();
                kept.lock().expect("receipts").push((id, received, path));
                StatusCode::NO_CONTENT
            }
        })
        // A delivery's body holds its whole invoice, of any size.
        .layer(axum::extract::DefaultBodyLimit::disable());
    let listener = tokio::net::TcpListener::bind(address).await?;
    let mut terminate = signal(SignalKind::terminate())?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await?;
    let receipts = receipts.lock().expect("receipts");
    let mut text = String::with_capacity(receipts.len() * 48);
    for (id, received, path) in receipts.iter() {
        text.push_str(id);
        text.push('\t');
        text.push_str(&received.to_string());
        text.push('\t');
        text.push_str(path);
        text.push('\n');
    }
    std::fs::write(output, text)?;
    Ok(())
}
