//! Newtype identifiers, one per kind of record, so that a `MatterId` cannot be passed where a
//! `ClientId` is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh identifier; UUIDv7, so that identifiers sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The kind of record, as used in audit entries (`matter`, `document`...).
            pub const KIND: &'static str = $prefix;
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}:{}", $prefix, self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| crate::DomainError::Invalid {
                    field: $prefix,
                    message: format!("`{s}` is not a UUID"),
                })
            }
        }
    };
}

id_type!(
    /// Identifies a person (staff member or external party).
    PersonId,
    "person"
);
id_type!(
    /// Identifies a practice team.
    TeamId,
    "team"
);
id_type!(
    /// Identifies a client of the firm.
    ClientId,
    "client"
);
id_type!(
    /// Identifies a matter (a case or transaction for a client).
    MatterId,
    "matter"
);
id_type!(
    /// Identifies a document held on a matter.
    DocumentId,
    "document"
);
id_type!(
    /// Identifies an ethical wall (screen).
    WallId,
    "wall"
);
id_type!(
    /// Identifies one API request, carried into logs and audit entries.
    RequestId,
    "request"
);
id_type!(
    /// Identifies one break-glass (emergency) access (R6).
    BreakGlassId,
    "break_glass"
);
id_type!(
    /// Identifies a client's consent to share (R10).
    ConsentId,
    "consent"
);
id_type!(
    /// Identifies an external recipient: expert witness, co-counsel, vendor, authority (R11).
    ThirdPartyId,
    "third_party"
);
id_type!(
    /// Identifies a request to send documents outside the firm (R12).
    TransferId,
    "transfer"
);
id_type!(
    /// Identifies a release link of an approved transfer (R12).
    ReleaseLinkId,
    "release_link"
);
