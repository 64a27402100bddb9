//! What use cases return: records with their sensitive fields opened, or left out when the
//! permit is metadata-only.

use custos_domain::{
    Classification, ClientId, ClientNumber, DocumentId, MatterId, MatterNumber, PersonId,
    Provenance, TeamId, Timestamp,
};
use serde::Serialize;

/// Whether a change of membership (a team's, a matter's staffing) adds or removes the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// Add the person (a no-op when they are a member).
    Add,
    /// Remove the person (not found when they are not a member).
    Remove,
}

/// Which page of a listing to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Return items after this one (the `next_cursor` of the previous page).
    pub cursor: Option<uuid::Uuid>,
    /// At most this many items (1..=200; default 50).
    pub limit: Option<u32>,
}

impl PageRequest {
    pub(crate) fn limit(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 200)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items the caller may see.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A client as the caller may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientView {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ClientId,
    /// The firm's number for the client (`C-0007`): metadata, shown to everyone who sees
    /// the client.
    pub number: ClientNumber,
    /// Responsible partner.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub responsible: PersonId,
    /// Name; absent when the caller may see metadata only.
    pub name: Option<String>,
    /// Contact details; absent when the caller may see metadata only.
    pub contact: Option<String>,
    /// When taken on.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// A matter as the caller may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatterView {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: MatterId,
    /// The firm's number for the matter (`M-0042`): metadata, shown to everyone who sees
    /// the matter.
    pub number: MatterNumber,
    /// Client.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub client: ClientId,
    /// Owning team.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub team: TeamId,
    /// Lead lawyer.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub lead: PersonId,
    /// Title; absent when the caller may see metadata only.
    pub title: Option<String>,
    /// When opened.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// A document's metadata as the caller may see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentView {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: DocumentId,
    /// Matter.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub matter: MatterId,
    /// Classification.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "privileged"))]
    pub classification: Classification,
    /// Title; absent when the caller may see metadata only.
    pub title: Option<String>,
    /// Provenance (R7); absent when the caller may see metadata only.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub provenance: Option<Provenance>,
    /// Content size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
    /// Uploader.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub created_by: PersonId,
    /// Upload time.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// An ethical wall.
pub type WallView = custos_domain::Wall;

/// An entry of a person's own audit trail, as they may see it: a denial that answered "not
/// found" reads exactly like a record that does not exist, and listings do not say how many
/// records were withheld. Hashes are left out (they commit to the full entry, so they would
/// tell a hidden record from a missing one); the officer's query shows whole entries.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrailEntry {
    /// Position in the log.
    pub seq: u64,
    /// What happened, as far as the caller may know.
    #[serde(flatten)]
    pub record: custos_audit::AuditRecord,
    /// Whether its inclusion proof is the caller's to have (`GET /api/audit/proof/inclusion`):
    /// not for a denial that answered "no such record", nor for a listing.
    pub provable: bool,
}
