//! The decision table through the HTTP API: every case's situation set up with the API, the
//! request made, then the status code, the rule read back from the audit log, the break-glass
//! flag, and for a 403 the explanation in the body.

use crate::decision_cases::{self, Case, Fixture, Target};
use crate::decision_table::{now, spec_matter};
use crate::harness::{TestFirm, TestResult, request_id, spawn_demo_firm};
use custos_app::DEMO;
use custos_domain::PersonStatus;
use custos_policy::Action;
use reqwest::StatusCode;
use serde_json::{Value, json};

use Action as A;
use Target as T;

const JUSTIFICATION: &str =
    "Client emergency: injunction hearing at 14:00, the matter team is unreachable";

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
        (A::ViewAccess, T::Client(k)) => {
            t.get(token, &format!("/api/clients/{}/access", t.client(k)))
                .await
        }
        (A::ViewAccess, T::Matter(k)) => {
            t.get(token, &format!("/api/matters/{}/access", t.matter(k)))
                .await
        }
        (A::BreakGlass, T::Matter(k)) => {
            let body = json!({ "matter": t.matter(k), "justification": JUSTIFICATION });
            t.post_json(token, "/api/break-glass", &body).await
        }
        (A::ReviewBreakGlass, T::Firm) => {
            t.get(token, "/api/break-glass?which=awaiting_review").await
        }
        (A::ManageCompliance, T::Person(user)) => {
            let body = serde_json::to_value(on_file(t)).unwrap_or_default();
            let path = format!("/api/people/{}/compliance", t.person(user));
            t.send_json(reqwest::Method::PUT, token, &path, &body).await
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

/// The demo firm's agreement and training dates as of the server's today.
fn on_file(t: &TestFirm) -> custos_domain::Compliance {
    custos_app::demo_compliance(t.app.today(now()))
}

/// Records `compliance` for `user` (the officer for others, a partner for the officer).
async fn record(t: &TestFirm, user: &str, compliance: custos_domain::Compliance) {
    let recorder = if user == "olivia.officer" {
        "paula.partner"
    } else {
        "olivia.officer"
    };
    let token = t.login(recorder).await;
    let path = format!("/api/people/{}/compliance", t.person(user));
    let body = serde_json::to_value(compliance).unwrap_or_default();
    let r = t
        .send_json(reqwest::Method::PUT, &token, &path, &body)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "recording {user}'s compliance");
}

/// Raises the inclusionary walls of a fixture; returns their ids (to lift afterwards).
async fn raise_inclusionary(t: &TestFirm, object: Value, users: &[&str]) -> Vec<String> {
    let officer = t.login("olivia.officer").await;
    let mut ids = Vec::new();
    for u in users {
        let body = json!({ "kind": "inclusionary", "subject": { "kind": "person", "id": t.person(u) },
                           "object": object, "reason": "sensitive matter: named access only" });
        let r = t.post_json(&officer, "/api/walls", &body).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "raising an inclusionary wall"
        );
        let wall: Value = r.json().await.unwrap_or_default();
        ids.push(wall["id"].as_str().unwrap_or_default().to_owned());
    }
    ids
}

/// Puts `text` in force as the firm's policies.
async fn save_policies(t: &TestFirm, text: &str) {
    let officer = t.login("olivia.officer").await;
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &officer,
            "/api/policies",
            &json!({ "text": text }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "saving firm policies");
}

async fn lift(t: &TestFirm, ids: &[String]) {
    let officer = t.login("olivia.officer").await;
    for id in ids {
        let r = t
            .post_json(
                &officer,
                &format!("/api/walls/{id}/lift"),
                &json!({ "reason": "table case done" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "lifting wall {id}");
    }
}

/// Sets up a case's situation through the API; returns the walls to lift afterwards.
async fn set_up(t: &TestFirm, c: &Case) -> Vec<String> {
    match c.fixture {
        Fixture::None | Fixture::BreakGlassExpired(_) => vec![],
        Fixture::TrainingExpired => {
            let today = t.app.today(now());
            let expired = custos_domain::Compliance {
                training_valid_until: today.checked_sub(time::Duration::days(30)),
                ..on_file(t)
            };
            record(t, c.who, expired).await;
            vec![]
        }
        Fixture::NoAgreement => {
            let missing = custos_domain::Compliance {
                agreement_signed_on: None,
                ..on_file(t)
            };
            record(t, c.who, missing).await;
            vec![]
        }
        Fixture::BreakGlass(m) => {
            let token = t.login(c.who).await;
            let body = json!({ "matter": t.matter(m), "justification": JUSTIFICATION });
            let r = t.post_json(&token, "/api/break-glass", &body).await;
            // Already open from an earlier case: the same situation.
            assert!(
                r.status() == StatusCode::CREATED || r.status() == StatusCode::CONFLICT,
                "break-glass for {}: {}",
                c.who,
                r.status()
            );
            vec![]
        }
        Fixture::Inclusionary(m, users) => {
            let object = json!({ "kind": "matter", "id": t.matter(m) });
            raise_inclusionary(t, object, users).await
        }
        Fixture::InclusionaryClient(cl, users) => {
            let object = json!({ "kind": "client", "id": t.client(cl) });
            raise_inclusionary(t, object, users).await
        }
        Fixture::FirmPolicy(text) => {
            save_policies(t, &crate::decision_table::with_ids(&t.firm, text)).await;
            vec![]
        }
        Fixture::WallLifted => {
            let officer = t.login("olivia.officer").await;
            let (_, walls) = t.get_json(&officer, "/api/walls").await;
            let sam = t.person("sam.screened");
            let ids: Vec<String> = walls["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|w| w["subject"]["id"] == sam.as_str() && w["lifted"].is_null())
                .map(|w| w["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            lift(t, &ids).await;
            vec![]
        }
    }
}

/// Undoes what `set_up` did that later cases must not see.
async fn tear_down(t: &TestFirm, c: &Case, walls: &[String]) {
    match c.fixture {
        Fixture::TrainingExpired | Fixture::NoAgreement => record(t, c.who, on_file(t)).await,
        Fixture::FirmPolicy(_) => save_policies(t, "").await,
        _ => lift(t, walls).await,
    }
}

/// The order the API cases run in: situations that cannot be undone (an open break-glass, a
/// lifted wall, a suspension) come after every case they would change.
fn phase(c: &Case) -> u8 {
    match (c.status, c.fixture, c.action) {
        (PersonStatus::Active, Fixture::None, A::BreakGlass) => 3,
        (PersonStatus::Active, Fixture::None, _) => 0,
        (PersonStatus::Active, Fixture::TrainingExpired | Fixture::NoAgreement, _) => 1,
        (
            PersonStatus::Active,
            Fixture::Inclusionary(..) | Fixture::InclusionaryClient(..) | Fixture::FirmPolicy(_),
            _,
        ) => 2,
        (PersonStatus::Active, Fixture::BreakGlass(_) | Fixture::BreakGlassExpired(_), _) => 3,
        (PersonStatus::Active, Fixture::WallLifted, _) => 4,
        _ => 5,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_http_api() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let mut failures = Vec::new();
    let mut cases: Vec<Case> = decision_cases::all()
        .into_iter()
        .filter(|c| !c.policy_only)
        .collect();
    cases.sort_by_key(phase);
    let mut ran = 0;
    for c in cases.iter().filter(|c| c.status == PersonStatus::Active) {
        let walls = set_up(&t, c).await;
        let token = t.login(c.who).await;
        let response = http_case(&t, &token, c).await;
        let status = response.status();
        let rid = request_id(&response);
        let body: Value = response.json().await.unwrap_or_default();
        tear_down(&t, c, &walls).await;
        ran += 1;
        let want_status_ok = if c.allow {
            status.is_success()
        } else if c.hidden {
            status == StatusCode::NOT_FOUND
        } else {
            status == StatusCode::FORBIDDEN
        };
        let told = body["error"]["message"].as_str().unwrap_or_default();
        let explained = c.allow || c.hidden || told.contains(c.says);
        let entries = t.audit_of_request(&officer, &rid).await;
        let decided = entries.iter().find(|e| e["action"] == c.action.as_str());
        let outcome = decided.map(|e| e["outcome"].as_str().unwrap_or_default().to_owned());
        let rule = decided.map(|e| {
            e["reasons"][0]["rule"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
        // R6: every entry of an emergency access is flagged.
        let flagged = decided.is_some_and(|e| e["detail"]["break_glass"] == true);
        let want_outcome = if c.allow { "allow" } else { "deny" };
        if !want_status_ok
            || !explained
            || outcome.as_deref() != Some(want_outcome)
            || rule.as_deref() != Some(c.rule)
            || flagged != (c.allow && c.rule == decision_cases::BG)
        {
            failures.push(format!(
                "{} {:?} {:?} given {:?}: HTTP {status} `{told}`, audit {outcome:?} by {rule:?} \
                 (flagged {flagged}); want {want_outcome} by {} saying `{}`",
                c.who, c.action, c.target, c.fixture, c.rule, c.says
            ));
        }
    }
    assert!(ran >= 140, "only {ran} cases ran through the API");
    for c in cases.iter().filter(|c| c.status != PersonStatus::Active) {
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
