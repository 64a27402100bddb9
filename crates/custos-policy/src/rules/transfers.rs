//! Who may take part in sharing outside the firm (R10-R13): record consents, register
//! recipients, ask for a transfer, approve one, see the register. Whether one transfer may
//! go ahead is decided by [`crate::check_transfer`] and [`crate::approval_slot`].

use super::{deny_default, reason, records};
use crate::decision::{Decision, Rule, Scope};
use crate::{Action, Context, Principal, Resource};
use custos_domain::Role;

/// Whether `principal` may read a legal exception's reference (R13: an order's number, the
/// harm reported): the officer, the requester and the lead of the matter's team always; a
/// partner only while the client may be told of the disclosure. A reference the client may
/// not be told of (an order forbids it, or the disclosure is kept from the client) is
/// need-to-know: partners see that there was a disclosure and on which basis, not the
/// reference.
pub fn may_read_legal_reference(
    principal: &Principal,
    sight: &crate::TransferSight,
    client_may_be_told: bool,
) -> bool {
    principal.role == Role::Officer
        || principal.id == sight.requester
        || principal.led_teams.contains(&sight.matter.team)
        || (principal.role == Role::Partner && client_may_be_told)
}

/// The rule of `action` on `resource` for this family, or `None` when the pair is not one of
/// its own.
pub(super) fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    ctx: &Context,
) -> Option<Decision> {
    let allow = |why: &str| {
        Decision::allow(
            principal.id,
            action,
            resource,
            Scope::Full,
            reason(Rule::RoleDuty, why),
        )
    };
    let staff = crate::is_staff(principal.role);
    Some(match (action, resource) {
        // Consents are recorded by those who act for the client with need-to-know (never
        // interns, secretaries, IT or outsiders) and by the officer.
        (Action::ManageConsents, Resource::Client(_)) => {
            if principal.role == Role::Officer {
                return Some(allow("the confidentiality officer records consents"));
            }
            if !matches!(
                principal.role,
                Role::Partner | Role::TeamLead | Role::Lawyer
            ) {
                // Existence first: a client the caller may not see stays hidden (404), like
                // one that does not exist; one they see is refused in words (403).
                let sees = records::decide(principal, Action::ViewClient, resource, ctx)
                    .is_some_and(|v| v.is_allowed());
                return Some(Decision::deny(
                    reason(
                        Rule::RoleCap,
                        format!(
                            "a {} does not record client consents",
                            principal.role.as_str()
                        ),
                    ),
                    !sees,
                ));
            }
            let view = records::decide(principal, Action::ViewClient, resource, ctx)
                .unwrap_or_else(|| deny_default("not acting for this client", true));
            if view.permit().map(crate::Permit::scope) == Some(Scope::Full) {
                Decision::allow(
                    principal.id,
                    action,
                    resource,
                    Scope::Full,
                    reason(
                        Rule::NeedToKnow,
                        "acts for the client (responsible partner or on one of its matters)",
                    ),
                )
            } else {
                Decision::deny(
                    reason(
                        Rule::NeedToKnow,
                        "only someone acting for this client records its consents",
                    ),
                    view.conceals_existence(),
                )
            }
        }
        (Action::ManageThirdParties, Resource::Firm) => match principal.role {
            Role::Officer | Role::Partner | Role::TeamLead => {
                allow("officers, partners and team leads register outside recipients")
            }
            _ => deny_default(
                "only the officer, a partner or a team lead registers outside recipients",
                false,
            ),
        },
        (Action::VetThirdParty, Resource::Firm) => {
            if principal.role == Role::Officer {
                allow("the confidentiality officer vets outside recipients")
            } else {
                deny_default(
                    "only the confidentiality officer verifies a recipient's address, records \
                     their agreement or links their account",
                    false,
                )
            }
        }
        (Action::ReceiveTransfers, Resource::Firm) => {
            if principal.role == Role::External {
                allow("an outside recipient sees what was released to them")
            } else {
                deny_default(
                    "only an outside recipient's account receives released documents",
                    false,
                )
            }
        }
        // The recipients (names, organisations, addresses) are need-to-know too: those who
        // ask for, approve or register transfers; never interns, secretaries, IT or outsiders.
        (Action::ViewThirdParties, Resource::Firm) => match principal.role {
            Role::Officer | Role::Partner | Role::TeamLead | Role::Lawyer | Role::Paralegal => {
                allow("those who ask for, approve or register transfers see the recipients")
            }
            _ => Decision::deny(
                reason(
                    Rule::RoleCap,
                    format!(
                        "a {} neither asks for nor approves transfers: the recipients are not \
                         shown",
                        principal.role.as_str()
                    ),
                ),
                false,
            ),
        },
        (Action::ViewTransfers | Action::RevokeRelease, Resource::Firm) => {
            if staff {
                allow("firm staff see the recipients and the transfers they take part in")
            } else {
                deny_default("only firm staff", false)
            }
        }
        // A transfer is seen by whoever asked for it, the officer and partners (who approve
        // and answer for the register), and the lead of the team that owns its matter; to
        // anyone else it does not exist.
        (Action::ViewTransfers, Resource::Transfer(t)) => {
            if t.requester == principal.id {
                allow("the requester sees their own transfer")
            } else if matches!(principal.role, Role::Officer | Role::Partner) {
                allow("the officer and partners see every transfer of the register")
            } else if principal.led_teams.contains(&t.matter.team) {
                allow("the team lead sees the transfers of the team's matters")
            } else {
                deny_default(
                    "only the requester, the officer, partners and the matter's team lead see \
                     a transfer",
                    true,
                )
            }
        }
        (Action::ApproveTransfer, Resource::Firm) => match principal.role {
            Role::Officer | Role::Partner | Role::TeamLead => {
                allow("officers, partners and team leads approve transfers")
            }
            _ => Decision::deny(
                reason(
                    Rule::TwoPerson,
                    "only the matter's team lead (or a designated partner) and the \
                     confidentiality officer approve transfers",
                ),
                false,
            ),
        },
        (Action::ViewOutbox, Resource::Firm) => {
            if principal.role == Role::Officer {
                allow("the confidentiality officer watches the outbox")
            } else {
                deny_default("only the confidentiality officer", false)
            }
        }
        // Asking to send documents out: someone on the matter with full access, in a role that
        // acts for clients.
        (Action::RequestTransfer, Resource::Matter(_)) => {
            if !matches!(
                principal.role,
                Role::Partner | Role::TeamLead | Role::Lawyer | Role::Paralegal | Role::Officer
            ) {
                return Some(Decision::deny(
                    reason(
                        Rule::RoleCap,
                        format!(
                            "a {} does not send documents outside the firm",
                            principal.role.as_str()
                        ),
                    ),
                    false,
                ));
            }
            let view = records::decide(principal, Action::ViewMatter, resource, ctx)
                .unwrap_or_else(|| deny_default("not on this matter", true));
            if view.permit().map(crate::Permit::scope) == Some(Scope::Full)
                && !view.by_break_glass()
            {
                Decision::allow(
                    principal.id,
                    action,
                    resource,
                    Scope::Full,
                    reason(Rule::NeedToKnow, "on the matter's team"),
                )
            } else {
                Decision::deny(
                    reason(
                        Rule::NeedToKnow,
                        "only someone on the matter's team asks to send its documents out \
                         (never through an emergency access)",
                    ),
                    view.conceals_existence(),
                )
            }
        }
        _ => return None,
    })
}
