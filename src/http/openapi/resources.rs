//! The resources' schemas as the server writes them, made exact after utoipa derives them.

use utoipa::openapi::schema::{ArrayItems, KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::{Components, RefOr};

/// Marks every resource property required and drops the float format from money.
pub fn shape_resources(components: &mut Components) {
    for (name, schema) in &mut components.schemas {
        let RefOr::T(schema) = schema else {
            continue;
        };
        money_without_format(schema);
        if !NOT_RESPONSES.contains(&name.as_str()) {
            every_property_written(schema);
        }
    }
}

/// The component schemas that are not resources as the server writes them.
const NOT_RESPONSES: [&str; 7] = [
    "ItemRequest",
    "InvoiceRequest",
    "IssueRequest",
    "EmptyRequest",
    "ProductRequest",
    "Problem",
    "InvalidField",
];

/// A resource is written with every property, `null` when it has no value (`Option` fields
/// are not left out), so every property is required; only `_embedded` comes on request.
fn every_property_written(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            object.required = object
                .properties
                .keys()
                .filter(|name| name.as_str() != "_embedded")
                .cloned()
                .collect();
            for property in object.properties.values_mut() {
                if let RefOr::T(property) = property {
                    every_property_written(property);
                }
            }
        }
        Schema::OneOf(one_of) => {
            for item in &mut one_of.items {
                if let RefOr::T(item) = item {
                    every_property_written(item);
                }
            }
        }
        _ => {}
    }
}

/// Money is a JSON number read and written exactly; utoipa's `format: double` for `Decimal`
/// would say a binary float.
fn money_without_format(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            if object.format == Some(SchemaFormat::KnownFormat(KnownFormat::Double)) {
                object.format = None;
            }
            for property in object.properties.values_mut() {
                if let RefOr::T(property) = property {
                    money_without_format(property);
                }
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(item) = &mut array.items
                && let RefOr::T(item) = item.as_mut()
            {
                money_without_format(item);
            }
        }
        Schema::OneOf(one_of) => {
            for item in &mut one_of.items {
                if let RefOr::T(item) = item {
                    money_without_format(item);
                }
            }
        }
        _ => {}
    }
}
