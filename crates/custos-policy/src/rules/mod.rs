//! The base rules R1–R4, evaluated in a fixed order: status (R4), walls (R3), then the action's
//! own rule, found in the file of its resource family, and deny when nothing allowed (R1).

mod oversight;
mod people;
mod records;

use crate::decision::{Decision, Reason, Rule};
use crate::{Action, Context, Principal, Resource};
use custos_domain::{WallObject, WallSubject};

fn reason(rule: Rule, message: impl Into<String>) -> Reason {
    Reason {
        rule,
        message: message.into(),
    }
}

fn deny_default(message: &str, conceal: bool) -> Decision {
    Decision::deny(reason(Rule::DenyByDefault, message), conceal)
}

/// Decides whether `principal` may do `action` on `resource`. Pure and total: every input gets a
/// decision with at least one reason. The order is the policy: status, walls, the action's rule,
/// deny.
pub fn decide(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    ctx: &Context,
) -> Decision {
    if !crate::may_act(principal.status) {
        let why = format!(
            "person {} is {}: no access at all",
            principal.id,
            principal.status.as_str()
        );
        return Decision::deny(reason(Rule::Status, why), true);
    }
    if let Some(wall) = screening_wall(principal, resource, ctx) {
        return Decision::deny(wall, true);
    }
    people::decide(principal, action, resource, ctx)
        .or_else(|| records::decide(principal, action, resource, ctx))
        .or_else(|| oversight::decide(principal, action, resource, ctx))
        .unwrap_or_else(|| deny_default("no rule allows this action on this resource", true))
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
