//! `filter` and `sort` of `GET /invoices`, in Rebilly's syntax.

use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::ObjectBuilder;

use super::openapi::schema::text;
use crate::domain::currency::Currency;
use crate::domain::ids::CustomerId;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::invoice_listing::{InvoiceFilter, SortField, SortKey};
use crate::http::extract::Query;
use crate::http::problem::InvalidField;

/// The longest `filter` or `sort`.
const MAX_CHARS: usize = 1000;

/// The fields `sort` may name, each as `field` or `-field`.
const SORT_FIELDS: [(&str, SortField); 2] = [
    ("createdTime", SortField::CreatedTime),
    ("amount", SortField::Amount),
];

/// Which invoices a list shows, and in what order.
#[derive(Debug)]
pub struct InvoiceQuery {
    /// `filter`: what to keep.
    pub filter: InvoiceFilter,
    /// `sort`: `-createdTime` when absent.
    pub order: Vec<SortKey>,
}

impl InvoiceQuery {
    /// Reads `filter` and `sort`, recording bad values in `errors`.
    pub fn from_query(query: &Query, errors: &mut Vec<InvalidField>) -> Self {
        let mut text = |name: &str| {
            let value = query.get(name)?;
            if value.chars().count() > MAX_CHARS {
                errors.push(InvalidField::new(
                    name,
                    format!("must be at most {MAX_CHARS} characters"),
                ));
                return None;
            }
            Some(value)
        };
        let (filter, sort) = (text("filter"), text("sort"));
        Self {
            filter: parse_filter(filter, errors),
            order: parse_sort(sort, errors),
        }
    }
}

impl IntoParams for InvoiceQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let query = |name: &str, description: &str, schema: ObjectBuilder| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .description(Some(description))
                .schema(Some(schema))
                .build()
        };
        vec![
            query(
                "filter",
                "`field:value1,value2;field2:value` on `status`, `customerId` and `currency`, \
                 each field at most once.",
                text(MAX_CHARS),
            ),
            query(
                "sort",
                "Comma-separated `createdTime` and `amount`, `-` for descending, each at most \
                 once; `-createdTime` when absent.",
                text(MAX_CHARS).pattern(Some(sort_pattern())),
            ),
        ]
    }
}

/// What [`parse_sort`] reads: keys trimmed of ASCII white space, empty ones skipped.
fn sort_pattern() -> String {
    let names: Vec<&str> = SORT_FIELDS.iter().map(|(name, _)| *name).collect();
    let key = format!("(-?({}){SPACE}*)?", names.join("|"));
    format!("^{SPACE}*{key}(,{SPACE}*{key})*$")
}

/// What `str::trim_ascii` trims.
const SPACE: &str = "[ \\t\\n\\f\\r]";

/// `filter` in Rebilly's syntax: `field:value1,value2;field2:value`, on `status`,
/// `customerId` and `currency`.
fn parse_filter(filter: Option<&str>, errors: &mut Vec<InvalidField>) -> InvoiceFilter {
    let mut parsed = InvoiceFilter::default();
    let Some(filter) = filter else { return parsed };
    for clause in filter.split(';').filter(|clause| !clause.trim().is_empty()) {
        let Some((field, values)) = clause.split_once(':') else {
            errors.push(InvalidField::new(
                "filter",
                format!("{clause:?} must read field:value1,value2"),
            ));
            continue;
        };
        let values: Vec<String> = values
            .split(',')
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect();
        let field = field.trim();
        let taken = match field {
            "status" => take(&mut parsed.statuses, &values, InvoiceStatus::parse),
            "customerId" => take(&mut parsed.customer_ids, &values, |value| {
                CustomerId::parse(value).ok()
            }),
            "currency" => take(&mut parsed.currencies, &values, |value| {
                Currency::parse(value).ok()
            }),
            other => {
                errors.push(InvalidField::new(
                    "filter",
                    format!("cannot filter on {other:?}; use status, customerId or currency"),
                ));
                continue;
            }
        };
        let message = match taken {
            Ok(()) => continue,
            Err(Untaken::Invalid(bad)) => format!("{bad:?} is not a valid {field}"),
            Err(Untaken::Empty) => format!("{clause:?} names no value"),
            Err(Untaken::Twice) => format!("names {field} twice"),
        };
        errors.push(InvalidField::new("filter", message));
    }
    parsed
}

/// Why a filter clause's values were not taken.
enum Untaken<'a> {
    /// This value is not one of the field's.
    Invalid(&'a str),
    /// It names no value.
    Empty,
    /// The field was named before.
    Twice,
}

/// Reads a clause's values into its field's slot, each by `parse`.
fn take<'a, T>(
    slot: &mut Option<Vec<T>>,
    values: &'a [String],
    parse: impl Fn(&str) -> Option<T>,
) -> Result<(), Untaken<'a>> {
    let mut parsed = Vec::with_capacity(values.len());
    for value in values {
        parsed.push(parse(value).ok_or(Untaken::Invalid(value))?);
    }
    if parsed.is_empty() {
        Err(Untaken::Empty)
    } else if slot.is_some() {
        Err(Untaken::Twice)
    } else {
        *slot = Some(parsed);
        Ok(())
    }
}

/// `sort`: comma-separated `field` or `-field`, on `createdTime` and `amount`; default
/// `-createdTime`.
fn parse_sort(sort: Option<&str>, errors: &mut Vec<InvalidField>) -> Vec<SortKey> {
    let mut keys: Vec<SortKey> = Vec::new();
    for key in sort
        .unwrap_or("-createdTime")
        .split(',')
        .map(str::trim_ascii)
        .filter(|key| !key.is_empty())
    {
        let (descending, name) = match key.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, key),
        };
        let Some(&(_, field)) = SORT_FIELDS.iter().find(|(known, _)| *known == name) else {
            errors.push(InvalidField::new(
                "sort",
                format!("cannot sort by {name:?}; use createdTime or amount, - for descending"),
            ));
            continue;
        };
        if keys.iter().any(|known| known.field == field) {
            errors.push(InvalidField::new("sort", format!("names {name} twice")));
            continue;
        }
        keys.push(SortKey { field, descending });
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(pairs: &[(&str, &str)]) -> Vec<String> {
        let mut errors = Vec::new();
        InvoiceQuery::from_query(&Query::of(pairs), &mut errors);
        errors.into_iter().map(|error| error.field).collect()
    }

    #[test]
    fn the_sort_pattern_matches_what_the_parser_takes() {
        let pattern = sort_pattern();
        assert_eq!(
            pattern,
            "^[ \\t\\n\\f\\r]*(-?(createdTime|amount)[ \\t\\n\\f\\r]*)?\
             (,[ \\t\\n\\f\\r]*(-?(createdTime|amount)[ \\t\\n\\f\\r]*)?)*$"
        );
        for taken in [
            "",
            "amount",
            " -createdTime , amount ",
            "amount,,",
            "\t-amount",
        ] {
            assert!(invalid(&[("sort", taken)]).is_empty(), "{taken:?}");
        }
        for refused in ["- amount", "price", "amount\u{85}", "amount;"] {
            assert_eq!(invalid(&[("sort", refused)]), ["sort"], "{refused:?}");
        }
    }

    #[test]
    fn filter_and_sort_are_at_most_1000_characters() {
        let long = ";".repeat(MAX_CHARS + 1);
        assert_eq!(invalid(&[("filter", &long)]), ["filter"]);
        let long = ",".repeat(MAX_CHARS + 1);
        assert_eq!(invalid(&[("sort", &long)]), ["sort"]);
        assert!(invalid(&[("filter", &";".repeat(MAX_CHARS))]).is_empty());
    }
}
