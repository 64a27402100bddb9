//! Decisions, their reasons, and the permit that only an Allow can construct.

use crate::{Action, Resource};
use custos_domain::{ClientId, MatterId, PersonId, ThirdPartyId};
use serde::Serialize;

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The action may go ahead.
    Allow,
    /// The action must not happen.
    Deny,
}

/// The rule that decided, named in every reason (R5). Written as its [`Rule::code`], the one
/// spelling the log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// R1: nothing allowed this, so it is denied.
    DenyByDefault,
    /// R1: the person is staffed on, leads, or owns the matter.
    NeedToKnow,
    /// R2: the person's role caps what they may do.
    RoleCap,
    /// R2: the role allows this as one of its duties (e.g. an officer's oversight).
    RoleDuty,
    /// R2: the role may see metadata but never content (admin/IT, oversight).
    MetadataOnly,
    /// R3: an ethical wall screens the person.
    Wall,
    /// R4: suspended or departed people have no access.
    Status,
    /// R4: no client data without a signed agreement and current training on file.
    Precondition,
    /// R6: emergency access opened with a written justification, flagged and reviewed.
    BreakGlass,
    /// A firm policy (Cedar, added by the officer) forbids it; the reason names the policy.
    FirmPolicy,
    /// Everyone may see their own records.
    SelfService,
    /// R10: a client's consent covers (or does not cover) this sharing.
    Consent,
    /// R11: the recipient's confidentiality agreement and verified address.
    RecipientAgreement,
    /// R12: two different people approve, neither the requester.
    TwoPerson,
    /// R12: a release link opens only for its recipient, while everything still holds.
    Release,
    /// R13: disclosure without consent on a recorded legal basis.
    LegalException,
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl Rule {
    /// Every rule (the audit vocabulary's policy half).
    pub const ALL: [Rule; 16] = [
        Rule::DenyByDefault,
        Rule::NeedToKnow,
        Rule::RoleCap,
        Rule::RoleDuty,
        Rule::MetadataOnly,
        Rule::Wall,
        Rule::Status,
        Rule::Precondition,
        Rule::BreakGlass,
        Rule::FirmPolicy,
        Rule::SelfService,
        Rule::Consent,
        Rule::RecipientAgreement,
        Rule::TwoPerson,
        Rule::Release,
        Rule::LegalException,
    ];

    /// The stable code of the rule, as written in audit entries.
    pub const fn code(self) -> &'static str {
        match self {
            Rule::DenyByDefault => "R1.deny_by_default",
            Rule::NeedToKnow => "R1.need_to_know",
            Rule::RoleCap => "R2.role_cap",
            Rule::RoleDuty => "R2.role_duty",
            Rule::MetadataOnly => "R2.metadata_only",
            Rule::Wall => "R3.wall",
            Rule::Status => "R4.status",
            Rule::Precondition => "R4.precondition",
            Rule::BreakGlass => "R6.break_glass",
            Rule::FirmPolicy => "firm.policy",
            Rule::SelfService => "self_service",
            Rule::Consent => "R10.consent",
            Rule::RecipientAgreement => "R11.agreement",
            Rule::TwoPerson => "R12.two_person",
            Rule::Release => "R12.release",
            Rule::LegalException => "R13.legal_exception",
        }
    }
}

/// One reason of a decision: the rule, and a sentence a reviewer can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The rule that decided.
    pub rule: Rule,
    /// Explanation (names ids, never client content).
    pub message: String,
}

/// How much an allowed action may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Content and sensitive fields.
    Full,
    /// Identifiers, classification, sizes and dates only: sensitive fields stay sealed.
    MetadataOnly,
}

/// Which data key a permit may unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyScope {
    /// The data key of one matter (its documents, titles, provenance).
    Matter(MatterId),
    /// The data key of one client (its personal data).
    Client(ClientId),
}

/// Proof that the policy allowed one action on one resource. Its fields are private and it has
/// no public constructor: only [`crate::decide`] makes one, and only for an Allow. It cannot be
/// cloned: it is borrowed from its decision or moved out of it, and dies with the request.
#[derive(Debug, PartialEq, Eq)]
pub struct Permit {
    principal: Holder,
    action: Action,
    keys: Option<KeyScope>,
    scope: Scope,
}

impl Permit {
    /// Who the permit was granted to.
    pub fn principal(&self) -> Holder {
        self.principal
    }

    /// The action allowed.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Full or metadata-only.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether this permit may unlock the data key `key` (only full-scope permits unlock keys,
    /// and only the key of the resource they were granted on).
    pub fn unlocks(&self, key: KeyScope) -> bool {
        self.scope == Scope::Full && self.keys == Some(key)
    }
}

/// Who holds a permit: a person of the firm, or the named recipient of a release link (R12),
/// who has no account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A person (staff, or an external party with an account).
    Person(PersonId),
    /// The recipient of a release, having proved control of their verified address.
    Recipient(ThirdPartyId),
}

/// The outcome of [`crate::decide`].
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    effect: Effect,
    reasons: Vec<Reason>,
    permit: Option<Permit>,
    conceal: bool,
}

impl Decision {
    pub(crate) fn allow(
        principal: PersonId,
        action: Action,
        resource: &Resource,
        scope: Scope,
        reason: Reason,
    ) -> Self {
        let keys = match resource {
            Resource::Client(c) => Some(KeyScope::Client(c.id)),
            Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => {
                Some(KeyScope::Matter(m.id))
            }
            Resource::Document(d) => Some(KeyScope::Matter(d.matter.id)),
            _ => None,
        };
        Decision {
            effect: Effect::Allow,
            reasons: vec![reason],
            permit: Some(Permit {
                principal: Holder::Person(principal),
                action,
                keys,
                scope,
            }),
            conceal: false,
        }
    }

    /// An allow to read one released document's content: only [`crate::decide_release`]
    /// makes one.
    pub(crate) fn allow_release(recipient: ThirdPartyId, matter: MatterId, reason: Reason) -> Self {
        Decision {
            effect: Effect::Allow,
            reasons: vec![reason],
            permit: Some(Permit {
                principal: Holder::Recipient(recipient),
                action: Action::ReadDocumentContent,
                keys: Some(KeyScope::Matter(matter)),
                scope: Scope::Full,
            }),
            conceal: false,
        }
    }

    pub(crate) fn deny(reason: Reason, conceal: bool) -> Self {
        Decision {
            effect: Effect::Deny,
            reasons: vec![reason],
            permit: None,
            conceal,
        }
    }

    /// Allow or deny.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether an Allow rests on break-glass (R6): every audit entry it produces is flagged.
    pub fn by_break_glass(&self) -> bool {
        self.is_allowed() && self.reasons.iter().any(|r| r.rule == Rule::BreakGlass)
    }

    /// Whether the action may go ahead.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// Why; the first reason names the deciding rule.
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }

    /// The permit of an Allow.
    pub fn permit(&self) -> Option<&Permit> {
        self.permit.as_ref()
    }

    /// Moves the permit of an Allow out of the decision.
    pub fn into_permit(self) -> Option<Permit> {
        self.permit
    }

    /// For a Deny: whether the caller must not even learn that the resource exists
    /// (invariant 6: answer "not found").
    pub fn conceals_existence(&self) -> bool {
        self.conceal
    }
}
