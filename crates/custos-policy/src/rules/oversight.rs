//! Rules on oversight: walls and the audit log (the officer), and one's own trail.

use super::{deny_default, reason};
use crate::decision::{Decision, Reason, Rule, Scope};
use crate::{Action, Context, Principal, Resource};
use custos_domain::Role;

/// The rule of `action` on `resource` for this family, or `None` when the pair is not one of
/// its own (the caller then denies by default).
pub(super) fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    _ctx: &Context,
) -> Option<Decision> {
    let allow =
        |scope: Scope, why: Reason| Decision::allow(principal.id, action, resource, scope, why);
    Some(match (action, resource) {
        (
            Action::ManageWalls
            | Action::ViewWalls
            | Action::QueryAudit
            | Action::ManageFirmPolicies,
            Resource::Firm,
        ) => {
            if principal.role == Role::Officer {
                allow(
                    Scope::Full,
                    reason(
                        Rule::RoleDuty,
                        "the confidentiality officer owns walls, firm policies and audits",
                    ),
                )
            } else {
                deny_default("only the confidentiality officer", false)
            }
        }
        (Action::ViewJobs, Resource::Firm) => {
            if matches!(principal.role, Role::Officer | Role::Admin) {
                allow(
                    Scope::Full,
                    reason(
                        Rule::RoleDuty,
                        "the officer and IT watch the firm's periodic work",
                    ),
                )
            } else {
                deny_default("only the confidentiality officer and IT", false)
            }
        }
        (Action::ViewAccess, Resource::Person { .. }) => {
            if principal.role == Role::Officer {
                allow(
                    Scope::MetadataOnly,
                    reason(
                        Rule::RoleDuty,
                        "the confidentiality officer reviews what each person can access (R20)",
                    ),
                )
            } else {
                deny_default(
                    "only the confidentiality officer reviews what a person can access",
                    false,
                )
            }
        }
        (Action::ViewOwnAudit, Resource::AuditTrailOf(owner)) => {
            if *owner == principal.id {
                allow(
                    Scope::Full,
                    reason(Rule::SelfService, "a person may see their own trail"),
                )
            } else {
                deny_default("only the owner sees this trail", true)
            }
        }
        _ => return None,
    })
}
