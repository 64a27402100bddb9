//! "What if" before saving (issue 14): a staffing preview says, matter by matter, what the
//! person would see after the change, and the change then does exactly that; a firm policy
//! preview names who would lose access on the records tried, and saving it then refuses
//! exactly them. Nothing is changed by a preview; those who may not make the change may not
//! ask.

use crate::harness::{TestFirm, TestResult, spawn_demo_firm};
use crate::review::json_of;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// For each line of a staffing preview, whether `token`'s holder now gets the matter as the
/// line's `after` says (200 for any access, 404 or 403 for none).
async fn access_matches(t: &TestFirm, token: &str, preview: &Value, field: &str) -> TestResult {
    let lines = preview["matters"].as_array().ok_or("no lines")?;
    assert!(!lines.is_empty(), "{preview}");
    for line in lines {
        let path = format!(
            "/api/matters/{}",
            line["matter"].as_str().unwrap_or_default()
        );
        let status = t.get(token, &path).await.status();
        assert_eq!(
            status == StatusCode::OK,
            !line[field].is_null(),
            "{field} for {line}: got {status}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staffing_previews_say_what_the_change_then_does() -> TestResult {
    let t = spawn_demo_firm().await;
    let paula = t.login("paula.partner").await;
    let omar = t.login("omar.lawyer").await;
    let carl = t.login("carl.corplead").await;
    let corp = t.team("Corporate");
    let change =
        |person: &str, change: &str| json!({ "person": t.person(person), "change": change });

    // Omar (IP) joining Corporate: every Corporate matter, what he sees now and after.
    let preview_path = format!("/api/teams/{corp}/members/preview");
    let (status, preview) = json_of(
        t.post_json(&paula, &preview_path, &change("omar.lawyer", "add"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["name"], "Omar Haddad");
    access_matches(&t, &omar, &preview, "before").await?;
    // Nothing changed: the preview still says "before" for each line.
    let (_, again) = json_of(
        t.post_json(&paula, &preview_path, &change("omar.lawyer", "add"))
            .await,
    )
    .await;
    assert_eq!(again, preview);
    let added = t
        .post_json(
            &paula,
            &format!("/api/teams/{corp}/members"),
            &json!({ "person": t.person("omar.lawyer") }),
        )
        .await;
    assert_eq!(added.status(), StatusCode::NO_CONTENT);
    access_matches(&t, &omar, &preview, "after").await?;

    // And leaving again, previewed then done.
    let (_, leave) = json_of(
        t.post_json(&paula, &preview_path, &change("omar.lawyer", "remove"))
            .await,
    )
    .await;
    let removed = t
        .send_json(
            Method::DELETE,
            &paula,
            &format!("/api/teams/{corp}/members/{}", t.person("omar.lawyer")),
            &Value::Null,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    access_matches(&t, &omar, &leave, "after").await?;

    // Staffing Sam on M3, which a wall screens him from: the preview says the wall decides,
    // and the change itself is refused.
    let m3 = t.matter("M3");
    let (status, screened) = json_of(
        t.post_json(
            &carl,
            &format!("/api/matters/{m3}/members/preview"),
            &change("sam.screened", "add"),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    assert!(screened["matters"][0]["after"].is_null(), "{screened}");
    assert_eq!(screened["matters"][0]["rule"], "R3.wall", "{screened}");
    let refused = t
        .post_json(
            &carl,
            &format!("/api/matters/{m3}/members"),
            &json!({ "person": t.person("sam.screened") }),
        )
        .await;
    assert_ne!(refused.status(), StatusCode::NO_CONTENT);

    // Staffing Omar on M1 (Carl leads it): previewed, done, as said.
    let m1 = t.matter("M1");
    let (_, staff) = json_of(
        t.post_json(
            &carl,
            &format!("/api/matters/{m1}/members/preview"),
            &change("omar.lawyer", "add"),
        )
        .await,
    )
    .await;
    assert!(
        staff["matters"][0]["before"].is_null() && !staff["matters"][0]["after"].is_null(),
        "{staff}"
    );
    let done = t
        .post_json(
            &carl,
            &format!("/api/matters/{m1}/members"),
            &json!({ "person": t.person("omar.lawyer") }),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    access_matches(&t, &omar, &staff, "after").await?;

    // Who may not make the change may not ask: a lawyer on a team, Omar on a matter he does
    // not lead; an unknown team is hidden; an unknown person is refused.
    let (status, _) = json_of(
        t.post_json(&omar, &preview_path, &change("omar.lawyer", "add"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = json_of(
        t.post_json(
            &omar,
            &format!("/api/matters/{m3}/members/preview"),
            &change("omar.lawyer", "add"),
        )
        .await,
    )
    .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    let (status, _) = json_of(
        t.post_json(
            &paula,
            &format!("/api/teams/{}/members/preview", uuid::Uuid::new_v4()),
            &change("omar.lawyer", "add"),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stranger = json!({ "person": uuid::Uuid::new_v4(), "change": "add" });
    let (status, _) = json_of(t.post_json(&paula, &preview_path, &stranger).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_preview_names_who_saving_it_would_refuse() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let ivan = t.login("ivan.intern").await;
    let c1 = t.client("C1");
    let text = format!(
        "@id(\"interns-never-see-acme\")\nforbid(principal, action, resource) when {{ \
         principal.role == \"intern\" && resource.client == Client::\"{c1}\" }};"
    );
    // Ivan is staffed on M2 (Acme): he reads its documents today.
    let d3 = format!("/api/documents/{}/content", t.document("D3"));
    assert_eq!(t.get(&ivan, &d3).await.status(), StatusCode::OK);

    let ask = |records: &str| json!({ "text": text, "records": records });
    let (status, preview) = json_of(
        t.post_json(&officer, "/api/policies/preview", &ask("C-0001, M-0004"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let changes = preview["changes"].as_array().ok_or("no changes")?;
    assert!(preview["records_checked"].as_u64().unwrap_or(0) > changes.len() as u64);
    assert!(!changes.is_empty(), "{preview}");
    for line in changes {
        let loses = line["loses"].as_array().ok_or("no loses")?;
        assert!(
            line["gains"].as_array().is_some_and(Vec::is_empty),
            "{line}"
        );
        assert!(
            loses
                .iter()
                .all(|e| e["role"] == "intern" && e["rule"] == "firm.policy"),
            "{line}"
        );
        // Only Acme's matters (C-0001) change, not M-0004.
        assert_ne!(line["number"], "M-0004", "{line}");
    }
    assert!(
        changes.iter().any(|l| l["document"] == t.document("D3")),
        "{preview}"
    );
    // Nothing was saved: Ivan still reads D3, and no version exists.
    assert_eq!(t.get(&ivan, &d3).await.status(), StatusCode::OK);
    let (_, versions) = t.get_json(&officer, "/api/policies").await;
    assert_eq!(versions.as_array().map(Vec::len), Some(0));

    // Saved, the decisions are the preview's.
    let saved = t
        .send_json(
            Method::PUT,
            &officer,
            "/api/policies",
            &json!({ "text": text }),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert_eq!(t.get(&ivan, &d3).await.status(), StatusCode::FORBIDDEN);
    // Clearing them, previewed: the interns would gain it back.
    let clear = json!({ "text": "", "records": "M-0002" });
    let (_, back) = json_of(t.post_json(&officer, "/api/policies/preview", &clear).await).await;
    let gains = back["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["gains"].as_array().cloned().unwrap_or_default())
        .collect::<Vec<_>>();
    assert!(gains.iter().any(|e| e["name"] == "Ivan Petrov"), "{back}");

    // Refusals: text that does not check, records that are not numbers or do not exist, none,
    // and anyone but the officer.
    for (body, why) in [
        (
            json!({ "text": "permit(principal, action, resource);", "records": "M-0001" }),
            "may only forbid",
        ),
        (
            json!({ "text": text, "records": "Acme" }),
            "not a matter or client number",
        ),
        (
            json!({ "text": text, "records": "M-9999" }),
            "there is no M-9999",
        ),
        (json!({ "text": text, "records": " " }), "name 1 to 20"),
    ] {
        let (status, err) =
            json_of(t.post_json(&officer, "/api/policies/preview", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
            "{err}"
        );
    }
    let paula = t.login("paula.partner").await;
    let (status, _) = json_of(
        t.post_json(&paula, "/api/policies/preview", &ask("M-0001"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    Ok(())
}
