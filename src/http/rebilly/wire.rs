//! Wire details shared by the resources: JSON responses, times, links.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::http::state::AppState;

pub use crate::http::respond::json_response;

/// A 200 of `body` as JSON.
pub fn json_ok<T: Serialize>(body: &T) -> Response {
    json_response(StatusCode::OK, body)
}

/// A 201 with an absolute `Location`.
pub fn created<T: Serialize>(location: &str, body: &T) -> Response {
    let mut response = json_response(StatusCode::CREATED, body);
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(error) => ApiError::Internal(Box::new(error)).into_response(),
    }
}

/// RFC 3339 in UTC with whole seconds: `2026-11-21T14:15:22Z`.
pub fn time<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// [`time`], or `null`.
pub fn time_option<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => self::time(time, serializer),
        None => serializer.serialize_none(),
    }
}

/// One of a resource's `_links`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// How it relates to the resource: `self`, `product`.
    #[schema(value_type = String)]
    pub rel: &'static str,
    /// Absolute URL.
    pub href: String,
}

impl Link {
    /// A link of `rel` to `path` on this server.
    pub fn to(state: &AppState, rel: &'static str, path: &str) -> Self {
        Self {
            rel,
            href: state.url(path),
        }
    }
}
