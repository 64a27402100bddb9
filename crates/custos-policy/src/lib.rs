//! The decision point of Custos: `decide(principal, action, resource, context) -> Decision`.
//!
//! Deny by default (R1). Need-to-know comes from matter staffing or leadership (R1); roles cap
//! what a person may do (R2); ethical walls override every allow (R3); suspended or departed
//! people get nothing (R4). Every decision carries the reasons that name the rule that decided
//! (R5); the caller audits it. Preconditions (R4: agreement and training on file) come after
//! walls and before any allow takes effect; break-glass (R6) opens one matter for a time, never
//! through a wall.
//!
//! **Architecture Invariant:** a [`Permit`] can only be constructed here, by an Allow decision.
//! Code that decrypts client content (`custos-crypto`) demands a `&Permit`, so code that forgets
//! to ask the policy does not compile. This crate does no I/O: the caller gathers the facts.
//!
//! ```
//! use custos_domain::*;
//! use custos_policy::*;
//! let lawyer = Principal {
//!     id: PersonId::new(), role: Role::Lawyer, status: PersonStatus::Active,
//!     teams: vec![], led_teams: vec![], staffed_matters: vec![],
//!     compliance: Compliance::default(), emergency: vec![], emergencies_last_day: 0,
//! };
//! let matter = MatterFacts { id: MatterId::new(), client: ClientId::new(), team: TeamId::new(),
//!     lead: PersonId::new() };
//! let d = decide(&lawyer, Action::ViewMatter, &Resource::Matter(matter),
//!     &Context::at(Timestamp::UNIX_EPOCH, Date::MIN));
//! assert!(!d.is_allowed());
//! assert_eq!(d.reasons()[0].rule, Rule::DenyByDefault);
//! ```

mod caps;
mod decision;
mod firm;
mod firm_bounds;
mod firm_slices;
mod release;
mod rules;
mod transfer;

pub use caps::{content_cap, is_staff, may_act};
pub use decision::{Decision, Effect, Holder, KeyScope, Permit, Reason, Rule, Scope};
pub use firm::{FirmPolicies, FirmPolicyError, firm_policy_schema};
pub use rules::{decide, listing_reach, may_break_glass, may_read_legal_reference, screening_wall};
pub use transfer::{
    ApprovalFacts, Basis, Check, ConsentFacts, LinkFacts, RecipientFacts, Slot, TransferCheck,
    TransferFacts, approval_slot, check_transfer, decide_release, decide_release_to_account,
    may_revoke_release,
};

/// Which client records a listing must read to find every one a principal may see
/// (`ViewClient`, `ViewMatter`, and the documents of those matters). A listing still decides
/// each record it reads, so a reach can only narrow where it looks, never let anything in; it
/// must never leave out a record the rules would allow (a property test checks this against
/// deciding every record of random firms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every record of the firm (the oversight roles see the metadata of all of them, walls
    /// aside).
    Everything,
    /// Only the records reached through the principal's own grounds: the matters they lead,
    /// the matters of the teams they lead, the matters they are staffed on and those of their
    /// open break-glass accesses; the clients they are responsible for and the clients of those
    /// matters. Inclusionary walls and firm policies only ever take away.
    OwnGrounds,
}

use custos_domain::{
    BreakGlassId, Classification, ClientId, Compliance, Date, DocumentId, MatterId, PersonId,
    PersonStatus, Role, TeamId, Timestamp, Wall,
};
use serde::Serialize;

/// What a person asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See a person in the firm directory.
    ViewPerson,
    /// Change a person's status, see and end their sessions and API tokens.
    ManagePeople,
    /// Create an account with a role (granting what the role may read).
    CreatePerson,
    /// Reset someone's password or second factor, or start a two-person account recovery.
    ResetCredentials,
    /// Be the second person of a two-person account recovery.
    ConfirmRecovery,
    /// See practice teams and their members.
    ViewTeams,
    /// Create teams and change their membership.
    ManageTeams,
    /// Take on a new client.
    CreateClient,
    /// See a client (and, with need-to-know, its personal data).
    ViewClient,
    /// Open a new matter.
    CreateMatter,
    /// See a matter (and, with need-to-know, its title).
    ViewMatter,
    /// Decide who is staffed on a matter.
    ManageMatterStaff,
    /// See a document's metadata (and, with need-to-know, its title and provenance).
    ViewDocument,
    /// Read a document's content.
    ReadDocumentContent,
    /// Add a document to a matter.
    UploadDocument,
    /// Raise ethical walls.
    ManageWalls,
    /// List ethical walls.
    ViewWalls,
    /// Query the whole audit log.
    QueryAudit,
    /// See one's own audit trail.
    ViewOwnAudit,
    /// See the state of the periodic jobs (last run, next run, last error).
    ViewJobs,
    /// Record a person's confidentiality agreement and training (R4).
    ManageCompliance,
    /// Open emergency access to a matter with a written justification (R6).
    BreakGlass,
    /// Close a break-glass access as justified or not (R6 review).
    ReviewBreakGlass,
    /// Ask who can access a matter, and why.
    ViewAccess,
    /// See, save and restore the firm's policies (Cedar).
    ManageFirmPolicies,
    /// Record or revoke a client's consent to share (R10).
    ManageConsents,
    /// Register external recipients, their verified address and their agreement (R11).
    ManageThirdParties,
    /// See the external recipients.
    ViewThirdParties,
    /// Vouch for an external recipient: verify their address, record their agreement, link
    /// their account (the confidentiality officer only, so that whoever registers a recipient
    /// and approves transfers to them is never the only one who vetted them).
    VetThirdParty,
    /// See and download, with one's own account, what was released to one (external
    /// recipients only; each download is decided like a release link's).
    ReceiveTransfers,
    /// Ask to send documents of a matter outside the firm (R12).
    RequestTransfer,
    /// Approve or refuse a transfer (R12, two people).
    ApproveTransfer,
    /// See transfers, the transfer register and live links.
    ViewTransfers,
    /// Revoke a live release link.
    RevokeRelease,
    /// See the mail outbox.
    ViewOutbox,
}

impl Action {
    /// Every action (the audit vocabulary's policy half).
    pub const ALL: [Action; 35] = [
        Action::ViewPerson,
        Action::ManagePeople,
        Action::CreatePerson,
        Action::ResetCredentials,
        Action::ConfirmRecovery,
        Action::ViewTeams,
        Action::ManageTeams,
        Action::CreateClient,
        Action::ViewClient,
        Action::CreateMatter,
        Action::ViewMatter,
        Action::ManageMatterStaff,
        Action::ViewDocument,
        Action::ReadDocumentContent,
        Action::UploadDocument,
        Action::ManageWalls,
        Action::ViewWalls,
        Action::QueryAudit,
        Action::ViewOwnAudit,
        Action::ViewJobs,
        Action::ManageCompliance,
        Action::BreakGlass,
        Action::ReviewBreakGlass,
        Action::ViewAccess,
        Action::ManageFirmPolicies,
        Action::ManageConsents,
        Action::ManageThirdParties,
        Action::ViewThirdParties,
        Action::VetThirdParty,
        Action::ReceiveTransfers,
        Action::RequestTransfer,
        Action::ApproveTransfer,
        Action::ViewTransfers,
        Action::RevokeRelease,
        Action::ViewOutbox,
    ];

    /// Whether the action only reads records (its use case runs in a read-only unit of work,
    /// which never waits for writers nor blocks them; its audit entry is written at commit).
    pub fn only_reads(self) -> bool {
        matches!(
            self,
            Action::ViewPerson
                | Action::ViewTeams
                | Action::ViewClient
                | Action::ViewMatter
                | Action::ViewDocument
                | Action::ReadDocumentContent
                | Action::ViewWalls
                | Action::QueryAudit
                | Action::ViewOwnAudit
                | Action::ViewJobs
                | Action::ViewAccess
                | Action::ViewThirdParties
                | Action::ViewTransfers
                | Action::ReceiveTransfers
                | Action::ViewOutbox
        )
    }

    /// Whether the action hands out one-time passwords or changes someone's credentials: only
    /// a person at a login session may ask for it, never a script's API token.
    pub fn needs_login_session(self) -> bool {
        matches!(
            self,
            Action::CreatePerson
                | Action::ResetCredentials
                | Action::ConfirmRecovery
                | Action::BreakGlass
                | Action::ReviewBreakGlass
                | Action::ApproveTransfer
        )
    }

    /// The name used in audit entries.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::ViewPerson => "person.view",
            Action::ManagePeople => "person.manage",
            Action::CreatePerson => "person.create",
            Action::ResetCredentials => "person.reset_credentials",
            Action::ConfirmRecovery => "person.confirm_recovery",
            Action::ViewTeams => "team.view",
            Action::ManageTeams => "team.manage",
            Action::CreateClient => "client.create",
            Action::ViewClient => "client.view",
            Action::CreateMatter => "matter.create",
            Action::ViewMatter => "matter.view",
            Action::ManageMatterStaff => "matter.staff",
            Action::ViewDocument => "document.view",
            Action::ReadDocumentContent => "document.read",
            Action::UploadDocument => "document.upload",
            Action::ManageWalls => "wall.manage",
            Action::ViewWalls => "wall.view",
            Action::QueryAudit => "audit.query",
            Action::ViewOwnAudit => "audit.own",
            Action::ViewJobs => "job.view",
            Action::ManageCompliance => "person.compliance",
            Action::BreakGlass => "matter.break_glass",
            Action::ReviewBreakGlass => "break_glass.review",
            Action::ViewAccess => "matter.access",
            Action::ManageFirmPolicies => "policy.manage",
            Action::ManageConsents => "consent.manage",
            Action::ManageThirdParties => "third_party.manage",
            Action::ViewThirdParties => "third_party.view",
            Action::VetThirdParty => "third_party.vet",
            Action::ReceiveTransfers => "transfer.receive",
            Action::RequestTransfer => "transfer.request",
            Action::ApproveTransfer => "transfer.approve",
            Action::ViewTransfers => "transfer.view",
            Action::RevokeRelease => "transfer.revoke_link",
            Action::ViewOutbox => "outbox.view",
        }
    }
}

/// Who asks: the facts about a person that decisions depend on, gathered by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The person.
    pub id: PersonId,
    /// Their role (R2).
    pub role: Role,
    /// Their status (R4).
    pub status: PersonStatus,
    /// Teams they belong to (walls may screen a whole team).
    pub teams: Vec<TeamId>,
    /// Teams they lead (team leads own their team's matters).
    pub led_teams: Vec<TeamId>,
    /// Matters they are staffed on (need-to-know).
    pub staffed_matters: Vec<MatterId>,
    /// R4: their agreement and training on file.
    pub compliance: Compliance,
    /// R6: their open emergency accesses (the policy checks each one's expiry).
    pub emergency: Vec<Emergency>,
    /// R6: how many emergency accesses they opened in the last 24 hours, ended or not.
    pub emergencies_last_day: u32,
}

/// One open break-glass access (R6): a person's emergency access to one matter until a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emergency {
    /// The break-glass record.
    pub id: BreakGlassId,
    /// The matter it opens.
    pub matter: MatterId,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// The facts about a matter that decisions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatterFacts {
    /// The matter.
    pub id: MatterId,
    /// Its client.
    pub client: ClientId,
    /// The team that owns it.
    pub team: TeamId,
    /// The lawyer leading it.
    pub lead: PersonId,
}

/// The facts about a client that decisions depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFacts {
    /// The client.
    pub id: ClientId,
    /// The partner responsible for the relationship.
    pub responsible: PersonId,
    /// The client's matters.
    pub matters: Vec<MatterFacts>,
}

/// The facts about a document that decisions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentFacts {
    /// The document (for an upload: the id it will get).
    pub id: DocumentId,
    /// Its matter.
    pub matter: MatterFacts,
    /// Its classification.
    pub classification: Classification,
}

/// What the action is done to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The firm as a whole (directories, walls, the audit log).
    Firm,
    /// A person, with the role they hold or are to be given.
    Person {
        /// The person.
        id: PersonId,
        /// Their role.
        role: Role,
    },
    /// A team.
    Team(TeamId),
    /// A client.
    Client(ClientFacts),
    /// A matter.
    Matter(MatterFacts),
    /// A matter about to be opened, with the facts of its client.
    NewMatter {
        /// The matter to be.
        matter: MatterFacts,
        /// Its client.
        client: ClientFacts,
    },
    /// A document.
    Document(DocumentFacts),
    /// A person's own audit trail.
    AuditTrailOf(PersonId),
    /// A pending two-person account recovery of a person, started by someone.
    Recovery {
        /// The person whose account is recovered.
        person: PersonId,
        /// Their role.
        role: Role,
        /// Who started the recovery (the first person).
        started_by: PersonId,
    },
    /// An external transfer, as far as seeing it goes (R12: the register is need-to-know).
    Transfer(TransferSight),
}

/// The facts about a transfer that decide who may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferSight {
    /// The transfer.
    pub id: custos_domain::TransferId,
    /// Who asked for it.
    pub requester: PersonId,
    /// The matter its documents come from (walls on it screen the transfer too).
    pub matter: MatterFacts,
}

impl Resource {
    /// The audit name of the resource (`matter:<uuid>`...).
    pub fn audit_name(&self) -> String {
        match self {
            Resource::Firm => "firm".to_owned(),
            Resource::Person { id, .. } | Resource::Recovery { person: id, .. } => {
                format!("person:{id}")
            }
            Resource::Team(id) => format!("team:{id}"),
            Resource::Client(c) => format!("client:{}", c.id),
            Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => {
                format!("matter:{}", m.id)
            }
            Resource::Document(d) => format!("document:{}", d.id),
            Resource::AuditTrailOf(id) => format!("audit_trail:{id}"),
            Resource::Transfer(t) => format!("transfer:{}", t.id),
        }
    }
}

/// Facts about the situation beyond principal and resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Ethical walls that may screen the principal, and every inclusionary wall (the caller may
    /// pass more; the policy checks which apply; lifted walls never apply).
    pub walls: Vec<Wall>,
    /// The time of the decision (break-glass expiry).
    pub now: Timestamp,
    /// The firm's calendar day at `now` (training expiry, R4).
    pub today: Date,
    /// The firm's local hour and weekday at `now` (firm policies' `context`).
    pub clock: LocalClock,
    /// The firm's policies in force (none: `None`).
    pub firm: Option<std::sync::Arc<FirmPolicies>>,
    /// The address the request came from, when it came over the network (firm policies'
    /// `context.address`, e.g. "no downloads from outside the office network").
    pub address: Option<std::net::IpAddr>,
}

/// The firm's local time of day, for firm policies ("not outside office hours").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock {
    /// 0 to 23.
    pub hour: u8,
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: u8,
}

impl LocalClock {
    /// The clock of a UTC time (when the firm's zone is UTC).
    pub fn utc(at: Timestamp) -> Self {
        LocalClock {
            hour: at.hour(),
            weekday: at.weekday().number_from_monday(),
        }
    }
}

impl Context {
    /// A context with no walls at `now`, whose calendar day is `today`.
    pub fn at(now: Timestamp, today: Date) -> Self {
        Context {
            walls: vec![],
            now,
            today,
            clock: LocalClock::utc(now),
            firm: None,
            address: None,
        }
    }
}
