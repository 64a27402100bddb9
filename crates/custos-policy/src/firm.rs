//! Firm policies in Cedar: rules the confidentiality officer adds ("no restricted document
//! outside office hours", "interns never see client X"), validated against Custos' schema
//! (`firm.cedarschema`) before they take effect.
//!
//! **How they can only restrict:** a firm policy set may contain `forbid` policies only (a
//! `permit` is refused when the set is checked), and it is asked only after the base rules
//! allowed an action on client data, with one built-in `permit` for everything: Cedar then
//! denies exactly when a firm `forbid` matches. A base-rule deny is returned before Cedar is
//! ever evaluated, so no firm policy can turn it into an allow. Cedar types stay private here.

use crate::decision::{Reason, Rule};
use crate::firm_slices::{Guard, Slices};
use crate::{Action, Principal, Resource};
use cedar_policy::{
    Authorizer, Context as CedarContext, Decision as CedarDecision, Entities, Entity, EntityId,
    EntityTypeName, EntityUid, PolicyId, PolicySet, Request, RestrictedExpression, Schema,
    ValidationMode, Validator,
};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

const SCHEMA: &str = include_str!("firm.cedarschema");
pub(crate) const BASE_ALLOW: &str = "custos_base_allow";
/// The stack Cedar parses and validates a policy text on (reserved, touched only as used).
const PARSE_STACK: usize = 64 * 1024 * 1024;

/// The schema, parsed once.
fn schema() -> Option<&'static Schema> {
    static SCHEMA_ONCE: OnceLock<Option<Schema>> = OnceLock::new();
    SCHEMA_ONCE
        .get_or_init(|| Schema::from_cedarschema_str(SCHEMA).ok().map(|(s, _)| s))
        .as_ref()
}

/// The schema's text, for the officer's editor.
pub fn firm_policy_schema() -> &'static str {
    SCHEMA
}

/// A firm policy set refused: the parser's or validator's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmPolicyError(pub String);

impl std::fmt::Display for FirmPolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A checked firm policy set, ready to ask.
pub struct FirmPolicies {
    version: i64,
    /// The firm policies that may apply to a request, by action, role and classification, with
    /// the built-in permit (none: no policy may apply, Cedar is not asked). Slicing keeps a
    /// decision from paying for every policy of the firm (see `firm_slices`).
    slices: Slices,
    /// The firm's own policies: (Cedar id, the name the officer gave with `@id("...")`).
    names: HashMap<PolicyId, String>,
}

impl std::fmt::Debug for FirmPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirmPolicies")
            .field("version", &self.version)
            .field("policies", &self.names.len())
            .finish()
    }
}

impl PartialEq for FirmPolicies {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
    }
}

impl Eq for FirmPolicies {}

impl FirmPolicies {
    /// Parses and checks `text` as version `version`: Cedar syntax, `forbid` only, valid
    /// against the schema (strict). The error is the parser's or validator's message.
    /// The text is bounded first (size, nesting, operators: `firm_bounds`), and Cedar runs
    /// on a thread with a stack of its own, so no text can overflow a server worker's stack.
    pub fn parse(version: i64, text: &str) -> Result<Arc<Self>, FirmPolicyError> {
        crate::firm_bounds::check(text)?;
        let owned = text.to_owned();
        std::thread::Builder::new()
            .name("cedar-parse".to_owned())
            .stack_size(PARSE_STACK)
            .spawn(move || Self::parse_bounded(version, &owned))
            .map_err(|e| FirmPolicyError(format!("the policies could not be checked: {e}")))?
            .join()
            .map_err(|_| FirmPolicyError("the policies could not be checked".to_owned()))?
    }

    fn parse_bounded(version: i64, text: &str) -> Result<Arc<Self>, FirmPolicyError> {
        let firm = PolicySet::from_str(text)
            .map_err(|e| FirmPolicyError(format!("the policies do not parse: {e}")))?;
        let mut names = HashMap::new();
        for p in firm.policies() {
            let name = p
                .annotation("id")
                .map_or_else(|| p.id().to_string(), str::to_owned);
            if p.effect() != cedar_policy::Effect::Forbid {
                return Err(FirmPolicyError(format!(
                    "firm policies may only forbid: `{name}` is a permit (the base rules decide \
                     what is allowed)"
                )));
            }
            names.insert(p.id().clone(), name);
        }
        if firm.templates().next().is_some() {
            return Err(FirmPolicyError(
                "templates are not supported in firm policies".to_owned(),
            ));
        }
        let schema =
            schema().ok_or_else(|| FirmPolicyError("the built-in schema is broken".to_owned()))?;
        let result = Validator::new(schema.clone()).validate(&firm, ValidationMode::Strict);
        if !result.validation_passed() {
            let errors: Vec<String> = result
                .validation_errors()
                .map(ToString::to_string)
                .collect();
            return Err(FirmPolicyError(format!(
                "the policies do not match the schema: {}",
                errors.join("; ")
            )));
        }
        let allow = cedar_policy::Policy::parse(
            Some(PolicyId::new(BASE_ALLOW)),
            "permit(principal, action, resource);",
        )
        .map_err(|e| FirmPolicyError(e.to_string()))?;
        let mut sliced = Vec::new();
        for p in firm.policies() {
            let actions = Action::ALL
                .into_iter()
                .filter(|action| {
                    uid("Action", action.as_str()).is_some_and(|this| match p.action_constraint() {
                        cedar_policy::ActionConstraint::Any => true,
                        cedar_policy::ActionConstraint::Eq(a) => a == this,
                        cedar_policy::ActionConstraint::In(list) => list.contains(&this),
                    })
                })
                .collect();
            sliced.push((p.clone(), actions, Guard::of(p)));
        }
        if sliced
            .iter()
            .any(|(p, _, _)| p.id() == &PolicyId::new(BASE_ALLOW))
        {
            return Err(FirmPolicyError(format!(
                "the id `{BASE_ALLOW}` is reserved"
            )));
        }
        let slices = Slices::build(&sliced, &allow).map_err(FirmPolicyError)?;
        Ok(Arc::new(FirmPolicies {
            version,
            slices,
            names,
        }))
    }

    /// The version these policies were saved as.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// How many firm policies there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The reason a firm policy forbids an action the base rules allowed, or `None`. Fails
    /// closed: a request Cedar cannot evaluate is denied.
    pub(crate) fn forbids(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
        clock: &crate::LocalClock,
        address: Option<std::net::IpAddr>,
    ) -> Option<Reason> {
        let (classification, client) = match resource {
            Resource::Document(d) => (Some(d.classification), Some(d.matter.client)),
            Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => (None, Some(m.client)),
            Resource::Client(c) => (None, Some(c.id)),
            _ => (None, None),
        };
        let set = self
            .slices
            .get(action, principal.role, classification, client)?;
        let deny = |why: String| {
            Some(Reason {
                rule: Rule::FirmPolicy,
                message: why,
            })
        };
        let Some((request, entities)) = request(principal, action, resource, clock, address) else {
            return deny("a firm policy could not be evaluated for this request".to_owned());
        };
        let response = Authorizer::new().is_authorized(&request, set, &entities);
        if response.decision() == CedarDecision::Allow {
            return None;
        }
        let deciding: Vec<String> = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.names.get(id).map(|n| format!("`{n}`")))
            .collect();
        if deciding.is_empty() {
            return deny("a firm policy could not be evaluated for this request".to_owned());
        }
        deny(format!(
            "firm policy {} (version {}) forbids this",
            deciding.join(", "),
            self.version
        ))
    }
}

fn uid(kind: &str, id: impl std::fmt::Display) -> Option<EntityUid> {
    let kind = EntityTypeName::from_str(kind).ok()?;
    Some(EntityUid::from_type_name_and_id(
        kind,
        EntityId::new(id.to_string()),
    ))
}

fn entity(
    uid: EntityUid,
    attrs: Vec<(&str, RestrictedExpression)>,
    parents: Vec<EntityUid>,
) -> Option<Entity> {
    let attrs = attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Entity::new(uid, attrs, parents.into_iter().collect::<HashSet<_>>()).ok()
}

/// The entities of a request, each added once.
#[derive(Default)]
struct Slice {
    entities: Vec<Entity>,
    added: HashSet<EntityUid>,
}

impl Slice {
    fn add(&mut self, e: Entity) {
        if self.added.insert(e.uid()) {
            self.entities.push(e);
        }
    }

    fn client(&mut self, client: custos_domain::ClientId) -> Option<EntityUid> {
        let c = uid("Client", client)?;
        let value = RestrictedExpression::new_entity_uid(c.clone());
        self.add(entity(c.clone(), vec![("client", value)], vec![])?);
        Some(c)
    }

    fn team(&mut self, team: custos_domain::TeamId) -> Option<EntityUid> {
        let t = uid("Team", team)?;
        self.add(entity(t.clone(), vec![], vec![])?);
        Some(t)
    }

    fn matter(&mut self, m: &crate::MatterFacts) -> Option<EntityUid> {
        let client = self.client(m.client)?;
        let team = self.team(m.team)?;
        let matter = uid("Matter", m.id)?;
        self.add(entity(
            matter.clone(),
            vec![
                ("client", RestrictedExpression::new_entity_uid(client)),
                ("team", RestrictedExpression::new_entity_uid(team)),
            ],
            vec![],
        )?);
        Some(matter)
    }
}

/// The Cedar request and the few entities it needs, built from the facts already gathered.
pub(crate) fn request(
    principal: &Principal,
    action: Action,
    resource: &Resource,
    clock: &crate::LocalClock,
    address: Option<std::net::IpAddr>,
) -> Option<(Request, Entities)> {
    let mut slice = Slice::default();
    let person = uid("Person", principal.id)?;
    let mut teams = Vec::new();
    for t in &principal.teams {
        teams.push(slice.team(*t)?);
    }
    let role = RestrictedExpression::new_string(principal.role.as_str().to_owned());
    slice.add(entity(person.clone(), vec![("role", role)], teams)?);
    let target = match resource {
        Resource::Client(c) => slice.client(c.id)?,
        Resource::Matter(m) | Resource::NewMatter { matter: m, .. } => slice.matter(m)?,
        Resource::Document(d) => {
            let matter = slice.matter(&d.matter)?;
            let client = uid("Client", d.matter.client)?;
            let doc = uid("Document", d.id)?;
            let class = RestrictedExpression::new_string(d.classification.as_str().to_owned());
            slice.add(entity(
                doc.clone(),
                vec![
                    ("client", RestrictedExpression::new_entity_uid(client)),
                    ("matter", RestrictedExpression::new_entity_uid(matter)),
                    ("classification", class),
                ],
                vec![],
            )?);
            doc
        }
        _ => return None,
    };
    let mut pairs = vec![
        (
            "hour".to_owned(),
            RestrictedExpression::new_long(i64::from(clock.hour)),
        ),
        (
            "weekday".to_owned(),
            RestrictedExpression::new_long(i64::from(clock.weekday)),
        ),
    ];
    // The client's address when the request came over the network (absent for the CLI and
    // for firm-wide questions): policies must ask `context has address` first.
    if let Some(ip) = address {
        pairs.push((
            "address".to_owned(),
            RestrictedExpression::new_ip(ip.to_string()),
        ));
    }
    let context = CedarContext::from_pairs(pairs).ok()?;
    let action = uid("Action", action.as_str())?;
    // The policies were checked against the schema when saved; the request and entities are
    // built here from typed facts, so checking them again per decision is not needed.
    let request = Request::new(person, action, target, context, None).ok()?;
    let entities = Entities::from_entities(slice.entities, None).ok()?;
    Some((request, entities))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocumentFacts, LocalClock, MatterFacts};
    use custos_domain::*;

    fn intern() -> Principal {
        Principal {
            id: PersonId::new(),
            role: Role::Intern,
            status: PersonStatus::Active,
            teams: vec![TeamId::new()],
            led_teams: vec![],
            staffed_matters: vec![],
            compliance: Compliance::default(),
            emergency: vec![],
            emergencies_last_day: 0,
        }
    }

    fn doc(client: ClientId, classification: Classification) -> Resource {
        Resource::Document(DocumentFacts {
            id: DocumentId::new(),
            matter: MatterFacts {
                id: MatterId::new(),
                client,
                team: TeamId::new(),
                lead: PersonId::new(),
            },
            classification,
        })
    }

    const NINE: LocalClock = LocalClock {
        hour: 9,
        weekday: 3,
    };
    const NIGHT: LocalClock = LocalClock {
        hour: 22,
        weekday: 3,
    };

    #[test]
    fn the_schema_parses_and_an_empty_set_forbids_nothing() {
        assert!(schema().is_some());
        let none = FirmPolicies::parse(1, "").unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_empty());
        let r = doc(ClientId::new(), Classification::Restricted);
        assert_eq!(
            none.forbids(&intern(), Action::ReadDocumentContent, &r, &NINE, None),
            None
        );
    }

    #[test]
    fn permits_and_ill_typed_policies_are_refused_with_the_reason() {
        let permit = FirmPolicies::parse(1, "permit(principal, action, resource);");
        assert!(permit.is_err_and(|e| e.0.contains("may only forbid")));
        let typo = FirmPolicies::parse(
            1,
            "forbid(principal, action, resource) when { resource.classificaton == \"x\" };",
        );
        assert!(
            typo.is_err_and(|e| e.0.contains("do not match the schema")),
            "typo"
        );
        let syntax = FirmPolicies::parse(1, "forbid(principal, action resource);");
        assert!(syntax.is_err_and(|e| e.0.contains("do not parse")));
        let unknown = FirmPolicies::parse(
            1,
            "forbid(principal, action == Action::\"document.print\", resource);",
        );
        assert!(unknown.is_err(), "an action Custos does not have");
    }

    #[test]
    fn a_forbid_names_itself_and_applies_only_where_it_says() {
        let client = ClientId::new();
        let text = format!(
            "@id(\"interns-never-see-initech\")\n\
             forbid(principal, action, resource) when {{ principal.role == \"intern\" && \
             resource.client == Client::\"{client}\" }};\n\
             @id(\"restricted-in-office-hours\")\n\
             forbid(principal, action, resource) when {{ resource is Document && \
             resource.classification == \"restricted\" && (context.hour < 8 || context.hour >= 19) }};"
        );
        let firm = FirmPolicies::parse(7, &text).unwrap_or_else(|e| panic!("{e}"));
        let why = firm.forbids(
            &intern(),
            Action::ReadDocumentContent,
            &doc(client, Classification::Internal),
            &NINE,
            None,
        );
        assert!(why.as_ref().is_some_and(|r| {
            r.rule == Rule::FirmPolicy
                && r.message
                    .contains("`interns-never-see-initech` (version 7)")
        }));
        let other = doc(ClientId::new(), Classification::Internal);
        assert_eq!(
            firm.forbids(&intern(), Action::ReadDocumentContent, &other, &NINE, None),
            None
        );
        let restricted = doc(ClientId::new(), Classification::Restricted);
        assert_eq!(
            firm.forbids(&intern(), Action::ViewDocument, &restricted, &NINE, None),
            None
        );
        assert!(
            firm.forbids(&intern(), Action::ViewDocument, &restricted, &NIGHT, None)
                .is_some_and(|r| r.message.contains("restricted-in-office-hours"))
        );
        let m = Resource::Matter(MatterFacts {
            id: MatterId::new(),
            client,
            team: TeamId::new(),
            lead: PersonId::new(),
        });
        assert!(
            firm.forbids(&intern(), Action::ViewMatter, &m, &NINE, None)
                .is_some()
        );
    }

    /// "No downloads from outside the office network": the client's address is in the
    /// context; a request with no address (not over the network) is forbidden too, since the
    /// policy cannot be shown not to apply.
    #[test]
    fn a_policy_on_the_clients_address() {
        let text = "@id(\"office-network-only\")\nforbid(principal, action == Action::\"document.read\", resource) \
                    unless { context has address && context.address.isInRange(ip(\"10.1.0.0/16\")) };";
        let firm = FirmPolicies::parse(3, text).unwrap_or_else(|e| panic!("{e}"));
        let client = ClientId::new();
        let d = doc(client, Classification::Internal);
        let read = |address: Option<&str>| {
            firm.forbids(
                &intern(),
                Action::ReadDocumentContent,
                &d,
                &NINE,
                address.map(|a| a.parse().unwrap_or_else(|e| panic!("{e}"))),
            )
        };
        assert!(read(Some("10.1.4.20")).is_none(), "inside the office");
        let outside = read(Some("203.0.113.9"));
        assert!(
            outside
                .as_ref()
                .is_some_and(|r| r.message.contains("office-network-only")),
            "{outside:?}"
        );
        assert!(
            read(Some("2001:db8::1")).is_some(),
            "an IPv6 address outside"
        );
        assert!(read(None).is_some(), "no address: forbidden");
        assert!(
            firm.forbids(
                &intern(),
                Action::ViewDocument,
                &d,
                &NINE,
                Some([203, 0, 113, 9].into())
            )
            .is_none(),
            "other actions are not concerned"
        );
        // Without `has`, the checker refuses the policy: the address may be absent.
        let unguarded = "forbid(principal, action, resource) unless { context.address.isInRange(ip(\"10.1.0.0/16\")) };";
        assert!(FirmPolicies::parse(4, unguarded).is_err());
    }
}
