//! A connection a worker keeps from one statement to the next.
//!
//! The pool checks a connection with a round trip as it hands it out, and again as it takes it
//! back; a worker that sends statement after statement (the item readers) would pay two round
//! trips for each of its own. Kept, the connection is checked when the worker takes it from
//! the pool, and given back when the worker lets it go (drops it), or after [`KEEP_LONGEST`].

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::Postgres;

/// The longest a connection is kept before it goes back to the pool, for the pool's own rules
/// (its lifetime, its queue) to see it again.
pub const KEEP_LONGEST: Duration = Duration::from_secs(10);

/// A connection of the pool, kept between statements; empty until the first.
///
/// A connection is kept only after statements that ended: one whose statements failed or were
/// given up half way may be in any state, and goes back to the pool, whose check makes it good
/// or closes it. Statements that fail on a kept connection as on a lost one (its socket, or
/// PostgreSQL ending its backend) run once more on a connection from the pool.
#[derive(Debug, Default)]
pub struct KeptConnection {
    /// The connection, and when it came from the pool.
    connection: Option<(PoolConnection<Postgres>, Instant)>,
    /// Whether statements failed on it as on a lost connection since [`Self::was_lost`].
    lost: bool,
}

impl KeptConnection {
    /// Whether it holds a connection.
    pub fn holds_one(&self) -> bool {
        self.connection.is_some()
    }

    /// Whether the connection kept was found lost since the last call.
    pub fn was_lost(&mut self) -> bool {
        std::mem::take(&mut self.lost)
    }

    /// The connection kept, and when it came from the pool, taken out: it is kept again only by
    /// [`Self::keep`]. One kept for [`KEEP_LONGEST`] goes back to the pool instead.
    pub(super) fn take(&mut self) -> Option<(PoolConnection<Postgres>, Instant)> {
        self.connection
            .take()
            .filter(|(_, since)| since.elapsed() < KEEP_LONGEST)
    }

    /// Keeps `connection`, on which statements have just ended, taken from the pool at `since`.
    pub(super) fn keep(&mut self, connection: PoolConnection<Postgres>, since: Instant) {
        self.connection = Some((connection, since));
    }

    /// Notes that statements failed on the kept connection as on a lost one.
    pub(super) fn found_lost(&mut self) {
        self.lost = true;
    }
}

/// Whether `error` is one of a connection lost: its socket failed, or PostgreSQL ended the
/// session (SQLSTATE classes 08, connection exception, and 57P, operator intervention).
pub(super) fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}
