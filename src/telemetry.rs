//! Logs: `RUST_LOG` filters, `LOG_FORMAT` picks text or JSON.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// Where logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// Standard output: the server's.
    Stdout,
    /// Standard error: a command's, whose standard output is its answer (a new key, a list),
    /// which no log line may mix into.
    Stderr,
}

/// Installs the global subscriber; a second call does nothing.
pub fn init(json: bool, stream: LogStream) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colour codes only for a person at a terminal, never in a file or a pipe.
    let (writer, terminal) = match stream {
        LogStream::Stdout => (
            BoxMakeWriter::new(std::io::stdout),
            std::io::stdout().is_terminal(),
        ),
        LogStream::Stderr => (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(terminal);
    let _already_set = if json {
        // Both are the defaults, stated because the request id is a field of the `request`
        // span, not of the events: without them no JSON line would carry it.
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
