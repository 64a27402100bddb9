//! Benchmark (not a test): `cargo bench -p custos-policy --bench decide`. Policy evaluation
//! alone, facts already in memory (issue 14): Custos' `decide` with the base rules only, the
//! same with 20 firm Cedar policies in force, and bare `cedar_policy::Authorizer::is_authorized`
//! on pre-built entities (2,000 people, 500 teams, 2,000 matters and documents) for the same
//! requests and the same 20 policies plus a blanket permit. Requests are document reads by
//! staffed lawyers (allowed by the base rules, so the firm policies are asked every time).
//! Reports median and p99 per decision and throughput ratios; the three run interleaved
//! `CUSTOS_BENCH_ROUNDS` (5) times, `CUSTOS_BENCH_N` (20,000) decisions each.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use cedar_policy::{
    Authorizer, Context as CedarContext, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use custos_domain::*;
use custos_policy::*;
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::time::Instant;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Twenty firm policies: most on actions or records the benchmark's requests do not touch, as a
/// firm's would be.
fn policies(clients: &[ClientId]) -> String {
    let mut text = String::new();
    for (i, c) in clients.iter().take(10).enumerate() {
        text.push_str(&format!(
            "@id(\"interns-not-on-client-{i}\") forbid(principal, action, resource) when {{ principal.role == \"intern\" && resource.client == Client::\"{c}\" }};\n"
        ));
    }
    for (i, action) in [
        "matter.break_glass",
        "matter.staff",
        "client.create",
        "matter.create",
        "document.upload",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "@id(\"night-{i}\") forbid(principal, action == Action::\"{action}\", resource) when {{ context.hour < 6 }};\n"
        ));
    }
    for i in 0..5 {
        text.push_str(&format!(
            "@id(\"restricted-{i}\") forbid(principal, action == Action::\"document.read\", resource) when {{ resource.classification == \"restricted\" && context.hour == {} }};\n",
            30 + i
        ));
    }
    text
}

struct Firm {
    lawyers: Vec<Principal>,
    docs: Vec<DocumentFacts>,
    clients: Vec<ClientId>,
}

fn firm(people: usize, teams: usize, matters: usize) -> Firm {
    let teams: Vec<TeamId> = (0..teams).map(|_| TeamId::new()).collect();
    let clients: Vec<ClientId> = (0..matters / 4).map(|_| ClientId::new()).collect();
    let matters: Vec<MatterFacts> = (0..matters)
        .map(|i| MatterFacts {
            id: MatterId::new(),
            client: clients[i % clients.len()],
            team: teams[i % teams.len()],
            lead: PersonId::new(),
        })
        .collect();
    let docs: Vec<DocumentFacts> = matters
        .iter()
        .map(|m| DocumentFacts {
            id: DocumentId::new(),
            matter: *m,
            classification: Classification::Confidential,
        })
        .collect();
    let today = time::OffsetDateTime::now_utc().date();
    let lawyers = (0..people)
        .map(|i| Principal {
            id: PersonId::new(),
            role: Role::Lawyer,
            status: PersonStatus::Active,
            teams: vec![teams[i % teams.len()]],
            led_teams: vec![],
            staffed_matters: (0..30)
                .map(|k| matters[(i * 30 + k) % matters.len()].id)
                .collect(),
            compliance: Compliance {
                agreement_signed_on: Some(today - time::Duration::days(10)),
                training_valid_until: Some(today + time::Duration::days(10)),
            },
            emergency: vec![],
            emergencies_last_day: 0,
        })
        .collect();
    Firm {
        lawyers,
        docs,
        clients,
    }
}

fn uid(kind: &str, id: impl std::fmt::Display) -> EntityUid {
    EntityUid::from_type_name_and_id(
        EntityTypeName::from_str(kind).unwrap(),
        EntityId::new(id.to_string()),
    )
}

/// The whole firm as Cedar entities, built once (bare Cedar's best case).
fn cedar_entities(f: &Firm) -> Entities {
    let mut out: HashMap<EntityUid, Entity> = HashMap::new();
    let mut add = |e: Entity| {
        out.entry(e.uid()).or_insert(e);
    };
    for p in &f.lawyers {
        let parents: HashSet<EntityUid> = p.teams.iter().map(|t| uid("Team", t)).collect();
        for t in &parents {
            add(Entity::new_no_attrs(t.clone(), HashSet::new()));
        }
        let attrs = HashMap::from([(
            "role".to_owned(),
            RestrictedExpression::new_string("lawyer".to_owned()),
        )]);
        add(Entity::new(uid("Person", p.id), attrs, parents).unwrap());
    }
    for d in &f.docs {
        let c = uid("Client", d.matter.client);
        add(Entity::new(
            c.clone(),
            HashMap::from([(
                "client".to_owned(),
                RestrictedExpression::new_entity_uid(c.clone()),
            )]),
            HashSet::new(),
        )
        .unwrap());
        let t = uid("Team", d.matter.team);
        add(Entity::new_no_attrs(t.clone(), HashSet::new()));
        let m = uid("Matter", d.matter.id);
        add(Entity::new(
            m.clone(),
            HashMap::from([
                (
                    "client".to_owned(),
                    RestrictedExpression::new_entity_uid(c.clone()),
                ),
                ("team".to_owned(), RestrictedExpression::new_entity_uid(t)),
            ]),
            HashSet::new(),
        )
        .unwrap());
        add(Entity::new(
            uid("Document", d.id),
            HashMap::from([
                ("client".to_owned(), RestrictedExpression::new_entity_uid(c)),
                ("matter".to_owned(), RestrictedExpression::new_entity_uid(m)),
                (
                    "classification".to_owned(),
                    RestrictedExpression::new_string("confidential".to_owned()),
                ),
            ]),
            HashSet::new(),
        )
        .unwrap());
    }
    Entities::from_entities(out.into_values(), None).unwrap()
}

fn stats(mut ns: Vec<u128>) -> (f64, f64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    (at(0.5), at(0.99))
}

fn main() {
    let smoke = std::env::var("CUSTOS_BENCH_SMOKE").is_ok();
    let n = env_or("CUSTOS_BENCH_N", 20_000);
    let rounds = env_or("CUSTOS_BENCH_ROUNDS", 5);
    let (people, teams, matters) = if smoke {
        (50, 10, 100)
    } else {
        (2_000, 500, 2_000)
    };
    let f = firm(people, teams, matters);
    let text = policies(&f.clients);
    let firm_policies = FirmPolicies::parse(1, &text).unwrap();
    assert_eq!(firm_policies.len(), 20);
    let now = time::OffsetDateTime::now_utc();
    let base = Context {
        clock: LocalClock {
            hour: 12,
            weekday: 3,
        },
        ..Context::at(now, now.date())
    };
    let with_firm = Context {
        firm: Some(firm_policies),
        ..base.clone()
    };
    let bare_set =
        PolicySet::from_str(&format!("{text}\npermit(principal, action, resource);")).unwrap();
    let entities = cedar_entities(&f);
    let requests: Vec<(Principal, Resource)> = (0..n)
        .map(|i| {
            let p = f.lawyers[i % f.lawyers.len()].clone();
            let d = f
                .docs
                .iter()
                .find(|d| d.matter.id == p.staffed_matters[i % 30])
                .copied()
                .unwrap();
            (p, Resource::Document(d))
        })
        .collect();
    // The same reads by interns, of internal documents: the ten intern policies name ten of
    // the 500 clients, so Cedar runs for the reads on those clients' documents (and forbids
    // them), and is skipped for the others.
    let intern_requests: Vec<(Principal, Resource)> = requests
        .iter()
        .map(|(p, r)| {
            let Resource::Document(d) = r else {
                unreachable!()
            };
            let p = Principal {
                role: Role::Intern,
                ..p.clone()
            };
            let d = DocumentFacts {
                classification: Classification::Internal,
                ..*d
            };
            (p, Resource::Document(d))
        })
        .collect();
    let cedar_requests: Vec<Request> = requests
        .iter()
        .map(|(p, r)| {
            let Resource::Document(d) = r else {
                unreachable!()
            };
            let ctx = CedarContext::from_pairs([
                ("hour".to_owned(), RestrictedExpression::new_long(12)),
                ("weekday".to_owned(), RestrictedExpression::new_long(3)),
            ])
            .unwrap();
            Request::new(
                uid("Person", p.id),
                uid("Action", "document.read"),
                uid("Document", d.id),
                ctx,
                None,
            )
            .unwrap()
        })
        .collect();
    let authorizer = Authorizer::new();
    let mut times: HashMap<&str, Vec<u128>> = HashMap::new();
    let mut totals: HashMap<&str, f64> = HashMap::new();
    for _ in 0..rounds {
        for (name, ctx) in [
            ("base rules", &base),
            ("base + 20 firm policies", &with_firm),
        ] {
            let start = Instant::now();
            for (p, r) in &requests {
                let t = Instant::now();
                let d = decide(p, Action::ReadDocumentContent, r, ctx);
                times.entry(name).or_default().push(t.elapsed().as_nanos());
                assert!(black_box(d).is_allowed());
            }
            *totals.entry(name).or_default() += start.elapsed().as_secs_f64();
        }
        let start = Instant::now();
        for (p, r) in &intern_requests {
            let t = Instant::now();
            let d = decide(p, Action::ReadDocumentContent, r, &with_firm);
            times
                .entry("interns (10 policies on clients)")
                .or_default()
                .push(t.elapsed().as_nanos());
            black_box(d);
        }
        *totals
            .entry("interns (10 policies on clients)")
            .or_default() += start.elapsed().as_secs_f64();
        let start = Instant::now();
        for req in &cedar_requests {
            let t = Instant::now();
            let resp = authorizer.is_authorized(req, &bare_set, &entities);
            times
                .entry("bare Cedar")
                .or_default()
                .push(t.elapsed().as_nanos());
            black_box(resp);
        }
        *totals.entry("bare Cedar").or_default() += start.elapsed().as_secs_f64();
    }
    let decisions = (n * rounds) as f64;
    println!("policy evaluation, {n} decisions x {rounds} rounds, facts in memory");
    let bare = decisions / totals["bare Cedar"];
    for name in [
        "base rules",
        "base + 20 firm policies",
        "interns (10 policies on clients)",
        "bare Cedar",
    ] {
        let (p50, p99) = stats(times.remove(name).unwrap_or_default());
        let rate = decisions / totals[name];
        println!(
            "  {name:<26} median {p50:>7.1} us  p99 {p99:>7.1} us  {rate:>10.0}/s  ({:.2}x bare Cedar's throughput)",
            rate / bare
        );
    }
}
