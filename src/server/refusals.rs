//! Problem JSON for the refusals hyper answers by itself.
//!
//! A request head hyper cannot take (past its buffer or its count of header fields) or cannot
//! parse never becomes a request: hyper answers 431 or 400 on its own, with an empty body, and
//! closes the connection. Every other refusal of ours is problem JSON, so those two are
//! rewritten on their way out: hyper's head is kept (its status line, `connection: close`,
//! `date`) and its `content-length: 0` becomes the problem's type and length, then its body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::http::problem::Problem;

/// The part of hyper's own refusals that none of our answers has: an error with no body.
const HYPER_EMPTY_ERROR: &[u8] = b"\r\nconnection: close\r\ncontent-length: 0\r\n";

/// A connection whose hyper-made refusals go out as problem JSON.
pub(super) struct ProblemRefusals<S> {
    inner: S,
    /// The rewritten refusal, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
    /// The last write was taken in part: the next one goes on with the same bytes, and is
    /// never taken for the start of an answer.
    continuing: bool,
}

impl<S> ProblemRefusals<S> {
    pub(super) fn new(inner: S) -> Self {
        Self {
            inner,
            pending: None,
            continuing: false,
        }
    }

    /// Notes whether a write of `offered` bytes was taken in part.
    fn taken(
        &mut self,
        outcome: Poll<io::Result<usize>>,
        offered: usize,
    ) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(written)) = outcome {
            self.continuing = written < offered;
        }
        outcome
    }
}

impl<S: AsyncWrite + Unpin> ProblemRefusals<S> {
    /// Writes what is left of a rewritten refusal.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let count = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if count == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += count;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `head` as written in whole when it is one of hyper's refusals, to be sent
    /// rewritten instead.
    fn rewrite(&mut self, cx: &mut Context<'_>, head: &[u8]) -> Option<Poll<io::Result<usize>>> {
        if self.pending.is_some() || self.continuing {
            return None;
        }
        let rewritten = rewritten(head)?;
        self.pending = Some((rewritten, 0));
        Some(match self.drain(cx) {
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            // What the client has not taken yet goes at the next flush or shutdown.
            _ => Poll::Ready(Ok(head.len())),
        })
    }
}

/// hyper's refusal in `head`, as problem JSON; `None` for anything else. A refusal is a whole
/// head, alone: a status line of 431 or 400, hyper's empty-error fields, one blank line, last.
fn rewritten(head: &[u8]) -> Option<Vec<u8>> {
    let end = head.windows(4).position(|window| window == b"\r\n\r\n")?;
    if end + 4 != head.len() {
        return None;
    }
    let (status, detail) = if head.starts_with(b"HTTP/1.1 431 ") {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "The request head is larger than the server reads (64 KiB, 100 header fields).",
        )
    } else if head.starts_with(b"HTTP/1.1 400 ") {
        (
            StatusCode::BAD_REQUEST,
            "The request head is not HTTP/1.1 that the server can read.",
        )
    } else {
        return None;
    };
    let at = head
        .windows(HYPER_EMPTY_ERROR.len())
        .position(|window| window == HYPER_EMPTY_ERROR)?;
    let body = serde_json::to_vec(&Problem::new(status, detail)).ok()?;
    let typed = format!(
        "\r\nconnection: close\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n",
        body.len()
    );
    let mut bytes = Vec::with_capacity(head.len() + typed.len() + body.len());
    bytes.extend_from_slice(&head[..at]);
    bytes.extend_from_slice(typed.as_bytes());
    bytes.extend_from_slice(&head[at + HYPER_EMPTY_ERROR.len()..]);
    bytes.extend_from_slice(&body);
    Some(bytes)
}

impl<S: AsyncRead + Unpin> AsyncRead for ProblemRefusals<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ProblemRefusals<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(outcome) = self.rewrite(cx, buf) {
            return outcome;
        }
        ready!(self.drain(cx))?;
        let outcome = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.taken(outcome, buf.len())
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A refusal is a head alone: one slice, or a head followed by empty ones.
        if let [head, rest @ ..] = bufs
            && rest.iter().all(|slice| slice.is_empty())
            && let Some(outcome) = self.rewrite(cx, head)
        {
            return outcome;
        }
        ready!(self.drain(cx))?;
        let offered = bufs.iter().map(|slice| slice.len()).sum();
        let outcome = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.taken(outcome, offered)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::rewritten;

    #[test]
    fn hyper_refusals_become_problems_and_nothing_else_changes() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sat, 05 Dec 2026 01:33:01 GMT\r\n\r\n";
        let text = String::from_utf8(rewritten(hyper).unwrap()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ncontent-type: application/problem+json\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(head.ends_with("date: Sat, 05 Dec 2026 01:33:01 GMT"));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 431);
        assert_eq!(problem["type"], "/problems/request-header-fields-too-large");

        let bad = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert!(
            String::from_utf8(rewritten(bad).unwrap())
                .unwrap()
                .contains("\"status\":400")
        );
        // Our own answers, which have bodies, pass as they are.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 2\r\n\r\n";
        assert_eq!(rewritten(ours), None);
        // Bytes after the head: not a refusal of hyper's, whatever its first line says.
        let mut followed = bad.to_vec();
        followed.extend_from_slice(b"{}");
        assert_eq!(rewritten(&followed), None);
        assert_eq!(
            rewritten(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"),
            None
        );
    }
}
