//! How the contract describes the documents the renders answer: binary PDF, UBL XML.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

/// A body that is a document, a string in the contract, with its format and description.
macro_rules! document_body {
    ($(#[$meta:meta])* $name:ident, $format:expr, $description:literal) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format($format)
                        .description(Some($description))
                        .into(),
                )
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

document_body!(
    /// The body of an invoice's (or a credit memo's) PDF document, whichever route answers it:
    /// binary, not JSON.
    PdfDocument,
    Some(SchemaFormat::KnownFormat(KnownFormat::Binary)),
    "The invoice as a PDF document."
);

document_body!(
    /// The body of an e-invoice: a UBL 2.1 document, XML.
    UblDocument,
    None,
    "The invoice as a UBL 2.1 `Invoice` (a credit memo as a `CreditNote`) conforming to EN \
     16931, with the Peppol BIS Billing 3.0 customization when both parties have an electronic \
     address."
);
