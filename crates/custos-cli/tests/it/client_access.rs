//! "Who can access this client, and why" (issue 14): the officer's and the responsible
//! partner's question; the answer agrees with each person's own request for the client.

use crate::harness::{TestResult, spawn_demo_firm};
use crate::review::json_of;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_can_access_a_client_agrees_with_each_persons_own_request() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    for key in ["C1", "C2"] {
        let client = t.client(key);
        let (status, access) = json_of(
            t.get(&officer, &format!("/api/clients/{client}/access"))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{access}");
        let allowed: Vec<String> = access["allowed"]
            .as_array()
            .ok_or("no allowed")?
            .iter()
            .map(|e| e["person"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(allowed.len() >= 3, "{access}");
        let mut refused = 0;
        for user in [
            "paula.partner",
            "peter.partner",
            "carl.corplead",
            "lisa.litlead",
            "ian.iplead",
            "lena.lawyer",
            "sam.screened",
            "omar.lawyer",
            "pat.paralegal",
            "sally.secretary",
            "ivan.intern",
            "adam.admin",
        ] {
            let token = t.login(user).await;
            let own = t
                .get(&token, &format!("/api/clients/{client}"))
                .await
                .status();
            let listed = allowed.contains(&t.person(user));
            assert_eq!(
                own == StatusCode::OK,
                listed,
                "{key} {user}: {own}, listed {listed}"
            );
            refused += usize::from(!listed);
        }
        assert!(refused > 0, "someone is refused {key}");
    }

    // Asked by the responsible partner: yes; by a lawyer on one of its matters: 403; by
    // someone with no ground on it: 404, as for the client itself.
    let c1 = format!("/api/clients/{}/access", t.client("C1"));
    let paula = t.login("paula.partner").await;
    assert_eq!(t.get(&paula, &c1).await.status(), StatusCode::OK);
    let lena = t.login("lena.lawyer").await;
    assert_eq!(t.get(&lena, &c1).await.status(), StatusCode::FORBIDDEN);
    let omar = t.login("omar.lawyer").await;
    assert_eq!(t.get(&omar, &c1).await.status(), StatusCode::NOT_FOUND);
    let unknown = format!("/api/clients/{}/access", uuid::Uuid::new_v4());
    assert_eq!(
        t.get(&officer, &unknown).await.status(),
        StatusCode::NOT_FOUND
    );
    Ok(())
}
