//! Reading a JSON object field by field, collecting every bad field at once.
//!
//! Bodies are read as objects of raw JSON texts, so that money reaches `Decimal` from the
//! number's own digits and so that one wrong type does not hide the other mistakes.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use crate::domain::idempotency::CanonicalBody;
use crate::domain::money::decimal_from_json_number;
use crate::error::ApiError;
use crate::http::problem::InvalidField;

pub use crate::http::extract::RawObject;

/// A body's canonical form, for the idempotency fingerprint: `None` for an empty object, which
/// counts as no body.
pub fn canonical_body(body: &RawObject) -> Option<CanonicalBody> {
    if body.is_empty() {
        return None;
    }
    serde_json::to_string(body)
        .ok()
        .map(|text| CanonicalBody::of_json(&text))
}

/// Reads the fields of one object (the body, or a nested object such as `tax`).
#[derive(Debug)]
pub struct FieldReader {
    fields: RawObject,
    prefix: String,
    errors: Vec<InvalidField>,
}

impl FieldReader {
    /// A reader over a request body.
    pub fn new(fields: RawObject) -> Self {
        Self {
            fields,
            prefix: String::new(),
            errors: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Records a bad field.
    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        let field = self.path(name);
        self.errors.push(InvalidField::new(field, message));
    }

    /// Whether a field is present, `null` or not.
    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// Whether a field is present with a value other than `null`.
    pub fn has_value(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|raw| raw.get() != "null")
    }

    /// A field that must be present and not `null`.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&RawValue) -> Result<T, String>,
    ) -> Option<T> {
        match self.fields.remove(name).filter(|raw| raw.get() != "null") {
            None => {
                self.reject(name, "is required");
                None
            }
            Some(raw) => self.check(name, parse(&raw)),
        }
    }

    /// A field that may be absent or `null` (both give `None`).
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&RawValue) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.fields.remove(name).filter(|raw| raw.get() != "null")?;
        self.check(name, parse(&raw))
    }

    /// A field of a partial update (`PATCH`): absent is `None` (kept), `null` is `Some(None)`
    /// (cleared), a value is `Some(Some(value))`.
    pub fn change<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&RawValue) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let raw = self.fields.remove(name)?;
        if raw.get() == "null" {
            return Some(None);
        }
        self.check(name, parse(&raw)).map(Some)
    }

    /// A nested object that may be absent or `null`, read by its own reader whose errors are
    /// named `name.field`. Hand it back with [`FieldReader::adopt`].
    pub fn optional_object(&mut self, name: &str) -> Option<FieldReader> {
        let fields = self.optional(name, object)?;
        Some(Self {
            fields,
            prefix: format!("{}.", self.path(name)),
            errors: Vec::new(),
        })
    }

    /// A list of objects that may be absent or `null` (an empty list then), of at most `max`
    /// elements, each read by its own reader whose errors are named `name.index.field`. Hand
    /// each back with [`FieldReader::adopt`].
    pub fn optional_objects(&mut self, name: &str, max: usize) -> Vec<FieldReader> {
        let Some(elements) = self.optional(name, |raw| list(raw, max)) else {
            return Vec::new();
        };
        let mut readers = Vec::with_capacity(elements.len());
        for (index, element) in elements.iter().enumerate() {
            let path = format!("{}.{index}", self.path(name));
            match object(element) {
                Ok(fields) => readers.push(Self {
                    fields,
                    prefix: format!("{path}."),
                    errors: Vec::new(),
                }),
                Err(message) => self.errors.push(InvalidField::new(path, message)),
            }
        }
        readers
    }

    /// Takes back a nested reader, refusing its fields that are neither read nor `ignored`.
    pub fn adopt(&mut self, nested: FieldReader, ignored: &[&str]) {
        self.errors.extend(nested.into_errors(ignored));
    }

    /// Drops a field without reading it.
    pub fn skip(&mut self, name: &str) {
        self.fields.remove(name);
    }

    /// Ends the reading: unknown fields (neither read nor `ignored`) are refused, and every
    /// bad field becomes one 422.
    pub fn finish(self, ignored: &[&str]) -> Result<(), ApiError> {
        let errors = self.into_errors(ignored);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(errors))
        }
    }

    fn into_errors(mut self, ignored: &[&str]) -> Vec<InvalidField> {
        let unknown: Vec<String> = self
            .fields
            .keys()
            .filter(|name| !ignored.contains(&name.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            self.reject(&name, "is not a known field");
        }
        self.errors
    }

    fn check<T>(&mut self, name: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.reject(name, message)).ok()
    }
}

/// A JSON string. The NUL character is refused: PostgreSQL text cannot hold it.
pub fn string(raw: &RawValue) -> Result<String, String> {
    if !raw.get().starts_with('"') {
        return Err("must be a string".to_owned());
    }
    let text: String =
        serde_json::from_str(raw.get()).map_err(|_| "must be a string".to_owned())?;
    if text.contains('\0') {
        return Err("must not contain the NUL character (\\u0000)".to_owned());
    }
    Ok(text)
}

/// A JSON number, read exactly.
pub fn number(raw: &RawValue) -> Result<Decimal, String> {
    let text = raw.get();
    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Err("must be a number".to_owned());
    }
    decimal_from_json_number(text).ok_or_else(|| "is too large or has too many digits".to_owned())
}

/// A JSON number with no fractional part (`3`, `3.0` and `3e0` alike).
pub fn integer(raw: &RawValue) -> Result<i64, String> {
    let value = number(raw).map_err(|_| "must be an integer".to_owned())?;
    if !value.fract().is_zero() {
        return Err("must be an integer".to_owned());
    }
    i64::try_from(value.trunc()).map_err(|_| "is too large".to_owned())
}

/// An RFC 3339 date-time string with any offset, kept in UTC.
///
/// Stricter than chrono's parser, as JSON Schema's `date-time` is: the date and time are
/// separated by `T` (chrono also takes a space), and the time in UTC must still be a four-digit
/// year, so that it is written back as a valid date-time. A leap second (`23:59:60`) becomes
/// the second after it, as PostgreSQL stores it, so the answer shows what is kept.
pub fn date_time(raw: &RawValue) -> Result<DateTime<Utc>, String> {
    let text = string(raw).map_err(|_| DATE_TIME_MESSAGE.to_owned())?;
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return Err(DATE_TIME_MESSAGE.to_owned());
    }
    let time = DateTime::parse_from_rfc3339(&text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| DATE_TIME_MESSAGE.to_owned())?;
    let time = without_leap_second(time).ok_or_else(|| DATE_TIME_MESSAGE.to_owned())?;
    if (0..=9999).contains(&time.year()) {
        Ok(time)
    } else {
        Err("must be between 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in UTC".to_owned())
    }
}

/// chrono keeps a leap second as second 59 with a nanosecond count of a second or more.
fn without_leap_second(time: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let nanosecond = time.nanosecond();
    if nanosecond < 1_000_000_000 {
        return Some(time);
    }
    time.with_nanosecond(nanosecond - 1_000_000_000)?
        .checked_add_signed(TimeDelta::seconds(1))
}

const DATE_TIME_MESSAGE: &str = "must be a date-time such as 2026-11-21T14:15:22Z";

/// A JSON array of at most `max` elements.
pub fn list(raw: &RawValue, max: usize) -> Result<Vec<Box<RawValue>>, String> {
    if !raw.get().starts_with('[') {
        return Err("must be an array".to_owned());
    }
    let elements: Vec<Box<RawValue>> =
        serde_json::from_str(raw.get()).map_err(|_| "must be an array".to_owned())?;
    if elements.len() > max {
        return Err(format!("must have at most {max} elements"));
    }
    Ok(elements)
}

/// A JSON object.
pub fn object(raw: &RawValue) -> Result<RawObject, String> {
    if raw.get().starts_with('{') {
        serde_json::from_str(raw.get()).map_err(|_| "must be an object".to_owned())
    } else {
        Err("must be an object".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn reader(json: &str) -> FieldReader {
        FieldReader::new(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn values_are_read_by_their_json_type() {
        assert_eq!(string(&raw(r#""a\"b""#)), Ok("a\"b".to_owned()));
        assert!(string(&raw(r#""a\u0000b""#)).is_err());
        assert!(string(&raw("1")).is_err());
        assert_eq!(number(&raw("0.1")), Ok(dec!(0.1)));
        assert!(number(&raw(r#""0.1""#)).is_err(), "a string is not money");
        assert_eq!(integer(&raw("3.0")), Ok(3));
        assert_eq!(integer(&raw("1e2")), Ok(100));
        assert!(integer(&raw("3.5")).is_err());
        assert!(integer(&raw("true")).is_err());
        assert_eq!(
            date_time(&raw(r#""2026-11-21T16:15:22+02:00""#)).map(|t| t.to_rfc3339()),
            Ok("2026-11-21T14:15:22+00:00".to_owned())
        );
        assert!(date_time(&raw(r#""2026-11-21""#)).is_err());
        assert!(
            date_time(&raw(r#""2026-11-21 14:15:22Z""#)).is_err(),
            "a space is not RFC 3339's T"
        );
        assert_eq!(
            date_time(&raw(r#""2026-11-21t14:15:22z""#)).map(|t| t.to_rfc3339()),
            Ok("2026-11-21T14:15:22+00:00".to_owned())
        );
        assert!(
            date_time(&raw(r#""9999-12-31T23:59:59-23:59""#)).is_err(),
            "year 10000 in UTC"
        );
        assert!(date_time(&raw(r#""0000-01-01T00:00:00+00:01""#)).is_err());
        assert_eq!(
            date_time(&raw(r#""2016-12-31T23:59:60.5Z""#)).map(|t| t.to_rfc3339()),
            Ok("2017-01-01T00:00:00.500+00:00".to_owned()),
            "a leap second is the second after it"
        );
    }

    #[test]
    fn every_bad_field_is_collected_with_its_path() {
        let mut fields =
            reader(r#"{"a": 1, "b": null, "tax": {"amount": "x", "extra": 1}, "typo": 2}"#);
        assert_eq!(fields.required("a", string), None);
        assert_eq!(fields.required("b", string), None);
        let mut tax = fields.optional_object("tax").unwrap();
        assert_eq!(tax.required("amount", number), None);
        fields.adopt(tax, &[]);
        let Err(ApiError::Validation { invalid_fields, .. }) = fields.finish(&[]) else {
            panic!("expected a validation error");
        };
        let named: Vec<_> = invalid_fields
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("a", "must be a string"),
                ("b", "is required"),
                ("tax.amount", "must be a number"),
                ("tax.extra", "is not a known field"),
                ("typo", "is not a known field"),
            ]
        );
    }

    #[test]
    fn lists_of_objects_name_their_elements_by_index() {
        let mut fields = reader(r#"{"discounts": [{"value": "x"}, 3, {"extra": 1}]}"#);
        let elements = fields.optional_objects("discounts", 5);
        assert_eq!(elements.len(), 2);
        for mut element in elements {
            element.optional("value", number);
            fields.adopt(element, &[]);
        }
        let Err(ApiError::Validation { invalid_fields, .. }) = fields.finish(&[]) else {
            panic!("expected a validation error");
        };
        let named: Vec<_> = invalid_fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            named,
            ["discounts.1", "discounts.0.value", "discounts.2.extra"]
        );
        let mut too_many = reader(r#"{"discounts": [{}, {}]}"#);
        assert!(too_many.optional_objects("discounts", 1).is_empty());
        assert!(too_many.finish(&[]).is_err());
    }

    #[test]
    fn ignored_fields_are_accepted() {
        let fields = reader(r#"{"id": "x", "createdTime": "y"}"#);
        assert!(fields.finish(&["id", "createdTime"]).is_ok());
    }
}
