//! Rules on client records: clients, matters and documents (R1 need-to-know, R2 role caps, R6
//! break-glass as a ground to read one matter).

use super::{deny_default, reason, screening_wall};
use crate::decision::{Decision, Reason, Rule, Scope};
use crate::{
    Action, ClientFacts, Context, DocumentFacts, Emergency, MatterFacts, Principal, Resource,
};
use custos_domain::Role;

/// The rule of `action` on `resource` for this family, or `None` when the pair is not one of
/// its own (the caller then denies by default).
pub(super) fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    ctx: &Context,
) -> Option<Decision> {
    let allow =
        |scope: Scope, why: Reason| Decision::allow(principal.id, action, resource, scope, why);
    Some(match (action, resource) {
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
        (Action::ViewMatter, Resource::Matter(matter)) => {
            view_matter(principal, matter, ctx, allow)
        }
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
                let visible = view_matter(principal, matter, ctx, allow).is_allowed();
                deny_default(
                    "only the matter lead and team lead decide the staffing",
                    !visible,
                )
            }
        }
        (Action::ViewDocument, Resource::Document(doc)) => {
            view_document(principal, doc, ctx, allow)
        }
        (Action::ReadDocumentContent, Resource::Document(doc)) => {
            let metadata = view_document(principal, doc, ctx, allow);
            if !metadata.is_allowed() {
                return Some(metadata);
            }
            if crate::content_cap(principal.role).is_none() {
                return Some(Decision::deny(
                    reason(
                        Rule::MetadataOnly,
                        format!(
                            "the role `{}` may see metadata only, never content",
                            principal.role.as_str()
                        ),
                    ),
                    false,
                ));
            }
            if let Some(why) = grounds(principal, &doc.matter, ctx) {
                if why.rule == Rule::BreakGlass
                    && doc.classification == custos_domain::Classification::Restricted
                {
                    return Some(Decision::deny(
                        reason(
                            Rule::BreakGlass,
                            "emergency access never opens a restricted record: restricted \
                             content is read only on the matter team (ask the matter's lead to \
                             staff you); its metadata stays visible",
                        ),
                        false,
                    ));
                }
                allow(Scope::Full, why)
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
            if !view_matter(principal, &doc.matter, ctx, allow).is_allowed() {
                return Some(deny_default("the matter is not visible", true));
            }
            match crate::content_cap(principal.role) {
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
        _ => return None,
    })
}

/// R1: membership of the matter team, leading the matter, or leading its team.
fn need_to_know(principal: &Principal, matter: &MatterFacts) -> bool {
    principal.staffed_matters.contains(&matter.id)
        || matter.lead == principal.id
        || principal.led_teams.contains(&matter.team)
}

/// R6: the principal's open emergency access to the matter, if any (content roles only: a
/// role that reads no content gains nothing from it).
fn emergency<'a>(
    principal: &'a Principal,
    matter: &MatterFacts,
    ctx: &Context,
) -> Option<&'a Emergency> {
    if crate::content_cap(principal.role).is_none() || !crate::is_staff(principal.role) {
        return None;
    }
    principal
        .emergency
        .iter()
        .find(|e| e.matter == matter.id && e.expires_at > ctx.now)
}

/// The principal's ground to read the matter's content: need-to-know (R1) first, else an open
/// break-glass (R6), named in the reason so the audit entry is flagged.
fn grounds(principal: &Principal, matter: &MatterFacts, ctx: &Context) -> Option<Reason> {
    if need_to_know(principal, matter) {
        return Some(need_to_know_reason(principal, matter));
    }
    emergency(principal, matter, ctx).map(|e| {
        let until = e
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        reason(
            Rule::BreakGlass,
            format!(
                "break-glass {} gives person {} emergency access to matter {} until {until}; \
                 flagged for the officer's review",
                e.id, principal.id, matter.id
            ),
        )
    })
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
    ctx: &Context,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    if need_to_know(principal, matter) && crate::is_staff(principal.role) {
        let scope = if crate::content_cap(principal.role).is_some() {
            Scope::Full
        } else {
            Scope::MetadataOnly
        };
        return allow(scope, need_to_know_reason(principal, matter));
    }
    if let Some(why) = grounds(principal, matter, ctx) {
        return allow(Scope::Full, why);
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
    let content_role = crate::content_cap(principal.role).is_some();
    if crate::is_staff(principal.role) && content_role {
        if client.responsible == principal.id {
            return allow(
                Scope::Full,
                reason(Rule::NeedToKnow, "responsible partner for this client"),
            );
        }
        if let Some(why) = client
            .matters
            .iter()
            .filter(|m| !walled_off(principal, m, ctx))
            .find_map(|m| grounds(principal, m, ctx))
        {
            return allow(Scope::Full, why);
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
    ctx: &Context,
    allow: impl Fn(Scope, Reason) -> Decision,
) -> Decision {
    if let Some(cap) = crate::content_cap(principal.role)
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
    if crate::is_staff(principal.role)
        && crate::content_cap(principal.role).is_some()
        && let Some(why) = grounds(principal, &doc.matter, ctx)
    {
        return allow(Scope::Full, why);
    }
    match oversight_metadata(principal) {
        Some(why) => allow(Scope::MetadataOnly, why),
        None => deny_default("not staffed on this document's matter", true),
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

/// Where a listing of client records must look for what a principal may see (see [`Reach`]).
pub fn listing_reach(principal: &Principal) -> crate::Reach {
    if oversight_metadata(principal).is_some() {
        crate::Reach::Everything
    } else {
        crate::Reach::OwnGrounds
    }
}
