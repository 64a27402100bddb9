//! The decision table (cases in `decision_cases.rs`), decided at the policy level with facts
//! derived from the demo firm's spec (`decision_http.rs` runs the same cases through the API).

use crate::decision_cases::{self, Case, Fixture, Target};
use custos_app::{DEMO, DemoFirm};
use custos_domain::{
    BreakGlassId, Lifted, PersonStatus, Wall, WallId, WallKind, WallObject, WallSubject,
};
use custos_policy::{
    Action, ClientFacts, Context, DocumentFacts, Effect, Emergency, MatterFacts, Principal,
    Resource,
};

use Action as A;
use Target as T;
use custos_domain::Role;

pub(crate) fn spec_matter(key: &str) -> &'static custos_app::DemoMatter {
    DEMO.matters
        .iter()
        .find(|m| m.key == key)
        .unwrap_or_else(|| panic!("matter {key}"))
}

fn matter_facts(firm: &DemoFirm, key: &str) -> MatterFacts {
    let m = spec_matter(key);
    MatterFacts {
        id: firm.matters[key],
        client: firm.clients[m.client],
        team: firm.teams[m.team],
        lead: firm.people[m.lead],
    }
}

/// The decisions' time and calendar day (the policy level's; the API uses the real ones).
pub(crate) fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// The principal of a demo user, derived from the spec alone (not from the store).
fn principal(firm: &DemoFirm, user: &str, status: PersonStatus) -> Principal {
    let spec = DEMO
        .people
        .iter()
        .find(|p| p.user == user)
        .unwrap_or_else(|| panic!("{user}"));
    Principal {
        id: firm.people[user],
        role: spec.role,
        status,
        teams: spec.teams.iter().map(|t| firm.teams[t]).collect(),
        led_teams: DEMO
            .teams
            .iter()
            .filter(|t| t.lead == user)
            .map(|t| firm.teams[t.name])
            .collect(),
        staffed_matters: DEMO
            .matters
            .iter()
            .filter(|m| m.lead == user || m.staff.contains(&user))
            .map(|m| firm.matters[m.key])
            .collect(),
        compliance: custos_app::demo_compliance(now().date()),
        emergency: vec![],
        emergencies_last_day: 0,
    }
}

fn resource(firm: &DemoFirm, target: Target) -> Resource {
    match target {
        T::Doc(key) => {
            let d = DEMO
                .documents
                .iter()
                .find(|d| d.key == key)
                .unwrap_or_else(|| panic!("{key}"));
            Resource::Document(DocumentFacts {
                id: firm.documents[key],
                matter: matter_facts(firm, d.matter),
                classification: d.classification,
            })
        }
        T::Matter(key) => Resource::Matter(matter_facts(firm, key)),
        T::Upload(key, classification) => Resource::Document(DocumentFacts {
            id: custos_domain::DocumentId::new(),
            matter: matter_facts(firm, key),
            classification,
        }),
        T::Client(key) => {
            let c = DEMO
                .clients
                .iter()
                .find(|c| c.key == key)
                .unwrap_or_else(|| panic!("{key}"));
            Resource::Client(ClientFacts {
                id: firm.clients[key],
                responsible: firm.people[c.responsible],
                matters: DEMO
                    .matters
                    .iter()
                    .filter(|m| m.client == key)
                    .map(|m| matter_facts(firm, m.key))
                    .collect(),
            })
        }
        T::NewPerson(role) => Resource::Person {
            id: custos_domain::PersonId::new(),
            role,
        },
        T::Person(user) => Resource::Person {
            id: firm.people[user],
            role: DEMO
                .people
                .iter()
                .find(|p| p.user == user)
                .map(|p| p.role)
                .unwrap_or(Role::External),
        },
        T::NewMatter(client, team) => {
            let Resource::Client(client) = resource(firm, T::Client(client)) else {
                unreachable!("a client target is a client")
            };
            let lead = DEMO
                .teams
                .iter()
                .find(|t| t.name == team)
                .unwrap_or_else(|| panic!("{team}"))
                .lead;
            Resource::NewMatter {
                matter: MatterFacts {
                    id: custos_domain::MatterId::new(),
                    client: client.id,
                    team: firm.teams[team],
                    lead: firm.people[lead],
                },
                client,
            }
        }
        T::Firm => Resource::Firm,
    }
}

fn wall(firm: &DemoFirm, kind: WallKind, subject: WallSubject, object: WallObject) -> Wall {
    Wall {
        id: WallId::new(),
        kind,
        subject,
        object,
        reason: "decision table".to_owned(),
        created_by: firm.people["olivia.officer"],
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        lifted: None,
    }
}

fn context(firm: &DemoFirm) -> Context {
    let at = now();
    Context {
        walls: DEMO
            .walls
            .iter()
            .map(|w| {
                wall(
                    firm,
                    WallKind::Exclusionary,
                    WallSubject::Person(firm.people[w.person]),
                    WallObject::Matter(firm.matters[w.matter]),
                )
            })
            .collect(),
        ..Context::at(at, at.date())
    }
}

/// A fixture's policy text with `{C5}`, `{M4}`... replaced by the records' ids.
pub(crate) fn with_ids(firm: &DemoFirm, text: &str) -> String {
    let mut out = text.to_owned();
    for (key, id) in &firm.clients {
        out = out.replace(&format!("{{{key}}}"), &id.to_string());
    }
    for (key, id) in &firm.matters {
        out = out.replace(&format!("{{{key}}}"), &id.to_string());
    }
    out
}

/// The principal and context of a case, its situation applied.
fn situation(firm: &DemoFirm, c: &Case) -> (Principal, Context) {
    let mut p = principal(firm, c.who, c.status);
    let mut ctx = context(firm);
    let emergency = |matter: &str, hours: i64| Emergency {
        id: BreakGlassId::new(),
        matter: firm.matters[matter],
        expires_at: ctx.now + time::Duration::hours(hours),
    };
    let admitted = |users: &[&str], object: WallObject| -> Vec<Wall> {
        users
            .iter()
            .map(|u| {
                let subject = WallSubject::Person(firm.people[u]);
                wall(firm, WallKind::Inclusionary, subject, object)
            })
            .collect()
    };
    match c.fixture {
        Fixture::None => {}
        Fixture::TrainingExpired => {
            p.compliance.training_valid_until = ctx.today.checked_sub(time::Duration::days(30));
        }
        Fixture::NoAgreement => p.compliance.agreement_signed_on = None,
        Fixture::BreakGlass(m) => p.emergency.push(emergency(m, 4)),
        Fixture::BreakGlassExpired(m) => p.emergency.push(emergency(m, -1)),
        Fixture::Inclusionary(m, users) => {
            let walls = admitted(users, WallObject::Matter(firm.matters[m]));
            ctx.walls.extend(walls);
        }
        Fixture::InclusionaryClient(cl, users) => {
            let walls = admitted(users, WallObject::Client(firm.clients[cl]));
            ctx.walls.extend(walls);
        }
        Fixture::FirmPolicy(text) => {
            let text = with_ids(firm, text);
            let policies = custos_policy::FirmPolicies::parse(1, &text)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            ctx.firm = Some(policies);
        }
        Fixture::WallLifted => {
            for w in &mut ctx.walls {
                w.lifted = Some(Lifted {
                    by: firm.people["olivia.officer"],
                    at: ctx.now,
                    reason: "conflict ended".to_owned(),
                });
            }
        }
    }
    (p, ctx)
}

#[test]
fn table_covers_every_rule_and_situation() {
    let cases = decision_cases::all();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    for rule in [
        decision_cases::NTK,
        decision_cases::DEFAULT,
        decision_cases::CAP,
        decision_cases::META,
        decision_cases::DUTY,
        decision_cases::WALL,
        decision_cases::PRE,
        decision_cases::BG,
        decision_cases::FIRM,
        "R4.status",
    ] {
        assert!(cases.iter().any(|c| c.rule == rule), "no case for {rule}");
    }
    for role in Role::ALL {
        let users: Vec<&str> = DEMO
            .people
            .iter()
            .filter(|p| p.role == role)
            .map(|p| p.user)
            .collect();
        assert!(
            cases.iter().any(|c| users.contains(&c.who)),
            "no case for the role {role:?}"
        );
    }
    assert!(cases.iter().any(|c| c.allow) && cases.iter().any(|c| !c.allow));
}

/// The demo firm's ids without a server: the policy level needs only ids that exist in the spec.
fn offline_firm() -> DemoFirm {
    let mut firm = DemoFirm::default();
    for p in DEMO.people {
        firm.people.insert(p.user, custos_domain::PersonId::new());
    }
    for t in DEMO.teams {
        firm.teams.insert(t.name, custos_domain::TeamId::new());
    }
    for c in DEMO.clients {
        firm.clients.insert(c.key, custos_domain::ClientId::new());
    }
    for m in DEMO.matters {
        firm.matters.insert(m.key, custos_domain::MatterId::new());
    }
    for d in DEMO.documents {
        firm.documents
            .insert(d.key, custos_domain::DocumentId::new());
    }
    firm
}

#[test]
fn policy_level() {
    let firm = offline_firm();
    let mut failures = Vec::new();
    for (i, c) in decision_cases::all().iter().enumerate() {
        let (p, ctx) = situation(&firm, c);
        // Firm-wide HTTP calls are decided per record: the directory per person, intake per client.
        let res = match (c.action, c.target) {
            (A::ViewPerson, T::Firm) => Resource::Person {
                id: firm.people["lena.lawyer"],
                role: Role::Lawyer,
            },
            (A::CreateClient, T::Firm) => Resource::Client(ClientFacts {
                id: custos_domain::ClientId::new(),
                responsible: p.id,
                matters: vec![],
            }),
            _ => resource(&firm, c.target),
        };
        let d = custos_policy::decide(&p, c.action, &res, &ctx);
        let first = d.reasons().first();
        let rule = first.map(|r| r.rule.code()).unwrap_or("");
        let message = first.map(|r| r.message.as_str()).unwrap_or("");
        let ok = d.is_allowed() == c.allow
            && rule == c.rule
            && (c.allow || d.conceals_existence() == c.hidden)
            && message.contains(c.says)
            && (d.effect() == Effect::Allow) == d.permit().is_some()
            && d.by_break_glass() == (c.allow && rule == decision_cases::BG);
        if !ok {
            failures.push(format!(
                "case {i}: {} {:?} {:?} given {:?}: got {:?} by {rule} (hidden {}, `{message}`), \
                 want allow={} by {} (hidden {}, saying `{}`)",
                c.who,
                c.action,
                c.target,
                c.fixture,
                d.effect(),
                d.conceals_existence(),
                c.allow,
                c.rule,
                c.hidden,
                c.says
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
