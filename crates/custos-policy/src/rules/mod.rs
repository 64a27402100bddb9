//! The base rules R1–R4 and R6, evaluated in a fixed order: status (R4), walls (R3), then the
//! action's own rule, found in the file of its resource family, deny when nothing allowed (R1),
//! and an allow on client data only with the preconditions on file (R4).

mod emergency;
mod oversight;
mod people;
mod records;
mod transfers;

pub use emergency::may_break_glass;
pub use records::listing_reach;
pub use transfers::may_read_legal_reference;

use crate::decision::{Decision, Reason, Rule};
use crate::{Action, Context, Principal, Resource};
use custos_domain::{Wall, WallKind, WallObject, WallSubject};

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
/// decision with at least one reason. The order is the policy: status (R4), walls (R3), the
/// action's rule (R1, R2, R6), and an allow on client data only with the preconditions met
/// (R4); deny when nothing allowed.
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
    let decided = people::decide(principal, action, resource, ctx)
        .or_else(|| records::decide(principal, action, resource, ctx))
        .or_else(|| emergency::decide(principal, action, resource, ctx))
        .or_else(|| oversight::decide(principal, action, resource, ctx))
        .or_else(|| transfers::decide(principal, action, resource, ctx))
        .unwrap_or_else(|| deny_default("no rule allows this action on this resource", true));
    if decided.is_allowed() && is_client_data(resource) {
        let missing = principal.compliance.missing(ctx.today);
        if !missing.is_empty() {
            let what: Vec<String> = missing.iter().map(ToString::to_string).collect();
            let why = format!(
                "{}: no access to client data until the confidentiality officer records it",
                what.join("; ")
            );
            return Decision::deny(reason(Rule::Precondition, why), false);
        }
        // Firm policies only ever see an allow: they can restrict, never open.
        if let Some(firm) = &ctx.firm
            && let Some(forbidden) =
                firm.forbids(principal, action, resource, &ctx.clock, ctx.address)
        {
            return Decision::deny(forbidden, false);
        }
    }
    decided
}

/// Whether the resource is (or holds) a client's information, which R4 guards.
fn is_client_data(resource: &Resource) -> bool {
    matches!(
        resource,
        Resource::Client(_)
            | Resource::Matter(_)
            | Resource::NewMatter { .. }
            | Resource::Document(_)
    )
}

/// R3: the first wall that screens the principal from the resource, if any. An exclusionary
/// wall screens its subject; inclusionary walls on a record screen everyone who is not the
/// subject of one of them. Lifted walls screen no one.
pub fn screening_wall(principal: &Principal, resource: &Resource, ctx: &Context) -> Option<Reason> {
    let (client, matter) = match resource {
        Resource::Client(c) => (c.id, None),
        Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => (m.client, Some(m.id)),
        Resource::Document(d) => (d.matter.client, Some(d.matter.id)),
        Resource::Transfer(t) => (t.matter.client, Some(t.matter.id)),
        _ => return None,
    };
    let covers = |wall: &&Wall| {
        wall.is_active()
            && match wall.object {
                WallObject::Client(c) => c == client,
                WallObject::Matter(m) => Some(m) == matter,
            }
    };
    let names_principal = |wall: &Wall| match wall.subject {
        WallSubject::Person(p) => p == principal.id,
        WallSubject::Team(t) => principal.teams.contains(&t),
    };
    if let Some(wall) = ctx
        .walls
        .iter()
        .filter(covers)
        .find(|w| w.kind == WallKind::Exclusionary && names_principal(w))
    {
        return Some(reason(
            Rule::Wall,
            format!(
                "ethical wall {} screens person {} from this record",
                wall.id, principal.id
            ),
        ));
    }
    let mut inclusionary = ctx
        .walls
        .iter()
        .filter(covers)
        .filter(|w| w.kind == WallKind::Inclusionary)
        .peekable();
    let first = inclusionary.peek().map(|w| w.id)?;
    if inclusionary.any(names_principal) {
        return None;
    }
    Some(reason(
        Rule::Wall,
        format!(
            "inclusionary wall {first} admits only the people it lists to this record, and not \
             person {}",
            principal.id
        ),
    ))
}
