//! The audit sequence stays gapless and the chain verifies when many units of work append at
//! once (the Merkle-tree issue relies on one total order).

use custos_audit::{AuditRecord, GENESIS, Outcome, verify_chain};
use custos_domain::RequestId;
use custos_store::{AuditFilter, SqliteStore, Store};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_keep_one_gapless_chain() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("db"), true).await?);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = store.begin().await?;
                let record = AuditRecord {
                    at_ms: 1,
                    request_id: RequestId::new(),
                    actor: None,
                    action: format!("test.{task}"),
                    resource: format!("n:{i}"),
                    outcome: Outcome::Allow,
                    reasons: vec![],
                    detail: serde_json::Value::Null,
                };
                tx.append_audit(&record).await?;
                // Every other unit of work is abandoned: its entry must vanish without a gap.
                if i % 2 == 0 {
                    tx.commit().await?;
                }
            }
            Ok::<(), custos_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let mut tx = store.begin().await?;
    let entries = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    assert_eq!(entries.len(), 8 * 13);
    assert!(
        entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as u64 + 1)
    );
    assert!(verify_chain(0, GENESIS, &entries).is_ok());
    Ok(())
}
