//! The audit log: one gapless order, filters.

use crate::*;
use custos_audit::{AuditEntry, AuditRecord, GENESIS, Outcome, merkle, verify_chain};
use std::sync::Arc;

pub(crate) fn record(
    action: String,
    resource: String,
    actor: Option<PersonId>,
    outcome: Outcome,
) -> AuditRecord {
    AuditRecord {
        at_ms: 1,
        request_id: RequestId::new(),
        actor,
        action,
        resource,
        outcome,
        reasons: vec![],
        detail: serde_json::json!({ "n": 1 }),
    }
}

/// Eight writers on two nodes append at once, every other unit rolled back: the committed
/// entries are numbered 1..n with no gap, in one chain that verifies.
pub(crate) async fn audit_order_is_total_and_gapless(nodes: [Arc<dyn Store>; 2]) -> TestResult {
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = Arc::clone(&nodes[task % 2]);
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = store.begin().await?;
                let r = record(
                    format!("test.{task}"),
                    format!("n:{i}"),
                    None,
                    Outcome::Allow,
                );
                tx.append_audit(&r).await?;
                tx.append_audit(&r).await?;
                // Every other unit of work is abandoned: its entries vanish without a gap.
                if i % 2 == 0 {
                    tx.commit().await?;
                }
            }
            Ok::<(), StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let mut tx = nodes[1].begin().await?;
    let entries = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    assert_eq!(entries.len(), 8 * 13 * 2);
    log_is_whole(&mut *tx, &entries).await?;
    // The next entry, on the other node, follows on; a unit sees its own entries.
    tx.append_audit(&record("after".into(), "x".into(), None, Outcome::Deny))
        .await?;
    let mine = tx
        .audit_entries(&AuditFilter::default(), entries.len() as u64, 10)
        .await?;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].seq, entries.len() as u64 + 1);
    assert_eq!(mine[0].record.action, "after");
    Ok(())
}

/// Group commit: sixteen read units commit while a writing unit holds the log (SQLite's write
/// lock; PostgreSQL's sequencer row): their entries wait and are written in at most two
/// transactions, after the writer's, in one gapless order with a tree that matches; each
/// unit's commit returned only once its entries were in the log.
pub(crate) async fn read_units_share_audit_commits(nodes: [Arc<dyn Store>; 2]) -> TestResult {
    let store = Arc::clone(&nodes[0]);
    let before = store.audit_batches();
    let mut writer = store.begin().await?;
    writer
        .append_audit(&record("held".into(), "w".into(), None, Outcome::Allow))
        .await?;
    // Numbered now (PostgreSQL locks the sequencer row until the unit ends).
    let head = writer
        .audit_entries(&AuditFilter::default(), 0, 1000)
        .await?;
    let mut reads = Vec::new();
    for i in 0..16 {
        let store = Arc::clone(&store);
        reads.push(tokio::spawn(async move {
            let mut tx = store.begin_read().await?;
            tx.append_audit(&record(
                "read".into(),
                format!("r:{i}"),
                None,
                Outcome::Allow,
            ))
            .await?;
            tx.commit().await?;
            // Committed means written: a fresh unit sees it.
            let mut check = store.begin_read().await?;
            let filter = AuditFilter {
                resource: Some(format!("r:{i}")),
                ..AuditFilter::default()
            };
            let seen = check.audit_entries(&filter, 0, 10).await?;
            Ok::<usize, StoreError>(seen.len())
        }));
    }
    while (store.audit_batches().units - before.units) as usize + store.audit_units_waiting() < 16 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    writer.commit().await?;
    for read in reads {
        assert_eq!(read.await??, 1, "a committed read's entry is in the log");
    }
    let after = store.audit_batches();
    assert_eq!(after.units - before.units, 16);
    assert_eq!(after.entries - before.entries, 16);
    assert!(
        after.batches - before.batches <= 2,
        "sixteen reads shared their commits: {before:?} -> {after:?}"
    );
    let mut tx = nodes[1].begin_read().await?;
    let entries = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    assert_eq!(entries.len(), head.len() + 16);
    assert_eq!(entries[head.len() - 1].record.action, "held");
    log_is_whole(&mut *tx, &entries).await?;
    Ok(())
}

/// The whole log, read from the start: numbered 1..n with no gap, one chain that verifies, and
/// a tree that matches it.
pub(crate) async fn log_is_whole(tx: &mut dyn StoreTx, entries: &[AuditEntry]) -> TestResult {
    assert!(
        entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as u64 + 1)
    );
    assert!(verify_chain(0, GENESIS, entries).is_ok());
    tree_matches_the_entries(tx, entries).await
}

/// The Merkle tree written with the entries (issue 15): the root read from the stored hashes is
/// the root of the entries' leaf hashes, and inclusion and consistency proofs made from the
/// stored hashes verify, each reading at most 2 bits(n) of them (2 log2 n + 2).
async fn tree_matches_the_entries(tx: &mut dyn StoreTx, entries: &[AuditEntry]) -> TestResult {
    let n = entries.len() as u64;
    let mut frontier = merkle::Frontier::default();
    for e in entries {
        frontier.push(e.leaf_hash);
    }
    let root = merkle::root(n, &tx.audit_tree_hashes(&merkle::root_needs(n)).await?)?;
    assert_eq!(root, frontier.root());
    let bound = 2 * (64 - n.leading_zeros()) as usize;
    for i in [0, 1, n / 2, n - 1] {
        let needs = merkle::inclusion_needs(n, i)?;
        assert!(needs.len() <= bound, "{} hashes for one proof", needs.len());
        let proof = merkle::inclusion_proof(n, i, &tx.audit_tree_hashes(&needs).await?)?;
        let leaf = entries[usize::try_from(i)?].leaf_hash;
        merkle::verify_inclusion(&proof, n, &root, i, &leaf)?;
    }
    let old = n / 3;
    let old_root = merkle::root(old, &tx.audit_tree_hashes(&merkle::root_needs(old)).await?)?;
    let needs = merkle::consistency_needs(old, n)?;
    let proof = merkle::consistency_proof(old, n, &tx.audit_tree_hashes(&needs).await?)?;
    merkle::verify_consistency(&proof, old, &old_root, n, &root)?;
    Ok(())
}

/// Optional filters select the same entries on every backend.
pub(crate) async fn audit_filters([store, _]: [Arc<dyn Store>; 2]) -> TestResult {
    let someone = PersonId::new();
    let mut tx = store.begin().await?;
    let mine = AuditRecord {
        at_ms: 10,
        ..record("a".into(), "matter:1".into(), Some(someone), Outcome::Deny)
    };
    tx.append_audit(&mine).await?;
    let b = AuditRecord {
        at_ms: 20,
        ..record("b".into(), "matter:1".into(), None, Outcome::Allow)
    };
    tx.append_audit(&b).await?;
    let c = AuditRecord {
        at_ms: 30,
        ..record("c".into(), "matter:2".into(), None, Outcome::Allow)
    };
    tx.append_audit(&c).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let by_actor = AuditFilter {
        actor: Some(someone),
        ..AuditFilter::default()
    };
    let got = tx.audit_entries(&by_actor, 0, 10).await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].record, mine);
    let by_resource = AuditFilter {
        resource: Some("matter:1".into()),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&by_resource, 0, 10).await?.len(), 2);
    let denied = AuditFilter {
        outcome: Some(Outcome::Deny),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&denied, 0, 10).await?.len(), 1);
    let by_request = AuditFilter {
        request_id: Some(mine.request_id),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&by_request, 0, 10).await?.len(), 1);
    let by_action = AuditFilter {
        action: Some("b".into()),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&by_action, 0, 10).await?.len(), 1);
    let actions = |entries: Vec<custos_audit::AuditEntry>| -> Vec<String> {
        entries.into_iter().map(|e| e.record.action).collect()
    };
    let window = AuditFilter {
        from_ms: Some(15),
        until_ms: Some(30),
        ..AuditFilter::default()
    };
    assert_eq!(actions(tx.audit_entries(&window, 0, 10).await?), ["b"]);
    let from = AuditFilter {
        from_ms: Some(20),
        ..AuditFilter::default()
    };
    assert_eq!(actions(tx.audit_entries(&from, 0, 10).await?), ["b", "c"]);
    let until = AuditFilter {
        until_ms: Some(20),
        ..AuditFilter::default()
    };
    assert_eq!(actions(tx.audit_entries(&until, 0, 10).await?), ["a"]);
    let newest = AuditFilter {
        newest_first: true,
        ..AuditFilter::default()
    };
    let first = tx.audit_entries(&newest, 0, 2).await?;
    let before = first.last().map(|e| e.seq).unwrap_or_default();
    assert_eq!(actions(first), ["c", "b"]);
    assert_eq!(actions(tx.audit_entries(&newest, before, 10).await?), ["a"]);
    let newest_allowed = AuditFilter {
        newest_first: true,
        outcome: Some(Outcome::Allow),
        ..AuditFilter::default()
    };
    assert_eq!(
        actions(tx.audit_entries(&newest_allowed, 0, 10).await?),
        ["c", "b"]
    );
    assert_eq!(
        tx.audit_entries(&AuditFilter::default(), 1, 10)
            .await?
            .len(),
        2
    );
    assert_eq!(
        tx.audit_entries(&AuditFilter::default(), 0, 2).await?.len(),
        2
    );
    Ok(())
}

/// Signed checkpoints and cosignatures are stored as given (the store never checks or makes a
/// signature), one per size, the latest by size, and both tables refuse a change of a row.
pub(crate) async fn checkpoints_and_cosignatures(nodes: [Arc<dyn Store>; 2]) -> TestResult {
    let mut tx = nodes[0].begin().await?;
    assert!(tx.latest_checkpoint().await?.is_none());
    assert!(
        tx.save_checkpoint(10, "origin\n10\nAAAA\n\n— sig\n", now())
            .await?
    );
    assert!(
        tx.save_checkpoint(30, "origin\n30\nBBBB\n\n— sig\n", now())
            .await?
    );
    assert!(
        tx.save_checkpoint(20, "origin\n20\nCCCC\n\n— sig\n", now())
            .await?
    );
    tx.commit().await?;
    let mut tx = nodes[1].begin().await?;
    assert!(
        !tx.save_checkpoint(20, "another\n", now()).await?,
        "a size signed already keeps its note"
    );
    assert!(
        tx.add_cosignature(20, "witness.example/a", "— witness.example/a X", now())
            .await?
    );
    assert!(
        tx.add_cosignature(20, "auditor.example/b", "— auditor.example/b Y", now())
            .await?
    );
    assert!(
        !tx.add_cosignature(20, "witness.example/a", "— again", now())
            .await?
    );
    tx.commit().await?;
    let mut tx = nodes[0].begin_read().await?;
    let latest = tx.latest_checkpoint().await?.ok_or("no checkpoint")?;
    assert_eq!(
        (latest.size, latest.note.as_str()),
        (30, "origin\n30\nBBBB\n\n— sig\n")
    );
    let sizes: Vec<u64> = tx
        .checkpoints_after(10, 5)
        .await?
        .iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(sizes, [20, 30]);
    assert_eq!(
        tx.checkpoints_after(0, 1).await?[0].note,
        "origin\n10\nAAAA\n\n— sig\n"
    );
    let cosigned: Vec<String> = tx
        .cosignatures(20)
        .await?
        .into_iter()
        .map(|c| c.line)
        .collect();
    assert_eq!(cosigned, ["— auditor.example/b Y", "— witness.example/a X"]);
    assert!(tx.cosignatures(30).await?.is_empty());
    assert_eq!(tx.latest_cosigned("witness.example/a").await?, 20);
    assert_eq!(tx.latest_cosigned("nobody").await?, 0);
    tx.commit().await?;
    let mut tx = nodes[0].begin().await?;
    assert!(
        tx.add_cosignature(99, "w", "— w Z", now()).await.is_err(),
        "a cosignature of no checkpoint"
    );
    drop(tx);
    assert!(nodes[0].missing_audit_guards().await?.is_empty());
    Ok(())
}

/// Fail closed under group commit: one entry the database refuses (a trigger standing in for a
/// full disk or a failing page) makes its whole batch fail. A first read leads a batch of its
/// own and waits behind a held writer; eight more queue behind it and are written together,
/// one of them poisoned: all eight commits fail, none of their entries is in the log, and the
/// leader's and the writer's entries are.
async fn one_refused_entry_fails_its_whole_batch(store: Arc<dyn Store>) -> TestResult {
    let read = |resource: String| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut tx = store.begin_read().await?;
            tx.append_audit(&record("read".into(), resource, None, Outcome::Allow))
                .await?;
            tx.commit().await
        })
    };
    let wait_for = |units: u64, waiting: usize| {
        let store = Arc::clone(&store);
        async move {
            while store.audit_batches().units < units || store.audit_units_waiting() < waiting {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let mut writer = store.begin().await?;
    writer
        .append_audit(&record("held".into(), "w".into(), None, Outcome::Allow))
        .await?;
    writer.audit_entries(&AuditFilter::default(), 0, 1).await?;
    let leader = read("lead".into());
    wait_for(1, 0).await;
    let batch: Vec<_> = (0..8).map(|i| read(format!("r:{i}"))).collect();
    wait_for(1, 8).await;
    writer.commit().await?;
    leader.await??;
    for (i, unit) in batch.into_iter().enumerate() {
        assert!(
            unit.await?.is_err(),
            "r:{i} of the poisoned batch was refused"
        );
    }
    let mut tx = store.begin_read().await?;
    let entries = tx.audit_entries(&AuditFilter::default(), 0, 100).await?;
    let resources: Vec<&str> = entries.iter().map(|e| e.record.resource.as_str()).collect();
    assert_eq!(resources, ["w", "lead"]);
    assert_eq!(store.audit_batches().batches, 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_entry_fails_its_whole_batch_sqlite() -> TestResult {
    let (dir, store) = sqlite().await?;
    let raw = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("custos.db").display()
    ))
    .await?;
    sqlx::raw_sql(
        "CREATE TRIGGER poison BEFORE INSERT ON audit_log WHEN NEW.resource = 'r:5'
         BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&raw)
    .await?;
    raw.close().await;
    one_refused_entry_fails_its_whole_batch(store).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_entry_fails_its_whole_batch_postgres() -> TestResult {
    let Some(scratch) = PgScratch::create("poisoned_batch").await else {
        return Ok(());
    };
    let scratch = scratch?;
    let store = PgStore::connect(&scratch.url, 4, true).await?;
    let mut raw = scratch.connect().await?;
    sqlx::raw_sql(
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.resource = 'r:5' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER poison BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION poison();",
    )
    .execute(&mut raw)
    .await?;
    let outcome = one_refused_entry_fails_its_whole_batch(Arc::new(store.clone())).await;
    store.close().await;
    scratch.drop_schema().await;
    outcome
}
