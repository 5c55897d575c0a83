//! Products: parsed request values and the stored product.

use chrono::{DateTime, Utc};

use super::ids::ProductId;
use super::text::{BoundedText, looks_blank};

/// The most characters of a product's name.
pub const MAX_NAME_CHARS: usize = 255;

/// A product's name: 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(BoundedText<MAX_NAME_CHARS>);

impl ProductName {
    /// Accepts a text of 1 to 255 characters.
    pub fn parse(value: String) -> Result<Self, String> {
        if value.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if looks_blank(&value) {
            return Err("must not be blank".to_owned());
        }
        BoundedText::parse(value).map(Self)
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

/// A product description, at most 1000 characters.
pub type ProductDescription = BoundedText<1000>;
/// What one unit of a product is called (`seat`, `GB`, `hour`), at most 50 characters.
pub type UnitLabel = BoundedText<50>;

/// What a client may set on a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    /// Its name.
    pub name: ProductName,
    /// A description, if any.
    pub description: Option<ProductDescription>,
    /// The name of its unit, if any.
    pub unit_label: Option<UnitLabel>,
}

/// A stored product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// `prod_` + ULID.
    pub id: ProductId,
    /// Its name, 1 to 255 characters.
    pub name: String,
    /// A description, at most 1000 characters.
    pub description: Option<String>,
    /// The name of its unit, at most 50 characters.
    pub unit_label: Option<String>,
    /// When it was created.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_1_to_255_characters() {
        assert_eq!(
            ProductName::parse(String::new()),
            Err("must not be empty".to_owned())
        );
        assert_eq!(
            ProductName::parse("é".repeat(255)).map(ProductName::into_string),
            Ok("é".repeat(255)),
            "characters are counted, not bytes"
        );
        assert_eq!(
            ProductName::parse("x".repeat(256)),
            Err("must be at most 255 characters".to_owned())
        );
    }

    #[test]
    fn unit_labels_have_at_most_50_characters() {
        assert!(UnitLabel::parse("x".repeat(50)).is_ok());
        assert_eq!(
            UnitLabel::parse("x".repeat(51)),
            Err("must be at most 50 characters".to_owned())
        );
    }
}
