//! Schema parts that the parameters' descriptions share (a currency code, a Unix time,
//! metadata, expansions, `auto_advance`), and the limits the parameter readers check with
//! them.

use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};

use crate::domain::invoice::MAX_DAYS_UNTIL_DUE;
use crate::domain::metadata::{MAX_KEY_CHARS, MAX_KEYS, MAX_VALUE_CHARS};

/// The most `expand` paths a request may give.
pub const MAX_EXPANSIONS: usize = 10;

/// The latest time a timestamp may name (the end of the year 9999).
pub const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// A three-letter ISO 4217 code with a minor unit (`usd`), read in either case; answers give
/// it lower-case.
pub fn currency() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Za-z]{3}$"))
        .examples(["usd"])
        .build()
}

/// Unix seconds, from 1970 to the end of the year 9999.
pub fn timestamp() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(MAX_UNIX_SECONDS))
        .build()
}

/// A Unix time that an update may also clear with the empty value (`due_date=`, or JSON
/// `null` or `""`).
pub fn clearable_timestamp() -> Schema {
    clearable(timestamp())
}

/// `days_until_due`, which an update may also clear with the empty value.
pub fn clearable_days() -> Schema {
    clearable(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(MAX_DAYS_UNTIL_DUE))
            .build(),
    )
}

fn clearable(value: Object) -> Schema {
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(0));
    AnyOfBuilder::new()
        .item(value)
        .item(empty)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// `metadata`: at most 50 keys of 1 to 40 characters without brackets, each value at most 500 characters; a
/// null or empty value removes its key. Null itself (or `metadata=` in a form) removes every
/// key.
pub fn metadata() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .max_properties(Some(MAX_KEYS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_CHARS))
                .pattern(Some(r"^[^\[\]]*$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .max_length(Some(MAX_VALUE_CHARS)),
        ))
        .build()
}

/// `auto_advance`: only `false`, as invoices here never advance by themselves.
pub fn never_advance() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([false]))
        .build()
}

/// `paid_out_of_band`: only `true`.
pub fn paid_out_of_band() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

/// `expand`: at most [`MAX_EXPANSIONS`] paths, none longer than 40 characters (the paths that
/// expand are shorter; a longer one is refused like any unknown path).
pub fn expansions() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(40)),
        )
        .max_items(Some(MAX_EXPANSIONS))
        .build()
}
