//! The rows the store keeps: domain records with their sensitive fields sealed.

use custos_audit::Outcome;
use custos_domain::{
    Classification, ClientId, DocumentId, MatterId, Person, PersonId, RequestId, SessionKind,
    SessionStage, TeamId, Timestamp,
};

/// A person and their password hash (PHC string; never shown, never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The person.
    pub person: Person,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The password is a one-time password (or was reset): it must be changed at next login.
    pub must_change_password: bool,
    /// When the password was last set.
    pub password_changed_at: Timestamp,
}

impl std::fmt::Debug for PersonRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonRow")
            .field("person", &self.person)
            .field("password_hash", &"<redacted>")
            .field("must_change_password", &self.must_change_password)
            .field("password_changed_at", &self.password_changed_at)
            .finish()
    }
}

/// A client with its wrapped data key and sealed personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    /// Identifier.
    pub id: ClientId,
    /// The firm's number for the client (from the counters, `next_number`).
    pub number: i64,
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
    /// The firm's number for the matter (from the counters, `next_number`).
    pub number: i64,
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
    /// Public identifier (to list and revoke; not a credential).
    pub id: uuid::Uuid,
    /// SHA-256 of the bearer token.
    pub token_hash: [u8; 32],
    /// Whose session.
    pub person: PersonId,
    /// Setup or full.
    pub stage: SessionStage,
    /// Bearer or cookie.
    pub kind: SessionKind,
    /// Client address at login.
    pub source: String,
    /// Start.
    pub created_at: Timestamp,
    /// Last request seen (kept to the minute: idle timeout).
    pub last_seen_at: Timestamp,
    /// End (absolute).
    pub expires_at: Timestamp,
}

/// A second factor of a person. Only TOTP exists today; the kind column leaves room for
/// WebAuthn credentials (public key + sign counter) without changing the login flow.
#[derive(Clone, PartialEq, Eq)]
pub struct FactorRow {
    /// Identifier.
    pub id: uuid::Uuid,
    /// Whose factor.
    pub person: PersonId,
    /// `totp`.
    pub kind: String,
    /// The secret, sealed under the KEK (bound to the factor id).
    pub sealed_secret: Vec<u8>,
    /// Confirmed by a code; pending factors do not count.
    pub active: bool,
    /// Highest TOTP time step accepted so far (replay protection).
    pub last_step: i64,
    /// Created.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for FactorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactorRow")
            .field("id", &self.id)
            .field("person", &self.person)
            .field("kind", &self.kind)
            .field("active", &self.active)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// Which of a person's second factors to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorSelection {
    /// Only factors whose enrollment was never confirmed.
    PendingOnly,
    /// Every factor, active ones included.
    All,
}

/// Failed-login counter of one key (`person:<id>`, `name:<hash>` or `addr:<ip>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRow {
    /// Key.
    pub key: String,
    /// Consecutive failures.
    pub failures: u32,
    /// Refused until then.
    pub locked_until: Timestamp,
    /// Last failure.
    pub last_failure_at: Timestamp,
}

/// A personal API token (stored as a hash; shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    /// Identifier.
    pub id: uuid::Uuid,
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// Owner.
    pub person: PersonId,
    /// Owner's label.
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Revocation time.
    pub revoked_at: Option<Timestamp>,
}

/// A two-person account recovery waiting for its second person: the first half of the new
/// one-time password, sealed under the KEK.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryRow {
    /// The person whose account is recovered.
    pub person: PersonId,
    /// Who started it (the second person must be someone else).
    pub started_by: PersonId,
    /// The first half, sealed (bound to the person).
    pub sealed_half: Vec<u8>,
    /// Started.
    pub created_at: Timestamp,
    /// Abandoned after.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for RecoveryRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryRow")
            .field("person", &self.person)
            .field("started_by", &self.started_by)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Everything a decision needs to know about the person asking, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRow {
    /// Their role.
    pub role: custos_domain::Role,
    /// Active, suspended or departed.
    pub status: custos_domain::PersonStatus,
    /// Their confidentiality agreement and training dates (R4).
    pub compliance: custos_domain::Compliance,
    /// Teams they belong to, by id.
    pub teams: Vec<custos_domain::TeamId>,
    /// Teams they lead, by id.
    pub led_teams: Vec<custos_domain::TeamId>,
    /// Matters they are staffed on, by id.
    pub staffed_matters: Vec<MatterId>,
    /// Active exclusionary walls whose subject is the person or one of their teams, and every
    /// active inclusionary wall, by id.
    pub walls: Vec<custos_domain::Wall>,
    /// Their break-glass accesses that have not expired, by id.
    pub emergency: Vec<OpenBreakGlass>,
    /// How many break-glass accesses they opened in the last 24 hours (R6's daily bound).
    pub emergencies_last_day: u32,
    /// The firm policy version in force (0: none saved).
    pub firm_policy_version: i64,
}

/// A break-glass access that is open: what a decision needs of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenBreakGlass {
    /// Id.
    pub id: custos_domain::BreakGlassId,
    /// The matter it opens.
    pub matter: MatterId,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// One break-glass access (R6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassRow {
    /// Id.
    pub id: custos_domain::BreakGlassId,
    /// Who opened it.
    pub person: PersonId,
    /// The matter it opens.
    pub matter: MatterId,
    /// Their written justification (not client content: the form says so).
    pub justification: String,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
    /// The officer's review, once closed.
    pub review: Option<BreakGlassReview>,
}

/// The officer's review of a break-glass access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassReview {
    /// The officer.
    pub by: PersonId,
    /// When.
    pub at: Timestamp,
    /// Justified or not.
    pub justified: bool,
    /// Their comment.
    pub comment: String,
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
    /// Only this action (`document.read`...).
    pub action: Option<String>,
    /// Only entries at or after this time (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Only entries before this time (Unix milliseconds).
    pub until_ms: Option<i64>,
    /// The newest entries first (before `after`, when it is not 0), instead of the oldest.
    pub newest_first: bool,
}
