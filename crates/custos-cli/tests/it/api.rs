//! The HTTP API: clear errors for bad input, pagination, listings that show only what the caller
//! may see, walls enforced on the next request, and an OpenAPI document that matches the routes.

use crate::harness::{TestResult, full_provenance, request_id, spawn_demo_firm};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub(crate) fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_json_errors() -> TestResult {
    let t = spawn_demo_firm().await;
    let paula = t.login("paula.partner").await;
    let send = |method: Method, path: &str, body: String| {
        t.http
            .request(method, t.url(path))
            .bearer_auth(&paula)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(Method, &str, String, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/api/clients",
            "{not json".into(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            Method::POST,
            "/api/clients",
            r#"{"name": 5}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            Method::POST,
            "/api/clients",
            r#"{"name": "A", "extra": 1}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            Method::POST,
            "/api/clients",
            r#"{"name": "   "}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/clients",
            format!(r#"{{"name": "{}"}}"#, "x".repeat(100_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            Method::GET,
            "/api/matters/not-a-uuid",
            String::new(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            Method::GET,
            "/api/matters/00000000-0000-7000-8000-000000000000",
            String::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/api/matters?limit=lots",
            String::new(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            Method::GET,
            "/api/no/such/route",
            String::new(),
            StatusCode::NOT_FOUND,
            "no_such_route",
        ),
        (
            Method::PATCH,
            "/api/clients",
            String::new(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, want_status, want_code) in cases {
        let r = send(method.clone(), path, body).await?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (status, code(&body)),
            (want_status, want_code),
            "{method} {path}: {body}"
        );
        assert!(
            !body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    // No token, a wrong token.
    let r = t.http.get(t.url("/api/matters")).send().await?;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = t.get("0000", "/api/matters").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Wrong password and unknown user answer the same.
    let wrong = |user: &str| {
        t.http
            .post(t.url("/api/session"))
            .json(&json!({"user_name": user, "password": "wrong password!"}))
            .send()
    };
    let a: Value = wrong("lena.lawyer").await?.json().await?;
    let b: Value = wrong("nobody.here").await?.json().await?;
    assert_eq!(a, b);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_without_provenance_names_the_missing_fields() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let mut provenance = full_provenance();
    provenance["legal_basis"] = Value::Null;
    provenance["purpose"] = json!(" ");
    let metadata =
        json!({ "title": "No basis", "classification": "confidential", "provenance": provenance });
    let r = t
        .upload_raw(&lena, t.matter("M1"), metadata, b"content".to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await?;
    assert_eq!(
        body["error"]["message"],
        "provenance incomplete: missing purpose, legal_basis"
    );

    let bad_class =
        json!({ "title": "x", "classification": "top-secret", "provenance": full_provenance() });
    let r = t
        .upload_raw(&lena, t.matter("M1"), bad_class, b"content".to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // An oversized metadata part is refused, not buffered.
    let huge = json!({ "title": "x".repeat(200_000), "classification": "internal", "provenance": full_provenance() });
    let r = t
        .upload_raw(&lena, t.matter("M1"), huge, b"content".to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Parts in the wrong order, or no content part.
    let url = t.url(&format!("/api/matters/{}/documents", t.matter("M1")));
    let form = reqwest::multipart::Form::new().text("content", "abc");
    let r = t
        .http
        .post(&url)
        .bearer_auth(&lena)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let metadata =
        json!({ "title": "x", "classification": "internal", "provenance": full_provenance() });
    let form = reqwest::multipart::Form::new().text("metadata", metadata.to_string());
    let r = t
        .http
        .post(&url)
        .bearer_auth(&lena)
        .multipart(form)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A body that is not multipart at all answers in the JSON error format too (it was
    // text/plain), and a quoted media-type parameter is accepted.
    let r = t
        .http
        .post(&url)
        .bearer_auth(&lena)
        .json(&json!({ "not": "multipart" }))
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()?
            .starts_with("application/json")
    );
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["error"]["code"], "invalid_input");
    let quoted = json!({ "title": "quoted", "classification": "internal",
                         "provenance": full_provenance(), "media_type": "text/plain; charset=\"utf-8\"" });
    let r = t
        .upload_raw(&lena, t.matter("M1"), quoted, b"hello".to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_are_paginated_and_filtered_per_caller() -> TestResult {
    let t = spawn_demo_firm().await;
    let lisa = t.login("lisa.litlead").await;
    let mut seen = Vec::new();
    let mut path = format!("/api/matters/{}/documents?limit=1", t.matter("M2"));
    loop {
        let (status, page) = t.get_json(&lisa, &path).await;
        assert_eq!(status, StatusCode::OK);
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            seen.push(item["id"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!(
                    "/api/matters/{}/documents?limit=1&cursor={c}",
                    t.matter("M2")
                )
            }
            None => break,
        }
    }
    let want: BTreeSet<String> = ["D3", "D4", "D5"].iter().map(|k| t.document(k)).collect();
    assert_eq!(seen.len(), 3, "no duplicates");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), want);

    // The intern on M2 sees only what his role allows; the list does not reveal the rest.
    let ivan = t.login("ivan.intern").await;
    let (_, page) = t
        .get_json(&ivan, &format!("/api/matters/{}/documents", t.matter("M2")))
        .await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![t.document("D3").as_str()]);

    // The screened lawyer's matter list leaves out the walled matter.
    let sam = t.login("sam.screened").await;
    let (_, page) = t.get_json(&sam, "/api/matters").await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![t.matter("M8").as_str()]);

    // Admin/IT sees every matter, and no title.
    let adam = t.login("adam.admin").await;
    let (_, page) = t.get_json(&adam, "/api/matters?limit=200").await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 9);
    assert!(items.iter().all(|m| m["title"].is_null()));

    // The directory pages through everyone exactly once.
    let mut people = BTreeSet::new();
    let mut path = "/api/people?limit=5".to_owned();
    loop {
        let (_, page) = t.get_json(&lisa, &path).await;
        for p in page["items"].as_array().cloned().unwrap_or_default() {
            assert!(people.insert(p["id"].as_str().unwrap_or_default().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/people?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(people.len(), custos_app::DEMO.people.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_wall_takes_effect_on_the_next_request_and_blocks_staffing() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let officer = t.login("olivia.officer").await;
    let d1 = format!("/api/documents/{}/content", t.document("D1"));
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::OK);
    let wall = json!({
        "subject": { "kind": "person", "id": t.person("lena.lawyer") },
        "object": { "kind": "client", "id": t.client("C1") },
        "reason": "conflict check: related party",
    });
    assert_eq!(
        t.post_json(&officer, "/api/walls", &wall).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(t.get(&lena, &d1).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        t.get(&lena, &format!("/api/matters/{}", t.matter("M2")))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Staffing a screened person is refused with the reason.
    let carl = t.login("carl.corplead").await;
    let r = t
        .post_json(
            &carl,
            &format!("/api/matters/{}/members", t.matter("M3")),
            &json!({ "person": t.person("sam.screened") }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["error"]["code"], "screened", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ethical wall")),
        "{body}"
    );
    // A wall naming nothing real is refused (404 unknown_reference: the body names a record
    // that does not exist).
    let bogus = json!({ "subject": { "kind": "person", "id": uuid::Uuid::now_v7() }, "object": { "kind": "matter", "id": t.matter("M1") }, "reason": "x" });
    assert_eq!(
        t.post_json(&officer, "/api/walls", &bogus).await.status(),
        StatusCode::NOT_FOUND
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_round_trip_and_responses_carry_security_headers() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let content: Vec<u8> = (0..300_001u32).map(|i| (i * 7 % 256) as u8).collect();
    let r = t
        .upload(
            &lena,
            t.matter("M1"),
            "Disclosure bundle",
            "privileged",
            content.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: Value = r.json().await?;
    assert_eq!(doc["size"], json!(300_001));
    assert_eq!(doc["provenance"]["legal_basis"], "engagement letter");
    let r = t
        .get(
            &lena,
            &format!(
                "/api/documents/{}/content",
                doc["id"].as_str().unwrap_or_default()
            ),
        )
        .await;
    assert_eq!(r.headers()["content-length"], "300001");
    for header in [
        "strict-transport-security",
        "x-content-type-options",
        "content-security-policy",
        "x-request-id",
    ] {
        assert!(r.headers().contains_key(header), "missing {header}");
    }
    assert_eq!(r.bytes().await?.to_vec(), content);
    Ok(())
}

/// Groundwork issue: three "load, or audit a not-found and answer 404" paths forgot the audit
/// entry (a person's status, adding and removing team members). Every unknown id is now
/// answered 404 and recorded as a denial, like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_records_are_audited_everywhere() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let nobody = uuid::Uuid::now_v7();
    let lena = t.person("lena.lawyer");
    let cases = [
        (
            reqwest::Method::PUT,
            format!("/api/people/{nobody}/status"),
            json!({ "status": "suspended" }),
            format!("person:{nobody}"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/teams/{nobody}/members"),
            json!({ "person": lena }),
            format!("team:{nobody}"),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/teams/{nobody}/members/{lena}"),
            json!({}),
            format!("team:{nobody}"),
        ),
    ];
    for (method, path, body, resource) in cases {
        let r = t.send_json(method.clone(), &officer, &path, &body).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let rid = request_id(&r);
        let entries = t.audit_of_request(&officer, &rid).await;
        assert!(
            entries
                .iter()
                .any(|e| e["outcome"] == "deny" && e["resource"] == json!(resource)),
            "{method} {path}: no audited denial in {entries:?}"
        );
    }
    Ok(())
}
