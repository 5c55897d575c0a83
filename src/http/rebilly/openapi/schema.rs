//! Small builders for the JSON Schemas of the contract, each stating the same rule as the code
//! that reads the value (`fields.rs` and the domain's `parse` functions).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};

use crate::domain::ids::MAX_ID_LENGTH;
use crate::domain::text::BLANK;

/// The characters an id may hold, as `check_id` allows them.
pub fn id_pattern() -> String {
    format!("^[A-Za-z0-9_@~.-]{{1,{MAX_ID_LENGTH}}}$")
}

/// A text of at most `max` characters. NUL is refused: PostgreSQL text cannot hold it.
pub fn text(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some("^[^\\u0000]*$"))
}

/// An id, by Rebilly's rule.
pub fn id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_ID_LENGTH))
        .pattern(Some(id_pattern()))
}

/// One of these strings.
pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// A JSON number between two bounds, read exactly from its digits.
pub fn number(minimum: Decimal, maximum: Decimal) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(minimum.to_f64())
        .maximum(maximum.to_f64())
}

/// A JSON number greater than 0, at most `maximum`.
pub fn positive_number(maximum: Decimal) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .exclusive_minimum(Some(0))
        .maximum(maximum.to_f64())
}

/// `null`.
pub fn null() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Null)
}

/// A JSON number with no fractional part, between two bounds.
pub fn integer(minimum: i64, maximum: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(minimum))
        .maximum(Some(maximum))
}

/// An RFC 3339 date-time with any offset.
pub fn date_time() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

/// The same schema, also allowing `null` (which reads as absent).
pub fn nullable(schema: ObjectBuilder) -> ObjectBuilder {
    let built = schema.build();
    let mut types = match &built.schema_type {
        SchemaType::Array(types) => types.clone(),
        SchemaType::Type(single) => vec![single.clone()],
        SchemaType::AnyValue => return ObjectBuilder::from(built),
    };
    types.push(Type::Null);
    ObjectBuilder::from(built).schema_type(SchemaType::from_iter(types))
}

/// A field of a resource that a client may send back as it read it: any value, ignored.
pub fn read_only() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some("Read-only: accepted with any value, and ignored."))
}

/// Any value but `null`.
pub fn present() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([
        Type::Boolean,
        Type::Number,
        Type::String,
        Type::Array,
        Type::Object,
    ]))
}

/// An object with exactly these properties (`additionalProperties: false`).
pub fn closed_object(
    required: &[&str],
    properties: impl IntoIterator<Item = (&'static str, RefOr<Schema>)>,
) -> ObjectBuilder {
    properties
        .into_iter()
        .fold(ObjectBuilder::new(), |object, (name, schema)| {
            object.property(name, schema)
        })
        .schema_type(Type::Object)
        .required_all(required)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

/// The same object with each of `names` as a [`read_only`] property.
pub fn with_read_only(object: ObjectBuilder, names: &[&str]) -> ObjectBuilder {
    names
        .iter()
        .fold(object, |object, name| object.property(*name, read_only()))
}

/// An array of at most `max` elements, or `null` (which reads as empty).
pub fn nullable_array(element: impl Into<RefOr<Schema>>, max: usize) -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(ArrayItems::RefOrSchema(Box::new(element.into())))
        .max_items(Some(max))
}

/// Any of these schemas.
pub fn any_of(schemas: impl IntoIterator<Item = RefOr<Schema>>) -> AnyOfBuilder {
    schemas
        .into_iter()
        .fold(AnyOfBuilder::new(), |any, schema| any.item(schema))
}

trait RequiredAll {
    fn required_all(self, names: &[&str]) -> Self;
}

impl RequiredAll for ObjectBuilder {
    fn required_all(self, names: &[&str]) -> Self {
        names
            .iter()
            .fold(self, |object, name| object.required(*name))
    }
}

/// The pattern of a text that shows something: a character that is not [`BLANK`] (and no NUL,
/// which no text may hold).
pub fn not_blank() -> String {
    let blank: String = BLANK
        .iter()
        .map(|&(low, high)| format!("\\u{:04X}-\\u{:04X}", u32::from(low), u32::from(high)))
        .collect();
    format!("^[^\\u0000]*[^{blank}\\u0000][^\\u0000]*$")
}

/// A schema built by `$build` (a request body's, read field by field, or a PDF's), as a type
/// the contract can name.
macro_rules! named_schema {
    ($(#[$meta:meta])* $name:ident => $build:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::Schema> {
                ::utoipa::openapi::RefOr::T($build)
            }
        }

        impl ::utoipa::ToSchema for $name {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

pub(in crate::http::rebilly) use named_schema;
