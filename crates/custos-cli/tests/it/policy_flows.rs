//! Issue 14 flows through the API: firm policies checked, versioned, audited and restored; a
//! wall's preview of who would lose access; and the officer's view of what a person can access.

use crate::decision_flows::entries;
use crate::harness::{TestResult, request_id, spawn_demo_firm};
use crate::review::json_of;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Firm policies: refused with the checker's message when they do not check or try to permit;
/// a valid one changes decisions on the next request, is audited, and restoring an earlier
/// version restores the earlier decisions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firm_policies_are_checked_versioned_audited_and_restored() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let ivan = t.login("ivan.intern").await;
    let d10 = format!("/api/documents/{}/content", t.document("D10"));
    assert_eq!(t.get(&ivan, &d10).await.status(), StatusCode::OK);
    let save = |text: String| json!({ "text": text });

    let (status, body) = json_of(
        t.send_json(
            Method::PUT,
            &officer,
            "/api/policies",
            &save("permit(principal, action, resource);".into()),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("may only forbid"),
        "{body}"
    );
    let typo = "forbid(principal, action, resource) when { principal.rol == \"intern\" };";
    let (status, body) = json_of(
        t.send_json(Method::PUT, &officer, "/api/policies", &save(typo.into()))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("rol"),
        "{body}"
    );
    let ivan_tries = t
        .send_json(Method::PUT, &ivan, "/api/policies", &save(String::new()))
        .await;
    assert_eq!(
        ivan_tries.status(),
        StatusCode::FORBIDDEN,
        "only the officer"
    );

    let text = format!(
        "@id(\"interns-never-see-jane-roe\")\nforbid(principal, action, resource) when {{ \
         principal.role == \"intern\" && resource.client == Client::\"{}\" }};",
        t.client("C5")
    );
    let r = t
        .send_json(Method::PUT, &officer, "/api/policies", &save(text))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let rid = request_id(&r);
    let v1: Value = r.json().await?;
    assert_eq!(v1["version"], 1);
    assert!(
        entries(&t, &rid)
            .await
            .iter()
            .any(|e| e["action"] == "policy.save"),
        "audited"
    );
    let (status, body) = json_of(t.get(&ivan, &d10).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "in force on the next request"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("interns-never-see-jane-roe")
    );
    // The officer can always mend the policies, whatever they say.
    let r = t
        .send_json(Method::PUT, &officer, "/api/policies", &save(String::new()))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t.get(&ivan, &d10).await.status(),
        StatusCode::OK,
        "version 2 forbids nothing"
    );
    let (status, v3) = json_of(
        t.post_json(&officer, "/api/policies/1/restore", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v3}");
    assert_eq!(
        (v3["version"].as_i64(), v3["note"].as_str()),
        (Some(3), Some("restored version 1"))
    );
    assert_eq!(
        t.get(&ivan, &d10).await.status(),
        StatusCode::FORBIDDEN,
        "restored"
    );
    assert_eq!(
        t.post_json(&officer, "/api/policies/99/restore", &json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, versions) = t.get_json(&officer, "/api/policies").await;
    let listed: Vec<i64> = versions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(listed, vec![3, 2, 1]);
    // "Who can access" shows Ivan held back by the policy.
    let (_, access) = t
        .get_json(&officer, &format!("/api/matters/{}/access", t.matter("M6")))
        .await;
    assert!(
        access["held_back"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["person"] == t.person("ivan.intern").as_str() && e["rule"] == "firm.policy"),
        "{access}"
    );
    Ok(())
}

/// "What if": a wall's preview names who would lose access, per matter it covers, and saves
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_preview_names_who_would_lose_access_and_changes_nothing() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena_id = t.person("lena.lawyer");
    let on_client = json!({ "subject": { "kind": "person", "id": lena_id },
                            "object": { "kind": "client", "id": t.client("C1") }, "reason": "x" });
    let (status, preview) = json_of(
        t.post_json(&officer, "/api/walls/preview", &on_client)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let lines = preview["matters"].as_array().cloned().unwrap_or_default();
    let mut numbers: Vec<&str> = lines.iter().filter_map(|l| l["number"].as_str()).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        vec!["M-0001", "M-0002"],
        "every matter of the client"
    );
    for l in &lines {
        let losers: Vec<&str> = l["loses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["person"].as_str())
            .collect();
        assert_eq!(
            losers,
            vec![lena_id.as_str()],
            "only Lena loses {}",
            l["number"]
        );
    }
    // An inclusionary wall admitting Lena alone: everyone else who sees M1 would lose it.
    let admit = json!({ "kind": "inclusionary", "subject": { "kind": "person", "id": lena_id },
                        "object": { "kind": "matter", "id": t.matter("M1") }, "reason": "x" });
    let (_, preview) = json_of(t.post_json(&officer, "/api/walls/preview", &admit).await).await;
    let (_, now) = t
        .get_json(&officer, &format!("/api/matters/{}/access", t.matter("M1")))
        .await;
    let allowed = now["allowed"].as_array().map(Vec::len).unwrap_or_default();
    let loses = preview["matters"][0]["loses"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(preview["matters"][0]["keeps"], 1, "{preview}");
    assert_eq!(loses, allowed - 1);
    // Nothing was saved.
    let (_, walls) = t.get_json(&officer, "/api/walls").await;
    assert_eq!(
        walls["items"].as_array().map(Vec::len),
        Some(1),
        "only the demo wall"
    );
    let lena = t.login("lena.lawyer").await;
    let d1 = format!("/api/documents/{}/content", t.document("D1"));
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::OK);
    Ok(())
}

/// "What can this person access" (R20 access reviews): the officer's question only; the
/// matters named are those the person opens themselves, with the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_sees_what_a_person_can_access_and_no_one_else_does() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let path = format!("/api/people/{}/access", t.person("lena.lawyer"));
    let (status, body) = t.get_json(&officer, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let numbers: Vec<&str> = body["matters"]
        .as_array()
        .ok_or("no matters")?
        .iter()
        .filter_map(|m| m["number"].as_str())
        .collect();
    assert_eq!(numbers, ["M-0001", "M-0002", "M-0003", "M-0009"], "{body}");
    assert!(
        body["matters"].as_array().is_some_and(|ms| ms
            .iter()
            .all(|m| m["rule"] == "R1.need_to_know" && m["scope"] == "full")),
        "{body}"
    );
    assert_eq!(body["every_matter"], false);
    for m in ["M1", "M2", "M3"] {
        let (s, _) = t
            .get_json(&lena, &format!("/api/matters/{}", t.matter(m)))
            .await;
        assert_eq!(s, StatusCode::OK, "lena opens {m} herself");
    }
    // The officer's own oversight is one flag, not 20,000 lines.
    let own = format!("/api/people/{}/access", t.person("olivia.officer"));
    let (status, body) = t.get_json(&officer, &own).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["every_matter"], true, "{body}");
    // Nobody else may ask, not even about themselves or as a partner.
    for who in ["lena.lawyer", "paula.partner", "adam.admin"] {
        let token = t.login(who).await;
        let (status, body) = t.get_json(&token, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    Ok(())
}
