//! The firm's numbers for clients and matters (`C-0007`, `M-0042`): what people say, type and
//! search for. A number is metadata, like an id: it reveals nothing about the client or the
//! matter, so those who may see only metadata (the officer raising a wall, IT) can tell
//! records apart by it.

use serde::{Serialize, Serializer};

macro_rules! number_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!($prefix, "-{:04}"), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

number_type!(
    /// A client's number, shown as `C-0007`.
    ClientNumber,
    "C"
);
number_type!(
    /// A matter's number, shown as `M-0042`.
    MatterNumber,
    "M"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_with_their_prefix_and_at_least_four_digits() {
        assert_eq!(ClientNumber(7).to_string(), "C-0007");
        assert_eq!(MatterNumber(42).to_string(), "M-0042");
        assert_eq!(MatterNumber(123_456).to_string(), "M-123456");
        assert_eq!(
            serde_json::to_string(&MatterNumber(42)).ok().as_deref(),
            Some("\"M-0042\"")
        );
    }
}
