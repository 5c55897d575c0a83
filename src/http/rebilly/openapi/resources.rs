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
const NOT_RESPONSES: [&str; 10] = [
    "ItemRequest",
    "InvoiceRequest",
    "IssueRequest",
    "EmptyRequest",
    "ProductRequest",
    "OrganizationRequest",
    "WebhookRequest",
    "CommentRequest",
    "Problem",
    "InvalidField",
];

/// A resource is written with every property, `null` when it has no value (`Option` fields
/// are not left out), so every property is required; only `_embedded` comes on request.
fn every_property_written(schema: &mut Schema) {
    visit(schema, &mut |node| {
        if let Schema::Object(object) = node {
            object.required = object
                .properties
                .keys()
                .filter(|name| name.as_str() != "_embedded")
                .cloned()
                .collect();
        }
    });
}

/// Money is a JSON number read and written exactly; utoipa's `format: double` for `Decimal`
/// would say a binary float.
fn money_without_format(schema: &mut Schema) {
    visit(schema, &mut |node| {
        if let Schema::Object(object) = node
            && object.format == Some(SchemaFormat::KnownFormat(KnownFormat::Double))
        {
            object.format = None;
        }
    });
}

/// Calls `change` on a schema and on every schema written inside it (not behind a `$ref`).
fn visit(schema: &mut Schema, change: &mut impl FnMut(&mut Schema)) {
    change(schema);
    let inner: Vec<&mut RefOr<Schema>> = match schema {
        Schema::Object(object) => object.properties.values_mut().collect(),
        Schema::Array(array) => match &mut array.items {
            ArrayItems::RefOrSchema(item) => vec![item.as_mut()],
            _ => Vec::new(),
        },
        Schema::OneOf(one_of) => one_of.items.iter_mut().collect(),
        _ => Vec::new(),
    };
    for item in inner {
        if let RefOr::T(item) = item {
            visit(item, change);
        }
    }
}
