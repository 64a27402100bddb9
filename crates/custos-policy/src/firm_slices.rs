//! Slicing firm policies so that a decision runs only those that could match it.
//!
//! Each firm policy is sliced by action (its action constraint) and by a **guard**: the
//! equalities on `principal.role` and `resource.classification` found among the top-level
//! `&&` conjuncts of its `when` conditions. A guard is a necessary condition read from the
//! policy's own text, never a sufficient one: a policy whose guard fails for a request cannot
//! match it, so leaving it out changes nothing; a policy with no guard is always run. When no
//! policy is left for a request, Cedar is not asked at all and no entity is built. The
//! property tests check that sliced evaluation equals evaluating the whole set.

use crate::Action;
use cedar_policy::{Policy, PolicySet};
use custos_domain::{Classification, Role};
use serde_json::Value;
use std::collections::HashMap;

/// What must hold for a policy to match (`None`: no constraint found).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Guard {
    role: Option<String>,
    classification: Option<String>,
    /// `resource.client == Client::"<id>"` (`Some(None)`: an id no client can have).
    client: Option<Option<custos_domain::ClientId>>,
}

impl Guard {
    /// Reads the guard from a policy's JSON form; anything not understood adds no constraint.
    pub(crate) fn of(policy: &Policy) -> Guard {
        let mut guard = Guard::default();
        let Ok(json) = policy.to_json() else {
            return guard;
        };
        let conditions = json.get("conditions").and_then(Value::as_array);
        for c in conditions.into_iter().flatten() {
            if c.get("kind").and_then(Value::as_str) != Some("when") {
                continue;
            }
            if let Some(body) = c.get("body") {
                guard.read_conjuncts(body);
            }
        }
        guard
    }

    fn read_conjuncts(&mut self, e: &Value) {
        if let Some(and) = e.get("&&") {
            for side in ["left", "right"] {
                if let Some(s) = and.get(side) {
                    self.read_conjuncts(s);
                }
            }
            return;
        }
        let Some(eq) = e.get("==") else { return };
        let (Some(l), Some(r)) = (eq.get("left"), eq.get("right")) else {
            return;
        };
        for (attr, lit) in [(l, r), (r, l)] {
            let Some(value) = lit.get("Value") else {
                continue;
            };
            match (attribute(attr), value) {
                (Some(("principal", "role")), Value::String(text)) => {
                    self.role = Some(text.clone());
                }
                (Some(("resource", "classification")), Value::String(text)) => {
                    self.classification = Some(text.clone());
                }
                (Some(("resource", "client")), entity) => {
                    let entity = entity.get("__entity");
                    let kind = entity.and_then(|e| e.get("type")).and_then(Value::as_str);
                    let id = entity.and_then(|e| e.get("id")).and_then(Value::as_str);
                    if let (Some("Client"), Some(id)) = (kind, id) {
                        let id = serde_json::from_value(Value::String(id.to_owned())).ok();
                        self.client = Some(id);
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether a request by a person of `role` on a resource of `classification` (`None`:
    /// not a document) may match.
    pub(crate) fn admits(&self, role: Role, classification: Option<Classification>) -> bool {
        let role_ok = self.role.as_deref().is_none_or(|r| r == role.as_str());
        let class_ok = match &self.classification {
            None => true,
            Some(c) => classification.is_some_and(|k| k.as_str() == c),
        };
        role_ok && class_ok
    }
}

impl Guard {
    /// Whether a request on a record of `client` may match (checked per request, after the
    /// slice: a firm may name many clients, so they are not part of the slices' index).
    fn admits_client(&self, client: Option<custos_domain::ClientId>) -> bool {
        match &self.client {
            None => true,
            Some(c) => client.is_some_and(|k| Some(k) == *c),
        }
    }
}

/// `("principal", "role")` for the expression `principal.role`.
fn attribute(e: &Value) -> Option<(&str, &str)> {
    let dot = e.get(".")?;
    let var = dot.get("left")?.get("Var")?.as_str()?;
    let attr = dot.get("attr")?.as_str()?;
    Some((var, attr))
}

/// The policy sets to run, by (action, role, classification), built once per saved version;
/// requests that share the same slice share one set.
#[derive(Default)]
pub(crate) struct Slices {
    index: HashMap<(Action, Role, Option<Classification>), usize>,
    /// Each set, with the guards of its firm policies.
    sets: Vec<(PolicySet, Vec<Guard>)>,
}

impl Slices {
    /// Builds the slices of `policies` (each with the actions it may apply to and its guard);
    /// `allow` is the built-in permit added to every non-empty set.
    pub(crate) fn build(
        policies: &[(Policy, Vec<Action>, Guard)],
        allow: &Policy,
    ) -> Result<Slices, String> {
        let mut slices = Slices::default();
        let mut by_members: HashMap<Vec<usize>, usize> = HashMap::new();
        let classes = std::iter::once(None).chain(Classification::ALL.into_iter().map(Some));
        let classes: Vec<Option<Classification>> = classes.collect();
        for action in Action::ALL {
            for role in Role::ALL {
                for &class in &classes {
                    let members: Vec<usize> = policies
                        .iter()
                        .enumerate()
                        .filter(|(_, (_, actions, guard))| {
                            actions.contains(&action) && guard.admits(role, class)
                        })
                        .map(|(i, _)| i)
                        .collect();
                    if members.is_empty() {
                        continue;
                    }
                    let at = match by_members.get(&members) {
                        Some(&at) => at,
                        None => {
                            let mut set = PolicySet::new();
                            for &i in &members {
                                set.add(policies[i].0.clone()).map_err(|e| e.to_string())?;
                            }
                            set.add(allow.clone()).map_err(|e| e.to_string())?;
                            let guards = members.iter().map(|&i| policies[i].2.clone()).collect();
                            slices.sets.push((set, guards));
                            by_members.insert(members, slices.sets.len() - 1);
                            slices.sets.len() - 1
                        }
                    };
                    slices.index.insert((action, role, class), at);
                }
            }
        }
        Ok(slices)
    }

    /// The set to run for a request on a record of `client`, or `None` when no firm policy
    /// could match it.
    pub(crate) fn get(
        &self,
        action: Action,
        role: Role,
        classification: Option<Classification>,
        client: Option<custos_domain::ClientId>,
    ) -> Option<&PolicySet> {
        let at = *self.index.get(&(action, role, classification))?;
        let (set, guards) = self.sets.get(at)?;
        guards
            .iter()
            .any(|g| g.admits_client(client))
            .then_some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn guard(text: &str) -> Guard {
        let p = Policy::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        Guard::of(&p)
    }

    #[test]
    fn guards_are_read_from_top_level_conjuncts_only() {
        let g = guard(
            r#"forbid(principal, action, resource) when { principal.role == "intern" && resource.classification == "restricted" };"#,
        );
        assert!(g.admits(Role::Intern, Some(Classification::Restricted)));
        assert!(!g.admits(Role::Lawyer, Some(Classification::Restricted)));
        assert!(!g.admits(Role::Intern, Some(Classification::Confidential)));
        assert!(!g.admits(Role::Intern, None));
        // Reversed sides are the same equality.
        let g =
            guard(r#"forbid(principal, action, resource) when { "intern" == principal.role };"#);
        assert!(!g.admits(Role::Lawyer, None));
        // Under `||` or `!`, or in `unless`, an equality is not necessary: no guard.
        for text in [
            r#"forbid(principal, action, resource) when { principal.role == "intern" || context.hour < 6 };"#,
            r#"forbid(principal, action, resource) when { !(principal.role == "intern") };"#,
            r#"forbid(principal, action, resource) unless { principal.role == "intern" };"#,
        ] {
            assert_eq!(guard(text), Guard::default(), "{text}");
        }
    }

    mod equivalence {
        use crate::firm::{BASE_ALLOW, FirmPolicies, request};
        use crate::{Action, DocumentFacts, LocalClock, MatterFacts, Principal, Resource};
        use cedar_policy::{Authorizer, Decision, Policy, PolicyId, PolicySet};
        use custos_domain::*;
        use proptest::prelude::*;
        use std::str::FromStr;

        const ROLES: [&str; 4] = ["intern", "lawyer", "paralegal", "partner"];
        const CLASSES: [&str; 3] = ["public", "confidential", "restricted"];
        const CLIENTS: [&str; 2] = [
            "0195f1f0-0000-7000-8000-000000000001",
            "0195f1f0-0000-7000-8000-000000000002",
        ];
        const ACTIONS: [Action; 4] = [
            Action::ViewDocument,
            Action::ReadDocumentContent,
            Action::ViewMatter,
            Action::ViewClient,
        ];

        /// A condition built from role, classification and clock atoms with `&&`, `||` and
        /// `!`, so that some equalities are guards and some are not.
        fn condition(document: bool) -> impl Strategy<Value = String> {
            let mut atoms = vec![
                (0..ROLES.len())
                    .prop_map(|r| format!("principal.role == \"{}\"", ROLES[r]))
                    .boxed(),
                (0..24_i64)
                    .prop_map(|h| format!("context.hour < {h}"))
                    .boxed(),
            ];
            atoms.push(
                (0..2_usize)
                    .prop_map(|c| format!("resource.client == Client::\"{}\"", CLIENTS[c]))
                    .boxed(),
            );
            if document {
                atoms.push(
                    (0..CLASSES.len())
                        .prop_map(|c| format!("\"{}\" == resource.classification", CLASSES[c]))
                        .boxed(),
                );
            }
            let leaf = proptest::strategy::Union::new(atoms);
            leaf.prop_recursive(3, 8, 2, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
                    inner.prop_map(|a| format!("!({a})")),
                ]
            })
        }

        /// A policy on documents (any action on them) or on any action with role atoms only.
        fn policy() -> impl Strategy<Value = String> {
            prop_oneof![
                (condition(true), any::<bool>()).prop_map(|(c, when)| format!(
                    "forbid(principal, action in [Action::\"document.view\", Action::\"document.read\"], resource) {} {{ {c} }};",
                    if when { "when" } else { "unless" }
                )),
                (condition(false), any::<bool>()).prop_map(|(c, when)| format!(
                    "forbid(principal, action, resource) {} {{ {c} }};",
                    if when { "when" } else { "unless" }
                )),
            ]
        }

        fn principal(role: usize) -> Principal {
            Principal {
                id: PersonId::new(),
                role: Role::parse(ROLES[role]).unwrap_or(Role::Lawyer),
                status: PersonStatus::Active,
                teams: vec![TeamId::new()],
                led_teams: vec![],
                staffed_matters: vec![],
                compliance: Compliance::default(),
                emergency: vec![],
                emergencies_last_day: 0,
            }
        }

        fn resource(action: Action, class: usize, client: usize) -> Resource {
            let client = CLIENTS
                .get(client)
                .and_then(|c| uuid::Uuid::parse_str(c).ok())
                .map_or_else(ClientId::new, ClientId);
            let matter = MatterFacts {
                id: MatterId::new(),
                client,
                team: TeamId::new(),
                lead: PersonId::new(),
            };
            match action {
                Action::ViewMatter => Resource::Matter(matter),
                Action::ViewClient => Resource::Client(crate::ClientFacts {
                    id: matter.client,
                    responsible: PersonId::new(),
                    matters: vec![matter],
                }),
                _ => Resource::Document(DocumentFacts {
                    id: DocumentId::new(),
                    matter,
                    classification: Classification::parse(CLASSES[class])
                        .unwrap_or(Classification::Public),
                }),
            }
        }

        proptest! {
            /// Sliced evaluation (only the policies whose guards admit the request) decides
            /// every request exactly as Cedar does with the whole set.
            #[test]
            fn slicing_never_changes_a_decision(
                texts in proptest::collection::vec(policy(), 1..6),
                requests in proptest::collection::vec((0..4_usize, 0..4_usize, 0..3_usize, 0..24_u8, 0..3_usize), 1..12),
            ) {
                let text = texts.iter().enumerate()
                    .map(|(i, t)| format!("@id(\"p{i}\") {t}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let sliced = FirmPolicies::parse(1, &text)
                    .unwrap_or_else(|e| panic!("{e}: {text}"));
                let mut whole = PolicySet::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
                let allow = Policy::parse(Some(PolicyId::new(BASE_ALLOW)), "permit(principal, action, resource);")
                    .unwrap_or_else(|e| panic!("{e}"));
                whole.add(allow).unwrap_or_else(|e| panic!("{e}"));
                for (role, action, class, hour, client) in requests {
                    let (p, action) = (principal(role), ACTIONS[action]);
                    let r = resource(action, class, client);
                    let clock = LocalClock { hour, weekday: 2 };
                    let (request, entities) = request(&p, action, &r, &clock, None)
                        .unwrap_or_else(|| panic!("no request"));
                    let cedar = Authorizer::new().is_authorized(&request, &whole, &entities);
                    let forbidden = sliced.forbids(&p, action, &r, &clock, None).is_some();
                    prop_assert_eq!(
                        forbidden,
                        cedar.decision() == Decision::Deny,
                        "{} on {:?} by {} at {}h under\n{}", action.as_str(), class, ROLES[role], hour, text
                    );
                }
            }
        }
    }
}
