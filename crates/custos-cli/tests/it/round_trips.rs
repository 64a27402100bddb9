//! Database round trips per decision (issue 14's target: at most two): a metadata read of a
//! matter or a document gathers its facts in two statements (the record, with its matter for a
//! document; the caller with their teams, staffing, walls, break-glass accesses and the firm
//! policy version), allowed or refused, with firm policies in force or not. Counted by the
//! app's own counter of statements run before each gate (`App::gate_statements`).

use crate::harness::{TestFirm, TestResult, spawn_demo_firm};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The gates and statements one request cost.
async fn cost(t: &TestFirm, token: &str, path: &str) -> (StatusCode, u64, u64) {
    let (g0, s0) = t.app.gate_statements().totals();
    let status = t.get(token, path).await.status();
    let (g1, s1) = t.app.gate_statements().totals();
    (status, g1 - g0, s1 - s0)
}

async fn every_read_costs_two(t: &TestFirm, users: &[(&str, String)]) -> TestResult {
    let mut seen = std::collections::BTreeSet::new();
    for (user, token) in users {
        let mut paths: Vec<String> = (1..=9)
            .map(|i| format!("/api/matters/{}", t.matter(&format!("M{i}"))))
            .collect();
        paths.extend((1..=14).map(|i| format!("/api/documents/{}", t.document(&format!("D{i}")))));
        for path in paths {
            let (status, gates, statements) = cost(t, token, &path).await;
            seen.insert(status);
            assert_eq!(gates, 1, "{user} {path}: one decision");
            assert_eq!(
                statements, 2,
                "{user} {path} ({status}): statements before the decision"
            );
        }
    }
    // Allowed, refused and hidden reads were all counted.
    assert!(
        seen.contains(&StatusCode::OK) && seen.contains(&StatusCode::NOT_FOUND),
        "{seen:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_read_decides_after_two_statements() -> TestResult {
    let t = spawn_demo_firm().await;
    let mut users = Vec::new();
    for user in [
        "olivia.officer",
        "lena.lawyer",
        "ivan.intern",
        "paula.partner",
    ] {
        users.push((user, t.login(user).await));
    }
    every_read_costs_two(&t, &users).await?;

    // With firm policies in force: the version comes with the caller's facts; the text is
    // read (a third statement) once per version on a node, then the parsed set is reused.
    let text = "@id(\"no-restricted-for-interns\")\nforbid(principal, action, resource) \
                when { principal.role == \"intern\" && resource is Document \
                && resource.classification == \"restricted\" };";
    let saved = t
        .send_json(
            Method::PUT,
            &users[0].1,
            "/api/policies",
            &json!({ "text": text }),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await?);
    let warm = format!("/api/matters/{}", t.matter("M1"));
    let (_, _, first) = cost(&t, &users[1].1, &warm).await;
    assert!(first <= 3, "the new version's text, once: {first}");
    every_read_costs_two(&t, &users).await
}
