//! Pure domain types of Custos: ids, people, roles, teams, clients, matters, documents,
//! provenance (R7) and ethical walls (R3).
//!
//! **Architecture Invariant:** this crate does no I/O and has no async code. Every other crate
//! depends on it; it depends on nothing of ours.
//!
//! ```
//! use custos_domain::{Classification, Role};
//! assert_eq!(Role::parse("intern").map(Role::as_str), Ok("intern"));
//! assert!(Classification::Confidential < Classification::Privileged);
//! ```

mod clock;
mod compliance;
mod ids;
mod numbers;
mod people;
mod records;
mod session;
mod transfers;

pub use clock::{Clock, FixedClock, SystemClock};
pub use compliance::{Compliance, Date, Missing, iso, iso_date, parse_date};
pub use ids::{
    BreakGlassId, ClientId, ConsentId, DocumentId, MatterId, PersonId, ReleaseLinkId, RequestId,
    TeamId, ThirdPartyId, TransferId, WallId,
};
pub use numbers::{ClientNumber, MatterNumber};
pub use people::{Person, PersonStatus, Role, Team, UserName, refuse_hidden_characters};
pub use records::{
    Classification, Client, Document, Lifted, Matter, Provenance, ProvenanceInput, Wall, WallKind,
    WallObject, WallSubject,
};
pub use session::{SessionKind, SessionStage};
pub use transfers::{LegalBasis, RecipientCategory, email_address, purpose};

/// Errors raised when outside input does not make a valid domain value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// A value did not parse; the message says what was expected.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Which field was wrong.
        field: &'static str,
        /// What was expected instead.
        message: String,
    },
    /// R7: a document must carry its provenance; these fields were missing or blank.
    #[error("provenance incomplete: missing {}", .0.join(", "))]
    MissingProvenance(Vec<&'static str>),
}

/// Timestamps are stored and compared as UTC; this is the one time type of the domain.
pub type Timestamp = time::OffsetDateTime;
