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

/// At most this many emergency accesses a person may open in 24 hours (R6 is for the
/// emergency, not for browsing the firm: the hostile review opened 6 of 9 matters in a second).
pub const EMERGENCIES_PER_DAY: u32 = 3;

/// The bounds on opening another emergency access: one open at a time (to another matter: the
/// officer ends the first; to the same matter the caller is told it is still open), and at most
/// [`EMERGENCIES_PER_DAY`] in 24 hours, ended ones included. `None`: within bounds.
fn bound(
    principal: &Principal,
    matter: custos_domain::MatterId,
    ctx: &Context,
) -> Option<Decision> {
    if !may_break_glass(principal.role) {
        return None;
    }
    if let Some(open) = principal
        .emergency
        .iter()
        .find(|e| e.expires_at > ctx.now && e.matter != matter)
    {
        return Some(Decision::deny(
            reason(
                Rule::BreakGlass,
                format!(
                    "an emergency access of yours (to matter {}) is still open: one at a time; \
                     the confidentiality officer can end it",
                    open.matter
                ),
            ),
            false,
        ));
    }
    if principal.emergencies_last_day >= EMERGENCIES_PER_DAY {
        return Some(Decision::deny(
            reason(
                Rule::BreakGlass,
                format!(
                    "you opened {} emergency accesses in the last 24 hours, the most allowed; \
                     ask the confidentiality officer or the matter's lead for access",
                    principal.emergencies_last_day
                ),
            ),
            false,
        ));
    }
    None
}

/// The rule of `action` on `resource` for this family, or `None` when the pair is not one of
/// its own (the caller then denies by default). Walls were checked before (a wall always wins:
/// no break-glass through one), and the preconditions are checked after.
pub(super) fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    ctx: &Context,
) -> Option<Decision> {
    let allow =
        |scope: Scope, why: Reason| Decision::allow(principal.id, action, resource, scope, why);
    Some(match (action, resource) {
        (Action::BreakGlass, Resource::Matter(matter)) => {
            if let Some(bound) = bound(principal, matter.id, ctx) {
                bound
            } else if may_break_glass(principal.role) {
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
