//! Outside recipients, second part (R11-R13) through the HTTP API: only the officer vets a
//! recipient; an outside recipient's own account receives only what was released to it, under
//! the same decision as a link; the register filters and shows titles as the viewer may see
//! them; a disclosure without consent is flagged and its client informed only when allowed.

use crate::harness::{TestFirm, TestResult, request_id, spawn_demo_firm};
use crate::transfers::{consent, expert, today};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn day(offset: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(offset);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn vet(t: &TestFirm, token: &str, id: &str, body: Value) -> reqwest::Response {
    t.send_json(
        Method::PATCH,
        token,
        &format!("/api/third-parties/{id}"),
        &body,
    )
    .await
}

/// Asks for a transfer of D1 and D2 of M1 as Lena and has it approved by Carl (team lead)
/// and the officer; returns its id.
async fn released_transfer(t: &TestFirm, recipient: &str, basis: Value, limit: u32) -> String {
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let carl = t.login("carl.corplead").await;
    let mut request = json!({
        "matter": t.matter("M1"), "recipient": recipient, "purpose": "expert_report",
        "documents": [t.document("D1"), t.document("D2")], "download_limit": limit,
    });
    if let (Some(r), Some(b)) = (request.as_object_mut(), basis.as_object()) {
        r.extend(b.clone());
    }
    let r = t.post_json(&lena, "/api/transfers", &request).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for approver in [&carl, &officer] {
        let r = t
            .post_json(
                approver,
                &format!("/api/transfers/{id}/approve"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (_, v) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
    assert_eq!(v["status"], "released", "{v}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_officer_vets_and_an_outside_account_receives_only_its_release() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let carl = t.login("carl.corplead").await;
    let lena = t.login("lena.lawyer").await;
    // A team lead registers a recipient but cannot vouch for it: no address verification, no
    // agreement, no account; so no transfer to it can be asked for.
    let r = t
        .post_json(
            &carl,
            "/api/third-parties",
            &json!({ "name": "Sam Vendor", "organisation": "Shred Co", "category": "vendor",
                     "email": "sam@shred.example" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let vendor = r.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for body in [
        json!({ "address_verified_how": "I know Sam" }),
        json!({ "agreement_signed_on": today() }),
        json!({ "account": t.person("erin.expert") }),
    ] {
        let r = vet(&t, &carl, &vendor, body).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let (_, list) = t.get_json(&officer, "/api/third-parties").await;
    let entry = list
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == vendor.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["address_verified"], false);
    assert_eq!(entry["agreement_in_force"], false);

    // The officer vets the expert and links her account; only an `external` account, and
    // only to one recipient.
    let recipient = expert(&t, &officer, "erin@walsh-forensics.example").await;
    let r = vet(
        &t,
        &officer,
        &recipient,
        json!({ "account": t.person("lena.lawyer") }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = vet(
        &t,
        &officer,
        &recipient,
        json!({ "account": t.person("erin.expert") }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await?["account"],
        t.person("erin.expert").as_str()
    );
    let erin = t.login_with_mailed_password(&officer, "erin.expert").await;
    let r = vet(
        &t,
        &officer,
        &vendor,
        json!({ "account": t.person("erin.expert") }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The signed agreement itself, kept as a sealed document of a matter; a document that
    // does not exist is refused.
    let r = vet(
        &t,
        &officer,
        &recipient,
        json!({ "agreement_signed_on": today(), "agreement_document": uuid::Uuid::nil() }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = vet(
        &t,
        &officer,
        &recipient,
        json!({ "agreement_signed_on": today(), "agreement_document": t.document("D3") }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await?;
    assert_eq!(v["agreement_document"], t.document("D3").as_str());
    assert_eq!(v["agreement_in_force"], true);

    // Nothing is released yet: the account sees nothing, and no firm record.
    let (status, got) = t.get_json(&erin, "/api/received").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got.as_array().map(Vec::len), Some(0));
    let (status, _) = t
        .get_json(&erin, &format!("/api/matters/{}", t.matter("M1")))
        .await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{status}"
    );
    let doc = |transfer: &str, key: &str| {
        format!("/api/received/{transfer}/documents/{}", t.document(key))
    };

    let consent_id = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let id = released_transfer(&t, &recipient, json!({ "consent": consent_id }), 2).await;
    let (_, got) = t.get_json(&erin, "/api/received").await;
    assert_eq!(got.as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(got[0]["transfer"], id.as_str());
    assert_eq!(got[0]["documents"].as_array().map(Vec::len), Some(2));
    assert_eq!(got[0]["downloads_left"], 2);

    // Byte-exact, logged with time and address, audited under her name.
    let mine = t
        .get(
            &lena,
            &format!("/api/documents/{}/content", t.document("D1")),
        )
        .await
        .bytes()
        .await?;
    let r = t.get(&erin, &doc(&id, "D1")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let rid = request_id(&r);
    assert_eq!(r.bytes().await?, mine);
    let entries = t.audit_of_request(&officer, &rid).await;
    let download = entries
        .iter()
        .find(|e| e["action"] == "release.download")
        .cloned()
        .unwrap_or_default();
    assert_eq!(download["outcome"], "allow", "{entries:?}");
    assert_eq!(download["actor"], t.person("erin.expert").as_str());
    let (_, v) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
    assert_eq!(v["downloads"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["downloads"][0]["address"], "127.0.0.1");

    // A document outside the transfer, a transfer that does not exist: not found.
    assert_eq!(
        t.get(&erin, &doc(&id, "D6")).await.status(),
        StatusCode::NOT_FOUND
    );
    let nil = uuid::Uuid::nil().to_string();
    assert_eq!(
        t.get(&erin, &doc(&nil, "D1")).await.status(),
        StatusCode::NOT_FOUND
    );
    // A transfer released to another recipient is not hers: not found, and audited.
    let other = expert(&t, &officer, "kim@other-experts.example").await;
    let other_consent = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": other, "given_on": today() }),
    )
    .await;
    let theirs = released_transfer(&t, &other, json!({ "consent": other_consent }), 5).await;
    let r = t.get(&erin, &doc(&theirs, "D1")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let entries = t.audit_of_request(&officer, &request_id(&r)).await;
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "release.download" && e["outcome"] == "deny"),
        "{entries:?}"
    );
    let (_, got) = t.get_json(&erin, "/api/received").await;
    assert_eq!(
        got.as_array().map(Vec::len),
        Some(1),
        "only her own release is listed"
    );
    // Staff use their own routes, never the recipient's.
    assert_eq!(
        t.get(&lena, "/api/received").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get(&lena, &doc(&id, "D1")).await.status(),
        StatusCode::FORBIDDEN
    );

    // The limit holds for the account as for the link.
    assert_eq!(t.get(&erin, &doc(&id, "D2")).await.status(), StatusCode::OK);
    let r = t.get(&erin, &doc(&id, "D1")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await?.contains("limit"));

    // A second release, then the consent is revoked: the next request is refused at once.
    let second = released_transfer(&t, &recipient, json!({ "consent": consent_id }), 5).await;
    assert_eq!(
        t.get(&erin, &doc(&second, "D1")).await.status(),
        StatusCode::OK
    );
    let r = t
        .post_json(
            &lena,
            &format!("/api/consents/{consent_id}/revoke"),
            &json!({ "reason": "the client withdrew consent" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t.get(&erin, &doc(&second, "D1")).await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, got) = t.get_json(&erin, "/api/received").await;
    assert_eq!(got.as_array().map(Vec::len), Some(0), "{got}");

    // Suspended, the account gets nothing.
    let third_consent = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let third = released_transfer(&t, &recipient, json!({ "consent": third_consent }), 5).await;
    let r = t
        .send_json(
            Method::PUT,
            &officer,
            &format!("/api/people/{}/status", t.person("erin.expert")),
            &json!({ "status": "suspended" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await?);
    assert_ne!(
        t.get(&erin, &doc(&third, "D1")).await.status(),
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_filters_and_shows_titles_as_the_viewer_may_see_them() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let recipient = expert(&t, &officer, "erin@walsh-forensics.example").await;
    let consent_id = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let id = released_transfer(&t, &recipient, json!({ "consent": consent_id }), 2).await;
    let count = |body: &Value| body["items"].as_array().map_or(0, Vec::len);
    let register = |query: String| {
        let officer = officer.clone();
        let t = &t;
        async move {
            t.get_json(&officer, &format!("/api/transfers?which=register{query}"))
                .await
        }
    };
    let (status, all) = register(String::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&all), 1);
    for (query, n) in [
        (format!("&client={}", t.client("C1")), 1),
        (format!("&client={}", t.client("C2")), 0),
        (format!("&recipient={recipient}"), 1),
        (format!("&recipient={}", uuid::Uuid::nil()), 0),
        (format!("&from={}&until={}", today(), today()), 1),
        (format!("&from={}", day(1)), 0),
        (format!("&until={}", day(-1)), 0),
        ("&inform_due=true".to_owned(), 0),
    ] {
        let (status, body) = register(query.clone()).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(count(&body), n, "{query}");
    }
    let (status, _) = register(format!("&from={}&until={}", day(1), day(-1))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The register is the officer's and the partners'.
    let (status, _) = t.get_json(&lena, "/api/transfers?which=register").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Titles as each viewer may see them: the requester reads them; the officer, whose role
    // sees metadata only, gets none; each equals what the documents route says.
    let (_, as_lena) = t.get_json(&lena, &format!("/api/transfers/{id}")).await;
    let (_, d1) = t
        .get_json(&lena, &format!("/api/documents/{}", t.document("D1")))
        .await;
    let title_of = |v: &Value, key: &str| {
        v["documents"]
            .as_array()
            .and_then(|d| d.iter().find(|x| x["id"] == t.document(key).as_str()))
            .map(|x| x["title"].clone())
            .unwrap_or_default()
    };
    assert!(d1["title"].is_string(), "{d1}");
    assert_eq!(title_of(&as_lena, "D1"), d1["title"]);
    let (_, d1_officer) = t
        .get_json(&officer, &format!("/api/documents/{}", t.document("D1")))
        .await;
    let as_officer = &all["items"][0];
    assert_eq!(title_of(as_officer, "D1"), d1_officer["title"].clone());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disclosure_without_consent_is_flagged_and_its_client_informed_only_when_allowed()
-> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let carl = t.login("carl.corplead").await;
    let recipient = expert(&t, &officer, "erin@walsh-forensics.example").await;
    let after = released_transfer(
        &t,
        &recipient,
        json!({ "exception": { "basis": "regulator_request", "reference": "CSRC letter 2026-114",
                               "inform_client": true } }),
        2,
    )
    .await;
    let until = day(30);
    let forbidden = released_transfer(
        &t,
        &recipient,
        json!({ "exception": { "basis": "regulator_request", "reference": "CSRC letter 2026-115",
                               "inform_client": false, "forbidden_until": until } }),
        2,
    )
    .await;
    let (_, due) = t
        .get_json(&officer, "/api/transfers?which=register&inform_due=true")
        .await;
    let ids: Vec<&str> = due["items"]
        .as_array()
        .map(|i| i.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![after.as_str()], "{due}");
    assert_eq!(due["items"][0]["legal_basis"], "regulator_request");
    assert_eq!(due["items"][0]["inform_due"], true);
    let informed = |id: &str| format!("/api/transfers/{id}/client-informed");
    // Only the officer records it; never while the order forbids it; once.
    assert_eq!(
        t.post_json(&carl, &informed(&after), &json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = t
        .post_json(&officer, &informed(&forbidden), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await?.contains(&until));
    let r = t.post_json(&officer, &informed(&after), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await?;
    assert!(v["client_informed_at"].is_string(), "{v}");
    assert_eq!(v["inform_due"], false);
    assert_eq!(
        t.post_json(&officer, &informed(&after), &json!({}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let (_, due) = t
        .get_json(&officer, "/api/transfers?which=register&inform_due=true")
        .await;
    assert_eq!(due["items"].as_array().map(Vec::len), Some(0), "{due}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_reach_approvers_and_requesters_and_hold_no_client_information() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let carl = t.login("carl.corplead").await;
    let lena = t.login("lena.lawyer").await;
    for (token, email) in [
        (&officer, "olivia@firm.example"),
        (&carl, "carl@firm.example"),
        (&lena, "lena@firm.example"),
    ] {
        let r = t
            .send_json(
                Method::PUT,
                token,
                "/api/me/mail-address",
                &json!({ "email": email }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = t
        .send_json(
            Method::PUT,
            &lena,
            "/api/me/mail-address",
            &json!({ "email": "not an address" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (_, mine) = t.get_json(&lena, "/api/me/mail-address").await;
    assert_eq!(mine["email"], "lena@firm.example");
    let recipient = expert(&t, &officer, "erin@walsh-forensics.example").await;
    let consent_id = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let released = released_transfer(&t, &recipient, json!({ "consent": consent_id }), 2).await;
    // A second request, refused with a reason that must not travel by mail.
    let request = json!({
        "matter": t.matter("M1"), "recipient": recipient, "purpose": "expert_report",
        "documents": [t.document("D2")], "consent": consent_id,
    });
    let r = t.post_json(&lena, "/api/transfers", &request).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let refused = r.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let secret = "the client's merger with Zenith is still confidential";
    let r = t
        .post_json(
            &carl,
            &format!("/api/transfers/{refused}/refuse"),
            &json!({ "reason": secret }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, outbox) = t.get_json(&officer, "/api/outbox?limit=200").await;
    let mails = outbox["items"].as_array().cloned().unwrap_or_default();
    let to = |who: &str, subject: &str, transfer: &str| {
        mails
            .iter()
            .filter(|m| {
                m["to"] == who
                    && m["subject"].as_str().unwrap_or_default().contains(subject)
                    && m["body"].as_str().unwrap_or_default().contains(transfer)
            })
            .count()
    };
    for approver in ["olivia@firm.example", "carl@firm.example"] {
        assert_eq!(
            to(approver, "waits for your approval", &released),
            1,
            "{approver}"
        );
        assert_eq!(
            to(approver, "waits for your approval", &refused),
            1,
            "{approver}"
        );
    }
    assert_eq!(
        to("lena@firm.example", "waits for your approval", &released),
        0
    );
    assert_eq!(to("lena@firm.example", "was released", &released), 1);
    assert_eq!(to("lena@firm.example", "was refused", &refused), 1);
    let (_, d2) = t
        .get_json(&lena, &format!("/api/documents/{}", t.document("D2")))
        .await;
    let title = d2["title"].as_str().unwrap_or("D2 title").to_owned();
    let (_, client) = t
        .get_json(&lena, &format!("/api/clients/{}", t.client("C1")))
        .await;
    let client_name = client["name"].as_str().unwrap_or("C1 name").to_owned();
    for m in mails
        .iter()
        .filter(|m| m["to"] != "erin@walsh-forensics.example")
    {
        let text = format!("{} {}", m["subject"], m["body"]);
        for content in [
            secret,
            title.as_str(),
            client_name.as_str(),
            &t.client("C1"),
        ] {
            assert!(
                !text.contains(content),
                "a notice leaks `{content}`: {text}"
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_on_the_recipients_account_refuses_the_request_and_stops_a_release() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let recipient = expert(&t, &officer, "erin@walsh-forensics.example").await;
    let r = vet(
        &t,
        &officer,
        &recipient,
        json!({ "account": t.person("erin.expert") }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let erin = t.login_with_mailed_password(&officer, "erin.expert").await;
    let consent_id = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let released = released_transfer(&t, &recipient, json!({ "consent": consent_id }), 5).await;
    let doc = format!("/api/received/{released}/documents/{}", t.document("D1"));
    assert_eq!(t.get(&erin, &doc).await.status(), StatusCode::OK);
    // A conflict is found: the expert is walled off the client.
    let wall = json!({
        "subject": { "kind": "person", "id": t.person("erin.expert") },
        "object": { "kind": "client", "id": t.client("C1") },
        "reason": "the expert was retained by the other side",
    });
    assert_eq!(
        t.post_json(&officer, "/api/walls", &wall).await.status(),
        StatusCode::CREATED
    );
    // The release stops at the next request, with the wall named.
    let r = t.get(&erin, &doc).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await?.contains("R3"));
    // A new request to her is refused before anyone approves.
    let request = json!({
        "matter": t.matter("M1"), "recipient": recipient, "purpose": "expert_report",
        "documents": [t.document("D1")], "consent": consent_id,
    });
    let r = t.post_json(&lena, "/api/transfers/check", &request).await;
    let check: Value = r.json().await?;
    assert_eq!(check["passed"], false, "{check}");
    assert!(
        check.to_string().contains("recipient is screened"),
        "{check}"
    );
    let r = t.post_json(&lena, "/api/transfers", &request).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    Ok(())
}
