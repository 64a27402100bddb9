//! The hostile review's attacks (issue "What a hostile review found"), each run through the
//! HTTPS API as the reviewer ran it, and each now failing to succeed.

use crate::harness::{TestFirm, TestResult, spawn_demo_firm};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub(crate) async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Logs in with a password and an optional code; returns the status and body.
async fn try_login(
    t: &TestFirm,
    user: &str,
    password: &str,
    code: Option<&str>,
) -> (StatusCode, Value) {
    let mut body = json!({ "user_name": user, "password": password });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    json_of(
        t.http
            .post(t.url("/api/session"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A personal API token of `user` with the given scopes.
async fn token_of(t: &TestFirm, user: &str, scopes: &[&str]) -> String {
    let session = t.login(user).await;
    let (status, body) = json_of(
        t.post_json(
            &session,
            "/api/me/tokens",
            &json!({ "name": "script", "scopes": scopes, "days": 30 }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// Item 1: admin/IT cannot reset a content-reading account, and no single person, officer
/// included, ends up holding a one-time password for an account with an open enrollment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_reset_never_hands_the_resetter_a_working_login() -> TestResult {
    let t = spawn_demo_firm().await;
    let adam = t.login("adam.admin").await;
    let olivia = t.login("olivia.officer").await;
    t.login("lena.lawyer").await; // enrolled: a password and a phone of her own
    let lena = t.person("lena.lawyer");

    // The review's attack: admin resets password and factor, logs in as Lena, enrolls.
    for (method, path) in [
        (Method::POST, format!("/api/people/{lena}/password-reset")),
        (Method::DELETE, format!("/api/people/{lena}/second-factor")),
        (Method::POST, format!("/api/people/{lena}/recovery")),
    ] {
        let (status, body) =
            json_of(t.send_json(method.clone(), &adam, &path, &json!({})).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
    }

    // The officer resets the password: the one-time password alone is no login (the factor
    // stays), and the officer cannot then remove the factor too.
    let (status, body) = json_of(
        t.post_json(
            &olivia,
            &format!("/api/people/{lena}/password-reset"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let otp = body["one_time_password"].as_str().unwrap().to_owned();
    let (status, _) = try_login(&t, "lena.lawyer", &otp, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a one-time password without Lena's code"
    );
    let (status, body) = json_of(
        t.send_json(
            Method::DELETE,
            &olivia,
            &format!("/api/people/{lena}/second-factor"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("two-person")
    );

    // Lena lost her phone as well: two-person recovery. The officer cannot complete her own
    // recovery; a second person can, and each holds only half.
    let (status, first) = json_of(
        t.post_json(&olivia, &format!("/api/people/{lena}/recovery"), &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first = first["half"].as_str().unwrap().to_owned();
    let (status, _) = json_of(
        t.post_json(
            &olivia,
            &format!("/api/people/{lena}/recovery/confirm"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the starter is not the second person"
    );
    let (status, second) = json_of(
        t.post_json(
            &adam,
            &format!("/api/people/{lena}/recovery/confirm"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second = second["half"].as_str().unwrap().to_owned();
    for half in [&first, &second] {
        let (status, _) = try_login(&t, "lena.lawyer", half, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "half a password is no login"
        );
    }
    let (status, body) = try_login(&t, "lena.lawyer", &format!("{first}{second}"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["stage"], "setup");
    let required: Vec<&str> = body["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["password_change", "totp_enrollment"]);
    // The pending recovery is used up: completing it again is refused.
    let (status, _) = json_of(
        t.post_json(
            &adam,
            &format!("/api/people/{lena}/recovery/confirm"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // And with the enrollment open, nobody can issue a one-time password on top of it.
    let (status, body) = json_of(
        t.post_json(
            &olivia,
            &format!("/api/people/{lena}/password-reset"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    Ok(())
}

/// Item 2: admin/IT cannot create an account that reads client content, a team lead cannot
/// open a throwaway matter to read another team's client, and API tokens create no accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_data_by_pretext() -> TestResult {
    let t = spawn_demo_firm().await;
    let adam = t.login("adam.admin").await;
    for role in ["team_lead", "lawyer", "intern", "partner"] {
        let body = json!({ "user_name": format!("pretext.{role}"), "display_name": "Pretext", "role": role });
        let (status, answer) = json_of(t.post_json(&adam, "/api/people", &body).await).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "admin created a {role}: {answer}"
        );
    }
    let external =
        json!({ "user_name": "vendor.it", "display_name": "Vendor", "role": "external" });
    assert_eq!(
        t.post_json(&adam, "/api/people", &external).await.status(),
        StatusCode::CREATED
    );

    // A team lead of another team opens a matter for Initech (C3, IP team's client).
    let carl = t.login("carl.corplead").await;
    let c3 = t.client("C3");
    let body = json!({ "client": c3, "team": t.team("Corporate"), "lead": t.person("carl.corplead"),
                       "title": "pretext" });
    let (status, _) = json_of(t.post_json(&carl, "/api/matters", &body).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the client stays hidden");
    let (status, client) = t.get_json(&carl, &format!("/api/clients/{c3}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{client}");

    // A `write` token of the officer cannot create accounts (it would receive the password).
    let token = token_of(&t, "olivia.officer", &["read", "write"]).await;
    let body = json!({ "user_name": "by.token", "display_name": "By Token", "role": "lawyer" });
    let (status, answer) = json_of(t.post_json(&token, "/api/people", &body).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(answer.get("one_time_password").is_none());
    Ok(())
}

/// Item 3: a credential reset, "end all sessions" and suspension revoke API tokens for good;
/// the officer lists and revokes anyone's tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_die_with_incident_response() -> TestResult {
    let t = spawn_demo_firm().await;
    let olivia = t.login("olivia.officer").await;
    let lena = t.person("lena.lawyer");
    let alive = |token: String| {
        let t = &t;
        async move { t.get(&token, "/api/matters").await.status() == StatusCode::OK }
    };

    let token = token_of(&t, "lena.lawyer", &["read"]).await;
    assert!(alive(token.clone()).await);
    let r = t
        .post_json(
            &olivia,
            &format!("/api/people/{lena}/password-reset"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!alive(token).await, "a password reset revokes tokens");

    // Lena sets a password of her own again (the harness' session died with the reset).
    let t2 = spawn_demo_firm().await;
    let olivia2 = t2.login("olivia.officer").await;
    let lena2 = t2.person("lena.lawyer");
    let token = token_of(&t2, "lena.lawyer", &["read"]).await;
    let r = t2
        .send_json(
            Method::DELETE,
            &olivia2,
            &format!("/api/people/{lena2}/sessions"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t2.get(&token, "/api/matters").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let t3 = spawn_demo_firm().await;
    let olivia3 = t3.login("olivia.officer").await;
    let lena3 = t3.person("lena.lawyer");
    let token = token_of(&t3, "lena.lawyer", &["read"]).await;
    let listed = t3
        .get_json(&olivia3, &format!("/api/people/{lena3}/tokens"))
        .await;
    assert_eq!(listed.0, StatusCode::OK);
    assert_eq!(listed.1[0]["revoked"], false);
    for status in ["suspended", "active"] {
        let r = t3
            .send_json(
                Method::PUT,
                &olivia3,
                &format!("/api/people/{lena3}/status"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(
        t3.get(&token, "/api/matters").await.status(),
        StatusCode::UNAUTHORIZED,
        "suspension revoked the token; reactivation does not bring it back"
    );
    let listed = t3
        .get_json(&olivia3, &format!("/api/people/{lena3}/tokens"))
        .await;
    assert_eq!(listed.1[0]["revoked"], true);

    // The officer revokes one token of someone else.
    let token = token_of(&t3, "omar.lawyer", &["read"]).await;
    let omar = t3.person("omar.lawyer");
    let (_, listed) = t3
        .get_json(&olivia3, &format!("/api/people/{omar}/tokens"))
        .await;
    let omar_token = listed[0]["id"].as_str().unwrap().to_owned();
    let r = t3
        .send_json(
            Method::DELETE,
            &olivia3,
            &format!("/api/people/{omar}/tokens/{omar_token}"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t3.get(&token, "/api/matters").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A lawyer can do none of this to a colleague.
    let sam = t3.login("sam.screened").await;
    let r = t3.get(&sam, &format!("/api/people/{omar}/tokens")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    Ok(())
}

/// Item 4: a person's own trail says no more than the 404 did, and listings do not count what
/// they withheld.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_own_trail_does_not_reveal_hidden_records_or_walls() -> TestResult {
    let t = spawn_demo_firm().await;
    let sam = t.login("sam.screened").await;
    let walled = t.matter("M3");
    let missing = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        t.get(&sam, &format!("/api/matters/{walled}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&sam, &format!("/api/matters/{missing}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.get(&sam, "/api/matters").await.status(), StatusCode::OK);
    let (_, mine) = t.get_json(&sam, "/api/audit/mine?limit=500").await;
    let items = mine["items"].as_array().unwrap();
    let of = |id: &str| {
        items
            .iter()
            .find(|e| {
                e["resource"] == json!(format!("matter:{id}")) && e["action"] == "matter.view"
            })
            .unwrap_or_else(|| panic!("no entry for {id}: {mine}"))
            .clone()
    };
    let (hidden, absent) = (of(&walled), of(&missing));
    for field in ["outcome", "reasons", "detail"] {
        assert_eq!(
            hidden[field], absent[field],
            "{field} tells a walled matter from a missing one"
        );
    }
    let text = mine.to_string();
    assert!(
        !text.contains("wall") && !text.contains("withheld") && !text.contains("staffed"),
        "{text}"
    );
    assert!(items.iter().all(|e| e.get("leaf_hash").is_none()));
    // The officer still sees everything.
    let olivia = t.login("olivia.officer").await;
    let sam_id = t.person("sam.screened");
    let (_, all) = t
        .get_json(&olivia, &format!("/api/audit?actor={sam_id}&limit=500"))
        .await;
    assert!(all.to_string().contains("R3.wall"));
    Ok(())
}
