//! `custos audit verify` on a log of several stretches (the fast path reads 1,024 entries at a
//! time, one thread per core): the verdict is the one the entry-by-entry path gives. An
//! intact log and a row stored in an older but equivalent form verify; a change, a deleted
//! row, two rows swapped across a stretch boundary, a recorded head that differs and a cut
//! tail are each named by their sequence number, wherever they fall.

use crate::harness::TestResult;
use custos_app::{App, AuditHead};
use custos_audit::{AuditReason, AuditRecord, Outcome};
use custos_domain::{PersonId, RequestId};
use custos_store::{SqliteStore, Store};
use std::path::Path;
use std::sync::Arc;

const ENTRIES: u64 = 3_300;

fn record(n: u64) -> AuditRecord {
    AuditRecord {
        at_ms: 1_764_000_000_000 + i64::try_from(n).unwrap_or(0),
        request_id: RequestId::new(),
        actor: (!n.is_multiple_of(7)).then(PersonId::new),
        action: "document.read".to_owned(),
        resource: format!("document:{}", uuid::Uuid::now_v7()),
        outcome: if n.is_multiple_of(5) {
            Outcome::Deny
        } else {
            Outcome::Allow
        },
        reasons: vec![AuditReason {
            rule: "R1.need_to_know".to_owned(),
            message: format!("entry {n}: \"quoted\" — Zürich"),
        }],
        detail: if n.is_multiple_of(4) {
            serde_json::json!({ "shown": n, "withheld": 1 })
        } else {
            serde_json::Value::Null
        },
    }
}

/// A database of `ENTRIES` entries written through the store (100 per unit), closed.
async fn written_log(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("custos.db");
    let store = SqliteStore::open(&path, true).await.unwrap();
    let mut n = 0;
    while n < ENTRIES {
        let mut tx = store.begin().await.unwrap();
        for _ in 0..100 {
            n += 1;
            tx.append_audit(&record(n)).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    store.close().await;
    path
}

async fn app_on(path: &Path, blobs: &Path) -> App {
    let store = Arc::new(SqliteStore::open(path, false).await.unwrap());
    App::new(
        store,
        Arc::new(custos_store::LocalBlobStore::open(blobs).unwrap()),
        custos_crypto::Kek::generate().unwrap(),
        Arc::new(custos_domain::SystemClock),
        custos_app::AppSettings::default(),
    )
    .unwrap()
}

/// Runs `statements` on a copy of the log as a hostile administrator would (the append-only
/// triggers dropped, then put back) and verifies the copy against `known`.
async fn verdict_after(
    original: &Path,
    statements: &[&str],
    known: &[AuditHead],
) -> Result<u64, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.db");
    std::fs::copy(original, &path).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut triggers: Vec<(String, String)> = Vec::new();
        {
            let mut query = conn
                .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                .unwrap();
            let rows = query
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .unwrap();
            for row in rows {
                triggers.push(row.unwrap());
            }
        }
        for (name, _) in &triggers {
            conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
        }
        for statement in statements {
            conn.execute_batch(statement).unwrap();
        }
        for (_, sql) in &triggers {
            conn.execute_batch(sql).unwrap();
        }
    }
    let blobs = tempfile::tempdir().unwrap();
    let app = app_on(&path, blobs.path()).await;
    let verdict = app
        .verify_audit_log_against(known)
        .await
        .map(|v| v.entries)
        .map_err(|e| e.to_string());
    app.close().await;
    verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_of_several_stretches_gets_the_entry_by_entry_verdict() -> TestResult {
    let dir = tempfile::tempdir()?;
    let original = written_log(dir.path()).await;
    let intact = verdict_after(&original, &[], &[]).await;
    assert_eq!(intact, Ok(ENTRIES));

    // The chain hash of entry 2,100, as a head recorded outside the database would hold it.
    let head_at = |seq: u64| {
        let conn = rusqlite::Connection::open(&original).unwrap();
        let chain: Vec<u8> = conn
            .query_row(
                "SELECT chain_hash FROM audit_log WHERE seq = ?1",
                [i64::try_from(seq).unwrap()],
                |row| row.get(0),
            )
            .unwrap();
        AuditHead {
            seq,
            chain_hash: chain.try_into().unwrap(),
        }
    };
    let recorded = head_at(2_100);
    assert_eq!(
        verdict_after(&original, &[], &[recorded, head_at(ENTRIES)]).await,
        Ok(ENTRIES)
    );

    // Entry 1,500 written by an older version: its detail's keys in another order. Same
    // entry, same canonical bytes: it verifies (read again on the exact path).
    let older = verdict_after(
        &original,
        &[r#"UPDATE audit_log SET detail = '{"withheld":1,"shown":1500}' WHERE seq = 1500"#],
        &[],
    )
    .await;
    assert_eq!(older, Ok(ENTRIES));

    // Entry 2,601 turned around and its leaf hash written again to match (its chain hash
    // left): only the chain catches it.
    let forged = {
        let conn = rusqlite::Connection::open(&original).unwrap();
        let record = conn
            .query_row(
                "SELECT at_ms, request_id, actor_id, action, resource, reasons, detail \
                 FROM audit_log WHERE seq = 2601",
                [],
                |row| {
                    let text = |i: usize| row.get::<_, String>(i);
                    Ok(AuditRecord {
                        at_ms: row.get(0)?,
                        request_id: RequestId(text(1)?.parse().unwrap()),
                        actor: row
                            .get::<_, Option<String>>(2)?
                            .map(|a| PersonId(a.parse().unwrap())),
                        action: text(3)?,
                        resource: text(4)?,
                        outcome: Outcome::Deny,
                        reasons: serde_json::from_str(&text(5)?).unwrap(),
                        detail: serde_json::from_str(&text(6)?).unwrap(),
                    })
                },
            )
            .unwrap();
        let leaf = custos_audit::leaf_hash(&record.canonical_bytes(2601));
        let hex: String = leaf.iter().map(|b| format!("{b:02x}")).collect();
        format!("UPDATE audit_log SET outcome = 'deny', leaf_hash = X'{hex}' WHERE seq = 2601")
    };
    let wrong_head = AuditHead {
        chain_hash: [7; 32],
        ..recorded
    };
    let cases: [(&str, Vec<&str>, Vec<AuditHead>, &str); 7] = [
        (
            "a decision turned around, its leaf hash written again",
            vec![&forged],
            vec![],
            "audit entry 2601 does not match its hash",
        ),
        (
            "a decision turned around",
            vec!["UPDATE audit_log SET outcome = 'deny' WHERE seq = 2601"],
            vec![],
            "audit entry 2601 does not match its hash",
        ),
        (
            "a detail changed",
            vec![r#"UPDATE audit_log SET detail = '{"shown":1500,"withheld":0}' WHERE seq = 1500"#],
            vec![],
            "audit entry 1500 does not match its hash",
        ),
        (
            "a row deleted",
            vec!["DELETE FROM audit_log WHERE seq = 1030"],
            vec![],
            "audit entry 1031 follows 1029",
        ),
        (
            "two rows swapped across a stretch boundary",
            vec![
                "UPDATE audit_log SET seq = -2048 WHERE seq = 2048",
                "UPDATE audit_log SET seq = 2048 WHERE seq = 2049",
                "UPDATE audit_log SET seq = 2049 WHERE seq = -2048",
            ],
            vec![],
            "audit entry 2048 does not match its hash",
        ),
        (
            "a head recorded outside differs",
            vec![],
            vec![wrong_head],
            "entry 2100 differs from the recorded head",
        ),
        (
            "the tail cut",
            vec!["DELETE FROM audit_log WHERE seq > 3000"],
            vec![head_at(ENTRIES)],
            "the log ends at entry 3000, but entry 3300 was recorded",
        ),
    ];
    for (kind, statements, known, named) in cases {
        let verdict = verdict_after(&original, &statements, &known).await;
        let message = verdict.err().unwrap_or_default();
        assert!(message.contains(named), "{kind}: {message}");
    }
    Ok(())
}
