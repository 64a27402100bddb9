//! Rules on emergency access (R6) and on the question "who can access this matter, and why".

use super::{deny_default, reason};
use crate::decision::{Decision, Reason, Rule, Scope};
use crate::{Action, Context, Principal, Resource};
use custos_domain::Role;

/// The roles that may open break-glass: those who act on matters for clients. Support staff,
/// interns, IT and external parties never do; the officer reviews it and does not use it.
pub fn may_break_glass(role: Role) -> bool {
    matches!(role, Role::Partner | Role::TeamLead | Role::Lawyer)
}

/// The rule of `action` on `resource` for this family, or `None` when the pair is not one of
/// its own (the caller then denies by default). Walls were checked before (a wall always wins:
/// no break-glass through one), and the preconditions are checked after.
pub(super) fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    _ctx: &Context,
) -> Option<Decision> {
    let allow =
        |scope: Scope, why: Reason| Decision::allow(principal.id, action, resource, scope, why);
    Some(match (action, resource) {
        (Action::BreakGlass, Resource::Matter(matter)) => {
            if may_break_glass(principal.role) {
                allow(
                    Scope::Full,
                    reason(
                        Rule::BreakGlass,
                        format!(
                            "a `{}` may open emergency access to matter {} with a written \
                             justification; it is flagged and reviewed by the officer",
                            principal.role.as_str(),
                            matter.id
                        ),
                    ),
                )
            } else {
                Decision::deny(
                    reason(
                        Rule::RoleCap,
                        format!(
                            "the role `{}` may not open emergency access; partners, team leads \
                             and lawyers may",
                            principal.role.as_str()
                        ),
                    ),
                    false,
                )
            }
        }
        (Action::ReviewBreakGlass, Resource::Firm) => {
            if principal.role == Role::Officer {
                allow(
                    Scope::Full,
                    reason(
                        Rule::RoleDuty,
                        "the confidentiality officer reviews every emergency access",
                    ),
                )
            } else {
                deny_default(
                    "only the confidentiality officer reviews emergency access",
                    false,
                )
            }
        }
        (Action::ViewAccess, Resource::Matter(matter)) => {
            if principal.role == Role::Officer {
                allow(
                    Scope::MetadataOnly,
                    reason(
                        Rule::RoleDuty,
                        "the confidentiality officer may ask who can access any matter",
                    ),
                )
            } else if matter.lead == principal.id || principal.led_teams.contains(&matter.team) {
                allow(
                    Scope::MetadataOnly,
                    reason(
                        Rule::RoleDuty,
                        "the matter lead and team lead may see who can access their matter",
                    ),
                )
            } else {
                // Those on the matter know it exists; to anyone else it stays hidden.
                deny_default(
                    "only the officer, the matter lead and the team lead see who can access a \
                     matter",
                    !principal.staffed_matters.contains(&matter.id),
                )
            }
        }
        (Action::ViewAccess, Resource::Client(client)) => {
            if principal.role == Role::Officer {
                allow(
                    Scope::MetadataOnly,
                    reason(
                        Rule::RoleDuty,
                        "the confidentiality officer may ask who can access any client",
                    ),
                )
            } else if client.responsible == principal.id {
                allow(
                    Scope::MetadataOnly,
                    reason(
                        Rule::RoleDuty,
                        "the partner responsible for a client may see who can access it",
                    ),
                )
            } else {
                // Those on one of its matters know the client exists; to anyone else it
                // stays hidden.
                let knows = client.matters.iter().any(|m| {
                    principal.staffed_matters.contains(&m.id)
                        || m.lead == principal.id
                        || principal.led_teams.contains(&m.team)
                });
                deny_default(
                    "only the officer and the partner responsible for a client see who can \
                     access it",
                    !knows,
                )
            }
        }
        _ => return None,
    })
}
