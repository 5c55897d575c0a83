//! `limit` and `offset` of collections, and the `Pagination-*` headers.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{RefOr, Response as ResponseDoc};
use utoipa::{IntoParams, PartialSchema};

use super::openapi::schema::integer;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::problem::InvalidField;
use crate::http::respond::json_response;

/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest `limit`.
pub const MAX_LIMIT: i64 = 1000;
/// The largest `offset`.
pub const MAX_OFFSET: i64 = 1_000_000;

/// What the contract says of each header [`Page::headers`] sets.
const HEADER_DESCRIPTIONS: [(&str, &str); 3] = [
    ("Pagination-Total", "How many there are in all"),
    ("Pagination-Limit", "The `limit` applied"),
    ("Pagination-Offset", "The `offset` applied"),
];

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many items.
    pub limit: i64,
    /// After skipping this many.
    pub offset: i64,
}

impl IntoParams for Page {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let query = |name: &str, max: i64, description: String| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .description(Some(description))
                .schema(Some(integer(0, max)))
                .build()
        };
        vec![
            query(
                "limit",
                MAX_LIMIT,
                format!("At most this many; {DEFAULT_LIMIT} when absent."),
            ),
            query("offset", MAX_OFFSET, "After skipping this many.".to_owned()),
        ]
    }
}

impl Page {
    /// Reads `limit` and `offset`, recording bad values in `errors`.
    pub fn from_query(query: &Query, errors: &mut Vec<InvalidField>) -> Self {
        Self {
            limit: bounded(query, "limit", DEFAULT_LIMIT, MAX_LIMIT, errors),
            offset: bounded(query, "offset", 0, MAX_OFFSET, errors),
        }
    }

    /// Reads `limit` and `offset` of a query that has no other parameters to check.
    pub fn only(query: &Query) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let page = Self::from_query(query, &mut errors);
        ApiError::unless_invalid(errors)?;
        Ok(page)
    }

    /// A 200 of the page's `items`, of `total` in all.
    pub fn answer(self, total: i64, items: &impl Serialize) -> Response {
        (self.headers(total), json_response(StatusCode::OK, items)).into_response()
    }

    /// A 200 of the page's `rows`, each rendered by `render`, of `total` in all.
    pub fn answer_each<R, T: Serialize>(
        self,
        total: i64,
        rows: &[R],
        render: impl FnMut(&R) -> T,
    ) -> Response {
        let items: Vec<T> = rows.iter().map(render).collect();
        self.answer(total, &items)
    }

    /// The page as served when it holds `count` items, which the server may have cut short of
    /// the `limit` asked (to bound its size): a short page that is not the last says so in
    /// `Pagination-Limit`, the limit applied, so that the next page starts where it ends.
    pub fn served(self, total: i64, count: usize) -> Self {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let cut = count < self.limit && self.offset.saturating_add(count) < total;
        if cut {
            Self {
                limit: count,
                ..self
            }
        } else {
            self
        }
    }

    /// `Pagination-Total`, `Pagination-Limit` and `Pagination-Offset`.
    pub fn headers(self, total: i64) -> HeaderMap {
        [
            ("pagination-total", total),
            ("pagination-limit", self.limit),
            ("pagination-offset", self.offset),
        ]
        .into_iter()
        .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from(value)))
        .collect()
    }
}

/// Whether an operation reads a page: it takes the `limit` of [`Page`]'s parameters.
pub fn is_paged(operation: &Operation) -> bool {
    operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(parameter)
            if parameter.name == "limit" && parameter.parameter_in == ParameterIn::Query)
    })
}

/// Documents the `Pagination-*` headers on the answer of a paged operation, as
/// [`Page::answer`] sets them.
pub fn document_headers(response: &mut ResponseDoc) {
    for (name, description) in HEADER_DESCRIPTIONS {
        let header = HeaderBuilder::new()
            .schema(Some(i64::schema()))
            .description(Some(description))
            .build();
        response.headers.insert(name.to_owned(), header.into());
    }
}

fn bounded(
    query: &Query,
    name: &str,
    default: i64,
    max: i64,
    errors: &mut Vec<InvalidField>,
) -> i64 {
    let Some(text) = query.get(name) else {
        return default;
    };
    // Digits only: `parse` would also take `+5`, which is not how an integer is written.
    let digits = !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    match text.parse::<i64>() {
        Ok(value) if digits && (0..=max).contains(&value) => value,
        _ => {
            errors.push(InvalidField::new(
                name,
                format!("must be an integer between 0 and {max}"),
            ));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_are_bounded() {
        let mut errors = Vec::new();
        assert_eq!(
            Page::from_query(&Query::of(&[]), &mut errors),
            Page {
                limit: 100,
                offset: 0
            }
        );
        assert_eq!(
            Page::from_query(
                &Query::of(&[("limit", "0"), ("offset", "1000000")]),
                &mut errors
            ),
            Page {
                limit: 0,
                offset: 1_000_000
            }
        );
        assert!(errors.is_empty());
        Page::from_query(
            &Query::of(&[("limit", "1001"), ("offset", "-1")]),
            &mut errors,
        );
        Page::from_query(
            &Query::of(&[("limit", "+5"), ("offset", " 1")]),
            &mut errors,
        );
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["limit", "offset", "limit", "offset"]);
    }
}
