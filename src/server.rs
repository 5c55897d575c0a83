//! Serving connections: HTTP/1.1 over TCP, with the limits that slow, idle and numerous clients
//! meet before any request reaches the router, and a graceful shutdown.

mod refusals;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;

use crate::http::metrics::CONNECTIONS_OPEN;
use refusals::ProblemRefusals;

/// The default of `HEADER_READ_TIMEOUT_SECS`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of `MAX_CONNECTIONS`.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
/// The default of `WRITE_STALL_TIMEOUT_SECS`.
pub const DEFAULT_WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes of a request head hyper buffers before it answers 431 by itself (rewritten
/// as problem JSON, see [`refusals`]). Above our own limits (`http::request_head`), which
/// answer first and say which limit was passed.
const HYPER_MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long to wait before accepting again after the listener failed (out of file
/// descriptors, say): the failure is the machine's, and retrying at once would spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// What each connection may take.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a client has to send a whole request head, counted from the connection's
    /// opening or from the end of the answer before: hyper's one timer for both, so it is
    /// also how long an idle kept-alive connection stays open.
    pub header_read_timeout: Duration,
    /// The most connections open at once; past it, new ones wait in the listen queue until
    /// one closes.
    pub max_connections: usize,
    /// How long a write to the client may make no progress (a client that stopped reading
    /// its answer) before the connection is closed.
    pub write_stall_timeout: Duration,
    /// How long a shutdown waits for the requests in flight before it closes what is left.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            write_stall_timeout: DEFAULT_WRITE_STALL_TIMEOUT,
            shutdown_grace: Duration::from_secs(60),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets every
/// request in flight finish (for at most [`ConnectionLimits::shutdown_grace`]), and closes the
/// idle connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(HYPER_MAX_HEAD_BYTES);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection; retrying");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and written whole: waiting to coalesce them only adds latency.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let io = TokioIo::new(ProblemRefusals::new(StallGuard::new(
            stream,
            limits.write_stall_timeout,
        )));
        let connection = graceful.watch(http.serve_connection(io, service));
        metrics::gauge!(CONNECTIONS_OPEN).increment(1);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that left, sent garbage or was too slow: its own affair.
                tracing::debug!(%error, "connection ended with an error");
            }
            metrics::gauge!(CONNECTIONS_OPEN).decrement(1);
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown_grace.as_secs(),
            "shutdown: connections still open after the grace period are closed"
        );
    }
    Ok(())
}

/// A client connection whose writes may not stall: a client that stops reading its answers
/// (its receive window full) is cut off once a write has made no progress for the timeout,
/// rather than holding its connection slot, and a shutdown, for ever.
struct StallGuard {
    stream: TcpStream,
    timeout: Duration,
    /// Running while a write waits for the client.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl StallGuard {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        Self {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// Passes a write's outcome on; a write still waiting past the timeout fails.
    fn guard<T>(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.stalled = None;
            return outcome;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading its answer",
        )))
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.guard(cx, outcome)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.guard(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.stream).poll_flush(cx);
        self.guard(cx, outcome)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.guard(cx, outcome)
    }
}
