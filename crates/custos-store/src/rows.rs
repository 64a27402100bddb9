//! The rows the store keeps: domain records with their sensitive fields sealed.

use custos_audit::Outcome;
use custos_domain::{
    Classification, ClientId, DocumentId, MatterId, Person, PersonId, RequestId, TeamId, Timestamp,
};

/// A person and their password hash (PHC string; never shown, never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The person.
    pub person: Person,
    /// Argon2id PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for PersonRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonRow")
            .field("person", &self.person)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// A client with its wrapped data key and sealed personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    /// Identifier.
    pub id: ClientId,
    /// Responsible partner.
    pub responsible: PersonId,
    /// The client's data key, wrapped by the KEK.
    pub wrapped_key: Vec<u8>,
    /// Sealed name.
    pub sealed_name: Vec<u8>,
    /// Sealed contact details.
    pub sealed_contact: Vec<u8>,
    /// When taken on.
    pub created_at: Timestamp,
}

/// A matter with its wrapped data key and sealed title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterRow {
    /// Identifier.
    pub id: MatterId,
    /// Client.
    pub client: ClientId,
    /// Owning team.
    pub team: TeamId,
    /// Lead lawyer.
    pub lead: PersonId,
    /// The matter's data key, wrapped by the KEK.
    pub wrapped_key: Vec<u8>,
    /// Sealed title.
    pub sealed_title: Vec<u8>,
    /// When opened.
    pub created_at: Timestamp,
}

/// A document's metadata with sealed title and provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    /// Identifier (also names its blob).
    pub id: DocumentId,
    /// Matter.
    pub matter: MatterId,
    /// Classification.
    pub classification: Classification,
    /// Sealed title.
    pub sealed_title: Vec<u8>,
    /// Sealed provenance (JSON before sealing).
    pub sealed_provenance: Vec<u8>,
    /// Media type.
    pub media_type: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Uploader.
    pub created_by: PersonId,
    /// Upload time.
    pub created_at: Timestamp,
}

/// A login session, known by the SHA-256 hash of its token only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the bearer token.
    pub token_hash: [u8; 32],
    /// Whose session.
    pub person: PersonId,
    /// Start.
    pub created_at: Timestamp,
    /// End (absolute).
    pub expires_at: Timestamp,
}

/// Which audit entries to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries of this actor.
    pub actor: Option<PersonId>,
    /// Only entries on this resource (`document:<id>`...).
    pub resource: Option<String>,
    /// Only entries of this request.
    pub request_id: Option<RequestId>,
    /// Only allows or only denies.
    pub outcome: Option<Outcome>,
}
