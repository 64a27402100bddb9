//! The base rules R1–R4, evaluated in a fixed order: status, walls, then the action's own rule,
//! and deny when nothing allowed.

use crate::decision::{Decision, Reason, Rule, Scope};
use crate::{Action, ClientFacts, Context, DocumentFacts, MatterFacts, Principal, Resource};
use custos_domain::{PersonStatus, Role, WallObject, WallSubject};

fn reason(rule: Rule, message: impl Into<String>) -> Reason {
    Reason {
        rule,
        message: message.into(),
    }
}

/// Decides whether `principal` may do `action` on `resource`. Pure and total: every input gets a
/// decision with at least one reason.
pub fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    ctx: &Context,
) -> Decision {
    if principal.status != PersonStatus::Active {
        return Decision::deny(
            reason(
                Rule::Status,
                format!(
                    "person {} is {}: no access at all",
                    principal.id,
                    principal.status.as_str()
                ),
            ),
            true,
        );
    }
    if let Some(wall) = screening_wall(principal, resource, ctx) {
        return Decision::deny(wall, true);
    }
    let allow =
        |scope: Scope, why: Reason| Decision::allow(principal.id, action, resource, scope, why);
    match (action, resource) {
        (Action::ViewPerson, Resource::Person { id, .. }) => {
            if principal.role.is_staff() {
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
        (Action::CreatePerson | Action::ResetCredentials, Resource::Person { role, .. }) => {
            content_account_duty(principal, action, *role, allow)
        }
        (Action::ConfirmRecovery, Resource::Person { .. }) => match principal.role {
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
        },
        (Action::ViewTeams, Resource::Team(_) | Resource::Firm) => {
            if principal.role.is_staff() {
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
        (Action::CreateClient, Resource::Client(_)) => match principal.role {
            Role::Partner | Role::TeamLead => allow(
                Scope::Full,
                reason(Rule::RoleDuty, "partners and team leads take on clients"),
            ),
            _ => deny_default("only partners and team leads take on clients", false),
        },
        (Action::ViewClient, Resource::Client(client)) => {
            view_client(principal, client, ctx, allow)
        }
        (Action::CreateMatter, Resource::NewMatter { matter, client }) => {
            open_matter(principal, matter, client, ctx, allow)
        }
        (Action::ViewMatter, Resource::Matter(matter)) => view_matter(principal, matter, allow),
        (Action::ManageMatterStaff, Resource::Matter(matter)) => {
            if matter.lead == principal.id || principal.led_teams.contains(&matter.team) {
                allow(
                    Scope::Full,
                    reason(
                        Rule::RoleDuty,
                        "the matter lead and team lead decide the staffing",
                    ),
                )
            } else {
                let visible = view_matter(principal, matter, allow).is_allowed();
                deny_default(
                    "only the matter lead and team lead decide the staffing",
                    !visible,
                )
            }
        }
        (Action::ViewDocument, Resource::Document(doc)) => view_document(principal, doc, allow),
        (Action::ReadDocumentContent, Resource::Document(doc)) => {
            let metadata = view_document(principal, doc, allow);
            if !metadata.is_allowed() {
                return metadata;
            }
            if principal.role.max_content_classification().is_none() {
                return Decision::deny(
                    reason(
                        Rule::MetadataOnly,
                        format!(
                            "the role `{}` may see metadata only, never content",
                            principal.role.as_str()
                        ),
                    ),
                    false,
                );
            }
            if need_to_know(principal, &doc.matter) {
                allow(Scope::Full, need_to_know_reason(principal, &doc.matter))
            } else {
                Decision::deny(
                    reason(
                        Rule::NeedToKnow,
                        format!("not staffed on matter {}: no need to know", doc.matter.id),
                    ),
                    false,
                )
            }
        }
        (Action::UploadDocument, Resource::Document(doc)) => {
            if !view_matter(principal, &doc.matter, allow).is_allowed() {
                return deny_default("the matter is not visible", true);
            }
            match principal.role.max_content_classification() {
                None => Decision::deny(
                    reason(
                        Rule::MetadataOnly,
                        format!(
                            "the role `{}` never handles content",
                            principal.role.as_str()
                        ),
                    ),
                    false,
                ),
                Some(cap) if doc.classification > cap => Decision::deny(
                    reason(
                        Rule::RoleCap,
                        format!(
                            "the role `{}` may not hold `{}` records",
                            principal.role.as_str(),
                            doc.classification.as_str()
                        ),
                    ),
                    false,
                ),
                Some(_) if need_to_know(principal, &doc.matter) => {
                    allow(Scope::Full, need_to_know_reason(principal, &doc.matter))
                }
                Some(_) => Decision::deny(
                    reason(
                        Rule::NeedToKnow,
                        format!("not staffed on matter {}", doc.matter.id),
                    ),
                    false,
                ),
            }
        }
        (Action::ManageWalls | Action::ViewWalls | Action::QueryAudit, Resource::Firm) => {
            if principal.role == Role::Officer {
                allow(
                    Scope::Full,
                    reason(
                        Rule::RoleDuty,
                        "the confidentiality officer owns walls and audits",
                    ),
                )
            } else {
                deny_default("only the confidentiality officer", false)
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
        _ => deny_default("no rule allows this action on this resource", true),
    }
}

fn deny_default(message: &str, conceal: bool) -> Decision {
    Decision::deny(reason(Rule::DenyByDefault, message), conceal)
}

/// R1: membership of the matter team, leading the matter, or leading its team.
fn need_to_know(principal: &Principal, matter: &MatterFacts) -> bool {
    principal.staffed_matters.contains(&matter.id)
        || matter.lead == principal.id
        || principal.led_teams.contains(&matter.team)
}

fn need_to_know_reason(principal: &Principal, matter: &MatterFacts) -> Reason {
    let how = if matter.lead == principal.id {
        "leads"
    } else if principal.led_teams.contains(&matter.team) {
        "leads the team that owns"
    } else {
        "is staffed on"
    };
    reason(
        Rule::NeedToKnow,
        format!("person {} {how} matter {}", principal.id, matter.id),
    )
}

/// Oversight roles see that records exist, never what they say.
fn oversight_metadata(principal: &Principal) -> Option<Reason> {
    match principal.role {
        Role::Admin => Some(reason(Rule::MetadataOnly, "admin/IT sees metadata only")),
        Role::Officer => Some(reason(
            Rule::MetadataOnly,
            "the officer oversees all records, metadata only without need-to-know",
        )),
        _ => None,
    }
}

fn view_matter(
    principal: &Principal,
    matter: &MatterFacts,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    if need_to_know(principal, matter) && principal.role.is_staff() {
        let scope = if principal.role.max_content_classification().is_some() {
            Scope::Full
        } else {
            Scope::MetadataOnly
        };
        return allow(scope, need_to_know_reason(principal, matter));
    }
    match oversight_metadata(principal) {
        Some(why) => allow(Scope::MetadataOnly, why),
        None => deny_default("not staffed on this matter", true),
    }
}

/// Whether a wall screens `principal` from one matter: facts from that matter grant nothing
/// (staffing on it stays recorded, and counts again when the officer lifts the wall).
fn walled_off(principal: &Principal, matter: &MatterFacts, ctx: &Context) -> bool {
    screening_wall(principal, &Resource::Matter(*matter), ctx).is_some()
}

fn view_client(
    principal: &Principal,
    client: &ClientFacts,
    ctx: &Context,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    let content_role = principal.role.max_content_classification().is_some();
    if principal.role.is_staff() && content_role {
        if client.responsible == principal.id {
            return allow(
                Scope::Full,
                reason(Rule::NeedToKnow, "responsible partner for this client"),
            );
        }
        if let Some(m) = client
            .matters
            .iter()
            .find(|m| need_to_know(principal, m) && !walled_off(principal, m, ctx))
        {
            return allow(Scope::Full, need_to_know_reason(principal, m));
        }
    }
    match oversight_metadata(principal) {
        Some(why) => allow(Scope::MetadataOnly, why),
        None => deny_default("no matter of this client is staffed by this person", true),
    }
}

fn view_document(
    principal: &Principal,
    doc: &DocumentFacts,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    if let Some(cap) = principal.role.max_content_classification()
        && doc.classification > cap
    {
        return Decision::deny(
            reason(
                Rule::RoleCap,
                format!(
                    "the role `{}` may not see `{}` records",
                    principal.role.as_str(),
                    doc.classification.as_str()
                ),
            ),
            true,
        );
    }
    if principal.role.is_staff()
        && principal.role.max_content_classification().is_some()
        && need_to_know(principal, &doc.matter)
    {
        return allow(Scope::Full, need_to_know_reason(principal, &doc.matter));
    }
    match oversight_metadata(principal) {
        Some(why) => allow(Scope::MetadataOnly, why),
        None => deny_default("not staffed on this document's matter", true),
    }
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
    let reads_content = role.max_content_classification().is_some();
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

/// Opening a matter: a partner, or the lead of the owning team, who already has a right to the
/// client: its responsible partner, or the lead of a team that acts for it.
fn open_matter(
    principal: &Principal,
    matter: &MatterFacts,
    client: &ClientFacts,
    ctx: &Context,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    let owner = principal.role == Role::Partner
        || (principal.role == Role::TeamLead && principal.led_teams.contains(&matter.team));
    let right = if client.responsible == principal.id {
        Some(format!(
            "person {} is the responsible partner of client {}",
            principal.id, client.id
        ))
    } else {
        client
            .matters
            .iter()
            .find(|m| principal.led_teams.contains(&m.team) && !walled_off(principal, m, ctx))
            .map(|m| {
                format!(
                    "person {} leads team {}, which acts for client {} on matter {}",
                    principal.id, m.team, client.id, m.id
                )
            })
    };
    match (owner, right) {
        (true, Some(why)) => allow(Scope::Full, reason(Rule::NeedToKnow, why)),
        (false, _) => deny_default(
            "only partners and the owning team's lead open matters",
            !view_client(principal, client, ctx, &allow).is_allowed(),
        ),
        (true, None) => Decision::deny(
            reason(
                Rule::NeedToKnow,
                format!(
                    "opening a matter for client {} needs its responsible partner or the lead of \
                     a team that already acts for it",
                    client.id
                ),
            ),
            !view_client(principal, client, ctx, &allow).is_allowed(),
        ),
    }
}

/// R3: the first wall that screens the principal from the resource, if any.
pub fn screening_wall(principal: &Principal, resource: &Resource, ctx: &Context) -> Option<Reason> {
    let (client, matter) = match resource {
        Resource::Client(c) => (c.id, None),
        Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => (m.client, Some(m.id)),
        Resource::Document(d) => (d.matter.client, Some(d.matter.id)),
        _ => return None,
    };
    ctx.walls.iter().find_map(|wall| {
        let screens_principal = match wall.subject {
            WallSubject::Person(p) => p == principal.id,
            WallSubject::Team(t) => principal.teams.contains(&t),
        };
        let covers_resource = match wall.object {
            WallObject::Client(c) => c == client,
            WallObject::Matter(m) => Some(m) == matter,
        };
        (screens_principal && covers_resource).then(|| {
            reason(
                Rule::Wall,
                format!(
                    "ethical wall {} screens person {} from this record",
                    wall.id, principal.id
                ),
            )
        })
    })
}
