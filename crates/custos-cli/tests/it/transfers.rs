//! Consent, third parties and external transfers through the HTTP API (R10-R13): the happy
//! path end to end (consent, agreement, request, two approvals, link, one-time code from the
//! outbox, byte-exact download, register, audit), and each refusal with its explanation.

use crate::harness::{TestFirm, TestResult, request_id, spawn_demo_firm};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A recipient with a verified address and an agreement in force; returns its id.
pub(crate) async fn expert(t: &TestFirm, officer: &str, email: &str) -> String {
    let r = t
        .post_json(
            officer,
            "/api/third-parties",
            &json!({ "name": "Dr Erin Walsh", "organisation": "Walsh Forensics",
                     "category": "expert_witness", "email": email }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = t
        .send_json(
            reqwest::Method::PATCH,
            officer,
            &format!("/api/third-parties/{id}"),
            &json!({ "agreement_signed_on": today(), "address_verified_how":
                     "called Walsh Forensics' office and read the address back" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(v["address_verified"], true);
    assert_eq!(v["agreement_in_force"], true);
    id
}

pub(crate) async fn consent(t: &TestFirm, token: &str, client: &str, body: Value) -> String {
    let r = t
        .post_json(token, &format!("/api/clients/{client}/consents"), &body)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The newest outbox mail to `to`.
pub(crate) async fn last_mail(t: &TestFirm, officer: &str, to: &str) -> String {
    let (status, body) = t.get_json(officer, "/api/outbox?limit=200").await;
    assert_eq!(status, StatusCode::OK);
    body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|m| m["to"] == to))
        .and_then(|m| m["body"].as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn link_token(mail: &str) -> String {
    let at = mail.find("/release/").map_or(0, |i| i + "/release/".len());
    mail[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

pub(crate) fn code_of(mail: &str) -> String {
    mail.split_whitespace()
        .find(|w| {
            w.trim_end_matches('.').len() == 6
                && w.trim_end_matches('.').chars().all(|c| c.is_ascii_digit())
        })
        .map(|w| w.trim_end_matches('.').to_owned())
        .unwrap_or_default()
}

async fn audit_count(t: &TestFirm, officer: &str, action: &str, outcome: &str) -> usize {
    let mut n = 0;
    let mut cursor = String::new();
    loop {
        let (status, body) = t
            .get_json(officer, &format!("/api/audit?limit=200{cursor}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().cloned().unwrap_or_default();
        n += items
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .count();
        match body["next_cursor"].as_str() {
            Some(c) if !items.is_empty() => cursor = format!("&cursor={c}"),
            _ => return n,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consented_transfer_reaches_only_its_recipient_until_the_consent_is_revoked() -> TestResult
{
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let carl = t.login("carl.corplead").await;
    let email = "erin@walsh-forensics.example";
    let recipient = expert(&t, &officer, email).await;
    let consent_id = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let request = json!({
        "matter": t.matter("M1"), "recipient": recipient, "purpose": "expert_report",
        "documents": [t.document("D1"), t.document("D2")], "consent": consent_id,
        "download_limit": 2,
    });
    // The checks, shown before asking.
    let r = t.post_json(&lena, "/api/transfers/check", &request).await;
    assert_eq!(r.status(), StatusCode::OK);
    let check: Value = r.json().await?;
    assert_eq!(check["passed"], true, "{check}");
    assert_eq!(check["checks"].as_array().map(Vec::len), Some(4));
    let r = t.post_json(&lena, "/api/transfers", &request).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let transfer: Value = r.json().await?;
    let id = transfer["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(transfer["status"], "pending");
    // The requester cannot approve; a paralegal cannot; the lead approves once.
    let approve = format!("/api/transfers/{id}/approve");
    let r = t.post_json(&lena, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await?;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("R12.two_person"),
        "{body}"
    );
    let r = t.post_json(&carl, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await?["status"], "pending");
    let r = t.post_json(&carl, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await?.contains("already approved"));
    // Nothing was mailed before the second approval.
    assert_eq!(last_mail(&t, &officer, email).await, "");
    let r = t.post_json(&officer, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let released: Value = r.json().await?;
    assert_eq!(released["status"], "released", "{released}");
    assert_eq!(released["link"]["live"], true);
    assert_eq!(released["approvals"].as_array().map(Vec::len), Some(2));
    // The recipient's link, from the mail.
    let mail = last_mail(&t, &officer, email).await;
    let token = link_token(&mail);
    assert_eq!(token.len(), 64, "{mail}");
    for content in ["Acme", "term sheet", "Board minutes", &t.client("C1")] {
        assert!(
            !mail.contains(content),
            "no client content in a mail: {content}"
        );
    }
    let base = format!("/api/release/{token}");
    let anon = |path: &str| t.http.get(t.url(path));
    let r = anon(&base).send().await?;
    assert_eq!(r.status(), StatusCode::OK);
    let info: Value = r.json().await?;
    // Before the code: how many documents, not which (issue 33: ids, sizes and types were
    // shown to whoever held the link).
    assert_eq!(info["document_count"], 2);
    assert_eq!(info["documents"].as_array().map(Vec::len), Some(0));
    // No content without the code.
    let doc = format!("{base}/documents/{}", t.document("D1"));
    assert_eq!(anon(&doc).send().await?.status(), StatusCode::FORBIDDEN);
    let r = t.http.post(t.url(&format!("{base}/code"))).send().await?;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let code = code_of(&last_mail(&t, &officer, email).await);
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let open = |c: &str| {
        t.http
            .post(t.url(&format!("{base}/open")))
            .json(&json!({ "code": c }))
            .send()
    };
    assert_eq!(open(wrong).await?.status(), StatusCode::UNAUTHORIZED);
    let r = open(&code).await?;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    let r = anon(&base).header("cookie", &session).send().await?;
    let info: Value = r.json().await?;
    assert_eq!(
        info["documents"].as_array().map(Vec::len),
        Some(2),
        "{info}"
    );
    // A replayed code is refused.
    assert_eq!(open(&code).await?.status(), StatusCode::UNAUTHORIZED);
    // Byte-exact download, compared with the lawyer's own.
    let mine = t
        .get(
            &lena,
            &format!("/api/documents/{}/content", t.document("D1")),
        )
        .await
        .bytes()
        .await?;
    let r = anon(&doc).header("cookie", &session).send().await?;
    assert_eq!(r.status(), StatusCode::OK);
    let rid = request_id(&r);
    assert_eq!(r.bytes().await?, mine);
    let entries = t.audit_of_request(&officer, &rid).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["action"], "release.download");
    assert_eq!(entries[0]["outcome"], "allow");
    // A document outside the transfer is not served, even to a session.
    let other = format!("{base}/documents/{}", t.document("D6"));
    assert_eq!(
        anon(&other)
            .header("cookie", &session)
            .send()
            .await?
            .status(),
        StatusCode::NOT_FOUND
    );
    // The register keeps the SHA-256 of the released bytes, written once they all left.
    // Computed here with aws-lc-rs, independently of the server's sha2.
    let expected: String = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &mine)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut recorded = Value::Null;
    for _ in 0..50 {
        let (_, v) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
        let doc_entry = v["documents"]
            .as_array()
            .and_then(|d| d.iter().find(|x| x["id"] == t.document("D1").as_str()))
            .cloned()
            .unwrap_or_default();
        recorded = doc_entry["released_sha256"].clone();
        if !recorded.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    assert_eq!(recorded, expected.as_str());
    // The register shows the download with time and address.
    let (status, register) = t.get_json(&officer, "/api/transfers?which=register").await;
    assert_eq!(status, StatusCode::OK);
    let entry = register["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["id"] == id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["downloads"].as_array().map(Vec::len), Some(1));
    assert_eq!(entry["downloads"][0]["address"], "127.0.0.1");
    assert_eq!(entry["consent"], consent_id.as_str());
    // Live links.
    let (_, live) = t.get_json(&officer, "/api/transfers/links").await;
    assert_eq!(live.as_array().map(Vec::len), Some(1));
    // The consent is revoked: the next request is refused, and the transfer shows why.
    let r = t
        .post_json(
            &lena,
            &format!("/api/consents/{consent_id}/revoke"),
            &json!({ "reason": "the client withdrew consent by phone" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await?["in_force"], false);
    let r = anon(&doc).header("cookie", &session).send().await?;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, after) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
    assert_eq!(after["status"], "voided");
    assert!(
        after["status_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked")
    );
    assert_eq!(after["link"]["live"], false);
    // Every step left its entry, and nothing left without one.
    for (action, outcome, n) in [
        ("consent.record", "allow", 1),
        ("transfer.create", "allow", 1),
        // Three gates (the lead twice, the officer) and two approvals recorded.
        ("transfer.approve", "allow", 5),
        ("transfer.approve", "deny", 2),
        ("transfer.release", "allow", 1),
        ("release.code", "allow", 1),
        ("release.open", "deny", 2),
        ("release.open", "allow", 1),
        ("release.download", "allow", 1),
        ("release.download", "deny", 3),
        ("consent.revoke", "allow", 1),
        ("transfer.void", "deny", 1),
    ] {
        assert_eq!(
            audit_count(&t, &officer, action, outcome).await,
            n,
            "{action} {outcome}"
        );
    }
    Ok(())
}

/// A released transfer of D1 to a fresh recipient, with a download limit; returns the link's
/// base path.
pub(crate) async fn released(t: &TestFirm, email: &str, limit: u32) -> (String, String) {
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let carl = t.login("carl.corplead").await;
    let recipient = expert(t, &officer, email).await;
    let consent_id = consent(
        t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "category": "expert_witness",
                "given_on": today() }),
    )
    .await;
    let r = t
        .post_json(
            &lena,
            "/api/transfers",
            &json!({ "matter": t.matter("M1"), "recipient": recipient,
                     "purpose": "expert_report", "documents": [t.document("D1")],
                     "consent": consent_id, "download_limit": limit }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for who in [&carl, &officer] {
        let r = t
            .post_json(who, &format!("/api/transfers/{id}/approve"), &json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let token = link_token(&last_mail(t, &officer, email).await);
    (format!("/api/release/{token}"), id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guessed_code_locks_the_link_and_limits_hold() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let email = "guessed@expert.example";
    let (base, id) = released(&t, email, 1).await;
    let r = t.http.post(t.url(&format!("{base}/code"))).send().await?;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let code = code_of(&last_mail(&t, &officer, email).await);
    let mut unauthorized = 0;
    let mut refused = 0;
    let mut guesses = 0;
    for guess in 0..1001u32 {
        let g = format!("{guess:06}");
        if g == code || guesses == 1000 {
            continue;
        }
        guesses += 1;
        let r = t
            .http
            .post(t.url(&format!("{base}/open")))
            .json(&json!({ "code": g }))
            .send()
            .await?;
        match r.status() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::FORBIDDEN => refused += 1,
            s => panic!("guess {g}: {s}"),
        }
    }
    // Four wrong codes answer "wrong", the fifth locks the link, the rest are refused.
    assert_eq!(unauthorized, 4);
    assert_eq!(refused, 1000 - 4);
    let r = t
        .http
        .post(t.url(&format!("{base}/open")))
        .json(&json!({ "code": code }))
        .send()
        .await?;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the right code after the lock"
    );
    let (_, after) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
    assert_eq!(after["link"]["live"], false);
    assert!(
        after["link"]["revoke_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("wrong codes")
    );

    // Download limit 1 on a second transfer, then a revocation by the requester.
    let email = "limited@expert.example";
    let (base, id) = released(&t, email, 1).await;
    t.http.post(t.url(&format!("{base}/code"))).send().await?;
    let code = code_of(&last_mail(&t, &officer, email).await);
    let r = t
        .http
        .post(t.url(&format!("{base}/open")))
        .json(&json!({ "code": code }))
        .send()
        .await?;
    let session = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let doc = format!("{base}/documents/{}", t.document("D1"));
    let get = || t.http.get(t.url(&doc)).header("cookie", &session).send();
    assert_eq!(get().await?.status(), StatusCode::OK);
    let r = get().await?;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await?.contains("download limit"));
    let lena = t.login("lena.lawyer").await;
    let carl = t.login("carl.corplead").await;
    let revoke = format!("/api/transfers/{id}/revoke-link");
    let reason = json!({ "reason": "sent to the wrong expert" });
    assert_eq!(
        t.post_json(&carl, &revoke, &reason).await.status(),
        StatusCode::FORBIDDEN,
        "only the requester or the officer revokes"
    );
    assert_eq!(
        t.post_json(&lena, &revoke, &reason).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.http.get(t.url(&base)).send().await?.status(),
        StatusCode::FORBIDDEN
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_is_explained() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let recipient = expert(&t, &officer, "refusals@expert.example").await;
    let consent_id = consent(
        &t,
        &lena,
        &t.client("C1"),
        json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
    )
    .await;
    let t = &t;
    let ask = |token: String, body: Value| async move {
        let r = t.post_json(&token, "/api/transfers", &body).await;
        let status = r.status();
        (status, r.json::<Value>().await.unwrap_or_default())
    };
    let base = json!({ "matter": t.matter("M1"), "recipient": recipient,
                       "purpose": "expert_report", "documents": [t.document("D1")],
                       "consent": consent_id });
    // Consent for another purpose.
    let mut other = base.clone();
    other["purpose"] = json!("litigation_support");
    let (status, body) = ask(lena.clone(), other).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("R10.consent"),
        "{body}"
    );
    // A recipient without an agreement.
    let r = t
        .post_json(
            &officer,
            "/api/third-parties",
            &json!({ "name": "Bob", "organisation": "Lab", "category": "expert_witness",
                     "email": "bob@lab.example" }),
        )
        .await;
    let bob = r.json::<Value>().await?["id"].clone();
    let mut unsigned = base.clone();
    unsigned["recipient"] = bob;
    let (status, body) = ask(lena.clone(), unsigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("R10.consent"),
        "{body}"
    );
    // Not on the matter's team: hidden, as the matter is.
    let omar = t.login("omar.lawyer").await;
    let (status, _) = ask(omar, base.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A secretary on the team does not send documents out.
    let sally = t.login("sally.secretary").await;
    let (status, body) = ask(sally, base.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("R2.role_cap"),
        "{body}"
    );
    // A document of another matter.
    let mut elsewhere = base.clone();
    elsewhere["documents"] = json!([t.document("D6")]);
    let (status, _) = ask(lena.clone(), elsewhere).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Both a consent and an exception, or neither.
    let mut neither = base.clone();
    neither["consent"] = Value::Null;
    let (status, _) = ask(lena.clone(), neither).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A link longer than 30 days.
    let mut long = base.clone();
    long["link_days"] = json!(31);
    let (status, _) = ask(lena.clone(), long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The team lead asks: they cannot approve their own request; the client's responsible
    // partner approves in their place.
    let carl = t.login("carl.corplead").await;
    let (status, by_lead) = ask(carl.clone(), base.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let approve = format!(
        "/api/transfers/{}/approve",
        by_lead["id"].as_str().unwrap_or_default()
    );
    let r = t.post_json(&carl, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await?
            .contains("the requester cannot approve their own transfer")
    );
    let paula = t.login("paula.partner").await;
    let r = t.post_json(&paula, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await?;
    assert_eq!(v["approvals"][0]["slot"], "lead", "{v}");
    // A refusal by the officer closes the transfer.
    let (status, pending) = ask(lena.clone(), base.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = pending["id"].as_str().unwrap_or_default();
    let r = t
        .post_json(
            &officer,
            &format!("/api/transfers/{id}/refuse"),
            &json!({ "reason": "the expert's engagement is not signed yet" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await?["status"], "refused");
    let r = t
        .post_json(&carl, &format!("/api/transfers/{id}/approve"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The agreement expires between the first approval and the second: voided.
    let (status, pending) = ask(lena.clone(), base.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = pending["id"].as_str().unwrap_or_default();
    let r = t
        .post_json(&carl, &format!("/api/transfers/{id}/approve"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let yesterday = {
        let d = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    let r = t
        .send_json(
            reqwest::Method::PATCH,
            &officer,
            &format!("/api/third-parties/{recipient}"),
            &json!({ "agreement_signed_on": "2025-01-01", "agreement_expires_on": yesterday }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post_json(
            &officer,
            &format!("/api/transfers/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await?.contains("expired"));
    let (_, after) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
    assert_eq!(after["status"], "voided");
    assert!(after["link"].is_null());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_during_a_large_download_refuses_the_next_request() -> TestResult {
    use futures_util::StreamExt;
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let big = LargeRelease::new(&t, "race@expert.example").await;
    let (content, consent_id, id, session) = (
        big.content.clone(),
        big.consent.clone(),
        big.transfer.clone(),
        big.session.clone(),
    );
    let doc = big.document_path.clone();
    let r = t
        .http
        .get(t.url(&doc))
        .header("cookie", &session)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::OK);
    let mut stream = r.bytes_stream();
    let first = stream.next().await.transpose()?.unwrap_or_default();
    assert!(!first.is_empty());
    // The consent is revoked while the first download is under way.
    let r = t
        .post_json(
            &officer,
            &format!("/api/consents/{consent_id}/revoke"),
            &json!({ "reason": "revoked by the client's general counsel" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The download that was decided before the revocation runs to its end (it was audited
    // when it began); the next request is refused.
    let mut got = first.to_vec();
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk?);
    }
    assert_eq!(got.len(), content.len());
    let r = t
        .http
        .get(t.url(&doc))
        .header("cookie", &session)
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, after) = t.get_json(&officer, &format!("/api/transfers/{id}")).await;
    assert_eq!(after["status"], "voided");
    assert_eq!(after["downloads"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legal_exception_needs_its_basis_the_order_and_for_imminent_harm_a_partner() -> TestResult
{
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let carl = t.login("carl.corplead").await;
    let r = t
        .post_json(
            &officer,
            "/api/third-parties",
            &json!({ "name": "Registrar", "organisation": "High Court", "category": "authority",
                     "email": "registry@court.example" }),
        )
        .await;
    let court = r.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = t
        .send_json(
            reqwest::Method::PATCH,
            &officer,
            &format!("/api/third-parties/{court}"),
            &json!({ "address_verified_how": "address published by the court" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let order = t
        .upload(
            &lena,
            t.matter("M1"),
            "production order",
            "confidential",
            b"ORDER".to_vec(),
        )
        .await
        .json::<Value>()
        .await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut body = json!({ "matter": t.matter("M1"), "recipient": court,
        "purpose": "court_production", "documents": [t.document("D1")],
        "exception": { "basis": "court_order", "reference": "HC-2026-0412",
                       "inform_client": false, "forbidden_until": "2027-06-30" } });
    // A court order must be uploaded and named.
    let r = t.post_json(&lena, "/api/transfers", &body).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    body["exception"]["order"] = json!(order);
    let r = t.post_json(&lena, "/api/transfers", &body).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "no consent and no agreement needed"
    );
    let v: Value = r.json().await?;
    assert_eq!(v["legal_basis"], "court_order");
    assert_eq!(v["inform_client"], false);
    assert!(v["checks"][0]["rule"] == "R13.legal_exception", "{v}");
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    for who in [&carl, &officer] {
        let r = t
            .post_json(who, &format!("/api/transfers/{id}/approve"), &json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (_, register) = t.get_json(&officer, "/api/transfers?which=register").await;
    let flagged = register["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["id"] == id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(flagged["legal_reference"], "HC-2026-0412");
    assert_eq!(flagged["status"], "released");
    // The order forbids telling the client: a partner sees the disclosure and its basis, not
    // the reference (need-to-know, issue 33).
    let paula = t.login("paula.partner").await;
    let (_, seen) = t.get_json(&paula, &format!("/api/transfers/{id}")).await;
    assert_eq!(seen["legal_basis"], "court_order", "{seen}");
    assert!(seen["legal_reference"].is_null(), "{seen}");
    // Imminent harm: the team lead's approval does not count; a partner's does. An expert
    // (not an authority) still needs an agreement on file.
    body["exception"] = json!({ "basis": "imminent_harm",
        "reference": "threat reported on 2026-12-06", "inform_client": true });
    let r = t.post_json(&lena, "/api/transfers", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let approve = format!("/api/transfers/{id}/approve");
    let r = t.post_json(&carl, &approve, &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await?.contains("a partner (imminent harm)"));
    let peter = t.login("peter.partner").await;
    assert_eq!(
        t.post_json(&peter, &approve, &json!({})).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.post_json(&officer, &approve, &json!({})).await.status(),
        StatusCode::OK
    );
    let expert_id = expert(&t, &officer, "harm@expert.example").await;
    let r = t
        .send_json(
            reqwest::Method::PATCH,
            &officer,
            &format!("/api/third-parties/{expert_id}"),
            &json!({ "agreement_signed_on": "2025-01-01", "agreement_expires_on": "2025-12-31" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body["recipient"] = json!(expert_id);
    let r = t.post_json(&lena, "/api/transfers", &body).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await?.contains("R11.agreement"));
    Ok(())
}

/// A released transfer of one 6 MiB document of M1 (limit 5), its code proved: what a test of
/// a large download needs.
pub(crate) struct LargeRelease {
    pub(crate) content: Vec<u8>,
    pub(crate) consent: String,
    pub(crate) transfer: String,
    /// The session cookie (`name=value`).
    pub(crate) session: String,
    /// The document's path under the link.
    pub(crate) document_path: String,
}

impl LargeRelease {
    pub(crate) async fn new(t: &TestFirm, email: &str) -> LargeRelease {
        let officer = t.login("olivia.officer").await;
        let lena = t.login("lena.lawyer").await;
        let carl = t.login("carl.corplead").await;
        let content: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let r = t
            .upload(
                &lena,
                t.matter("M1"),
                "expert bundle",
                "confidential",
                content.clone(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let big = r.json::<Value>().await.unwrap_or_default()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let recipient = expert(t, &officer, email).await;
        let consent_id = consent(
            t,
            &lena,
            &t.client("C1"),
            json!({ "purposes": ["expert_report"], "recipient": recipient, "given_on": today() }),
        )
        .await;
        let r = t
            .post_json(
                &lena,
                "/api/transfers",
                &json!({ "matter": t.matter("M1"), "recipient": recipient,
                     "purpose": "expert_report", "documents": [big],
                     "consent": consent_id, "download_limit": 5 }),
            )
            .await;
        let id = r.json::<Value>().await.unwrap_or_default()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for who in [&carl, &officer] {
            let r = t
                .post_json(who, &format!("/api/transfers/{id}/approve"), &json!({}))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        let base = format!(
            "/api/release/{}",
            link_token(&last_mail(t, &officer, email).await)
        );
        t.http
            .post(t.url(&format!("{base}/code")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let code = code_of(&last_mail(t, &officer, email).await);
        let r = t
            .http
            .post(t.url(&format!("{base}/open")))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let session = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_owned();
        LargeRelease {
            content,
            consent: consent_id,
            transfer: id,
            session,
            document_path: format!("{base}/documents/{big}"),
        }
    }
}
