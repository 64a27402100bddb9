//! Appends at the node's tip (PostgreSQL: one statement once the sequencer row is held, or one
//! statement in all for a batch of read units; SQLite: the entries, written only if the log
//! still ends at the tip, and the tree's hashes), and the tips that must not be trusted: one
//! published by a unit that then rolled back, and one made stale by another node (SQLite:
//! another process, i.e. a second store on the same file).

use crate::audit::{log_is_whole, record};
use crate::*;
use custos_audit::Outcome;

/// Statements a writing unit's append and its read of the log take.
struct Counts {
    /// The first append of a store (no tip yet): the general way.
    first: u64,
    /// At the store's own tip.
    at_tip: u64,
    /// With a tip the log has moved on from.
    stale: u64,
}

/// A writing unit appends `action` and commits (or rolls back); the statements its append took
/// (the sequencer row's lock, the writes, and reading its own entry back).
async fn write(store: &dyn Store, action: &str, commit: bool) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let before = tx.statements_run();
    tx.append_audit(&record(action.into(), "w".into(), None, Outcome::Allow))
        .await?;
    let mine = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    assert_eq!(mine.last().map(|e| e.record.action.as_str()), Some(action));
    let statements = tx.statements_run() - before;
    if commit {
        tx.commit().await?;
    }
    Ok(statements)
}

/// A read unit appends `action` through the group commit.
async fn read(store: &dyn Store, action: &str) -> Result<(), StoreError> {
    let mut tx = store.begin_read().await?;
    tx.append_audit(&record(action.into(), "r".into(), None, Outcome::Allow))
        .await?;
    tx.commit().await
}

/// The case, on two stores (nodes, or processes) of one log.
async fn tips_never_misplace_an_entry(
    a: Arc<dyn Store>,
    b: Arc<dyn Store>,
    counts: Counts,
) -> TestResult {
    let Counts {
        first,
        at_tip,
        stale,
    } = counts;
    assert_eq!(write(&*a, "w1", true).await?, first, "no tip yet");
    assert_eq!(write(&*a, "w2", true).await?, at_tip);
    // Numbered at the tip (which it publishes while it holds the row), then rolled back.
    assert_eq!(write(&*a, "rolled back", false).await?, at_tip);
    // The batch's statement finds the row short of that tip, writes nothing, and goes the
    // general way; the unit after it is back at the tip.
    read(&*a, "r1").await?;
    assert_eq!(write(&*a, "w3", true).await?, at_tip);
    // Node B appends: node A's tip is stale, for a writing unit and for a batch.
    assert_eq!(write(&*b, "b1", true).await?, first, "b's first");
    assert_eq!(write(&*a, "w4", true).await?, stale, "a's tip is stale");
    read(&*a, "r2").await?;
    read(&*b, "r3").await?;
    assert_eq!(write(&*b, "b2", true).await?, at_tip, "r3 gave b the tip");
    // Many batches and units at once on both nodes.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let node = if i % 3 == 0 {
            Arc::clone(&b)
        } else {
            Arc::clone(&a)
        };
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 => write(&*node, &format!("c{i}"), true).await.map(drop),
                1 => write(&*node, &format!("c{i}"), false).await.map(drop),
                _ => read(&*node, &format!("c{i}")).await,
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
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_or_stale_tip_never_misplaces_an_entry_on_postgres() -> TestResult {
    let Some(scratch) = PgScratch::create("audit_tip").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let a = PgStore::connect(&scratch.url, 4, true).await?;
    let b = PgStore::connect(&scratch.url, 4, true).await?;
    let outcome = tips_never_misplace_an_entry(
        Arc::new(a.clone()),
        Arc::new(b.clone()),
        Counts {
            // Lock and head, insert, the tree (its edge read and its hashes written: counted
            // as one), the new head; and the read.
            first: 5,
            // Lock and head, one statement; and the read.
            at_tip: 3,
            // The row, locked, does not hold the tip: nothing is sent at it.
            stale: 5,
        },
    )
    .await;
    a.close().await;
    b.close().await;
    scratch.drop_schema().await;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_or_stale_tip_never_misplaces_an_entry_on_sqlite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("custos.db");
    let a = SqliteStore::open(&path, true).await?;
    let b = SqliteStore::open(&path, false).await?;
    let outcome = tips_never_misplace_an_entry(
        Arc::new(a.clone()),
        Arc::new(b.clone()),
        Counts {
            // The head, insert, the tree (its edge read and its hashes written: counted as
            // one); and the read.
            first: 4,
            // The entries (written only if the log ends at the tip), the tree's hashes; and
            // the read.
            at_tip: 3,
            // The entries at the tip (nothing written), then the general way.
            stale: 5,
        },
    )
    .await;
    a.close().await;
    b.close().await;
    outcome
}
