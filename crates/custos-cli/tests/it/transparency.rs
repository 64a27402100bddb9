//! The transparency log (issue 15): signed checkpoints served and stored, inclusion and
//! consistency proofs that verify offline with nothing but the published verifier key, who may
//! have which proof, and a log rewritten from scratch or cut, caught by a checkpoint kept
//! outside the database.

use crate::harness::{TestFirm, TestResult, spawn_demo_firm};
use custos_audit::checkpoint;
use custos_audit::proof::{ConsistencyProof, InclusionProof};
use reqwest::StatusCode;
use serde_json::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn sign_now(t: &TestFirm, officer: &str) -> Value {
    let r = t
        .post_json(officer, "/api/audit/checkpoint", &Value::Null)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap_or_default()
}

async fn inclusion(t: &TestFirm, token: &str, seq: u64) -> (StatusCode, Value) {
    t.get_json(token, &format!("/api/audit/proof/inclusion?seq={seq}"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_signed_and_proofs_verify_offline() -> TestResult {
    let t = spawn_demo_firm().await;
    let key = t.app.log_verifier_key().ok_or("no log key")?.to_owned();
    // The verifier key is public: no session needed.
    let r = t.http.get(t.url("/api/audit/pubkey")).send().await?;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await?.trim(), key);
    assert!(
        key.split('+')
            .next()
            .unwrap_or_default()
            .contains("/custos-audit/")
    );

    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    assert_eq!(
        t.get_json(&lena, "/api/audit/checkpoint").await.0,
        StatusCode::NOT_FOUND,
        "nothing signed yet"
    );
    // Only the officer asks for a checkpoint on demand.
    let r = t
        .post_json(&lena, "/api/audit/checkpoint", &Value::Null)
        .await;
    assert!(matches!(
        r.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let first = sign_now(&t, &officer).await;
    let note = first["note"].as_str().unwrap_or_default();
    let body = checkpoint::verify(note.as_bytes(), &key)?;
    assert_eq!(Some(body.size), first["size"].as_u64());
    assert!(body.size > 50);
    assert_eq!(hex(&body.root), first["root"].as_str().unwrap_or_default());
    let (status, latest) = t.get_json(&lena, "/api/audit/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest["note"], first["note"]);

    // Lena reads a document of hers: the entry is hers, every fact of it told to her.
    let doc = t.document("D1");
    let r = t.get(&lena, &format!("/api/documents/{doc}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(t.get(&lena, "/api/matters").await.status(), StatusCode::OK);
    let (_, trail) = t.get_json(&lena, "/api/audit/mine?limit=500").await;
    let read = trail["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .rfind(|e| e["action"] == "document.view" && e["outcome"] == "allow")
        })
        .and_then(|e| e["seq"].as_u64())
        .ok_or("no read in lena's trail")?;
    let (status, refused) = inclusion(&t, &lena, read).await;
    assert_eq!(status, StatusCode::CONFLICT, "not yet signed: {refused}");
    sign_now(&t, &officer).await;
    let (status, proof) = inclusion(&t, &lena, read).await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let provable = |trail: &Value, seq: u64| {
        trail["items"]
            .as_array()
            .and_then(|items| items.iter().find(|e| e["seq"] == seq))
            .map(|e| e["provable"].clone())
    };
    assert_eq!(provable(&trail, read), Some(Value::Bool(true)));
    // A listing's entry counts the records withheld from it: proved to the officer only.
    let listing = trail["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["detail"].get("shown").is_some()))
        .ok_or("no listing in lena's trail")?;
    assert_eq!(listing["provable"], Value::Bool(false), "{listing}");
    let proof: InclusionProof = serde_json::from_value(proof)?;
    let signed = proof.verify(&key)?;
    assert!(signed.size >= read);
    assert!(proof.canonical.contains(&doc));
    // Any change to what was proved fails offline.
    let mut forged = proof.clone();
    forged.canonical = forged.canonical.replace("\"allow\"", "\"deny\"");
    assert!(forged.verify(&key).is_err(), "a changed entry");
    let mut forged = proof.clone();
    forged.seq += 1;
    assert!(forged.verify(&key).is_err(), "another position");
    let mut forged = proof.clone();
    forged.proof.reverse();
    assert!(
        forged.proof.len() < 2 || forged.verify(&key).is_err(),
        "another path"
    );
    let (_, other_key) = checkpoint::generate_key(&signed.origin)?;
    assert!(proof.verify(&other_key).is_err(), "another log's key");

    // Someone else's entry: the officer's query only.
    let (status, _) = inclusion(&t, &lena, 1).await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{status}"
    );
    let (status, theirs) = inclusion(&t, &officer, 1).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    // Lena's own denial that hid a record: its reasons were withheld from her, so is its proof.
    let hidden = t.document("D9");
    let r = t.get(&lena, &format!("/api/documents/{hidden}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, trail) = t.get_json(&lena, "/api/audit/mine?limit=500").await;
    let denial = trail["items"]
        .as_array()
        .and_then(|items| items.iter().rfind(|e| e["outcome"] == "deny"))
        .and_then(|e| e["seq"].as_u64())
        .ok_or("no denial in lena's trail")?;
    assert_eq!(provable(&trail, denial), Some(Value::Bool(false)));
    // A denial of a record that does not exist is refused the same way: the answer must not
    // tell a hidden record from a missing one.
    let missing = uuid::Uuid::now_v7();
    let r = t.get(&lena, &format!("/api/documents/{missing}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, trail) = t.get_json(&lena, "/api/audit/mine?limit=500").await;
    let no_such = trail["items"]
        .as_array()
        .and_then(|items| items.iter().rfind(|e| e["outcome"] == "deny"))
        .and_then(|e| e["seq"].as_u64())
        .ok_or("no second denial")?;
    assert!(no_such > denial);
    assert_eq!(provable(&trail, no_such), Some(Value::Bool(false)));
    sign_now(&t, &officer).await;
    let (status, _) = inclusion(&t, &lena, denial).await;
    assert!(
        matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{status}"
    );
    let (missing_status, _) = inclusion(&t, &lena, no_such).await;
    assert_eq!(missing_status, status, "hidden and missing alike");
    let (status, full) = inclusion(&t, &officer, denial).await;
    assert_eq!(status, StatusCode::OK);
    let full: InclusionProof = serde_json::from_value(full)?;
    full.verify(&key)?;
    assert!(full.canonical.contains("\"deny\""));
    // No such entry; seq 0 is refused as input.
    let (status, _) = inclusion(&t, &officer, 1_000_000).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = inclusion(&t, &officer, 0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Consistency from the first checkpoint to the latest, against the log's own signed
    // checkpoint of that size and against the copy Lena kept.
    let from = body.size;
    let (status, consistency) = t
        .get_json(&lena, &format!("/api/audit/proof/consistency?from={from}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{consistency}");
    let consistency: ConsistencyProof = serde_json::from_value(consistency)?;
    assert_eq!(consistency.from_checkpoint.as_deref(), Some(note));
    let (old, new) = consistency.verify(&key, None)?;
    assert_eq!((old.size, old.root), (body.size, body.root.clone()));
    assert!(new.size > old.size);
    consistency.verify(&key, Some(note.as_bytes()))?;
    // A kept checkpoint of another history (same size, another root, signed by the log's key
    // as a rogue node would): the proof fails.
    let log_key = custos_app::LogKey::load(&t.data_dir.path(&t.data_dir.config.log_key_file))?;
    let rogue = log_key.sign(from, &[7u8; 32])?;
    assert!(consistency.verify(&key, Some(rogue.as_bytes())).is_err());
    let (status, _) = t
        .get_json(&lena, "/api/audit/proof/consistency?from=0")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = t
        .get_json(
            &lena,
            &format!("/api/audit/proof/consistency?from={}", new.size + 10),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Every stored checkpoint and the kept one match the entries.
    let report = t
        .app
        .verify_audit_log_with(&[], &[("kept".to_owned(), note.to_owned())])
        .await?;
    assert_eq!(report.checkpoints, 4, "three stored, one kept");
    Ok(())
}

/// A hostile database administrator rewrites the log from scratch: one decision changed, every
/// leaf and chain hash after it recomputed, the Merkle tree rebuilt, the stored checkpoints
/// deleted, the triggers put back. Everything inside the database agrees again; a checkpoint
/// kept outside it (the file beside the key, a client's or auditor's copy) does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_rewritten_from_scratch_or_cut_is_caught_by_a_kept_checkpoint() -> TestResult {
    let t = spawn_demo_firm().await;
    let officer = t.login("olivia.officer").await;
    let kept = sign_now(&t, &officer).await;
    let size = kept["size"].as_u64().ok_or("no size")?;
    let kept = kept["note"].as_str().ok_or("no note")?.to_owned();
    assert!(t.data_dir.record_checkpoint(size, &kept)?);
    assert_eq!(
        t.data_dir.recorded_checkpoint()?.as_deref(),
        Some(kept.as_str())
    );
    t.app.check_recorded_checkpoint(&kept).await?;
    let lena = t.login("lena.lawyer").await;
    assert_eq!(t.get(&lena, "/api/matters").await.status(), StatusCode::OK);
    let kept_files = [("kept".to_owned(), kept.clone())];
    t.app.verify_audit_log_with(&[], &kept_files).await?;

    let db = rewrite_from_scratch(&t).await?;

    // Inside the database everything agrees: that is what a rewrite from scratch achieves.
    assert!(t.app.verify_audit_log().await.is_ok());
    let verdict = t.app.verify_audit_log_with(&[], &kept_files).await;
    let message = verdict.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains(&format!(
            "kept does not match the log's first {size} entries"
        )) && message.contains("a fork"),
        "{message}"
    );
    let start = t.app.check_recorded_checkpoint(&kept).await;
    assert!(
        start
            .as_ref()
            .is_err_and(|e| e.to_string().contains("was rewritten")),
        "serve refuses: {start:?}"
    );

    // Cut below the kept checkpoint: the cut is named.
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&db)
        .await?;
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(i64::try_from(size)? - 3)
        .execute(&db)
        .await?;
    let verdict = t.app.verify_audit_log_with(&[], &kept_files).await;
    let message = verdict.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains(&format!(
            "kept commits to {size} entries, but the log ends at entry {}: entries were cut",
            size - 3
        )),
        "{message}"
    );
    let start = t.app.check_recorded_checkpoint(&kept).await;
    assert!(
        start
            .as_ref()
            .is_err_and(|e| e.to_string().contains("entries were cut")),
        "{start:?}"
    );
    // A checkpoint that is not the log's is refused, not trusted.
    let forged = kept.replace(&size.to_string(), &(size + 1).to_string());
    let verdict = t
        .app
        .verify_audit_log_with(&[], &[("forged".to_owned(), forged)])
        .await;
    assert!(
        verdict.as_ref().is_err_and(|e| e
            .to_string()
            .contains("forged: the checkpoint is not signed")),
        "{verdict:?}"
    );
    Ok(())
}

/// An export with proofs: every entry about one client (its record, its matters, their
/// documents), each provable against one signed checkpoint, checked offline; only the officer
/// exports; a changed entry fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_with_proofs_verifies_offline() -> TestResult {
    let t = spawn_demo_firm().await;
    let key = t.app.log_verifier_key().ok_or("no log key")?.to_owned();
    let officer = t.login("olivia.officer").await;
    let lena = t.login("lena.lawyer").await;
    let doc = t.document("D1");
    assert_eq!(
        t.get(&lena, &format!("/api/documents/{doc}"))
            .await
            .status(),
        StatusCode::OK
    );
    let client = t.client("C1");
    let path = format!("/api/audit/export?client={client}");
    let (status, _) = t.get_json(&officer, &path).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing signed yet");
    sign_now(&t, &officer).await;
    let (status, body) = t.get_json(&officer, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let export: custos_audit::proof::AuditExport = serde_json::from_value(body)?;
    let signed = export.verify(&key)?;
    assert!(export.scope.contains(&client));
    // The client's matters (M1, M2 of the demo firm) and their documents are in it, and
    // nothing else.
    let mut about = vec![
        format!("client:{client}"),
        format!("matter:{}", t.matter("M1")),
        format!("matter:{}", t.matter("M2")),
    ];
    about.extend(["D1", "D2", "D3", "D4", "D5"].map(|d| format!("document:{}", t.document(d))));
    assert!(
        export.entries.iter().any(|e| e.canonical.contains(&doc)),
        "lena's view of D1 is in C1's export"
    );
    for e in &export.entries {
        let entry: serde_json::Value = serde_json::from_str(&e.canonical)?;
        let resource = entry["resource"].as_str().unwrap_or_default().to_owned();
        assert!(e.seq <= signed.size);
        assert!(
            about.contains(&resource),
            "{resource} is not about {client}"
        );
    }
    let other = t.document("D8");
    assert!(
        !export.entries.iter().any(|e| e.canonical.contains(&other)),
        "D8 is another client's"
    );
    // A changed entry, a dropped proof hash, a reordered pair: each fails offline.
    let mut forged = export.clone();
    forged.entries[0].canonical = forged.entries[0].canonical.replace("allow", "deny");
    assert!(forged.verify(&key).is_err());
    let mut forged = export.clone();
    forged.entries[0].proof.pop();
    assert!(forged.verify(&key).is_err());
    if export.entries.len() > 1 {
        let mut forged = export.clone();
        forged.entries.swap(0, 1);
        assert!(forged.verify(&key).is_err());
    }
    // A person's export; dates narrow it; only the officer exports; exactly one scope.
    let lena_id = t.person("lena.lawyer");
    let (status, body) = t
        .get_json(&officer, &format!("/api/audit/export?person={lena_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mine: custos_audit::proof::AuditExport = serde_json::from_value(body)?;
    mine.verify(&key)?;
    assert!(mine.entries.iter().all(|e| e.canonical.contains(&lena_id)));
    let (status, body) = t
        .get_json(
            &officer,
            &format!("/api/audit/export?person={lena_id}&from_ms=0&until_ms=1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["entries"].as_array().map(Vec::len), Some(0));
    let (status, _) = t.get_json(&lena, &path).await;
    assert!(matches!(
        status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let (status, _) = t.get_json(&officer, "/api/audit/export").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = t
        .get_json(
            &officer,
            &format!("/api/audit/export?client={client}&person={lena_id}"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = t
        .get_json(
            &officer,
            &format!("/api/audit/export?client={}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

/// A tamper of each kind, made as a hostile database administrator would (triggers dropped,
/// then put back), is named by `custos audit verify` with the sequence number where the log
/// stops being what was written: a deleted row, two rows swapped, a row inserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_tamper_is_named_by_its_sequence_number() -> TestResult {
    let cases: [(&str, &[&str], &str); 3] = [
        (
            "deleted",
            &["DELETE FROM audit_log WHERE seq = 10"],
            "audit entry 11 follows 9",
        ),
        (
            "swapped",
            &[
                "UPDATE audit_log SET seq = -10 WHERE seq = 10",
                "UPDATE audit_log SET seq = 10 WHERE seq = 11",
                "UPDATE audit_log SET seq = 11 WHERE seq = -10",
            ],
            "audit entry 10 does not match its hash",
        ),
        (
            "inserted",
            &[
                "UPDATE audit_log SET seq = -seq WHERE seq >= 10",
                "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0",
                "INSERT INTO audit_log SELECT 10, at_ms, request_id, actor_id, action, resource, \
                 outcome, reasons, detail, leaf_hash, chain_hash FROM audit_log WHERE seq = 9",
            ],
            "audit entry 10 does not match its hash",
        ),
    ];
    for (kind, statements, named) in cases {
        let t = spawn_demo_firm().await;
        let before = t.app.verify_audit_log().await?;
        let db_path = t.data_dir.path(&t.data_dir.config.database.path);
        let db = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", db_path.display()))
            .await?;
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
        )
        .fetch_all(&db)
        .await?;
        for (name, _) in &triggers {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
                .execute(&db)
                .await?;
        }
        for statement in statements {
            sqlx::query(sqlx::AssertSqlSafe(*statement))
                .execute(&db)
                .await?;
        }
        for (_, sql) in &triggers {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&db)
                .await?;
        }
        let verdict = t.app.verify_audit_log().await;
        let message = verdict.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains(named),
            "{kind} (log of {before}): {message}"
        );
    }
    Ok(())
}

type Triggers = Vec<(String, String)>;
type DbResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Drops every trigger of the SQLite database (as a database administrator would) and returns
/// them, to be put back by [`restore_triggers`].
pub(crate) async fn drop_triggers(db: &sqlx::SqlitePool) -> DbResult<Triggers> {
    let triggers: Triggers =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(db)
            .await?;
    for (name, _) in &triggers {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
            .execute(db)
            .await?;
    }
    Ok(triggers)
}

/// Puts back the triggers [`drop_triggers`] removed.
pub(crate) async fn restore_triggers(db: &sqlx::SqlitePool, triggers: &Triggers) -> DbResult<()> {
    for (_, sql) in triggers {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(db)
            .await?;
    }
    Ok(())
}

/// A hostile database administrator's rewrite of a demo firm's log from scratch: the fifth
/// decision flipped, every leaf and chain hash after it recomputed, the Merkle tree rebuilt,
/// the stored checkpoints and cosignatures deleted, the triggers put back. Returns a
/// connection to the database file.
pub(crate) async fn rewrite_from_scratch(
    t: &TestFirm,
) -> Result<sqlx::SqlitePool, Box<dyn std::error::Error + Send + Sync>> {
    use custos_store::{AuditFilter, SqliteStore, Store};
    let db_path = t.data_dir.path(&t.data_dir.config.database.path);
    let store = SqliteStore::open(&db_path, false).await?;
    let mut tx = store.begin_read().await?;
    let mut entries = tx
        .audit_entries(&AuditFilter::default(), 0, 1_000_000)
        .await?;
    tx.commit().await?;
    store.close().await;
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db_path.display()))
        .await?;
    let triggers = drop_triggers(&db).await?;
    let fifth = &mut entries[4].record;
    fifth.outcome = match fifth.outcome {
        custos_audit::Outcome::Allow => custos_audit::Outcome::Deny,
        custos_audit::Outcome::Deny => custos_audit::Outcome::Allow,
    };
    let mut chain = custos_audit::GENESIS;
    let mut tree = custos_audit::merkle::MemoryTree::default();
    for e in &entries {
        let leaf = custos_audit::leaf_hash(&e.record.canonical_bytes(e.seq));
        chain = custos_audit::chain_hash(&chain, &leaf);
        tree.push(leaf)?;
        sqlx::query(
            "UPDATE audit_log SET outcome = $1, leaf_hash = $2, chain_hash = $3 WHERE seq = $4",
        )
        .bind(e.record.outcome.as_str())
        .bind(leaf.to_vec())
        .bind(chain.to_vec())
        .bind(i64::try_from(e.seq)?)
        .execute(&db)
        .await?;
    }
    sqlx::query("DELETE FROM audit_tree").execute(&db).await?;
    for (idx, hash) in tree.stored_hashes().iter().enumerate() {
        sqlx::query("INSERT INTO audit_tree (idx, hash) VALUES ($1, $2)")
            .bind(i64::try_from(idx)?)
            .bind(hash.to_vec())
            .execute(&db)
            .await?;
    }
    sqlx::query("DELETE FROM audit_cosignatures")
        .execute(&db)
        .await?;
    sqlx::query("DELETE FROM audit_checkpoints")
        .execute(&db)
        .await?;
    restore_triggers(&db, &triggers).await?;

    Ok(db)
}
