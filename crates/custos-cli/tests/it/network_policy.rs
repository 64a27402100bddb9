//! A firm policy on the network (issue 14's "forbid downloads from outside the office
//! network"): the address a request came from is in the firm policies' context, over the real
//! HTTPS stack (the test client connects from 127.0.0.1).

use crate::harness::{TestResult, spawn_demo_firm};
use crate::review::json_of;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_only_from_the_office_network() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let content = format!("/api/documents/{}/content", t.document("D1"));
    let metadata = format!("/api/documents/{}", t.document("D1"));
    assert_eq!(t.get(&lena, &content).await.status(), StatusCode::OK);

    let office = |range: &str| {
        json!({ "text": format!(
            "@id(\"office-network-only\")\nforbid(principal, action == Action::\"document.read\", resource) \
             unless {{ context has address && context.address.isInRange(ip(\"{range}\")) }};"
        ) })
    };
    // The office is 10.1.0.0/16: Lena, at 127.0.0.1, may still see the document exists but
    // not download it, and the refusal names the policy.
    let saved = t
        .send_json(
            Method::PUT,
            &officer,
            "/api/policies",
            &office("10.1.0.0/16"),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let (status, body) = json_of(t.get(&lena, &content).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("office-network-only"),
        "{body}"
    );
    assert_eq!(t.get(&lena, &metadata).await.status(), StatusCode::OK);

    // The office includes this machine: the download is allowed again on the next request.
    let saved = t
        .send_json(
            Method::PUT,
            &officer,
            "/api/policies",
            &office("127.0.0.0/8"),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert_eq!(t.get(&lena, &content).await.status(), StatusCode::OK);

    // A forwarded header from an untrusted peer changes nothing (no proxy is trusted here).
    let spoofed = t
        .http
        .get(t.url(&content))
        .bearer_auth(&lena)
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await?;
    assert_eq!(
        spoofed.status(),
        StatusCode::OK,
        "still judged as 127.0.0.1"
    );
    let saved = t
        .send_json(
            Method::PUT,
            &officer,
            "/api/policies",
            &office("10.1.0.0/16"),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let spoofed = t
        .http
        .get(t.url(&content))
        .bearer_auth(&lena)
        .header("x-forwarded-for", "10.1.2.3")
        .header("forwarded", "for=10.1.2.3")
        .send()
        .await?;
    assert_eq!(
        spoofed.status(),
        StatusCode::FORBIDDEN,
        "a header cannot move Lena into the office"
    );
    Ok(())
}
