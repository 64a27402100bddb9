//! Who may approve a transfer (R12: two people, neither the requester) and whether its release
//! may hand one document to its recipient, by link or to their own account; who may revoke it.

use crate::decision::{Decision, Reason, Rule};
use crate::{Context, DocumentFacts, MatterFacts, Principal, TransferFacts, check_transfer};
use custos_domain::{LegalBasis, PersonId, Role, Timestamp};
use serde::Serialize;

/// Which approval a person gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The matter's team lead, or the designated partner in their place.
    Lead,
    /// The confidentiality officer.
    Officer,
}

impl Slot {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Lead => "lead",
            Slot::Officer => "officer",
        }
    }
}

/// The facts of one approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalFacts {
    /// Who asked.
    pub requester: PersonId,
    /// Whether the requester leads the matter's team.
    pub requester_leads_team: bool,
    /// The matter.
    pub matter: MatterFacts,
    /// The client's responsible partner: the designated partner when the team lead asks.
    pub responsible_partner: PersonId,
    /// The legal basis, for a disclosure without consent.
    pub exception: Option<LegalBasis>,
    /// Approvals already given.
    pub given: Vec<(PersonId, Slot)>,
}

/// Which approval `approver` may give on this transfer, or why they may not (R12): the
/// officer's and the team lead's, two different people, neither the requester; when the
/// team lead asks, the client's responsible partner approves in their place (any other
/// partner when they asked themselves); for imminent harm (R13) the lead approval is a
/// partner's.
pub fn approval_slot(approver: &Principal, a: &ApprovalFacts) -> Result<Slot, Reason> {
    let deny = |m: String| {
        Err(Reason {
            rule: Rule::TwoPerson,
            message: m,
        })
    };
    if !crate::may_act(approver.status) {
        return Err(Reason {
            rule: Rule::Status,
            message: format!("person {} may not act", approver.id),
        });
    }
    if approver.id == a.requester {
        return deny("the requester cannot approve their own transfer".to_owned());
    }
    if a.given.iter().any(|(p, _)| *p == approver.id) {
        return deny(
            "this person already approved this transfer: the other approval must come from \
             someone else"
                .to_owned(),
        );
    }
    let needs = |slot: Slot| !a.given.iter().any(|(_, s)| *s == slot);
    let may_officer = approver.role == Role::Officer;
    let may_lead = if a.exception == Some(LegalBasis::ImminentHarm) {
        approver.role == Role::Partner
    } else if a.requester_leads_team {
        approver.id == a.responsible_partner
            || (a.responsible_partner == a.requester && approver.role == Role::Partner)
    } else {
        approver.led_teams.contains(&a.matter.team)
    };
    if needs(Slot::Officer) && may_officer {
        return Ok(Slot::Officer);
    }
    if needs(Slot::Lead) && may_lead {
        return Ok(Slot::Lead);
    }
    let lead_words = if a.exception == Some(LegalBasis::ImminentHarm) {
        "a partner (imminent harm)"
    } else if a.requester_leads_team {
        "the designated partner (the team lead asked)"
    } else {
        "the matter's team lead"
    };
    match (needs(Slot::Lead), needs(Slot::Officer)) {
        (false, false) => deny("both approvals are already given".to_owned()),
        (true, true) => deny(format!(
            "the approvals are the confidentiality officer's and {lead_words}'s"
        )),
        (true, false) => deny(format!("the remaining approval is {lead_words}'s")),
        (false, true) => deny("the remaining approval is the confidentiality officer's".to_owned()),
    }
}

/// The state of a release link when its recipient asks for a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFacts {
    /// The transfer has both approvals and was released.
    pub released: bool,
    /// When the link ends.
    pub expires_at: Timestamp,
    /// Revoked (by the requester or the officer, or locked after wrong codes).
    pub revoked: bool,
    /// Downloads so far.
    pub downloads: u32,
    /// Downloads allowed.
    pub download_limit: u32,
    /// The recipient proved control of their address in this session.
    pub code_verified: bool,
    /// The facts of the transfer are those the approvals were given on.
    pub fingerprint_matches: bool,
}

/// Whether the recipient of a release link may have one document's content now (R12): the
/// link is live, the recipient proved their address, the transfer's checks still hold and the
/// facts are those approved. The only maker of a recipient's permit.
pub fn decide_release(
    requester: &Principal,
    t: &TransferFacts,
    link: &LinkFacts,
    document: &DocumentFacts,
    ctx: &Context,
) -> Decision {
    let deny = |rule: Rule, m: String| Decision::deny(Reason { rule, message: m }, false);
    if !link.released {
        return deny(Rule::TwoPerson, "the transfer is not approved".to_owned());
    }
    if link.revoked {
        return deny(Rule::Release, "the link was revoked".to_owned());
    }
    if link.expires_at <= ctx.now {
        return deny(Rule::Release, "the link has expired".to_owned());
    }
    if !link.code_verified {
        return deny(
            Rule::Release,
            "the recipient has not proved control of their address".to_owned(),
        );
    }
    if link.downloads >= link.download_limit {
        return deny(
            Rule::Release,
            format!("the download limit ({}) is reached", link.download_limit),
        );
    }
    if !t.documents.iter().any(|d| d.id == document.id) {
        return deny(
            Rule::Release,
            format!("document {} is not part of this transfer", document.id),
        );
    }
    let checks = check_transfer(requester, t, ctx);
    if let Some(failed) = checks.first_failure() {
        return deny(
            failed.rule,
            format!("no longer allowed: {}", failed.message),
        );
    }
    if !link.fingerprint_matches {
        return deny(
            Rule::TwoPerson,
            "the facts changed since the approvals (consent, agreement, documents or walls): \
             the approval is void"
                .to_owned(),
        );
    }
    Decision::allow_release(
        t.recipient.id,
        document.matter.id,
        Reason {
            rule: Rule::Release,
            message: format!(
                "released to recipient {} with both approvals; consent and agreement in force",
                t.recipient.id
            ),
        },
    )
}

/// Whether an outside recipient signed in with their own account (`external` role) may have
/// one document of a transfer released to them: the account is active and is the one linked
/// to the transfer's recipient; the login (password and second factor) stands in for the
/// mailed code; then every condition of [`decide_release`] applies (link live, limit, consent,
/// agreement, walls, approved facts).
pub fn decide_release_to_account(
    account: &Principal,
    requester: &Principal,
    t: &TransferFacts,
    link: &LinkFacts,
    document: &DocumentFacts,
    ctx: &Context,
) -> Decision {
    let deny = |rule: Rule, m: String| Decision::deny(Reason { rule, message: m }, true);
    if !crate::may_act(account.status) {
        return deny(Rule::Status, format!("person {} may not act", account.id));
    }
    if account.role != Role::External {
        return deny(
            Rule::RoleCap,
            "only an outside recipient's own account receives released documents".to_owned(),
        );
    }
    if t.recipient.person != Some(account.id) {
        return deny(
            Rule::Release,
            format!(
                "this transfer was released to recipient {}, not to this account",
                t.recipient.id
            ),
        );
    }
    let proved = LinkFacts {
        code_verified: true,
        ..*link
    };
    decide_release(requester, t, &proved, document, ctx)
}

/// Whether `principal` may revoke the release link of a transfer asked by `requester`: the
/// requester or the confidentiality officer.
pub fn may_revoke_release(principal: &Principal, requester: PersonId) -> Result<(), Reason> {
    if crate::may_act(principal.status)
        && (principal.id == requester || principal.role == Role::Officer)
    {
        Ok(())
    } else {
        Err(Reason {
            rule: Rule::Release,
            message: "only the requester or the confidentiality officer revokes a link".to_owned(),
        })
    }
}
