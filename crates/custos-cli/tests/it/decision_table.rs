//! The decision table: one list of (who, action, what) -> (decision, rule) cases covering R1, R2,
//! R3 and R4 (status), run at the policy level (facts derived from the demo firm's spec) and
//! through the HTTP API (status code, then the rule read back from the audit log).

use crate::harness::{TestFirm, TestResult, request_id, spawn_demo_firm};
use custos_app::{DEMO, DemoFirm};
use custos_domain::{PersonStatus, Wall, WallId, WallObject, WallSubject};
use custos_policy::{
    Action, ClientFacts, Context, DocumentFacts, Effect, MatterFacts, Principal, Resource,
};
use reqwest::StatusCode;
use serde_json::json;

/// What a case acts on.
#[derive(Debug, Clone, Copy)]
enum Target {
    Doc(&'static str),
    Matter(&'static str),
    Client(&'static str),
    /// An upload of the given classification to a matter.
    Upload(&'static str, custos_domain::Classification),
    /// Creating a person with this role.
    NewPerson(custos_domain::Role),
    /// Opening a matter for a client, owned by a team (led by the team's lead).
    NewMatter(&'static str, &'static str),
    Firm,
}

struct Case {
    who: &'static str,
    status: PersonStatus,
    action: Action,
    target: Target,
    allow: bool,
    rule: &'static str,
    /// For a deny: whether the resource stays hidden (404) rather than forbidden (403).
    hidden: bool,
}

const fn case(
    who: &'static str,
    action: Action,
    target: Target,
    allow: bool,
    rule: &'static str,
    hidden: bool,
) -> Case {
    Case {
        who,
        status: PersonStatus::Active,
        action,
        target,
        allow,
        rule,
        hidden,
    }
}

const fn inactive(who: &'static str, status: PersonStatus, action: Action, target: Target) -> Case {
    Case {
        who,
        status,
        action,
        target,
        allow: false,
        rule: "R4.status",
        hidden: true,
    }
}

use Action as A;
use Target as T;
use custos_domain::Classification as C;
use custos_domain::Role;

const NTK: &str = "R1.need_to_know";
const DEFAULT: &str = "R1.deny_by_default";
const CAP: &str = "R2.role_cap";
const META: &str = "R2.metadata_only";
const DUTY: &str = "R2.role_duty";
const WALL: &str = "R3.wall";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // R1 need-to-know: staffed, leading, or leading the owning team.
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D1"), true, NTK, false),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D2"), true, NTK, false),
    case("lena.lawyer", A::ReadDocumentContent, T::Doc("D5"), true, NTK, false),
    case("carl.corplead", A::ReadDocumentContent, T::Doc("D6"), true, NTK, false),
    case("lisa.litlead", A::ReadDocumentContent, T::Doc("D9"), true, NTK, false),
    case("omar.lawyer", A::ReadDocumentContent, T::Doc("D8"), true, NTK, false),
    case("paula.partner", A::ViewClient, T::Client("C1"), true, NTK, false),
    case("lena.lawyer", A::UploadDocument, T::Upload("M1", C::Confidential), true, NTK, false),
    // R1 deny by default: no membership, no access (partners included).
    case("carl.corplead", A::ReadDocumentContent, T::Doc("D4"), false, DEFAULT, true),
    case("omar.lawyer", A::ViewMatter, T::Matter("M1"), false, DEFAULT, true),
    case("paula.partner", A::ReadDocumentContent, T::Doc("D1"), false, DEFAULT, true),
    case("erin.expert", A::ViewMatter, T::Matter("M4"), false, DEFAULT, true),
    case("erin.expert", A::ReadDocumentContent, T::Doc("D8"), false, DEFAULT, true),
    case("lena.lawyer", A::QueryAudit, T::Firm, false, DEFAULT, false),
    case("lena.lawyer", A::ViewWalls, T::Firm, false, DEFAULT, false),
    case("lena.lawyer", A::CreateClient, T::Firm, false, DEFAULT, false),
    case("lena.lawyer", A::ManageMatterStaff, T::Matter("M1"), false, DEFAULT, false),
    case("lena.lawyer", A::CreatePerson, T::NewPerson(Role::Lawyer), false, DEFAULT, false),
    // R1 for intake: opening a matter needs a right to the client already (security review:
    // a team lead opening a throwaway matter read any client's name and contact).
    case("carl.corplead", A::CreateMatter, T::NewMatter("C1", "Corporate"), true, NTK, false),
    case("paula.partner", A::CreateMatter, T::NewMatter("C1", "Litigation"), true, NTK, false),
    case("carl.corplead", A::CreateMatter, T::NewMatter("C3", "Corporate"), false, NTK, true),
    case("paula.partner", A::CreateMatter, T::NewMatter("C3", "Corporate"), false, NTK, true),
    case("lena.lawyer", A::CreateMatter, T::NewMatter("C1", "Corporate"), false, DEFAULT, false),
    // R2 role caps: interns, paralegals, secretaries, admin/IT, the officer's oversight.
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D4"), true, NTK, false),
    case("pat.paralegal", A::ReadDocumentContent, T::Doc("D9"), false, CAP, true),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D3"), true, NTK, false),
    case("ivan.intern", A::ViewDocument, T::Doc("D10"), true, NTK, false),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D4"), false, CAP, true),
    case("ivan.intern", A::ReadDocumentContent, T::Doc("D9"), false, CAP, true),
    case("ivan.intern", A::UploadDocument, T::Upload("M2", C::Privileged), false, CAP, false),
    case("sally.secretary", A::ReadDocumentContent, T::Doc("D2"), true, NTK, false),
    case("sally.secretary", A::ReadDocumentContent, T::Doc("D7"), false, CAP, true),
    case("adam.admin", A::ViewDocument, T::Doc("D1"), true, META, false),
    case("adam.admin", A::ReadDocumentContent, T::Doc("D1"), false, META, false),
    case("adam.admin", A::ViewMatter, T::Matter("M1"), true, META, false),
    case("adam.admin", A::ViewClient, T::Client("C1"), true, META, false),
    case("adam.admin", A::UploadDocument, T::Upload("M1", C::Internal), false, META, false),
    // Granting a role that reads client content is the officer's decision (security review).
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::Lawyer), false, CAP, false),
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::TeamLead), false, CAP, false),
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::Officer), false, CAP, false),
    case("adam.admin", A::CreatePerson, T::NewPerson(Role::External), true, DUTY, false),
    case("olivia.officer", A::CreatePerson, T::NewPerson(Role::Lawyer), true, DUTY, false),
    case("olivia.officer", A::ViewDocument, T::Doc("D5"), true, META, false),
    case("olivia.officer", A::ReadDocumentContent, T::Doc("D5"), false, NTK, false),
    case("olivia.officer", A::QueryAudit, T::Firm, true, DUTY, false),
    case("olivia.officer", A::ViewWalls, T::Firm, true, DUTY, false),
    // The periodic jobs' state: the officer and IT, nobody else.
    case("olivia.officer", A::ViewJobs, T::Firm, true, DUTY, false),
    case("adam.admin", A::ViewJobs, T::Firm, true, DUTY, false),
    case("paula.partner", A::ViewJobs, T::Firm, false, DEFAULT, false),
    case("paula.partner", A::CreateClient, T::Firm, true, DUTY, false),
    case("carl.corplead", A::ManageMatterStaff, T::Matter("M1"), true, DUTY, false),
    // R3 ethical wall: Sam is screened from M3 only; it overrides his role and hides M3.
    case("sam.screened", A::ReadDocumentContent, T::Doc("D6"), false, WALL, true),
    case("sam.screened", A::ViewDocument, T::Doc("D7"), false, WALL, true),
    case("sam.screened", A::ViewMatter, T::Matter("M3"), false, WALL, true),
    case("sam.screened", A::UploadDocument, T::Upload("M3", C::Internal), false, WALL, true),
    case("sam.screened", A::ManageMatterStaff, T::Matter("M3"), false, WALL, true),
    case("sam.screened", A::ReadDocumentContent, T::Doc("D13"), true, NTK, false),
    case("sam.screened", A::ViewClient, T::Client("C2"), true, NTK, false),
    // R4 status: suspended or departed people get nothing, whatever else holds.
    inactive("pat.paralegal", PersonStatus::Suspended, A::ReadDocumentContent, T::Doc("D4")),
    inactive("erin.expert", PersonStatus::Departed, A::ViewPerson, T::Firm),
    inactive("ian.iplead", PersonStatus::Suspended, A::ReadDocumentContent, T::Doc("D8")),
    inactive("paula.partner", PersonStatus::Departed, A::ViewClient, T::Client("C1")),
];

fn spec_matter(key: &str) -> &'static custos_app::DemoMatter {
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

fn context(firm: &DemoFirm) -> Context {
    Context {
        walls: DEMO
            .walls
            .iter()
            .map(|w| Wall {
                id: WallId::new(),
                subject: WallSubject::Person(firm.people[w.person]),
                object: WallObject::Matter(firm.matters[w.matter]),
                reason: w.reason.to_owned(),
                created_by: firm.people["olivia.officer"],
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            })
            .collect(),
    }
}

#[test]
fn table_covers_every_base_rule() {
    assert!(CASES.len() >= 30);
    for rule in [NTK, DEFAULT, CAP, META, DUTY, WALL, "R4.status"] {
        assert!(CASES.iter().any(|c| c.rule == rule), "no case for {rule}");
    }
    assert!(CASES.iter().any(|c| c.allow) && CASES.iter().any(|c| !c.allow));
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
    let ctx = context(&firm);
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let p = principal(&firm, c.who, c.status);
        let action = c.action;
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
        let d = custos_policy::decide(&p, action, &res, &ctx);
        let rule = d.reasons().first().map(|r| r.rule.code()).unwrap_or("");
        let ok = d.is_allowed() == c.allow
            && rule == c.rule
            && (c.allow || d.conceals_existence() == c.hidden)
            && (d.effect() == Effect::Allow) == d.permit().is_some();
        if !ok {
            failures.push(format!(
                "case {i}: {} {:?} {:?}: got {:?} by {rule} (hidden {}), want allow={} by {} (hidden {})",
                c.who, c.action, c.target, d.effect(), d.conceals_existence(), c.allow, c.rule, c.hidden
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Makes the HTTP request of a case and returns the response.
async fn http_case(t: &TestFirm, token: &str, c: &Case) -> reqwest::Response {
    match (c.action, c.target) {
        (A::ReadDocumentContent, T::Doc(k)) => {
            t.get(token, &format!("/api/documents/{}/content", t.document(k)))
                .await
        }
        (A::ViewDocument, T::Doc(k)) => {
            t.get(token, &format!("/api/documents/{}", t.document(k)))
                .await
        }
        (A::ViewMatter, T::Matter(k)) => {
            t.get(token, &format!("/api/matters/{}", t.matter(k))).await
        }
        (A::ViewClient, T::Client(k)) => {
            t.get(token, &format!("/api/clients/{}", t.client(k))).await
        }
        (A::ManageMatterStaff, T::Matter(k)) => {
            // Staffing the matter's own lead again changes nothing, so the case is repeatable.
            let lead = t.person(spec_matter(k).lead);
            t.post_json(
                token,
                &format!("/api/matters/{}/members", t.matter(k)),
                &json!({ "person": lead }),
            )
            .await
        }
        (A::UploadDocument, T::Upload(k, class)) => {
            t.upload(
                token,
                t.matter(k),
                "table case upload",
                class.as_str(),
                b"table case".to_vec(),
            )
            .await
        }
        (A::CreateMatter, T::NewMatter(client, team)) => {
            let lead = DEMO
                .teams
                .iter()
                .find(|x| x.name == team)
                .unwrap_or_else(|| panic!("{team}"))
                .lead;
            let body = json!({ "client": t.client(client), "team": t.team(team),
                               "lead": t.person(lead), "title": "table case matter" });
            t.post_json(token, "/api/matters", &body).await
        }
        (A::CreatePerson, T::NewPerson(role)) => {
            let user = format!("new.{}.{}", role.as_str(), uuid::Uuid::new_v4().simple());
            let body = json!({ "user_name": &user[..30.min(user.len())], "display_name": "New Person", "role": role });
            t.post_json(token, "/api/people", &body).await
        }
        (A::CreateClient, T::Firm) => {
            t.post_json(
                token,
                "/api/clients",
                &json!({ "name": "New Client SA", "contact": "" }),
            )
            .await
        }
        (A::QueryAudit, T::Firm) => t.get(token, "/api/audit").await,
        (A::ViewWalls, T::Firm) => t.get(token, "/api/walls").await,
        (A::ViewJobs, T::Firm) => t.get(token, "/api/jobs").await,
        (A::ViewPerson, T::Firm) => t.get(token, "/api/people").await,
        (action, target) => panic!("no HTTP mapping for {action:?} on {target:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_http_api() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let mut failures = Vec::new();
    // Active cases first; the status cases suspend people, so they come last.
    let (active, inactive): (Vec<&Case>, Vec<&Case>) =
        CASES.iter().partition(|c| c.status == PersonStatus::Active);
    for c in active {
        let token = t.login(c.who).await;
        let response = http_case(&t, &token, c).await;
        let status = response.status();
        let rid = request_id(&response);
        let want_status_ok = if c.allow {
            status.is_success()
        } else if c.hidden {
            status == StatusCode::NOT_FOUND
        } else {
            status == StatusCode::FORBIDDEN
        };
        let entries = t.audit_of_request(&officer, &rid).await;
        let decided = entries.iter().find(|e| e["action"] == c.action.as_str());
        let outcome = decided.map(|e| e["outcome"].as_str().unwrap_or_default().to_owned());
        let rule = decided.map(|e| {
            e["reasons"][0]["rule"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
        let want_outcome = if c.allow { "allow" } else { "deny" };
        if !want_status_ok
            || outcome.as_deref() != Some(want_outcome)
            || rule.as_deref() != Some(c.rule)
        {
            failures.push(format!(
                "{} {:?} {:?}: HTTP {status}, audit {outcome:?} by {rule:?}; want {want_outcome} by {}",
                c.who, c.action, c.target, c.rule
            ));
        }
    }
    for c in inactive {
        let token = t.login(c.who).await;
        let status_body = json!({ "status": c.status });
        let changed = t
            .send_json(
                reqwest::Method::PUT,
                &officer,
                &format!("/api/people/{}/status", t.person(c.who)),
                &status_body,
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
        // The open session died with the status change, and no new one can be opened.
        let response = http_case(&t, &token, c).await;
        if response.status() != StatusCode::UNAUTHORIZED {
            failures.push(format!(
                "{} ({:?}) kept access: HTTP {}",
                c.who,
                c.status,
                response.status()
            ));
        }
        let relogin = t
            .http
            .post(t.url("/api/session"))
            .json(&json!({ "user_name": c.who, "password": custos_app::DEMO_PASSWORD }))
            .send()
            .await?;
        if relogin.status() != StatusCode::UNAUTHORIZED {
            failures.push(format!("{} ({:?}) could log in again", c.who, c.status));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
