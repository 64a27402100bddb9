//! The decision table's cases: (who, action, what, situation) -> (decision, rule, what the
//! explanation says). The situation (a fixture) is set up the same way at the policy level
//! (facts) and through the API (the officer's and the person's own requests), then undone.

use custos_domain::PersonStatus;
use custos_policy::Action;

/// What a case acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Doc(&'static str),
    Matter(&'static str),
    Client(&'static str),
    /// An upload of the given classification to a matter.
    Upload(&'static str, custos_domain::Classification),
    /// Creating a person with this role.
    NewPerson(custos_domain::Role),
    /// Opening a matter for a client, owned by a team (led by the team's lead).
    NewMatter(&'static str, &'static str),
    /// A demo person (recording their agreement and training).
    Person(&'static str),
    Firm,
}

impl Target {
    /// Whether the target is (or holds) client data, which R4 guards.
    pub fn is_client_data(self) -> bool {
        !matches!(
            self,
            Target::NewPerson(_) | Target::Person(_) | Target::Firm
        )
    }
}

/// The situation a case is decided in, beyond the demo firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    None,
    /// The person's confidentiality training expired 30 days ago.
    TrainingExpired,
    /// The person's signed agreement is not on file.
    NoAgreement,
    /// The person has an open break-glass access to this matter.
    BreakGlass(&'static str),
    /// The person's break-glass access to this matter has expired (policy level only).
    BreakGlassExpired(&'static str),
    /// Inclusionary walls on this matter admit only these people.
    Inclusionary(&'static str, &'static [&'static str]),
    /// Inclusionary walls on this client admit only these people.
    InclusionaryClient(&'static str, &'static [&'static str]),
    /// The demo wall (Sam from M3) is lifted.
    WallLifted,
    /// These firm policies are in force (`{C5}`, `{M4}`... stand for the records' ids).
    FirmPolicy(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub who: &'static str,
    pub status: PersonStatus,
    pub action: Action,
    pub target: Target,
    pub allow: bool,
    pub rule: &'static str,
    /// For a deny: whether the resource stays hidden (404) rather than forbidden (403).
    pub hidden: bool,
    pub fixture: Fixture,
    /// Words the first reason (and, for a 403, the API's message) must contain.
    pub says: &'static str,
    /// Only decided at the policy level (the situation cannot be made through the API).
    pub policy_only: bool,
}

const fn case(
    who: &'static str,
    action: Action,
    target: Target,
    allow: bool,
    rule: &'static str,
    hidden: bool,
) -> Case {
    Case {
        who,
        status: PersonStatus::Active,
        action,
        target,
        allow,
        rule,
        hidden,
        fixture: Fixture::None,
        says: "",
        policy_only: false,
    }
}

const fn inactive(who: &'static str, status: PersonStatus, action: Action, target: Target) -> Case {
    Case {
        rule: "R4.status",
        hidden: true,
        status,
        ..case(who, action, target, false, "", true)
    }
}

impl Case {
    const fn given(self, fixture: Fixture) -> Case {
        Case { fixture, ..self }
    }

    const fn says(self, says: &'static str) -> Case {
        Case { says, ..self }
    }

    const fn policy_only(self) -> Case {
        Case {
            policy_only: true,
            ..self
        }
    }
}

use Action as A;
use Fixture as F;
use Target as T;
use custos_domain::Classification as C;
use custos_domain::Role;

pub const NTK: &str = "R1.need_to_know";
pub const DEFAULT: &str = "R1.deny_by_default";
pub const CAP: &str = "R2.role_cap";
pub const META: &str = "R2.metadata_only";
pub const DUTY: &str = "R2.role_duty";
pub const WALL: &str = "R3.wall";
pub const PRE: &str = "R4.precondition";
pub const BG: &str = "R6.break_glass";
pub const FIRM: &str = "firm.policy";

const NO_INTERNS_ON_C5: &str = r#"@id("interns-never-see-jane-roe")
forbid(principal, action, resource) when { principal.role == "intern" && resource.client == Client::"{C5}" };"#;
const NO_RESTRICTED: &str = r#"@id("no-restricted-documents")
forbid(principal, action, resource) when { resource is Document && resource.classification == "restricted" && context.hour >= 0 };"#;
const NO_BREAK_GLASS_ON_C3: &str = r#"@id("no-break-glass-on-initech")
forbid(principal, action == Action::"matter.break_glass", resource) when { resource.client == Client::"{C3}" };"#;
const TEAM_SECRETARIES: &str = r#"@id("secretaries-open-no-team-document")
forbid(principal, action == Action::"document.read", resource) when { principal.role == "secretary" && principal in resource.matter.team };"#;

const ONLY_LENA: &[&str] = &["lena.lawyer"];
const PAULA_AND_LENA: &[&str] = &["paula.partner", "lena.lawyer"];
const SAM_AND_LENA: &[&str] = &["sam.screened", "lena.lawyer"];

#[rustfmt::skip]
const BASE: &[Case] = &[
    // R1 need-to-know: staffed, leading, or leading the owning team.
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D1"), true, NTK, false),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D2"), true, NTK, false),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D5"), true, NTK, false),
    case("carl.corplead", A::ReadDocumentContent, T::Doc("D6"), true, NTK, false),
    case("lisa.litlead", A::ReadDocumentContent, T::Doc("D9"), true, NTK, false),
    case("omar.lawyer", A::ReadDocumentContent, T::Doc("D8"), true, NTK, false),
    case("paula.partner", A::ViewClient, T::Client("C1"), true, NTK, false),
    case("lena.lawyer", A::UploadDocument, T::Upload("M1", C::Confidential), true, NTK, false),
    // R1 deny by default: no membership, no access (partners included).
    case("carl.corplead", A::ReadDocumentContent, T::Doc("D4"), false, DEFAULT, true),
    case("omar.lawyer", A::ViewMatter, T::Matter("M1"), false, DEFAULT, true),
    case("paula.partner", A::ReadDocumentContent, T::Doc("D1"), false, DEFAULT, true),
    case("erin.expert", A::ViewMatter, T::Matter("M4"), false, DEFAULT, true),
    case("erin.expert", A::ReadDocumentContent, T::Doc("D8"), false, DEFAULT, true),
    case("lena.lawyer", A::QueryAudit, T::Firm, false, DEFAULT, false),
    case("lena.lawyer", A::ViewWalls, T::Firm, false, DEFAULT, false),
    case("lena.lawyer", A::CreateClient, T::Firm, false, DEFAULT, false),
    case("lena.lawyer", A::ManageMatterStaff, T::Matter("M1"), false, DEFAULT, false),
    case("lena.lawyer", A::CreatePerson, T::NewPerson(Role::Lawyer), false, DEFAULT, false),
    // R1 for intake: opening a matter needs a right to the client already (security review:
    // a team lead opening a throwaway matter read any client's name and contact).
    case("carl.corplead", A::CreateMatter, T::NewMatter("C1", "Corporate"), true, NTK, false),
    case("paula.partner", A::CreateMatter, T::NewMatter("C1", "Litigation"), true, NTK, false),
    case("carl.corplead", A::CreateMatter, T::NewMatter("C3", "Corporate"), false, NTK, true),
    case("paula.partner", A::CreateMatter, T::NewMatter("C3", "Corporate"), false, NTK, true),
    case("lena.lawyer", A::CreateMatter, T::NewMatter("C1", "Corporate"), false, DEFAULT, false),
    // R2 role caps: interns, paralegals, secretaries, admin/IT, the officer's oversight.
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D4"), true, NTK, false),
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D9"), false, CAP, true),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D3"), true, NTK, false),
    case("ivan.intern", A::ViewDocument, T::Doc("D10"), true, NTK, false),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D4"), false, CAP, true),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D9"), false, CAP, true),
    case("ivan.intern", A::UploadDocument, T::Upload("M2", C::Privileged), false, CAP, false),
    case("sally.secretary", A::ReadDocumentContent, T::Doc("D2"), true, NTK, false),
    case("sally.secretary", A::ReadDocumentContent, T::Doc("D7"), false, CAP, true),
    case("adam.admin", A::ViewDocument, T::Doc("D1"), true, META, false),
    case("adam.admin", A::ReadDocumentContent, T::Doc("D1"), false, META, false),
    case("adam.admin", A::ViewMatter, T::Matter("M1"), true, META, false),
    case("adam.admin", A::ViewClient, T::Client("C1"), true, META, false),
    case("adam.admin", A::UploadDocument, T::Upload("M1", C::Internal), false, META, false),
    // Granting a role that reads client content is the officer's decision (security review).
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::Lawyer), false, CAP, false),
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::TeamLead), false, CAP, false),
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::Officer), false, CAP, false),
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::External), true, DUTY, false),
    case("olivia.officer", A::CreatePerson, T::NewPerson(Role::Lawyer), true, DUTY, false),
    case("olivia.officer", A::ViewDocument, T::Doc("D5"), true, META, false),
    case("olivia.officer", A::ReadDocumentContent, T::Doc("D5"), false, NTK, false),
    case("olivia.officer", A::QueryAudit, T::Firm, true, DUTY, false),
    case("olivia.officer", A::ViewWalls, T::Firm, true, DUTY, false),
    // The periodic jobs' state: the officer and IT, nobody else.
    case("olivia.officer", A::ViewJobs, T::Firm, true, DUTY, false),
    case("adam.admin", A::ViewJobs, T::Firm, true, DUTY, false),
    case("paula.partner", A::ViewJobs, T::Firm, false, DEFAULT, false),
    case("paula.partner", A::CreateClient, T::Firm, true, DUTY, false),
    case("carl.corplead", A::ManageMatterStaff, T::Matter("M1"), true, DUTY, false),
    // R3 ethical wall: Sam is screened from M3 only; it overrides his role and hides M3.
    case("sam.screened", A::ReadDocumentContent, T::Doc("D6"), false, WALL, true),
    case("sam.screened", A::ViewDocument, T::Doc("D7"), false, WALL, true),
    case("sam.screened", A::ViewMatter, T::Matter("M3"), false, WALL, true),
    case("sam.screened", A::UploadDocument, T::Upload("M3", C::Internal), false, WALL, true),
    case("sam.screened", A::ManageMatterStaff, T::Matter("M3"), false, WALL, true),
    case("sam.screened", A::ReadDocumentContent, T::Doc("D13"), true, NTK, false),
    case("sam.screened", A::ViewClient, T::Client("C2"), true, NTK, false),
    // R4 status: suspended or departed people get nothing, whatever else holds.
    inactive("pat.paralegal", PersonStatus::Suspended, A::ReadDocumentContent, T::Doc("D4")),
    inactive("erin.expert", PersonStatus::Departed, A::ViewPerson, T::Firm),
    inactive("ian.iplead", PersonStatus::Suspended, A::ReadDocumentContent, T::Doc("D8")),
    inactive("paula.partner", PersonStatus::Departed, A::ViewClient, T::Client("C1")),
];

#[rustfmt::skip]
const ISSUE_14: &[Case] = &[
    // R4 records: the officer for others, a partner for an officer, no one for themselves.
    case("olivia.officer", A::ManageCompliance, T::Person("lena.lawyer"), true, DUTY, false),
    case("olivia.officer", A::ManageCompliance, T::Person("adam.admin"), true, DUTY, false),
    case("olivia.officer", A::ManageCompliance, T::Person("olivia.officer"), false, DUTY, false)
        .says("no one records their own"),
    case("paula.partner", A::ManageCompliance, T::Person("olivia.officer"), true, DUTY, false),
    case("paula.partner", A::ManageCompliance, T::Person("lena.lawyer"), false, DEFAULT, false),
    case("lena.lawyer", A::ManageCompliance, T::Person("pat.paralegal"), false, DEFAULT, false),
    case("adam.admin", A::ManageCompliance, T::Person("lena.lawyer"), false, DEFAULT, false),
    case("carl.corplead", A::ManageCompliance, T::Person("sally.secretary"), false, DEFAULT, false),
    // R4 with the facts named: what is missing, and that a deny stays a deny.
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D1"), false, PRE, false)
        .given(F::NoAgreement).says("no signed confidentiality agreement on file"),
    case("olivia.officer", A::ViewDocument, T::Doc("D5"), false, PRE, false)
        .given(F::TrainingExpired).says("confidentiality training expired on"),
    case("olivia.officer", A::QueryAudit, T::Firm, true, DUTY, false).given(F::TrainingExpired),
    case("olivia.officer", A::ViewWalls, T::Firm, true, DUTY, false).given(F::NoAgreement),
    case("paula.partner", A::ViewJobs, T::Firm, false, DEFAULT, false).given(F::TrainingExpired),
    case("adam.admin", A::ViewJobs, T::Firm, true, DUTY, false).given(F::NoAgreement),
    // R6 break-glass: who may open it, never through a wall.
    case("lena.lawyer", A::BreakGlass, T::Matter("M4"), true, BG, false),
    case("carl.corplead", A::BreakGlass, T::Matter("M5"), true, BG, false),
    case("paula.partner", A::BreakGlass, T::Matter("M4"), true, BG, false),
    case("omar.lawyer", A::BreakGlass, T::Matter("M6"), true, BG, false),
    case("pat.paralegal", A::BreakGlass, T::Matter("M1"), false, CAP, false)
        .says("may not open emergency access"),
    case("ivan.intern", A::BreakGlass, T::Matter("M1"), false, CAP, false),
    case("sally.secretary", A::BreakGlass, T::Matter("M2"), false, CAP, false),
    case("adam.admin", A::BreakGlass, T::Matter("M1"), false, CAP, false),
    case("olivia.officer", A::BreakGlass, T::Matter("M1"), false, CAP, false),
    case("erin.expert", A::BreakGlass, T::Matter("M4"), false, CAP, false),
    case("sam.screened", A::BreakGlass, T::Matter("M3"), false, WALL, true),
    case("lena.lawyer", A::BreakGlass, T::Matter("M4"), false, PRE, false).given(F::TrainingExpired),
    // R6 once open: one matter, read only, flagged; role caps still hold.
    case("lena.lawyer", A::ViewMatter, T::Matter("M4"), true, BG, false).given(F::BreakGlass("M4")),
    case("lena.lawyer", A::ViewDocument, T::Doc("D8"), true, BG, false).given(F::BreakGlass("M4")),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D8"), true, BG, false)
        .given(F::BreakGlass("M4")).says("emergency access"),
    case("lena.lawyer", A::ViewClient, T::Client("C3"), true, BG, false).given(F::BreakGlass("M4")),
    case("lena.lawyer", A::UploadDocument, T::Upload("M4", C::Internal), false, NTK, false)
        .given(F::BreakGlass("M4")),
    case("lena.lawyer", A::ManageMatterStaff, T::Matter("M4"), false, DEFAULT, false)
        .given(F::BreakGlass("M4")),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D9"), false, DEFAULT, true)
        .given(F::BreakGlass("M4")),
    case("lena.lawyer", A::ViewMatter, T::Matter("M7"), false, DEFAULT, true)
        .given(F::BreakGlass("M4")),
    // A restricted record is never opened by emergency access (issue 33: 12 of 14 documents,
    // restricted included, were read under break-glass); its metadata stays visible.
    case("omar.lawyer", A::ReadDocumentContent, T::Doc("D9"), false, BG, false)
        .given(F::BreakGlass("M6")).says("never opens a restricted record"),
    case("omar.lawyer", A::ViewDocument, T::Doc("D9"), true, BG, false).given(F::BreakGlass("M6")),
    // One emergency access open at a time: a second matter waits for the officer to end it.
    case("lena.lawyer", A::BreakGlass, T::Matter("M6"), false, BG, false)
        .given(F::BreakGlass("M4")).says("one at a time"),
    case("omar.lawyer", A::ReadDocumentContent, T::Doc("D10"), true, BG, false).given(F::BreakGlass("M6")),
    case("carl.corplead", A::ReadDocumentContent, T::Doc("D11"), true, BG, false).given(F::BreakGlass("M5")),
    case("paula.partner", A::ReadDocumentContent, T::Doc("D8"), true, BG, false).given(F::BreakGlass("M4")),
    case("lena.lawyer", A::ViewMatter, T::Matter("M4"), false, DEFAULT, true)
        .given(F::BreakGlassExpired("M4")).policy_only(),
    case("sam.screened", A::ReadDocumentContent, T::Doc("D6"), false, WALL, true)
        .given(F::BreakGlass("M3")).policy_only(),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D9"), false, CAP, true)
        .given(F::BreakGlass("M6")).policy_only(),
    case("adam.admin", A::ReadDocumentContent, T::Doc("D1"), false, META, false)
        .given(F::BreakGlass("M1")).policy_only(),
    // R6 review and "who can access": the officer's and the leads' duties.
    case("olivia.officer", A::ReviewBreakGlass, T::Firm, true, DUTY, false),
    case("lena.lawyer", A::ReviewBreakGlass, T::Firm, false, DEFAULT, false),
    case("paula.partner", A::ReviewBreakGlass, T::Firm, false, DEFAULT, false),
    case("adam.admin", A::ReviewBreakGlass, T::Firm, false, DEFAULT, false),
    case("olivia.officer", A::ViewAccess, T::Matter("M1"), true, DUTY, false),
    case("carl.corplead", A::ViewAccess, T::Matter("M1"), true, DUTY, false),
    case("lisa.litlead", A::ViewAccess, T::Matter("M2"), true, DUTY, false),
    case("ian.iplead", A::ViewAccess, T::Matter("M4"), true, DUTY, false),
    case("lena.lawyer", A::ViewAccess, T::Matter("M1"), false, DEFAULT, false),
    case("omar.lawyer", A::ViewAccess, T::Matter("M1"), false, DEFAULT, true),
    case("adam.admin", A::ViewAccess, T::Matter("M1"), false, DEFAULT, true),
    case("sam.screened", A::ViewAccess, T::Matter("M3"), false, WALL, true),
    // "Who can access this client": the officer and the responsible partner.
    case("olivia.officer", A::ViewAccess, T::Client("C1"), true, DUTY, false),
    case("paula.partner", A::ViewAccess, T::Client("C1"), true, DUTY, false),
    case("peter.partner", A::ViewAccess, T::Client("C3"), true, DUTY, false),
    case("peter.partner", A::ViewAccess, T::Client("C1"), false, DEFAULT, true),
    case("lena.lawyer", A::ViewAccess, T::Client("C1"), false, DEFAULT, false),
    case("carl.corplead", A::ViewAccess, T::Client("C1"), false, DEFAULT, false),
    case("omar.lawyer", A::ViewAccess, T::Client("C1"), false, DEFAULT, true),
    case("adam.admin", A::ViewAccess, T::Client("C1"), false, DEFAULT, true),
    // R3 inclusionary: only the admitted touch the record; oversight and leads included.
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D1"), true, NTK, false)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("sally.secretary", A::ReadDocumentContent, T::Doc("D1"), false, WALL, true)
        .given(F::Inclusionary("M1", ONLY_LENA)).says("inclusionary wall"),
    case("carl.corplead", A::ViewMatter, T::Matter("M1"), false, WALL, true)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("carl.corplead", A::ManageMatterStaff, T::Matter("M1"), false, WALL, true)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("olivia.officer", A::ViewDocument, T::Doc("D1"), false, WALL, true)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("adam.admin", A::ViewDocument, T::Doc("D2"), false, WALL, true)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("paula.partner", A::ViewClient, T::Client("C1"), true, NTK, false)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("sally.secretary", A::ViewClient, T::Client("C1"), false, DEFAULT, true)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("lena.lawyer", A::ViewClient, T::Client("C1"), true, NTK, false)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D4"), true, NTK, false)
        .given(F::Inclusionary("M1", ONLY_LENA)),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D4"), true, NTK, false)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D4"), false, WALL, true)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("lisa.litlead", A::ViewMatter, T::Matter("M2"), false, WALL, true)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("paula.partner", A::ViewClient, T::Client("C1"), true, NTK, false)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("carl.corplead", A::ViewClient, T::Client("C1"), false, WALL, true)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("carl.corplead", A::CreateMatter, T::NewMatter("C1", "Corporate"), false, WALL, true)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("omar.lawyer", A::ViewMatter, T::Matter("M4"), true, NTK, false)
        .given(F::InclusionaryClient("C1", PAULA_AND_LENA)),
    case("sam.screened", A::ViewMatter, T::Matter("M3"), false, WALL, true)
        .given(F::Inclusionary("M3", SAM_AND_LENA)).says("ethical wall").policy_only(),
    case("lena.lawyer", A::ViewMatter, T::Matter("M3"), true, NTK, false)
        .given(F::Inclusionary("M3", SAM_AND_LENA)).policy_only(),
    // Firm policies (Cedar): they only ever turn an allow into a deny, and name themselves.
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D10"), false, FIRM, false)
        .given(F::FirmPolicy(NO_INTERNS_ON_C5)).says("interns-never-see-jane-roe"),
    case("ivan.intern", A::ViewMatter, T::Matter("M6"), false, FIRM, false)
        .given(F::FirmPolicy(NO_INTERNS_ON_C5)),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D3"), true, NTK, false)
        .given(F::FirmPolicy(NO_INTERNS_ON_C5)),
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D10"), true, NTK, false)
        .given(F::FirmPolicy(NO_INTERNS_ON_C5)),
    case("ivan.intern", A::ViewMatter, T::Matter("M1"), false, DEFAULT, true)
        .given(F::FirmPolicy(NO_INTERNS_ON_C5)),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D9"), false, CAP, true)
        .given(F::FirmPolicy(NO_INTERNS_ON_C5)),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D5"), false, FIRM, false)
        .given(F::FirmPolicy(NO_RESTRICTED)).says("no-restricted-documents"),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D1"), true, NTK, false)
        .given(F::FirmPolicy(NO_RESTRICTED)),
    case("lisa.litlead", A::ReadDocumentContent, T::Doc("D9"), false, FIRM, false)
        .given(F::FirmPolicy(NO_RESTRICTED)),
    case("olivia.officer", A::ViewDocument, T::Doc("D5"), false, FIRM, false)
        .given(F::FirmPolicy(NO_RESTRICTED)),
    case("adam.admin", A::ViewDocument, T::Doc("D1"), true, META, false)
        .given(F::FirmPolicy(NO_RESTRICTED)),
    case("omar.lawyer", A::ReadDocumentContent, T::Doc("D9"), false, DEFAULT, true)
        .given(F::FirmPolicy(NO_RESTRICTED)),
    case("sam.screened", A::ReadDocumentContent, T::Doc("D7"), false, WALL, true)
        .given(F::FirmPolicy(NO_RESTRICTED)),
    case("lena.lawyer", A::BreakGlass, T::Matter("M4"), false, FIRM, false)
        .given(F::FirmPolicy(NO_BREAK_GLASS_ON_C3)).says("no-break-glass-on-initech"),
    case("paula.partner", A::ViewClient, T::Client("C1"), true, NTK, false)
        .given(F::FirmPolicy(NO_BREAK_GLASS_ON_C3)),
    case("sally.secretary", A::ReadDocumentContent, T::Doc("D2"), false, FIRM, false)
        .given(F::FirmPolicy(TEAM_SECRETARIES)).says("secretaries-open-no-team-document"),
    case("sally.secretary", A::ViewDocument, T::Doc("D2"), true, NTK, false)
        .given(F::FirmPolicy(TEAM_SECRETARIES)),
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D4"), true, NTK, false)
        .given(F::FirmPolicy(TEAM_SECRETARIES)),
    // R3 lifted: the wall screens no one; Sam has no need to know M3 either.
    case("sam.screened", A::ReadDocumentContent, T::Doc("D6"), false, DEFAULT, true).given(F::WallLifted),
    case("sam.screened", A::ViewMatter, T::Matter("M3"), false, DEFAULT, true).given(F::WallLifted),
    case("sam.screened", A::ViewClient, T::Client("C2"), true, NTK, false).given(F::WallLifted),
];

/// Every case: the base table (R1-R4 status), the issue-14 cases, and for every base case on
/// client data the same case with the person's training expired: an allow becomes an R4
/// denial that says what is missing, a denial stays exactly what it was (a precondition never
/// tells anyone more about a record).
pub fn all() -> Vec<Case> {
    let mut cases: Vec<Case> = BASE.iter().chain(ISSUE_14).copied().collect();
    for c in BASE {
        if c.status != PersonStatus::Active || !c.target.is_client_data() {
            continue;
        }
        let expired = c.given(Fixture::TrainingExpired);
        cases.push(if c.allow {
            Case {
                allow: false,
                rule: PRE,
                hidden: false,
                says: "confidentiality training expired on",
                ..expired
            }
        } else {
            expired
        });
    }
    cases
}
