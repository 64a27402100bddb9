//! Rules on people and teams: the directory, accounts and credentials (R2 duties).

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
        (Action::ViewPerson, Resource::Person { id, .. }) => {
            if crate::is_staff(principal.role) {
                allow(
                    Scope::Full,
                    reason(Rule::RoleDuty, "staff may see the firm directory"),
                )
            } else if *id == principal.id {
                allow(
                    Scope::Full,
                    reason(Rule::SelfService, "a person may see themselves"),
                )
            } else {
                deny_default("external parties do not see the firm directory", true)
            }
        }
        (Action::ManagePeople, Resource::Person { role, .. }) => match principal.role {
            Role::Officer => allow(
                Scope::Full,
                reason(
                    Rule::RoleDuty,
                    "the confidentiality officer manages accounts",
                ),
            ),
            Role::Admin if !matches!(role, Role::Officer | Role::Partner | Role::Admin) => allow(
                Scope::Full,
                reason(Rule::RoleDuty, "admin/IT manages ordinary accounts"),
            ),
            Role::Admin => Decision::deny(
                reason(
                    Rule::RoleCap,
                    format!(
                        "admin/IT may not manage an account with the role `{}`; the officer does",
                        role.as_str()
                    ),
                ),
                false,
            ),
            _ => deny_default("only the officer and admin/IT manage accounts", false),
        },
        (Action::ManageCompliance, Resource::Person { id, role }) => {
            compliance_duty(principal, *id, *role, allow)
        }
        (Action::CreatePerson | Action::ResetCredentials, Resource::Person { role, .. }) => {
            content_account_duty(principal, action, *role, allow)
        }
        (
            Action::ConfirmRecovery,
            Resource::Recovery {
                person, started_by, ..
            },
        ) if principal.id == *started_by || principal.id == *person => Decision::deny(
            reason(
                Rule::TwoPerson,
                "a second, different person must complete the recovery: not the one who \
                 started it, nor the person recovered",
            ),
            false,
        ),
        (Action::ConfirmRecovery, Resource::Person { .. } | Resource::Recovery { .. }) => {
            match principal.role {
                Role::Officer | Role::Partner | Role::Admin => allow(
                    Scope::Full,
                    reason(
                        Rule::RoleDuty,
                        "the officer, a partner or admin/IT may be the second person of a recovery",
                    ),
                ),
                _ => deny_default(
                    "only the officer, partners and admin/IT confirm account recoveries",
                    false,
                ),
            }
        }
        (Action::ViewTeams, Resource::Team(_) | Resource::Firm) => {
            if crate::is_staff(principal.role) {
                allow(
                    Scope::Full,
                    reason(Rule::RoleDuty, "staff may see the practice teams"),
                )
            } else {
                deny_default("external parties do not see the practice teams", true)
            }
        }
        (Action::ManageTeams, Resource::Team(_) | Resource::Firm) => match principal.role {
            Role::Officer | Role::Admin | Role::Partner => allow(
                Scope::Full,
                reason(Rule::RoleDuty, "this role manages practice teams"),
            ),
            _ => deny_default(
                "only partners, the officer and admin/IT manage teams",
                false,
            ),
        },
        _ => return None,
    })
}

/// Accounts and credentials that reach client content are the officer's: admin/IT creates and
/// resets only accounts whose role reads no client content (R2: admin/IT never reads content,
/// and must not be able to hand itself someone else's access).
fn content_account_duty(
    principal: &Principal,
    action: Action,
    role: Role,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    let verb = if action == Action::CreatePerson {
        "grant"
    } else {
        "reset the credentials of"
    };
    // An outside account receives released client content: whoever resets it could sign in
    // as the recipient, so its credentials are the officer's (admin/IT may still create one;
    // linking it to a recipient mails it a new password, see `update_third_party`).
    let reads_content = crate::content_cap(role).is_some()
        || (action == Action::ResetCredentials && role == Role::External);
    match principal.role {
        Role::Officer => allow(
            Scope::Full,
            reason(
                Rule::RoleDuty,
                "the confidentiality officer decides who may read client content",
            ),
        ),
        Role::Admin
            if !reads_content && !matches!(role, Role::Officer | Role::Partner | Role::Admin) =>
        {
            allow(
                Scope::Full,
                reason(
                    Rule::RoleDuty,
                    "admin/IT manages accounts that read no client content",
                ),
            )
        }
        Role::Admin => Decision::deny(
            reason(
                Rule::RoleCap,
                format!(
                    "admin/IT may not {verb} the role `{}`, which reads client content or manages \
                     the firm; the confidentiality officer does",
                    role.as_str()
                ),
            ),
            false,
        ),
        _ => deny_default(
            "only the confidentiality officer and admin/IT manage accounts",
            false,
        ),
    }
}

/// R4 records are the officer's, for everyone but herself: no one records their own agreement
/// or training. A partner records an officer's.
fn compliance_duty(
    principal: &Principal,
    person: custos_domain::PersonId,
    role: Role,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    if person == principal.id {
        return Decision::deny(
            reason(
                Rule::RoleDuty,
                "no one records their own confidentiality agreement or training; another \
                 officer or a partner does",
            ),
            false,
        );
    }
    match principal.role {
        Role::Officer => allow(
            Scope::Full,
            reason(
                Rule::RoleDuty,
                "the confidentiality officer records agreements and training",
            ),
        ),
        Role::Partner if role == Role::Officer => allow(
            Scope::Full,
            reason(
                Rule::RoleDuty,
                "a partner records the confidentiality officer's agreement and training",
            ),
        ),
        _ => deny_default(
            "only the confidentiality officer records agreements and training (a partner, an \
             officer's)",
            false,
        ),
    }
}
