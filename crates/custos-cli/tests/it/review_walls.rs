//! Security review, walls: a matter wall hides the client too; team walls outlive team edits.

use crate::harness::{TestFirm, TestResult, spawn_demo_firm};
use crate::review::json_of;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Paula's new client with one matter staffed by Lena; returns (client id, matter id).
async fn client_with_lena(t: &TestFirm) -> (String, String) {
    let paula = t.login("paula.partner").await;
    let (status, client) = json_of(
        t.post_json(
            &paula,
            "/api/clients",
            &json!({ "name": "Walled Client SA", "contact": "x" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let client = client["id"].as_str().unwrap().to_owned();
    let body = json!({ "client": client, "team": t.team("Corporate"), "lead": t.person("carl.corplead"),
                       "title": "walled matter" });
    let (status, matter) = json_of(t.post_json(&paula, "/api/matters", &body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{matter}");
    let matter = matter["id"].as_str().unwrap().to_owned();
    let carl = t.login("carl.corplead").await;
    let r = t
        .post_json(
            &carl,
            &format!("/api/matters/{matter}/members"),
            &json!({ "person": t.person("lena.lawyer") }),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    (client, matter)
}

async fn raise_wall(t: &TestFirm, subject: Value, object: Value) {
    let olivia = t.login("olivia.officer").await;
    let body =
        json!({ "subject": subject, "object": object, "reason": "conflict found at intake" });
    let r = t.post_json(&olivia, "/api/walls", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Item 5: staffing on a walled matter grants nothing, the client included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matter_wall_hides_the_client_too() -> TestResult {
    let t = spawn_demo_firm().await;
    let (client, matter) = client_with_lena(&t).await;
    let lena = t.login("lena.lawyer").await;
    let (status, seen) = t.get_json(&lena, &format!("/api/clients/{client}")).await;
    assert_eq!(
        (status, seen["name"].as_str()),
        (StatusCode::OK, Some("Walled Client SA"))
    );
    raise_wall(
        &t,
        json!({ "kind": "person", "id": t.person("lena.lawyer") }),
        json!({ "kind": "matter", "id": matter }),
    )
    .await;
    let (status, seen) = t.get_json(&lena, &format!("/api/clients/{client}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{seen}");
    let (_, list) = t.get_json(&lena, "/api/clients?limit=200").await;
    assert!(!list.to_string().contains("Walled Client SA"));
    Ok(())
}

/// Item 6: leaving a walled team does not lift the wall; joining one screens at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_walls_cannot_be_lifted_by_editing_the_team() -> TestResult {
    let t = spawn_demo_firm().await;
    let (client, matter) = client_with_lena(&t).await;
    let olivia = t.login("olivia.officer").await;
    let (status, team) = json_of(
        t.post_json(&olivia, "/api/teams", &json!({ "name": "Conflicted" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let team = team["id"].as_str().unwrap().to_owned();
    let lena_id = t.person("lena.lawyer");
    let r = t
        .post_json(
            &olivia,
            &format!("/api/teams/{team}/members"),
            &json!({ "person": lena_id }),
        )
        .await;
    assert!(r.status().is_success());
    raise_wall(
        &t,
        json!({ "kind": "team", "id": team }),
        json!({ "kind": "client", "id": client }),
    )
    .await;
    let lena = t.login("lena.lawyer").await;
    assert_eq!(
        t.get(&lena, &format!("/api/clients/{client}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A partner takes Lena off the team: she stays screened.
    let paula = t.login("paula.partner").await;
    let r = t
        .send_json(
            Method::DELETE,
            &paula,
            &format!("/api/teams/{team}/members/{lena_id}"),
            &json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        t.get(&lena, &format!("/api/clients/{client}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&lena, &format!("/api/matters/{matter}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (_, walls) = t.get_json(&olivia, "/api/walls?limit=200").await;
    assert!(
        walls["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["subject"]["id"] == json!(lena_id) && w["object"]["id"] == json!(client)),
        "the team's wall was carried over to Lena: {walls}"
    );

    // Omar, staffed on the matter, joins the walled team: screened at once.
    let carl = t.login("carl.corplead").await;
    let omar_id = t.person("omar.lawyer");
    let r = t
        .post_json(
            &carl,
            &format!("/api/matters/{matter}/members"),
            &json!({ "person": omar_id }),
        )
        .await;
    assert!(r.status().is_success());
    let omar = t.login("omar.lawyer").await;
    assert_eq!(
        t.get(&omar, &format!("/api/matters/{matter}"))
            .await
            .status(),
        StatusCode::OK
    );
    let r = t
        .post_json(
            &paula,
            &format!("/api/teams/{team}/members"),
            &json!({ "person": omar_id }),
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(
        t.get(&omar, &format!("/api/matters/{matter}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    Ok(())
}
