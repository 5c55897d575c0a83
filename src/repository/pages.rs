//! Pages of objects, newest first, by a cursor: where a page starts and which way its
//! statement reads.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

/// Where a page of objects, newest first, starts: by the id of an object of the page before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor<'a, Id> {
    /// The newest objects.
    Newest,
    /// The objects older than this one.
    OlderThan(&'a Id),
    /// The objects newer than this one.
    NewerThan(&'a Id),
}

impl<'a, Id: fmt::Display> Cursor<'a, Id> {
    /// The `(created_time, id)` that a page ordered by them starts past: the cursor's object's,
    /// whose creation time `created` reads (`None` when the cursor names no object of the
    /// organization, and then so is the answer), or for the newest page a place past every
    /// object.
    pub(super) async fn start<Read, Created>(
        &self,
        created: Read,
    ) -> Result<Option<(DateTime<Utc>, String)>, sqlx::Error>
    where
        Read: FnOnce(&'a Id) -> Created,
        Created: Future<Output = Result<Option<DateTime<Utc>>, sqlx::Error>>,
    {
        match *self {
            // Every id sorts after the empty text.
            Cursor::Newest => Ok(Some((far_future(), String::new()))),
            Cursor::OlderThan(id) | Cursor::NewerThan(id) => {
                Ok(created(id).await?.map(|time| (time, id.to_string())))
            }
        }
    }
}

/// A time after every object's creation: none is made after the year 9999.
pub(super) fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The rows of the page next to `$cursor` (a [`Cursor`]), newest first, read in `$tx`:
/// `$page!($cmp, $order, ...)` is the page's statement, where `$cmp` compares a row's
/// `(created_time, id)` with the cursor's and `$order` sorts. Towards newer objects the
/// statement reads them oldest first, so that its limit keeps those nearest the cursor, and
/// the rows are turned round.
macro_rules! page_rows {
    ($tx:expr, $cursor:expr, $page:ident!($($arguments:tt)*)) => {
        if matches!($cursor, $crate::repository::Cursor::NewerThan(_)) {
            let mut rows = $page!(">", "asc", $($arguments)*)
                .fetch_all(&mut *$tx.inner)
                .await?;
            rows.reverse();
            rows
        } else {
            $page!("<", "desc", $($arguments)*)
                .fetch_all(&mut *$tx.inner)
                .await?
        }
    };
}
pub(super) use page_rows;
