//! Issue 14 flows through the API: break-glass from request to review, "who can access" agreeing
//! with the people's own requests, lifting a wall, and R4 dates with their refusals.

use crate::harness::{TestFirm, TestResult, request_id, spawn_demo_firm};
use crate::review::json_of;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WHY: &str = "Court hearing moved to today; Ian and Omar are on a flight and unreachable";

/// Every audit entry written by one request.
pub(crate) async fn entries(t: &TestFirm, rid: &str) -> Vec<Value> {
    let officer = t.login("olivia.officer").await;
    t.audit_of_request(&officer, rid).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_is_flagged_alerted_reviewed_and_never_passes_a_wall() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let officer = t.login("olivia.officer").await;
    let d8 = format!("/api/documents/{}/content", t.document("D8"));
    assert_eq!(t.get(&lena, &d8).await.status(), StatusCode::NOT_FOUND);

    // A token cannot break glass: only a person at a login session.
    let (status, token) = json_of(
        t.post_json(
            &lena,
            "/api/me/tokens",
            &json!({ "name": "script", "scopes": ["read", "write"], "days": 1 }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let script = token["token"].as_str().unwrap_or_default().to_owned();
    let body = json!({ "matter": t.matter("M4"), "justification": WHY });
    let r = t.post_json(&script, "/api/break-glass", &body).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A short justification is refused; longer than the firm allows is refused.
    let short = json!({ "matter": t.matter("M4"), "justification": "urgent" });
    let r = t.post_json(&lena, "/api/break-glass", &short).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let long = json!({ "matter": t.matter("M4"), "justification": WHY, "hours": 25 });
    let r = t.post_json(&lena, "/api/break-glass", &long).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = t.post_json(&lena, "/api/break-glass", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rid = request_id(&r);
    let opened: Value = r.json().await?;
    assert_eq!(opened["active"], true);
    assert_eq!(opened["matter_number"], "M-0004");
    let lasts = time::OffsetDateTime::parse(
        opened["expires_at"].as_str().unwrap_or_default(),
        &time::format_description::well_known::Rfc3339,
    )? - time::OffsetDateTime::parse(
        opened["opened_at"].as_str().unwrap_or_default(),
        &time::format_description::well_known::Rfc3339,
    )?;
    assert_eq!(lasts, time::Duration::hours(4), "the default lifetime");
    let logged = entries(&t, &rid).await;
    assert!(
        logged.len() >= 2 && logged.iter().all(|e| e["detail"]["break_glass"] == true),
        "every entry of the opening is flagged: {logged:?}"
    );
    // Opening twice is refused while the first is open.
    let again = t.post_json(&lena, "/api/break-glass", &body).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Reading under break-glass: allowed, flagged, the reason names it.
    let r = t.get(&lena, &d8).await;
    assert_eq!(r.status(), StatusCode::OK);
    let rid = request_id(&r);
    let read = entries(&t, &rid).await;
    let decided = read
        .iter()
        .find(|e| e["action"] == "document.read")
        .ok_or("no read entry")?;
    assert_eq!(decided["reasons"][0]["rule"], "R6.break_glass");
    assert_eq!(decided["detail"]["break_glass"], true);
    // Uploading is not part of emergency access.
    let up = t
        .upload(&lena, t.matter("M4"), "x", "internal", b"x".to_vec())
        .await;
    assert_eq!(up.status(), StatusCode::FORBIDDEN);

    // The officer's queue has it at once; Lena sees her own; nobody else reviews.
    let (status, queue) = t
        .get_json(&officer, "/api/break-glass?which=awaiting_review")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue["items"][0]["id"], opened["id"]);
    assert_eq!(queue["items"][0]["justification"], WHY);
    let (_, mine) = t.get_json(&lena, "/api/break-glass?which=mine").await;
    assert_eq!(mine["items"][0]["id"], opened["id"]);
    let (status, _) = t
        .get_json(&lena, "/api/break-glass?which=awaiting_review")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = opened["id"].as_str().unwrap_or_default();
    let verdict = json!({ "verdict": "justified", "comment": "hearing confirmed with the court" });
    let path = format!("/api/break-glass/{id}/review");
    assert_eq!(
        t.post_json(&lena, &path, &verdict).await.status(),
        StatusCode::FORBIDDEN
    );
    let (status, reviewed) = json_of(t.post_json(&officer, &path, &verdict).await).await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    assert_eq!(reviewed["verdict"], "justified");
    assert_eq!(
        t.post_json(&officer, &path, &verdict).await.status(),
        StatusCode::CONFLICT,
        "a review closes once"
    );
    let (_, queue) = t
        .get_json(&officer, "/api/break-glass?which=awaiting_review")
        .await;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(0));

    // Never through a wall: Sam is screened from M3, and break-glass says "not found".
    let sam = t.login("sam.screened").await;
    let walled = json!({ "matter": t.matter("M3"), "justification": WHY });
    let r = t.post_json(&sam, "/api/break-glass", &walled).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A paralegal may not break glass at all, and is told why.
    let pat = t.login("pat.paralegal").await;
    let (status, body) = json_of(t.post_json(&pat, "/api/break-glass", &body).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("may not open emergency access"),
        "{body}"
    );
    Ok(())
}

/// "Who can access" lists exactly the people whose own request is allowed, with the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_can_access_agrees_with_each_persons_own_request() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    for key in ["M1", "M3", "M6"] {
        let (status, access) = t
            .get_json(&officer, &format!("/api/matters/{}/access", t.matter(key)))
            .await;
        assert_eq!(status, StatusCode::OK, "{access}");
        let listed = |part: &str| -> Vec<String> {
            access[part]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["person"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let allowed = listed("allowed");
        for p in custos_app::DEMO.people {
            let token = t.login(p.user).await;
            let status = t
                .get(&token, &format!("/api/matters/{}", t.matter(key)))
                .await
                .status();
            let id = t.person(p.user);
            assert_eq!(
                status == StatusCode::OK,
                allowed.contains(&id),
                "{} on {key}: own request {status}, listed {allowed:?}",
                p.user
            );
        }
        if key == "M3" {
            let screened = listed("screened");
            assert_eq!(screened, vec![t.person("sam.screened")], "{access}");
            assert_eq!(access["screened"][0]["rule"], "R3.wall");
        }
    }
    // Not for a lawyer on the matter (403), and hidden from anyone else (404).
    let lena = t.login("lena.lawyer").await;
    let path = format!("/api/matters/{}/access", t.matter("M1"));
    assert_eq!(t.get(&lena, &path).await.status(), StatusCode::FORBIDDEN);
    let omar = t.login("omar.lawyer").await;
    assert_eq!(t.get(&omar, &path).await.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preconditions_and_lifting_take_effect_on_the_next_request() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let d1 = format!("/api/documents/{}/content", t.document("D1"));
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::OK);

    // Training expired on a named day: refused, and the refusal says so.
    let path = format!("/api/people/{}/compliance", t.person("lena.lawyer"));
    let expired =
        json!({ "agreement_signed_on": "2025-01-06", "training_valid_until": "2026-10-01" });
    let r = t.send_json(Method::PUT, &officer, &path, &expired).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = json_of(t.get(&lena, &d1).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("confidentiality training expired on 2026-10-01"),
        "{body}"
    );
    // Her listings are empty, not an error; her own page still works.
    let (status, matters) = t.get_json(&lena, "/api/matters").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(matters["items"].as_array().map(Vec::len), Some(0));
    // She cannot record her own; a colleague does not see her dates; the officer does.
    let own = t.send_json(Method::PUT, &lena, &path, &expired).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    let omar = t.login("omar.lawyer").await;
    let person = format!("/api/people/{}", t.person("lena.lawyer"));
    let (_, seen) = t.get_json(&omar, &person).await;
    assert!(
        seen["compliance"]["training_valid_until"].is_null(),
        "{seen}"
    );
    let (_, seen) = t.get_json(&officer, &person).await;
    assert_eq!(seen["compliance"]["training_valid_until"], "2026-10-01");
    // A future signature and a malformed date are refused.
    let future =
        json!({ "agreement_signed_on": "2999-01-01", "training_valid_until": "2999-01-01" });
    assert_eq!(
        t.send_json(Method::PUT, &officer, &path, &future)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let bad = json!({ "agreement_signed_on": "01/02/2026", "training_valid_until": null });
    assert_eq!(
        t.send_json(Method::PUT, &officer, &path, &bad)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Renewed: access again on the next request.
    let renewed =
        json!({ "agreement_signed_on": "2025-01-06", "training_valid_until": "2999-12-31" });
    t.send_json(Method::PUT, &officer, &path, &renewed).await;
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::OK);

    // An exclusionary wall, lifted: Lena is out, then in again.
    let body = json!({ "subject": { "kind": "person", "id": t.person("lena.lawyer") },
                       "object": { "kind": "matter", "id": t.matter("M1") }, "reason": "conflict" });
    let (status, wall) = json_of(t.post_json(&officer, "/api/walls", &body).await).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(wall["kind"], "exclusionary");
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::NOT_FOUND);
    let lift = format!(
        "/api/walls/{}/lift",
        wall["id"].as_str().unwrap_or_default()
    );
    let why = json!({ "reason": "the conflicting matter closed" });
    assert_eq!(
        t.post_json(&lena, &lift, &why).await.status(),
        StatusCode::FORBIDDEN,
        "only the officer lifts walls"
    );
    let (status, lifted) = json_of(t.post_json(&officer, &lift, &why).await).await;
    assert_eq!(status, StatusCode::OK, "{lifted}");
    assert_eq!(lifted["lifted"]["reason"], "the conflicting matter closed");
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::OK);
    assert_eq!(
        t.post_json(&officer, &lift, &why).await.status(),
        StatusCode::CONFLICT
    );
    let (_, walls) = t.get_json(&officer, "/api/walls").await;
    assert!(
        walls["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|w| w["id"] == wall["id"] && w["lifted"]["by"] == t.person("olivia.officer")),
        "a lifted wall stays on record"
    );
    Ok(())
}

/// R5: a refusal the caller may know about says, in words, what is missing and who can give
/// it; the audit entry keeps the exact ids; a hidden record still says nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_records_and_people_in_words_and_who_can_help() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    // Lena is on M-0001 but does not lead it: staffing is Carl's (he leads the matter and its
    // team).
    let r = t
        .post_json(
            &lena,
            &format!("/api/matters/{}/members", t.matter("M1")),
            &json!({ "person": t.person("omar.lawyer") }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let rid = request_id(&r);
    let body: Value = r.json().await?;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Carl Svensson, who leads M-0001, decides who is on it"),
        "{body}"
    );
    let uuid_like = |s: &str| {
        s.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .any(|w| w.len() == 36 && uuid::Uuid::parse_str(w).is_ok())
    };
    assert!(!uuid_like(message), "no id in the words: {message}");
    // Under break-glass on M-0004 she reads but may not upload: not on its team, and Ian
    // Novak leads it.
    let opened = t
        .post_json(
            &lena,
            "/api/break-glass",
            &json!({ "matter": t.matter("M4"), "justification": WHY }),
        )
        .await;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let r = t
        .upload(
            &lena,
            &t.matter("M4"),
            "Note",
            "confidential",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await?;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("M-0004") && message.contains("Ian Novak") && !uuid_like(message),
        "{body}"
    );
    // The audit entry keeps the policy's exact sentence, with the matter's id.
    let logged = entries(&t, &rid).await;
    let reasons = logged
        .iter()
        .flat_map(|e| e["reasons"].as_array().cloned().unwrap_or_default())
        .map(|r| r["message"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>();
    assert!(
        reasons
            .iter()
            .any(|m| m == "only the matter lead and team lead decide the staffing"),
        "the audit keeps the policy's own sentence: {reasons:?}"
    );
    // A hidden record: 404 and nothing else.
    let r = t
        .get(&lena, &format!("/api/matters/{}", t.matter("M5")))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await?;
    assert!(!body.to_string().contains("M-0005"), "{body}");
    Ok(())
}

/// "Who can access this document": its matter's people decided on the document itself, so
/// a role cap on its classification holds people back; the same askers as for the matter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_can_access_a_document_counts_its_classification() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let path = format!("/api/documents/{}/access", t.document("D5"));
    let (status, body) = t.get_json(&officer, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["document"], t.document("D5"));
    assert_eq!(body["number"], "M-0002");
    let names = |list: &str, rule: &str| -> Vec<String> {
        body[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| rule.is_empty() || e["rule"] == rule)
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect()
    };
    let allowed = names("allowed", "");
    assert!(allowed.iter().any(|n| n.starts_with("Lena")), "{body}");
    let capped = names("held_back", "R2.role_cap");
    assert_eq!(
        capped.len(),
        2,
        "the paralegal and the intern on M-0002: {body}"
    );
    // The same question about the matter lets them in: the cap is the document's.
    let (_, matter) = t
        .get_json(&officer, &format!("/api/matters/{}/access", t.matter("M2")))
        .await;
    assert!(
        matter["held_back"].as_array().is_some_and(Vec::is_empty),
        "{matter}"
    );
    // The matter lead may ask; a lawyer on the team is refused; someone off it gets 404.
    let lisa = t.login("lisa.litlead").await;
    assert_eq!(t.get(&lisa, &path).await.status(), StatusCode::OK);
    let lena = t.login("lena.lawyer").await;
    assert_eq!(t.get(&lena, &path).await.status(), StatusCode::FORBIDDEN);
    let omar = t.login("omar.lawyer").await;
    assert_eq!(t.get(&omar, &path).await.status(), StatusCode::NOT_FOUND);
    Ok(())
}
