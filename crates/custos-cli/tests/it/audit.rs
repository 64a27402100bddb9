//! Audit (R5, R17 first part): denies and allows are recorded, the table is append-only, a
//! rewritten row is detected, and a use case whose audit entry cannot be written does not happen.

use crate::harness::{TestFirm, TestResult, spawn_demo_firm};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::sqlite::SqlitePoolOptions;

async fn raw_db(t: &TestFirm) -> sqlx::SqlitePool {
    let path = t.data_dir.path(&t.data_dir.config.database.path);
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_or_else(|e| panic!("open db: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_and_allowed_reads_are_recorded_with_their_rule() -> TestResult {
    let t = spawn_demo_firm().await;
    let sam = t.login("sam.screened").await;
    let carl = t.login("carl.corplead").await;
    let officer = t.login("olivia.officer").await;
    let d6 = t.document("D6");
    assert_eq!(
        t.get(&sam, &format!("/api/documents/{d6}/content"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&carl, &format!("/api/documents/{d6}/content"))
            .await
            .status(),
        StatusCode::OK
    );

    let (status, body) = t
        .get_json(&officer, &format!("/api/audit?resource=document:{d6}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let reads: Vec<&Value> = body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["action"] == "document.read")
                .collect()
        })
        .unwrap_or_default();
    let by = |who: &str| {
        reads
            .iter()
            .find(|e| e["actor"] == Value::String(t.person(who)))
            .copied()
    };
    let denied = by("sam.screened").ok_or("sam's denied read is missing")?;
    assert_eq!(denied["outcome"], "deny");
    assert_eq!(denied["reasons"][0]["rule"], "R3.wall");
    let allowed = by("carl.corplead").ok_or("carl's read is missing")?;
    assert_eq!(allowed["outcome"], "allow");
    assert_eq!(allowed["reasons"][0]["rule"], "R1.need_to_know");

    // Sam sees his own trail, including the denial, and nobody else's entries.
    let (_, mine) = t.get_json(&sam, "/api/audit/mine?limit=500").await;
    let mine = mine["items"].as_array().cloned().unwrap_or_default();
    assert!(
        mine.iter()
            .all(|e| e["actor"] == Value::String(t.person("sam.screened")))
    );
    assert!(
        mine.iter()
            .any(|e| e["resource"] == Value::String(format!("document:{d6}")))
    );
    // Only the officer queries the whole log.
    assert_eq!(
        t.get(&sam, "/api/audit").await.status(),
        StatusCode::FORBIDDEN
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_table_refuses_update_and_delete_and_rewrites_are_detected() -> TestResult {
    let t = spawn_demo_firm().await;
    assert!(
        t.app.verify_audit_log().await? > 50,
        "the demo firm's history verifies"
    );
    let db = raw_db(&t).await;
    let update = sqlx::query("UPDATE audit_log SET outcome = 'allow' WHERE seq = 2")
        .execute(&db)
        .await;
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    let delete = sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&db)
        .await;
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));

    // Someone with the database file drops the trigger and rewrites a decision.
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&db)
        .await?;
    sqlx::query("UPDATE audit_log SET outcome = CASE outcome WHEN 'allow' THEN 'deny' ELSE 'allow' END WHERE seq = 5").execute(&db).await?;
    let verdict = t.app.verify_audit_log().await;
    assert!(
        verdict
            .as_ref()
            .is_err_and(|e| e.to_string().contains("entry 5")),
        "{verdict:?}"
    );
    Ok(())
}

/// The Merkle tree stored with the log (issue 15) is append-only too, and a stored hash
/// rewritten behind the triggers' back is reported: its root no longer matches the entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_tree_hash_is_detected() -> TestResult {
    let t = spawn_demo_firm().await;
    assert!(t.app.verify_audit_log().await? > 50);
    let db = raw_db(&t).await;
    let update = sqlx::query("UPDATE audit_tree SET hash = zeroblob(32) WHERE idx = 0")
        .execute(&db)
        .await;
    assert!(update.is_err_and(|e| e.to_string().contains("append-only")));
    sqlx::query("DROP TRIGGER audit_tree_no_update")
        .execute(&db)
        .await?;
    let verdict = t.app.verify_audit_log().await;
    assert!(
        verdict
            .as_ref()
            .is_err_and(|e| e.to_string().contains("audit_tree_no_update")),
        "a missing trigger is named: {verdict:?}"
    );
    sqlx::query("CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only'); END")
        .execute(&db)
        .await?;
    assert!(
        t.app.verify_audit_log().await.is_ok(),
        "the trigger back, all verifies"
    );
    // The last stored hash is the root's rightmost subtree.
    sqlx::query("DROP TRIGGER audit_tree_no_update")
        .execute(&db)
        .await?;
    sqlx::query(
        "UPDATE audit_tree SET hash = zeroblob(32) WHERE idx = (SELECT MAX(idx) FROM audit_tree)",
    )
    .execute(&db)
    .await?;
    sqlx::query("CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only'); END")
        .execute(&db)
        .await?;
    let verdict = t.app.verify_audit_log().await;
    assert!(
        verdict
            .as_ref()
            .is_err_and(|e| e.to_string().contains("Merkle tree")),
        "{verdict:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_audit_entry_no_access() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let d1 = t.document("D1");
    let db = raw_db(&t).await;
    sqlx::query("CREATE TRIGGER sabotage BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .execute(&db)
        .await?;
    let r = t.get(&lena, &format!("/api/documents/{d1}/content")).await;
    assert!(r.status().is_server_error(), "{}", r.status());
    let body = r.text().await?;
    assert!(
        !body.contains("Demo document"),
        "no content without an audit entry"
    );
    assert!(
        !body.contains("disk full"),
        "no internal detail in the error: {body}"
    );
    let upload = t
        .upload(
            &lena,
            t.matter("M1"),
            "not recorded",
            "internal",
            b"x".to_vec(),
        )
        .await;
    assert!(upload.status().is_server_error());
    sqlx::query("DROP TRIGGER sabotage").execute(&db).await?;
    let (_, docs) = t
        .get_json(&lena, &format!("/api/matters/{}/documents", t.matter("M1")))
        .await;
    let titles: Vec<&str> = docs["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["title"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !titles.contains(&"not recorded"),
        "the unaudited upload did not happen: {titles:?}"
    );
    assert_eq!(
        t.get(&lena, &format!("/api/documents/{d1}/content"))
            .await
            .status(),
        StatusCode::OK
    );
    Ok(())
}

/// Group commit: eight audited reads waiting behind a held writer share their audit write.
/// When that write fails (the same sabotage as a full disk), every read of the batch is refused
/// and no entry of it is in the log; when it succeeds, all eight answer and are logged, in at
/// most two transactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_fails_closed_for_the_whole_batch() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let path = format!("/api/documents/{}", t.document("D1"));
    let db = raw_db(&t).await;
    for sabotage in [true, false] {
        let before = entries(&db).await?;
        let (stats, _) = t.app.audit_group_commit();
        // Someone else holds SQLite's write lock: the reads' audit write has to wait.
        let mut hold = db.acquire().await?;
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *hold).await?;
        let reads = futures_util::future::join_all((0..8).map(|_| t.get(&lena, &path)));
        let release = async {
            loop {
                let (now, waiting) = t.app.audit_group_commit();
                if (now.units - stats.units) as usize + waiting == 8 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            if sabotage {
                sqlx::raw_sql("CREATE TRIGGER sabotage BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
                    .execute(&mut *hold)
                    .await?;
            }
            sqlx::raw_sql("COMMIT").execute(&mut *hold).await?;
            TestResult::Ok(())
        };
        let (answers, released) = tokio::join!(reads, release);
        released?;
        drop(hold);
        let (after, _) = t.app.audit_group_commit();
        assert_eq!(after.units - stats.units, 8);
        assert!(
            after.batches - stats.batches <= 2,
            "eight reads shared at most two commits: {stats:?} -> {after:?}"
        );
        for answer in answers {
            let status = answer.status();
            let body = answer.text().await?;
            if sabotage {
                assert!(status.is_server_error(), "{status}");
                assert!(
                    !body.contains("Demo document") && !body.contains("disk full"),
                    "{body}"
                );
            } else {
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        let logged = entries(&db).await? - before;
        assert_eq!(logged, if sabotage { 0 } else { 8 }, "sabotage {sabotage}");
        if sabotage {
            sqlx::raw_sql("DROP TRIGGER sabotage").execute(&db).await?;
        }
    }
    Ok(())
}

async fn entries(db: &sqlx::SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(db)
        .await
}

/// Recreates the SQLite delete guard as the migration made it.
const NO_DELETE: &str = "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END";

/// Security review item 9: deleting the newest entries, or all of them, passed `verify`. Now the
/// head recorded outside the database (or given with `--head`) must still be in the log, an
/// empty log beside people is not intact, and missing triggers are reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_or_emptied_log_is_not_intact() -> TestResult {
    let t = spawn_demo_firm().await;
    let head = t.app.audit_head().await?.ok_or("empty log")?;
    assert!(t.data_dir.record_audit_head(head)?);
    let recorded = t.data_dir.recorded_audit_head()?.ok_or("no record")?;
    assert_eq!(recorded, head);
    assert_eq!(
        t.app.verify_audit_log_against(&[recorded]).await?.head,
        Some(head)
    );
    t.app.check_audit_log_at_start(Some(recorded)).await?;

    // Someone with the database file cuts the last three entries and restores the trigger.
    let db = raw_db(&t).await;
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&db)
        .await?;
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(i64::try_from(head.seq)? - 3)
        .execute(&db)
        .await?;
    sqlx::query(NO_DELETE).execute(&db).await?;
    // The chain alone still verifies: that was the hole.
    assert!(t.app.verify_audit_log().await.is_ok());
    let verdict = t.app.verify_audit_log_against(&[recorded]).await;
    assert!(
        verdict
            .as_ref()
            .is_err_and(|e| e.to_string().contains(&format!(
                "the log ends at entry {}, but entry {} was recorded",
                head.seq - 3,
                head.seq
            ))),
        "{verdict:?}"
    );
    assert!(
        t.app
            .check_audit_log_at_start(Some(recorded))
            .await
            .is_err()
    );
    // The record never moves back to the cut head.
    let cut = t.app.audit_head().await?.ok_or("empty log")?;
    assert!(t.data_dir.record_audit_head(cut).is_err());
    assert_eq!(t.data_dir.recorded_audit_head()?, Some(recorded));

    // Emptied, triggers left dropped: both are named.
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&db)
        .await?;
    sqlx::query("DELETE FROM audit_log").execute(&db).await?;
    let verdict = t.app.verify_audit_log().await;
    let message = verdict
        .as_ref()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("the log is empty but the database holds people"),
        "{message}"
    );
    assert!(message.contains("audit_log_no_delete"), "{message}");
    assert!(
        t.app.check_audit_log_at_start(None).await.is_err(),
        "serve refuses without triggers"
    );
    Ok(())
}

/// An undecodable row is named by its sequence number (it used to be "internal error").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_entry_is_named() -> TestResult {
    let t = spawn_demo_firm().await;
    let head = t.app.audit_head().await?.ok_or("empty log")?;
    let next = i64::try_from(head.seq)? + 1;
    let db = raw_db(&t).await;
    sqlx::query(
        "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, resource, outcome,
                                reasons, detail, leaf_hash, chain_hash)
         VALUES ($1, 0, 'not-a-uuid', NULL, 'x', 'firm', 'allow', 'not json', 'null', $2, $2)",
    )
    .bind(next)
    .bind(vec![0u8; 32])
    .execute(&db)
    .await?;
    let verdict = t.app.verify_audit_log().await;
    assert!(
        verdict
            .as_ref()
            .is_err_and(|e| e.to_string().contains(&format!("audit entry {next}"))),
        "{verdict:?}"
    );
    Ok(())
}

/// Groundwork issue: one audit vocabulary. A scenario that writes many kinds of entries (the
/// demo firm's seeding, logins and a failed one, listings, reads allowed and denied, an API
/// token, a password reset, a two-person recovery, an unknown record) is read back whole, and
/// every action and rule code in it is in the catalogue (policy `Action`/`Rule` plus
/// `custos_app::vocabulary`): no second spelling can creep in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_code_in_the_log_is_catalogued() -> TestResult {
    use custos_app::vocabulary::{is_catalogued_action, is_catalogued_rule};
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let adam = t.login("adam.admin").await;
    let lena = t.login("lena.lawyer").await;
    let sam = t.login("sam.screened").await;
    for path in [
        "/api/people",
        "/api/teams",
        "/api/clients",
        "/api/matters",
        "/api/walls",
        "/api/audit/mine",
    ] {
        t.get(&lena, path).await;
        t.get(&officer, path).await;
    }
    t.get(&lena, &format!("/api/matters/{}/documents", t.matter("M1")))
        .await;
    t.get(
        &lena,
        &format!("/api/documents/{}/content", t.document("D1")),
    )
    .await;
    t.get(&sam, &format!("/api/documents/{}", t.document("D6")))
        .await;
    t.get(&sam, &format!("/api/matters/{}", uuid::Uuid::now_v7()))
        .await;
    let _ = t
        .http
        .post(t.url("/api/session"))
        .json(&json!({ "user_name": "lena.lawyer", "password": "not the password at all" }))
        .send()
        .await?;
    let r = t
        .post_json(
            &lena,
            "/api/me/tokens",
            &json!({ "name": "script", "scopes": ["read"], "days": 1 }),
        )
        .await;
    let token: Value = r.json().await?;
    let id = token["details"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    t.send_json(
        reqwest::Method::DELETE,
        &lena,
        &format!("/api/me/tokens/{id}"),
        &json!({}),
    )
    .await;
    let omar = t.person("omar.lawyer");
    t.login("omar.lawyer").await;
    t.post_json(
        &officer,
        &format!("/api/people/{omar}/password-reset"),
        &json!({}),
    )
    .await;
    let ivan = t.person("ivan.intern");
    t.post_json(
        &officer,
        &format!("/api/people/{ivan}/recovery"),
        &json!({}),
    )
    .await;
    t.post_json(
        &adam,
        &format!("/api/people/{ivan}/recovery/confirm"),
        &json!({}),
    )
    .await;

    let mut after = 0u64;
    let mut seen = 0usize;
    let mut unknown = std::collections::BTreeSet::new();
    loop {
        let (status, page) = t
            .get_json(&officer, &format!("/api/audit?limit=500&cursor={after}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for e in &items {
            let action = e["action"].as_str().unwrap_or_default();
            if !is_catalogued_action(action) {
                unknown.insert(format!("action {action}"));
            }
            for r in e["reasons"].as_array().into_iter().flatten() {
                let rule = r["rule"].as_str().unwrap_or_default();
                if !is_catalogued_rule(rule) {
                    unknown.insert(format!("rule {rule} (in {action})"));
                }
            }
            after = e["seq"].as_u64().unwrap_or(after);
        }
        seen += items.len();
        if items.len() < 500 {
            break;
        }
    }
    assert!(seen > 100, "the scenario wrote {seen} entries");
    assert!(unknown.is_empty(), "not in the catalogue: {unknown:?}");
    Ok(())
}
