//! Our own extractors: every rejection is a [`Failure`], so a bad body, path or query is
//! answered in the request's dialect rather than as axum's plain text.

#![allow(clippy::disallowed_types)]

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

use super::failure::{Failure, Rejection};
use super::json_shape::{self, MAX_DEPTH, ShapeError};
use crate::error::{ApiError, InvalidField};

/// A JSON object whose values are kept as their text.
pub type RawObject = BTreeMap<String, Box<RawValue>>;

/// The largest request body accepted (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON object body, its values kept as text. Checks, in order: content type (415),
/// size (413), JSON syntax (400), and that the body is an object (422).
#[derive(Debug)]
pub struct JsonBody(pub RawObject);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Failure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(Rejection::UnsupportedMediaType.into());
        }
        let bytes = read_body(request, state).await?;
        parse_object(&bytes).map(JsonBody)
    }
}

/// A body that may be left out (the lifecycle actions): an empty body is `None`; any other
/// is read as [`JsonBody`] is.
#[derive(Debug)]
pub struct OptionalJsonBody(pub Option<RawObject>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = Failure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(request.headers().get(header::CONTENT_TYPE));
        let bytes = read_body(request, state).await?;
        if bytes.trim_ascii().is_empty() {
            return Ok(Self(None));
        }
        if !json {
            return Err(Rejection::UnsupportedMediaType.into());
        }
        parse_object(&bytes).map(|object| Self(Some(object)))
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Rejection> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Rejection::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                }
            } else {
                Rejection::BadRequest("The request body could not be read.".to_owned())
            }
        })
}

/// Nesting depth (400), JSON syntax (400), an object (422), then keys given twice (422).
fn parse_object(bytes: &[u8]) -> Result<RawObject, Failure> {
    // Before the parser, whose nested values are parsed again field by field.
    let shape = json_shape::check(bytes);
    if shape == Err(ShapeError::TooDeep) {
        return Err(Rejection::BadRequest(format!(
            "The body nests objects and arrays deeper than {MAX_DEPTH} levels."
        ))
        .into());
    }
    let object = serde_json::from_slice(bytes).map_err(|error| {
        if error.is_data() {
            Failure::from(ApiError::Validation {
                detail: "The request body must be a JSON object.".to_owned(),
                invalid_fields: Vec::new(),
            })
        } else {
            Rejection::BadRequest(format!("The body is not valid JSON: {error}.")).into()
        }
    })?;
    if let Err(ShapeError::DuplicateKeys(paths)) = shape {
        return Err(ApiError::validation(
            paths
                .into_iter()
                .map(|path| InvalidField::new(path, "is given more than once"))
                .collect(),
        )
        .into());
    }
    Ok(object)
}

/// `application/json` or any `+json` type, parameters allowed.
fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(essence) = content_type
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Path parameters; a path that cannot be read names no resource (404).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|_| Rejection::NoRoute("No such resource."))
    }
}

/// The query string as name-value pairs, in order; checked by the handler.
#[derive(Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

#[cfg(test)]
impl Query {
    /// A query of these pairs.
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(pairs)| Query(pairs))
            .map_err(|_| Rejection::BadRequest("The query string could not be read.".to_owned()))
    }
}

impl Query {
    /// The last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised() {
        let check = |value: &str| is_json(Some(&header::HeaderValue::from_str(value).unwrap()));
        assert!(check("application/json"));
        assert!(check("application/json; charset=utf-8"));
        assert!(check("Application/JSON"));
        assert!(check("application/merge-patch+json"));
        assert!(!check("text/plain"));
        assert!(!check("application/x-www-form-urlencoded"));
        assert!(!is_json(None));
    }
}
