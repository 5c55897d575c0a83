//! Typed identifiers.
//!
//! Every id on the wire follows Rebilly's resource-id rule, `^[@~\-\.\w]+$` with at most 50
//! characters, `\w` read as ASCII. Ids the server makes are a prefix plus a ULID.

use std::fmt;

use serde::Serialize;

/// The longest id Rebilly accepts.
pub const MAX_ID_LENGTH: usize = 50;

/// Why a string is not an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string is empty.
    #[error("must not be empty")]
    Empty,
    /// The string is longer than [`MAX_ID_LENGTH`] characters.
    #[error("must be at most 50 characters")]
    TooLong,
    /// The string holds a character outside `A-Z a-z 0-9 _ @ ~ . -`.
    #[error("may contain only letters, digits and _ @ ~ . -")]
    BadCharacter,
}

/// Checks Rebilly's id rule.
pub fn check_id(value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    if value.chars().count() > MAX_ID_LENGTH {
        return Err(IdError::TooLong);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '~' | '.' | '-');
    if value.chars().all(allowed) {
        Ok(())
    } else {
        Err(IdError::BadCharacter)
    }
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an id sent by a client or read from a path.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                check_id(value).map(|()| Self(value.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::parse(&value).map_err(serde::de::Error::custom)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, prefix = $prefix:literal) => {
        id_type!($(#[$meta])* $name);

        impl $name {
            /// What every server-made id starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new server-made id: the prefix and a ULID.
            pub fn generate() -> Self {
                Self(format!(concat!($prefix, "{}"), ulid::Ulid::generate()))
            }
        }
    };
}

id_type!(
    /// The tenant every row belongs to.
    OrganizationId
);
id_type!(
    /// An invoice, `in_` + ULID when the server makes it.
    InvoiceId,
    prefix = "in_"
);
id_type!(
    /// An invoice item, `ii_` + ULID.
    InvoiceItemId,
    prefix = "ii_"
);
id_type!(
    /// A product an item may name, `prod_` + ULID.
    ProductId,
    prefix = "prod_"
);
id_type!(
    /// A timeline message and the event it records, `tmln_` + ULID.
    EventId,
    prefix = "tmln_"
);
id_type!(
    /// Where events are sent, `hook_` + ULID when the server makes it.
    WebhookId,
    prefix = "hook_"
);
id_type!(
    /// One attempt to deliver an event, in the delivery log, `hook_log_` + ULID.
    AttemptId,
    prefix = "hook_log_"
);
id_type!(
    /// Money recorded as received or given back, `txn_` + ULID.
    TransactionId,
    prefix = "txn_"
);
id_type!(
    /// Money owed back to a customer for an invoice, `crmm_` + ULID.
    CreditMemoId,
    prefix = "crmm_"
);
id_type!(
    /// One line of a credit memo, `crmm_itm_` + ULID.
    CreditMemoLineId,
    prefix = "crmm_itm_"
);
id_type!(
    /// The customer an invoice bills.
    CustomerId
);
id_type!(
    /// The website where the organization obtained the customer.
    WebsiteId
);
id_type!(
    /// The subscription an item was accrued for (the client's own id: subscriptions live
    /// elsewhere).
    SubscriptionId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_a_ulid() {
        let id = InvoiceItemId::generate();
        let ulid = id.as_str().strip_prefix("ii_").expect("prefix");
        assert_eq!(ulid.len(), 26);
        assert!(ulid.parse::<ulid::Ulid>().is_ok());
        assert_eq!(InvoiceItemId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn ids_follow_rebillys_pattern() {
        assert_eq!(
            InvoiceId::parse("in_0YVF9605RKC62BP14NE2R7V2XT").map(|_| ()),
            Ok(())
        );
        assert_eq!(InvoiceId::parse("a@b~c.d-e_f").map(|_| ()), Ok(()));
        assert_eq!(InvoiceId::parse(""), Err(IdError::Empty));
        assert_eq!(InvoiceId::parse("in 1"), Err(IdError::BadCharacter));
        assert_eq!(InvoiceId::parse("é"), Err(IdError::BadCharacter));
        assert_eq!(InvoiceId::parse(&"x".repeat(50)).map(|_| ()), Ok(()));
        assert_eq!(InvoiceId::parse(&"x".repeat(51)), Err(IdError::TooLong));
    }

    proptest! {
        #[test]
        fn every_pattern_string_is_an_id(s in "[A-Za-z0-9_@~.-]{1,50}") {
            prop_assert_eq!(ProductId::parse(&s).map(|id| id.to_string()), Ok(s));
        }

        #[test]
        fn no_string_with_another_character_is_an_id(
            head in "[a-z]{0,10}", bad in "[^A-Za-z0-9_@~.-]", tail in "[a-z]{0,10}"
        ) {
            let s = format!("{head}{bad}{tail}");
            prop_assert!(ProductId::parse(&s).is_err());
        }
    }
}
