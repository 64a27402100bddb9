//! PostgreSQL only: appends at the node's tip (one statement once the sequencer row is held,
//! or one statement in all for a batch of read units), and the tips that must not be trusted:
//! one published by a unit that then rolled back, and one made stale by another node.

use crate::audit::{log_is_whole, record};
use crate::*;
use custos_audit::Outcome;

/// A writing unit appends `action` and commits (or rolls back); the statements its append took
/// (the sequencer row's lock, the writes, and reading its own entry back).
async fn write(store: &PgStore, action: &str, commit: bool) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    tx.append_audit(&record(action.into(), "w".into(), None, Outcome::Allow))
        .await?;
    let before = tx.statements_run();
    let mine = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    assert_eq!(mine.last().map(|e| e.record.action.as_str()), Some(action));
    let statements = tx.statements_run() - before;
    if commit {
        tx.commit().await?;
    }
    Ok(statements)
}

/// A read unit appends `action` through the group commit.
async fn read(store: &PgStore, action: &str) -> Result<(), StoreError> {
    let mut tx = store.begin_read().await?;
    tx.append_audit(&record(action.into(), "r".into(), None, Outcome::Allow))
        .await?;
    tx.commit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_or_stale_tip_never_misplaces_an_entry() -> TestResult {
    let Some(scratch) = PgScratch::create("audit_tip").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let a = PgStore::connect(&scratch.url, 4, true).await?;
    let b = PgStore::connect(&scratch.url, 4, true).await?;
    // Lock and head, insert, the tree (its edge read and its hashes written: counted as one),
    // the new head; and the read.
    let general = 5;
    // Lock and head, one statement; and the read.
    let at_tip = 3;
    assert_eq!(write(&a, "w1", true).await?, general, "no tip yet");
    assert_eq!(write(&a, "w2", true).await?, at_tip);
    // Numbered at the tip (which it publishes while it holds the row), then rolled back.
    assert_eq!(write(&a, "rolled back", false).await?, at_tip);
    // The batch's statement finds the row short of that tip, writes nothing, and goes the
    // general way; the unit after it is back at the tip.
    read(&a, "r1").await?;
    assert_eq!(write(&a, "w3", true).await?, at_tip);
    // Node B appends: node A's tip is stale, for a writing unit and for a batch.
    assert_eq!(write(&b, "b1", true).await?, general, "b's first");
    assert_eq!(write(&a, "w4", true).await?, general, "a's tip is stale");
    read(&a, "r2").await?;
    read(&b, "r3").await?;
    assert_eq!(write(&b, "b2", true).await?, at_tip, "r3 gave b the tip");
    // Many batches and units at once on both nodes.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let node = if i % 3 == 0 { b.clone() } else { a.clone() };
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 => write(&node, &format!("c{i}"), true).await.map(drop),
                1 => write(&node, &format!("c{i}"), false).await.map(drop),
                _ => read(&node, &format!("c{i}")).await,
            }
        }));
    }
    for task in tasks {
        task.await??;
    }

    let mut tx = b.begin_read().await?;
    let entries = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    let actions: Vec<&str> = entries.iter().map(|e| e.record.action.as_str()).collect();
    assert_eq!(
        actions[..9],
        ["w1", "w2", "r1", "w3", "b1", "w4", "r2", "r3", "b2"]
    );
    let mut concurrent: Vec<&str> = actions[9..].to_vec();
    concurrent.sort_unstable();
    let mut expected: Vec<String> = (0..24)
        .filter(|i| i % 4 != 1)
        .map(|i| format!("c{i}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(concurrent, expected);
    log_is_whole(&mut *tx, &entries).await?;
    drop(tx);
    a.close().await;
    b.close().await;
    scratch.drop_schema().await;
    Ok(())
}
