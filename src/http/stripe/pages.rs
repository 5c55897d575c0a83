//! Cursor pages as Stripe's lists take them: `limit` (1 to 100, 10 by default), and
//! `starting_after` or `ending_before` an object's id, newest first.

use axum::response::Response;
use serde::Serialize;

use super::error::{Bad, StripeError};
use super::params::Reader;
use super::wire::{ListObject, ok};
use crate::repository::Cursor;

/// The most objects a page holds.
const MAX_LIMIT: i64 = 100;
/// How many without `limit`.
const DEFAULT_LIMIT: i64 = 10;

/// A page's parameters, read.
#[derive(Debug)]
pub struct PageParams {
    limit: i64,
    after: Option<String>,
    before: Option<String>,
}

impl PageParams {
    /// Reads `limit`, `starting_after` and `ending_before` (not both).
    pub fn read(reader: &mut Reader) -> Self {
        let limit = match reader.integer("limit") {
            Some(limit) if !(1..=MAX_LIMIT).contains(&limit) => {
                reader.reject_key("limit", format!("must be between 1 and {MAX_LIMIT}"));
                DEFAULT_LIMIT
            }
            Some(limit) => limit,
            None => DEFAULT_LIMIT,
        };
        let after = reader.text("starting_after");
        let before = reader.text("ending_before");
        if after.is_some() && before.is_some() {
            reader.reject(Bad::coded(
                "ending_before",
                "parameters_exclusive",
                "cannot be given with starting_after",
            ));
        }
        Self {
            limit,
            after,
            before,
        }
    }

    /// The cursor's id, parsed by `parse`: an id that cannot be one names no `kind` (400 on
    /// its parameter).
    pub fn cursor_id<T>(
        &self,
        kind: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, StripeError> {
        match self.after.as_deref().or(self.before.as_deref()) {
            None => Ok(None),
            Some(id) => parse(id).map(Some).ok_or_else(|| self.no_such(kind)),
        }
    }

    /// Where the page starts, from the cursor's parsed id: after it (`starting_after`) or
    /// before it (`ending_before`).
    pub fn from<'a, T>(&self, id: Option<&'a T>) -> Cursor<'a, T> {
        match (id, self.after.is_some()) {
            (None, _) => Cursor::Newest,
            (Some(id), true) => Cursor::OlderThan(id),
            (Some(id), false) => Cursor::NewerThan(id),
        }
    }

    /// The 400 for a cursor that names no `kind` of the organization.
    pub fn no_such(&self, kind: &str) -> StripeError {
        let (param, id) = match (&self.after, &self.before) {
            (Some(id), _) => ("starting_after", id.as_str()),
            (None, Some(id)) => ("ending_before", id.as_str()),
            (None, None) => ("starting_after", ""),
        };
        StripeError::no_such_param(kind, id, param)
    }

    /// What a page reads of a short list held whole (newest first), by the cursor's id as
    /// `id` gives each object's: the 400 of [`PageParams::no_such`] when it names none.
    pub fn window<T>(
        &self,
        mut all: Vec<T>,
        kind: &str,
        id: impl Fn(&T) -> &str,
    ) -> Result<Vec<T>, StripeError> {
        let to_read = usize::try_from(self.to_read()).unwrap_or(usize::MAX);
        let Some(cursor) = self.after.as_deref().or(self.before.as_deref()) else {
            all.truncate(to_read);
            return Ok(all);
        };
        let place = all
            .iter()
            .position(|object| id(object) == cursor)
            .ok_or_else(|| self.no_such(kind))?;
        if self.after.is_some() {
            Ok(all.into_iter().skip(place + 1).take(to_read).collect())
        } else {
            let start = place.saturating_sub(to_read);
            Ok(all.into_iter().take(place).skip(start).collect())
        }
    }

    /// How many to read: one more than the page, to tell whether there are more.
    pub fn to_read(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts what was read to the page, newest first; whether there are more past it.
    fn cut<T>(&self, read: &mut Vec<T>) -> bool {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let has_more = read.len() > limit;
        if has_more {
            // Past the page's far end: the newest going forward in time, the oldest going back.
            if self.before.is_some() {
                read.remove(0);
            } else {
                read.truncate(limit);
            }
        }
        has_more
    }

    /// The answer of a list: what was read, cut to the page, each object as `object` makes
    /// it, in Stripe's list object of the list at `url`.
    pub fn answer<T, O: Serialize>(
        &self,
        mut read: Vec<T>,
        object: impl FnMut(&T) -> O,
        url: impl Into<String>,
    ) -> Result<Response, StripeError> {
        let has_more = self.cut(&mut read);
        let data = read.iter().map(object).collect();
        ok(&ListObject::new(data, has_more, url))
    }
}
