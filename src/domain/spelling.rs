//! The one spelling each variant of a plain enum has, on the wire and in the database.

/// Gives the enum `$name` its spellings, one for each variant, in the order of its
/// declaration: `ALL`, every variant in that order (the contracts list them so); `as_str`, a
/// variant's spelling; and `parse`, the variant of a spelling, which is `None` for any other
/// text or, where `else` names the error, that error.
macro_rules! spellings {
    ($name:ident { $($variant:ident => $spelling:literal,)+ }) => {
        $crate::domain::spelling::spellings!(@common $name { $($variant => $spelling,)+ });

        impl $name {
            /// Reads a spelling.
            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|one| one.as_str() == value)
            }
        }
    };
    ($name:ident { $($variant:ident => $spelling:literal,)+ } else $error:literal) => {
        $crate::domain::spelling::spellings!(@common $name { $($variant => $spelling,)+ });

        impl $name {
            /// Reads a spelling.
            pub fn parse(value: &str) -> Result<Self, &'static str> {
                Self::ALL
                    .into_iter()
                    .find(|one| one.as_str() == value)
                    .ok_or($error)
            }
        }
    };
    (@common $name:ident { $($variant:ident => $spelling:literal,)+ }) => {
        impl $name {
            /// Every one, in the order of the declaration.
            pub const ALL: [Self; [$($spelling),+].len()] = [$(Self::$variant),+];

            /// The wire and database spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $spelling,)+
                }
            }
        }
    };
}
pub(crate) use spellings;
